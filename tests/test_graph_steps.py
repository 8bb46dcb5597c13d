"""The backward steps of networks with normalization layers and residual blocks
(symprop.codegen.graph): who writes each gradient, who adds to it, what stays fused."""

from __future__ import annotations

from dataclasses import dataclass

from symprop.blocks import parse_network
from symprop.codegen.graph import backward_steps, plan_nodes


@dataclass
class Dense:  # the part of a LayerPlan the graph planning reads
    index: int
    n_in: int
    n_out: int
    input: str = "XB"

    @property
    def output(self) -> str:
        return f"A{self.index}"


def _steps(text):
    nodes = plan_nodes(parse_network(text), lambda spec, i: Dense(i, spec.n_in, spec.n_out))
    steps, grads = backward_steps(nodes)
    return [(s.kind, s.node.output, s.source, s.target, s.scratch, s.fused)
            for s in steps], grads


def test_a_dense_chain_stays_fused():
    steps, grads = _steps("4-8:relu-8:tanh-3:softmax")
    assert steps == [("dense", "A3", "", "", "", True), ("dense", "A2", "", "", "", True),
                     ("dense", "A1", "", "", "", False)]
    assert grads.own == [] and grads.scratch == []


def test_a_norm_and_a_residual_block():
    steps, grads = _steps("4-6:tanh-bn-[6:relu-6:relu]-3:softmax")
    assert steps == [
        ("dense", "A4", "", "G_H3", "", False),       # into the block's sum
        ("copy", "H3", "G_H3", "G_H2", "", False),    # the skip path: written first
        ("slope", "A3", "G_H3", "", "", False),       # the body's end shares the sum's
        ("dense", "A3", "", "", "", True),            # dense -> dense inside: fused
        ("dense", "A2", "", "G_H2", "E_H2_0", False),  # the body's path: added
        ("norm", "H2", "G_H2", "G_A1", "", False),
        ("slope", "A1", "G_A1", "", "", False),
        ("dense", "A1", "G_A1", "", "", False),
    ]
    assert grads.buffer["A3"] == grads.buffer["H3"] == "G_H3"
    assert grads.scratch == [("E_H2_0", 6)]


def test_a_norm_on_the_input_gets_a_scratch_gradient():
    steps, grads = _steps("4-ln-3:softmax")
    assert steps[-1][:4] == ("norm", "H1", "G_H1", "E_in1")
    assert ("E_in1", 4) in grads.scratch
