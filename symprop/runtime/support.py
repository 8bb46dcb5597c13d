"""The compiled helpers every network shares (codegen/templates/support.py.j2): built once per
machine, in symprop's cache with the network modules, loaded on first use.

The first use in a fresh cache compiles the function used (about 0.1 s each), so the checks
and metrics take them only for arrays big enough to gain more than that over a few calls;
smaller arrays stay with NumPy, which gives the same answers.
"""

from __future__ import annotations

import functools

import numpy as np

# From here on the compiled finiteness check pays (NumPy's sum: 0.16 us per 1000 float32
# values, the compiled pass 0.05 us).
COMPILED_MIN_VALUES = 1 << 18
# From here on the compiled argmax pays (NumPy: 28 ns a row of 10 scores, compiled 6 ns; an
# epoch of 2048 rows measures its accuracy 45 us sooner, 64 epochs repay the compile).
COMPILED_MIN_ROWS = 1 << 11


@functools.cache
def support_module():
    from symprop.codegen.build import build_support_module

    return build_support_module()


def shuffled_rows(n: int, seed: int, out: np.ndarray | None = None) -> np.ndarray:
    """A uniformly random order of range(n), the same for the same seed (0 <= seed < 2**63);
    in ``out`` (n int64s) where given. Compiled from COMPILED_MIN_ROWS rows on, and once a
    process has shuffled PYTHON_SHUFFLE_ROWS rows; until then fewer are shuffled here, the
    same permutation. Compiling the loop was 0.13 s of a first ``symprop train`` on iris,
    whose 200 epochs shuffle here in 3 ms; a sweep's worker, whose thousands of short
    epochs gain 15 us each from the compiled loop, switches to it early on."""
    global _python_shuffled
    perm = np.empty(n, dtype=np.int64) if out is None else out
    if compiled_for(n):
        support_module().shuffle_rows(perm, seed)
    else:
        _python_shuffled += n
        perm[:] = _fisher_yates(n, seed)
    return perm


def shuffled_epochs(n: int, seeds: np.ndarray, out: np.ndarray) -> np.ndarray:
    """shuffled_rows of each seed (uint64s below 2**63), back to back in ``out``
    (len(seeds) * n int64s): the row orders of several epochs, drawn in one call."""
    global _python_shuffled
    orders = out.reshape(len(seeds), n)
    if compiled_for(n):
        support_module().shuffle_epochs(orders, seeds.astype(np.int64))
    else:
        _python_shuffled += orders.size
        for order, seed in zip(orders, seeds.tolist(), strict=True):
            order[:] = _fisher_yates(n, seed)
    return out


# Rows a process shuffles in Python before it compiles (or loads) the shuffle: about 30 ms
# of Python, a fraction of the compile it may spare.
PYTHON_SHUFFLE_ROWS = 1 << 18
_python_shuffled = 0


def compiled_for(rows: int) -> bool:
    """Whether an epoch's shuffle of ``rows`` rows takes the compiled loop: from
    COMPILED_MIN_ROWS rows on, and for any size once this process has shuffled
    PYTHON_SHUFFLE_ROWS rows in Python (or was told to, compiled_shuffles): a process of
    many small epochs."""
    return rows >= COMPILED_MIN_ROWS or _python_shuffled >= PYTHON_SHUFFLE_ROWS


def compiled_shuffles() -> None:
    """From now on every shuffle in this process is the compiled one: for a process that
    will shuffle many rows, such as a sweep's worker (its runs' first 2**18 rows in Python
    were a third of a 60-run sweep's time on each of two workers)."""
    global _python_shuffled
    _python_shuffled = max(_python_shuffled, PYTHON_SHUFFLE_ROWS)


def _fisher_yates(n: int, seed: int) -> list[int]:
    """support.py.j2's shuffle_rows in NumPy and Python: its splitmix64 draws for all steps
    at once (uint64 arithmetic wraps as the compiled one does), then the swaps."""
    order = list(range(n))
    if n < 2:
        return order
    counts = np.arange(1, n, dtype=np.uint64)
    z = np.uint64(seed) + counts * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    tops = np.arange(n, 1, -1, dtype=np.uint64)  # i + 1 for i = n - 1 .. 1
    picks = ((z >> np.uint64(32)) * tops) >> np.uint64(32)
    for i, j in zip(range(n - 1, 0, -1), picks.tolist(), strict=True):
        order[i], order[j] = order[j], order[i]
    return order


def floats_all_finite(array: np.ndarray) -> bool:
    """Whether every value of a float array is finite (compiled for big C-ordered arrays)."""
    if (array.size >= COMPILED_MIN_VALUES and array.flags.c_contiguous
            and array.dtype in (np.float32, np.float64)):
        return bool(support_module().all_finite(array.reshape(-1)))
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):  # one pass, no temporary; NaN or inf where any value is
            return True
    return bool(np.isfinite(array).all())  # or large finite values whose sum overflows


def _compiled_rows(values: np.ndarray) -> bool:
    """Whether the support module's row-wise argmax takes ``values``: many C-ordered rows
    of a float type, at least one column."""
    return (values.shape[0] >= COMPILED_MIN_ROWS and values.ndim == 2 and values.shape[1] > 0
            and values.flags.c_contiguous and values.dtype in (np.float32, np.float64))


def row_argmax(values: np.ndarray) -> np.ndarray:
    """values.argmax(axis=1) (compiled for many C-ordered float rows)."""
    if _compiled_rows(values):
        out = np.empty(values.shape[0], dtype=np.int64)
        if support_module().row_argmax(values, out):
            return out
    return values.argmax(axis=1)  # NumPy's rule for rows with a NaN: its first NaN


def threshold_hits(values: np.ndarray, targets: np.ndarray) -> int:
    """How many values are on the same side of 0.5 as the same-shaped targets (bce's correct
    predictions; compiled for many C-ordered values of one float type)."""
    if values.shape != targets.shape:
        raise ValueError(f"threshold_hits: values {values.shape} and targets {targets.shape} "
                         "differ in shape")
    if (values.size >= COMPILED_MIN_ROWS and values.flags.c_contiguous
            and targets.flags.c_contiguous and values.dtype == targets.dtype
            and values.dtype in (np.float32, np.float64)):
        return int(support_module().threshold_hits(values.reshape(-1), targets.reshape(-1)))
    return int(np.count_nonzero((values > 0.5) == (targets > 0.5)))


def one_hot(labels: np.ndarray, classes: int, dtype) -> tuple[np.ndarray, int]:
    """Integer labels (n,) as one-hot rows of ``dtype`` (compiled for many labels), and the
    first row whose label is outside 0 .. classes - 1, or -1 (the rows are then unusable)."""
    labels = labels.astype(np.int64, copy=False)
    if labels.shape[0] >= COMPILED_MIN_ROWS and np.dtype(dtype) in (np.float32, np.float64):
        out = np.empty((labels.shape[0], classes), dtype)
        return out, int(support_module().one_hot_rows(np.ascontiguousarray(labels), out))
    outside = (labels < 0) | (labels >= classes)
    if outside.any():
        return np.empty((0, classes), dtype), int(np.flatnonzero(outside)[0])
    out = np.zeros((labels.shape[0], classes), dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out, -1


def unit_targets(values: np.ndarray, dtype) -> tuple[np.ndarray, bool]:
    """values (any shape) as a C-ordered array of ``dtype`` and whether every value lies in
    [0, 1] (False where one is NaN): compiled for many integer or float values."""
    if (values.size >= COMPILED_MIN_ROWS and np.dtype(dtype) in (np.float32, np.float64)
            and (values.dtype.kind in "iu" or values.dtype in (np.float32, np.float64))):
        out = np.empty(values.shape, dtype)
        inside = support_module().unit_targets(np.ascontiguousarray(values).reshape(-1),
                                                out.reshape(-1))
        return out, bool(inside)
    with np.errstate(over="ignore"):  # a value too large for dtype: inf, outside [0, 1]
        out = np.ascontiguousarray(values, dtype=dtype)
    return out, bool(out.size == 0 or (out.min() >= 0 and out.max() <= 1))  # NaN: False


def argmax_hits(values: np.ndarray, labels: np.ndarray) -> int:
    """How many rows' argmax (NumPy's rule) equals their label: ce's correct predictions
    (compiled for many C-ordered float rows, without the argmax array)."""
    if _compiled_rows(values) and labels.dtype == np.int64:
        hits = int(support_module().argmax_hits(values, labels))
        if hits >= 0:
            return hits
    return int(np.count_nonzero(values.argmax(axis=1) == labels))
