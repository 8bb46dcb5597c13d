"""The built-in names, their hyperparameters and defaults, without SymPy.

The runtime checks names, fills in defaults and builds cache keys from here, so a process
whose kernels are already cached never imports SymPy (a warm start stays fast). The
derive stage attaches the formulas to these same entries.
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass, field

from symprop.errors import FormulaError, MissingHyperparameterError, UnknownNameError


@dataclass(frozen=True)
class Entry:
    summary: str = ""
    defaults: dict = field(default_factory=dict)
    # name -> (lowest allowed, whether the lowest itself is allowed): where the derived forms
    # hold (a negative leaky_relu alpha would make f non-monotone)
    ranges: dict = field(default_factory=dict)
    trainable: bool = True
    relu_like: bool = False  # He initialisation suits it
    # What the values are, for the losses that read them as probabilities: "unit" (each
    # output in [0, 1], so bce, or ce per class), "simplex" (a probability vector: ce), ""
    # (not probabilities). A formula is asked symbolically instead
    # (symprop.derive.activations.output_range_in_unit_interval).
    probability: str = ""


ACTIVATIONS = {
    "identity": Entry("linear output, f(z) = z"),
    "step": Entry("Heaviside step: derivative 0 almost everywhere", trainable=False,
                  probability="unit"),
    "sigmoid": Entry("logistic, outputs in (0, 1)", probability="unit"),
    "tanh": Entry("zero-centred, outputs in (-1, 1)"),
    "relu": Entry("max(0, z); relu'(0) = 0", relu_like=True),
    "leaky_relu": Entry("z for z > 0, alpha*z otherwise", {"alpha": 0.01},
                        {"alpha": (0.0, True)}, relu_like=True),
    "elu": Entry("z for z > 0, alpha*(e^z - 1) otherwise", {"alpha": 1.0},
                 {"alpha": (0.0, False)}, relu_like=True),
    "selu": Entry("scaled elu", {"alpha": 1.6732632423543772, "lambda": 1.0507009873554805},
                  {"alpha": (0.0, False), "lambda": (0.0, False)}, relu_like=True),
    "softplus": Entry("smooth relu, log(1 + e^z)", relu_like=True),
    "softsign": Entry("z / (1 + |z|)"),
    "gelu": Entry("z * Phi(z), Phi the standard normal CDF", relu_like=True),
    "gelu_tanh": Entry("tanh approximation of gelu", relu_like=True),
    "silu": Entry("z * sigmoid(beta*z), also called swish", {"beta": 1.0},
                  {"beta": (0.0, False)}, relu_like=True),
    "mish": Entry("z * tanh(softplus(z))", relu_like=True),
    "softmax": Entry("exp(z_k) / sum_j exp(z_j): a probability vector over the K classes",
                     probability="simplex"),
}
ACTIVATION_ALIASES = {"linear": "identity", "swish": "silu", "logistic": "sigmoid",
                      "lrelu": "leaky_relu"}

LOSSES = {
    "mse": Entry("squared error (regression)"),
    "mae": Entry("absolute error (regression, robust to outliers)"),
    "bce": Entry("binary cross-entropy: the prediction is the probability of class 1"),
    "ce": Entry("categorical cross-entropy over K classes, y one-hot"),
    "huber": Entry("squared near 0, absolute beyond delta", {"delta": 1.0},
                   {"delta": (0.0, False)}),
    "log_cosh": Entry("smooth absolute error"),
}
LOSS_ALIASES = {"l2": "mse", "l1": "mae", "cross_entropy": "ce", "categorical_crossentropy": "ce",
                "binary_crossentropy": "bce", "logcosh": "log_cosh"}

# Names the derivations use for their own symbols; a formula may not take them as
# hyperparameters (``a`` would read as the activation's output).
RESERVED_NAMES = {"a", "y", "yhat", "m", "K", "k", "i", "j", "g", "u"}


MAX_NAME_LENGTH = 64


def check_name(what: str, name) -> str | None:
    """A user's name for a formula (an activation, a loss): None, or a plain ASCII
    identifier of at most MAX_NAME_LENGTH characters. Names label headers, derivations and
    LaTeX documents, so nothing else is taken (no spaces, quotes, backslashes, unicode)."""
    if name is None:
        return None
    if (not isinstance(name, str) or not name.isascii() or not name.isidentifier()
            or keyword.iskeyword(name) or len(name) > MAX_NAME_LENGTH or name.startswith("__")):
        shown = name if not isinstance(name, str) else name[:MAX_NAME_LENGTH + 10]
        raise FormulaError(f"{what} name {shown!r} must be a plain identifier: ASCII letters, "
                           f"digits and underscores, at most {MAX_NAME_LENGTH} characters, "
                           "not a Python keyword, e.g. 'mish'")
    return name


def known_activations() -> list[str]:
    """The built-in activation names, aliases included."""
    return sorted([*ACTIVATIONS, *ACTIVATION_ALIASES])


def known_losses() -> list[str]:
    """The built-in loss names, aliases included."""
    return sorted([*LOSSES, *LOSS_ALIASES])


def check_value(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormulaError(f"hyperparameter {name} must be a number, not {value!r}"[:200])
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        number = math.inf
    if not math.isfinite(number):
        shown = f"{value!r}" if isinstance(value, float) else "an integer this large"
        raise FormulaError(f"hyperparameter {name} must be finite, not {shown}")
    return number


def bind_formula_hyperparameters(kind: str, label: str, names: list[str], given: dict,
                                 reserved: set[str], reserved_for: str) -> dict[str, float]:
    """Values for a formula's hyperparameters ``names``: every one given, none extra, none
    taking a reserved name. The errors say which name is at fault."""
    clash = sorted(set(names) & reserved)
    if clash:
        raise FormulaError(f"{kind} {label!r}: {clash[0]!r} cannot name a hyperparameter (it "
                           f"is reserved for {reserved_for})")
    missing = [h for h in names if h not in given]
    if missing:
        raise MissingHyperparameterError(
            f"{kind} {label!r} uses {', '.join(missing)}: give "
            f"{'a value' if len(missing) == 1 else 'values'} as keyword "
            f"({', '.join(f'{h}=...' for h in missing)})")
    extra = sorted(set(given) - set(names))
    if extra:
        raise FormulaError(f"{kind} {label!r} has no symbol {', '.join(extra)}")
    return {h: check_value(h, given[h]) for h in names}


def _resolve(kind: str, table: dict, aliases: dict, spec: str, hyper: dict):
    key = aliases.get(spec.strip().lower(), spec.strip().lower())
    if key not in table:
        return None
    entry = table[key]
    unknown = set(hyper) - set(entry.defaults)
    if unknown:
        raise FormulaError(f"{kind} {key!r} has no hyperparameter {', '.join(sorted(unknown))} "
                           f"(it takes: {', '.join(entry.defaults) or 'none'})")
    values = {**entry.defaults, **{k: check_value(k, v) for k, v in hyper.items()}}
    for name, (low, inclusive) in entry.ranges.items():
        if values[name] < low or (values[name] == low and not inclusive):
            raise FormulaError(f"{kind} {key!r}: {name} must be {'>=' if inclusive else '>'} "
                               f"{low:g}, not {values[name]!r}")
    return key, tuple(sorted(values.items()))


def is_formula(spec: str) -> bool:
    """A spec that is not a plain name is a formula (``x`` and ``z`` alone are formulas)."""
    text = spec.strip()
    return not text.isidentifier() or text in ("x", "z", "yhat")


def resolve_activation(spec: str, hyper: dict | None = None):
    """(canonical name, sorted hyperparameter values) of a built-in; None for a formula.
    An unknown plain name raises UnknownNameError with the nearest names."""
    found = _resolve("activation", ACTIVATIONS, ACTIVATION_ALIASES, spec, hyper or {})
    if found is None and not is_formula(spec):
        raise UnknownNameError("activation", spec, known_activations())
    return found


def resolve_loss(spec: str, hyper: dict | None = None):
    found = _resolve("loss", LOSSES, LOSS_ALIASES, spec, hyper or {})
    if found is None and not is_formula(spec):
        raise UnknownNameError("loss", spec, known_losses())
    return found
