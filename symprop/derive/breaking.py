"""Displays that fit the line: an equation too wide for its line is broken, as a textbook
breaks it, at the terms of a sum (``+`` / ``-`` leading the next line), then at the factors of
a product (``\\cdot`` leading), going into parentheses (``\\Bigl( ... \\Bigr)``) and sums
(``\\sum``) where one term alone is too wide, and a too-wide case distinction becomes one row a
case. Widths are estimated in glyphs (:func:`latex_width`): TeX cannot break a display by
itself, and MathJax and KaTeX do not break at all.
"""

from __future__ import annotations

import re

import sympy as sp

from symprop.derive.notation import Update, is_negative, negated, textbook_order
from symprop.derive.printers import latex, parenthesized, textbook_factors

# Width, in estimated glyphs, of a display line of the text-mode fragment: the default article
# class (10 pt, 345 pt of text), the narrowest page a fragment is likely \input into.
DISPLAY_WIDTH = 50
DOCUMENT_WIDTH = 64  # the standalone document: 11 pt on A4 with 2 cm margins (483 pt)
MATH_WIDTH = 60  # latex(mode="math") rows: fits \[ \] in the default article, and Jupyter
_INDENT = 2.0  # a continuation line's \quad


# -- widths ------------------------------------------------------------------------------------
_SPACING = re.compile(r"\\(left|right|[Bb]igg?[lr]?)\b|\\[,;:!]|\\begin\{[a-z*]+\}"
                      r"|\\end\{[a-z*]+\}")
_WORD = re.compile(r"\\(operatorname\{[^}]*\}|text\{[^}]*\}|[A-Za-z]+)")
_WIDE = {"cdot": 2, "odot": 2, "leftarrow": 3, "quad": 2, "qquad": 4}
_NAMED = ("log", "exp", "sin", "cos", "tanh", "sinh", "cosh", "max", "min", "det", "diag",
          "sign")


def latex_width(text: str) -> float:
    """About how many glyphs wide ``text`` (LaTeX maths) sets: a fraction as wide as its
    wider part, sub- and superscripts at 0.7, a command's name as one glyph (``\\alpha``)
    or its letters (``\\log``, ``\\operatorname{relu}``), a relation or operator with its
    spaces as two."""
    text = _SPACING.sub("", text)
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
            len(word) if word in _NAMED else _WIDE.get(word, 1))
    text = _WORD.sub("", text)
    return width + sum(2 if c in "=+-<>" else 1 for c in text if c not in "{} &")


def _group(text: str, start: int) -> tuple[str, str]:
    """The braced group opening at ``text[start]`` and what follows it."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1:index], text[index + 1:]
    return text[start + 1:], ""


# -- breaking ----------------------------------------------------------------------------------
def sides(expression) -> tuple[list, str]:
    """The sides of a display and the relation between them (``=``, or ``\\leftarrow`` for an
    update)."""
    if isinstance(expression, tuple):
        return list(expression), "="
    if isinstance(expression, sp.Equality):
        return [expression.lhs, expression.rhs], "="
    if isinstance(expression, Update):
        return [expression.lhs, expression.rhs], r"\leftarrow"
    return [expression], "="


def _pack(pieces: list[tuple[str, str]], width: float) -> list[str]:
    """Greedy lines from (glue, text) pieces; a line after the first starts with its glue's
    operator (``+ x``, ``\\cdot f``)."""
    lines_, line = [], ""
    for glue, text in pieces:
        if line and latex_width(line + glue + text) > width:
            lines_.append(line)
            line = ""
        line = line + glue + text if line else (
            (glue.strip() + " " if glue.strip() else "") + text)
    return lines_ + [line]


def _factors(expr: sp.Mul) -> tuple[str, list]:
    """A product's sign and factors, a fraction's denominator kept under its first factor."""
    if any(isinstance(a, sp.Number) for a in expr.args[1:]) or not expr.is_commutative:
        return "", list(expr.args)  # unevaluated or matrix: the order as written
    sign, expr = ("-", -expr) if expr.could_extract_minus_sign() else ("", expr)
    top, bottom = sp.fraction(expr, exact=True)
    factors = textbook_factors(sp.Mul.make_args(top))
    if bottom != 1:
        factors[0] = sp.Mul(factors[0], sp.Pow(bottom, -1), evaluate=False)
    return sign, factors


def lines(expr, width: float) -> list[str]:
    """LaTeX of ``expr`` in lines of at most ``width`` glyphs where it can be broken; the lines
    after the first start with their operator (``+``, ``-``, ``\\cdot``, ``\\odot``)."""
    text = latex(expr)
    if latex_width(text) <= width:
        return [text]
    if isinstance(expr, sp.Add | sp.MatAdd):
        pieces = []
        for number, term in enumerate(textbook_order(expr.as_ordered_terms())):
            glue = " - " if is_negative(term) else (" + " if number else "")
            term = negated(term) if is_negative(term) else term
            for index, part in enumerate(lines(term, width - _INDENT)):
                pieces.append((glue if index == 0 else " ", part))
        return _split_glued(pieces, width)
    if isinstance(expr, sp.Mul | sp.MatMul | sp.HadamardProduct):
        sign, factors = _factors(expr) if isinstance(expr, sp.Mul) else ("", list(expr.args))
        joiner = r" \odot " if isinstance(expr, sp.HadamardProduct) else r" \cdot "
        pieces = []
        for number, factor in enumerate(factors):
            for index, part in enumerate(_factor_lines(factor, width - _INDENT)):
                pieces.append((joiner if number and index == 0 else " ", part))
        result = _split_glued(pieces, width)
        return [f"- {result[0]}"] + result[1:] if sign else result
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        if is_negative(expr):
            inner = lines(negated(expr), width - 2)
            return [f"- {inner[0]}"] + inner[1:]
        head = latex(sp.Sum(sp.Symbol("BODY"), *expr.limits)).replace("BODY", "").rstrip()
        body = _factor_lines(expr.function, width - latex_width(head)) if isinstance(
            expr.function, sp.Add) else lines(expr.function, width - latex_width(head))
        return [f"{head} {body[0]}"] + body[1:]
    return [text]  # a fraction, a function, a matrix: TeX cannot break it, nor can we


def _factor_lines(factor, width: float) -> list[str]:
    """A factor of a product: a sum in parentheses, broken inside them if it must be."""
    if not isinstance(factor, sp.Add | sp.MatAdd | sp.HadamardProduct):
        return lines(factor, width)
    inner = lines(factor, width - 2)
    if len(inner) == 1:
        return [parenthesized(inner[0])]
    return [rf"\Bigl({inner[0]}"] + inner[1:-1] + [rf"{inner[-1]}\Bigr)"]


def _split_glued(pieces: list[tuple[str, str]], width: float) -> list[str]:
    """Pack pieces into lines; a piece glued by a bare space continues its predecessor's
    broken line and always starts a new line."""
    out: list[str] = []
    group: list[tuple[str, str]] = []
    for glue, text in pieces:
        if glue == " " and group:
            out += _pack(group, width)
            group = [("", text)]
        else:
            group.append((glue, text))
    return out + _pack(group, width) if group else out


def display_rows(expression, width: float = DISPLAY_WIDTH) -> list[str]:
    """The rows of an aligned display of ``expression``: ``lhs &= rhs``, then ``&= ...`` for
    a chain, a side too wide for one line broken across lines (``&\\quad + ...``), a too-wide
    case distinction one row a case."""
    items, relation = sides(expression)
    if any(isinstance(side, str) for side in items):  # LaTeX written by hand: as it is
        return ["& " + f" {relation} ".join(latex(side) for side in items)]
    head = latex(items[0]) + " " if len(items) > 1 else ""
    room = width - latex_width(head) - latex_width(relation) - 1
    whole = f" {relation} ".join(latex(side) for side in items[1:])
    if len(items) > 2 and latex_width(whole) <= room:  # a short chain stays on one line
        return [f"{head}&{relation} {whole}"]
    rows = []
    for number, side in enumerate(items[1:] if len(items) > 1 else items):
        lead = (head if number == 0 else "") + (f"&{relation} " if len(items) > 1 else "& ")
        if isinstance(side, sp.Piecewise) and latex_width(latex(side)) > room:
            # One row a case, each with the left side again: "= A if c", "= B otherwise".
            for value, condition in side.args:
                where = r"\text{otherwise}" if condition == sp.true else (
                    rf"\text{{if }} {latex(condition)}")
                broken = lines(value, room - latex_width(where) - 2 - _INDENT)
                broken[-1] += rf" \quad {where}"
                rows += [lead + broken[0]] + [r"&\quad " + b for b in broken[1:]]
                lead = head + (f"&{relation} " if len(items) > 1 else "& ")
            continue
        broken = lines(side, room - _INDENT)  # the lines after the first are indented
        rows += [lead + broken[0]] + [r"&\quad " + b for b in broken[1:]]
    return rows
