"""The backward steps of networks with normalization layers and residual blocks
(symprop.codegen.graph): who writes each gradient, who adds to it, what stays fused."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from symprop.blocks import parse_network
from symprop.codegen.graph import backward_steps, plan_nodes


@dataclass
class Dense:  # the part of a LayerPlan the graph planning reads
    index: int
    n_in: int
    n_out: int
    activation: str
    input: str = "XB"

    @property
    def output(self) -> str:
        return f"A{self.index}"

    @property
    def kernel_act(self):
        return SimpleNamespace(is_softmax=self.activation == "softmax")


def _steps(text):
    nodes = plan_nodes(parse_network(text),
                       lambda spec, i: Dense(i, spec.n_in, spec.n_out, spec.activation))
    steps, grads = backward_steps(nodes)
    return [(s.kind, s.node.output, s.source, s.target, s.scratch, s.fused)
            for s in steps], grads, steps


def test_a_dense_chain_stays_fused():
    steps, grads, _ = _steps("4-8:relu-8:tanh-3:softmax")
    assert steps == [("dense", "A3", "", "", "", True), ("dense", "A2", "", "", "", True),
                     ("dense", "A1", "", "", "", False)]
    assert grads.own == [] and grads.scratch == []


def test_a_norm_and_a_residual_block():
    steps, grads, planned = _steps("4-6:tanh-bn-[6:relu-6:relu]-3:softmax")
    assert steps == [
        ("dense", "A4", "", "G_H3", "", False),       # into the block's sum
        ("slope", "A3", "G_H3", "", "", False),       # the body's end shares the sum's
        ("dense", "A3", "", "", "", True),            # dense -> dense inside: fused
        ("dense", "A2", "", "G_H3", "E_H2_0", False),  # the body's path: added
        ("norm", "H2", "G_H3", "D1", "", False),      # on through tanh' into A1's delta
        ("dense", "A1", "D1", "", "", False),
    ]
    # The skip path's gradient is the sum's: every read of G_H3 comes before the body's
    # addition, so no copy and no buffer of its own.
    assert grads.buffer["A3"] == grads.buffer["H3"] == grads.buffer["H2"] == "G_H3"
    assert grads.own == [("G_H3", 6)]
    assert grads.scratch == [("E_H2_0", 6)]
    assert planned[4].slope.output == "A1" and planned[4].slope.activation == "tanh"


def test_nested_blocks_keep_the_copy_whose_source_is_read_later():
    # The outer block's body is the inner block: both skips start from H2's gradient. The
    # inner skip adds the sum's gradient into it before the inner body reads the sum's.
    # (nodes numbered depth first, a block before its body: outer H2, inner H3)
    steps, grads, _ = _steps("4-6:relu-[[6:relu-6:relu]]-3:softmax")
    assert steps[:4] == [
        ("dense", "A4", "", "G_H2", "", False),
        ("copy", "H2", "G_H2", "G_A1", "", False),
        ("add", "H3", "G_H2", "G_A1", "", False),
        ("slope", "A3", "G_H2", "", "", False),
    ]
    assert grads.own == [("G_H2", 6), ("G_A1", 6)]


def test_a_slope_stays_apart_where_the_norm_is_not_the_only_consumer():
    # A1 feeds the block's norm and its sum: the norm adds its share (the skip's copy is
    # gone: the sum's gradient G_H2 is A1's), then A1's slope is a pass of its own.
    steps, _, planned = _steps("4-6:relu-[bn-6:relu]-3:softmax")
    norm = next(step for step in planned if step.kind == "norm")
    assert norm.slope is None and (norm.target, norm.scratch) == ("G_H2", "E_A1_0")
    assert ("slope", "A1", "G_H2", "", "", False) in steps


def test_a_norm_on_the_input_gets_a_sink_for_its_input_gradient():
    steps, grads, planned = _steps("4-ln-3:softmax")
    assert steps[-1][:4] == ("norm", "H1", "G_H1", "E_in1")
    assert planned[-1].sink and ("E_in1", 4) in grads.sinks and not grads.scratch
