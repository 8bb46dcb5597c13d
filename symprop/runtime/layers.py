"""Layers of a network. A dense layer is all symprop builds today: Z = X W + b, A = f(Z)."""

from __future__ import annotations

import math

from symprop.architecture import LayerSpec, check_width
from symprop.catalog import ACTIVATIONS, check_name, check_value, resolve_activation
from symprop.errors import SympropError

INITS = ("auto", "he", "xavier", "normal")


class Dense:
    """A fully connected layer ``n_in -> n_out`` with an activation (name or formula).

    ``dropout`` is the probability of zeroing each of this layer's outputs during training
    (inverted dropout: the kept ones are scaled by 1/(1 - p)); ``init`` picks the weight
    initialisation ("auto": He for relu-like activations, Xavier otherwise; "normal": the
    notes' N(0, 0.01^2)). Other keywords are the activation's hyperparameters.
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "relu", *, dropout: float = 0.0,
                 init: str = "auto", name: str | None = None, **hyperparameters):
        for label, width in (("n_in", n_in), ("n_out", n_out)):
            check_width(f"Dense {label}", width)
        if not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise SympropError(f"dropout must be in [0, 1), not {dropout!r}")
        if init not in INITS:
            raise SympropError(f"init must be one of {', '.join(INITS)}, not {init!r}")
        self.n_in, self.n_out = n_in, n_out
        self.activation = activation
        self.dropout = float(dropout)
        self.init = init
        self.name = check_name("layer", name)
        if not isinstance(activation, str):
            raise SympropError(f"an activation is a name or a formula string, not "
                               f"{activation!r}")
        # Resolve now: an unknown name or a bad formula fails here. Built-ins resolve from
        # the catalog (no SymPy); only a formula needs the derive stage.
        self.builtin = resolve_activation(activation, hyperparameters)
        if self.builtin is None:
            self.spec_hyper = tuple(sorted((k, check_value(k, v))
                                           for k, v in hyperparameters.items()))
            self.spec.make_activation()
        else:
            self.activation = self.builtin[0]
            self.spec_hyper = self.builtin[1]
        self.hyperparameters = dict(self.spec_hyper)

    @property
    def spec(self) -> LayerSpec:
        return LayerSpec(self.n_in, self.n_out, self.activation, self.spec_hyper, self.name)

    @property
    def trainable(self) -> bool:
        if self.builtin is not None:
            return ACTIVATIONS[self.builtin[0]].trainable
        return self.spec.make_activation().trainable

    def hyper_values(self) -> list[float]:
        """Kernel arguments of the activation, in the generated code's order (by name)."""
        return [value for _, value in self.spec_hyper]

    def init_scale(self) -> float:
        if self.init == "normal":
            return 0.01
        kind = self.init
        if kind == "auto":
            relu_like = self.builtin is not None and ACTIVATIONS[self.builtin[0]].relu_like
            kind = "he" if relu_like else "xavier"
        return math.sqrt((2.0 if kind == "he" else 1.0) / self.n_in)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.hyperparameters.items())
        drop = f", dropout={self.dropout}" if self.dropout else ""
        return f"Dense({self.n_in}, {self.n_out}, {self.activation!r}{drop}{extra})"

    def to_dict(self) -> dict:
        """The layer as JSON-ready values (a model file's metadata); ``from_dict`` inverts it."""
        return {"type": "dense", "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation, "dropout": self.dropout, "init": self.init,
                "name": self.name, "hyperparameters": self.hyperparameters}

    @classmethod
    def from_dict(cls, data: dict) -> Dense:
        """The layer ``to_dict`` described. Values are passed on as they are, never cast
        (``int(True)`` or ``float("nan")`` would let through what the constructor refuses), so
        every check of the constructor applies. Model files are checked against their schema
        before this is called (symprop.runtime.model_schema)."""
        if not isinstance(data, dict):
            raise SympropError(f"a Dense layer is described by a dict, not "
                               f"{type(data).__name__}")
        if data.get("type", "dense") != "dense":
            raise SympropError(f"not a Dense layer: type {data.get('type')!r}")
        unknown = [key for key in data if key not in _DICT_KEYS]
        missing = [key for key in ("n_in", "n_out", "activation") if key not in data]
        if unknown or missing:
            raise SympropError(f"a Dense layer's dict has {'unknown' if unknown else 'no'} key "
                               f"{(unknown or missing)[0]!r}")
        hyperparameters = data.get("hyperparameters", {})
        if not isinstance(hyperparameters, dict) or not all(
                isinstance(key, str) and key not in _DICT_KEYS for key in hyperparameters):
            raise SympropError(f"a Dense layer's hyperparameters are a dict of names (not "
                               f"{', '.join(sorted(_DICT_KEYS))}) to numbers")
        return cls(data["n_in"], data["n_out"], data["activation"],
                   dropout=data.get("dropout", 0.0), init=data.get("init", "auto"),
                   name=data.get("name"), **hyperparameters)


# The keys of Dense.to_dict; none of them can name a hyperparameter.
_DICT_KEYS = frozenset({"type", "n_in", "n_out", "activation", "dropout", "init", "name",
                        "hyperparameters"})
