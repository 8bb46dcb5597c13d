"""History plots as a user meets them: the loss named, whole epochs, the validation curve,
the best (and restored) epoch marked, inline in a notebook (a returned figure) or a PNG;
pyplot's state untouched."""

from __future__ import annotations

import numpy as np
import pytest

import symprop as sp

matplotlib = pytest.importorskip("matplotlib")


def _early_stopped_history():
    X, y = sp.load_dataset("iris")
    X = (X - X.mean(0)) / X.std(0)
    net = sp.Network([sp.Dense(4, 8, "relu"), sp.Dense(8, 3, "softmax")], loss="ce",
                     dtype="float64", seed=0)
    history = net.fit(X, y, epochs=300, batch_size=16, optimizer=sp.Adam(lr=0.3),
                      validation_split=0.3, patience=3, verbose=False)
    assert history.stopped_epoch is not None and history.restored  # the case under test
    return history


def test_history_plot_names_the_loss_marks_the_restored_epoch_and_counts_whole_epochs():
    history = _early_stopped_history()
    figure = history.plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    loss_axis, accuracy_axis = figure.axes
    assert loss_axis.get_ylabel() == "loss (ce: cross-entropy)"
    assert accuracy_axis.get_ylabel() == "accuracy"
    labels = [line.get_label() for line in loss_axis.get_lines()]
    assert labels == ["train loss", "validation loss",
                      f"best epoch {history.best_epoch} (restored)"]
    best_line = loss_axis.get_lines()[-1]
    assert list(best_line.get_xdata()) == [history.best_epoch] * 2
    figure.canvas.draw()  # ticks are placed when drawn
    ticks = [t for t in loss_axis.get_xticks() if 1 <= t <= history.epochs]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_a_short_run_plots_integer_epochs_and_no_best_mark_for_one_epoch(tmp_path):
    net = sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce", seed=0)
    X = np.random.default_rng(0).standard_normal((20, 2))
    history = net.fit(X, (X[:, 0] > 0).astype(int), epochs=3, verbose=False)
    figure = history.plot()
    figure.canvas.draw()
    assert all(float(t).is_integer() for t in figure.axes[0].get_xticks())
    one = net.fit(X, (X[:, 0] > 0).astype(int), epochs=1, verbose=False).plot()
    assert [line.get_label() for line in one.axes[0].get_lines()] == ["train loss"]
    path = tmp_path / "history.png"
    assert history.plot(path) is None and path.read_bytes().startswith(b"\x89PNG")


def test_plots_leave_pyplot_and_its_backend_alone(tmp_path):
    backend = matplotlib.get_backend()
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    history = _early_stopped_history()
    history.plot(tmp_path / "a.png")
    history.plot()
    assert plt.get_fignums() == before and matplotlib.get_backend() == backend
