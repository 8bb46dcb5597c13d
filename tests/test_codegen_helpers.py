"""The scalar helpers every generated module carries (sigmoid, softplus), against float64."""

from __future__ import annotations

import numpy as np
import pytest

from symprop.codegen.build import activations_source, build_activation_module


@pytest.fixture(scope="module", autouse=True)
def kernel_cache_dir(kernel_cache):
    return kernel_cache


def _grid() -> np.ndarray:
    """Logits from 0 to 1e4 of both signs, dense around where e^-|z| crosses 2^-29 (the
    float32 softplus switches from the double log to e itself there: |z| = 20.1)."""
    edge = 29 * np.log(2.0)
    parts = [np.linspace(-30, 30, 20001), edge + np.linspace(-1e-3, 1e-3, 2001),
             -edge + np.linspace(-1e-3, 1e-3, 2001), np.geomspace(1e-8, 1e4, 2000),
             -np.geomspace(1e-8, 1e4, 2000), [0.0, 88.0, -88.0, 104.0, -104.0]]
    return np.concatenate(parts).astype(np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softplus_helper_is_accurate_to_an_ulp_or_two(dtype):
    module = build_activation_module(["softplus"], dtype)
    z = _grid().astype(dtype)
    got = np.array([module._softplus(v) for v in z], dtype=dtype)
    expected = np.logaddexp(0.0, z.astype(np.float64))
    assert np.isfinite(got).all()
    ulps = np.abs(got - expected) / np.spacing(expected.astype(dtype)).astype(np.float64)
    assert ulps.max() <= 2, f"worst at z={z[ulps.argmax()]}: {ulps.max():.1f} ulp"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_helper_is_accurate_to_a_few_ulp(dtype):
    """Branch-free, e/(1 + e) is e * (1/(1 + e)): one rounding more than a division, and
    float32 kernels allow approximate functions (2.4 ulp at worst here; 1.7 with a branch)."""
    module = build_activation_module(["sigmoid"], dtype)
    z = _grid().astype(dtype)
    got = np.array([module._sigmoid(v) for v in z], dtype=dtype)
    z64 = z.astype(np.float64)
    expected = np.where(z64 >= 0, 1 / (1 + np.exp(-np.abs(z64))),
                        np.exp(-np.abs(z64)) / (1 + np.exp(-np.abs(z64))))
    tiny = expected < np.finfo(dtype).tiny  # subnormal results: compare absolutely
    ulps = np.abs(got - expected) / np.spacing(expected.astype(dtype)).astype(np.float64)
    bound = 3 if dtype == "float32" else 2
    assert ulps[~tiny].max() <= bound, f"worst at z={z[~tiny][ulps[~tiny].argmax()]}"
    assert np.abs(got[tiny] - expected[tiny]).max(initial=0.0) <= np.finfo(dtype).smallest_subnormal


def test_only_the_float32_cpu_softplus_takes_the_double_log():
    assert "math.log(1.0 + np.float64(e))" in activations_source(["softplus"], "float32")
    assert "math.log1p(" in activations_source(["softplus"], "float64")
