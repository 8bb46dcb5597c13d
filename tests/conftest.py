"""Shared test helpers: the session's kernel cache folder, numeric evaluation of SymPy
results, finite differences, PyTorch reference implementations, the built-in activations."""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest
import sympy as sp

from symprop.derive.activations import BUILTINS


@contextlib.contextmanager
def cache_dir_env(folder):
    """SYMPROP_CACHE_DIR set to ``folder`` inside the block, restored after it."""
    old = os.environ.get("SYMPROP_CACHE_DIR")
    os.environ["SYMPROP_CACHE_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if old is None:
            os.environ.pop("SYMPROP_CACHE_DIR", None)
        else:
            os.environ["SYMPROP_CACHE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """One kernel cache folder for the whole test session, empty at its start: tests never
    touch the user's cache, and each network structure compiles once per session (test
    subprocesses get the same folder through the environment)."""
    folder = tmp_path_factory.getbasetemp() / "symprop-kernel-cache"
    folder.mkdir(mode=0o700, exist_ok=True)  # private, as symprop requires
    with cache_dir_env(folder):
        yield folder


# Every built-in elementwise activation (softmax is the vector one, tested on its own).
ELEMENTWISE_ACTIVATIONS = sorted(BUILTINS)

# Activations with a kink (or a jump) at z = 0: sample z away from it.
KINKED = {"step", "relu", "leaky_relu", "elu", "selu", "softsign"}


def bind(expr: sp.Expr, params: dict | None) -> sp.Expr:
    """``expr`` with hyperparameter symbols replaced by their values."""
    return expr.subs(params) if params else expr


def to_numpy_function(expr: sp.Expr, symbol, params: dict | None = None):
    """A vectorised float64 function of ``expr`` in ``symbol`` (or a list of symbols), with
    the hyperparameters of ``params`` ({Symbol: float}) bound. Uses numpy + scipy (erf)."""
    symbols = list(symbol) if isinstance(symbol, list | tuple) else [symbol]
    bound = bind(expr, params)
    extra = bound.free_symbols - set(symbols)
    assert not extra, f"unbound symbols {extra} in {bound}"
    function = sp.lambdify(symbols, bound, modules=["numpy", "scipy"])

    def evaluate(*values):
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
        with np.errstate(all="ignore"):
            out = function(*arrays)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), arrays[0].shape).copy()

    return evaluate


def to_scalar_function(expr: sp.Expr, symbols, params: dict | None = None):
    """A float function through the ``math`` module (for Max/Min/Abs at single points)."""
    symbols = list(symbols) if isinstance(symbols, list | tuple) else [symbols]
    bound = bind(expr, params)
    extra = bound.free_symbols - set(symbols)
    assert not extra, f"unbound symbols {extra} in {bound}"
    function = sp.lambdify(symbols, bound, modules=["math"])
    return lambda *values: float(function(*values))


def central_difference(f, x, h: float = 1e-6):
    """(f(x + h) - f(x - h)) / 2h, elementwise over an array x."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def assert_close(got, expected, rtol, atol=0.0, what=""):
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: shapes {got.shape} vs {expected.shape}"
    assert np.all(np.isfinite(got)), f"{what}: non-finite values {got}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=what)


@pytest.fixture(params=ELEMENTWISE_ACTIVATIONS)
def builtin_activation_name(request) -> str:
    """Each built-in elementwise activation name in turn."""
    return request.param


@pytest.fixture
def builtin_activation_names() -> list[str]:
    return list(ELEMENTWISE_ACTIVATIONS)


def torch_activation(name: str, hyper: dict[str, float]):
    """The PyTorch equivalent of a built-in activation, as a function of a float64 tensor.

    ``hyper`` is ``Activation.hyperparameters`` (names -> values). torch is imported lazily so
    that test files that do not need it do not pay for the import."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    table = {
        "identity": lambda x: x,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=hyper["alpha"]),
        "elu": lambda x: F.elu(x, alpha=hyper["alpha"]),
        "selu": F.selu,
        "softplus": F.softplus,
        "softsign": F.softsign,
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "silu": lambda x: x * torch.sigmoid(hyper["beta"] * x),
        "mish": F.mish,
        "step": lambda x: (x >= 0).to(x.dtype) + 0 * x,  # derivative 0 away from the jump
    }
    return table[name]


def torch_derivative(function, zs):
    """d function(z) / dz elementwise, by torch autograd in float64."""
    import torch

    x = torch.tensor(np.asarray(zs, dtype=np.float64), dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(function(x).sum(), x)
    return grad.detach().numpy(), function(x).detach().numpy()
