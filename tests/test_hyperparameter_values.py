"""Hyperparameters with their values: ``expr.subs(act.hyperparameters)``, ``act.bind()``,
``act.numeric()``, derivations that state the values (``symprop derive leaky_relu --param
alpha=0.2``); and the API of issue 15: ``sp.network_derivation`` with ``loss=``, the
calculus derivations exported from ``sp``, gradient descent's number types."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import symprop
from symprop.cli import main
from symprop.derive.values import Hyperparameters, shown

CASES = [("leaky_relu", {"alpha": 0.1}), ("elu", {"alpha": 0.7}), ("selu", {}),
         ("silu", {"beta": 1.5}), ("gelu", {}),
         ("x/(1 + exp(-beta*x))", {"beta": 2.0})]
GRID = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5])


def make(spec, values):
    return symprop.activation(spec, name="scaled" if "(" in spec else None, **values)


# -- the mapping --------------------------------------------------------------------------------
def test_hyperparameters_are_keyed_by_the_real_symbols_and_answer_to_names():
    act = symprop.activation("leaky_relu", alpha=0.1)
    values = act.hyperparameters
    assert isinstance(values, Hyperparameters) and values == {"alpha": 0.1}
    assert values["alpha"] == 0.1 and "alpha" in values and "beta" not in values
    (symbol,) = values
    assert symbol in act.expr.free_symbols  # the expression's own symbol, not a look-alike
    assert values[symbol] == 0.1 and values == {symbol: 0.1} and values.names() == {"alpha": 0.1}
    assert repr(values) == "{'alpha': 0.1}"
    with pytest.raises(KeyError):
        values["beta"]


@pytest.mark.parametrize("spec, values", CASES)
def test_subs_of_the_hyperparameters_leaves_only_z(spec, values):
    act = make(spec, values)
    for expr in (act.expr, act.derivative, act.derivative_of_output):
        if expr is not None:
            assert expr.subs(act.hyperparameters).free_symbols <= {act.z, act.a}


def test_a_loss_substitutes_its_hyperparameters_too():
    huber = symprop.loss("huber", delta=0.5)
    assert huber.hyperparameters == {"delta": 0.5}
    bound = huber.expr.subs(huber.hyperparameters)
    assert not bound.has(sp.Symbol("delta", positive=True))
    assert float(bound.subs({huber.yhat: 2, huber.y: 0})) == pytest.approx(0.5 * (2 - 0.25))


# -- bind and numeric ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec, values", CASES)
def test_bind_substitutes_the_values(spec, values):
    act = make(spec, values)
    bound = act.bind()
    assert bound.params == {} and bound.expr.free_symbols == {act.z}
    assert bound.derivative.free_symbols <= {act.z}
    point = {act.z: sp.Float(0.7)}
    assert float(bound.expr.subs(point)) == pytest.approx(
        float(act.expr.subs(act.hyperparameters).subs(point)), rel=1e-14)


def test_bind_keeps_the_form_in_the_output():
    bound = symprop.activation("leaky_relu", alpha=0.2).bind()
    assert bound.derivative_of_output == sp.Piecewise((1, bound.a > 0), (sp.Float(0.2), True))


@pytest.mark.parametrize("spec, values", CASES)
def test_numeric_gives_float64_numpy_functions_with_the_values_bound(spec, values):
    act = make(spec, values)
    f, f_prime = act.numeric()
    out, slope = f(GRID), f_prime(GRID)
    assert out.dtype == np.float64 and slope.dtype == np.float64 and out.shape == GRID.shape
    by_math = sp.lambdify(act.z, act.expr.subs(act.hyperparameters), modules=["math"])
    np.testing.assert_allclose(out, [by_math(float(x)) for x in GRID], rtol=1e-13)
    step = 1e-6  # central differences, away from the kinks at 0
    np.testing.assert_allclose(slope, (f(GRID + step) - f(GRID - step)) / (2 * step),
                               rtol=1e-6, atol=1e-8)


def test_numeric_of_a_constant_derivative_is_an_array_and_takes_lists():
    f, f_prime = symprop.activation("identity").numeric()
    assert f_prime([1.0, 2.0, 3.0]).tolist() == [1.0, 1.0, 1.0]
    assert f_prime(np.zeros((2, 2))).shape == (2, 2)
    f, _ = symprop.activation("sigmoid").numeric()
    assert f(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]  # no warning escapes


# -- derivations state the values ----------------------------------------------------------------
def test_an_activation_derivation_states_its_values_and_the_bound_result():
    text = symprop.activation("leaky_relu", alpha=0.1).derivation().text()
    assert "Hyperparameters: α = 0.1" in text
    assert "{1 if a > 0; 0.1 otherwise}" in text
    assert "α = 0.1" not in symprop.activation("relu").derivation().text()


def test_derive_param_shows_the_value(capsys):
    assert main(["derive", "leaky_relu", "--param", "alpha=0.2", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "α = 0.2" in text and "0.2 otherwise" in text
    assert main(["derive", "leaky_relu", "--param", "alpha=0.2", "--format", "latex"]) == 0
    assert r"\alpha = 0.2" in capsys.readouterr().out
    # A loss's values, and those of an output delta (which states them in a note).
    assert main(["derive", "huber", "--param", "delta=0.3", "--format", "text"]) == 0
    assert "κ = 0.3 (delta)" in capsys.readouterr().out
    assert main(["derive", "huber", "--activation", "identity", "--param", "delta=0.3",
                 "--format", "text"]) == 0
    assert "κ = 0.3 (delta)" in capsys.readouterr().out


def test_shown_numbers_print_without_trailing_zeros():
    assert shown(3.0) == 3 and isinstance(shown(3.0), sp.Integer)
    assert str(shown(3.4000000000000004)) == "3.4" and str(shown(-0.0)) == "0"
    assert str(shown(0.1, None)) == "0.1" and str(shown(1234.5)) == "1234"
    assert str(shown(1.0507009873554805, None)) == "1.0507009873554805"


# -- the API ---------------------------------------------------------------------------------------
def test_network_derivation_takes_an_architecture_string_and_loss_keyword():
    d = symprop.network_derivation("2-3:relu-1:sigmoid", loss="bce")
    assert "bce" in d.title and "2-3:relu-1:sigmoid" in d.title
    assert symprop.network_derivation("2-3:relu-1:sigmoid", "bce").title == d.title


@pytest.mark.parametrize("name", ["gradient_derivation", "jacobian_derivation",
                                  "gradient_descent_derivation", "linear_change",
                                  "directional_derivative", "explain_network", "Explanation",
                                  "Hyperparameters", "LinearChange"])
def test_the_derivations_are_exported_from_sp(name):
    assert name in symprop.__all__ and getattr(symprop, name) is not None


def test_the_exported_calculus_derivations_work():
    d = symprop.gradient_derivation("x**2 + 4*y**2", ["x", "y"], at={"x": 1, "y": 1})
    assert isinstance(d, symprop.Derivation)
    assert isinstance(symprop.jacobian_derivation(["x**2 + y", "2*x"], ["x", "y"]),
                      symprop.Derivation)


def test_gradient_descent_returns_floats_for_float_input():
    history = symprop.gradient_descent("(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0},
                                       lr=0.1, steps=2)
    assert history[1] == ({"x": 0.6, "y": -0.4}, 6.48)
    assert all(type(v) is float for point, value in history for v in [*point.values(), value])
    (_, first), (point, _) = symprop.gradient_descent("x**2", {"x": np.float64(1)},
                                                      Fraction(1, 4), 1)
    assert type(first) is float and point == {"x": 0.5}


def test_gradient_descent_stays_exact_for_exact_input():
    history = symprop.gradient_descent("(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0},
                                       lr=sp.Rational(1, 10), steps=2)
    assert history[2] == ({"x": sp.Rational(27, 25), "y": sp.Rational(-16, 25)},
                          sp.Rational(2466, 625))
    (_, value), (point, _) = symprop.gradient_descent("x**2", {"x": 1}, Fraction(1, 4), 1)
    assert value == 1 and point["x"] == sp.Rational(1, 2)
    (_, value), _ = symprop.gradient_descent("exp(x)", {"x": 1}, sp.Rational(1, 2), 1)
    assert isinstance(value, sp.Float) and float(value) == pytest.approx(math.e)  # no exact e
