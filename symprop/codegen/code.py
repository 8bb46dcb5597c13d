"""What the templates get from the derive stage: printed lines of scalar code and names.

Plain data (strings), free of SymPy: a network whose every part is a built-in takes them
from the table of printed built-ins (symprop/codegen/printed.py) without importing SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ActivationCode:
    """Forward ``a = f(z)`` and backward ``slope = f'`` from ``a`` (or from ``z``)."""

    name: str  # identifier used in generated function names
    label: str  # human name, for the header
    forward: list[tuple[str, str]]
    backward: list[tuple[str, str]]
    backward_from: str  # "a" or "z": what the backward pass reads
    hyper: list[str] = field(default_factory=list)
    hyper_values: list[float] = field(default_factory=list)
    is_softmax: bool = False
    formula: str = ""
    derivative_text: str = ""


@dataclass
class LossCode:
    """Fused loss value and output delta for the output layer.

    ``mode``: "elementwise" (any loss after an elementwise activation; per unit),
    "softmax_ce" (log-sum-exp, delta yhat - y), or "softmax_vjp" (an elementwise loss after
    softmax: per-unit gradient g, then the softmax VJP). ``reads`` lists the per-unit names
    the lines use among yhat, y, z.
    """

    name: str
    mode: str
    value: list[tuple[str, str]]
    delta: list[tuple[str, str]]
    reads: set[str]
    per_sample_units: bool  # True: the mean runs over samples and units (mse, bce, ...)
    hyper: list[str] = field(default_factory=list)
    hyper_values: list[float] = field(default_factory=list)
    formula: str = ""


@dataclass
class UpdateCode:
    """One optimizer's fused per-element update."""

    name: str
    invariant: list[tuple[str, str]]  # scalar lines hoisted out of the element loop
    lines: list[tuple[str, str]]  # per element: reads w, g, state; writes w_new, state_new
    state: list[str]
    hyper: list[str]
    needs_step: bool
