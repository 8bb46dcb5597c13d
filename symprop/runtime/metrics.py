"""The metrics fit() and evaluate() report beside the loss."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symprop.runtime.support import argmax_hits, compiled_for, row_argmax, threshold_hits


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
    return RunningMetrics(loss, Y, labels)


class RunningMetrics:
    """The metrics of outputs against fixed targets: of one epoch's outputs (called), or of
    several epochs' outputs back to back (``epochs``), each epoch's the same numbers."""

    def __init__(self, loss: str, Y: np.ndarray, labels: np.ndarray | None = None):
        self.loss, self.rows = loss, Y.shape[0]
        if loss == "ce":  # comparisons in the arrays' own precision: no converted copies
            self.labels = np.ascontiguousarray(row_argmax(Y) if labels is None else labels,
                                               dtype=np.int64)
        elif loss == "bce":
            self.Y = Y
        else:
            self.Y = np.asarray(Y, dtype=np.float64)
            self.total = ((self.Y - self.Y.mean(axis=0)) ** 2).sum()

    def __call__(self, out: np.ndarray) -> dict[str, float]:
        if self.loss == "ce":
            return {"accuracy": argmax_hits(out, self.labels) / self.rows}
        if self.loss == "bce":
            return {"accuracy": threshold_hits(out, self.Y) / self.Y.size}
        out = np.asarray(out, dtype=np.float64)
        residual = ((self.Y - out) ** 2).sum()
        return {"mae": float(np.abs(self.Y - out).mean()),
                "r2": float(1 - residual / self.total) if self.total > 0 else float("nan")}

    def epochs(self, outputs: np.ndarray, count: int) -> dict[str, list[float]]:
        """Each metric's value for each of ``count`` epochs whose outputs are ``outputs``'
        rows, one epoch's rows after another's. Accuracy counts in one pass over them all
        (a call per epoch was a third of a small network's fit); regression's sums epoch by
        epoch, in the order one epoch's call sums them."""
        if self.loss == "ce":
            # compiled where one epoch's call would be, or in a process of many small
            # epochs (a sweep's worker: 16 us against 34 for 49 epochs of 150 rows); a cold
            # start compiles nothing
            picks = (row_argmax(outputs) if compiled_for(self.rows)
                     else outputs.argmax(axis=1))
            hits = picks.reshape(count, self.rows) == self.labels
            return {"accuracy": (np.count_nonzero(hits, axis=1) / self.rows).tolist()}
        if self.loss == "bce":
            shaped = outputs.reshape(count, *self.Y.shape)
            hits = np.count_nonzero((shaped > 0.5) == (self.Y > 0.5),
                                    axis=tuple(range(1, shaped.ndim)))
            return {"accuracy": (hits / self.Y.size).tolist()}
        each = [self(outputs[e * self.rows:(e + 1) * self.rows]) for e in range(count)]
        return {key: [values[key] for values in each] for key in each[0]}
