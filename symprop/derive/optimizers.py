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

from symprop.derive.derivation import Derivation
from symprop.errors import SympropError, UnknownNameError

w, g = sp.symbols("w g", real=True)
lr, wd, mu = sp.symbols("lr weight_decay momentum", nonnegative=True)
beta1, beta2, eps, rho = sp.symbols("beta1 beta2 eps alpha", positive=True)
t = sp.Symbol("t", integer=True, positive=True)  # the step count, from 1
v, m_, s_ = sp.symbols("v m s", real=True)  # optimizer state per parameter element

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

    def derivation(self, values: dict | None = None) -> Derivation:
        """The rule as printed (the learning rate first), then what it does and why, derived
        (:mod:`symprop.derive.optimizer_derivations`). ``values``: hyperparameter symbol ->
        value, shown in a note."""
        from symprop.derive.optimizer_derivations import rule_derivation

        return rule_derivation(self, values)


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


# Names ``symprop derive NAME`` derives (none is an activation's or a loss's name): each with
# its rule and the values it takes (``--param name=value``), the keyword of the rule's
# options or None for a value only shown.
DERIVED = {
    "sgd": ({}, ("lr", "momentum", "weight_decay")),
    "momentum": ({"momentum": 0.9}, ("lr", "momentum", "weight_decay")),
    "nesterov": ({"momentum": 0.9, "nesterov": True}, ("lr", "momentum", "weight_decay")),
    "adam": ({}, ("lr", "beta1", "beta2", "eps", "weight_decay")),
    "rmsprop": ({}, ("lr", "alpha", "eps", "weight_decay")),
}
_SYMBOLS = {"lr": lr, "momentum": mu, "weight_decay": wd, "beta1": beta1, "beta2": beta2,
            "eps": eps, "alpha": rho}


def optimizer_derivation(name: str, **values: float) -> Derivation:
    """``symprop derive adam``: the derivation of an optimizer's update rule by name (sgd,
    momentum, nesterov, adam, rmsprop). ``values`` (lr, momentum, weight_decay, beta1, ...)
    are shown with their symbols; a momentum or weight decay also selects the rule's form."""
    key = str(name).lower()
    if key not in DERIVED:
        raise UnknownNameError("optimizer", name, list(DERIVED))
    defaults, allowed = DERIVED[key]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise SympropError(f"optimizer {key!r} takes no value {unknown[0]!r} (it takes "
                           f"{', '.join(allowed)})")
    options = dict(defaults)
    for option in ("momentum", "weight_decay"):
        if option in values:
            options[option] = values[option]
    rule = RULES["adam" if key == "adam" else "rmsprop" if key == "rmsprop" else "sgd"](
        **options)
    return rule.derivation({_SYMBOLS[k]: v for k, v in values.items()})
