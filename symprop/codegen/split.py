"""The split path of a network module: data-parallel training steps.

Each of ``shards`` threads forward- and back-propagates its share of a training batch's
rows, in its own row of one work array, then the threads' gradients are summed and each
thread updates its share of the parameters (the template shards.j2's ``share_pass`` and
``share_update``, written out in ``shard_thread``).
A call of one or several epochs runs ``shard_thread`` in each of ``shards`` Python threads
at once (``split_support.run_threads``; the compiled code releases the GIL): each thread
runs every batch, and the threads meet at a barrier wherever one needs what another wrote
(symprop/codegen/split_support.py).

Batch normalization couples a batch's rows: its mean and variance are the whole batch's, and
so are the sums over rows of its backward pass. Its networks' steps run in stages, the
threads meeting after each, with a short reduction by one thread between two:

- forward, up to a batch normalization's input: each thread's moments of its rows (mean and
  sum of squared deviations), combined into the batch's (Chan's parallel formula, as exact
  as two passes over all rows);
- then normalization with the batch's statistics, on to the next one or through the loss
  and back to a batch normalization's gradient: each thread's sums over its rows (its share
  of dgamma and dbeta), added up into the batch's;
- then the input's gradient from the batch's sums, and on down.

A network without batch normalization is one stage (the step as it was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from symprop.codegen.graph import NormPlan
from symprop.codegen.prefetch import CACHE_LINE

# Data-parallel training steps (each thread forward- and back-propagates its share of the
# batch rows, then sums the threads' gradients and updates its share of the parameters):
# the module carries that path only for networks whose step is worth the threads' meetings
# and the weights and gradients crossing between the cores each step, and whose products
# stay on one BLAS thread at the batch sizes that could split (see
# symprop/runtime/threads.py). Measured on this project's 2-core machine, medium
# 64-128-64-10 at batch 64: 65 -> 46-49 us a step with a parallel region per step part,
# 41-44 us with one per epoch (interleaved). Below the floor a split loses even with the
# barriers: 20-32-bn-[32-32]-1 (2,720 per row), batch 32, 8.6 us a step on one thread
# against 11-12 us on two.
SHARD_MIN_MACS_PER_ROW = 8192  # multiply-adds of one row's forward pass
SHARD_MAX_LAYER_WEIGHTS = 1 << 17  # a layer this big takes BLAS threads instead


@dataclass
class Stage:
    """Lines the threads run before they meet, then the reduction one thread makes after
    it (if any).

    items: ("node", node) a forward node; ("moments", bn); ("normalize", bn); ("loss",);
    ("step", step) a backward step; ("grad_sums", step); ("input_grad", step).
    reduce: ("statistics", bn) or ("grad_totals", bn)."""

    items: list[tuple] = field(default_factory=list)
    reduce: tuple | None = None


def is_batchnorm(node) -> bool:
    return isinstance(node, NormPlan) and node.kind == "batchnorm"


def shard_stages(nodes, steps) -> list[Stage]:
    stages = [Stage()]
    for node in nodes:
        if is_batchnorm(node):
            stages[-1].items.append(("moments", node))
            stages[-1].reduce = ("statistics", node)
            stages.append(Stage([("normalize", node)]))
        else:
            stages[-1].items.append(("node", node))
    stages[-1].items.append(("loss",))
    for step in steps:
        if step.kind == "norm" and is_batchnorm(step.node):
            stages[-1].items.append(("grad_sums", step))
            stages[-1].reduce = ("grad_totals", step.node)
            stages.append(Stage([("input_grad", step)]))
        else:
            stages[-1].items.append(("step", step))
    return stages


def stats_layout(nodes) -> list[tuple[NormPlan, int]]:
    """(batch normalization, offset) of each one's per-thread moments (2 n floats: means,
    then sums of squared deviations) in the statistics area at the end of a work row."""
    layout, offset = [], 0
    for node in nodes:
        if is_batchnorm(node):
            layout.append((node, offset))
            offset += 2 * node.n
    return layout


class SplitPath:
    """NetworkPlan's part on the split path (a mixin: it reads the plan's fields)."""

    @property
    def shardable(self) -> bool:
        """Whether run() gets the data-parallel path for training batches (see above). Not
        with dropout: each thread would draw its masks from its own random stream."""
        weights = [layer.n_in * layer.n_out for layer in self.layers]
        # Batch normalization couples a batch's rows: its networks split in stages
        # (see the module docstring).
        return (self.split_batches and not self.dropout_args
                and sum(weights) >= SHARD_MIN_MACS_PER_ROW
                and max(weights) <= SHARD_MAX_LAYER_WEIGHTS)

    @property
    def shard_buffers(self) -> list[tuple[str, int, int]]:
        """(name, offset, width) of each batch buffer inside one thread's work row of the
        data-parallel path: per row of the thread's share, widths summed up to that buffer
        (a buffer of width w over cap rows sits at cap * offset .. cap * (offset + w))."""
        widths = [("XB", self.n_in), ("YB", self.n_out)]
        widths += [(name, width) for name, width, _ in self.buffers]
        layout, offset = [], 0
        for name, width in widths:
            layout.append((name, offset, width))
            offset += width
        return layout

    @cached_property
    def shard_stages(self) -> list[Stage]:
        """The split path's stages: more than one where batch
        normalization couples a batch's rows."""
        return shard_stages(self.nodes, self.backward_steps if self.blocks else [])

    @property
    def loss_stage(self) -> int:
        """The stage that computes the batch's loss (the others return 0)."""
        return next(number for number, stage in enumerate(self.shard_stages)
                    if ("loss",) in stage.items)

    @property
    def line_floats(self) -> int:
        """Floats in a cache line: where the threads' shares of the flat gradient rows are
        cut, so that no two threads write one line of them (the rows start on lines, see
        symprop/codegen/split_support.py; the parameters' own arrays need not)."""
        return CACHE_LINE // (4 if self.float_type == "float32" else 8)

    @property
    def stats_floats(self) -> int:
        """Floats of a thread's batch-normalization moments, at the end of its work row."""
        return sum(2 * node.n for node in self.batchnorms)

    @property
    def stats_layout(self) -> list:
        return stats_layout(self.nodes)

    def stats_offset(self, node) -> int:
        return dict((id(bn), offset) for bn, offset in self.stats_layout)[id(node)]

    def param_offset(self, grad_name: str) -> int:
        """Where parameter ``d<name>``'s gradient starts in a flat gradient row."""
        return next(offset for name, offset, _, _ in self.param_layout
                    if "d" + name == grad_name)
