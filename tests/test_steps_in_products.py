"""Plain SGD's step inside the weight products (NetworkPlan.steps_in_products): run()
trains such networks with W -= lr inp^T D as BLAS's alpha and beta, the weight gradient
never stored. Which networks take it, that they train as the stored-gradient path (taken
with clipping) and PyTorch do, and that a step it makes non-finite stops training with the
weights from before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symprop as sp
from symprop.blocks import parse_network
from symprop.codegen.blas import binding
from symprop.codegen.build import optimizer_structure
from symprop.codegen.plan import make_plan
from symprop.codegen.printed import update_code_for
from symprop.runtime.network_parts import layers_from_specs

needs_blas = pytest.mark.skipif(binding() is None, reason="no CBLAS bound: np.dot products")

# Every layer multiplies by BLAS under "auto" (at least NARROW_WIDTH outputs and 128
# weights), 36,864 weights in all: at least STEP_IN_PRODUCTS_MIN_WEIGHTS.
ARCH = "12-256:relu-128:tanh-8:softmax"
NO_CLIPPING = None
# A clip norm no gradient here reaches: the stored-gradient path with a scale of exactly 1.
NEVER_CLIPS = 1e30


def _plan(text: str, optimizer: str = "sgd", options: dict | None = None,
          direct_blas: bool = True, matmul: str = "auto", float_type: str = "float32"):
    update = update_code_for(optimizer, optimizer_structure(optimizer, options or {}),
                             float_type)
    return make_plan(parse_network(text), "ce", update, float_type, matmul,
                     direct_blas=direct_blas)


@needs_blas
@pytest.mark.parametrize("float_type", ["float32", "float64"])
def test_plain_sgd_on_blas_layers_steps_inside_the_products(float_type):
    plan = _plan(ARCH, float_type=float_type)
    assert plan.steps_in_products
    assert plan.gemm_step == f"gemm_step_{float_type}"


@pytest.mark.parametrize(("text", "optimizer", "options", "direct_blas", "matmul"), [
    (ARCH, "sgd", {"momentum": 0.9}, True, "auto"),  # a velocity: the gradient is needed
    (ARCH, "sgd", {"weight_decay": 1e-3}, True, "auto"),  # another rule than w - lr g
    (ARCH, "adam", {}, True, "auto"),
    (ARCH, "sgd", {}, False, "auto"),  # np.dot products (exported modules)
    ("12-256:relu-128:tanh-1:sigmoid", "sgd", {}, True, "auto"),  # a narrow loops layer
    ("12-32:relu-16:tanh-8:softmax", "sgd", {}, True, "auto"),  # too few weights to pay
    (ARCH, "sgd", {}, True, "loops"),
    ("12-256:relu-ln-128:tanh-8:softmax", "sgd", {}, True, "auto"),  # a norm's params
])
def test_other_networks_keep_the_stored_gradient(text, optimizer, options, direct_blas,
                                                 matmul):
    plan = _plan(text, optimizer, options, direct_blas, matmul)
    assert not plan.steps_in_products and plan.gemm_step == ""


@needs_blas
def test_the_stepping_source_steps_each_layer_after_the_delta_that_reads_its_weights():
    """In run(): the delta below a layer first (it reads the weights before their step),
    then the layer's step; the clipping and gradients paths keep grad_blas."""
    from symprop.codegen.render import render_network

    source = render_network(_plan(ARCH), "0", "cpu", False, False)
    run = source[source.index("def run("):source.index("def seed_rng")]
    stepping = run[run.index("if stepping:"):run.index("grad_blas(")]
    calls = [line.strip().split("(")[0].removesuffix("_t") for line in stepping.splitlines()
             if line.strip().startswith(("delta_", "step_blas"))]  # _t: from a stored W^T
    assert calls == ["delta_tanh_blas", "step_blas", "delta_relu_blas", "step_blas",
                     "step_blas"]
    assert stepping.index("D3, W3") < stepping.index("step_blas(A2, D3")  # delta, then step
    assert "nonfinite_flat(flat_params[p])" in stepping
    assert "stepping = training and clip_norm <= 0.0" in run
    assert run.count("grad_blas(") == 3  # the stored-gradient path, once a layer


def _layers(text: str) -> list:
    return layers_from_specs(parse_network(text))


def _steps_in_products(net, optimizer) -> bool:
    """Whether the network's module trains by stepping inside its products."""
    return "if stepping:" in Path(net._module(optimizer).__file__).read_text()


def _data(rows: int = 100, seed: int = 4):
    """100 rows: batches of 16 end with a short one of 4."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 12))
    return X, rng.integers(0, 8, rows)


def _trained(dtype: str, clip_norm, dropout: float = 0.0, epochs: int = 4):
    X, y = _data()
    layers = _layers(ARCH)
    layers[0] = sp.Dense(12, 256, "relu", dropout=dropout)
    net = sp.Network(layers, loss="ce", dtype=dtype, seed=5)
    initial = net.params
    history = net.fit(X, y, epochs=epochs, batch_size=16, optimizer=sp.SGD(0.2),
                      clip_norm=clip_norm, verbose=False)  # shuffled: the same seed
    return net, initial, history


@needs_blas
@pytest.mark.parametrize("dropout", [0.0, 0.25])
@pytest.mark.parametrize(("dtype", "rtol"), [("float32", 2e-5), ("float64", 1e-12)])
def test_stepping_trains_as_the_stored_gradient_path(dtype, rtol, dropout):
    """Through fit (shuffled, 4 epochs of 7 batches, the last of 4 rows; with and without
    dropout on the first layer, whose masks the network's seed draws alike): the same
    weights and losses as the clipping path with a norm never reached, which stores the
    gradient and updates after, to rounding (OpenBLAS's small-matrix kernels round lr times
    the product their own way: here at most 1.8e-7 apart in float32, 2.2e-16 in float64;
    large's weights came out the same to the bit)."""
    stepped, initial, history = _trained(dtype, NO_CLIPPING, dropout)
    stored, _, reference = _trained(dtype, NEVER_CLIPS, dropout)
    assert _steps_in_products(stepped, sp.SGD(0.2))
    moved = max(np.abs(W - W0).max() for (W, _), (W0, _) in zip(stepped.params, initial,
                                                                 strict=True))
    assert moved > 1e-2
    for (W, b), (W_ref, b_ref) in zip(stepped.params, stored.params, strict=True):
        np.testing.assert_allclose(W, W_ref, rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(b, b_ref, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(history["loss"], reference["loss"], rtol=rtol)
    assert stepped._step == stored._step == 4 * 7


@needs_blas
@pytest.mark.parametrize("clip_norm", [NO_CLIPPING, 0.05])
def test_stepping_follows_torch_sgd(clip_norm):
    """float64, in order, 4 epochs of 7 batches: the weights after each epoch as
    torch.optim.SGD's from the same start; with a clip norm that binds (the gradient's norm
    is about 1 here), the stored-gradient path, as torch.nn.utils.clip_grad_norm_ scales."""
    torch = pytest.importorskip("torch")
    X, y = _data()
    net = sp.Network(_layers(ARCH), loss="ce", dtype="float64", seed=5)
    assert _steps_in_products(net, sp.SGD(0.2))
    params = [torch.tensor(a, requires_grad=True) for pair in net.params for a in pair]
    optimizer = torch.optim.SGD(params, lr=0.2)
    TX, TY = torch.tensor(X), torch.tensor(y)
    clipped = 0
    for _ in range(4):
        net.fit(X, y, epochs=1, batch_size=16, optimizer=sp.SGD(0.2), shuffle=False,
                verbose=False, clip_norm=clip_norm)
        for start in range(0, len(X), 16):
            optimizer.zero_grad()
            A = TX[start:start + 16]
            for index in range(0, len(params) - 2, 2):
                Z = A @ params[index] + params[index + 1]
                A = torch.relu(Z) if index == 0 else torch.tanh(Z)
            logits = A @ params[-2] + params[-1]
            torch.nn.functional.cross_entropy(logits, TY[start:start + 16]).backward()
            if clip_norm is not None:
                clipped += float(torch.nn.utils.clip_grad_norm_(params, clip_norm)) > clip_norm
            optimizer.step()
        got = [a for pair in net.params for a in pair]
        for g, expected in zip(got, params, strict=True):
            np.testing.assert_allclose(g, expected.detach().numpy(), rtol=1e-10, atol=1e-13)
    if clip_norm is not None:
        assert clipped == 4 * 7  # every step clipped: the test sees the clipping path


@needs_blas
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_step_that_overflows_stops_with_the_weights_from_before_it(dtype):
    """Inputs of 1e25 (1e165) and a learning rate of 1e30 (1e300): the first step inside a
    product makes weights infinite; fit names the batch and gives back the weights it had."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 12)) * (1e25 if dtype == "float32" else 1e165)
    y = rng.integers(0, 8, 32)
    # relu all through: the last layer's gradient keeps the inputs' scale (tanh's slope
    # would flatten it)
    net = sp.Network(_layers("12-256:relu-128:relu-8:softmax"), loss="ce",
                     dtype=dtype, seed=0)
    lr = 1e30 if dtype == "float32" else 1e300
    assert _steps_in_products(net, sp.SGD(lr))
    before = net.params
    with pytest.raises(sp.TrainingError, match=r"update of epoch 1, batch 1 of 2 made a "
                                                r"parameter or optimizer state non-finite"):
        net.fit(X, y, epochs=2, batch_size=16, optimizer=sp.SGD(lr), verbose=False,
                shuffle=False)
    for (W, b), (W0, b0) in zip(net.params, before, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)
    assert net._step == 0
