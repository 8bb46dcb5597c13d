"""The software prefetch of the generated CPU loops (symprop/codegen/prefetch.py): run()
asks for the next batch's rows while it computes this one, which changes timing only."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from symprop.architecture import parse_architecture
from symprop.codegen.build import network_source
from symprop.codegen.kernels import update_code
from symprop.codegen.plan import make_plan
from symprop.codegen.prefetch import (
    AHEAD_BYTES,
    CACHE_LINE,
    SHORT_ROW_LINES,
    prefetch,
    row_columns,
)
from symprop.derive.optimizers import update_rule


@njit
def prefetch_then_sum(A, rows, cols):
    """Prefetches the given elements (in any order, some out of the array), then sums A."""
    for i in range(rows.shape[0]):
        prefetch(A, rows[i], cols[i])
    total = 0.0
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            total += A[r, c]
    return total


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index_type", [np.int32, np.int64, np.uint64])
def test_prefetch_compiles_for_arrays_and_indices_and_changes_nothing(dtype, index_type):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 7)).astype(dtype)
    before = A.copy()
    rows = np.array([0, 49, 3, 10**6], index_type)  # a row far out: a prefetch never faults
    cols = np.array([0, 6, 2, 0], index_type)
    assert prefetch_then_sum(A, rows, cols) == pytest.approx(before.astype(float).sum())
    np.testing.assert_array_equal(A, before)
    strided = A[::2, 1:]  # not contiguous: the pointer comes from the strides
    assert prefetch_then_sum(strided, rows[:3] // 2, cols[:3] // 2) == pytest.approx(
        strided.astype(float).sum())


def test_prefetch_takes_only_two_dimensional_arrays():
    @njit
    def one_dimensional(a):
        prefetch(a, 0, 0)

    with pytest.raises(TypingError):
        one_dimensional(np.zeros(3))


def _plan(architecture: str, float_type: str = "float32", prefetch_rows: bool = True):
    return make_plan(parse_architecture(architecture), "mse",
                     update_code(update_rule("sgd"), float_type), float_type,
                     prefetch_rows=prefetch_rows)


def test_prefetch_is_llvms_second_level_read_prefetch():
    """The intrinsic is llvm.prefetch of the element's address: read (0), locality 2 (x86's
    prefetcht1: into the second-level cache), data cache (1)."""
    ir = next(iter(prefetch_then_sum.inspect_llvm().values()))
    assert re.search(r"call void @llvm\.prefetch\.p0\w*\(ptr [^,]+, i32 0, i32 2, i32 1\)", ir)


@pytest.mark.parametrize("width, itemsize, columns", [
    (1, 4, [0]), (4, 4, [0, 3]), (16, 4, [0, 15]), (17, 4, [0, 16]),
    (20, 4, [0, 16, 19]),           # 80 bytes may span three lines
    (20, 8, [0, 8, 16, 19]), (16, 8, [0, 8, 15]),
    (64, 4, [0, 16, 32, 48, 63]), (65, 4, [0, 16]),
    (784, 4, [0, 16]),              # long rows: the first two lines
])
def test_every_line_of_a_short_row_is_prefetched(width, itemsize, columns):
    assert row_columns(width, CACHE_LINE // itemsize) == columns
    row_bytes = width * itemsize
    if row_bytes <= SHORT_ROW_LINES * CACHE_LINE:  # wherever the row starts, every line
        for start in range(0, CACHE_LINE, itemsize):
            touched = {(start + byte) // CACHE_LINE for byte in range(row_bytes)}
            assert touched == {(start + column * itemsize) // CACHE_LINE
                               for column in columns}


def test_the_plan_prefetches_x_and_y_rows_within_a_budget():
    plan = _plan("20-32:relu-12:sigmoid").prefetch
    assert plan["x"] == [0, 16, 19] and plan["y"] == [0, 11]
    assert plan["rows"] * 64 * 5 <= AHEAD_BYTES < (plan["rows"] + 1) * 64 * 5
    assert _plan("784-8:relu-10:softmax", "float64").prefetch["y"] == [0, 8, 9]
    assert _plan("20-32:relu-1:sigmoid", prefetch_rows=False).prefetch is None


def _function_source(source: str, name: str = "run") -> str:
    start = source.index(f"def {name}(")
    return source[start:source.index("\ndef ", start)]


def _prefetch_loop(function: str, first: str, count: str) -> tuple[str, list]:
    """The prefetch loop over perm[first .. first + count) (at most the plan's rows, within
    perm), after the gather in ``function``: (its body, its (array, column) prefetches)."""
    bounded = (re.escape(f"ahead_end = {first} + ({count} if {count} < ") + r"\d+ else \d+\)\n"
               r".*\n\s+ahead_end = ahead_end if ahead_end < perm\.shape\[0\] else "
               r"perm\.shape\[0\]\n")
    assert re.search(bounded, function), function
    loop = re.search(re.escape(f"for i in range({first}, ahead_end):") + r"\n\s+ahead = "
                     r"perm\[i\]\n((?:\s+(?:prefetch|if mode).*\n)+)", function)
    assert loop, function
    assert function.index("ahead = perm[i]") > function.index("inputs_check +=")  # after it
    return loop.group(1), re.findall(r"prefetch\((\w+), ahead, (\d+)\)", loop.group(1))


def test_run_prefetches_the_next_batchs_rows():
    """run() asks, after each batch's gather, for the rows of the batch that follows it in
    perm (bounded by perm's length and by the plan's rows): their inputs, and their targets
    where it reads them."""
    run = _function_source(network_source(parse_architecture("20-32:relu-1:sigmoid"), "bce",
                                          direct_blas=True, prefetch_rows=True))
    assert "(batch_size if batch_size < 512 else 512)" in run
    body, calls = _prefetch_loop(run, "start + nb", "batch_size")
    assert calls == [("X", "0"), ("X", "16"), ("X", "19"), ("Y", "0")]
    assert "if mode != PREDICT:" in body  # predict's Y is a placeholder


def test_split_path_threads_prefetch_their_share_of_the_next_batch():
    """On the row split each thread asks, after its gather, for its share's rows of the
    next batch (the same offset lo into it), bounded like run()'s; on the column split,
    where each thread gathers the whole batch, for the whole next batch. Y always
    (training)."""
    architecture = parse_architecture("64-128:relu-64:relu-10:softmax")
    rows = network_source(parse_architecture("64-128:relu-64:relu-32:relu-10:softmax"), "ce",
                          direct_blas=True, split_batches=True, prefetch_rows=True)
    source = network_source(architecture, "ce", direct_blas=True, split_batches=True,
                            prefetch_rows=True)
    for function, first, count in ((_function_source(rows, "shard_thread"), "start + nb + lo",
                                    "rows"),
                                   (_function_source(source, "column_thread"), "start + nb",
                                    "batch_size")):
        body, calls = _prefetch_loop(function, first, count)
        assert calls == [("X", "0"), ("X", "16"), ("X", "32"), ("X", "48"), ("X", "63"),
                         ("Y", "0"), ("Y", "9")]
        assert "if mode" not in body
    unprefetched = network_source(architecture, "ce", direct_blas=True, split_batches=True)
    assert "prefetch" not in unprefetched  # modules that may not import symprop's
    exported = network_source(architecture, "ce", exported=True)
    assert "prefetch" not in exported and not re.search(r"^from symprop", exported, re.M)


def test_standalone_modules_import_nothing_of_symprop_for_it():
    """An exported module runs without symprop: no prefetch (and no BLAS binding) there,
    while a cached module prefetches whether or not it found a BLAS to bind."""
    architecture = parse_architecture("20-32:relu-1:sigmoid")
    source = network_source(architecture, "bce")
    assert "prefetch" not in source
    assert not re.search(r"^from symprop", source, re.MULTILINE)
    assert "prefetch(X, ahead, 0)" in _function_source(
        network_source(architecture, "bce", prefetch_rows=True))


BOUNDS_CHECKED_FIT = """
import numpy as np
import symprop as sp
rng = np.random.default_rng(0)
for dtype in ("float32", "float64"):
    X = rng.standard_normal((37, 5)); y = rng.integers(0, 3, 37)
    net = sp.Network([sp.Dense(5, 4, "relu"), sp.Dense(4, 3, "softmax")], loss="ce",
                     dtype=dtype, seed=0)
    for batch in (1, 8, 37, 50):  # a short last batch, one batch, a batch beyond the rows
        history = net.fit(X, y, epochs=5, batch_size=batch, verbose=False)
        assert np.isfinite(history.history["loss"]).all()
    net.predict(np.asfortranarray(X)); net.evaluate(X, y)
# the split path (two threads where Numba has them), its shares' prefetches near perm's end
from symprop.runtime.threads import shards_for
X = rng.standard_normal((101, 64)); y = rng.integers(0, 10, 101)
net = sp.Network([sp.Dense(64, 128, "relu"), sp.Dense(128, 64, "relu"),
                  sp.Dense(64, 10, "softmax")], loss="ce", seed=0)
for batch in (32, 64, 101, 128):
    history = net.fit(X, y, epochs=3, batch_size=batch, verbose=False)
    assert np.isfinite(history.history["loss"]).all()
print("ok", shards_for(net._module(sp.SGD()), net.layers, 64))
"""


def test_prefetching_fits_stay_within_bounds(tmp_path):
    """Several epochs a call, short and oversized batches, predict and evaluate, with
    Numba's bounds checks on (an index out of perm would raise) and a fresh cache; a
    network on the split path too, three threads sharing batches of 32 to 101 rows
    unevenly."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "SYMPROP_CACHE_DIR": str(tmp_path),
           "NUMBA_NUM_THREADS": "3"}
    done = subprocess.run([sys.executable, "-c", BOUNDS_CHECKED_FIT], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]
    _, shards = done.stdout.split()
    assert int(shards) == 3, done.stdout
