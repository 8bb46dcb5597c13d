"""Derivations written out rule by rule: an activation's and a loss's derivative.

The steps come from :mod:`.differentiate` (one rule a step), :mod:`.textbook` (the rewrites
to a textbook's form) and, for activations, :mod:`.output_form` (the derivative in terms of
the output). :func:`textbook_derivative` computes the very expression the derivation arrives
at, without the checks, so that ``Activation.derivative`` and the derivation never differ.
"""

from __future__ import annotations

import sympy as sp

from symprop.derive.derivation import Derivation, notation, partial, prose
from symprop.derive.differentiate import d, derivative_steps
from symprop.derive.simplify import collapse_delta_sums
from symprop.derive.stepcheck import StepChecker, evaluated
from symprop.derive.symbols import HUBER_DELTA, YHAT, i, k, yhat
from symprop.derive.textbook import textbook_form, textbook_steps

# What each built-in activation is, as prose with inline maths.
_z = sp.Symbol("z", real=True)
DEFINITIONS = {
    "identity": ("the identity: the output is the input",),
    "step": ("the Heaviside step; its derivative is 0 wherever it exists",),
    "sigmoid": ("the logistic function, with outputs between 0 and 1",),
    "tanh": ("the hyperbolic tangent: zero-centred, with outputs between -1 and 1",),
    "relu": ("the rectified linear unit ", sp.Max(0, _z), "; at the kink ",
             sp.Eq(_z, 0, evaluate=False), " the second piece holds, so the slope there is 0"),
    "leaky_relu": ("a small slope ", sp.Symbol("alpha", real=True),
                   " below 0 instead of relu's 0"),
    "elu": ("the exponential linear unit: smooth below 0, tending to ",
            -sp.Symbol("alpha", real=True)),
    "selu": ("elu scaled by ", sp.Symbol("lambda", real=True), ", with the self-normalising "
             "values of ", sp.Symbol("alpha", real=True), " and ",
             sp.Symbol("lambda", real=True)),
    "softplus": ("a smooth relu: ", sp.log(1 + sp.exp(_z))),
    "softsign": ("a rational sigmoid-like curve, with outputs between -1 and 1",),
    "gelu": (_z, " times the standard normal distribution function ",
             sp.Eq(notation("Phi(z)", r"\Phi(z)", "Φ(z)"), (1 + sp.erf(_z / sp.sqrt(2))) / 2,
                   evaluate=False)),
    "gelu_tanh": ("the tanh approximation of gelu",),
    "silu": (_z, " times a sigmoid of ", sp.Symbol("beta", real=True) * _z,
             " (also called swish)"),
    "mish": (_z, " times the tanh of the softplus of ", _z),
}


def cost_reference(expr, raw):
    """What the textbook cost compares a form with: the formula and its plain derivative."""
    return sp.Tuple(expr, raw)


def textbook_derivative(expr, x) -> sp.Expr:
    """The derivative the step-by-step derivation arrives at (rules, then textbook form)."""
    steps = derivative_steps(expr, x, check=False)
    raw = evaluated(steps[-1].expression)
    return textbook_form(raw, cost_reference(expr, raw))


def add_differentiation(derivation: Derivation, expr, x, lhs) -> sp.Expr:
    """The rule steps, then the textbook rewrites, each as ``lhs = ...``; returns the textbook
    form. Every step is checked equal to ``sp.diff(expr, x)`` on the way."""
    steps = derivative_steps(expr, x)
    for number, step in enumerate(steps):
        shown = (lhs, d(expr, x), step.expression) if number == 0 else sp.Eq(
            lhs, step.expression, evaluate=False)
        derivation.add(step.rule, shown, step.why)
    raw = evaluated(steps[-1].expression)
    checker = StepChecker(expr, x)
    if raw != steps[-1].expression:
        derivation.add("Multiply out", sp.Eq(lhs, raw, evaluate=False),
                       ("the numbers and signs of the product multiplied together",))
    current = raw
    for rewrite in textbook_steps(raw, cost_reference(expr, raw), checker):
        derivation.add(rewrite.title, sp.Eq(lhs, rewrite.expression, evaluate=False),
                       rewrite.why)
        current = rewrite.expression
    return current


def definition_prose(act) -> tuple:
    if act.formula is not None:
        return ("a user formula, differentiated by the same rules as the built-ins",)
    return DEFINITIONS.get(act.name, ("the activation as defined",))


NO_FORM = {
    "not monotone": prose("$f'(z)$ changes sign, so $f$ is not monotone: two different $z$ "
                          "give the same output $a$ with different slopes, and $f'$ is no "
                          "function of $a$. The backward pass keeps $z$."),
    "too large": prose("the formula is too large to invert within the limits of a derivation; "
                       "the backward pass keeps $z$."),
    "condition not mapped": prose("a piece's condition could not be mapped from $z$ to $a$; "
                                  "the backward pass keeps $z$."),
    "no inverse": prose("no inverse of $a = f(z)$ was found: neither by algebra (undoing its "
                        "operations down to an equation linear in $z$ or in an exponential), "
                        "nor as a polynomial in $a$, nor by SymPy's solve, which is not tried "
                        "past a quadratic (a cubic such as $z^{3}/3 + z$ inverts only through "
                        "Cardano's radicals, no cheaper than keeping $z$). The backward pass "
                        "keeps $z$."),
}


def derive_activation_steps(act) -> Derivation:
    """An activation's derivation: definition, one rule a step, textbook form, the form in
    the output (or why there is none), and the second derivative through the output."""
    z, a = act.z, act.a
    fz, dfz = notation("f(z)", "f(z)"), notation("f'(z)", "f'(z)")
    derivation = Derivation(f"Activation {act.name}: derivative and its form in the output")
    derivation.add("Definition", sp.Eq(fz, act.expr, evaluate=False), definition_prose(act))
    add_differentiation(derivation, act.expr, z, dfz)
    if not act.trainable:
        derivation.add("No useful gradient", sp.Eq(dfz, 0, evaluate=False),
                       ("the derivative is 0 wherever it exists (and undefined at the jump), so "
                        "gradient descent cannot learn through this activation",))
        derivation.result = act.derivative
        return derivation
    form = act.output_form
    for step in form.steps:
        derivation.add(step.title, step.expression, step.why)
    if form.result is None:
        derivation.add("No form in the output", sp.Eq(dfz, act.derivative, evaluate=False),
                       NO_FORM.get(form.method, NO_FORM["no inverse"]))
        derivation.result = act.derivative
        return derivation
    derivation.result = form.result
    second = act.higher_derivative_of_output(2)
    if second is not None and second != 0:
        outer = sp.diff(form.result, a)
        simplified = _pieces_simplified(second)  # one case distinction, not a product of two
        derivation.add("Second derivative, by the chain rule through the output",
                       (notation("f''(z)", "f''(z)"), sp.Mul(outer, dfz, evaluate=False),
                        second, *((simplified,) if simplified != second else ())),
                       ("differentiate ", sp.Eq(dfz, form.result, evaluate=False),
                        " with respect to ", z, ": ", sp.Eq(d(form.result, z), sp.Mul(
                            outer, d(a, z), evaluate=False), evaluate=False), ", and ",
                        sp.Eq(d(a, z), dfz, evaluate=False), " is itself ", form.result))
    return derivation


def _pieces_simplified(expr):
    """A product of case distinctions as one (piecewise_fold), each piece simplified."""
    folded = sp.piecewise_fold(expr)
    if not isinstance(folded, sp.Piecewise):
        return expr
    return sp.Piecewise(*[(sp.factor(sp.simplify(value)), condition)
                          for value, condition in folded.args])


_yhat, _y = sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)
LOSS_DEFINITIONS = {
    "mse": ("the squared error, for regression",),
    "mae": ("the absolute error, for regression; robust to outliers",),
    "bce": ("binary cross-entropy, with ", _yhat, " the predicted probability of class 1 and ",
            _y, " the target, 0 or 1",),
    "ce": prose("categorical cross-entropy over the $K$ classes, with a one-hot target $y$"),
    "huber": ("squared near 0, absolute beyond the threshold ", HUBER_DELTA,
              " (PyTorch's delta)"),
    "log_cosh": ("a smooth absolute error: about ", (_yhat - _y) ** 2 / 2, " near 0 and ",
                 sp.Abs(_yhat - _y), " far from it"),
}
N_L = notation("n_L", "n_{L}", integer=True, positive=True)  # as symprop.derive.delta has it


def add_batch_mean(derivation: Derivation, categorical: bool) -> None:
    """The training loss J: the mean over the batch's m samples, and over the n_L output
    units for an elementwise loss (PyTorch's reduction="mean")."""
    m = sp.Symbol("m", integer=True, positive=True)
    J = notation("J", "J")
    if categorical:
        mean = sp.Mul(1 / m, sp.Sum(notation("L_i", "L_{i}"), (i, 1, m)), evaluate=False)
        derivation.add("Training loss: the batch mean", sp.Eq(J, mean, evaluate=False),
                       ("the mean over the ", m, " samples of a batch (the classes are summed "
                        "inside ", notation("L", "L"), "), so every gradient of ", J,
                        " carries the factor ", 1 / m))
        return
    l_ik = notation("L_ik", "L_{ik}")
    mean = sp.Mul(1 / (m * N_L), sp.Sum(l_ik, (i, 1, m), (k, 1, N_L)), evaluate=False)
    derivation.add("Training loss: the batch mean", sp.Eq(J, mean, evaluate=False),
                   ("the mean over the ", m, " samples of a batch and the ", N_L, " output "
                    "units, as PyTorch's reduction='mean', so every gradient of ", J,
                    " carries the factor ", 1 / (m * N_L), " (", sp.Eq(N_L, 1, evaluate=False),
                    " for a single output)"))


def derive_loss_steps(the_loss, derivation: Derivation) -> sp.Expr:
    """A loss's derivation into ``derivation``: per-sample loss, batch mean, one rule a step
    to dL/dyhat, the textbook form; returns that form (for ce: sifted, index renamed)."""
    L = notation("L", "L")
    derivation.add("Per-sample loss", sp.Eq(L, the_loss.expr, evaluate=False),
                   LOSS_DEFINITIONS.get(the_loss.name, ("a user formula",))
                   if the_loss.formula is None else ("a user formula",))
    categorical = the_loss.kind == "categorical"
    add_batch_mean(derivation, categorical)
    if not categorical:
        return add_differentiation(derivation, the_loss.expr, yhat,
                                   partial("L", "yhat", "L", r"\hat{y}"))
    dl_i = partial("L", "yhat_i", "L", r"\hat{y}_{i}")
    summed = add_differentiation(derivation, the_loss.expr, YHAT[i], dl_i)
    sifted = collapse_delta_sums(summed)
    derivation.add("Sift the Kronecker delta", sp.Eq(dl_i, sifted, evaluate=False),
                   ("only the term ", sp.Eq(k, i, evaluate=False), " of the sum is left: ",
                    sp.KroneckerDelta(i, k), " is 1 there and 0 for every other class"))
    gradient = sifted.subs(i, k)
    derivation.add("Rename the class index", sp.Eq(partial("L", "yhat_k", "L", r"\hat{y}_{k}"),
                                                   gradient, evaluate=False),
                   ("the same for every class ", k))
    return gradient
