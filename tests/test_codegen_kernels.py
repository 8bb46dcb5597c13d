"""Generated kernels: the Numba printer, the stable rewrites, the elementwise activation
kernels against hand-written NumPy references (float64 and float32), their stability at
|z| up to 1e4, and the fused network module against PyTorch autograd (float64).

Numba compiles are slow, so the test builds ONE activation module per dtype holding every
activation and only a handful of network modules, each reused through module-scoped caches.
Everything is written into a temporary SYMPROP_CACHE_DIR, never the user's cache.
"""

from __future__ import annotations

import copy
import math
import os
import re
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F  # noqa: N812
from numba.core.dispatcher import Dispatcher
from scipy.special import erf, expit
from scipy.special import softmax as np_softmax

from symprop.architecture import parse_architecture
from symprop.codegen.build import build_activation_module, build_network_module
from symprop.codegen.kernels import activation_code, loss_code, update_code
from symprop.codegen.plan import make_plan
from symprop.codegen.printer import NumbaPrinter, print_assignments
from symprop.codegen.stable import sigmoid, softplus, stabilize
from symprop.derive.activations import BUILTINS, activation
from symprop.derive.optimizers import update_rule
from symprop.derive.symbols import z
from tests.conftest import torch_activation

MISH_FORMULA = "x*tanh(log(1 + exp(x)))"
ELU03_FORMULA = "where(x > 0, x, 0.3*(exp(x) - 1))"
ELEMENTWISE = [name for name in sorted(BUILTINS) if name != "step"] + [MISH_FORMULA,
                                                                      ELU03_FORMULA]
ALL_SPECS = [*ELEMENTWISE, "softmax"]
DTYPES = ("float64", "float32")
TOLERANCE = {"float64": {"rtol": 1e-12, "atol": 1e-14},
             "float32": {"rtol": 1e-5, "atol": 1e-6}}
# An even number of points from -20 to 20: 0 (every kink of the activations) is not hit.
GRID = np.linspace(-20.0, 20.0, 400)
EXTREMES = np.array([-1e4, -100.0, 0.0, 100.0, 1e4])


# Compiles every kernel of the activation modules once, in a second process, so that Numba's
# on-disk cache is warm when the tests below call them (the tests run the network modules'
# compiles meanwhile). Kernels are found by name; the hyperparameter count comes from the
# signature. Purely a speed-up: if it fails, the tests compile the kernels themselves.
WARM_UP = """
import importlib.util, inspect, sys
import numpy as np
for name, path, dtype in zip(*[iter(sys.argv[1:])] * 3):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as symprop's loader does: Numba pickles the module name
    spec.loader.exec_module(module)
    Z = np.linspace(-1.0, 1.0, 20).reshape(4, 5).astype(dtype)
    for attr, kernel in sorted(vars(module).items()):
        if attr.endswith("_forward"):
            extra = len(inspect.signature(kernel.py_func).parameters) - 2
            kernel(Z, np.empty_like(Z), *[0.5] * extra)
        elif attr.endswith("_backward"):
            extra = len(inspect.signature(kernel.py_func).parameters) - 3
            kernel(Z, Z.copy(), np.empty_like(Z), *[0.5] * extra)
"""


@pytest.fixture(scope="module", autouse=True)
def kernel_cache_dir(kernel_cache):
    """Every module of this file goes to the session's temporary cache folder."""
    return kernel_cache


@pytest.fixture(scope="module", autouse=True)
def activation_modules(kernel_cache_dir):
    """One activation module per dtype with every activation in it (rendered here, compiled
    in the background by a warm-up process until ``kernels`` is first used)."""
    modules = {dtype: build_activation_module(ALL_SPECS, dtype) for dtype in DTYPES}
    arguments = []
    for dtype, module in modules.items():
        assert os.path.dirname(module.__symprop_path__) == str(kernel_cache_dir)
        arguments += [module.__name__, module.__symprop_path__, dtype]
    warm_up = subprocess.Popen([sys.executable, "-c", WARM_UP, *arguments],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield modules, warm_up
    if warm_up.poll() is None:
        warm_up.kill()
        warm_up.wait()


@pytest.fixture(scope="module")
def kernels(activation_modules):
    modules, warm_up = activation_modules
    try:
        warm_up.wait(timeout=300)
    except subprocess.TimeoutExpired:
        warm_up.kill()
        warm_up.wait()
    return modules


def kernel_pair(module, spec, dtype):
    code = activation_code(spec, dtype)
    forward = getattr(module, f"{code.name}_forward")
    backward = getattr(module, f"{code.name}_backward")
    return code, forward, backward


def run_activation(module, spec, dtype, Z, G, hyper_values=None):
    """(A, OUT) of the kernels of ``spec`` for inputs Z and upstream gradient G."""
    code, forward, backward = kernel_pair(module, spec, dtype)
    hyper = list(code.hyper_values if hyper_values is None else hyper_values)
    A = np.empty_like(Z)
    forward(Z, A, *hyper)
    OUT = np.empty_like(Z)
    backward(A if code.backward_from == "a" else Z, G, OUT, *hyper)
    return A, OUT


# ----------------------------------------------------------------------------------------
# NumPy references, written by hand (float64): name -> (f(z), f'(z))
# ----------------------------------------------------------------------------------------

def _softplus(x):
    return np.logaddexp(0.0, x)


def _gelu_tanh(x):
    c = math.sqrt(2.0 / math.pi)
    u = c * (x + 0.044715 * x**3)
    # 1 + tanh(u) = 2 sigmoid(2u) and 1 - tanh(u)^2 = 4 sigmoid(2u) sigmoid(-2u), without
    # the cancellation of the textbook form in the tail.
    one_plus_tanh = 2.0 * expit(2.0 * u)
    sech2 = 4.0 * expit(2.0 * u) * expit(-2.0 * u)
    value = 0.5 * x * one_plus_tanh
    slope = 0.5 * one_plus_tanh + 0.5 * x * sech2 * c * (1.0 + 3.0 * 0.044715 * x**2)
    return value, slope


def reference(spec: str, x: np.ndarray, hyper: dict[str, float]):
    """f(x) and f'(x) in float64 for an activation (hyper: kernel argument name -> value)."""
    if spec == "identity":
        return x.copy(), np.ones_like(x)
    if spec == "sigmoid":
        s = expit(x)
        return s, s * (1.0 - s)
    if spec == "tanh":
        t = np.tanh(x)
        return t, 1.0 - t * t
    if spec == "relu":
        return np.where(x > 0, x, 0.0), np.where(x > 0, 1.0, 0.0)
    if spec == "leaky_relu":
        alpha = hyper["hp_alpha"]
        return np.where(x > 0, x, alpha * x), np.where(x > 0, 1.0, alpha)
    if spec in ("elu", ELU03_FORMULA):
        alpha = hyper.get("hp_alpha", 0.3)
        return np.where(x > 0, x, alpha * np.expm1(x)), np.where(x > 0, 1.0, alpha * np.exp(x))
    if spec == "selu":
        alpha, lam = hyper["hp_alpha"], hyper["hp_lambda"]
        return (lam * np.where(x > 0, x, alpha * np.expm1(x)),
                lam * np.where(x > 0, 1.0, alpha * np.exp(x)))
    if spec == "softplus":
        return _softplus(x), expit(x)
    if spec == "softsign":
        return x / (1.0 + np.abs(x)), 1.0 / (1.0 + np.abs(x)) ** 2
    if spec == "gelu":
        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
        return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    if spec == "gelu_tanh":
        return _gelu_tanh(x)
    if spec == "silu":
        beta = hyper["hp_beta"]
        s = expit(beta * x)
        return x * s, s + beta * x * s * (1.0 - s)
    if spec in ("mish", MISH_FORMULA):
        t = np.tanh(_softplus(x))
        return x * t, t + x * (1.0 - t * t) * expit(x)
    raise KeyError(spec)


def hyper_dict(code, values=None) -> dict[str, float]:
    return dict(zip(code.hyper, code.hyper_values if values is None else values, strict=True))


# ----------------------------------------------------------------------------------------
# Printer
# ----------------------------------------------------------------------------------------

x_sym, y_sym = sp.symbols("x y", real=True)


def evaluate_printed(code: str, **values) -> float:
    return float(eval(code, {"np": np, "math": math, "max": max, "min": min, "abs": abs},
                      dict(values)))


def test_printer_piecewise_is_nested_ternary_not_select():
    printer = NumbaPrinter("float32")
    expr = sp.Piecewise((x_sym, x_sym > 1), (2 * x_sym, x_sym < -1), (0, True))
    text = printer.doprint(expr)
    assert "select" not in text and "where" not in text
    assert text.count(" if ") == 2 and text.count(" else ") == 2
    for value, expected in [(3.0, 3.0), (-2.0, -4.0), (0.5, 0.0)]:
        assert evaluate_printed(text, x=value) == expected


def test_printer_piecewise_without_true_branch_falls_through_to_nan():
    printer = NumbaPrinter("float32")
    partial = printer.doprint(sp.Piecewise((x_sym, x_sym > 0), (-x_sym, x_sym < -5)))
    assert evaluate_printed(partial, x=-6.0) == 6.0
    assert math.isnan(evaluate_printed(partial, x=-1.0))


def test_printer_expands_small_integer_powers():
    printer = NumbaPrinter("float32")
    assert printer.doprint(x_sym**2) == "(x*x)"
    assert printer.doprint(x_sym**3) == "(x*x*x)"
    inverse = printer.doprint(x_sym**-2)
    assert "**" not in inverse and "(x*x)" in inverse
    assert evaluate_printed(inverse, x=2.0) == 0.25
    assert printer.doprint(sp.sqrt(x_sym)) == "math.sqrt(x)"
    assert evaluate_printed(printer.doprint((x_sym + 1) ** 2), x=2.0) == 9.0


@pytest.mark.parametrize("float_type", ["float32", "float64"])
def test_printer_literals_are_typed(float_type):
    printer = NumbaPrinter(float_type)
    assert printer.doprint(sp.Rational(1, 2)) == f"np.{float_type}(0.5)"
    assert printer.doprint(sp.Integer(3)) == f"np.{float_type}(3.0)"
    assert printer.doprint(sp.pi) == f"np.{float_type}({math.pi!r})"
    expr = x_sym / 3 + 2 * x_sym**5 + sp.Rational(1, 7) + sp.Float(0.25) * sp.exp(-x_sym)
    text = printer.doprint(expr)
    # Remove every typed literal: no bare number may remain (it would promote to float64).
    stripped = re.sub(rf"np\.{float_type}\([^()]*\)", "L", text)
    assert not re.search(r"(?<![\w.])\d", stripped), text
    value = evaluate_printed(text, x=1.5)
    assert value == pytest.approx(0.5 + 2 * 1.5**5 + 1 / 7 + 0.25 * math.exp(-1.5), rel=1e-6)


def test_printer_sign_max_min_and_functions():
    printer = NumbaPrinter("float32")
    sign = printer.doprint(sp.sign(x_sym))
    assert " if " in sign and "np.float32(-1.0)" in sign
    assert [evaluate_printed(sign, x=v) for v in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]
    # Two plain operands: a conditional (no max() for Numba to compile), same semantics.
    relu = printer.doprint(sp.Max(x_sym, 0))
    assert "max(" not in relu and " if " in relu and "np.float32(0.0)" in relu
    assert evaluate_printed(relu, x=-3.0) == 0.0 and evaluate_printed(relu, x=2.0) == 2.0
    assert math.isnan(evaluate_printed(relu, x=math.nan)) == math.isnan(max(0.0, math.nan))
    low = printer.doprint(sp.Min(x_sym, y_sym))
    assert "min(" not in low
    assert [evaluate_printed(low, x=a, y=b) for a, b in ((1.0, 2.0), (2.0, 1.0))] == [1.0, 1.0]
    # Compound operands keep the call, so that each is evaluated once.
    assert printer.doprint(sp.Max(x_sym**2, y_sym)).startswith("max(")
    three = printer.doprint(sp.Max(x_sym, y_sym, 1))
    assert three.count("max(") == 2
    assert evaluate_printed(three, x=-1.0, y=0.5) == 1.0
    assert evaluate_printed(printer.doprint(sp.Min(x_sym, 0)), x=2.0) == 0.0
    assert printer.doprint(sp.exp(x_sym)) == "math.exp(x)"
    assert printer.doprint(sp.erf(x_sym)) == "math.erf(x)"
    assert printer.doprint(sp.Abs(x_sym)) == "abs(x)"
    assert printer.doprint(sigmoid(x_sym)) == "_sigmoid(x)"
    assert printer.doprint(softplus(x_sym)) == "_softplus(x)"
    with pytest.raises(NotImplementedError, match="f"):
        printer.doprint(sp.Function("f")(x_sym))


def test_printer_names_map_symbols_to_kernel_arguments():
    alpha = sp.Symbol("alpha", real=True)
    printer = NumbaPrinter("float64", {alpha: "hp_alpha_2"})
    assert printer.doprint(alpha * z) == "hp_alpha_2*z"


def _exec_lines(lines, **values):
    namespace = {"np": np, "math": math, "max": max, "min": min, "abs": abs, **values}
    for name, code in lines:
        namespace[name] = eval(code, namespace)
    return namespace


def test_print_assignments_keeps_piecewise_branches_inside_the_ternary():
    printer = NumbaPrinter("float32")
    act = activation("softsign")
    lines = print_assignments([("a", act.expr), ("slope", act.derivative)], printer)
    # Nothing hoisted: one line per target, each a ternary.
    assert [name for name, _ in lines] == ["a", "slope"]
    assert all(" if " in code for _, code in lines)
    for name, code in lines:
        if " if " not in code:
            assert "/" not in code, f"division hoisted out of a ternary: {name} = {code}"
    # z = -1 takes the z < 0 branch: evaluating must not touch 1/(z + 1).
    values = _exec_lines(lines, z=-1.0)
    assert values["a"] == pytest.approx(-0.5) and values["slope"] == pytest.approx(0.25)

    # Two piecewise outputs sharing 1/(z + 1): plain CSE would hoist it (and divide by zero
    # at z = -1); print_assignments must not.
    first = sp.Piecewise((1 / (z + 1), z >= 0), (0, True))
    second = sp.Piecewise((2 / (z + 1), z >= 0), (1, True))
    raw, _ = sp.cse([first, second], optimizations="basic")
    assert any(value == 1 / (z + 1) for _, value in raw), "control: sympy's CSE hoists it"
    lines = print_assignments([("p", first), ("q", second)], printer)
    assert [name for name, _ in lines] == ["p", "q"]
    values = _exec_lines(lines, z=-1.0)
    assert (values["p"], values["q"]) == (0.0, 1.0)


def test_print_assignments_shares_subexpressions_outside_piecewise():
    printer = NumbaPrinter("float64")
    lines = print_assignments([("a", 2 * sp.exp(z) + sp.exp(z) ** 2), ("b", 3 * sp.exp(z))],
                              printer, "t")
    temps = [(name, code) for name, code in lines if name not in ("a", "b")]
    assert temps == [("t0", "math.exp(z)")]
    values = _exec_lines(lines, z=0.5)
    assert values["a"] == pytest.approx(2 * math.exp(0.5) + math.exp(1.0), rel=1e-15)
    assert values["b"] == pytest.approx(3 * math.exp(0.5), rel=1e-15)


# ----------------------------------------------------------------------------------------
# Stable rewrites
# ----------------------------------------------------------------------------------------

beta_sym = sp.Symbol("beta", real=True)


@pytest.mark.parametrize("expr, expected", [
    (1 / (1 + sp.exp(-z)), sigmoid(z)),
    (sp.exp(z) / (1 + sp.exp(z)), sigmoid(z)),
    (1 / (1 + sp.exp(z)), sigmoid(-z)),
    (sp.exp(z) / (1 + sp.exp(z)) ** 2, sigmoid(z) * (1 - sigmoid(z))),
    (sp.log(1 + sp.exp(z)), softplus(z)),
    (z / (1 + sp.exp(-beta_sym * z)), z * sigmoid(beta_sym * z)),  # silu
    (z * sp.tanh(sp.log(1 + sp.exp(z))), z * sp.tanh(softplus(z))),  # mish
], ids=["sigmoid", "sigmoid-ratio", "sigmoid-neg", "sigmoid-slope", "softplus", "silu",
        "mish"])
def test_stabilize_rewrites_unstable_shapes(expr, expected):
    stable = stabilize(expr)
    assert sp.simplify(stable - expected) == 0, stable
    assert not stable.has(sp.exp)
    # Same function: the rewrite back to exponentials agrees at a few points.
    for value in (-3.0, 0.0, 0.7, 4.0):
        subs = {z: value, beta_sym: 1.3}
        assert float(stable.rewrite(sp.exp).subs(subs)) == pytest.approx(
            float(expr.subs(subs)), rel=1e-12)


def test_stabilize_leaves_other_expressions_alone():
    assert stabilize(z**2 + sp.tanh(z)) == z**2 + sp.tanh(z)
    assert stabilize(sp.exp(z)) == sp.exp(z)


def test_stable_functions_differentiate_stably():
    assert sp.diff(sigmoid(z), z) == sigmoid(z) * (1 - sigmoid(z))
    assert sp.diff(softplus(z), z) == sigmoid(z)
    silu = stabilize(z / (1 + sp.exp(-beta_sym * z)))
    assert not sp.diff(silu, z).has(sp.exp)


@pytest.mark.parametrize("spec", ["silu", "mish"])
def test_stabilize_raw_derivative_has_no_exp(spec):
    act = activation(spec)
    raw = sp.diff(act.expr.subs(act.params), z)
    assert not stabilize(raw).has(sp.exp), stabilize(raw)


# ----------------------------------------------------------------------------------------
# Network modules against PyTorch autograd (float64)
# ----------------------------------------------------------------------------------------

CASES = [
    pytest.param("4-8:relu-3:softmax", "ce", id="relu-softmax-ce"),
    pytest.param("3-5:tanh-4:gelu-2:identity", "mse", id="tanh-gelu-identity-mse"),
    pytest.param("3-5:leaky_relu-1:sigmoid", "bce", id="leaky-sigmoid-bce"),
    # mse after softmax: the mean runs over samples AND output units, as after an
    # elementwise output (it once ran over samples only: K times too large).
    pytest.param("4-6:elu-3:softmax", "mse", id="elu-softmax-mse"),
]
N_SAMPLES = 7


class Net:
    """A built network module with its plan, data and parameters."""

    def __init__(self, arch, loss, matmul="auto"):
        self.layers = parse_architecture(arch)
        self.loss = loss
        self.module = build_network_module(self.layers, loss, "sgd", {}, "float64", matmul)
        self.plan = make_plan(self.layers, loss, update_code(update_rule("sgd"), "float64"),
                              "float64", matmul)
        # Per-layer activation hyperparameters (kernel arguments), defaults to start with.
        self.layer_hyper = [list(layer.act.hyper_values) for layer in self.plan.layers]
        assert len(self.model_hyper) == len(self.plan.model_hyper)

    @property
    def model_hyper(self) -> list[float]:
        values = [v for hyper in self.layer_hyper for v in hyper]
        return values + list(self.plan.loss.hyper_values)

    def with_hyper(self, number: int, values: list[float]) -> Net:
        other = copy.copy(self)
        other.layer_hyper = [list(h) for h in self.layer_hyper]
        other.layer_hyper[number] = list(values)
        return other

    def data(self, seed=0, n=N_SAMPLES):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, self.layers[0].n_in))
        k = self.layers[-1].n_out
        if self.loss == "ce":
            Y = np.eye(k)[rng.integers(0, k, n)]
        elif self.loss == "bce":
            Y = rng.integers(0, 2, (n, k)).astype(np.float64)
        else:
            Y = rng.standard_normal((n, k))
        return X, Y

    def init_params(self, seed=1):
        rng = np.random.default_rng(seed)
        params = []
        for layer in self.layers:
            params.append(rng.standard_normal((layer.n_in, layer.n_out)) / math.sqrt(layer.n_in)
                          * 1.5)
            params.append(rng.standard_normal(layer.n_out) * 0.3)
        assert len(params) == len(self.plan.params)
        return params

    def gradients(self, X, Y, params):
        grads = [np.empty_like(p) for p in params]
        loss = self.module.gradients(X, Y, *params, *grads, *self.model_hyper)
        return loss, grads

    # -- the PyTorch reference ----------------------------------------------------------
    def torch_activation(self, number, spec, x):
        hyper = self.layer_hyper[number]
        table = {
            "relu": F.relu, "tanh": torch.tanh, "gelu": F.gelu, "identity": lambda t: t,
            "sigmoid": torch.sigmoid, "softmax": lambda t: torch.softmax(t, dim=1),
            "elu": lambda t: F.elu(t, alpha=hyper[0]),
            "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=hyper[0]),
        }
        return table[spec](x)

    def torch_forward(self, X, params):
        h = torch.tensor(X)
        for number, layer in enumerate(self.layers):
            zl = h @ params[2 * number] + params[2 * number + 1]
            h = self.torch_activation(number, layer.activation, zl)
        return zl, h

    def torch_loss(self, X, Y, params):
        logits, out = self.torch_forward(X, params)
        target = torch.tensor(Y)
        if self.loss == "ce":  # mean over samples of -sum_k y_k log softmax_k
            return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        if self.loss == "mse":  # mean over samples and output units
            return ((out - target) ** 2).mean()
        if self.loss == "bce":  # mean over samples and output units
            return F.binary_cross_entropy(out, target)
        raise KeyError(self.loss)

    def torch_gradients(self, X, Y, params):
        tensors = [torch.tensor(p, requires_grad=True) for p in params]
        loss = self.torch_loss(X, Y, tensors)
        grads = torch.autograd.grad(loss, tensors)
        return loss.item(), [g.numpy() for g in grads]


@pytest.fixture(scope="module")
def nets(kernel_cache_dir):
    built: dict[tuple, Net] = {}

    def get(arch, loss, matmul="auto"):
        key = (arch, loss, matmul)
        if key not in built:
            built[key] = Net(arch, loss, matmul)
        return built[key]

    return get


def compiled_signatures(module) -> dict[str, int]:
    """How many signatures each Numba function of a generated module has compiled."""
    return {name: len(obj.signatures) for name, obj in vars(module).items()
            if isinstance(obj, Dispatcher) and obj.signatures}


def assert_grads_close(got, expected, rtol, what=""):
    names = [f"{kind}{number // 2 + 1}" for number, kind in enumerate(("W", "b") * (len(got) // 2))]
    for name, g, e in zip(names, got, expected, strict=True):
        scale = max(np.abs(e).max(), 1e-300)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * 1e-3 * scale,
                                   err_msg=f"{what} d{name}")


@pytest.mark.parametrize("arch, loss", CASES)
def test_network_gradients_match_torch(nets, arch, loss):
    net = nets(arch, loss)
    X, Y = net.data()
    params = net.init_params()
    value, grads = net.gradients(X, Y, params)
    expected_value, expected = net.torch_gradients(X, Y, params)
    assert value == pytest.approx(expected_value, rel=1e-9)
    assert_grads_close(grads, expected, 1e-9, f"{arch} {loss}")


def test_network_hyperparameter_is_a_kernel_argument(nets):
    """leaky_relu's alpha = 0.3 goes to the same compiled module as an argument."""
    net = nets("3-5:leaky_relu-1:sigmoid", "bce")
    assert net.plan.model_hyper == ["hp_alpha_1"] and net.model_hyper == [0.01]
    X, Y = net.data(seed=20)
    params = net.init_params(seed=21)
    results, compiled = {}, []
    for alpha in (0.3, 0.01):
        variant = net.with_hyper(0, [alpha])
        value, grads = variant.gradients(X, Y, params)
        expected_value, expected = variant.torch_gradients(X, Y, params)
        assert value == pytest.approx(expected_value, rel=1e-9)
        assert_grads_close(grads, expected, 1e-9, f"leaky_relu alpha={alpha}")
        results[alpha] = grads
        compiled.append(compiled_signatures(net.module))
    assert not np.allclose(results[0.3][0], results[0.01][0])  # alpha did matter
    assert compiled[0] and compiled[1] == compiled[0], "a new alpha compiled new code"


# Two cases keep the compile time down: the fused ce delta, and model hyperparameters
# (leaky_relu's alpha) ahead of the optimizer's in the argument list.
@pytest.mark.parametrize("batch_size", [N_SAMPLES, 3])
@pytest.mark.parametrize("arch, loss", CASES[::2])
def test_train_epoch_sgd_matches_manual_steps(nets, arch, loss, batch_size):
    net = nets(arch, loss)
    X, Y = net.data(seed=2)
    params = net.init_params(seed=3)
    perm = np.random.default_rng(4).permutation(N_SAMPLES).astype(np.int64)
    lr = 0.1
    opt = {"hp_lr": lr, "hp_weight_decay": 0.0}
    assert set(net.plan.update.hyper) == set(opt) and net.plan.states == []
    batches = -(-N_SAMPLES // batch_size)
    losses = np.full(batches, np.nan)
    trained = [p.copy() for p in params]
    result = net.module.train_epoch(X, Y, perm, batch_size, 0, 0.0, losses, *trained,
                                    *net.model_hyper, *[opt[h] for h in net.plan.update.hyper])
    assert tuple(result) == (batches, batches, 0)

    manual = [p.copy() for p in params]
    for number in range(batches):
        rows = perm[number * batch_size:(number + 1) * batch_size]
        value, grads = net.torch_gradients(X[rows], Y[rows], manual)
        assert losses[number] == pytest.approx(value, rel=1e-9)
        manual = [p - lr * g for p, g in zip(manual, grads, strict=True)]
    for got, expected in zip(trained, manual, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("arch, loss", CASES)
def test_evaluate_outputs_are_forward_probabilities(nets, arch, loss):
    net = nets(arch, loss)
    X, Y = net.data(seed=5, n=11)
    params = net.init_params(seed=6)
    out = np.empty((11, net.layers[-1].n_out))
    net.module.evaluate(X, Y, out, False, 4, *params, *net.model_hyper)  # 3 chunks, last short
    _, expected = net.torch_forward(X, [torch.tensor(p) for p in params])
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-15)
    if net.layers[-1].activation in ("softmax", "sigmoid"):
        assert np.all((out > 0) & (out < 1))


@pytest.mark.parametrize("arch, loss", CASES)
def test_evaluate_loss_is_the_training_mean(nets, arch, loss):
    net = nets(arch, loss)
    X, Y = net.data(seed=8, n=11)
    params = net.init_params(seed=9)
    out = np.empty((11, net.layers[-1].n_out))
    value = net.module.evaluate(X, Y, out, True, 4, *params, *net.model_hyper)
    expected, _ = net.torch_gradients(X, Y, params)
    assert value == pytest.approx(expected, rel=1e-9)


def test_blas_and_loops_agree(nets):
    loops = nets("4-8:relu-3:softmax", "ce")  # "auto" chooses loops for layers this small
    blas = nets("4-8:relu-3:softmax", "ce", "blas")
    assert {layer.matmul for layer in blas.plan.layers} == {"blas"}
    assert {layer.matmul for layer in loops.plan.layers} == {"loops"}
    assert loops.module is not blas.module
    X, Y = loops.data(seed=10, n=13)
    params = loops.init_params(seed=11)
    value_loops, grads_loops = loops.gradients(X, Y, params)
    value_blas, grads_blas = blas.gradients(X, Y, params)
    assert value_blas == pytest.approx(value_loops, rel=1e-12)
    assert_grads_close(grads_blas, grads_loops, 1e-12, "blas vs loops")


@pytest.mark.parametrize("arch, loss, scale", [
    ("4-8:relu-3:softmax", "ce", 1e4),
    ("3-5:leaky_relu-1:sigmoid", "bce", 1e4),
])
def test_network_losses_are_stable_for_huge_logits(nets, arch, loss, scale):
    """Logits of order +-1e4: ce through log-sum-exp and bce from the logit stay finite."""
    net = nets(arch, loss)
    X, Y = net.data(seed=12)
    params = net.init_params(seed=13)
    params[-2] = params[-2] * scale
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        value, grads = net.gradients(X, Y, params)
    logits, _ = net.torch_forward(X, [torch.tensor(p) for p in params])
    assert np.abs(logits.numpy()).max() > 100
    assert math.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads)
    if loss == "bce":  # the reference from logits (torch's BCELoss would clamp log at -100)
        expected = F.binary_cross_entropy_with_logits(logits, torch.tensor(Y)).item()
    else:
        expected, _ = net.torch_gradients(X, Y, params)
    assert value == pytest.approx(expected, rel=1e-9)


def test_output_activation_with_hyperparameter_and_mse(nets):
    net = nets("2-3:elu", "mse")
    X, Y = net.data(seed=14)
    params = net.init_params(seed=15)
    params[1] = params[1] - 1.0  # some outputs on the negative (alpha) side
    value, grads = net.gradients(X, Y, params)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    out = F.elu(torch.tensor(X) @ tensors[0] + tensors[1], alpha=1.0)
    expected = ((out - torch.tensor(Y)) ** 2).mean()
    expected_grads = torch.autograd.grad(expected, tensors)
    assert value == pytest.approx(expected.item(), rel=1e-9)
    assert_grads_close(grads, [g.numpy() for g in expected_grads], 1e-9, "elu mse")


def test_output_delta_after_mish_is_stable(nets):
    net = nets("2-2:mish", "mse")
    X = np.array([[1.0, 0.0], [0.5, 0.0]])
    Y = np.zeros((2, 2))
    params = [np.array([[1e4, -1e4], [0.0, 0.0]]), np.zeros(2)]
    value, grads = net.gradients(X, Y, params)
    assert math.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads), grads


# ----------------------------------------------------------------------------------------
# Activation kernels against NumPy references
# ----------------------------------------------------------------------------------------

def test_every_activation_is_in_the_one_module(kernels):
    for dtype, module in kernels.items():
        for spec in ELEMENTWISE:
            code, forward, backward = kernel_pair(module, spec, dtype)
            assert callable(forward) and callable(backward)
        assert callable(module.softmax_forward) and callable(module.softmax_backward)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", ELEMENTWISE)
def test_activation_kernel_matches_reference(kernels, spec, dtype):
    assert not np.any(GRID == 0.0)
    Z = GRID.reshape(16, 25).astype(dtype)
    G = np.random.default_rng(7).standard_normal(Z.shape).astype(dtype)
    code = activation_code(spec, dtype)
    A, OUT = run_activation(kernels[dtype], spec, dtype, Z, G)
    assert A.dtype == np.dtype(dtype) and OUT.dtype == np.dtype(dtype)
    value, slope = reference(spec, Z.astype(np.float64), hyper_dict(code))
    np.testing.assert_allclose(A.astype(np.float64), value, **TOLERANCE[dtype],
                               err_msg=f"{spec} forward ({dtype})")
    np.testing.assert_allclose(OUT.astype(np.float64), G.astype(np.float64) * slope,
                               **TOLERANCE[dtype], err_msg=f"{spec} backward ({dtype})")


@pytest.mark.parametrize("spec", sorted(set(BUILTINS) - {"step"}))
def test_activation_kernel_matches_torch_float64(kernels, spec):
    """A second reference: PyTorch's own activations and autograd."""
    code = activation_code(spec, "float64")
    function = torch_activation(spec, {h[3:]: v for h, v in hyper_dict(code).items()})
    Z = GRID.reshape(16, 25)
    G = np.random.default_rng(3).standard_normal(Z.shape)
    zt = torch.tensor(Z, requires_grad=True)
    out = function(zt)
    (grad,) = torch.autograd.grad(out, zt, grad_outputs=torch.tensor(G))
    A, OUT = run_activation(kernels["float64"], spec, "float64", Z, G)
    np.testing.assert_allclose(A, out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(OUT, grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_kernels_match_reference(kernels, dtype):
    module = kernels[dtype]
    Z = GRID.reshape(16, 25).astype(dtype)
    G = np.random.default_rng(5).standard_normal(Z.shape).astype(dtype)
    A = np.empty_like(Z)
    module.softmax_forward(Z, A)
    OUT = np.empty_like(Z)
    module.softmax_backward(A, G, OUT)
    expected = np_softmax(Z.astype(np.float64), axis=1)
    g64 = G.astype(np.float64)
    vjp = expected * (g64 - (g64 * expected).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(A, expected, **TOLERANCE[dtype])
    np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=TOLERANCE[dtype]["rtol"])
    np.testing.assert_allclose(OUT, vjp, **TOLERANCE[dtype])
    if dtype == "float64":  # and against torch autograd
        zt = torch.tensor(Z, requires_grad=True)
        (grad,) = torch.autograd.grad(torch.softmax(zt, dim=1), zt,
                                      grad_outputs=torch.tensor(G))
        np.testing.assert_allclose(OUT, grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hyperparameter_is_an_argument_not_baked_in(kernels, dtype):
    """leaky_relu alpha = 0.2 is passed to the same compiled function: no rebuild."""
    module = kernels[dtype]
    default = activation_code("leaky_relu", dtype)
    custom = activation_code(activation("leaky_relu", alpha=0.2), dtype)
    assert default.hyper == custom.hyper == ["hp_alpha"]
    assert default.hyper_values == [0.01] and custom.hyper_values == [0.2]
    # The generated code does not depend on the value.
    assert (custom.name, custom.forward, custom.backward) == (
        default.name, default.forward, default.backward)

    forward, backward = module.leaky_relu_forward, module.leaky_relu_backward
    Z = GRID.reshape(16, 25).astype(dtype)
    G = np.random.default_rng(11).standard_normal(Z.shape).astype(dtype)
    for alpha in (0.2, 0.01, 0.2):
        A, OUT = run_activation(module, "leaky_relu", dtype, Z, G, [alpha])
        value, slope = reference("leaky_relu", Z.astype(np.float64), {"hp_alpha": alpha})
        np.testing.assert_allclose(A, value, **TOLERANCE[dtype])
        np.testing.assert_allclose(OUT, G.astype(np.float64) * slope, **TOLERANCE[dtype])
    assert module.leaky_relu_forward is forward and module.leaky_relu_backward is backward
    assert len(forward.signatures) == 1 and len(backward.signatures) == 1


@pytest.mark.parametrize("spec, values", [
    ("elu", {"alpha": 0.5}),
    ("silu", {"beta": 1.7}),
    ("selu", {"alpha": 1.2, "lambda": 0.9}),
])
def test_other_non_default_hyperparameters(kernels, spec, values):
    code = activation_code(activation(spec, **values), "float64")
    Z = GRID.reshape(16, 25)
    G = np.random.default_rng(13).standard_normal(Z.shape)
    A, OUT = run_activation(kernels["float64"], spec, "float64", Z, G, code.hyper_values)
    value, slope = reference(spec, Z, hyper_dict(code))
    np.testing.assert_allclose(A, value, **TOLERANCE["float64"])
    np.testing.assert_allclose(OUT, G * slope, **TOLERANCE["float64"])


# ----------------------------------------------------------------------------------------
# Stability: |z| up to 1e4, float32 and float64
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spec", ALL_SPECS)
def test_kernels_are_stable_at_extreme_inputs(kernels, spec, dtype):
    module = kernels[dtype]
    Z = np.tile(EXTREMES, (2, 1)).astype(dtype)
    G = np.ones_like(Z)
    A, OUT = np.empty_like(Z), np.empty_like(Z)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        if spec == "softmax":
            module.softmax_forward(Z, A)
            module.softmax_backward(A, G, OUT)
        else:
            A, OUT = run_activation(module, spec, dtype, Z, G)
    assert np.all(np.isfinite(A)), f"{spec} forward at {EXTREMES}: {A[0]}"
    assert np.all(np.isfinite(OUT)), f"{spec} backward at {EXTREMES}: {OUT[0]}"
    if spec == "softmax":
        np.testing.assert_allclose(A[0], [0, 0, 0, 0, 1], atol=1e-30)
        return
    with np.errstate(all="ignore"):  # the naive reference overflows where the kernel must not
        value, slope = reference(spec, Z.astype(np.float64),
                                 hyper_dict(activation_code(spec, dtype)))
    # Where the reference itself is finite, the kernel agrees (loosely: float32 at 1e4).
    finite = np.isfinite(value)
    np.testing.assert_allclose(A[finite], value[finite], rtol=1e-5, atol=1e-6)
    finite = np.isfinite(slope)
    np.testing.assert_allclose(OUT[finite], slope[finite], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss_name, activation_name", [("bce", "tanh"), ("log_cosh", "identity")])
def test_clamped_log_losses_keep_a_nan_prediction_nan(loss_name, activation_name):
    """The -100 floor on log(p) (PyTorch's BCELoss) must not hide a NaN: training stops on a
    non-finite loss, and max(-100, nan) would be a finite -100."""
    code = loss_code(loss_name, activation_name, "float64")

    # numpy's functions stand in for math's: log(0) is -inf in Numba, an error in Python.
    functions = SimpleNamespace(log=np.log, cosh=np.cosh, exp=np.exp, log1p=np.log1p)

    def softplus(u):  # the generated modules' helper (log_cosh's stable form calls it)
        return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))

    def value(yhat, y):
        names = {"yhat": yhat, "y": y, "z": yhat}
        scope = {"np": np, "math": functions, "_softplus": softplus}
        with np.errstate(all="ignore"):
            for name, expr in code.value:
                names[name] = float(eval(expr, scope, names))
        return names["value"]

    assert math.isnan(value(math.nan, 1.0)) and math.isnan(value(math.nan, 0.0))
    if loss_name == "bce":
        assert value(0.0, 1.0) == pytest.approx(100.0)  # log(0) clamped, as in PyTorch
        assert value(0.25, 1.0) == pytest.approx(-math.log(0.25))
