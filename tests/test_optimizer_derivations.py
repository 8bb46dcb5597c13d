"""The optimizer derivations: the printed rules follow PyTorch's torch.optim step for step,
Adam's bias correction and momentum's unrolled sum are derived right, and ``symprop derive
adam`` prints them."""

import numpy as np
import pytest
import sympy as sp
import torch
from cli_subprocess import run_cli

from symprop.cli import main
from symprop.derive.activations import known_activations
from symprop.derive.derivation import Update
from symprop.derive.losses import known_losses
from symprop.derive.optimizer_derivations import Expectation, printed_rule
from symprop.derive.optimizers import (
    DERIVED,
    beta1,
    beta2,
    eps,
    g,
    lr,
    m_,
    mu,
    optimizer_derivation,
    rho,
    t,
    update_rule,
    v,
    w,
    wd,
)
from symprop.errors import SympropError, UnknownNameError

# (derive name, values, the torch optimizer with the same values)
CASES = [
    ("sgd", {"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd", {"lr": 0.1, "weight_decay": 0.05},
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
    ("momentum", {"lr": 0.1, "momentum": 0.8},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8)),
    ("momentum", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, weight_decay=0.05)),
    ("nesterov", {"lr": 0.1, "momentum": 0.9},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("nesterov", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("adam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
    ("adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05},
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("rmsprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8)),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05},
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05)),
]
SYMBOLS = {"lr": lr, "momentum": mu, "weight_decay": wd, "beta1": beta1, "beta2": beta2,
           "eps": eps, "alpha": rho}
RULE_OPTIONS = {"sgd": ("sgd", {}), "momentum": ("sgd", {"momentum": 0.9}),
                "nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
                "adam": ("adam", {}), "rmsprop": ("rmsprop", {})}
STEPS = 4


def _ids(cases):
    return [f"{name}-{'-'.join(values)}" for name, values, _ in cases]


def _run(assignments, values, w0, gradients, state):
    """Apply ``assignments`` (target, expression) in order, element by element, for each
    gradient: the rule as printed, executed. Returns w after every step."""
    hyper = {SYMBOLS[name]: value for name, value in values.items()}
    hyper.setdefault(wd, 0.0)
    weights, slots, out = w0.copy(), {s: np.zeros_like(w0) for s in state}, []
    for step, grad in enumerate(gradients, 1):
        for index in range(len(weights)):
            env = {**hyper, t: step, w: weights[index], g: grad[index],
                   **{s: slots[s][index] for s in state}}
            for target, expr in assignments:
                env[target] = float(expr.xreplace(env))
            weights[index] = env[w]
            for s in state:
                slots[s][index] = env[s]
        out.append(weights.copy())
    return out


def _torch_steps(make, w0, gradients):
    param = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    optimizer, out = make([param]), []
    for grad in gradients:
        param.grad = torch.tensor(grad, dtype=torch.float64)
        optimizer.step()
        out.append(param.detach().numpy().copy())
    return out


def _printed_updates(derivation):
    return [(s.expression.lhs, s.expression.rhs) for s in derivation.steps
            if isinstance(s.expression, Update)]


@pytest.mark.parametrize("name, values, make", CASES, ids=_ids(CASES))
def test_printed_rules_step_as_torch_optim(name, values, make):
    """The assignments the derivation prints, executed in order, and the rule's assignments
    (what the code generator prints), against torch.optim for several steps, float64."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=4)
    gradients = [rng.normal(size=4) for _ in range(STEPS)]
    expected = _torch_steps(make, w0, gradients)
    d = optimizer_derivation(name, **values)
    printed = _printed_updates(d)
    rule_name, options = RULE_OPTIONS[name]
    options = {**options, **{k: values[k] for k in ("momentum", "weight_decay") if k in values}}
    rule = update_rule(rule_name, **options)
    state = rule.state
    assert [target for target, _ in printed if target.name in ("m", "v", "w", "g")] == [
        target for target, _ in rule.assignments]
    for ours in (_run(printed, values, w0, gradients, state),
                 _run(rule.assignments, values, w0, gradients, state)):
        for got, want in zip(ours, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_learning_rate_first_and_arrows():
    d = optimizer_derivation("momentum")
    step = next(s for s in d.steps if s.title == "Step along the velocity")
    assert isinstance(step.expression, Update)
    assert step.latex() == r"w \leftarrow w - \eta v"


def test_adam_shows_its_corrected_moments():
    rows = printed_rule(update_rule("adam"))
    assert [str(u.lhs) for _, u, _ in rows] == ["m", "v", "mhat", "vhat", "w"]
    assert rows[2][1].rhs == m_ / (1 - beta1**t)


def test_adam_bias_correction_is_derived():
    d = optimizer_derivation("adam")
    steps = {s.title: s for s in d.steps}
    biased = steps["Bias of the running mean of the gradient"].expression[-1].doit()
    assert sp.simplify(biased - (1 - beta1**t) * Expectation(g)) == 0
    assert steps["Bias correction"].expression[-1] == Expectation(g)
    second = steps["The same for the second moment"].expression[-1].doit()
    assert sp.simplify(second - (1 - beta2**t) * Expectation(g**2)) == 0
    assert steps["... and its correction"].expression[-1] == Expectation(g**2)
    # The same by iterating the rule with a constant gradient c: m_t = (1 - beta1^t) c.
    c = sp.Symbol("c")
    first_moment = update_rule("adam").assignments[0][1]
    value = sp.S.Zero
    for step in range(1, 6):
        value = sp.expand(first_moment.xreplace({m_: value, g: c}))
        assert sp.expand(value - (1 - beta1**step) * c) == 0


def test_momentum_unrolled_sum_equals_the_rule_iterated():
    d = optimizer_derivation("momentum")
    general = next(s for s in d.steps if s.title == "In general").expression[-1]
    assert isinstance(general, sp.Sum)
    gk = sp.IndexedBase(sp.Symbol("g", real=True), real=True)
    velocity = update_rule("sgd", momentum=0.9).assignments[0][1]
    value = sp.S.Zero
    for step in (1, 2, 3):
        value = sp.expand(velocity.xreplace({v: value, g: gk[step]}))
    assert sp.expand(general.subs(t, 3).doit() - value) == 0
    three = next(s for s in d.steps if s.title == "Unroll the velocity").expression[-1]
    assert sp.expand(three - value) == 0  # mu^2 g_1 + mu g_2 + g_3


def test_nesterov_is_the_look_ahead_method():
    d = optimizer_derivation("nesterov")
    steps = {s.title: s for s in d.steps}
    pytorch = steps["One step written out"].expression[-1].doit()
    look_ahead = steps["Substitute"].expression[-1].doit()
    assert sp.expand(pytorch - look_ahead) == 0
    assert "Nesterov's method (Sutskever et al.): the velocity" in steps


def test_weight_decay_is_derived():
    d = optimizer_derivation("adam", weight_decay=0.01)
    penalty = d.steps[0]
    assert penalty.expression[-1] == wd * w
    assert d.steps[1].expression == Update(g, g + wd * w)


def test_values_are_shown():
    d = optimizer_derivation("sgd", lr=0.05)
    assert "η = 0.05" in d.text()


def test_names_do_not_collide_and_bad_values_are_refused():
    for name in DERIVED:
        assert name not in known_activations() and name not in known_losses()
    with pytest.raises(UnknownNameError, match="adam"):
        optimizer_derivation("adma")
    with pytest.raises(SympropError, match="alpha"):
        optimizer_derivation("adam", alpha=0.9)
    with pytest.raises(SympropError, match="momentum"):
        optimizer_derivation("nesterov", momentum=0)


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_every_rule_prints_in_every_format(name):
    d = optimizer_derivation(name)
    assert r"\leftarrow" in d.latex() and "←" in d.text() and r"\leftarrow" in d.markdown()
    assert r"\eta" in d.latex()


def test_cli_derive_adam_text(capsys):
    assert main(["derive", "adam", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Optimizer Adam")
    for title in ("First moment", "Bias-corrected first moment", "Bias correction",
                  "The geometric sum"):
        assert title in out
    assert "←" in out and "𝔼" in out


def test_symprop_derive_adam_exits_0_with_the_steps():
    run = run_cli("derive", "adam", "--format", "text")
    assert run.returncode == 0, run.stderr
    assert "Bias correction" in run.stdout and "m̂ ←" in run.stdout


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop"])
def test_cli_derive_each_optimizer(capsys, name):
    assert main(["derive", name, "--param", "weight_decay=0.01"]) == 0
    out = capsys.readouterr().out
    assert r"\leftarrow" in out and "Weight decay" in out


def test_cli_refuses_a_value_the_optimizer_does_not_take(capsys):
    assert main(["derive", "adam", "--param", "alpha=0.9"]) == 2
    assert "alpha" in capsys.readouterr().err
