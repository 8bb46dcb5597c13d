"""Data: built-in data sets, a CSV loader, standardisation, stratified splits, labels.

Built-in data sets come from scikit-learn (bundled with it, no download). Every loader
returns ``(X, y)`` as float arrays and integer labels (or float targets for regression).
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from collections import Counter
from dataclasses import dataclass

import numpy as np

from symprop.errors import DataError, FileError, SympropError, UnknownNameError


def _iris():
    return _bundled("iris.csv") or _sklearn("load_iris")


def _digits():
    return _bundled("digits.csv.gz") or _sklearn("load_digits")


def _wine():
    return _bundled("wine_data.csv") or _sklearn("load_wine")


def _breast_cancer():
    return _bundled("breast_cancer.csv") or _sklearn("load_breast_cancer")


def _sklearn(loader: str):
    import sklearn.datasets

    return getattr(sklearn.datasets, loader)(return_X_y=True)


def _bundled(file_name: str):
    """scikit-learn's own copy of a small data set, read without importing scikit-learn
    (its import takes most of a second, longer than training iris), or None where the file
    is not where this version keeps it: the caller then asks scikit-learn's loader.
    A plain CSV file (gzipped for digits): the rows, the target last; in the three
    uncompressed ones a first line giving the row and feature counts.
    tests/test_data_sets.py checks the arrays equal scikit-learn's loaders'."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package; does not run it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", file_name)
    try:
        opener = gzip.open if file_name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            rows = list(csv.reader(lines))
        if not file_name.endswith(".gz"):
            counts, rows = rows[0], rows[1:]
            if (len(rows), len(rows[0]) - 1) != (int(counts[0]), int(counts[1])):
                return None
        table = np.array(rows, dtype=np.float64)
    except (OSError, ValueError, IndexError):
        return None
    return table[:, :-1], table[:, -1].astype(np.int64)


def _moons(n_samples=500, noise=0.2, seed=0):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n_samples, noise=noise, random_state=seed)


def _circles(n_samples=500, noise=0.1, factor=0.5, seed=0):
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)


def _classification(n_samples=1000, n_features=20, n_classes=2, seed=42):
    from sklearn.datasets import make_classification

    # scikit-learn's 2 informative and 2 redundant features, as far as n_features allows
    # (n_features=2: both informative, one cluster per class, a plane to draw)
    informative = 2 if n_features >= 2 else 1
    return make_classification(n_samples=n_samples, n_features=n_features,
                               n_informative=informative,
                               n_redundant=min(2, max(n_features - informative, 0)),
                               n_clusters_per_class=1 if n_features < 4 else 2,
                               n_classes=n_classes, random_state=seed)


DATASETS = {
    "iris": _iris,
    "digits": _digits,
    "wine": _wine,
    "breast_cancer": _breast_cancer,
    "moons": _moons,
    "circles": _circles,
    "make_classification": _classification,
}
# The architecture and loss each data set suggests (used by `symprop train --dataset`).
SUGGESTED = {
    "iris": ("4-8:relu-3:softmax", "ce"),
    "digits": ("64-64:relu-10:softmax", "ce"),
    "wine": ("13-16:relu-3:softmax", "ce"),
    "breast_cancer": ("30-16:relu-1:sigmoid", "bce"),
    "moons": ("2-16:relu-16:relu-1:sigmoid", "bce"),
    "circles": ("2-16:relu-16:relu-1:sigmoid", "bce"),
    "make_classification": ("20-32:relu-1:sigmoid", "bce"),
}

# Labels for plots where a data set has them (scikit-learn's iris names); others number
# their features and classes.
FEATURE_NAMES = {"iris": ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                          "petal width (cm)")}
CLASS_NAMES = {"iris": ("setosa", "versicolor", "virginica")}
# The two features a decision boundary is drawn over unless others are chosen: iris's
# petal measurements, which separate its classes (its sepals barely do); else the first two.
BOUNDARY_COLUMNS = {"iris": (2, 3)}


def load_dataset(name: str, **options) -> tuple[np.ndarray, np.ndarray]:
    """A built-in data set as ``(X, y)``: float64 features and integer class labels.

    ``name``: iris, digits, wine, breast_cancer (scikit-learn's bundled data), or moons,
    circles, make_classification (generated; ``options`` pass to scikit-learn's generator, e.g.
    ``n_samples=``, ``noise=``, ``seed=``). ``symprop list datasets`` describes them."""
    key = str(name).lower()
    if key not in DATASETS:
        raise UnknownNameError("data set", name, list(DATASETS))
    try:
        X, y = DATASETS[key](**options)
    except (TypeError, ValueError) as exc:  # an option the generator does not take or allow
        raise DataError(f"data set {key}: {exc}") from None
    return np.asarray(X, dtype=np.float64), np.asarray(y)


def check_seed(seed, what: str = "seed") -> int | None:
    """A random seed: None (fresh entropy) or an integer >= 0, as numpy takes them."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SympropError(f"{what} must be None or an integer >= 0, not {seed!r}")
    return int(seed)


MAX_CSV_BYTES = 1 << 30  # 1 GiB: the rows are held in memory as floats, 8 bytes a cell


def load_csv(path: str, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Numeric features and the ``target`` column of a UTF-8 CSV file at ``path`` with a
    header row.

    A non-numeric target becomes integer class labels (sorted class names); the feature
    names come back third. Every problem of the file (not UTF-8, a malformed or non-numeric
    cell, NaN or inf, a missing or repeated column) is a DataError naming the file, and the
    line and column where there is one; a file that cannot be read is a FileError.
    """
    if not isinstance(target, str):
        raise DataError(f"the target column is named by a string, not {target!r}")
    header, records = _csv_records(path)
    names = [h.strip() for h in header]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(f"{path}: column {repeated[0]!r} appears more than once in the header")
    if target not in names:
        raise DataError(f"{path} has no column {target!r} (columns: {', '.join(names)})")
    if len(names) < 2:
        raise DataError(f"{path} has no feature columns besides the target {target!r}")
    t = names.index(target)
    features = [h for i, h in enumerate(names) if i != t]
    X, labels = [], []
    for number, row in records:
        if len(row) != len(names):
            raise DataError(f"{path}, line {number}: {len(row)} cells, expected {len(names)}")
        X.append([_number(path, number, names[i], cell) for i, cell in enumerate(row)
                  if i != t])
        labels.append((number, row[t].strip()))
    if not X:
        raise DataError(f"{path} has a header but no data rows")
    return np.array(X, dtype=np.float64), _targets(path, target, labels), features


def _csv_records(path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows of a CSV file, each row with the line it starts
    on. The bytes are decoded at once, so a byte that is not UTF-8 is found at its line."""
    if not isinstance(path, str | os.PathLike):
        raise FileError(f"a CSV file's path is a str or os.PathLike, not {path!r}")
    shown = os.fspath(path)
    try:
        # Non-blocking and checked on the open descriptor: a FIFO or a device (/dev/zero)
        # would block or never end; a path checked before opening could be swapped.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileError(f"{shown} is not a regular file")
            if info.st_size > MAX_CSV_BYTES:
                raise FileError(f"{shown} has {info.st_size} bytes, more than the "
                                f"{MAX_CSV_BYTES} a CSV file may have")
            data = stream.read(MAX_CSV_BYTES + 1)
    except FileError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FileError(f"cannot read {shown!r}: {reason}") from None
    if len(data) > MAX_CSV_BYTES:  # grown since fstat
        raise FileError(f"{shown} has more than the {MAX_CSV_BYTES} bytes a CSV file may have")
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Excel's) is not part of a name
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{path}, line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; "
                        "save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, header, line = [], None, 0
    try:
        for row in reader:
            first, line = line + 1, reader.line_num  # a quoted cell may span lines
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = row
            else:
                rows.append((first, row))
    except csv.Error as exc:  # a cell over csv's field size limit, a NUL byte, ...
        raise DataError(f"{path}, line {reader.line_num}: {exc}") from None
    if header is None:
        raise DataError(f"{path} is empty: a CSV file needs a header row and data rows")
    return header, rows


def _number(path, line: int, column: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{path}, line {line}, column {column!r}: {cell!r} is not a "
                        "number") from None
    if not math.isfinite(value):
        raise DataError(f"{path}, line {line}, column {column!r}: {cell.strip()!r} is not a "
                        "finite number (NaN and inf cannot be trained on)")
    return value


def _targets(path, target: str, labels: list[tuple[int, str]]) -> np.ndarray:
    """Numbers where every label is one (integers when all are whole), else class indices
    of the sorted class names."""
    try:
        values = [float(label) for _, label in labels]
    except ValueError:
        index = {name: i for i, name in enumerate(sorted({label for _, label in labels}))}
        return np.array([index[label] for _, label in labels], dtype=np.int64)
    for (line, label), value in zip(labels, values, strict=True):
        if not math.isfinite(value):
            _number(path, line, target, label)  # raises, naming the line
    y = np.array(values)
    whole = np.all(y == np.round(y)) and np.abs(y).max() < 2.0**53  # exact as int64 too
    return y.astype(np.int64) if whole else y


@dataclass
class Standardizer:
    """Zero mean, unit variance per feature, fitted on training data only."""

    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        """Learn each feature's mean and standard deviation from ``X``; returns self."""
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)  # a constant feature stays as it is
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``X`` shifted and scaled by what fit learned (float64)."""
        if self.mean is None:
            raise DataError("the standardizer is not fitted")
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """fit on ``X``, then transform it."""
        return self.fit(X).transform(X)


def train_test_split(X, y, test_size: float = 0.2, seed: int = 0, stratify: bool = True):
    """``(X_train, X_test, y_train, y_test)``: ``test_size`` (a share) of the rows of ``X``
    and ``y`` held out, drawn with ``seed``; with ``stratify`` (integer labels) each class
    keeps its share in both parts."""
    check_seed(seed)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} rows but y has {len(y)}")
    if isinstance(test_size, bool) or not isinstance(test_size, int | float) or not (
            0 < test_size < 1):
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


def kfold_indices(y, folds: int, seed: int = 0, stratify: bool = True
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, validation rows) of each of ``folds`` folds; every row is validated in
    exactly one. With ``stratify`` (integer labels of shape (n,)) each class's rows are
    shuffled and dealt to the folds in turn, so every fold keeps the class shares (as
    scikit-learn's StratifiedKFold does); otherwise the shuffled rows are cut into folds of
    sizes that differ by at most one. ``seed``: the shuffling (the same seed, the same
    folds)."""
    check_seed(seed)
    y = np.asarray(y)
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer) or folds < 2:
        raise DataError(f"folds must be an integer >= 2, not {folds!r}")
    if folds > len(y):
        raise DataError(f"{folds} folds need at least {folds} rows; there are {len(y)}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        dealt = 0  # where the next class starts dealing: the folds stay balanced in size
        for cls in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == cls))
            fold_of[rows] = (dealt + np.arange(len(rows))) % folds
            dealt += len(rows)
    else:
        fold_of[rng.permutation(len(y))] = np.arange(len(y)) * folds // len(y)
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k))
            for k in range(folds)]


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Integer labels (n,) -> one-hot rows (n, classes); a label out of range is an error."""
    from symprop.architecture import check_width
    from symprop.runtime.checks import _numeric, _one_hot

    check_width("one_hot's classes", classes)
    return _one_hot(_numeric(labels, "labels"), classes, "labels")
