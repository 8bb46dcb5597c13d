"""How the generated network module hands arrays to its layer kernels.

Numerical agreement with PyTorch is checked in test_codegen_kernels.py; these tests guard
what those cannot see: no kernel is given one array under two names (the vectoriser's
overlap check then fails and the scalar loop runs), narrow kernels have their width written
in and read flat weights, the mask of dropout reaches the backward pass, and arrays of the
wrong width are refused before the loops with written-in sizes read past them.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
from numba import njit

from symprop.architecture import parse_architecture
from symprop.codegen.build import build_network_module, network_source
from symprop.codegen.plan import NARROW_WIDTH


@pytest.fixture(scope="module", autouse=True)
def kernel_cache_dir(kernel_cache):
    return kernel_cache


ARCHITECTURES = [
    ("20-32:relu-1:sigmoid", "bce", None),       # blas hidden layer in place, narrow output
    ("3-5:tanh-4:gelu-2:identity", "mse", None),  # three narrow widths, a stored z (gelu)
    ("4-8:relu-3:softmax", "ce", [True, False]),  # dropout below a narrow softmax layer
    ("3-4:softmax-2:identity", "mse", None),     # softmax hidden: its delta needs a 2nd pass
    ("64-128:relu-64:elu-10:softmax", "ce", None),  # BLAS products throughout
]


def _run_calls(source: str) -> list[ast.Call]:
    tree = ast.parse(source)
    run = next(node for node in tree.body if isinstance(node, ast.FunctionDef)
               and node.name == "run")
    return [node for node in ast.walk(run) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)]


@pytest.mark.parametrize("arch, loss, dropout", ARCHITECTURES)
def test_no_kernel_gets_one_array_under_two_names(arch, loss, dropout):
    source = network_source(parse_architecture(arch), loss, dropout=dropout)
    calls = [c for c in _run_calls(source) if c.func.id.startswith(("forward_", "delta_",
                                                                     "grad_"))]
    assert calls
    for call in calls:
        names = [a.id for a in call.args if isinstance(a, ast.Name) and a.id[0] in "AZDMW"]
        assert len(names) == len(set(names)), f"{ast.unparse(call)} aliases an array"


@pytest.mark.parametrize("arch, loss, dropout", ARCHITECTURES)
def test_narrow_layers_get_flat_weights_and_their_own_width(arch, loss, dropout):
    layers = parse_architecture(arch)
    source = network_source(layers, loss, dropout=dropout)
    calls = {ast.unparse(c) for c in _run_calls(source)}
    for number, layer in enumerate(layers, start=1):
        narrow = layer.n_out < NARROW_WIDTH
        weights = f"W{number}_flat" if narrow else f"W{number}"
        forward = [c for c in calls if c.startswith("forward_") and f", b{number}, " in c]
        assert len(forward) == 1 and f", {weights}, " in forward[0], forward
        if narrow:
            assert forward[0].startswith(f"forward_{layer.activation}_narrow{layer.n_out}")
            # the first layer's gradient alone; a layer above another, with the delta below
            # it in one pass (plan.grad_delta), unless a softmax below takes a pass of its own
            below = layers[number - 2] if number > 1 else None
            if below is None or below.activation == "softmax":
                assert f"def grad_narrow{layer.n_out}(" in source
            else:
                grad = [c for c in calls if c.startswith(
                    f"grad_delta_{below.activation}_narrow{layer.n_out}")]
                assert len(grad) == 1 and f", dW{number}_flat, db{number}, {weights}, " in grad[0]


def test_in_place_forward_has_no_z_argument():
    source = network_source(parse_architecture("20-32:relu-1:sigmoid"), "bce")
    assert "def forward_relu_blas(inp, nb, W, b, A):" in source  # z is not kept: in place
    assert "def forward_sigmoid_narrow1_keep_z(inp, nb, W, b, Z, A):" in source  # bce reads z


@njit
def _numba_uniforms(seed, count):
    """The draws the generated dropout kernel makes after seed_rng(seed)."""
    np.random.seed(seed)
    out = np.empty(count)
    for i in range(count):
        out[i] = np.random.random()
    return out


def test_dropout_mask_reaches_the_backward_pass():
    """One SGD step with dropout on the hidden layer equals PyTorch's step with the same mask
    (float64): the mask scales the forward output and the delta of the layer below."""
    layers = parse_architecture("4-8:relu-3:softmax")
    module = build_network_module(layers, "ce", dtype="float64", dropout=[True, False])
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 4))
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    W1, b1 = rng.standard_normal((4, 8)) * 0.5, rng.standard_normal(8) * 0.1
    W2, b2 = rng.standard_normal((8, 3)) * 0.5, rng.standard_normal(3) * 0.1
    start = [p.copy() for p in (W1, b1, W2, b2)]
    lr, p_drop, seed = 0.1, 0.5, 1234
    module.seed_rng(seed)
    batches, step, status = module.train_epoch(X, Y, np.arange(6), 6, 0, 0.0, np.empty(1),
                                               W1, b1, W2, b2, lr, 0.0, p_drop)
    assert (batches, step, status) == (1, 1, 0)

    keep = 1.0 - p_drop
    mask = np.where(_numba_uniforms(seed, 6 * 8) < keep, 1.0 / keep, 0.0).reshape(6, 8)
    assert 0 < (mask > 0).sum() < mask.size  # the test needs both kept and dropped units
    tensors = [torch.tensor(p, requires_grad=True) for p in start]
    tW1, tb1, tW2, tb2 = tensors
    hidden = torch.relu(torch.tensor(X) @ tW1 + tb1) * torch.tensor(mask)
    logits = hidden @ tW2 + tb2
    loss = -(torch.tensor(Y) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss.backward()
    for got, tensor, name in zip((W1, b1, W2, b2), tensors, ("W1", "b1", "W2", "b2"),
                                 strict=True):
        expected = (tensor - lr * tensor.grad).detach().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=name)


def test_run_refuses_arrays_of_another_width():
    module = build_network_module(parse_architecture("3-5:tanh-1:sigmoid"), "bce")
    params = [np.zeros((3, 5), np.float32), np.zeros(5, np.float32),
              np.zeros((5, 1), np.float32), np.zeros(1, np.float32)]
    X, Y = np.zeros((4, 4), np.float32), np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match="3 columns"):
        module.train_epoch(X, Y, np.arange(4), 2, 0, 0.0, np.empty(2), *params, 0.1, 0.0)
    with pytest.raises(ValueError, match="3 columns"):
        module.train_epoch(X[:, :3], np.zeros((4, 2), np.float32), np.arange(4), 2, 0, 0.0,
                           np.empty(2), *params, 0.1, 0.0)
