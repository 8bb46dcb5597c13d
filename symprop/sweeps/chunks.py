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

TASK_SECONDS = 0.2  # the estimated work a task aims at, at most
TASKS_PER_WORKER = 2  # at least, where there are runs enough (no worker idles at the end)
MAX_RUNS = 64  # a task's runs, at most
# A run's estimated time: a fixed cost (data, network, evaluation), and per epoch fit's
# Python plus each training row's multiply-adds (forward, delta and gradient products).
RUN_SECONDS, EPOCH_SECONDS, MACS_PER_SECOND = 3e-4, 2e-5, 1e9
# Rows of the built-in data sets (tests/test_sweeps.py checks them); others: a guess.
BUILTIN_ROWS = {"iris": 150, "digits": 1797, "wine": 178, "breast_cancer": 569, "moons": 500,
                "circles": 500, "make_classification": 1000}
UNKNOWN_ROWS = 1000


def chunks(runs: list[dict], workers: int, rows: dict[str, int] | None = None
           ) -> list[list[dict]]:
    """``runs`` in consecutive groups of one data set each, in order. ``rows``: the rows of
    data sets that are not built in."""
    rows = {**BUILTIN_ROWS, **(rows or {})}
    costs = [estimated_seconds(run, rows.get(run["dataset"], UNKNOWN_ROWS)) for run in runs]
    budget = min(TASK_SECONDS, sum(costs) / (TASKS_PER_WORKER * max(workers, 1)))
    groups: list[list[dict]] = []
    spent = 0.0
    for run, cost in zip(runs, costs, strict=True):
        last = groups[-1] if groups else None
        if (last and last[0]["dataset"] == run["dataset"] and len(last) < MAX_RUNS
                and spent + cost <= budget):
            last.append(run)
            spent += cost
        else:
            groups.append([run])
            spent = cost
    return groups


def estimated_seconds(run: dict, rows: int) -> float:
    """A run's time on one core, roughly (see the module's docstring)."""
    folds = run.get("folds", 1)
    train_rows = rows * (1 - 1 / folds) if folds > 1 else rows * 0.8
    return RUN_SECONDS + run["epochs"] * (
        EPOCH_SECONDS + 3 * train_rows * _macs_per_row(run["arch"]) / MACS_PER_SECOND)


@functools.lru_cache(maxsize=256)
def _macs_per_row(arch: str) -> int:
    """The dense layers' weights of an architecture string (a row's multiply-adds in one
    forward product); an architecture that does not parse fails its run at once: 0."""
    from symprop.blocks import dense_layers, parse_network
    from symprop.errors import SympropError

    try:
        return sum(layer.n_in * layer.n_out for layer in dense_layers(parse_network(arch)))
    except SympropError:
        return 0
