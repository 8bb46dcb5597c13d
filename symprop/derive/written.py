"""Expressions printed as a textbook writes them, with their mathematics kept.

SymPy orders the terms of a sum and the factors of a product its own way (``beta + gamma
xhat``, ``sigma m``); a derivation shows ``gamma xhat + beta`` and ``m sigma``.
:class:`InOrder` is a sum printed in the order given, :class:`Times` a factor ahead of the
(parenthesized) sum it scales, :func:`shown` a symbol printed as a written form of an
expression; :func:`value` turns all of them back into plain SymPy, which is what the checks
compare.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from symprop.derive.notation import is_negative, negated, notation

__all__ = ["InOrder", "Times", "shown", "value"]


class InOrder(sp.Expr):
    """A sum printed with its terms in the order given, as a textbook writes it
    (``gamma xhat + beta``, ``m g_i - sum_j g_j - ...``); :func:`value` turns it into the
    SymPy sum (whose own order is SymPy's)."""

    is_commutative = True
    precedence = PRECEDENCE["Add"]

    def __new__(cls, *terms):
        return sp.Expr.__new__(cls, *map(sp.sympify, terms))

    def _joined(self, show, minus: str) -> str:
        text = show(self.args[0])
        for term in self.args[1:]:
            sign, term = (f" {minus} ", negated(term)) if is_negative(term) else (" + ", term)
            text += sign + show(term)
        return text

    def _latex(self, printer) -> str:
        return self._joined(lambda t: printer._print(t) if not isinstance(t, sp.Add | InOrder)
                            else rf"\left({printer._print(t)}\right)", "-")

    def _notation_unicode(self, printer) -> str:
        return self._joined(lambda t: printer.parenthesize(t, PRECEDENCE["Add"], strict=True),
                            "−")

    def _sympystr(self, printer) -> str:
        return self._joined(printer._print, "-")


class Times(sp.Expr):
    """``factor (body)``: a factor ahead of what it scales, the body in parentheses where it
    is a sum (``\\frac{\\gamma}{m \\sigma_{\\epsilon}} (m g_{i} - ...)``)."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"]

    def _show(self, printer, left: str, right: str, between: str) -> str:
        factor, body = (printer._print(arg) for arg in self.args)
        if isinstance(self.args[1], sp.Add | InOrder):
            body = left + body + right
        return factor + between + body

    def _latex(self, printer) -> str:
        return self._show(printer, r"\left(", r"\right)", r" \, ")

    def _notation_unicode(self, printer) -> str:
        if isinstance(self.args[0], sp.Mul | sp.Pow):
            return "(" + self._show(printer, "(", ")", ")·")
        return self._show(printer, "(", ")", "·")

    def _sympystr(self, printer) -> str:
        return self._show(printer, "(", ")", "*")


_SHOWN: dict[sp.Symbol, sp.Expr] = {}


def shown(text: str, latex: str, expr, text_form: str | None = None) -> sp.Symbol:
    """A symbol printing ``latex`` that stands for ``expr`` (``(x_j - mu)`` in a sum, which
    SymPy would print as ``-(mu - x_j)``); :func:`value` puts ``expr`` back."""
    symbol = notation(text, latex, text_form, real=True)
    _SHOWN[symbol] = expr
    return symbol


def value(expr):
    """The mathematics of what prints: every :class:`InOrder` an ordinary sum, every
    :class:`Times` a product, every :func:`shown` symbol what it stands for."""
    expr = sp.sympify(expr).xreplace(_SHOWN)
    expr = expr.replace(lambda e: isinstance(e, InOrder), lambda e: sp.Add(*e.args))
    expr = expr.replace(lambda e: isinstance(e, Times), lambda e: e.args[0] * e.args[1])
    return expr.replace(lambda e: isinstance(e, sp.UnevaluatedExpr), lambda e: e.args[0])
