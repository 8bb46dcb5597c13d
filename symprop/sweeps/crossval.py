"""`symprop train --folds K`: k-fold cross-validation of one configuration on this machine,
with the sweep's runs (the same folds, training and records as ``symprop sweep``), so the
test accuracy comes with its spread over splits."""

from __future__ import annotations

import time

from symprop.errors import SympropError
from symprop.sweeps.grid import expand
from symprop.sweeps.summary import summarize
from symprop.sweeps.task import train_run

# train's options that need one model (or one split): refused with --folds, not ignored
ONE_MODEL_OPTIONS = {"save": "--save", "plot": "--plot", "plot_boundary": "--plot-boundary",
                     "boundary_columns": "--boundary-columns",
                     "boundary_units": "--boundary-units",
                     "patience": "--patience", "validation_split": "--validation-split",
                     "momentum": "--momentum",
                     "weight_decay": "--weight-decay", "track_gradients": "--track-gradients"}


def cross_validate(name: str, X, y, config: dict, folds: int, seed: int) -> dict:
    """Train ``config`` (a sweep grid of single values) on each of ``folds`` stratified
    folds of (X, y), validating on the fold held out; the per-fold metrics and their mean
    and (sample) standard deviation. A failing fold is a SympropError naming it."""
    began = time.perf_counter()
    runs = expand(config, [name], [seed], folds)
    records = [train_run(run, (X, y)) for run in runs]
    for record in records:
        if record["status"] != "ok":
            raise SympropError(f"fold {record['fold'] + 1} of {folds}: {record['error']}")
    per_fold = [record["validation"] for record in records]
    (row,) = summarize(records)  # the sweep's mean and standard deviation over the folds
    return {"dataset": name, "architecture": config["arch"], "loss": records[0]["loss_used"],
            "optimizer": config["optimizer"], "lr": config["lr"], "epochs": config["epochs"],
            "folds": folds, "per_fold": per_fold,
            "mean": {key: row[f"validation_{key}_mean"] for key in per_fold[0]},
            "std": {key: row[f"validation_{key}_std"] for key in per_fold[0]},
            "rows": [record["rows"] for record in records],
            "seconds": round(time.perf_counter() - began, 3)}


def check_options(args) -> None:
    for attribute, option in ONE_MODEL_OPTIONS.items():
        if getattr(args, attribute, None):
            raise SympropError(f"{option} needs one trained model: drop it, or --folds "
                               "(cross-validation trains one per fold)")
    if args.dtype != "float32" or getattr(args, "device", "cpu") != "cpu":
        raise SympropError("--folds trains in float32 on the CPU (the sweep's runs)")


def lines(summary: dict) -> list[str]:
    """The cross-validation as the terminal shows it: each fold, then mean +/- std."""
    metric = "accuracy" if "accuracy" in summary["mean"] else "r2"
    out = [f"{summary['dataset']}: {summary['architecture']} ({summary['loss']}, "
           f"{summary['optimizer']} lr {summary['lr']:g}), {summary['epochs']} epochs, "
           f"{summary['folds']}-fold cross-validation in {summary['seconds']:.2f} s"]
    for number, (values, rows) in enumerate(zip(summary["per_fold"], summary["rows"],
                                                strict=True), 1):
        shown = ", ".join(f"{k} ({summary['loss']}) {v:.4f}" if k == "loss" else
                          f"{k} {v:.4f}" for k, v in values.items())
        out.append(f"  fold {number}  test {shown}  ({rows['validation']} rows)")
    out.append(f"  {metric} {summary['mean'][metric]:.4f} +/- {summary['std'][metric]:.4f} "
               f"over {summary['folds']} folds (loss {summary['mean']['loss']:.4f} +/- "
               f"{summary['std']['loss']:.4f}; mean +/- standard deviation of the folds' "
               "test values)")
    return out
