"""Sweeps: many trainings (a grid of hyperparameters x data sets x seeds x folds) on Dask.

    result = sp.sweep({"arch": ["4-8:relu-3:softmax", "4-16:tanh-3:softmax"],
                       "lr": [0.01, 0.1], "epochs": 30}, ["iris", "wine"], folds=3, seeds=2)
    print(result.table()); result.summary(); result.plot("lr.png")

Modules: ``grid`` (the runs), ``task`` (one run on a worker), ``engine`` (Dask, the results
file), ``summary`` (tables and plots).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from symprop.sweeps.grid import SweepError, expand

__all__ = ["SweepError", "SweepResult", "sweep"]


@dataclass
class SweepResult:
    """The records of a sweep's runs (those of earlier sessions too, with ``resume``), and
    the results file they were appended to (``results``), if any."""

    runs: list[dict] = field(default_factory=list)
    results: str | None = None  # the results file, if one was written

    @property
    def failed(self) -> list[dict]:
        return [run for run in self.runs if run.get("status") != "ok"]

    def summary(self):
        """Per configuration, mean and standard deviation over seeds and folds, best first:
        a pandas DataFrame where pandas is installed, else a list of dicts."""
        from symprop.sweeps.summary import dataframe

        return dataframe(self.runs)

    def table(self) -> str:
        """The summary as aligned text, the best configuration of each data set first."""
        from symprop.sweeps.summary import table

        return table(self.runs)

    def plot(self, path=None, x: str = "lr", metric: str | None = None):
        """Validation metric against ``x`` (lr, batch_size, epochs), a line per
        architecture; a PNG at ``path``, or the matplotlib figure without one."""
        from symprop.sweeps.summary import plot

        return plot(self.runs, path, x=x, metric=metric)

    def __repr__(self) -> str:
        return (f"SweepResult({len(self.runs)} runs, {len(self.failed)} failed"
                + (f", results={self.results!r}" if self.results else "") + ")")


def sweep(grid: dict, datasets, folds: int = 5, seeds=3, client=None, results=None,
          workers: int | None = None, scheduler: str | None = None, resume: bool = False,
          verbose: bool = True, on_record=None) -> SweepResult:
    """Train every configuration of ``grid`` on every data set, for every seed and fold.

    ``grid``: lists (or single values) for ``arch`` (required; the input width and a
    softmax output's width follow each data set), ``loss`` ("auto": from the output
    activation), ``optimizer``, ``lr``, ``batch_size``, ``epochs``; the runs are their
    product. ``datasets``: built-in names, or a dict name -> (X, y). ``folds``: stratified
    k-fold cross-validation (1: one stratified 80/20 split); the folds are the same for
    every configuration and seed. ``seeds``: a count (seeds 0..n-1) or a list; a seed sets
    the initial weights and the shuffling.

    Runs go to ``client`` (a dask.distributed Client), else to the cluster at
    ``scheduler``, else to an embedded LocalCluster of ``workers`` processes (default: the
    cores), each training on one thread. ``results``: a JSON-lines file each finished run
    is appended to; ``resume=True`` skips the runs it already holds (otherwise a file that
    holds runs is refused). A run that fails is recorded with ``"status": "failed"`` and
    its error; the sweep goes on. ``on_record(record)`` is called as each run finishes.
    ``verbose``: say what runs where, and a progress bar of finished runs.
    """
    from symprop.sweeps import engine

    names, arrays = _datasets(datasets)
    runs = expand(grid, names, seeds, folds)
    _check_folds(folds, names, arrays)
    engine.require_distributed()
    engine.check_workers(workers)
    done = engine.finished_runs(results) if results is not None and resume else {}
    todo = [run for run in runs if run["run_id"] not in done]
    writer = engine.ResultsFile(results, resume) if results is not None else None
    say = print if verbose else None
    try:
        if verbose:
            skipped = f", {len(runs) - len(todo)} already in {results}" if done else ""
            print(f"sweep: {len(runs)} runs ({len(runs) // max(len(names), 1)} per data set)"
                  f"{skipped}")
        records = []
        if todo:
            with engine.dask_client(client, workers, scheduler, log=say) as connected:
                progress = engine.progress_bar(len(todo), verbose)
                try:
                    records = engine.run_all(connected, todo, arrays, writer, progress,
                                             on_record)
                finally:
                    if progress is not None:
                        progress.close()
    finally:
        if writer is not None:
            writer.close()
    by_id = {**done, **{record["run_id"]: record for record in records}}
    return SweepResult([by_id[run["run_id"]] for run in runs if run["run_id"] in by_id],
                       os.fspath(results) if results is not None else None)


def _check_folds(folds: int, names: list[str], arrays: dict) -> None:
    """Refuse before any run what every run would fail on: more folds than rows."""
    from symprop.sweeps.task import _builtin

    for name in names:
        rows = len(arrays[name][1]) if name in arrays else len(_builtin(name)[1])
        if folds > rows:
            raise SweepError(f"{folds} folds need at least {folds} rows; data set {name!r} "
                             f"has {rows}")


def _datasets(datasets) -> tuple[list[str], dict]:
    """Data set names, and (X, y) for those that are not built in."""
    from symprop.runtime.data import DATASETS

    if isinstance(datasets, str):
        datasets = [datasets]
    if isinstance(datasets, dict):
        arrays = {}
        for name, pair in datasets.items():
            if not isinstance(name, str) or not isinstance(pair, tuple | list) or len(pair) != 2:
                raise SweepError(f"datasets: {name!r} must map a name to (X, y)")
            X, y = np.asarray(pair[0], dtype=np.float64), np.asarray(pair[1])
            if X.ndim != 2 or len(X) != len(y):
                raise SweepError(f"data set {name!r}: X must be 2-D with one row per label, "
                                 f"got X {X.shape} and y {y.shape}")
            arrays[name] = (X, y)
        if not arrays:
            raise SweepError("no data sets given")
        return list(arrays), arrays
    names = list(datasets) if isinstance(datasets, list | tuple) else None
    if not names:
        raise SweepError("datasets: built-in names, or a dict name -> (X, y)")
    for name in names:
        if not isinstance(name, str) or name.lower() not in DATASETS:
            from symprop.errors import UnknownNameError

            raise UnknownNameError("data set", name, list(DATASETS))
    names = [name.lower() for name in names]
    if len(set(names)) != len(names):
        raise SweepError(f"datasets lists a data set more than once: {names}")
    return names, {}
