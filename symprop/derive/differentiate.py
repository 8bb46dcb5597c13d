"""Differentiate step by step, one named rule a step, as a textbook does.

``derivative_steps(expr, x)`` starts from ``d/dx expr`` and applies one rule at a time to the
outermost part still to differentiate: the sum rule, a constant factor, the power, exponential
and logarithm rules, the product and quotient rules, the chain rule (its outer derivative
``f'(u)`` at ``u = inner`` and the inner derivative written out), each piece of a piecewise,
and the known derivatives of tanh, erf, atan and the rest. The parts still to differentiate
are SymPy ``Derivative`` objects left unevaluated, so every step is an expression that
equals the derivative: each one is checked against SymPy's ``diff`` (:mod:`.stepcheck`), and a
mismatch raises :class:`~symprop.derive.stepcheck.StepMismatch`, so the steps and the result
can never disagree.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from symprop.derive.limits import bounded, check_size, shorten
from symprop.derive.stepcheck import StepChecker, depends, evaluated
from symprop.errors import FormulaError

MAX_STEPS = 120  # beyond this a derivation is no longer readable: the rest in one step
# Functions whose derivative a table gives (SymPy's own fdiff is that table).
KNOWN = (sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.tan, sp.erf, sp.erfc, sp.atan, sp.asinh)
REWRITTEN_AS_PIECES = (sp.sign, sp.Max, sp.Min, sp.Heaviside)


class RuleStep(NamedTuple):
    """One rule applied: its name, the whole derivative after it (``Derivative`` objects are
    the parts still to differentiate), the rule's maths as prose, the part it differentiated
    and what replaced it."""

    rule: str
    expression: sp.Expr
    why: tuple
    target: sp.Expr
    result: sp.Expr


def d(expr, x) -> sp.Derivative:
    """``d expr / dx``, still to differentiate."""
    return sp.Derivative(expr, x, evaluate=False)


def product(*factors) -> sp.Expr:
    """A product kept as written (``-(1 + e^{-z})^{-2} \\cdot (-e^{-z})``), its numbers
    multiplied together; one non-number factor is simply that factor times the numbers."""
    number, others = sp.Integer(1), []
    for factor in map(sp.sympify, factors):
        if factor.is_number and not factor.has(sp.Derivative):
            number *= factor
        else:
            others.append(factor)
    if number == 0:
        return sp.Integer(0)
    if len(others) <= 1:
        return number * (others[0] if others else 1)
    if number != 1:
        others.insert(0, number)
    return sp.Mul(*others, evaluate=False)


def _rebuild(node, args):
    if isinstance(node, sp.Mul):
        return product(*args)
    return node.func(*args)


def replace_part(tree, target, replacement):
    """``tree`` with every ``target`` replaced, the products on the way kept as written."""
    if tree == target:
        return replacement
    if not tree.args:
        return tree
    args = [replace_part(arg, target, replacement) for arg in tree.args]
    if all(new is old for new, old in zip(args, tree.args, strict=True)):
        return tree
    return _rebuild(tree, args)


def _placeholder(expr) -> sp.Symbol:
    """A printable ``u`` for the inner function, named apart from the formula's symbols."""
    names = {s.name for s in expr.free_symbols}
    return sp.Symbol(next(n for n in ("u", "v", "w", "u_1") if n not in names), real=True)


def _chain(outer_of_u, u, inner, x, name: str):
    """The chain rule: ``f'(u)`` at ``u = inner``, times ``d inner / dx``."""
    outer_derivative = sp.diff(outer_of_u, u)
    at_inner = outer_derivative.subs(u, inner)
    why = ("outer derivative ", sp.Eq(d(outer_of_u, u), outer_derivative, evaluate=False),
           " at ", sp.Eq(u, inner, evaluate=False), ", times the inner derivative ",
           sp.Eq(d(inner, x), sp.diff(inner, x), evaluate=False))
    return "Chain rule", product(at_inner, d(inner, x)), (f"{name}: ", *why)


def _direct(function_of_x, x, name: str):
    derivative = sp.diff(function_of_x, x)
    return name, derivative, (sp.Eq(d(function_of_x, x), derivative, evaluate=False),)


def _function_rule(u, x):
    """exp, log, and the functions of the table: directly of x, or by the chain rule."""
    (inner,) = u.args
    if isinstance(u, sp.exp):
        name = "exponential rule"
    elif isinstance(u, sp.log):
        name = "logarithm rule"
    else:
        name = f"derivative of {type(u).__name__}"
    if inner == x:
        return _direct(u, x, name[0].upper() + name[1:])
    v = _placeholder(u)
    return _chain(u.func(v), v, inner, x, name)


def _power_rule(u, x):
    base, exponent = u.as_base_exp()
    if not depends(exponent, x):
        if base == x:
            return _direct(u, x, "Power rule")
        v = _placeholder(u)
        return _chain(v**exponent, v, base, x, "power rule")
    if not depends(base, x):
        if exponent == x:
            return _direct(u, x, "Exponential rule")
        v = _placeholder(u)
        return _chain(base**v, v, exponent, x, "exponential rule")
    rewritten = sp.exp(exponent * sp.log(base))
    return ("Write the power as an exponential", d(rewritten, x),
            (sp.Eq(u, rewritten, evaluate=False), ", since ",
             sp.Eq(sp.Symbol("b"), sp.exp(sp.log(sp.Symbol("b")), evaluate=False),
                   evaluate=False), " for b > 0"))


def _mul_rule(u, x):
    constant, rest = u.as_independent(*_dependency(x), as_Add=False)
    if constant != 1:
        if rest == x:
            return ("Linear rule", constant,
                    (sp.Eq(d(sp.Mul(constant, x, evaluate=False), x), constant,
                           evaluate=False), ": a constant times the variable"))
        g = sp.Function("g")(x)
        return ("Constant factor rule", product(constant, d(rest, x)),
                ("the constant ", constant, " stays a factor: ",
                 sp.Eq(d(product(constant, g), x), product(constant, d(g, x)),
                       evaluate=False)))
    factors = sp.Mul.make_args(u)
    below = [f.base ** -f.exp for f in factors
             if f.is_Pow and f.exp.is_number and f.exp.is_negative]
    above = [f for f in factors if not (f.is_Pow and f.exp.is_number and f.exp.is_negative)]
    numerator, denominator = sp.Mul(*above), sp.Mul(*below)
    if below and depends(numerator, x) and depends(denominator, x):
        top = sp.Add(product(d(numerator, x), denominator),
                     product(-1, numerator, d(denominator, x)), evaluate=False)
        g, h = sp.Function("g")(x), sp.Function("h")(x)
        rule = sp.Eq(d(g / h, x), (d(g, x) * h - g * d(h, x)) / h**2, evaluate=False)
        return ("Quotient rule", product(top, denominator**-2),
                (rule, " with ", sp.Eq(g, numerator, evaluate=False), " and ",
                 sp.Eq(h, denominator, evaluate=False)))
    terms = [product(*factors[:n], d(factor, x), *factors[n + 1:])
             for n, factor in enumerate(factors) if depends(factor, x)]
    from symprop.derive.notation import TeX
    from symprop.derive.printers import latex

    v = latex(x)  # the rule in short: d(gh) = (dg) h + g (dh), not the ambiguous d g(z) h(z)
    return ("Product rule", sp.Add(*terms, evaluate=False),
            ("each factor differentiated in turn, the others kept: ",
             TeX(rf"\frac{{\partial}}{{\partial {v}}}(g h) = \frac{{\partial g}}{{\partial {v}}}"
                 rf"\, h + g\, \frac{{\partial h}}{{\partial {v}}}")))


def _dependency(x) -> tuple:
    return (x.base,) if isinstance(x, sp.Indexed) else (x,)


def _sum_rule(u, x):
    varying = [t for t in u.args if depends(t, x)]
    constant = sp.Add(*[t for t in u.args if not depends(t, x)])
    why = ("differentiate term by term",)
    if constant != 0:
        why += ("; the constant term ", constant, " contributes 0")
    return "Sum rule", sp.Add(*[d(t, x) for t in varying]), why


def _index_rule(u, x):
    delta = sp.KroneckerDelta(x.indices[0], u.indices[0])
    return ("Index rule", delta,
            (sp.Eq(d(u, x), delta, evaluate=False), ": 1 for the same class, 0 otherwise"))


def rule_for(u, x):
    """(rule name, what replaces ``d u/dx``, prose) for one ``Derivative``."""
    if not depends(u, x):
        return "Constant rule", sp.Integer(0), (sp.Eq(d(u, x), 0, evaluate=False),
                                                ": the derivative of a constant")
    if u == x:
        return "Variable rule", sp.Integer(1), (sp.Eq(d(x, x), 1, evaluate=False),)
    if isinstance(u, sp.Indexed) and isinstance(x, sp.Indexed):
        return _index_rule(u, x)
    if isinstance(u, sp.Add):
        return _sum_rule(u, x)
    if isinstance(u, sp.Mul):
        return _mul_rule(u, x)
    if isinstance(u, sp.Pow):
        return _power_rule(u, x)
    if isinstance(u, (sp.exp, sp.log, *KNOWN)) and len(u.args) == 1:
        return _function_rule(u, x)
    if isinstance(u, sp.Abs) and u.args[0].is_extended_real:  # |u|' = sign(u) for real u
        v = _placeholder(u)
        name = "absolute value rule (for a nonzero argument)"
        if u.args[0] == x:
            return "Absolute value rule", sp.sign(x), (
                sp.Eq(d(u, x), sp.sign(x), evaluate=False), " for ", sp.Ne(x, 0))
        return _chain(sp.Abs(v), v, u.args[0], x, name)
    if isinstance(u, sp.Piecewise):
        pieces = sp.Piecewise(*[(d(e, x), c) for e, c in u.args])
        return ("Piecewise rule", pieces,
                ("each piece differentiated on its own condition; where a condition's "
                 "boundary meets the next piece (a kink), the piece whose condition holds "
                 "there gives the derivative's value",))
    if isinstance(u, REWRITTEN_AS_PIECES):
        # Only u itself is written as pieces (deep=False): rewriting its arguments too would
        # split |v|**(2/3) into v**(2/3) and (-v)**(2/3) inside the conditions, where the
        # principal root of a negative number makes a comparison such as x >= x**(2/3)
        # meaningless. An argument that is already piecewise is folded in, its condition
        # guarding its value.
        pieces = sp.piecewise_fold(u.rewrite(sp.Piecewise, deep=False))
        if pieces != u:
            return ("Write as pieces", d(pieces, x),
                    (sp.Eq(u, pieces, evaluate=False), ": each piece is smooth"))
    if isinstance(u, sp.Sum) and not any(lim[0] in _dependency(x) for lim in u.limits):
        return ("Linearity of the sum", sp.Sum(d(u.function, x), *u.limits),
                ("the derivative of a sum is the sum of the derivatives",))
    derivative = _sympy_diff(u, x)
    return ("Differentiate", derivative,
            (sp.Eq(d(u, x), derivative, evaluate=False), " (SymPy's rule for ",
             type(u).__name__, ")"))


def _sympy_diff(u, x):
    derivative = sp.diff(u, x)
    if derivative.has(sp.Derivative):
        raise FormulaError(f"SymPy cannot differentiate {shorten(u)} with respect to {x}")
    return derivative


@bounded(lambda expr, x, **_: f"differentiating {shorten(expr)} step by step")
def derivative_steps(expr: sp.Expr, x, *, check: bool = True) -> list[RuleStep]:
    """The derivative of ``expr`` with respect to ``x`` (a symbol, or an indexed symbol such
    as ``yhat[i]``), one named rule a step; the last step's expression has no ``Derivative``
    left. With ``check`` (the default) each step is checked equal to ``sp.diff(expr, x)``."""
    checker = StepChecker(expr, x) if check else None
    steps: list[RuleStep] = []
    current = d(expr, x)
    while current.has(sp.Derivative):
        target = next(n for n in sp.preorder_traversal(current) if isinstance(n, sp.Derivative))
        if len(steps) >= MAX_STEPS:
            rule, result, why = ("Differentiate the rest", evaluated(current),
                                 (f"more than {MAX_STEPS} steps: the remaining parts at once",))
            if result.has(sp.Derivative):
                raise FormulaError(f"SymPy cannot differentiate {shorten(expr)}")
            target = current
        else:
            rule, result, why = rule_for(target.expr, x)
        current = check_size(replace_part(current, target, result),
                             f"the derivative of {shorten(expr)}")
        if checker is not None:
            checker.check(current, rule)
        steps.append(RuleStep(rule, current, why, target, result))
    return steps


def raw_derivative(steps: list[RuleStep], expr, x) -> sp.Expr:
    """The derivative the steps arrive at, as SymPy writes it."""
    return evaluated(steps[-1].expression) if steps else sp.diff(expr, x)
