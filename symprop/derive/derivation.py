"""A derivation: an ordered list of steps that prints as LaTeX, Markdown or Unicode text.

Each step holds a title, an expression (a SymPy object; a tuple meaning the chain
``first = second = ...``; an :class:`~symprop.derive.notation.Update` ``w <- ...``) and why it
holds. ``why`` (and each note) is prose: a string, or a tuple of strings and inline maths
(SymPy objects, or :class:`~symprop.derive.notation.TeX`), so that every format writes the
maths as maths rather than as ASCII (see :mod:`symprop.derive.layout`). Notation symbols
(:mod:`symprop.derive.notation`) are real SymPy symbols that remember how they print, so
expressions stay comparable in tests.

Formats, and what each promises:

- ``latex()``: a fragment for LaTeX *text* mode, to ``\\input`` into a document that loads
  amsmath and amssymb: a bold title, paragraphs with inline maths ``\\( \\)``, one ``align*``
  display a step, long equations broken across lines;
- ``latex(mode="math")``: one ``aligned`` block for *math* mode (inside ``\\[ \\]`` or
  ``$$ $$``), prose in ``\\text{}``; what Jupyter shows (``_repr_latex_``), and it renders in
  MathJax 3 and KaTeX;
- ``latex_document()``: a whole article that compiles with pdflatex, the notation first;
- ``markdown()``: ``$ $`` inline, ``$$ $$`` displays (Jupyter, GitHub, MkDocs);
- ``text()``: Unicode maths for a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from symprop.derive.breaking import DISPLAY_WIDTH, DOCUMENT_WIDTH, MATH_WIDTH, display_rows
from symprop.derive.layout import (
    TEXT_WIDTH,
    escape_latex,
    parts,
    prose_latex,
    prose_markdown,
    prose_math,
    prose_rows,
    prose_text,
    text_in_math,
    text_rows,
    wrap_text,
)
from symprop.derive.limits import bounded, shorten
from symprop.derive.notation import (  # noqa: F401 - re-exported: derive modules use these
    CONVENTIONS,
    TeX,
    Update,
    function_notation,
    matrix_notation,
    notation,
    operator_latex,
    partial,
    prose,
    textbook_order,
)
from symprop.derive.printers import latex, unicode


def to_latex(expr) -> str:
    return latex(expr)


def to_text(expr) -> str:
    return unicode(expr)


def sentence(why: str | tuple) -> str | tuple:
    """The reason after a step's title as a sentence: its first word capitalised ("Each
    factor ..."), unless the reason starts with maths or with a one-letter word other than
    "a" (a variable written in words)."""
    first = why if isinstance(why, str) else (why[0] if why else None)
    if not isinstance(first, str) or isinstance(first, TeX) or not first[:1].islower():
        return why
    word = re.match(r"[a-z]+", first).group(0)
    if len(word) == 1 and word != "a" or first[len(word):len(word) + 1] in ("(", "'", "_"):
        return why
    head = first[:1].upper() + first[1:]
    return head if isinstance(why, str) else (head, *why[1:])


class Step(NamedTuple):
    """One step of a derivation: what it is, the maths, and why it holds."""

    title: str | tuple  # prose, like why: "Chain rule", or ("Substitute ", Eq(a, f(z)))
    expression: object  # SymPy object, tuple (a chain of equalities), Update, or LaTeX text
    why: str | tuple = ""

    def latex(self) -> str:
        return latex(self.expression)

    def text(self) -> str:
        return "\n".join(text_rows(self.expression))


@dataclass
class Derivation:
    """An ordered derivation with its final result.

    ``result`` is the last expression the derivation arrives at (for example the output delta
    ``yhat - y``); ``steps`` lead there and each says why it holds. ``notes`` are prose
    (strings, or tuples of strings and inline maths) printed before the steps.
    """

    title: str
    steps: list[Step] = field(default_factory=list)
    result: object = None
    notes: list = field(default_factory=list)

    def add(self, title: str | tuple, expression, why: str | tuple = "") -> Step:
        step = Step(title, expression, why)
        self.steps.append(step)
        return step

    def extend(self, other: Derivation, prefix: str = "") -> None:
        for step in other.steps:
            title = prefix + step.title if isinstance(step.title, str) else (prefix, *step.title)
            self.steps.append(Step(title, step.expression, step.why))

    def __repr__(self) -> str:
        result = "" if self.result is None else f", result {shorten(unicode(self.result), 50)}"
        return f"<Derivation {shorten(self.title)!r}: {len(self.steps)} steps{result}>"

    # -- printing ---------------------------------------------------------------------------
    @bounded(lambda self, mode="text", width=None, title=True:
             f"printing {shorten(self.title)!r} as LaTeX")
    def latex(self, mode: str = "text", width: float | None = None, title: bool = True) -> str:
        """LaTeX of the whole derivation. ``mode="text"``: a fragment for text mode (to
        ``\\input`` into a document with amsmath and amssymb). ``mode="math"``: one
        ``aligned`` block for math mode (inside ``\\[ \\]`` or ``$$ $$``; what Jupyter
        renders). ``width``: the glyphs a display line holds, past which equations are broken
        (default: :data:`DISPLAY_WIDTH`, the default article's text; :data:`MATH_WIDTH`).
        ``title=False`` (text mode): without the bold title, for a document whose own heading
        carries it (the handbook's subsections)."""
        if mode == "math":
            return self._latex_math(width or MATH_WIDTH)
        if mode != "text":
            raise ValueError(f"mode is 'text' or 'math', not {mode!r}")
        body = self._body(width or DISPLAY_WIDTH)
        if not title:
            return body
        return rf"\noindent\textbf{{{escape_latex(self.title)}}}\par" + "\n\n" + body

    def _body(self, width: float) -> str:
        """The text-mode fragment without its title: notes, then the steps."""
        lines = []
        for note in self.notes:
            lines += [rf"\noindent {prose_latex(note)}\par", ""]
        for number, step in enumerate(self.steps, 1):
            why = f" {prose_latex(sentence(step.why))}" if step.why else ""
            lines.append(rf"\noindent\textit{{{number}. {prose_latex(step.title)}.}}{why}")
            lines.append("\\begin{align*}\n" + " \\\\\n".join(display_rows(step.expression, width))
                         + "\n\\end{align*}")
            lines.append("")
        return "\n".join(lines)

    def _latex_math(self, width: float) -> str:
        # Math mode cannot wrap prose: every line of words is a row of its own.
        rows = ["&" + text_in_math(row[0], r"\textbf") for row in prose_rows(self.title, width)]
        for note in self.notes:
            rows += ["&" + prose_math(row) for row in prose_rows(note, width)]
        for number, step in enumerate(self.steps, 1):
            heading = (f"{number}. ", *parts(step.title), ".")
            rows += ["&" + prose_math(row, r"\textit") for row in prose_rows(heading, width)]
            if step.why:
                rows += [r"&\qquad " + prose_math(row) for row in prose_rows(sentence(step.why),
                                                                          width - 4)]
            display = display_rows(step.expression, width - 4)
            rows.append(r"&\qquad " + (display[0].replace("&", "", 1) if len(display) == 1 else
                                        "\\begin{aligned}\n" + " \\\\\n".join(display)
                                        + "\n\\end{aligned}"))
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as a LaTeX document")
    def latex_document(self) -> str:
        """A standalone LaTeX article that compiles with pdflatex, its notation first."""
        return (DOCUMENT.replace("%TITLE%", escape_latex(self.title))
                .replace("%CONVENTIONS%", conventions_latex())
                .replace("%BODY%", self._body(DOCUMENT_WIDTH)))

    @bounded(lambda self: f"printing {shorten(self.title)!r} as Markdown")
    def markdown(self) -> str:
        lines = [f"## {prose_markdown(self.title)}", ""]
        lines += [prose_markdown(note) + "\n" for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            why = f" {prose_markdown(sentence(step.why))}" if step.why else ""
            rows = display_rows(step.expression)
            maths = rows[0].replace("&", "", 1) if len(rows) == 1 else (
                "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")
            lines += [f"**{number}. {prose_markdown(step.title)}.**{why}", "",
                      f"$$ {maths} $$", ""]
        return "\n".join(lines).rstrip() + "\n"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as text")
    def text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for note in self.notes:
            lines += wrap_text(prose_text(note), "")
        for number, step in enumerate(self.steps, 1):
            lines.append(f"{number}. {prose_text(step.title)}")
            lines += ["     " + row for row in text_rows(step.expression, TEXT_WIDTH - 5)]
            if step.why:
                lines += wrap_text(f"({prose_text(sentence(step.why))})", "     ")
        return "\n".join(lines) + "\n"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex(mode="math") + "$$"

    def __str__(self) -> str:
        return self.text()


# What every symprop document loads: the page DOCUMENT_WIDTH is measured for (11pt A4 with
# 2 cm margins), amsmath and amssymb for the fragments, and displays that may break across
# pages (a derivation's chain of equalities can be long). The handbook starts with it too.
PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
\setlength{\emergencystretch}{3em}
"""


def conventions_latex() -> str:
    """The notation's conventions as the items of a LaTeX ``description`` list."""
    return "\n".join(rf"\item[{name}] {prose_latex(prose(text))}" for name, text in CONVENTIONS)


DOCUMENT = PREAMBLE + r"""\begin{document}
\section*{%TITLE%}
\subsection*{Notation}
\begin{description}
%CONVENTIONS%
\end{description}
\subsection*{Derivation}
%BODY%
\end{document}
"""

__all__ = ["DISPLAY_WIDTH", "Derivation", "Step", "TeX", "Update", "function_notation",
           "latex", "matrix_notation", "notation", "operator_latex", "partial", "prose",
           "unicode"]
