"""Validation of user arrays: shapes, NaN/inf, dtypes, labels. Every error names the culprit."""

from __future__ import annotations

import numpy as np

from symprop.errors import DataError, ShapeError
from symprop.runtime.support import floats_all_finite, one_hot, unit_targets


def _numeric(values, what: str) -> np.ndarray:
    """``values`` as a real numeric array, or a DataError naming ``what``."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} cannot be read as an array: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise DataError(f"{what} must be numeric, not of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{what} must be real, not complex")
    return array


def all_finite(array: np.ndarray) -> bool:
    """Whether every value of ``array`` is finite. Integers always are. Floats: one pass
    without a temporary array (fit checks its data on every call): their sum, which is NaN or
    inf where any value is (the elementwise test only where it is not finite), or for big
    arrays a compiled pass (symprop.runtime.support)."""
    if not np.issubdtype(array.dtype, np.floating):
        return True
    return floats_all_finite(array)


def as_features(X, n_in: int, dtype, what: str = "X", finite: bool = True) -> np.ndarray:
    """X as a C-ordered (samples, n_in) array of ``dtype``. ``finite=False`` leaves out the
    pass that looks for NaN and inf: fit's CPU kernels check each row as they read it, and
    fit calls require_finite where one is found (a pass over 10 MB cost a tiny network's
    4000-step fit 0.12-0.25 ms, 2-3% of its time)."""
    array = _numeric(X, what)
    if array.ndim == 1 and n_in == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ShapeError(f"{what} must be 2-D (samples, features), got shape {array.shape}")
    if array.shape[0] == 0:
        raise DataError(f"{what} is empty: no samples")
    if array.shape[1] != n_in:
        raise ShapeError(f"{what} has {array.shape[1]} features but layer 1 takes {n_in} "
                         "inputs")
    with np.errstate(over="ignore"):  # a value too large for dtype: inf, named below
        array = np.ascontiguousarray(array, dtype=dtype)
    if finite:
        require_finite(array, what)
    return array


def require_finite(array: np.ndarray, what: str = "X") -> None:
    """A DataError naming the first NaN or inf of a 2-D array, if it has one."""
    if not all_finite(array):
        row, col = np.argwhere(~np.isfinite(array))[0]
        raise DataError(f"{what} has a NaN or inf value (row {row}, column {col})")


def as_targets(y, loss: str, n_out: int, n_rows: int, dtype, what: str = "y") -> np.ndarray:
    """Targets as a (n, n_out) float array in the loss's convention. The checks run on the
    converted array, one pass each without temporaries (fit converts its targets on every
    call: for 128,000 bce labels 85 us, now about 45)."""
    array = _numeric(y, what)
    if array.shape[:1] != (n_rows,):
        raise ShapeError(f"{what} has {array.shape[0] if array.ndim else 0} rows but X has "
                         f"{n_rows}")
    if loss == "ce":
        if not all_finite(array):
            raise DataError(f"{what} has a NaN or inf value")
        if array.ndim == 1:
            return _one_hot(array, n_out, what, dtype)
        if array.shape != (n_rows, n_out):
            raise ShapeError(f"{what} for ce must be labels (n,) or one-hot (n, {n_out}), got "
                             f"shape {array.shape}")
        if (array < 0).any() or (array > 1).any() or not np.allclose(array.sum(axis=1), 1):
            raise DataError(f"{what} rows must be one-hot (or probabilities summing to 1)")
        return np.ascontiguousarray(array, dtype=dtype)
    given = array.shape  # what the caller passed, for the message
    if array.ndim == 1:
        array = array[:, None]
    if array.shape != (n_rows, n_out):
        labels = len(given) == 1 and np.issubdtype(array.dtype, np.integer) and n_out > 1
        hint = (f"; integer class labels? {loss} compares {n_out} outputs with {n_out} "
                "numbers a row: use loss='ce' (softmax output) or one-hot them "
                "(sp.one_hot)") if labels else ""
        raise ShapeError(f"{what} must have shape ({n_rows}, {n_out}) (or ({n_rows},) for one "
                         f"output), got shape {given}{hint}")
    if loss == "bce":
        targets, inside = unit_targets(array, dtype)  # False too where one is NaN
        if not inside:
            if not all_finite(array):
                raise DataError(f"{what} has a NaN or inf value")
            bad = array[(array < 0) | (array > 1)][0]
            raise DataError(f"{what} for bce must be 0/1 (or probabilities), found {bad!r}")
        return targets
    with np.errstate(over="ignore"):  # a value too large for dtype: inf, named below
        targets = np.ascontiguousarray(array, dtype=dtype)
    if not all_finite(targets):
        if not all_finite(array):
            raise DataError(f"{what} has a NaN or inf value")
        largest = float(array.flat[np.abs(array).argmax()])  # with its sign
        raise DataError(f"{what} has a value too large for the network's {np.dtype(dtype)}: "
                        f"{largest!r}")
    return targets


def _one_hot(labels: np.ndarray, classes: int, what: str, dtype=np.float64) -> np.ndarray:
    """Integer labels (n,) as one-hot rows of ``dtype``; a label out of range is an error."""
    if labels.ndim != 1:
        raise ShapeError(f"{what}: class labels must be 1-d (n,), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) and not (
            np.isfinite(labels).all() and np.all(labels == np.round(labels))):
        raise DataError(f"{what}: class labels must be integers")
    out, bad = one_hot(labels, classes, dtype)
    if bad >= 0:
        raise DataError(f"{what}: label {int(labels[bad])} is outside the {classes} classes "
                        f"0..{classes - 1} of the output layer")
    return out
