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
from symprop.derive.continuity import (
    Undecidable,
    bind,
    range_in_unit_interval,
    real_line_problem,
)
from symprop.derive.derivation import Derivation, notation
from symprop.derive.inverse import GRID, scalar_function
from symprop.derive.limits import bounded, check_size
from symprop.derive.limits import shorten as _shorten
from symprop.derive.output_form import OutputForm
from symprop.derive.output_pieces import output_form
from symprop.derive.parsing import parse_formula, plain_symbol
from symprop.derive.simplify import tidy
from symprop.derive.stepwise import derive_activation_steps, textbook_derivative
from symprop.derive.symbols import a, z
from symprop.derive.values import Hyperparameters, bound, numpy_function, values_prose
from symprop.errors import (
    FormulaError,
    NotDifferentiableError,
)

alpha, beta, scale = sp.symbols("alpha beta lambda", real=True)
MAX_ORDER = 8  # of nth_derivative: each order multiplies the size of the expression


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
    def hyperparameters(self) -> Hyperparameters:
        """Values keyed by the expressions' own symbols, so ``expr.subs(act.hyperparameters)``
        substitutes them; names work too (``["alpha"]``, ``== {"alpha": 0.1}``)."""
        return Hyperparameters(self.params)

    def bind(self) -> Activation:
        """This activation with its hyperparameters' values substituted (as floats): no
        symbol but ``z`` is left, and everything derived from it carries the values."""
        if not self.params:
            return self
        return Activation(self.name, bound(self.expr, self.params), {},
                          trainable=self.trainable, formula=self.formula, summary=self.summary)

    def numeric(self):
        """``(f, f_prime)``: vectorised float64 NumPy functions of z, values bound."""
        return (numpy_function(self.expr, z, self.params),
                numpy_function(self.derivative, z, self.params))

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.hyperparameters.items())
        return f"activation({self.name!r}{extra})"

    def _what(self, part: str = "the derivative") -> str:
        return f"{part} of activation {_shorten(self.name)!r}"

    @cached_property
    def derivative(self) -> sp.Expr:
        """``f'(z)`` in the form a textbook writes: what :meth:`derivation` arrives at, rule
        by rule (``e^{-z}/(1 + e^{-z})^2`` for the sigmoid; see :mod:`.textbook`)."""
        return self._derivative()

    @bounded(lambda self: self._what())
    def _derivative(self) -> sp.Expr:
        return check_size(textbook_derivative(self.expr, z), self._what())

    @cached_property
    def derivative_of_output(self) -> sp.Expr | None:
        """``f'`` in terms of ``a = f(z)``, or ``None`` if ``f'`` is not a function of ``a``
        (see :mod:`.output_form` for how, and for when there is none)."""
        return self.output_form.result

    @cached_property
    def output_form(self) -> OutputForm:
        """The form in the output with the steps that show it (and the recipe's name)."""
        return self._output_form()

    @bounded(lambda self: self._what("the derivative in terms of the output"))
    def _output_form(self) -> OutputForm:
        return output_form(self.expr, self.derivative, z, a, self.params)

    @bounded(lambda self, n: self._what(f"derivative {n}"))
    def nth_derivative(self, n: int) -> sp.Expr:
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ORDER:
            raise FormulaError(f"the order of a derivative must be an integer from 1 to "
                               f"{MAX_ORDER}, not {n!r}")
        if n == 1:
            return self.derivative
        return tidy(check_size(sp.diff(self.expr, z, n), self._what(f"derivative {n}")))

    @bounded(lambda self, n: self._what(f"derivative {n} in terms of the output"))
    def higher_derivative_of_output(self, n: int) -> sp.Expr | None:
        """The n-th derivative in terms of ``a`` (``sigmoid'' = a(1-a)(1-2a)``), if it exists.

        Repeated chain rule: ``d/dz g(a) = g'(a) * a'``, with ``a'`` itself in terms of ``a``.
        """
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ORDER:
            raise FormulaError(f"the order of a derivative must be an integer from 1 to "
                               f"{MAX_ORDER}, not {n!r}")
        first = self.derivative_of_output
        if first is None:
            return None
        result = first
        for _ in range(n - 1):
            result = tidy(sp.diff(result, a) * first)
        return result

    def derivation(self) -> Derivation:
        d = derive_activation(self)
        if self.params:  # the values, and the result with them where it still has symbols
            d.notes.append(values_prose(self.params, "Hyperparameters: "))
            if isinstance(d.result, sp.Expr) and set(self.params) & d.result.free_symbols:
                # a value the user gave as a whole number prints as one: a + 1, not a + 1.0
                whole = {s: sp.Integer(int(v)) for s, v in self.params.items()
                         if float(v).is_integer()}
                d.add("With the values", sp.Eq(notation("f'(z)", "f'(z)"), bound(
                    d.result.xreplace(whole), self.params), evaluate=False),
                      values_prose(self.params))
        return d


@bounded(lambda act: f"deriving activation {_shorten(act.name)!r}")
def derive_activation(act: Activation) -> Derivation:
    """Definition, each rule of differentiation, the textbook form, the form in the output
    and the second derivative (:mod:`.stepwise`); every step checked against SymPy."""
    return derive_activation_steps(act)


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

    ``spec``: a name (``symprop list activations``) or a formula string, e.g.
    ``"x*tanh(log(1+exp(x)))"``; ``name``: what to call a formula. Any other symbol of a
    formula is a hyperparameter and needs a value as a keyword (``hyperparameters``, e.g.
    ``alpha=0.1``); a built-in's take their defaults unless given.
    """
    catalog.check_name("activation", name)
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


@bounded(lambda formula, name=None, **_: f"activation {_shorten(name or formula)!r}")
def custom_activation(formula: str, name: str | None = None, **hyperparameters) -> Activation:
    label = name or formula

    def symbol_for(token: str) -> sp.Symbol:
        return z if token in ("x", "z") else plain_symbol(token, f"activation {label!r}")

    expr = parse_formula(formula, symbol_for)
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
    _check_real_line(act, label)


def _check_real_line(act: Activation, label: str) -> None:
    """The grid above misses poles and jumps between its points: check the expression."""
    try:
        problem = real_line_problem(bind(act.expr, act.params), z)
    except Undecidable as exc:
        raise FormulaError(
            f"activation {label!r}: could not decide symbolically that it is continuous with "
            f"a finite derivative on the whole real line ({exc}); refused rather than "
            "trained unchecked") from None
    if problem is None:
        return
    kind = FormulaError if problem.in_value else NotDifferentiableError
    raise kind(f"activation {label!r} {problem.text}; an activation must be continuous, with "
               "a finite derivative, for every real z")


def output_range_in_unit_interval(act) -> bool:
    """Does every output of ``act`` lie in [0, 1], for every real input? Decided symbolically
    (SymPy's function_range, piece by piece) within the time budget, with the
    hyperparameters' values; False where the range cannot be found (not proven a
    probability). Softmax outputs are probabilities."""
    if getattr(act, "kind", None) == "softmax":
        return True
    return range_in_unit_interval(bind(act.expr, act.params), act.z)
