"""The optimizer update rules derived and explained, as PyTorch implements them.

Each derivation states the rule as assignments with the learning rate first
(``v <- mu v + g``, ``w <- w - eta v``), exactly the assignments the code generator prints
(:class:`symprop.derive.optimizers.UpdateRule`), then derives what the rule does: why a step
against the gradient lowers the loss (SGD), the unrolled sum of past gradients (momentum),
PyTorch's Nesterov form as Sutskever's look-ahead method in other variables, Adam's bias
correction (``E[m_t] = (1 - beta1^t) E[g]`` for a stationary gradient) and RMSprop's
uncorrected running mean. Every derived identity is checked with SymPy as it is derived:
against the rule iterated step by step, or by expanding a difference to zero.
"""

from __future__ import annotations

import sympy as sp

from symprop.derive.derivation import Derivation, Update, notation, prose
from symprop.derive.notation import Code
from symprop.derive.optimizers import (
    beta1,
    beta2,
    eps,
    g,
    lr,
    m_,
    mu,
    rho,
    t,
    v,
    w,
    wd,
)

MAX_UNROLLED = 6  # the closed forms are checked against the rule iterated this many steps


class Expectation(sp.Function):
    """``E[x]``, printed as a textbook does (``\\mathbb{E}[x]``; ``𝔼[x]`` in text)."""

    nargs = 1

    def _latex(self, printer) -> str:
        return rf"\mathbb{{E}}\left[{printer._print(self.args[0])}\right]"

    def _notation_unicode(self, printer) -> str:
        return f"𝔼[{printer._print(self.args[0])}]"

    def _sympystr(self, printer) -> str:
        return f"E[{printer._print(self.args[0])}]"


def at(name: str, tex: str, when: str) -> sp.Symbol:
    """A quantity at a step: ``at("m", "m", "t-1")`` is ``m_{t-1}``."""
    return notation(f"{name}_{when}", f"{tex}_{{{when}}}", real=True)


def iterate(assignments, state, steps: int, gradients) -> list[dict]:
    """The state after each of ``steps`` applications of ``assignments`` from zero, the
    gradient of step n being ``gradients[n - 1]``: the rule itself, to check closed forms."""
    values, history = dict.fromkeys(state, sp.S.Zero), []
    for n in range(1, steps + 1):
        env = {**values, g: gradients[n - 1], t: n}
        for target, expr in assignments:
            if target == g:
                continue  # weight decay: the gradients given are the decayed ones
            env[target] = sp.expand(expr.xreplace(env))
        values = {s: env[s] for s in state}
        history.append(values)
    return history


def geometric(base, count, index):
    """``sum_{index=1}^{count} base^(count - index)``, summed by SymPy (its branch for
    ``base != 1``), in the textbook form ``(1 - base^count) / (1 - base)``."""
    total = sp.piecewise_fold(sp.summation(base ** (count - index), (index, 1, count)))
    if isinstance(total, sp.Piecewise):  # (count, base = 1), (the closed form, otherwise)
        total = next(value for value, condition in total.args if condition == sp.true)
    check_zero(total * (1 - base) - (1 - base**count), "the geometric sum")
    return sp.Mul(1 - base**count, sp.Pow(1 - base, -1), evaluate=False)


def coefficient(factor, expr):
    """``factor expr`` printed in that order, ``(1 - beta1^t) E[g]`` (evaluate with
    ``.doit()``)."""
    return sp.Mul(sp.UnevaluatedExpr(factor), expr, evaluate=False)


def check_zero(expr, what: str) -> None:
    if sp.expand(sp.simplify(expr)) != 0:
        raise AssertionError(f"{what}: the derived form disagrees with the rule")


def unrolled_running_mean(d: Derivation, rule, state_symbol, decay, squared: bool,
                          name: str, tex: str) -> sp.Expr:
    """``s_t = (1 - decay) sum_k decay^(t-k) g_k^p`` for ``s <- decay s + (1 - decay) g^p``,
    then its expectation for a stationary gradient: ``(1 - decay^t) E[g^p]``. Returns that
    expectation."""
    k = sp.Symbol("k", integer=True, positive=True)
    gk = sp.IndexedBase(sp.Symbol("g", real=True), real=True)
    power = 2 if squared else 1
    s_t, s_3 = at(name, tex, "t"), at(name, tex, "3")
    closed = (1 - decay) * sp.Sum(decay ** (t - k) * gk[k] ** power, (k, 1, t))
    grads = [gk[n] for n in range(1, MAX_UNROLLED + 1)]
    history = iterate(rule.assignments, rule.state, MAX_UNROLLED, grads)
    for n, values in enumerate(history, 1):
        check_zero(values[state_symbol] - closed.subs(t, n).doit(), f"the unrolled {name}")
    three = (1 - decay) * sum(decay ** (3 - n) * gk[n] ** power for n in (1, 2, 3))
    check_zero(history[2][state_symbol] - three, f"the {name} after three steps")
    d.add(f"Unroll the {'second' if squared else 'first'} moment" if name in "mv" and
          rule.name == "Adam" else "Unroll the running mean", (s_3, three),
          prose(f"apply the rule three times from ${tex}_{{0}} = 0$"))
    d.add("In general", (s_t, closed),
          prose(f"by induction: each step multiplies the sum by ${sp.latex(decay)}$ and adds "
                f"the new term; checked against the rule for $t = 1, \\ldots, {MAX_UNROLLED}$"))
    expectation = (1 - decay) * sp.Sum(decay ** (t - k) * Expectation(gk[k] ** power),
                                       (k, 1, t))
    d.add("Take the expectation", (Expectation(s_t), expectation),
          "the expectation is linear")
    stationary = Expectation(g**power)
    pulled = (1 - decay) * stationary * sp.Sum(decay ** (t - k), (k, 1, t))
    d.add("A stationary gradient", (Expectation(s_t), pulled),
          ("if every step's gradient has the same distribution, ",
           sp.Eq(Expectation(gk[k] ** power), stationary, evaluate=False), " for every ", k))
    total = geometric(decay, t, k)
    d.add("The geometric sum", (sp.Sum(decay ** (t - k), (k, 1, t)), total),
          prose(f"$\\sum_{{j=0}}^{{t-1}} x^{{j}} = (1 - x^{{t}}) / (1 - x)$ for "
                f"$x = {sp.latex(decay)} < 1$"))
    result = coefficient(1 - decay**t, stationary)
    check_zero(sp.cancel((1 - decay) * total * stationary) - result.doit(), "the expectation")
    d.add(f"Bias of the running mean of the {'squared ' if squared else ''}gradient",
          (Expectation(s_t), result),
          prose(f"{'$v_{t}$' if squared else '$m_{t}$'} starts at 0, so it underestimates "
                f"its target by the factor $1 - {sp.latex(decay)}^{{t}}$, most in the first "
                "steps (0.1 at $t = 1$ for a decay of 0.9)"))
    return result


def weight_decay_steps(d: Derivation) -> None:
    penalty = wd / 2 * w**2
    gradient = sp.diff(penalty, w)
    d.add("Weight decay: the penalty's gradient",
          (sp.Derivative(penalty, w, evaluate=False), gradient),
          ("L2 weight decay, as PyTorch applies it: the loss gains the penalty ", penalty))
    d.add("Weight decay: added to the gradient", Update(g, g + gradient),
          ("the gradient of ", notation("J", "J") + penalty, *prose("; every rule below uses "
                                                                   "this $g$")))


def sgd_steps(d: Derivation) -> None:
    J = sp.Function("J")
    # The rate of change of J along the step, as the learning rate leaves 0.
    rate = sp.diff(J(w - lr * g), lr).subs(lr, 0)
    slope = rate.replace(lambda e: isinstance(e, sp.Subs), lambda e: g)  # J'(w) = g
    check_zero(slope + g**2, "the change of J along the step")
    d.add("Why the step lowers the loss",
          (notation("dJ(w - eta g)/deta at 0",
                    r"\left.\frac{\partial}{\partial\eta} J(w - \eta\, g)\right|_{\eta = 0}",
                    "∂/∂η J(w − η·g) at η = 0"), sp.Mul(-g, g, evaluate=False), slope),
          prose("the chain rule, with $J'(w) = g$: along the step $J$ changes at the rate "
                "$-g^{2} \\le 0$, so a small enough step never raises $J$ (to first order in "
                "$\\eta$, $J(w - \\eta\\, g) \\approx J(w) - \\eta\\, g^{2}$)"))


def momentum_steps(d: Derivation, rule) -> None:
    k = sp.Symbol("k", integer=True, nonnegative=True)
    gk = sp.IndexedBase(sp.Symbol("g", real=True), real=True)
    history = iterate(rule.assignments, rule.state, MAX_UNROLLED,
                      [gk[n] for n in range(1, MAX_UNROLLED + 1)])
    closed = sp.Sum(mu**k * gk[t - k], (k, 0, t - 1))
    for n, values in enumerate(history, 1):
        check_zero(values[v] - closed.subs(t, n).doit(), "the unrolled velocity")
    d.add("Unroll the velocity", (at("v", "v", "3"), history[2][v]),
          prose("apply the rule three times from $v_{0} = 0$ (PyTorch's first step sets the "
                "buffer to $g_{1}$: the same)"))
    d.add("In general", (at("v", "v", "t"), closed),
          prose("a sum of all past gradients, the one $k$ steps back weighted by $\\mu^{k}$; "
                f"checked against the rule for $t = 1, \\ldots, {MAX_UNROLLED}$"))
    g_ = sp.Symbol("g", real=True)
    j = sp.Symbol("j", integer=True, positive=True)
    steady = geometric(mu, t, j)
    d.add("A steady gradient", (at("v", "v", "t"), sp.Mul(g_, sp.Sum(mu ** (t - j), (j, 1, t))),
                                g_ * steady),
          prose("for the same $g$ every step the velocity tends to $g / (1 - \\mu)$ as "
                "$\\mu^{t} \\to 0$: momentum takes steps up to $1 / (1 - \\mu)$ times longer "
                "(10 times for $\\mu = 0.9$) where the gradient keeps its direction"))


def nesterov_steps(d: Derivation) -> None:
    w_t, w_prev = at("w", "w", "t"), at("w", "w", "t-1")
    v_t, v_prev, g_t = at("v", "v", "t"), at("v", "v", "t-1"), at("g", "g", "t")
    pytorch = w_prev - lr * (g_t + mu * v_t)
    expanded = sp.Add(w_prev, -lr * (1 + mu) * g_t, -lr * mu**2 * v_prev, evaluate=False)
    check_zero(pytorch.subs(v_t, mu * v_prev + g_t) - expanded.doit(), "Nesterov's step")
    d.add("One step written out", (w_t, pytorch, expanded),
          prose("with $v_{t} = \\mu v_{t-1} + g_{t}$ substituted"))
    theta_t, theta_prev = at("theta", "\\theta", "t"), at("theta", "\\theta", "t-1")
    u_t, u_prev = at("u", "u", "t"), at("u", "u", "t-1")
    look = notation("grad J(theta + mu u)", r"\nabla J(\theta_{t-1} + \mu u_{t-1})")
    d.add("Nesterov's method (Sutskever et al.): the velocity", (u_t, mu * u_prev - lr * look),
          prose("the gradient taken at the look-ahead point $\\theta_{t-1} + \\mu u_{t-1}$, "
                "where the momentum is about to carry the parameters"))
    d.add("... and the step", (theta_t, theta_prev + u_t), "")
    d.add("Change of variables: the parameter", (w_t, theta_t + mu * u_t),
          prose("PyTorch's parameter is the look-ahead point"))
    d.add("... and the velocity", (v_t, -u_t / lr),
          prose("PyTorch keeps the look-ahead point itself as the parameter, and the velocity "
                "in units of gradients; so its gradient $g_{t}$ is $\\nabla J$ at "
                "$w_{t-1}$, the look-ahead point"))
    # theta_t + mu u_t with u_t = mu u_prev - lr g_t, theta_prev = w_prev - mu u_prev,
    # u_prev = -lr v_prev: must give the expanded PyTorch step.
    step = (w_prev - mu * u_prev) + (1 + mu) * (mu * u_prev - lr * g_t)
    check_zero(step.subs(u_prev, -lr * v_prev) - expanded.doit(), "Nesterov's look-ahead form")
    d.add("Substitute", (w_t, theta_prev + (1 + mu) * u_t, expanded),
          prose("the same step as PyTorch's written out above: its rule is Nesterov's method "
                "in these variables"))


def adam_steps(d: Derivation, rule) -> None:
    first = unrolled_running_mean(d, rule, m_, beta1, False, "m", "m")
    mhat_t, m_t = at("mhat", r"\hat{m}", "t"), at("m", "m", "t")
    corrected = sp.cancel(first.doit() / (1 - beta1**t))
    d.add("Bias correction", (Expectation(mhat_t), Expectation(m_t) / (1 - beta1**t),
                              corrected),
          (*prose("dividing by $1 - \\beta_{1}^{t}$ makes $\\hat{m}_{t}$ an unbiased "
                  "estimate of "), Expectation(g)))
    check_zero(corrected - Expectation(g), "Adam's corrected first moment")
    v_t, vhat_t = at("v", "v", "t"), at("vhat", r"\hat{v}", "t")
    second = coefficient(1 - beta2**t, Expectation(g**2))
    d.add("The same for the second moment", (Expectation(v_t), second),
          prose("the same derivation with $\\beta_{2}$ and $g^{2}$"))
    d.add("... and its correction", (Expectation(vhat_t), Expectation(v_t) / (1 - beta2**t),
                                     sp.cancel(second.doit() / (1 - beta2**t))),
          (*prose("$\\hat{v}_{t}$ estimates "), Expectation(g**2),
           ", so each element's step is about ",
           lr * Expectation(g) / sp.sqrt(Expectation(g**2)), *prose(", at most $\\eta$ in size")))


def rmsprop_steps(d: Derivation, rule) -> None:
    unrolled_running_mean(d, rule, v, rho, True, "v", "v")
    v_1 = (1 - rho) * g**2  # the rule once from v_0 = 0
    check_zero(iterate(rule.assignments, rule.state, 1, [g])[0][v] - v_1, "RMSprop's v_1")
    step = -lr * g / (sp.Pow(sp.Mul(1 - rho, g**2, evaluate=False), sp.S.Half, evaluate=False)
                      + eps)
    limit = -lr * sp.sign(g) / sp.sqrt(1 - rho)
    check_zero((step.doit().subs(eps, 0) - limit).subs(g, 3), "RMSprop's first step")
    d.add("No bias correction: the first step", (at("w", "w", "1") - at("w", "w", "0"), step,
                                                  limit),
          prose("PyTorch's RMSprop does not correct the bias: with $v_{1} = (1 - \\alpha) "
                "g^{2}$ (and $\\epsilon$ negligible) the first step is "
                "$1 / \\sqrt{1 - \\alpha}$ times $\\eta$, 10 times for $\\alpha = 0.99$"))


def own_term_first(target, expr):
    """``mu v + g`` rather than ``g + mu v``: in an assignment the term with the target's old
    value first, as the notes and PyTorch's documentation write the rules (display only; the
    sum is the same)."""
    if not isinstance(expr, sp.Add):
        return expr
    terms = sorted(expr.args, key=lambda term: not term.has(target))
    return sp.Add(*terms, evaluate=False)


def printed_rule(rule) -> list[tuple[str, Update, tuple | str]]:
    """The rule's assignments as printed (title, Update, why): PyTorch's order, the learning
    rate first; Adam's step is shown with its corrected moments named."""
    rows = []
    for target, expr in rule.assignments:
        if target.name == "g":
            continue  # weight decay: shown with its derivation
        if rule.name == "Adam" and target.name == "w":
            mhat, vhat = (notation(n, tex, real=True) for n, tex in (("mhat", r"\hat{m}"),
                                                                     ("vhat", r"\hat{v}")))
            shown = [(mhat, m_ / (1 - beta1**t)), (vhat, v / (1 - beta2**t)),
                     (w, w - lr * mhat / (sp.sqrt(vhat) + eps))]
            check_zero(shown[2][1].xreplace(dict(shown[:2])) - expr, "Adam's printed step")
            rows += [(_TITLES["mhat"], Update(*shown[0]), _WHY["mhat"]),
                     (_TITLES["vhat"], Update(*shown[1]), _WHY["vhat"]),
                     ("Step", Update(*shown[2]), _WHY["adam w"])]
            continue
        key = f"{_KIND[rule.name]} {target.name}"
        rows.append((_TITLES.get(key, _TITLES.get(target.name, "Step")),
                     Update(target, own_term_first(target, expr)), _WHY.get(key, "")))
    return rows


_KIND = {"SGD": "sgd", "SGD with momentum": "momentum", "SGD with Nesterov momentum": "nesterov",
         "Adam": "adam", "RMSprop": "rmsprop"}
_TITLES = {"momentum v": "Velocity", "nesterov v": "Velocity", "adam m": "First moment",
           "adam v": "Second moment", "rmsprop v": "Running mean of the squared gradient",
           "mhat": "Bias-corrected first moment", "vhat": "Bias-corrected second moment",
           "nesterov w": "Step with the look-ahead", "momentum w": "Step along the velocity"}
_WHY = {
    "sgd w": prose("against the gradient $g = \\partial J / \\partial w$, the learning rate "
                   "$\\eta$ first"),
    "momentum v": prose("PyTorch's momentum buffer (dampening 0): the old velocity decayed by "
                        "$\\mu$, plus the gradient"),
    "momentum w": prose("the step follows the velocity, not the gradient alone"),
    "nesterov v": prose("the same velocity as plain momentum"),
    "nesterov w": (*prose("the gradient plus the velocity's next contribution "
                          "$\\mu v$ (PyTorch's "), Code("nesterov=True"), "; derived below)"),
    "adam m": prose("a running mean of the gradient, weight $1 - \\beta_{1}$ for the new one"),
    "adam v": prose("a running mean of the squared gradient"),
    "mhat": prose("$t$ counts the steps from 1; derived below"),
    "vhat": prose("the same correction with $\\beta_{2}$"),
    "adam w": prose("a step of about $\\eta$ per element, scaled by $\\sqrt{\\hat{v}}$; "
                    "$\\epsilon$ keeps it finite"),
    "rmsprop v": prose("a running mean of $g^{2}$ with decay $\\alpha$"),
    "rmsprop w": prose("each element's step divided by the root of its running mean "
                       "square, $\\epsilon$ added outside the root as PyTorch does"),
}


def rule_derivation(rule, values: dict | None = None) -> Derivation:
    """The derivation of ``rule`` (an UpdateRule): the rule as printed, then what it does."""
    kind = _KIND[rule.name]
    d = Derivation(f"Optimizer {rule.name}: the update rule, derived")
    d.notes.append(("As PyTorch's ", Code(f"torch.optim.{_TORCH[kind]}"), *prose(
        " implements it, for one parameter element $w$ "
        "with gradient $g = \\partial J / \\partial w$ of the batch-mean loss $J$; the "
        "optimizer's state starts at 0 and $t$ counts the steps from 1.")))
    if values:
        shown = []
        for symbol, value in values.items():
            # The CLI's wording for --param values (it adds no second note after this one).
            shown += [", " if shown else "Hyperparameters: ", sp.Eq(symbol, sp.Float(value),
                                                           evaluate=False)]
        d.notes.append((*shown, "."))
    if any(target.name == "g" for target, _ in rule.assignments):
        weight_decay_steps(d)
    for title, update, why in printed_rule(rule):
        d.add(title, update, why)
    if kind == "sgd":
        sgd_steps(d)
    elif kind == "momentum":
        momentum_steps(d, rule)
    elif kind == "nesterov":
        momentum_steps(d, rule)
        nesterov_steps(d)
    elif kind == "adam":
        adam_steps(d, rule)
    else:
        rmsprop_steps(d, rule)
    d.result = rule.assignments[-1][1]
    return d


_TORCH = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adam": "Adam",
          "rmsprop": "RMSprop"}
__all__ = ["Expectation", "printed_rule", "rule_derivation"]
