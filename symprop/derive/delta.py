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
from symprop.derive.derivation import Derivation, notation, operator_latex, partial, prose
from symprop.derive.limits import bounded, bounded_expand, shorten
from symprop.derive.losses import Loss, loss
from symprop.derive.simplify import collapse_delta_sums, distribute_sums, tidy
from symprop.derive.softmax import Softmax
from symprop.derive.symbols import YHAT, A, G, K, Y, a, i, j, k, m, y, yhat, z
from symprop.derive.textbook import textbook_form
from symprop.errors import NotDifferentiableError


def _describe(loss_spec, activation_spec) -> str:
    loss_name, act_name = (shorten(getattr(spec, "name", spec))
                           for spec in (loss_spec, activation_spec))
    return f"the output delta of loss {loss_name!r} after activation {act_name!r}"


@bounded(_describe)
def output_delta(loss_spec, activation_spec) -> Derivation:
    """The derivation of ``dL/dz`` for the output layer; ``.result`` is the delta.

    ``loss_spec`` and ``activation_spec``: names or formulas, as :func:`loss` and
    :func:`activation` take them (e.g. ``output_delta("bce", "sigmoid")``)."""
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


def _f(the_act) -> str:
    """The activation's name as maths (upright), for prose."""
    return operator_latex(the_act.name) or the_act.name


def _title(the_loss, the_act) -> str:
    return f"Output delta: loss {the_loss.name} after activation {the_act.name}"


N_L = notation("n_L", "n_{L}", integer=True, positive=True)  # units of the output layer


def batch_mean_factor(loss_spec, n_outputs: int | None = None) -> sp.Expr:
    """The factor of the batch mean ``J`` that every gradient of ``J`` carries: ``1/m`` for a
    categorical loss (its classes are summed inside the per-sample loss), ``1/(m n_L)`` for an
    elementwise loss, averaged over the ``m`` samples and the ``n_L`` output units, as
    PyTorch's mean reduction and the runtime (the plan's ``units_scale``) take it.
    ``n_outputs``: the number of output units, or None for the symbol ``n_L``."""
    if loss(loss_spec).kind == "categorical":
        return 1 / m
    return 1 / (m * (N_L if n_outputs is None else n_outputs))


def _batch_mean_note(d: Derivation, the_loss: Loss) -> None:
    if the_loss.kind == "categorical":
        d.notes.append(prose(
            r"The training loss is the batch mean $J = \frac{1}{m} \sum_{i=1}^{m} L_{i}$ over "
            r"the $m$ samples of a batch (the classes are summed inside $L$), so "
            r"$\partial J / \partial z_{ik} = \frac{1}{m} \delta_{ik}$, with "
            r"$\delta_{ik} = \partial L_{i} / \partial z_{ik}$ the error signal of sample $i$ "
            r"derived below for one sample."))
        return
    d.notes.append(prose(
        r"The training loss is the batch mean over the $m$ samples and the $n_{L}$ output "
        r"units, $J = \frac{1}{m n_{L}} \sum_{i=1}^{m} \sum_{k=1}^{n_{L}} L(\hat{y}_{ik}, "
        r"y_{ik})$ (PyTorch's mean reduction), so $\partial J / \partial z_{ik} = "
        r"\frac{1}{m n_{L}} \delta_{ik}$, with $\delta_{ik}$ the error signal derived below "
        r"for one sample and unit."))


def _batch_mean_step(d: Derivation, the_loss: Loss) -> None:
    factor = batch_mean_factor(the_loss)
    d.add("Batch mean", sp.Eq(partial("J", "z_ik", "J", "z_{ik}"),
                              # non-commutative, so the factor prints first
                              sp.Mul(sp.UnevaluatedExpr(factor),
                                     notation("delta_ik", r"\delta_{ik}", commutative=False)),
                              evaluate=False),
          prose(r"$\delta_{ik}$ is the result above for sample $i$ and unit $k$; "
                + (r"$\frac{1}{m}$ from $J = \frac{1}{m} \sum_{i} L_{i}$"
                   if the_loss.kind == "categorical" else
                   r"$\frac{1}{m n_{L}}$ from the mean over the $m$ samples and the $n_{L}$ "
                   r"output units ($n_{L} = 1$ for a single output)")))


def _elementwise_delta(the_loss: Loss, the_act: Activation) -> Derivation:
    categorical = the_loss.kind == "categorical"
    pred = YHAT[k] if categorical else yhat
    sub = "_k" if categorical else ""
    d = Derivation(_title(the_loss, the_act))
    _batch_mean_note(d, the_loss)
    dl_dyhat = partial("L", "yhat" + sub, "L", r"\hat{y}" + ("_{k}" if categorical else ""))
    dyhat_dz = partial("yhat" + sub, "z" + sub, r"\hat{y}" + ("_{k}" if categorical else ""),
                       "z" + ("_{k}" if categorical else ""))
    dl_dz = partial("L", "z" + sub, "L", "z" + ("_{k}" if categorical else ""))
    # The loss's gradient as its derivation ends (2(yhat - y), not 2 yhat - 2 y).
    gradient = textbook_form(the_loss.gradient, the_loss.gradient)
    d.add("Gradient of the loss in the prediction", sp.Eq(dl_dyhat, gradient, evaluate=False),
          (f"differentiate {the_loss.name} with respect to ", pred))
    slope = the_act.derivative_of_output
    if slope is not None:
        slope = slope.subs(a, pred)
        in_z = (the_act.derivative.subs(z, notation("z_k", "z_{k}", real=True))
                if categorical else the_act.derivative)
        d.add("Derivative of the output activation, in terms of its output",
              (dyhat_dz, slope) if in_z == slope else (dyhat_dz, in_z, slope),
              prose(f"${_f(the_act)}'(z)$ rewritten with $\\hat{{y}} = {_f(the_act)}(z)$"))
    else:
        slope = the_act.derivative
        d.add("Derivative of the output activation", sp.Eq(dyhat_dz, slope, evaluate=False),
              prose(f"${_f(the_act)}'(z)$ has no form in $\\hat{{y}}$ alone, so it stays "
                    "in $z$"))
    product = sp.Mul(gradient, slope, evaluate=False)
    d.add("Chain rule", (dl_dz, sp.Mul(dl_dyhat, dyhat_dz), product),
          "the chain rule through the prediction")
    result = tidy(sp.piecewise_fold(gradient * slope))  # the result, in SymPy's form
    shown = textbook_form(result, result)  # printed with common factors out: 2(yhat - y)
    d.add("Simplify", sp.Eq(dl_dz, shown, evaluate=False),
          "multiply out, cancel and take out common factors")
    _batch_mean_step(d, the_loss)
    d.result = result
    return d


def _softmax_delta(the_loss: Loss, the_act: Softmax) -> Derivation:
    d = Derivation(_title(the_loss, the_act))
    _batch_mean_note(d, the_loss)
    d.notes.append(prose(r"Softmax couples the classes: $z_{i}$ moves every $\hat{y}_{k}$, so "
                         r"the chain rule sums over $k$."))
    if the_loss.kind == "categorical":
        gradient = the_loss.gradient  # in yhat_k, y_k
    else:  # an elementwise loss summed over the classes
        gradient = the_loss.gradient.subs({yhat: YHAT[k], y: Y[k]})
    dl_dyhat = partial("L", "yhat_k", "L", r"\hat{y}_{k}")
    dl_dz = partial("L", "z_i", "L", "z_{i}")
    d.add("Gradient of the loss in each prediction", sp.Eq(dl_dyhat, gradient, evaluate=False),
          (f"differentiate {the_loss.name} with respect to ", YHAT[k]))
    jacobian = the_act.derivative_of_output.subs(A, YHAT)
    d.add("Softmax Jacobian in terms of its output",
          sp.Eq(partial("yhat_k", "z_i", r"\hat{y}_{k}", "z_{i}"), jacobian, evaluate=False),
          prose(r"derived in the softmax derivation: $\hat{y}_{k} ([i = k] - \hat{y}_{i})$"))
    chain = sp.Sum(gradient * jacobian, (k, 1, K))
    d.add("Chain rule, summed over the classes", sp.Eq(dl_dz, chain, evaluate=False),
          prose(r"$z_{i}$ reaches $L$ through every $\hat{y}_{k}$"))
    if gradient.has(sp.Piecewise):
        # A piecewise gradient (huber) hides the delta inside its branches, where it cannot
        # be sifted: use the softmax vector-Jacobian product derived for softmax itself.
        spread = the_act.vjp.subs(A, YHAT).replace(
            lambda e: isinstance(e, sp.Indexed) and e.base == G,
            lambda e: gradient.subs(k, e.indices[0]))
        d.add("Apply the softmax vector-Jacobian product", sp.Eq(dl_dz, spread, evaluate=False),
              prose(r"$(J^{T} g)_{i} = \hat{y}_{i} (g_{i} - \sum_{k} g_{k} \hat{y}_{k})$ with "
                    r"$g_{k} = \partial L / \partial \hat{y}_{k}$"))
    else:
        spread = collapse_delta_sums(distribute_sums(
            sp.Sum(bounded_expand(gradient * jacobian, _title(the_loss, the_act)), (k, 1, K))))
        d.add("Split the sum and sift the Kronecker delta",
              sp.Eq(dl_dz, spread, evaluate=False),
              prose(r"linearity of the sum; $\sum_{k} f(k) [i = k] = f(i)$"))
    result = spread
    if the_loss.kind == "categorical":
        result = spread.subs(sp.Sum(Y[k], (k, 1, K)), 1)
        d.add("Use that the targets sum to 1", sp.Eq(dl_dz, result, evaluate=False),
              prose(r"$\sum_{k} y_{k} = 1$: the target is a probability vector (one-hot)"))
    # Rename the free class index i to k; bound sum indices move to j first so none clashes.
    result = result.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.xreplace({k: j}))
    result = tidy(result.subs(i, k))
    d.add(prose("Simplify (renaming the class index to $k$)"),
          sp.Eq(partial("L", "z_k", "L", "z_{k}"), result, evaluate=False),
          prose("the free class index $i$ renamed to $k$, like terms collected and common "
                "factors cancelled"))
    _batch_mean_step(d, the_loss)
    d.result = result
    return d
