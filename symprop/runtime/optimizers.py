"""Optimizers: hyperparameter values plus the name of their derived update rule.

The update itself is generated from the symbolic rule in ``symprop.derive.optimizers``; an
optimizer object here only carries values (kernel arguments) and its per-parameter state.
"""

from __future__ import annotations

import math

from symprop.errors import SympropError, UnknownNameError


def _positive(name: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SympropError(f"{name} must be a finite number, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise SympropError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, not {value!r}")
    return float(value)


class Optimizer:
    """Base class: ``rule`` names the derived update rule, ``options`` its structure."""

    rule = ""

    @property
    def options(self) -> dict:
        return {}

    def hyper_values(self) -> list[float]:
        """Values in the order of the generated kernel's hyperparameter arguments."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain SGD, with momentum (optionally Nesterov) and L2 weight decay, as PyTorch's:
    ``lr`` the learning rate, ``momentum`` the velocity's decay (0: none), ``nesterov``
    the look-ahead form, ``weight_decay`` that multiple of the weights added to the
    gradient."""

    rule = "sgd"

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        self.lr = _positive("lr", lr)
        self.momentum = _positive("momentum", momentum, allow_zero=True)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise SympropError("Nesterov needs a momentum > 0")

    @property
    def options(self) -> dict:
        return {"momentum": self.momentum, "weight_decay": self.weight_decay,
                "nesterov": self.nesterov}

    def hyper_values(self) -> list[float]:
        """The values the generated update takes, in its argument order."""
        # rule hyperparameters: (lr, momentum, weight_decay) with momentum, else (lr, wd)
        if self.momentum:
            return [self.lr, self.momentum, self.weight_decay]
        return [self.lr, self.weight_decay]


class Adam(Optimizer):
    """Adam (Kingma and Ba), as PyTorch's: moving averages m of the gradient and v of its
    square (decay rates ``beta1``, ``beta2``), bias-corrected, and the step
    ``lr * m_hat / (sqrt(v_hat) + eps)``; ``weight_decay`` adds that multiple of the weights
    to the gradient (L2). ``symprop derive adam`` prints the rule derived."""

    rule = "adam"

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0):
        self.lr = _positive("lr", lr)
        self.beta1 = _positive("beta1", beta1, allow_zero=True)
        self.beta2 = _positive("beta2", beta2, allow_zero=True)
        if not (self.beta1 < 1 and self.beta2 < 1):
            raise SympropError("beta1 and beta2 must be < 1")
        self.eps = _positive("eps", eps)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)

    @property
    def options(self) -> dict:
        return {"weight_decay": self.weight_decay}

    def hyper_values(self) -> list[float]:
        """The values the generated update takes, in its argument order."""
        return [self.lr, self.beta1, self.beta2, self.eps, self.weight_decay]


class RMSprop(Optimizer):
    """RMSprop, as PyTorch's: a moving average v of the squared gradient (decay ``alpha``)
    and the step ``lr * g / (sqrt(v) + eps)``; ``weight_decay`` as in Adam."""

    rule = "rmsprop"

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.lr = _positive("lr", lr)
        self.alpha = _positive("alpha", alpha, allow_zero=True)
        if self.alpha >= 1:
            raise SympropError("alpha must be < 1")
        self.eps = _positive("eps", eps)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)

    @property
    def options(self) -> dict:
        return {"weight_decay": self.weight_decay}

    def hyper_values(self) -> list[float]:
        """The values the generated update takes, in its argument order."""
        return [self.lr, self.alpha, self.eps, self.weight_decay]


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def make_optimizer(spec, **options) -> Optimizer:
    if isinstance(spec, Optimizer):
        return spec
    key = str(spec).lower()
    if key not in OPTIMIZERS:
        raise UnknownNameError("optimizer", spec, list(OPTIMIZERS))
    return OPTIMIZERS[key](**options)
