"""One notation for every derivation, and the printers that write it as LaTeX and Unicode.

Notation symbols are real SymPy symbols (tests compare expressions structurally); each also
knows how it prints in LaTeX and in Unicode text. The conventions, stated at the start of
every standalone document (:data:`CONVENTIONS`):

- hats for predictions (``\\hat{y}``), superscripts in parentheses for layers
  (``W^{(l)}``, ``n_{l-1}``), subscripts for units and classes (``\\hat{y}_k``);
- ``\\delta^{(l)}`` is only ever the error signal ``dL/dz^{(l)}``; the Kronecker delta is
  written as an Iverson bracket ``[i = k]`` (1 where i = k, else 0);
- updates are assignments with the learning rate first: ``W \\leftarrow W - \\eta\\, g``;
- function names are upright everywhere (``\\operatorname{relu}``, ``\\sigma``, ``\\tanh``);
- differences are written target-last, as textbooks do: ``\\hat{y} - y``, ``1 - a``.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

# text name -> (LaTeX, Unicode) of every notation symbol made so far
_NAMES: dict[str, tuple[str, str]] = {}

GREEK = {
    "alpha": ("\\alpha", "α"), "beta": ("\\beta", "β"), "gamma": ("\\gamma", "γ"),
    "delta": ("\\delta", "δ"), "epsilon": ("\\epsilon", "ε"), "eps": ("\\epsilon", "ε"),
    "eta": ("\\eta", "η"), "theta": ("\\theta", "θ"), "lambda": ("\\lambda", "λ"),
    "mu": ("\\mu", "μ"), "rho": ("\\rho", "ρ"), "sigma": ("\\sigma", "σ"),
    "tau": ("\\tau", "τ"), "phi": ("\\phi", "φ"), "omega": ("\\omega", "ω"),
    "beta1": ("\\beta_{1}", "β₁"), "beta2": ("\\beta_{2}", "β₂"),
}
BASE = {"yhat": ("\\hat{y}", "ŷ"), "lr": ("\\eta", "η"), "weight_decay": ("\\lambda", "λ"),
        "momentum": ("\\mu", "μ")}
SUBSCRIPTS = str.maketrans("0123456789+-=()aeijklmnoprstuvx",
                           "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
SUPERSCRIPTS = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
# Upright operator names in LaTeX for functions SymPy prints italic or not at all.
OPERATORS = ("relu", "softplus", "softmax", "sigmoid", "erf", "erfc", "sign", "elu", "selu",
             "gelu", "silu", "mish", "softsign")

CONVENTIONS = [
    ("Layers", r"a layer $l$ computes $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and "
               r"$a^{(l)} = f^{(l)}(z^{(l)})$ with $W^{(l)}$ of shape $n_{l} \times n_{l-1}$ "
               r"and $a^{(0)} = x$ (column vectors, as in the notes)"),
    ("Predictions", r"$\hat{y}$ is the output layer's activation, $y$ the target"),
    ("Error signal", r"$\delta^{(l)} = \partial L / \partial z^{(l)}$; the Kronecker delta is "
                     r"written $[i = k]$, which is 1 where $i = k$ and 0 otherwise"),
    ("Batch mean", r"the training loss $J$ averages the per-sample loss $L$ over the $m$ "
                   r"samples of a batch (and over the output units for elementwise losses)"),
    ("Updates", r"an update is an assignment, $w \leftarrow w - \eta\, g$, with the learning "
                r"rate $\eta$ first and $g = \partial J / \partial w$"),
    ("Products", r"$\odot$ multiplies elementwise; $W^{T}$ is the transpose"),
]


def notation(text: str, latex: str, unicode: str | None = None, **assumptions) -> sp.Symbol:
    """A SymPy symbol printed as ``latex`` in LaTeX and ``unicode`` (default: ``text``) in
    text."""
    _NAMES[text] = (latex, unicode or text)
    return sp.Symbol(text, **assumptions)


def matrix_notation(text: str, latex: str, rows, cols, unicode: str | None = None):
    """A matrix symbol printed as ``latex`` in LaTeX and ``unicode`` in text."""
    _NAMES[text] = (latex, unicode or text)
    return sp.MatrixSymbol(text, rows, cols)


def partial(numerator: str, denominator: str, num_latex: str, den_latex: str,
            num_unicode: str | None = None, den_unicode: str | None = None) -> sp.Symbol:
    """The symbol of a partial derivative, ``dL/dz`` printed as a fraction of partials."""
    top = num_unicode or unicode_name(numerator)
    bottom = den_unicode or unicode_name(denominator)
    return notation(f"d{numerator}/d{denominator}",
                    rf"\frac{{\partial {num_latex}}}{{\partial {den_latex}}}", f"∂{top}/∂{bottom}",
                    real=True)


def latex_name(name: str) -> str | None:
    """The LaTeX of a symbol name: a notation's, a Greek letter's, ``yhat`` as a hat, an
    indexed name ``x_k`` with its subscript; None for SymPy's default."""
    if name in _NAMES:
        return _NAMES[name][0]
    if name in BASE:
        return BASE[name][0]
    if name in GREEK:
        return GREEK[name][0]
    head, _, index = name.partition("_")
    if index and (head in GREEK or head in BASE):
        return f"{latex_name(head)}_{{{index}}}"
    return None


def unicode_name(name: str) -> str:
    """The Unicode of a symbol name (``yhat`` -> ``ŷ``, ``alpha`` -> ``α``, ``z_k`` -> ``zₖ``)."""
    if name in _NAMES:
        return _NAMES[name][1]
    if name in BASE:
        return BASE[name][1]
    if name in GREEK:
        return GREEK[name][1]
    head, _, index = name.partition("_")
    if index and re.fullmatch(r"[0-9aeijklmnoprstuvx]+", index):
        return unicode_name(head) + index.translate(SUBSCRIPTS)
    return name


def _negative(term: sp.Expr) -> bool:
    return term.could_extract_minus_sign()


def textbook_order(terms) -> list:
    """A sum's terms as a textbook writes them: the positive ones first (``yhat - y``,
    ``1 - a``), each group in SymPy's order otherwise."""
    terms = list(terms)
    return [t for t in terms if not _negative(t)] + [t for t in terms if _negative(t)]


class NotationLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the package's notation."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})

    def _print_Symbol(self, expr, style="plain"):
        name = latex_name(expr.name)
        return name if name is not None else super()._print_Symbol(expr, style)

    def _print_MatrixSymbol(self, expr):
        name = latex_name(expr.name)
        return name if name is not None else super()._print_MatrixSymbol(expr)

    def _print_Add(self, expr, order=None):
        terms = textbook_order(expr.as_ordered_terms())
        text = self._print(terms[0])
        for term in terms[1:]:
            if _negative(term):
                text += " - " + self._print_signed(-term)
            else:
                text += " + " + self._print_signed(term)
        return text

    def _print_signed(self, term):
        printed = self._print(term)
        return rf"\left({printed}\right)" if precedence(term) <= precedence(
            sp.Add(sp.Symbol("x"), 1)) else printed

    def _print_KroneckerDelta(self, expr, exp=None):
        i, k = (self._print(arg) for arg in expr.args)
        return rf"[{i} = {k}]"

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        if name in OPERATORS:
            args = ", ".join(self._print(arg) for arg in expr.args)
            text = rf"\operatorname{{{name}}}\left({args}\right)"
            return f"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)


class NotationUnicodePrinter(StrPrinter):
    """Linear Unicode maths for terminals: ŷ, α, ∂, ·, −, √, ², ∑, [i = k]."""

    printmethod = "_notation_unicode"  # not the objects' own _sympystr (Indexed has one)

    def _print_Symbol(self, expr):
        return unicode_name(expr.name)

    _print_MatrixSymbol = _print_Symbol

    def _print_Indexed(self, expr):
        base = unicode_name(str(expr.base))
        index = ",".join(self._print(i) for i in expr.indices)
        small = index.translate(SUBSCRIPTS)
        return base + small if small != index or index.isdigit() else f"{base}[{index}]"

    def _print_Add(self, expr, order=None):
        terms = textbook_order(expr.as_ordered_terms())
        text = self._print(terms[0])
        for term in terms[1:]:
            if _negative(term):
                text += " − " + self.parenthesize(-term, precedence(expr))
            else:
                text += " + " + self.parenthesize(term, precedence(expr))
        return text

    def _print_Mul(self, expr):
        # Juxtaposed as textbooks write products (2ŷ, a(1 − a)); a dot between two names.
        text = super()._print_Mul(expr).replace("-", "−")
        parts = text.split("*")
        joined = parts[0]
        for part in parts[1:]:
            joined += "" if joined[-1].isdigit() or part.startswith("(") else "·"
            joined += part
        return joined

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return f"√({self._print(base)})"
        if exponent.is_Integer and 2 <= exponent <= 9:
            return self.parenthesize(base, precedence(expr), strict=False) + str(
                exponent).translate(SUPERSCRIPTS)
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Derivative(self, expr):
        variables = "".join(f"∂{self._print(v)}" for v, _ in expr.variable_count)
        return f"∂({self._print(expr.expr)})/{variables}"

    def _print_Sum(self, expr):
        (index, low, high), = expr.limits[:1]
        return (f"∑_{{{self._print(index)}={self._print(low)}}}^{{{self._print(high)}}} "
                f"{self.parenthesize(expr.function, precedence(sp.Mul(2, 3)))}")

    def _print_KroneckerDelta(self, expr):
        i, k = (self._print(arg) for arg in expr.args)
        return f"[{i} = {k}]"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(self.parenthesize(arg, 50) for arg in expr.args)

    def _print_Transpose(self, expr):
        return f"{self.parenthesize(expr.arg, 60)}ᵀ"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_Relational(self, expr):
        symbol = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {symbol} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        pieces = []
        for value, cond in expr.args:
            where = "otherwise" if cond == sp.true else f"if {self._print(cond)}"
            pieces.append(f"{self._print(value)} {where}")
        return "{" + "; ".join(pieces) + "}"

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}".replace("-", "−")

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "−")


def latex(expr) -> str:
    """``expr`` (a SymPy object, or a tuple meaning a chain of equalities) in LaTeX."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, tuple):
        return " = ".join(latex(e) for e in expr)
    return NotationLatexPrinter().doprint(expr)


def unicode(expr) -> str:
    """``expr`` in linear Unicode maths."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, tuple):
        return " = ".join(unicode(e) for e in expr)
    if isinstance(expr, sp.Equality):
        return f"{unicode(expr.lhs)} = {unicode(expr.rhs)}"
    return NotationUnicodePrinter().doprint(expr)
