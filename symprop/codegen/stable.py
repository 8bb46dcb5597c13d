"""Numerically stable forms, chosen by rewriting SymPy expressions before printing.

A registry of rewrite rules recognises the unstable shapes that differentiation produces
(``1/(1 + e^{-u})``, ``e^u/(1 + e^u)^2``, ``log(1 + e^u)``, ``log(cosh(u))``) and replaces
them with the functions ``sigmoid`` and ``softplus`` below, which the generated modules
implement without overflow. Rules apply to any expression, built-in or user formula, so no
activation needs a hand-written stable kernel.
"""

from __future__ import annotations

import math

import sympy as sp


class sigmoid(sp.Function):  # noqa: N801 - printed as the helper's name
    """1/(1 + e^{-u}), evaluated as e^u/(1 + e^u) for u < 0 so exp never overflows."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0]) * (1 - sigmoid(self.args[0]))

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sp.exp(-u))


class softplus(sp.Function):  # noqa: N801
    """log(1 + e^u), evaluated as max(u, 0) + log1p(e^{-|u|})."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(1 + sp.exp(u))


_u = sp.Wild("u")
_c = sp.Wild("c", exclude=[_u])


def _rules():
    e = sp.exp
    return [
        # log(1 + e^u)
        (sp.log(1 + e(_u)), lambda u: softplus(u)),
        # e^u / (1 + e^u)^2  =  sigmoid(u) * (1 - sigmoid(u))
        (e(_u) * (1 + e(_u)) ** -2, lambda u: sigmoid(u) * (1 - sigmoid(u))),
        # e^u / (1 + e^u)
        (e(_u) * (1 + e(_u)) ** -1, lambda u: sigmoid(u)),
        # 1 / (1 + e^u)  =  sigmoid(-u)
        ((1 + e(_u)) ** -1, lambda u: sigmoid(-u)),
        # (1 + e^u)^(-2)  =  sigmoid(-u)^2
        ((1 + e(_u)) ** -2, lambda u: sigmoid(-u) ** 2),
    ]


def _log_cosh(u: sp.Expr) -> sp.Expr:
    """log(cosh(u)) = |u| + log(1 + e^{-2|u|}) - log 2: cosh itself overflows for |u| > 89
    in float32 (710 in float64), where the loss is still just |u| - log 2."""
    return sp.Abs(u) + softplus(-2 * sp.Abs(u)) - sp.Float(math.log(2.0))


def _tanh_of_quotient(product: sp.Mul) -> sp.Expr:
    """sinh(u)/cosh(u) -> tanh(u) in a product: the quotient is inf/inf = NaN where both
    overflow (|u| > 89 in float32), tanh is +-1 there."""
    factors = list(product.args)
    for factor in product.args:
        if isinstance(factor, sp.sinh):
            inverse = sp.cosh(factor.args[0]) ** -1
            if inverse in factors:
                factors.remove(inverse)
                factors[factors.index(factor)] = sp.tanh(factor.args[0])
                return sp.Mul(*factors)
    return product


def stabilize(expr: sp.Expr) -> sp.Expr:
    """Rewrite the unstable shapes of ``expr`` into stable helper functions."""
    if isinstance(expr, sp.Basic) and expr.has(sp.cosh):
        expr = expr.replace(lambda node: isinstance(node, sp.log)
                            and isinstance(node.args[0], sp.cosh),
                            lambda node: _log_cosh(node.args[0].args[0]))
        expr = expr.replace(lambda node: isinstance(node, sp.Mul) and node.has(sp.sinh),
                            _tanh_of_quotient)
    if not isinstance(expr, sp.Basic) or not expr.has(sp.exp):
        return expr
    for pattern, build in _rules():
        expr = expr.replace(lambda node, p=pattern: _matches(node, p),
                            lambda node, p=pattern, b=build: b(node.match(p)[_u]))
    if expr.has(sp.exp) and expr.has(sigmoid):
        expr = _absorb_exponentials(expr)
    return expr


def _absorb_exponentials(expr: sp.Expr) -> sp.Expr:
    """``e^(n u) * sigmoid(-u)^k`` -> ``sigmoid(u)^n * sigmoid(-u)^(k - n)`` for n <= k, in
    every product term: e^u sigmoid(-u) = sigmoid(u) exactly, and the right side never
    overflows (e^u alone does, then meets a vanishing sigmoid as inf * 0)."""
    terms = sp.Add.make_args(sp.expand(expr))
    return sp.Add(*[_absorb_in_product(term) for term in terms])


def _absorb_in_product(term: sp.Expr) -> sp.Expr:
    factors = list(sp.Mul.make_args(term))
    for index, factor in enumerate(factors):
        base, power = _base_power(factor)
        if not isinstance(base, sp.exp) or not power.is_Integer or power < 1:
            continue
        for other, candidate in enumerate(factors):
            s_base, s_power = _base_power(candidate)
            if not isinstance(s_base, sigmoid) or not s_power.is_Integer:
                continue
            ratio = sp.simplify(base.args[0] * power / -s_base.args[0])
            if ratio.is_number and float(ratio).is_integer() and 1 <= int(ratio) <= s_power:
                n, u = int(ratio), -s_base.args[0]
                factors[index] = sigmoid(u) ** n
                factors[other] = s_base ** (s_power - n)
                return _absorb_in_product(sp.Mul(*factors))
    return term


def _base_power(factor: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    # Not as_base_exp: that splits exp(z) into (E, z).
    if isinstance(factor, sp.Pow):
        return factor.base, factor.exp
    return factor, sp.Integer(1)


def _matches(node, pattern) -> bool:
    if not isinstance(node, type(pattern)):
        return False
    found = node.match(pattern)
    return bool(found) and _u in found and found[_u] != 0
