"""The normalization and residual derivations: their closed forms against PyTorch autograd in
float64, their structure as the issue states it, that the checks they carry catch a wrong
formula, and that every format prints them."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.derive import norms
from symprop.derive.norm_checks import check_closed_form
from symprop.derive.norms import BATCH, EPS, LAYER, RMS, XHAT, G, closed_form, value

torch = pytest.importorskip("torch")
F = torch.nn.functional
EPSILON = 1e-5


def lambdified(nn, size: int, result_index: int = 0):
    """The derivation's result entry for ``size`` values, as a function of (xhat, g, gamma,
    scale) arrays giving one entry per index."""
    xh, gs, gammas = (sympy.symbols(f"{name}1:{size + 1}") for name in ("xh", "g", "gm"))
    scale = sympy.Symbol("scale")
    per_feature = isinstance(nn.gamma, sympy.IndexedBase)
    table = {nn.scale: scale}
    for t in range(1, size + 1):
        table.update({XHAT[t]: xh[t - 1], G[t]: gs[t - 1]})
        table[nn.gamma[t] if per_feature else nn.gamma] = gammas[t - 1]
    entry = value(nn_result(nn)[result_index])
    forms = [entry.subs({nn.size: size, nn.index: t}).doit().xreplace(table)
             for t in range(1, size + 1)]
    function = sympy.lambdify([xh, gs, gammas, scale], forms, "numpy")
    return lambda *arrays: np.array(function(*arrays), dtype=float)


def nn_result(nn):
    return {id(BATCH): sp.batchnorm_derivation, id(LAYER): sp.layernorm_derivation,
            id(RMS): sp.rmsnorm_derivation}[id(nn)]().result


def rel_close(got, want, terms=None, rtol=1e-9):
    """Equal to rtol relative to the size of the terms summed to make ``want`` (``terms``,
    default ``want`` itself): an input gradient is a difference of terms of the size of
    gamma g / sigma, and where they nearly cancel (inputs close together) float64 keeps
    only their absolute precision."""
    size = np.abs(want).max() if terms is None else max(np.abs(want).max(), terms)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * size)


def term_size(g, gammas, xhat, sigma) -> float:
    """The size of the terms of an input gradient, gamma (m g - sum g - x_hat sum g x_hat)
    / (m sigma) (and of the gamma and beta gradients' sums)."""
    return float(np.abs(gammas).max() * np.abs(g).sum() * (1 + np.abs(xhat).max() ** 2)
                 / sigma)


values = st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=7)


def _arrays(data, size):
    rng = np.random.default_rng(abs(hash(tuple(data))) % 2**32)
    x = np.array(data[:size], dtype=np.float64)
    return x, rng.normal(size=size), rng.uniform(0.5, 2.0, size), rng.normal(size=size)


@settings(max_examples=8, deadline=None)
@given(values)
def test_batchnorm_matches_torch(data):
    m = len(data)
    x, g, gamma, beta = _arrays(data, m)
    gamma, beta = gamma[:1], beta[:1]
    xt = torch.tensor(x[:, None], requires_grad=True)
    w, b = (torch.tensor(v, requires_grad=True) for v in (gamma, beta))
    F.batch_norm(xt, None, None, w, b, training=True, eps=EPSILON).backward(
        torch.tensor(g[:, None]))
    sigma = np.sqrt(x.var() + EPSILON)  # numpy's var is the biased one, as training uses
    xhat = (x - x.mean()) / sigma
    gammas = np.full(m, gamma[0])
    rel_close(lambdified(BATCH, m)(xhat, g, gammas, sigma), xt.grad.numpy()[:, 0],
              term_size(g, gammas, xhat, sigma))
    rel_close(lambdified(BATCH, m, 1)(xhat, g, gammas, sigma)[0], w.grad.numpy()[0])
    rel_close(lambdified(BATCH, m, 2)(xhat, g, gammas, sigma)[0], b.grad.numpy()[0])


@settings(max_examples=8, deadline=None)
@given(values)
@example([0.5, 0.5 + 1e-7])  # inputs this close: the gradient is a near cancellation
def test_layernorm_matches_torch(data):
    n = len(data)
    x, g, gamma, beta = _arrays(data, n)
    xt = torch.tensor(x, requires_grad=True)
    w, b = (torch.tensor(v, requires_grad=True) for v in (gamma, beta))
    F.layer_norm(xt, (n,), w, b, eps=EPSILON).backward(torch.tensor(g))
    sigma = np.sqrt(x.var() + EPSILON)
    xhat = (x - x.mean()) / sigma
    rel_close(lambdified(LAYER, n)(xhat, g, gamma, sigma), xt.grad.numpy(),
              term_size(g, gamma, xhat, sigma))
    rel_close(lambdified(LAYER, n, 1)(xhat, g, gamma, sigma), w.grad.numpy())
    rel_close(lambdified(LAYER, n, 2)(xhat, g, gamma, sigma), b.grad.numpy())


@pytest.mark.skipif(not hasattr(F, "rms_norm"), reason="this torch has no rms_norm")
@settings(max_examples=8, deadline=None)
@given(values)
def test_rmsnorm_matches_torch(data):
    n = len(data)
    x, g, gamma, _ = _arrays(data, n)
    xt = torch.tensor(x, requires_grad=True)
    w = torch.tensor(gamma, requires_grad=True)
    F.rms_norm(xt, (n,), w, eps=EPSILON).backward(torch.tensor(g))
    r = np.sqrt((x**2).mean() + EPSILON)
    rel_close(lambdified(RMS, n)(x / r, g, gamma, r), xt.grad.numpy(),
              term_size(g, gamma, x / r, r))
    rel_close(lambdified(RMS, n, 1)(x / r, g, gamma, r), w.grad.numpy())


def test_closed_forms_have_the_issues_structure():
    """gamma/(m sigma)(m g_i - S1 - xhat_i S2) with symbolic m, and the LayerNorm form with
    gamma inside the sums, equal the derivations' results (simplified difference 0)."""
    m, i, j = BATCH.size, BATCH.index, norms.j
    s1, s2 = (sympy.Sum(G[j], (j, 1, m)), sympy.Sum(G[j] * XHAT[j], (j, 1, m)))
    issue = BATCH.gamma / (m * norms.SIGMA) * (m * G[i] - s1 - XHAT[i] * s2)
    assert sympy.simplify(sp.batchnorm_derivation().result[0] - issue) == 0
    n, k, gam = LAYER.size, LAYER.index, LAYER.gamma
    issue = 1 / (n * norms.SIGMA) * (n * gam[k] * G[k] - sympy.Sum(gam[j] * G[j], (j, 1, n))
                                     - XHAT[k] * sympy.Sum(gam[j] * G[j] * XHAT[j], (j, 1, n)))
    assert sympy.simplify(sp.layernorm_derivation().result[0] - issue) == 0
    assert sp.batchnorm_derivation().result[1:] == (s2, s1)
    assert value(closed_form(BATCH, written=True)) == closed_form(BATCH)


def test_the_check_catches_a_wrong_closed_form(monkeypatch):
    """The concrete-size check is real: a closed form without its last term fails it."""
    check_closed_form.cache_clear()
    wrong = BATCH.gamma / (BATCH.size * norms.SIGMA) * (BATCH.size * G[BATCH.index])
    monkeypatch.setattr(norms, "closed_form", lambda nn, written=False: wrong)
    with pytest.raises(AssertionError, match="differs from SymPy"):
        check_closed_form(BATCH, 3)
    check_closed_form.cache_clear()


def test_eps_enters_as_epsilon():
    assert str(EPS) == "eps" and sp.Derivation  # the notation symbol the runtime substitutes


def test_residual_rule():
    d = sp.residual_derivation()
    assert str(d.result) == "g_vec + J_F_mat.T*g_vec"
    from symprop.derive.residual import check_residual_rule
    check_residual_rule()


@pytest.mark.parametrize("name", ["batchnorm_derivation", "layernorm_derivation",
                                  "rmsnorm_derivation", "residual_derivation"])
def test_every_format_prints(name):
    d = getattr(sp, name)()
    assert d is getattr(sp, name)()  # cached: no user input, derived once
    for text in (d.text(), d.latex(), d.latex(mode="math"), d.markdown(), d.latex_document()):
        assert len(text) > 500 and "Checked" in text
    assert r"\checkmark" in d.latex() and "[" in d.markdown()
