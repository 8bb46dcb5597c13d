"""Numba's one-time set-up in a process, without the parts symprop's kernels never use.

The first function Numba compiles or loads from its cache in a process makes it import its
NumPy implementations, and ``numba.np.arraymath`` probes at import whether SciPy's BLAS is
there (``_HAVE_BLAS``, read only by ``np.vdot``'s typing) by importing ``scipy.linalg``: about
0.25 s here (SciPy's array-API layer clones numpy, importing numpy.f2py), a third of a warm
start. symprop's cached kernels never need it: matrix products call numpy's CBLAS directly
(``blas.py``).

``defer_scipy_blas_probe()`` imports that module with the probe answering "present" without
importing anything. Nothing is lost: every BLAS-backed Numba function (``np.dot``, and
``np.vdot`` itself) runs Numba's real check when it is compiled, which imports SciPy then,
and raises Numba's own ImportError if SciPy is missing.
"""

from __future__ import annotations

import importlib.util
import sys
import threading


def defer_scipy_blas_probe() -> bool:
    """Import ``numba.np.arraymath`` without its SciPy probe; True if this call did so."""
    with _SWAP:  # two threads loading their first modules: one swaps, the other waits
        if "numba.np.arraymath" in sys.modules:
            return False  # Numba has set itself up already (with the probe)
        if importlib.util.find_spec("scipy") is None:
            return False  # let Numba find out (and remember) that there is no BLAS
        from numba.np import linalg

        probe = linalg.ensure_blas  # the genuine check: only this function swaps it
        linalg.ensure_blas = _present  # bound by name when arraymath imports, then restored
        try:
            from numba.np import arraymath
        finally:
            linalg.ensure_blas = probe
        arraymath.ensure_blas = probe
        return True


_SWAP = threading.Lock()


def _present() -> None:
    """Stands in for ``numba.np.linalg.ensure_blas`` while ``arraymath`` is imported."""
