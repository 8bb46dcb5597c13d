"""Several epochs in one call of the generated module (fit's default where nothing runs
between epochs: symprop/runtime/training.py, _epochs_at_once). They must train exactly as
one epoch a call does: the same row orders, dropout masks, copies of the training state,
weights, history and errors, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.runtime import recovery, training
from symprop.runtime.metrics import BatchScoreMetrics, RunningMetrics
from symprop.runtime.support import shuffled_epochs, shuffled_rows


def one_epoch_a_call(monkeypatch) -> None:
    monkeypatch.setattr(training, "_epochs_at_once", lambda *args: 1)


@pytest.fixture(autouse=True)
def calls_by_copies_alone(monkeypatch):
    """Calls as long as the copies allow, whatever this machine's pace, and a copy every 64
    batches: several copies (each redraws the dropout masks' seed) in a short fit."""
    monkeypatch.setattr(training, "CALL_SECONDS", float("inf"))
    monkeypatch.setattr(recovery, "EVERY_BATCHES", 64)


def counting_calls(monkeypatch, net: sp.Network, optimizer) -> list[int]:
    """The epochs of each call of the network's train_epoch, as fit makes them."""
    module = net._module(optimizer)
    original, calls = module.train_epoch, []

    def train_epoch(*args, **kwargs):
        calls.append(kwargs.get("epochs", 1))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "train_epoch", train_epoch)
    return calls


NETWORKS = {
    "ce": lambda: [sp.Dense(5, 8, "relu"), sp.Dense(8, 3, "softmax")],
    "bce": lambda: [sp.Dense(5, 6, "tanh", dropout=0.25), sp.Dense(6, 2, "sigmoid")],
    "mse": lambda: [sp.Dense(5, 6, "relu"), sp.BatchNorm(6),
                    sp.Residual([sp.Dense(6, 6, "tanh")]), sp.Dense(6, 2, "identity")],
}


def targets(loss: str, rng, rows: int, units: int | None = None) -> np.ndarray:
    """y for ``loss`` (ce: class labels; bce: 0 or 1; else normal) of ``units`` outputs,
    NETWORKS' by default."""
    if loss == "ce":
        return rng.integers(0, units or 3, rows)
    if loss == "bce":
        return rng.integers(0, 2, (rows, units or 2)).astype(float)
    return rng.standard_normal((rows, units or 2))


def trained(loss: str, optimizer, rows: int, epochs: int, shuffle: bool, dtype: str):
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((rows, 5)), targets(loss, rng, rows)
    net = sp.Network(NETWORKS[loss](), loss=loss, dtype=dtype, seed=3)
    history = net.fit(X, y, epochs=epochs, batch_size=7, optimizer=optimizer,
                      shuffle=shuffle, clip_norm=5.0, verbose=False)
    return net, history


@pytest.mark.parametrize("loss", sorted(NETWORKS))
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_several_epochs_a_call_train_as_one_at_a_time(monkeypatch, loss, shuffle, dtype):
    """30 rows in batches of 7 (the last of 2 rows): 5 batches an epoch, so a copy of the
    training state every 13 epochs: a first call of one epoch, then calls up to each copy;
    with dropout (each copy reseeds its masks), batch normalization, clipping and Adam."""
    optimizer = sp.Adam(0.01)
    probe = sp.Network(NETWORKS[loss](), loss=loss, dtype=dtype, seed=3)
    calls = counting_calls(monkeypatch, probe, optimizer)
    rng = np.random.default_rng(11)
    probe.fit(rng.standard_normal((30, 5)), targets(loss, rng, 30), epochs=30, batch_size=7,
              optimizer=optimizer, shuffle=shuffle, verbose=False)
    assert calls == [1, 12, 13, 4]

    net, history = trained(loss, sp.Adam(0.01), 30, 30, shuffle, dtype)
    one_epoch_a_call(monkeypatch)
    reference, expected = trained(loss, sp.Adam(0.01), 30, 30, shuffle, dtype)
    assert history.keys() == expected.keys()
    for key in history.keys():
        assert history[key] == expected[key], key  # every epoch's value, exactly
    assert history.best_epoch == expected.best_epoch
    for got, want in zip(net._flat_params() + net._running + net._state,
                         reference._flat_params() + reference._running + reference._state,
                         strict=True):
        np.testing.assert_array_equal(got, want)
    assert net._step == reference._step == 30 * 5
    assert net._rng.bit_generator.state == reference._rng.bit_generator.state


def diverging():
    """A linear regression whose SGD steps grow the weights until float32 overflows, a few
    epochs in (4 batches an epoch, so a copy every 16 epochs)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((32, 4)) * 3
    y = rng.standard_normal(32)
    net = sp.Network([sp.Dense(4, 1, "identity")], loss="mse", dtype="float32", seed=1)
    return net, X, y


def test_a_failure_inside_a_call_stops_where_one_epoch_a_call_stops(monkeypatch):
    """The TrainingError names the same epoch and batch, and the weights are the same: those
    from before the failing batch (replayed from the copy at the call's start)."""
    net, X, y = diverging()
    calls = counting_calls(monkeypatch, net, sp.SGD(0.9))
    with pytest.raises(sp.TrainingError) as raised:
        net.fit(X, y, epochs=40, batch_size=8, optimizer=sp.SGD(0.9), verbose=False)
    one_epoch_a_call(monkeypatch)
    reference, X, y = diverging()
    with pytest.raises(sp.TrainingError) as expected:
        reference.fit(X, y, epochs=40, batch_size=8, optimizer=sp.SGD(0.9), verbose=False)
    assert str(raised.value) == str(expected.value)
    failed_epoch = int(str(raised.value).split("epoch ")[1].split(",")[0])
    assert calls[:2] == [1, 15], calls  # then the replay's calls, one epoch each
    assert 2 <= failed_epoch <= 16, "the failure must fall inside the second call's epochs"
    for got, want in zip(net._flat_params(), reference._flat_params(), strict=True):
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, want)
    assert net._step == reference._step


def test_the_bar_moves_by_the_epochs_of_each_call(monkeypatch, capsys):
    """verbose: the first (compiling) epoch alone, then calls of several epochs; the bar
    ends at the epochs asked for, with the last epoch's values."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 5)), rng.integers(0, 3, 30)
    net = sp.Network(NETWORKS["ce"](), loss="ce", seed=0)
    history = net.fit(X, y, epochs=20, batch_size=7, verbose=True)
    err = capsys.readouterr().err
    assert "20/20" in err
    assert f"loss={history['loss'][-1]:.4g}" in err
    assert len(history["loss"]) == len(history["accuracy"]) == 20


def test_train_epoch_takes_several_epochs_as_the_exported_modules_do():
    """The module's own API: epochs=3 with three orders back to back equals three calls;
    orders or arrays of the wrong length are refused before the compiled loop writes."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 5)), rng.integers(0, 3, 10)
    Y = np.eye(3)[y]
    optimizer = sp.SGD(0.1, momentum=0.9)
    orders = [rng.permutation(10) for _ in range(3)]
    results = []
    for together in (True, False):
        net = sp.Network(NETWORKS["ce"](), loss="ce", dtype="float64", seed=2)
        module = net._module(optimizer)
        params = [p for pair in net.params for p in pair]
        state = [np.zeros_like(p) for p in params]
        losses = np.zeros(3 * 3)
        outputs = np.zeros((30, 3))
        if together:
            batches, step, status = module.train_epoch(
                X, Y, np.concatenate(orders), 4, 0, 0.0, losses, *params, *state,
                *optimizer.hyper_values(), outputs=outputs, epochs=3)
        else:
            step = 0
            for e, order in enumerate(orders):
                batches, step, status = module.train_epoch(
                    X, Y, order, 4, step, 0.0, losses[3 * e:], *params, *state,
                    *optimizer.hyper_values(), outputs=outputs[10 * e:])
        results.append((params, state, losses, outputs, step, status))
    (params, state, losses, outputs, step, status), want = results
    assert step == want[4] == 9 and status == want[5] == 0
    for got, expected in zip(params + state + [losses, outputs], want[0] + want[1] + [
            want[2], want[3]], strict=True):
        np.testing.assert_array_equal(got, expected)
    args = (*params, *state, *optimizer.hyper_values())
    with pytest.raises(ValueError, match="epochs"):
        module.train_epoch(X, Y, np.arange(25), 4, 0, 0.0, losses, *args, epochs=3)
    with pytest.raises(ValueError, match="outputs must have"):
        module.train_epoch(X, Y, np.tile(np.arange(10), 3), 4, 0, 0.0, losses, *args,
                           outputs=np.zeros((20, 3)), epochs=3)
    with pytest.raises(ValueError, match="batch_losses"):
        module.train_epoch(X, Y, np.tile(np.arange(10), 3), 4, 0, 0.0, np.zeros(8), *args,
                           epochs=3)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 70), seeds=st.lists(st.integers(0, 2**63 - 1), min_size=1,
                                            max_size=5))
def test_several_epochs_orders_are_each_seeds_own(n, seeds):
    """Drawn in one call (compiled or in Python), each epoch's order is shuffled_rows' of
    its seed."""
    out = np.empty(len(seeds) * n, dtype=np.int64)
    shuffled_epochs(n, np.array(seeds, dtype=np.uint64), out)
    for e, seed in enumerate(seeds):
        np.testing.assert_array_equal(out[e * n:(e + 1) * n], shuffled_rows(n, seed))


# (output activation, loss): each of the loss's code paths (softmax_ce, softmax_vjp, the
# generic one) and each count (argmax, threshold, errors), a loss with a hyperparameter and
# a formula loss among them
SCORED = [("softmax", "ce"), ("sigmoid", "bce"), ("identity", "mse"), ("softmax", "mse"),
          ("sigmoid", "ce"), ("identity", "huber"), ("tanh", "mae"),
          ("identity", "(yhat - y)**2 + log(1 + (yhat - y)**2)")]


@settings(max_examples=60, deadline=None)
@given(pair=st.sampled_from(SCORED), dtype=st.sampled_from(["float32", "float64"]),
       rows=st.integers(1, 23), batch=st.integers(1, 9), count=st.integers(1, 3),
       tied=st.booleans(), seed=st.integers(0, 1000))
def test_batch_scores_are_the_metrics_of_the_outputs(pair, dtype, rows, batch, count, tied,
                                                     seed):
    """The counts the compiled epoch makes batch by batch (scores) give, epoch by epoch,
    the metrics NumPy takes of the same epochs' outputs as each batch saw them: accuracy
    exactly, MAE and R^2 to rounding. tied: the output layer's weights zero and no update
    (lr 0), so every output row is a tie (ce: argmax takes the first; bce: all at 0.5)."""
    out_act, loss = pair
    rng = np.random.default_rng(seed)
    units = 1 if loss == "bce" and seed % 2 else 3
    net = sp.Network([sp.Dense(4, 5, "tanh"), sp.Dense(5, units, out_act)], loss=loss,
                     dtype=dtype, seed=seed)
    loss = net.loss  # a formula's metrics are a regression's
    if tied:
        net._arrays[2][...] = 0
        net._arrays[3][...] = 0
    optimizer = sp.SGD(0.3)
    module = net._module(optimizer)
    hyper = [0.0 * value for value in optimizer.hyper_values()] if tied else (
        optimizer.hyper_values())
    X = net._features(rng.standard_normal((rows, 4)))
    Y = net._targets(targets(loss, rng, rows, units), rows)
    batches = -(-rows // batch)
    perm = np.concatenate([rng.permutation(rows) for _ in range(count)])
    losses, scores = np.empty(count * batches), np.full((count * batches, 2), np.nan)
    outputs = np.empty((count * rows, units), X.dtype)
    done, _, status = module.train_epoch(
        X, Y, perm, batch, 0, 0.0, losses, *net._flat_params(), *net._model_hyper(), *hyper,
        outputs=outputs, scores=scores, epochs=count)
    assert (done, status) == (count * batches, 0)
    counted = BatchScoreMetrics(module.BATCH_SCORES, Y).epochs(scores, count)
    measured = RunningMetrics(loss, Y)
    for e in range(count):
        want = measured(outputs[e * rows:(e + 1) * rows])
        assert counted.keys() == want.keys()
        for key, value in want.items():
            if key == "accuracy":
                assert counted[key][e] == value
            else:
                np.testing.assert_allclose(counted[key][e], value, rtol=1e-9, atol=1e-12)
    if tied and loss == "ce":
        first_class = np.count_nonzero(Y.argmax(axis=1) == 0) / rows
        assert counted["accuracy"] == [first_class] * count


def test_train_epoch_without_scores_or_outputs_keeps_neither(monkeypatch):
    """Neither asked for: run() gets no room for them, so nothing is made or written (fit
    with exact metrics); scores of the wrong shape are refused before the compiled loop
    writes."""
    rng = np.random.default_rng(1)
    net = sp.Network(NETWORKS["ce"](), loss="ce", seed=1)
    optimizer = sp.SGD(0.1)
    module = net._module(optimizer)
    X, Y = net._features(rng.standard_normal((12, 5))), net._targets(rng.integers(0, 3, 12), 12)
    args = (*net._flat_params(), *optimizer.hyper_values())
    losses = np.empty(3)
    real, given = module.run, []
    monkeypatch.setattr(module, "run", lambda *a: given.append(a[9:11]) or real(*a))
    assert module.train_epoch(X, Y, np.arange(12), 4, 0, 0.0, losses, *args)[2] == 0
    (scores, out), = given
    assert scores.shape == (0, 2) and out.shape == (0, 3)
    for wrong in (np.empty((2, 2)), np.empty((3, 1)), np.empty(3)):
        with pytest.raises(ValueError, match="scores"):
            module.train_epoch(X, Y, np.arange(12), 4, 0, 0.0, losses, *args, scores=wrong)
    assert len(given) == 1
