"""Computation graphs: derivatives of an output by the chain rule along the graph.

The notes' example: ``d = b*c, e = a + d, f = d*a, g = e**f``. A reverse-mode sweep gives the
local partial of every edge and the total derivative of every node, step by step, ending in
``dg/da, dg/db, dg/dc``; each result is checked against differentiating the fully
substituted expression.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from symprop.derive.calculus import _chain, _eq, _parse
from symprop.derive.derivation import Derivation, notation, partial
from symprop.derive.limits import (
    bounded,
    check_expression,
    check_size,
    expansion_too_large,
    shorten,
)
from symprop.derive.parsing import FUNCTIONS, check_names
from symprop.derive.simplify import tidy
from symprop.errors import FormulaError, SympropError


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
        """``expr`` with every node replaced by its definition, down to the inputs. Nodes
        that reuse nodes can double the size at each level (n2 = n1*n1 + n1): the size is
        checked after each node, before the next substitution walks the whole tree."""
        for name in reversed(list(self.nodes)):  # later nodes expand into earlier ones
            expr = check_size(expr.xreplace({self.symbols[name]: self.nodes[name]}),
                              f"the graph written in its inputs (at node {shorten(name)!r})")
        return expr

    @bounded(lambda self, output=None: "the derivatives of the computation graph")
    def derivatives(self, output: str | None = None) -> dict[str, sp.Expr]:
        """d output / d input for every input, in the inputs only (``output`` defaults to the
        last node in evaluation order). Each is checked against differentiating the fully
        substituted output directly, and an error raised should they ever differ."""
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

    @bounded(lambda self, output=None: "the derivation of the computation graph")
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
            routes: list = []
            for c in via:
                routes += [" and " if routes else "", "directly" if c == output else "through ",
                           *([] if c == output else [self.symbols[c]])]
            why = ("chain rule: ", self.symbols[output], " depends on ", self.symbols[name],
                   " only " if len(via) == 1 else " ", *routes,
                   "" if len(via) == 1 else "; the paths add up")
            d.add(("Total derivative of ", self.symbols[output], " with respect to ",
                   self.symbols[name]), _chain(
                d_(output, name), paths, adjoint[name], *([final[name]] if name in final else [])
            ), why)

        d = Derivation(f"Backpropagation through the computation graph of {output}")
        d.notes.append("The chain rule: where the output depends on a node along several "
                       "paths, its derivative is the sum over the paths of the products of the "
                       "local partial derivatives. Walking the graph backwards completes each "
                       "node's total derivative before it is passed on to the node's inputs.")
        for name in reversed(order):
            d.add(("Forward: ", self.symbols[name]), _eq(self.symbols[name], self.nodes[name]),
                  "evaluate the nodes in order; each uses only inputs and earlier nodes")
        d.add("Start at the output", _eq(d_(output, output), 1),
              ("the derivative of ", self.symbols[output], " with respect to itself is 1"))
        for node in order:
            # A name used by the output alone has its local partial as its total derivative.
            if node != output and consumers[node] != [output]:
                total(node)
            for parent in self.parents(node):
                d.add(("Local partial of ", self.symbols[node], " with respect to ",
                       self.symbols[parent]),
                      _eq(edge(node, parent), local[node, parent]),
                      ("differentiate ", _eq(self.symbols[node], self.nodes[node]),
                       " with respect to ", self.symbols[parent],
                       ", holding its other arguments fixed"))
        for name in self.inputs:
            total(name)
        d.result = sp.Matrix([final[n] for n in self.inputs])
        return d


def _same(a: sp.Expr, b: sp.Expr, symbols: list[sp.Symbol]) -> bool:
    if not expansion_too_large(a - b) and sp.powsimp(sp.expand(a - b)) == 0:
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


@bounded(lambda definitions, inputs: "the computation graph")
def computation_graph(definitions: Mapping[str, str | sp.Expr],
                      inputs: Sequence[str]) -> ComputationGraph:
    """A graph from node ``definitions`` such as ``{"d": "b*c", "e": "a + d", "f": "d*a",
    "g": "e**f"}`` and ``inputs``, the input names: ``["a", "b", "c"]``. Definitions may
    come in any order; they are sorted so that each node follows the nodes it uses. A
    cycle, a name that is neither an input nor a node, or a node redefining an input is a
    FormulaError naming it."""
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
            check_expression(formula, f"node {shorten(name)!r}")
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
