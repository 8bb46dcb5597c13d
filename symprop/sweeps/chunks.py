"""How a sweep's runs are grouped into Dask tasks.

A task costs Dask a millisecond or so, and between tasks the worker's event loop competes
with the next task for the interpreter: as much as a whole small run (an iris run of 50
epochs takes about 2.5 ms). So small runs go many to a task. But a task's records come back
(and are written to the results file, and counted by the progress bar) only when all of its
runs are done, and a task is the unit Dask balances over the workers: a task aims at a
fraction of a second of work, and every worker gets at least two.

The work is estimated from each run's epochs, training rows and its network's multiply-adds:
a model of the fused CPU epoch for small networks, which need not be accurate, only keep
tasks of long runs short and tasks of short runs long.
"""

from __future__ import annotations

import functools
import math

from symprop.sweeps.task import HOLDOUT

TASK_SECONDS = 0.2  # the estimated work a task aims at, at most
TASKS_PER_WORKER = 2  # at least, where there are runs enough (no worker idles at the end)
MAX_RUNS = 64  # a task's runs, at most
# A run's estimated time: a fixed cost (data, network, evaluation), and per epoch fit's
# Python plus each training row's multiply-adds (forward, delta and gradient products).
RUN_SECONDS, EPOCH_SECONDS, MACS_PER_SECOND = 3e-4, 2e-5, 1e9
# (rows, features) of the built-in data sets (tests/test_sweeps.py checks them); of others
# where the sweep was not given their arrays, a guess.
BUILTIN_SHAPES = {"iris": (150, 4), "digits": (1797, 64), "wine": (178, 13),
                  "breast_cancer": (569, 30), "moons": (500, 2), "circles": (500, 2),
                  "make_classification": (1000, 20)}
UNKNOWN_SHAPE = (1000, 20)


def chunks(runs: list[dict], workers: int, shapes: dict[str, tuple[int, int]] | None = None
           ) -> list[list[dict]]:
    """``runs`` in consecutive groups of one data set each, in order, of about equal work.
    ``shapes``: (rows, features) of data sets that are not built in."""
    shapes = {**BUILTIN_SHAPES, **(shapes or {})}
    costs = [estimated_seconds(run, *shapes.get(run["dataset"], UNKNOWN_SHAPE))
             for run in runs]
    budget = min(TASK_SECONDS, sum(costs) / (TASKS_PER_WORKER * max(workers, 1)))
    groups: list[list[dict]] = []
    start = 0
    while start < len(runs):  # each stretch of one data set, cut into tasks of equal work
        end = start
        while end < len(runs) and runs[end]["dataset"] == runs[start]["dataset"]:
            end += 1
        groups += _cut(runs[start:end], costs[start:end], budget)
        start = end
    return groups


def _cut(runs: list[dict], costs: list[float], budget: float) -> list[list[dict]]:
    """The fewest tasks of about ``budget`` at most, as even as the runs' order allows (a
    run goes to task i where the middle of its work falls in the i-th equal slice of the
    whole), and of MAX_RUNS runs at most."""
    total = sum(costs)
    tasks = max(math.ceil(total / budget) if budget > 0 else len(runs),
                math.ceil(len(runs) / MAX_RUNS), 1)
    groups: list[list[dict]] = [[] for _ in range(min(tasks, len(runs)))]
    before = 0.0
    for run, cost in zip(runs, costs, strict=True):
        slot = min(int((before + cost / 2) / total * len(groups)) if total else 0,
                   len(groups) - 1)
        groups[slot].append(run)
        before += cost
    # cut by work, a stretch of cheap runs after a costly one may hold more than MAX_RUNS
    return [group[i:i + MAX_RUNS] for group in groups for i in range(0, len(group), MAX_RUNS)]


def estimated_seconds(run: dict, rows: int, features: int) -> float:
    """A run's time on one core, roughly (see the module's docstring)."""
    folds = run.get("folds", 1)
    train_rows = rows * (1 - 1 / folds) if folds > 1 else rows * (1 - HOLDOUT)
    return RUN_SECONDS + run["epochs"] * (
        EPOCH_SECONDS + 3 * train_rows * _macs_per_row(run["arch"], features) / MACS_PER_SECOND)


@functools.lru_cache(maxsize=256)
def _macs_per_row(arch: str, features: int) -> int:
    """The dense layers' weights of an architecture string, its input width set to the
    data's (a row's multiply-adds in one forward product); an architecture that does not
    parse fails its run at once: 0."""
    from symprop.blocks import dense_layers, parse_network
    from symprop.errors import SympropError

    try:
        layers = dense_layers(parse_network(arch))
    except SympropError:
        return 0
    if not layers:  # no dense layer (e.g. "4-bn"): such a run fails at once too
        return 0
    first = layers[0]
    return (sum(layer.n_in * layer.n_out for layer in layers)
            + (features - first.n_in) * first.n_out)
