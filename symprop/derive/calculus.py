"""Multivariable calculus from the notes: gradients, Jacobians, directional derivatives,
gradient descent, and backpropagation through a computation graph by the chain rule.

Formulas are strings (parsed safely by :func:`parse_formula`) or SymPy expressions; every
name in them is a real symbol. Numbers from the user are made exact through their decimal
form (``0.1`` becomes ``1/10``), so the notes' examples come out exactly (``0.6``, ``6.48``,
``3.9456``) rather than as binary floating-point approximations.
"""

from __future__ import annotations

import io
import math
import numbers
import tokenize
from collections.abc import Mapping
from typing import NamedTuple

import sympy as sp

from symprop.derive.derivation import Derivation, TeX, notation, partial
from symprop.derive.limits import (
    MAX_RESULT_DIGITS,
    bounded,
    check_expression,
    check_size,
    digits,
    shorten,
)
from symprop.derive.parsing import CONSTANTS, check_names, parse_formula
from symprop.derive.simplify import tidy
from symprop.errors import FormulaError, MissingHyperparameterError, SympropError


# -- parsing, numbers, printing ------------------------------------------------------------
def _shield(text: str, names) -> tuple[str, dict[str, str]]:
    """Rename variables the parser would read as constants. The notes' graph has a node ``e``,
    which the parser takes for Euler's number, so it is renamed token by token first."""
    aliases = {}
    for name in (n for n in names if n in CONSTANTS):
        aliases[name] = name + "var"
        while aliases[name] in text or aliases[name] in names:
            aliases[name] += "x"
    if not aliases:
        return text, {}
    try:
        tokens = [(t.type, aliases.get(t.string, t.string) if t.type == tokenize.NAME
                   else t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]
        return tokenize.untokenize(tokens), aliases
    except (tokenize.TokenError, SyntaxError):
        return text, {}  # malformed: parse_formula reports it on the original text


def _parse(text: str, symbols: dict[str, sp.Symbol], owner: str | None = None) -> sp.Expr:
    """``text`` with ``symbols`` for their names; other names become real symbols, or, for a
    graph node (``owner``), an error, since a graph must define every name it uses."""
    shielded, aliases = _shield(text, symbols)
    known = symbols | {alias: symbols[name] for name, alias in aliases.items()}

    def symbol_for(name: str) -> sp.Symbol:
        if name in known:
            return known[name]
        if owner is not None:
            raise FormulaError(f"node {owner!r} refers to the undefined name {name!r}")
        return sp.Symbol(name, real=True)

    return parse_formula(shielded, symbol_for)


def _setup(fs: list, variables) -> tuple[list[sp.Expr], list[sp.Symbol]]:
    """The formulas as expressions, and the variables as the symbols those expressions use."""
    if isinstance(variables, str | sp.Symbol):
        variables = [variables]
    if not isinstance(variables, list | tuple):
        raise FormulaError(f"the variables are a list of names, such as ['x', 'y'], not "
                           f"{shorten(repr(variables))}")
    variables = list(variables)
    for v in variables:
        if not isinstance(v, str | sp.Symbol):
            raise FormulaError(f"a variable must be a name or a SymPy symbol, not {v!r}")
    names = [str(v) if isinstance(v, str) else v.name for v in variables]
    check_names(names)
    if not names or len(set(names)) < len(names):
        raise SympropError(f"the variables must be distinct names, one at least: {names}")
    # A name means the symbol of that name in a SymPy formula, whatever its assumptions, so
    # gradient(expr, ["x"]) differentiates the x the user built.
    in_exprs = {s.name: s for f in fs if isinstance(f, sp.Basic) for s in f.free_symbols}
    symbols = {n: v if isinstance(v, sp.Symbol) else in_exprs.get(n, sp.Symbol(n, real=True))
               for n, v in zip(names, variables, strict=True)}
    for f in fs:
        if not isinstance(f, str | sp.Expr):
            raise FormulaError(f"a formula must be a string or a SymPy expression, not {f!r}")
        if isinstance(f, sp.Expr):  # the limits the parser applies to text
            check_expression(f, f"formula {shorten(sp.sstr(f))!r}")
    return [_parse(f, symbols) if isinstance(f, str) else f for f in fs], list(symbols.values())


def _what(title: str):
    """The description of a calculus call for a time-budget error: its title and formula."""
    def describe(f, *args, **kwargs) -> str:
        text = f if isinstance(f, str) else sp.sstr(f)
        return f"{title} of {shorten(text)!r}"
    return describe


def _diff(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """A partial derivative, tidied; refused when it comes out huge."""
    return tidy(check_size(sp.diff(expr, symbol), f"the derivative with respect to {symbol}"))


def _number(value, what: str) -> sp.Expr:
    """An exact SymPy number; a float through its shortest decimal form (0.1 -> 1/10)."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, sp.Basic):
        if value.is_number and value.is_finite and value.is_extended_real:
            return value
    elif isinstance(value, numbers.Rational):
        return sp.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real) and math.isfinite(value):
        return sp.Rational(repr(float(value)))
    raise SympropError(f"{what} must be a finite real number, not {value!r}")


def _values(given, symbols: list[sp.Symbol], what: str) -> list[sp.Expr]:
    """Numbers for ``symbols`` from a mapping by name, or a sequence in variable order."""
    if isinstance(given, Mapping):
        missing = [s.name for s in symbols if s.name not in given]
        if missing:
            raise MissingHyperparameterError(f"{what} gives no value for {', '.join(missing)}")
        given = [given[s.name] for s in symbols]
    elif isinstance(given, str) or not hasattr(given, "__len__") or len(given) != len(symbols):
        raise SympropError(f"{what} must give one number for each of {len(symbols)} variables")
    return [_number(v, f"{what}[{s.name!r}]") for s, v in zip(symbols, given, strict=True)]


def _point(at, expr: sp.Expr, symbols: list[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """Values for the variables and for every other name in ``expr`` (all are needed)."""
    if not isinstance(at, Mapping):
        at = dict(zip([s.name for s in symbols], _values(at, symbols, "at"), strict=True))
    every = list({s.name: s for s in [*symbols, *expr.free_symbols]}.values())
    return dict(zip(every, _values(at, every, "at"), strict=True))


def _show(value):
    """Terminating decimals print as decimals (0.6, not 3/5), as the notes write them."""
    if not isinstance(value, sp.Rational) or value.is_Integer:
        return value
    places = next((n for n in range(31) if 10**n % int(value.q) == 0), None)
    if places is None:
        return value
    digits = str(abs(int(value.p)) * 10**places // int(value.q)).rjust(places + 1, "0")
    text = ("-" if value < 0 else "") + digits[:-places] + "." + digits[-places:]
    return sp.Float(text, len(digits.lstrip("0")))


def _at(values, tex: bool = False) -> str:
    """A point for titles and notation: ``0.6, -0.4``."""
    return ", ".join((sp.latex if tex else sp.sstr)(_show(v)) for v in values)


def _eq(lhs, rhs) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def _chain(*items):
    """A chain of equalities without repeats (dg/de = dg/de = ... reads badly)."""
    kept = [items[0]] + [b for a, b in zip(items, items[1:], strict=False) if b != a]
    return tuple(kept) if len(kept) > 1 else kept[0]


# -- values at a point ---------------------------------------------------------------------
def _float_function(expr: sp.Expr, symbols: list[sp.Symbol]):
    return sp.lambdify(symbols, expr, modules=["math"])


def _checked_float(function, values: list, where: str) -> float:
    """``function(*values)`` in floats, or a FormulaError naming ``where``: an overflow, or a
    value that is not a real number (outside the formula's domain)."""
    try:
        number = function(*[float(v) for v in values])
    except OverflowError:
        raise FormulaError(f"{where}: the value overflows the range of floats") from None
    except (ValueError, ZeroDivisionError, TypeError):
        number = math.nan
    if isinstance(number, complex) or math.isnan(number):
        raise FormulaError(f"{where} left the formula's domain: the value there is not a "
                           "real number")
    if math.isinf(number):
        raise FormulaError(f"{where}: the value overflows the range of floats")
    return float(number)


def _exact_or_float(value: sp.Expr) -> sp.Expr:
    """A rational too long to print as digits (a power of a long point) becomes a float."""
    if value.is_Rational and digits(value) > MAX_RESULT_DIGITS:
        return value.evalf()
    return value


def _evaluate(expr: sp.Expr, point: dict, where: str, function=None) -> sp.Expr:
    """``expr`` at ``point``: first in floats, so an overflow is an error rather than an
    exact number of a billion digits (x**x at 1e9); then exactly where the exponents are
    fixed numbers (bounded by the parser), a float where a power has the point in its
    exponent."""
    symbols = list(point)
    function = function or _float_function(expr, symbols)
    number = _checked_float(function, [point[s] for s in symbols], where)
    if any(p.exp.free_symbols & set(symbols) for p in expr.atoms(sp.Pow)):
        return sp.Float(number)
    return _exact_or_float(expr.xreplace(point))


# -- gradient, Jacobian, directional derivative --------------------------------------------
@bounded(_what("the gradient"))
def gradient(f, variables) -> sp.Matrix:
    """The column vector (n x 1) of the partial derivatives of ``f``, one per variable:
    ``f`` a formula (string or SymPy), ``variables`` its variables (names, in order)."""
    (expr,), symbols = _setup([f], variables)
    return sp.Matrix([_diff(expr, s) for s in symbols])


def _begin(title: str, expr: sp.Expr, symbols, why) -> tuple[Derivation, list[sp.Expr]]:
    """A derivation opening with the function, its partial derivatives and its gradient."""
    grad = [_diff(expr, s) for s in symbols]
    d = Derivation(title)
    d.add("The function", _eq(sp.Symbol("f"), expr))
    for s, g in zip(symbols, grad, strict=True):
        d.add(("Partial derivative with respect to ", s),
              _eq(partial("f", s.name, "f", sp.latex(s)), g),
              ("differentiate with respect to ", s, ", holding the other variables fixed"))
    d.add("The gradient", _eq(notation("grad f", r"\nabla f"), sp.Tuple(*grad)), why)
    return d, grad


@bounded(_what("the gradient derivation"))
def gradient_derivation(f, variables, at=None) -> Derivation:
    """The partial derivatives of ``f`` (a formula: string or SymPy) in ``variables``
    (names, in order); with ``at`` (name -> number) also the gradient at that point and its
    Euclidean norm. ``result`` is the gradient, evaluated at ``at`` if given."""
    (expr,), symbols = _setup([f], variables)
    d, grad = _begin("Gradient of f", expr, symbols, "the vector of the partial derivatives; "
                     "it points in the direction of steepest ascent")
    d.result = sp.Matrix(grad)
    if at is None:
        return d
    point = _point(at, expr, symbols)
    values = [_evaluate(g, point, f"the derivative with respect to {s.name} at the point")
              for g, s in zip(grad, symbols, strict=True)]
    where, tex = _at([point[s] for s in symbols]), _at([point[s] for s in symbols], tex=True)
    d.add(f"The gradient at ({where})", _eq(notation(f"grad f({where})", rf"\nabla f({tex})"),
                                            sp.Tuple(*map(_show, values))),
          "substitute the point into each partial derivative")
    squares = sp.Add(*[sp.Pow(_show(v), 2, evaluate=False) for v in values], evaluate=False)
    total = sum(v**2 for v in values)
    norm = sp.sqrt(total)
    d.add("Its length (Euclidean norm)", _chain(
        notation(f"|grad f({where})|", rf"\left\lVert \nabla f({tex}) \right\rVert"),
        sp.Pow(squares, sp.S.Half, evaluate=False), sp.Pow(_show(total), sp.S.Half, evaluate=False),
        norm, norm if norm.is_Rational else norm.evalf(7)),
        ("the steepest rate of increase of ", sp.Symbol("f"), " per unit distance moved"))
    d.result = sp.Matrix(values)
    return d


class LinearChange(NamedTuple):
    """The first-order prediction grad f . delta and the actual change f(at + delta) - f(at)."""

    predicted: sp.Expr
    actual: sp.Expr


@bounded(_what("the linear change"))
def linear_change(f, variables, at, delta) -> LinearChange:
    """How well the gradient predicts the change of ``f`` for a small move ``delta`` (a
    mapping by name or a sequence in variable order) from the point ``at``; ``f`` a formula
    (string or SymPy), ``variables`` its variables (names, in order)."""
    (expr,), symbols = _setup([f], variables)
    point = _point(at, expr, symbols)
    step = dict(zip(symbols, _values(delta, symbols, "delta"), strict=True))
    predicted = sum(_evaluate(sp.diff(expr, s), point, f"the derivative with respect to "
                              f"{s.name} at the point") * step[s] for s in symbols)
    moved = {s: v + step.get(s, 0) for s, v in point.items()}
    actual = (_evaluate(expr, moved, "the formula at the moved point")
              - _evaluate(expr, point, "the formula at the point"))
    return LinearChange(_exact_or_float(predicted), _exact_or_float(actual))


@bounded(_what("the Jacobian"))
def jacobian(fs, variables) -> sp.Matrix:
    """The m x n matrix of partial derivatives: row i is the gradient of ``fs[i]`` (formulas)
    in ``variables`` (names, in column order)."""
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    return sp.Matrix([[_diff(e, s) for s in symbols] for e in exprs])


@bounded(_what("the Jacobian derivation"))
def jacobian_derivation(fs, variables) -> Derivation:
    """The Jacobian of the functions ``fs`` (formulas) in ``variables``, derived entry by
    entry: each row the gradient of one function."""
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    d = Derivation("Jacobian of f")
    for i, e in enumerate(exprs, 1):
        d.add(f"Component {i}", _eq(notation(f"f{i}", f"f_{{{i}}}"), e))
        for s in symbols:
            d.add(("Partial derivative of ", TeX(f"f_{{{i}}}"), " with respect to ", s),
                  _eq(partial(f"f{i}", s.name, f"f_{{{i}}}", sp.latex(s)), _diff(e, s)),
                  (f"row {i} of the Jacobian holds the partial derivatives of ",
                   TeX(f"f_{{{i}}}")))
    d.result = jacobian(exprs, symbols)
    d.add("The Jacobian", _eq(notation("J(x)", r"J(\mathbf{x})"), d.result),
          ("entry ", TeX("(i, j)"), " is ", TeX(r"\partial f_{i} / \partial x_{j}"),
           ", the partial derivative of ", TeX("f_{i}"), " with respect to the ",
           TeX("j"), "-th variable"))
    return d


@bounded(_what("the directional derivative"))
def directional_derivative(f, variables, direction, at=None, *, normalize: bool = True):
    """grad f . u, where u is ``direction`` scaled to unit length, so the result is the rate
    of change per unit distance; ``normalize=False`` gives grad f . direction as it is.
    ``f`` a formula (string or SymPy), ``variables`` its variables (names, in order).
    A SymPy expression, or an exact SymPy number when ``at`` gives the point."""
    (expr,), symbols = _setup([f], variables)
    u = _values(direction, symbols, "direction")
    length = sp.sqrt(sum(c**2 for c in u))
    if length == 0:
        raise SympropError("the direction is the zero vector, which points nowhere")
    if normalize:
        u = [c / length for c in u]
    value = tidy(sum(_diff(expr, s) * c for s, c in zip(symbols, u, strict=True)))
    if at is None:
        return value
    return _evaluate(value, _point(at, expr, symbols), "the directional derivative at the point")


def __getattr__(name: str):
    # Gradient descent lives in symprop.derive.descent (it uses the helpers here); its names
    # stay importable from this module.
    if name in ("gradient_descent", "gradient_descent_derivation"):
        from symprop.derive import descent

        return getattr(descent, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
