"""Sphinx configuration of symprop's documentation: ``python -m sphinx -W -b html docs
docs/_build/html`` (tests/test_docs.py builds it with warnings as errors).

The command-line page is generated here, at build time, from the real parser's help, so it
cannot fall behind the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's symprop, installed or not
# ... and in the kernels that run the tutorials (processes of their own)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent),
                                                         os.environ.get("PYTHONPATH")]))

import symprop  # noqa: E402

project = "symprop"
author = "the symprop developers"
release = version = symprop.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "myst_nb"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# The tutorials run at every build (the test suite's build included): a failing cell fails it
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
html_theme = "alabaster"
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the README starts at level 1, its pages at level 2

COMMANDS = ["derive", "explain", "handbook", "kernels", "train", "sweep", "list"]


def _cli_page() -> None:
    """docs/_generated/cli.md: `symprop --help` and each command's, as the parser prints
    them (run in a subprocess: the help text is what a user sees)."""
    parts = ["# Command line\n", "One entry point, `symprop` (also `python -m symprop`). Bad "
             "input prints one line, `symprop: error: ...`, and exits with status 2.\n"]
    for command in [None, *COMMANDS]:
        argv = [sys.executable, "-m", "symprop", *([command] if command else []), "--help"]
        text = subprocess.run(argv, capture_output=True, text=True, check=True,
                              env={"COLUMNS": "92", "PATH": "", "PYTHONPATH": str(HERE.parent)},
                              ).stdout
        parts.append(f"## symprop {command or ''}".rstrip() + "\n\n```text\n" + text + "```\n")
    folder = HERE / "_generated"
    folder.mkdir(exist_ok=True)
    (folder / "cli.md").write_text("\n".join(parts))


_cli_page()
