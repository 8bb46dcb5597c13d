"""Optimizer update rules as symbolic assignments, for printing and for code generation.

Each rule is an ordered list of assignments ``state <- expression`` applied to one parameter
element ``w`` with gradient ``g`` (the gradient of the batch-mean loss). The conventions are
PyTorch's, so that training follows its loss curve from the same weights: L2 weight decay
adds ``wd*w`` to the gradient; momentum keeps ``v <- mu*v + g``; Adam corrects the bias of
both moments with the step count ``t``; RMSprop divides by ``sqrt(v) + eps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symprop.derive.derivation import Derivation, notation
from symprop.errors import SympropError, UnknownNameError

w, g = sp.symbols("w g", real=True)
lr, wd, mu = sp.symbols("lr weight_decay momentum", nonnegative=True)
beta1, beta2, eps, rho = sp.symbols("beta1 beta2 eps alpha", positive=True)
t = sp.Symbol("t", integer=True, positive=True)  # the step count, from 1
v, m_, s_ = sp.symbols("v m s", real=True)  # optimizer state per parameter element

_LATEX = {"w": "w", "g": "g", "v": "v", "m": "m", "s": "s"}


@dataclass(frozen=True)
class UpdateRule:
    """Assignments applied in order to each parameter element; ``state`` lists the slots the
    optimizer keeps per parameter (zero-initialised), ``hyperparameters`` the scalar
    arguments of the kernel, ``needs_step`` whether the step count ``t`` is an argument."""

    name: str
    assignments: tuple[tuple[sp.Symbol, sp.Expr], ...]
    state: tuple[sp.Symbol, ...]
    hyperparameters: tuple[sp.Symbol, ...]
    needs_step: bool = False

    def derivation(self) -> Derivation:
        d = Derivation(f"Optimizer {self.name}: update of one parameter element")
        d.notes.append("g is the gradient of the batch-mean loss J with respect to w; "
                       "state starts at 0; t counts steps from 1.")
        for target, expr in self.assignments:
            d.add(f"update {target}", sp.Eq(notation(f"{target}_new", f"{target}_{{new}}"),
                                            expr, evaluate=False), _WHY.get(target.name, ""))
        d.result = self.assignments[-1][1]
        return d


_WHY = {
    "g": "L2 weight decay: the gradient of (wd/2)*w^2 is added",
    "v": "running velocity / second moment",
    "m": "first moment (running mean of the gradient)",
    "w": "step against the gradient",
}


def sgd_rule(momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
    grad = g + wd * w if weight_decay else g
    steps: list[tuple[sp.Symbol, sp.Expr]] = []
    if weight_decay:
        steps.append((g, grad))
    if momentum:
        steps.append((v, mu * v + g))
        direction = g + mu * v if nesterov else v
        steps.append((w, w - lr * direction))
        return UpdateRule("SGD with Nesterov momentum" if nesterov else "SGD with momentum",
                          tuple(steps), (v,), (lr, mu, wd))
    if nesterov:
        raise SympropError("Nesterov needs a momentum > 0")
    steps.append((w, w - lr * g))
    return UpdateRule("SGD", tuple(steps), (), (lr, wd))


def adam_rule(weight_decay: float = 0.0):
    steps: list[tuple[sp.Symbol, sp.Expr]] = []
    if weight_decay:
        steps.append((g, g + wd * w))
    m_hat = m_ / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    steps += [
        (m_, beta1 * m_ + (1 - beta1) * g),
        (v, beta2 * v + (1 - beta2) * g**2),
        (w, w - lr * m_hat / (sp.sqrt(v_hat) + eps)),
    ]
    return UpdateRule("Adam", tuple(steps), (m_, v), (lr, beta1, beta2, eps, wd),
                      needs_step=True)


def rmsprop_rule(weight_decay: float = 0.0):
    steps: list[tuple[sp.Symbol, sp.Expr]] = []
    if weight_decay:
        steps.append((g, g + wd * w))
    steps += [(v, rho * v + (1 - rho) * g**2), (w, w - lr * g / (sp.sqrt(v) + eps))]
    return UpdateRule("RMSprop", tuple(steps), (v,), (lr, rho, eps, wd))


RULES = {"sgd": sgd_rule, "adam": adam_rule, "rmsprop": rmsprop_rule}


def update_rule(name: str, **options) -> UpdateRule:
    key = str(name).lower()
    if key not in RULES:
        raise UnknownNameError("optimizer", name, list(RULES))
    return RULES[key](**options)
