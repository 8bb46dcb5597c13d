"""Gradient descent as the notes work it: each step's gradient, update and new value.

Numbers stay exact rationals while they are short (the notes' 0.6, 6.48, 3.9456), floats
after. Every value is first computed in floats, so a point where the formula overflows
(x**x at 1e9, exp(exp(exp(exp(x))))) is a FormulaError rather than an exact number too large
to compute; ``steps`` is bounded.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import sympy as sp

from symprop.derive.calculus import (
    _at,
    _begin,
    _chain,
    _diff,
    _eq,
    _evaluate,
    _float_function,
    _number,
    _setup,
    _show,
    _values,
    _what,
)
from symprop.derive.derivation import Derivation, TeX, Update, notation, partial
from symprop.derive.limits import bounded, shorten
from symprop.errors import MissingHyperparameterError, SympropError

# Past this many digits an exact rational costs more than it tells (descent on x**4 cubes the
# denominator every step), so gradient descent switches to floats.
MAX_EXACT_DIGITS = 40
MAX_DESCENT_STEPS = 1000  # each step is a line of the derivation; more is not a worked example


class _Minus(sp.Expr):
    """``a - b c`` printed in that order (SymPy's printers sort the terms of a sum): the
    update ``x - eta df/dx``, or with numbers ``0 - 0.1 (-6)`` as the notes write it."""

    def _parts(self, printer, times: str, left: str = "(", right: str = ")"):
        a, b, c = (printer._print(arg) for arg in self.args)
        if self.args[2].could_extract_minus_sign():
            c = left + c + right
        numbers = self.args[1].is_number and self.args[2].is_number
        return f"{a} - {b}{times if numbers else ' '}{c}"

    def _sympystr(self, printer):
        return self._parts(printer, "*")

    def _latex(self, printer):
        return self._parts(printer, r" \cdot ")

    def _notation_unicode(self, printer):
        return self._parts(printer, "·").replace(" - ", " − ")


def _formula_text(f) -> str:
    return shorten(f if isinstance(f, str) else sp.sstr(f))


def _short(value: sp.Rational) -> bool:
    """At most MAX_EXACT_DIGITS digits in numerator and denominator together (the bit
    lengths first: str() of a huge integer is slow, and refused past 4300 digits)."""
    p, q = abs(int(value.p)), int(value.q)
    if p.bit_length() + q.bit_length() > 4 * MAX_EXACT_DIGITS:
        return False
    return len(str(p)) + len(str(q)) <= MAX_EXACT_DIGITS


def _settle(value: sp.Expr, step: int) -> sp.Expr:
    """Exact while the numbers stay short rationals, a float after; refuse non-numbers."""
    if not (value.is_Rational and _short(value)):
        value = value.evalf()
    if not (value.is_number and value.is_finite and value.is_extended_real):
        raise SympropError(f"gradient descent left the formula's domain at step {step}: "
                           f"the value there is {value}")
    return value


def _descend(f, start, lr, steps):
    if not isinstance(start, Mapping) or not start:
        raise SympropError("start must be a non-empty mapping from variable names to numbers")
    rate = _number(lr, "lr")
    if rate <= 0:
        raise SympropError(f"lr must be positive, not {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise SympropError(f"steps must be a non-negative integer, not {steps!r}")
    if steps > MAX_DESCENT_STEPS:
        raise SympropError(f"steps must be at most {MAX_DESCENT_STEPS} (a worked example, not "
                           f"an optimizer), not {steps!r}")
    (expr,), symbols = _setup([f], list(start))
    missing = sorted(s.name for s in expr.free_symbols - set(symbols))
    if missing:
        raise MissingHyperparameterError(
            f"the formula uses {', '.join(missing)}, which start gives no value for")
    grad = [_diff(expr, s) for s in symbols]
    point = dict(zip(symbols, _values(start, symbols, "start"), strict=True))
    functions = [_float_function(e, symbols) for e in [expr, *grad]]
    history = []  # (point, gradient there, value there)
    for k in range(int(steps) + 1):
        where = f"gradient descent on {_formula_text(f)!r} at step {k}"
        value = _settle(_evaluate(expr, point, where, functions[0]), k)
        # No gradient at the last point: it is not used and may not exist (sqrt(x) at 0).
        there = [_settle(_evaluate(g, point, where, function), k)
                 for g, function in zip(grad, functions[1:], strict=True)] if k < steps else []
        history.append((point, there, value))
        if k < steps:
            point = {s: _settle(point[s] - rate * g, k + 1)
                     for s, g in zip(symbols, there, strict=True)}
    return expr, symbols, rate, history


def _float_input(start, lr) -> bool:
    """Whether any number given is a float (Python's, NumPy's or SymPy's): a real that is
    not a rational. Ints, Fractions and SymPy Rationals are exact."""
    given = [lr, *(start.values() if isinstance(start, Mapping) else ())]
    return any(isinstance(v, numbers.Real) and not isinstance(v, numbers.Rational | bool)
               for v in given)


@bounded(_what("gradient descent"))
def gradient_descent(f, start: Mapping, lr, steps: int) -> list[tuple[dict, object]]:
    """``steps`` updates x <- x - lr * grad f(x) from ``start`` (name -> number), whose keys
    are the variables. Returns steps + 1 pairs (point, value), the start first; a point maps
    names to numbers.

    The numbers are of the kind given: Python floats where ``start`` or ``lr`` holds a float
    (``lr=0.1`` gives 0.6, 6.48, the doubles nearest the exact results); exact SymPy numbers
    where every input is exact (ints, Fractions, SymPy Rationals), Rationals while the
    arithmetic stays rational and short (``lr=Rational(1, 10)`` gives 3/5, 162/25), SymPy
    Floats once it does not (an exponential, a denominator of more than 40 digits)."""
    *_, history = _descend(f, start, lr, steps)
    if _float_input(start, lr):
        return [({s.name: float(v) for s, v in point.items()}, float(value))
                for point, _, value in history]
    return [({s.name: v for s, v in point.items()}, value) for point, _, value in history]


@bounded(_what("the gradient descent derivation"))
def gradient_descent_derivation(f, start: Mapping, lr, steps: int) -> Derivation:
    """Each step's gradient, update and new value, as the notes' Example B writes them:
    ``steps`` steps of learning rate ``lr`` on the formula ``f`` from ``start`` (variable
    name -> number)."""
    expr, symbols, rate, history = _descend(f, start, lr, steps)
    d, _ = _begin("Gradient descent", expr, symbols, "it points uphill; descent steps "
                  "against it, the direction of steepest descent")
    eta = sp.Symbol("eta")
    d.notes.append(("Minimise ", sp.Symbol("f"), f" by {steps} step{'s' * (steps != 1)} of size ",
                    _eq(eta, _show(rate)), " against the gradient, from ",
                    TeX(f"({_at(history[0][0].values(), tex=True)})"), "."))
    d.add("The update rule", Update(sp.Tuple(*symbols), sp.Tuple(*[
        _Minus(s, eta, partial("f", s.name, "f", sp.latex(s))) for s in symbols])),
        ("move against the gradient, scaled by the learning rate ", _eq(eta, _show(rate))))
    names = [_at(point.values()) for point, _, _ in history]
    texs = [_at(point.values(), tex=True) for point, _, _ in history]
    d.add("The value at the start", _eq(notation(f"f({names[0]})", f"f({texs[0]})"),
                                        _show(history[0][2])))
    for k, ((point, there, value), (moved, _, new_value)) in enumerate(
            zip(history, history[1:], strict=False), 1):
        d.add(f"Step {k}: the gradient at ({names[k - 1]})",
              _eq(notation(f"grad f({names[k - 1]})", rf"\nabla f({texs[k - 1]})"),
                  sp.Tuple(*map(_show, there))), "substitute the point into the gradient")
        for s, g in zip(symbols, there, strict=True):
            d.add((f"Step {k}: update ", s), _chain(
                notation(f"{s.name}_{k}", f"{sp.latex(s)}_{{{k}}}"),
                _Minus(_show(point[s]), _show(rate), _show(g)), _show(moved[s])))
        trend = "fell" if new_value < value else "did not fall (is the learning rate too large?)"
        d.add(f"Step {k}: the new value", _eq(notation(f"f({names[k]})", f"f({texs[k]})"),
                                              _show(new_value)),
              (sp.Symbol("f"), f" {trend}: ", TeX(rf"{_at([value], tex=True)} \to "
                                                  rf"{_at([new_value], tex=True)}")))
    d.result = sp.Tuple(*history[-1][0].values())
    return d
