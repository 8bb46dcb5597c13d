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

from symprop.derive.derivation import Derivation, notation, partial
from symprop.derive.parsing import CONSTANTS, check_names, parse_formula
from symprop.derive.simplify import tidy
from symprop.errors import FormulaError, MissingHyperparameterError, SympropError

# Past this many digits an exact rational costs more than it tells (descent on x**4 cubes the
# denominator every step), so gradient descent switches to floats.
MAX_EXACT_DIGITS = 40


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
    return [_parse(f, symbols) if isinstance(f, str) else f for f in fs], list(symbols.values())


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


class _Minus(sp.Expr):
    """``a - b*c`` printed in that order: SymPy's printers sort the terms of a sum."""

    def _parts(self, printer, times: str, left: str = "(", right: str = ")"):
        a, b, c = (printer._print(arg) for arg in self.args)
        if self.args[2].could_extract_minus_sign():
            c = left + c + right
        return f"{a} - {b}{times}{c}"

    def _sympystr(self, printer):
        return self._parts(printer, "*")

    def _latex(self, printer):
        return self._parts(printer, r" \cdot ", r"\left(", r"\right)")


# -- gradient, Jacobian, directional derivative --------------------------------------------
def gradient(f, variables) -> sp.Matrix:
    """The column vector (n x 1) of the partial derivatives of ``f``, one per variable."""
    (expr,), symbols = _setup([f], variables)
    return sp.Matrix([tidy(sp.diff(expr, s)) for s in symbols])


def _begin(title: str, expr: sp.Expr, symbols, why: str) -> tuple[Derivation, list[sp.Expr]]:
    """A derivation opening with the function, its partial derivatives and its gradient."""
    grad = [tidy(sp.diff(expr, s)) for s in symbols]
    d = Derivation(title)
    d.add("The function", _eq(sp.Symbol("f"), expr))
    for s, g in zip(symbols, grad, strict=True):
        d.add(f"Partial derivative with respect to {s.name}",
              _eq(partial("f", s.name, "f", sp.latex(s)), g),
              f"differentiate with respect to {s.name}, holding the other variables fixed")
    d.add("The gradient", _eq(notation("grad f", r"\nabla f"), sp.Tuple(*grad)), why)
    return d, grad


def gradient_derivation(f, variables, at=None) -> Derivation:
    """The partial derivatives; with ``at`` (name -> number) also the gradient at that point
    and its Euclidean norm. ``result`` is the gradient, evaluated at ``at`` if given."""
    (expr,), symbols = _setup([f], variables)
    d, grad = _begin("Gradient of f", expr, symbols, "the vector of the partial derivatives; "
                     "it points in the direction of steepest ascent")
    d.result = sp.Matrix(grad)
    if at is None:
        return d
    point = _point(at, expr, symbols)
    values = [g.xreplace(point) for g in grad]
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
        "the steepest rate of increase of f per unit distance moved")
    d.result = sp.Matrix(values)
    return d


class LinearChange(NamedTuple):
    """The first-order prediction grad f . delta and the actual change f(at + delta) - f(at)."""

    predicted: sp.Expr
    actual: sp.Expr


def linear_change(f, variables, at, delta) -> LinearChange:
    """How well the gradient predicts the change of ``f`` for a small move ``delta`` (a
    mapping by name or a sequence in variable order) from the point ``at``."""
    (expr,), symbols = _setup([f], variables)
    point = _point(at, expr, symbols)
    step = dict(zip(symbols, _values(delta, symbols, "delta"), strict=True))
    predicted = sum(sp.diff(expr, s).xreplace(point) * step[s] for s in symbols)
    moved = {s: v + step.get(s, 0) for s, v in point.items()}
    return LinearChange(predicted, expr.xreplace(moved) - expr.xreplace(point))


def jacobian(fs, variables) -> sp.Matrix:
    """The m x n matrix of partial derivatives: row i is the gradient of ``fs[i]``."""
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    return sp.Matrix([[tidy(sp.diff(e, s)) for s in symbols] for e in exprs])


def jacobian_derivation(fs, variables) -> Derivation:
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    d = Derivation("Jacobian of f")
    for i, e in enumerate(exprs, 1):
        d.add(f"Component {i}", _eq(notation(f"f{i}", f"f_{{{i}}}"), e))
        for s in symbols:
            d.add(f"Partial derivative of f{i} with respect to {s.name}",
                  _eq(partial(f"f{i}", s.name, f"f_{{{i}}}", sp.latex(s)), tidy(sp.diff(e, s))),
                  f"row {i} of the Jacobian holds the partial derivatives of f{i}")
    d.result = jacobian(exprs, symbols)
    d.add("The Jacobian", _eq(notation("J(x)", r"J(\mathbf{x})"), d.result),
          "entry (i, j) is the partial derivative of f_i with respect to the j-th variable")
    return d


def directional_derivative(f, variables, direction, at=None, *, normalize: bool = True):
    """grad f . u, where u is ``direction`` scaled to unit length, so the result is the rate
    of change per unit distance; ``normalize=False`` gives grad f . direction as it is.
    A SymPy expression, or an exact SymPy number when ``at`` gives the point."""
    (expr,), symbols = _setup([f], variables)
    u = _values(direction, symbols, "direction")
    length = sp.sqrt(sum(c**2 for c in u))
    if length == 0:
        raise SympropError("the direction is the zero vector, which points nowhere")
    if normalize:
        u = [c / length for c in u]
    value = tidy(sum(sp.diff(expr, s) * c for s, c in zip(symbols, u, strict=True)))
    return value if at is None else value.xreplace(_point(at, expr, symbols))


# -- gradient descent ----------------------------------------------------------------------
def _settle(value: sp.Expr, step: int) -> sp.Expr:
    """Exact while the numbers stay short rationals, a float after; refuse non-numbers."""
    if not (value.is_Rational and len(str(value.p)) + len(str(value.q)) <= MAX_EXACT_DIGITS):
        value = value.evalf()
    if not (value.is_number and value.is_finite and value.is_extended_real):
        raise SympropError(f"gradient descent left the formula's domain at step {step}: "
                           f"the value there is {value}")
    return value


def _descend(f, start, lr, steps):
    if not isinstance(start, Mapping) or not start:
        raise SympropError("start must be a non-empty mapping from variable names to numbers")
    rate = _number(lr, "lr")
    if rate <= 0:
        raise SympropError(f"lr must be positive, not {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise SympropError(f"steps must be a non-negative integer, not {steps!r}")
    (expr,), symbols = _setup([f], list(start))
    missing = sorted(s.name for s in expr.free_symbols - set(symbols))
    if missing:
        raise MissingHyperparameterError(
            f"the formula uses {', '.join(missing)}, which start gives no value for")
    grad = [tidy(sp.diff(expr, s)) for s in symbols]
    point = dict(zip(symbols, _values(start, symbols, "start"), strict=True))
    history = []  # (point, gradient there, value there)
    for k in range(int(steps) + 1):
        value = _settle(expr.xreplace(point), k)
        # No gradient at the last point: it is not used and may not exist (sqrt(x) at 0).
        there = [_settle(g.xreplace(point), k) for g in grad] if k < steps else []
        history.append((point, there, value))
        if k < steps:
            point = {s: _settle(point[s] - rate * g, k + 1)
                     for s, g in zip(symbols, there, strict=True)}
    return expr, symbols, rate, history


def gradient_descent(f, start: Mapping, lr, steps: int) -> list[tuple[dict, sp.Expr]]:
    """``steps`` updates x <- x - lr * grad f(x) from ``start`` (name -> number), whose keys
    are the variables. Returns steps + 1 pairs (point, value), the start first; points map
    names to SymPy numbers, exact rationals while the arithmetic stays rational (floats in
    ``start`` and ``lr`` are read as the decimals they print as), floats once it does not."""
    *_, history = _descend(f, start, lr, steps)
    return [({s.name: v for s, v in point.items()}, value) for point, _, value in history]


def gradient_descent_derivation(f, start: Mapping, lr, steps: int) -> Derivation:
    """Each step's gradient, update and new value, as the notes' Example B writes them."""
    expr, symbols, rate, history = _descend(f, start, lr, steps)
    d, _ = _begin("Gradient descent", expr, symbols, "it points uphill; descent steps "
                  "against it, the direction of steepest descent")
    d.notes.append(f"Minimise f by {steps} step{'s' * (steps != 1)} of size eta = "
                   f"{_at([rate])} against the gradient, from ({_at(history[0][0].values())}).")
    new = [notation(f"{s.name}_new", rf"{sp.latex(s)}_{{\text{{new}}}}") for s in symbols]
    d.add("The update rule", _eq(sp.Tuple(*new), sp.Tuple(*[
        _Minus(s, sp.Symbol("eta"), partial("f", s.name, "f", sp.latex(s))) for s in symbols])),
        f"move against the gradient, scaled by the learning rate eta = {_at([rate])}")
    names = [_at(point.values()) for point, _, _ in history]
    texs = [_at(point.values(), tex=True) for point, _, _ in history]
    d.add("The value at the start", _eq(notation(f"f({names[0]})", f"f({texs[0]})"),
                                        _show(history[0][2])))
    for k, ((point, there, value), (moved, _, new_value)) in enumerate(
            zip(history, history[1:], strict=False), 1):
        d.add(f"Step {k}: the gradient at ({names[k - 1]})",
              _eq(notation(f"grad f({names[k - 1]})", rf"\nabla f({texs[k - 1]})"),
                  sp.Tuple(*map(_show, there))), "substitute the point into the gradient")
        for s, g in zip(symbols, there, strict=True):
            d.add(f"Step {k}: update {s.name}", _chain(
                notation(f"{s.name}_{k}", f"{sp.latex(s)}_{{{k}}}"),
                _Minus(_show(point[s]), _show(rate), _show(g)), _show(moved[s])))
        trend = "fell" if new_value < value else "did not fall (is the learning rate too large?)"
        d.add(f"Step {k}: the new value", _eq(notation(f"f({names[k]})", f"f({texs[k]})"),
                                              _show(new_value)),
              f"f {trend}: {_at([value])} -> {_at([new_value])}")
    d.result = sp.Tuple(*history[-1][0].values())
    return d


