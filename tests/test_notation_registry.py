"""How a notation symbol prints is a property of the symbol, never of its name: a network
derivation's a^{(1)} must not change how a later Symbol('a1') or the softmax Jacobian's a1
prints (issue 15, review item A)."""

import pickle

import sympy as sp

import symprop as symp
from symprop.architecture import parse_architecture
from symprop.derive.network import network_derivation
from symprop.derive.notation import NotationSymbol, matrix_notation, notation, plain_symbols
from symprop.derive.printers import latex, unicode


def test_network_notation_does_not_leak_into_later_symbols():
    network_derivation(parse_architecture("4-5:relu-3:relu-1:sigmoid"), "bce")
    a1 = sp.Symbol("a1", real=True)
    assert latex(a1) == "a_{1}" and unicode(a1) == "a₁"
    jacobian = symp.activation("softmax").jacobian_matrix(2)
    assert "a^{(1)}" not in latex(jacobian) and "a_{1}" in latex(jacobian)
    assert "a⁽¹⁾" not in unicode(jacobian) and "a₁" in unicode(jacobian)


def test_notation_symbols_carry_their_printing():
    layer = notation("a1", "a^{(1)}", real=True)
    assert latex(layer) == "a^{(1)}" and unicode(layer) == "a⁽¹⁾"
    assert layer != sp.Symbol("a1", real=True) and layer == notation("a1", "a^{(1)}", real=True)
    assert layer != notation("a1", "a_{1}", real=True)
    assert plain_symbols(layer + 1) == sp.Symbol("a1", real=True) + 1
    again = pickle.loads(pickle.dumps(layer))
    assert again == layer and isinstance(again, NotationSymbol) and latex(again) == "a^{(1)}"
    assert again.is_real
    weights = matrix_notation("W(1)", "W^{(1)}", 3, 2)
    assert latex(weights) == "W^{(1)}" and weights.shape == (3, 2)
    assert pickle.loads(pickle.dumps(weights)) == weights
    assert latex(sp.MatrixSymbol("W(1)", 3, 2)) != "W^{(1)}"


def test_handbook_is_the_same_twice():
    first = symp.handbook()
    assert symp.handbook() == first
