"""Losses, their gradients, the output-layer delta for every loss/activation pair, and the
stable logit forms: structure first, then numbers against PyTorch autograd (float64)."""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F  # noqa: N812

from symprop.derive.activations import activation
from symprop.derive.delta import output_delta
from symprop.derive.losses import Loss, logit_forms, loss
from symprop.derive.symbols import YHAT, K, Y, Z, k, y, yhat, z
from symprop.errors import (
    FormulaError,
    MissingHyperparameterError,
    NotDifferentiableError,
    UnknownNameError,
)
from tests.conftest import assert_close, to_numpy_function, to_scalar_function, torch_activation

ELEMENTWISE_LOSSES = ["mse", "mae", "bce", "huber", "log_cosh"]
DELTA_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
                     "gelu", "silu"]
KINKED = {"relu", "leaky_relu", "elu"}
# bce needs yhat in (0, 1): only after sigmoid.
PAIRS = [(lo, act) for lo in ELEMENTWISE_LOSSES for act in DELTA_ACTIVATIONS
         if lo != "bce" or act == "sigmoid"]


def torch_loss(name: str, hyper: dict):
    """Per-element loss L(p, t) in PyTorch."""
    return {
        "mse": lambda p, t: (p - t) ** 2,
        "mae": lambda p, t: (p - t).abs(),
        "bce": lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
        "huber": lambda p, t: F.huber_loss(p, t, reduction="none", delta=hyper["delta"]),
        "log_cosh": lambda p, t: torch.log(torch.cosh(p - t)),
    }[name]


@cache
def delta(loss_name: str, act_name: str):
    return output_delta(loss_name, act_name)


# -- structure ---------------------------------------------------------------------------------

def test_bce_after_sigmoid_is_yhat_minus_y():
    assert delta("bce", "sigmoid").result == yhat - y


def test_ce_after_softmax_is_yhat_k_minus_y_k():
    assert delta("ce", "softmax").result == YHAT[k] - Y[k]


def test_mse_after_identity():
    assert delta("mse", "identity").result == 2 * (yhat - y)


def test_mae_after_identity_is_sign():
    assert delta("mae", "identity").result == sp.sign(yhat - y)


def test_mse_after_sigmoid():
    result = delta("mse", "sigmoid").result
    assert sp.expand(result) == sp.expand(2 * (yhat - y) * yhat * (1 - yhat))


def test_mse_after_tanh_and_relu_structure():
    assert sp.expand(delta("mse", "tanh").result) == sp.expand(2 * (yhat - y) * (1 - yhat**2))
    assert delta("mse", "relu").result == sp.Piecewise((2 * (yhat - y), yhat > 0), (0, True))


def test_non_invertible_activation_keeps_z():
    result = delta("mse", "gelu").result
    assert z in result.free_symbols and yhat in result.free_symbols


def test_loss_gradients():
    assert loss("mse").gradient == 2 * (yhat - y)
    assert loss("mae").gradient == sp.sign(yhat - y)
    bce = loss("bce").gradient
    assert sp.simplify(bce - (yhat - y) / (yhat * (1 - yhat))) == 0
    assert loss("ce").gradient == -Y[k] / YHAT[k]


def test_loss_kinds_and_symbols():
    assert loss("ce").kind == "categorical"
    assert (loss("ce").yhat, loss("ce").y) == (YHAT[k], Y[k])
    assert loss("ce").expr == sp.Sum(-Y[k] * sp.log(YHAT[k]), (k, 1, K))
    for name in ELEMENTWISE_LOSSES:
        the_loss = loss(name)
        assert isinstance(the_loss, Loss)
        assert the_loss.kind == "elementwise"
        assert yhat in the_loss.expr.free_symbols and y in the_loss.expr.free_symbols


def test_loss_aliases_and_hyperparameters():
    assert loss("L2").name == "mse"
    assert loss("binary_crossentropy").name == "bce"
    assert loss("cross_entropy").name == "ce"
    assert loss("huber").hyperparameters == {"delta": 1.0}
    assert loss("huber", delta=0.5).hyperparameters == {"delta": 0.5}
    with pytest.raises(FormulaError, match="delta"):
        loss("mse", delta=1.0)
    with pytest.raises(FormulaError):
        loss("huber", delta="big")


def test_loss_gradients_match_torch():
    rng = np.random.default_rng(10)
    p = rng.uniform(0.05, 0.95, 50)
    t = rng.uniform(0, 1, 50)
    for name in ELEMENTWISE_LOSSES:
        the_loss = loss(name)
        grad = to_numpy_function(the_loss.gradient, [yhat, y], the_loss.params)
        value = to_numpy_function(the_loss.expr, [yhat, y], the_loss.params)
        pt = torch.tensor(p, requires_grad=True)
        out = torch_loss(name, the_loss.hyperparameters)(pt, torch.tensor(t))
        (expected,) = torch.autograd.grad(out.sum(), pt)
        assert_close(value(p, t), out.detach().numpy(), rtol=1e-10, atol=1e-14, what=name)
        assert_close(grad(p, t), expected.numpy(), rtol=1e-9, atol=1e-14, what=name)


# -- numbers: delta == torch autograd of loss(f(z), y) wrt z -----------------------------------

def _samples(loss_name: str, act_name: str, f, hyper: dict, n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    zs = rng.uniform(-5, 5, 4 * n)
    if act_name in KINKED:
        zs = zs[np.abs(zs) > 1e-3]
    ts = rng.uniform(0, 1, zs.size) if loss_name == "bce" else rng.uniform(-3, 3, zs.size)
    r = np.abs(f(zs) - ts)
    keep = np.ones(zs.size, dtype=bool)
    if loss_name == "mae":
        keep &= r > 1e-6
    if loss_name == "huber":
        keep &= np.abs(r - hyper["delta"]) > 1e-6
    return zs[keep][:n], ts[keep][:n]


@pytest.mark.parametrize(("loss_name", "act_name"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_delta_matches_torch_autograd(loss_name, act_name):
    the_loss, act = loss(loss_name), activation(act_name)
    result = delta(loss_name, act_name).result
    params = {**the_loss.params, **act.params}
    f = to_numpy_function(act.expr, z, act.params)
    evaluate = to_numpy_function(result, [z, yhat, y], params)
    zs, ts = _samples(loss_name, act_name, f, the_loss.hyperparameters)
    assert zs.size >= 32

    zt = torch.tensor(zs, requires_grad=True)
    p = torch_activation(act_name, act.hyperparameters)(zt)
    out = torch_loss(loss_name, the_loss.hyperparameters)(p, torch.tensor(ts))
    (expected,) = torch.autograd.grad(out.sum(), zt)
    assert_close(evaluate(zs, f(zs), ts), expected.numpy(), rtol=1e-9, atol=1e-13,
                 what=f"delta {loss_name}/{act_name}")


def _index_functions(expr, classes: int):
    """One float function per class k = 1..classes of an index-form expression in yhat_k,
    y_k (with sums over j): each takes (yhat_1..yhat_K, y_1..y_K)."""
    concrete = expr.subs(K, classes).doit()
    psym = sp.symbols(f"pp1:{classes + 1}", real=True)
    tsym = sp.symbols(f"tt1:{classes + 1}", real=True)
    names = {**{YHAT[n + 1]: psym[n] for n in range(classes)},
             **{Y[n + 1]: tsym[n] for n in range(classes)}}
    functions = []
    for kk in range(1, classes + 1):
        per_class = concrete.xreplace({k: sp.Integer(kk)}).xreplace(names)
        assert per_class.free_symbols <= set(psym) | set(tsym), per_class
        functions.append(to_scalar_function(per_class, [*psym, *tsym]))
    return functions


def _index_values(functions, p, t):
    return np.array([f(*p, *t) for f in functions])


def _torch_softmax_loss(name: str, hyper: dict):
    if name == "ce":
        return lambda zt, t: F.cross_entropy(zt.unsqueeze(0), t.unsqueeze(0))
    per_class = torch_loss(name, hyper)
    return lambda zt, t: per_class(torch.softmax(zt, 0), t).sum()


SOFTMAX_LOSSES = [
    "ce", "mse", "mae", "bce", "log_cosh",
    "huber",
]


@pytest.mark.parametrize("loss_name", SOFTMAX_LOSSES)
def test_softmax_delta_matches_torch_autograd(loss_name):
    the_loss = loss(loss_name)
    result = delta(loss_name, "softmax").result.subs(the_loss.params)
    functions = _index_functions(result, 4)
    rng = np.random.default_rng(5)
    for _ in range(4):
        zs = rng.normal(scale=2, size=4)
        # ce: a probability vector (the delta uses sum_k y_k = 1); else any targets in [0, 1]
        ts = rng.dirichlet(np.ones(4)) if loss_name == "ce" else rng.uniform(0, 1, 4)
        zt = torch.tensor(zs, requires_grad=True)
        out = _torch_softmax_loss(loss_name, the_loss.hyperparameters)(zt, torch.tensor(ts))
        (expected,) = torch.autograd.grad(out, zt)
        p = torch.softmax(torch.tensor(zs), 0).numpy()
        assert_close(_index_values(functions, p, ts), expected.numpy(), rtol=1e-9,
                     atol=1e-13, what=f"delta {loss_name}/softmax")


def test_ce_softmax_one_hot_target():
    zs = np.array([0.3, -1.2, 2.0, 0.1])
    target = 2  # class index, 0-based for torch
    zt = torch.tensor(zs, requires_grad=True)
    (expected,) = torch.autograd.grad(
        F.cross_entropy(zt.unsqueeze(0), torch.tensor([target])), zt)
    ts = np.eye(4)[target]
    p = torch.softmax(torch.tensor(zs), 0).numpy()
    got = _index_values(_index_functions(delta("ce", "softmax").result, 4), p, ts)
    assert_close(got, expected.numpy(), rtol=1e-12, atol=1e-15)


# -- logit forms -------------------------------------------------------------------------------

def test_bce_logit_form_matches_torch():
    stable = logit_forms()[("bce", "sigmoid")].result
    assert loss("bce").logit_form("sigmoid") == stable
    assert loss("mse").logit_form("identity") is None
    f = to_scalar_function(stable, [z, y])
    zs = np.linspace(-50, 50, 201)
    ts = np.random.default_rng(7).uniform(0, 1, zs.size)
    got = np.array([f(zv, tv) for zv, tv in zip(zs, ts, strict=True)])
    expected = F.binary_cross_entropy_with_logits(torch.tensor(zs), torch.tensor(ts),
                                                  reduction="none").numpy()
    assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_bce_logit_form_is_finite_at_huge_logits():
    f = to_scalar_function(logit_forms()[("bce", "sigmoid")].result, [z, y])
    for zv, tv, expected in [(1e4, 0.3, 7000.0), (-1e4, 0.3, 3000.0), (1e4, 1.0, 0.0),
                             (-1e4, 0.0, 0.0), (0.0, 0.5, math.log(2))]:
        value = f(zv, tv)
        assert math.isfinite(value)
        assert abs(value - expected) <= 1e-12 * max(1.0, abs(expected)), (zv, tv, value)


def test_bce_logit_form_gradient_is_the_delta():
    stable = logit_forms()[("bce", "sigmoid")].result
    grad = to_numpy_function(sp.diff(stable, z), [z, y])
    zs = np.array([-30.0, -2.5, -0.3, 0.7, 4.0, 30.0])
    ts = np.array([0.0, 1.0, 0.2, 0.9, 0.5, 1.0])
    sig = 1 / (1 + np.exp(-zs))
    assert_close(grad(zs, ts), sig - ts, rtol=1e-12, atol=1e-15)


def _ce_logit_value(expr, zs, ts, extra: dict | None = None):
    """Evaluate an index-form logit expression for K = len(zs) in float64 (math module), so
    that overflow shows up as it would in generated code."""
    classes = len(zs)
    zsym = sp.symbols(f"zz1:{classes + 1}", real=True)
    tsym = sp.symbols(f"tt1:{classes + 1}", real=True)
    concrete = expr.subs(K, classes).doit().subs(
        {**{Z[n + 1]: zsym[n] for n in range(classes)},
         **{Y[n + 1]: tsym[n] for n in range(classes)}})
    extra = extra or {}
    function = sp.lambdify([*zsym, *tsym, *extra], concrete, modules=["math"])
    try:
        return float(function(*zs, *ts, *extra.values()))
    except OverflowError:
        return math.inf


def test_ce_logit_form_matches_torch():
    result = logit_forms()[("ce", "softmax")].result
    rng = np.random.default_rng(8)
    for _ in range(4):
        zs, ts = rng.normal(scale=3, size=4), rng.dirichlet(np.ones(4))
        expected = F.cross_entropy(torch.tensor(zs).unsqueeze(0), torch.tensor(ts).unsqueeze(0))
        assert abs(_ce_logit_value(result, list(zs), list(ts)) - expected.item()) < 1e-12


def test_ce_stable_step_matches_torch_at_huge_logits():
    d = logit_forms()[("ce", "softmax")]
    step = d.steps[-1]
    assert "Stable" in step.title
    stable = step.expression.rhs
    (mx,) = [s for s in stable.free_symbols if s.name == "max_j z_j"]
    zs = np.array([1e4, -1e4, 9990.0, 0.5])
    ts = np.array([0.1, 0.2, 0.3, 0.4])
    value = _ce_logit_value(stable, list(zs), list(ts), {mx: float(zs.max())})
    expected = F.cross_entropy(torch.tensor(zs).unsqueeze(0), torch.tensor(ts).unsqueeze(0))
    assert math.isfinite(value)
    assert abs(value - expected.item()) <= 1e-9 * abs(expected.item())


# -- derivation text ---------------------------------------------------------------------------

DERIVATION_PAIRS = PAIRS + [("ce", "softmax"), ("mse", "softmax")]


@pytest.mark.parametrize(("loss_name", "act_name"), DERIVATION_PAIRS,
                         ids=[f"{a}-{b}" for a, b in DERIVATION_PAIRS])
def test_delta_derivation_prints(loss_name, act_name):
    d = delta(loss_name, act_name)
    titles = [step.title for step in d.steps]
    assert any("chain rule" in t.lower() for t in titles), titles
    assert titles[-1] == "Batch mean"
    text, markdown, latex = d.text(), d.markdown(), d.latex()
    # The batch mean's factor, as maths: 1/m, or 1/(m n_L) for elementwise losses.
    assert re.search(r"1/\(?m", text) and r"\frac{1}{m" in markdown
    assert loss_name in text and act_name in text
    assert r"\hat{y}" in latex and r"\frac{\partial L}" in latex
    assert r"\frac{\partial J}" in latex


@pytest.mark.parametrize(("loss_name", "act_name"),
                         [("bce", "sigmoid"), ("ce", "softmax"), ("mse", "identity")])
def test_delta_repr_latex_is_display_math(loss_name, act_name):
    shown = delta(loss_name, act_name)._repr_latex_()
    assert shown.startswith("$$") and shown.endswith("$$")
    assert r"\begin{aligned}" in shown and r"\hat{y}" in shown


def test_loss_derivation_states_the_batch_mean():
    for name in ELEMENTWISE_LOSSES + ["ce"]:
        d = loss(name).derivation()
        # 1/m for ce (classes summed inside L), 1/(m n_L) for elementwise losses.
        assert re.search(r"1/\(?m", d.text())
        # The derivation ends at the textbook form (2(yhat - y), -tanh(y - yhat)), which is
        # the gradient's value; the gradient keeps the form the deltas are built from.
        assert sp.simplify(d.result - loss(name).gradient) == 0


# -- bad input ---------------------------------------------------------------------------------

def test_step_output_has_no_delta():
    with pytest.raises(NotDifferentiableError, match="step"):
        output_delta("bce", "step")
    with pytest.raises(NotDifferentiableError):
        output_delta("mse", "where(x > 0, 1, 0)")


def test_unknown_loss_names_suggest_the_nearest():
    with pytest.raises(UnknownNameError) as info:
        loss("mse2")
    hint = str(info.value).split("(known")[0]
    assert "'mse'" in hint
    with pytest.raises(UnknownNameError) as info:
        loss("crossentropy")
    hint = str(info.value).split("(known")[0]
    assert "did you mean" in hint and "cross_entropy" in hint
    with pytest.raises(UnknownNameError):
        output_delta("hinge", "sigmoid")
    with pytest.raises(UnknownNameError, match="sigmoid"):
        output_delta("bce", "sigmod")


def test_custom_quartic_loss():
    quartic = loss("(yhat - y)**4", name="quartic")
    assert quartic.name == "quartic"
    assert quartic.gradient == 4 * (yhat - y) ** 3
    assert output_delta(quartic, "identity").result == 4 * (yhat - y) ** 3
    result = output_delta(quartic, "sigmoid").result
    assert sp.expand(result) == sp.expand(4 * (yhat - y) ** 3 * yhat * (1 - yhat))


def test_custom_loss_hyperparameters():
    with pytest.raises(MissingHyperparameterError, match="w"):
        loss("(yhat-y)**2*w")
    weighted = loss("(yhat-y)**2*w", w=3.0)
    assert weighted.hyperparameters == {"w": 3.0}
    w = sp.Symbol("w", real=True)
    assert sp.expand(weighted.gradient - 6 * w / 3 * (yhat - y)) == 0
    with pytest.raises(FormulaError, match="v"):
        loss("(yhat-y)**2*w", w=1.0, v=2.0)
    with pytest.raises(FormulaError, match="yhat"):
        loss("y**2")
    with pytest.raises(FormulaError):
        loss("(yhat - y).__class__")
    with pytest.raises(FormulaError):
        loss(3)


def test_loss_hyperparameter_named_z_does_not_collide():
    try:
        scaled = loss("z*(yhat - y)**2", z=2.0)
    except FormulaError:
        return  # refusing the reserved name is a correct answer too
    assert z not in scaled.params
    act = activation("gelu")
    result = output_delta(scaled, act).result
    zv, tv = 0.7, 0.1
    yv = float(act.expr.subs(z, zv))
    value = float(result.subs(scaled.params).subs({yhat: yv, y: tv, z: zv}))
    expected = 2.0 * 2 * (yv - tv) * float(act.derivative.subs(z, zv))
    assert abs(value - expected) < 1e-12
