"""Arithmetic with the numbers written out, as a worked example shows it: ``3 · 2 + 0``,
``0.5 − 0.1·(−24)``, ``[3, 1][2; 1] + [0]``.

SymPy evaluates ``3*2 + 0`` as soon as it is built, and its printers reorder what is left;
these display nodes keep every operand where it was put and print it in the package's
notation (LaTeX, Unicode text). They are for printing only: nothing computes with them.
:func:`worked` rewrites a formula (an update rule, a loss gradient) with numbers (scalars or
matrices) in place of its symbols.
"""

from __future__ import annotations

import sympy as sp

from symprop.derive.notation import is_negative, negated, operator_latex, textbook_order
from symprop.derive.printers import textbook_factors
from symprop.derive.texunicode import SUPERSCRIPT, latex_to_unicode, script


def _is_matrix(item) -> bool:
    return isinstance(item, sp.MatrixBase)


def _is_negative_number(item) -> bool:
    return isinstance(item, sp.Number) and item < 0


class _Worked(sp.Basic):
    """A display node: printed, never evaluated."""

    def _text(self, printer, fmt: str) -> str:
        raise NotImplementedError

    def _latex(self, printer) -> str:
        return self._text(printer, "latex")

    def _notation_unicode(self, printer) -> str:
        return self._text(printer, "unicode")

    def _sympystr(self, printer) -> str:
        return self._text(printer, "str")


def _operand(printer, item, fmt: str, compound=()) -> str:
    """An operand, in parentheses where it is a negative number or a compound node."""
    printed = printer._print(item)
    if _is_negative_number(item) or isinstance(item, compound):
        return rf"\left({printed}\right)" if fmt == "latex" else f"({printed})"
    return printed


_MINUS = {"latex": "-", "unicode": "−", "str": "-"}


class WorkedSum(_Worked):
    """``first ± second ± ...``; ``signs`` holds +1 or -1 per term."""

    def __new__(cls, terms, signs=None):
        signs = signs or [1] * len(terms)
        return sp.Basic.__new__(cls, sp.Tuple(*map(sp.Integer, signs)), *terms)

    def _text(self, printer, fmt: str) -> str:
        signs, terms = self.args[0], self.args[1:]
        text = ""
        for number, (sign, term) in enumerate(zip(signs, terms, strict=True)):
            printed = _operand(printer, term, fmt, (WorkedSum,)) if number or sign < 0 else (
                printer._print(term))
            if number == 0:
                text = (_MINUS[fmt] if sign < 0 else "") + printed
            else:
                text += f" {_MINUS[fmt] if sign < 0 else '+'} {printed}"
        return text


class WorkedProduct(_Worked):
    """A product: matrices side by side (a matrix product), a number and anything else
    joined by a dot; ``elementwise=True`` joins every factor with ``⊙``."""

    def __new__(cls, factors, elementwise: bool = False):
        return sp.Basic.__new__(cls, sp.true if elementwise else sp.false, *factors)

    def _text(self, printer, fmt: str) -> str:
        elementwise, factors = bool(self.args[0]), self.args[1:]
        dot = {"latex": r" \cdot ", "unicode": "·", "str": "*"}[fmt]
        odot = {"latex": r" \odot ", "unicode": " ⊙ ", "str": " (.) "}[fmt]
        text = ""
        for number, factor in enumerate(factors):
            printed = _operand(printer, factor, fmt, (WorkedSum, WorkedProduct, WorkedFraction))
            if number:
                both_matrices = _is_matrix(factor) and _is_matrix(factors[number - 1])
                text += odot if elementwise else ((" " if fmt == "latex" else "")
                                                  if both_matrices else dot)
            text += printed
        return text


class WorkedFraction(_Worked):
    """``numerator / denominator``."""

    def _text(self, printer, fmt: str) -> str:
        top, bottom = self.args
        if fmt == "latex":
            return rf"\frac{{{printer._print(top)}}}{{{printer._print(bottom)}}}"
        compound = (WorkedSum, WorkedProduct, WorkedFraction)
        return f"{_operand(printer, top, fmt, compound)}/{_operand(printer, bottom, fmt, compound)}"


class WorkedPower(_Worked):
    """``base^exponent`` (``√base`` for exponent 1/2)."""

    def _text(self, printer, fmt: str) -> str:
        base, exponent = self.args
        if exponent == sp.S.Half:
            inner = printer._print(base)
            return rf"\sqrt{{{inner}}}" if fmt == "latex" else f"√({inner})"
        printed = _operand(printer, base, fmt, (_Worked,))
        power = printer._print(exponent)
        if fmt == "latex":
            return f"{printed}^{{{power}}}"
        return printed + (script(power, SUPERSCRIPT, "^") if fmt == "unicode" else f"**{power}")


class WorkedCall(_Worked):
    """``name(argument)`` in the package's operator style (``relu(6)``, ``f'([1; 0])``)."""

    def __new__(cls, name: str, argument, prime: bool = False):
        return sp.Basic.__new__(cls, sp.Symbol(name), argument, sp.true if prime else sp.false)

    def _text(self, printer, fmt: str) -> str:
        name, argument, prime = self.args[0].name, self.args[1], bool(self.args[2])
        mark = "'" if prime else ""
        inner = printer._print(argument)
        head = operator_latex(name) or name
        if fmt == "latex":
            return rf"{head}{mark}\left({inner}\right)"
        # The same name as the symbols print (sigmoid as σ, relu upright).
        return f"{latex_to_unicode(head) if fmt == 'unicode' else name}{mark}({inner})"


def worked(expr: sp.Expr, numbers: dict):
    """``expr`` with the numbers of ``numbers`` (symbol -> SymPy number or Matrix) in place
    of its symbols, as display nodes; None where the formula uses something other than sums,
    products, quotients and powers (a logarithm, a piecewise), or a power of a matrix:
    then a worked example shows the formula and its value only."""
    if expr in numbers:
        return numbers[expr]
    if expr.is_Number:
        return expr
    if isinstance(expr, sp.Add):
        terms, signs = [], []
        for term in textbook_order(expr.as_ordered_terms()):  # the printers' order
            negative = is_negative(term)
            shown = worked(negated(term) if negative else term, numbers)
            if shown is None:
                return None
            terms.append(shown)
            signs.append(-1 if negative else 1)
        return WorkedSum(terms, signs)
    if isinstance(expr, sp.Mul):
        if expr.could_extract_minus_sign() and expr.args[0] == -1:
            inner = worked(-expr, numbers)
            return None if inner is None else WorkedSum([inner], [-1])
        top, bottom = sp.fraction(expr, exact=True)
        if bottom != 1:
            parts = worked(top, numbers), worked(bottom, numbers)
            if None in parts or _is_matrix(parts[1]):  # no division by a matrix
                return None
            return WorkedFraction(*parts)
        factors = [worked(factor, numbers) for factor in textbook_factors(expr.args)]
        if None in factors:
            return None
        return WorkedProduct(factors, elementwise=sum(map(_is_matrix, factors)) > 1)
    if isinstance(expr, sp.Pow) and expr.exp.is_Rational:
        base = worked(expr.base, numbers)
        if base is None or _is_matrix(base):
            return None
        if expr.exp.is_negative:
            return WorkedFraction(sp.Integer(1), WorkedPower(base, -expr.exp)
                                  if expr.exp != -1 else base)
        return WorkedPower(base, expr.exp)
    return None
