"""A trainable network assembled from generated kernels.

Weights live in numpy arrays in the batch-major layout (``Z = X @ W + b``, ``W`` shaped
``(n_in, n_out)``); the generated module updates them in place. The module is built (or
loaded from the cache) on first use, once per optimizer structure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from symprop.architecture import format_architecture
from symprop.blocks import format_nodes
from symprop.catalog import ACTIVATIONS, resolve_loss
from symprop.errors import DataError, NotDifferentiableError, ShapeError, SympropError
from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual
from symprop.runtime.checks import _numeric, as_features, as_targets
from symprop.runtime.data import check_seed
from symprop.runtime.device import require_cuda
from symprop.runtime.layers import Dense
from symprop.runtime.metrics import metrics
from symprop.runtime.network_parts import check_layers, initial_arrays, param_nodes, param_shapes
from symprop.runtime.optimizers import SGD, Optimizer, make_optimizer

TARGETS = ("cpu", "cuda")
DTYPES = ("float32", "float64")
CLASSIFICATION = ("ce", "bce")
MAX_PARAMETERS = 1 << 31  # 8 GiB of float32 weights, before gradients and optimizer state


class Network:
    """``Network([Dense(4, 8, "relu"), Dense(8, 3, "softmax")], loss="ce")``.

    ``layers``: Dense, BatchNorm, LayerNorm and Residual blocks, each layer's width the
    next one's input. ``loss``: a built-in name (``symprop list losses``) or a Loss.
    ``dtype``: "float32" or "float64", of the weights and the compiled kernels. ``target``:
    "cpu", or "cuda" (an NVIDIA GPU). ``seed``: the initial weights, shuffling and dropout
    (None: fresh entropy). ``matmul``: "auto" (BLAS or loops by layer size), "blas" or
    "loops"."""

    def __init__(self, layers: list[Dense], loss: str = "mse", dtype: str = "float32",
                 target: str = "cpu", seed: int | None = 0, matmul: str = "auto"):
        seed = check_seed(seed)
        if not isinstance(layers, list | tuple) or not layers:
            raise ShapeError("a network needs a non-empty list of layers")
        for number, layer in enumerate(layers, start=1):
            if not isinstance(layer, Dense | BatchNorm | LayerNorm | Residual):
                raise SympropError(f"layer {number} is not a layer (Dense, BatchNorm, "
                                   f"LayerNorm or Residual): {layer!r}")
        self.layers = list(layers)
        self._dense = [node for node in param_nodes(self.layers) if isinstance(node, Dense)]
        self._blocks = not all(isinstance(layer, Dense) for layer in self.layers)
        check_layers(self.layers, self._blocks)
        if not isinstance(loss, str):
            raise SympropError(f"loss must be a name or a formula string, not {loss!r}")
        found = resolve_loss(loss)
        if found is None:  # a formula: parsed now (as Dense does an activation's), not at
            from symprop.derive.losses import loss as make_loss  # the first compile

            make_loss(loss)
        self.loss = found[0] if found else loss
        self._loss_spec = self.loss if found else loss
        if dtype not in DTYPES:
            raise SympropError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        if target not in TARGETS:
            raise SympropError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
        self.dtype, self.target, self.seed, self.matmul = dtype, target, seed, matmul
        for number, layer in enumerate(self._dense, start=1):
            if not layer.trainable:
                raise NotDifferentiableError(
                    f"layer {number}: activation {layer.activation!r} has no useful gradient "
                    "(its derivative is 0 wherever it exists), so the network cannot be "
                    "trained")
        self._check_output_for_loss()
        if self.layers[-1].dropout:
            raise SympropError(f"layer {len(self.layers)}: dropout on the output layer is not "
                               "supported")
        if target == "cuda":
            require_cuda()
        count = sum(int(np.prod(shape)) for node in param_nodes(self.layers)
                    for shape in param_shapes(node))
        if count > MAX_PARAMETERS:
            raise ShapeError(f"the network has {count} parameters, more than the "
                             f"{MAX_PARAMETERS} symprop builds")
        self._rng = np.random.default_rng(seed)
        try:
            # every parameter array in the generated module's order; batch normalization's
            # running mean and variance beside them (state, not trained)
            self._arrays, self._running = initial_arrays(self.layers, self._rng, dtype)
        except MemoryError:
            raise ShapeError(f"the network's {count} parameters do not fit in memory") from None
        self._modules: dict = {}
        self._optimizer: Optimizer | None = None
        self._state: list[np.ndarray] = []
        self._step = 0
        # a GPU fit's array of each row's output in an epoch (its running metrics), kept for
        # the next fit of as many rows (symprop.runtime.training)
        self._epoch_outputs: np.ndarray | None = None
        # a CPU fit's scratch arrays (module, batch size, epoch_work's), kept for the next
        # fit with the same module and batch size (symprop.runtime.training)
        self._epoch_work: tuple | None = None

    def _check_output_for_loss(self) -> None:
        """bce and ce take logs of the output layer's values as probabilities: refuse an
        output whose values are not (identity, tanh, relu, ...) now, not as NaN later."""
        if self.loss not in CLASSIFICATION:
            return
        number, layer = len(self.layers), self.layers[-1]
        kind = _probability_kind(layer)
        shown = f"layer {number} (activation {layer.activation!r})"
        if self.loss == "bce" and kind == "simplex":
            raise SympropError(
                f"{shown} with loss 'bce': use ce for softmax outputs (bce would take the "
                "log of 1 - p for each class of a probability vector, which is neither its "
                "loss nor stable); for independent binary outputs use 'sigmoid' with bce")
        if kind:
            return
        valid = ("'sigmoid', or a formula whose values lie in [0, 1]" if self.loss == "bce"
                 else "'softmax', or 'sigmoid' (or a formula whose values lie in [0, 1]) per "
                      "class")
        raise SympropError(f"{shown} does not output probabilities, which loss "
                           f"{self.loss!r} needs; valid outputs for {self.loss}: {valid}")

    # -- description --------------------------------------------------------------------
    @property
    def architecture(self) -> str:
        if self._blocks:
            return format_nodes([layer.spec for layer in self.layers], self.n_in)
        return format_architecture([layer.spec for layer in self.layers])

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def is_classifier(self) -> bool:
        return self.loss in CLASSIFICATION

    def __repr__(self) -> str:
        return (f"Network({self.architecture!r}, loss={self.loss!r}, dtype={self.dtype!r}, "
                f"target={self.target!r})")

    def derivation(self):
        """The layer-by-layer backpropagation derivation of this network."""
        from symprop.derive.network import network_derivation

        return network_derivation([layer.spec for layer in self.layers], self._loss_spec)

    def explain(self, X, y, optimizer=None, lr: float | None = None):
        """A worked example in numbers: the forward pass, loss, backward pass and one update
        of ``optimizer`` (default ``SGD(lr)``, lr 0.1) for the rows of X (at most 4, layers of
        at most 8 units), every step with its values. The numbers are float64, from this
        network's weights; the update is one step from a fresh optimizer state, as the first
        step of ``fit`` on those rows (``batch_size`` = the rows, ``shuffle=False``) takes.
        Returns a :class:`symprop.derive.explain.Explanation` (a Derivation with the numbers:
        ``loss``, ``forward``, ``gradients``, ``updated``)."""
        from symprop.derive.explain import explain_network
        from symprop.runtime.optimizers import make_optimizer

        if optimizer is None:
            optimizer = SGD(lr=0.1 if lr is None else lr)
        elif isinstance(optimizer, str):  # a name: its defaults, with lr where given
            optimizer = make_optimizer(optimizer, **({} if lr is None else {"lr": lr}))
        elif lr is not None:
            raise SympropError("give explain an optimizer or lr, not both (an optimizer "
                               "carries its own learning rate)")
        if self._blocks:
            raise SympropError("explain shows networks of Dense layers; for normalization "
                               "layers and residual blocks see derivation()")
        for number, layer in enumerate(self.layers, start=1):
            if layer.dropout:
                raise SympropError(f"layer {number} has dropout, whose random mask a worked "
                                   "example cannot show: explain a copy without dropout")
        X = as_features(X, self.n_in, np.float64)  # the rows as given, not rounded to float32
        Y = as_targets(y, self.loss, self.n_out, X.shape[0], np.float64)
        return explain_network([layer.spec for layer in self.layers], self._loss_spec,
                               self.params, X, Y, optimizer)

    # -- parameters -----------------------------------------------------------------------
    @property
    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Copies of (W, b) per Dense layer, W shaped (n_in, n_out): Z = X @ W + b, and
        (gamma, beta) per normalization layer, in the order of the layers (depth first)."""
        arrays = iter(self._arrays)
        return [(next(arrays).copy(), next(arrays).copy()) for _ in param_nodes(self.layers)]

    def set_params(self, params) -> None:
        """New (W, b) per layer, as ``params`` returns them. Anything that is not real,
        finite numbers of the layers' shapes is a ShapeError or DataError naming the layer;
        the network is unchanged then."""
        params = _sequence(params)
        if params is None:
            raise ShapeError("set_params takes a list of (W, b) pairs, one per layer")
        nodes = param_nodes(self.layers)
        if len(params) != len(nodes):
            raise ShapeError(f"set_params got {len(params)} layers, the network has "
                             f"{len(nodes)}")
        new = []
        for number, (pair, layer) in enumerate(zip(params, nodes, strict=True), 1):
            items = _sequence(pair)
            if items is None or len(items) != 2:
                got = (f"a value of type {type(pair).__name__}" if items is None
                       else f"{len(items)} items")
                raise ShapeError(f"layer {number}: set_params expects a pair (W, b), got {got}")
            W, b = items
            first, second = ("W", "b") if isinstance(layer, Dense) else ("gamma", "beta")
            W, b = (_numeric(W, f"layer {number}: {first}"),
                    _numeric(b, f"layer {number}: {second}"))
            shapes = param_shapes(layer)
            if (W.shape, b.shape) != shapes:
                raise ShapeError(f"layer {number}: expected {first} {shapes[0]} and {second} "
                                 f"{shapes[1]}, got {W.shape} and {b.shape}")
            # Copies: the kernels update weights in place, never the caller's arrays. Checked
            # after the cast: 1e300 is finite in float64 but inf in float32.
            with np.errstate(over="ignore", invalid="ignore"):
                W = np.array(W, dtype=self.dtype, order="C", copy=True)
                b = np.array(b, dtype=self.dtype, order="C", copy=True)
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise DataError(f"layer {number}: parameters contain NaN or inf (or values "
                                f"too large for {self.dtype})")
            new += [W, b]
        self._arrays = new
        self._state = []  # optimizer moments belong to the old weights
        self._optimizer = None

    def _flat_params(self) -> list[np.ndarray]:
        return self._arrays

    # -- kernels --------------------------------------------------------------------------
    def _module(self, optimizer: Optimizer | None = None):
        from symprop.codegen.build import build_network_module, optimizer_structure

        optimizer = make_optimizer(optimizer) if optimizer is not None else (
            self._optimizer or SGD(0.01))
        structure = tuple(sorted(optimizer_structure(optimizer.rule,
                                                     optimizer.options).items()))
        key = (optimizer.rule, structure)
        if key not in self._modules:
            self._modules[key] = build_network_module(
                [layer.spec for layer in self.layers], self._loss_spec, optimizer.rule,
                optimizer.options, self.dtype, self.matmul,
                [layer.dropout > 0 for layer in self._dense], self.target)
        return self._modules[key]

    def kernel_source(self, optimizer: Optimizer | None = None) -> str:
        """The generated Python source of this network's module, then of each shared kernel
        module it imports (symprop.codegen.kernel_library), each under a comment naming it."""
        module = self._module(optimizer)
        paths = [module.__symprop_path__, *getattr(module, "__symprop_libraries__", [])]
        texts = []
        for path in paths:
            with open(path, encoding="utf-8") as stream:
                texts.append(stream.read() if not texts else
                             f"\n# ---- {os.path.basename(path)} ----\n{stream.read()}")
        return "".join(texts)

    def _model_hyper(self) -> list[float]:
        """Activation hyperparameters layer by layer, then the loss's (by name, as the
        generated code orders them)."""
        values = [v for layer in self._dense for v in layer.hyper_values()]
        found = resolve_loss(self._loss_spec)
        if found is not None:
            return values + [v for _, v in found[1]]
        from symprop.derive.losses import loss as make_loss

        return values + [float(v) for v in make_loss(self._loss_spec).params.values()]

    def _dropout_values(self) -> list[float]:
        return [layer.dropout for layer in self._dense if layer.dropout > 0]

    # -- inference ------------------------------------------------------------------------
    def _features(self, X, what: str = "X", finite: bool = True) -> np.ndarray:
        return as_features(X, self.n_in, self.dtype, what, finite)

    def _targets(self, y, rows: int, what: str = "y") -> np.ndarray:
        return as_targets(y, self.loss, self.n_out, rows, self.dtype, what)

    def _run(self, X: np.ndarray, Y: np.ndarray | None, placed=None) -> tuple[np.ndarray, float]:
        """Outputs of X (and the mean loss against Y). ``placed``: (X, Y, params) where fit()
        already keeps them (on the GPU for target="cuda"), so that nothing is copied again."""
        out = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        with_loss = Y is not None
        if Y is None:
            Y = np.zeros((1, self.n_out), dtype=self.dtype)
        X, Y, params = placed or (X, Y, self._flat_params())
        chunk = min(X.shape[0], 1024)
        loss = self._module().evaluate(X, Y, out, with_loss, chunk, *params, *self._running,
                                       *self._model_hyper(), *self._dropout_values())
        return out, float(loss)

    def predict(self, X) -> np.ndarray:
        """The output layer's activations (probabilities for sigmoid/softmax outputs)."""
        return self._run(self._features(X), None)[0]

    def predict_classes(self, X) -> np.ndarray:
        """Class labels: the most probable class (softmax), or probability > 0.5 (one
        sigmoid output)."""
        probabilities = self.predict(X)
        if self.n_out == 1:
            return (probabilities[:, 0] > 0.5).astype(np.int64)
        return probabilities.argmax(axis=1)

    def evaluate(self, X, y) -> dict[str, float]:
        """Mean loss (the training reduction) and accuracy, or MAE and R^2 for regression."""
        X = self._features(X)
        Y = self._targets(y, X.shape[0])
        out, loss = self._run(X, Y)
        return {"loss": loss, **metrics(self.loss, out, Y)}

    def gradients(self, X, y) -> list[tuple[np.ndarray, np.ndarray]]:
        """(dW, db) per layer: the gradient of the batch-mean loss over all of X."""
        X = self._features(X)
        Y = self._targets(y, X.shape[0])
        grads = [np.empty_like(p) for p in self._flat_params()]
        self._module().gradients(X, Y, *self._flat_params(), *self._running, *grads,
                                 *self._model_hyper(), *self._dropout_values())
        return [(grads[i], grads[i + 1]) for i in range(0, len(grads), 2)]

    # -- training, saving -----------------------------------------------------------------
    def fit(self, X, y, epochs: int = 100, batch_size: int = 32, optimizer=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            verbose: bool = True, patience: int | None = None, restore_best: bool = True,
            clip_norm: float | None = None, metrics_each_epoch: bool = False,
            track_gradients: bool = False):
        """Train on (X, y) in mini-batches; returns the History (``history.plot()``).

        ``optimizer``: sp.SGD(lr=...), sp.Adam(...), sp.RMSprop(...) or a name (default
        SGD(0.01)). ``validation_split``: the share of rows held out (or ``validation_data``
        = (X_val, y_val)), measured after each epoch. ``shuffle``: a new row order each
        epoch (from the network's seed). ``patience``: early stopping on the validation (or
        training) loss, back to the best weights if ``restore_best``. ``clip_norm``: clip
        the global gradient norm. ``metrics_each_epoch``: the epoch's training loss and
        metrics from an extra pass with its final weights, instead of the running values
        the batches saw. ``track_gradients``: each layer's gradient norm per epoch in
        ``history["grad_norm"]``. Details: :func:`symprop.runtime.training.fit`."""
        from symprop.runtime.training import fit

        return fit(self, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                   validation_split=validation_split, validation_data=validation_data,
                   shuffle=shuffle, verbose=verbose, patience=patience,
                   restore_best=restore_best, clip_norm=clip_norm,
                   metrics_each_epoch=metrics_each_epoch, track_gradients=track_gradients)

    def plot_boundary(self, X, y, X_test=None, y_test=None, *, columns=None, scaler=None,
                      hidden_units: bool = False, feature_names=None, class_names=None,
                      resolution: int = 300, path=None, title: str = ""):
        """The decision boundary: the class each point of a plane is given, over two
        features, with the points (X, y) on top and test points (X_test, y_test) as stars.

        ``columns``: the two features on the axes (default (0, 1)); the others are held at
        the means of X. ``scaler``: the fitted Standardizer the network's inputs went
        through, so X and the axes are in the data's own units. ``hidden_units``: for a
        network with one hidden layer, each hidden unit's line w.x + b = 0.
        ``feature_names``, ``class_names``: axis and legend labels. ``resolution``: grid
        points per axis. ``path``: write a PNG there; otherwise the figure is returned (a
        notebook shows it). Needs matplotlib (pip install 'symprop[plot]')."""
        from symprop.runtime.boundary import plot_boundary

        return plot_boundary(self, X, y, X_test, y_test, columns=columns, scaler=scaler,
                             hidden_units=hidden_units, feature_names=feature_names,
                             class_names=class_names, resolution=resolution, path=path,
                             title=title)

    def save(self, path) -> None:
        """Write the model (architecture, loss, weights, running statistics) to ``path``
        (.npz added where missing), whole or not at all; ``sp.load`` reads it back."""
        from symprop.runtime.model_io import save

        save(self, path)


def _probability_kind(layer: Dense) -> str:
    """The catalog's ``probability`` of a built-in output ("unit", "simplex" or ""); for a
    formula, "unit" when its values provably lie in [0, 1] (decided symbolically)."""
    if layer.builtin is not None:
        return ACTIVATIONS[layer.builtin[0]].probability
    from symprop.derive.activations import output_range_in_unit_interval

    return "unit" if output_range_in_unit_interval(layer.spec.make_activation()) else ""


def _sequence(value) -> list | None:
    """``value`` as a list of its items, or None where it is not a collection of items
    (a number, a string, a mapping, an object)."""
    if isinstance(value, str | bytes | Mapping) or (isinstance(value, np.ndarray)
                                                   and value.ndim == 0):
        return None
    try:
        return list(value)
    except TypeError:
        return None
