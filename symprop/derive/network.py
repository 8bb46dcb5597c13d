"""The layer-by-layer backpropagation of a whole network, as in the notes' 3-layer example.

The matrix rules of a dense layer are *derived* here from its indexed scalar form
``z_p = sum_q W_pq a_q + b_p`` (differentiate, sift the Kronecker deltas, read off the
matrix form) and then checked against SymPy differentiating a small concrete network
entry by entry. The network derivation then applies them layer by layer, with each
layer's own activation derivative substituted and the output delta from
:func:`symprop.derive.delta.output_delta`.

Notation is the notes' column-vector one: ``z^(l) = W^(l) a^(l-1) + b^(l)``, ``W^(l)`` of
shape ``n_l x n_(l-1)``. The runtime stores the transpose, batch-major: ``Z = X W + b`` with
``W`` of shape ``(n_in, n_out)``; the last steps restate the rules in that layout.
"""

from __future__ import annotations

import random
from functools import cache

import sympy as sp

from symprop.architecture import (
    LayerSpec,
    check_chain,
    format_architecture,
    parse_architecture,
)
from symprop.derive.activations import activation
from symprop.derive.delta import output_delta
from symprop.derive.derivation import Derivation, matrix_notation, notation, partial
from symprop.derive.limits import BUDGET_SECONDS, bounded
from symprop.derive.losses import loss as make_loss
from symprop.derive.simplify import collapse_delta_sums
from symprop.derive.symbols import a, m
from symprop.errors import ShapeError

p, q, r, s_ = sp.symbols("p q r s", integer=True, positive=True)
n_out, n_in = sp.symbols("n_l n_lm1", integer=True, positive=True)


def _indexed(text: str, latex: str) -> sp.IndexedBase:
    return sp.IndexedBase(notation(text, latex, real=True), real=True)


@cache
def dense_layer_rules() -> Derivation:
    """Derive dL/dW = delta a^T, dL/db = delta, dL/da = W^T delta from the scalar form."""
    W, b = _indexed("W", "W"), _indexed("b", "b")
    a_prev, z_, delta = _indexed("a_prev", "a^{(l-1)}"), _indexed("z", "z"), _indexed(
        "delta", r"\delta")
    d = Derivation("Backpropagation through one dense layer, derived from the scalar form")
    zp = sp.Sum(W[p, q] * a_prev[q], (q, 1, n_in)) + b[p]
    d.add("Scalar form of the layer", sp.Eq(z_[p], zp, evaluate=False),
          "output unit p of layer l; delta_p = dL/dz_p is known from the layer above")
    dz_dw = sp.diff(zp, W[r, s_])
    d.add("Differentiate z_p with respect to a weight W_rs",
          (partial("z_p", "W_rs", "z_{p}", "W_{r s}"), dz_dw, collapse_delta_sums(dz_dw)),
          "only the term q = s survives, and only in row p = r")
    dl_dw = collapse_delta_sums(sp.Sum(delta[p] * collapse_delta_sums(dz_dw), (p, 1, n_out)))
    d.add("Chain rule for the weight",
          (partial("L", "W_rs", "L", "W_{r s}"),
           sp.Sum(delta[p] * collapse_delta_sums(dz_dw), (p, 1, n_out)), dl_dw),
          "sum over every z_p that W_rs feeds; the Kronecker delta sifts p = r")
    dl_db = collapse_delta_sums(sp.Sum(delta[p] * sp.diff(zp, b[r]), (p, 1, n_out)))
    d.add("Chain rule for the bias", (partial("L", "b_r", "L", "b_{r}"), dl_db),
          "dz_p/db_r = delta_pr")
    dl_da = collapse_delta_sums(sp.Sum(delta[p] * sp.diff(zp, a_prev[s_]), (p, 1, n_out)))
    d.add("Chain rule for the layer's input",
          (partial("L", "a_prev_s", "L", "a^{(l-1)}_{s}"), dl_da),
          "a_s feeds every unit p of the layer through W_ps")
    Wm = matrix_notation("W_l", "W^{(l)}", n_out, n_in)
    dm = matrix_notation("delta_l", r"\delta^{(l)}", n_out, 1)
    am = matrix_notation("a_lm1", "a^{(l-1)}", n_in, 1)
    fprime = matrix_notation("f'(z_lm1)", "f'(z^{(l-1)})", n_in, 1)
    d.add("Read off the matrix forms",
          (partial("L", "W_l", "L", "W^{(l)}"), dm * am.T),
          "entry (r, s) of the outer product delta a^T is delta_r a_s")
    d.add("... for the bias", (partial("L", "b_l", "L", "b^{(l)}"), dm), "entry r is delta_r")
    d.add("... and the delta of the layer below",
          (matrix_notation("delta_lm1", r"\delta^{(l-1)}", n_in, 1),
           sp.HadamardProduct(Wm.T * dm, fprime)),
          "entry s of W^T delta is sum_p W_ps delta_p; then dL/dz = dL/da * f'(z) "
          "elementwise, since a = f(z) acts unit by unit")
    _check_rules_on_concrete_network()
    d.add("Checked", notation("verified", r"\checkmark"),
          "the three rules were compared with SymPy differentiating a concrete 2-3-2 network "
          "entry by entry at random points")
    d.result = (dm * am.T, dm, sp.HadamardProduct(Wm.T * dm, fprime))
    return d


def _check_rules_on_concrete_network(seed: int = 0) -> None:
    """Differentiate a small explicit network with SymPy and compare with the matrix rules."""
    rng = random.Random(seed)
    sizes = (2, 3, 2)
    W1, W2 = sp.Matrix(3, 2, sp.symbols("u0:6")), sp.Matrix(2, 3, sp.symbols("v0:6"))
    b1, b2 = sp.Matrix(sp.symbols("c0:3")), sp.Matrix(sp.symbols("e0:2"))
    x, target = sp.Matrix(sp.symbols("x0:2")), sp.Matrix(sp.symbols("t0:2"))
    z1 = W1 * x + b1
    a1 = z1.applyfunc(sp.tanh)
    z2 = W2 * a1 + b2
    yhat = z2  # identity output, mse loss: delta2 = 2 (yhat - y)
    L = sum((yhat[i] - target[i]) ** 2 for i in range(sizes[2]))
    delta2 = 2 * (yhat - target)
    delta1 = (W2.T * delta2).multiply_elementwise(a1.applyfunc(lambda v: 1 - v**2))
    rules = [(W2, delta2 * a1.T), (b2, delta2), (W1, delta1 * x.T), (b1, delta1)]
    variables = sorted(L.free_symbols, key=str)
    point = [rng.uniform(-1, 1) for _ in variables]
    for param, rule in rules:
        for index in range(len(param)):
            by_sympy = sp.lambdify(variables, sp.diff(L, param[index]), "math")(*point)
            by_rule = sp.lambdify(variables, rule[index], "math")(*point)
            if abs(by_sympy - by_rule) > 1e-9 * (1 + abs(by_sympy)):
                raise AssertionError(f"dense-layer rule disagrees with SymPy at {param[index]}")


MAX_DERIVED_LAYERS = 32


@bounded(lambda layers, loss_spec: "the network derivation",
         # Each layer may derive a formula of its own: one budget per layer.
         seconds=lambda layers, loss_spec: BUDGET_SECONDS * max(
             1, layers.count("-") if isinstance(layers, str) else len(layers)))
def network_derivation(layers: list[LayerSpec], loss_spec) -> Derivation:
    """The whole backward pass of ``layers`` (LayerSpecs, or an architecture string such as
    ``"4-8:relu-3:softmax"``) with ``loss_spec``, step by step."""
    if isinstance(layers, str):
        layers = parse_architecture(layers)
    if not isinstance(layers, list | tuple) or not all(
            isinstance(layer, LayerSpec) for layer in layers):
        raise ShapeError("network_derivation takes an architecture string such as "
                         "'4-8:relu-3:softmax' or a list of LayerSpecs")
    check_chain(layers)
    if len(layers) > MAX_DERIVED_LAYERS:
        # The rules are the same for every layer; past this a derivation is neither readable
        # nor quick (50 layers take seconds, 200 exhaust the recursion limit).
        raise ShapeError(f"a network derivation covers at most {MAX_DERIVED_LAYERS} layers, "
                         f"not {len(layers)}: derive a shorter network of the same kinds")
    the_loss = make_loss(loss_spec)
    acts = [activation(layer.activation) for layer in layers]
    depth = len(layers)
    arch = format_architecture(layers)
    d = Derivation(f"Backpropagation for {arch} with loss {the_loss.name}")
    d.notes.append(
        "Column-vector notation of the notes: z^(l) = W^(l) a^(l-1) + b^(l), W^(l) of shape "
        "n_l x n_(l-1), a^(0) = x. The runtime stores the transposed, batch-major layout "
        "Z = X W + b with W of shape (n_in, n_out); the last steps restate the rules there.")
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    W = {l: matrix_notation(f"W{l}", f"W^{{({l})}}", widths[l], widths[l - 1])
         for l in range(1, depth + 1)}
    b = {l: matrix_notation(f"b{l}", f"b^{{({l})}}", widths[l], 1) for l in range(1, depth + 1)}
    z = {l: matrix_notation(f"z{l}", f"z^{{({l})}}", widths[l], 1) for l in range(1, depth + 1)}
    av = {l: matrix_notation(f"a{l}", f"a^{{({l})}}", widths[l], 1) for l in range(1, depth + 1)}
    av[0] = matrix_notation("x", "x", widths[0], 1)
    delta = {l: matrix_notation(f"delta{l}", rf"\delta^{{({l})}}", widths[l], 1)
             for l in range(1, depth + 1)}

    for l in range(1, depth + 1):
        fname = notation(f"{acts[l - 1].name}(z{l})", rf"\operatorname{{{_tex_name(acts[l - 1])}}}"
                         rf"\left(z^{{({l})}}\right)")
        d.add(f"Forward pass, layer {l} ({acts[l - 1].name})",
              (sp.Eq(z[l], W[l] * av[l - 1] + b[l], evaluate=False)),
              f"W^({l}) is {widths[l]} x {widths[l - 1]}, b^({l}) and z^({l}) have "
              f"{widths[l]} entries")
        d.add(f"Activation, layer {l}", sp.Eq(av[l], fname, evaluate=False),
              "applied to each unit" if acts[l - 1].kind != "softmax" else
              "softmax over the units of the layer")
    loss_symbol = notation("L", "L")
    d.add("Loss of one sample, yhat = a^(L)", sp.Eq(loss_symbol, the_loss.expr, evaluate=False),
          f"{the_loss.name}: {the_loss.summary}")

    rules = dense_layer_rules()
    d.extend(rules, prefix="Dense-layer rule: ")
    out = output_delta(the_loss, acts[-1])
    d.extend(out, prefix=f"Output layer {depth}: ")
    d.add(f"Delta of the output layer {depth}", (delta[depth], out.result),
          "from the output-delta derivation above; yhat is a^(L)")
    for l in range(depth, 0, -1):
        if l < depth and acts[l - 1].kind == "softmax":
            g = W[l + 1].T * delta[l + 1]
            d.add(f"Delta of hidden layer {l} (softmax: vector-Jacobian product)",
                  (delta[l], sp.HadamardProduct(av[l], g - sp.OneMatrix(widths[l], 1) *
                                                (av[l].T * g))),
                  "the softmax VJP a_i (g_i - sum_k g_k a_k) with g = W^T delta from above")
        elif l < depth:
            act = acts[l - 1]
            fprime = matrix_notation(f"{act.name}'(z{l})", rf"{_tex_name(act)}'\left(z^{{({l})}}"
                                     r"\right)", widths[l], 1)
            d.add(f"Delta of hidden layer {l}",
                  (delta[l], sp.HadamardProduct(W[l + 1].T * delta[l + 1], fprime)),
                  f"dense-layer rule with layer {l}'s activation, {act.name}")
            d.add(f"Derivative of {act.name} at layer {l}, elementwise",
                  _activation_slope(act, l), "from the activation derivation, in terms of "
                  f"a^({l}) where possible so z^({l}) need not be kept")
        d.add(f"Gradients of layer {l}",
              (partial("L", f"W{l}", "L", f"W^{{({l})}}"), delta[l] * av[l - 1].T),
              f"dL/db^({l}) = delta^({l}); a^({l - 1}) is " +
              ("the input x" if l == 1 else f"layer {l - 1}'s output"))
    if depth > 1:
        d.add("Unrolled gradient of the first layer", (partial("L", "W1", "L", "W^{(1)}"),
                                                       _unrolled_first_layer(W, delta, acts,
                                                                             widths, av)),
              "the delta recursion substituted into itself, as in the notes")
    _batch_form(d, depth, widths)
    d.result = [delta[l] * av[l - 1].T for l in range(1, depth + 1)]
    return d


def _tex_name(act) -> str:
    return act.name.replace("_", r"\_") if act.formula is None else "f"


def _activation_slope(act, l: int):
    a_l = notation(f"a{l}", f"a^{{({l})}}", real=True)
    label = notation(f"{act.name}'(z{l})", rf"{_tex_name(act)}'\left(z^{{({l})}}\right)")
    if act.derivative_of_output is not None:
        return (label, act.derivative_of_output.subs(a, a_l))
    z_l = notation(f"z{l}", f"z^{{({l})}}", real=True)
    return (label, act.derivative.subs(act.z, z_l))


def _unrolled_first_layer(W, delta, acts, widths, av):
    expr = delta[len(W)]
    for l in range(len(W) - 1, 0, -1):
        act = acts[l - 1]
        fprime = matrix_notation(f"{act.name}'(z{l})", rf"{_tex_name(act)}'\left(z^{{({l})}}"
                                 r"\right)", widths[l], 1)
        expr = sp.HadamardProduct(W[l + 1].T * expr, fprime)
    return expr * av[0].T


def _batch_form(d: Derivation, depth: int, widths: list[int]) -> None:
    Delta = {l: matrix_notation(f"Delta{l}", rf"\Delta^{{({l})}}", m, widths[l])
             for l in range(1, depth + 1)}
    A = {l: matrix_notation(f"A{l}", f"A^{{({l})}}", m, widths[l]) for l in range(0, depth + 1)}
    Wt = {l: matrix_notation(f"Wrt{l}", rf"\mathbf{{W}}^{{({l})}}", widths[l - 1], widths[l])
          for l in range(1, depth + 1)}
    d.add("Batch form (runtime layout): output delta",
          (Delta[depth], notation("(1/m)[delta rows]", r"\frac{1}{m}\left[\delta_i^{T}\right]"
                                  r"_{i=1}^{m}")),
          "one row per sample; the 1/m of the batch mean J = (1/m) sum_i L_i enters here; "
          "bold W^(l) = W^(l)^T has shape (n_in, n_out)")
    for l in range(depth, 0, -1):
        if l < depth:
            fprime = matrix_notation(f"F{l}", f"F'^{{({l})}}", m, widths[l])
            d.add(f"Batch form: delta of layer {l}",
                  (Delta[l], sp.HadamardProduct(Delta[l + 1] * Wt[l + 1].T, fprime)),
                  f"F'^({l}) holds the activation derivative of every sample and unit")
        d.add(f"Batch form: gradients of layer {l}",
              (partial("J", f"Wrt{l}", "J", rf"\mathbf{{W}}^{{({l})}}"), A[l - 1].T * Delta[l]),
              f"dJ/db^({l}) is the column sum of Delta^({l}); A^(0) = X")
    eta = notation("eta", r"\eta", positive=True)
    d.add("Gradient-descent update", sp.Eq(notation("W_new", r"\mathbf{W}^{(l)}"),
                                           notation("W_old", r"\mathbf{W}^{(l)}")
                                           - eta * notation("dJ/dW", r"\frac{\partial J}"
                                                            r"{\partial \mathbf{W}^{(l)}}"),
                                           evaluate=False),
          "every layer, every step; the optimizer (momentum, Adam) changes only this rule")
