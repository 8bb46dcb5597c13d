"""From derived SymPy expressions to printed kernel bodies (lines of scalar code).

Each ``*Code`` object holds what one template needs: the argument names and the lines that
compute the outputs, already CSE'd and printed for one float type. Nothing here knows the
template syntax; nothing in the templates knows SymPy.
"""

from __future__ import annotations

import hashlib

import sympy as sp

from symprop.codegen.code import ActivationCode, LossCode, UpdateCode
from symprop.codegen.names import checked_identifier, formula_text, label_for
from symprop.codegen.printer import NumbaPrinter, print_assignments
from symprop.codegen.stable import stabilize
from symprop.derive.activations import activation
from symprop.derive.delta import output_delta
from symprop.derive.limits import bounded, shorten
from symprop.derive.losses import loss as make_loss
from symprop.derive.optimizers import UpdateRule, t
from symprop.derive.simplify import tidy
from symprop.derive.symbols import YHAT, Y, a, k, y, yhat, z
from symprop.errors import FormulaError, NotDifferentiableError


def hyper_name(symbol: sp.Symbol, suffix: str = "") -> str:
    """Kernel argument name of a hyperparameter: ``hp_`` + its name (``lambda`` is a Python
    keyword) + a suffix, ``_<layer>`` for an activation's (two layers' ``alpha`` apart) and
    ``_loss`` for a loss's. A layer number has no underscore, so no two (name, suffix)
    pairs make one argument name."""
    return checked_identifier("hp_" + symbol.name + suffix)


def expression_ident(prefix: str, expr: sp.Basic) -> str:
    """A kernel identifier for a formula: a digest of its expression, stable across
    processes (nothing of the user's text)."""
    return f"{prefix}_{hashlib.sha256(sp.srepr(expr).encode()).hexdigest()[:10]}"


LOSS_SUFFIX = "_loss"


def _printer(float_type: str, params, suffix: str = "") -> NumbaPrinter:
    return NumbaPrinter(float_type, {s: hyper_name(s, suffix) for s in params})


@bounded(lambda spec, *args, **kwargs: f"generating the kernels of {shorten(str(spec))!r}")
def activation_code(spec, float_type: str, suffix: str = "", hyper: dict | None = None,
                    name: str | None = None) -> ActivationCode:
    act = activation(spec, name=name, **(hyper or {}))
    if act.kind == "softmax":
        return ActivationCode("softmax", "softmax", [], [], "a", is_softmax=True,
                              formula="a_k = exp(z_k - max z) / sum_j exp(z_j - max z)",
                              derivative_text="VJP: a_i (g_i - sum_k g_k a_k)")
    if not act.trainable:
        raise NotDifferentiableError(
            f"activation {act.name!r} has no useful gradient (its derivative is 0 wherever it "
            "exists); it cannot be trained by gradient descent")
    params = list(act.params)
    printer = _printer(float_type, params, suffix)
    stable = stabilize(act.expr)
    # Temporaries carry the layer suffix: one generated function holds every layer's lines.
    forward = print_assignments([("a", stable)], printer, f"tf{suffix}_")
    if act.derivative_of_output is not None:
        slope, source = stabilize(act.derivative_of_output), "a"
    else:
        # Differentiate the *stable* form: the rules' fdiff keeps the derivative stable too.
        slope, source = tidy(sp.diff(stable, z)), "z"
    backward = print_assignments([("slope", slope)], printer, f"tb{suffix}_")
    ident = (checked_identifier(act.name) if act.formula is None
             else expression_ident("custom", act.expr))
    return ActivationCode(
        ident, label_for(act.name, act.formula, ident), forward, backward, source,
        [hyper_name(s, suffix) for s in params], [act.params[s] for s in params],
        formula=f"a = {formula_text(act.expr)}",
        derivative_text=f"f' = {formula_text(slope)}  (from {source})")


@bounded(lambda loss_spec, *args, **kwargs: f"generating the loss code of "
                                             f"{shorten(str(loss_spec))!r}")
def loss_code(loss_spec, activation_spec, float_type: str, act_suffix: str = "") -> LossCode:
    """``act_suffix`` names the output activation's hyperparameters as the network's
    arguments do (``hp_alpha_2`` for layer 2); the loss's own keep their plain names."""
    the_loss = make_loss(loss_spec)
    act = activation(activation_spec)
    shared = sorted(s.name for s in set(the_loss.params) & set(getattr(act, "params", {})))
    if shared:
        # One SymPy symbol would stand for both values in the output delta.
        raise FormulaError(f"loss {the_loss.name!r} and the output activation {act.name!r} "
                           f"both have a hyperparameter {shared[0]!r}: rename the loss's")
    printer = _printer(float_type, list(the_loss.params), LOSS_SUFFIX)
    for symbol in getattr(act, "params", {}) or {}:
        printer.names[symbol] = hyper_name(symbol, act_suffix)
    hyper = [hyper_name(s, LOSS_SUFFIX) for s in the_loss.params]
    values = list(the_loss.params.values())
    label = (checked_identifier(the_loss.name) if the_loss.formula is None
             else label_for(the_loss.name, the_loss.formula,
                            expression_ident("loss", the_loss.expr)))
    if act.kind == "softmax" and the_loss.kind == "categorical":
        return LossCode(label, "softmax_ce", [], [], {"z", "y"}, False,
                        formula="L = logsumexp(z) - sum_k y_k z_k;  dL/dz_k = yhat_k - y_k")
    if act.kind == "softmax":
        grad = the_loss.gradient
        # An elementwise loss after softmax is a mean over samples and units, as PyTorch's.
        return LossCode(label, "softmax_vjp",
                        print_assignments([("value", stabilize(the_loss.expr))], printer),
                        print_assignments([("g", grad)], printer), {"yhat", "y"}, True,
                        hyper, values, formula=f"L = sum_k {formula_text(the_loss.expr)}")
    # Elementwise activation: per unit. Categorical losses use their per-class term.
    if the_loss.kind == "categorical":
        value_expr = the_loss.class_term.subs({YHAT[k]: yhat, Y[k]: y})
    else:
        value_expr = the_loss.expr
    delta_expr = output_delta(the_loss, act).result
    if the_loss.kind == "categorical":
        delta_expr = delta_expr.subs({YHAT[k]: yhat, Y[k]: y})
    if act.derivative_of_output is None:
        # The derivative stays in z: take it from the stable form of the activation, so that
        # its exponentials come out as sigmoids (silu, mish) and never overflow.
        gradient = the_loss.gradient
        if the_loss.kind == "categorical":
            gradient = gradient.subs({YHAT[k]: yhat, Y[k]: y})
        delta_expr = tidy(gradient * sp.diff(stabilize(act.expr), z))
    logit = the_loss.logit_form(act)
    if logit is not None:  # bce after sigmoid: the loss from the logit z, never log(0)
        value_expr = logit
    else:  # stable forms first: log(cosh(r)) is no log of a probability to clamp
        value_expr = _clamped_logs(stabilize(value_expr))
    value_expr = stabilize(value_expr)
    delta_expr = stabilize(delta_expr.subs(a, yhat))
    reads = {s.name for s in (value_expr.free_symbols | delta_expr.free_symbols)} & {
        "yhat", "y", "z"}
    return LossCode(label, "elementwise",
                    print_assignments([("value", value_expr)], printer, "u"),
                    print_assignments([("delta", delta_expr)], printer, "q"), reads,
                    the_loss.kind != "categorical", hyper, values,
                    formula=f"L = {formula_text(value_expr)};  dL/dz = {formula_text(delta_expr)}")


def _clamped_logs(expr: sp.Expr) -> sp.Expr:
    """log(p) clamped below at -100, as PyTorch's BCELoss does, so p = 0 gives no -inf.

    A conditional rather than Max: max(-100, NaN) is -100 in Python and Numba, which would
    turn a NaN prediction into a finite loss, and training stops only on a non-finite one.
    """
    floor = sp.Integer(-100)
    return expr.replace(lambda e: isinstance(e, sp.log),
                        lambda e: sp.Piecewise((floor, e < floor), (e, True)))


def update_code(rule: UpdateRule, float_type: str) -> UpdateCode:
    printer = _printer(float_type, list(rule.hyperparameters) + [t])
    printer.names[t] = "step"
    # The invariants in double whatever the network's type: the element loop then takes them
    # rounded once (a float32 literal would pull a plain-Python or simulated run to float32).
    scalar_printer = _printer("float64", list(rule.hyperparameters) + [t])
    scalar_printer.names[t] = "step"
    # Sequential assignments -> one expression per output, with earlier ones substituted.
    current: dict[sp.Symbol, sp.Expr] = {}
    for target, expr in rule.assignments:
        current[target] = expr.xreplace(current)
    outputs = [s for s in [*rule.state, sp.Symbol("w", real=True)] if s in current]
    element = {sp.Symbol("w", real=True), sp.Symbol("g", real=True), *rule.state}
    # Hoist loop-invariant scalars (bias corrections 1 - beta^t, and 1 - beta) out of the
    # element loop: run() computes them in double, so a beta within float32's rounding of 1
    # still gives its true 1 - beta to a float32 loop (PyTorch computes 1 - beta in double).
    invariant_subs, invariant = {}, []
    for index, sub in enumerate(_scalar_subexpressions([current[s] for s in outputs], element)):
        symbol = sp.Symbol(f"c{index}", real=True)
        invariant_subs[sub] = symbol
        invariant.append((str(symbol), scalar_printer.doprint(sub)))
    lines = print_assignments(
        [(f"{s.name}_new", current[s].xreplace(invariant_subs)) for s in outputs], printer, "e")
    return UpdateCode(rule.name, invariant, lines, [s.name for s in rule.state],
                      [hyper_name(h) for h in rule.hyperparameters], rule.needs_step)


def _scalar_subexpressions(exprs, element_symbols) -> list[sp.Expr]:
    """Maximal subexpressions free of per-element symbols that cost something to compute
    (not a lone symbol or number, nor a number times a symbol: -lr stays in the loop)."""
    found: list[sp.Expr] = []

    def visit(e):
        if not (e.free_symbols & element_symbols) and not e.is_Atom and not _negated_atom(e):
            if e not in found:
                found.append(e)
            return
        for arg in e.args:
            visit(arg)

    for e in exprs:
        visit(e)
    return found


def _negated_atom(e: sp.Expr) -> bool:
    """-x: printed as such, nothing to hoist."""
    return e.is_Mul and len(e.args) == 2 and e.args[0] == -1 and e.args[1].is_Atom
