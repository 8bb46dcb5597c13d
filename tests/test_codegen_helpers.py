"""The scalar helpers every generated module carries (sigmoid, softplus), against float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.codegen.build import activations_source, build_activation_module


@pytest.fixture(scope="module", autouse=True)
def kernel_cache_dir(kernel_cache):
    return kernel_cache


def _grid() -> np.ndarray:
    """Logits from 0 to 1e4 of both signs, dense where the float32 helpers switch branch:
    |z| = ln(1 + sqrt 2) (e^-|z| = sqrt(2) - 1, softplus' two series), |z| = 104 (the
    exponent's floor), |z| = 20.1 (e^-|z| = 2^-29, where an earlier softplus switched)."""
    edges = [np.log(1 + np.sqrt(2.0)), 104.0, 29 * np.log(2.0)]
    near = [sign * edge + np.linspace(-1e-3, 1e-3, 2001) for edge in edges for sign in (1, -1)]
    parts = [np.linspace(-30, 30, 20001), np.linspace(-120, 120, 24001), *near,
             np.geomspace(1e-8, 1e4, 2000), -np.geomspace(1e-8, 1e4, 2000),
             [0.0, 88.0, -88.0, 104.0, -104.0, 1e-30, -1e-30]]
    return np.concatenate(parts).astype(np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softplus_helper_is_accurate_to_an_ulp(dtype):
    module = build_activation_module(["softplus"], dtype)
    z = _grid().astype(dtype)
    got = np.array([module._softplus(v) for v in z], dtype=dtype)
    expected = np.logaddexp(0.0, z.astype(np.float64))
    assert np.isfinite(got).all()
    ulps = np.abs(got - expected) / np.spacing(expected.astype(dtype)).astype(np.float64)
    # float32: computed in double and rounded once (0.51 ulp at worst here)
    bound = 1 if dtype == "float32" else 2
    assert ulps.max() <= bound, f"worst at z={z[ulps.argmax()]}: {ulps.max():.1f} ulp"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_helper_is_accurate_to_an_ulp_or_two(dtype):
    """Branch-free, e/(1 + e) is e * (1/(1 + e)): one rounding more than a division (float64:
    2 ulp); float32 computes in double and rounds once (0.51 ulp at worst here)."""
    module = build_activation_module(["sigmoid"], dtype)
    z = _grid().astype(dtype)
    got = np.array([module._sigmoid(v) for v in z], dtype=dtype)
    z64 = z.astype(np.float64)
    expected = np.where(z64 >= 0, 1 / (1 + np.exp(-np.abs(z64))),
                        np.exp(-np.abs(z64)) / (1 + np.exp(-np.abs(z64))))
    tiny = expected < np.finfo(dtype).tiny  # subnormal results: compare absolutely
    ulps = np.abs(got - expected) / np.spacing(expected.astype(dtype)).astype(np.float64)
    bound = 1 if dtype == "float32" else 2
    assert ulps[~tiny].max() <= bound, f"worst at z={z[~tiny][ulps[~tiny].argmax()]}"
    assert np.abs(got[tiny] - expected[tiny]).max(initial=0.0) <= np.finfo(dtype).smallest_subnormal


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_helpers_keep_nan_and_infinity(dtype):
    """A NaN logit must give a NaN loss (training stops on it), not a finite number."""
    module = build_activation_module(["sigmoid", "softplus"], dtype)
    inf = np.array(np.inf, dtype=dtype)
    assert np.isnan(module._sigmoid(np.array(np.nan, dtype=dtype)[()]))
    assert np.isnan(module._softplus(np.array(np.nan, dtype=dtype)[()]))
    assert module._sigmoid(inf[()]) == 1.0 and module._sigmoid(-inf[()]) == 0.0
    assert module._softplus(inf[()]) == np.inf and module._softplus(-inf[()]) == 0.0


def test_float32_cpu_helpers_call_no_c_library_function():
    """What lets the loops calling them vectorise: float32 CPU helpers are arithmetic only,
    inlined into their callers; float64 keeps the C library's exp and log1p."""
    source = activations_source(["sigmoid", "softplus"], "float32")
    helpers = source[source.index("def _exp_neg"):source.index("def sigmoid_forward")]
    assert "math.exp" not in helpers and "math.log" not in helpers
    # _softplus: too big for LLVM's inliner; _exp_neg32: a function of its own cost a cold
    # start 0.2 s of compiling
    assert helpers.count('inline="always"') == 2
    assert "math.log1p(" in activations_source(["softplus"], "float64")


def test_float32_softmax_exponential_is_accurate_to_an_ulp():
    """_exp_neg32 (the float32 CPU softmax's e^(z - max z)) on x <= 0 against float64: about
    an ulp (1.25 at worst) down to e^x's smallest normal float32, zero below it and at -inf;
    a NaN stays a NaN. Its reduction by ln 2 is one operation in double, whatever 'reassoc'
    does: in two float32 steps (Cody and Waite) LLVM merged them, at 4.5 ulp."""
    module = build_activation_module(["sigmoid"], "float32")
    floor = np.float32(-87.33654)
    edges = [k * np.log(2) + np.linspace(-1e-4, 1e-4, 201) for k in (-126, -100, -50, -1)]
    x = np.concatenate([np.linspace(floor, 0, 400001), -np.geomspace(1e-9, 87.3, 20001),
                        *edges, [0.0, -0.0]]).astype(np.float32)
    x = x[x >= floor]
    got = np.array([module._exp_neg32(v) for v in x], dtype=np.float32)
    expected = np.exp(x.astype(np.float64))
    ulps = np.abs(got - expected) / np.spacing(expected.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.3, f"worst at x={x[ulps.argmax()]}: {ulps.max():.2f} ulp"
    for below in (np.nextafter(floor, np.float32(-np.inf)), -100.0, -1e4, -np.inf):
        assert module._exp_neg32(np.float32(below)) == 0.0
    assert np.isnan(module._exp_neg32(np.float32(np.nan)))
    assert module._exp_neg32(np.float32(0.0)) == 1.0


def test_float32_log_softmax_keeps_its_digits_at_large_logits():
    """The cross-entropy reads the softmax layer's log-probabilities z - (max z + log sum):
    that shift is made in double, so a confident row's loss (about 3e-3 here) stays exact to
    float32's rounding, whatever the logits' offset (in float32 it was 1e-4 off near 3000).
    The network's logits: its bias (the offset) plus 8 for each row's labelled class, which
    the hidden layer copies from a one-hot of the label given as inputs."""
    import symprop as sp

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 64)
    X = np.eye(10, dtype=np.float32)[y]
    net = sp.Network([sp.Dense(10, 16, "relu"), sp.Dense(16, 10, "softmax")], loss="ce",
                     dtype="float32", seed=0)
    W1 = np.zeros((10, 16), np.float32)
    W1[:, :10] = np.eye(10, dtype=np.float32)
    W2 = np.zeros((16, 10), np.float32)
    W2[:10, :10] = 8.0 * np.eye(10, dtype=np.float32)
    expected = np.log(np.exp(8.0) + 9.0) - 8.0  # every row alike
    for offset in (0.0, 300.0, 3000.0):
        net.set_params([(W1, np.zeros(16, np.float32)), (W2, np.full(10, offset, np.float32))])
        got = net.evaluate(X, y)["loss"]
        assert abs(got - expected) < 1e-6, (offset, got, expected)


def test_float32_cpu_softmax_layer_calls_no_c_library_exp():
    """A float32 CPU softmax layer of a vector's width or more: its exponentials are the
    helper's arithmetic (its loop vectorises). A narrow one (3 outputs) keeps the C
    library's exp, which compiles faster (0.2 s of the iris network's cold start), and so
    does float64."""
    from symprop.architecture import parse_architecture
    from symprop.codegen.build import network_source

    for arch, dtype, helper in (("4-8:relu-10:softmax", "float32", True),
                                ("4-8:relu-10:softmax", "float64", False),
                                ("4-8:relu-3:softmax", "float32", False)):
        source = network_source(parse_architecture(arch), "ce", dtype=dtype)
        kernel = source[source.index("def forward_softmax"):]
        kernel = kernel[:kernel.index("\n@njit")]
        assert ("_exp_neg32(" in kernel) is helper, (arch, dtype)
        assert ("math.exp(" in kernel) is not helper, (arch, dtype)


@pytest.mark.parametrize("outputs", [3, 10])
@pytest.mark.parametrize("gap", [10.0, 14.0, 18.0, 30.0])
def test_a_float32_softmax_keeps_a_confident_rows_small_loss(gap, outputs):
    """A float32 softmax, narrow (3 outputs) and wide (10: the vectorised float32 loop):
    the cross-entropy of a row whose right logit leads by ``gap`` is log(1 + (K-1) e^-gap),
    about (K-1) e^-gap. A float32 row sum, 1 + (K-1) e^-gap, rounds that away (at 18 the
    loss came out 0); the other columns' sum and log1p keep it. A tie at the top counts."""
    net = sp.Network([sp.Dense(1, outputs, "softmax")], loss="ce", dtype="float32", seed=0)
    W = np.zeros((1, outputs), np.float32)
    W[0, 0] = gap
    net.set_params([(W, np.zeros(outputs, np.float32))])
    loss = net.evaluate(np.ones((1, 1)), np.array([0]))["loss"]
    np.testing.assert_allclose(loss, np.log1p((outputs - 1) * np.exp(-gap)), rtol=1e-4)
    W[0, 1] = gap  # two columns tie at the top: the loss is log(2 + (K-2) e^-gap)
    net.set_params([(W, np.zeros(outputs, np.float32))])
    loss = net.evaluate(np.ones((1, 1)), np.array([0]))["loss"]
    np.testing.assert_allclose(loss, np.log(2 + (outputs - 2) * np.exp(-gap)), rtol=1e-4)
    probabilities = net.predict(np.ones((1, 1)))
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-6)


_SOFTMAX_NETS: dict = {}


def _softmax_net(outputs: int, dtype: str):
    """Dense(K, K, softmax) with W = I, b = 0: its logits are the inputs, exactly."""
    key = (outputs, dtype)
    if key not in _SOFTMAX_NETS:
        net = sp.Network([sp.Dense(outputs, outputs, "softmax")], loss="ce", dtype=dtype,
                         seed=0)
        net.set_params([(np.eye(outputs, dtype=dtype), np.zeros(outputs, dtype))])
        _SOFTMAX_NETS[key] = net
    return _SOFTMAX_NETS[key]


@given(data=st.data(), outputs=st.sampled_from([3, 10]),
       dtype=st.sampled_from(["float32", "float64"]))
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_softmax_cross_entropy_of_any_row_matches_a_careful_reference(data, outputs, dtype):
    """Any row of logits (ties, gaps up to 80, offsets up to 1e3) and any label: the loss is
    log1p(the other columns' share) - (z_label - max z), to float32's or float64's rounding
    relative to the loss itself, however small (narrow and vectorised softmax kernels)."""
    offset = data.draw(st.sampled_from([0.0, 7.5, -300.0, 1000.0]))
    steps = data.draw(st.lists(st.integers(0, 80), min_size=outputs, max_size=outputs))
    fraction = data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5]), min_size=outputs,
                                  max_size=outputs))
    label = data.draw(st.integers(0, outputs - 1))
    z = (offset - np.array(steps, np.float64) - np.array(fraction)).astype(dtype)
    gaps = z.astype(np.float64) - z.max()  # exact: the logits are multiples of 1/4
    others = np.exp(gaps[gaps < 0])
    rest = math.fsum(others) + (np.count_nonzero(gaps == 0) - 1)
    expected = math.log1p(rest) - gaps[label]
    loss = _softmax_net(outputs, dtype).evaluate(z[None, :], np.array([label]))["loss"]
    rtol = 2e-6 if dtype == "float32" else 1e-13
    assert abs(loss - expected) <= rtol * expected + 1e-300, (z, label, loss, expected)


@pytest.mark.parametrize("outputs", [3, 10])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("column, value", [(0, "nan"), (1, "nan"), (0, "inf"), (2, "inf")])
def test_a_non_finite_logit_makes_the_loss_nan(outputs, dtype, column, value):
    """A NaN or +inf logit from finite inputs and weights (a product that overflows): the
    row's loss is NaN (training stops on it), wherever it sits, the label's column or not,
    the top or not. The other columns' share is summed apart from the top: a NaN must
    still reach the loss."""
    big = np.finfo(dtype).max / 2
    W = np.zeros((2, outputs), dtype)
    W[:, column] = (big, big) if value == "inf" else (big, -big)  # inf, or inf - inf
    net = sp.Network([sp.Dense(2, outputs, "softmax")], loss="ce", dtype=dtype, seed=0)
    net.set_params([(W, np.zeros(outputs, dtype))])
    loss = net.evaluate(np.full((2, 2), 10.0, dtype), np.array([0, 1]))["loss"]
    assert np.isnan(loss), loss
