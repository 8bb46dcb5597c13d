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
myst_enable_extensions = ["dollarmath"]  # $...$ maths in the pages and notebooks' prose
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


def _notation_page() -> None:
    """docs/_generated/notation.md: the conventions every derivation follows (the list a
    standalone document states at its start) and how names print, from the registry in
    symprop.derive.notation, so the page says what the printers do."""
    from symprop.derive import notation

    parts = ["# Notation\n",
             "Every derivation symprop prints (LaTeX, Markdown, Unicode text) uses one notation. "
             "A standalone document (`symprop derive ... --standalone`, the handbook) states "
             "these conventions at its start.\n"]
    parts += [f"- **{name}**: {text}." for name, text in notation.CONVENTIONS]
    parts.append(
        "\n## Two layouts\n\nThe derivations use the column-vector notation of the notes, "
        "$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ with $W^{(l)}$ of shape "
        "$n_{l} \\times n_{l-1}$, one sample at a time. The runtime and the kernels store "
        "the batch-major layout $Z = X W + b$: a batch's rows are samples and `W` has shape "
        "`(n_in, n_out)` (what `net.params` returns). The network derivation restates its "
        "rules in that layout at its end, e.g. $\\partial J / \\partial \\mathbf{W}^{(l)} = "
        "A^{(l-1)T} \\Delta^{(l)}$, where the rows of $\\Delta^{(l)}$ are the samples' error "
        "signals with the batch mean's factor $1/m$ applied once, at the output.\n")
    parts.append("## Names that print as symbols\n\nA hyperparameter or formula variable of "
                 "one of these names prints as its symbol, and with an index after `_` "
                 "(`alpha_2`) as the symbol with a subscript; any other name prints as SymPy "
                 "writes it (`z_k` as $z_{k}$, `a1` as $a_{1}$).\n\n| name | LaTeX | text |\n"
                 "| --- | --- | --- |")
    for name, (tex, text) in {**notation.GREEK, **notation.BASE}.items():
        parts.append(f"| `{name}` | ${tex}$ | {text} |")
    parts.append("\n## Function names\n\nThese print as their usual operators; any other "
                 "function name is upright, e.g. $\\operatorname{relu}$.\n\n"
                 "| name | LaTeX |\n| --- | --- |")
    for name, tex in notation.OPERATOR_LATEX.items():
        parts.append(f"| `{name}` | ${tex}$ |")
    (HERE / "_generated" / "notation.md").write_text("\n".join(parts) + "\n")


_cli_page()
_notation_page()
