"""The split path's meeting points (symprop/codegen/split_support.py): threads that all
start pass barriers in step and see each other's writes; where they cannot all run at once,
every one of them is told to leave (never some in, some out: those would wait forever)."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from numba import njit, prange

from symprop.codegen.split_support import (
    ARRIVED,
    SHUT,
    SYNC_SLOTS,
    compare_swap,
    fetch_add,
    join_threads,
    load_acquire,
    meet,
    rows_apart,
    rows_view,
    run_threads,
    store_release,
)

ROUNDS = 2000


@njit(nogil=True)
def _round_part(t, sync, shards, rounds, seen, joined):
    """Thread t joins, then per round writes its round number, meets, reads everyone's
    (must be this round's), meets again; seen[t] counts the values that were right (sync
    zeroed by the caller)."""
    joined[t] = join_threads(sync, shards)
    if joined[t]:
        sense = 0
        for r in range(rounds):
            seen[t, 0] = r
            sense = meet(sync, shards, sense)
            for u in range(shards):
                if seen[u, 0] == r:
                    seen[t, 1] += 1
            sense = meet(sync, shards, sense)


@njit(parallel=True)
def _rounds(sync, shards, rounds, seen, joined):
    """_round_part in each iteration of a prange: Numba's threads."""
    for i in range(sync.shape[0]):
        sync[i] = 0
    for t in prange(shards):
        _round_part(t, sync, shards, rounds, seen, joined)


def run_rounds(shards, threads):
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        sync = np.zeros(SYNC_SLOTS, np.int64)
        seen = np.zeros((shards, 16), np.int64)  # a cache line a thread
        joined = np.zeros(shards, np.bool_)
        _rounds(sync, shards, ROUNDS, seen, joined)
    finally:
        numba.set_num_threads(before)
    return joined, seen[:, 1]


def test_threads_that_all_start_meet_in_step_and_see_each_others_writes():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread: nothing runs at once")
    joined, right = run_rounds(2, 2)
    if not joined.any():  # a threading layer that ran the two iterations one after the other
        pytest.skip(f"the {numba.threading_layer()} layer did not run two threads at once")
    assert joined.all()
    assert (right == 2 * ROUNDS).all()


@pytest.mark.parametrize("shards", [2, 3])
def test_more_shares_than_threads_all_leave(shards):
    """One thread runs the shares one after the other: the first waits, gives up and shuts
    the door; the later ones find it shut. None is left waiting at a barrier."""
    joined, right = run_rounds(shards, 1)
    assert not joined.any()
    assert (right == 0).all()


@njit
def _late_arrival(sync):
    """What a thread that comes after the door was shut sees, and one that shuts it."""
    arrived = load_acquire(sync, ARRIVED)
    shut = compare_swap(sync, ARRIVED, arrived, arrived + SHUT) == arrived
    return shut, join_threads(sync, 2), fetch_add(sync, ARRIVED, 0) >= SHUT


def test_a_shut_door_stays_shut():
    sync = np.zeros(SYNC_SLOTS, np.int64)
    assert _late_arrival(sync) == (True, False, True)


@njit
def _store_then_load(sync, value):
    store_release(sync, 3, value)
    return load_acquire(sync, 3), fetch_add(sync, 3, 5), load_acquire(sync, 3)


def test_atomics_read_and_write_the_element():
    sync = np.zeros(SYNC_SLOTS, np.int64)
    assert _store_then_load(sync, 7) == (7, 7, 12)
    assert sync[3] == 12 and sync.sum() == 12


@pytest.mark.parametrize("dtype, width", [(np.float32, 42890), (np.float64, 42890),
                                          (np.float32, 16), (np.float64, 3)])
def test_rows_apart_start_on_their_own_cache_lines(dtype, width):
    rows = rows_apart(3, width, dtype)
    assert rows.dtype == dtype and rows.shape[0] == 3 and rows.shape[1] >= width
    assert rows.flags.c_contiguous
    for row in rows:
        assert row.ctypes.data % 64 == 0
    assert (rows == 0).all()  # padding included: sums over a whole row see only zeros


@njit
def _views(work, s, start, rows, width):
    """Row s's view, the caller's numbers (literals, int64s, a sum): written through."""
    view = rows_view(work[s], start, rows, width)
    fixed = rows_view(work[s], 2 + 1, 2, 3)  # literal arguments: the same function
    view[rows - 1, width - 1] = -1.0
    return view.copy(), fixed.copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_view_is_the_slice_reshaped_and_writes_through(dtype):
    work = np.arange(2 * 40, dtype=dtype).reshape(2, 40)
    expected = work[1, 5:5 + 3 * 7].reshape(3, 7).copy()
    view, fixed = _views(work, 1, np.int64(5), 3, 7)
    expected[-1, -1] = -1.0
    assert view.dtype == dtype and view.shape == (3, 7)
    np.testing.assert_array_equal(view, expected)
    assert work[1, 5 + 3 * 7 - 1] == -1.0 and (work[0] >= 0).all()  # row 1 only
    np.testing.assert_array_equal(fixed, work[1, 3:9].reshape(2, 3))


def test_rows_view_refuses_what_is_not_a_flat_float_row():
    with pytest.raises(numba.core.errors.TypingError, match="1-d C-ordered float"):
        _views(np.zeros((2, 3, 4)), 0, 0, 1, 2)
    with pytest.raises(numba.core.errors.TypingError, match="1-d C-ordered float"):
        _views(np.zeros((2, 8), np.int64), 0, 0, 1, 2)


@pytest.mark.parametrize("shards", [2, 3])
def test_run_threads_runs_every_part_at_once(shards):
    """The split path's threads (Python's, the compiled part releasing the GIL): every
    part joins and they pass the barriers in step, call after call (the workers wait
    between calls)."""
    for _ in range(3):
        sync = np.zeros(SYNC_SLOTS, np.int64)
        seen = np.zeros((shards, 16), np.int64)
        joined = np.zeros(shards, np.bool_)
        run_threads(_round_part, shards, (sync, shards, ROUNDS, seen, joined))
        assert joined.all()
        assert (seen[:, 1] == shards * ROUNDS).all()


def test_run_threads_raises_a_parts_error_and_goes_on():
    """An error in a worker's part is raised in the caller, after every part ended; the
    workers take the next call as before."""
    import threading

    ends = []

    def part(t, barrier):
        barrier.wait(timeout=10)  # all parts at once, or BrokenBarrierError
        ends.append(t)
        if t == 1:
            raise ArithmeticError("part 1 failed")

    with pytest.raises(ArithmeticError, match="part 1 failed"):
        run_threads(part, 3, (threading.Barrier(3),))
    assert sorted(ends) == [0, 1, 2]
    ends.clear()
    run_threads(lambda t, barrier: (barrier.wait(timeout=10), ends.append(t)), 2,
                (threading.Barrier(2),))
    assert sorted(ends) == [0, 1]


def test_run_threads_from_two_callers_at_once():
    """fit in two threads at once: the second caller, finding the workers busy, gets
    threads of its own; both calls run all their parts at once."""
    import threading

    done, errors = [], []

    def part(t, barrier, inner):
        barrier.wait(timeout=10)
        if t == 0 and inner is not None:  # while this call holds the workers
            inner()
        done.append(t)

    def second_caller():
        try:
            run_threads(part, 2, (threading.Barrier(2), None))
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    def start_second():
        thread = threading.Thread(target=second_caller)
        thread.start()
        thread.join(timeout=20)

    run_threads(part, 2, (threading.Barrier(2), start_second))
    assert not errors and sorted(done) == [0, 0, 1, 1]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork here")
def test_run_threads_in_a_forked_child():
    """A child forked after the workers started has none of their threads: it starts its
    own (with the parent's, it would wait forever for workers that are not there)."""
    import os
    import threading

    run_threads(lambda t, barrier: barrier.wait(timeout=10), 2, (threading.Barrier(2),))
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a call with all its parts at once ends
        import signal

        signal.alarm(60)  # a hang ends the child, and the test fails
        code = 1
        try:
            run_threads(lambda t, barrier: barrier.wait(timeout=10), 2,
                        (threading.Barrier(2),))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_run_threads_interrupted_waits_for_its_parts_first():
    """Ctrl-C while the caller waits for a worker (a long first compile, say): the interrupt
    is raised only once that worker's part has ended, and the next call waits for its own
    parts (an answer left in the worker's queue would end it early, its part still running
    against the next call's barriers)."""
    import signal
    import threading
    import time

    main = threading.main_thread().ident
    ended = []

    def part(t, interrupt):
        if t == 1:
            if interrupt:
                time.sleep(0.2)
                signal.pthread_kill(main, signal.SIGINT)  # the caller is waiting for this part
            time.sleep(0.5)
            ended.append(t)

    with pytest.raises(KeyboardInterrupt):
        run_threads(part, 2, (True,))
    assert ended == [1]
    run_threads(part, 2, (False,))
    assert ended == [1, 1]


def test_run_threads_keeps_no_call_arrays_alive():
    """An idle worker holds no reference to the last call's arguments (X, the weights)."""
    import gc
    import weakref

    array = np.zeros(1000)
    ref = weakref.ref(array)
    run_threads(lambda t, a: a.sum(), 2, (array,))
    del array
    gc.collect()
    assert ref() is None


VIEW_CHECKS = """
import numpy as np
from numba import njit
from numba.core.runtime import rtsys
from symprop.codegen.split_support import rows_view

@njit
def total(flat, start, rows, width):
    return rows_view(flat, start, rows, width).sum()

@njit
def kept_view(n):
    return rows_view(np.ones(n), 2, 2, 3)  # the only reference to a new array, returned

flat = np.ones(10)
errors = []
for start, rows, width in ((3, 2, 4), (-1, 1, 1), (2, 2, 4), (10, 0, 5)):
    try:
        total(flat, start, rows, width)
        errors.append("ok")
    except IndexError:
        errors.append("IndexError")
before = rtsys.get_allocation_stats()
for _ in range(100):
    view = kept_view(12)
    assert view.shape == (2, 3) and view.base is not None and view.sum() == 6.0
del view
after = rtsys.get_allocation_stats()
print(" ".join(errors), after.alloc - before.alloc, after.free - before.free)
"""


def test_rows_view_is_bounds_checked_and_keeps_its_array_alive():
    """Under NUMBA_BOUNDSCHECK=1 a view that starts before its row or ends past it raises
    IndexError (an empty view at the row's end is fine); a view returned as the only
    reference keeps its array alive, and every array it kept is freed after."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_NRT_STATS": "1"}
    done = subprocess.run([sys.executable, "-c", VIEW_CHECKS], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["IndexError", "IndexError", "ok", "ok", "100", "100"]
