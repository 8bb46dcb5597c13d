"""The derivative in terms of the output ``a = f(z)``, shown algebraically where it can be.

Each smooth piece of an activation goes through these recipes in turn; the first that
applies gives the form, with the steps that show it:

1. *constant*: ``f'`` does not depend on ``z`` (relu's pieces, hard sigmoid's slope 1/6);
2. *own function*: ``f'`` is written with ``f`` itself (``tanh' = 1 - tanh^2 z = 1 - a^2``);
3. *polynomial in the output*: ``f' = c_0 + c_1 f + ... + c_3 f^3`` found exactly, by
   comparing coefficients in ``z`` or ``u = e^{cz}`` (sigmoid: ``a (1 - a)``, shown as seed 004
   does, the fraction split and ``1`` added and subtracted; elu's negative side: ``a + alpha``;
   softsign's sides ``(1 - a)^2``, ``(1 + a)^2``);
4. *inversion by algebra*: undo the outer operations of ``a = f(z)`` one by one (exponentiate,
   subtract, divide) down to a linear equation in ``z`` or ``u = e^{cz}``, solve it and
   substitute (softplus: ``e^z = e^a - 1``, so ``f' = 1 - e^{-a}``; atan, asinh);
5. *odd power*: ``a = c z^n`` with ``n`` odd has the real inverse ``z = sign(a/c) |a/c|^{1/n}``,
   so ``f' = c n z^{n-1} = c n |a/c|^{(n-1)/n}`` for every real ``a`` (``x^3``:
   ``3 |a|^{2/3}``; ``a^{2/3}`` alone is complex in SymPy for a < 0);
6. *solve and substitute* (:mod:`.inverse`), the fallback, stated as such in the steps.

Every form is checked on a grid of ``z`` (``g(f(z)) = f'(z)``), and every intermediate
expression in ``z`` against the derivative. Piecewise activations are handled piece by piece
(:mod:`.output_pieces`). There is no form (``None``, with the reason) where ``f`` is not
monotone (gelu, silu, mish: one ``a`` comes from two ``z``), or where the inverse is not found
or needs Cardano's radicals (``z^3/3 + z``): no cheaper than keeping ``z``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import sympy as sp

from symprop.derive.inverse import _branch_candidates, scalar_function
from symprop.derive.limits import expansion_too_large
from symprop.derive.notation import TeX, prose
from symprop.derive.simplify import tidy
from symprop.derive.stepcheck import StepChecker
from symprop.derive.textbook import Rewrite

MAX_DEGREE = 3  # of a polynomial in the output
MAX_PEELS = 8  # outer operations undone when inverting a = f(z) by algebra
HYPERBOLIC = (sp.tanh, sp.sinh, sp.cosh)
# a = F(w) solved for w, for the outer functions F inverted by algebra
INVERSES = {sp.log: (sp.exp, "exponentiate both sides"), sp.exp: (sp.log, "take logarithms"),
            sp.atan: (sp.tan, "apply tan to both sides"),
            sp.asinh: (sp.sinh, "apply sinh to both sides")}


class OutputForm(NamedTuple):
    """``result`` is ``f'`` in terms of ``a`` (None where there is none), ``steps`` show how
    (or why not), ``method`` names the recipe."""

    result: sp.Expr | None
    steps: list
    method: str


def fprime():
    from symprop.derive.derivation import notation

    return notation("f'(z)", "f'(z)")


def _chain(*members):
    """``f'(z) = first = second = ...`` as a derivation prints it, equal neighbours merged."""
    out = [fprime()]
    for member in members:
        if member != out[-1]:
            out.append(member)
    return tuple(out) if len(out) > 2 else sp.Eq(*out, evaluate=False)


def agrees_on(candidate, expr, slope, z, a, params, points) -> bool:
    """``candidate(f(z)) == f'(z)`` at every point (finite values required)?"""
    f, g = scalar_function(expr, z, params), scalar_function(candidate, a, params)
    df = scalar_function(slope, z, params)
    checked = 0
    for x in points:
        expected = df(x)
        if math.isnan(expected):
            continue
        got = g(f(x))
        if math.isnan(got) or abs(expected - got) > 1e-9 * max(1.0, abs(expected)):
            return False
        checked += 1
    return checked > 0


# -- generators: z, or u = e^{cz} --------------------------------------------------------------
def generator(exprs, z):
    """``(u, to_u)``: a symbol ``u`` and a map taking each expression to a rational function
    of ``u``, where ``u`` stands for ``z`` or for one exponential ``e^{cz}`` (every
    exponential then a power of it); None if there is no such generator."""
    exprs = [e.rewrite(sp.exp) if e.has(*HYPERBOLIC) else e for e in exprs]
    arguments = sorted({e.args[0] for x in exprs for e in x.atoms(sp.exp) if e.has(z)},
                       key=sp.default_sort_key)
    u = sp.Dummy("u", positive=bool(arguments))
    if not arguments:
        base, powers = z, {}
    else:
        ratios = [sp.cancel(w / arguments[0]) for w in arguments]
        if not all(r.is_Rational for r in ratios):
            return None
        q = math.lcm(*[int(r.q) for r in ratios])
        base = sp.exp(arguments[0] / q)
        powers = {sp.exp(w): u ** (r * q) for w, r in zip(arguments, ratios, strict=True)}
    mapped = []
    for e in exprs:
        in_u = sp.powsimp(e).xreplace(powers) if powers else e.xreplace({z: u})
        if in_u.has(z) or not sp.together(in_u).is_rational_function(u):
            return None
        mapped.append(in_u)
    return u, base, mapped


# -- recipes -----------------------------------------------------------------------------------
def _own_function(expr, slope, z, a):
    in_a = slope.xreplace({expr: a})
    if in_a.has(z):
        return None
    return tidy(in_a), [Rewrite(prose("Write $f'(z)$ with $f(z)$ itself"), _chain(slope, in_a),
                                ("the derivative is written with ", sp.Eq(a, expr,
                                                                          evaluate=False),
                                 " itself, so it is already a function of the output"))]


def polynomial_in_output(expr, slope, z, a):
    """``g`` with ``slope = g(expr)`` identically, ``g`` a polynomial of degree <= 3, found
    exactly by comparing coefficients; None if there is none."""
    found = generator([expr, slope], z)
    if found is None:
        return None
    u, _, (f_u, slope_u) = found
    if expansion_too_large(f_u ** MAX_DEGREE * slope_u):
        return None
    for degree in range(1, MAX_DEGREE + 1):
        c = sp.symbols(f"c0:{degree + 1}")
        numerator = sp.fraction(sp.together(slope_u - sum(c[n] * f_u**n
                                                          for n in range(degree + 1))))[0]
        try:
            equations = sp.Poly(sp.expand(numerator), u).coeffs()
        except sp.PolynomialError:
            return None
        solutions = sp.linsolve(equations, c)
        if solutions and len(solutions) == 1:
            (values,) = solutions
            if not any(v.free_symbols & set(c) for v in values):
                return tidy(sum(sp.cancel(v) * a**n for n, v in enumerate(values)))
    return None


def _polynomial(expr, slope, z, a):
    g = polynomial_in_output(expr, slope, z, a)
    if g is None:
        return None
    seed = _seed_004(expr, slope, z, a, g)
    if seed is not None:
        return g, seed
    with sp.evaluate(False):
        in_f = g.xreplace({a: expr})
    return g, [Rewrite(prose("Write $f'(z)$ as a polynomial in $f(z)$"), _chain(slope, in_f, g),
                       ("with ", sp.Eq(a, expr, evaluate=False), "; the coefficients are found "
                        "by comparing the powers of ", generator([expr], z)[1],
                        " on both sides"))]


def _seed_004(expr, slope, z, a, g):
    """Seed 004's steps for ``f = 1/D`` with ``D = 1 + E`` and ``f' = k f (1 - f)``: split
    off ``1/D``, write the numerator as ``k((1 + E) - 1)``, split the fraction, read off a."""
    if not (expr.is_Pow and expr.exp == -1 and expr.base.is_Add):
        return None
    denominator = expr.base
    one, rest = denominator.as_independent(z, as_Add=True)
    k = sp.cancel(slope * denominator**2 / rest)
    if one != 1 or k.has(z) or sp.expand(g - k * a * (1 - a)) != 0:
        return None
    numerator, factor = k * rest, () if k == 1 else (k,)
    with sp.evaluate(False):
        f_z = sp.Pow(denominator, -1)
        shown = sp.UnevaluatedExpr(f_z)  # printed as a factor of its own, not merged
        split = sp.Mul(shown, numerator / denominator)
        added = sp.Mul(shown, *factor, sp.Mul(sp.Add(denominator, -1), f_z))
        ratio = sp.Mul(denominator, f_z)
        fractions = sp.Mul(shown, *factor, sp.Add(ratio, -f_z))
        one_minus = sp.Mul(shown, *factor, sp.Add(1, -f_z))
    times = "" if k == 1 else (k, " times ")
    return [
        Rewrite(prose("Split off $f(z)$"), _chain(slope, split),
                ("one factor ", sp.Eq(a, expr, evaluate=False), ", the other what is left")),
        Rewrite("Add and subtract 1 in the numerator", _chain(added),
                ("the numerator ", numerator, " is ", *times, "the denominator minus 1")),
        Rewrite("Split the fraction", _chain(fractions, one_minus),
                (ratio, " = 1, and ", 1 / denominator, " is ", TeX("f(z)"), " again")),
        Rewrite(prose("Write it in the output $a = f(z)$"), _chain(g),
                ("substitute ", sp.Eq(a, expr, evaluate=False))),
    ]


def _invert(expr, slope, z, a):
    """Undo ``a = f(z)`` by algebra down to ``u = phi(a)``, then substitute."""
    lhs, rhs, steps = a, expr, []
    for _ in range(MAX_PEELS):
        found = generator([rhs], z)
        if found is not None and found[1] != z:
            found = generator([rhs, slope], z)  # f' must be a function of the same e^{cz}
        if found is not None:
            return _solve_linear(found, lhs, slope, z, steps)
        constant, rest = (rhs.as_independent(z, as_Add=rhs.is_Add)
                          if rhs.is_Add or rhs.is_Mul else (None, None))
        if rhs.is_Add and constant != 0:
            lhs, rhs, action = lhs - constant, rest, ("subtract ", constant)
        elif rhs.is_Mul and constant != 1:
            lhs, rhs, action = lhs / constant, rest, ("divide by ", constant)
        elif rhs.is_Pow and rhs.exp == -1:
            lhs, rhs, action = 1 / lhs, rhs.base, ("take reciprocals",)
        elif type(rhs) in INVERSES:
            inverse, words = INVERSES[type(rhs)]
            lhs, rhs, action = inverse(lhs), rhs.args[0], (words,)
        else:
            return None
        steps.append(Rewrite((*prose("Invert $a = f(z)$: "), *action),
                             sp.Eq(lhs, rhs, evaluate=False), ("on both sides of ", sp.Eq(
                                 steps[-1].expression.lhs if steps else a,
                                 steps[-1].expression.rhs if steps else expr,
                                 evaluate=False))))
    return None


def _solve_linear(found, lhs, slope, z, steps):
    u, base, (rhs_u, *slope_u) = found
    slope_u = slope_u[0] if slope_u else slope.xreplace({z: u})
    numerator, denominator = sp.fraction(sp.together(rhs_u))
    linear = sp.Poly(lhs * denominator - numerator, u)
    if linear.degree() != 1:
        return None
    root = sp.cancel(sp.solve(linear.as_expr(), u)[0])
    g = tidy(sp.cancel(slope_u.subs(u, root)))
    with sp.evaluate(False):
        substituted = slope_u.xreplace({u: root})
    equation = sp.Eq(lhs, rhs_u.xreplace({u: base}), evaluate=False)
    return g, [*steps,
               Rewrite(("Solve for ", base), sp.Eq(base, root, evaluate=False),
                       ("the equation ", equation, " is linear in ", base)),
               Rewrite(prose("Substitute into $f'(z)$"), _chain(slope, substituted, g),
                       ("with ", sp.Eq(base, root, evaluate=False)))]


def _odd_power(expr, slope, z, a):
    constant, power = expr.as_independent(z, as_Add=False)
    if not (power.is_Pow and power.base == z and power.exp.is_Integer and power.exp > 1
            and power.exp % 2 == 1):
        return None
    n = int(power.exp)
    exponent = sp.Rational(n - 1, n)
    g = constant * n * sp.Abs(a / constant) ** exponent
    with sp.evaluate(False):
        through_odd = sp.Pow(sp.Abs(sp.Pow(z, n)), exponent)
        even = sp.Pow(sp.Abs(z), n - 1)
    return g, [Rewrite("Write the even power through the odd one",
                       _chain(slope, constant * n * through_odd, g),
                       (sp.Eq(z ** (n - 1), even, evaluate=False), " = ", through_odd,
                        " for every real ", z, ", since ", n - 1, " is even; then ",
                        sp.Eq(z**n, a / constant, evaluate=False), ". This is the real root of ",
                        sp.Abs(a), ", not SymPy's principal root of ", a, ", which is complex "
                        "for ", a < 0))]


def _solved(expr, slope, z, a, params, points):
    for candidate in _branch_candidates(expr, slope, z, a):
        if not candidate.has(z) and agrees_on(candidate, expr, slope, z, a, params, points):
            return candidate, [Rewrite(
                "Solve a = f(z) for z and substitute", _chain(slope, candidate),
                ("no algebraic rewrite was found, so SymPy's solve inverted a = f(z) and the "
                 "inverse was substituted into f'(z); checked on a grid of z",))]
    return None


RECIPES = [("own function", _own_function), ("polynomial in the output", _polynomial),
           ("inversion by algebra", _invert), ("odd power", _odd_power)]


def smooth_output_form(expr, slope, z, a, params, points) -> OutputForm | None:
    """The output form of one smooth piece, checked at ``points`` (values of z)."""
    if not slope.has(z):
        return OutputForm(slope, [Rewrite("Constant derivative", _chain(slope), (
            *prose("no $z$ in the derivative: it is already a function of the output"),))],
            "constant")
    checker = StepChecker(expr, z, reference=slope)
    for method, recipe in RECIPES:
        found = recipe(expr, slope, z, a)
        if found is None or found[0].has(z):
            continue
        g, steps = found
        if agrees_on(g, expr, slope, z, a, params, points):
            _check_chains(steps, checker, a)
            return OutputForm(g, steps, method)
    found = _solved(expr, slope, z, a, params, points)
    return None if found is None else OutputForm(found[0], found[1], "solve and substitute")


def _check_chains(steps, checker: StepChecker, a) -> None:
    """Every member of a chain in z (the last, in a, was checked on the grid) equals f'."""
    for step in steps:
        members = step.expression if isinstance(step.expression, tuple) else ()
        for member in members[1:]:  # members[0] is f'(z) itself
            if isinstance(member, sp.Expr) and not member.has(a):
                checker.check(member, step.title)
