"""Subnormal numbers flushed to zero in the threads that train (symprop.codegen.float_control):
set while a training epoch runs, in fit's thread and in each of the split path's threads,
and as they were afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import symprop as sp
from symprop.codegen import float_control, split_support
from symprop.codegen.float_control import FLUSH_BITS, swap_float_control

x86_only = pytest.mark.skipif(not float_control.X86, reason="x86's MXCSR only")


def flush_bits() -> int:
    """This thread's FTZ and DAZ bits, read without changing them."""
    return swap_float_control(0, 0) & FLUSH_BITS


@x86_only
def test_flushed_inside_the_block_and_as_before_after():
    before = flush_bits()
    tiny = np.array([1e-39], dtype=np.float32)  # float32's subnormal range
    with float_control.flushed_subnormals():
        assert flush_bits() == FLUSH_BITS
        assert (tiny * np.float32(1.0))[0] == 0.0  # DAZ: read as 0
        assert (np.array([1e-20], np.float32) * np.float32(1e-19))[0] == 0.0  # FTZ
    assert flush_bits() == before
    assert (tiny * np.float32(1.0))[0] == np.float32(1e-39)


@x86_only
def test_fit_trains_flushed_and_leaves_the_thread_as_it_was(monkeypatch):
    """What the compiled epoch runs under, seen from inside train_epoch; as before after
    fit, also when the epoch raises."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    net = sp.Network([sp.Dense(4, 6, "relu"), sp.Dense(6, 3, "softmax")], loss="ce")
    module = net._module(sp.SGD(0.1))
    real, seen = module.train_epoch, []

    def train_epoch(*args, **kwargs):
        seen.append(flush_bits())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "train_epoch", train_epoch)
    before = flush_bits()
    net.fit(X, y, epochs=3, batch_size=8, optimizer=sp.SGD(0.1), verbose=False)
    assert seen and set(seen) == {FLUSH_BITS}
    assert flush_bits() == before

    def failing(*args, **kwargs):
        raise RuntimeError("the epoch failed")

    monkeypatch.setattr(module, "train_epoch", failing)
    with pytest.raises(RuntimeError):
        net.fit(X, y, epochs=1, batch_size=8, optimizer=sp.SGD(0.1), verbose=False)
    assert flush_bits() == before


@x86_only
def test_the_split_paths_threads_run_flushed():
    """Each part of a split-path call, in the caller's thread and the workers', runs with
    the bits set; the caller's thread is as it was after the call."""
    seen = {}

    def part(t, record):
        record[t] = flush_bits()

    before = flush_bits()
    split_support.run_threads(part, 3, (seen,))
    assert seen == {0: FLUSH_BITS, 1: FLUSH_BITS, 2: FLUSH_BITS}
    assert flush_bits() == before


def test_import_symprop_loads_no_numba():
    """The flushing is imported by fit itself: `import symprop` (a derivation's whole need)
    loads no Numba."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys, symprop; "
                           "print('numba' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
