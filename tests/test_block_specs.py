"""Normalization layers and residual blocks as specs and architecture strings: parsing,
formatting, width checks and the errors that name the node."""

from __future__ import annotations

import pytest

import symprop as sp
from symprop.architecture import LayerSpec
from symprop.blocks import (
    NormSpec,
    ResidualSpec,
    check_nodes,
    dense_layers,
    format_nodes,
    parse_network,
)
from symprop.runtime.blocks import BatchNorm, LayerNorm, Residual


@pytest.mark.parametrize("text", [
    "20-32:relu-bn-[32:relu-32:relu]-1:sigmoid",
    "4-8:tanh-ln(eps=0.001)-[8:relu-bn(momentum=0.2)-[8:tanh]]-3:softmax",
    "4-ln-8:relu-3:softmax",
    "4-8:relu-3:softmax",
])
def test_architecture_strings_round_trip(text):
    nodes = parse_network(text)
    assert format_nodes(nodes, int(text.split("-")[0])) == text


def test_the_parsed_tree():
    nodes = parse_network("20-32:relu-bn-[32:relu-32:relu]-1:sigmoid")
    assert [type(node) for node in nodes] == [LayerSpec, NormSpec, ResidualSpec, LayerSpec]
    assert nodes[1] == NormSpec("batchnorm", 32)
    assert [layer.n_out for layer in dense_layers(nodes)] == [32, 32, 32, 1]
    assert nodes[2].n_in == nodes[2].n_out == 32


@pytest.mark.parametrize("text, fragment", [
    ("4-8:relu-[8:relu-4:relu]-3:softmax", "residual block 2 (8-8:relu-4:relu) maps 8 units "
                                           "to 4"),
    ("4-bn(eps=-1)-2:relu", "eps must be a positive number"),
    ("4-bn(momentum=2)-2:relu", "momentum must be in [0, 1]"),
    ("4-ln(momentum=0.5)-2:relu", "ln takes eps, not 'momentum'"),
    ("4-8:relu-bn(foo=1)", "bn takes eps and momentum, not 'foo'"),
    ("4-bn(eps=x)-2:relu", "eps must be a number, not 'x'"),
    ("4-[8:relu", "not closed"),
    ("4-8:relu]-1:relu", "closing ']'"),
    ("4-8:relu-[]-1:sigmoid", "empty"),
    ("x-8:relu", "starts with the input width"),
])
def test_bad_architectures_name_what_is_wrong(text, fragment):
    with pytest.raises(sp.SympropError) as error:
        parse_network(text)
    assert fragment in str(error.value)
    assert isinstance(error.value, ValueError)


def test_nodes_are_checked_along_the_chain():
    dense = LayerSpec(4, 8, "relu")
    with pytest.raises(sp.ShapeError, match=r"node 2 \(BatchNorm\(6\)\) takes 6 inputs but "
                                            r"node 1 \(dense 4 -> 8, relu\) gives 8"):
        check_nodes([dense, NormSpec("batchnorm", 6)])


def test_layer_classes_check_their_options():
    with pytest.raises(sp.SympropError, match="momentum"):
        BatchNorm(4, momentum=-0.1)
    with pytest.raises(sp.SympropError, match="eps"):
        LayerNorm(4, eps=0)
    with pytest.raises(sp.ShapeError, match="width"):
        BatchNorm(0)
    with pytest.raises(sp.ShapeError, match="residual block 1 .* maps 8 units to 3"):
        Residual([sp.Dense(8, 3, "relu")])
    block = Residual([sp.Dense(8, 8, "relu"), BatchNorm(8)])
    assert block.n_in == block.n_out == 8
    assert block.spec == ResidualSpec((LayerSpec(8, 8, "relu"), NormSpec("batchnorm", 8)))
    assert block.to_dict()["layers"][1] == {"type": "batchnorm", "n": 8, "momentum": 0.1,
                                            "eps": 1e-5, "name": None}


def test_options_are_stored_as_floats():
    """A numpy scalar option is kept as a float: the architecture string stays parseable."""
    import numpy as np

    norm = BatchNorm(4, momentum=np.float64(0.2), eps=np.float64(1e-3))
    assert norm.spec.token == "bn(eps=0.001,momentum=0.2)"
    assert type(norm.momentum) is float and parse_network(f"4-{norm.spec.token}-1:relu")
