"""The handbook (sp.handbook, symprop handbook): one LaTeX book of every built-in derivation, a
section a part and a subsection an item, that compiles with pdflatex without an error or a
too-wide line; the CLI writes it as .tex, as .pdf, or to stdout, and says in one line when
pdflatex is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache

import pytest
from cli_subprocess import run_cli
from derivation_corpus import activations, losses
from test_render_latex import compile_tex, overfull

import symprop
from symprop.cli import main
from symprop.derive import handbook as handbook_module
from symprop.derive.derivation import PREAMBLE, Derivation
from symprop.derive.layout import escape_latex

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                    reason="pdflatex is not installed (.ci/run installs it)")
PARTS = ["Notation", "Activations", "Losses", "Output deltas", "Optimizers", "Networks",
         "Normalization and residual connections",
         "A training step in numbers"]
MIN_PAGES = 50  # 94 today: the output deltas alone are some 50 pages


@cache
def text() -> str:
    """The handbook, built once for this module (some seconds)."""
    return symprop.handbook()


def headings(level: str = "subsection") -> list[str]:
    """The short (table of contents) titles of the handbook's headings of one level."""
    return re.findall(rf"\\{level}\[([^\]]*)\]", text())


def pages(pdf: bytes, path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


# -- the document -----------------------------------------------------------------------------
def test_a_section_a_part_in_order_after_the_shared_preamble():
    source = text()
    assert source.startswith(PREAMBLE)  # the standalone documents' preamble, not a copy
    assert "\\tableofcontents" in source and "\\maketitle" in source
    found = re.findall(r"\\section\{([^}]*)\}", source)
    assert found == PARTS
    assert source.rstrip().endswith("\\end{document}")


def test_a_subsection_for_every_activation_loss_and_optimizer():
    subsections = headings()
    for name in activations() + losses():  # aliases once: 'logistic' is 'sigmoid'
        assert subsections.count(escape_latex(name)) == 1, name
    for name in ("sgd", "momentum", "nesterov", "adam", "rmsprop"):
        assert name in subsections
    for pair in ("bce from the logits (sigmoid)", "ce from the logits (softmax)",
                 "mse after identity", "bce after sigmoid", "ce after softmax",
                 "one dense layer", "4-8:relu-3:softmax, loss ce",
                 "seed 003: one neuron a layer"):
        assert pair in subsections, pair


def test_every_output_delta_but_the_refused_ones():
    """Each natural pair a subsection; every other pair symprop derives a subsubsection; the
    step function (no useful gradient) nowhere."""
    deltas = [h for h in headings() + headings("subsubsection") if " after " in h]
    assert len(deltas) == len(set(deltas))
    derived = 0
    for loss_name in losses():
        for act in activations():
            try:
                symprop.output_delta(loss_name, act)
            except symprop.SympropError:
                assert f"{loss_name} after {act}" not in deltas
                continue
            derived += 1
            assert f"{escape_latex(loss_name)} after {escape_latex(act)}" in deltas
    assert derived == len(deltas) > 3 and not any("step" in h for h in deltas)


def test_headings_carry_the_titles_and_the_fragments_do_not_repeat_them():
    source = text()
    assert "\\subsection[sigmoid]{Activation sigmoid: derivative and its form in the output}" \
        in source
    assert "\\noindent\\textbf{" not in source  # the fragments' own bold titles are left out
    assert "A training step in numbers: 1-1:relu-1:identity, loss mse" in source
    assert "3 \\cdot 2 + 0 = 6" in source  # seed 003's numbers


def test_latex_without_the_title_is_the_fragment_less_its_title():
    d = symprop.output_delta("bce", "sigmoid")
    with_title, without = d.latex(), d.latex(title=False)
    assert with_title.startswith("\\noindent\\textbf{Output delta")
    assert with_title.endswith(without) and "\\textbf{Output delta" not in without
    assert isinstance(d, Derivation) and d.latex(mode="math", title=False) == d.latex(mode="math")


@needs_pdflatex
def test_the_handbook_compiles_without_errors_or_overfull_lines(tmp_path):
    source = text()
    compile_tex(tmp_path, "handbook", source)
    log = compile_tex(tmp_path, "handbook", source)  # the second run typesets the contents
    assert "Overfull \\hbox" not in log, "\n".join(overfull(log, {"handbook": source})[:20])
    assert "Rerun to get" not in log and "undefined" not in log.lower()
    toc = (tmp_path / "handbook.toc").read_text()
    assert all(f"{part}}}" in toc for part in PARTS)


# -- the command line -------------------------------------------------------------------------
@pytest.fixture
def built(monkeypatch):
    """The CLI with this module's handbook (building it again would take seconds)."""
    monkeypatch.setattr(handbook_module, "handbook", text)


def test_cli_prints_the_latex_or_writes_it(built, tmp_path, capsys):
    assert main(["handbook"]) == 0
    assert capsys.readouterr().out == text()
    target = tmp_path / "book.tex"
    assert main(["handbook", "-o", str(target)]) == 0
    assert target.read_text() == text() and capsys.readouterr().out == ""


@needs_pdflatex
def test_cli_writes_the_pdf(built, tmp_path):
    target = tmp_path / "book.pdf"
    assert main(["handbook", "-o", str(target)]) == 0
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF") and pages(pdf, target) > MIN_PAGES
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]  # pdflatex ran elsewhere


def test_cli_without_pdflatex_is_one_line_and_exit_2(built, tmp_path, monkeypatch, capsys):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name, *a, **k: None if name == "pdflatex" else real_which(name))
    target = tmp_path / "book.pdf"
    assert main(["handbook", "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symprop: error: pdflatex is not installed")
    assert not target.exists()
    with pytest.raises(symprop.SympropError):  # a ValueError, as every symprop error
        handbook_module.compile_pdf(text())


def test_cli_builds_the_real_handbook_in_a_fresh_process(tmp_path):
    target = tmp_path / "book.tex"
    run = run_cli("handbook", "-o", target)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    source = target.read_text()
    assert source.startswith(PREAMBLE) and re.findall(r"\\section\{([^}]*)\}", source) == PARTS
    assert "handbook" in symprop.__all__ and "handbook" in run_cli("--help").stdout
