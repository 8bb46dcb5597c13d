"""The direct CBLAS binding of the generated kernels (symprop/codegen/blas.py), and the
``np.dot`` fallback that standalone modules and BLAS-less numpy builds use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from numba.core.errors import TypingError

from symprop.architecture import parse_architecture
from symprop.codegen import blas
from symprop.codegen.build import network_source
from symprop.codegen.cache import cache_key, load_module

NUMPY_HAS_OPENBLAS = "openblas" in str(np.show_config(mode="dicts")).lower()
needs_binding = pytest.mark.skipif(blas.binding() is None, reason="no CBLAS found to bind")


@pytest.mark.skipif(not NUMPY_HAS_OPENBLAS, reason="this numpy does not ship OpenBLAS")
def test_numpys_openblas_is_bound():
    found = blas.binding()
    assert found is not None and found.startswith("openblas ")
    assert blas.binding() is found  # found once per process


@njit
def gemm32(A, B, C, m, n, k, transpose_a, transpose_b):
    blas.gemm_float32(A, B, C, m, n, k, transpose_a, transpose_b)


@njit
def gemm64(A, B, C, m, n, k, transpose_a, transpose_b):
    blas.gemm_float64(A, B, C, m, n, k, transpose_a, transpose_b)


# The wrappers have no Python entry point (only kernels call them): called through these.
GEMMS = {"float32": gemm32, "float64": gemm64}


@needs_binding
@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 17), n=st.integers(1, 17), k=st.integers(1, 17),
       extra=st.integers(0, 3), transpose_a=st.booleans(), transpose_b=st.booleans(),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_gemm_matches_numpy(m, n, k, extra, transpose_a, transpose_b, dtype, seed):
    """C[:m] = op(A) @ op(B); buffers may have spare rows (a short last batch)."""
    rng = np.random.default_rng(seed)
    a_shape = (k + extra, m) if transpose_a else (m + extra, k)
    b_shape = (n, k) if transpose_b else (k + extra, n)
    A = rng.standard_normal(a_shape).astype(dtype)
    B = rng.standard_normal(b_shape).astype(dtype)
    C = np.full((m + extra, n), 7.0, dtype=dtype)
    GEMMS[dtype](A, B, C, m, n, k, transpose_a, transpose_b)
    opa = A[:k].T if transpose_a else A[:m]
    opb = B.T if transpose_b else B[:k]
    tolerance = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(C[:m], opa.astype(np.float64) @ opb, rtol=tolerance,
                               atol=tolerance * k)
    assert (C[m:] == 7.0).all()  # rows past m untouched


@needs_binding
def test_gemm_refuses_non_contiguous_arrays():
    A = np.ones((4, 6))[:, ::2]
    with pytest.raises(TypingError, match="C-contiguous"):
        gemm64(A, np.ones((3, 2)), np.zeros((4, 2)), 4, 2, 3, False, False)


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-12), ("float32", 1e-5)])
def test_direct_blas_and_np_dot_modules_agree(dtype, tolerance):
    """Every BLAS product of a network module (forward, delta, weight gradient), rendered
    with the direct CBLAS calls and with np.dot: same gradients and loss."""
    layers = parse_architecture("6-16:tanh-12:relu-3:softmax")
    sources = {direct: network_source(layers, "ce", "sgd", {}, dtype, "blas", "test",
                                      direct_blas=direct)
               for direct in (False, True)}
    assert "np.dot(" in sources[False] and "gemm_" not in sources[False]
    assert "np.dot(" not in sources[True] and f"gemm_{dtype}(" in sources[True]
    if blas.binding() is None:
        pytest.skip("no CBLAS found to bind")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 6)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 9)]
    params = [rng.standard_normal(shape).astype(dtype) * 0.5
              for shape in ((6, 16), (16,), (16, 12), (12,), (12, 3), (3,))]
    results = []
    for direct, source in sources.items():
        module = load_module(cache_key("test-blas", dtype, direct), lambda s=source: s)
        grads = [np.empty_like(p) for p in params]
        results.append((module.gradients(X, Y, *params, *grads), grads))
    (loss_dot, grads_dot), (loss_direct, grads_direct) = results
    assert loss_direct == pytest.approx(loss_dot, rel=tolerance)
    for got, want in zip(grads_direct, grads_dot, strict=True):
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


def test_float32_module_takes_float64_data(tmp_path):
    """An exported float32 module called with numpy's default float64 data: its batch
    buffers stay float32 (the np.dot products need one dtype), and the results equal those
    from float32 data, in which the inputs are rounded the same way on the way in."""
    layers = parse_architecture("6-16:tanh-3:softmax")
    source = network_source(layers, "ce", "sgd", {}, "float32", "blas", "test")
    module = load_module(cache_key("test-blas-f64-data"), lambda: source, folder=tmp_path)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((8, 6))
    Y = np.eye(3)[rng.integers(0, 3, 8)]
    params = [(rng.standard_normal(shape) * 0.5).astype(np.float32)
              for shape in ((6, 16), (16,), (16, 3), (3,))]
    losses = []
    for data in ((X, Y), (X.astype(np.float32), Y.astype(np.float32))):
        weights = [p.copy() for p in params]
        batch_losses = np.zeros(2)
        module.train_epoch(*data, np.arange(8), 4, 0, 0.0, batch_losses, *weights, 0.1, 0.0)
        losses.append((batch_losses, weights))
    (got, got_weights), (want, want_weights) = losses
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for a, b in zip(got_weights, want_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
