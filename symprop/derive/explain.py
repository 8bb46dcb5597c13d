"""A worked example in numbers: one sample's (or a tiny batch's) forward pass, loss, backward
pass and optimizer update, every step with its actual values, as the notes work one by hand
(seed 003: x = 2, w = 3, v = 0.5, target 5 gives z = 6, h = 6, output 3, loss 4, ...).

The numbers are computed here in float64 from the derived expressions (each activation's
``numeric()`` functions, the loss and its gradient, the output delta, the optimizer's
derived update rule) in the runtime's batch-major layout, so that they can be compared with
the generated kernels (``Network.gradients``, one ``fit`` step); the steps print them in the
notes' column-vector notation (:mod:`symprop.derive.explain_steps`). Nothing here imports the
runtime: weights, data and the optimizer come in as arrays and plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symprop.architecture import check_chain, parse_architecture
from symprop.derive.delta import output_delta
from symprop.derive.derivation import Derivation
from symprop.derive.limits import BUDGET_SECONDS, bounded
from symprop.derive.losses import loss as make_loss
from symprop.derive.optimizers import update_rule
from symprop.derive.symbols import YHAT, Y, a, k, y, yhat, z
from symprop.derive.values import numpy_function
from symprop.errors import DataError, ShapeError, SympropError

# A worked example prints every number: past these it is a wall of digits, not an example.
MAX_SAMPLES = 4
MAX_UNITS = 8  # per layer, the input's width included
MAX_LAYERS = 6


@dataclass(repr=False, eq=False)  # Derivation's short repr; arrays do not compare
class Explanation(Derivation):
    """A :class:`Derivation` of a worked example, with the float64 numbers it shows in the
    runtime's batch-major layout (one row per sample, ``W`` shaped ``(n_in, n_out)``):
    ``loss`` (the batch-mean loss J), ``forward`` ((Z, A) per layer), ``loss_gradient``
    (dL/dyhat per sample and output unit), ``error_signals`` (dJ/dZ per layer, the factor of
    the mean included), ``into`` (dJ/dA per layer but the last, the gradient flowing into
    its output from above), ``gradients`` ((dW, db) per layer, as ``Network.gradients``
    returns them) and ``updated`` ((W, b) per layer after one step of the optimizer from a
    fresh state; empty without an optimizer)."""

    loss: float = float("nan")
    forward: list = field(default_factory=list)
    loss_gradient: np.ndarray | None = None
    error_signals: list = field(default_factory=list)
    into: list = field(default_factory=list)
    gradients: list = field(default_factory=list)
    updated: list = field(default_factory=list)


def _describe(layers, *_, **__) -> str:
    return "the worked example of the network"


def _seconds(layers, *_, **__) -> float:
    # One budget per layer, as for a network derivation: each may derive a formula of its own.
    return BUDGET_SECONDS * (2 + (layers.count("-") if isinstance(layers, str) else len(layers)))


@bounded(_describe, seconds=_seconds)
def explain_network(layers, loss_spec, params, X, Y_target, optimizer=None) -> Explanation:
    """The worked example of one training step of a dense network, with every number.

    ``layers``: LayerSpecs or an architecture string (``"1-1:relu-1:identity"``);
    ``loss_spec``: the loss's name or formula;
    ``params``: ``(W, b)`` per layer in the runtime's layout (``W`` of shape
    ``(n_in, n_out)``); ``X``: ``(m, n_in)`` inputs; ``Y_target``: ``(m, n_out)`` targets
    (one-hot rows for ce). ``optimizer``: anything with a ``rule`` name (sgd, adam,
    rmsprop), its ``options`` and its hyperparameters as attributes (``lr``, ``momentum``,
    ...), as ``symprop.SGD`` and the others have; the update is one step from a fresh state
    (state 0, step t = 1). None: no update. At most MAX_SAMPLES samples, MAX_UNITS units a
    layer and MAX_LAYERS layers (a ShapeError says which is too big).
    """
    from symprop.derive.explain_steps import write_steps

    if isinstance(layers, str):
        layers = parse_architecture(layers)
    layers = list(layers)
    check_chain(layers)
    X = _matrix(X, "X", layers[0].n_in)
    Y_target = _matrix(Y_target, "the target", layers[-1].n_out)
    check_size(layers, X.shape[0])
    if Y_target.shape[0] != X.shape[0]:
        raise ShapeError(f"the target has {Y_target.shape[0]} rows but X has {X.shape[0]}")
    weights = _weights(layers, params)
    acts = [layer.make_activation() for layer in layers]
    the_loss = make_loss(loss_spec)
    numbers = forward_pass(acts, weights, X)
    numbers.update(loss_and_delta(the_loss, acts[-1], numbers, Y_target))
    numbers.update(backward_pass(acts, weights, numbers))
    rule = None
    if optimizer is not None:
        rule, values = optimizer_rule(optimizer)
        numbers["updated"] = [tuple(apply_rule(rule, values, p, g) for p, g in zip(
            pair, grads, strict=True)) for pair, grads in zip(
                weights, numbers["gradients"], strict=True)]
    d = Explanation(f"A training step in numbers: {_arch(layers)}, loss {the_loss.name}")
    write_steps(d, layers, acts, the_loss, weights, X, Y_target, numbers,
                None if rule is None else (rule, values))
    d.loss = numbers["loss"]
    d.forward = list(zip(numbers["Z"], numbers["A"][1:], strict=True))
    d.loss_gradient = numbers["dL/dyhat"]
    d.error_signals = numbers["deltas"]
    d.into = numbers["dJ/da"][:-1]
    d.gradients = numbers["gradients"]
    d.updated = numbers.get("updated", [])
    return d


def _arch(layers) -> str:
    from symprop.architecture import format_architecture

    return format_architecture(layers)


def check_size(layers, samples: int) -> None:
    """Refuse what a worked example cannot print, saying what is too big and what to do."""
    instead = ("; for the numbers alone, Network.gradients(X, y) takes any size")
    if samples > MAX_SAMPLES:
        raise ShapeError(f"a worked example prints every number: {samples} samples are too "
                         f"many, explain at most {MAX_SAMPLES} (e.g. X[:1], y[:1]){instead}")
    if len(layers) > MAX_LAYERS:
        raise ShapeError(f"a worked example prints every number: {len(layers)} layers are too "
                         f"many, explain a network of at most {MAX_LAYERS}{instead}")
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    for number, width in enumerate(widths):
        if width > MAX_UNITS:
            where = "the input has" if number == 0 else f"layer {number} has"
            raise ShapeError(f"a worked example prints every number: {where} {width} units, "
                             f"more than {MAX_UNITS}; explain a network of at most "
                             f"{MAX_UNITS} units a layer{instead}")


def _matrix(values, what: str, width: int) -> np.ndarray:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numbers, not {type(values).__name__}") from None
    if array.ndim == 1 and width == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[1] != width or array.shape[0] == 0:
        raise ShapeError(f"{what} must have shape (samples, {width}), got {array.shape}")
    if not np.isfinite(array).all():
        raise DataError(f"{what} has a NaN or inf value")
    return array


def _weights(layers, params) -> list[tuple[np.ndarray, np.ndarray]]:
    params = list(params)
    if len(params) != len(layers):
        raise ShapeError(f"{len(params)} (W, b) pairs for {len(layers)} layers")
    out = []
    for number, (layer, (W, b)) in enumerate(zip(layers, params, strict=True), 1):
        W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
        if W.shape != (layer.n_in, layer.n_out) or b.shape != (layer.n_out,):
            raise ShapeError(f"layer {number}: expected W {(layer.n_in, layer.n_out)} and b "
                             f"{(layer.n_out,)}, got {W.shape} and {b.shape}")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise DataError(f"layer {number}: parameters contain NaN or inf")
        out.append((W, b))
    return out


# -- the numbers ------------------------------------------------------------------------------
def _softmax(Z: np.ndarray) -> np.ndarray:
    shifted = np.exp(Z - Z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _softmax_vjp(A: np.ndarray, G: np.ndarray) -> np.ndarray:
    """(J^T g)_i = a_i (g_i - sum_k g_k a_k), per sample (row)."""
    return A * (G - (G * A).sum(axis=1, keepdims=True))


def slope(act, Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """f'(z) of an elementwise activation, from its output a where the derivation found that
    form (as the generated kernels do), else from z."""
    if act.derivative_of_output is not None:
        return numpy_function(act.derivative_of_output, a, act.params)(A)
    return act.numeric()[1](Z)


def forward_pass(acts, weights, X: np.ndarray) -> dict:
    Zs, As = [], [X]
    for act, (W, b) in zip(acts, weights, strict=True):
        Zs.append(As[-1] @ W + b)
        As.append(_softmax(Zs[-1]) if act.kind == "softmax" else act.numeric()[0](Zs[-1]))
    return {"Z": Zs, "A": As}


def _per_unit(the_loss, expr: sp.Expr) -> sp.Expr:
    """A categorical loss's per-class expression with yhat_k, y_k as plain yhat, y."""
    return expr.subs({YHAT[k]: yhat, Y[k]: y}) if the_loss.kind == "categorical" else expr


def loss_and_delta(the_loss, out_act, numbers: dict, Y_target: np.ndarray) -> dict:
    """The loss J (the runtime's reduction: mean over samples, and over output units for
    elementwise losses), dL/dyhat per sample and unit, and the output delta dL/dz."""
    Z, A = numbers["Z"][-1], numbers["A"][-1]
    rows, width = A.shape
    categorical = the_loss.kind == "categorical"
    value_expr = the_loss.class_term if categorical else the_loss.expr
    value = numpy_function(_per_unit(the_loss, value_expr), [yhat, y], the_loss.params)
    gradient = numpy_function(_per_unit(the_loss, the_loss.gradient), [yhat, y],
                              the_loss.params)(A, Y_target)
    if out_act.kind == "softmax" and categorical:
        # From the logits, as the kernels compute it: log-sum-exp minus y.z, never log(0).
        top = Z.max(axis=1, keepdims=True)
        per_sample = (top[:, 0] + np.log(np.exp(Z - top).sum(axis=1))
                      - (Y_target * Z).sum(axis=1))
        losses, delta, units = per_sample[:, None], A - Y_target, 1
    elif out_act.kind == "softmax":
        losses, units = value(A, Y_target), width
        delta = _softmax_vjp(A, gradient)
    else:
        losses, units = value(A, Y_target), 1 if categorical else width
        if out_act.derivative_of_output is not None:
            result = _per_unit(the_loss, output_delta(the_loss, out_act).result).subs(a, yhat)
            delta = numpy_function(result, [yhat, y, z], {**the_loss.params,
                                                          **out_act.params})(A, Y_target, Z)
        else:
            delta = gradient * slope(out_act, Z, A)
    scale = 1.0 / (rows * units)
    return {"losses": losses, "loss": float(losses.sum() * scale), "dL/dyhat": gradient,
            "delta": delta, "scale": scale, "units": units}


def backward_pass(acts, weights, numbers: dict) -> dict:
    """dJ/dZ per layer (the output's with the batch mean's factor), dJ/dA below each layer,
    and (dW, db) per layer, as the kernels compute them."""
    D = numbers["delta"] * numbers["scale"]
    deltas, into, gradients = [D], [None] * len(acts), [None] * len(acts)
    for l in range(len(acts), 0, -1):
        W = weights[l - 1][0]
        A_below = numbers["A"][l - 1]
        gradients[l - 1] = (A_below.T @ D, D.sum(axis=0))
        if l > 1:
            G = D @ W.T
            into[l - 2] = G
            act, Z, A = acts[l - 2], numbers["Z"][l - 2], numbers["A"][l - 1]
            D = _softmax_vjp(A, G) if act.kind == "softmax" else G * slope(act, Z, A)
            deltas.insert(0, D)
    return {"deltas": deltas, "dJ/da": into, "gradients": gradients}


# -- the update -------------------------------------------------------------------------------
def optimizer_rule(optimizer):
    """The derived update rule of ``optimizer`` and the values of its symbols (the step count
    t = 1: one step from a fresh state)."""
    name = getattr(optimizer, "rule", None)
    if not isinstance(name, str) or not name:
        raise SympropError(f"the optimizer must be symprop.SGD, Adam or RMSprop (or have a "
                           f"rule name), not {optimizer!r}")
    rule = update_rule(name, **dict(getattr(optimizer, "options", {}) or {}))
    used = set().union(*(expr.free_symbols for _, expr in rule.assignments))
    values = {}
    for symbol in sorted(used, key=str):
        if symbol.name == "t":
            values[symbol] = 1.0
        elif symbol in rule.hyperparameters:
            value = getattr(optimizer, symbol.name, None)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise SympropError(f"optimizer {name}: no number for its {symbol.name}")
            values[symbol] = float(value)
    return rule, values


def rule_symbols(rule) -> dict[str, sp.Symbol]:
    """The rule's parameter, gradient and state symbols by name (w, g, v, m, ...)."""
    found = {target.name: target for target, _ in rule.assignments}
    for _, expr in rule.assignments:
        found.update({s.name: s for s in expr.free_symbols if s.name in ("w", "g")})
    return found


def apply_rule(rule, values: dict, param: np.ndarray, grad: np.ndarray,
               trace: list | None = None) -> np.ndarray:
    """One step of ``rule`` on a parameter tensor from a fresh state: each assignment in
    order, elementwise. ``trace`` collects (target, expression, the values before it, its
    result) for printing."""
    symbols = rule_symbols(rule)
    current = {symbols["w"]: param, symbols["g"]: grad}
    current.update({state: np.zeros_like(param) for state in rule.state})
    for target, expr in rule.assignments:
        inputs = sorted(expr.free_symbols - set(values), key=str)
        missing = [s.name for s in inputs if s not in current]
        if missing:
            raise SympropError(f"update rule {rule.name}: no value for {', '.join(missing)}")
        result = numpy_function(expr, inputs, values)(*(current[s] for s in inputs))
        if trace is not None:
            trace.append((target, expr, dict(current), result))
        current[target] = result
    return current[symbols["w"]]
