"""Layers of a network. A dense layer is all symprop builds today: Z = X W + b, A = f(Z)."""

from __future__ import annotations

import math

from symprop.architecture import LayerSpec
from symprop.catalog import ACTIVATIONS, check_value, resolve_activation
from symprop.errors import ShapeError, SympropError

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
            if isinstance(width, bool) or not isinstance(width, int) or width < 1:
                raise ShapeError(f"Dense {label} must be a positive integer, not {width!r}")
        if not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise SympropError(f"dropout must be in [0, 1), not {dropout!r}")
        if init not in INITS:
            raise SympropError(f"init must be one of {', '.join(INITS)}, not {init!r}")
        self.n_in, self.n_out = n_in, n_out
        self.activation = activation
        self.dropout = float(dropout)
        self.init = init
        self.name = name
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
        return {"n_in": self.n_in, "n_out": self.n_out, "activation": self.activation,
                "dropout": self.dropout, "init": self.init, "name": self.name,
                "hyperparameters": self.hyperparameters}

    @classmethod
    def from_dict(cls, data: dict) -> Dense:
        return cls(int(data["n_in"]), int(data["n_out"]), str(data["activation"]),
                   dropout=float(data.get("dropout", 0.0)), init=str(data.get("init", "auto")),
                   name=data.get("name"), **data.get("hyperparameters", {}))
