"""Worked examples in numbers (net.explain, symprop explain): the notes' seed 003 example number
by number, and every number against the generated kernels (gradients, loss, one fit step)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from cli_subprocess import assert_cli_error, run_cli

import symprop
from symprop.cli import main
from symprop.derive.explain import MAX_SAMPLES, MAX_UNITS, Explanation, explain_network
from symprop.derive.values import CompactMatrix
from symprop.errors import ShapeError, SympropError

EXACT = {"rtol": 1e-12, "atol": 1e-15}  # float64, summation order aside


def seed_network() -> symprop.Network:
    """Seed 003: x = 2 -> [w = 3] -> relu -> h -> [v = 0.5] -> output, squared error against
    5. The notes' neurons have no bias; symprop's layers do: they start at 0 here (so every
    number of the notes is unchanged) and are updated too."""
    net = symprop.Network([symprop.Dense(1, 1, "relu"), symprop.Dense(1, 1, "identity")],
                          loss="mse", dtype="float64")
    net.set_params([([[3.0]], [0.0]), ([[0.5]], [0.0])])
    return net


def final_values(explanation) -> dict:
    """Step title -> the value the step arrives at (the last side of its chain)."""
    return {step.title: step.expression[-1] if isinstance(step.expression, tuple)
            else step.expression for step in explanation.steps}


# -- seed 003 ---------------------------------------------------------------------------------
def test_seed_003_comes_out_as_in_the_notes():
    e = seed_network().explain([[2.0]], [5.0], optimizer=symprop.SGD(lr=0.1))
    assert isinstance(e, Explanation) and isinstance(e, symprop.Derivation)
    assert repr(e).startswith("<Derivation 'A training step in numbers") and e.result == 4
    (z1, h), (z2, output) = e.forward
    assert (z1.item(), h.item(), output.item()) == (6.0, 6.0, 3.0)  # z = 6, h = 6, output 3
    assert e.loss == 4.0                                              # loss 4
    assert e.loss_gradient.item() == -4.0                             # -4 at the output
    assert e.error_signals[1].item() == -4.0   # identity output: the same -4 at z
    assert e.into[0].item() == -2.0                                   # -2 into the relu
    assert e.error_signals[0].item() == -2.0                          # relu'(6) = 1
    (dw, db1), (dv, db2) = e.gradients
    assert (dv.item(), dw.item()) == (-24.0, -4.0)                    # -24 for v, -4 for w
    (w_new, b1_new), (v_new, b2_new) = e.updated
    assert w_new.item() == pytest.approx(3.4, abs=1e-15)              # updated 3.4
    assert v_new.item() == pytest.approx(2.9, abs=1e-15)              # and 2.9
    assert (b1_new.item(), b2_new.item()) == pytest.approx((0.2, 0.4), abs=1e-15)
    values = final_values(e)
    assert values["Layer 1: weighted sum"] == 6 and values["Layer 2: weighted sum"] == 3
    assert values["Loss (mse)"] == 4 and values["Gradient of the loss at the output"] == -4
    assert values["Layer 2: weight gradient"] == -24 and values["Layer 1: weight gradient"] == -4
    assert values["Layer 1: gradient of its output"] == -2
    assert values["Update layer 1 weights"] == sp.Float("3.4", 2)
    assert values["Update layer 2 weights"] == sp.Float("2.9", 2)


def test_seed_003_text_shows_the_arithmetic():
    text = seed_network().explain([[2.0]], [5.0], optimizer=symprop.SGD(lr=0.1)).text()
    for shown in ["3·2 + 0 = 6", "relu(6) = 6", "0.5·6 + 0 = 3", "(3 − 5)² = 4",
                  "2·(3 − 5) = −4", "(−4)·6 = −24", "0.5·(−4) = −2", "relu'(6) = 1",
                  "(−2)·2 = −4", "3 − 0.1·(−4) = 3.4", "0.5 − 0.1·(−24) = 2.9", "η = 0.1"]:
        assert shown in text, shown


def test_seed_003_agrees_with_the_kernels():
    _agrees_with_kernels(seed_network, [[2.0]], [5.0], lambda: symprop.SGD(lr=0.1))


# -- against the generated kernels ------------------------------------------------------------
def _agrees_with_kernels(make, X, y, make_optimizer):
    """explain's numbers equal the kernels': gradients, loss, outputs and one fit step (on
    the same rows, one batch, no shuffling, a fresh optimizer)."""
    net = make()
    e = net.explain(X, y, optimizer=make_optimizer())
    for (dW, db), (kW, kb) in zip(e.gradients, net.gradients(X, y), strict=True):
        np.testing.assert_allclose(dW, kW, **EXACT)
        np.testing.assert_allclose(db, kb, **EXACT)
    assert e.loss == pytest.approx(net.evaluate(X, y)["loss"], rel=1e-12)
    np.testing.assert_allclose(e.forward[-1][1], net.predict(X), **EXACT)
    net.fit(X, y, epochs=1, batch_size=len(X), optimizer=make_optimizer(), shuffle=False,
            verbose=False, metrics_each_epoch=False)
    for (W, b), (kW, kb) in zip(e.updated, net.params, strict=True):
        np.testing.assert_allclose(W, kW, **EXACT)
        np.testing.assert_allclose(b, kb, **EXACT)
    return e


def _net(layers, loss):
    return lambda: symprop.Network(layers(), loss=loss, dtype="float64", seed=3)


def test_a_3_2_2_softmax_ce_network_agrees_with_the_kernels():
    rng = np.random.default_rng(0)
    make = _net(lambda: [symprop.Dense(3, 2, "tanh"), symprop.Dense(2, 2, "softmax")], "ce")
    X = rng.normal(size=(2, 3))
    e = _agrees_with_kernels(make, X, np.array([0, 1]), lambda: symprop.SGD(lr=0.1))
    assert "ŷ − y" in e.text() and "Batch mean" in final_values(e)
    _agrees_with_kernels(make, X[:1], np.array([1]), lambda: symprop.Adam(lr=0.01))


def test_a_2_3_1_sigmoid_bce_network_agrees_with_the_kernels():
    rng = np.random.default_rng(1)
    make = _net(lambda: [symprop.Dense(2, 3, "sigmoid"), symprop.Dense(3, 1, "sigmoid")],
                "bce")
    X = rng.normal(size=(3, 2))
    _agrees_with_kernels(make, X, np.array([0.0, 1.0, 1.0]), lambda: symprop.SGD(lr=0.5))
    _agrees_with_kernels(make, X[:1], np.array([1.0]),
                         lambda: symprop.SGD(lr=0.1, momentum=0.9, nesterov=True))


@pytest.mark.parametrize("layers, loss, optimizer", [
    (lambda: [symprop.Dense(2, 3, "leaky_relu", alpha=0.1), symprop.Dense(3, 2, "identity")],
     "mse", lambda: symprop.SGD(lr=0.05, momentum=0.9, weight_decay=0.01)),
    (lambda: [symprop.Dense(2, 3, "elu"), symprop.Dense(3, 2, "identity")], "huber",
     lambda: symprop.RMSprop(lr=0.05)),
    (lambda: [symprop.Dense(2, 3, "x/(1 + exp(-beta*x))", beta=1.5, name="swish"),
              symprop.Dense(3, 2, "softmax")], "mse", lambda: symprop.SGD(lr=0.05)),
    (lambda: [symprop.Dense(2, 3, "softmax"), symprop.Dense(3, 2, "sigmoid")], "ce",
     lambda: symprop.Adam(lr=0.01, weight_decay=0.01)),
])
def test_other_activations_losses_and_optimizers_agree_with_the_kernels(layers, loss,
                                                                          optimizer):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3, 2))
    y = np.array([0, 1, 1]) if loss == "ce" else rng.normal(size=(3, 2))
    _agrees_with_kernels(_net(layers, loss), X, y, optimizer)


def test_explain_without_an_optimizer_in_the_derive_stage():
    e = explain_network("1-1:relu-1:identity", "mse", [([[3.0]], [0.0]), ([[0.5]], [0.0])],
                        [[2.0]], [[5.0]])
    assert e.updated == [] and not any(s.title.startswith("Update") for s in e.steps)
    assert e.gradients[1][0].item() == -24.0


def test_the_default_optimizer_is_sgd_with_lr_0_1_and_lr_alone_sets_it():
    net = seed_network()
    assert net.explain([[2.0]], [5.0]).updated[0][0].item() == pytest.approx(3.4)
    assert net.explain([[2.0]], [5.0], lr=0.5).updated[0][0].item() == pytest.approx(5.0)
    with pytest.raises(SympropError, match="not both"):
        net.explain([[2.0]], [5.0], optimizer=symprop.SGD(0.1), lr=0.2)


# -- printing ---------------------------------------------------------------------------------
def test_every_format_prints_and_wide_matrices_are_compact():
    net = symprop.Network([symprop.Dense(4, 8, "relu"), symprop.Dense(8, 3, "softmax")],
                          loss="ce", dtype="float64", seed=0)
    e = net.explain(np.ones((1, 4)), [2], optimizer=symprop.Adam(lr=0.01))
    latex = e.latex()
    assert latex.count("{") == latex.count("}") and r"\begin{smallmatrix}" in latex
    assert "$$" in e.markdown() and e.latex(mode="math").startswith(r"\begin{aligned}")
    assert any(isinstance(value, CompactMatrix) for value in final_values(e).values())
    assert e.latex_document().count(r"\begin{align*}") == len(e.steps)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_explanations_typeset_without_overfull_boxes(tmp_path):
    """The seed example and the iris network (4-8-3, Adam, two samples): the standalone
    document, and the fragment \\input into the default article (narrower), both fit."""
    iris = symprop.Network([symprop.Dense(4, 8, "relu"), symprop.Dense(8, 3, "softmax")],
                           loss="ce", dtype="float64", seed=0)
    explanations = [seed_network().explain([[2.0]], [5.0]),
                    iris.explain(np.linspace(-1, 1, 8).reshape(2, 4), [2, 0],
                                 optimizer=symprop.Adam(lr=0.01))]
    minimal = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
               "\\begin{document}\n%s\n\\end{document}\n")
    for number, e in enumerate(explanations):
        for kind, source in (("doc", e.latex_document()), ("fragment", minimal % e.latex())):
            name = f"{kind}{number}"
            (tmp_path / f"{name}.tex").write_text(source)
            run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                  f"{name}.tex"], cwd=tmp_path, capture_output=True,
                                 text=True, timeout=300)
            log = (tmp_path / f"{name}.log").read_text(errors="replace")
            assert run.returncode == 0, log[-2000:]
            assert "Overfull \\hbox" not in log, name


# -- what is too big, and other refusals ------------------------------------------------------
def test_too_big_to_print_is_a_clear_error():
    wide = symprop.Network([symprop.Dense(2, MAX_UNITS + 1, "relu"),
                            symprop.Dense(MAX_UNITS + 1, 1, "identity")], dtype="float64")
    with pytest.raises(ShapeError, match=rf"layer 1 has {MAX_UNITS + 1} units.*at most "
                                         rf"{MAX_UNITS}.*Network.gradients"):
        wide.explain([[1.0, 2.0]], [1.0])
    net = seed_network()
    rows = MAX_SAMPLES + 1
    with pytest.raises(ShapeError, match=rf"{rows} samples are too many.*at most {MAX_SAMPLES}"):
        net.explain(np.ones((rows, 1)), np.ones(rows))
    deep = [symprop.Dense(1, 1, "tanh") for _ in range(7)]
    with pytest.raises(ShapeError, match="7 layers"):
        symprop.Network(deep, dtype="float64").explain([[1.0]], [1.0])


def test_dropout_and_bad_rows_are_refused():
    dropped = symprop.Network([symprop.Dense(1, 2, "relu", dropout=0.5),
                               symprop.Dense(2, 1, "identity")], dtype="float64")
    with pytest.raises(SympropError, match="layer 1 has dropout"):
        dropped.explain([[1.0]], [1.0])
    with pytest.raises(SympropError, match="features"):
        seed_network().explain([[1.0, 2.0]], [1.0])
    with pytest.raises(SympropError, match="NaN"):
        seed_network().explain([[float("nan")]], [1.0])


# -- the command line -------------------------------------------------------------------------
def test_cli_explains_the_seed_example_from_a_model_file(tmp_path):
    path = tmp_path / "seed.npz"
    seed_network().save(path)
    done = run_cli("explain", "1-1:relu-1:identity", "--loss", "mse", "--input", "2",
                   "--target", "5", "--weights", path, "--format", "text")
    assert done.returncode == 0, done.stderr
    for shown in ["= 6", "(3 − 5)² = 4", "= −24", "= −2", "3 − 0.1·(−4) = 3.4",
                  "0.5 − 0.1·(−24) = 2.9"]:
        assert shown in done.stdout, shown


def test_cli_explains_a_network_it_builds(capsys):
    assert main(["explain", "2-2:tanh-1:sigmoid", "--loss", "bce", "--input=0.5,-1",
                 "--target", "1", "--optimizer", "adam", "--lr", "0.01", "--format",
                 "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## A training step in numbers: 2-2:tanh-1:sigmoid, loss bce")
    assert r"\hat{y} - y" in out and "Adam" in out


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    assert_cli_error(run_cli("explain", "2-2:relu-1:sigmoid", "--loss", "bce",
                             "--input=0.5,abc", "--target", "1"), "--input", "'abc'")
    assert_cli_error(run_cli("explain", "2-2:relu-1:sigmoid", "--input=0.5,1,2",
                             "--target", "1"), "3 values", "takes 2")
    assert_cli_error(run_cli("explain", "2-20:relu-1:sigmoid", "--input=0.5,1",
                             "--target", "1"), "20 units")
    path = tmp_path / "seed.npz"
    seed_network().save(path)
    assert_cli_error(run_cli("explain", "1-2:relu-1:identity", "--input", "2", "--target",
                             "5", "--weights", path), "1-1:relu-1:identity", str(path))
