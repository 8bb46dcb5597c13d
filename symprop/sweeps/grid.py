"""A sweep's runs: the product of the grid's lists, for every data set, seed and fold.

A run is plain data (a dict of JSON values), so that it travels to Dask workers, is written
to the results file as it is, and identifies itself for ``--resume`` by its ``run_id``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math

from symprop.errors import SympropError

# The grid's keys, in the order a configuration is shown, and what each defaults to.
GRID_DEFAULTS = {
    "arch": None,  # required
    "loss": "auto",  # from the output activation: softmax -> ce, sigmoid -> bce, else mse
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 16,
    "epochs": 30,
}
# What makes a configuration (the summary's groups): the grid's keys and the data set.
CONFIG_KEYS = ("dataset", *GRID_DEFAULTS)


class SweepError(SympropError):
    """A sweep that cannot start: a bad grid, data set, seed or fold count, results file."""


def expand(grid: dict, datasets: list[str], seeds, folds: int) -> list[dict]:
    """Every run of the sweep: configurations (data set x grid product) x seeds x folds."""
    values = _grid_values(grid)
    seeds = _seeds(seeds)
    folds = _folds(folds)
    runs = []
    for dataset in datasets:
        for combination in itertools.product(*values.values()):
            config = {"dataset": dataset, **dict(zip(values, combination, strict=True))}
            for seed in seeds:
                for fold in range(folds):
                    run = {**config, "seed": seed, "fold": fold, "folds": folds}
                    run["run_id"] = run_id(run)
                    runs.append(run)
    return runs


def run_id(run: dict) -> str:
    """A run's identity in the results file: a hash of its configuration, seed and fold."""
    fields = {key: run[key] for key in (*CONFIG_KEYS, "seed", "fold", "folds")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def config_of(run: dict) -> tuple:
    return tuple(run[key] for key in CONFIG_KEYS)


def _grid_values(grid) -> dict[str, list]:
    if not isinstance(grid, dict):
        raise SweepError(f"the grid is a dict of hyperparameter lists, not {grid!r}")
    unknown = sorted(set(grid) - set(GRID_DEFAULTS))
    if unknown:
        raise SweepError(f"unknown grid key {unknown[0]!r}; the grid takes "
                         f"{', '.join(GRID_DEFAULTS)}")
    if grid.get("arch") is None:
        raise SweepError("the grid needs at least one architecture: grid['arch']")
    values = {}
    for key, default in GRID_DEFAULTS.items():
        given = grid.get(key, default)
        items = list(given) if isinstance(given, list | tuple) else [given]
        if not items:
            raise SweepError(f"grid[{key!r}] is an empty list")
        check = _CHECKS[key]
        values[key] = [check(key, item) for item in items]
        repeated = {json.dumps(v) for v in values[key] if values[key].count(v) > 1}
        if repeated:
            raise SweepError(f"grid[{key!r}] lists {sorted(repeated)[0]} more than once")
    return values


def _text(key, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SweepError(f"grid[{key!r}]: {value!r} is not a non-empty string")
    return value.strip()


def _rate(key, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value > 0):
        raise SweepError(f"grid[{key!r}]: {value!r} is not a positive number")
    return float(value)


def _count(key, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepError(f"grid[{key!r}]: {value!r} is not a positive integer")
    return int(value)


def _optimizer(key, value) -> str:
    from symprop.runtime.optimizers import make_optimizer

    name = _text(key, value).lower()
    make_optimizer(name)  # an unknown name is an UnknownNameError suggesting the nearest
    return name


def _loss(key, value) -> str:
    from symprop.catalog import LOSSES

    name = _text(key, value).lower()
    if name != "auto" and name not in LOSSES:
        from symprop.errors import UnknownNameError

        raise UnknownNameError("loss", name, ["auto", *LOSSES])
    return name


_CHECKS = {"arch": _text, "loss": _loss, "optimizer": _optimizer, "lr": _rate,
           "batch_size": _count, "epochs": _count}


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, bool):
        raise SweepError(f"seeds is a count or a list of seeds, not {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise SweepError(f"seeds must be >= 1, not {seeds}")
        return list(range(seeds))
    items = list(seeds) if isinstance(seeds, list | tuple) else None
    if not items or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in items):
        raise SweepError(f"seeds is a count or a list of integers >= 0, not {seeds!r}")
    if len(set(items)) != len(items):
        raise SweepError(f"seeds lists a seed more than once: {items}")
    return items


def _folds(folds) -> int:
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise SweepError(f"folds must be a positive integer (1: one 80/20 split), "
                         f"not {folds!r}")
    return folds
