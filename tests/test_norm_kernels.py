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

from symprop.codegen.plan import jit_options
from symprop.codegen.render import environment

MACROS = ("batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward",
          "add_rows", "accumulate")


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """The kernels rendered into a module file and imported (Numba compiles real files)."""
    plan = SimpleNamespace(jit=jit_options("float64", called_from_python=True),
                           float_type="float64")
    macros = environment().get_template("norms.j2").make_module({})
    body = "\n\n\n".join(str(getattr(macros, name)(plan)) for name in MACROS)
    path = tmp_path_factory.mktemp("norms") / "norm_kernels.py"
    path.write_text("import math\n\nimport numpy as np\nfrom numba import njit\n\n\n" + body)
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
    kernels.batchnorm_backward(G, XH, IS, gamma, rows, E, dgamma, dbeta)

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
    kernels.layernorm_backward(G, XH, IS, gamma, rows, E, dgamma, dbeta)
    xt = torch.tensor(X, requires_grad=True)
    w, b = (torch.tensor(v, requires_grad=True) for v in (gamma, beta))
    out = F.layer_norm(xt, (n,), w, b, eps=eps)
    out.backward(torch.tensor(G))
    np.testing.assert_allclose(H, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(E, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma, w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dbeta, b.grad.numpy(), rtol=1e-12)


def test_add_and_accumulate(kernels):
    A, B = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    out = np.zeros((4, 2))
    kernels.add_rows(A, B, out, 3)
    kernels.accumulate(out, B, 2)
    np.testing.assert_array_equal(out[:3], A + B + [[1], [1], [0]])
    assert np.all(out[3] == 0)
