"""A derivation: an ordered list of steps that prints as LaTeX, Markdown or plain text.

Each step holds a title, an expression (a SymPy object, or a chain of them meaning
``first = second = ...``) and a sentence saying why the step holds. Notation such as
``dL/dyhat`` or ``W^(l)`` is a SymPy symbol made by :func:`notation`, which remembers how to
print it in LaTeX, so expressions stay real SymPy objects that tests can compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import sympy as sp
from sympy.printing.str import StrPrinter

from symprop.derive.limits import bounded, shorten

# text name -> LaTeX form of every notation symbol made so far
_LATEX_NAMES: dict[str, str] = {}


def notation(text: str, latex: str, **assumptions) -> sp.Symbol:
    """A SymPy symbol printed as ``text`` in text and as ``latex`` in LaTeX."""
    _LATEX_NAMES[text] = latex
    return sp.Symbol(text, **assumptions)


def matrix_notation(text: str, latex: str, rows, cols) -> sp.MatrixSymbol:
    """A matrix symbol printed as ``text`` in text and ``latex`` in LaTeX."""
    _LATEX_NAMES[text] = latex
    return sp.MatrixSymbol(text, rows, cols)


class _TextPrinter(StrPrinter):
    """SymPy's str printer, with the Hadamard product written as the notes write it."""

    def _print_HadamardProduct(self, expr):
        return " ∘ ".join(self.parenthesize(arg, 50) for arg in expr.args)

    def _print_KroneckerDelta(self, expr):
        return f"delta({self._print(expr.args[0])}, {self._print(expr.args[1])})"


def partial(numerator: str, denominator: str, num_latex: str, den_latex: str) -> sp.Symbol:
    """The symbol for a partial derivative, e.g. dL/dz printed as a LaTeX fraction."""
    return notation(
        f"d{numerator}/d{denominator}",
        rf"\frac{{\partial {num_latex}}}{{\partial {den_latex}}}",
        real=True,
    )


def to_latex(expr) -> str:
    if isinstance(expr, str):
        return expr
    if isinstance(expr, tuple):
        return " = ".join(to_latex(e) for e in expr)
    names = {s: _LATEX_NAMES[str(s.name)] for s in _symbols_in(expr)
             if str(getattr(s, "name", "")) in _LATEX_NAMES}
    # order="old" keeps textbook order: yhat - y, 1 - a^2 (not -y + yhat).
    return sp.latex(expr, symbol_names=names, order="old")


def to_text(expr) -> str:
    if isinstance(expr, str):
        return expr
    if isinstance(expr, tuple):
        return " = ".join(to_text(e) for e in expr)
    if isinstance(expr, sp.Equality):
        return f"{to_text(expr.lhs)} = {to_text(expr.rhs)}"
    return _TextPrinter({"order": "old"}).doprint(expr)


def _symbols_in(expr) -> set[sp.Symbol]:
    if isinstance(expr, sp.MatrixBase):
        return set().union(*(_symbols_in(e) for e in expr)) if expr.shape[0] else set()
    atoms = getattr(expr, "atoms", None)
    found = set(getattr(expr, "free_symbols", set()))
    if atoms is not None:
        found |= atoms(sp.Symbol, sp.MatrixSymbol)
    return found


class Step(NamedTuple):
    """One step of a derivation: what it is, the math, and why it holds."""

    title: str
    expression: object  # a SymPy object, a tuple meaning a chain of equalities, or LaTeX text
    why: str = ""

    def latex(self) -> str:
        return to_latex(self.expression)

    def text(self) -> str:
        return to_text(self.expression)


def _escape_text(text: str) -> str:
    """Escape prose for LaTeX's \\text{...} and paragraphs."""
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}"}
    return "".join(table.get(c, c) for c in text)


@dataclass
class Derivation:
    """An ordered derivation with its final result.

    ``result`` is the last expression the derivation arrives at (for example the output delta
    ``yhat - y``); ``steps`` lead there and each says why it holds.
    """

    title: str
    steps: list[Step] = field(default_factory=list)
    result: object = None
    notes: list[str] = field(default_factory=list)

    def add(self, title: str, expression, why: str = "") -> Step:
        step = Step(title, expression, why)
        self.steps.append(step)
        return step

    def extend(self, other: Derivation, prefix: str = "") -> None:
        for step in other.steps:
            self.steps.append(Step(prefix + step.title, step.expression, step.why))

    # -- printing ---------------------------------------------------------------------------
    @bounded(lambda self: f"printing {shorten(self.title)!r} as LaTeX")
    def latex(self) -> str:
        """The steps as one LaTeX ``aligned`` block (math mode; MathJax renders it)."""
        rows = [rf"&\textbf{{{_escape_text(self.title)}}}"]
        for number, step in enumerate(self.steps, 1):
            rows.append(rf"&\text{{{number}. {_escape_text(step.title)}}}")
            rows.append(rf"&\qquad {step.latex()}")
            if step.why:
                rows.append(rf"&\qquad\text{{({_escape_text(step.why)})}}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as a LaTeX document")
    def latex_document(self) -> str:
        """A standalone LaTeX document (article class) that compiles with pdflatex."""
        body = [rf"\section*{{{_escape_text(self.title)}}}"]
        for note in self.notes:
            body.append(_escape_text(note) + "\n")
        for number, step in enumerate(self.steps, 1):
            body.append(rf"\paragraph{{{number}. {_escape_text(step.title)}}}")
            if step.why:
                body.append(_escape_text(step.why))
            body.append("\\[\n" + step.latex() + "\n\\]")
        return _DOCUMENT.replace("%BODY%", "\n".join(body))

    @bounded(lambda self: f"printing {shorten(self.title)!r} as Markdown")
    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        lines += [note + "\n" for note in self.notes]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"**{number}. {step.title}**")
            if step.why:
                lines.append(f"{step.why}")
            lines += ["", f"$$ {step.latex()} $$", ""]
        return "\n".join(lines).rstrip() + "\n"

    @bounded(lambda self: f"printing {shorten(self.title)!r} as text")
    def text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        lines += self.notes
        for number, step in enumerate(self.steps, 1):
            lines.append(f"{number}. {step.title}")
            lines.append(f"     {step.text()}")
            if step.why:
                lines.append(f"     ({step.why})")
        return "\n".join(lines) + "\n"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __str__(self) -> str:
        return self.text()


_DOCUMENT = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\setlength{\parindent}{0pt}
\begin{document}
%BODY%
\end{document}
"""
