"""Softmax: the one vector activation, derived in index form.

``s_k = exp(z_k) / sum_j exp(z_j)``. Differentiating with respect to ``z_i`` gives Kronecker
deltas inside the sum; the sifting property collapses them, and substituting ``s`` back
gives the Jacobian ``ds_k/dz_i = s_k (delta_ki - s_i)``, i.e. ``diag(s) - s s^T``. The
backward pass never forms that matrix: it uses the vector-Jacobian product
``(J^T g)_i = s_i (g_i - sum_j g_j s_j)``, derived here the same way.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symprop.derive.derivation import Derivation, TeX, notation, prose
from symprop.derive.simplify import collapse_delta_sums, distribute_sums
from symprop.derive.symbols import A, G, K, Z, i, j, k


def _exp_sum():
    return sp.Sum(sp.exp(Z[j]), (j, 1, K))


def substitute_softmax(expr: sp.Expr, s: sp.IndexedBase = A) -> sp.Expr:
    """Replace ``exp(z_idx)`` by ``s_idx * sum_j exp(z_j)`` so the sums cancel."""
    total = sp.Symbol("S", positive=True)
    expr = expr.subs(_exp_sum(), total).replace(
        lambda e: isinstance(e, sp.exp) and isinstance(e.args[0], sp.Indexed)
        and e.args[0].base == Z,
        lambda e: s[e.args[0].indices[0]] * total,
    )
    return sp.expand(sp.cancel(expr))


class Softmax:
    """The softmax activation over the last axis (classes)."""

    kind = "softmax"
    name = "softmax"
    trainable = True
    formula = None
    params: dict = {}
    hyperparameters: dict = {}
    summary = "exp(z_k) / sum_j exp(z_j): a probability vector over the K classes"
    z, a = Z[k], A[k]

    def __repr__(self) -> str:
        return "activation('softmax')"

    @property
    def expr(self) -> sp.Expr:
        return sp.exp(Z[k]) / _exp_sum()

    @property
    def raw_jacobian(self) -> sp.Expr:
        """``ds_k/dz_i`` exactly as differentiation gives it (sums of Kronecker deltas)."""
        return sp.diff(self.expr, Z[i])

    @property
    def derivative(self) -> sp.Expr:
        """The Jacobian entry ``ds_k/dz_i`` in terms of ``z``."""
        return collapse_delta_sums(self.raw_jacobian)

    @property
    def derivative_of_output(self) -> sp.Expr:
        """The Jacobian entry in terms of the output: ``a_k (delta_ki - a_i)``."""
        return _jacobian_in_output()

    @property
    def vjp(self) -> sp.Expr:
        """``(J^T g)_i``: the gradient wrt ``z_i`` given ``g = dL/da``."""
        return _vjp()

    def jacobian_matrix(self, classes: int = 3) -> sp.Matrix:
        """The explicit ``classes x classes`` Jacobian, checked against ``diag(s) - s s^T``."""
        return _explicit_jacobian(classes)

    def derivation(self) -> Derivation:
        return derive_softmax(self)


@cache
def _jacobian_in_output() -> sp.Expr:
    entry = substitute_softmax(collapse_delta_sums(sp.diff(sp.exp(Z[k]) / _exp_sum(), Z[i])))
    form = A[k] * (sp.KroneckerDelta(k, i) - A[i])
    if sp.expand(entry - form) != 0:  # the derivation must land exactly on the known form
        raise AssertionError(f"softmax Jacobian derivation gave {entry}")
    return form


@cache
def _vjp() -> sp.Expr:
    # (J^T g)_i = sum_k g_k ds_k/dz_i, then sift the deltas and split the sum.
    product = sp.Sum(G[k] * _jacobian_in_output(), (k, 1, K))
    result = collapse_delta_sums(distribute_sums(product))
    result = sp.collect(sp.expand(result), A[i])
    form = A[i] * (G[i] - sp.Sum(G[k] * A[k], (k, 1, K)))
    if sp.expand(result - form) != 0:
        raise AssertionError(f"softmax VJP derivation gave {result}")
    return form


@cache
def _explicit_jacobian(classes: int) -> sp.Matrix:
    zs = sp.symbols(f"z1:{classes + 1}", real=True)
    total = sum(sp.exp(v) for v in zs)
    s = [sp.exp(v) / total for v in zs]
    jac = sp.Matrix(classes, classes, lambda r, c: sp.diff(s[r], zs[c]))
    vec = sp.Matrix(s)
    expected = sp.diag(*s) - vec * vec.T
    # Exact check at a rational point: exp of rationals stays symbolic, so compare numerically
    # to high precision (simplifying the difference symbolically costs far more).
    point = {v: sp.Rational(n + 1, 3 * (n + 2)) for n, v in enumerate(zs)}
    if any(abs(e) > 1e-30 for e in (jac - expected).evalf(40, subs=point)):
        raise AssertionError("explicit softmax Jacobian differs from diag(s) - s s^T")
    a_syms = sp.symbols(f"a1:{classes + 1}", real=True)
    va = sp.Matrix(a_syms)
    return sp.diag(*a_syms) - va * va.T


def derive_softmax(act: Softmax) -> Derivation:
    d = Derivation("Activation softmax: Jacobian and vector-Jacobian product")
    d.notes.append(prose("Index form: classes $k, i, j = 1, \\ldots, K$; "
                         "$a_{k} = \\operatorname{softmax}_{k}(z)$ is the output."))
    a_k = notation("a_k", "a_{k}")
    d.add("Definition", sp.Eq(a_k, act.expr, evaluate=False),
          prose("a probability vector over the $K$ classes: positive, summing to 1"))
    dadz = notation("da_k/dz_i", r"\frac{\partial a_{k}}{\partial z_{i}}")
    d.add(("Differentiate with respect to ", TeX("z_{i}"), " (quotient rule)"),
          sp.Eq(dadz, act.raw_jacobian, evaluate=False),
          prose(r"$\partial e^{z_{k}} / \partial z_{i} = [i = k]\, e^{z_{k}}$; the sum "
                r"contributes $e^{z_{j}} [i = j]$"))
    d.add("Sift the Kronecker deltas", sp.Eq(dadz, act.derivative, evaluate=False),
          prose(r"$\sum_{j} f(j)\, [i = j] = f(i)$"))
    d.add(("Substitute ", TeX(r"a_{k} = e^{z_{k}} / \sum_{j} e^{z_{j}}")),
          sp.Eq(dadz, act.derivative_of_output, evaluate=False),
          "the Jacobian in terms of the output alone")
    jac = notation("J", "J")
    d.add(prose("As a matrix ($K = 3$ shown, checked entry by entry)"),
          (jac, notation("diag(a) - a a^T", r"\operatorname{diag}(a) - a a^{T}"),
           act.jacobian_matrix(3)),
          prose(r"diagonal $a_{k} (1 - a_{k})$, off-diagonal $-a_{k} a_{i}$; symmetric"))
    g_i = notation("(J^T g)_i", r"\left(J^{T} g\right)_{i}")
    d.add("Vector-Jacobian product for the backward pass", sp.Eq(g_i, act.vjp, evaluate=False),
          prose(r"$g = \partial L / \partial a$; the $K \times K$ Jacobian is never formed, "
                r"which keeps the backward pass $O(K)$"))
    d.result = act.derivative_of_output
    return d


@cache
def softmax() -> Softmax:
    return Softmax()
