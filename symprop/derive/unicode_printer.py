"""Linear Unicode maths for terminals, in the notation and textbook order of the LaTeX
printer (:mod:`symprop.derive.printers`): ``∂L/∂z = ŷ − y``, ``a(1 − a)``, ``W⁽²⁾ᵀδ⁽²⁾``."""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symprop.derive.notation import is_negative, negated, textbook_order, unicode_name
from symprop.derive.printers import _as_written, _compound, _product_parts, bound_last
from symprop.derive.texunicode import SUBSCRIPT, SUPERSCRIPT, latex_to_unicode, script


class NotationUnicodePrinter(StrPrinter):
    """Linear Unicode maths for terminals: ŷ, α, ∂, ·, −, √, ², ∑, ⊙, ᵀ, [i = k]."""

    printmethod = "_notation_unicode"  # not the objects' own _sympystr (Indexed has one)

    def _print_Basic(self, expr):
        # An object with a text form of its own but no _notation_unicode: its text form, with
        # its arguments printed here (so they still come out as Unicode maths).
        if hasattr(type(expr), "_sympystr"):
            return expr._sympystr(self)
        return super()._print_Basic(expr)

    def _print_Symbol(self, expr):
        return unicode_name(expr.name)

    _print_MatrixSymbol = _print_Symbol
    _print_Dummy = _print_Symbol

    def _print_Indexed(self, expr):
        base = self._print(expr.base.label)
        index = "".join(self._print(i) for i in expr.indices)
        return base + script(index, SUBSCRIPT, "_")

    def _print_Add(self, expr, order=None):
        terms = textbook_order(expr.as_ordered_terms())
        text = self._print(terms[0])
        for term in terms[1:]:
            sign, term = (" − ", negated(term)) if is_negative(term) else (" + ", term)
            text += sign + self.parenthesize(term, PRECEDENCE["Add"], strict=True)
        return text

    def _print_Mul(self, expr):
        if _as_written(expr):
            printed = [self._print(a) for a in expr.args]
            # a sum, a fraction or a negative factor after the dot in parentheses: a · (−e⁻ᶻ)
            last = len(printed) - 1
            # ...) · (∂(1 − ŷ)/∂ŷ)/(1 − ŷ) last: a fraction over a derivative reads as one
            return " · ".join(f"({p})" if isinstance(a, sp.Add) or "/" in p and not (
                number == last and number and _over_derivative(a)) or number and p.startswith(
                "−") else p for number, (a, p) in enumerate(zip(expr.args, printed,
                                                                  strict=True)))
        sign, top, bottom = _product_parts(expr)
        text = self._factors(top) if len(top) > 1 else self._print(top[0])
        if bottom != [sp.S.One]:
            under = self._factors(bottom) if len(bottom) > 1 else self._print(bottom[0])
            if len(bottom) > 1 or isinstance(bottom[0], sp.Add | sp.Mul | sp.Sum):
                under = f"({under})"
            if len(top) > 1 or top[0].is_Add or isinstance(top[0], sp.Derivative):
                text = f"({text})"
            text = f"{text}/{under}"
        return ("−" if sign else "") + text

    def _factors(self, factors) -> str:
        text = ""
        for factor in factors:
            printed = self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)
            if isinstance(factor, sp.Piecewise | sp.Sum | sp.Derivative) and len(factors) > 1:
                printed = f"({printed})"
            # Juxtaposed (2ŷ, a(1 − a)) unless that would misread: after a linear exponent
            # (x^63·(1 − x)), between two digits, between two names.
            after_power = re.search(r"\^[^)]*$", text) is not None
            if text and (after_power or not (printed.startswith("(") or text[-1].isdigit()
                                             and not printed[:1].isdigit())):
                text += "·"
            text += printed
        return text

    def _print_MatMul(self, expr):
        factors = [f"({self._print(arg)})" if _compound(arg, sp.MatMul) else self._print(arg)
                   for arg in expr.args]
        if factors[0] == "−1":
            factors[0] = "−"
        return "".join(factors)

    def _print_MatAdd(self, expr):
        return self._print_Add(expr)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return f"√({self._print(base)})"
        if exponent.is_Integer and exponent < 0:  # 1/m, 1/(1 + eᶻ)²
            under = self._print(base if exponent == -1 else sp.Pow(base, -exponent,
                                                                   evaluate=False))
            return "1/" + (f"({under})" if isinstance(base, sp.Add | sp.Mul) and exponent == -1
                           else under)
        printed = self.parenthesize(base, PRECEDENCE["Pow"], strict=False)
        if isinstance(base, sp.Sum | sp.Piecewise | sp.Derivative):
            printed = f"({printed})"
        if exponent.is_Integer and 2 <= exponent <= 9 or exponent.is_Symbol and str(
                exponent) in SUPERSCRIPT:
            return printed + script(self._print(exponent), SUPERSCRIPT, "^")
        return printed + "^" + self.parenthesize(exponent, PRECEDENCE["Pow"], strict=False)

    def _print_Derivative(self, expr):
        variables = "".join(f"∂{self._print(v)}" for v, _ in expr.variable_count)
        body = self._print(expr.expr)
        # ∂a/∂z and ∂log(ŷ)/∂ŷ: brackets only around a compound expression, ∂(1 − ŷ)/∂ŷ.
        simple = isinstance(expr.expr, sp.Symbol | sp.Indexed | sp.MatrixSymbol) or (
            isinstance(expr.expr, sp.Function) and not isinstance(expr.expr, sp.Piecewise))
        return f"∂{body}/{variables}" if simple and not body.startswith("−") else (
            f"∂({body})/{variables}")

    def _print_Sum(self, expr):
        if is_negative(expr):
            return "−" + self._print(negated(expr))
        # one sign per index, the first limit (SymPy's innermost) first: ∑ᵢ₌₁ᵐ ∑ₖ₌₁ⁿ Lᵢₖ
        signs = []
        for index, low, high in expr.limits:
            lower = script(f"{self._print(index)}={self._print(low)}", SUBSCRIPT, "_")
            signs.append(f"∑{lower}{script(self._print(high), SUPERSCRIPT, '^')}")
        body = self._print(expr.function)
        if isinstance(expr.function, sp.Add):
            body = f"({body})"
        return f"{' '.join(signs)} {body}"

    def _print_KroneckerDelta(self, expr):
        i, k = sorted(self._print(arg) for arg in expr.args)
        return f"[{i} = {k}]"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(f"({self._print(arg)})" if _compound(arg) else self._print(arg)
                          for arg in expr.args)

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.arg, PRECEDENCE['Pow'], strict=True)}ᵀ"

    def _print_OneMatrix(self, expr):
        return "𝟏"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "−∞"

    def _print_Max(self, expr):  # max(0, z), as the LaTeX printer writes it
        return "max(" + ", ".join(self._print(arg) for arg in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(arg) for arg in expr.args) + ")"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Relational(self, expr):
        expr = bound_last(expr)
        symbol = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {symbol} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        pieces = []
        for value, cond in expr.args:
            where = "otherwise" if cond == sp.true else f"if {self._print(cond)}"
            pieces.append(f"{self._print(value)} {where}")
        return "{" + "; ".join(pieces) + "}"

    def _print_And(self, expr):
        return " and ".join(self._print(arg) for arg in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._print(arg) for arg in expr.args)

    def _print_Tuple(self, expr):
        return "(" + ", ".join(self._print(arg) for arg in expr.args) + ")"

    def _print_MatrixBase(self, expr):
        return "[" + "; ".join(", ".join(self._print(e) for e in expr.row(r))
                               for r in range(expr.rows)) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}".replace("-", "−")

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "−")

    def _print_Float(self, expr):
        return super()._print_Float(expr).replace("-", "−")

    def _print_Function(self, expr):
        return super()._print_Function(expr).replace("**", "^")

    def _print_exp(self, expr):
        # e^z as a superscript where every character of the exponent has one (e⁻ᶻ).
        power = script(self._print(expr.args[0]), SUPERSCRIPT, "")
        return "e" + power if power and power[0] in SUPERSCRIPT.values() else (
            f"exp({self._print(expr.args[0])})")


def _over_derivative(factor) -> bool:
    """Whether a factor is a fraction with a derivative over something: (∂u/∂x)/u."""
    return isinstance(factor, sp.Mul) and any(isinstance(f, sp.Derivative) for f in factor.args)


def unicode(expr) -> str:
    """``expr`` in linear Unicode maths; a string is taken to be LaTeX and converted."""
    if isinstance(expr, str):
        return latex_to_unicode(expr)
    if isinstance(expr, tuple):
        return " = ".join(unicode(e) for e in expr)
    return NotationUnicodePrinter().doprint(expr)
