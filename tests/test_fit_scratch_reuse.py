"""fit keeps its CPU module's scratch arrays (epoch_work's) for the network's next fit with
the same module and batch size (symprop/runtime/training.py, _epoch_work): a fit called in a
loop trains exactly as with fresh arrays, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import symprop as sp
from symprop.runtime import training


def network(dtype: str = "float32") -> sp.Network:
    """Dropout (its masks live in the scratch arrays), batch normalization and a residual
    block: every kind of buffer the epoch writes."""
    return sp.Network([sp.Dense(6, 12, "relu", dropout=0.2), sp.BatchNorm(12),
                       sp.Residual([sp.Dense(12, 12, "tanh")]), sp.Dense(12, 3, "softmax")],
                      loss="ce", dtype=dtype, seed=5)


def data(rows: int = 90):
    rng = np.random.default_rng(2)
    return rng.standard_normal((rows, 6)), rng.integers(0, 3, rows)


def fits(net: sp.Network, fresh: bool, calls: list[tuple[int, int]]) -> list[dict]:
    """One fit per (rows, batch_size) of ``calls``; ``fresh``: no kept scratch arrays."""
    X, y = data()
    histories = []
    for rows, batch_size in calls:
        if fresh:
            net._epoch_work = None
        elif net._epoch_work is not None:  # whatever the last fit left: none of it is read
            for array in (*net._epoch_work[2][0], *net._epoch_work[2][1]):
                array[...] = np.nan
        history = net.fit(X[:rows], y[:rows], epochs=2, batch_size=batch_size,
                          optimizer=sp.Adam(0.01), verbose=False)
        histories.append(history.history)
    return histories


CALLS = [(90, 16), (90, 16), (40, 16), (90, 8), (90, 16)]  # the last batch short in each


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fit_in_a_loop_trains_as_with_fresh_scratch_arrays(dtype):
    kept, fresh = network(dtype), network(dtype)
    assert fits(kept, False, CALLS) == fits(fresh, True, CALLS)
    for (W, b), (W2, b2) in zip(kept.params, fresh.params, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_the_scratch_arrays_are_kept_per_module_and_batch_size(monkeypatch):
    made = []  # the batch size of each epoch_work the module is asked for
    net = network()
    X, y = data()
    module = net._module(sp.SGD(0.1))
    real = module.epoch_work
    monkeypatch.setattr(module, "epoch_work", lambda *args: made.append(args[0]) or real(*args))
    for batch_size in (16, 16, 8, 8, 16):
        net.fit(X, y, epochs=1, batch_size=batch_size, optimizer=sp.SGD(0.1), verbose=False)
    assert made == [16, 8, 16]  # made again only where the batch size changed
    net.fit(X, y, epochs=1, batch_size=16, optimizer=sp.Adam(0.01), verbose=False)
    assert net._epoch_work[0] is net._module(sp.Adam(0.01))  # another module: its own


def test_a_large_networks_scratch_arrays_are_not_kept(monkeypatch):
    """Above KEPT_WORK_BYTES (the gradients alone as large as the weights) the arrays go
    with the fit that made them."""
    net = network()
    X, y = data()
    net.fit(X, y, epochs=1, batch_size=16, verbose=False)
    assert net._epoch_work is not None
    monkeypatch.setattr(training, "KEPT_WORK_BYTES", 1000)  # this network's are larger
    net._epoch_work = None
    net.fit(X, y, epochs=1, batch_size=16, verbose=False)
    assert net._epoch_work is None


def test_fits_of_two_sizes_taking_turns_keep_both_row_orders():
    """Without shuffling, each size's row order 0..n-1 is made once: a short fit between two
    long ones (a warm-up, a check) made the long one's anew each time, 60 us of a tiny
    network's 5 ms fit call."""
    from symprop.runtime import recovery

    net = sp.Network([sp.Dense(6, 3, "softmax")], loss="ce", seed=1)
    X, y = data(rows=90)
    recovery._rows_in_order.cache_clear()
    made = []
    for rows in (90, 7, 90, 7, 90):
        net.fit(X[:rows], y[:rows], epochs=1, batch_size=8, shuffle=False, verbose=False)
        made.append(recovery._rows_in_order.cache_info().misses)
    assert made == [1, 2, 2, 2, 2]
    assert np.array_equal(recovery._rows_in_order(90), np.arange(90))
