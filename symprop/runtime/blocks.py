"""Normalization layers and residual blocks, as users write them in ``Network([...])``.

``BatchNorm(n)`` and ``LayerNorm(n)`` follow PyTorch's ``nn.BatchNorm1d`` and
``nn.LayerNorm`` (gamma starts at 1, beta at 0; BatchNorm's running mean at 0 and running
variance at 1, updated with ``momentum`` as the weight of the new batch, the variance
unbiased); ``Residual([...])`` adds its layers' output to its input, as a ResNet block.
"""

from __future__ import annotations

from symprop.blocks import NormSpec, ResidualSpec, SameWidth, check_nodes
from symprop.catalog import check_name
from symprop.errors import SympropError


class _Norm(SameWidth):
    kind = ""

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1,
                 name: str | None = None):
        self.spec = NormSpec(self.kind, n, eps, momentum)  # checks n, eps and momentum
        self.n, self.eps, self.momentum = n, self.spec.eps, self.spec.momentum
        self.name = check_name("layer", name)

    @property
    def trainable(self) -> bool:
        return True

    def derivation(self):
        """Its forward and backward pass, derived step by step (symprop.derive.norms)."""
        from symprop.derive import norms

        return (norms.batchnorm_derivation() if self.kind == "batchnorm"
                else norms.layernorm_derivation())


class BatchNorm(_Norm):
    """Batch normalization of ``n`` units: each unit normalized over the batch (mean 0,
    variance 1, with ``eps`` added to the variance), then scaled by gamma and shifted by
    beta. Training uses the batch's statistics and keeps running ones for
    ``predict``/``evaluate`` (``momentum``: the new batch's weight, PyTorch's convention).
    ``name``: a label of the layer in messages and derivations."""

    kind = "batchnorm"

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5, *,
                 name: str | None = None):
        super().__init__(n, eps, momentum, name)

    def __repr__(self) -> str:
        return f"BatchNorm({self.n}, momentum={self.momentum}, eps={self.eps})"

    def to_dict(self) -> dict:
        return {"type": "batchnorm", "n": self.n, "momentum": self.momentum,
                "eps": self.eps, "name": self.name}


class LayerNorm(_Norm):
    """Layer normalization of ``n`` units: each sample's units normalized together (mean 0,
    variance 1, ``eps`` added), then scaled by gamma and shifted by beta, per unit. The same
    in training and prediction. ``name``: a label of the layer in messages and
    derivations."""

    kind = "layernorm"

    def __init__(self, n: int, eps: float = 1e-5, *, name: str | None = None):
        super().__init__(n, eps, 0.1, name)

    def __repr__(self) -> str:
        return f"LayerNorm({self.n}, eps={self.eps})"

    def to_dict(self) -> dict:
        return {"type": "layernorm", "n": self.n, "eps": self.eps, "name": self.name}


class Residual:
    """A residual block: ``Residual([Dense(32, 32, "relu"), Dense(32, 32, "relu")])`` computes
    x + F(x), F its layers in order; its input and output widths must match."""

    def __init__(self, layers: list):
        if not isinstance(layers, list | tuple) or not layers:
            raise SympropError("Residual takes a non-empty list of layers")
        self.layers = list(layers)
        for number, layer in enumerate(self.layers, 1):
            if not hasattr(layer, "spec"):
                raise SympropError(f"Residual: item {number} is not a layer: {layer!r}")
        check_nodes([self.spec])

    @property
    def spec(self) -> ResidualSpec:
        return ResidualSpec(tuple(layer.spec for layer in self.layers))

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    @property
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self.layers)

    def derivation(self):
        """The gradient through a residual block: the skip path plus the body's path."""
        from symprop.derive.residual import residual_derivation

        return residual_derivation()

    def __repr__(self) -> str:
        return f"Residual({self.layers!r})"

    def to_dict(self) -> dict:
        return {"type": "residual", "layers": [layer.to_dict() for layer in self.layers]}
