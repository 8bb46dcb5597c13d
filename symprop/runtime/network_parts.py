"""A network's layers beyond the Dense chain: checking them, and their parameter arrays in
the order of the generated module (depth first: a Dense layer's W and b, a normalization's
gamma and beta; a residual block only its layers')."""

from __future__ import annotations

import numpy as np

from symprop.architecture import check_chain
from symprop.blocks import NormSpec, ResidualSpec, check_nodes
from symprop.errors import SympropError
from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual
from symprop.runtime.layers import Dense


def numbered(layers, start: int = 1) -> list[tuple[int, object]]:
    """(number, layer) for every layer and residual block, numbered depth first as
    symprop.blocks.check_nodes and the model files number them (a block before its layers)."""
    found = []
    for layer in layers:
        found.append((start + len(found), layer))
        if isinstance(layer, Residual):
            found += numbered(layer.layers, start + len(found))
    return found


def param_nodes(layers) -> list:
    """The layers that have parameters (Dense, BatchNorm, LayerNorm), depth first."""
    return [layer for _, layer in numbered(layers) if not isinstance(layer, Residual)]


def layers_from_specs(specs) -> list:
    """The layer objects of parsed architecture nodes (symprop.blocks.parse_network)."""
    layers = []
    for spec in specs:
        if isinstance(spec, ResidualSpec):
            layers.append(Residual(layers_from_specs(spec.body)))
        elif isinstance(spec, NormSpec) and spec.kind == "batchnorm":
            layers.append(BatchNorm(spec.n, momentum=spec.momentum, eps=spec.eps))
        elif isinstance(spec, NormSpec):
            layers.append(LayerNorm(spec.n, eps=spec.eps))
        else:
            layers.append(Dense(spec.n_in, spec.n_out, spec.activation))
    return layers


def param_shapes(layer) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(layer, Dense):
        return (layer.n_in, layer.n_out), (layer.n_out,)
    return (layer.n,), (layer.n,)


def check_layers(layers, blocks: bool) -> None:
    """Widths along the network and around every residual block (errors name the layer or
    block); a network with other layers than Dense ends with a Dense layer."""
    specs = [layer.spec for layer in layers]
    if not blocks:
        check_chain(specs)
        return
    check_nodes(specs)
    if not isinstance(layers[-1], Dense):
        raise SympropError(f"the last layer must be a Dense layer (its activation and the "
                           f"loss make the output delta), not {layers[-1]!r}")


def initial_arrays(layers, rng, dtype) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(parameters, running statistics): W random at the layer's scale, b 0; gamma 1,
    beta 0 (PyTorch's start); running mean 0, running variance 1."""
    params, running = [], []
    for layer in param_nodes(layers):
        if isinstance(layer, Dense):
            scale = layer.init_scale()
            params.append(np.ascontiguousarray(
                rng.standard_normal((layer.n_in, layer.n_out)) * scale, dtype=dtype))
            params.append(np.zeros(layer.n_out, dtype=dtype))
        else:
            params += [np.ones(layer.n, dtype=dtype), np.zeros(layer.n, dtype=dtype)]
        if isinstance(layer, BatchNorm):
            running += [np.zeros(layer.n, dtype=dtype), np.ones(layer.n, dtype=dtype)]
    return params, running


__all__ = ["BatchNorm", "LayerNorm", "check_layers", "initial_arrays", "layers_from_specs",
           "numbered", "param_nodes", "param_shapes"]
