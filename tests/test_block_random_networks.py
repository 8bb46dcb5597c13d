"""Random networks mixing Dense, BatchNorm (train mode), LayerNorm and residual blocks, for
every loss/output pair: the gradients of the compiled modules (through Network, so with the
BLAS products and transposed weight copies real training uses) equal PyTorch autograd
(float64, relative 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_all_activations_network import PAIRS, torch_loss
from test_block_modules import TorchNet

import symprop as sp
from symprop.blocks import parse_network
from symprop.runtime.network_parts import layers_from_specs

HIDDEN = ("relu", "tanh", "sigmoid", "identity")
# 24 and 96 put products in BLAS, and 24 x 24 .. 96 x 96 in the range where run() keeps a
# transposed copy of the weights (codegen/plan.py TRANSPOSE_WEIGHTS); 3 and 5 stay in loops.
WIDTHS = (3, 5, 24, 96)
ROWS, K = 9, 3


@st.composite
def hidden_nodes(draw, width: int, depth: int = 0, count=(1, 3)) -> tuple[list[str], int]:
    """Tokens of an architecture string from ``width`` on, and the width they end at."""
    tokens = []
    for _ in range(draw(st.integers(*count))):
        kind = draw(st.sampled_from(("dense", "dense", "bn", "ln", "residual")
                                    if depth < 2 else ("dense", "bn", "ln")))
        if kind == "dense":
            width = draw(st.sampled_from(WIDTHS))
            tokens.append(f"{width}:{draw(st.sampled_from(HIDDEN))}")
        elif kind == "residual":  # a body that comes back to the block's width
            body, end = draw(hidden_nodes(width, depth + 1, (1, 2)))
            if end != width:
                body.append(f"{width}:{draw(st.sampled_from(HIDDEN))}")
            tokens.append(f"[{'-'.join(body)}]")
        else:
            tokens.append(kind)
    return tokens, width


@st.composite
def architectures(draw, output: str) -> str:
    n_in = draw(st.sampled_from((2, 4)))
    tokens, _ = draw(hidden_nodes(n_in))
    return f"{n_in}-{'-'.join(tokens)}-{K}:{output}"


def _targets(rng, loss, output):
    if loss == "ce":
        labels = rng.integers(0, K, ROWS)
        return labels, np.eye(K)[labels]
    if loss == "bce":
        Y = rng.integers(0, 2, (ROWS, K)).astype(float)
        return Y, Y
    Y = rng.normal(size=(ROWS, K)) * (0.3 if output == "softmax" else 1.0)
    return Y, Y


def check_gradients(text: str, output: str, loss: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    specs = parse_network(text)
    net = sp.Network(layers_from_specs(specs), loss=loss, dtype="float64", seed=seed)
    # gamma and beta away from 1 and 0, weights scaled so deep stacks stay in range
    net.set_params([(rng.normal(0, 1 / np.sqrt(W.shape[0]) if W.ndim == 2 else 0.5,
                                W.shape) + (W.ndim == 1), rng.normal(0, 0.3, b.shape))
                    for W, b in net.params])
    X = rng.normal(size=(ROWS, net.n_in))
    y, Y = _targets(rng, loss, output)
    ours = net.gradients(X, y)
    arrays = [array for pair in net.params for array in pair]
    reference = TorchNet(specs, arrays, [array.copy() for array in net._running])
    torch_loss(loss, reference.forward(X), torch.tensor(Y)).backward()
    got = [array for pair in ours for array in pair]
    expected = [tensor.grad.numpy() for tensor in reference.tensors]
    assert len(got) == len(expected)
    # Relative to the gradient's scale: some entries are zero in exact arithmetic and
    # rounding noise in both (beta of a norm right before a batch normalization).
    scale = max(np.abs(array).max() for array in expected)
    for number, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12 * scale,
                                   err_msg=f"{text} ({loss}): parameter {number}")


# One fixed mixed network per pair: every pair checked on every run.
# (96:sigmoid -> 24:tanh: a dense pair whose delta product reads a transposed copy.)
FIXED = "4-24:tanh-bn-[24:relu-ln]-96:sigmoid-24:tanh-[24:relu-bn]"


@pytest.mark.parametrize(("output", "loss"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_every_loss_output_pair_after_mixed_layers(output, loss):
    check_gradients(f"{FIXED}-{K}:{output}", output, loss)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_mixed_networks_match_autograd(data):
    output, loss = data.draw(st.sampled_from(PAIRS))
    text = data.draw(architectures(output))
    check_gradients(text, output, loss, seed=data.draw(st.integers(0, 2**16)))
