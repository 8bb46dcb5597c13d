"""Laying a derivation out: prose in each format, and displays broken to fit a line.

Prose (a step's ``why``, a note) is a string, or a tuple of strings and inline maths (SymPy
objects, or :class:`~symprop.derive.notation.TeX` for LaTeX written by hand). Each format
writes the words as words and the maths as maths:

- LaTeX text mode (``latex()``): words escaped for LaTeX, maths in ``\\( \\)``;
- LaTeX math mode (``latex(mode="math")``, Jupyter): words in ``\\text{}`` with no backslash
  inside, since MathJax without its textmacros extension shows ``\\text{a\\_b}`` literally
  and JupyterLab's MathJax rejects ``\\textasciicircum``; LaTeX's special characters go
  between the ``\\text{}`` runs as maths (``\\_``, ``\\&``, ``\\hat{}``, ...);
- Markdown: Markdown's special characters escaped, maths in ``$ $``;
- text: maths as linear Unicode.

Displays are broken to fit their line by :mod:`symprop.derive.breaking`.
"""

from __future__ import annotations

import re
import textwrap

from symprop.derive.breaking import latex_width, sides
from symprop.derive.notation import Code, TeX
from symprop.derive.printers import latex, unicode
from symprop.derive.texunicode import latex_to_unicode

TEXT_WIDTH = 96  # columns of text() output


# -- prose -------------------------------------------------------------------------------------
_TEXT_MODE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
              "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
              "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
              "|": r"\textbar{}"}
# Outside \text{}, in math mode: what each special character is as maths.
_MATH_MODE = {"\\": r"\backslash", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
              "{": r"\{", "}": r"\}", "~": r"\sim", "^": r"\hat{}", "<": "{<}", ">": "{>}",
              "|": "{|}"}
# Markdown's special characters; an underscore inside a word (leaky_relu) cannot start emphasis
# in CommonMark, so it stays as it is.
_MARKDOWN = re.compile(r"([\\`*\[\]<>$|#~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def parts(prose) -> tuple:
    return (prose,) if isinstance(prose, str) and not isinstance(prose, TeX) else tuple(prose)


def escape_latex(text: str) -> str:
    """Words for LaTeX text mode (pdflatex)."""
    return "".join(_TEXT_MODE.get(c, c) for c in text)


def text_in_math(text: str, command: str = r"\text") -> str:
    """Words inside math mode: ``\\text{}`` runs, the special characters as maths between."""
    out = []
    for run in re.split(r"([\\&%$#_{}~^<>|])", text):
        if run in _MATH_MODE:
            out.append(_MATH_MODE[run])
        elif run:
            out.append(f"{command}{{{run}}}")
    return "".join(out)


def _inline(part) -> str:
    return latex(str(part)) if isinstance(part, TeX) else latex(part)  # latex(): MathJax-safe


# Inline maths wider than this (in glyphs), or a case distinction, is set as a display in the
# LaTeX and Markdown prose: TeX can hardly break it, MathJax and KaTeX not at all.
WIDE_INLINE = 36


def _wide(tex: str) -> bool:
    return latex_width(tex) > WIDE_INLINE or r"\begin{" in tex


def _punctuation_into_displays(pieces: tuple) -> tuple:
    """Punctuation right after a wide formula (set as a display) moved into it, so that no
    line starts with ", and ...": ``(TeX("a = b"), ", and c")`` -> ``(TeX("a = b,"), " and c")``."""
    out: list = []
    for piece in pieces:
        if out and _is_maths(out[-1]) and isinstance(piece, str) and not _is_maths(piece) and (
                piece[:1] in ",.;:") and _wide(_inline(out[-1])):
            out[-1] = TeX(_inline(out[-1]) + piece[0])
            piece = piece[1:]
        if piece != "":
            out.append(piece)
    return tuple(out)


def prose_latex(prose) -> str:
    """Prose for LaTeX text mode: words escaped, maths inline (displayed where wide)."""
    out = []
    for p in _punctuation_into_displays(parts(prose)):
        tex = _inline(p) if _is_maths(p) else ""
        out.append(rf"\texttt{{{escape_latex(p)}}}" if isinstance(p, Code) else
                   escape_latex(p) if not _is_maths(p) else
                   rf"\[{tex}\]" if _wide(tex) else rf"\({tex}\)")
    return "".join(out)


def prose_math(prose, command: str = r"\text") -> str:
    """Prose inside a math-mode block: words in ``\\text{}`` (or ``command``), maths in text
    style (as inline maths sets: no display-size fractions and sums in a line of words)."""
    return "".join(rf"{{\textstyle {_inline(p)}}}" if _is_maths(p) else text_in_math(
        p, r"\texttt" if isinstance(p, Code) else command) for p in parts(prose))


def prose_markdown(prose) -> str:
    """Prose for Markdown: special characters escaped, maths in ``$ $`` (``$$ $$`` on a line
    of its own where wide)."""
    out = []
    for p in _punctuation_into_displays(parts(prose)):
        tex = _inline(p) if _is_maths(p) else ""
        out.append(f"`{p}`" if isinstance(p, Code) else
                   _MARKDOWN.sub(r"\\\1", p) if not _is_maths(p) else
                   f"\n\n$$ {tex} $$\n\n" if _wide(tex) else f"${tex}$")
    return "".join(out)


def prose_text(prose) -> str:
    return "".join((latex_to_unicode(p) if isinstance(p, TeX) else unicode(p))
                   if _is_maths(p) else p for p in parts(prose))


def _is_maths(part) -> bool:
    return isinstance(part, TeX) or not isinstance(part, str)


def prose_rows(prose, width: float, first: float | None = None) -> list[tuple]:
    """Prose split into lines of about ``width`` glyphs (``first`` for the first line), at
    spaces between words; inline maths is never split (math mode cannot wrap prose)."""
    rows, row, used = [], [], 0.0
    for part in parts(prose):
        pieces = [part] if _is_maths(part) or isinstance(part, Code) else re.findall(
            r"\S+\s*|\s+", part)
        for piece in pieces:
            size = latex_width(_inline(piece)) if _is_maths(piece) else len(piece)
            limit = width if rows or first is None else first
            # Break before a word or maths, never before punctuation that follows maths.
            punctuation = not _is_maths(piece) and piece[:1] in ",.;:)"
            if row and used + size > limit and (_is_maths(piece) or piece.strip()) and not (
                    punctuation):
                rows.append(tuple(row))
                row, used = [], 0.0
            row.append(piece)
            used += size
    return [_merged(r) for r in rows + [tuple(row)] if r]


def _merged(row: tuple) -> tuple:
    """Adjacent words joined into one string, the row's trailing space dropped."""
    out: list = []
    for piece in row:
        if out and not _is_maths(piece) and not _is_maths(out[-1]) and not isinstance(
                piece, Code) and not isinstance(out[-1], Code):
            out[-1] += piece
        else:
            out.append(piece)
    if out and not _is_maths(out[-1]):
        out[-1] = out[-1].rstrip()
    if out and not _is_maths(out[0]):
        out[0] = out[0].lstrip()
    return tuple(p for p in out if p != "")


def text_rows(expression, width: int = TEXT_WIDTH) -> list[str]:
    """A display in text: one line, or one ``= side`` a line where the chain does not fit."""
    items, relation = sides(expression)
    arrow = "←" if relation != "=" else "="
    printed = [unicode(side) for side in items]
    joined = f" {arrow} ".join(printed)
    if len(joined) <= width or len(printed) == 1:
        return [joined]
    return [printed[0]] + [f"  {arrow} {side}" for side in printed[1:]]


def wrap_text(text: str, indent: str, width: int = TEXT_WIDTH) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False) or [indent.rstrip()]
