"""What the split path's generated code calls (see symprop/codegen/split.py): its threads,
their meeting points, and per-thread rows that start on their own cache lines.

A call of training epochs on the split path (one epoch, or those up to fit's next copy of
the training state) runs the module's ``shard_thread`` (``column_thread`` on the column
split) in ``shards`` threads at once (``run_threads``): each thread runs every batch's
stages on its share of the rows (or units) and waits for the others at a barrier between
two stages. The threads are Python's, kept waiting
between calls (about 40 us a call to wake them); a barrier costs about 0.09 us. Numba's
``prange`` did the same with a region opened in about 1.2 us, but compiling its parallel
region took about 3 s of a 64-128-64-10 network's first fit (9.8-10.7 s then, 4.0 s now,
where ``run()`` no longer carries the split path either).
Numba has no atomics on the CPU, so the few needed (fetch-add, compare-swap, acquire load,
release store on int64 array elements) are LLVM instructions emitted here.

A barrier only works if every thread runs at once, and a busy machine may keep a thread
waiting: ``join_threads`` lets the threads in only if all of them arrive within a few
milliseconds, and otherwise tells every one of them, however late, to leave, so that the
call's epochs run on one thread instead (the same arithmetic in the same order, see the
templates' ``shard_thread``; fit's next call is then sized by that slower pace). A call
asked for more shares than Numba has threads runs on one at once, without that wait.

Nothing between two meetings raises in symprop's kernels (NumPy's error model, no bounds
checks). Under ``NUMBA_BOUNDSCHECK=1`` an index error in one thread would leave the others
waiting at the next meeting: debug the split path with ``numba.set_num_threads(1)``.
"""

from __future__ import annotations

import os
import queue
import sys
import threading

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic

from symprop.codegen.float_control import flush_subnormals, restore_subnormals
from symprop.codegen.prefetch import CACHE_LINE

# int64 slots of a sync array, each on a cache line of its own: the barrier's count of
# threads in, its sense (flips at each barrier), and join_threads's count of arrivals.
COUNT, SENSE, ARRIVED = 0, 8, 16
SYNC_SLOTS = 24
# join_threads: an arrivals count this large means the door is shut (somebody gave up).
SHUT = 1 << 40
SPINS_BEFORE_YIELD = 4000  # a barrier's wait is usually well under a microsecond
# How long join_threads waits for the other threads to start: about 10-30 ms of yields
# (more on a busy machine, where a yield can hand over a time slice); where there is no
# yield (not posix), 20 million bare loads of the count, about as long.
JOIN_WAITS = 20000 if os.name == "posix" else 20_000_000

_OPTIONS = {"cache": True, "nogil": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


def _element_pointer(context, builder, signature, args):
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, array, [args[1]])


def _check(array) -> None:
    if not (isinstance(array, types.Array) and array.dtype == types.int64 and array.ndim == 1):
        raise TypingError(f"the split path's atomics take a 1-d int64 array, not {array}")


@intrinsic
def fetch_add(typingctx, array, index, value):
    """array[index] += value atomically; returns the value before."""
    _check(array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        return builder.atomic_rmw("add", pointer, args[2], "seq_cst")

    return types.int64(array, types.intp, types.int64), codegen


@intrinsic
def compare_swap(typingctx, array, index, expected, new):
    """array[index] = new if it holds expected, atomically; returns the value it held."""
    _check(array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        pair = builder.cmpxchg(pointer, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)

    return types.int64(array, types.intp, types.int64, types.int64), codegen


@intrinsic
def load_acquire(typingctx, array, index):
    """array[index], read anew on every call (a plain load could be hoisted out of a loop)."""
    _check(array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(array, types.intp), codegen


@intrinsic
def store_release(typingctx, array, index, value):
    """array[index] = value, after every write before it is visible to other threads."""
    _check(array)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        builder.store_atomic(args[2], pointer, "release", 8)
        return context.get_dummy_value()

    return types.void(array, types.intp, types.int64), codegen


if os.name == "posix":
    # libc's, resolved by name when the compiled code is linked (cacheable, no address)
    _sched_yield = types.ExternalFunction("sched_yield", types.int32())

    @njit(**_OPTIONS)
    def pause():
        """Let another thread have this core (a waiting thread may be keeping out the one
        it waits for, where threads outnumber cores)."""
        _sched_yield()
else:
    @njit(**_OPTIONS)
    def pause():
        """No portable yield here: keep spinning."""


@njit(**_OPTIONS)
def join_threads(sync, shards):
    """True when all ``shards`` threads have arrived (each calls this once, first); False,
    for every one of them, where some did not arrive in time (the door is then shut)."""
    if fetch_add(sync, ARRIVED, 1) >= SHUT:
        return False
    waits = 0
    while True:
        arrived = load_acquire(sync, ARRIVED)
        if arrived >= SHUT:
            return False
        if arrived == shards:
            return True
        waits += 1
        if waits > SPINS_BEFORE_YIELD:
            pause()
            if waits > SPINS_BEFORE_YIELD + JOIN_WAITS:
                # give up, unless somebody arrives this very moment (then look again)
                if compare_swap(sync, ARRIVED, arrived, arrived + SHUT) == arrived:
                    return False


@njit(**_OPTIONS)
def meet(sync, shards, sense):
    """A barrier: returns once all ``shards`` threads have called it; give it the sense
    it returned last time (0 at first). Every write before it is seen after it."""
    sense = 1 - sense
    if fetch_add(sync, COUNT, 1) == shards - 1:  # the last one in lets the others go
        store_release(sync, COUNT, 0)
        store_release(sync, SENSE, sense)
        return sense
    waits = 0
    while load_acquire(sync, SENSE) != sense:
        waits += 1
        if waits > SPINS_BEFORE_YIELD:
            pause()
    return sense


@intrinsic
def rows_view(typingctx, flat, start, rows, width):
    """flat[start:start + rows * width] as a (rows, width) C-ordered view: a thread's buffer
    in its row of work. Made in a few instructions where it is called: Numba lowers each
    ``reshape`` anew (a shape check and its error path), and the 15 in shard_thread were
    about 0.6 s of a new 64-130-64-10 network's first fit. The template cuts the views from
    plan offsets inside rows that epoch_work sized (train_epoch refuses work made for another
    batch size); under NUMBA_BOUNDSCHECK=1 a view that would end past the row, or start
    before it, raises IndexError."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"
            and isinstance(flat.dtype, types.Float)):
        raise TypingError(f"rows_view takes a 1-d C-ordered float array, not {flat}")
    view = types.Array(flat.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        from numba.np.arrayobj import populate_array  # loaded where a view is compiled

        source = context.make_array(flat)(context, builder, args[0])
        if context.enable_boundscheck:  # start and its end (one past the view) in the row
            end = builder.add(args[1], builder.mul(args[2], args[3]))
            length = builder.extract_value(source.shape, 0)
            positions = builder.add(length, length.type(1))  # 0 .. length, the end included
            cgutils.do_boundscheck(context, builder, args[1], positions)
            cgutils.do_boundscheck(context, builder, end, positions)
        out = context.make_array(view)(context, builder)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(
            context.get_data_type(flat.dtype)))
        populate_array(out, data=builder.gep(source.data, [args[1]]),
                       shape=cgutils.pack_array(builder, [args[2], args[3]]),
                       strides=cgutils.pack_array(builder, [builder.mul(args[3], itemsize),
                                                            itemsize]),
                       itemsize=itemsize, meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, view, out._getvalue())

    return view(flat, types.intp, types.intp, types.intp), codegen


def numba_thread_count() -> int:
    """Numba's thread count, the split path's knob: ``numba.set_num_threads``'s where Numba's
    thread pool has started (setting it starts the pool), else NUMBA_NUM_THREADS, the count
    the pool would start with. Read without starting the pool: the split path's threads are
    Python's (run_threads), and a started OpenMP pool is one a forked child must not use."""
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and getattr(parallel, "_is_initialized", False):
        from numba import get_num_threads

        return int(get_num_threads())
    from numba.core import config

    return int(config.NUMBA_NUM_THREADS)


def run_threads(function, shards: int, args: tuple) -> None:
    """function(t, *args) for t = 0 .. shards - 1, all at once, 0 in the caller's thread and
    the others in long-lived worker threads: the split path's threads. Python threads, not
    a ``prange``: the compiled function releases the GIL, and Numba's parallel region cost
    a mid-size network's first fit about 3 s of compiling. Workers that wait for the next
    call answer in about 40 us where starting threads took 120 us a call. A second caller
    while the workers are busy (fit in two threads at once) gets threads of its own. An
    exception in any thread is raised here once all have ended (the others meanwhile fall
    back to ``join_threads``'s serial run, not waiting forever); so is an interrupt, also
    only once every part has ended: a part still running would meet the next call's
    threads at their barriers, with this call's arrays."""
    errors: list = []
    waits = []  # one for each part started, returning once that part has ended
    pooled = _WORKERS_FREE.acquire(blocking=False)
    try:
        for t in range(1, shards):
            waits.append(_start_part(pooled, function, t, args, errors))
        _run_part(function, 0, args, errors)
    finally:
        interrupt = _wait_for(waits)
        if pooled:
            _WORKERS_FREE.release()
    if interrupt is not None:
        raise interrupt
    if errors:
        raise errors[0]


def _start_part(pooled: bool, function, t: int, args: tuple, errors: list):
    """Part t under way: in worker t - 1 (started if it is not yet) where the caller holds
    the workers, else in a thread of its own; returns what waits for its end."""
    if not pooled:
        thread = threading.Thread(target=_run_part, args=(function, t, args, errors),
                                  daemon=True)
        thread.start()
        return thread.join
    while len(_WORKERS) < t:
        inbox, done = queue.SimpleQueue(), queue.SimpleQueue()
        threading.Thread(target=_serve, args=(inbox, done), daemon=True).start()
        _WORKERS.append((inbox, done))
    inbox, done = _WORKERS[t - 1]
    inbox.put((function, t, args))
    return lambda: errors.extend(done.get())


def _wait_for(waits: list) -> BaseException | None:
    """Call each wait until it returns, whatever interrupts it; the first interrupt."""
    interrupt = None
    for wait in waits:
        while True:
            try:
                wait()
                break
            except BaseException as error:  # noqa: BLE001 - run_threads raises it later
                interrupt = interrupt or error
    return interrupt


def _run_part(function, t: int, args: tuple, errors: list) -> None:
    saved = flush_subnormals()  # each thread's own register (symprop.codegen.float_control)
    try:
        function(t, *args)
    except BaseException as error:  # noqa: BLE001 - run_threads raises it in the caller
        errors.append(error)
    finally:
        restore_subnormals(saved)


def _part_errors(function, t: int, args: tuple) -> list:
    errors: list = []
    _run_part(function, t, args, errors)
    return errors


def _serve(inbox, done) -> None:
    """A worker: each call's part, then its errors (none: an empty list) into done. It keeps
    no reference to a call's arrays while it waits for the next."""
    while True:
        done.put(_part_errors(*inbox.get()))


_WORKERS: list = []  # (inbox, done) queues of each worker thread, worker t - 1 for part t
_WORKERS_FREE = threading.Lock()


def _forget_workers() -> None:
    """In a forked child the workers' threads do not exist: start anew."""
    global _WORKERS_FREE
    _WORKERS.clear()
    _WORKERS_FREE = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def rows_apart(shards: int, width: int, dtype) -> np.ndarray:
    """A zeroed (shards, width') array, width' >= width, whose rows each start on a cache
    line of their own: two threads writing their rows never share a line (and a row's
    vector loads and stores start aligned)."""
    itemsize = np.dtype(dtype).itemsize
    line = CACHE_LINE // itemsize
    padded = -(-width // line) * line
    raw = np.zeros(shards * padded + line, dtype)
    skip = (-raw.ctypes.data % CACHE_LINE) // itemsize
    return raw[skip:skip + shards * padded].reshape(shards, padded)
