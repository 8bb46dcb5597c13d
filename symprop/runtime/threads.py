"""Threads for a network's training steps: BLAS's, and symprop's own batch split.

The generated kernels call BLAS directly (symprop/codegen/blas.py); for the small products
of small and medium layers, waking a second BLAS thread costs more than it saves (medium case,
64-128-64-10 at batch 64: 160 us a step on one thread against 216 us on two). Large
products keep every thread.

Where the products stay on one BLAS thread, modules built with a split path (``SHARDED``,
see symprop/codegen/split.py) train each batch on several threads instead (as many as
Numba's thread count): each forward- and back-propagates its share of the batch's rows,
then sums the threads' gradients and updates its share of the parameters; or, for a chain
of three dense layers (``SPLIT_UNITS``, the column split, with products of any size), each
takes a block of the first layer's units for the whole batch, its products on one BLAS
thread. The threads of a call meet at barriers in between (symprop/codegen/split_support.py).
"""

from __future__ import annotations

import contextlib
import functools

# Largest product (rows x n_in x n_out multiply-adds) still run on one BLAS thread.
SINGLE_THREAD_MACS = 1 << 22
# Fewest batch rows per thread: thinner products lose BLAS's efficiency (and a region costs
# ~1 us however little it does). Measured here at 16 rows a thread (batch 32 on two):
# 64-128-64-10 30.4-31.9 us a step against 35.3-36.0 us on one thread; 40-96-64-3 41 against
# 62 us.
SHARD_MIN_ROWS = 16


def largest_product(layers, rows: int) -> int:
    """Multiply-adds of the largest matrix product of a batch of ``rows`` rows: the dense
    layers', residual blocks' bodies included (normalizations have none)."""
    from symprop.runtime.blocks import BatchNorm, LayerNorm
    from symprop.runtime.network_parts import param_nodes

    return max(rows * layer.n_in * layer.n_out for layer in param_nodes(layers)
               if not isinstance(layer, BatchNorm | LayerNorm))


def shards_for(module, layers, rows: int) -> int:
    """How many threads share each training batch of ``rows`` rows: 1 (run() as it was)
    unless the module has the split path, Numba's thread count is at least two and each
    thread gets SHARD_MIN_ROWS rows (and, where the split shares out the first layer's
    units, COLUMN_MIN_UNITS units). Products past SINGLE_THREAD_MACS stay with BLAS's own
    threads, but on the column split where it takes as many threads as BLAS has, up to
    COLUMN_MAX_BIG_SHARDS. Numba's thread count is the knob (``numba.set_num_threads``,
    NUMBA_NUM_THREADS), read without starting Numba's thread pool: the split path's threads
    are Python's (split_support.run_threads), so neither the threading layer (workqueue
    included) nor a fork after the pool started keeps a network off the path."""
    units = getattr(module, "SPLIT_UNITS", 0)
    big = largest_product(layers, rows) > SINGLE_THREAD_MACS
    if not getattr(module, "SHARDED", False) or rows // SHARD_MIN_ROWS < 2 or (big and not units):
        return 1
    from symprop.codegen.split_support import numba_thread_count

    shards = min(numba_thread_count(), rows // SHARD_MIN_ROWS)
    if units:  # the column split: each thread a block of the first layer's units
        from symprop.codegen.split import COLUMN_MIN_UNITS

        shards = min(shards, units // COLUMN_MIN_UNITS)
        if big and not 2 <= _blas_thread_count() <= shards <= COLUMN_MAX_BIG_SHARDS:
            return 1
    return shards if shards >= 2 else 1


# Big products (past SINGLE_THREAD_MACS) take the column split instead of BLAS's own threads
# only on this many threads at most, and only where that is as many as BLAS has: measured on
# two cores (large, 784-512-512-10 at batch 256: 2.43-2.46 against 2.69-2.73 ms a step). Each
# thread reads every other one's partial sums and computes the output layer's gradients
# whole, so on more cores BLAS's threads keep such products.
COLUMN_MAX_BIG_SHARDS = 2


def _blas_thread_count() -> int:
    """The bound OpenBLAS's thread count; 0 where none is bound (nothing measured there)."""
    from symprop.codegen.blas import thread_count

    bound = thread_count()
    return int(bound[0]()) if bound is not None else 0


@contextlib.contextmanager
def blas_threads_for(layers, rows: int, split: bool = False):
    """Limit BLAS to one thread while running products this small, or on the split path
    (``split``: each of its threads calls BLAS); otherwise no change.
    The OpenBLAS the kernels are bound to is set directly; without one, threadpoolctl
    limits every BLAS loaded (np.dot's among them)."""
    if largest_product(layers, rows) > SINGLE_THREAD_MACS and not split:
        yield
        return
    from symprop.codegen.blas import thread_count

    bound = thread_count()
    if bound is not None:  # the kernels' products run on this library alone
        get, set_ = bound
        before = get()
        set_(1)
        try:
            yield
        finally:
            set_(before)
        return
    controller = _controller()
    if controller is None:  # scikit-learn brings threadpoolctl; without it, leave BLAS alone
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _controller():
    """One scan of the loaded BLAS libraries per process (a scan costs milliseconds), taken
    at the first fit. Where the kernels multiply through np.dot (no CBLAS to bind), that is
    SciPy's BLAS, loaded here first: symprop sets Numba up without importing SciPy, so it
    could otherwise load after the scan and escape the limit."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    from symprop.codegen.blas import binding

    if binding() is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401
        except ImportError:  # no SciPy: Numba has no np.dot either, nothing to limit
            pass
    return ThreadpoolController()
