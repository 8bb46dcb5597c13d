"""Every failure is a symprop error (issue 14): seeds, batch sizes and epochs, set_params,
and classification losses after outputs that are not probabilities; through the API and,
where there is one, the CLI (one line, exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from cli_subprocess import assert_cli_error, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.cli import main
from symprop.errors import DataError, ShapeError, SympropError


def small_net(seed=0, dtype="float64"):
    return sp.Network([sp.Dense(2, 3, "tanh"), sp.Dense(3, 1, "sigmoid")], loss="bce",
                      dtype=dtype, seed=seed)


def small_data(rows=10):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 2))
    return X, (X[:, 0] > 0).astype(np.int64)


# -- seeds ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [-1, True, 1.5, "0", [1, 2], -(2**70)])
def test_a_seed_is_none_or_a_non_negative_int(seed):
    with pytest.raises(SympropError, match=r"seed must be None or an integer >= 0"):
        small_net(seed=seed)
    with pytest.raises(SympropError, match=r"seed must be None or an integer >= 0"):
        sp.train_test_split(*small_data(), seed=seed)


@pytest.mark.parametrize("seed", [None, 0, np.int64(3), 2**70])
def test_valid_seeds_still_build(seed):
    assert small_net(seed=seed).seed == seed


def test_cli_seed_below_zero_is_one_line():
    assert_cli_error(run_cli("train", "--seed", "-1", "--epochs", "1"), "--seed", "-1")


# -- batch size, epochs, patience: nothing is allocated by their size ---------------------------

@pytest.mark.parametrize("batch_size", [2**62, 2**40, 11])
def test_a_batch_larger_than_the_data_is_one_batch_of_all_rows(batch_size, monkeypatch):
    X, y = small_data(rows=10)
    reference, net = small_net(), small_net()
    reference.fit(X, y, epochs=2, batch_size=10, optimizer=sp.SGD(0.1), shuffle=False,
                  verbose=False)
    optimizer = sp.SGD(0.1)
    module = net._module(optimizer)
    passed = []
    original = module.train_epoch

    def spy(X, Y, perm, batch_size, *rest, **options):
        passed.extend([batch_size] * options.get("epochs", 1))  # epochs in one call: each
        return original(X, Y, perm, batch_size, *rest, **options)

    monkeypatch.setattr(module, "train_epoch", spy)
    history = net.fit(X, y, epochs=2, batch_size=batch_size, optimizer=optimizer,
                      shuffle=False, verbose=False, metrics_each_epoch=False)
    # The generated module sizes its batch buffers by the batch size it is given.
    assert passed == [10, 10]
    assert history.epochs == 2
    for (W, b), (W_ref, b_ref) in zip(net.params, reference.params, strict=True):
        np.testing.assert_array_equal(W, W_ref)
        np.testing.assert_array_equal(b, b_ref)


def test_absurd_epochs_and_patience_allocate_nothing_by_their_size():
    X, y = small_data()
    net = small_net()
    # lr so small that float64 weights do not move: no improvement, early stop after 2 epochs.
    history = net.fit(X, y, epochs=2**62, batch_size=4, optimizer=sp.SGD(1e-300), patience=2,
                      verbose=False)
    assert history.epochs == 3 and history.stopped_epoch == 3
    history = small_net().fit(X, y, epochs=2, patience=2**62, verbose=False)
    assert history.epochs == 2


def test_cli_batch_size_beyond_the_data_trains():
    run = run_cli("train", "--epochs", "1", "--batch-size", str(2**62), "--json")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr


# -- set_params ----------------------------------------------------------------------------------

GOOD_W1, GOOD_B1 = np.zeros((2, 3)), np.zeros(3)


@pytest.mark.parametrize("second_pair, error, fragment", [
    (("ab", "cd"), DataError, "numeric"),
    ((object(), np.zeros(1)), DataError, "numeric"),
    ((np.ones((3, 1)) * 1j, np.zeros(1)), DataError, "complex"),
    (([[1.0], [2.0, 3.0], [4.0]], [0.0]), DataError, "cannot be read as an array"),
    ((np.zeros((3, 1)),), ShapeError, "pair (W, b)"),
    ((np.zeros((3, 1)), np.zeros(1), np.zeros(1)), ShapeError, "pair (W, b)"),
    (5, ShapeError, "pair (W, b)"),
    ("Wb", ShapeError, "pair (W, b)"),
    ({"W": 1, "b": 2}, ShapeError, "pair (W, b)"),
    ((np.zeros((1, 3)), np.zeros(1)), ShapeError, "expected W (3, 1)"),
    (([[[1.0]], [[2.0]], [[3.0]]], [0.0]), ShapeError, "expected W (3, 1)"),
    ((np.full((3, 1), np.nan), np.zeros(1)), DataError, "NaN or inf"),
    ((np.full((3, 1), 1e300), np.zeros(1)), DataError, "NaN or inf"),  # inf in float32
])
def test_set_params_junk_is_an_error_naming_the_layer(second_pair, error, fragment):
    net = small_net(dtype="float32")
    before = net.params
    with pytest.raises(error) as info:
        net.set_params([(GOOD_W1, GOOD_B1), second_pair])
    assert "layer 2" in str(info.value) and fragment in str(info.value), str(info.value)
    for (W, b), (W0, b0) in zip(net.params, before, strict=True):  # nothing changed
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("params", [None, 5, "abc", {"a": 1}, [(GOOD_W1, GOOD_B1)],
                                    [GOOD_W1, GOOD_B1, np.zeros((3, 1)), np.zeros(1)]])
def test_set_params_needs_one_pair_per_layer(params):
    with pytest.raises(ShapeError, match="set_params"):
        small_net().set_params(params)


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3)
    | st.complex_numbers() | st.binary(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK)
def test_set_params_with_random_junk_only_raises_symprop_errors(junk):
    net = small_net(dtype="float32")
    for params in (junk, [junk, junk], [(GOOD_W1, GOOD_B1), junk]):
        try:
            net.set_params(params)
        except SympropError:
            pass


# -- classification losses need probabilities ------------------------------------------------

@pytest.mark.parametrize("activation, loss, valid", [
    ("identity", "bce", "'sigmoid'"), ("tanh", "bce", "'sigmoid'"), ("relu", "bce", "'sigmoid'"),
    ("leaky_relu", "bce", "'sigmoid'"), ("elu", "bce", "'sigmoid'"),
    ("softplus", "binary_crossentropy", "'sigmoid'"),
    ("identity", "ce", "'softmax'"), ("tanh", "ce", "'softmax'"), ("relu", "cross_entropy",
                                                                  "'softmax'"),
])
def test_bce_and_ce_refuse_outputs_that_are_not_probabilities(activation, loss, valid):
    with pytest.raises(SympropError) as info:
        sp.Network([sp.Dense(2, 4, "relu"), sp.Dense(4, 2, activation)], loss=loss)
    message = str(info.value)
    canonical = "bce" if "b" in loss else "ce"
    for fragment in ("layer 2", repr(activation), repr(canonical), valid, "[0, 1]"):
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_bce_after_softmax_is_refused_pointing_to_ce():
    with pytest.raises(SympropError, match="layer 1 .*'softmax'.*use ce for softmax outputs"):
        sp.Network([sp.Dense(2, 3, "softmax")], loss="bce")


@pytest.mark.parametrize("activation, loss", [
    ("sigmoid", "bce"), ("logistic", "bce"), ("softmax", "ce"), ("sigmoid", "ce"),
    ("identity", "mse"), ("tanh", "huber")])
def test_probability_outputs_and_regression_losses_still_build(activation, loss):
    sp.Network([sp.Dense(2, 2, activation)], loss=loss)


def test_builtin_outputs_are_checked_without_sympy():
    code = ("import sys, symprop as sp\n"
            "try:\n    sp.Network([sp.Dense(2, 1, 'tanh')], loss='bce')\n"
            "except sp.SympropError:\n    pass\nelse:\n    raise SystemExit('not refused')\n"
            "sp.Network([sp.Dense(2, 1, 'sigmoid')], loss='bce')\n"
            "assert 'sympy' not in sys.modules, 'SymPy was imported'\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("formula, name, loss", [
    ("1/(1 + exp(-x))", None, "bce"), ("tanh(x)/2 + 1/2", "sigmoid", "bce"),
    ("1/(1 + exp(-x))", None, "ce")])
def test_formula_outputs_in_the_unit_interval_build(formula, name, loss):
    sp.Network([sp.Dense(2, 2, formula, name=name)], loss=loss)


@pytest.mark.parametrize("formula, name, loss", [
    ("2*x", None, "bce"), ("tanh(x)", "sigmoid", "bce"), ("x/(1 + exp(-x))", None, "ce")])
def test_formula_outputs_outside_the_unit_interval_are_refused(formula, name, loss):
    """Decided from the expression, never the name (a tanh called "sigmoid" is refused)."""
    with pytest.raises(SympropError, match=f"does not output probabilities.*{loss}"):
        sp.Network([sp.Dense(2, 2, formula, name=name)], loss=loss)


def test_cli_train_refuses_bce_after_tanh():
    run = run_cli("train", "--arch", "4-3:tanh", "--loss", "bce", "--epochs", "1")
    assert_cli_error(run, "layer 1", "'tanh'", "'bce'", "sigmoid")


# -- the CLI's last line of defence ------------------------------------------------------------

def _raising(error):
    def handler(args):
        raise error
    return handler


def test_cli_os_error_is_one_line_exit_2_naming_the_users_path(monkeypatch, capsys):
    error = PermissionError(13, "Permission denied", "/data/.tmp-x1.npz", None,
                            "/data/model.npz")  # a rename: the destination is the user's
    monkeypatch.setattr("symprop.cli.run_derive", _raising(error))
    assert main(["derive", "sigmoid"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["symprop: error: /data/model.npz: Permission denied"]


def test_cli_multi_line_messages_stay_one_line(monkeypatch, capsys):
    monkeypatch.setattr("symprop.cli.run_derive", _raising(SympropError("first\nsecond")))
    assert main(["derive", "sigmoid"]) == 2
    assert capsys.readouterr().err == "symprop: error: first second\n"


def test_cli_unexpected_exception_is_one_line_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr("symprop.cli.run_derive", _raising(TypeError("a bug")))
    assert main(["derive", "sigmoid"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("symprop: internal error") and err.count("\n") == 1
    assert "TypeError: a bug" in err and "Traceback" not in err


# -- odd calls the review found raising raw exceptions -------------------------------------
def _odd_calls():
    net = sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce")
    return {
        "a list of strings as layers": lambda: sp.network_derivation(["2-3"], "mse"),
        "an unknown optimizer name": lambda: net.kernel_source("zz"),
        "a NUL in a model path": lambda: sp.load("/tmp/a\0b"),
        "a NUL in a save path": lambda: net.save("/tmp/a\0b"),
        "a NUL in a CSV path": lambda: sp.load_csv("/tmp/a\0b", "y"),
        "a CSV path that is a number": lambda: sp.load_csv(5, "y"),
        "a device as a CSV": lambda: sp.load_csv("/dev/zero", "y"),
        "a trillion classes": lambda: sp.one_hot(np.array([0, 1]), 10**12),
        "classes as a string": lambda: sp.one_hot(np.array([0, 1]), "2"),
        "an infinite label": lambda: sp.one_hot(np.array([0, np.inf]), 2),
        "labels as a table": lambda: sp.one_hot(np.zeros((4000, 2), np.int64), 2),
        "variables None": lambda: sp.gradient("x*y", None),
        "130 layers": lambda: sp.Network([sp.Dense(1, 1, "tanh") for _ in range(130)]),
    }


@pytest.mark.parametrize("case", sorted(_odd_calls()))
def test_odd_calls_raise_symprop_errors(case):
    with pytest.raises(SympropError):
        _odd_calls()[case]()


def test_save_onto_a_folder_is_refused_before_npz_is_added(tmp_path):
    with pytest.raises(sp.FileError, match="it is a folder"):
        small_net().save(tmp_path)
    assert not (tmp_path.parent / (tmp_path.name + ".npz")).exists()


@pytest.mark.parametrize("options, fragment", [
    (["--momentum", "nan"], "momentum"), (["--momentum", "-1"], "momentum"),
    (["--weight-decay", "1e400"], "weight_decay"),
    (["--optimizer", "adam", "--momentum", "0.5"], "--momentum applies to sgd"),
])
def test_cli_kernels_checks_the_optimizer_options(tmp_path, options, fragment):
    run = run_cli("kernels", "4-8:relu-3:softmax", "--loss", "ce", "--out", str(tmp_path),
                  *options)
    assert_cli_error(run, fragment)


def test_cli_train_refuses_momentum_for_adam():
    assert_cli_error(run_cli("train", "--optimizer", "adam", "--momentum", "0.5",
                             "--epochs", "1"), "--momentum applies to sgd")


def test_cli_train_refuses_a_device_as_csv():
    assert_cli_error(run_cli("train", "--csv", "/dev/zero", "--label", "y"),
                     "/dev/zero is not a regular file")
