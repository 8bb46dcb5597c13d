"""The software prefetch of the generated CPU loops (symprop/codegen/prefetch.py): run()
asks for the next batch's rows while it computes this one, which changes timing only."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from symprop.architecture import parse_architecture
from symprop.codegen.build import network_source
from symprop.codegen.kernels import update_code
from symprop.codegen.plan import make_plan
from symprop.codegen.prefetch import prefetch
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


def _plan(architecture: str, float_type: str = "float32"):
    return make_plan(parse_architecture(architecture), "mse",
                     update_code(update_rule("sgd"), float_type), float_type, direct_blas=True)


@pytest.mark.parametrize("architecture, float_type, columns", [
    ("4-3:relu-1:sigmoid", "float32", [0, 3]),
    ("16-8:relu-1:sigmoid", "float32", [0, 15]),
    ("20-32:relu-1:sigmoid", "float32", [0, 16, 19]),   # 80 bytes may span three lines
    ("20-32:relu-1:sigmoid", "float64", [0, 8, 16, 19]),
    ("64-8:relu-1:sigmoid", "float32", [0, 16, 32, 48, 63]),
    ("784-8:relu-1:sigmoid", "float32", [0, 16]),       # long rows: the first two lines
])
def test_every_line_of_a_short_row_is_prefetched(architecture, float_type, columns):
    plan = _plan(architecture, float_type)
    assert plan.prefetch_columns == columns
    row_bytes = plan.n_in * (4 if float_type == "float32" else 8)
    if row_bytes <= 4 * 64:  # wherever a row starts, each line it touches is asked for
        size = row_bytes // plan.n_in
        for start in range(0, 64, size):
            touched = {(start + byte) // 64 for byte in range(row_bytes)}
            assert touched == {(start + column * size) // 64 for column in columns}


def test_run_prefetches_the_next_batchs_rows():
    """run() asks, after each batch's gather, for the rows of the batch that follows it in
    perm (bounded by perm's length): their inputs, and their targets where it reads them."""
    source = network_source(parse_architecture("20-32:relu-1:sigmoid"), "bce",
                            direct_blas=True)
    run = source[source.index("def run("):source.index("\ndef ", source.index("def run("))]
    assert re.search(r"ahead_end = start \+ nb \+ batch_size\n.*\n\s+ahead_end = ahead_end "
                     r"if ahead_end < perm\.shape\[0\] else perm\.shape\[0\]\n", run)
    loop = re.search(r"for i in range\(start \+ nb, ahead_end\):\n\s+ahead = perm\[i\]\n"
                     r"((?:\s+.*\n){5})", run)
    assert loop, run
    calls = re.findall(r"prefetch\((\w+), ahead, (\d+)\)", loop.group(1))
    assert calls == [("X", "0"), ("X", "16"), ("X", "19"), ("Y", "0")]
    assert "if mode != PREDICT:" in loop.group(1)  # predict's Y is a placeholder
    assert run.index("ahead = perm[i]") > run.index("YB[r, j] = Y[src, j]")


def test_standalone_modules_import_nothing_of_symprop_for_it():
    """An exported module runs without symprop: no prefetch (and no BLAS binding) there."""
    assert _plan("20-32:relu-1:sigmoid").prefetch_columns
    source = network_source(parse_architecture("20-32:relu-1:sigmoid"), "bce")
    assert "prefetch" not in source
    assert not re.search(r"^from symprop", source, re.MULTILINE)
