"""A sweep's results: per configuration the mean and standard deviation over its seeds and
folds, best first; as a text table, a pandas DataFrame, a plot of a metric against a
hyperparameter (one line per architecture)."""

from __future__ import annotations

import math
import statistics

from symprop.sweeps.grid import CONFIG_KEYS, SweepError, config_of

# The metric that ranks configurations: validation accuracy, or R^2 for regression.
RANKED = ("accuracy", "r2")


def metric_name(records: list[dict]) -> str:
    """The validation metric the finished runs have: accuracy (classification) or r2."""
    for record in records:
        for name in RANKED:
            if name in (record.get("validation") or {}):
                return name
    return "accuracy"


def summarize(records: list[dict]) -> list[dict]:
    """One row per configuration: its runs, failures, and mean and standard deviation
    (sample, over seeds and folds; 0 for one run) of every train and validation metric;
    data sets in the order they came, the best configuration of each first."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault(config_of(record), []).append(record)
    rows = []
    for config, group in groups.items():
        ok = [r for r in group if r.get("status") == "ok"]
        row = dict(zip(CONFIG_KEYS, config, strict=True))
        row.update(runs=len(group), failed=len(group) - len(ok))
        for part in ("validation", "train"):
            names = sorted({name for r in ok for name in r[part]})
            for name in names:
                values = [r[part][name] for r in ok if name in r[part]]
                row[f"{part}_{name}_mean"] = statistics.fmean(values)
                row[f"{part}_{name}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        used = {r["loss_used"] for r in ok}
        if row["loss"] == "auto" and len(used) == 1:
            row["loss"] = f"auto: {used.pop()}"
        row["seconds_mean"] = statistics.fmean(r.get("seconds", 0.0) for r in group)
        if not ok:
            row["error"] = next((r.get("error") for r in group if r.get("error")), "")
        rows.append(row)
    metric = f"validation_{metric_name(records)}_mean"
    order = {dataset: i for i, dataset in enumerate(dict.fromkeys(r["dataset"] for r in records))}
    return sorted(rows, key=lambda row: (order[row["dataset"]], -_or_minus_inf(row.get(metric)),
                                         _or_inf(row.get("validation_loss_mean"))))


def _or_minus_inf(value) -> float:
    return value if isinstance(value, float) and not math.isnan(value) else -math.inf


def _or_inf(value) -> float:
    return value if isinstance(value, float) and not math.isnan(value) else math.inf


def table(records: list[dict]) -> str:
    """The summary as aligned text, best configuration first."""
    rows = summarize(records)
    metric = metric_name(records)
    datasets = {row["dataset"] for row in rows}
    header = ([] if len(datasets) == 1 else ["dataset"]) + [
        "architecture", "loss", "optimizer", "lr", "batch", "epochs", "runs",
        f"val {metric}", "val loss", f"train {metric}", "s/run"]
    lines = [header]
    for row in rows:
        cells = [] if len(datasets) == 1 else [row["dataset"]]
        cells += [row["arch"], row["loss"], row["optimizer"], f"{row['lr']:g}",
                  str(row["batch_size"]), str(row["epochs"]),
                  f"{row['runs'] - row['failed']}/{row['runs']}"]
        if row["failed"] == row["runs"]:
            cells += [f"failed: {row.get('error', '')[:60]}", "", ""]
        else:
            cells += [_mean_std(row, f"validation_{metric}"), _mean_std(row, "validation_loss"),
                      _mean_std(row, f"train_{metric}")]
        cells.append(f"{row['seconds_mean']:.2f}")
        lines.append([_printable(cell) for cell in cells])
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths,
                                                                       strict=False)).rstrip()
                     for line in lines)


def _printable(cell: str) -> str:
    """A cell as it is, or escaped where it holds control characters: a results file's text
    (an error, a loss name) never writes escape sequences to the terminal."""
    return cell if cell.isprintable() else repr(cell)


def _mean_std(row: dict, name: str) -> str:
    if f"{name}_mean" not in row:
        return "-"
    return f"{row[f'{name}_mean']:.4f} +/- {row[f'{name}_std']:.4f}"


def dataframe(records: list[dict]):
    """The summary as a pandas DataFrame, or the list of rows where pandas is missing."""
    rows = summarize(records)
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


PLOTTABLE = ("lr", "batch_size", "epochs")


def plot(records: list[dict], path=None, x: str = "lr", metric: str | None = None):
    """The validation metric's mean (error bars: its standard deviation) against the
    hyperparameter ``x``, one line per architecture (and optimizer where there are
    several), one panel per data set. Written as a PNG to ``path``, or returned as a
    matplotlib figure when ``path`` is None."""
    from symprop.runtime.plotting import new_figure, save_png

    if x not in PLOTTABLE:
        raise SweepError(f"a sweep plots against one of {', '.join(PLOTTABLE)}, not {x!r}")
    metric = metric or metric_name(records)
    rows = [row for row in summarize(records) if f"validation_{metric}_mean" in row]
    if not rows:
        raise SweepError(f"no finished run has a validation {metric} to plot")
    datasets = sorted({row["dataset"] for row in rows})
    several = {key: len({row[key] for row in rows}) > 1 for key in CONFIG_KEYS}
    figure = new_figure((5.5 * len(datasets), 4))
    axes = figure.subplots(1, len(datasets), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=True):
        lines: dict[tuple, list[dict]] = {}
        for row in rows:
            if row["dataset"] == dataset:
                label = tuple(row[k] for k in CONFIG_KEYS
                              if k not in ("dataset", x) and several[k])
                lines.setdefault(label, []).append(row)
        for label, points in sorted(lines.items(), key=lambda item: str(item[0])):
            points.sort(key=lambda row: row[x])
            axis.errorbar([p[x] for p in points], [p[f"validation_{metric}_mean"] for p in points],
                          yerr=[p[f"validation_{metric}_std"] for p in points], marker="o",
                          capsize=3, label=", ".join(str(v) for v in label) or "all runs")
        if x == "lr":
            axis.set_xscale("log")
        axis.set_xlabel(x)
        axis.set_ylabel(f"validation {metric}")
        axis.set_title(f"{dataset}: mean +/- std over seeds and folds", fontsize="medium")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.tight_layout()
    if path is None:
        return figure
    save_png(figure, path)
    return None
