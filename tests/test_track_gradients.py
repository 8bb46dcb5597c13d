"""fit(track_gradients=True): each layer's gradient norm per epoch, and the plot of it."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import symprop as sp
from symprop.runtime.plotting import plot_history
from symprop.runtime.training import GRADIENT_ROWS


def _data(rows=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 4))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    return X, y


def _net(dropout=0.0, depth=2, act="tanh"):
    layers = [sp.Dense(4, 6, act, dropout=dropout)]
    layers += [sp.Dense(6, 6, act) for _ in range(depth - 2)]
    layers.append(sp.Dense(6, 1, "sigmoid"))
    return sp.Network(layers, loss="bce", seed=3, dtype="float64")


def test_one_norm_per_layer_and_epoch_equal_to_the_gradients_of_those_rows():
    X, y = _data()
    net = _net(depth=3)
    history = net.fit(X, y, epochs=4, batch_size=16, verbose=False, track_gradients=True)
    norms = np.array(history["grad_norm"])
    assert norms.shape == (4, 3)
    # the last epoch's values are those of the trained network on the same rows: all of
    # them here (fewer than GRADIENT_ROWS)
    assert X.shape[0] < GRADIENT_ROWS
    expected = [np.sqrt(np.sum(dW ** 2) + np.sum(db ** 2)) for dW, db in net.gradients(X, y)]
    np.testing.assert_allclose(norms[-1], expected, rtol=1e-12)
    assert np.all(norms > 0) and not np.allclose(norms[0], norms[-1])


def test_tracking_changes_nothing_of_the_training():
    """The rows are chosen without the network's random stream: with dropout (which draws
    from it) the weights and losses are the same with and without tracking."""
    X, y = _data()
    runs = []
    for track in (False, True):
        net = _net(dropout=0.3, depth=3)
        history = net.fit(X, y, epochs=3, batch_size=16, verbose=False, track_gradients=track)
        runs.append((history["loss"], [W.copy() for W, _ in net.params]))
        assert ("grad_norm" in history) == track
    assert runs[0][0] == runs[1][0]
    for W0, W1 in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(W0, W1)


def test_a_large_data_set_is_sampled_evenly():
    X, y = _data(rows=GRADIENT_ROWS * 3 + 7)
    net = _net()
    history = net.fit(X, y, epochs=1, batch_size=256, verbose=False, track_gradients=True)
    rows = np.unique(np.linspace(0, X.shape[0] - 1, GRADIENT_ROWS).astype(int))
    expected = [np.sqrt(np.sum(dW ** 2) + np.sum(db ** 2))
                for dW, db in net.gradients(X[rows], y[rows])]
    np.testing.assert_allclose(history["grad_norm"][0], expected, rtol=1e-12)


def test_a_deep_sigmoid_network_shows_its_vanishing_gradient():
    """The notes' story: through 12 sigmoid layers the first layer's gradient is orders of
    magnitude below the last one's."""
    X, y = _data()
    net = _net(depth=12, act="sigmoid")
    history = net.fit(X, y, epochs=2, batch_size=32, verbose=False, track_gradients=True)
    first, *_, last = history["grad_norm"][-1]
    assert first < 1e-4 * last


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_the_history_plot_gets_a_gradient_panel(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = _data()
    with_norms = _net().fit(X, y, epochs=3, verbose=False, track_gradients=True)
    without = _net().fit(X, y, epochs=3, verbose=False)
    plot_history(with_norms, tmp_path / "with.png")
    plot_history(without, tmp_path / "without.png")
    wide, high = _png_size(tmp_path / "with.png")
    narrow, same = _png_size(tmp_path / "without.png")
    assert high == same and wide == pytest.approx(narrow * 3 / 2, rel=0.02)


@pytest.mark.parametrize("value", [1, "yes", None])
def test_track_gradients_must_be_a_bool(value):
    X, y = _data()
    with pytest.raises(sp.SympropError, match="track_gradients"):
        _net().fit(X, y, epochs=1, verbose=False, track_gradients=value)
