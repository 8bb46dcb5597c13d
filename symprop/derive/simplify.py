"""Small, fast simplification helpers that keep results in the form a textbook writes.

``sympy.simplify`` is slow and likes forms such as ``1/(4*cosh(z/2)**2)`` for the sigmoid
derivative; the helpers here try a few cheap rewrites and keep the shortest, preferring a
product with a positive leading factor (``a*(1 - a)`` over ``-a*(a - 1)``).
"""

from __future__ import annotations

import math
import random

import sympy as sp

from symprop.derive.limits import bounded_expand, expansion_too_large
from symprop.derive.symbols import YHAT, A, a, k, yhat

# Orientation preference for sums: the prediction / output first (yhat - y, 1 - a).
PREFERRED = (yhat, YHAT[k], a, A[k])
# Past this many nodes the polynomial rewrites cost far more than they shorten (and the
# full simplifier more still): a big expression is kept as it is. The built-ins' largest
# derivative forms have about 150.
MAX_TIDY_NODES = 600


def positive_sign(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``-x*(a - b)`` as ``x*(b - a)``: absorb a leading minus into a sum factor."""
    if not (isinstance(expr, sp.Mul) and expr.could_extract_minus_sign()):
        return expr
    factors = list((-expr).args) if isinstance(-expr, sp.Mul) else [-expr]
    for index, factor in enumerate(factors):
        if isinstance(factor, sp.Add):
            factors[index] = -factor
            return sp.Mul(*factors)
    return expr


def _cost(expr: sp.Expr) -> tuple:
    # Ties go to products (a*(1 - a) over a - a**2), then to fewer powers, then fewer nodes.
    nodes = sum(1 for _ in sp.preorder_traversal(expr))
    return (sp.count_ops(expr), isinstance(expr, sp.Add), len(expr.atoms(sp.Pow)), nodes)


def _more_nodes_than(expr: sp.Expr, limit: int) -> bool:
    for count, _ in enumerate(sp.preorder_traversal(expr)):
        if count >= limit:
            return True
    return False


def tidy(expr: sp.Expr, *, deep: bool = False) -> sp.Expr:
    """The shortest of a few cheap equivalent forms of ``expr``."""
    if isinstance(expr, sp.Piecewise):
        return _piecewise_map(expr, lambda e: tidy(e, deep=deep))
    if not isinstance(expr, sp.Expr) or expr.is_number and expr.is_Atom:
        return expr
    if expansion_too_large(expr) or _more_nodes_than(expr, MAX_TIDY_NODES):
        # factor, cancel and expand all expand first: (a + b + c + d + e)**63 would never end.
        return expr
    candidates = [expr]
    for rewrite in (sp.factor, sp.cancel, sp.expand, sp.factor_terms):
        try:
            candidates.append(rewrite(expr))
        except (sp.PolynomialError, NotImplementedError, TypeError):
            candidates.append(expr)
    best = min(candidates, key=_cost)
    if deep and sp.count_ops(best) > 6 and not expansion_too_large(best):
        # Radicals from solving (tanh's inverse) need the full simplifier; it is slow, so only
        # when asked for and the cheap forms stay long.
        simplified = sp.simplify(best)
        candidates += [simplified, sp.factor(simplified), sp.expand(simplified)]
    candidates = [orient(positive_sign(c), PREFERRED) for c in candidates]
    # On a tie the factored form (candidates[1]) wins: (yhat - y)/(yhat*(1 - yhat)) over
    # (yhat - y)/(yhat - yhat**2).
    ranked = [(*_cost(c)[:3], index != 1, _cost(c)[3]) for index, c in enumerate(candidates)]
    return candidates[min(range(len(candidates)), key=ranked.__getitem__)]


def has_radicals(expr: sp.Expr) -> bool:
    return any(p.exp.is_Rational and not p.exp.is_Integer for p in expr.atoms(sp.Pow))


def _piecewise_map(expr: sp.Piecewise, function) -> sp.Expr:
    return sp.Piecewise(*[(function(e), c) for e, c in expr.args])


def collapse_delta_sums(expr: sp.Expr) -> sp.Expr:
    """Evaluate ``Sum(f(j) * KroneckerDelta(i, j), (j, 1, K))`` to ``f(i)``.

    This is the sifting property of the Kronecker delta; the index ``i`` is taken to lie in
    the summation range, which holds for every class index in a derivation here.
    """

    def sift(term: sp.Sum):
        (index, _low, _high), body = term.limits[0], term.function
        # Only a delta that multiplies the whole summand may be sifted; one nested inside a
        # sum or a piecewise branch would be replaced in the wrong places.
        factors = body.args if isinstance(body, sp.Mul) else (body,)
        for delta in factors:
            if isinstance(delta, sp.KroneckerDelta) and index in delta.free_symbols:
                other = (set(delta.args) - {index}).pop()
                rest = sp.Mul(*[f for f in factors if f is not delta])
                return rest.subs(index, other)
        return term

    return expr.replace(lambda e: isinstance(e, sp.Sum), sift)


def distribute_sums(expr: sp.Expr) -> sp.Expr:
    """Split sums of sums and pull factors free of the index out: linearity of ``Sum``."""

    def split(term: sp.Sum):
        (index, low, high) = term.limits[0]
        body = bounded_expand(term.function, "the sum's summand")
        parts = body.args if isinstance(body, sp.Add) else (body,)
        total = 0
        for part in parts:
            outside, inside = part.as_independent(index, as_Add=False)
            total += outside * (sp.Sum(inside, (index, low, high)) if inside != 1
                                else (high - low + 1))
        return total

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def _wants_flip(term: sp.Add, prefer: tuple) -> bool:
    """Should ``term`` be written negated? Textbook orientation: a positive constant first
    (``1 - a``), else a positive coefficient on the first preferred symbol (``yhat - y``)."""
    constant, rest = term.as_independent(*term.free_symbols, as_Add=True)
    if constant != 0 and constant.is_number:
        return bool(constant.is_negative)
    for symbol in prefer:
        coefficient = term.coeff(symbol)
        if coefficient != 0 and coefficient.is_number:
            return bool(coefficient.is_negative)
    return False


def orient(expr: sp.Expr, prefer: tuple = ()) -> sp.Expr:
    """Orient every sum factor of a product (and inside ``sign``) the way a textbook does,
    keeping the value: ``(y - yhat)/(yhat*(yhat - 1))`` -> ``(yhat - y)/(yhat*(1 - yhat))``."""
    if isinstance(expr, sp.Piecewise):
        return _piecewise_map(expr, lambda e: orient(e, prefer))
    if isinstance(expr, sp.Add):
        return sp.Add(*[orient(t, prefer) for t in expr.args])
    factors = list(expr.args) if isinstance(expr, sp.Mul) else [expr]
    negate = False
    for index, factor in enumerate(factors):
        base, power = factor.as_base_exp()
        if isinstance(factor, sp.sign) and isinstance(factor.args[0], sp.Add):
            if _wants_flip(factor.args[0], prefer):
                factors[index] = sp.sign(-factor.args[0])
                negate = not negate
        elif isinstance(base, sp.Add) and power.is_integer and _wants_flip(base, prefer):
            factors[index] = (-base) ** power
            negate = negate != bool(power % 2)
    if negate:
        factors.insert(0, sp.Integer(-1))
    return sp.Mul(*factors)


def numerically_equal(lhs: sp.Expr, rhs: sp.Expr, ranges: dict, samples: int = 40,
                      seed: int = 0, rtol: float = 1e-9) -> bool:
    """Do ``lhs`` and ``rhs`` agree at random points? ``ranges`` maps symbol -> (low, high).

    Used to verify rewrites that SymPy cannot prove equal symbolically (piecewise stable
    forms); every free symbol must have a range.
    """
    symbols = sorted(ranges, key=str)
    left = sp.lambdify(symbols, lhs, modules=["math"])
    right = sp.lambdify(symbols, rhs, modules=["math"])
    rng = random.Random(seed)
    for _ in range(samples):
        point = [rng.uniform(*ranges[s]) for s in symbols]
        l_value, r_value = float(left(*point)), float(right(*point))
        if not math.isclose(l_value, r_value, rel_tol=rtol, abs_tol=rtol):
            return False
    return True
