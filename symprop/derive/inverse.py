"""Rewrite an activation's derivative in terms of its own output ``a = f(z)``.

The backward pass is cheaper when ``f'(z)`` can be computed from ``a`` alone (then the
forward pass need not keep ``z``): ``sigmoid' = a(1 - a)``, ``tanh' = 1 - a^2``. We find that
form by *inverting* the activation: solve ``a = f(z)`` for ``z`` (or for ``u = e^z`` when
``f`` is built from exponentials, which keeps the equation rational and fast to solve),
substitute the inverse into ``f'(z)`` and simplify. Piecewise activations are handled one
branch at a time, the branch condition on ``z`` mapped to one on ``a`` through the (monotone)
activation. Every candidate is verified numerically on a grid of ``z``; if none holds, or
``f`` is not monotone (gelu, silu, mish), there is no such form and the answer is ``None``.
"""

from __future__ import annotations

import math

import sympy as sp

from symprop.derive.limits import expansion_too_large
from symprop.derive.simplify import has_radicals, tidy

_U = sp.Symbol("u", positive=True)  # u = exp(z)
# Inverting a = f(z) by solve: tanh, softplus, atan take 3-5 operations; beyond this many
# the inverse is rarely elementary and solve can take minutes.
MAX_SOLVE_OPS = 12
GRID = [x / 4 for x in range(-24, 25)] + [-1e-3, 1e-3, -7.5, 7.5]


def scalar_function(expr: sp.Expr, variable: sp.Symbol, params: dict):
    """A float -> float function of ``expr`` (``math`` module), hyperparameters bound."""
    bound = expr.subs(params) if params else expr
    function = sp.lambdify(variable, bound, modules=["math"])

    def evaluate(value: float) -> float:
        try:
            result = complex(function(value))
        except (ValueError, OverflowError, ZeroDivisionError, TypeError, NameError):
            # NameError: a function the math module lacks (an erfinv from solving erf).
            return math.nan
        return result.real if abs(result.imag) < 1e-12 else math.nan

    return evaluate


def is_monotone(derivative: sp.Expr, z: sp.Symbol, params: dict) -> bool:
    slope = scalar_function(derivative, z, params)
    values = [slope(x) for x in GRID]
    return all(v >= -1e-12 for v in values) or all(v <= 1e-12 for v in values)


def _agrees(candidate, activation, derivative, z, a, params) -> bool:
    """Does ``candidate(f(z)) == f'(z)`` on the whole grid?"""
    f = scalar_function(activation, z, params)
    g = scalar_function(candidate, a, params)
    df = scalar_function(derivative, z, params)
    for x in GRID:
        expected, got = df(x), g(f(x))
        if math.isnan(expected) or math.isnan(got):
            return False
        if abs(expected - got) > 1e-9 * max(1.0, abs(expected)):
            return False
    return True


def _branch_candidates(expr: sp.Expr, derivative: sp.Expr, z: sp.Symbol, a: sp.Symbol):
    """Candidate forms g(a) of one smooth branch."""
    if not derivative.has(z):
        yield derivative
        return
    # Through u = e^z: exponential activations become rational equations in u.
    in_u = sp.powsimp(expr.rewrite(sp.exp)).subs(sp.exp(z), _U)
    slope_in_u = sp.powsimp(derivative.rewrite(sp.exp)).subs(sp.exp(z), _U)
    if not in_u.has(z) and not slope_in_u.has(z) and in_u.has(_U):
        yield from _substituted_roots(in_u, _U, slope_in_u, a)
    if expr.is_polynomial(z) and sp.degree(expr, z) > 2:
        # Cardano's radicals are no cheaper than keeping z, and slow to simplify.
        return
    yield from _substituted_roots(expr, z, derivative, a)


def _substituted_roots(function, variable, slope, a):
    """Solve ``a = function(variable)`` and substitute each root into ``slope``."""
    roots = _rational_roots(function, variable, a)
    if roots is None and not _invertible_by_solve(function, variable):
        roots = []
    if roots is None:
        try:
            roots = sp.solve(sp.Eq(a, function), variable, check=False)
        except (NotImplementedError, ValueError):
            roots = []
    slope = sp.together(slope)
    for root in roots:
        form = sp.cancel(slope.subs(variable, root))
        yield tidy(form, deep=has_radicals(form))


def _invertible_by_solve(function, variable) -> bool:
    """Is ``a = function(variable)`` worth giving to solve? Its inverse is elementary when
    the variable occurs once, in a short chain of functions (tanh, softplus, atan); with two
    occurrences (z*cosh(8z): Lambert's W at best), high powers (sigmoid(z)**60, a degree-60
    polynomial in e^-z) or a long formula, solve can outlast any budget for nothing."""
    occurrences = sum(1 for node in sp.preorder_traversal(function) if node == variable)
    high_power = any(p.exp.is_Integer and abs(p.exp) > 2 for p in function.atoms(sp.Pow))
    return occurrences == 1 and not high_power and sp.count_ops(function) <= MAX_SOLVE_OPS


def _rational_roots(function, variable, a):
    """Roots of ``a = P(v)/Q(v)`` through the polynomial ``a Q(v) - P(v)`` (far faster than
    ``solve``); None when ``function`` is not rational in ``variable``."""
    numerator, denominator = sp.fraction(sp.together(function))
    if expansion_too_large(a * denominator - numerator):
        return None
    try:
        poly = sp.Poly(sp.expand(a * denominator - numerator), variable)
    except sp.PolynomialError:
        return None
    if poly.degree() < 1 or any(c.has(variable) for c in poly.coeffs()):
        return None
    if poly.degree() > 2:
        # Radicals of a cubic or worse are no cheaper than keeping z, and solve takes
        # minutes on sigmoid(z)**60 (degree 60 in u = e^z).
        return []
    return list(sp.roots(poly, variable, multiple=True))


def derivative_in_output(expr, derivative, z, a, params, branch_of=None):
    """``f'`` as a function of ``a = f(z)``, verified, or ``None`` if there is none."""
    if not derivative.has(z) and not isinstance(derivative, sp.Piecewise):
        return derivative
    if not is_monotone(derivative, z, params):
        return None
    if expansion_too_large(expr) or expansion_too_large(derivative):
        return None  # solving and simplifying would expand it: keep z
    if isinstance(expr, sp.Piecewise):
        return _piecewise_in_output(expr, derivative, z, a, params)
    for candidate in _branch_candidates(expr, derivative, z, a):
        if candidate.has(z):
            continue
        if _agrees(candidate, expr, derivative, z, a, params):
            return candidate
    return None


def _piecewise_in_output(expr, derivative, z, a, params):
    branches = []
    slopes = dict(zip([c for _, c in derivative.args], [e for e, _ in derivative.args],
                      strict=False))
    for piece, condition in expr.args:
        slope = slopes.get(condition, sp.diff(piece, z))
        form = None
        for candidate in _branch_candidates(piece, slope, z, a):
            if not candidate.has(z):
                form = candidate
                break
        if form is None:
            return None
        try:
            branches.append((form, _condition_in_output(condition, expr, z, a, params)))
        except NotImplementedError:
            return None
    candidate = sp.Piecewise(*branches)
    return candidate if _agrees(candidate, expr, derivative, z, a, params) else None


def _condition_in_output(condition, expr, z, a, params):
    """Map ``z > c`` to ``a > f(c)``: valid for a nondecreasing ``f``, which the caller
    checked; the whole piecewise result is verified numerically afterwards anyway."""
    if condition is sp.true:
        return sp.true
    if isinstance(condition, sp.core.relational.Relational):
        if condition.lhs == z and not condition.rhs.has(z):
            return type(condition)(a, sp.simplify(expr.subs(z, condition.rhs)))
    raise NotImplementedError(f"cannot map the condition {condition} to the output")
