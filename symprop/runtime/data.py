"""Data: built-in data sets, a CSV loader, standardisation, stratified splits, labels.

Built-in data sets come from scikit-learn (bundled with it, no download). Every loader
returns ``(X, y)`` as float arrays and integer labels (or float targets for regression).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from symprop.errors import DataError, UnknownNameError


def _iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def _digits():
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _wine():
    from sklearn.datasets import load_wine

    return load_wine(return_X_y=True)


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True)


def _moons(n_samples=500, noise=0.2, seed=0):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n_samples, noise=noise, random_state=seed)


def _classification(n_samples=1000, n_features=20, n_classes=2, seed=42):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n_samples, n_features=n_features,
                               n_classes=n_classes, random_state=seed)


DATASETS = {
    "iris": _iris,
    "digits": _digits,
    "wine": _wine,
    "breast_cancer": _breast_cancer,
    "moons": _moons,
    "make_classification": _classification,
}
# The architecture and loss each data set suggests (used by `symprop train --dataset`).
SUGGESTED = {
    "iris": ("4-8:relu-3:softmax", "ce"),
    "digits": ("64-64:relu-10:softmax", "ce"),
    "wine": ("13-16:relu-3:softmax", "ce"),
    "breast_cancer": ("30-16:relu-1:sigmoid", "bce"),
    "moons": ("2-16:relu-16:relu-1:sigmoid", "bce"),
    "make_classification": ("20-32:relu-1:sigmoid", "bce"),
}


def load_dataset(name: str, **options) -> tuple[np.ndarray, np.ndarray]:
    key = str(name).lower()
    if key not in DATASETS:
        raise UnknownNameError("data set", name, list(DATASETS))
    X, y = DATASETS[key](**options)
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def load_csv(path: str, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Numeric features and the ``target`` column of a CSV file with a header row.

    A non-numeric target becomes integer class labels (sorted class names); the feature
    names come back third. A non-numeric feature cell is an error naming row and column.
    """
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    if len(rows) < 2:
        raise DataError(f"{path} has no data rows")
    header = [h.strip() for h in rows[0]]
    if target not in header:
        raise DataError(f"{path} has no column {target!r} (columns: {', '.join(header)})")
    t = header.index(target)
    features = [h for i, h in enumerate(header) if i != t]
    X, labels = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path}, line {number}: {len(row)} cells, expected {len(header)}")
        values = []
        for i, cell in enumerate(row):
            if i == t:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise DataError(f"{path}, line {number}, column {header[i]!r}: {cell!r} is "
                                "not a number") from None
        X.append(values)
        labels.append(row[t].strip())
    try:
        y = np.array([float(v) for v in labels])
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    except ValueError:
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels], dtype=np.int64)
    return np.array(X, dtype=np.float64), y, features


@dataclass
class Standardizer:
    """Zero mean, unit variance per feature, fitted on training data only."""

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)  # a constant feature stays as it is
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None:
            raise DataError("the standardizer is not fitted")
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)


def train_test_split(X, y, test_size: float = 0.2, seed: int = 0, stratify: bool = True):
    """Split rows; with ``stratify`` each class keeps its share in both parts."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} rows but y has {len(y)}")
    if not 0 < test_size < 1:
        raise DataError(f"test_size must be between 0 and 1, not {test_size!r}")
    rng = np.random.default_rng(seed)
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        test = []
        for cls in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == cls))
            test.extend(rows[: max(1, int(round(len(rows) * test_size)))].tolist())
        test = np.array(sorted(test))
    else:
        test = np.sort(rng.permutation(len(X))[: max(1, int(math.ceil(len(X) * test_size)))])
    train = np.setdiff1d(np.arange(len(X)), test)
    return X[train], X[test], y[train], y[test]


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Integer labels (n,) -> one-hot rows (n, classes); a label out of range is an error."""
    from symprop.runtime.checks import _one_hot

    return _one_hot(np.asarray(labels), classes, "labels")
