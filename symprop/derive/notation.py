"""One notation for every derivation: the symbols, how each prints, and the conventions.

Notation symbols are real SymPy symbols (tests compare expressions structurally); each also
knows how it prints in LaTeX and, derived from that LaTeX, in Unicode text. The printers are
in :mod:`symprop.derive.printers`. The conventions, stated at the start of every standalone
document (:data:`CONVENTIONS`):

- hats for predictions (``\\hat{y}``), superscripts in parentheses for layers
  (``W^{(l)}``, ``n_{l-1}``), subscripts for units and classes (``\\hat{y}_{k}``);
- ``\\delta^{(l)}`` is only ever the error signal ``dL/dz^{(l)}``; the Kronecker delta is
  written as an Iverson bracket ``[i = k]`` (1 where i = k, else 0);
- updates are assignments with the learning rate first: ``w \\leftarrow w - \\eta\\, g``
  (:class:`Update`);
- function names are upright everywhere (``\\operatorname{relu}``, ``\\sigma``, ``\\tanh``:
  :func:`operator_latex`);
- differences are written target-last, as textbooks do: ``\\hat{y} - y``, ``1 - a``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp

from symprop.derive.texunicode import latex_to_unicode

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
# Scalar hyperparameters: a product prints them first (-\eta g, \beta_{1} m, \alpha z).
HYPERPARAMETERS = frozenset({"alpha", "beta", "beta1", "beta2", "gamma", "eta", "lr", "lambda",
                             "weight_decay", "mu", "momentum", "rho", "tau", "theta"})
# How function names print in LaTeX; any other name is \operatorname{name}.
OPERATOR_LATEX = {"sigmoid": "\\sigma", "tanh": "\\tanh", "exp": "\\exp", "log": "\\log",
                  "sin": "\\sin", "cos": "\\cos", "max": "\\max", "min": "\\min"}

CONVENTIONS = [  # (name, prose with $...$ maths): see prose()
    ("Layers", ("a layer $l$ computes $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and "
                "$a^{(l)} = f^{(l)}(z^{(l)})$, with $W^{(l)}$ of shape $n_{l} \\times n_{l-1}$ "
                "and $a^{(0)} = x$ (column-vector notation, one sample at a time)")),
    ("Predictions", "$\\hat{y}$ is the output layer's activation, $y$ the target; subscripts "
                    "number units and classes ($\\hat{y}_{k}$)"),
    ("Derivatives", "every derivative is written with $\\partial$, also that of a function of "
                    "one variable ($f'(z) = \\partial f / \\partial z$), as the functions of a "
                    "network have many variables"),
    ("Error signal", "$\\delta^{(l)} = \\partial L / \\partial z^{(l)}$ always; the Kronecker "
                     "delta is written $[i = k]$, which is 1 where $i = k$ and 0 otherwise"),
    ("Batch mean", "the training loss $J$ averages the per-sample loss $L$ over the $m$ "
                   "samples of a batch (and over the output units for elementwise losses)"),
    ("Updates", "an update is an assignment, $w \\leftarrow w - \\eta\\, g$, with the learning "
                "rate $\\eta$ first and $g = \\partial J / \\partial w$"),
    ("Operators", "function names are upright ($\\operatorname{relu}$, $\\tanh$, $\\sigma$ the "
                  "sigmoid); $\\odot$ multiplies elementwise; $W^{T}$ is the transpose"),
]


class NotationSymbol(sp.Symbol):
    """A SymPy symbol that carries how it prints: ``latex`` in LaTeX and ``unicode`` in text.

    The printed forms are part of the symbol (its hashable content and pickled arguments),
    so two notation symbols of one name but different notation are different symbols, and
    no other symbol of that name (``Symbol("a1")``, a notation of another derivation)
    prints like this one."""

    __slots__ = ("notation_latex", "notation_unicode")

    def __new__(cls, name: str, latex: str, unicode: str | None = None, **assumptions):
        cls._sanitize(assumptions, cls)
        obj = sp.Symbol.__xnew__(cls, name, **assumptions)
        obj.notation_latex = latex
        obj.notation_unicode = unicode or latex_to_unicode(latex)
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self.notation_latex, self.notation_unicode),
                self._assumptions_orig)

    def _hashable_content(self):
        return (*super()._hashable_content(), self.notation_latex, self.notation_unicode)

    def _latex(self, printer) -> str:
        return self.notation_latex

    def _notation_unicode(self, printer) -> str:
        return self.notation_unicode


class NotationMatrixSymbol(sp.MatrixSymbol):
    """A matrix symbol that carries how it prints (see :class:`NotationSymbol`)."""

    def __new__(cls, name, rows, cols, latex, unicode=None):
        unicode = unicode or latex_to_unicode(str(latex))
        obj = super().__new__(cls, name, rows, cols)
        return sp.Basic.__new__(cls, *obj.args, sp.core.symbol.Str(str(latex)),
                                sp.core.symbol.Str(str(unicode)))

    @property
    def notation_latex(self) -> str:
        return self.args[3].name

    @property
    def notation_unicode(self) -> str:
        return self.args[4].name

    def _latex(self, printer) -> str:
        return self.notation_latex

    def _notation_unicode(self, printer) -> str:
        return self.notation_unicode


def notation(text: str, latex: str, unicode: str | None = None, **assumptions) -> sp.Symbol:
    """A SymPy symbol named ``text``, printed as ``latex`` in LaTeX and as ``unicode`` in text
    (by default the Unicode reading of ``latex``: ``W^{(1)}`` -> ``W⁽¹⁾``); the printing is
    the symbol's own (:class:`NotationSymbol`), never a property of the name."""
    return NotationSymbol(text, latex, unicode, **assumptions)


def matrix_notation(text: str, latex: str, rows, cols, unicode: str | None = None):
    """A matrix symbol printed as ``latex`` in LaTeX and ``unicode`` in text."""
    return NotationMatrixSymbol(text, rows, cols, latex, unicode)


def partial(numerator: str, denominator: str, num_latex: str, den_latex: str,
            num_unicode: str | None = None, den_unicode: str | None = None) -> sp.Symbol:
    """The symbol of a partial derivative, ``dL/dz`` printed as a fraction of partials."""
    top = num_unicode or latex_to_unicode(num_latex)
    bottom = den_unicode or latex_to_unicode(den_latex)
    return notation(f"d{numerator}/d{denominator}",
                    rf"\frac{{\partial {num_latex}}}{{\partial {den_latex}}}", f"∂{top}/∂{bottom}",
                    real=True)


def operator_latex(name: str) -> str | None:
    """The upright LaTeX of a function name (``\\operatorname{relu}``, ``\\tanh``,
    ``\\sigma``); None for a one-letter name, which stays italic (``f``)."""
    if name in OPERATOR_LATEX:
        return OPERATOR_LATEX[name]
    if len(name) < 2:
        return None
    # \_ in \operatorname: every engine reads it (MathJax, KaTeX, LaTeX).
    return rf"\operatorname{{{name.replace('_', chr(92) + '_')}}}"


def function_notation(name: str, argument_latex: str, prime: bool = False,
                      text: str | None = None) -> sp.Symbol:
    """A symbol for ``name(argument)`` or its derivative ``name'(argument)`` in the package's
    operator style, e.g. ``function_notation("relu", "z^{(1)}", prime=True)``."""
    head = operator_latex(name) or name
    tex = rf"{head}{chr(39) if prime else ''}\left({argument_latex}\right)"
    return notation(text or f"{name}{chr(39) if prime else ''}({argument_latex})", tex)


class TeX(str):
    """LaTeX maths inside prose: ``("where ", TeX(r"\\sum_{k} y_{k} = 1"), " for one-hot y")``
    prints as inline maths in every format (Unicode in text)."""


class Code(str):
    """A name from code inside prose (``torch.optim.SGD``): typewriter type in LaTeX
    (``\\texttt``), backticks in Markdown, as it is in text."""


def prose(text: str) -> tuple:
    """Prose with ``$...$`` inline LaTeX maths as a prose tuple of words and :class:`TeX`."""
    parts = re.split(r"\$([^$]*)\$", text)
    return tuple(TeX(part) if number % 2 else part
                 for number, part in enumerate(parts) if part)


class Update(sp.Basic):
    """An assignment ``target <- value`` of an update rule, printed with a left arrow
    (``w \\leftarrow w - \\eta\\, g``; ``w ← w − η·g`` in text)."""

    def __new__(cls, target, value):
        return sp.Basic.__new__(cls, sp.sympify(target), sp.sympify(value))

    @property
    def lhs(self):
        return self.args[0]

    @property
    def rhs(self):
        return self.args[1]

    def _latex(self, printer) -> str:
        return rf"{printer._print(self.lhs)} \leftarrow {printer._print(self.rhs)}"

    def _notation_unicode(self, printer) -> str:
        return f"{printer._print(self.lhs)} ← {printer._print(self.rhs)}"

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.lhs)} <- {printer._print(self.rhs)}"


def latex_name(name: str) -> str | None:
    """The LaTeX of a symbol name: a Greek letter's, ``yhat`` as a hat, an
    indexed name ``x_k`` with its subscript; None for SymPy's default."""
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
    if name in BASE:
        return BASE[name][1]
    if name in GREEK:
        return GREEK[name][1]
    return _default_unicode(name)


@lru_cache(maxsize=4096)
def _default_unicode(name: str) -> str:
    # SymPy's LaTeX of a plain name, read as Unicode: a1 -> a₁, delta2 -> δ₂, z_k -> zₖ.
    return latex_to_unicode(sp.latex(sp.Symbol(name)))


def is_negative(term) -> bool:
    """Whether a term prints with a leading minus (a sum of a negative summand too)."""
    if isinstance(term, sp.Sum):
        return term.function.could_extract_minus_sign()
    return term.could_extract_minus_sign()


def negated(term):
    """``-term``, keeping a sum a sum (``-\\sum f`` rather than ``\\sum -f``)."""
    if isinstance(term, sp.Sum):
        return sp.Sum(-term.function, *term.limits)
    return -term


def textbook_order(terms) -> list:
    """A sum's terms as a textbook writes them: the positive ones first (``yhat - y``,
    ``1 - a``), each group in SymPy's order otherwise."""
    terms = list(terms)
    positive = [t for t in terms if not is_negative(t)]
    if all(t.is_Number or _hyperparameters_only(t) for t in terms):  # 1 + mu, not mu + 1
        positive = [t for t in positive if t.is_Number] + [
            t for t in positive if not t.is_Number]
    return positive + [t for t in terms if is_negative(t)]


def _hyperparameters_only(term) -> bool:
    names = {s.name for s in term.free_symbols}
    return bool(names) and names <= HYPERPARAMETERS


def plain_symbols(expr):
    """``expr`` with every notation symbol replaced by a plain SymPy symbol of the same name
    and assumptions, for comparing with expressions written by hand
    (``Symbol("a1", real=True)``)."""
    expr = sp.sympify(expr)
    return expr.xreplace({s: sp.Symbol(s.name, **s._assumptions_orig)
                          for s in expr.atoms(NotationSymbol)})
