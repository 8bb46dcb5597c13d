"""Values next to symbols: hyperparameters that substitute, NumPy functions with them bound,
and numbers as a worked example prints them.

An activation's (or a loss's) hyperparameters stay symbols in its expressions, so that
generated kernels take them as arguments. :class:`Hyperparameters` carries their values keyed
by those very symbols, so ``expr.subs(act.hyperparameters)`` substitutes them; it still
answers to names (``act.hyperparameters["alpha"]``, ``== {"alpha": 0.1}``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import sympy as sp

SIGNIFICANT_DIGITS = 4  # of the numbers a worked example prints (they are computed in float64)


class Hyperparameters(Mapping):
    """Hyperparameter values keyed by the expressions' own SymPy symbols.

    Keys are the real ``Symbol`` objects of the expressions (so ``expr.subs(mapping)`` and
    ``expr.xreplace(dict(mapping))`` work); lookups also take a name
    (``mapping["alpha"]``, ``"alpha" in mapping``), and a mapping compares equal to a dict of
    names (or of symbols) with the same values. ``names()`` is the plain ``{name: value}``
    dict (for JSON, keyword arguments).
    """

    __slots__ = ("_values",)

    def __init__(self, params: Mapping):
        self._values = {symbol: value for symbol, value in params.items()}

    def _symbol(self, key) -> sp.Symbol:
        if key in self._values:
            return key
        name = key if isinstance(key, str) else getattr(key, "name", None)
        for symbol in self._values:
            if symbol.name == name:
                return symbol
        raise KeyError(key)

    def __getitem__(self, key):
        return self._values[self._symbol(key)]

    def __contains__(self, key) -> bool:
        try:
            self._symbol(key)
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def names(self) -> dict[str, float]:
        return {symbol.name: value for symbol, value in self._values.items()}

    def __eq__(self, other) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.names() == {getattr(key, "name", key): value for key, value in other.items()}

    __hash__ = None  # a mapping, compared by value

    def __repr__(self) -> str:
        return repr(self.names())


# -- numbers as printed ------------------------------------------------------------------------
def shown(value, digits: int | None = SIGNIFICANT_DIGITS) -> sp.Expr:
    """``value`` as a worked example prints it: an Integer where it is integral (3.0 -> 3),
    else a Float rounded to ``digits`` significant digits that prints without trailing zeros
    (3.4, not 3.400). ``digits=None`` keeps every digit of the float's shortest repr (for a
    hyperparameter's value: 0.1, 1.0507009873554805)."""
    value = float(value)
    if not math.isfinite(value):
        return sp.nan if math.isnan(value) else (sp.oo if value > 0 else -sp.oo)
    if value == 0:
        return sp.Integer(0)  # also -0.0
    if value.is_integer() and abs(value) < 1e15:
        return sp.Integer(int(value))
    text = repr(value) if digits is None else f"{value:.{digits}g}"
    mantissa = re.sub(r"[eE].*$", "", text)
    if "." not in mantissa and "e" not in text.lower():  # rounded to an integer: 1234.5 -> 1234
        return sp.Integer(int(text))
    significant = len(mantissa.lstrip("-").replace(".", "").lstrip("0")) or 1
    return sp.Float(text, significant)


COMPACT_COLUMNS = 4  # a matrix wider than this prints in script size (to fit a line)


class CompactMatrix(sp.ImmutableDenseMatrix):
    """A matrix of numbers too wide for a line at full size: LaTeX's ``smallmatrix``
    (amsmath; MathJax 3 and KaTeX have it too) sets its entries in script size."""

    def _latex(self, printer) -> str:
        rows = (" & ".join(printer._print(entry) for entry in self.row(r))
                for r in range(self.rows))
        return (r"\left[\begin{smallmatrix}" + r" \\ ".join(rows)
                + r"\end{smallmatrix}\right]")


def shown_matrix(values) -> sp.Expr:
    """A float64 array (a vector is a column) as a Matrix of :func:`shown` numbers; a single
    number as that number, so one unit reads as the notes' scalars (z = 3 * 2 = 6)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0 or array.size == 1:
        return shown(array.reshape(-1)[0])
    if array.ndim == 1:
        array = array[:, None]
    kind = CompactMatrix if array.shape[1] > COMPACT_COLUMNS else sp.ImmutableMatrix
    return kind(array.shape[0], array.shape[1], [shown(v) for v in array.reshape(-1)])


def values_prose(params: Mapping, lead: str = "with ") -> tuple:
    """Prose stating each hyperparameter's value in maths: ``with α = 0.1, β = 1.5``."""
    parts: list = [lead]
    for number, (symbol, value) in enumerate(params.items()):
        if number:
            parts.append(", ")
        parts.append(sp.Eq(symbol, shown(value, None), evaluate=False))
        if getattr(symbol, "notation_unicode", symbol.name) != symbol.name:  # κ (delta)
            parts.append(f" ({symbol.name})")
    return tuple(parts)


def bound(expr: sp.Expr, params: Mapping) -> sp.Expr:
    """``expr`` with the hyperparameters' values substituted as floats (SymPy's exact
    binary value of each float, so nothing is rounded)."""
    return expr.xreplace({symbol: sp.Float(float(value)) for symbol, value in params.items()})


# -- NumPy functions ---------------------------------------------------------------------------
def _erf():
    try:
        from scipy.special import erf  # vectorised; scipy comes with scikit-learn
    except ImportError:  # pragma: no cover - scipy is a dependency of scikit-learn
        erf = np.vectorize(math.erf, otypes=[np.float64])
    return erf


def numpy_function(expr: sp.Expr, symbols, params: Mapping | None = None):
    """A vectorised float64 function of ``expr`` in ``symbols`` (a symbol or a list), the
    hyperparameters of ``params`` bound. Arguments broadcast as NumPy arrays do; the result
    is always a float64 array of the broadcast shape (a constant derivative, 1, included).
    Overflow in a branch of a piecewise that is not taken (np.select evaluates every branch)
    raises no warning; the values are lambdify's plain formulas, not the stable forms the
    generated kernels use, so exp of a large argument overflows to inf here as in NumPy."""
    symbols = list(symbols) if isinstance(symbols, list | tuple) else [symbols]
    expr = bound(expr, params or {})
    extra = sorted(s.name for s in expr.free_symbols - set(symbols))
    if extra:
        from symprop.errors import MissingHyperparameterError

        raise MissingHyperparameterError(f"no value for {', '.join(extra)}")
    function = sp.lambdify(symbols, expr, modules=[{"erf": _erf()}, "numpy"])

    def evaluate(*arrays):
        arrays = [np.asarray(array, dtype=np.float64) for array in arrays]
        with np.errstate(all="ignore"):
            result = np.asarray(function(*arrays), dtype=np.float64)
        shape = np.broadcast_shapes(*(array.shape for array in arrays))
        return np.array(np.broadcast_to(result, shape), dtype=np.float64)

    return evaluate
