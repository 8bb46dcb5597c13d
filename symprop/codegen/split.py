"""The split path of a network module: training steps on several threads, in one of two ways.

The row split (data parallel): each of ``shards`` threads forward- and back-propagates its
share of a training batch's rows, in its own row of one work array, then the threads'
gradients are summed and each thread updates its share of the parameters (the template
shards.j2's ``share_pass`` and ``share_update``, written out in ``shard_thread``).

The column split (``column_split``, columns.j2's ``column_thread``; Megatron-LM's pairing of
a column-parallel and a row-parallel layer): for a chain of three dense layers, each thread
takes a block of the first layer's units, that is W1's columns and W2's rows of them, for a
whole batch. Its block's activations times its rows of W2 are a partial sum of the second
layer's product; the threads exchange those and add them up in share order. Each takes its
share of the batch's rows through the output layer and the loss, and after a second
meeting computes the output layer's gradients and the delta below it whole (with its own
copy of that layer's parameters, updated alike in every thread). The backward pass through
the block needs nothing from the other threads: the gradients of W2's rows and W1's columns
are the block's own, and so are their updates. The partial sums (batch rows x the second
layer's units) and the output delta's rows are all that crosses between the cores, where
the row split moves every parameter's gradient one way and its new value the other.
Writing a line another core holds costs about 10 ns, reading one it wrote 6 ns (``python
-m benchmarks.crosscore`` on this project's 2-core machine). Medium (64-128-64-10, batch
64), each step and thread: on the row split, half of the gradients and half of the weights
come in from the other core (1,077 lines of 64 bytes) and as many lines are taken back from
it to be written; on the column split, the other thread's partial sums (64 x 64 floats,
256 lines) and its 32 rows of the output delta (20 lines). 30-31 against 22.5-23 us a step;
and as no weight crosses, the column split takes layers of any size (large, 784-512-512-10
at batch 256: 2.43-2.46 against 2.69-2.73 ms on BLAS's own threads; benchmarks/README.md).

Either way, a call of one or several epochs runs the thread function in each of ``shards``
Python threads at once (``split_support.run_threads``; the compiled code releases the GIL):
each thread runs every batch, and the threads meet at a barrier wherever one needs what
another wrote (symprop/codegen/split_support.py).

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
# The column split (see column_split): the fewest first-layer units a thread takes, and the
# largest share of the weights in the layer every thread computes whole.
COLUMN_MIN_UNITS = 32
COLUMN_MAX_REPLICATED = 1 / 8


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
        """Whether the module gets a split path for training batches (see above: the row
        split, or the column split where column_split holds). Not with dropout: each thread
        would draw its masks from its own random stream."""
        weights = [layer.n_in * layer.n_out for layer in self.layers]
        # Batch normalization couples a batch's rows: its networks split in stages
        # (see the module docstring). Layers too big for the row split (their weights
        # and gradients would cross between the cores) may split by units.
        return (self.split_batches and not self.dropout_args
                and sum(weights) >= SHARD_MIN_MACS_PER_ROW
                and (max(weights) <= SHARD_MAX_LAYER_WEIGHTS or self._splits_by_units))

    @property
    def column_split(self) -> bool:
        """Whether the split path divides the layers' units between the threads rather than
        the batch's rows (columns.j2): for a chain of three dense layers whose first two
        multiply by BLAS (called directly), neither a softmax, with at least
        COLUMN_MIN_UNITS first-layer units for each of two threads and an output layer small
        beside the other two (each thread computes it whole). Thread t takes a block of the
        first layer's units (columns of W1) and the matching rows of W2: its part of the
        second layer's product is a partial sum, and the threads' partial sums (and their
        rows of the output delta) are all that crosses between the cores in a step, against
        every parameter's gradient and weight on the row split (medium, 64-128-64-10 at
        batch 64: 4,096 + 320 floats each way against 17,226)."""
        return self.shardable and self._splits_by_units

    @property
    def _splits_by_units(self) -> bool:
        """The column split's conditions on the layers (column_split's docstring)."""
        if self.has_blocks or len(self.layers) != 3:
            return False
        first, second, third = self.layers
        split = first.n_in * first.n_out + second.n_in * second.n_out
        # the second layer's partial sums are BLAS's own (gemm called directly, not np.dot);
        # a softmax would normalize over each block's units alone
        return (bool(self.gemm) and first.variant == second.variant == "blas"
                and not first.act.is_softmax and not second.act.is_softmax
                and first.n_out >= 2 * COLUMN_MIN_UNITS
                and third.n_in * third.n_out <= COLUMN_MAX_REPLICATED * split)

    @property
    def column_layout(self) -> dict[str, list[tuple[str, str | None, str]]]:
        """The column split's arrays in a thread's work row, as (name, rows, columns) with
        rows None for a vector; sizes are numbers or the names ``cap`` (the batch rows) and
        ``units`` (the thread's first-layer units). "part": the thread's block of the first
        layer's units (its own copies of those weights and their optimizer states, its
        gradients, the layer's buffers); "whole": what each thread computes in full (the
        second layer's bias, the output layer, the batch buffers but the output delta)."""
        first, second, third = self.layers
        n0, n2, n3 = first.n_in, second.n_out, third.n_out
        states = self.update.state
        part = [("W1", n0, "units"), ("b1", None, "units"), ("W2", "units", n2)]
        part += [(f"{st}_{name}", rows, cols) for st in states for name, rows, cols in part[:3]]
        part += [("dW1", n0, "units"), ("db1", None, "units"), ("dW2", "units", n2)]
        if self.keeps_transpose(second):
            part.append(("W2T", n2, "units"))
        part += [(name, "cap", "units") for name in (["A1", "Z1"] if first.keep_z else ["A1"])]
        part.append(("D1", "cap", "units"))
        whole = [("b2", None, n2), ("W3", n2, n3), ("b3", None, n3)]
        whole += [(f"{st}_{name}", rows, cols) for st in states for name, rows, cols in whole[:3]]
        whole += [("db2", None, n2), ("dW3", n2, n3), ("db3", None, n3)]
        if self.keeps_transpose(third):
            whole.append(("W3T", n3, n2))
        whole += [("XB", "cap", n0), ("YB", "cap", n3)]
        whole += [(name, "cap", n2) for name in (["A2", "Z2"] if second.keep_z else ["A2"])]
        whole += [("D2", "cap", n2)]
        # the output delta's rows come from every thread: in the exchanged `outs`, not here
        whole += [(name, "cap", n3) for name in (["A3", "Z3"] if third.keep_z else ["A3"])]
        return {"part": part, "whole": whole}

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
