"""Checking that a step of a derivation equals what SymPy computes.

Every step of the step-by-step differentiator (:mod:`.differentiate`) and of the textbook
simplification (:mod:`.textbook`) is an expression equal to the derivative. A step is checked
structurally first (its remaining ``Derivative`` objects evaluated, the result compared to
``sp.diff``), then numerically: both sides are evaluated at random points with mpmath, at
enough digits for the formula's largest numbers that two forms of one value cannot drift
apart by rounding. A step that differs raises :class:`StepMismatch`, an ``AssertionError``:
it is a bug of the differentiator, never a user's error.
"""

from __future__ import annotations

import math
import random

import sympy as sp

from symprop.errors import FormulaError

POINTS = 4  # random points a step must agree at
TRIES = 40  # candidate points drawn to find POINTS where the derivative is defined
DIGITS = 30  # working precision beyond the digits of the formula's numbers
RTOL = 1e-12
CLASSES = 3  # K, the number of classes, where a sum runs over classes


class StepMismatch(AssertionError):
    """A derivation step that is not equal to the derivative: a bug, not bad input."""


def depends(expr, x) -> bool:
    """Does ``expr`` depend on ``x``? For an indexed ``x`` (``yhat[i]``), any element of its
    base counts (``yhat[k]`` is ``yhat[i]`` where ``k = i``)."""
    if isinstance(x, sp.Indexed):
        return any(isinstance(n, sp.Indexed) and n.base == x.base
                   for n in sp.preorder_traversal(expr))
    return expr.has(x)


def evaluated(expr):
    """``expr`` rebuilt with SymPy's evaluation: products multiplied out, the remaining
    ``Derivative`` objects differentiated."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if isinstance(expr, sp.UnevaluatedExpr):
        return evaluated(expr.args[0])
    if isinstance(expr, sp.Derivative):
        return sp.diff(evaluated(expr.expr), *expr.variables)
    return expr.func(*[evaluated(arg) for arg in expr.args])


def _digits(expr) -> int:
    """Decimal digits the largest (or smallest) number of ``expr`` spans."""
    largest = 0
    for number in expr.atoms(sp.Number):
        if number.is_zero or not number.is_finite:
            continue
        try:
            largest = max(largest, abs(int(math.floor(math.log10(abs(float(number)))))))
        except (OverflowError, ValueError):
            largest = max(largest, 330)
    return largest


_LAZY = (sp.Piecewise, sp.And, sp.Or)


def _at(expr, point: dict):
    """``expr`` with the point's values put in, a case distinction evaluated as it reads:
    the first piece whose condition holds gives the value, and ``and``/``or`` stop at the
    first operand that decides them. A piece's value or a later operand may be undefined
    where an earlier condition excludes it (``x > 1/3 and x**(1/3) >= x`` for negative
    ``x``, where SymPy's principal root is complex and cannot be compared)."""
    if not expr.has(*_LAZY):
        return expr.xreplace(point)
    if isinstance(expr, sp.Piecewise):
        for value, condition in expr.args:
            holds = _at(condition, point)
            if holds is sp.true:
                return _at(value, point)
            if holds is not sp.false:
                raise TypeError(f"undecided condition {holds}")
        return sp.nan  # no piece holds: undefined there
    if isinstance(expr, (sp.And, sp.Or)):
        decides = sp.false if isinstance(expr, sp.And) else sp.true
        for operand in expr.args:
            holds = _at(operand, point)
            if holds is decides:
                return decides
            if holds is not ~decides:
                raise TypeError(f"undecided condition {holds}")
        return ~decides
    return expr.func(*[_at(arg, point) for arg in expr.args])


def _close(got, expected) -> bool:
    scale = max(sp.Integer(1), abs(expected))
    return bool(sp.N(abs(got - expected)) <= RTOL * scale)


class StepChecker:
    """Compares expressions with ``sp.diff(expr, x)`` at random points, chosen once."""

    def __init__(self, expr, x, reference=None, seed: int = 15):
        self.x = x
        self.reference = evaluated(sp.diff(expr, x)) if reference is None else reference
        if self.reference.has(sp.Derivative):
            raise FormulaError(f"SymPy cannot differentiate {sp.sstr(expr)[:60]} with respect "
                               f"to {x}, so no step can be checked against it")
        self.digits = DIGITS + _digits(expr)
        self._rng = random.Random(seed)
        self._points: list[tuple[dict, complex]] | None = None

    # -- points -----------------------------------------------------------------------------
    def _draw(self, expr) -> dict:
        """Values for the free symbols: the variable half the time in (0, 1) (probabilities,
        logarithms), else in (-2.5, 2.5); other symbols (hyperparameters) in (0.3, 2); class
        counts and indices as integers."""
        rng, point = self._rng, {}
        unit = rng.random() < 0.5
        for symbol in sorted(expr.free_symbols, key=str):
            if symbol.is_integer:
                point[symbol] = sp.Integer(CLASSES if symbol.name == "K"
                                           else rng.randint(1, CLASSES))
            elif symbol in getattr(self.x, "free_symbols", ()) or symbol == self.x:
                low, high = (0.02, 0.98) if unit else (-2.5, 2.5)
                point[symbol] = sp.Float(rng.uniform(low, high), self.digits)
            else:
                point[symbol] = sp.Float(rng.uniform(0.3, 2.0), self.digits)
        return point

    def _value(self, expr, point: dict, elements: dict):
        """``expr`` at the point, a SymPy number at :attr:`digits` digits (any magnitude:
        mpmath's exponents do not overflow), or None where it is undefined."""
        try:
            value = expr.xreplace({s: v for s, v in point.items() if s.is_integer})
            if value.has(sp.Sum):
                value = value.doit()
            for element in value.atoms(sp.Indexed):
                if element not in elements:
                    elements[element] = sp.Float(self._rng.uniform(0.05, 0.95), self.digits)
            # Evaluating can fail where the value is not real (a comparison of a complex
            # number in a condition that decides): no value there.
            number = sp.N(_at(value.xreplace(elements), point), self.digits)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError):
            return None
        if not number.is_number or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            return None
        real, imaginary = number.as_real_imag()
        if not (real.is_Float or real.is_zero) or not (imaginary.is_Float or imaginary.is_zero):
            return None
        return number

    def points(self) -> list[tuple[dict, dict, sp.Expr]]:
        if self._points is None:
            self._points = []
            for _ in range(TRIES):
                point, elements = self._draw(self.reference), {}
                value = self._value(self.reference, point, elements)
                if value is not None:
                    self._points.append((point, elements, value))
                if len(self._points) == POINTS:
                    break
        return self._points

    # -- checking ---------------------------------------------------------------------------
    def equal(self, expr) -> bool:
        """Is ``expr`` (``Derivative`` objects allowed) equal to the derivative?"""
        value = evaluated(expr)
        if value == self.reference:
            return True
        points = self.points()
        if not points:
            raise FormulaError("the derivative is undefined at every point tried, so its "
                               "steps cannot be checked")
        for point, elements, expected in points:
            point = {**point, **{s: v for s, v in self._draw(value).items()
                                 if s not in point}}
            got = self._value(value, point, dict(elements))
            if got is None or not _close(got, expected):
                return False
        return True

    def check(self, expr, what: str) -> None:
        if not self.equal(expr):
            raise StepMismatch(f"step {what!r} gives {sp.sstr(expr)[:200]}, which is not the "
                               f"derivative {sp.sstr(self.reference)[:200]}")
