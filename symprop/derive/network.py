"""The backpropagation of a whole network, step by step, as the notes derive their 3-layer
example (seed 001).

One sample first, in the notes' column-vector notation (``z^(l) = W^(l) a^(l-1) + b^(l)``,
``W^(l)`` of shape ``n_l x n_(l-1)``): the forward pass, the loss, the general dense-layer
rules (derived from the scalar form in :mod:`symprop.derive.dense_rules`), the output error
signal (derived by :func:`symprop.derive.delta.output_delta` and substituted), the recursion
``delta^(l) = (W^(l+1))^T delta^(l+1) (.) f'(z^(l))`` with each activation's derivative in
its output form, the weight and bias gradients of every layer, and the first layer's
gradient unrolled into one flat product. Then the batch mean ``J`` with the factor the runtime
applies (:func:`symprop.derive.delta.batch_mean_factor`: ``1/m`` for categorical losses,
``1/(m n_L)`` for elementwise ones), checked against ``J`` differentiated numerically; the
gradient-descent updates; and the same rules in the runtime's batch-major layout
(:mod:`symprop.derive.network_layout`: ``Z = X W + b`` with ``W`` of shape ``(n_in, n_out)``).
"""

from __future__ import annotations

import sympy as sp

from symprop.architecture import LayerSpec, check_chain, format_architecture, parse_architecture
from symprop.blocks import (
    NormSpec,
    ResidualSpec,
    check_nodes,
    count_nodes,
    describe,
    parse_network,
    split_top_level,
)
from symprop.derive.delta import batch_mean_factor, output_delta
from symprop.derive.dense_rules import BATCH_CHECKS, check_batch_mean, dense_layer_rules
from symprop.derive.derivation import (
    Derivation,
    TeX,
    Update,
    function_notation,
    notation,
    partial,
    prose,
)
from symprop.derive.limits import BUDGET_SECONDS, bounded
from symprop.derive.losses import loss as make_loss
from symprop.derive.network_layout import NetworkNotation, scaled, vector_delta
from symprop.derive.network_layout import runtime_layout as _runtime_layout
from symprop.derive.stepwise import LOSS_DEFINITIONS
from symprop.derive.symbols import YHAT, Y, i, k, m, y, yhat
from symprop.errors import ShapeError, SympropError

__all__ = ["dense_layer_rules", "network_derivation"]

MAX_DERIVED_LAYERS = 32


def _budget(layers, loss="mse") -> float:
    # Each layer may derive a formula of its own: one budget per layer.
    return BUDGET_SECONDS * max(1, layers.count("-") if isinstance(layers, str) else len(layers))


@bounded(lambda layers, loss="mse": "the network derivation", seconds=_budget)
def network_derivation(layers: list[LayerSpec] | str, loss="mse") -> Derivation:
    """The whole backward pass of ``layers`` (LayerSpecs, or an architecture string such as
    ``"4-8:relu-3:softmax"``) with the loss ``loss`` (a name or a Loss), step by step."""
    if isinstance(layers, str):
        layers = _parse(layers)
    if not isinstance(layers, list | tuple) or not all(
            isinstance(layer, LayerSpec | NormSpec | ResidualSpec) for layer in layers):
        raise ShapeError("network_derivation takes an architecture string such as "
                         "'4-8:relu-bn-[8:relu]-3:softmax' or a list of LayerSpecs, NormSpecs "
                         "and ResidualSpecs")
    if not all(isinstance(layer, LayerSpec) for layer in layers):
        return _with_blocks(list(layers), loss)
    check_chain(layers)
    if len(layers) > MAX_DERIVED_LAYERS:
        # The rules are the same for every layer; past this a derivation is neither readable
        # nor quick (50 layers take seconds, 200 exhaust the recursion limit).
        raise ShapeError(f"a network derivation covers at most {MAX_DERIVED_LAYERS} layers, "
                         f"not {len(layers)}: derive a shorter network of the same kinds")
    the_loss = make_loss(loss)
    acts = [layer.make_activation() for layer in layers]
    net = NetworkNotation([layers[0].n_in] + [layer.n_out for layer in layers], acts)
    depth = net.depth
    d = Derivation(f"Backpropagation for {format_architecture(layers)} with loss "
                   f"{the_loss.name}")
    d.notes.append(prose(
        "Column-vector notation, one sample at a time: $z^{(l)} = W^{(l)} a^{(l-1)} + "
        "b^{(l)}$ and $a^{(l)} = f^{(l)}(z^{(l)})$ for $l = 1, \\ldots, L$ with "
        f"$L = {depth}$, $a^{{(0)}} = x$ the input and $\\hat{{y}} = a^{{(L)}}$ the prediction; "
        "$\\delta^{(l)} = \\partial L / \\partial z^{(l)}$ is the error signal of layer $l$. "
        "The gradients of one sample's loss $L$ come first, then their batch mean, the "
        "gradient of the training loss $J$; the last steps restate the rules in the "
        "runtime's batch-major layout."))
    _forward(d, net, acts)
    _loss(d, net, the_loss)
    d.extend(dense_layer_rules(), prefix="Dense-layer rule: ")
    out = output_delta(the_loss, acts[-1])
    d.extend(out, prefix=f"Output layer {depth}: ")
    shown, factor_form = vector_delta(out.result, net)
    _backward(d, net, acts, shown, factor_form)
    if depth > 1:
        d.add("Unrolled weight gradient of the first layer",
              (partial("L", "W1", "L", "W^{(1)}"), _unrolled(net, acts, factor_form)),
              prose("the recursion substituted into itself down to the output error signal: "
                    "each $u \\odot f'(z^{(l)})$ is $\\operatorname{diag}(f'(z^{(l)}))\\, u$, "
                    "so the factors multiply in a row; each is known once "
                    "the forward pass has run"))
    _batch_mean(d, net, the_loss)
    _updates(d)
    _runtime_layout(d, net, the_loss, out.result)
    d.result = [net.delta[l] * net.a[l - 1].T for l in range(1, depth + 1)]
    return d


def _parse(text: str) -> list:
    """A dense chain as today (parse_architecture and its errors); with bn, ln or [...] the
    network parser."""
    tokens = split_top_level(text.strip()) if text.strip() else []
    if any(token.startswith("[") or token.split("(")[0] in ("bn", "ln") for token in tokens):
        return parse_network(text)
    return parse_architecture(text)


def _with_blocks(nodes: list, loss) -> Derivation:
    from symprop.derive.network_blocks import block_network_derivation

    check_nodes(nodes)
    total = count_nodes(nodes)
    if total > MAX_DERIVED_LAYERS:
        raise ShapeError(f"a network derivation covers at most {MAX_DERIVED_LAYERS} layers and "
                         f"blocks, not {total}: derive a shorter network of the same kinds")
    if not isinstance(nodes[-1], LayerSpec):
        last = total - count_nodes(nodes[-1:]) + 1  # its number, depth first
        raise SympropError(f"the last node of a network must be a dense layer (its activation "
                           f"and the loss make the output error signal), not "
                           f"{describe(nodes[-1], last)}: add one, e.g. -1:sigmoid")
    the_loss = make_loss(loss)
    return block_network_derivation(nodes, nodes[0].n_in, the_loss, (
        "Column-vector notation, one sample at a time: a dense layer $l$ computes $z^{(l)} = "
        "W^{(l)} h^{(p)} + b^{(l)}$ from the output $h^{(p)}$ of the node before it. "))


def _shape(name: str, rows, cols=1) -> str:
    return rf"{name} \in \mathbb{{R}}^{{{rows} \times {cols}}}"


def _forward(d: Derivation, net: NetworkNotation, acts) -> None:
    for l in range(1, net.depth + 1):
        n, n_prev = net.widths[l], net.widths[l - 1]
        shapes = [_shape(f"W^{{({l})}}", n, n_prev), _shape(f"b^{{({l})}}, z^{{({l})}}", n)]
        if l == 1:
            shapes.insert(0, _shape("x", n_prev))
        d.add(f"Forward pass, layer {l}", (net.z[l], net.W[l] * net.a[l - 1] + net.b[l]),
              ("an affine map of " + ("the input" if l == 1 else f"layer {l - 1}'s output")
               + ", with ", TeX(r",\ ".join(shapes))))
        act = acts[l - 1]
        units = f"each of the {n} units" if n > 1 else "its one unit"
        what = (f"softmax over the {n} units: a probability vector" if act.kind == "softmax"
                else f"the activation {act.name} applied to {units}")
        last = ("; the prediction is ", TeX(rf"\hat{{y}} = a^{{({l})}}")) if l == net.depth \
            else ()
        d.add(f"Activation, layer {l}",
              (net.a[l], function_notation(net.labels[l - 1], f"z^{{({l})}}")),
              (what, *last))


def _loss(d: Derivation, net: NetworkNotation, the_loss) -> None:
    n_out = net.widths[-1]
    if the_loss.kind == "categorical":
        # K kept, as the output delta's steps write it, and its value stated once.
        per_sample, over = the_loss.expr, f" ($K = n_{{L}} = {n_out}$ here)"
    elif n_out > 1:  # an elementwise loss: one term per output unit
        per_sample = sp.Sum(the_loss.expr.subs({yhat: YHAT[k], y: Y[k]}), (k, 1, n_out))
        over = f", summed over the {n_out} output units"
    else:
        per_sample, over = the_loss.expr, ""
    d.add("Loss of one sample", (notation("L", "L"), per_sample),
          (f"loss {the_loss.name}: ", *_definition(the_loss), *prose(over), "; ",
           TeX(r"\hat{y} = a^{(L)}")))
    factor = batch_mean_factor(the_loss, n_out)
    samples = sp.Sum(notation("L_i nc", "L_{i}", commutative=False), (i, 1, m))
    J = notation("J", "J")
    if the_loss.kind == "categorical":
        d.add("Training loss: the batch mean", (J, scaled(factor, samples)),
              prose("the mean over the $m$ samples of a batch, as PyTorch's cross-entropy "
                    "takes it: the classes are summed inside $L$, so every gradient of $J$ "
                    "carries the factor $\\frac{1}{m}$"))
        return
    general = batch_mean_factor(the_loss)
    chain = (J, scaled(general, samples), scaled(factor, samples)) if n_out > 1 else (
        J, scaled(factor, samples))
    d.add("Training loss: the batch mean", chain,
          prose(f"the mean over the $m$ samples and the $n_{{L}} = {n_out}$ output "
                f"unit{'s' if n_out > 1 else ''}, as "
                "PyTorch's mean reduction (MSELoss, BCELoss) and the runtime take it, so "
                f"every gradient of $J$ carries the factor ${sp.latex(factor)}$"))


def _definition(the_loss) -> tuple:
    """What the loss is, as prose with maths (a built-in's has \\hat{y} where its one-line
    summary has yhat); a user's loss its own summary."""
    return LOSS_DEFINITIONS.get(the_loss.name, (the_loss.summary,))


def _slope_step(d: Derivation, net: NetworkNotation, act, l: int):
    label = function_notation(net.labels[l - 1], f"z^{{({l})}}", prime=True)
    a_l = notation(f"a{l}", f"a^{{({l})}}", real=True)
    if act.derivative_of_output is not None:
        d.add(f"Derivative of {act.name} at layer {l}, in terms of its output",
              (label, act.derivative_of_output.subs(act.a, a_l)),
              prose(f"from the derivation of {act.name}, written in its output $a^{{({l})}}$ "
                    f"so that $z^{{({l})}}$ need not be kept; elementwise"))
        return
    d.add(f"Derivative of {act.name} at layer {l}",
          (label, act.derivative.subs(act.z, notation(f"z{l}", f"z^{{({l})}}", real=True))),
          prose(f"from the derivation of {act.name}; it has no form in $a^{{({l})}}$ alone, "
                f"so it stays in $z^{{({l})}}$; elementwise"))


def _backward(d: Derivation, net: NetworkNotation, acts, shown, factor_form) -> None:
    depth = net.depth
    d.add(f"Error signal of the output layer {depth}",
          (net.delta[depth], partial("L", f"z{depth}", "L", f"z^{{({depth})}}"), shown),
          ("the output delta derived above, unit by unit, with ",
           TeX(rf"\hat{{y}} = a^{{({depth})}}"),
           # A per-unit formula other than c (yhat - y) reads entry by entry.
           "" if shown is factor_form else " (products of vectors taken elementwise)"))
    for l in range(depth, 0, -1):
        if l < depth:
            act = acts[l - 1]
            recursion = prose("the recursion $\\delta^{(l)} = (W^{(l+1)})^{T} \\delta^{(l+1)} "
                              f"\\odot f'(z^{{(l)}})$ at $l = {l}$")
            if act.kind == "softmax":
                d.add(f"Error signal of layer {l} (softmax: its Jacobian)",
                      (net.delta[l], net.jacobian(l) * net.W[l + 1].T * net.delta[l + 1]),
                      prose(f"softmax couples the units: $\\partial a_{{k}} / \\partial z_{{j}} "
                            f"= a_{{k}} ([j = k] - a_{{j}})$, the matrix "
                            f"$\\operatorname{{diag}}(a^{{({l})}}) - a^{{({l})}} "
                            f"(a^{{({l})}})^{{T}}$ (symmetric), in place of the elementwise "
                            "product of the recursion"))
            else:
                _slope_step(d, net, act, l)
                d.add(f"Error signal of layer {l}",
                      (net.delta[l], sp.HadamardProduct(net.W[l + 1].T * net.delta[l + 1],
                                                        net.slope(l))),
                      recursion + (f": the dense-layer rule with layer {l}'s activation, "
                                   f"{act.name}",))
        inputs = ("the input " if l == 1 else f"layer {l - 1}'s output ", net.a[l - 1])
        weight = (partial("L", f"W{l}", "L", f"W^{{({l})}}"), net.delta[l] * net.a[l - 1].T)
        bias = (partial("L", f"b{l}", "L", f"b^{{({l})}}"), net.delta[l])
        if l == depth:  # the output error signal substituted, as the notes do
            weight += (factor_form * net.a[l - 1].T,)
            bias += (shown,)
        d.add(f"Weight gradient of layer {l}", weight,
              ("the dense-layer rule: the error signal times the transpose of the layer's "
               "input, ", *inputs))
        d.add(f"Bias gradient of layer {l}", bias,
              prose(f"the dense-layer rule: $\\partial z^{{({l})}} / \\partial b^{{({l})}}$ is "
                    "the identity, so the bias gradient is the error signal itself"))


def _unrolled(net: NetworkNotation, acts, factor_form):
    """dL/dW^(1) as one flat matrix product: diag(f'(z^(1))) (W^(2))^T ... (W^(L))^T
    delta^(L) x^T, the output error signal substituted."""
    factors = []
    for l in range(1, net.depth):
        factors += [net.jacobian(l) if acts[l - 1].kind == "softmax" else net.diag(l),
                    net.W[l + 1].T]
    # 2 (yhat - y) contributes its number first and its vector in place: one flat product.
    coefficient, signal = (factor_form.as_coeff_mmul() if isinstance(factor_form, sp.MatMul)
                           else (sp.S.One, factor_form))
    signal = list(signal.args) if isinstance(signal, sp.MatMul) else [signal]
    lead = [] if coefficient == 1 else [coefficient]
    return sp.MatMul(*lead, *factors, *signal, net.a[0].T)


def _batch_mean(d: Derivation, net: NetworkNotation, the_loss) -> None:
    factor = batch_mean_factor(the_loss, net.widths[-1])
    delta_i = notation("delta_i^(l) nc", r"\delta^{(l)}_{i}", commutative=False)
    input_i = notation("(a_i^(l-1))^T nc", r"(a^{(l-1)}_{i})^{T}", commutative=False)
    linear = prose(f"$J$ is ${sp.latex(factor)}$ times the sum of the samples' losses and "
                   "differentiation is linear, so for every layer $l$ the gradient of $J$ is "
                   "that multiple of the sum of the per-sample gradients above; "
                   "$\\delta^{(l)}_{i}$ is sample $i$'s error signal")
    d.add("Batch mean of the weight gradients",
          (partial("J", "W_l", "J", "W^{(l)}"), scaled(factor, sp.Sum(delta_i * input_i,
                                                                      (i, 1, m)))), linear)
    d.add("Batch mean of the bias gradients",
          (partial("J", "b_l", "J", "b^{(l)}"), scaled(factor, sp.Sum(delta_i, (i, 1, m)))),
          prose(f"the same mean, with the factor ${sp.latex(factor)}$"))
    for case in BATCH_CHECKS:
        check_batch_mean(*case)
    d.add("Checked", notation("verified", r"\checkmark"),
          prose("these batch-mean gradients, factor included, were compared with central "
                "differences of $J$ (the mean of the unreduced loss, as PyTorch takes it) "
                "for 2-3-3 networks and two samples: mse ($\\frac{1}{3 m}$), bce after "
                "sigmoid ($\\frac{1}{3 m}$) and ce after softmax ($\\frac{1}{m}$)"))


def _updates(d: Derivation) -> None:
    eta = notation("eta", r"\eta", positive=True)
    for what, name in (("weights", "W"), ("biases", "b")):
        param = notation(f"{name}_l", f"{name}^{{(l)}}")
        grad = partial("J", f"{name}_l", "J", f"{name}^{{(l)}}")
        d.add(f"Gradient-descent update of the {what}", Update(param, param - eta * grad),
              prose("for every layer $l$, with the learning rate $\\eta > 0$: a small step "
                    "against the gradient lowers $J$; momentum, Adam and RMSprop change only "
                    "this rule (symprop derive adam)") if name == "W" else
              prose("the same step for the biases"))

