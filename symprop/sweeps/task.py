"""One run of a sweep, as a Dask worker executes it: a plain function of a run (a dict) and
its data, returning the record written to the results file.

A run never raises: a bad formula, a loss that diverges, any error, becomes a record with
``"status": "failed"`` and the error, and the sweep goes on. Each run trains on one thread
(the sweep's parallelism is across runs), so its numbers are the same whatever the number
of workers: the weights bit for bit, the loss to 1e-9 (a module compiled by the process
that runs it and the same module loaded from Numba's disk cache sum it that far apart).
The kernels are compiled once per worker and structure: the generated module stays
imported in the worker process (symprop.codegen.cache), and Numba's disk cache is shared
by the workers of a machine (its files are written whole, then renamed).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import time

import numpy as np

SPLIT_SEED = 0  # every configuration and seed is validated on the same folds: paired
HOLDOUT = 0.2  # folds=1: one stratified 80/20 split


def train_run(run: dict, data=None) -> dict:
    """Train ``run`` (see symprop.sweeps.grid) on ``data`` = (X, y), or on the built-in data
    set it names when ``data`` is None; the record: the run, what happened, the metrics."""
    began = time.perf_counter()
    record = dict(run)
    try:
        with _one_thread():
            record.update(_train(run, data))
        record["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none stops a sweep
        from symprop.errors import SympropError

        record["status"] = "failed"
        named = "" if isinstance(exc, SympropError) else f"{type(exc).__name__}: "
        record["error"] = " ".join(f"{named}{exc}".split())
    record["seconds"] = round(time.perf_counter() - began, 4)
    return record


def train_runs(runs: list[dict], data=None) -> list[dict]:
    """The records of several runs on the same data: one Dask task, one scheduling cost."""
    return [train_run(run, data) for run in runs]


@functools.lru_cache(maxsize=16)
def _builtin(name: str):
    """A built-in data set, loaded once per worker process (read-only: runs index it)."""
    from symprop.runtime.data import load_dataset

    X, y = load_dataset(name)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _train(run: dict, data) -> dict:
    from symprop.blocks import parse_network
    from symprop.runtime.network import Network
    from symprop.runtime.network_parts import layers_from_specs
    from symprop.runtime.optimizers import make_optimizer

    X, y = data if data is not None else _builtin(run["dataset"])
    loss = run["loss"] if run["loss"] != "auto" else loss_for(run["arch"])
    classification = loss in ("ce", "bce")
    arch = adapt_architecture(run["arch"], X.shape[1], y, classes=loss == "ce")
    specs = parse_network(arch)
    if data is None:  # the same folds serve every configuration and seed of the sweep
        parts = _builtin_split(run["dataset"], run["folds"], run["fold"], classification)
    else:
        parts = _split(X, y, run["folds"], run["fold"], classification)
    X_train, X_val, y_train, y_val = parts
    net = Network(layers_from_specs(specs), loss=loss, dtype="float32", seed=run["seed"])
    history = net.fit(X_train, y_train, epochs=run["epochs"], batch_size=run["batch_size"],
                      optimizer=make_optimizer(run["optimizer"], lr=run["lr"]),
                      verbose=False)
    train_metrics, val_metrics = net.evaluate(X_train, y_train), net.evaluate(X_val, y_val)
    if not all(math.isfinite(v) for v in (*train_metrics.values(), *val_metrics.values())):
        raise ArithmeticError("the trained network's loss or metrics are not finite")
    return {"network": arch, "loss_used": loss, "epochs_run": history.epochs,
            "train": _floats(train_metrics), "validation": _floats(val_metrics),
            "rows": {"train": len(y_train), "validation": len(y_val)}}


def _split(X, y, folds: int, fold: int, classification: bool) -> tuple:
    """(X_train, X_val, y_train, y_val) of one fold (folds=1: the 80/20 holdout), the
    features standardized with the training part's statistics."""
    from symprop.runtime.data import Standardizer, kfold_indices, train_test_split

    if folds == 1:
        X_train, X_val, y_train, y_val = train_test_split(X, y, HOLDOUT, seed=SPLIT_SEED,
                                                          stratify=classification)
    else:
        train, val = kfold_indices(y, folds, seed=SPLIT_SEED, stratify=classification)[fold]
        X_train, X_val, y_train, y_val = X[train], X[val], y[train], y[val]
    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), y_train, y_val


@functools.lru_cache(maxsize=64)
def _builtin_split(name: str, folds: int, fold: int, classification: bool) -> tuple:
    """_split of a built-in data set, made once per worker process (read-only: runs share
    it; a run's fit and evaluate copy what they take)."""
    parts = _split(*_builtin(name), folds, fold, classification)
    for array in parts:
        array.flags.writeable = False
    return parts


def adapt_architecture(arch: str, features: int, y, classes: bool = True) -> str:
    """``arch`` with its input width set to the data's feature count and (``classes``: the
    loss is ce) a softmax output's width to the class count, so that one architecture runs
    on data sets of other widths (4-8:relu-3:softmax on wine's 13 features:
    13-8:relu-3:softmax). The result is parsed like any architecture string."""
    from symprop.blocks import split_top_level

    tokens = split_top_level(arch.strip())
    if len(tokens) >= 2 and tokens[0].isascii() and tokens[0].isdigit():
        tokens[0] = str(features)
        output = re.fullmatch(r"(\d+):softmax", tokens[-1])
        y = np.asarray(y)
        if (classes and output and y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
                and len(y)):
            tokens[-1] = f"{int(y.max()) + 1}:softmax"
    return "-".join(tokens)


def loss_for(arch: str) -> str:
    """The loss an architecture's output activation suggests: softmax -> ce, sigmoid -> bce,
    anything else -> mse."""
    from symprop.blocks import split_top_level

    last = split_top_level(arch.strip())[-1]
    activation = last.split(":", 1)[1].strip() if ":" in last else ""
    return {"softmax": "ce", "sigmoid": "bce"}.get(activation, "mse")


@contextlib.contextmanager
def _one_thread():
    """Training on one thread: no split path (NUMBA_NUM_THREADS is set to 1 for the
    workers symprop starts; a worker of someone else's cluster may have more), the
    caller's thread count back after the run (a run in the caller's own process left it
    at 1 for whatever trained there next); and the compiled shuffle from the first run on
    (a worker shuffles many rows)."""
    import numba

    from symprop.runtime.support import compiled_shuffles

    before = numba.get_num_threads()
    if before != 1:
        numba.set_num_threads(1)
    compiled_shuffles()
    try:
        yield
    finally:
        if before != 1:
            numba.set_num_threads(before)


def _floats(metrics: dict) -> dict:
    return {key: float(value) for key, value in metrics.items()}
