"""BLAS threads for a network's products.

The generated kernels call BLAS directly (symprop/codegen/blas.py); for the small products
of small and medium layers, waking a second BLAS thread costs more than it saves (medium case,
64-128-64-10 at batch 64: 160 us a step on one thread against 216 us on two). Large
products keep every thread.
"""

from __future__ import annotations

import contextlib
import functools

# Largest product (rows x n_in x n_out multiply-adds) still run on one BLAS thread.
SINGLE_THREAD_MACS = 1 << 22


def largest_product(layers, rows: int) -> int:
    return max(rows * layer.n_in * layer.n_out for layer in layers)


@contextlib.contextmanager
def blas_threads_for(layers, rows: int):
    """Limit BLAS to one thread while running products this small; otherwise no change."""
    if largest_product(layers, rows) > SINGLE_THREAD_MACS:
        yield
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
