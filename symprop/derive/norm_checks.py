"""Checks of the normalization closed forms against SymPy differentiating the forward pass.

For a concrete group size the forward pass is written out in plain symbols (``x1, ..., xN``,
the statistics as explicit sums, the square root kept) and the loss taken as
``L = sum_j g_j y_j`` with the ``g_j`` symbols: then ``dL/dy_j = g_j`` exactly, so ``dL/dx_i``
from SymPy is the input gradient for any upstream gradient. The closed form of
:mod:`symprop.derive.norms`, its sums expanded for that size, must equal it exactly at
random rational points (the square roots of rationals stay exact).
"""

from __future__ import annotations

import random
from functools import cache

import sympy as sp


@cache
def check_closed_form(nn, size: int, points: int = 2, seed: int = 0) -> None:
    """Raise AssertionError unless the closed form of ``nn`` (a NormNotation) equals SymPy's
    derivative of the written-out forward pass for ``size`` values, at ``points`` random
    rational points, for every input."""
    from symprop.derive.norms import EPS, XHAT, G, X, closed_form

    xs = sp.symbols(f"x1:{size + 1}", real=True)
    gs = sp.symbols(f"g1:{size + 1}", real=True)
    per_feature = isinstance(nn.gamma, sp.IndexedBase)
    gammas = sp.symbols(f"gamma1:{size + 1}", real=True) if per_feature else (
        (sp.Symbol("gamma", real=True),) * size)
    betas = sp.symbols(f"beta1:{size + 1}", real=True)
    eps = sp.Symbol("eps", positive=True)
    if nn.centered:
        mean = sum(xs) / size
        scale = sp.sqrt(sum((x - mean) ** 2 for x in xs) / size + eps)
        xhat = [(x - mean) / scale for x in xs]
        ys = [gm * xh + bt for gm, xh, bt in zip(gammas, xhat, betas, strict=True)]
    else:
        scale = sp.sqrt(sum(x**2 for x in xs) / size + eps)
        xhat = [x / scale for x in xs]
        ys = [gm * xh for gm, xh in zip(gammas, xhat, strict=True)]
    loss = sum(g * y for g, y in zip(gs, ys, strict=True))
    written = {nn.scale: scale, EPS: eps}
    for t in range(1, size + 1):
        written.update({X[t]: xs[t - 1], XHAT[t]: xhat[t - 1], G[t]: gs[t - 1]})
        if per_feature:
            written[nn.gamma[t]] = gammas[t - 1]
    if not per_feature:
        written[nn.gamma] = gammas[0]
    rng = random.Random(seed * 1000 + size)
    for index in range(1, size + 1):
        direct = sp.diff(loss, xs[index - 1])
        stated = closed_form(nn).subs({nn.size: size, nn.index: index}).doit()
        stated = stated.xreplace(written)
        for _ in range(points):
            point = {s: sp.Rational(rng.randint(-40, 40), rng.randint(1, 9))
                     for s in (*xs, *gs, *set(gammas))}
            point[eps] = sp.Rational(1, rng.randint(2, 50))
            difference = sp.radsimp(sp.expand(direct.xreplace(point) - stated.xreplace(point)))
            if difference != 0:
                raise AssertionError(
                    f"the closed form of the input gradient differs from SymPy's derivative "
                    f"for {size} values at input {index}: by {difference}")
