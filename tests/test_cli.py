"""The command line: output, formats, one-line errors with non-zero exits."""

import os
import shutil
import subprocess
import sys

import pytest

from symprop.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_module(*args):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "symprop", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_derive_activation_text(capsys):
    assert main(["derive", "sigmoid", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "f'(z) = a(1 − a)" in out  # Unicode maths, textbook order


def test_derive_latex_is_default(capsys):
    """The LaTeX is the text-mode fragment: it can be \\input into a document."""
    assert main(["derive", "tanh"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\noindent\textbf{Activation tanh") and "1 - a^{2}" in out
    assert r"\begin{align*}" in out and r"\begin{aligned}" not in out


def test_derive_delta_markdown(capsys):
    assert main(["derive", "bce", "--activation", "sigmoid", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert r"$$ \frac{\partial L}{\partial z} = \hat{y} - y $$" in out
    assert r"\frac{1}{m" in out  # the batch mean's factor, as maths


def test_derive_custom_formula_with_param(capsys):
    assert main(["derive", "x/(1 + exp(-beta*x))", "--name", "swish2", "--param", "beta=1.5",
                 "--format", "text"]) == 0
    assert "swish2" in capsys.readouterr().out


def test_derive_net_to_file(tmp_path):
    target = tmp_path / "net.tex"
    assert main(["derive", "net", "4-8:relu-3:softmax", "--loss", "ce", "--standalone",
                 "-o", str(target)]) == 0
    text = target.read_text()
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("args, fragment", [
    (["derive", "sigmod"], "did you mean 'sigmoid'"),
    (["derive", "x.__class__"], "attribute access"),
    (["derive", "alpha*x"], "alpha"),
    (["derive", "bce", "--activation", "step"], "no useful gradient"),
    (["derive", "net"], "needs an architecture"),
    (["derive", "net", "4-8-3:softmax", "--loss", "ce"], "needs an activation"),
    (["derive", "relu", "--param", "alpha"], "NAME=VALUE"),
])
def test_errors_are_one_line_and_nonzero(args, fragment):
    run = run_module(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symprop: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in run.stderr


def test_failed_output_leaves_no_file(tmp_path):
    target = tmp_path / "out.tex"
    run = run_module("derive", "sigmod", "-o", str(target))
    assert run.returncode == 2 and not target.exists()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_standalone_net_compiles_with_pdflatex(tmp_path):
    run = run_module("derive", "net", "4-8:relu-3:softmax", "--loss", "ce", "--standalone",
                     "-o", str(tmp_path / "net.tex"))
    assert run.returncode == 0, run.stderr
    tex = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "net.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert tex.returncode == 0, tex.stdout[-2000:]
    assert (tmp_path / "net.pdf").exists()
