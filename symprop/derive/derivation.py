"""A derivation: an ordered list of steps that prints as LaTeX, Markdown or Unicode text.

Each step holds a title, an expression (a SymPy object, or a tuple meaning the chain
``first = second = ...``) and why it holds. ``why`` (and each note) is prose: a string, or a
tuple of strings and SymPy objects, the objects being inline maths, so that every format
writes them as maths (``\\( \\)`` in LaTeX, ``$ $`` in Markdown, Unicode in text) rather than
as ASCII. Notation symbols (:mod:`symprop.derive.notation`) are real SymPy symbols that
remember how they print, so expressions stay comparable in tests.

Formats:
- ``latex()`` is a fragment for text mode, to ``\\input`` into a document (paragraphs,
  inline maths and ``align*`` displays, long equations broken across lines);
  ``latex(mode="math")`` is one ``aligned`` block for math mode (inside ``$$ ... $$`` or
  ``\\[ ... \\]``), which is what Jupyter shows. Both need amsmath and amssymb.
- ``latex_document()`` is a whole article that compiles with pdflatex, its notation stated
  first; ``markdown()`` uses ``$ $`` and ``$$ $$``; ``text()`` is Unicode maths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import sympy as sp

from symprop.derive.limits import bounded, shorten
from symprop.derive.notation import (  # noqa: F401 - re-exported: derive modules use these
    CONVENTIONS,
    latex,
    matrix_notation,
    notation,
    partial,
    textbook_order,
    unicode,
)

# Width, in estimated glyphs, of a display line: the article class's text at 11 pt with 2 cm
# margins holds about 80; beyond this an equation is broken at a sum's or product's terms.
DISPLAY_WIDTH = 62
TEXT_WIDTH = 96  # columns of text() output


def to_latex(expr) -> str:
    return latex(expr)


def to_text(expr) -> str:
    return unicode(expr)


class Step(NamedTuple):
    """One step of a derivation: what it is, the maths, and why it holds."""

    title: str
    expression: object  # a SymPy object, a tuple meaning a chain of equalities, or LaTeX text
    why: str | tuple = ""

    def latex(self) -> str:
        return latex(self.expression)

    def text(self) -> str:
        return unicode(self.expression)


# -- prose -------------------------------------------------------------------------------------
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\~{}", "^": r"\^{}"}


def _escape(text: str) -> str:
    """Prose for LaTeX text (and for ``\\text{}``, where MathJax and KaTeX read the same)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _parts(prose) -> tuple:
    return (prose,) if isinstance(prose, str) else tuple(prose)


def prose_latex(prose) -> str:
    """Prose for LaTeX text mode: words escaped, maths inline."""
    return "".join(_escape(p) if isinstance(p, str) else rf"\({latex(p)}\)"
                   for p in _parts(prose))


def prose_math(prose) -> str:
    """Prose inside a math-mode block: words in ``\\text{}``, maths as it is."""
    return "".join((rf"\text{{{_escape(p)}}}" if p else "") if isinstance(p, str)
                   else f"{{}}{latex(p)}{{}}" for p in _parts(prose))


def prose_markdown(prose) -> str:
    return "".join(p if isinstance(p, str) else f"${latex(p)}$" for p in _parts(prose))


def prose_text(prose) -> str:
    return "".join(p if isinstance(p, str) else unicode(p) for p in _parts(prose))


# -- displays ----------------------------------------------------------------------------------
_COMMAND = re.compile(r"\\(left|right|big|Big|bigg|Bigg)\b|\\[,;:!]|\\q?quad")
_WORD = re.compile(r"\\(operatorname\{[^}]*\}|text\{[^}]*\}|[A-Za-z]+)")


def latex_width(text: str) -> float:
    """About how many glyphs wide ``text`` (LaTeX maths) sets: a fraction as wide as its
    wider part, sub- and superscripts at 0.7, a command's name as one glyph (``\\alpha``)
    or its letters (``\\log``, ``\\operatorname{relu}``)."""
    text = _COMMAND.sub("", text)
    frac = re.search(r"\\frac\{", text)
    if frac:
        numerator, rest = _group(text, frac.end() - 1)
        denominator, after = _group(rest, 0)
        return (latex_width(text[:frac.start()]) + max(latex_width(numerator),
                                                       latex_width(denominator))
                + latex_width(after))
    script = re.search(r"[_^]\{", text)
    if script:
        inner, after = _group(text, script.end() - 1)
        return latex_width(text[:script.start()]) + 0.7 * latex_width(inner) + latex_width(after)
    width = 0.0
    for match in _WORD.finditer(text):
        word = match.group(1)
        width += len(re.sub(r"^\w+\{|\}$", "", word)) if "{" in word else (
            3 if word in ("log", "exp", "sin", "cos", "tanh", "max", "min", "sum") else 1)
    text = _WORD.sub("", text)
    return width + sum(1 for c in text if c not in "{} ")


def _group(text: str, start: int) -> tuple[str, str]:
    """The braced group opening at ``text[start]`` and what follows it."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1:index], text[index + 1:]
    return text[start + 1:], ""


def _sides(expression) -> list:
    if isinstance(expression, tuple):
        return list(expression)
    if isinstance(expression, sp.Equality):
        return [expression.lhs, expression.rhs]
    return [expression]


def _pieces(expr) -> tuple[list, str]:
    """Where a too-wide side breaks: a sum's terms, else a product's factors."""
    if isinstance(expr, sp.Add):
        return textbook_order(expr.as_ordered_terms()), "+"
    if isinstance(expr, sp.Mul):
        return list(expr.as_ordered_factors()), r"\cdot"
    return [expr], ""


def display_rows(expression, width: float = DISPLAY_WIDTH) -> list[str]:
    """The rows of an aligned display of ``expression``: ``lhs &= rhs``, then ``&= ...`` for
    a chain, a side too wide for one line broken at its terms (``&\\quad + ...``)."""
    sides = _sides(expression)
    if any(isinstance(side, str) for side in sides):
        return ["& " + " = ".join(latex(side) for side in sides)]
    head, rows = (latex(sides[0]) + " ", []) if len(sides) > 1 else ("", [])
    for number, side in enumerate(sides[1:] if len(sides) > 1 else sides):
        lead = (head if number == 0 else "") + ("&= " if len(sides) > 1 else "& ")
        text = latex(side)
        if latex_width(text) + latex_width(lead) <= width:
            rows.append(lead + text)
            continue
        pieces, joiner = _pieces(side)
        line, first = "", True
        for piece in pieces:
            negative = joiner == "+" and piece.could_extract_minus_sign()
            printed = latex(-piece if negative else piece)
            if joiner == r"\cdot" and isinstance(piece, sp.Add):
                printed = rf"\left({printed}\right)"
            glue = ("- " if negative else "") if first else (
                " - " if negative else f" {joiner} ")
            if line and latex_width(line + glue + printed) > width - 8:
                rows.append((lead if first else r"&\quad ") + line)
                line, first = "", False
                glue = ("- " if negative else f"{joiner} ")
            line += glue + printed
        rows.append((lead if first else r"&\quad ") + line)
    return rows


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

    def add(self, title: str, expression, why: str | tuple = "") -> Step:
        step = Step(title, expression, why)
        self.steps.append(step)
        return step

    def extend(self, other: Derivation, prefix: str = "") -> None:
        for step in other.steps:
            self.steps.append(Step(prefix + step.title, step.expression, step.why))

    def __repr__(self) -> str:
        result = "" if self.result is None else f", result {shorten(unicode(self.result), 50)}"
        return f"<Derivation {shorten(self.title)!r}: {len(self.steps)} steps{result}>"

    # -- printing ---------------------------------------------------------------------------
    @bounded(lambda self, mode="text": f"printing {shorten(self.title)!r} as LaTeX")
    def latex(self, mode: str = "text") -> str:
        """LaTeX of the whole derivation. ``mode="text"``: a fragment for text mode (to
        ``\\input`` into a document with amsmath and amssymb). ``mode="math"``: one
        ``aligned`` block for math mode (inside ``$$ ... $$``; what Jupyter renders)."""
        if mode == "math":
            return self._latex_math()
        if mode != "text":
            raise ValueError(f"mode is 'text' or 'math', not {mode!r}")
        lines = [rf"\noindent\textbf{{{_escape(self.title)}}}\par", ""]
        for note in self.notes:
            lines += [rf"\noindent {prose_latex(note)}\par", ""]
        for number, step in enumerate(self.steps, 1):
            why = f" {prose_latex(step.why)}" if step.why else ""
            lines.append(rf"\noindent\textit{{{number}. {_escape(step.title)}.}}{why}")
            lines.append("\\begin{align*}\n" + " \\\\\n".join(display_rows(step.expression))
                         + "\n\\end{align*}")
            lines.append("")
        return "\n".join(lines)

    def _latex_math(self) -> str:
        rows = [rf"&\textbf{{{_escape(self.title)}}}"]
        rows += [rf"&\qquad {prose_math(note)}" for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            rows.append(rf"&\text{{{number}. {_escape(step.title)}}}")
            for row in display_rows(step.expression, width=2 * DISPLAY_WIDTH):
                rows.append(r"&\qquad " + row.replace("&", "", 1).replace(r"\quad", r"\qquad"))
            if step.why:
                rows.append(rf"&\qquad {prose_math(step.why)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as a LaTeX document")
    def latex_document(self) -> str:
        """A standalone LaTeX article that compiles with pdflatex, its notation first."""
        conventions = "\n".join(rf"\item[{name}] {text}" for name, text in CONVENTIONS)
        return (_DOCUMENT.replace("%TITLE%", _escape(self.title))
                .replace("%CONVENTIONS%", conventions).replace("%BODY%", self.latex()))

    @bounded(lambda self: f"printing {shorten(self.title)!r} as Markdown")
    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        lines += [prose_markdown(note) + "\n" for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            why = f" {prose_markdown(step.why)}" if step.why else ""
            rows = display_rows(step.expression)
            maths = rows[0].replace("&", "", 1) if len(rows) == 1 else (
                "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")
            lines += [f"**{number}. {step.title}.**{why}", "", f"$$ {maths} $$", ""]
        return "\n".join(lines).rstrip() + "\n"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as text")
    def text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        lines += [prose_text(note) for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"{number}. {step.title}")
            lines += ["     " + row for row in _text_rows(step.expression)]
            if step.why:
                lines.append(f"     ({prose_text(step.why)})")
        return "\n".join(lines) + "\n"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex(mode="math") + "$$"

    def __str__(self) -> str:
        return self.text()


def _text_rows(expression) -> list[str]:
    """A chain in text, one ``= ...`` a line where it does not fit on one."""
    sides = [unicode(side) for side in _sides(expression)]
    joined = " = ".join(sides)
    if len(joined) <= TEXT_WIDTH - 5 or len(sides) == 1:
        return [joined]
    return [sides[0]] + [f"  = {side}" for side in sides[1:]]


_DOCUMENT = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.4em}
\begin{document}
\section*{%TITLE%}
\subsection*{Notation}
\begin{description}
%CONVENTIONS%
\end{description}
\subsection*{Derivation}
%BODY%
\end{document}
"""
