"""Layers of a network. A dense layer is all symprop builds today: Z = X W + b, A = f(Z)."""

from __future__ import annotations

import math

from symprop.derive.architecture import LayerSpec
from symprop.errors import ShapeError, SympropError

INITS = ("auto", "he", "xavier", "normal")
# He initialisation suits relu-like activations; the rest get Xavier/Glorot.
RELU_LIKE = {"relu", "leaky_relu", "lrelu", "elu", "selu", "gelu", "gelu_tanh", "silu",
             "swish", "mish", "softplus"}


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
        self.hyperparameters = {k: float(v) for k, v in hyperparameters.items()}
        # Resolve now: an unknown name or a bad formula fails here, naming the layer.
        self.spec.make_activation()

    @property
    def spec(self) -> LayerSpec:
        return LayerSpec(self.n_in, self.n_out, self.activation,
                         tuple(sorted(self.hyperparameters.items())), self.name)

    def init_scale(self) -> float:
        if self.init == "normal":
            return 0.01
        kind = self.init
        if kind == "auto":
            kind = "he" if str(self.activation).lower() in RELU_LIKE else "xavier"
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
