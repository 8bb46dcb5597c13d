"""Activation functions: built-ins and user formulas, with derivatives derived by SymPy.

``activation(name_or_formula, **hyperparameters)`` returns an :class:`Activation` whose
``expr`` is ``f(z)``, ``derivative`` is ``f'(z)`` and ``derivative_of_output`` is ``f'`` in
terms of ``a = f(z)`` (see :mod:`symprop.derive.inverse`). Hyperparameters (``alpha``,
``beta``, ...) stay symbols in the expressions, with their values in ``params``, so that
generated kernels can take them as arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy as sp

from symprop import catalog
from symprop.catalog import ACTIVATION_ALIASES, ACTIVATIONS, RESERVED_NAMES, Entry
from symprop.derive.derivation import Derivation, notation
from symprop.derive.inverse import GRID, derivative_in_output, scalar_function
from symprop.derive.parsing import parse_formula
from symprop.derive.simplify import tidy
from symprop.derive.symbols import a, z
from symprop.errors import (
    FormulaError,
    NotDifferentiableError,
)

alpha, beta, scale = sp.symbols("alpha beta lambda", real=True)


@dataclass(frozen=True)
class _Builtin:
    """A built-in activation: its catalog entry (defaults, ranges) and its formula."""

    build: object  # () -> SymPy expression in z and the hyperparameter symbols
    entry: Entry = field(default_factory=Entry)

    @property
    def defaults(self) -> dict:
        return self.entry.defaults

    @property
    def summary(self) -> str:
        return self.entry.summary

    @property
    def trainable(self) -> bool:
        return self.entry.trainable


def _relu_like(negative_side):
    return sp.Piecewise((z, z > 0), (negative_side, True))


_FORMULAS = {
    "identity": lambda: z,
    "step": lambda: sp.Piecewise((0, z < 0), (1, True)),
    "sigmoid": lambda: 1 / (1 + sp.exp(-z)),
    "tanh": lambda: sp.tanh(z),
    "relu": lambda: _relu_like(0),
    "leaky_relu": lambda: _relu_like(alpha * z),
    "elu": lambda: _relu_like(alpha * (sp.exp(z) - 1)),
    "selu": lambda: scale * _relu_like(alpha * (sp.exp(z) - 1)),
    "softplus": lambda: sp.log(1 + sp.exp(z)),
    "softsign": lambda: z / (1 + sp.Abs(z)),
    "gelu": lambda: z / 2 * (1 + sp.erf(z / sp.sqrt(2))),
    "gelu_tanh": lambda: z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi)
                                             * (z + sp.Rational(44715, 10**6) * z**3))),
    "silu": lambda: z / (1 + sp.exp(-beta * z)),
    "mish": lambda: z * sp.tanh(sp.log(1 + sp.exp(z))),
}
BUILTINS: dict[str, _Builtin] = {name: _Builtin(build, ACTIVATIONS[name])
                                 for name, build in _FORMULAS.items()}
ALIASES = ACTIVATION_ALIASES


known_activations = catalog.known_activations


class Activation:
    """An elementwise activation ``a = f(z)`` and everything derived from it."""

    kind = "elementwise"

    def __init__(self, name: str, expr: sp.Expr, params: dict, *, trainable: bool = True,
                 formula: str | None = None, summary: str = ""):
        self.name = name
        self.z, self.a = z, a
        self.expr = expr
        self.params = dict(params)  # hyperparameter Symbol -> float value
        self.trainable = trainable
        self.formula = formula
        self.summary = summary

    @property
    def hyperparameters(self) -> dict[str, float]:
        return {s.name: v for s, v in self.params.items()}

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.hyperparameters.items())
        return f"activation({self.name!r}{extra})"

    @cached_property
    def derivative(self) -> sp.Expr:
        """``f'(z)``, in the shortest of a few cheap equivalent forms."""
        return tidy(sp.diff(self.expr, z))

    @cached_property
    def derivative_of_output(self) -> sp.Expr | None:
        """``f'`` in terms of ``a = f(z)``, or ``None`` if ``f'`` is not a function of ``a``."""
        return derivative_in_output(self.expr, self.derivative, z, a, self.params)

    def nth_derivative(self, n: int) -> sp.Expr:
        if not isinstance(n, int) or n < 1:
            raise FormulaError(f"the order of a derivative must be a positive integer, not {n!r}")
        return tidy(sp.diff(self.expr, z, n))

    def higher_derivative_of_output(self, n: int) -> sp.Expr | None:
        """The n-th derivative in terms of ``a`` (``sigmoid'' = a(1-a)(1-2a)``), if it exists.

        Repeated chain rule: ``d/dz g(a) = g'(a) * a'``, with ``a'`` itself in terms of ``a``.
        """
        first = self.derivative_of_output
        if first is None:
            return None
        result = first
        for _ in range(n - 1):
            result = tidy(sp.diff(result, a) * first)
        return result

    def derivation(self) -> Derivation:
        return derive_activation(self)


def derive_activation(act: Activation) -> Derivation:
    fz, dfz = notation("f(z)", "f(z)"), notation("f'(z)", "f'(z)")
    d = Derivation(f"Activation {act.name}: derivative and its form in the output")
    d.add("Definition", sp.Eq(fz, act.expr, evaluate=False),
          act.summary or "the activation as given")
    raw = sp.diff(act.expr, z)
    d.add("Differentiate with respect to z", sp.Eq(dfz, raw, evaluate=False),
          "rules of differentiation (chain rule, quotient rule, each piece of a piecewise)")
    if raw != act.derivative:
        d.add("Simplify", sp.Eq(dfz, act.derivative, evaluate=False), "algebra")
    if not act.trainable:
        d.add("No useful gradient", sp.Eq(dfz, 0, evaluate=False),
              "the derivative is 0 wherever it exists (and undefined at the jump), so "
              "gradient descent cannot learn through this activation")
        d.result = act.derivative
        return d
    out = act.derivative_of_output
    if out is not None:
        d.add("Substitute the inverse a = f(z)", sp.Eq(dfz, out, evaluate=False),
              "solve a = f(z) for z and substitute into f'(z); verified on a grid of z")
        d.result = out
        second = act.higher_derivative_of_output(2)
        if second is not None and second != 0:
            d.add("Second derivative, by the chain rule on f'(a)",
                  (notation("f''(z)", "f''(z)"),
                   sp.Mul(sp.diff(out, a), notation("f'(z)", "f'(z)"), evaluate=False), second),
                  "d/dz g(a) = g'(a) * da/dz with da/dz = f'(z) itself in terms of a")
    else:
        d.notes.append("f' cannot be written in terms of a = f(z) alone (f is not "
                       "invertible or the inverse is not elementary); the backward pass "
                       "keeps z.")
        d.result = act.derivative
    return d


def explicit_pieces(expr: sp.Expr) -> sp.Expr:
    """Rewrite kinks (abs, max, min, sign) as explicit pieces, so each side differentiates
    on its own and the kink's one-sided convention is visible."""
    if expr.has(sp.Abs, sp.Max, sp.Min, sp.sign):
        expr = expr.rewrite(sp.Piecewise)
    return sp.piecewise_fold(expr)


@lru_cache(maxsize=256)
def _builtin(name: str, values: tuple) -> Activation:
    spec = BUILTINS[name]
    expr = explicit_pieces(spec.build())
    params = {sp.Symbol(k, real=True): v for k, v in values}
    return Activation(name, expr, params, trainable=spec.trainable, summary=spec.summary)


_check_value = catalog.check_value


def activation(spec, name: str | None = None, **hyperparameters) -> Activation:
    """A built-in activation by name, or one from a formula in ``x`` or ``z``.

    Any other symbol of a formula is a hyperparameter and needs a value as a keyword.
    """
    if isinstance(spec, Activation) or getattr(spec, "kind", None) == "softmax":
        return spec
    if isinstance(spec, str) and spec.strip().lower() == "softmax":
        from symprop.derive.softmax import softmax

        if hyperparameters:
            raise FormulaError(f"softmax takes no hyperparameters, got {sorted(hyperparameters)}")
        return softmax()
    if not isinstance(spec, str):
        raise FormulaError(f"an activation is a name or a formula string, not {spec!r}")
    found = catalog.resolve_activation(spec, hyperparameters)
    if found is not None:
        return _builtin(*found)
    return custom_activation(spec, name=name, **hyperparameters)


def custom_activation(formula: str, name: str | None = None, **hyperparameters) -> Activation:
    def symbol_for(token: str) -> sp.Symbol:
        return z if token in ("x", "z") else sp.Symbol(token, real=True)

    expr = parse_formula(formula, symbol_for)
    label = name or formula
    if z not in expr.free_symbols:
        raise FormulaError(f"activation {label!r} does not depend on x (or z)")
    hyper = sorted(s.name for s in expr.free_symbols if s != z)
    values = catalog.bind_formula_hyperparameters(
        "activation", label, hyper, hyperparameters, RESERVED_NAMES,
        "the output a, the prediction yhat, the target y, or an index")
    params = {sp.Symbol(h, real=True): v for h, v in values.items()}
    act = Activation(label, explicit_pieces(expr), params, formula=formula,
                     summary=f"user formula {formula}")
    _check_usable(act, label)
    return act


def _check_usable(act: Activation, label: str) -> None:
    """Refuse formulas undefined on the real line; mark flat ones as not trainable."""
    f = scalar_function(act.expr, z, act.params)
    for x in GRID:
        if not math.isfinite(f(x)):
            raise FormulaError(f"activation {label!r} is not defined (or not finite) at "
                               f"z = {x:g}; an activation must be defined for every real z")
    slope = scalar_function(act.derivative, z, act.params)
    values = [slope(x) for x in GRID if x != 0]
    if not all(math.isfinite(v) for v in values):
        bad = next(x for x in GRID if x != 0 and not math.isfinite(slope(x)))
        raise NotDifferentiableError(f"activation {label!r} is not differentiable at z = {bad:g}")
    if not math.isfinite(slope(0.0)):
        raise NotDifferentiableError(
            f"activation {label!r} is not differentiable at z = 0, where inputs often fall")
    if all(abs(v) < 1e-14 for v in values):
        act.trainable = False
