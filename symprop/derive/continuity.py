"""Symbolic checks of an activation over the whole real line, not on a grid of samples.

An activation must be defined and continuous for every real ``z`` and its derivative finite
everywhere; the derivative may jump (relu's does at 0). A sample grid misses a pole or a jump
between its points (``tan(z)``, ``1/(z - 0.1)``, ``z + step(z - 0.3)``), so the checks here
work on the expression:

- a piecewise function is split into its pieces, each on the set of ``z`` where it applies
  (its condition, minus the conditions of the pieces before it);
- on its set, each piece and its derivative must be continuous: SymPy's
  :func:`~sympy.calculus.util.continuous_domain` (poles, logarithms of non-positives, even
  roots of negatives, tan's poles); ``erf``/``erfc``, which it does not know, are entire
  and are looked through where that is sound (a sum, product or entire function of them);
- at each point where the piece in use changes, the one-sided limits of the value must
  agree with each other and with the value there (no jump), and those of the derivative
  must be finite (a kink is fine, a vertical tangent is not).

A step-like function (every piece constant) may jump: it is marked not trainable, as the
built-in ``step`` is. Whatever SymPy cannot decide (an unknown set, an unevaluated limit)
raises :class:`Undecidable`, and the caller refuses the formula rather than accept it blind.

Known limits: conditions must be in ``z`` alone (hyperparameters are bound first) and use
only arithmetic, powers, abs, max and min (``where(exp(z) > 2, ...)`` is undecidable here);
``erf``/``erfc`` inside a quotient, power or logarithm are undecidable here; SymPy's real
powers with odd roots (``z**(1/3)``) count as continuous, so the numeric grid check, which
sees their complex values for negative ``z``, is what refuses them.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp
from sympy.calculus.util import continuous_domain, function_range

from symprop.derive.limits import SYMPY_FAILURES, time_budget
from symprop.errors import SympropError

# Continuous on the whole real line: erf(g) is continuous wherever g is.
_ENTIRE = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.asinh, sp.erf,
           sp.erfc)
# What a piecewise condition may use: solving these for z stays quick.
_CONDITION_FUNCTIONS = {sp.Abs, sp.Max, sp.Min, sp.sign, sp.Piecewise}


class Undecidable(Exception):
    """SymPy could not decide a property; the message says what."""


class Problem(NamedTuple):
    """Why a formula is no activation: ``text`` follows its name ("... is not defined at z =
    0.1"); ``in_value`` says whether the value itself fails (else a jump or the slope)."""

    text: str
    in_value: bool


def bind(expr: sp.Expr, params: dict) -> sp.Expr:
    """``expr`` with its hyperparameters' values, exact (1.5 as 3/2), so SymPy's solvers work
    with rationals rather than floats."""
    return expr.xreplace({s: sp.Rational(repr(float(v))) for s, v in params.items()})


def pieces(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Set]]:
    """(piece, the set of real z where it is the one in use), skipping empty sets."""
    if not isinstance(expr, sp.Piecewise):
        return [(expr, sp.S.Reals)]
    found, covered = [], sp.S.EmptySet
    for piece, condition in expr.args:
        odd = {f.func for f in condition.atoms(sp.Function)} - _CONDITION_FUNCTIONS
        if odd:  # solving exp(max(z, 2.5)) > z for z can outlast any budget
            raise Undecidable(f"the condition {condition} (conditions may use +, -, *, /, "
                              "powers, abs, max and min of z only)")
        try:
            region = sp.S.Reals if condition is sp.true else condition.as_set()
        except (NotImplementedError, TypeError, ValueError):
            raise Undecidable(f"the condition {condition}") from None
        region = sp.Intersection(region, sp.S.Reals) - covered
        covered = sp.Union(covered, region)
        if region is not sp.S.EmptySet:
            found.append((piece, region))
    return found


def _domain(expr: sp.Expr, z: sp.Symbol) -> sp.Set:
    """The real z where ``expr`` is defined and continuous."""
    if not expr.has(z):
        return sp.S.Reals
    if not expr.has(sp.erf, sp.erfc):
        try:
            return continuous_domain(expr, z, sp.S.Reals)
        except (NotImplementedError, TypeError, ValueError):
            raise Undecidable(f"where {expr} is continuous") from None
    # erf and erfc are entire: through sums, products, nonnegative integer powers and entire
    # functions, the domain is where the arguments are continuous.
    if isinstance(expr, sp.Add | sp.Mul):
        return sp.Intersection(*[_domain(arg, z) for arg in expr.args])
    if isinstance(expr, _ENTIRE):
        return _domain(expr.args[0], z)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp >= 0:
        return _domain(expr.base, z)
    raise Undecidable(f"where {expr} is continuous (erf inside a quotient, root or log)")


def _uncovered(domain: sp.Set, region: sp.Set) -> sp.Set | None:
    """The part of ``region`` outside ``domain``, or None if there is none."""
    missing = sp.Complement(region, domain)
    if isinstance(domain, sp.Complement) and region.is_subset(domain.args[0]) is True:
        missing = sp.Intersection(region, domain.args[1])  # tan: the reals minus its poles
    empty = _is_empty(missing)
    if empty is None:
        empty = region.is_subset(domain)
    if empty is None:
        raise Undecidable(f"whether {region} lies within {domain}")
    return None if empty else missing


def _is_empty(points: sp.Set) -> bool | None:
    if isinstance(points, sp.ImageSet):  # one point per element of a nonempty base set
        return any(base.is_empty for base in points.base_sets)
    if isinstance(points, sp.Union):
        parts = [_is_empty(part) for part in points.args]
        return False if False in parts else (True if all(parts) else None)
    return points.is_empty


def _example(missing: sp.Set) -> str:
    """A readable point (or description) of where something fails."""
    if isinstance(missing, sp.FiniteSet):
        return "z = " + ", ".join(sp.sstr(p) for p in list(missing)[:3])
    if isinstance(missing, sp.Union) and isinstance(missing.args[0], sp.ImageSet | sp.FiniteSet):
        return _example(missing.args[0])
    if isinstance(missing, sp.ImageSet):
        (variable,) = missing.lamda.variables
        n = sp.Symbol("n")
        return f"z = {sp.sstr(missing.lamda.expr.xreplace({variable: n}))} for every integer n"
    try:
        low = missing.inf
        if low.is_finite:
            return f"z = {sp.sstr(low)}"
    except (NotImplementedError, AttributeError, TypeError, ValueError):
        pass
    text = sp.sstr(missing)
    return "z in " + (text if len(text) <= 80 else text[:77] + "...")


def _limit(expr: sp.Expr, z: sp.Symbol, point, side: str) -> sp.Expr:
    if _domain(expr, z).contains(point) is sp.true:
        # Continuous at the point: the limit is the value (sp.limit at z = 10**150 tests
        # huge numbers for primality on its way).
        return expr.subs(z, point)
    try:
        value = sp.limit(expr, z, point, side)
    except (NotImplementedError, TypeError, ValueError):
        raise Undecidable(f"the limit of {expr} at z = {point}") from None
    if value.has(sp.Limit, sp.AccumBounds, sp.nan) or not value.is_number:
        raise Undecidable(f"the limit of {expr} at z = {point}")
    return value


def _finite(value: sp.Expr) -> bool:
    return bool(value.is_finite) and not value.has(sp.zoo, sp.oo, -sp.oo)


def _same(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    # Within 1e-20 relative: a jump that small cannot matter to training.
    difference = complex((lhs - rhs).evalf(30))
    return abs(difference) <= 1e-20 * (1 + abs(complex(lhs.evalf(30))))


def _switch_points(regions: list[sp.Set]) -> list[sp.Expr]:
    points = set()
    for region in regions:
        boundary = region.boundary
        if boundary is sp.S.EmptySet:
            continue
        if not isinstance(boundary, sp.FiniteSet):
            raise Undecidable(f"the boundary of {region}")
        points |= {p for p in boundary if p.is_finite}
    return sorted(points, key=lambda p: float(p))


def _in_use(found, point) -> int:
    for index, (_, region) in enumerate(found):
        if region.contains(point) is sp.true:
            return index
    raise Undecidable(f"which piece applies at z = {point}")


def real_line_problem(expr: sp.Expr, z: sp.Symbol) -> Problem | None:
    """What stops ``expr`` (hyperparameters bound) from being an activation on the whole real
    line, or None. Raises :class:`Undecidable` where SymPy cannot tell."""
    try:
        return _real_line_problem(expr, z)
    except SympropError:
        raise
    except SYMPY_FAILURES as exc:  # SymPy's sets and limits give up on odd conditions
        raise Undecidable(f"SymPy failed with {type(exc).__name__}") from exc


def _real_line_problem(expr: sp.Expr, z: sp.Symbol) -> Problem | None:
    found = pieces(expr)
    slopes = [sp.diff(piece, z) for piece, _ in found]
    for (piece, region), slope in zip(found, slopes, strict=True):
        missing = _uncovered(_domain(piece, z), region)
        if missing is not None:
            return Problem(f"is not defined (or not finite) at {_example(missing)}", True)
        missing = _uncovered(_domain(slope, z), region)
        if missing is not None:
            return Problem(f"has an infinite or undefined derivative at {_example(missing)}",
                           False)
    step_like = all(slope == 0 for slope in slopes)
    points = _switch_points([region for _, region in found])
    # One point inside each gap between switch points tells which piece is used there.
    probes = ([points[0] - 1] + [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
              + [points[-1] + 1]) if points else []
    for number, point in enumerate(points):
        at = sp.sstr(point)
        sides = {}
        for side, probe in (("-", probes[number]), ("+", probes[number + 1])):
            index = _in_use(found, probe)
            sides[side] = _limit(found[index][0], z, point, side)
            if not _finite(sides[side]):
                return Problem(f"is infinite next to z = {at}", True)
            if not _finite(_limit(slopes[index], z, point, side)):
                return Problem(f"has an infinite derivative next to z = {at}", False)
        value = found[_in_use(found, point)][0].subs(z, point)
        if not step_like and not (_same(sides["-"], value) and _same(sides["+"], value)):
            return Problem(f"jumps at z = {at} (from {sp.sstr(sides['-'])} to "
                           f"{sp.sstr(sides['+'])}, the value there {sp.sstr(value)})", False)
    return None


def range_in_unit_interval(expr: sp.Expr, z: sp.Symbol) -> bool:
    """Does every value of ``expr`` (hyperparameters bound) over the reals lie in [0, 1]?
    False where SymPy cannot find the range (an erf, say): not proven a probability."""
    with time_budget(lambda: f"finding the range of {sp.sstr(expr)[:60]}"):
        try:
            values = sp.S.EmptySet
            for piece, region in pieces(expr):
                values = sp.Union(values, function_range(piece, z, region))
        except SympropError:
            raise
        except (Undecidable, *SYMPY_FAILURES):
            return False
        return values.is_subset(sp.Interval(0, 1)) is True
