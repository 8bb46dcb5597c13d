"""What an activation is, decided from its expression: poles and jumps the sample grid misses
are refused, names never choose the maths (the logit form of bce), and which outputs are
probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import symprop
from symprop.derive.activations import (
    BUILTINS,
    activation,
    explicit_pieces,
    output_range_in_unit_interval,
)
from symprop.derive.continuity import bind, real_line_problem
from symprop.derive.inverse import GRID, scalar_function
from symprop.derive.losses import loss
from symprop.derive.parsing import parse_formula
from symprop.derive.symbols import z
from symprop.errors import FormulaError, NotDifferentiableError

# (formula, error class, where the message says the problem is)
REFUSED = [
    ("tan(x)", FormulaError, "pi/2"),
    ("1/(x - 0.1)", FormulaError, "z = 1/10"),
    ("log(abs(x - 0.1))", FormulaError, "z = 1/10"),
    ("x/(x - 0.1)", FormulaError, "z = 1/10"),
    ("x + step(x - 0.3)", NotDifferentiableError, "jumps at z = 3/10"),
    ("where(x > 0 and x < 1, x, 0)", NotDifferentiableError, "jumps at z = 1"),
    ("abs(x - 0.1)**0.5", NotDifferentiableError, "derivative at z = 1/10"),
    ("where(x > 0.3, sqrt(x - 0.3), 0)", NotDifferentiableError, "next to z = 3/10"),
]

ACCEPTED = [
    ("x*tanh(log(1 + exp(x)))", {}),  # mish
    ("x/2*(1 + erf(x/sqrt(2)))", {}),  # gelu
    ("x/(1 + exp(-beta*x))", {"beta": 1.5}),  # silu with beta
    ("1/(1 + exp(-beta*x))", {"beta": 2.0}),
    ("x*sigmoid(1.702*x)", {}),
    ("x/(1 + abs(x))", {}),  # softsign
    ("where(x > 0, x, 0.1*x)", {}),
    ("where(x > 0, x, exp(x) - 1)", {}),  # elu-like
    ("where(x > 0, x, alpha*(exp(x) - 1))", {"alpha": 1.0}),
    ("min(max(x, -1), 1)", {}),  # hard tanh: kinks, no jump
    ("where(x > 1, 2*x - 1, where(x > -1, x**2, -2*x - 1))", {}),
    ("sign(x)*x", {}),
    ("x**3/3 + x", {}),
    ("sqrt(x**2 + 1)", {}),
    ("atan(x)", {}),
    ("asinh(x)", {}),
    ("x*erfc(-x)", {}),
    ("tanh(x)/2 + 1/2", {}),
    ("exp(-x**2)", {}),
    ("where(x > 0, x, 0.01*x) + 0.1*sin(x)", {}),
]


@pytest.mark.parametrize("formula, kind, where", REFUSED, ids=[f for f, _, _ in REFUSED])
def test_poles_and_jumps_between_grid_points_are_refused(formula, kind, where):
    with pytest.raises(kind) as caught:
        activation(formula)
    assert where in str(caught.value) and formula in str(caught.value)


@pytest.mark.parametrize("formula", [f for f, _, _ in REFUSED])
def test_the_sample_grid_alone_passes_them(formula):
    # The refusals above are the symbolic check's: on the grid every one is finite.
    expr = explicit_pieces(parse_formula(formula, lambda name: z))
    value = scalar_function(expr, z, {})
    slope = scalar_function(sp.diff(expr, z), z, {})
    assert all(math.isfinite(value(x)) and math.isfinite(slope(x)) for x in GRID if x)


@pytest.mark.parametrize("formula, hyper", ACCEPTED, ids=[f for f, _ in ACCEPTED])
def test_reasonable_activations_are_accepted(formula, hyper):
    act = activation(formula, **hyper)
    assert act.trainable
    assert real_line_problem(bind(act.expr, act.params), z) is None


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_passes_the_symbolic_check(name):
    act = activation(name)
    assert real_line_problem(bind(act.expr, act.params), z) is None


def test_step_like_formulas_may_jump_and_are_not_trainable():
    act = activation("where(x > 0, 1, 0)")
    assert not act.trainable
    assert not activation("step").trainable


def test_undecidable_formulas_are_refused_saying_so():
    with pytest.raises(FormulaError, match="could not decide"):
        activation("log(2 + erf(x))")  # erf inside a log: continuous_domain does not know erf
    with pytest.raises(FormulaError, match="could not decide"):
        activation("where(exp(x) > 2, x, 2*x)")  # a condition beyond arithmetic, abs, max


def test_the_grid_check_still_names_the_first_bad_point():
    with pytest.raises(FormulaError, match="at z = -6"):
        activation("sqrt(x)")


# -- names never change the maths -------------------------------------------------------------
def test_the_logit_form_is_chosen_by_the_expression():
    bce = loss("bce")
    assert bce.logit_form(activation("sigmoid")) is not None
    assert bce.logit_form("sigmoid") is not None
    assert bce.logit_form(activation("1/(1 + exp(-x))", name="mine")) is not None
    assert bce.logit_form(activation("exp(x)/(1 + exp(x))")) is not None  # proven equal
    # sigmoid(2x) named "sigmoid" is no sigmoid; nor is a loss named "bce" that is mse.
    assert bce.logit_form(activation("tanh(x)/2 + 1/2", name="sigmoid")) is None
    assert bce.logit_form(activation("1/(1 + exp(-beta*x))", beta=1.0)) is None
    assert loss("(yhat - y)**2", name="bce").logit_form("sigmoid") is None
    mine = loss("-(y*log(yhat) + (1 - y)*log(1 - yhat))", name="mine")
    assert mine.logit_form("sigmoid") == bce.logit_form("sigmoid")
    assert loss("ce").logit_form("softmax") is not None
    assert bce.logit_form("softmax") is None


@pytest.mark.parametrize("spec, name", [("tanh(x)/2 + 1/2", "sigmoid"), ("sigmoid", None)])
def test_evaluated_bce_is_the_bce_of_the_networks_own_predictions(spec, name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (rng.random(64) > 0.5).astype(np.float32)
    net = symprop.Network([symprop.Dense(3, 1, spec, name=name)], loss="bce",
                          dtype="float32", seed=0)
    p = net.predict(X).reshape(-1).astype(np.float64)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert net.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-5)


# -- which outputs are probabilities ------------------------------------------------------------
@pytest.mark.parametrize("spec, expected", [
    ("sigmoid", True), ("softmax", True), ("step", True), ("(tanh(x) + 1)/2", True),
    ("1/(1 + exp(-2*x))", True), ("exp(-x**2)", True), ("where(x > 0, 1 - exp(-x), 0)", True),
    ("tanh", False), ("identity", False), ("relu", False), ("softplus", False),
    ("x/(1 + abs(x))", False), ("2/(1 + exp(-x))", False), ("sin(x)", False),
])
def test_output_range_in_unit_interval(spec, expected):
    assert output_range_in_unit_interval(activation(spec)) is expected


def test_output_range_uses_the_hyperparameters_values():
    assert output_range_in_unit_interval(activation("alpha/(1 + exp(-x))", alpha=1.0))
    assert not output_range_in_unit_interval(activation("alpha/(1 + exp(-x))", alpha=2.0))


def test_an_undecidable_range_is_not_taken_for_a_probability():
    # erf/2 + 1/2 lies in (0, 1), but SymPy's function_range does not know erf.
    assert output_range_in_unit_interval(activation("erf(x)/2 + 1/2")) is False
