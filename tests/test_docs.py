"""The documentation site (docs/, Sphinx): built with warnings as errors, the tutorial
notebooks executed in the build; every public name in the API reference, every command's
help on the command-line page; every public name and parameter documented in its
docstring."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import symprop as sp

ROOT = Path(__file__).resolve().parents[1]

# Containers symprop makes and hands out (users read them, they do not construct them): the
# dataclass fields of their __init__ are described as attributes, not parameters.
MADE_BY_SYMPROP = {"Activation", "Loss", "Softmax", "Derivation", "Step", "Explanation",
                   "Hyperparameters", "ComputationGraph", "LinearChange", "Standardizer"}


def test_the_site_builds_without_warnings_and_covers_the_api_and_cli(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    pytest.importorskip("ipykernel")
    out = tmp_path / "html"
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", str(ROOT / "docs"), str(out)], capture_output=True,
                           text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    api = (out / "api.html").read_text()
    assert [name for name in sp.__all__ if f'id="symprop.{name}"' not in api] == []
    cli = (out / "_generated" / "cli.html").read_text()
    for command in ("derive", "explain", "handbook", "kernels", "train", "sweep", "list"):
        assert f"usage: symprop {command}" in cli, command
    notation = (out / "_generated" / "notation.html").read_text()
    from symprop.derive.notation import CONVENTIONS

    assert all(f"<strong>{name}</strong>" in notation for name, _ in CONVENTIONS)
    assert r'<span class="math notranslate nohighlight">\(\alpha\)</span>' in notation
    guide = (out / "guide.html").read_text()
    assert "Many trainings: sweeps on Dask" in guide and "Untrusted input" in guide
    # the tutorials ran (a failing cell fails the build): their outputs are on the pages
    tutorials = {page.stem: page.read_text() for page in (out / "tutorials").glob("0*.html")}
    assert len(tutorials) == 7
    assert "dL/dw = -4, dL/dv = -24" in tutorials["03_backprop_by_hand"]
    assert "<img" in tutorials["04_training_iris"]  # history.plot() shown inline
    assert tutorials["05_vanishing_gradients"].count("<img") >= 2
    assert "us a step, NumPy" in tutorials["06_kernels"]
    bonus = tutorials["07_iris_bonus_challenges"]  # dropout, learning rates, the boundary
    assert bonus.count("<img") >= 3
    assert re.search(r"4-8:relu-3:softmax +accuracy 0\.9\d\d \+/- 0\.0\d\d", bonus)


def _parameters(obj) -> list[str]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    return [name for name, p in inspect.signature(target).parameters.items()
            if name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL,)]


@pytest.mark.parametrize("name", sorted(n for n in sp.__all__ if callable(getattr(sp, n))))
def test_every_public_name_and_its_parameters_are_documented(name):
    obj = getattr(sp, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    if name in MADE_BY_SYMPROP or (inspect.isclass(obj) and issubclass(obj, Exception)):
        return
    if inspect.isclass(obj) and obj.__init__ is not object.__init__:
        doc += inspect.getdoc(obj.__init__) or ""
    missing = [p for p in _parameters(obj) if p not in doc]
    assert not missing, f"{name}: parameters not mentioned in its docstring: {missing}"
