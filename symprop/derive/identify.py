"""Which known function an activation or a loss *is*, decided from its expression.

Names are labels: ``Dense(3, 1, "tanh(x)/2 + 1/2", name="sigmoid")`` is sigmoid(2x), not a
sigmoid, and a loss named "bce" may be anything. Where the maths depends on what a function
is (bce after a sigmoid is computed from the logit), the expression decides: equal to the
known one as SymPy builds it, or proven equal (numbers first, since most candidates already
differ there; then SymPy's simplifier on the difference, for small expressions only).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symprop.derive.simplify import numerically_equal
from symprop.derive.symbols import y, yhat, z

SIGMOID = 1 / (1 + sp.exp(-z))
BCE = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))
MAX_PROOF_OPS = 40  # beyond, simplify may take long; such a form is not taken for a sigmoid


def is_sigmoid(act) -> bool:
    """Is the elementwise activation ``act`` the logistic sigmoid 1/(1 + e^-z) for every
    value of its hyperparameters (it has none)?"""
    if getattr(act, "kind", None) != "elementwise":
        return False
    return proven_equal(act.expr, SIGMOID, ((z, -12.0, 12.0),))


def is_bce(the_loss) -> bool:
    """Is ``the_loss`` binary cross-entropy, -(y log(yhat) + (1 - y) log(1 - yhat))?"""
    if the_loss.kind != "elementwise":
        return False
    return proven_equal(the_loss.expr, BCE, ((yhat, 0.02, 0.98), (y, 0.0, 1.0)))


@lru_cache(maxsize=512)
def proven_equal(expr: sp.Expr, target: sp.Expr, ranges: tuple) -> bool:
    """``expr == target`` structurally or by proof; ``ranges`` gives (symbol, low, high) for
    the numeric screen. False when unproven: the caller then takes the general route."""
    if expr == target:
        return True
    if expr.free_symbols != target.free_symbols or sp.count_ops(expr) > MAX_PROOF_OPS:
        return False
    try:
        if not numerically_equal(expr, target, {s: (low, high) for s, low, high in ranges}):
            return False
    except (ArithmeticError, TypeError, ValueError):
        return False
    # log(p/q) = log p - log q holds for the positive arguments of the screened range.
    difference = sp.expand_log((expr - target).rewrite(sp.exp), force=True)
    try:
        return sp.simplify(difference) == 0
    except (NotImplementedError, TypeError, ValueError):
        return False
