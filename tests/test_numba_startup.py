"""Numba's set-up without its SciPy BLAS probe: faster warm starts, nothing lost.

Each check runs in a fresh interpreter: the probe runs once per process, when Numba first
imports ``numba.np.arraymath``, so this pytest process has long run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = """
import json, sys
import numpy as np
from numba import njit
from symprop.codegen.numba_startup import defer_scipy_blas_probe

deferred = defer_scipy_blas_probe()
again = defer_scipy_blas_probe()
from numba.np import arraymath, linalg

@njit
def plus_one(x):
    return x + 1.0

after_compile = plus_one(1.0), "scipy.linalg" in sys.modules

@njit
def products(a, b):
    return np.dot(a, b), np.vdot(a[0], b[0])

a = np.arange(9.0).reshape(3, 3)
dot, vdot = products(a, a.T)
print(json.dumps({
    "deferred": deferred, "again": again, "after_compile": after_compile,
    "have_blas": arraymath._HAVE_BLAS,
    "probes_restored": arraymath.ensure_blas is linalg.ensure_blas
                       and linalg.ensure_blas.__module__ == "numba.np.linalg",
    "dot_error": float(np.abs(dot - a @ a.T).max()), "vdot": float(vdot),
    "scipy_linalg_after_dot": "scipy.linalg" in sys.modules}))
"""


def test_numba_sets_up_without_scipy_and_blas_functions_still_work():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["deferred"] is True and found["again"] is False
    # A compiled function, and Numba's whole set-up, without importing scipy.linalg ...
    assert found["after_compile"] == [2.0, False]
    assert found["have_blas"] is True and found["probes_restored"] is True
    # ... which np.dot and np.vdot import when they are compiled, and compute right.
    assert found["dot_error"] == 0.0 and found["vdot"] == 0 * 0 + 1 * 3 + 2 * 6  # a[0], a.T[0]
    assert found["scipy_linalg_after_dot"] is True
