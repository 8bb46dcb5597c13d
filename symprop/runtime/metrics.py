"""The metrics fit() and evaluate() report beside the loss."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symprop.runtime.support import row_argmax, threshold_hits


def metrics(loss: str, out: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    """Accuracy for classification losses; MAE and R^2 for regression (of outputs ``out``
    against targets ``Y``, both rows by units)."""
    return metrics_against(loss, Y)(out)


def metrics_against(loss: str, Y: np.ndarray,
                    labels: np.ndarray | None = None) -> Callable[[np.ndarray], dict[str, float]]:
    """``metrics(loss, out, Y)`` as a function of ``out`` alone, with what depends on ``Y``
    worked out once: fit measures the same targets every epoch (for a small network the
    labels' argmax was a fifth of the Python an epoch costs). ``labels``: for ce, the class
    labels Y was made from, where the caller has them (Y's argmax: 0.45 ms for 64,000 rows
    of 10, on every fit call)."""
    rows = Y.shape[0]
    if loss == "ce":  # comparisons in the arrays' own precision: no converted copies
        labels = row_argmax(Y) if labels is None else labels
        return lambda out: {"accuracy": int(np.count_nonzero(row_argmax(out) == labels))
                            / rows}
    if loss == "bce":
        return lambda out: {"accuracy": threshold_hits(out, Y) / Y.size}
    Y = np.asarray(Y, dtype=np.float64)
    total = ((Y - Y.mean(axis=0)) ** 2).sum()

    def regression(out: np.ndarray) -> dict[str, float]:
        out = np.asarray(out, dtype=np.float64)
        residual = ((Y - out) ** 2).sum()
        return {"mae": float(np.abs(Y - out).mean()),
                "r2": float(1 - residual / total) if total > 0 else float("nan")}

    return regression
