"""The package's LaTeX printer (documents, Jupyter, Markdown), writing the notation of
:mod:`symprop.derive.notation`; its linear Unicode twin for terminals is
:mod:`symprop.derive.unicode_printer`.

Both print sums and products in textbook order rather than SymPy's: positive terms first
(``\\hat{y} - y``, ``1 - a``), a sum with a negative summand as ``-\\sum``, and in a product
the number, then the hyperparameters, then the variables, then parenthesised sums
(``-\\eta\\, g``, ``a (1 - a)``, ``2 (\\hat{y} - y)``).
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter, accepted_latex_functions
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.simplify import fraction

from symprop.derive.notation import (
    HYPERPARAMETERS,
    is_negative,
    latex_name,
    negated,
    operator_latex,
    textbook_order,
)


def _factor_rank(factor) -> int:
    """Where a factor goes in a product: numbers, hyperparameters (and sums of them, such as
    1 - beta1), variables, polynomial sums (in parentheses), then functions and last sums of
    functions, as textbooks write them: ``(1 - y) \\log(1 - \\hat{y})``, but
    ``\\sigma(z) (1 - \\sigma(z))``."""
    if factor.is_Number:
        return 0
    names = {s.name for s in factor.free_symbols if isinstance(s, sp.Symbol)}
    if names and names <= HYPERPARAMETERS:
        return 1
    applies = bool(factor.atoms(sp.Function))
    if isinstance(factor, sp.Add):
        return 5 if applies else 3
    return 4 if applies else 2


def _as_written(expr: sp.Mul) -> bool:
    """An unevaluated product, to print factor by factor as given: SymPy flattens products of
    products and folds the numbers into the first factor of the evaluated ones."""
    return (any(isinstance(a, sp.Mul | sp.UnevaluatedExpr) for a in expr.args)
            or expr.args[0] is sp.S.One or any(isinstance(a, sp.Number) for a in expr.args[1:]))


def bound_last(relation):
    """A relation with its bound on the right, as textbooks write a condition: SymPy stores
    |y - yhat| <= kappa as kappa >= |y - yhat|. A lone symbol or number on the left that the
    right side does not contain is such a bound; x >= x**(1/3) stays as written."""
    lhs, rhs = relation.lhs, relation.rhs
    if (isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan, sp.GreaterThan,
                              sp.LessThan)) and isinstance(lhs, sp.Symbol | sp.Number)
            and not isinstance(rhs, sp.Symbol | sp.Number) and not rhs.has(lhs)):
        return relation.reversed
    return relation


def _operator_form(factor, printed: str) -> bool:
    """A derivative printed as an operator, \\frac{\\partial}{\\partial z} (-z): followed by
    another factor it needs brackets, else the factor reads as inside the derivative."""
    return isinstance(factor, sp.Derivative) and printed.startswith(r"\frac{\partial}")


def _compound(arg, *also) -> bool:
    """Whether a factor of a matrix or elementwise product needs parentheses."""
    return isinstance(arg, sp.MatAdd | sp.HadamardProduct | sp.Add | sp.MatMul) and not (
        also and isinstance(arg, also))


def textbook_factors(factors) -> list:
    return sorted(factors, key=_factor_rank)  # stable: SymPy's order within a rank


def _product_parts(expr: sp.Mul):
    """(sign, numerator factors, denominator factors) of a product, each in textbook order."""
    sign = ""
    if expr.could_extract_minus_sign():
        sign, expr = "-", -expr
    numerator, denominator = fraction(expr, exact=True)
    return (sign, textbook_factors(sp.Mul.make_args(numerator)),
            textbook_factors(sp.Mul.make_args(denominator)))


class NotationLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the package's notation and textbook order."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})
        # One convention (CONVENTIONS): \partial for every derivative, also of a function of
        # one variable, where SymPy writes d (\frac{d}{dz} z next to \frac{\partial}{\partial z}).
        self._settings["diff_operator_latex"] = r"\partial"

    def _print_Symbol(self, expr, style="plain"):
        name = latex_name(expr.name)
        return name if name is not None else super()._print_Symbol(expr, style)

    def _print_MatrixSymbol(self, expr):
        name = latex_name(expr.name)
        return name if name is not None else super()._print_MatrixSymbol(expr)

    def _print_Indexed(self, expr):
        base = self._print(expr.base.label)
        indices = [self._print(i) for i in expr.indices]
        joined = ("" if all(len(i) == 1 for i in indices) else ",").join(indices)
        # A base with a subscript of its own (\beta_{1}) needs braces, or TeX sees a double
        # subscript; a superscript alone stacks with the index (a^{(l-1)}_{q}).
        if "_" in base:
            base = "{" + base + "}"
        return f"{base}_{{{joined}}}"

    def _print_Add(self, expr, order=None):
        terms = textbook_order(expr.as_ordered_terms())
        text = self._print(terms[0])
        for term in terms[1:]:
            sign, term = (" - ", negated(term)) if is_negative(term) else (" + ", term)
            printed = self._print(term)
            if precedence(term) <= PRECEDENCE["Add"] and not isinstance(term, sp.Sum):
                printed = rf"\left({printed}\right)"
            text += sign + printed
        return text

    def _print_Mul(self, expr):
        if not isinstance(expr, sp.Mul):  # SymPy's _print_Pow passes x**-1 here
            return super()._print_Mul(expr)
        if _as_written(expr):  # dL/dyhat times dyhat/dz, 1 times (2 yhat - 2 y): as given
            text = ""
            for before, factor in zip((None, *expr.args), expr.args, strict=False):
                printed = self._print(factor)
                if isinstance(factor, sp.Add) or before is not None and printed.startswith("-"):
                    printed = self._add_parens(printed)  # a \cdot (-e^{-z}), not a \cdot -e^{-z}
                elif factor is not expr.args[-1] and _operator_form(factor, printed):
                    printed = self._add_parens(printed)
                if before is not None:  # a dot between numbers or big factors, else a space
                    big = (sp.Number, sp.Mul, sp.Add)
                    text += r" \cdot " if isinstance(before, big) or isinstance(
                        factor, big) else r" \, "
                text += printed
            return text
        sign, top, bottom = _product_parts(expr)
        text = "- " if sign else ""
        if bottom == [sp.S.One]:
            return text + self._factors(top)
        return text + rf"\frac{{{self._factors(top)}}}{{{self._factors(bottom)}}}"

    def _factors(self, factors) -> str:
        printed = []
        for number, factor in enumerate(factors):
            tex = self._print(factor)
            last = number == len(factors) - 1
            if len(factors) > 1 and (self._needs_mul_brackets(factor, first=number == 0,
                                                              last=last)
                                     or not last and _operator_form(factor, tex)):
                tex = rf"\left({tex}\right)"
            elif printed and printed[-1][-1:].isdigit() and tex[:1].isdigit():
                printed.append(r"\cdot")  # 2 \cdot 3, not 23
            printed.append(tex)
        return " ".join(printed)

    def _print_Relational(self, expr):
        relation = bound_last(expr)
        return super()._print_Relational(relation)

    def _print_Derivative(self, expr):
        (variable, count), = expr.variable_count[:1]
        if isinstance(expr.expr, sp.Symbol | sp.Indexed) and len(expr.variable_count) == 1 and (
                count == 1):  # \frac{\partial a}{\partial z}, as textbooks write it
            top, bottom = self._print(expr.expr), self._print(variable)
            return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
        text = super()._print_Derivative(expr)
        body = self._print(expr.expr)  # -y g: \frac{\partial}{\partial x} (-y g), not - y g
        if body.startswith("-") and text.endswith(" " + body):
            text = text[: -len(body)] + rf"\left({body}\right)"
        return text

    def _print_Sum(self, expr):
        if is_negative(expr):
            return "- " + self._print(negated(expr))
        if len(expr.limits) > 1:  # \sum_{i=1}^{m} \sum_{k=1}^{n} as textbooks nest them,
            # not SymPy's stacked subarray of ranges
            signs = "".join(rf"\sum_{{{self._print(index)}={self._print(low)}}}^"
                            rf"{{{self._print(high)}}} " for index, low, high in expr.limits)
            body = self._print(expr.function)
            return signs + (parenthesized(body) if isinstance(expr.function, sp.Add) else body)
        return super()._print_Sum(expr)

    def _print_KroneckerDelta(self, expr, exp=None):
        i, k = sorted(self._print(arg) for arg in expr.args)
        return rf"[{i} = {k}]"

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(rf"\left({self._print(arg)}\right)" if _compound(arg)
                               else self._print(arg) for arg in expr.args)

    def _print_MatMul(self, expr):
        factors = [rf"\left({self._print(arg)}\right)" if _compound(arg, sp.MatMul)
                   else self._print(arg) for arg in expr.args]
        if factors[0] == "-1":
            factors[0] = "-"
        return " ".join(factors)

    def _print_Transpose(self, expr):
        inner = self._print(expr.arg)
        if isinstance(expr.arg, sp.MatrixSymbol):  # W^{T}; a name with a script: (W^{(l)})^{T}
            return f"{inner}^{{T}}" if "^" not in inner else f"({inner})^{{T}}"
        return rf"\left({inner}\right)^{{T}}"

    def _print_log(self, expr, exp=None):
        # \log \hat{y}_{k} as textbooks write it; parentheses only around a compound argument.
        arg = expr.args[0]
        if isinstance(arg, sp.Symbol | sp.Indexed | sp.MatrixSymbol) and exp is None:
            return rf"\log {self._print(arg)}"
        text = rf"\log\left({self._print(arg)}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"

    def _print_OneMatrix(self, expr):
        return r"\mathbf{1}"

    def _print_Tuple(self, expr):
        return r"\left(" + ", ".join(self._print(arg) for arg in expr.args) + r"\right)"

    def _print_Piecewise(self, expr):
        rows = []
        for value, condition in expr.args:
            where = r"\text{otherwise}" if condition == sp.true else (
                rf"\text{{if }} {self._print(condition)}")
            rows.append(f"{self._print(value)} & {where}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        operator = operator_latex(name)
        if operator is not None and not hasattr(sp, name):
            args = ", ".join(self._print(arg) for arg in expr.args)
            text = rf"{operator}\left({args}\right)"
            return f"{text}^{{{exp}}}" if exp else text
        if name in accepted_latex_functions and len(expr.args) == 1:
            # \tanh(z) and \tanh^{2}(z), not SymPy's \tanh{\left(z \right)}
            head = rf"\{name}" + (f"^{{{exp}}}" if exp else "")
            return rf"{head}\left({self._print(expr.args[0])}\right)"
        return super()._print_Function(expr, exp)


_TALL = re.compile(r"\\(frac|dfrac|sum|prod|int|begin|binom|sqrt\{[^}]*\\frac)")
_DELIMITER = re.compile(r"\\(left|right)(\\[A-Za-z]+|\\.|.)")


def plain_parentheses(tex: str) -> str:
    """``\\left( \\right)`` as plain parentheses around what is not tall: SymPy writes
    ``\\left(`` everywhere, and sized parentheses around ``z^{(1)}`` read as nesting."""
    tokens = list(_DELIMITER.finditer(tex))
    pairs, stack = {}, []
    for token in tokens:
        if token.group(1) == "left":
            stack.append(token)
        elif stack:
            pairs[stack.pop().start()] = token
    out, at = [], 0
    replace = {}
    for start, closing in pairs.items():
        opening = next(t for t in tokens if t.start() == start)
        inside = tex[opening.end():closing.start()]
        if opening.group(2) == "(" and closing.group(2) == ")" and not _TALL.search(inside):
            replace[opening.start()] = (opening.end(), "(")
            replace[closing.start()] = (closing.end(), ")")
    for start in sorted(replace):
        end, text = replace[start]
        out += [tex[at:start], text]
        at = end
    return "".join(out) + tex[at:]


# Commands MathJax implements by pasting their definition in front of the rest of the string,
# which it refuses once that is longer than its buffer (5 KB): a long Jupyter display with one
# of them fails ("MathJax internal buffer size exceeded"). Their plain equivalents.
_MATHJAX_MACROS = {r"\ ": "~", r"\iff": r"\;\Longleftrightarrow\;",
                   r"\implies": r"\;\Longrightarrow\;", r"\impliedby": r"\;\Longleftarrow\;",
                   r"\mathstrut": r"\vphantom{(}"}
# (an even run of backslashes before one is a line break \\, not part of the command)
_MACRO = re.compile(r"(?<!\\)((?:\\\\)*)(\\ |\\(?:iff|implies|impliedby|mathstrut)(?![A-Za-z]))")


def mathjax_safe(tex: str) -> str:
    """``tex`` without the commands MathJax expands by substitution (see _MATHJAX_MACROS);
    ``\\substack{...}`` (SymPy's sums over several indices) as the subarray it stands for."""
    tex = _MACRO.sub(lambda m: m.group(1) + _MATHJAX_MACROS[m.group(2)], tex)
    while (start := tex.find("\\substack{")) >= 0:
        depth, end = 0, start + len("\\substack")
        for end in range(start + len("\\substack"), len(tex)):  # noqa: B007 - used after
            depth += {"{": 1, "}": -1}.get(tex[end], 0) if tex[end - 1] != "\\" else 0
            if depth == 0:
                break
        inner = tex[start + len("\\substack{"):end]
        tex = (tex[:start] + r"\begin{subarray}{c}" + inner + r"\end{subarray}"
               + tex[end + 1:])
    return tex


def parenthesized(tex: str) -> str:
    """``tex`` in parentheses, sized to it where it is tall (a fraction, a sum)."""
    return rf"\left({tex}\right)" if _TALL.search(tex) else f"({tex})"


def latex(expr) -> str:
    """``expr`` (a SymPy object, or a tuple meaning a chain of equalities) in LaTeX; a string
    is LaTeX already."""
    if isinstance(expr, str):
        return mathjax_safe(expr)
    if isinstance(expr, tuple):
        return " = ".join(latex(e) for e in expr)
    tex = re.sub(r"\s+(?=\\right)", "", NotationLatexPrinter().doprint(expr))
    return mathjax_safe(plain_parentheses(tex))


def unicode(expr) -> str:
    """``expr`` in linear Unicode maths (see :mod:`symprop.derive.unicode_printer`)."""
    from symprop.derive.unicode_printer import unicode as to_unicode  # it imports this module

    return to_unicode(expr)
