"""Multivariable calculus: the notes' worked examples, number for number, plus properties."""

import math
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symprop.derive.calculus import (
    directional_derivative,
    gradient,
    gradient_derivation,
    gradient_descent,
    gradient_descent_derivation,
    jacobian,
    jacobian_derivation,
    linear_change,
)
from symprop.derive.graph import computation_graph
from symprop.derive.layout import prose_text  # titles are prose with maths
from symprop.errors import FormulaError, MissingHyperparameterError, SympropError

x, y = sp.symbols("x y", real=True)
a, b, c, e, f = sp.symbols("a b c e f", real=True)
GRAPH = {"d": "b*c", "e": "a + d", "f": "d*a", "g": "e**f"}


def balanced_latex(text: str) -> bool:
    depth = 0
    for char in text.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    sized = [len(re.findall(rf"\\{side}(?![A-Za-z])", text)) for side in ("left", "right")]
    return depth == 0 and sized[0] == sized[1]  # \leftarrow is not a \left


# -- Example A: gradient, norm, linear prediction --------------------------------------------
def test_gradient_of_example_a():
    grad = gradient("x**2 + 4*y**2", ["x", "y"])
    assert grad.shape == (2, 1)
    assert grad == sp.Matrix([2 * x, 8 * y])
    assert gradient("x**2 + 4*y**2", [x, y]) == sp.Matrix([2 * x, 8 * y])
    # a variable absent from the formula has partial derivative 0
    assert gradient("x**2", ["x", "z"]) == sp.Matrix([2 * x, 0])


def test_gradient_of_sympy_expression_uses_its_own_symbols():
    u, v = sp.symbols("u v")  # no assumptions: "u" must still mean this u
    assert gradient(u**2 * v, ["u", "v"]) == sp.Matrix([2 * u * v, u**2])


def test_variable_named_e_is_a_variable_not_eulers_number():
    assert gradient("e*x", ["e", "x"]) == sp.Matrix([x, e])
    assert gradient("e**x", ["x"]) == sp.Matrix([sp.exp(x)])  # otherwise e is the constant


def test_gradient_derivation_at_a_point_gives_value_and_norm():
    d = gradient_derivation("x**2 + 4*y**2", ["x", "y"], at={"x": 1, "y": 1})
    assert d.result == sp.Matrix([2, 8])
    norm_chain = d.steps[-1].expression
    assert sp.sqrt(68) in norm_chain
    assert float(norm_chain[-1]) == pytest.approx(8.246211, abs=1e-6)
    assert math.sqrt(68) == pytest.approx(8.246211, abs=1e-6)
    assert [prose_text(s.title) for s in d.steps[1:3]] == ["Partial derivative with respect to x",
                                              "Partial derivative with respect to y"]
    latex = d.latex()
    assert r"\frac{\partial f}{\partial x}" in latex and r"\sqrt{68}" in latex
    assert balanced_latex(latex)
    assert "(2, 8)" in d.text()
    assert gradient_derivation("x**2 + 4*y**2", ["x", "y"]).result == sp.Matrix([2 * x, 8 * y])


def test_gradient_derivation_needs_every_value():
    with pytest.raises(MissingHyperparameterError, match="y"):
        gradient_derivation("x**2 + 4*y**2", ["x", "y"], at={"x": 1})


def test_linear_prediction_of_example_a():
    predicted, actual = linear_change("x**2 + 4*y**2", ["x", "y"], {"x": 1, "y": 1},
                                      (0.01, 0.005))
    assert predicted == sp.Rational("0.06") and actual == sp.Rational("0.0602")
    assert float(predicted) == pytest.approx(0.06) and float(actual) == pytest.approx(0.0602)
    again = linear_change("x**2 + 4*y**2", ["x", "y"], {"x": 1.0, "y": 1.0},
                          {"x": 0.01, "y": 0.005})
    assert again == (predicted, actual)


def test_directional_derivative():
    assert directional_derivative("x**2 + 4*y**2", ["x", "y"], (1, 0)) == 2 * x
    # along the gradient itself: the rate is the gradient's norm, sqrt(68)
    steepest = directional_derivative("x**2 + 4*y**2", ["x", "y"], (2, 8), at={"x": 1, "y": 1})
    assert steepest == sp.sqrt(68)
    raw = directional_derivative("x**2 + 4*y**2", ["x", "y"], (1, 1), at={"x": 1, "y": 1},
                                 normalize=False)
    assert raw == 10
    with pytest.raises(SympropError, match="zero vector"):
        directional_derivative("x**2", ["x"], (0,))


# -- Jacobian --------------------------------------------------------------------------------
def test_jacobian_of_the_notes():
    expected = sp.Matrix([[2 * x, 1], [2, 3]])
    assert jacobian(["x**2 + y", "2*x + 3*y"], ["x", "y"]) == expected
    d = jacobian_derivation(["x**2 + y", "2*x + 3*y"], ["x", "y"])
    assert d.result == expected
    partials = [s.expression.rhs for s in d.steps if prose_text(s.title).startswith("Partial")]
    assert partials == [2 * x, 1, 2, 3]
    assert r"\frac{\partial f_{1}}{\partial x}" in d.latex() and balanced_latex(d.latex())


# -- Example B: gradient descent -------------------------------------------------------------
def test_gradient_descent_of_example_b():
    expected = [({"x": 0, "y": 0}, 11), ({"x": "0.6", "y": "-0.4"}, "6.48"),
                ({"x": "1.08", "y": "-0.64"}, "3.9456")]
    # Exact input (a Rational learning rate): exact numbers.
    history = gradient_descent("(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0},
                               lr=sp.Rational(1, 10), steps=2)
    assert len(history) == 3
    for (point, value), (want_point, want_value) in zip(history, expected, strict=True):
        assert list(point) == ["x", "y"]
        assert {k: sp.Rational(v) for k, v in want_point.items()} == point
        assert value == sp.Rational(want_value)  # exact, not 6.4799999...
    # Float input (lr=0.1): Python floats, the doubles nearest the exact values.
    history = gradient_descent("(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0},
                               lr=0.1, steps=2)
    for (point, value), (want_point, want_value) in zip(history, expected, strict=True):
        assert {k: float(v) for k, v in want_point.items()} == point
        assert type(value) is float and value == float(want_value)
    assert gradient_descent("x**2", {"x": 2}, sp.Rational(1, 2), 0) == [({"x": 2}, 4)]


def test_gradient_descent_derivation_shows_each_step():
    d = gradient_descent_derivation("(x - 3)**2 + 2*(y + 1)**2", start={"x": 0, "y": 0},
                                    lr=0.1, steps=2)
    text = d.text()
    for line in ["∇f(0, 0) = (−6, 4)", "x₁ = 0 − 0.1·(−6) = 0.6", "y₁ = 0 − 0.1·4 = −0.4",
                 "f(0.6, −0.4) = 6.48", "∇f(0.6, −0.4) = (−4.8, 2.4)",
                 "x₂ = 0.6 − 0.1·(−4.8) = 1.08", "f(1.08, −0.64) = 3.9456", "f(0, 0) = 11",
                 "(x, y) ← (x − η ∂f/∂x, y − η ∂f/∂y)", "f fell: 6.48 → 3.9456"]:
        assert line in text
    # The notes' LaTeX: the update with a left arrow and eta first, the numbers as decimals.
    assert r"(x, y) &\leftarrow \left(x - \eta \frac{\partial f}{\partial x}" in d.latex()
    assert r"x - \eta \frac{\partial f}{\partial x}" in d.latex()
    assert r"x_{2} &= 0.6 - 0.1 \cdot (-4.8) = 1.08" in d.latex()
    assert d.result == sp.Tuple(sp.Rational("1.08"), sp.Rational("-0.64"))
    assert r"\nabla f" in d.latex() and balanced_latex(d.latex())


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_gradient_descent_refuses_bad_learning_rates(lr):
    with pytest.raises(SympropError, match="lr"):
        gradient_descent("x**2", {"x": 1}, lr, 1)


@pytest.mark.parametrize("steps", [-1, 1.5, True, "2"])
def test_gradient_descent_refuses_bad_step_counts(steps):
    with pytest.raises(SympropError, match="steps"):
        gradient_descent("x**2", {"x": 1}, 0.1, steps)


def test_gradient_descent_names_missing_start_values():
    with pytest.raises(MissingHyperparameterError, match="'?y'?"):
        gradient_descent("x**2 + y**2", {"x": 1}, 0.1, 1)


def test_gradient_descent_leaves_exact_arithmetic_when_it_must():
    (_, v0), (p1, _) = gradient_descent("exp(x)", {"x": 1}, sp.Rational(1, 2), 1)
    assert isinstance(v0, sp.Float) and float(v0) == pytest.approx(math.e, rel=1e-14)
    assert float(p1["x"]) == pytest.approx(1 - 0.5 * math.e, rel=1e-14)
    *_, (point, value) = gradient_descent("x**4", {"x": sp.Rational(1, 2)},
                                          sp.Rational(1, 10), 30)
    assert isinstance(point["x"], sp.Float) and 0 < float(value) < 0.0625  # no digit blow-up
    with pytest.raises(SympropError, match="domain"):
        gradient_descent("log(x)", {"x": 0.05}, 1, 2)  # the step lands at x < 0


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.1, 3), q=st.floats(-5, 5), r=st.floats(0.1, 3), s=st.floats(-5, 5),
       lr=st.floats(0.01, 0.3), x0=st.floats(-5, 5), y0=st.floats(-5, 5))
def test_descent_on_quadratics_never_rises_and_matches_numpy(p, q, r, s, lr, x0, y0):
    formula = f"{p!r}*(x - ({q!r}))**2 + {r!r}*(y - ({s!r}))**2"
    history = gradient_descent(formula, {"x": x0, "y": y0}, lr, 3)
    point, scale, centre = np.array([x0, y0]), np.array([p, r]), np.array([q, s])
    for (here, value), (there, new_value) in zip(history, history[1:], strict=False):
        assert float(new_value) <= float(value) + 1e-12
        assert np.allclose([float(here["x"]), float(here["y"])], point, rtol=1e-9, atol=1e-9)
        point = point - lr * 2 * scale * (point - centre)  # the step by hand
        assert np.allclose([float(there["x"]), float(there["y"])], point, rtol=1e-9, atol=1e-9)
    assert float(history[-1][1]) == pytest.approx(float(np.sum(scale * (point - centre) ** 2)),
                                                  rel=1e-9, abs=1e-12)


# -- computation graph -----------------------------------------------------------------------
def test_graph_derivatives_match_direct_differentiation_and_finite_differences():
    graph = computation_graph(GRAPH, ["a", "b", "c"])
    derivatives = graph.derivatives("g")
    assert list(derivatives) == ["a", "b", "c"]
    g = (a + b * c) ** (a * b * c)  # the graph substituted by hand
    at = {"a": 1.5, "b": 0.7, "c": 1.2}

    def g_at(values):
        return (values["a"] + values["b"] * values["c"]) ** (values["a"] * values["b"]
                                                            * values["c"])

    for name, symbol in zip("abc", (a, b, c), strict=True):
        # simplify alone cannot prove this one; splitting the powers apart can
        assert sp.powsimp(sp.expand(derivatives[name] - sp.diff(g, symbol))) == 0
        h = 1e-6
        up, down = dict(at), dict(at)
        up[name] += h
        down[name] -= h
        numeric = (g_at(up) - g_at(down)) / (2 * h)
        exact = float(derivatives[name].subs({a: 1.5, b: 0.7, c: 1.2}))
        assert exact == pytest.approx(numeric, rel=1e-6)
    # definitions in any order give the same graph
    shuffled = computation_graph(dict(reversed(list(GRAPH.items()))), ["a", "b", "c"])
    assert list(shuffled.nodes) == ["d", "f", "e", "g"] and shuffled.derivatives() == derivatives


def test_graph_derivation_walks_the_chain_rule_backwards():
    d = computation_graph(GRAPH, ["a", "b", "c"]).derivation("g")
    steps = {prose_text(s.title): s.expression for s in d.steps}
    assert sp.simplify(steps["Local partial of g with respect to e"].rhs - f * e ** (f - 1)) == 0
    assert steps["Local partial of g with respect to f"].rhs == e**f * sp.log(e)
    assert steps["Local partial of f with respect to d"].rhs == a
    dg_dd = steps["Total derivative of g with respect to d"]
    assert sp.simplify(dg_dd[-1] - (f * e ** (f - 1) + e**f * sp.log(e) * a)) == 0
    # every total derivative of an input ends in terms of the inputs only
    for name in "abc":
        chain = steps[f"Total derivative of g with respect to {name}"]
        assert chain[-1].free_symbols <= {a, b, c}
    titles = [prose_text(s.title) for s in d.steps]
    assert titles[-3:] == [f"Total derivative of g with respect to {n}" for n in "abc"]
    assert titles.index("Total derivative of g with respect to d") < titles.index(
        "Local partial of d with respect to b")
    assert "chain rule" in d.text().lower()
    latex = d.latex()
    assert r"\frac{\partial g}{\partial a}" in latex and balanced_latex(latex)
    assert d.result == sp.Matrix(list(computation_graph(GRAPH, ["a", "b", "c"]).derivatives()
                                      .values()))


def test_graph_marks_a_direct_partial_that_differs_from_the_total():
    graph = computation_graph({"d": "b*c", "h": "d + a", "g": "d*h + c"}, ["a", "b", "c"])
    assert graph.derivatives() == {"a": b * c, "b": c * (a + 2 * b * c),
                                   "c": b * (a + 2 * b * c) + 1}
    assert r"\right|_{\text{direct}}" in graph.derivation().latex()


def test_graph_input_the_output_ignores_has_zero_derivative():
    graph = computation_graph({"d": "a*b"}, ["a", "b", "c"])
    assert graph.derivatives("d") == {"a": b, "b": a, "c": 0}
    assert "g does not depend" not in graph.derivation().text()
    assert "d does not depend on c" in graph.derivation().text()


@pytest.mark.parametrize("definitions, inputs, pattern", [
    ({"d": "e + a", "e": "d*b"}, ["a", "b"], "cycle: d -> e -> d"),
    ({"d": "d + a"}, ["a"], "node 'd' is part of a cycle"),
    ({"d": "a*h"}, ["a"], "node 'd' refers to the undefined name 'h'"),
    ({"a": "b*c"}, ["a", "b", "c"], "node 'a' redefines the input"),
    ({"d": "a.__class__"}, ["a"], "node 'd'"),
    ({"exp": "a"}, ["a"], "function name"),
    ({"2d": "a"}, ["a"], "not a valid symbol name"),
])
def test_graph_refuses_bad_definitions(definitions, inputs, pattern):
    with pytest.raises(FormulaError, match=pattern.replace("(", r"\(")):
        computation_graph(definitions, inputs)


def test_graph_refuses_an_unknown_output():
    with pytest.raises(FormulaError, match="'z' is not a node"):
        computation_graph(GRAPH, ["a", "b", "c"]).derivatives("z")


# -- hostile input ---------------------------------------------------------------------------
@pytest.mark.parametrize("formula", ["__import__('os').system('x')", "x.__class__",
                                     "(lambda: x)()", "x if x else y", "", "x +"])
def test_hostile_or_malformed_formulas_are_refused(formula):
    for call in (lambda: gradient(formula, ["x"]), lambda: jacobian([formula], ["x"]),
                 lambda: gradient_descent(formula, {"x": 1}, 0.1, 1),
                 lambda: computation_graph({"g": formula}, ["x"])):
        with pytest.raises(FormulaError) as caught:
            call()
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("variables", [[], ["x", "x"], ["__class__"], [3]])
def test_bad_variable_lists_are_refused(variables):
    with pytest.raises(SympropError):
        gradient("x**2", variables)
