"""The normalization kernels (codegen/templates/norms.j2) against PyTorch, float64: forward
in training (batch statistics, running statistics moved by momentum) and evaluation, and the
backward pass (input, gamma and beta gradients)."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symprop.codegen.plan import Kernel, jit_options
from symprop.codegen.printed import activation_code_for
from symprop.codegen.render import environment

MACROS = ("batchnorm_forward", "layernorm_forward", "layernorm_backward", "add_rows",
          "copy_rows", "accumulate")
HEADER = ("import math\n\nimport numpy as np\nfrom numba import njit\n\n"
          "GRAD_NONE, GRAD_WRITE, GRAD_ADD = 0, 1, 2\n\n\n")


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """The kernels rendered into a module file and imported (Numba compiles real files):
    the plain ones, and those that go on through relu's slope."""
    plan = SimpleNamespace(jit=jit_options("float64", called_from_python=True),
                           float_type="float64")
    macros = environment().get_template("norms.j2").make_module({})
    relu = activation_code_for("relu", "float64")
    parts = [str(getattr(macros, name)(plan)) for name in MACROS]
    parts.append(str(macros.batchnorm_backward(plan, True)))
    parts += [str(macros.norm_slope_kernel(plan, Kernel("relu", relu, kind)))
              for kind in ("batchnorm", "layernorm")]
    path = tmp_path_factory.mktemp("norms") / "norm_kernels.py"
    path.write_text(HEADER + "\n\n\n".join(parts))
    spec = importlib.util.spec_from_file_location("norm_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case(rows=5, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, n)) * 2 + 1, rng.normal(size=(rows, n)),
            rng.uniform(0.5, 2, n), rng.normal(size=n))


def test_batchnorm_train_and_eval_match_torch(kernels):
    rows, n, momentum, eps = 5, 4, 0.1, 1e-5
    X, G, gamma, beta = _case(rows, n)
    RM, RV = np.zeros(n), np.ones(n)
    H, XH, E = (np.empty((rows + 2, n)) for _ in range(3))  # buffers have spare rows
    MU, IS, dgamma, dbeta = (np.empty(n) for _ in range(4))
    kernels.batchnorm_forward(X, rows, gamma, beta, H, XH, MU, IS, RM, RV, True, True,
                              momentum, eps)
    kernels.batchnorm_backward(G, XH, IS, gamma, rows, E, dgamma, dbeta, 1)

    xt = torch.tensor(X, requires_grad=True)
    w, b = (torch.tensor(v, requires_grad=True) for v in (gamma, beta))
    rm, rv = torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.float64)
    out = F.batch_norm(xt, rm, rv, w, b, training=True, momentum=momentum, eps=eps)
    out.backward(torch.tensor(G))
    np.testing.assert_allclose(H[:rows], out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(RM, rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(RV, rv.numpy(), rtol=1e-12)
    np.testing.assert_allclose(E[:rows], xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma, w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dbeta, b.grad.numpy(), rtol=1e-12)

    kernels.batchnorm_forward(X, rows, gamma, beta, H, XH, MU, IS, RM, RV, False, False,
                              momentum, eps)
    evaluated = F.batch_norm(torch.tensor(X), rm, rv, w, b, training=False, eps=eps)
    np.testing.assert_allclose(H[:rows], evaluated.detach().numpy(), rtol=1e-12)


def test_gradients_mode_keeps_the_running_statistics(kernels):
    X, _, gamma, beta = _case()
    RM, RV = np.full(4, 0.5), np.full(4, 2.0)
    buffers = [np.empty((5, 4)) for _ in range(2)] + [np.empty(4) for _ in range(2)]
    kernels.batchnorm_forward(X, 5, gamma, beta, *buffers, RM, RV, True, False, 0.1, 1e-5)
    assert np.all(RM == 0.5) and np.all(RV == 2.0)


def test_layernorm_matches_torch(kernels):
    rows, n, eps = 6, 5, 1e-5
    X, G, gamma, beta = _case(rows, n, seed=1)
    H, XH, E = (np.empty((rows, n)) for _ in range(3))
    IS, dgamma, dbeta = np.empty(rows), np.empty(n), np.empty(n)
    kernels.layernorm_forward(X, rows, gamma, beta, H, XH, IS, eps)
    kernels.layernorm_backward(G, XH, IS, gamma, rows, E, dgamma, dbeta, 1)
    xt = torch.tensor(X, requires_grad=True)
    w, b = (torch.tensor(v, requires_grad=True) for v in (gamma, beta))
    out = F.layer_norm(xt, (n,), w, b, eps=eps)
    out.backward(torch.tensor(G))
    np.testing.assert_allclose(H, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(E, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma, w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dbeta, b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["batchnorm", "layernorm"])
def test_the_input_gradient_is_written_added_or_skipped(kernels, kind):
    rows, n = 6, 5
    X, G, gamma, beta = _case(rows, n, seed=2)
    H, XH, written = (np.empty((rows, n)) for _ in range(3))
    IS = np.empty(n if kind == "batchnorm" else rows)
    MU, RM, RV, dgamma, dbeta = np.empty(n), np.zeros(n), np.ones(n), np.empty(n), np.empty(n)
    if kind == "batchnorm":
        kernels.batchnorm_forward(X, rows, gamma, beta, H, XH, MU, IS, RM, RV, True, True,
                                  0.1, 1e-5)
    else:
        kernels.layernorm_forward(X, rows, gamma, beta, H, XH, IS, 1e-5)
    backward = getattr(kernels, f"{kind}_backward")
    backward(G, XH, IS, gamma, rows, written, dgamma, dbeta, 1)
    earlier = np.arange(rows * n, dtype=float).reshape(rows, n)  # another consumer's share
    added, untouched = earlier.copy(), earlier.copy()
    backward(G, XH, IS, gamma, rows, added, dgamma, dbeta, 2)
    backward(G, XH, IS, gamma, rows, untouched, dgamma, dbeta, 0)
    np.testing.assert_allclose(added, earlier + written, rtol=1e-14)
    np.testing.assert_array_equal(untouched, earlier)
    # through the slope of a relu layer below (A its output): the written gradient times
    # relu'(A), in the same pass
    A = np.where(np.arange(rows * n).reshape(rows, n) % 3 == 0, 0.0, 1.5)
    delta = np.full((rows, n), np.nan)
    getattr(kernels, f"{kind}_backward_relu")(G, XH, IS, gamma, rows, delta, dgamma, dbeta, A)
    np.testing.assert_allclose(delta, written * (A > 0), rtol=1e-14)


def test_add_copy_and_accumulate(kernels):
    A, B = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    out = np.zeros((4, 2))
    kernels.add_rows(A, B, out, 3)
    kernels.accumulate(out, B, 2)
    np.testing.assert_array_equal(out[:3], A + B + [[1], [1], [0]])
    assert np.all(out[3] == 0)
    kernels.copy_rows(out, A, 2)
    np.testing.assert_array_equal(out[:3], np.vstack([A[:2], (A + B)[2:]]))
