"""The output form of a whole activation: monotone check, then piece by piece.

For a piecewise ``f``, each piece's interval of ``z`` maps to an interval of ``a`` through
the (monotone) activation: ``z > c`` to ``a > f(c)``, reversed for a decreasing ``f``. A flat
piece (``f`` constant, slope 0) maps to one value of ``a``; where a sloped piece's closed end
meets that value (hard sigmoid written with ``where``: ``-3 <= z <= 3`` gives ``0 <= a <= 1``),
the flat piece wins, since ``a = 0`` comes from every ``z <= -3`` there: the kink's slope is
taken as 0 (PyTorch's convention). Pieces with the same slope in ``a`` are merged, the flat
pieces' slope (or else the last piece's) becoming "otherwise". The result is checked on a
grid of ``z`` away from the kinks.
"""

from __future__ import annotations

import math

import sympy as sp

from symprop.derive.inverse import GRID, is_monotone, scalar_function
from symprop.derive.limits import expansion_too_large
from symprop.derive.notation import TeX, prose
from symprop.derive.output_form import (
    OutputForm,
    Rewrite,
    _chain,
    agrees_on,
    smooth_output_form,
)
from symprop.derive.simplify import tidy

KINK_STEP = 1e-6  # a point of the grid is a kink where f' differs this far to either side


def not_monotone_reason():
    return prose("$f'(z)$ changes sign, so some outputs $a$ come from two different $z$: $f'$ "
                 "is no function of $a$ alone, and the backward pass keeps $z$")


def output_form(expr, derivative, z, a, params) -> OutputForm:
    """``f'`` in terms of ``a = f(z)``, with the steps that show it (or why there is none)."""
    if not derivative.has(z) and not isinstance(derivative, sp.Piecewise):
        return OutputForm(derivative, [Rewrite("Constant derivative", _chain(derivative), (
            *prose("no $z$ in the derivative: it is already a function of the output"),))],
            "constant")
    if not is_monotone(derivative, z, params):
        return OutputForm(None, [], "not monotone")
    if expansion_too_large(expr) or expansion_too_large(derivative):
        return OutputForm(None, [], "too large")
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, derivative, z, a, params)
    found = smooth_output_form(expr, derivative, z, a, params, GRID)
    return found if found is not None else OutputForm(None, [], "no inverse")


def _kinks(derivative, z, params) -> set:
    slope = scalar_function(derivative, z, params)
    return {x for x in GRID
            if not math.isclose(slope(x - KINK_STEP), slope(x + KINK_STEP), rel_tol=1e-4,
                                 abs_tol=1e-6)}


def _condition_set(condition, z):
    if condition is sp.true:
        return sp.S.Reals
    try:
        return condition.as_set()
    except (NotImplementedError, ValueError, TypeError):
        pass
    if isinstance(condition, sp.And | sp.Or):
        parts = [_condition_set(c, z) for c in condition.args]
        return sp.Intersection(*parts) if isinstance(condition, sp.And) else sp.Union(*parts)
    if isinstance(condition, sp.core.relational.Relational):
        lhs, rhs, kind = condition.lhs, condition.rhs, type(condition)
        if rhs == z and not lhs.has(z):
            lhs, rhs, kind = rhs, lhs, condition.reversed.func
        if lhs == z and not rhs.has(z):
            return {sp.StrictGreaterThan: sp.Interval.open(rhs, sp.oo),
                    sp.GreaterThan: sp.Interval(rhs, sp.oo),
                    sp.StrictLessThan: sp.Interval.open(-sp.oo, rhs),
                    sp.LessThan: sp.Interval(-sp.oo, rhs)}.get(kind)
    return None


def _intervals(piece_set) -> list | None:
    if isinstance(piece_set, sp.Interval):
        return [piece_set]
    if piece_set is sp.S.EmptySet or isinstance(piece_set, sp.FiniteSet):
        return []  # single points: a kink's own convention, nothing to map
    if isinstance(piece_set, sp.Union):
        parts = [_intervals(p) for p in piece_set.args]
        return None if any(p is None for p in parts) else [i for p in parts for i in p]
    return None


def _inside(interval) -> list:
    return [x for x in GRID if bool(interval.contains(sp.Float(x))) is True]


def _piecewise(expr, derivative, z, a, params) -> OutputForm:
    increasing = all(v >= -1e-12 for v in map(scalar_function(derivative, z, params), GRID))
    remaining, flats, sloped, steps = sp.S.Reals, [], [], []
    for number, (piece, condition) in enumerate(expr.args, 1):
        condition_set = _condition_set(condition, z)
        if condition_set is None:
            return OutputForm(None, [], "condition not mapped")
        here, remaining = sp.Intersection(condition_set, remaining), remaining - condition_set
        intervals = _intervals(here)
        if intervals is None:
            return OutputForm(None, [], "condition not mapped")
        if not intervals:
            continue
        slope = tidy(sp.diff(piece, z))
        if slope == 0:
            flats.append(piece)
            continue
        for interval in intervals:
            points = _inside(interval) or [float((interval.start + interval.end) / 2)]
            found = smooth_output_form(piece, slope, z, a, params, points)
            if found is None:
                return OutputForm(None, [], "no inverse")
            sloped.append((found.result, piece, interval))
            if found.method == "constant":
                continue  # the last step, the conditions in a, shows it
            where = ("otherwise: ",) if condition is sp.true else ("where ", condition, ": ")
            steps += [Rewrite(_piece_title(number, s.title), s.expression, (*where, *s.why))
                      for s in found.steps]
    result = _assemble(flats, sloped, z, a, increasing)
    if result is None:
        return OutputForm(None, [], "condition not mapped")
    kinks = _kinks(derivative, z, params)
    if not agrees_on(result, expr, derivative, z, a, params, [x for x in GRID
                                                               if x not in kinks]):
        return OutputForm(None, [], "no inverse")
    steps.append(Rewrite("Conditions in terms of the output", _chain(derivative, result), (
        TeX("f"), " is ", "increasing" if increasing else "decreasing", ", so each interval of ",
        TeX("z"), " maps to the interval of ", TeX("a"), " between the values of ", TeX("f"),
        " at its ends; a flat piece gives a single ", TeX("a"), ", where the slope is 0 (also "
        "at the kink that reaches it)")))
    return OutputForm(result, steps, "piecewise")


def _piece_title(number: int, title) -> tuple:
    """``Piece 2: write ...``: a step title (words, or prose with maths) for one piece."""
    title = (title,) if isinstance(title, str) and not isinstance(title, TeX) else tuple(title)
    first = title[0]
    if isinstance(first, str) and not isinstance(first, TeX):
        title = (first[:1].lower() + first[1:], *title[1:])
    return (f"Piece {number}: ", *title)


def _bound(piece, end, z):
    if end in (sp.oo, -sp.oo):
        return None
    return sp.simplify(piece.subs(z, end))


def _a_condition(piece, interval, z, a, increasing, flat_values):
    low, high = _bound(piece, interval.start, z), _bound(piece, interval.end, z)
    low_open, high_open = interval.left_open, interval.right_open
    if not increasing:
        low, high, low_open, high_open = high, low, high_open, low_open
    parts = []
    if low is not None:
        strict = low_open or low in flat_values
        parts.append(a > low if strict else a >= low)
    if high is not None:
        strict = high_open or high in flat_values
        parts.append(a < high if strict else a <= high)
    return sp.And(*parts)


def _assemble(flats, sloped, z, a, increasing):
    """One Piecewise in ``a``: sloped pieces by their a-intervals, the flat ones (or the last
    piece) as "otherwise"."""
    flat_values = set(flats)
    groups: dict = {}
    for g, piece, interval in sloped:
        condition = _a_condition(piece, interval, z, a, increasing, flat_values)
        groups.setdefault(g, []).append(condition)
    if flats:
        otherwise = sp.Integer(0)
    elif sloped:
        otherwise = sloped[-1][0]
    else:
        return sp.Integer(0)
    pieces = [(g, sp.Or(*conditions)) for g, conditions in groups.items() if g != otherwise]
    if any(c is sp.false for _, c in pieces):
        return None
    return sp.Piecewise(*pieces, (otherwise, True))
