"""Loss functions per sample, their gradients, and their stable logit forms.

A loss is written for one sample in the prediction ``yhat`` and the target ``y``; the
training loss is the batch mean ``J = (1/m) sum_i L(yhat_i, y_i)``, so every gradient the
runtime applies carries a factor ``1/m`` (stated in each derivation). Categorical
cross-entropy is per sample over the classes: ``L = -sum_k y_k log(yhat_k)``.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import sympy as sp

from symprop import catalog
from symprop.catalog import LOSS_ALIASES, LOSSES, RESERVED_NAMES
from symprop.derive.derivation import Derivation, notation, prose
from symprop.derive.identify import is_bce, is_sigmoid
from symprop.derive.limits import bounded, check_size
from symprop.derive.limits import shorten as _shorten
from symprop.derive.parsing import parse_formula, plain_symbol
from symprop.derive.simplify import (
    collapse_delta_sums,
    distribute_sums,
    numerically_equal,
    tidy,
)
from symprop.derive.stepwise import derive_loss_steps
from symprop.derive.symbols import HUBER_DELTA, YHAT, K, Y, Z, i, k, y, yhat, z
from symprop.derive.values import Hyperparameters, values_prose
from symprop.errors import FormulaError

delta = HUBER_DELTA  # printed kappa: see symbols.HUBER_DELTA


def _huber():
    r = yhat - y
    return sp.Piecewise((r**2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True))


_FORMULAS = {
    "mse": lambda: (yhat - y) ** 2,
    "mae": lambda: sp.Abs(yhat - y),
    "bce": lambda: -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)),
    "ce": lambda: sp.Sum(-Y[k] * sp.log(YHAT[k]), (k, 1, K)),
    "huber": _huber,
    "log_cosh": lambda: sp.log(sp.cosh(yhat - y)),
}
# name -> (builder, defaults, summary), the catalog's entries with their formulas
BUILTINS = {name: (build, LOSSES[name].defaults, LOSSES[name].summary)
            for name, build in _FORMULAS.items()}
ALIASES = LOSS_ALIASES


known_losses = catalog.known_losses


class Loss:
    """A per-sample loss ``L(yhat, y)`` and everything derived from it."""

    def __init__(self, name: str, expr: sp.Expr, params: dict, summary: str = "",
                 formula: str | None = None):
        self.name, self.expr, self.params = name, expr, dict(params)
        self.summary, self.formula = summary, formula
        self.kind = "categorical" if expr.has(YHAT) else "elementwise"
        self.yhat, self.y = (YHAT[k], Y[k]) if self.kind == "categorical" else (yhat, y)

    def __repr__(self) -> str:
        extra = "".join(f", {s.name}={v!r}" for s, v in self.params.items())
        return f"loss({self.name!r}{extra})"

    @property
    def hyperparameters(self) -> Hyperparameters:
        """Values keyed by the expressions' own symbols (``expr.subs(loss.hyperparameters)``
        substitutes them); names work too (``["delta"]``, ``== {"delta": 1.0}``)."""
        return Hyperparameters(self.params)

    def _what(self, part: str = "the gradient") -> str:
        return f"{part} of loss {_shorten(self.name)!r}"

    @cached_property
    def gradient(self) -> sp.Expr:
        """``dL/dyhat`` (per class ``dL/dyhat_k`` for categorical losses)."""
        return self._gradient()

    @bounded(lambda self: self._what())
    def _gradient(self) -> sp.Expr:
        if self.kind == "categorical":
            # Differentiate wrt yhat_i, sift the delta, rename i back to k.
            return tidy(collapse_delta_sums(sp.diff(self.expr, YHAT[i])).subs(i, k))
        return tidy(check_size(sp.diff(self.expr, yhat), self._what()))

    @cached_property
    def class_term(self) -> sp.Expr:
        """The summand of a categorical loss (``-y_k log yhat_k``); the loss itself otherwise."""
        return self.expr.function if isinstance(self.expr, sp.Sum) else self.expr

    @bounded(lambda self, output: self._what("the logit form"))
    def logit_form(self, output) -> sp.Expr | None:
        """The loss as a function of the logits ``z`` when that is numerically safer: bce
        after a sigmoid, ce after a softmax. ``output`` is the output activation (or a
        built-in's name). Chosen from the expressions of the loss and of the activation,
        never from their names: a formula named "sigmoid" is not one."""
        from symprop.derive.activations import activation  # activations never import losses

        act = activation(output)
        if getattr(act, "kind", None) == "softmax":
            return _logit_result("ce_softmax") if self.expr == _FORMULAS["ce"]() else None
        if is_bce(self) and is_sigmoid(act):
            return _logit_result("bce_sigmoid")
        return None

    @bounded(lambda self: f"deriving loss {_shorten(self.name)!r}")
    def derivation(self) -> Derivation:
        d = Derivation(f"Loss {self.name}: per-sample value and gradient")
        if self.params:
            d.notes.append(values_prose(self.params, "Hyperparameters: "))
        # One rule a step, then the textbook form, each checked against SymPy's diff.
        d.result = derive_loss_steps(self, d)
        return d


@lru_cache(maxsize=128)
def _builtin(name: str, values: tuple) -> Loss:
    build, _, summary = BUILTINS[name]
    params = {delta if n == "delta" else sp.Symbol(n, real=True): v
              for n, v in values}
    return Loss(name, build(), params, summary)


def loss(spec, name: str | None = None, **hyperparameters) -> Loss:
    """A built-in loss by name, or one from a formula in ``yhat`` and ``y``.

    ``spec``: a name (``symprop list losses``) or a formula string; ``name``: what to call
    a formula; ``hyperparameters``: values of its other symbols (huber's ``delta=``)."""
    catalog.check_name("loss", name)
    if isinstance(spec, Loss):
        return spec
    if not isinstance(spec, str):
        raise FormulaError(f"a loss is a name or a formula string, not {spec!r}")
    found = catalog.resolve_loss(spec, hyperparameters)
    if found is not None:
        return _builtin(*found)
    return custom_loss(spec, name=name, **hyperparameters)


@bounded(lambda formula, name=None, **_: f"loss {_shorten(name or formula)!r}")
def custom_loss(formula: str, name: str | None = None, **hyperparameters) -> Loss:
    symbols = {"yhat": yhat, "y": y}
    label = name or formula
    expr = parse_formula(formula, lambda t: symbols.get(t)
                         or plain_symbol(t, f"loss {_shorten(label)!r}"))
    if yhat not in expr.free_symbols:
        raise FormulaError(f"loss {label!r} does not depend on the prediction yhat")
    hyper = sorted(s.name for s in expr.free_symbols - {yhat, y})
    values = catalog.bind_formula_hyperparameters(
        "loss", label, hyper, hyperparameters, RESERVED_NAMES | {"z", "x"},
        "the logit z, the output a, or an index")
    params = {sp.Symbol(h, real=True): v for h, v in values.items()}
    return Loss(label, expr, params, f"user formula {formula}", formula=formula)


@lru_cache(maxsize=1)
def logit_forms() -> dict[tuple[str, str], Derivation]:
    """The derivations of the logit forms, step by step (for display)."""
    return {("bce", "sigmoid"): _bce_from_logits(), ("ce", "softmax"): _ce_from_logits()}


@lru_cache(maxsize=2)
def _logit_result(pair: str) -> sp.Expr:
    """What the kernels compute: the last step of those derivations, without the display
    steps (SymPy's simplify, a quarter of a cold start, only makes the middle step
    readable)."""
    return _bce_stable() if pair == "bce_sigmoid" else _ce_from_logits().result


def _bce_stable() -> sp.Expr:
    """bce of sigmoid(z) as softplus terms, checked numerically against the substitution."""
    substituted = loss("bce").expr.subs(yhat, 1 / (1 + sp.exp(-z)))
    stable = sp.Max(z, 0) - y * z + sp.log(1 + sp.exp(-sp.Abs(z)))
    # |z| <= 12: beyond, 1 - sigmoid(z) in the substituted form loses the digits to compare
    # to 1e-9 (the unstable form this one replaces).
    if not numerically_equal(stable, substituted, {z: (-12, 12), y: (0, 1)}):
        raise AssertionError("stable softplus rewrite does not match")
    return stable


def _bce_from_logits() -> Derivation:
    d = Derivation("Binary cross-entropy from the logit of a sigmoid output")
    L = notation("L", "L")
    bce = loss("bce").expr
    substituted = bce.subs(yhat, 1 / (1 + sp.exp(-z)))
    d.add(prose(r"Substitute $\hat{y} = 1/(1 + e^{-z})$"), sp.Eq(L, substituted, evaluate=False),
          "the output layer is a sigmoid")
    expanded = sp.expand_log(sp.expand(substituted), force=True)
    d.add("Expand the logarithms", sp.Eq(L, expanded, evaluate=False),
          prose(r"$\log(p/q) = \log p - \log q$"))
    smooth = tidy(sp.simplify(expanded))
    d.add("Simplify", sp.Eq(L, smooth, evaluate=False),
          prose(r"$\log(1 - \sigma(z)) = -\log(1 + e^{z})$ and "
                r"$\log \sigma(z) = z - \log(1 + e^{z})$"))
    stable = _bce_stable()
    if not numerically_equal(stable, smooth, {z: (-30, 30), y: (0, 1)}):
        raise AssertionError("stable softplus rewrite does not match")
    d.add("Stable form", sp.Eq(L, stable, evaluate=False),
          prose(r"$\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})$: no overflow for any $z$"))
    d.result = stable
    return d


def _ce_from_logits() -> Derivation:
    d = Derivation("Cross-entropy from the logits of a softmax output")
    L = notation("L", "L")
    j = sp.Symbol("j", integer=True, positive=True)
    total = sp.Sum(sp.exp(Z[j]), (j, 1, K))
    substituted = sp.Sum(-Y[k] * sp.log(sp.exp(Z[k]) / total), (k, 1, K))
    d.add(prose(r"Substitute $\hat{y}_{k} = e^{z_{k}} / \sum_{j} e^{z_{j}}$"),
          sp.Eq(L, substituted, evaluate=False),
          "the output layer is a softmax")
    expanded = distribute_sums(substituted.replace(
        lambda e: isinstance(e, sp.log), lambda e: sp.expand_log(e, force=True)))
    d.add("Expand the logarithm and split the sum", sp.Eq(L, expanded, evaluate=False),
          prose(r"$\log(p/q) = \log p - \log q$; linearity of the sum"))
    result = expanded.subs(sp.Sum(Y[k], (k, 1, K)), 1)
    d.add(prose(r"Use $\sum_{k} y_{k} = 1$ (one-hot target)"), sp.Eq(L, result, evaluate=False),
          "log-sum-exp of the logits minus the logit of the true class")
    mx = notation("max_j z_j", r"\max_{j} z_{j}", real=True)
    stable = mx + sp.log(sp.Sum(sp.exp(Z[j] - mx), (j, 1, K))) - sp.Sum(Y[k] * Z[k], (k, 1, K))
    d.add("Stable form (log-sum-exp)", sp.Eq(L, stable, evaluate=False),
          prose(r"shifting every logit by its maximum leaves the value unchanged and keeps "
                r"$e^{z_{j} - \max_{j} z_{j}} \le 1$"))
    # The result stays the symbolic log-sum-exp: a maximum over K symbolic classes has no
    # closed form; the stable evaluation is the last step, and what the kernels compute.
    d.result = result
    return d
