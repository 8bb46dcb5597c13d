"""Every derivation's maths renders in the real engines: MathJax 3 as JupyterLab loads it and as
MathJax's tex-chtml component loads it, and KaTeX (tests/render/render.mjs, run by Node on the
npm packages of tests/render/package-lock.json; `.ci/run` installs them with `npm ci`).

The strings checked are what users' engines get: the content of ``_repr_latex_()`` (Jupyter),
each ``align*`` display and each inline ``\\( \\)`` of the text-mode fragment, and each
``$$ $$`` display and ``$ $`` inline of the Markdown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from derivation_corpus import corpus

from symprop.derive.derivation import Derivation

RENDER = Path(__file__).parent / "render"
ENGINES = ("mathjax-jupyterlab", "mathjax-tex-chtml", "katex")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (the MathJax and KaTeX checks run under Node)"
    for package in ("mathjax-full", "katex"):
        if not (RENDER / "node_modules" / package / "package.json").is_file():
            return (f"the npm package {package} is not installed: run `npm ci` in tests/render "
                    "(.ci/run does)")
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def render(items: list) -> list[dict]:
    """Each item (a TeX string, or {"tex": ..., "display": False}) through every engine."""
    run = subprocess.run(["node", str(RENDER / "render.mjs")], input=json.dumps(items),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def math_strings(derivation: Derivation) -> list[tuple[str, bool, str]]:
    """(TeX, display?, where it comes from) for every piece of maths the formats contain."""
    found = []
    shown = derivation._repr_latex_()
    assert shown.startswith("$$") and shown.endswith("$$")
    found.append((shown[2:-2], True, "_repr_latex_"))
    fragment = derivation.latex()
    for block in re.findall(r"\\begin\{align\*\}.*?\\end\{align\*\}", fragment, re.S):
        found.append((block, True, "latex() display"))
    for inline in re.findall(r"\\\((.*?)\\\)", fragment, re.S):
        found.append((inline, False, "latex() inline"))
    markdown = derivation.markdown()
    for block in re.findall(r"\$\$(.*?)\$\$", markdown, re.S):
        found.append((block, True, "markdown() display"))
    outside = re.sub(r"\$\$.*?\$\$", "", markdown, flags=re.S)
    for inline in re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", outside, re.S):
        found.append((inline, False, "markdown() inline"))
    return found


def check_all(derivations: dict[str, Derivation]) -> tuple[int, list[str]]:
    """Render every distinct string once; the failures name derivation, format and engine."""
    where: dict[tuple[str, bool], list[str]] = {}
    for name, derivation in derivations.items():
        for tex, display, origin in math_strings(derivation):
            where.setdefault((tex, display), []).append(f"{name} ({origin})")
    items = [{"tex": tex, "display": display} for tex, display in where]
    failures = []
    for (key, origins), result in zip(where.items(), render(items), strict=True):
        for engine in ENGINES:
            if result[engine] is not None:
                failures.append(f"{origins[0]}: {engine}: {result[engine]}\n    {key[0][:300]}")
    return len(items), failures


def test_the_harness_reports_errors():
    """The engines are really checked: a TeX error, an undefined macro, JupyterLab's
    \\textasciicircum and a backslash MathJax would show literally are all errors."""
    results = render(["\\frac{a}{", "\\undefinedmacro", "\\text{a\\textasciicircum b}",
                      "\\text{a\\_b}", "\\hat{y} - y"])
    assert results[0]["katex"] and results[0]["mathjax-jupyterlab"]
    assert results[1]["katex"] and results[1]["mathjax-tex-chtml"]
    assert "math mode" in results[2]["mathjax-jupyterlab"]
    assert "literal backslash" in results[3]["mathjax-tex-chtml"]
    assert results[4] == dict.fromkeys(ENGINES)


def test_every_derivation_renders_in_mathjax_and_katex():
    count, failures = check_all(corpus())
    assert count > 500  # every kind of derivation contributed
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])


def test_prose_with_every_special_character_renders():
    """Titles and prose carry user text (names, formulas): LaTeX's special characters must
    render in every engine and show as themselves."""
    import sympy as sp

    from symprop.derive.derivation import TeX

    awkward = "a_b & 50% $5 #1 {x} ~y ^z \\w <v> 'q' -- r"
    d = Derivation(f"Title {awkward}", notes=[f"note {awkward}"])
    d.add(f"step {awkward}", sp.Eq(sp.Symbol("x"), 1), (f"why {awkward} ", sp.Symbol("y"),
                                                         " and ", TeX(r"\hat{y}")))
    d.add(("title with maths ", TeX(r"\hat{y}_{k}"), f" {awkward}"), sp.Symbol("x"))
    count, failures = check_all({"awkward": d})
    assert not failures, "\n".join(failures)
