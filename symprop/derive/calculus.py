"""Multivariable calculus from the notes: gradients, Jacobians, directional derivatives,
gradient descent, and backpropagation through a computation graph by the chain rule.

Formulas are strings (parsed safely by :func:`parse_formula`) or SymPy expressions; every
name in them is a real symbol. Numbers from the user are made exact through their decimal
form (``0.1`` becomes ``1/10``), so the notes' examples come out exactly (``0.6``, ``6.48``,
``3.9456``) rather than as binary floating-point approximations.
"""

from __future__ import annotations

import io
import math
import numbers
import random
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp

from symprop.derive.derivation import Derivation, notation, partial
from symprop.derive.parsing import CONSTANTS, FUNCTIONS, check_names, parse_formula
from symprop.derive.simplify import tidy
from symprop.errors import FormulaError, MissingHyperparameterError, SympropError

# Past this many digits an exact rational costs more than it tells (descent on x**4 cubes the
# denominator every step), so gradient descent switches to floats.
MAX_EXACT_DIGITS = 40


# -- parsing, numbers, printing ------------------------------------------------------------
def _shield(text: str, names) -> tuple[str, dict[str, str]]:
    """Rename variables the parser would read as constants. The notes' graph has a node ``e``,
    which the parser takes for Euler's number, so it is renamed token by token first."""
    aliases = {}
    for name in (n for n in names if n in CONSTANTS):
        aliases[name] = name + "var"
        while aliases[name] in text or aliases[name] in names:
            aliases[name] += "x"
    if not aliases:
        return text, {}
    try:
        tokens = [(t.type, aliases.get(t.string, t.string) if t.type == tokenize.NAME
                   else t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)]
        return tokenize.untokenize(tokens), aliases
    except (tokenize.TokenError, SyntaxError):
        return text, {}  # malformed: parse_formula reports it on the original text


def _parse(text: str, symbols: dict[str, sp.Symbol], owner: str | None = None) -> sp.Expr:
    """``text`` with ``symbols`` for their names; other names become real symbols, or, for a
    graph node (``owner``), an error, since a graph must define every name it uses."""
    shielded, aliases = _shield(text, symbols)
    known = symbols | {alias: symbols[name] for name, alias in aliases.items()}

    def symbol_for(name: str) -> sp.Symbol:
        if name in known:
            return known[name]
        if owner is not None:
            raise FormulaError(f"node {owner!r} refers to the undefined name {name!r}")
        return sp.Symbol(name, real=True)

    return parse_formula(shielded, symbol_for)


def _setup(fs: list, variables) -> tuple[list[sp.Expr], list[sp.Symbol]]:
    """The formulas as expressions, and the variables as the symbols those expressions use."""
    variables = list(variables)
    for v in variables:
        if not isinstance(v, str | sp.Symbol):
            raise FormulaError(f"a variable must be a name or a SymPy symbol, not {v!r}")
    names = [str(v) if isinstance(v, str) else v.name for v in variables]
    check_names(names)
    if not names or len(set(names)) < len(names):
        raise SympropError(f"the variables must be distinct names, one at least: {names}")
    # A name means the symbol of that name in a SymPy formula, whatever its assumptions, so
    # gradient(expr, ["x"]) differentiates the x the user built.
    in_exprs = {s.name: s for f in fs if isinstance(f, sp.Basic) for s in f.free_symbols}
    symbols = {n: v if isinstance(v, sp.Symbol) else in_exprs.get(n, sp.Symbol(n, real=True))
               for n, v in zip(names, variables, strict=True)}
    for f in fs:
        if not isinstance(f, str | sp.Expr):
            raise FormulaError(f"a formula must be a string or a SymPy expression, not {f!r}")
    return [_parse(f, symbols) if isinstance(f, str) else f for f in fs], list(symbols.values())


def _number(value, what: str) -> sp.Expr:
    """An exact SymPy number; a float through its shortest decimal form (0.1 -> 1/10)."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, sp.Basic):
        if value.is_number and value.is_finite and value.is_extended_real:
            return value
    elif isinstance(value, numbers.Rational):
        return sp.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real) and math.isfinite(value):
        return sp.Rational(repr(float(value)))
    raise SympropError(f"{what} must be a finite real number, not {value!r}")


def _values(given, symbols: list[sp.Symbol], what: str) -> list[sp.Expr]:
    """Numbers for ``symbols`` from a mapping by name, or a sequence in variable order."""
    if isinstance(given, Mapping):
        missing = [s.name for s in symbols if s.name not in given]
        if missing:
            raise MissingHyperparameterError(f"{what} gives no value for {', '.join(missing)}")
        given = [given[s.name] for s in symbols]
    elif not isinstance(given, Sequence) or len(given) != len(symbols):
        raise SympropError(f"{what} must give one number for each of {len(symbols)} variables")
    return [_number(v, f"{what}[{s.name!r}]") for s, v in zip(symbols, given, strict=True)]


def _point(at, expr: sp.Expr, symbols: list[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """Values for the variables and for every other name in ``expr`` (all are needed)."""
    if not isinstance(at, Mapping):
        at = dict(zip([s.name for s in symbols], _values(at, symbols, "at"), strict=True))
    every = list({s.name: s for s in [*symbols, *expr.free_symbols]}.values())
    return dict(zip(every, _values(at, every, "at"), strict=True))


def _show(value):
    """Terminating decimals print as decimals (0.6, not 3/5), as the notes write them."""
    if not isinstance(value, sp.Rational) or value.is_Integer:
        return value
    places = next((n for n in range(31) if 10**n % int(value.q) == 0), None)
    if places is None:
        return value
    digits = str(abs(int(value.p)) * 10**places // int(value.q)).rjust(places + 1, "0")
    text = ("-" if value < 0 else "") + digits[:-places] + "." + digits[-places:]
    return sp.Float(text, len(digits.lstrip("0")))


def _at(values) -> str:
    return ", ".join(sp.sstr(_show(v)) for v in values)


def _eq(lhs, rhs) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def _chain(*items):
    """A chain of equalities without repeats (dg/de = dg/de = ... reads badly)."""
    kept = [items[0]] + [b for a, b in zip(items, items[1:], strict=False) if b != a]
    return tuple(kept) if len(kept) > 1 else kept[0]


class _Minus(sp.Expr):
    """``a - b*c`` printed in that order: SymPy's printers sort the terms of a sum."""

    def _parts(self, printer, times: str, left: str = "(", right: str = ")"):
        a, b, c = (printer._print(arg) for arg in self.args)
        if self.args[2].could_extract_minus_sign():
            c = left + c + right
        return f"{a} - {b}{times}{c}"

    def _sympystr(self, printer):
        return self._parts(printer, "*")

    def _latex(self, printer):
        return self._parts(printer, r" \cdot ", r"\left(", r"\right)")


# -- gradient, Jacobian, directional derivative --------------------------------------------
def gradient(f, variables) -> sp.Matrix:
    """The column vector (n x 1) of the partial derivatives of ``f``, one per variable."""
    (expr,), symbols = _setup([f], variables)
    return sp.Matrix([tidy(sp.diff(expr, s)) for s in symbols])


def _begin(title: str, expr: sp.Expr, symbols, why: str) -> tuple[Derivation, list[sp.Expr]]:
    """A derivation opening with the function, its partial derivatives and its gradient."""
    grad = [tidy(sp.diff(expr, s)) for s in symbols]
    d = Derivation(title)
    d.add("The function", _eq(sp.Symbol("f"), expr))
    for s, g in zip(symbols, grad, strict=True):
        d.add(f"Partial derivative with respect to {s.name}",
              _eq(partial("f", s.name, "f", sp.latex(s)), g),
              f"differentiate with respect to {s.name}, holding the other variables fixed")
    d.add("The gradient", _eq(notation("grad f", r"\nabla f"), sp.Tuple(*grad)), why)
    return d, grad


def gradient_derivation(f, variables, at=None) -> Derivation:
    """The partial derivatives; with ``at`` (name -> number) also the gradient at that point
    and its Euclidean norm. ``result`` is the gradient, evaluated at ``at`` if given."""
    (expr,), symbols = _setup([f], variables)
    d, grad = _begin("Gradient of f", expr, symbols, "the vector of the partial derivatives; "
                     "it points in the direction of steepest ascent")
    d.result = sp.Matrix(grad)
    if at is None:
        return d
    point = _point(at, expr, symbols)
    where, values = _at(point[s] for s in symbols), [g.xreplace(point) for g in grad]
    d.add(f"The gradient at ({where})", _eq(notation(f"grad f({where})", rf"\nabla f({where})"),
                                            sp.Tuple(*map(_show, values))),
          "substitute the point into each partial derivative")
    squares = sp.Add(*[sp.Pow(_show(v), 2, evaluate=False) for v in values], evaluate=False)
    total = sum(v**2 for v in values)
    norm = sp.sqrt(total)
    d.add("Its length (Euclidean norm)", _chain(
        notation(f"|grad f({where})|", rf"\left\lVert \nabla f({where}) \right\rVert"),
        sp.Pow(squares, sp.S.Half, evaluate=False), sp.Pow(_show(total), sp.S.Half, evaluate=False),
        norm, norm if norm.is_Rational else norm.evalf(7)),
        "the steepest rate of increase of f per unit distance moved")
    d.result = sp.Matrix(values)
    return d


class LinearChange(NamedTuple):
    """The first-order prediction grad f . delta and the actual change f(at + delta) - f(at)."""

    predicted: sp.Expr
    actual: sp.Expr


def linear_change(f, variables, at, delta) -> LinearChange:
    """How well the gradient predicts the change of ``f`` for a small move ``delta`` (a
    mapping by name or a sequence in variable order) from the point ``at``."""
    (expr,), symbols = _setup([f], variables)
    point = _point(at, expr, symbols)
    step = dict(zip(symbols, _values(delta, symbols, "delta"), strict=True))
    predicted = sum(sp.diff(expr, s).xreplace(point) * step[s] for s in symbols)
    moved = {s: v + step.get(s, 0) for s, v in point.items()}
    return LinearChange(predicted, expr.xreplace(moved) - expr.xreplace(point))


def jacobian(fs, variables) -> sp.Matrix:
    """The m x n matrix of partial derivatives: row i is the gradient of ``fs[i]``."""
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    return sp.Matrix([[tidy(sp.diff(e, s)) for s in symbols] for e in exprs])


def jacobian_derivation(fs, variables) -> Derivation:
    exprs, symbols = _setup([fs] if isinstance(fs, str | sp.Expr) else list(fs), variables)
    d = Derivation("Jacobian of f")
    for i, e in enumerate(exprs, 1):
        d.add(f"Component {i}", _eq(notation(f"f{i}", f"f_{{{i}}}"), e))
        for s in symbols:
            d.add(f"Partial derivative of f{i} with respect to {s.name}",
                  _eq(partial(f"f{i}", s.name, f"f_{{{i}}}", sp.latex(s)), tidy(sp.diff(e, s))),
                  f"row {i} of the Jacobian holds the partial derivatives of f{i}")
    d.result = jacobian(exprs, symbols)
    d.add("The Jacobian", _eq(notation("J(x)", r"J(\mathbf{x})"), d.result),
          "entry (i, j) is the partial derivative of f_i with respect to the j-th variable")
    return d


def directional_derivative(f, variables, direction, at=None, *, normalize: bool = True):
    """grad f . u, where u is ``direction`` scaled to unit length, so the result is the rate
    of change per unit distance; ``normalize=False`` gives grad f . direction as it is.
    A SymPy expression, or an exact SymPy number when ``at`` gives the point."""
    (expr,), symbols = _setup([f], variables)
    u = _values(direction, symbols, "direction")
    length = sp.sqrt(sum(c**2 for c in u))
    if length == 0:
        raise SympropError("the direction is the zero vector, which points nowhere")
    if normalize:
        u = [c / length for c in u]
    value = tidy(sum(sp.diff(expr, s) * c for s, c in zip(symbols, u, strict=True)))
    return value if at is None else value.xreplace(_point(at, expr, symbols))


# -- gradient descent ----------------------------------------------------------------------
def _settle(value: sp.Expr, step: int) -> sp.Expr:
    """Exact while the numbers stay short rationals, a float after; refuse non-numbers."""
    if not (value.is_Rational and len(str(value.p)) + len(str(value.q)) <= MAX_EXACT_DIGITS):
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
    (expr,), symbols = _setup([f], list(start))
    missing = sorted(s.name for s in expr.free_symbols - set(symbols))
    if missing:
        raise MissingHyperparameterError(
            f"the formula uses {', '.join(missing)}, which start gives no value for")
    grad = [tidy(sp.diff(expr, s)) for s in symbols]
    point = dict(zip(symbols, _values(start, symbols, "start"), strict=True))
    history = []  # (point, gradient there, value there)
    for k in range(int(steps) + 1):
        value = _settle(expr.xreplace(point), k)
        # No gradient at the last point: it is not used and may not exist (sqrt(x) at 0).
        there = [_settle(g.xreplace(point), k) for g in grad] if k < steps else []
        history.append((point, there, value))
        if k < steps:
            point = {s: _settle(point[s] - rate * g, k + 1)
                     for s, g in zip(symbols, there, strict=True)}
    return expr, symbols, rate, history


def gradient_descent(f, start: Mapping, lr, steps: int) -> list[tuple[dict, sp.Expr]]:
    """``steps`` updates x <- x - lr * grad f(x) from ``start`` (name -> number), whose keys
    are the variables. Returns steps + 1 pairs (point, value), the start first; points map
    names to SymPy numbers, exact rationals while the arithmetic stays rational (floats in
    ``start`` and ``lr`` are read as the decimals they print as), floats once it does not."""
    *_, history = _descend(f, start, lr, steps)
    return [({s.name: v for s, v in point.items()}, value) for point, _, value in history]


def gradient_descent_derivation(f, start: Mapping, lr, steps: int) -> Derivation:
    """Each step's gradient, update and new value, as the notes' Example B writes them."""
    expr, symbols, rate, history = _descend(f, start, lr, steps)
    d, grad = _begin("Gradient descent", expr, symbols, "it points uphill; descent steps "
                     "against it, the direction of steepest descent")
    d.notes.append(f"Minimise f by {steps} steps of size eta = {_at([rate])} against the "
                   f"gradient, from ({_at(history[0][0].values())}).")
    new = [notation(f"{s.name}_new", rf"{sp.latex(s)}_{{\text{{new}}}}") for s in symbols]
    d.add("The update rule", _eq(sp.Tuple(*new), sp.Tuple(*[
        _Minus(s, sp.Symbol("eta"), partial("f", s.name, "f", sp.latex(s))) for s in symbols])),
        f"move against the gradient, scaled by the learning rate eta = {_at([rate])}")
    names = [_at(point.values()) for point, _, _ in history]
    d.add("The value at the start", _eq(notation(f"f({names[0]})", f"f({names[0]})"),
                                        _show(history[0][2])))
    for k, ((point, there, value), (moved, _, new_value)) in enumerate(
            zip(history, history[1:], strict=False), 1):
        d.add(f"Step {k}: the gradient at ({names[k - 1]})",
              _eq(notation(f"grad f({names[k - 1]})", rf"\nabla f({names[k - 1]})"),
                  sp.Tuple(*map(_show, there))), "substitute the point into the gradient")
        for s, g in zip(symbols, there, strict=True):
            d.add(f"Step {k}: update {s.name}", _chain(
                notation(f"{s.name}_{k}", f"{sp.latex(s)}_{{{k}}}"),
                _Minus(_show(point[s]), _show(rate), _show(g)), _show(moved[s])))
        trend = "fell" if new_value < value else "did not fall (is the learning rate too large?)"
        d.add(f"Step {k}: the new value", _eq(notation(f"f({names[k]})", f"f({names[k]})"),
                                              _show(new_value)),
              f"f {trend}: {_at([value])} -> {_at([new_value])}")
    d.result = sp.Tuple(*history[-1][0].values())
    return d


# -- computation graph ---------------------------------------------------------------------
@dataclass
class ComputationGraph:
    """Named nodes, each a formula in the inputs and earlier nodes, in evaluation order."""

    inputs: tuple[str, ...]
    nodes: dict[str, sp.Expr]
    symbols: dict[str, sp.Symbol]  # inputs, then nodes in evaluation order

    def parents(self, node: str) -> list[str]:
        used = {s.name for s in self.nodes[node].free_symbols}
        return [name for name in self.symbols if name in used]

    def _backward(self, output: str | None):
        """Reverse-mode sweep: the local partial of every edge, and the total derivative of
        the output (the adjoint) of every name, in node symbols."""
        output = list(self.nodes)[-1] if output is None else output
        if output not in self.nodes:
            raise FormulaError(f"{output!r} is not a node of the graph (nodes: "
                               f"{', '.join(self.nodes)})")
        needed = {output}
        for name in reversed(list(self.nodes)):
            if name in needed:
                needed.update(self.parents(name))
        order = [n for n in reversed(list(self.nodes)) if n in needed]  # output first
        local, adjoint = {}, {output: sp.Integer(1)}
        for node in order:  # every consumer of a node comes before it, so its adjoint is whole
            for parent in self.parents(node):
                local[node, parent] = sp.powsimp(sp.diff(self.nodes[node], self.symbols[parent]))
                adjoint[parent] = adjoint.get(parent, 0) + adjoint[node] * local[node, parent]
        return output, order, local, adjoint

    def in_inputs(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with every node replaced by its definition, down to the inputs."""
        for name in reversed(list(self.nodes)):  # later nodes expand into earlier ones
            expr = expr.xreplace({self.symbols[name]: self.nodes[name]})
        return expr

    def derivatives(self, output: str | None = None) -> dict[str, sp.Expr]:
        """d output / d input for every input, in the inputs only (``output`` defaults to the
        last node). Each is checked against differentiating the substituted output directly."""
        output, _, _, adjoint = self._backward(output)
        full, result = self.in_inputs(self.symbols[output]), {}
        for name in self.inputs:
            value = tidy(self.in_inputs(adjoint.get(name, sp.Integer(0))))
            direct = sp.diff(full, self.symbols[name])
            if not _same(value, direct, [self.symbols[n] for n in self.inputs]):
                raise SympropError(f"internal error: the chain rule gives d{output}/d{name} = "
                                   f"{value}, differentiating directly gives {direct}")
            result[name] = value
        return result

    def derivation(self, output: str | None = None) -> Derivation:
        """Backpropagation by the chain rule: local partials and total derivatives, walking
        the graph from the output back to the inputs. ``result`` is the column of the
        derivatives with respect to the inputs, in input order."""
        final = self.derivatives(output)
        output, order, local, adjoint = self._backward(output)
        consumers = {n: [c for c in order if n in self.parents(c)] for n in self.symbols}

        def d_(num: str, den: str, direct: bool = False) -> sp.Symbol:
            num_tex, den_tex = sp.latex(self.symbols[num]), sp.latex(self.symbols[den])
            if not direct:
                return partial(num, den, num_tex, den_tex)
            # The output's local partial needs a mark where it differs from the total one.
            return notation(f"d{num}/d{den} (direct)", rf"\left.\frac{{\partial {num_tex}}}"
                            rf"{{\partial {den_tex}}}\right|_{{\text{{direct}}}}", real=True)

        def edge(node: str, parent: str) -> sp.Symbol:
            return d_(node, parent, node == output and len(consumers[parent]) > 1)

        def total(name: str) -> None:
            via = consumers[name]
            if not via:
                d.add(f"{output} does not depend on {name}", _eq(d_(output, name), 0))
                return
            paths = sum(edge(c, name) * (1 if c == output else d_(output, c)) for c in via)
            routes = " and ".join("directly" if c == output else f"through {c}" for c in via)
            why = (f"chain rule: {output} depends on {name} only {routes}" if len(via) == 1 else
                   f"chain rule: {output} depends on {name} {routes}; the paths add up")
            d.add(f"Total derivative of {output} with respect to {name}", _chain(
                d_(output, name), paths, adjoint[name], *([final[name]] if name in final else [])
            ), why)

        d = Derivation(f"Backpropagation through the computation graph of {output}")
        d.notes.append("The chain rule: where the output depends on a node along several "
                       "paths, its derivative is the sum over the paths of the products of the "
                       "local partial derivatives. Walking the graph backwards completes each "
                       "node's total derivative before it is passed on to the node's inputs.")
        for name in reversed(order):
            d.add(f"Forward: {name}", _eq(self.symbols[name], self.nodes[name]),
                  "evaluate the nodes in order; each uses only inputs and earlier nodes")
        d.add("Start at the output", _eq(d_(output, output), 1),
              f"the derivative of {output} with respect to itself is 1")
        for node in order:
            # A name used by the output alone has its local partial as its total derivative.
            if node != output and consumers[node] != [output]:
                total(node)
            for parent in self.parents(node):
                d.add(f"Local partial of {node} with respect to {parent}",
                      _eq(edge(node, parent), local[node, parent]),
                      f"differentiate {node} = {sp.sstr(self.nodes[node])} with respect to "
                      f"{parent}, holding its other arguments fixed")
        for name in self.inputs:
            total(name)
        d.result = sp.Matrix([final[n] for n in self.inputs])
        return d


def _same(a: sp.Expr, b: sp.Expr, symbols: list[sp.Symbol]) -> bool:
    if sp.powsimp(sp.expand(a - b)) == 0:
        return True
    # The cheap rewrites cannot prove every identity (and simplify is slow): compare numbers
    # at a few positive points, where the logs and real powers of a typical graph are defined.
    rng = random.Random(0)
    for _ in range(3):
        point = {s: sp.Rational(rng.randint(55, 195), 100) for s in symbols}
        try:
            va, vb = (complex(e.xreplace(point).evalf(30)) for e in (a, b))
        except (TypeError, ValueError):
            return False
        if not abs(va - vb) <= 1e-12 * max(1.0, abs(va)):
            return False
    return True


def computation_graph(definitions: Mapping[str, str | sp.Expr],
                      inputs: Sequence[str]) -> ComputationGraph:
    """A graph from node definitions such as ``{"d": "b*c", "e": "a + d", "f": "d*a",
    "g": "e**f"}`` and input names ``["a", "b", "c"]``. Definitions may come in any order;
    they are sorted so that each node follows the nodes it uses. A cycle, a name that is
    neither an input nor a node, or a node redefining an input is a FormulaError naming it."""
    if isinstance(inputs, str) or not isinstance(definitions, Mapping) or not definitions:
        raise FormulaError("computation_graph needs a non-empty mapping of node definitions "
                           "and a list of input names")
    names = [*inputs, *definitions]
    check_names(names)
    for name in names:
        if name in FUNCTIONS:
            raise FormulaError(f"{name!r} is a function name and cannot name a graph value")
        if name in definitions and name in inputs:
            raise FormulaError(f"node {name!r} redefines the input {name!r}")
    if len(set(inputs)) < len(inputs):
        raise FormulaError(f"the inputs repeat a name: {list(inputs)}")
    symbols = {name: sp.Symbol(name, real=True) for name in names}
    parsed = {}
    for name, formula in definitions.items():
        if isinstance(formula, sp.Expr):
            unknown = sorted(s.name for s in formula.free_symbols if s.name not in symbols)
            if unknown:
                raise FormulaError(f"node {name!r} refers to the undefined name {unknown[0]!r}")
            parsed[name] = formula.xreplace({s: symbols[s.name] for s in formula.free_symbols})
        elif isinstance(formula, str):
            try:
                parsed[name] = _parse(formula, symbols, owner=name)
            except FormulaError as exc:
                message = str(exc)
                raise FormulaError(message if message.startswith(f"node {name!r}")
                                   else f"node {name!r}: {message}") from None
        else:
            raise FormulaError(f"node {name!r}: a definition must be a formula, not {formula!r}")
    # Kahn's sort, keeping the given order where the dependencies allow.
    uses = {n: {s.name for s in e.free_symbols} & set(parsed) for n, e in parsed.items()}
    order: list[str] = []
    while len(order) < len(parsed):
        ready = [n for n in parsed if n not in order and uses[n] <= set(order)]
        if not ready:  # every waiting node waits on another waiting one: follow them to a loop
            node, seen = next(n for n in parsed if n not in order), []
            while node not in seen:
                seen.append(node)
                node = min(p for p in uses[node] if p not in order)
            loop = seen[seen.index(node):] + [node]
            raise FormulaError(f"node {loop[0]!r} is part of a cycle: {' -> '.join(loop)}")
        order.append(ready[0])
    symbols = {n: symbols[n] for n in [*inputs, *order]}
    return ComputationGraph(tuple(inputs), {n: parsed[n] for n in order}, symbols)
