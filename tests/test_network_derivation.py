"""The network backprop derivation: structure, the derived dense-layer rules, LaTeX output."""

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
import torch

from symprop.architecture import LayerSpec, check_chain, parse_architecture
from symprop.derive.network import dense_layer_rules, network_derivation
from symprop.derive.symbols import y, yhat
from symprop.errors import ShapeError, SympropError, UnknownNameError


def test_parse_architecture():
    layers = parse_architecture("4-8:relu-3:softmax")
    assert layers == [LayerSpec(4, 8, "relu"), LayerSpec(8, 3, "softmax")]


@pytest.mark.parametrize("bad, fragment", [
    ("4", "at least one layer"),
    ("4-8", "needs an activation"),
    ("4:relu-8:relu", "takes no activation"),
    ("4-x:relu", "'x:relu'"),
    ("4-0:relu", "'0:relu'"),
    ("", "architecture"),
])
def test_bad_architectures_name_the_token(bad, fragment):
    with pytest.raises(SympropError, match=fragment):
        parse_architecture(bad)


def test_widths_must_chain():
    with pytest.raises(ShapeError, match="layer 2 takes 5 inputs but layer 1 gives 8"):
        check_chain([LayerSpec(4, 8, "relu"), LayerSpec(5, 3, "softmax")])


def test_dense_rules_are_derived_from_the_index_form():
    d = dense_layer_rules()
    titles = [s.title for s in d.steps]
    assert titles[0] == "Scalar form of the layer"
    # The weight step ends in delta_r * a_s: a product of exactly the two indexed factors.
    weight = next(s for s in d.steps if s.title == "Chain rule for the weight").expression[-1]
    assert isinstance(weight, sp.Mul)
    assert sorted(str(f.base) for f in weight.args) == ["a_prev", "delta"]
    assert sorted(str(f.indices[0]) for f in weight.args) == ["r", "s"]
    # The input step is a sum over the layer's units of W_ps delta_p: (W^T delta)_s.
    inputs = next(s for s in d.steps if s.title == "Chain rule for the layer's input")
    total = inputs.expression[-1]
    assert isinstance(total, sp.Sum)
    assert total.function.has(sp.Indexed)


def test_notes_three_layer_example():
    d = network_derivation(parse_architecture("4-5:relu-3:relu-1:sigmoid"), "bce")
    text = d.text()
    assert "delta3 = yhat - y" in text
    assert "delta2 = (W3.T*delta3) ∘ relu'(z2)" in text
    assert "delta1 = (W2.T*delta2) ∘ relu'(z1)" in text
    assert "relu'(z1) = Piecewise((1, a1 > 0), (0, True))" in text
    assert "dL/dW1 = delta1*x.T" in text
    assert "1/m" in text
    latex = d.latex()
    assert r"\delta^{(3)}" in latex and r"W^{(3)}" in latex and r"\circ" in latex
    assert r"\hat{y} - y" in latex


def test_sigmoid_hidden_layer_uses_output_form():
    d = network_derivation(parse_architecture("2-3:sigmoid-1:identity"), "mse")
    assert "sigmoid'(z1) = a1*(1 - a1)" in d.text()
    output = next(s for s in d.steps if s.title == "Delta of the output layer 2")
    assert output.expression[-1] == 2 * (yhat - y)


def test_gelu_hidden_layer_keeps_z():
    d = network_derivation(parse_architecture("2-3:gelu-1:identity"), "mse")
    assert "gelu'(z1) =" in d.text() and "z1" in d.text().split("gelu'(z1) =")[1].split("\n")[0]


def test_softmax_hidden_layer_uses_vjp():
    d = network_derivation(parse_architecture("3-4:softmax-2:identity"), "mse")
    assert "softmax: vector-Jacobian product" in d.text()


def test_unknown_names_are_refused():
    with pytest.raises(UnknownNameError, match="relu"):
        network_derivation(parse_architecture("4-8:rleu-3:softmax"), "ce")
    with pytest.raises(UnknownNameError, match="mse"):
        network_derivation(parse_architecture("4-8:relu-3:softmax"), "msee")


def test_matrix_rules_match_torch_on_the_notes_network():
    """Evaluate the derived rules numerically (notes' layout) and compare with autograd."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 1)), np.array([[1.0]])
    Ws = [rng.normal(size=(5, 4)), rng.normal(size=(3, 5)), rng.normal(size=(1, 3))]
    bs = [rng.normal(size=(5, 1)), rng.normal(size=(3, 1)), rng.normal(size=(1, 1))]
    a0 = x
    z1 = Ws[0] @ a0 + bs[0]
    a1 = np.maximum(z1, 0)
    z2 = Ws[1] @ a1 + bs[1]
    a2 = np.maximum(z2, 0)
    a3 = 1 / (1 + np.exp(-(Ws[2] @ a2 + bs[2])))
    delta3 = a3 - y  # the derived output delta
    delta2 = (Ws[2].T @ delta3) * (a2 > 0)  # relu'(z) = [a > 0]
    delta1 = (Ws[1].T @ delta2) * (a1 > 0)
    mine = [delta1 @ a0.T, delta2 @ a1.T, delta3 @ a2.T]

    tw = [torch.tensor(w, requires_grad=True) for w in Ws]
    tb = [torch.tensor(b, requires_grad=True) for b in bs]
    h = torch.tensor(x)
    for layer in range(3):
        h = tw[layer] @ h + tb[layer]
        h = torch.relu(h) if layer < 2 else torch.sigmoid(h)
    torch.nn.functional.binary_cross_entropy(h, torch.tensor(y)).backward()
    for ours, theirs in zip(mine, tw, strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("arch, loss", [("4-5:relu-3:relu-1:sigmoid", "bce"),
                                        ("4-8:relu-3:softmax", "ce"),
                                        ("3-4:softmax-2:leaky_relu", "huber")])
def test_standalone_document_compiles(tmp_path, arch, loss):
    tex = tmp_path / "net.tex"
    tex.write_text(network_derivation(parse_architecture(arch), loss).latex_document())
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "net.pdf").stat().st_size > 10_000
