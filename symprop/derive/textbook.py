"""Simplify a derivative to the form a textbook writes, one named rewrite a step.

SymPy's canonical forms are not a textbook's: it writes the sigmoid's derivative
``e^{-z}/(1 + e^{-z})^2`` as ``e^{z}/(1 + e^{z})^2`` once factored, and expands products a
reader would keep. :func:`textbook_cost` prefers what a textbook does:

- fewer operations (SymPy's ``count_ops``);
- the exponentials of the formula itself: ``e^{-z}`` stays ``e^{-z}`` where the formula has
  it, never turned into ``e^{z}`` over a larger denominator nor hidden as ``1/e^{z}``;
- no function the formula and its plain derivative lack (``tanh`` stays ``tanh``, not its
  exponential rewrite);
- a product over a sum on a tie (``a (1 - a)`` over ``a - a^2``), then fewer nodes.

:func:`textbook_steps` starts from SymPy's product and, while a named rewrite (one fraction,
cancel, factor, expand, common factors, powers combined, signs in textbook order) lowers the
cost, takes the best as a step. Every step is checked equal to the derivative.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from symprop.derive.limits import expansion_too_large
from symprop.derive.simplify import MAX_TIDY_NODES, PREFERRED, orient, positive_sign
from symprop.derive.stepcheck import StepChecker

MAX_REWRITES = 6  # rewrites in a row; each must lower the cost, so this is rarely reached


class Rewrite(NamedTuple):
    title: str
    expression: sp.Expr
    why: tuple


def _oriented(expr):
    return orient(positive_sign(expr), PREFERRED)


ORIENT = ("Textbook signs", _oriented, "each difference written with its positive term first")
# (title, rewrite, what was done); on a tie the first wins, so the gentler rewrites come first
REWRITES = [
    ("Take out common factors", sp.factor_terms, "the factors every term shares taken out"),
    ("Factor", sp.factor, "written as a product of factors"),
    ("Cancel common factors", sp.cancel, "numerator and denominator divided by their common "
                                         "factors"),
    ("Combine into one fraction", sp.together, "over a common denominator"),
    ("Expand", sp.expand, "products multiplied out"),
    ("Combine powers", sp.powsimp, "powers of the same base combined"),
    ("Name the quotient", lambda e: _named(e), "sinh/cosh written as tanh, sin/cos as tan"),
    ORIENT,
]
MAX_TRIGSIMP_NODES = 40  # trigsimp searches; small expressions only


def _named(expr):
    """sinh(u)/cosh(u) as tanh(u) (and the like): SymPy's trigsimp, on small expressions."""
    if not expr.has(sp.sinh, sp.cosh, sp.sin, sp.cos) or _nodes(expr) > MAX_TRIGSIMP_NODES:
        return expr
    return sp.trigsimp(expr)


def _exponents(expr) -> set:
    return {e.args[0] for e in expr.atoms(sp.exp)}


def _functions(expr) -> set:
    return {type(f) for f in expr.atoms(sp.Function)}


def _nodes(expr) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


def textbook_cost(expr, reference) -> tuple:
    """How far ``expr`` is from a textbook's form; ``reference`` is the formula (and its
    derivative) whose exponentials and functions a textbook keeps."""
    if isinstance(expr, sp.Piecewise):
        costs = [textbook_cost(e, reference) for e, _ in expr.args]
        return tuple(sum(c[n] for c in costs) for n in range(len(costs[0])))
    wanted_exponents, wanted_functions = _exponents(reference), _functions(reference)
    flipped = sum(1 for w in _exponents(expr)
                  if w not in wanted_exponents and -w in wanted_exponents)
    hidden = sum(1 for p in expr.atoms(sp.Pow)
                 if isinstance(p.base, sp.exp) and p.exp.is_negative)
    foreign = len(_functions(expr) - wanted_functions)
    score = sp.count_ops(expr) + 3 * flipped + 3 * hidden + 2 * foreign
    return (score, isinstance(expr, sp.Add), _nodes(expr))


def _piecewise(rewrite, expr, reference, keep_ties: bool = False):
    """A rewrite piece by piece, each piece kept where the rewrite does not help it (or, with
    ``keep_ties``, where it makes it worse)."""
    pieces = []
    for piece, condition in expr.args:
        new, old = _safe(rewrite, piece), piece
        new_cost, old_cost = textbook_cost(new, reference), textbook_cost(old, reference)
        better = new_cost[0] <= old_cost[0] if keep_ties else new_cost < old_cost
        pieces.append((new if better else piece, condition))
    return sp.Piecewise(*pieces)


def _safe(rewrite, expr):
    if not isinstance(expr, sp.Expr) or expr.is_Atom:
        return expr
    try:
        return rewrite(expr)
    except (sp.PolynomialError, NotImplementedError, TypeError, ValueError):
        return expr


def _too_big(expr) -> bool:
    if expansion_too_large(expr):
        return True
    return any(n >= MAX_TIDY_NODES for n, _ in enumerate(sp.preorder_traversal(expr)))


def textbook_steps(expr, reference, checker: StepChecker | None = None) -> list[Rewrite]:
    """The rewrites from ``expr`` to its textbook form, each lowering
    :func:`textbook_cost`; ``checker`` checks each against the derivative."""
    steps: list[Rewrite] = []
    current = expr
    for _ in range(MAX_REWRITES):
        if _too_big(current):
            return steps  # polynomial rewrites would expand it without end: kept as it is
        cost = textbook_cost(current, reference)
        best = None
        for title, rewrite, why in REWRITES:
            candidate = _rewritten(rewrite, current, reference)
            candidate_cost = textbook_cost(candidate, reference)
            if candidate != current and candidate_cost < cost:
                best, cost = Rewrite(title, candidate, (why,)), candidate_cost
        if best is None:
            break
        steps.append(_checked(best, checker))
        current = best.expression
    # Orientation costs nothing: a last step whenever it changes the form (1 - z, not z - 1).
    title, rewrite, why = ORIENT
    oriented = _rewritten(rewrite, current, reference, keep_ties=True)
    if oriented != current:
        steps.append(_checked(Rewrite(title, oriented, (why,)), checker))
    return steps


def _rewritten(rewrite, expr, reference, keep_ties: bool = False):
    if isinstance(expr, sp.Piecewise):
        return _piecewise(rewrite, expr, reference, keep_ties)
    new = _safe(rewrite, expr)
    if keep_ties and textbook_cost(new, reference)[0] > textbook_cost(expr, reference)[0]:
        return expr
    return new


def _checked(step: Rewrite, checker: StepChecker | None) -> Rewrite:
    if checker is not None:
        checker.check(step.expression, step.title)
    return step


def textbook_form(expr, reference) -> sp.Expr:
    """``expr`` in the form a textbook writes (the last of :func:`textbook_steps`)."""
    steps = textbook_steps(expr, reference)
    return steps[-1].expression if steps else expr
