"""The data-parallel training step of a network with batch normalization, in stages.

Each thread of the split path (see ``NetworkPlan.shardable``) forward- and back-propagates
its share of a batch's rows. Batch normalization couples the rows: its mean and variance are
the whole batch's, and so are the sums over rows of its backward pass. So the step runs in
stages, each one parallel region, with a short serial reduction between two:

- forward, up to a batch normalization's input: each thread's moments of its rows (mean and
  sum of squared deviations), combined into the batch's (Chan's parallel formula, as exact
  as two passes over all rows);
- then normalization with the batch's statistics, on to the next one or through the loss
  and back to a batch normalization's gradient: each thread's sums over its rows (they are
  its share of dgamma and dbeta), added up into the batch's;
- then the input's gradient from the batch's sums, and on down.

A network without batch normalization is one stage (the step as it was).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symprop.codegen.graph import NormPlan


@dataclass
class Stage:
    """Lines of one parallel region, then the serial reduction after it (if any).

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
    then sums of squared deviations) in the statistics area of a thread's work row."""
    layout, offset = [], 0
    for node in nodes:
        if is_batchnorm(node):
            layout.append((node, offset))
            offset += 2 * node.n
    return layout
