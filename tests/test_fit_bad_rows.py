"""A NaN or inf in X, found by the CPU epoch itself: fit leaves out its own pass over X and
lets each batch check the rows it gathers (symprop/runtime/training.py). Whatever the order
the rows ran in, fit names the first bad value as a pass over X would, and gives back the
network as it was before the call: parameters, running statistics, optimizer and its state,
step count and random generator (the split path's fit: tests/test_runtime_shards.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symprop as sp
from symprop.errors import DataError

ROWS = 301  # in batches of 32: the last batch has 13 rows


def make_net(kind: str, dtype: str = "float64") -> sp.Network:
    if kind == "blocks":
        layers = [sp.Dense(6, 8, "relu"), sp.BatchNorm(8),
                  sp.Residual([sp.Dense(8, 8, "tanh")]), sp.Dense(8, 3, "softmax")]
    else:
        layers = [sp.Dense(6, 8, "relu"), sp.Dense(8, 3, "softmax")]
    return sp.Network(layers, loss="ce", dtype=dtype, seed=5)


def data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((ROWS, 6)), rng.integers(0, 3, ROWS)


def snapshot(net: sp.Network) -> tuple:
    """Everything a fit changes, copied."""
    return ([a.copy() for a in net._flat_params()], [a.copy() for a in net._running],
            net._step, net._optimizer, [s.copy() for s in net._state],
            net._rng.bit_generator.state)


def assert_same(net: sp.Network, before: tuple) -> None:
    params, running, step, optimizer, state, generator = before
    for got, kept in zip(net._flat_params() + net._running, params + running, strict=True):
        np.testing.assert_array_equal(got, kept)
    assert net._step == step and net._optimizer is optimizer
    assert len(net._state) == len(state)
    for got, kept in zip(net._state, state, strict=True):
        np.testing.assert_array_equal(got, kept)
    assert net._rng.bit_generator.state == generator


def trained_before(kind: str) -> sp.Network:
    """A network with a history: an Adam fit (the bad fit then brings another optimizer)."""
    X, y = data(1)
    net = make_net(kind)
    net.fit(X, y, epochs=2, batch_size=32, optimizer=sp.Adam(lr=0.01), verbose=False)
    return net


@pytest.mark.parametrize("kind", ["plain", "blocks"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("shuffle", [True, False])
def test_a_bad_value_is_named_and_the_network_is_as_before(kind, value, shuffle):
    X, y = data()
    bad = X.copy()
    bad[150, 4] = value
    net = trained_before(kind)
    before = snapshot(net)
    with pytest.raises(DataError, match=r"^X has a NaN or inf value \(row 150, column 4\)$"):
        net.fit(bad, y, epochs=3, batch_size=32, shuffle=shuffle, verbose=False)
    assert_same(net, before)
    # nothing lost: training on goes exactly as without the failed call
    twin = trained_before(kind)
    kept = net.fit(X, y, epochs=2, batch_size=32, shuffle=shuffle, verbose=False)
    reference = twin.fit(X, y, epochs=2, batch_size=32, shuffle=shuffle, verbose=False)
    assert kept.history == reference.history
    for got, expected in zip(net._flat_params() + net._running,
                             twin._flat_params() + twin._running, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_the_first_bad_value_in_row_order_is_named():
    """The shuffled epoch meets some bad row first; the message names X's first, as the
    pass over X did."""
    X, y = data()
    X[200, 0], X[17, 5], X[17, 2], X[300, 1] = np.inf, np.nan, -np.inf, np.nan
    with pytest.raises(DataError, match=r"\(row 17, column 2\)"):
        make_net("plain").fit(X, y, epochs=2, batch_size=32, verbose=False)


def test_a_bad_value_in_the_last_short_batch():
    X, y = data()
    X[ROWS - 1, 0] = np.nan
    net = make_net("plain")
    before = snapshot(net)
    with pytest.raises(DataError, match=rf"\(row {ROWS - 1}, column 0\)"):
        net.fit(X, y, epochs=2, batch_size=32, shuffle=False, verbose=False)
    assert_same(net, before)


def test_a_value_that_overflows_the_networks_float32():
    """1e300 is finite in the float64 X given, infinite once fit converts it to float32."""
    X, y = data()
    X[42, 3] = 1e300
    with pytest.raises(DataError, match=r"\(row 42, column 3\)"):
        make_net("plain", "float32").fit(X, y, epochs=1, batch_size=32, verbose=False)


def test_rows_split_off_for_validation_are_checked_too():
    """validation_split: fit checks X before splitting (the validation rows are evaluated,
    never gathered by the training epoch)."""
    X, y = data()
    X[7, 1] = np.nan
    net = make_net("plain")
    before = snapshot(net)
    with pytest.raises(DataError, match=r"\(row 7, column 1\)"):
        net.fit(X, y, epochs=1, batch_size=32, validation_split=0.5, verbose=False)
    assert_same(net, before)


def test_validation_data_is_checked():
    X, y = data()
    X_val = X[:40].copy()
    X_val[3, 0] = np.inf
    with pytest.raises(DataError, match=r"^X_val has a NaN or inf value \(row 3, column 0\)"):
        make_net("plain").fit(X, y, epochs=1, validation_data=(X_val, y[:40]), verbose=False)


def test_a_loss_that_is_not_finite_with_finite_data_is_still_a_training_error():
    """Status 1 with every value of X finite: the loss itself (a learning rate that makes
    the outputs overflow), reported as before."""
    X, y = data()
    net = sp.Network([sp.Dense(6, 8, "linear"), sp.Dense(8, 1, "linear")], loss="mse",
                     dtype="float64", seed=0)
    with pytest.raises(sp.TrainingError, match="loss became"):
        net.fit(X * 1e150, y.astype(float) * 1e150, epochs=3, batch_size=32,
                optimizer=sp.SGD(lr=1.0), verbose=False)


def test_targets_too_large_for_the_networks_float32_are_named():
    X, y = data()
    net = sp.Network([sp.Dense(6, 1, "linear")], loss="mse", dtype="float32", seed=0)
    target = np.zeros(ROWS)
    target[9] = -1e300
    with pytest.raises(DataError, match=r"^y has a value too large for the network's float32: "
                                        r"-1e\+300$"):
        net.fit(X, target, epochs=1, verbose=False)
    target[9] = np.nan
    with pytest.raises(DataError, match=r"^y has a NaN or inf value$"):
        net.fit(X, target, epochs=1, verbose=False)


def test_finite_rows_whose_sum_overflows_train():
    """Each value finite, their sum not: the gather's check compares each value (a sum of
    value * 0 may be factored into (sum) * 0 by fastmath, NaN here)."""
    X, y = data()
    X[10, :] = np.finfo(np.float32).max / 2
    net = sp.Network([sp.Dense(6, 3, "tanh"), sp.Dense(3, 1, "linear")], loss="mse",
                     dtype="float32", seed=0)
    net._flat_params()[0][:] = 0  # the huge row reaches no unit
    history = net.fit(X, y.astype(float), epochs=2, batch_size=32, optimizer=sp.SGD(lr=1e-3),
                      verbose=False)
    assert np.isfinite(history["loss"]).all()


def test_an_update_that_overflows_before_the_bad_row_still_names_the_bad_row():
    """Status 2 in epoch 1 (a learning rate that makes the weights infinite at batch 1)
    with a NaN further on in X: the DataError a pass over X would have given, and the
    network as it was."""
    X, y = data()
    X[300, 0] = np.nan
    net = sp.Network([sp.Dense(6, 1, "linear")], loss="mse", dtype="float32", seed=0)
    before = snapshot(net)
    with pytest.raises(DataError, match=r"\(row 300, column 0\)"):
        net.fit(X, y.astype(float), epochs=1, batch_size=32, optimizer=sp.SGD(lr=1e37),
                shuffle=False, verbose=False)
    assert_same(net, before)
