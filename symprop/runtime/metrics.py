"""The metrics fit() and evaluate() report beside the loss."""

from __future__ import annotations

import numpy as np


def metrics(loss: str, out: np.ndarray, Y: np.ndarray) -> dict[str, float]:
    """Accuracy for classification losses; MAE and R^2 for regression (of outputs ``out``
    against targets ``Y``, both rows by units)."""
    if loss == "ce":  # comparisons in the arrays' own precision: no converted copies
        return {"accuracy": float(np.mean(out.argmax(axis=1) == Y.argmax(axis=1)))}
    if loss == "bce":
        return {"accuracy": float(np.mean((out > 0.5) == (Y > 0.5)))}
    out, Y = np.asarray(out, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    residual = ((Y - out) ** 2).sum()
    total = ((Y - Y.mean(axis=0)) ** 2).sum()
    return {"mae": float(np.abs(Y - out).mean()),
            "r2": float(1 - residual / total) if total > 0 else float("nan")}
