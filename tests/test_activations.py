"""Activations: structural results of the derivation, numbers against finite differences and
PyTorch autograd (float64), softmax in index form, and the formula parser's refusals."""

from __future__ import annotations

import builtins
from functools import cache

import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symprop.derive.activations import BUILTINS, Activation, activation
from symprop.derive.parsing import MAX_FORMULA_LENGTH, parse_formula
from symprop.derive.softmax import Softmax
from symprop.derive.symbols import A, G, K, Z, a, i, k, z
from symprop.errors import (
    FormulaError,
    MissingHyperparameterError,
    NotDifferentiableError,
    SympropError,
    UnknownNameError,
)
from tests.conftest import (
    ELEMENTWISE_ACTIVATIONS,
    KINKED,
    assert_close,
    central_difference,
    to_numpy_function,
    torch_activation,
    torch_derivative,
)

alpha = sp.Symbol("alpha", real=True)
beta = sp.Symbol("beta", real=True)

FAST = settings(max_examples=6, deadline=None, database=None,
                suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])

# (formula, hyperparameters, PyTorch equivalent, has a kink at 0)
CUSTOM = {
    "mish_formula": ("x*tanh(log(1 + exp(x)))", {}, F.mish, False),
    "cubic": ("x**3/3 + x", {}, lambda x: x**3 / 3 + x, False),
    "where_leaky": ("where(x > 0, x, 0.2*x)", {}, lambda x: F.leaky_relu(x, 0.2), True),
    "sigmoid_beta": ("1/(1+exp(-beta*x))", {"beta": 2.0}, lambda x: torch.sigmoid(2.0 * x),
                     False),
}


@cache
def builtin(name: str) -> Activation:
    return activation(name)


@cache
def custom(key: str) -> Activation:
    formula, hyper, _, _ = CUSTOM[key]
    return activation(formula, name=key, **hyper)


def z_values(kinked: bool):
    value = st.floats(min_value=-8.0, max_value=8.0, allow_nan=False, allow_infinity=False)
    if kinked:
        value = value.filter(lambda v: abs(v) > 1e-3)
    return st.lists(value, min_size=1, max_size=24)


# -- structural results ------------------------------------------------------------------------

def test_sigmoid_derivative_of_output_is_a_times_one_minus_a():
    assert builtin("sigmoid").derivative_of_output == a * (1 - a)


def test_tanh_derivative_of_output():
    assert builtin("tanh").derivative_of_output == 1 - a**2


def test_relu_derivative_of_output():
    assert builtin("relu").derivative_of_output == sp.Piecewise((1, a > 0), (0, True))


def test_leaky_relu_derivative_of_output_keeps_alpha_symbolic():
    act = activation("leaky_relu", alpha=0.1)
    assert act.derivative_of_output == sp.Piecewise((1, a > 0), (alpha, True))
    assert act.params == {alpha: 0.1}
    assert activation("leaky_relu").params == {alpha: 0.01}


def test_elu_negative_side_is_a_plus_alpha():
    out = builtin("elu").derivative_of_output
    assert isinstance(out, sp.Piecewise)
    assert out.args[0] == (1, a > 0)
    assert out.args[-1] == (a + alpha, True)


def test_softplus_derivative_of_output():
    assert builtin("softplus").derivative_of_output == 1 - sp.exp(-a)


def test_identity_derivative_is_one():
    act = builtin("identity")
    assert act.derivative == 1
    assert act.derivative_of_output == 1


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "gelu_tanh"])
def test_non_monotone_activations_have_no_output_form(name):
    assert builtin(name).derivative_of_output is None


def test_user_sigmoid_formula_gets_the_same_output_form():
    act = activation("1/(1+exp(-x))", name="mysig")
    assert act.name == "mysig"
    assert act.derivative_of_output == a * (1 - a)


def test_user_formula_in_z_and_caret_power():
    assert activation("z^2 + z").expr == z**2 + z


def test_user_sigmoid_with_beta_keeps_beta_as_a_symbol():
    act = custom("sigmoid_beta")
    assert act.params == {beta: 2.0}
    assert beta in act.expr.free_symbols
    out = act.derivative_of_output
    assert out is not None
    assert sp.simplify(out - beta * a * (1 - a)) == 0


def test_relu_derivative_at_zero_is_zero():
    assert builtin("relu").derivative.subs(z, 0) == 0
    assert builtin("leaky_relu").derivative.subs(z, 0) == alpha


def test_step_is_not_trainable_and_others_are():
    assert builtin("step").trainable is False
    for name in ELEMENTWISE_ACTIVATIONS:
        if name != "step":
            assert builtin(name).trainable is True, name


def test_aliases_resolve_to_builtins():
    assert activation("swish").name == "silu"
    assert activation("Logistic").name == "sigmoid"
    assert activation(" linear ").expr == z


def test_sigmoid_second_derivative_of_output():
    act = builtin("sigmoid")
    second = act.higher_derivative_of_output(2)
    assert sp.expand(second) == sp.expand(a * (1 - a) * (1 - 2 * a))
    zs = np.linspace(-6, 6, 25)
    f = to_numpy_function(act.expr, z)
    via_output = to_numpy_function(second, a)(f(zs))
    direct = to_numpy_function(act.nth_derivative(2), z)(zs)
    assert_close(via_output, direct, rtol=1e-9, atol=1e-14, what="sigmoid''")


def test_tanh_second_derivative_of_output():
    act = builtin("tanh")
    assert sp.expand(act.higher_derivative_of_output(2)) == sp.expand(-2 * a * (1 - a**2))
    assert builtin("gelu").higher_derivative_of_output(2) is None


def test_nth_derivative_rejects_bad_orders():
    for order in (0, -1, 1.5, "2"):
        with pytest.raises(FormulaError):
            builtin("sigmoid").nth_derivative(order)
    assert builtin("sigmoid").nth_derivative(1) == builtin("sigmoid").derivative


# -- numbers: every built-in and a few custom formulas ------------------------------------------

def _case(kind: str, key: str):
    if kind == "builtin":
        act = builtin(key)
        return act, torch_activation(key, act.hyperparameters), key in KINKED
    _, _, reference, kinked = CUSTOM[key]
    return custom(key), reference, kinked


CASES = [("builtin", n) for n in ELEMENTWISE_ACTIVATIONS] + [("custom", c) for c in CUSTOM]
IDS = [f"{kind}-{key}" for kind, key in CASES]


@pytest.mark.parametrize(("kind", "key"), CASES, ids=IDS)
def test_derivative_numbers(kind, key):
    """f' against central finite differences (h = 1e-6, rel 1e-5), f and f' against torch
    autograd (float64, rel 1e-9), and f'(z) recomputed from a = f(z) where that form exists."""
    act, reference, kinked = _case(kind, key)
    f = to_numpy_function(act.expr, z, act.params)
    df = to_numpy_function(act.derivative, z, act.params)
    out = act.derivative_of_output
    if out is None:
        # No form in a: not invertible (gelu, silu, mish), or only through Cardano's radicals
        # (cubic), which the library declines as no cheaper than keeping z.
        assert key in {"gelu", "gelu_tanh", "silu", "mish", "mish_formula", "cubic"}, key
    else:
        assert z not in out.free_symbols, out
    g = None if out is None else to_numpy_function(out, a, act.params)

    @FAST
    @given(z_values(kinked))
    def check(zs):
        zs = np.array(zs)
        slope = df(zs)
        assert_close(slope, central_difference(f, zs, 1e-6), rtol=1e-5, atol=1e-8,
                     what=f"{key}' vs finite differences at {zs}")
        grad, value = torch_derivative(reference, zs)
        assert_close(f(zs), value, rtol=1e-9, atol=1e-12, what=f"{key}(z) vs torch at {zs}")
        assert_close(slope, grad, rtol=1e-9, atol=1e-12, what=f"{key}'(z) vs torch at {zs}")
        if g is not None:
            assert_close(g(f(zs)), slope, rtol=1e-7, atol=1e-12,
                         what=f"{key}: f'(z) via a = f(z) at {zs}")

    check()


def test_expected_output_forms_exist():
    for name in ("identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
                 "softplus", "softsign"):
        assert builtin(name).derivative_of_output is not None, name
    # A cubic is invertible, but only through Cardano's radicals: declined on purpose.
    assert custom("cubic").derivative_of_output is None
    assert custom("where_leaky").derivative_of_output == sp.Piecewise(
        (1, a > 0), (sp.Rational(1, 5), True))


def test_hyperparameters_change_the_numbers():
    act = activation("elu", alpha=0.5)
    df = to_numpy_function(act.derivative, z, act.params)
    zs = np.array([-2.0, -0.5, 0.5, 2.0])
    grad, _ = torch_derivative(lambda x: F.elu(x, alpha=0.5), zs)
    assert_close(df(zs), grad, rtol=1e-12)
    act = activation("silu", beta=1.7)
    grad, _ = torch_derivative(lambda x: x * torch.sigmoid(1.7 * x), zs)
    assert_close(to_numpy_function(act.derivative, z, act.params)(zs), grad, rtol=1e-12)


# -- softmax -----------------------------------------------------------------------------------

def test_softmax_is_the_vector_activation():
    sm = activation("softmax")
    assert isinstance(sm, Softmax)
    assert activation(" Softmax ") is sm
    assert sp.expand(sm.derivative_of_output - A[k] * (sp.KroneckerDelta(k, i) - A[i])) == 0
    assert sm.vjp == A[i] * (G[i] - sp.Sum(G[k] * A[k], (k, 1, K)))
    with pytest.raises(FormulaError):
        activation("softmax", beta=1.0)


def _torch_softmax_jacobian(zs):
    zt = torch.tensor(zs, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), zt).numpy()


def _by_index(matrix_symbols):
    return sorted(matrix_symbols, key=lambda s: int(s.name[1:]))


def test_softmax_explicit_jacobian_matches_torch():
    sm = activation("softmax")
    jac = sm.jacobian_matrix(3)
    assert jac.shape == (3, 3)
    syms = _by_index(jac.free_symbols)
    assert [s.name for s in syms] == ["a1", "a2", "a3"]
    evaluate = sp.lambdify(syms, jac, modules="numpy")
    rng = np.random.default_rng(1)
    for _ in range(5):
        zs = rng.normal(scale=3, size=3)
        s = torch.softmax(torch.tensor(zs), 0).numpy()
        assert_close(np.array(evaluate(*s), dtype=float), _torch_softmax_jacobian(zs),
                     rtol=1e-12, atol=1e-15)


def _index_form(expr, classes, free, values):
    """Evaluate an index-form expression for K = classes at free index values."""
    concrete = expr.subs(K, classes).doit().subs(free)
    return float(concrete.subs(values))


def test_softmax_index_jacobian_matches_torch_for_k4():
    sm = activation("softmax")
    rng = np.random.default_rng(2)
    zs = rng.normal(scale=2, size=4)
    s = torch.softmax(torch.tensor(zs), 0).numpy()
    expected = _torch_softmax_jacobian(zs)  # expected[r, c] = d s_r / d z_c
    a_values = {A[n + 1]: s[n] for n in range(4)}
    z_values_ = {Z[n + 1]: zs[n] for n in range(4)}
    for row in range(1, 5):
        for col in range(1, 5):
            in_a = _index_form(sm.derivative_of_output, 4, {k: row, i: col}, a_values)
            in_z = _index_form(sm.derivative, 4, {k: row, i: col}, z_values_)
            assert abs(in_a - expected[row - 1, col - 1]) < 1e-12
            assert abs(in_z - expected[row - 1, col - 1]) < 1e-12


def test_softmax_vjp_matches_torch():
    vjp = activation("softmax").vjp
    concrete = vjp.subs(K, 4).doit()
    rng = np.random.default_rng(3)
    for _ in range(5):
        zs, gs = rng.normal(scale=2, size=4), rng.normal(size=4)
        zt = torch.tensor(zs, requires_grad=True)
        (expected,) = torch.autograd.grad(torch.softmax(zt, 0), zt, torch.tensor(gs))
        s = torch.softmax(torch.tensor(zs), 0).numpy()
        values = {**{A[n + 1]: s[n] for n in range(4)}, **{G[n + 1]: gs[n] for n in range(4)}}
        got = [float(concrete.subs(i, idx).subs(values)) for idx in range(1, 5)]
        assert_close(got, expected.numpy(), rtol=1e-10, atol=1e-14)


def test_softmax_derivation_steps():
    d = activation("softmax").derivation()
    titles = [s.title for s in d.steps]
    assert any("Kronecker" in t for t in titles)
    assert any("Vector-Jacobian" in t for t in titles)
    assert d.result == activation("softmax").derivative_of_output
    assert all(s.latex() for s in d.steps)


# -- bad formulas ------------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('echo hi')",
    "x.__class__",
    "().__class__.__bases__",
    "lambda: 1",
    "[x for x in ()]",
    "foo(x)",
    "x[0]",
    "'abc'",
    "9**9**9**9",
    "import os",
    "exp",
    "",
    "   ",
    "x + " * 1250 + "x",
    "x if x > 0 else 0",
    "__builtins__",
    "x > 0",
    "f'{x}'",
    "(x := 1)",
    "x // 2",
    "max(x)",
    "exp(x, 2)",
    "exp(x=1)",
    "where(1, x, 0)",
    "True*x",
    "x/0",
]


@pytest.mark.parametrize("formula", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formulas_are_refused_by_the_parser(formula):
    with pytest.raises(FormulaError):
        parse_formula(formula)


@pytest.mark.parametrize("formula", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formulas_are_refused_as_activations(formula):
    # A bare identifier is looked up as an activation name: unknown name, not a formula.
    expected = UnknownNameError if formula.strip().isidentifier() else FormulaError
    with pytest.raises(expected):
        activation(formula)


def test_bare_function_name_is_refused():
    # As an activation spec, a bare identifier is looked up as a name.
    with pytest.raises(UnknownNameError):
        activation("exp")
    with pytest.raises(FormulaError, match="without arguments"):
        activation("exp + x")


def test_long_formula_is_refused_with_the_limit_named():
    formula = "x+" * 2499 + "x"
    assert len(formula) > MAX_FORMULA_LENGTH
    with pytest.raises(FormulaError, match=str(MAX_FORMULA_LENGTH)):
        activation(formula)


def test_hostile_formula_has_no_side_effect(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(FormulaError):
        activation(f"__import__('pathlib').Path({str(target)!r}).touch() or x")
    assert not target.exists()


def test_parser_never_evaluates(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called while parsing a formula")

    import sympy.parsing.sympy_parser as sympy_parser

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    monkeypatch.setattr(sympy_parser, "eval_expr", refuse)
    for formula in HOSTILE:
        with pytest.raises(FormulaError):
            parse_formula(formula)
    expr = parse_formula("x*tanh(log(1 + exp(x))) + 0.5*where(x > 0, x, -x) + max(x, 2)^2")
    x = sp.Symbol("x", real=True)
    assert expr == (x * sp.tanh(sp.log(1 + sp.exp(x))) + sp.Rational(1, 2)
                    * sp.Piecewise((x, x > 0), (-x, True)) + sp.Max(x, 2) ** 2)


def test_formula_without_x_is_refused():
    for formula in ("3", "alpha + 1", "exp(2)"):
        with pytest.raises(FormulaError, match="x"):
            activation(formula, **({"alpha": 1.0} if "alpha" in formula else {}))


def test_missing_hyperparameter_is_named():
    with pytest.raises(MissingHyperparameterError, match="alpha"):
        activation("alpha*x")
    with pytest.raises(MissingHyperparameterError) as info:
        activation("alpha*x + beta", alpha=1.0)
    assert "beta" in str(info.value) and "alpha" not in str(info.value).split("uses")[1]
    assert issubclass(MissingHyperparameterError, ValueError)


def test_extra_keyword_is_refused():
    with pytest.raises(FormulaError, match="beta"):
        activation("alpha*x", alpha=1.0, beta=2.0)
    with pytest.raises(FormulaError, match="beta"):
        activation("relu", beta=1.0)
    with pytest.raises(FormulaError):
        activation("leaky_relu", alpha="0.1")
    with pytest.raises(FormulaError):
        activation("leaky_relu", alpha=float("inf"))


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(UnknownNameError, match="sigmoid") as info:
        activation("sigmod")
    assert isinstance(info.value, ValueError) and isinstance(info.value, SympropError)
    assert "'sigmoid'" in str(info.value).split("(known")[0]


def test_formula_undefined_for_negative_z_is_refused():
    with pytest.raises(FormulaError, match="not defined"):
        activation("sqrt(x)")
    with pytest.raises(FormulaError):
        activation("log(x)")


def test_formula_not_differentiable_at_zero_is_refused():
    with pytest.raises(NotDifferentiableError, match="z = 0"):
        activation("abs(x)**0.5")


def test_flat_formula_is_not_trainable():
    act = activation("where(x > 0, 1, 0)")
    assert act.trainable is False
    assert activation("where(x > 0, x, 0)").trainable is True


def test_non_string_spec_is_refused():
    for spec in (None, 3, ["relu"]):
        with pytest.raises(FormulaError):
            activation(spec)


def test_overflowing_float_literal_is_a_formula_error():
    with pytest.raises(FormulaError):
        activation("1e400*x")


def test_huge_numeric_power_is_a_formula_error():
    with pytest.raises(FormulaError):
        parse_formula("(9**999)**999")


def test_hyperparameter_named_a_does_not_collide_with_the_output():
    from symprop.derive.delta import output_delta
    from symprop.derive.symbols import y, yhat

    try:
        act = activation("a*x", a=2.0)
    except FormulaError:
        return  # refusing the reserved name is a correct answer too
    assert a not in act.params
    result = output_delta("mse", act).result
    # z = 0.5: yhat = 1, dL/dz = 2 (yhat - y) * 2
    value = result.subs(act.params).subs({yhat: 1.0, y: 0.25, z: 0.5})
    assert abs(float(value) - 3.0) < 1e-12


# -- derivations -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_derivation_prints(name):
    act = builtin(name)
    d = act.derivation()
    assert d.steps
    assert d.steps[0].title == "Definition"
    for step in d.steps:
        assert step.latex().strip()
        assert step.text().strip()
    assert name in d.text()
    assert name in d.markdown()
    assert d._repr_latex_().startswith("$$") and d._repr_latex_().endswith("$$")
    expected = act.derivative if act.derivative_of_output is None else act.derivative_of_output
    if act.trainable:
        assert d.result == expected
    else:
        assert d.result == 0
