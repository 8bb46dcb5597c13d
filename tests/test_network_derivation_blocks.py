"""network_derivation of networks with normalization layers and residual blocks: the skip-sum
and norm steps as SymPy expressions, the printed formats, the errors, and the stated rules
evaluated in NumPy (tests/reference_blocks.py) against PyTorch's autograd."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symprop as sp
from symprop.blocks import NormSpec, parse_network
from symprop.derive.norms import BATCH, LAYER, closed_form
from symprop.derive.written import value
from symprop.errors import ShapeError, SympropError

torch = pytest.importorskip("torch")
import reference_blocks as ref  # noqa: E402

BN_NET, LN_NET = ("4-6:tanh-bn-[6:relu-6:relu]-3:softmax", "ce"), (
    "3-5:relu-ln-[5:tanh]-1:sigmoid", "bce")


def _step(d, title):
    found = [s for s in d.steps if s.title == title]
    assert len(found) == 1, (title, [s.title for s in d.steps])
    return found[0]


@pytest.mark.parametrize("arch, loss", [BN_NET, LN_NET])
def test_skip_sum_is_the_block_outputs_gradient_plus_the_bodys(arch, loss):
    d = sp.network_derivation(arch, loss=loss)
    step = _step(d, "Residual block 3: the skip path plus the body's path")
    target, partial, total = step.expression
    assert str(target) == "g02" and str(partial) == "dL/dh02"
    assert isinstance(total, sympy.MatAdd)
    assert {str(arg) for arg in total.args} == {"g03", "~g02 via F3"}
    # the body's path is what the body's first layer sends down: (W^(4))^T delta^(4)
    body = _step(d, "Gradient at node 4's input").expression
    assert str(body[0]) == "~g02 via F3" and str(body[1]) == "W04.T*delta04"
    # ... and the body's output gets the block output's gradient unchanged
    into = _step(d, "Residual block 3: into the body").expression
    assert str(into[1]) == "g03"
    assert "multivariable chain rule" in "".join(map(str, step.why))


@pytest.mark.parametrize("arch, loss, nn, label", [(*BN_NET, BATCH, "BatchNorm"),
                                                   (*LN_NET, LAYER, "LayerNorm")])
def test_norm_backward_step_is_the_closed_form(arch, loss, nn, label):
    d = sp.network_derivation(arch, loss=loss)
    step = _step(d, f"Backward through node 2 ({label})")
    assert sympy.expand(value(step.expression[-1]) - closed_form(nn)) == 0
    assert str(step.expression[0]) == f"d{'J' if nn is BATCH else 'L'}/dx_{nn.index}"
    titles = [s.title for s in d.steps]
    assert "Scale and shift gradients of node 2" in titles
    assert "Unrolled weight gradient of the first layer" not in titles
    assert any("not unrolled" in str(part) for part in d.notes[0])


def test_batchnorm_switches_to_gradients_of_J():
    d = sp.network_derivation(*BN_NET)
    into = _step(d, "Node 2 (BatchNorm): into the training loss").expression
    assert str(into[0]) == "dJ/dh02_i"
    assert value(into[1]).args[0] == sympy.Symbol("m", integer=True, positive=True) ** -1
    weight = _step(d, "Weight gradient of node 1").expression
    assert str(weight[0]) == "dJ/dW1" and isinstance(weight[1], sympy.Sum)
    assert str(_step(d, "Weight gradient of node 4").expression[0]) == "dL/dW4"


def test_a_batchnorm_in_the_body_makes_the_skip_a_gradient_of_J():
    d = sp.network_derivation("3-4:tanh-[4:relu-bn]-2:sigmoid", loss="bce")
    target, partial, total = _step(d, "Residual block 2: the skip path plus the body's path"
                                   ).expression
    assert str(partial) == "dJ/dh01_i"
    skip, body = total.args
    assert str(body) == "~g01 via F2" and str(skip) == "(1/(2*m))*g02_i"


def test_nodes_from_a_list_and_every_format_prints():
    nodes = parse_network(LN_NET[0])
    d = sp.network_derivation(nodes, loss="bce")
    assert d.title == "Backpropagation for 3-5:relu-ln-[5:tanh]-1:sigmoid with loss bce"
    for text in (d.text(), d.latex(), d.latex(mode="math"), d.markdown()):
        assert "F_{3}" in text or "F₃" in text
    assert "g⁽²⁾ = ∂L/∂h⁽²⁾ = g⁽³⁾ + g⁽²⁾_(F₃)" in d.text()


@pytest.mark.parametrize("arch, error, fragment", [
    ("4-6:relu-bn", SympropError, r"last node .* dense layer .*, not node 2 \(BatchNorm\(6\)\)"),
    ("4-6:relu-[6:relu]", SympropError, "not residual block 2"),
    ("4-6:relu-[5:relu]-1:sigmoid", ShapeError, "residual block 2"),
])
def test_errors(arch, error, fragment):
    with pytest.raises(error, match=fragment):
        sp.network_derivation(arch, loss="bce")


def test_width_mismatch_in_a_node_list():
    from symprop.architecture import LayerSpec
    with pytest.raises(ShapeError, match="takes 5 inputs"):
        sp.network_derivation([LayerSpec(4, 6, "relu"), NormSpec("layernorm", 5),
                               LayerSpec(5, 1, "sigmoid")], loss="bce")


# -- the stated rules in numbers, against PyTorch --------------------------------------------
def _torch_grads(nodes, params, x, y, loss):
    tp = {q: {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
          for q, p in params.items()}

    def run(seq, h, q):
        for spec in seq:
            if hasattr(spec, "body"):
                h = h + run(spec.body, h, q + 1)
                q += ref._count(spec.body) + 1
                continue
            p = tp[q]
            if hasattr(spec, "activation"):
                z = h @ p["W"].T + p["b"]
                h = {"softmax": lambda z: torch.softmax(z, 1), "relu": torch.relu,
                     "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                     "identity": lambda z: z}[spec.activation](z)
            elif spec.kind == "batchnorm":
                h = torch.nn.functional.batch_norm(h, None, None, p["gamma"], p["beta"],
                                                   training=True, eps=spec.eps)
            else:
                h = torch.nn.functional.layer_norm(h, (spec.n,), p["gamma"], p["beta"],
                                                   eps=spec.eps)
            q += 1
        return h

    yhat = run(nodes, torch.tensor(x), 1)
    yt = torch.tensor(y)
    J = (-(yt * torch.log(yhat)).sum(1).mean() if loss == "ce" else
         torch.nn.functional.binary_cross_entropy(yhat, yt))
    J.backward()
    return float(J.detach()), {q: {k: v.grad.numpy() for k, v in p.items()} for q, p in tp.items()}


@pytest.mark.parametrize("arch, loss", [BN_NET, LN_NET,
                                        ("3-4:tanh-ln-[4:relu-bn-[4:tanh]]-bn-2:sigmoid",
                                         "bce")])
def test_stated_rules_give_torchs_gradients(arch, loss):
    nodes = parse_network(arch)
    rng = np.random.default_rng(7)
    params = ref.init_params(nodes, rng)
    m, n_out = 5, nodes[-1].n_out
    x = rng.normal(size=(m, nodes[0].n_in))
    if loss == "ce":
        y = np.eye(n_out)[rng.integers(0, n_out, m)]
    else:
        y = rng.integers(0, 2, (m, n_out)).astype(float)
    yhat, cache = ref.forward(nodes, params, x)
    J, delta = ref.loss_and_output_delta(loss, yhat, y)
    grads = ref.backward(nodes, params, cache, delta)
    J_torch, expected = _torch_grads(nodes, params, x, y, loss)
    assert J == pytest.approx(J_torch, rel=1e-12)
    assert grads.keys() == expected.keys()
    for q, per_node in expected.items():
        for key, grad in per_node.items():
            np.testing.assert_allclose(grads[q][key], grad, rtol=1e-9, atol=1e-12,
                                       err_msg=f"node {q} {key}")


def test_dense_only_networks_are_unchanged():
    # The dense path is the old code path; tests/test_network_derivation.py covers its output.
    d = sp.network_derivation("4-8:relu-3:softmax", loss="ce")
    assert "Unrolled weight gradient of the first layer" in [s.title for s in d.steps]
    assert d.title == "Backpropagation for 4-8:relu-3:softmax with loss ce"
