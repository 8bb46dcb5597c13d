"""Every derivation typesets with pdflatex: the standalone documents, the text-mode fragment
``\\input`` into the smallest document that loads amsmath and amssymb, and the math-mode form
inside ``\\[ \\]``; none with an error, none wider than the page (no "Overfull \\hbox")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from derivation_corpus import DOCUMENTS, corpus

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                reason="pdflatex is not installed (.ci/run installs it)")

MINIMAL = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
           "%BODY%\n\\end{document}\n")


def compile_tex(folder: Path, name: str, source: str) -> str:
    """pdflatex ``source`` in ``folder``; the log, after checking that it compiled."""
    (folder / f"{name}.tex").write_text(source)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          f"{name}.tex"], cwd=folder, capture_output=True, text=True,
                         timeout=300)
    log = (folder / f"{name}.log").read_text(errors="replace")
    assert run.returncode == 0, log[-3000:]
    assert (folder / f"{name}.pdf").stat().st_size > 1000
    return log


def overfull(log: str, sources: dict[str, str]) -> list[str]:
    """The too-wide lines of a log, each named by the input file and line it comes from."""
    found, current = [], "the document"
    for match in re.finditer(r"\(\./(\w+)\.tex|Overfull \\hbox \(([\d.]+)pt too wide\)[^\n]*"
                             r"lines? (\d+)", log):
        if match.group(1):
            current = match.group(1)
        else:
            lines = sources.get(current, "").splitlines()
            line = int(match.group(3))
            shown = lines[line - 2][:160] if 1 < line <= len(lines) + 1 else ""
            found.append(f"{current} line {line}: {match.group(2)} pt too wide: {shown}")
    return found


@pytest.mark.parametrize("name", DOCUMENTS)
def test_standalone_document_has_no_overfull_box(tmp_path, name):
    source = corpus()[name].latex_document()
    log = compile_tex(tmp_path, "doc", source)
    assert "Overfull \\hbox" not in log, overfull(log, {"doc": source})
    assert "Notation" in source and r"\leftarrow" in source  # the conventions come first


def test_every_fragment_inputs_into_a_minimal_document(tmp_path):
    """latex() is text mode: \\input works (no math-mode-only command outside maths), and its
    displays fit the default article's text width."""
    sources = {}
    for number, derivation in enumerate(corpus().values()):
        sources[f"fragment{number}"] = derivation.latex()
        (tmp_path / f"fragment{number}.tex").write_text(sources[f"fragment{number}"])
    body = "\n".join(rf"\input{{{name}}}" for name in sources)
    log = compile_tex(tmp_path, "inputs", MINIMAL.replace("%BODY%", body))
    assert "Overfull \\hbox" not in log, "\n".join(overfull(log, sources)[:20])


def test_every_math_form_typesets_inside_display_math(tmp_path):
    """latex(mode="math") is one aligned block: inside \\[ \\] it fits the text width. (Tall
    ones overflow the page downwards, an aligned block being unbreakable: documents use the
    text-mode form.)"""
    names = list(corpus())
    body = "\n".join(f"\\typeout{{BLOCK {number}}}\n\\[\n{d.latex(mode='math')}\n\\]\n\\clearpage"
                     for number, d in enumerate(corpus().values()))
    log = compile_tex(tmp_path, "math", MINIMAL.replace("%BODY%", body))
    wide = []
    block = None
    for line in log.splitlines():
        if line.startswith("BLOCK "):
            block = names[int(line.split()[1])]
        elif line.startswith("Overfull \\hbox"):
            wide.append(f"{block}: {line}")
    assert not wide, "\n".join(wide[:20])


def test_operator_derivative_followed_by_a_factor_is_bracketed():
    """\\frac{\\partial}{\\partial z} (-z) e^{-z} would read as the derivative of (-z) e^{-z}."""
    from symprop.derive.activations import activation
    tex = activation("sigmoid").derivation().latex()
    assert r"\left(\frac{\partial}{\partial z} (- z)\right) e^{- z}" in tex
    assert r"\frac{\partial}{\partial z} (- z) e^{- z}" not in tex


def test_huber_condition_has_its_bound_on_the_right():
    from symprop.derive.losses import loss
    derivation = loss("huber").derivation()
    assert r"\left|{y - \hat{y}}\right| \leq \kappa" in derivation.latex()
    assert r"\kappa \geq" not in derivation.latex()
    assert "|y − ŷ| ≤ κ" in derivation.text() and "κ ≥" not in derivation.text()
