"""The backpropagation rules of one dense layer, derived, and checked on concrete networks.

The matrix rules ``dL/dW = delta a^T``, ``dL/db = delta``, ``dL/da = W^T delta`` are derived
from the layer's indexed scalar form ``z_p = sum_q W_pq a_q + b_p`` (differentiate, sift the
Kronecker deltas, read off the matrix form). Two checks back them with SymPy differentiating
small explicit networks: the rules themselves (one sample), and the batch mean with its
factor (:func:`symprop.derive.delta.batch_mean_factor`: ``1/(m n_L)`` for elementwise losses,
``1/m`` for categorical ones), which is what the runtime applies.
"""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import sympy as sp

from symprop.derive.delta import batch_mean_factor, output_delta
from symprop.derive.derivation import Derivation, matrix_notation, notation, partial, prose
from symprop.derive.losses import loss as make_loss
from symprop.derive.simplify import collapse_delta_sums
from symprop.derive.symbols import YHAT, Y, k, m, y, yhat

p, q, r, s_ = sp.symbols("p q r s", integer=True, positive=True)
N_OUT = notation("n_l", "n_{l}", integer=True, positive=True)
N_IN = notation("n_lm1", "n_{l-1}", integer=True, positive=True)


def _indexed(text: str, latex: str) -> sp.IndexedBase:
    return sp.IndexedBase(notation(text, latex, real=True), real=True)


@cache
def dense_layer_rules() -> Derivation:
    """Derive dL/dW = delta a^T, dL/db = delta, dL/da = W^T delta from the scalar form."""
    W, b = _indexed("W", "W"), _indexed("b", "b")
    a_prev, z_ = _indexed("a_prev", "a^{(l-1)}"), _indexed("z", "z")
    delta = _indexed("delta", r"\delta")
    d = Derivation("Backpropagation through one dense layer, derived from the scalar form")
    zp = sp.Sum(W[p, q] * a_prev[q], (q, 1, N_IN)) + b[p]
    d.add("Scalar form of the layer", sp.Eq(z_[p], zp, evaluate=False),
          prose(r"output unit $p$ of layer $l$; its error signal "
                r"$\delta_{p} = \partial L / \partial z_{p}$ is known from the layer above"))
    dz_dw = sp.diff(zp, W[r, s_])
    d.add(prose("Differentiate $z_{p}$ with respect to a weight $W_{rs}$"),
          (partial("z_p", "W_rs", "z_{p}", "W_{r s}"), dz_dw, collapse_delta_sums(dz_dw)),
          prose("only the term $q = s$ survives, and only in row $p = r$"))
    dl_dw = collapse_delta_sums(sp.Sum(delta[p] * collapse_delta_sums(dz_dw), (p, 1, N_OUT)))
    d.add("Chain rule for the weight",
          (partial("L", "W_rs", "L", "W_{r s}"),
           sp.Sum(delta[p] * collapse_delta_sums(dz_dw), (p, 1, N_OUT)), dl_dw),
          prose("sum over every $z_{p}$ that $W_{r s}$ feeds; the bracket $[p = r]$ keeps "
                "only $p = r$"))
    dl_db = collapse_delta_sums(sp.Sum(delta[p] * sp.diff(zp, b[r]), (p, 1, N_OUT)))
    d.add("Chain rule for the bias", (partial("L", "b_r", "L", "b_{r}"), dl_db),
          prose(r"$\partial z_{p} / \partial b_{r} = [p = r]$"))
    dl_da = collapse_delta_sums(sp.Sum(delta[p] * sp.diff(zp, a_prev[s_]), (p, 1, N_OUT)))
    d.add("Chain rule for the layer's input",
          (partial("L", "a_prev_s", "L", "a^{(l-1)}_{s}"), dl_da),
          prose("$a^{(l-1)}_{s}$ feeds every unit $p$ of the layer through $W_{p s}$"))
    Wm = matrix_notation("W_l", "W^{(l)}", N_OUT, N_IN)
    dm = matrix_notation("delta_l", r"\delta^{(l)}", N_OUT, 1)
    am = matrix_notation("a_lm1", "a^{(l-1)}", N_IN, 1)
    fprime = matrix_notation("f'(z_lm1)", r"f'\left(z^{(l-1)}\right)", N_IN, 1)
    d.add("Read off the matrix form of the weight gradient",
          (partial("L", "W_l", "L", "W^{(l)}"), dm * am.T),
          prose(r"entry $(r, s)$ of the outer product $\delta^{(l)} (a^{(l-1)})^{T}$ is "
                r"$\delta_{r} a^{(l-1)}_{s}$"))
    d.add("... of the bias gradient", (partial("L", "b_l", "L", "b^{(l)}"), dm),
          prose(r"entry $r$ is $\delta_{r}$"))
    d.add("... and of the error signal of the layer below",
          (matrix_notation("delta_lm1", r"\delta^{(l-1)}", N_IN, 1),
           sp.HadamardProduct(Wm.T * dm, fprime)),
          prose(r"entry $s$ of $(W^{(l)})^{T} \delta^{(l)}$ is "
                r"$\sum_{p} W_{p s} \delta_{p}$; then $a^{(l-1)} = f(z^{(l-1)})$ acts unit by "
                r"unit, so the chain rule multiplies by $f'(z^{(l-1)})$ elementwise"))
    check_rules_on_concrete_network()
    d.add("Checked", notation("verified", r"\checkmark"),
          "the three rules were compared with SymPy differentiating a concrete 2-3-2 network "
          "entry by entry at random points")
    d.result = (dm * am.T, dm, sp.HadamardProduct(Wm.T * dm, fprime))
    return d


def _compare(objective, rules, seed: int, what: str) -> None:
    """SymPy's derivative of ``objective`` against each (parameter matrix, rule) entry, at a
    random point; one lambdify for all of them."""
    variables = sorted(objective.free_symbols, key=str)
    rng = random.Random(seed)
    point = [rng.uniform(-1, 1) for _ in variables]
    names = [str(param[e]) for param, _ in rules for e in range(len(param))]
    by_sympy = [sp.diff(objective, param[e]) for param, _ in rules for e in range(len(param))]
    by_rule = [rule[e] for param, rule in rules for e in range(len(param))]
    exact, derived = sp.lambdify(variables, [by_sympy, by_rule], "math")(*point)
    for name, want, got in zip(names, exact, derived, strict=True):
        if abs(want - got) > 1e-9 * (1 + abs(want)):
            raise AssertionError(f"{what} disagrees with SymPy at {name}: {got} instead of "
                                 f"{want}")


def check_rules_on_concrete_network(seed: int = 0) -> None:
    """Differentiate one sample's loss through a 2-3-2 network with SymPy and compare with
    the matrix rules."""
    W1, W2 = sp.Matrix(3, 2, sp.symbols("u0:6")), sp.Matrix(2, 3, sp.symbols("v0:6"))
    b1, b2 = sp.Matrix(sp.symbols("c0:3")), sp.Matrix(sp.symbols("e0:2"))
    x, target = sp.Matrix(sp.symbols("x0:2")), sp.Matrix(sp.symbols("t0:2"))
    a1 = (W1 * x + b1).applyfunc(sp.tanh)
    yhat_v = W2 * a1 + b2  # identity output, mse loss: delta2 = 2 (yhat - y)
    L = sum((yhat_v[n] - target[n]) ** 2 for n in range(2))
    delta2 = 2 * (yhat_v - target)
    delta1 = (W2.T * delta2).multiply_elementwise(a1.applyfunc(lambda v: 1 - v**2))
    rules = [(W2, delta2 * a1.T), (b2, delta2), (W1, delta1 * x.T), (b1, delta1)]
    _compare(L, rules, seed, "a dense-layer rule")


# (loss, output activation): an elementwise loss over 3 outputs (1/(3m)), a categorical one
# (1/m), and bce over 3 sigmoid outputs (1/(3m), where the per-sample habit says 1/m).
BATCH_CHECKS = (("mse", "identity"), ("ce", "softmax"), ("bce", "sigmoid"))
_OUTPUTS = {"identity": lambda z: z, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
            "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()}


@cache
def check_batch_mean(loss_name: str = "mse", output: str = "identity", samples: int = 2,
                     seed: int = 1) -> None:
    """The batch-mean gradients of a 2-3-3 network (tanh hidden layer), as the derivation
    states them, ``dJ/dW^(l) = c sum_i delta_i^(l) (a_i^(l-1))^T`` and ``dJ/db^(l) = c sum_i
    delta_i^(l)`` with ``c`` from :func:`batch_mean_factor` and the output delta as derived,
    against central differences of ``J`` taken as PyTorch's mean reduction takes it (the
    mean of the unreduced loss: one entry per sample and unit for an elementwise loss, one per
    sample for a categorical one). Numbers, not SymPy: differentiating J through softmax
    symbolically takes seconds."""
    the_loss, n_out = make_loss(loss_name), 3
    term = the_loss.class_term.subs({YHAT[k]: yhat, Y[k]: y})
    loss_of = sp.lambdify((yhat, y), term, "numpy")
    delta_of = sp.lambdify((yhat, y), output_delta(the_loss, output).result.subs(
        {YHAT[k]: yhat, Y[k]: y}), "numpy")
    rng = np.random.default_rng(seed)
    params = [rng.uniform(-1, 1, shape) for shape in ((3, 2), (3,), (n_out, 3), (n_out,))]
    X = rng.uniform(-1, 1, (samples, 2))
    T = rng.uniform(0.1, 0.9, (samples, n_out))
    if the_loss.kind == "categorical":  # a probability vector per sample (the derivation
        T /= T.sum(axis=1, keepdims=True)  # uses sum_k y_k = 1)

    def forward(W1, b1, W2, b2, x):
        a1 = np.tanh(W1 @ x + b1)
        return a1, _OUTPUTS[output](W2 @ a1 + b2)

    def batch_mean(W1, b1, W2, b2):
        entries = np.array([loss_of(forward(W1, b1, W2, b2, x)[1], t)
                            for x, t in zip(X, T, strict=True)])
        per_sample = entries.sum(axis=1) if the_loss.kind == "categorical" else entries
        return per_sample.mean()

    factor = float(batch_mean_factor(the_loss, n_out).subs(m, samples))
    derived = [np.zeros_like(P) for P in params]
    W1, b1, W2, b2 = params
    for x, t in zip(X, T, strict=True):
        a1, out = forward(W1, b1, W2, b2, x)
        delta2 = np.broadcast_to(delta_of(out, t), out.shape)
        delta1 = (W2.T @ delta2) * (1 - a1**2)  # tanh'(z) = 1 - a^2
        for index, part in enumerate((np.outer(delta1, x), delta1, np.outer(delta2, a1),
                                      delta2)):
            derived[index] += factor * part
    step = 1e-6
    for index, P in enumerate(params):
        for entry in np.ndindex(P.shape):
            P[entry] += step
            up = batch_mean(*params)
            P[entry] -= 2 * step
            down = batch_mean(*params)
            P[entry] += step
            slope = (up - down) / (2 * step)
            if abs(slope - derived[index][entry]) > 1e-7 * (1 + abs(slope)):
                raise AssertionError(
                    f"the batch-mean gradient of {loss_name} after {output} disagrees with "
                    f"central differences of J at parameter {index} {entry}: "
                    f"{derived[index][entry]} instead of {slope}")
