"""The output-layer delta ``dL/dz`` for any loss and output activation, by the chain rule.

``dL/dz = dL/dyhat * dyhat/dz`` with ``dyhat/dz`` written in terms of ``yhat`` where the
activation allows it; then SymPy simplifies the product. The canonical pairs collapse on
their own: bce after sigmoid to ``yhat - y``, ce after softmax to ``yhat_k - y_k`` (using
``sum_k y_k = 1``), mse after identity to ``2 (yhat - y)``. Softmax couples the classes, so
its chain rule sums over them: ``dL/dz_i = sum_k dL/dyhat_k * dyhat_k/dz_i``.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symprop.derive.activations import Activation, activation
from symprop.derive.derivation import Derivation, notation, partial
from symprop.derive.limits import bounded, bounded_expand, shorten
from symprop.derive.losses import Loss, loss
from symprop.derive.simplify import collapse_delta_sums, distribute_sums, tidy
from symprop.derive.softmax import Softmax
from symprop.derive.symbols import YHAT, A, G, K, Y, a, i, j, k, m, y, yhat, z
from symprop.errors import NotDifferentiableError


def _describe(loss_spec, activation_spec) -> str:
    loss_name, act_name = (shorten(getattr(spec, "name", spec))
                           for spec in (loss_spec, activation_spec))
    return f"the output delta of loss {loss_name!r} after activation {act_name!r}"


@bounded(_describe)
def output_delta(loss_spec, activation_spec) -> Derivation:
    """The derivation of ``dL/dz`` for the output layer; ``.result`` is the delta."""
    the_loss = loss(loss_spec)
    the_act = activation(activation_spec)
    if not the_act.trainable:
        raise NotDifferentiableError(
            f"activation {the_act.name!r} has no useful gradient (its derivative is 0 wherever "
            "it exists), so no output delta can train through it")
    return _output_delta(the_loss, the_act)


@lru_cache(maxsize=256)
def _output_delta(the_loss: Loss, the_act) -> Derivation:
    if isinstance(the_act, Softmax):
        return _softmax_delta(the_loss, the_act)
    return _elementwise_delta(the_loss, the_act)


def _title(the_loss, the_act) -> str:
    return f"Output delta: loss {the_loss.name} after activation {the_act.name}"


def _batch_mean_note(d: Derivation, per: str) -> None:
    d.notes.append(
        "The training loss is the batch mean J = (1/m) sum_i L_i, so the runtime applies "
        f"dJ/dz_i = (1/m) dL_i/dz_i {per}; the steps below are for one sample.")


def _elementwise_delta(the_loss: Loss, the_act: Activation) -> Derivation:
    categorical = the_loss.kind == "categorical"
    pred = YHAT[k] if categorical else yhat
    sub = "_k" if categorical else ""
    d = Derivation(_title(the_loss, the_act))
    _batch_mean_note(d, "for each sample i" + (" and class k" if categorical else ""))
    dl_dyhat = partial("L", "yhat" + sub, "L", r"\hat{y}" + ("_{k}" if categorical else ""))
    dyhat_dz = partial("yhat" + sub, "z" + sub, r"\hat{y}" + ("_{k}" if categorical else ""),
                       "z" + ("_{k}" if categorical else ""))
    dl_dz = partial("L", "z" + sub, "L", "z" + ("_{k}" if categorical else ""))
    gradient = the_loss.gradient
    d.add("Gradient of the loss in the prediction", sp.Eq(dl_dyhat, gradient, evaluate=False),
          f"differentiate {the_loss.name} with respect to yhat" + sub)
    slope = the_act.derivative_of_output
    if slope is not None:
        slope = slope.subs(a, pred)
        d.add("Derivative of the output activation, in terms of its output",
              (dyhat_dz, the_act.derivative.subs(z, notation("z_k", "z_{k}", real=True))
               if categorical else the_act.derivative, slope),
              f"{the_act.name}'(z) rewritten with yhat = {the_act.name}(z)")
    else:
        slope = the_act.derivative
        d.add("Derivative of the output activation", sp.Eq(dyhat_dz, slope, evaluate=False),
              f"{the_act.name}'(z) has no form in yhat alone, so it stays in z")
    product = sp.Mul(gradient, slope, evaluate=False)
    d.add("Chain rule", (dl_dz, sp.Mul(dl_dyhat, dyhat_dz), product),
          "dL/dz = dL/dyhat * dyhat/dz")
    result = tidy(sp.piecewise_fold(gradient * slope))
    d.add("Simplify", sp.Eq(dl_dz, result, evaluate=False), "cancel common factors")
    d.add("Batch mean", sp.Eq(partial("J", "z_i", "J", "z_{i}"),
                              sp.Mul(1 / m, notation("delta_i", r"\delta_{i}"))
                              , evaluate=False),
          "delta_i is the per-sample result above; 1/m from J = (1/m) sum_i L_i")
    d.result = result
    return d


def _softmax_delta(the_loss: Loss, the_act: Softmax) -> Derivation:
    d = Derivation(_title(the_loss, the_act))
    _batch_mean_note(d, "for each sample i and class k")
    d.notes.append("Softmax couples the classes: z_i moves every yhat_k, so the chain rule "
                   "sums over k.")
    if the_loss.kind == "categorical":
        gradient = the_loss.gradient  # in yhat_k, y_k
    else:  # an elementwise loss summed over the classes
        gradient = the_loss.gradient.subs({yhat: YHAT[k], y: Y[k]})
    dl_dyhat = partial("L", "yhat_k", "L", r"\hat{y}_{k}")
    dl_dz = partial("L", "z_i", "L", "z_{i}")
    d.add("Gradient of the loss in each prediction", sp.Eq(dl_dyhat, gradient, evaluate=False),
          f"differentiate {the_loss.name} with respect to yhat_k")
    jacobian = the_act.derivative_of_output.subs(A, YHAT)
    d.add("Softmax Jacobian in terms of its output",
          sp.Eq(partial("yhat_k", "z_i", r"\hat{y}_{k}", "z_{i}"), jacobian, evaluate=False),
          "derived in the softmax derivation: yhat_k (delta_ki - yhat_i)")
    chain = sp.Sum(gradient * jacobian, (k, 1, K))
    d.add("Chain rule, summed over the classes", sp.Eq(dl_dz, chain, evaluate=False),
          "dL/dz_i = sum_k dL/dyhat_k * dyhat_k/dz_i")
    if gradient.has(sp.Piecewise):
        # A piecewise gradient (huber) hides the delta inside its branches, where it cannot
        # be sifted: use the softmax vector-Jacobian product derived for softmax itself.
        spread = the_act.vjp.subs(A, YHAT).replace(
            lambda e: isinstance(e, sp.Indexed) and e.base == G,
            lambda e: gradient.subs(k, e.indices[0]))
        d.add("Apply the softmax vector-Jacobian product", sp.Eq(dl_dz, spread, evaluate=False),
              "(J^T g)_i = yhat_i (g_i - sum_k g_k yhat_k) with g_k = dL/dyhat_k")
    else:
        spread = collapse_delta_sums(distribute_sums(
            sp.Sum(bounded_expand(gradient * jacobian, _title(the_loss, the_act)), (k, 1, K))))
        d.add("Split the sum and sift the Kronecker delta",
              sp.Eq(dl_dz, spread, evaluate=False),
              "linearity of the sum; sum_k f(k) delta_ki = f(i)")
    result = spread
    if the_loss.kind == "categorical":
        result = spread.subs(sp.Sum(Y[k], (k, 1, K)), 1)
        d.add("Use sum_k y_k = 1", sp.Eq(dl_dz, result, evaluate=False),
              "the target is a probability vector (one-hot)")
    # Rename the free class index i to k; bound sum indices move to j first so none clashes.
    result = result.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.xreplace({k: j}))
    result = tidy(result.subs(i, k))
    d.add("Simplify (renaming the class index to k)",
          sp.Eq(partial("L", "z_k", "L", "z_{k}"), result, evaluate=False), "algebra")
    d.add("Batch mean", sp.Eq(partial("J", "z_ik", "J", "z_{ik}"),
                              sp.Mul(1 / m, notation("delta_ik", r"\delta_{ik}")),
                              evaluate=False),
          "delta_ik is the per-sample result above; 1/m from J = (1/m) sum_i L_i")
    d.result = result
    return d
