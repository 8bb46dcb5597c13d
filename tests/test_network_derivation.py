"""The network backprop derivation: structure, the derived dense-layer rules, LaTeX output."""

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
import torch

from symprop.architecture import LayerSpec, check_chain, parse_architecture
from symprop.derive import dense_rules
from symprop.derive.delta import N_L, batch_mean_factor, output_delta
from symprop.derive.dense_rules import BATCH_CHECKS, check_batch_mean
from symprop.derive.derivation import Update
from symprop.derive.losses import loss
from symprop.derive.network import dense_layer_rules, network_derivation
from symprop.derive.notation import plain_symbols
from symprop.derive.printers import latex
from symprop.derive.symbols import YHAT, Y, k, m, y, yhat
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


def _step(d, title):
    found = [s for s in d.steps if s.title == title]
    assert len(found) == 1, (title, [s.title for s in d.steps])
    return found[0]


def _names(expr) -> list[str]:
    return [str(arg) for arg in expr.args]


def _factor(step) -> sp.Expr:
    """The batch-mean factor a step's last side is scaled by (kept whole, printed first)."""
    (factor,) = step.expression[-1].atoms(sp.UnevaluatedExpr)
    return factor.args[0]


STRUCTURES = [("4-8:relu-3:softmax", "ce"), ("4-6:relu-5:tanh-3:identity", "mse")]


@pytest.mark.parametrize("arch, loss_name", STRUCTURES)
def test_every_layer_has_its_error_signal_and_gradients(arch, loss_name):
    d = network_derivation(arch, loss=loss_name)
    depth = arch.count("-")
    titles = [s.title for s in d.steps]
    assert f"Error signal of the output layer {depth}" in titles
    for l in range(1, depth + 1):
        weight = _step(d, f"Weight gradient of layer {l}")
        bias = _step(d, f"Bias gradient of layer {l}")
        assert str(weight.expression[0]) == f"dL/dW{l}"
        assert _names(weight.expression[1]) == [f"delta{l}",
                                                f"{'x' if l == 1 else f'a{l - 1}'}.T"]
        assert str(bias.expression[0]) == f"dL/db{l}" and str(bias.expression[1]) == f"delta{l}"
        if l < depth:  # the recursion, with layer l's activation derivative
            signal = _step(d, f"Error signal of layer {l}").expression[-1]
            assert isinstance(signal, sp.HadamardProduct)
            assert str(signal.args[0]) == f"W{l + 1}.T*delta{l + 1}"
            assert str(signal.args[1]).endswith(f"'(z^({l}))")
    # One sample's gradients come first, then their batch mean, the updates, the runtime's
    # layout last.
    order = [titles.index(t) for t in ("Loss of one sample", "Training loss: the batch mean",
                                       f"Error signal of the output layer {depth}",
                                       "Unrolled weight gradient of the first layer",
                                       "Batch mean of the weight gradients",
                                       "Gradient-descent update of the weights",
                                       "Runtime layout: weight gradient")]
    assert order == sorted(order)


def test_notes_three_layer_example():
    d = network_derivation(parse_architecture("4-5:relu-3:relu-1:sigmoid"), "bce")
    output = _step(d, "Error signal of the output layer 3").expression
    assert str(output[0]) == "delta3" and str(output[1]) == "dL/dz3"
    assert isinstance(output[-1], sp.MatAdd) and sorted(_names(output[-1])) == [
        "-y (vector)", "yhat (vector)"]  # yhat - y: the output delta substituted
    # The output layer's gradients with the output delta substituted, as the notes write them.
    weight3 = _step(d, "Weight gradient of layer 3").expression[-1]
    assert _names(weight3) == [str(output[-1]), "a2.T"]
    slope = _step(d, "Derivative of relu at layer 1, in terms of its output").expression[-1]
    # a^{(1)} is a notation symbol (it prints as a^{(1)}): compared by name and assumptions
    assert plain_symbols(slope) == sp.Piecewise((1, sp.Symbol("a1", real=True) > 0), (0, True))
    latex = d.latex()
    assert r"\delta^{(3)}" in latex and r"W^{(3)}" in latex and r"\odot" in latex
    assert r"\hat{y} - y" in latex and "lm1" not in latex and r"n_{l-1}" in latex


@pytest.mark.parametrize("arch, loss_name, factors", [
    ("4-5:relu-3:relu-1:sigmoid", "bce", ["relu'(z^(1))", "relu'(z^(2))"]),
    ("4-6:relu-5:tanh-3:identity", "mse", ["relu'(z^(1))", "tanh'(z^(2))"]),
])
def test_unrolled_first_layer_gradient_is_a_flat_product(arch, loss_name, factors):
    d = network_derivation(arch, loss_name)
    step = _step(d, "Unrolled weight gradient of the first layer")
    product = step.expression[-1]
    assert isinstance(product, sp.MatMul)
    assert not any(isinstance(arg, sp.MatMul | sp.HadamardProduct) for arg in product.args)
    depth = arch.count("-")
    expected = []
    for l, factor in enumerate(factors, 1):
        expected += [f"diag {factor}", f"W{l + 1}.T"]
    names = _names(product)
    if loss_name == "mse":  # the output delta 2 (yhat - y): its 2 leads the product
        assert names[0] == "2"
        names = names[1:]
    assert names[:-2] == expected and names[-1] == "x.T"
    assert sorted(_names(product.args[-2])) == ["-y (vector)", "yhat (vector)"]
    assert product.shape == (int(arch.split("-")[1].split(":")[0]), int(arch.split("-")[0]))
    assert depth == len(factors) + 1
    # Flat in print too: no parentheses inside parentheses.
    assert r"\left(\left(" not in step.latex() and "((" not in step.latex()


@pytest.mark.parametrize("arch, loss_name, expected", [
    ("2-4:tanh-3:identity", "mse", 1 / (3 * m)),   # elementwise: samples and 3 outputs
    ("2-4:tanh-3:sigmoid", "bce", 1 / (3 * m)),
    ("2-4:tanh-1:sigmoid", "bce", 1 / m),           # one output
    ("4-8:relu-3:softmax", "ce", 1 / m),            # categorical: samples only
    ("4-8:relu-3:softmax", "mse", 1 / (3 * m)),     # elementwise after softmax: as the runtime
])
def test_batch_mean_factor_per_loss_kind(arch, loss_name, expected):
    assert batch_mean_factor(loss(loss_name), int(arch.rsplit("-", 1)[1].split(":")[0])) \
        == expected
    d = network_derivation(arch, loss_name)
    for title in ("Training loss: the batch mean", "Batch mean of the weight gradients",
                  "Batch mean of the bias gradients"):
        assert _factor(_step(d, title)) == expected, title
    runtime = _step(d, "Runtime layout: output error signal").expression[-1]
    coefficient = runtime.args[0]
    assert coefficient in (expected, 2 * expected), runtime  # 2 (yhat - y) for mse


def test_batch_mean_factor_in_the_output_delta():
    assert batch_mean_factor("ce") == 1 / m
    assert batch_mean_factor("mse") == 1 / (m * N_L)
    for loss_name, act, expected in [("mse", "identity", 1 / (m * N_L)),
                                     ("ce", "softmax", 1 / m)]:
        step = output_delta(loss_name, act).steps[-1]
        assert step.title == "Batch mean"
        assert step.expression.rhs.args[0].args[0] == expected


@pytest.mark.parametrize("case", BATCH_CHECKS)
def test_batch_mean_gradients_match_central_differences(case):
    check_batch_mean.__wrapped__(*case)  # not the cached verdict: run it


@pytest.mark.parametrize("case, wrong", [(("mse", "identity"), 1 / m),
                                         (("bce", "sigmoid"), 1 / m),
                                         (("ce", "softmax"), 1 / (3 * m))])
def test_batch_mean_check_catches_a_wrong_factor(monkeypatch, case, wrong):
    monkeypatch.setattr(dense_rules, "batch_mean_factor", lambda *args: wrong)
    with pytest.raises(AssertionError, match="central differences"):
        check_batch_mean.__wrapped__(*case)


@pytest.mark.parametrize("loss_name, activation, torch_loss", [
    ("mse", "identity", lambda out, t: torch.nn.functional.mse_loss(out, t)),
    ("ce", "softmax", lambda out, t: torch.nn.functional.cross_entropy(out, t.argmax(1))),
])
def test_derived_batch_gradient_matches_torch_and_the_runtime(loss_name, activation,
                                                              torch_loss):
    """dJ/dW^(l) = c sum_i delta_i (a_i^(l-1))^T with the derivation's factor c, against
    PyTorch's mean reduction and the runtime's gradients, for 3 outputs and 5 samples."""
    rng = np.random.default_rng(3)
    X, n = rng.normal(size=(5, 2)), 5
    T = np.eye(3)[rng.integers(0, 3, 5)] if loss_name == "ce" else rng.normal(size=(5, 3))
    W1, b1, W2, b2 = (rng.normal(size=s) for s in ((4, 2), (4,), (3, 4), (3,)))
    A1 = np.tanh(X @ W1.T + b1)
    Z2 = A1 @ W2.T + b2
    out = Z2 if activation == "identity" else np.exp(Z2) / np.exp(Z2).sum(1, keepdims=True)
    delta2 = 2 * (out - T) if loss_name == "mse" else out - T  # the derived output deltas
    assert output_delta(loss_name, activation).result in (2 * (yhat - y),
                                                         YHAT[k] - Y[k])
    delta1 = (delta2 @ W2) * (1 - A1**2)
    c = float(batch_mean_factor(loss(loss_name), 3).subs(m, n))
    mine = [c * delta1.T @ X, c * delta1.sum(0), c * delta2.T @ A1, c * delta2.sum(0)]
    params = [torch.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    h = torch.tanh(torch.tensor(X) @ params[0].T + params[1]) @ params[2].T + params[3]
    torch_loss(h, torch.tensor(T)).backward()
    for ours, theirs in zip(mine, params, strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    import symprop
    net = symprop.Network([symprop.Dense(2, 4, "tanh"), symprop.Dense(4, 3, activation)],
                          loss=loss_name, dtype="float64", seed=0)
    net.set_params([(W1.T.copy(), b1.copy()), (W2.T.copy(), b2.copy())])
    labels = T.argmax(1) if loss_name == "ce" else T
    (dW1, db1), (dW2, db2) = net.gradients(X, labels)
    for ours, theirs in zip(mine, (dW1.T, db1, dW2.T, db2), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_updates_are_assignments_with_the_learning_rate_first():
    d = network_derivation("2-3:sigmoid-1:identity", loss="mse")
    for what in ("weights", "biases"):
        update = _step(d, f"Gradient-descent update of the {what}").expression
        assert isinstance(update, Update)
        assert r"\leftarrow" in latex(update)
        assert latex(update).split(r"\leftarrow")[1].strip().split(" - ")[1].startswith(r"\eta")


def test_sigmoid_hidden_layer_uses_output_form():
    d = network_derivation(parse_architecture("2-3:sigmoid-1:identity"), "mse")
    a1 = sp.Symbol("a1", real=True)
    slope = _step(d, "Derivative of sigmoid at layer 1, in terms of its output")
    assert plain_symbols(slope.expression[-1]) == a1 * (1 - a1)  # by name: see above
    output = _step(d, "Error signal of the output layer 2").expression[-1]
    assert isinstance(output, sp.MatMul) and output.args[0] == 2  # 2 (yhat - y)


def test_gelu_hidden_layer_keeps_z():
    d = network_derivation(parse_architecture("2-3:gelu-1:identity"), "mse")
    slope = _step(d, "Derivative of gelu at layer 1").expression[-1]
    assert sp.Symbol("z1", real=True) in plain_symbols(slope).free_symbols


def test_softmax_hidden_layer_uses_its_jacobian():
    d = network_derivation(parse_architecture("3-4:softmax-2:identity"), "mse")
    step = _step(d, "Error signal of layer 1 (softmax: its Jacobian)")
    assert isinstance(step.expression[-1], sp.MatMul)
    assert isinstance(step.expression[-1].args[0], sp.MatAdd)  # diag(a) - a a^T


def test_runtime_layout_restates_the_rules():
    d = network_derivation("4-8:relu-3:softmax", "ce")
    weight = _step(d, "Runtime layout: weight gradient").expression[-1]
    assert _names(weight) == ["A_lm1.T", "Delta_l"]
    forward = _step(d, "Runtime layout: forward pass").expression[-1]
    assert "A_lm1*Wrtl" in str(forward)


def test_unknown_names_are_refused():
    with pytest.raises(UnknownNameError, match="relu"):
        network_derivation(parse_architecture("4-8:rleu-3:softmax"), "ce")
    with pytest.raises(UnknownNameError, match="mse"):
        network_derivation(parse_architecture("4-8:relu-3:softmax"), "msee")


def test_hyperparameters_of_the_layers_are_used():
    layers = [LayerSpec(2, 3, "leaky_relu", (("alpha", 0.2),)), LayerSpec(3, 1, "identity")]
    d = network_derivation(layers, "mse")
    slope = _step(d, "Derivative of leaky_relu at layer 1, in terms of its output")
    assert slope.expression[-1].has(sp.Float(0.2)) or "alpha" in str(slope.expression[-1])


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
