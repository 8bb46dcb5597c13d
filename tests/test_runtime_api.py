"""The runtime's public API end to end: iris, history, validation, early stopping, clipping,
dropout, seeds, save/load, bad input and float32.

Every distinct network structure compiles a Numba module (seconds, cold), so the tests share
a handful: the iris network 4-8:relu-3:softmax in float64 with Adam and with plain SGD, the
same with dropout on the hidden layer, the same in float32 with Adam, and a linear regression
3-1:identity with plain SGD. Bad-input tests fail before any kernel is built.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import symprop as sp
from symprop.errors import DataError, ShapeError, TrainingError, UnknownNameError

# -- shared data and networks ---------------------------------------------------------------

@functools.cache
def _iris():
    X, y = sp.load_dataset("iris")
    X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=0)
    scaler = sp.Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _iris_net(dtype="float64", seed=0, dropout=None, **kw):
    hidden = sp.Dense(4, 8, "relu") if dropout is None else sp.Dense(4, 8, "relu",
                                                                      dropout=dropout)
    if dtype is None:  # the default dtype
        return sp.Network([hidden, sp.Dense(8, 3, "softmax")], loss="ce", seed=seed, **kw)
    return sp.Network([hidden, sp.Dense(8, 3, "softmax")], loss="ce", dtype=dtype, seed=seed,
                      **kw)


@functools.cache
def _trained_iris():
    """The iris network trained as in the design: Adam(0.01), 200 epochs, batch 16."""
    X_train, X_test, y_train, y_test = _iris()
    net = _iris_net()
    history = net.fit(X_train, y_train, epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      verbose=False)
    return net, history


# -- iris end to end --------------------------------------------------------------------------

def test_kernel_source_and_predict_classes():
    net, _ = _trained_iris()
    source = net.kernel_source()
    assert source.startswith("# symprop-checksum: ")
    assert "Network   4-8:relu-3:softmax   (float64)" in source
    assert "def run(mode, X, Y, perm" in source and "def forward_relu_" in source
    X_train, X_test, y_train, y_test = _iris()
    classes = net.predict_classes(X_test)
    assert classes.dtype.kind == "i" and classes.shape == y_test.shape
    np.testing.assert_array_equal(classes, net.predict(X_test).argmax(axis=1))
    assert np.mean(classes == y_test) == net.evaluate(X_test, y_test)["accuracy"]


def test_stratified_split_and_standardizer():
    X, y = sp.load_dataset("iris")
    X_train, X_test, y_train, y_test = sp.train_test_split(X, y, test_size=0.2, seed=0)
    assert len(X_train) + len(X_test) == len(X) == 150
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    assert np.bincount(y_train).tolist() == [40, 40, 40]
    Xs_train, Xs_test, *_ = _iris()
    np.testing.assert_allclose(Xs_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xs_train.std(axis=0), 1, rtol=1e-12)
    assert not np.allclose(Xs_test.mean(axis=0), 0, atol=1e-12)  # fitted on train only


def test_iris_end_to_end_silent(capsys):
    capsys.readouterr()
    net, history = _trained_iris()
    X_train, X_test, y_train, y_test = _iris()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "", "verbose=False printed something"
    result = net.evaluate(X_test, y_test)
    assert set(result) == {"loss", "accuracy"}
    assert result["accuracy"] >= 0.9, result
    assert history.epochs == 200
    assert len(history["loss"]) == len(history["accuracy"]) == 200
    assert "val_loss" not in history
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] >= 0.9
    # the last history entry is the running loss of the last epoch: what its batches saw,
    # near the final weights' loss on the training data once training has settled
    final = net.evaluate(X_train, y_train)
    assert history["loss"][-1] == pytest.approx(final["loss"], rel=0.5)
    assert history["accuracy"][-1] == pytest.approx(final["accuracy"], abs=0.05)
    probabilities = net.predict(X_test)
    assert probabilities.shape == (30, 3) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-12)
    assert np.mean(probabilities.argmax(axis=1) == y_test) == pytest.approx(result["accuracy"])


def test_verbose_false_is_silent_and_true_shows_progress(capsys):
    _trained_iris()  # the structure is built; this only trains
    X_train, _, y_train, _ = _iris()
    net = _iris_net(seed=1)
    capsys.readouterr()
    net.fit(X_train, y_train, epochs=3, batch_size=16, optimizer=sp.Adam(lr=0.01),
            verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "", "verbose=False printed something"
    net.fit(X_train, y_train, epochs=3, batch_size=16, optimizer=sp.Adam(lr=0.01), verbose=True)
    captured = capsys.readouterr()
    assert (captured.out + captured.err).strip(), "verbose=True printed nothing"


def test_a_compiling_first_epoch_says_so_instead_of_a_remaining_time(capsys):
    """The first epoch of a module this process has not run yet also compiles it (or loads
    it from Numba's cache): the bar names that phase, shows no rate or remaining time for
    it, and starts its clock again after it. A module already run shows a plain bar."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((48, 3)), rng.integers(0, 2, 48)
    net = sp.Network([sp.Dense(3, 11, "elu"), sp.Dense(11, 1, "sigmoid")], loss="bce", seed=0)
    capsys.readouterr()
    net.fit(X, y, epochs=3, batch_size=16, optimizer=sp.SGD(0.1), verbose=True)
    first = capsys.readouterr().err.replace("\r", "\n")
    assert "compiling kernels + epoch 1: " in first
    compiling = [line for line in first.splitlines() if "compiling" in line]
    assert all("?" not in line and "epoch/s" not in line for line in compiling)
    assert "3/3" in first  # the bar itself after it, every epoch counted
    net.fit(X, y, epochs=3, batch_size=16, optimizer=sp.SGD(0.1), verbose=True)
    second = capsys.readouterr().err
    assert "compiling" not in second and "3/3" in second


def test_validation_split_adds_validation_metrics():
    X_train, _, y_train, _ = _iris()
    net = _iris_net(seed=2)
    history = net.fit(X_train, y_train, epochs=5, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      validation_split=0.25, verbose=False)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert key in history and len(history[key]) == 5, key
        assert np.all(np.isfinite(history[key])), key
    # validation_data gives the same keys, and val_loss is evaluate() on that data
    X_val, y_val = X_train[:20], y_train[:20]
    history = net.fit(X_train, y_train, epochs=2, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      validation_data=(X_val, y_val), verbose=False)
    assert history["val_loss"][-1] == pytest.approx(net.evaluate(X_val, y_val)["loss"],
                                                    rel=1e-12)
    with pytest.raises(sp.SympropError, match="validation_split"):
        net.fit(X_train, y_train, epochs=1, validation_split=1.5, verbose=False)


def test_early_stopping_restores_best_weights():
    """Validation labels that contradict the training labels: the validation loss gets worse
    as training goes on, so it plateaus (stops improving) early."""
    X_train, _, y_train, _ = _iris()
    X_val, y_val = X_train, (y_train + 1) % 3
    net = _iris_net(seed=3)
    history = net.fit(X_train, y_train, epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      validation_data=(X_val, y_val), patience=5, verbose=False,
                      metrics_each_epoch=True)  # the training loss of each epoch's weights
    assert history.stopped_epoch is not None and history.stopped_epoch < 200
    assert history.epochs == history.stopped_epoch
    best = history.best_epoch
    assert best is not None and history.stopped_epoch - best == 5
    assert history["val_loss"][best - 1] == min(history["val_loss"])
    # the weights are the best epoch's, not the last epoch's
    assert net.evaluate(X_val, y_val)["loss"] == pytest.approx(history["val_loss"][best - 1],
                                                               rel=1e-12)
    assert net.evaluate(X_train, y_train)["loss"] == pytest.approx(history["loss"][best - 1],
                                                                   rel=1e-12)
    # with restore_best=False the last weights stay
    net = _iris_net(seed=3)
    history = net.fit(X_train, y_train, epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      validation_data=(X_val, y_val), patience=5, restore_best=False,
                      verbose=False)
    assert history.stopped_epoch is not None
    assert net.evaluate(X_val, y_val)["loss"] == pytest.approx(history["val_loss"][-1],
                                                               rel=1e-12)


def test_seeds_reproducible():
    X_train, _, y_train, _ = _iris()

    def run(seed):
        net = _iris_net(seed=seed)
        history = net.fit(X_train, y_train, epochs=5, batch_size=16,
                          optimizer=sp.Adam(lr=0.01), validation_split=0.2, verbose=False)
        return net, history

    a, hist_a = run(7)
    b, hist_b = run(7)
    c, hist_c = run(8)
    assert hist_a.history == hist_b.history
    for (Wa, ba), (Wb, bb) in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    assert hist_a["loss"] != hist_c["loss"]
    assert not np.array_equal(a.params[0][0], c.params[0][0])


def test_clip_norm_bounds_the_update():
    """Plain SGD, one full batch: the step is -lr * g * clip / |g| when |g| > clip."""
    X_train, _, y_train, _ = _iris()
    lr, clip = 0.5, 0.01
    net = _iris_net(seed=4)
    before = net.params
    grads = net.gradients(X_train, y_train)
    flat_g = np.concatenate([a.ravel() for pair in grads for a in pair])
    norm = np.linalg.norm(flat_g)
    assert norm > 10 * clip
    net.fit(X_train, y_train, epochs=1, batch_size=len(X_train), optimizer=sp.SGD(lr=lr),
            shuffle=False, clip_norm=clip, verbose=False)
    step = np.concatenate([(a - b).ravel() for pa, pb in zip(net.params, before, strict=True)
                           for a, b in zip(pa, pb, strict=True)])
    assert np.linalg.norm(step) <= lr * clip * (1 + 1e-9)
    np.testing.assert_allclose(step, -lr * flat_g * clip / norm, rtol=1e-5, atol=1e-14)
    # a clip above the norm changes nothing
    net.set_params([(W.copy(), b.copy()) for W, b in before])
    net.fit(X_train, y_train, epochs=1, batch_size=len(X_train), optimizer=sp.SGD(lr=lr),
            shuffle=False, clip_norm=10 * norm, verbose=False)
    step = np.concatenate([(a - b).ravel() for pa, pb in zip(net.params, before, strict=True)
                           for a, b in zip(pa, pb, strict=True)])
    np.testing.assert_allclose(step, -lr * flat_g, rtol=1e-9, atol=1e-15)
    for bad in (0, -1.0, "big"):
        with pytest.raises(sp.SympropError, match="clip_norm"):
            net.fit(X_train, y_train, epochs=1, clip_norm=bad, verbose=False)


def test_set_params_does_not_alias_the_callers_arrays():
    X_train, _, y_train, _ = _iris()
    net = _iris_net(seed=4)
    params = net.params
    kept = [(W.copy(), b.copy()) for W, b in params]
    net.set_params(params)
    net.fit(X_train, y_train, epochs=1, batch_size=len(X_train), optimizer=sp.SGD(lr=0.5),
            shuffle=False, verbose=False)
    assert not np.array_equal(net.params[0][0], kept[0][0])  # training moved the weights
    for (W, b), (W0, b0) in zip(params, kept, strict=True):
        np.testing.assert_array_equal(W, W0, err_msg="the caller's W was changed by fit")
        np.testing.assert_array_equal(b, b0, err_msg="the caller's b was changed by fit")


def test_dropout_changes_training_but_not_prediction():
    X_train, X_test, y_train, _ = _iris()

    def train(dropout, seed=5):
        net = _iris_net(seed=seed, dropout=dropout)
        history = net.fit(X_train, y_train, epochs=5, batch_size=16,
                          optimizer=sp.Adam(lr=0.01), shuffle=False, verbose=False)
        return net, history

    plain, hist_plain = train(None)
    zero, hist_zero = train(0.0)
    dropped, hist_dropped = train(0.5)
    again, hist_again = train(0.5)
    # dropout=0 is the plain path, exactly
    assert hist_zero.history == hist_plain.history
    # dropout changes the trajectory (same initial weights, no shuffling)
    assert hist_dropped["loss"] != hist_plain["loss"]
    assert not np.allclose(dropped.params[0][0], plain.params[0][0])
    # same seed, same masks
    assert hist_again.history == hist_dropped.history
    # predict is deterministic and has no dropout: the same as a plain net with these weights
    first, second = dropped.predict(X_test), dropped.predict(X_test)
    np.testing.assert_array_equal(first, second)
    plain.set_params(dropped.params)
    np.testing.assert_allclose(first, plain.predict(X_test), rtol=1e-12, atol=1e-15)
    assert dropped.evaluate(X_test, _iris()[3])["loss"] == pytest.approx(
        plain.evaluate(X_test, _iris()[3])["loss"], rel=1e-12)
    with pytest.raises(sp.SympropError, match="dropout"):
        sp.Dense(4, 8, "relu", dropout=1.0)


# -- save / load ----------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    net, _ = _trained_iris()
    _, X_test, _, _ = _iris()
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = sp.load(path)
    assert loaded.dtype == net.dtype == "float64"
    assert loaded.architecture == net.architecture and loaded.loss == net.loss
    for (Wa, ba), (Wb, bb) in zip(net.params, loaded.params, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
        assert Wb.dtype == np.float64
    expected, got = net.predict(X_test), loaded.predict(X_test)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary files left


def test_save_load_keeps_float32_and_layer_options(tmp_path):
    net = sp.Network([sp.Dense(4, 8, "leaky_relu", alpha=0.2, dropout=0.25),
                      sp.Dense(8, 3, "softmax")], loss="ce", seed=1)
    net.save(tmp_path / "small")  # the .npz suffix is added
    loaded = sp.load(tmp_path / "small.npz")
    assert loaded.dtype == "float32"
    assert loaded.layers[0].dropout == 0.25
    assert loaded.layers[0].hyperparameters == {"alpha": 0.2}
    for (Wa, ba), (Wb, bb) in zip(net.params, loaded.params, strict=True):
        assert Wb.dtype == np.float32 and bb.dtype == np.float32
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)


def _saved_bytes(tmp_path) -> tuple[bytes, np.ndarray]:
    net = _iris_net(seed=6)
    path = tmp_path / "good.npz"
    net.save(path)
    return path.read_bytes(), net.params[0][0]


def test_truncated_model_file_is_refused(tmp_path):
    data, _ = _saved_bytes(tmp_path)
    for keep in (len(data) // 2, len(data) - 10, 40):
        bad = tmp_path / f"truncated{keep}.npz"
        bad.write_bytes(data[:keep])
        with pytest.raises(sp.SympropError, match="corrupt|not a valid|partly"):
            sp.load(bad)


def test_flipped_byte_in_model_file_is_refused(tmp_path):
    data, W1 = _saved_bytes(tmp_path)
    start = data.find(W1.tobytes())
    assert start > 0
    meta = data.find(b'"format"')
    assert meta > 0
    for position in (start + 3, start + W1.nbytes - 1, meta + 3):
        corrupted = bytearray(data)
        corrupted[position] ^= 0x10
        bad = tmp_path / "flipped.npz"
        bad.write_bytes(bytes(corrupted))
        with pytest.raises(sp.SympropError, match="corrupt|not a valid|checksum") as info:
            sp.load(bad)
        assert str(bad) in str(info.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(sp.SympropError, match="no model file"):
        sp.load(tmp_path / "nothing.npz")


def test_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    net = _iris_net(seed=6)
    # the target is a directory: the final rename fails
    target = tmp_path / "model.npz"
    target.mkdir()
    with pytest.raises(sp.FileError, match="folder"):
        net.save(target)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"] and target.is_dir()
    assert os.listdir(target) == []
    # a write that fails halfway: no file, and an existing good file is left as it was
    good = tmp_path / "kept.npz"
    net.save(good)
    before = good.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    other = _iris_net(seed=9)
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(sp.FileError, match="disk full"):
        other.save(good)
    with pytest.raises(sp.FileError, match="disk full"):
        other.save(tmp_path / "new.npz")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["kept.npz", "model.npz"]
    assert good.read_bytes() == before
    for (Wa, _), (Wb, _) in zip(sp.load(good).params, net.params, strict=True):
        np.testing.assert_array_equal(Wa, Wb)


# -- bad input ------------------------------------------------------------------------------

def _assert_error(error, *fragments):
    assert isinstance(error, sp.SympropError) and isinstance(error, ValueError)
    message = str(error)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_nan_or_inf_in_X_names_row_and_column():
    net = _iris_net()
    X = np.zeros((6, 4))
    y = np.zeros(6, dtype=int)
    for value in (np.nan, np.inf, -np.inf):
        X_bad = X.copy()
        X_bad[3, 2] = value
        for call in (lambda X_bad=X_bad: net.predict(X_bad),
                     lambda X_bad=X_bad: net.fit(X_bad, y, verbose=False),
                     lambda X_bad=X_bad: net.evaluate(X_bad, y),
                     lambda X_bad=X_bad: net.gradients(X_bad, y)):
            with pytest.raises(DataError) as info:
                call()
            _assert_error(info.value, "row 3", "column 2")
    with pytest.raises(DataError) as info:
        net.fit(X, y, validation_data=(X_bad, y), verbose=False)
    _assert_error(info.value, "X_val", "row 3")
    with pytest.raises(DataError) as info:
        net.fit(X, np.array([0, 1, np.nan, 1, 0, 2]), verbose=False)
    _assert_error(info.value, "y", "NaN")


def test_wrong_width_names_layer_1():
    net = _iris_net()
    for X in (np.zeros((5, 5)), np.zeros((5, 3))):
        with pytest.raises(ShapeError) as info:
            net.predict(X)
        _assert_error(info.value, "layer 1", "4 inputs", f"{X.shape[1]} features")
    with pytest.raises(ShapeError) as info:
        net.predict(np.zeros((2, 2, 4)))
    _assert_error(info.value, "2-D")


def test_labels_outside_the_classes():
    net = _iris_net()
    X = np.zeros((4, 4))
    for labels, fragment in (([0, 1, 3, 2], "label 3"), ([0, -1, 1, 2], "label -1"),
                             ([0, 1.5, 1, 2], "integers")):
        with pytest.raises(DataError) as info:
            net.fit(X, np.array(labels), verbose=False)
        _assert_error(info.value, fragment)
    with pytest.raises(DataError) as info:
        net.evaluate(X, np.array([0, 1, 2, 5]))
    _assert_error(info.value, "label 5", "3 classes")
    with pytest.raises(sp.SympropError) as info:
        net.fit(X, np.zeros((4, 4)), verbose=False)  # one-hot of the wrong width
    _assert_error(info.value, "one-hot")
    bce = sp.Network([sp.Dense(4, 1, "sigmoid")], loss="bce", dtype="float64")
    with pytest.raises(DataError) as info:
        bce.fit(X, np.array([0, 1, 2, 0]), verbose=False)
    _assert_error(info.value, "bce", "0/1")


def test_empty_X():
    net = _iris_net()
    with pytest.raises(DataError) as info:
        net.fit(np.zeros((0, 4)), np.zeros(0, dtype=int), verbose=False)
    _assert_error(info.value, "empty")
    with pytest.raises(DataError) as info:
        net.predict(np.zeros((0, 4)))
    _assert_error(info.value, "empty")


def test_object_and_string_dtypes():
    net = _iris_net()
    for X in (np.array([["a", "b", "c", "d"]]), np.array([[1, 2, 3, None]], dtype=object),
              np.array([[1.0, 2.0, 3.0, 4.0]], dtype=object)):
        with pytest.raises(DataError) as info:
            net.predict(X)
        _assert_error(info.value, "X", "numeric", str(X.dtype))
    with pytest.raises(DataError) as info:
        net.fit(np.zeros((2, 4)), np.array(["setosa", "virginica"]), verbose=False)
    _assert_error(info.value, "y", "numeric")
    with pytest.raises(DataError) as info:
        net.predict(np.zeros((2, 4), dtype=complex))
    _assert_error(info.value, "complex")


def test_row_mismatch():
    net = _iris_net()
    with pytest.raises(ShapeError) as info:
        net.fit(np.zeros((5, 4)), np.zeros(4, dtype=int), verbose=False)
    _assert_error(info.value, "4 rows", "X has 5")
    with pytest.raises(ShapeError) as info:
        net.gradients(np.zeros((3, 4)), np.zeros((4, 3)))
    _assert_error(info.value, "rows")


def test_layers_that_do_not_chain():
    with pytest.raises(ShapeError) as info:
        sp.Network([sp.Dense(4, 8, "relu"), sp.Dense(7, 3, "softmax")], loss="ce")
    _assert_error(info.value, "layer 2 takes 7", "layer 1 gives 8")
    with pytest.raises(ShapeError) as info:
        sp.Network([sp.Dense(4, 8, "relu"), sp.Dense(8, 5, "relu"), sp.Dense(4, 3, "softmax")],
                   loss="ce")
    _assert_error(info.value, "layer 3 takes 4", "layer 2 gives 5")
    for bad in ([], "4-8-3"):
        with pytest.raises(sp.SympropError):
            sp.Network(bad, loss="ce")
    with pytest.raises(ShapeError) as info:
        sp.Dense(0, 3)
    _assert_error(info.value, "n_in")


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(UnknownNameError) as info:
        sp.Dense(4, 8, "rleu")
    _assert_error(info.value, "activation", "'rleu'", "did you mean", "'relu'")
    with pytest.raises(UnknownNameError) as info:
        sp.Network([sp.Dense(4, 3, "softmax")], loss="bcee")
    _assert_error(info.value, "loss", "'bcee'", "did you mean", "'bce'")
    net = _iris_net()
    with pytest.raises(UnknownNameError) as info:
        net.fit(np.zeros((3, 4)), np.array([0, 1, 2]), optimizer="adm", verbose=False)
    _assert_error(info.value, "optimizer", "'adm'", "did you mean", "'adam'")
    with pytest.raises(sp.SympropError) as info:
        sp.Network([sp.Dense(4, 3, "softmax")], loss="ce", dtype="float16")
    _assert_error(info.value, "dtype", "float16")


def test_step_activation_is_refused():
    with pytest.raises(sp.NotDifferentiableError) as info:
        sp.Network([sp.Dense(4, 8, "step"), sp.Dense(8, 3, "softmax")], loss="ce")
    _assert_error(info.value, "layer 1", "step", "no useful gradient")


def test_bad_optimizer_and_fit_arguments():
    for make, fragment in ((lambda: sp.SGD(lr=-1), "lr"), (lambda: sp.Adam(beta1=1.0), "beta1"),
                           (lambda: sp.SGD(0.1, nesterov=True), "Nesterov"),
                           (lambda: sp.RMSprop(alpha=1.5), "alpha"),
                           (lambda: sp.SGD(lr=float("nan")), "lr")):
        with pytest.raises(sp.SympropError) as info:
            make()
        _assert_error(info.value, fragment)
    net = _iris_net()
    X, y = np.zeros((3, 4)), np.array([0, 1, 2])
    for kwargs, fragment in (({"epochs": 0}, "epochs"), ({"batch_size": 1.5}, "batch_size"),
                             ({"patience": -2}, "patience")):
        with pytest.raises(sp.SympropError) as info:
            net.fit(X, y, verbose=False, **kwargs)
        _assert_error(info.value, fragment)


@functools.cache
def _regression_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 100, (64, 3))  # unscaled
    y = X @ np.array([1.0, -2.0, 3.0]) + 5.0
    return X, y


def test_regression_metrics():
    X, y = _regression_data()
    net = sp.Network([sp.Dense(3, 1, "identity")], loss="mse", dtype="float64", seed=0)
    net.set_params([(np.array([[1.0], [-2.0], [3.0]]), np.array([5.0]))])
    result = net.evaluate(X, y)
    assert set(result) == {"loss", "mae", "r2"}
    assert result["loss"] == pytest.approx(0, abs=1e-18)
    assert result["r2"] == pytest.approx(1.0)
    net.set_params([(np.zeros((3, 1)), np.array([y.mean()]))])
    result = net.evaluate(X, y)
    assert result["loss"] == pytest.approx(np.mean((y - y.mean()) ** 2), rel=1e-12)
    assert result["mae"] == pytest.approx(np.mean(np.abs(y - y.mean())), rel=1e-12)
    assert result["r2"] == pytest.approx(0.0, abs=1e-12)


def test_loss_that_diverges_stops_with_training_error():
    X, y = _regression_data()
    net = sp.Network([sp.Dense(3, 1, "identity")], loss="mse", dtype="float64", seed=0)
    with pytest.raises(TrainingError) as info:
        net.fit(X, y, epochs=50, batch_size=8, optimizer=sp.SGD(lr=1e6), shuffle=False,
                verbose=False)
    error = info.value
    assert isinstance(error, sp.SympropError)
    message = str(error)
    assert "epoch" in message and "batch" in message, message
    assert any(word in message for word in ("nan", "inf", "NaN")), message
    # the batch numbers are 1-based and within an epoch of 64 / 8 = 8 batches
    found = re.search(r"epoch (\d+), batch (\d+) of (\d+)", message)
    assert found, message
    epoch, batch, of = map(int, found.groups())
    assert 1 <= epoch < 50 and 1 <= batch <= of == 8
    for W, b in net.params:
        assert np.isfinite(W).all() and np.isfinite(b).all(), (W, b)


# -- float32 ------------------------------------------------------------------------------------

def test_float32_default_dtype_trains_iris():
    X_train, X_test, y_train, y_test = _iris()
    net = _iris_net(dtype=None)
    assert net.dtype == "float32"
    for W, b in net.params:
        assert W.dtype == np.float32 and b.dtype == np.float32
    history = net.fit(X_train, y_train, epochs=200, batch_size=16, optimizer=sp.Adam(lr=0.01),
                      verbose=False)
    assert np.all(np.isfinite(history["loss"]))
    for W, b in net.params:
        assert W.dtype == np.float32 and b.dtype == np.float32
    out = net.predict(X_test)  # float64 input, float32 output
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)
    assert net.evaluate(X_test, y_test)["accuracy"] >= 0.9
    gradients = net.gradients(X_train, y_train)
    assert all(dW.dtype == np.float32 and db.dtype == np.float32 for dW, db in gradients)


def test_gradients_and_predictions_ignore_dropout():
    """Dropout is training-only: gradients() and predict() of a network with dropout equal
    those of the same weights without it (the masks once stayed uninitialised there)."""
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 3, 12)
    dropped = sp.Network([sp.Dense(3, 6, "tanh", dropout=0.5), sp.Dense(6, 5, "relu", dropout=0.3),
                          sp.Dense(5, 3, "softmax")], loss="ce", dtype="float64", seed=7)
    plain = sp.Network([sp.Dense(3, 6, "tanh"), sp.Dense(6, 5, "relu"),
                        sp.Dense(5, 3, "softmax")], loss="ce", dtype="float64", seed=7)
    plain.set_params(dropped.params)
    for (dW, db), (pW, pb) in zip(dropped.gradients(X, y), plain.gradients(X, y), strict=True):
        np.testing.assert_array_equal(dW, pW)
        np.testing.assert_array_equal(db, pb)
    np.testing.assert_array_equal(dropped.predict(X), plain.predict(X))


THREADS_CHILD = """
import json
from symprop.codegen import blas
blas.binding = lambda: None  # as where numpy's BLAS cannot be bound: products via np.dot
from symprop.runtime.threads import _controller
print(json.dumps([lib.filepath for lib in _controller().lib_controllers]))
"""


def test_blas_thread_limit_sees_scipys_blas_on_the_np_dot_path():
    """np.dot runs on SciPy's BLAS, which symprop's Numba set-up no longer imports early:
    the one scan of BLAS libraries must still find it, or the one-thread limit misses it."""
    done = subprocess.run([sys.executable, "-c", THREADS_CHILD], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert any("scipy" in path and "numpy.libs" not in path
               for path in json.loads(done.stdout.strip().splitlines()[-1]))


def test_blas_thread_limit_holds_the_bound_library_to_one_thread():
    """Small products run on one BLAS thread while fit runs, set directly on the bound
    OpenBLAS (as threadpoolctl, which reads it back here, sees it), and restored after,
    also when training raises."""
    from threadpoolctl import threadpool_info

    from symprop.codegen import blas
    from symprop.codegen.blas import binding, thread_count
    from symprop.runtime.threads import blas_threads_for

    if binding() is None or thread_count() is None:
        pytest.skip("no OpenBLAS bound: threadpoolctl limits the BLAS np.dot uses instead")
    get, set_ = thread_count()
    layers = [sp.Dense(4, 8, "relu"), sp.Dense(8, 1, "sigmoid")]
    before = get()
    set_(2)
    try:
        with pytest.raises(RuntimeError), blas_threads_for(layers, 32):
            counts = {info["filepath"]: info["num_threads"] for info in threadpool_info()
                      if info["internal_api"] == "openblas"}
            raise RuntimeError("a failing epoch")
        assert get() == 2
    finally:
        set_(before)
    bound = [path for path in counts if any(path == lib._name for lib in blas._LIBRARIES)]
    assert bound and all(counts[path] == 1 for path in bound)
    # large products keep BLAS's threads, but not on the split path, whose threads each
    # call BLAS
    big = [sp.Dense(784, 512, "relu"), sp.Dense(512, 10, "softmax")]
    try:
        set_(2)
        with blas_threads_for(big, 256):
            assert get() == 2
        with blas_threads_for(big, 256, split=True):
            assert get() == 1
        assert get() == 2
    finally:
        set_(before)


def test_a_target_shape_error_states_what_was_passed():
    X, y = sp.load_dataset("iris")
    regression = sp.Network([sp.Dense(4, 3, "identity")], loss="mse")
    with pytest.raises(sp.ShapeError, match=r"got shape \(150,\); integer class labels\? "
                                            r".*loss='ce'"):
        regression.fit(X, y, epochs=1, verbose=False)
    one = sp.Network([sp.Dense(4, 1, "identity")], loss="mse")
    with pytest.raises(sp.ShapeError, match=r"got shape \(150, 2\)$"):
        one.fit(X, np.ones((150, 2)), epochs=1, verbose=False)


def test_network_fit_shows_every_parameter_of_fit():
    import inspect

    from symprop.runtime import training

    def listed(function, skip):
        return [(name, p.default) for name, p in inspect.signature(function).parameters.items()
                if name != skip]

    assert listed(sp.Network.fit, "self") == listed(training.fit, "net")
    for public in (sp.Adam, sp.RMSprop, sp.load_dataset, sp.known_activations,
                   sp.Network.save, sp.Network.predict_classes, sp.Standardizer.fit):
        assert (public.__doc__ or "").strip(), public
