"""The contenders. Each trains the same network on the same rows with plain SGD.

A contender is prepared once (built, given the data, warmed up), then timed many times:
``reset(params)`` (untimed) puts the initial weights back, ``run(steps)`` trains ``steps``
mini-batches in order and returns the elapsed seconds of everything a user of that library
would pay for those steps. ``params()`` returns the weights as [(W (n_in, n_out), b), ...]
so the suite can check that all contenders compute the same updates.
"""

from __future__ import annotations

import importlib
import time
import warnings

import numpy as np

from benchmarks.cases import Case, one_hot


class Contender:
    """Subclasses define prepare(case, X, y, params), reset(params), run(steps) -> seconds
    and params() -> [(W, b), ...]."""

    name = ""
    library = ""     # the module that must import for the contender to run

    def __init__(self):
        self.info: dict = {}  # extra facts for the report (threads, first-call time ...)

    def prepare(self, case: Case, X: np.ndarray, y: np.ndarray, params) -> None:
        raise NotImplementedError


class Symprop(Contender):
    """One ``net.fit`` call: one fused epoch of ``steps`` mini-batches."""

    name, library = "symprop", "symprop"
    target = "cpu"

    def prepare(self, case, X, y, params):
        import symprop as sp

        self.sp, self.case, self.X, self.y = sp, case, X, y
        self.net = sp.Network([sp.Dense(n_in, n_out, act) for n_in, n_out, act in case.layers],
                              loss=case.loss, dtype=case.dtype, seed=0, target=self.target)
        self.reset(params)
        start = time.perf_counter()
        self.run(2)  # the first call builds (or loads) and compiles the kernels
        self.info["first_fit_s"] = time.perf_counter() - start
        if self.target == "cpu":
            from symprop.runtime.threads import shards_for

            module = self.net._module(sp.SGD(lr=case.lr))
            self.info["threads"] = shards_for(module, self.net.layers, case.batch)

    def reset(self, params):
        # Copies, so that fit can never update the shared initial weights in place (a
        # set_params that kept the caller's float32 arrays did exactly that).
        self.net.set_params([(W.copy(), b.copy()) for W, b in params])

    def run(self, steps):
        rows = steps * self.case.batch
        X, y = self.X[:rows], self.y[:rows]
        start = time.perf_counter()
        self.net.fit(X, y, epochs=1, batch_size=self.case.batch,
                     optimizer=self.sp.SGD(lr=self.case.lr), shuffle=False, verbose=False)
        return time.perf_counter() - start

    def params(self):
        return self.net.params


class SympropKernels(Symprop):
    """The generated module's ``train_epoch`` called directly on arrays made once: the
    kernels' own time, the floor under what ``fit`` (symprop) costs."""

    name = "symprop-kernels"

    def prepare(self, case, X, y, params):
        super().prepare(case, X, y, params)
        from symprop.runtime.threads import blas_threads_for, shards_for

        net = self.net
        self.optimizer = self.sp.SGD(lr=case.lr)
        self.module = net._module(self.optimizer)
        self.Xf, self.Y = net._features(X), net._targets(y, X.shape[0])
        self.perm = np.arange(X.shape[0])
        self.losses = np.empty(X.shape[0] // case.batch + 1)
        # each batch's counts, from which fit takes its running metrics
        self.scores = np.empty((self.losses.shape[0], 2))
        self.shards = shards_for(self.module, net.layers, case.batch)
        self.threads = lambda: blas_threads_for(net.layers, case.batch,  # one-shot each
                                                self.shards > 1)
        from symprop.codegen.float_control import flushed_subnormals

        self.flushed = flushed_subnormals

    def run(self, steps):
        if not hasattr(self, "module"):  # Symprop.prepare's warm-up: through fit
            return super().run(steps)
        net, rows = self.net, steps * self.case.batch
        start = time.perf_counter()
        with self.threads(), self.flushed():  # subnormals flushed, as fit calls it
            self.module.train_epoch(
                self.Xf, self.Y, self.perm[:rows], self.case.batch, 0, 0.0, self.losses,
                *net._flat_params(), *net._model_hyper(), *self.optimizer.hyper_values(),
                shards=self.shards, scores=self.scores)
        return time.perf_counter() - start


class TorchEager(Contender):
    """nn.Sequential of Linear/ReLU, the output activation folded into the loss
    (BCEWithLogitsLoss, CrossEntropyLoss), torch.optim.SGD, the usual loop."""

    name, library = "pytorch", "torch"
    device, compiled = "cpu", False

    def prepare(self, case, X, y, params):
        import torch
        from torch import nn

        self.torch, self.batch = torch, case.batch
        if self.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("torch.cuda.is_available() is False")
        modules = []
        for number, (n_in, n_out, act) in enumerate(case.layers, start=1):
            modules.append(nn.Linear(n_in, n_out))
            if number < len(case.layers):
                if act != "relu":
                    raise ValueError(f"no PyTorch module mapped for hidden activation {act!r}")
                modules.append(nn.ReLU())
        self.model = nn.Sequential(*modules).to(self.device)
        self.forward = torch.compile(self.model) if self.compiled else self.model
        self.linears = [m for m in modules if isinstance(m, nn.Linear)]
        if case.loss == "bce":
            self.loss_fn = nn.BCEWithLogitsLoss()
            self.y = torch.from_numpy(y.astype(np.float32)[:, None]).to(self.device)
        else:
            self.loss_fn = nn.CrossEntropyLoss()
            self.y = torch.from_numpy(y).to(self.device)
        self.X = torch.from_numpy(X).to(self.device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=case.lr)
        self.info["threads"] = torch.get_num_threads()
        self.reset(params)
        self.run(5)

    def reset(self, params):
        with self.torch.no_grad():
            for linear, (W, b) in zip(self.linears, params, strict=True):
                linear.weight.copy_(self.torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(self.torch.from_numpy(b))
        self._synchronize()

    def _synchronize(self):
        if self.device == "cuda":  # GPU work is asynchronous: wait for it before the clock
            self.torch.cuda.synchronize()

    def run(self, steps):
        model, optimizer, loss_fn = self.forward, self.optimizer, self.loss_fn
        X, y, b = self.X, self.y, self.batch
        start = time.perf_counter()
        for i in range(steps):
            xb, yb = X[i * b:(i + 1) * b], y[i * b:(i + 1) * b]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        self._synchronize()
        return time.perf_counter() - start

    def params(self):
        return [(lin.weight.detach().cpu().numpy().T.copy(),
                 lin.bias.detach().cpu().numpy().copy()) for lin in self.linears]


class Sklearn(Contender):
    """MLPClassifier, solver="sgd" without momentum or L2; one ``fit`` of max_iter=1 epoch
    over steps x batch rows (warm_start keeps the weights set by ``reset``)."""

    name, library = "scikit-learn", "sklearn"

    def prepare(self, case, X, y, params):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        if any(act != "relu" for _, _, act in case.layers[:-1]):
            raise ValueError("MLPClassifier here uses relu hidden layers only")
        self.warning, self.batch, self.X, self.y = ConvergenceWarning, case.batch, X, y
        self.clf = MLPClassifier(
            hidden_layer_sizes=case.widths[1:-1], activation="relu", solver="sgd", alpha=0.0,
            batch_size=case.batch, learning_rate="constant", learning_rate_init=case.lr,
            momentum=0.0, nesterovs_momentum=False, shuffle=False, max_iter=1, tol=0.0,
            n_iter_no_change=10**9, early_stopping=False, warm_start=True, random_state=0)
        # A first fit on a few rows holding every class sets the classes and the layer shapes.
        first = np.unique(np.concatenate([np.unique(y, return_index=True)[1],
                                          np.arange(min(len(y), 2 * case.batch))]))
        self._fit(X[first], y[first])
        shapes = [W.shape for W in self.clf.coefs_]
        if shapes != [W.shape for W, _ in params]:
            raise ValueError(f"MLPClassifier built layers {shapes}, expected "
                             f"{[W.shape for W, _ in params]}")
        self.info["dtype"] = str(self.clf.coefs_[0].dtype)
        self.reset(params)
        self.run(5)

    def _fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.warning)
            self.clf.fit(X, y)

    def reset(self, params):
        self.clf.coefs_ = [W.copy() for W, _ in params]
        self.clf.intercepts_ = [b.copy() for _, b in params]

    def run(self, steps):
        rows = steps * self.batch
        X, y = self.X[:rows], self.y[:rows]
        start = time.perf_counter()
        self._fit(X, y)
        return time.perf_counter() - start

    def params(self):
        return [(W.copy(), b.copy()) for W, b in zip(self.clf.coefs_, self.clf.intercepts_,
                                                      strict=True)]


class NumpyLoop(Contender):
    """The notes' NumPy loop in float32: Z = A @ W + b, relu, sigmoid/softmax,
    delta = (yhat - y) / m, dW = A.T @ D, D = (D @ W.T) * relu'(Z), W -= lr * dW."""

    name, library = "numpy", "numpy"

    def prepare(self, case, X, y, params):
        self.X, self.batch, self.lr = X, case.batch, np.float32(case.lr)
        self.softmax = case.loss == "ce"
        if any(act != "relu" for _, _, act in case.layers[:-1]):
            raise ValueError("this loop implements relu hidden layers only")
        if case.loss == "ce":
            self.Y = one_hot(y, case.widths[-1], case.dtype)
        else:
            self.Y = y.astype(case.dtype)[:, None]
        self.reset(params)
        self.run(5)

    def reset(self, params):
        self.W = [W.copy() for W, _ in params]
        self.b = [b.copy() for _, b in params]

    def run(self, steps):
        X, Y, W, b, lr, m = self.X, self.Y, self.W, self.b, self.lr, self.batch
        last = len(W) - 1
        start = time.perf_counter()
        with np.errstate(over="ignore"):
            for i in range(steps):
                acts = [X[i * m:(i + 1) * m]]
                for k in range(last + 1):
                    Z = acts[-1] @ W[k] + b[k]
                    if k < last:
                        acts.append(np.maximum(Z, 0))
                    elif self.softmax:
                        E = np.exp(Z - Z.max(axis=1, keepdims=True))
                        acts.append(E / E.sum(axis=1, keepdims=True))
                    else:
                        acts.append(1 / (1 + np.exp(-Z)))
                D = (acts[-1] - Y[i * m:(i + 1) * m]) / m
                for k in range(last, -1, -1):
                    dW, db = acts[k].T @ D, D.sum(axis=0)
                    if k > 0:
                        D = (D @ W[k].T) * (acts[k] > 0)
                    W[k] -= lr * dW
                    b[k] -= lr * db
        return time.perf_counter() - start

    def params(self):
        return [(W.copy(), b.copy()) for W, b in zip(self.W, self.b, strict=True)]


class JaxJit(Contender):
    """jax.jit of a whole epoch: lax.scan of the SGD step (jax.grad of the batch-mean loss)
    over the epoch's mini-batches, compiled once per step count (untimed)."""

    name, library = "jax", "jax"

    def prepare(self, case, X, y, params):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.batch = jax, jnp, case.batch
        bce, lr = case.loss == "bce", case.lr

        def loss(p, xb, yb):
            a = xb
            for W, b_ in p[:-1]:
                a = jax.nn.relu(a @ W + b_)
            z = a @ p[-1][0] + p[-1][1]
            if bce:
                return -jnp.mean(yb * jax.nn.log_sigmoid(z) + (1 - yb) * jax.nn.log_sigmoid(-z))
            return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(z), axis=1))

        def step(p, batch):
            grads = jax.grad(loss)(p, *batch)
            return jax.tree_util.tree_map(lambda w, g: w - lr * g, p, grads), None

        def epoch(p, X, Y):
            return jax.lax.scan(step, p, (X, Y))[0]

        self.epoch = jax.jit(epoch)
        self.X = jnp.asarray(X)
        self.Y = jnp.asarray(y.astype(np.float32)[:, None] if bce
                             else one_hot(y, case.widths[-1], case.dtype))
        self.batches: dict[int, tuple] = {}
        self.reset(params)
        self.run(5)

    def reset(self, params):
        self.p = [(self.jnp.asarray(W), self.jnp.asarray(b)) for W, b in params]

    def _batches(self, steps):
        """The first ``steps`` batches as (steps, batch, width) arrays, and the epoch
        compiled for that many (both made once, outside the clock)."""
        if steps not in self.batches:
            rows = steps * self.batch
            X = self.X[:rows].reshape(steps, self.batch, -1)
            Y = self.Y[:rows].reshape(steps, self.batch, -1)
            self.jax.block_until_ready(self.epoch(self.p, X, Y))  # compile
            self.batches[steps] = (X, Y)
        return self.batches[steps]

    def run(self, steps):
        X, Y = self._batches(steps)
        start = time.perf_counter()
        p = self.jax.block_until_ready(self.epoch(self.p, X, Y))
        elapsed = time.perf_counter() - start
        self.p = p
        return elapsed

    def params(self):
        return [(np.asarray(W), np.asarray(b)) for W, b in self.p]


class TorchCompiledCpu(TorchEager):
    """torch.compile of the model (default mode, inductor), the same training loop."""

    name, compiled = "torch.compile", True


class SympropCuda(Symprop):
    """target="cuda": data, weights and optimizer state on the GPU for the whole fit."""

    name, target = "symprop-cuda", "cuda"


class TorchCuda(TorchEager):
    name, device = "pytorch-cuda", "cuda"


class TorchCompiled(TorchCuda):
    """torch.compile of the model (default mode), the same training loop."""

    name, compiled = "torch.compile-cuda", True


ALL = (Symprop, SympropKernels, TorchEager, TorchCompiledCpu, Sklearn, NumpyLoop, JaxJit)
GPU = (SympropCuda, TorchCuda, TorchCompiled)
BY_NAME = {cls.name: cls for cls in ALL}


def importable(cls: type[Contender]) -> str | None:
    """None if the contender's library imports, else why not ("not installed", ...)."""
    try:
        importlib.import_module(cls.library)
    except ModuleNotFoundError:
        return "not installed"
    except Exception as exc:  # a broken install is reported, not fatal
        return f"import failed: {type(exc).__name__}: {exc}"
    return None


def select(names: str | None) -> list[type[Contender]]:
    """Contenders named in a comma-separated list (default: all); symprop always first."""
    if not names:
        return list(ALL)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown contender(s) {unknown}; choose from {', '.join(BY_NAME)}")
    return [cls for cls in ALL if cls.name in wanted or cls is Symprop]
