"""The steps of a worked example (:mod:`symprop.derive.explain`): each in symbols, then with
the numbers written in, then its value, in the notes' column-vector notation (one column per
sample; the runtime's arrays are transposed for printing).

Step by step as the notes' seed 003 works it: the weighted sum and activation of each layer,
the loss, its gradient at the output, the output delta, then per layer (from the top) the
weight and bias gradients and the gradient flowing into the layer below through its
activation's slope; last, each parameter's update by the optimizer's derived rule.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symprop.architecture import format_architecture
from symprop.derive.delta import output_delta
from symprop.derive.derivation import TeX, Update, matrix_notation, notation, partial
from symprop.derive.explain import _per_unit, apply_rule, rule_symbols
from symprop.derive.notation import operator_latex
from symprop.derive.printers import latex, unicode
from symprop.derive.symbols import a, y, yhat
from symprop.derive.values import SIGNIFICANT_DIGITS, shown, shown_matrix, values_prose
from symprop.derive.worked import WorkedCall, WorkedProduct, WorkedSum, worked


def _columns(array: np.ndarray) -> sp.Expr:
    """A runtime array (one row per sample) in column layout, as printed numbers."""
    return shown_matrix(np.asarray(array).T)


# A row of worked arithmetic with more matrix columns than this does not fit a page: the step
# then shows the formula and its value (the operands are in the steps before it).
WORKED_COLUMNS = 5
SHORT_RULE = 40  # characters: a longer rule is not repeated inline for every tensor


def _columns_in(node) -> int:
    if isinstance(node, sp.MatrixBase):
        return node.cols
    return sum(_columns_in(arg) for arg in getattr(node, "args", ()))


def _narrow(node):
    """``node`` where its matrices fit a line side by side, else None."""
    return node if node is not None and _columns_in(node) <= WORKED_COLUMNS else None


def _chain(*items) -> tuple:
    """A chain of equalities of the items that are there (a dropped worked row is None)."""
    return tuple(item for item in items if item is not None)


def _function_name(act) -> str:
    """The name an activation prints under: its own where that is a plain name, else f."""
    return act.name if act.name.isidentifier() else "f"


class _Symbols:
    """The notation of one worked example: column-vector matrices of its shapes."""

    def __init__(self, layers, samples: int, scaled: bool):
        self.widths = [layers[0].n_in] + [layer.n_out for layer in layers]
        self.m, self.scaled = samples, scaled

    def _matrix(self, text: str, tex: str, l: int, cols: int | None = None):
        return matrix_notation(text, tex, self.widths[l], self.m if cols is None else cols)

    def W(self, l):
        return matrix_notation(f"W({l})", f"W^{{({l})}}", self.widths[l], self.widths[l - 1])

    def b(self, l):
        return self._matrix(f"b({l})", f"b^{{({l})}}", l)

    def z(self, l):
        return self._matrix(f"z({l})", f"z^{{({l})}}", l)

    def a(self, l):
        return self._matrix("x", "x", 0) if l == 0 else self._matrix(f"a({l})", f"a^{{({l})}}", l)

    def delta(self, l, scaled=None):
        scaled = self.scaled if scaled is None else scaled
        letter = r"\Delta" if scaled else r"\delta"
        return self._matrix(f"{letter[1:]}({l})", f"{letter}^{{({l})}}", l)

    def slope(self, act, l):
        name = _function_name(act)
        return self._matrix(f"{name}'(z({l}))",
                            rf"{operator_latex(name) or name}'\left(z^{{({l})}}\right)", l)

    def into(self, l):
        return self._matrix(f"dJ/da({l})", rf"\frac{{\partial J}}{{\partial a^{{({l})}}}}", l)


def write_steps(d, layers, acts, the_loss, weights, X, Y_target, numbers, update) -> None:
    depth, m = len(layers), X.shape[0]
    scaled = numbers["scale"] != 1.0
    s = _Symbols(layers, m, scaled)
    _notes(d, layers, acts, the_loss, m, numbers["units"], update)
    d.add("Input", (s.a(0), _columns(X)), "one column per sample" if m > 1 else "")
    d.add("Target", (sp.MatrixSymbol("y", s.widths[-1], m), _columns(Y_target)),
          "one-hot: 1 for the sample's class" if the_loss.kind == "categorical" else "")
    for l in range(1, depth + 1):
        _forward_steps(d, s, l, acts[l - 1], weights[l - 1], numbers)
    _loss_steps(d, s, the_loss, acts[-1], numbers, Y_target)
    _output_delta_steps(d, s, the_loss, acts[-1], numbers, Y_target)
    for l in range(depth, 0, -1):
        _gradient_steps(d, s, l, acts, weights, numbers)
    if update is not None:
        _update_steps(d, weights, numbers, *update)
    d.result = shown(numbers["loss"])


def _mean_words(m: int, units: int) -> tuple:
    J, L = notation("J", "J"), notation("L", "L")
    if m * units == 1:
        return ("The training loss ", J, " is the mean of ", L, " over the samples: here ",
                sp.Eq(J, L, evaluate=False), ".")
    over = "the samples and output units" if units > 1 else "the samples"
    return ("The training loss ", J, " is the mean of ", L, f" over {over}.")


def _notes(d, layers, acts, the_loss, m: int, units: int, update) -> None:
    samples = "one sample" if m == 1 else f"a batch of {m} samples, one column each"
    d.notes.append((f"One training step of {format_architecture(layers)} on {samples}: "
                    "every number is computed in float64 and shown to "
                    f"{SIGNIFICANT_DIGITS} significant digits. Layer ", TeX("l"), " computes ",
                    TeX(r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}"), " and ",
                    TeX(r"a^{(l)} = f(z^{(l)})"), ", with ", TeX(r"W^{(l)}"),
                    " of shape ", TeX(r"n_{l} \times n_{l-1}"), " and ", TeX("a^{(0)} = x"),
                    " (the runtime stores the transpose of ", TeX("W^{(l)}"), "). ",
                    *_mean_words(m, units)))
    for number, act in enumerate(acts, 1):
        if act.params:
            d.notes.append(values_prose(act.params, f"Layer {number} ({act.name}): "))
    if the_loss.params:
        d.notes.append(values_prose(the_loss.params, f"Loss {the_loss.name}: "))
    if update is not None:
        rule, values = update
        shown_values = {symbol: value for symbol, value in values.items() if symbol.name != "t"}
        fresh = " from a fresh state (every state 0, step t = 1)" if rule.state or len(
            shown_values) < len(values) else ""
        d.notes.append(values_prose(shown_values, f"Update: {rule.name}{fresh}, with "
                                    if shown_values else f"Update: {rule.name}{fresh}.", ))


def _forward_steps(d, s: _Symbols, l: int, act, pair, numbers) -> None:
    W, b = pair
    Z, A_below, A = numbers["Z"][l - 1], numbers["A"][l - 1], numbers["A"][l]
    d.add(f"Layer {l}: weighted sum", _chain(
        s.z(l), s.W(l) * s.a(l - 1) + s.b(l),
        _narrow(WorkedSum([WorkedProduct([shown_matrix(W.T), _columns(A_below)]),
                           shown_matrix(b)])), _columns(Z)),
        "b is added to every column" if s.m > 1 else "")
    name = _function_name(act)
    applied = notation(f"{name}(z({l}))", rf"{operator_latex(name) or name}\left(z^{{({l})}}"
                       r"\right)")
    d.add(f"Layer {l}: activation", _chain(s.a(l), applied,
                                           _narrow(WorkedCall(name, _columns(Z))), _columns(A)),
          _activation_why(act, name))


def _activation_why(act, name: str) -> tuple:
    """What the activation does: its formula (not where it only repeats the name, tanh(z) =
    tanh(z)) and its hyperparameters' values."""
    if act.kind == "softmax":
        return ("softmax over the units: ", TeX(r"a_{k} = e^{z_{k}} / \sum_{j} e^{z_{j}}"))
    definition = sp.Eq(notation(f"{name}(z)", f"{operator_latex(name) or name}(z)"),
                       act.expr, evaluate=False)
    why = ("elementwise",) if latex(definition.lhs) == latex(definition.rhs) else (
        "elementwise, ", definition)
    return why + values_prose(act.params, "; ") if act.params else why


def _loss_steps(d, s: _Symbols, the_loss, out_act, numbers, Y_target) -> None:
    A = numbers["A"][-1]
    L = notation("L", "L")
    losses = numbers["losses"]
    single = losses.size == 1
    values = {yhat: _columns(A), y: _columns(Y_target),
              **{p: shown(v) for p, v in the_loss.params.items()}}
    shown_numbers = _narrow(worked(sp.factor_terms(the_loss.expr), values)) if (
        the_loss.kind != "categorical") else None
    d.add(f"Loss ({the_loss.name})", _chain(L, the_loss.expr, shown_numbers,
                                            shown(losses.sum()) if single else _columns(losses)),
          (_prediction(s),
           "; per sample and output unit" if not single and numbers["units"] > 1 else
           "; per sample" if not single else "") if the_loss.kind != "categorical" else
          ("summed over the classes; ", _prediction(s)))
    if not single:
        count = int(round(1 / numbers["scale"]))
        d.add("Training loss: the mean", (notation("J", "J"), sp.Mul(
            sp.Rational(1, count), notation("sum L", r"\sum L", "∑L"), evaluate=False),
            shown(numbers["loss"])), f"over the {count} values above")


def _output_delta_steps(d, s: _Symbols, the_loss, out_act, numbers, Y_target) -> None:
    depth = len(s.widths) - 1
    A, Z = numbers["A"][-1], numbers["Z"][-1]
    gradient = numbers["dL/dyhat"]
    dl_dyhat = s._matrix("dL/dyhat", r"\frac{\partial L}{\partial \hat{y}}", depth)
    per_unit = sp.factor_terms(_per_unit(the_loss, the_loss.gradient))
    values = {yhat: _columns(A), y: _columns(Y_target),
              **{p: shown(v) for p, v in the_loss.params.items()}}
    d.add("Gradient of the loss at the output", _chain(
        dl_dyhat, sp.factor_terms(the_loss.gradient), _narrow(worked(per_unit, values)),
        _columns(gradient)),
        f"differentiate {the_loss.name} with respect to the prediction")
    delta = s.delta(depth, scaled=False)
    if out_act.kind == "softmax":
        yhat_m, y_m = (sp.MatrixSymbol(name, s.widths[-1], s.m) for name in ("yhat", "y"))
        if the_loss.kind == "categorical":
            d.add(f"Error signal of the output layer {depth}", _chain(
                delta, yhat_m - y_m,
                _narrow(WorkedSum([_columns(A), _columns(Y_target)], [1, -1])),
                _columns(numbers["delta"])),
                "softmax with cross-entropy: the softmax Jacobian cancels the 1/ŷ of the "
                "loss gradient (see the output-delta derivation)")
        else:
            d.add(f"Error signal of the output layer {depth}", (delta, notation(
                "softmax vjp", r"\hat{y} \odot \left(g - \mathbf{1}\, \hat{y}^{T} g\right)"),
                _columns(numbers["delta"])), ("the softmax vector-Jacobian product with ",
                                              TeX(r"g = \partial L / \partial \hat{y}")))
    else:
        _slope_step(d, s, depth, out_act, Z, A)
        # definition = numbers = result, as every step; the simplified form in the prose
        chain = [delta, sp.HadamardProduct(dl_dyhat, s.slope(out_act, depth)),
                 _narrow(WorkedProduct([_columns(gradient), _columns(_slope(out_act, Z, A))],
                                       elementwise=s.m * s.widths[-1] > 1)),
                 _columns(numbers["delta"])]
        why = ("the chain rule, ", sp.Eq(sp.Symbol("delta"), partial("L", "z", "L", "z"),
                                         evaluate=False))
        if out_act.derivative_of_output is not None:
            result = _per_unit(the_loss, output_delta(the_loss, out_act).result).subs(a, yhat)
            why += ("; the output-delta derivation simplifies it to ",
                    sp.Eq(sp.Symbol("delta"), sp.factor_terms(result), evaluate=False))
        d.add(f"Error signal of the output layer {depth}", _chain(*chain), why)
    if s.scaled:
        scale = sp.Rational(1, int(round(1 / numbers["scale"])))
        d.add("Batch mean", _chain(s.delta(depth), WorkedProduct([scale, delta]),
                                   _narrow(WorkedProduct([scale, _columns(numbers["delta"])])),
                             _columns(numbers["deltas"][-1])),
              ("J averages L, so ", sp.Eq(sp.Symbol("Delta"),
                                          partial("J", "z", "J", "z"), evaluate=False),
               " carries the factor of the mean"))


def _prediction(s: _Symbols) -> sp.Eq:
    depth = len(s.widths) - 1
    return sp.Eq(yhat, notation(f"a({depth})", f"a^{{({depth})}}"), evaluate=False)


def _slope(act, Z, A):
    from symprop.derive.explain import slope

    return slope(act, Z, A)


def _slope_step(d, s: _Symbols, l: int, act, Z, A) -> None:
    name = _function_name(act)
    if act.derivative_of_output is not None:
        formula = act.derivative_of_output.subs(a, notation(f"a({l})", f"a^{{({l})}}",
                                                             real=True))
    else:
        formula = act.derivative.subs(act.z, notation(f"z({l})", f"z^{{({l})}}", real=True))
    # definition = numbers = result, as the activation's step; the formula in the prose
    d.add(f"Layer {l}: slope of {act.name}", _chain(
        s.slope(act, l), _narrow(WorkedCall(name, _columns(Z), prime=True)),
        _columns(_slope(act, Z, A))), (
        "its derivative, elementwise" + (", in terms of its output"
                                         if act.derivative_of_output is not None else "") + ": ",
        sp.Eq(s.slope(act, l), formula, evaluate=False)))


def _gradient_steps(d, s: _Symbols, l: int, acts, weights, numbers) -> None:
    D = numbers["deltas"][l - 1]
    dW, db = numbers["gradients"][l - 1]
    A_below = numbers["A"][l - 1]
    d.add(f"Layer {l}: weight gradient", _chain(
        partial("J", f"W({l})", "J", f"W^{{({l})}}"), s.delta(l) * sp.Transpose(s.a(l - 1)),
        _narrow(WorkedProduct([_columns(D), shown_matrix(A_below)])), shown_matrix(dW.T)),
        "summed over the samples by the product" if s.m > 1 else "")
    bias = s.delta(l) * sp.OneMatrix(s.m, 1) if s.m > 1 else s.delta(l)
    d.add(f"Layer {l}: bias gradient", (partial("J", f"b({l})", "J", f"b^{{({l})}}"), bias,
                                        shown_matrix(db)),
          "the sum of the columns" if s.m > 1 else "")
    if l == 1:
        return
    G = numbers["dJ/da"][l - 2]
    d.add(f"Layer {l - 1}: gradient of its output", _chain(
        s.into(l - 1), sp.Transpose(s.W(l)) * s.delta(l),
        _narrow(WorkedProduct([shown_matrix(weights[l - 1][0]), _columns(D)])), _columns(G)),
        f"back through the weights of layer {l}")
    act, Z, A = acts[l - 2], numbers["Z"][l - 2], numbers["A"][l - 1]
    if act.kind == "softmax":
        d.add(f"Layer {l - 1}: error signal, through softmax", (s.delta(l - 1), notation(
            f"softmax vjp {l - 1}", rf"a^{{({l - 1})}} \odot \left(g - \mathbf{{1}}\, "
            rf"a^{{({l - 1})T}} g\right)"), _columns(numbers["deltas"][l - 2])),
            ("the softmax vector-Jacobian product with ",
             TeX(rf"g = \partial J / \partial a^{{({l - 1})}}")))
        return
    _slope_step(d, s, l - 1, act, Z, A)
    d.add(f"Layer {l - 1}: error signal, through {act.name}", _chain(
        s.delta(l - 1), sp.HadamardProduct(s.into(l - 1), s.slope(act, l - 1)),
        _narrow(WorkedProduct([_columns(G), _columns(_slope(act, Z, A))],
                              elementwise=s.m * s.widths[l - 1] > 1)),
        _columns(numbers["deltas"][l - 2])), "the chain rule, unit by unit")


def _update_steps(d, weights, numbers, rule, values) -> None:
    symbols = rule_symbols(rule)
    # The rule once, in symbols (a display breaks where it is long; inline prose could not);
    # then each parameter tensor's numbers.
    for number, (target, expr) in enumerate(rule.assignments):
        d.add(f"The update rule ({rule.name})" if number == 0 else "... then",
              Update(target, expr), ("for each element ", TeX("w"), " of a parameter tensor, "
                                     "with its gradient ", sp.Eq(symbols["g"], partial(
                                         "J", "w", "J", "w"), evaluate=False),
                                     "; every state starts at 0" if rule.state else "")
              if number == 0 else "")
    for l, (pair, grads) in enumerate(zip(weights, numbers["gradients"], strict=True), 1):
        for kind, param, grad in (("W", pair[0], grads[0]), ("b", pair[1], grads[1])):
            tex = f"{kind}^{{({l})}}"
            names = {symbols["w"]: notation(f"{kind}({l})", tex, real=True),
                     symbols["g"]: partial("J", f"{kind}({l})", "J", tex)}
            names.update({state: notation(f"{state.name}[{kind}({l})]",
                                          f"{latex(state)}_{{{tex}}}", real=True)
                          for state in rule.state})
            trace: list = []
            apply_rule(rule, values, param, grad, trace)
            what = "weights" if kind == "W" else "biases"
            for target, expr, current, result in trace:
                shown_expr = expr.xreplace(names)
                # Numbers keyed by the printed symbols, so that they print in the order the
                # printed rule has (the renamed symbols sort differently).
                numbers_in = {names.get(symbol, symbol): shown_matrix(np.asarray(value).T)
                              for symbol, value in current.items()}
                numbers_in.update({symbol: shown(value) for symbol, value in values.items()})
                shown_numbers = _narrow(worked(shown_expr, numbers_in))
                title = f"Update layer {l} {what}" + (
                    "" if target == symbols["w"] else ", weight decay" if target == symbols[
                        "g"] else f", state {target.name}")
                # The rule in the prose, the numbers in a chain from the new value's name
                # (the notes' w_new = 3 - 0.1 (-4) = 3.4): the chain breaks into lines where
                # it is long, which a rule beside a row of matrices could not.
                new = notation(f"{kind}({l}) new", rf"{tex}_{{\text{{new}}}}", real=True) if (
                    target == symbols["w"]) else names[target]
                d.add(title, _chain(new, shown_numbers, shown_matrix(np.asarray(result).T)),
                      ("the rule above for ", names[symbols["w"]], ": ",
                       Update(names[target], shown_expr))
                      if len(unicode(shown_expr)) <= SHORT_RULE else "the rule above")
