"""The backward pass of a network with normalization layers and residual blocks.

:func:`symprop.derive.network.network_derivation` hands a network here when it has nodes other
than dense layers (:mod:`symprop.blocks`). The nodes are numbered depth first (a residual
block before the nodes of its body), node ``q``'s output is ``h^(q)`` (``a^(q)`` for a dense
layer, ``x = h^(0)``), and the backward pass runs over the nodes in reverse with
``g^(q) = dL/dh^(q)``: a dense layer by the dense-layer rules, a normalization by the closed
form of :mod:`symprop.derive.norms`, and a residual block's input gradient as the sum over the
skip path and the body's path (:mod:`symprop.derive.residual`). BatchNorm's statistics couple
the samples of a batch, so from a BatchNorm down the gradients are those of the training loss
``J`` for sample ``i``; the steps say where.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from symprop.architecture import LayerSpec
from symprop.blocks import NormSpec, ResidualSpec, count_nodes, format_nodes
from symprop.derive.delta import batch_mean_factor, output_delta
from symprop.derive.dense_rules import dense_layer_rules
from symprop.derive.derivation import (
    Derivation,
    TeX,
    Update,
    function_notation,
    matrix_notation,
    notation,
    operator_latex,
    partial,
    prose,
)
from symprop.derive.network_layout import NetworkNotation, scaled, vector_delta
from symprop.derive.norms import BATCH, EPS, LAYER, MU, SIGMA2, XHAT, X, Y, closed_form
from symprop.derive.symbols import i, m
from symprop.derive.written import InOrder, Times

__all__ = ["Node", "block_network_derivation", "number_nodes"]


class Node(NamedTuple):
    """Node ``q`` of a network: its spec, the number ``p`` of the node whose output it takes
    (0: the input), the residual block whose body it starts (None otherwise), the number of
    the last node inside it (``q`` itself unless a block) and, for a block, its body's last
    top-level node."""

    q: int
    spec: object
    p: int
    starts: int | None
    end: int
    body_last: int | None = None


def number_nodes(nodes, p: int = 0, start: int = 1, block: int | None = None,
                 found: list | None = None) -> list[Node]:
    """Every node with its number, depth first (the numbering of :func:`check_nodes`)."""
    found = [] if found is None else found
    q = start
    for index, spec in enumerate(nodes):
        starts = block if index == 0 else None
        if isinstance(spec, ResidualSpec):
            end = q + count_nodes(spec.body)
            at = len(found)
            found.append(None)
            last = number_nodes(spec.body, p, q + 1, q, found)
            found[at] = Node(q, spec, p, starts, end, last)
            p, q = q, end + 1
        else:
            found.append(Node(q, spec, p, starts, q))
            p, q = q, q + 1
    return found if start == 1 and block is None else p


class Symbols:
    """The printable symbols of one network. Names carry the node number zero-padded, so that
    SymPy's ordering of a sum prints it as written (``h^(2) + a^(5)``, skip path first)."""

    def __init__(self, nodes: list[Node], n_in: int):
        self.nodes = {node.q: node for node in nodes}
        self.width = {0: n_in} | {node.q: node.spec.n_out for node in nodes}
        self.batchnorms = [node.q for node in nodes if isinstance(node.spec, NormSpec)
                           and node.spec.kind == "batchnorm"]

    def _column(self, name: str, tex: str, q: int, sample: bool = False):
        if sample:
            return matrix_notation(f"{name}{q:02d}_i", tex + "_{i}", self.width[q], 1)
        return matrix_notation(f"{name}{q:02d}", tex, self.width[q], 1)

    def out_tex(self, q: int) -> str:
        if q == 0:
            return "x"
        return f"a^{{({q})}}" if isinstance(self.nodes[q].spec, LayerSpec) else f"h^{{({q})}}"

    def out(self, q: int, sample: bool = False):
        return self._column("h", self.out_tex(q), q, sample)

    def g(self, q: int, sample: bool = False):
        return self._column("g", f"g^{{({q})}}", q, sample)

    def body_path(self, r: int):
        """The gradient at block r's input that came down through its body."""
        p = self.nodes[r].p
        return matrix_notation(f"~g{p:02d} via F{r}", f"g^{{({p})}}_{{F_{{{r}}}}}",
                               self.width[p], 1)

    def z(self, q):
        return self._column("z", f"z^{{({q})}}", q)

    def delta(self, q, sample: bool = False):
        return self._column("delta", rf"\delta^{{({q})}}", q, sample)

    def W(self, q):
        return matrix_notation(f"W{q:02d}", f"W^{{({q})}}", self.width[q],
                               self.width[self.nodes[q].p])

    def coupled(self, q: int) -> bool:
        """Whether the gradient at node q's output is one of J for sample i: a BatchNorm
        after it couples the samples."""
        end = self.nodes[q].end if q else 0
        return any(b > end for b in self.batchnorms)

    def grad_of(self, q: int, tex: str | None = None):
        """dL/dh^(q), or dJ/dh^(q)_i where a BatchNorm lies above it."""
        tex = tex or self.out_tex(q)
        if self.coupled(q):
            return partial("J", f"h{q:02d}_i", "J", tex + "_{i}")
        return partial("L", f"h{q:02d}", "L", tex)


def _label(spec: LayerSpec, act) -> str:
    return act.name if act.formula is None else "f"


def _slope(spec, act, q: int, width: int):
    label = _label(spec, act)
    tex = rf"{operator_latex(label) or label}'\left(z^{{({q})}}\right)"
    return matrix_notation(f"{label}'(z^({q}))", tex, width, 1)


def block_network_derivation(nodes: list, n_in: int, the_loss, notes_common: str) -> Derivation:
    """The backward pass of ``nodes`` (dense layers, normalizations, residual blocks; the last
    a dense layer) with ``the_loss``, step by step."""
    numbered = number_nodes(nodes)
    s = Symbols(numbered, n_in)
    acts = {node.q: node.spec.make_activation() for node in numbered
            if isinstance(node.spec, LayerSpec)}
    top = [node for node in numbered if _top_level(node, numbered)]
    last = top[-1]  # a dense layer: network_derivation checked it
    d = Derivation(f"Backpropagation for {format_nodes(nodes, n_in)} with loss "
                   f"{the_loss.name}")
    batch = bool(s.batchnorms)
    d.notes.append(prose(
        notes_common + "The nodes are numbered depth first, a residual block before the nodes "
        "of its body; $h^{(l)}$ is the output of node $l$ ($a^{(l)} = f^{(l)}(z^{(l)})$ for a "
        "dense layer, $h^{(0)} = x$ the input), and $g^{(l)}$ its gradient, "
        "$\\partial L / \\partial h^{(l)}$ for one sample's loss $L$"
        + (", or $\\partial J / \\partial h^{(l)}_{i}$ for sample $i$ at and below a "
           "BatchNorm, whose batch statistics couple the samples" if batch else "")
        + "; $\\delta^{(l)}$ is a dense layer's error signal. The first layer's gradient is "
        "not unrolled into one product: residual blocks add paths and normalizations sum "
        "over their group, so the recursion is no single chain of factors."))
    for node in numbered:
        _forward(d, s, node, acts)
    from symprop.derive.network import _loss  # the same loss steps as a dense chain

    net = NetworkNotation([s.width[last.p], s.width[last.q]], [acts[last.q]])
    _loss(d, net, the_loss)
    d.extend(dense_layer_rules(), prefix="Dense-layer rule: ")
    out = output_delta(the_loss, acts[last.q])
    d.extend(out, prefix=f"Output layer {last.q}: ")
    shown, factor_form = vector_delta(out.result, net)
    factor = batch_mean_factor(the_loss, s.width[last.q])
    backward = Backward(d, s, acts, factor, (last.q, shown, factor_form))
    backward.sequence(top, None)
    _batch_mean(d, s, numbered, factor)
    from symprop.derive.network import _updates

    _updates(d)
    if any(isinstance(node.spec, NormSpec) for node in numbered):
        gamma = notation("gamma_l", r"\gamma^{(l)}")
        eta = notation("eta", r"\eta", positive=True)
        d.add("... and of the scales and shifts",
              Update(gamma, gamma - eta * partial("J", "gamma_l", "J", r"\gamma^{(l)}")),
              prose("every normalization's $\\gamma^{(l)}$, and its $\\beta^{(l)}$ likewise, "
                    "takes the same step against its gradient of $J$"))
    d.result = backward.weights
    return d


def _top_level(node: Node, numbered: list[Node]) -> bool:
    return not any(other.q < node.q <= other.end and other.q != node.q for other in numbered)


def _forward(d: Derivation, s: Symbols, node: Node, acts) -> None:
    q, p, spec = node.q, node.p, node.spec
    source = "the input" if p == 0 else f"node {p}'s output"
    if isinstance(spec, LayerSpec):
        act = acts[q]
        d.add(f"Forward pass, node {q} (dense)", (s.z(q), s.W(q) * s.out(p) + s._column(
                  "b", f"b^{{({q})}}", q)),
              ("an affine map of ", source, ", with ",
               TeX(rf"W^{{({q})}} \in \mathbb{{R}}^{{{spec.n_out} \times {spec.n_in}}}")))
        what = (f"softmax over the {spec.n_out} units" if act.kind == "softmax" else
                f"the activation {act.name}, unit by unit")
        d.add(f"Activation, node {q}", (s.out(q), function_notation(
                  _label(spec, act), f"z^{{({q})}}")), what)
    elif isinstance(spec, NormSpec):
        nn, index = (BATCH, i) if spec.kind == "batchnorm" else (LAYER, LAYER.index)
        where = ("over the batch: for each of the {n} units, $x_{{i}}$ is the unit's value in "
                 "sample $i = 1, \\ldots, m$ of {src}, $\\mu$ and $\\sigma^{{2}}$ its mean and "
                 "biased variance over the $m$ samples (sp.batchnorm_derivation() derives it)"
                 if nn is BATCH else
                 "over the units of the sample: $x_{{k}}$ is unit $k$ of {src}, $\\mu$ and "
                 "$\\sigma^{{2}}$ the mean and biased variance of its $n = {n}$ units "
                 "(sp.layernorm_derivation() derives it)")
        d.add(f"Forward pass, node {q} ({spec.label}): normalize",
              (XHAT[index], (X[index] - MU) / sp.sqrt(InOrder(SIGMA2, EPS))),
              prose(where.format(n=spec.n, src=f"${s.out_tex(p)}$")
                    + f"; $\\epsilon = {_power(spec.eps)}$"))
        d.add(f"Forward pass, node {q}: scale and shift",
              sp.Eq(Y[index], InOrder(nn.gamma_at(index) * XHAT[index], nn.beta_at(index)),
                    evaluate=False),
              prose(f"$y_{{{sp.latex(index)}}}$ is the unit's value in ${s.out_tex(q)}$; "
                    + ("$\\gamma$ and $\\beta$ the unit's entries of" if nn is BATCH else
                       "$\\gamma_{k}$ and $\\beta_{k}$ the entries of")
                    + f" the learned $\\gamma^{{({q})}}, \\beta^{{({q})}}$"))
    else:
        body = matrix_notation(f"~F{q}", rf"F_{{{q}}}\left({s.out_tex(p)}\right)",
                               s.width[p], 1)
        d.add(f"Residual block {q}: the skip added", (s.out(q), s.out(p) + body,
                                                      s.out(p) + s.out(node.body_last)),
              prose(f"the body $F_{{{q}}}$ (nodes {q + 1} to {node.end}) maps {source} "
                    f"${s.out_tex(p)}$ to ${s.out_tex(node.body_last)}$, and the skip adds "
                    "the input back: $x + F(x)$"))


def _power(eps: float) -> str:
    """``10^{-5}``, ``2 \\cdot 10^{-3}``: a number in LaTeX as a power of ten."""
    mantissa, exponent = f"{eps:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return ("" if mantissa == "1" else mantissa + r" \cdot ") + f"10^{{{int(exponent)}}}"


class Backward:
    """The backward steps, node by node in reverse; ``weights`` collects the weight
    gradients."""

    def __init__(self, d, s: Symbols, acts, factor, output):
        self.d, self.s, self.acts, self.factor = d, s, acts, factor
        self.output = output
        self.weights: dict[int, object] = {}

    def sequence(self, nodes: list[Node], target) -> None:
        """Nodes of one level in forward order; ``target``: the symbol the first node's input
        gradient is written to (None for the input x)."""
        for index in range(len(nodes) - 1, -1, -1):
            node = nodes[index]
            into = target if index == 0 else self.s.g(nodes[index - 1].q)
            if isinstance(node.spec, LayerSpec):
                self.dense(node, into)
            elif isinstance(node.spec, NormSpec):
                self.norm(node, into)
            else:
                self.residual(node, into)

    def dense(self, node: Node, into) -> None:
        d, s, q, p = self.d, self.s, node.q, node.p
        act, coupled = self.acts[q], s.coupled(q)
        if q == self.output[0]:
            _, shown, factor_form = self.output
            d.add(f"Error signal of the output layer {q}",
                  (s.delta(q), partial("L", f"z{q}", "L", f"z^{{({q})}}"), shown),
                  ("the output delta derived above, unit by unit, with ",
                   TeX(rf"\hat{{y}} = a^{{({q})}}")))
        else:
            label = function_notation(_label(node.spec, act), f"z^{{({q})}}", prime=True)
            a_q = notation(f"a{q}", f"a^{{({q})}}", real=True)
            if act.derivative_of_output is not None:
                slope = act.derivative_of_output.subs(act.a, a_q)
            else:
                slope = act.derivative.subs(act.z, notation(f"z{q}", f"z^{{({q})}}", real=True))
            if act.kind == "softmax":
                jac = matrix_notation(f"J softmax {q}", rf"J^{{({q})}}", s.width[q], s.width[q])
                d.add(f"Error signal of node {q} (softmax: its Jacobian)",
                      (s.delta(q), jac * s.g(q)),
                      prose(f"$J^{{({q})}} = \\operatorname{{diag}}(a^{{({q})}}) - a^{{({q})}} "
                            f"(a^{{({q})}})^{{T}}$, symmetric: softmax couples the units"))
            else:
                d.add(f"Derivative of {act.name} at node {q}", (label, slope),
                      prose(f"from the derivation of {act.name}; elementwise"))
                d.add(f"Error signal of node {q}",
                      (s.delta(q), sp.HadamardProduct(s.g(q), _slope(node.spec, act, q,
                                                                     s.width[q]))),
                      prose("the dense-layer rule: the gradient at the layer's output times "
                            "its activation's derivative, elementwise"
                            + ("; here both are sample $i$'s gradients of $J$" if coupled
                               else "")))
        if coupled:
            delta_i = notation(f"delta{q}_i nc", rf"\delta^{{({q})}}_{{i}}", commutative=False)
            input_i = notation(f"h{p}_i T nc", rf"({s.out_tex(p)}_{{i}})^{{T}}",
                               commutative=False)
            weight = (partial("J", f"W{q}", "J", f"W^{{({q})}}"),
                      sp.Sum(delta_i * input_i, (i, 1, m)))
            bias = (partial("J", f"b{q}", "J", f"b^{{({q})}}"), sp.Sum(delta_i, (i, 1, m)))
            why = prose("a BatchNorm above makes these gradients of $J$ already: summed over "
                        "the samples, no batch-mean factor to add")
        else:
            weight = (partial("L", f"W{q}", "L", f"W^{{({q})}}"), s.delta(q) * s.out(p).T)
            bias = (partial("L", f"b{q}", "L", f"b^{{({q})}}"), s.delta(q))
            if q == self.output[0]:
                weight += (self.output[2] * s.out(p).T,)
                bias += (self.output[1],)
            why = prose(f"the dense-layer rules, with the layer's input ${s.out_tex(p)}$")
        self.weights[q] = weight[-1]
        d.add(f"Weight gradient of node {q}", weight, why)
        d.add(f"Bias gradient of node {q}", bias, "the error signal itself"
              + (", summed over the samples" if coupled else ""))
        if into is not None:
            d.add(f"Gradient at node {q}'s input", (into, s.W(q).T * s.delta(q)),
                  prose(f"the dense-layer rule: ${s.out_tex(p)}$ feeds every unit of the "
                        "layer, so the chain rule sums over them"))

    def norm(self, node: Node, into) -> None:
        d, s, q, spec = self.d, self.s, node.q, node.spec
        loss = "J" if spec.kind == "batchnorm" or s.coupled(q) else "L"
        target = "$" + sp.latex(into) + "$" if into is not None else "the input's gradient"
        if spec.kind == "batchnorm":
            nn, what = BATCH, "sample $i$'s value of the unit, summed over the batch $j$"
            if not s.coupled(q):
                d.add(f"Node {q} (BatchNorm): into the training loss",
                      (partial("J", f"h{q:02d}_i", "J", s.out_tex(q) + "_{i}"),
                       Times(self.factor, s.g(q, sample=True))),
                      prose("the batch statistics couple the samples, so the gradient through "
                            "BatchNorm is one of the training loss $J$, not of one sample's "
                            f"$L$: $J = {sp.latex(self.factor)} \\sum_{{i}} L_{{i}}$, and above "
                            f"node {q} sample $i$'s values reach only $L_{{i}}$"))
        else:
            nn, what = LAYER, "unit $k$ of one sample, summed over its units $j$"
        index = nn.index
        dx = partial(loss, f"x_{index}", loss, f"x_{{{sp.latex(index)}}}")
        d.add(f"Backward through node {q} ({spec.label})",
              (dx, closed_form(nn, written=True)),
              prose(f"the closed form of {spec.label}, {what} (sp."
                    f"{'batchnorm' if nn is BATCH else 'layernorm'}_derivation() derives it):"
                    f" $g$ is the gradient at ${s.out_tex(q)}$, $\\hat{{x}}$ the normalized "
                    f"values; each unit's result is its entry of {target}"
                    + (" (of $J$ for sample $i$)" if nn is BATCH or s.coupled(q) else "")))
        from symprop.derive.norms import G, j

        if nn is BATCH:
            dgamma, dbeta = nn.total(G[j] * XHAT[j]), nn.total(G[j])
            how = "summed over the batch (gradients of $J$)"
        else:
            dgamma, dbeta = G[index] * XHAT[index], G[index]
            how = ("per sample; " + ("summed over the samples, of $J$" if s.coupled(q) else
                                      "the batch mean below averages the samples"))
        u = "u" if nn is BATCH else sp.latex(index)
        d.add(f"Scale and shift gradients of node {q}",
              (partial(loss, f"gamma{q}", loss, rf"\gamma^{{({q})}}_{{{u}}}"), dgamma),
              prose(f"${u}$ the unit; {how}"))
        d.add(f"... of node {q}'s shift",
              (partial(loss, f"beta{q}", loss, rf"\beta^{{({q})}}_{{{u}}}"), dbeta),
              prose("$\\partial y / \\partial \\beta = 1$"))

    def residual(self, node: Node, into) -> None:
        d, s, r, p = self.d, self.s, node.q, node.p
        d.add(f"Residual block {r}: into the body", (s.g(node.body_last), s.g(r)),
              prose(f"${s.out_tex(r)} = {s.out_tex(p)} + {s.out_tex(node.body_last)}$: "
                    "the body's output gets the block output's gradient unchanged"))
        body = [n for n in self.s.nodes.values() if n.q > r and n.q <= node.end
                and not any(o.q > r and o.q < n.q <= o.end for o in self.s.nodes.values())]
        self.sequence(body, s.body_path(r))
        skip, rescaled = s.g(r), s.coupled(p) and not s.coupled(r)
        if rescaled:  # the body holds a BatchNorm: J throughout
            skip = sp.MatMul(self.factor, s.g(r, sample=True))
        target = into if into is not None else s.g(0)
        d.add(f"Residual block {r}: the skip path plus the body's path",
              (target, s.grad_of(p), sp.MatAdd(skip, s.body_path(r))),
              prose(f"${s.out_tex(p)}$ fans out to the skip and to the body $F_{{{r}}}$, so the "
                    "multivariable chain rule adds the gradients along both: the skip passes "
                    f"${sp.latex(s.g(r))}$ unchanged, the body adds what came down through it,"
                    f" $(J^{{F}})^{{T}} g$ (sp.residual_derivation() derives "
                    "$g + (J^{F})^{T} g$)"
                    + (f"; the skip's gradient of $L$ times ${sp.latex(self.factor)}$ is one "
                       "of $J$, as the body's is" if rescaled else "")))


def _batch_mean(d: Derivation, s: Symbols, numbered: list[Node], factor) -> None:
    theta_i = notation("dL_i/dtheta nc", r"\frac{\partial L_{i}}{\partial \theta}",
                       commutative=False)
    batch = [node.q for node in numbered if s.coupled(node.q) and not isinstance(
        node.spec, ResidualSpec)] + [q for q in s.batchnorms]
    params = [node.q for node in numbered if not isinstance(node.spec, ResidualSpec)]
    per_sample = [q for q in params if q not in batch]
    listed = ", ".join(map(str, per_sample)) or "none"
    already = ("; the gradients of nodes " + ", ".join(map(str, sorted(set(batch)))) +
               " are of $J$ above already (a BatchNorm at or above them), summed over the "
               "samples" if batch else "")
    d.add("Batch mean of the gradients",
          (partial("J", "theta", "J", r"\theta"), scaled(factor, sp.Sum(theta_i, (i, 1, m)))),
          prose(f"for every parameter $\\theta$ of nodes {listed} (weights, biases, scales, "
                f"shifts): $J$ is ${sp.latex(factor)}$ times the sum of the samples' losses "
                f"and differentiation is linear{already}"))
