"""How a sweep's runs are grouped into Dask tasks.

A task costs Dask a millisecond or so, and between tasks the worker's event loop competes
with the next task for the interpreter: as much as a whole small run (an iris run of 50
epochs takes about 1 ms). So small runs go many to a task. But a task's records come back
(and are written to the results file, and counted by the progress bar) only when all of its
runs are done, and a task is the unit Dask balances over the workers: a task aims at a
fraction of a second of work, and every worker gets at least two.

Tasks shrink as the sweep goes (guided self-scheduling): each is about the work still to
hand out over twice the workers, so the last ones are short and no worker waits long at the
end for another's last task (with tasks of equal work, one worker finished 3-25 ms before
the other in 400 ms sweeps of 600 runs on 2 workers). They go to Dask largest first: Dask
starts independent tasks in the order they were submitted.

The work is estimated from each run's epochs, training rows and its network's multiply-adds:
a model of the fused CPU epoch for small networks, which need not be accurate, only keep
tasks of long runs short and tasks of short runs long.
"""

from __future__ import annotations

import functools

from symprop.sweeps.task import HOLDOUT

TASK_SECONDS = 0.2  # the estimated work a task aims at, at most
MIN_TASK_SECONDS = 0.02  # ... and at least, as the tasks shrink (unless the sweep is small)
TASKS_PER_WORKER = 2  # at least, where there are runs enough (no worker idles at the end)
MAX_RUNS = 256  # a task's runs, at most
# A run's estimated time: a fixed cost (data, network, evaluation), and per epoch fit's
# Python, each training row's own cost (its batch's share of the kernels' calls, the loss)
# and its multiply-adds (forward, delta and gradient products). Fitted (least squares of the
# log ratio) to 33 sweeps' runs on the 2-core development machine: iris, wine,
# breast_cancer and digits, 8 to 64+64 hidden units, 10 to 200 epochs. The estimates were
# within 2.2x of the runs' times (the constants before these, 1.3 to 27x above them).
RUN_SECONDS, EPOCH_SECONDS, ROW_SECONDS, MACS_PER_SECOND = 5e-4, 3.5e-6, 2.5e-8, 1.6e10
# (rows, features) of the built-in data sets (tests/test_sweeps.py checks them); of others
# where the sweep was not given their arrays, a guess.
BUILTIN_SHAPES = {"iris": (150, 4), "digits": (1797, 64), "wine": (178, 13),
                  "breast_cancer": (569, 30), "moons": (500, 2), "circles": (500, 2),
                  "make_classification": (1000, 20)}
UNKNOWN_SHAPE = (1000, 20)


def chunks(runs: list[dict], workers: int, shapes: dict[str, tuple[int, int]] | None = None
           ) -> list[list[dict]]:
    """``runs`` in groups of consecutive runs of one data set each, in the runs' order within
    a group, the groups largest first (by estimated work), shrinking towards the end.
    ``shapes``: (rows, features) of data sets that are not built in."""
    shapes = {**BUILTIN_SHAPES, **(shapes or {})}
    costs = [estimated_seconds(run, *shapes.get(run["dataset"], UNKNOWN_SHAPE))
             for run in runs]
    share = TASKS_PER_WORKER * max(workers, 1)
    total = sum(costs)
    floor = min(MIN_TASK_SECONDS, total / share)  # a small sweep: still two tasks a worker
    groups: list[tuple[float, list[dict]]] = []
    task: list[dict] = []
    work, target, remaining = 0.0, 0.0, total
    for run, cost in zip(runs, costs, strict=True):
        if task and (work + cost / 2 > target or len(task) == MAX_RUNS
                     or run["dataset"] != task[0]["dataset"]):
            groups.append((work, task))
            remaining -= work
            task, work = [], 0.0
        if not task:
            target = min(TASK_SECONDS, max(remaining / share, floor))
        task.append(run)
        work += cost
    if task:
        groups.append((work, task))
    groups.sort(key=lambda group: -group[0])  # stable: equal work keeps the runs' order
    return [group for _, group in groups]


def estimated_seconds(run: dict, rows: int, features: int) -> float:
    """A run's time on one core, roughly (see the module's docstring)."""
    folds = run.get("folds", 1)
    train_rows = rows * (1 - 1 / folds) if folds > 1 else rows * (1 - HOLDOUT)
    return RUN_SECONDS + run["epochs"] * (EPOCH_SECONDS + train_rows * (
        ROW_SECONDS + 3 * _macs_per_row(run["arch"], features) / MACS_PER_SECOND))


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
