"""A residual connection derived: ``y = x + F(x)``, whose input gradient is the sum over the
skip path and the block's path.

The input fans out to two consumers, the identity (the skip) and the block ``F``; the
multivariable chain rule adds the gradients arriving along both, as
:class:`symprop.derive.graph.ComputationGraph` adds the adjoints of a node's consumers. The
index form ``y_k = x_k + F_k(x)`` gives ``dL/dx_j = g_j + sum_k (dF_k/dx_j) g_k``, the matrix
form ``dL/dx = g + J_F^T g``; it is checked against SymPy on a dense ``tanh`` block of 2 units,
and on a one-unit block through the computation graph's own sweep.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symprop.derive.derivation import Derivation, matrix_notation, notation, partial, prose
from symprop.derive.limits import bounded
from symprop.derive.simplify import collapse_delta_sums, distribute_sums
from symprop.derive.written import InOrder

__all__ = ["check_residual_rule", "residual_derivation"]

_N = notation("n", "n", integer=True, positive=True)
j, k = sp.symbols("j k", integer=True, positive=True)


def _indexed(text: str, tex: str) -> sp.IndexedBase:
    return sp.IndexedBase(notation(text, tex, real=True), real=True)


@bounded("the residual-connection derivation")
@cache
def residual_derivation() -> Derivation:
    """The backward pass of a residual block ``y = x + F(x)`` (``F`` any differentiable block
    of the same width). ``result`` is ``g + J_F^T g`` as matrix symbols."""
    X, Y, G, F = (_indexed(*names) for names in (("x", "x"), ("y", "y"), ("g", "g"),
                                                 ("F", "F")))
    jac = _indexed("J_F", "J^{F}")  # J^F_{kj} = dF_k / dx_j, the block's Jacobian
    d = Derivation("Residual connection: the gradient through the skip and the block")
    d.notes.append(prose(
        "A block $F$ maps the $n$ values $x$ to $n$ values, and the skip connection adds its "
        "input back: $y = x + F(x)$. $g_{k} = \\partial L / \\partial y_{k}$ is the gradient "
        "from the layer above and $J^{F}_{k j} = \\partial F_{k} / \\partial x_{j}$ the "
        "block's Jacobian."))
    d.add("Forward pass", sp.Eq(Y[k], InOrder(X[k], F[k]), evaluate=False),
          prose("unit $k$, $k = 1, \\ldots, n$: the block's output plus the input itself (the "
                "identity path, or skip)"))
    local = sp.diff(X[k], X[j]) + jac[k, j]  # d y_k / d x_j: the skip's delta, the block's J
    d.add(("Local partials of ", Y[k]),
          (partial("y_k", "x_j", "y_{k}", "x_{j}"), InOrder(*local.args[::-1])
           if local.args[0] != sp.KroneckerDelta(j, k) else InOrder(*local.args)),
          prose("the skip contributes $\\partial x_{k} / \\partial x_{j} = [j = k]$, the block "
                "its Jacobian entry"))
    total = sp.Sum(G[k] * local, (k, 1, _N))
    split = collapse_delta_sums(distribute_sums(total))
    d.add("Chain rule over the fan-out",
          (partial("L", "x_j", "L", "x_{j}"), total, split),
          prose("$x_{j}$ reaches $L$ along two paths, directly through the skip and through "
                "the block, and through every $y_{k}$: the multivariable chain rule adds the "
                "gradients of all of them (as a computation graph sums the adjoints of a "
                "node's consumers); the bracket keeps $k = j$ of the skip's sum"))
    gm = matrix_notation("g_vec", "g", _N, 1)
    jm = matrix_notation("J_F_mat", "J^{F}", _N, _N)
    grad = matrix_notation("dL/dx_vec", r"\frac{\partial L}{\partial x}", _N, 1)
    d.add("Matrix form", (grad, gm + jm.T * gm),
          prose("entry $j$ of $(J^{F})^{T} g$ is $\\sum_{k} J^{F}_{k j} g_{k}$: the gradient "
                "passes the skip unchanged and adds the block's backward pass, so it cannot "
                "vanish through a deep stack of blocks as long as the skips carry it"))
    check_residual_rule()
    d.add("Checked", notation("verified", r"\checkmark"),
          prose("against SymPy differentiating $L = g^{T} y$ for a dense block "
                "$F(x) = \\tanh(W x + b)$ of 2 units, exactly, and against the computation "
                "graph's sweep for $y = x + \\tanh(w x + c)$, which adds the two paths itself"))
    d.result = gm + jm.T * gm
    return d


@cache
def check_residual_rule() -> None:
    """The rule ``dL/dx = g + J_F^T g`` against SymPy on ``y = x + tanh(W x + b)`` (2 units;
    ``L = g^T y`` so that ``dL/dy = g``), and the one-unit block through
    :class:`~symprop.derive.graph.ComputationGraph`, whose sweep adds the two paths."""
    from symprop.derive.graph import computation_graph

    x, g = sp.Matrix(sp.symbols("x1:3", real=True)), sp.Matrix(sp.symbols("g1:3", real=True))
    W, b = sp.Matrix(2, 2, sp.symbols("w1:5", real=True)), sp.Matrix(sp.symbols("b1:3",
                                                                              real=True))
    block = (W * x + b).applyfunc(sp.tanh)
    loss = (g.T * (x + block))[0]
    jacobian = block.jacobian(x)
    rule = g + jacobian.T * g
    for index in range(2):
        if sp.expand(sp.diff(loss, x[index]) - rule[index]) != 0:
            raise AssertionError(f"the residual rule differs from SymPy at x{index + 1}")
    graph = computation_graph({"h": "tanh(w*x + c)", "y": "x + h"}, ["x", "w", "c"])
    xs, ws, cs = sp.symbols("x w c", real=True)
    by_graph = graph.derivatives("y")["x"]
    by_rule = 1 + sp.diff(sp.tanh(ws * xs + cs), xs)
    if sp.expand((by_graph - by_rule).rewrite(sp.exp)) != 0:
        raise AssertionError("the residual rule differs from the computation graph's sweep")
