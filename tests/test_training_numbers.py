"""Training numbers: an update that makes a parameter or the optimizer's state non-finite
stops training at that batch with the weights from before it (CPU here; the CUDA paths in
tests/test_cuda_target.py), and losses stay finite where their terms overflow."""

from __future__ import annotations

import numpy as np
import pytest

import symprop as sp
from symprop.runtime import recovery, training
from symprop.runtime.threads import shards_for

OPTIMIZERS = {
    "sgd": lambda lr: sp.SGD(lr),
    "momentum": lambda lr: sp.SGD(lr, momentum=0.9, weight_decay=0.01),
    "adam": lambda lr: sp.Adam(lr),
    "rmsprop": lambda lr: sp.RMSprop(lr),
}


SCALE = {"float32": 1e25, "float64": 1e165}


def overflowing_data(rows: int = 16, dtype: str = "float32"):
    """Inputs of SCALE with a mae loss: the loss stays finite (about SCALE) while the
    gradient (about SCALE) times a learning rate of 1e30 or 1e300 overflows, and so does
    its square in Adam's and RMSprop's second moment."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, 4)) * SCALE[dtype], rng.standard_normal(rows)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_an_overflowing_update_stops_with_the_weights_from_before_it(dtype, optimizer):
    X, y = overflowing_data(dtype=dtype)
    net = sp.Network([sp.Dense(4, 6, "relu"), sp.Dense(6, 1, "identity")], loss="mae",
                     dtype=dtype, seed=0)
    before = net.params
    lr = 1e30 if dtype == "float32" else 1e300
    if optimizer in ("adam", "rmsprop"):
        lr = 1e-3  # their step is about lr; the overflow is in the squared-gradient moment
    with pytest.raises(sp.TrainingError, match=r"update of epoch 1, batch 1 of 2 made a "
                                                r"parameter or optimizer state non-finite"):
        net.fit(X, y, epochs=2, batch_size=8, optimizer=OPTIMIZERS[optimizer](lr),
                verbose=False, shuffle=False)
    for (W, b), (W0, b0) in zip(net.params, before, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)
    assert net._step == 0
    assert all(np.isfinite(state).all() for state in net._state)
    if optimizer in ("adam", "rmsprop", "momentum"):
        assert all(not state.any() for state in net._state)  # the state from before, zeros


def test_a_learning_rate_beyond_float32_is_caught():
    """The issue's own case: a float32 network whose learning rate is beyond float32's
    range (the float32 update takes it as inf, and the new weights are not finite)."""
    X, y = overflowing_data(8)
    X /= 1e8  # a gradient of about 1e12: only a learning rate beyond float32's range
    net = sp.Network([sp.Dense(4, 3, "relu"), sp.Dense(3, 1, "identity")], loss="mae",
                     dtype="float32", seed=1)
    with pytest.raises(sp.TrainingError, match="non-finite"):
        net.fit(X, y, epochs=1, batch_size=8, optimizer=sp.SGD(1e39), verbose=False)
    assert all(np.isfinite(a).all() for pair in net.params for a in pair)


@pytest.mark.parametrize(("optimizer", "batch_size"), [
    (sp.Adam(0.01, beta2=1 - 1e-8), 16), (sp.Adam(0.01, beta1=1 - 2e-8), 16),
    (sp.RMSprop(0.01, alpha=1 - 1e-8), 64)])
def test_float32_updates_keep_one_minus_beta_near_one(optimizer, batch_size):
    """A decay rate within float32's rounding of 1 (float32(beta) == 1): its 1 - beta is
    computed in double before the float32 loop takes it, so the float32 network follows the
    float64 one. Taken in the loop from a float32 beta, 1 - beta was 0 and Adam's first step
    about 1e8 too large. (RMSprop has no bias correction: with this alpha its steps are
    about 1e4 lr, so one step only; more and the two precisions part chaotically.)"""
    X, y = _regression_data()
    nets = {dtype: sp.Network([sp.Dense(4, 8, "tanh"), sp.Dense(8, 1, "identity")],
                              loss="mse", dtype=dtype, seed=3) for dtype in ("float32", "float64")}
    for net in nets.values():
        net.fit(X, y, epochs=3 if batch_size < 64 else 1, batch_size=batch_size,
                optimizer=optimizer, verbose=False, shuffle=False)
    for (W32, b32), (W64, b64) in zip(nets["float32"].params, nets["float64"].params,
                                      strict=True):
        np.testing.assert_allclose(W32, W64, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(b32, b64, rtol=1e-3, atol=1e-4)


def _regression_data(rows: int = 64):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((rows, 4))
    return X, X @ np.array([0.5, -1.0, 2.0, 0.1]) + 0.3


class FailAt:
    """Wraps a module's train_epoch: at call ``epoch`` it trains through batch ``batch``
    (0-based) and then reports that batch's update as non-finite (status 2), as the kernels
    do; ``stop_before`` instead trains only the batches before it (the reference run)."""

    def __init__(self, module, epoch: int, batch: int, stop_before: bool = False):
        self.train_epoch, self.epoch, self.batch = module.train_epoch, epoch, batch
        self.stop_before, self.calls, self.replayed = stop_before, 0, []

    def __call__(self, X, Y, perm, batch_size, *args, **kwargs):
        self.calls += 1
        if self.calls != self.epoch:
            if self.calls > self.epoch:
                self.replayed.append(len(perm))
            return self.train_epoch(X, Y, perm, batch_size, *args, **kwargs)
        rows = (self.batch + (0 if self.stop_before else 1)) * batch_size
        batches, step, status = self.train_epoch(X, Y, perm[:rows], batch_size, *args, **kwargs)
        assert status == 0
        return (batches, step, 0) if self.stop_before else (self.batch, step, 2)


def one_epoch_a_call(monkeypatch) -> None:
    """fit calls train_epoch once an epoch (else several epochs a call where it can)."""
    monkeypatch.setattr(training, "_epochs_at_once", lambda *args: 1)


# Copies every N batches, with 4 batches an epoch -> what the replay runs (rows per call):
# every 3: a copy at each epoch's start, so only the failing epoch's first two batches;
# every 6: copies at epochs 1 and 3; every 64: only at epoch 1, so three whole epochs first.
REPLAYS = {3: [12], 6: [20, 12], 64: [20, 20, 20, 12]}


@pytest.mark.parametrize("every, blocks", [(every, False) for every in sorted(REPLAYS)]
                         + [(6, True)])
def test_recovery_replays_to_the_batch_before_the_failure(monkeypatch, every, blocks):
    """A failure in epoch 4, batch 3: the weights, optimizer state, step count and random
    generator equal those of a run that stopped just before that batch, with shuffling and
    dropout (whose seeds each copy redraws) on; with ``blocks``, in a network with batch
    normalization (its running statistics too) and dropout inside a residual block."""
    monkeypatch.setattr(recovery, "EVERY_BATCHES", every)
    one_epoch_a_call(monkeypatch)  # FailAt counts calls as epochs
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)

    def network():
        middle = [sp.BatchNorm(6), sp.Residual([sp.Dense(6, 6, "relu", dropout=0.2)])]
        return sp.Network([sp.Dense(3, 6, "tanh", dropout=0.3), *(middle if blocks else []),
                           sp.Dense(6, 2, "softmax")], loss="ce", dtype="float64", seed=7)

    failing, reference = network(), network()
    wrappers = {}
    for net, stop_before in ((failing, False), (reference, True)):
        module = net._module(sp.Adam(0.01))
        wrappers[stop_before] = FailAt(module, epoch=4, batch=2, stop_before=stop_before)
        monkeypatch.setattr(module, "train_epoch", wrappers[stop_before])
        try:
            if stop_before:
                net.fit(X, y, epochs=4, batch_size=6, optimizer=sp.Adam(0.01), verbose=False)
            else:
                with pytest.raises(sp.TrainingError, match="epoch 4, batch 3 of 4"):
                    net.fit(X, y, epochs=6, batch_size=6, optimizer=sp.Adam(0.01),
                            verbose=False)
        finally:
            monkeypatch.undo()
            monkeypatch.setattr(recovery, "EVERY_BATCHES", every)
            one_epoch_a_call(monkeypatch)
    assert wrappers[False].replayed == REPLAYS[every]
    for (W, b), (W0, b0) in zip(failing.params, reference.params, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    for state, expected_state in zip(failing._state + failing._running,
                                     reference._state + reference._running, strict=True):
        np.testing.assert_array_equal(state, expected_state)
    assert len(failing._running) == (2 if blocks else 0)
    assert failing._step == reference._step == 3 * 4 + 2
    assert failing._rng.integers(1 << 30) == reference._rng.integers(1 << 30)


def test_the_split_batch_path_reports_a_non_finite_update():
    X, y = overflowing_data(128)
    X = np.hstack([X] * 16)
    net = sp.Network([sp.Dense(64, 128, "relu"), sp.Dense(128, 64, "relu"),
                      sp.Dense(64, 1, "identity")], loss="mae", dtype="float32", seed=0)
    module = net._module(sp.SGD(1e30))
    if shards_for(module, net.layers, 64) < 2:
        pytest.skip("batches do not split over threads here (one thread, or workqueue)")
    before = net.params
    with pytest.raises(sp.TrainingError, match="update of epoch 1, batch 1 of 2"):
        net.fit(X, y, epochs=1, batch_size=64, optimizer=sp.SGD(1e30), verbose=False)
    for (W, b), (W0, b0) in zip(net.params, before, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_cosh_is_finite_where_cosh_overflows(dtype):
    """log(cosh(r)) = |r| + log1p(e^{-2|r|}) - log 2, and its gradient tanh(r): finite for
    |r| far beyond 89 (float32) and 710 (float64), where cosh itself overflows."""
    net = sp.Network([sp.Dense(1, 1, "identity")], loss="log_cosh", dtype=dtype)
    net.set_params([(np.array([[1.0]]), np.array([0.0]))])
    X = np.array([[100.0], [1000.0], [-800.0], [0.5]])
    y = np.zeros(4)
    r = X[:, 0]
    expected = np.mean(np.abs(r) + np.log1p(np.exp(-2 * np.abs(r))) - np.log(2.0))
    assert net.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-6)
    (dW, db), = net.gradients(X, y)
    assert db[0] == pytest.approx(np.mean(np.tanh(r)), rel=1e-6)
    assert dW[0, 0] == pytest.approx(np.mean(np.tanh(r) * r), rel=1e-6)


@pytest.mark.parametrize("every", [3, 64])
def test_recovery_with_dropout_and_no_seed_restores_the_weights_before_the_batch(
        monkeypatch, every):
    """seed=None: the dropout masks still replay (each copy reseeds them from the network's
    own generator), so the weights are exactly those the failing batch started from."""
    monkeypatch.setattr(recovery, "EVERY_BATCHES", every)
    one_epoch_a_call(monkeypatch)  # the failing call is epoch 3
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    net = sp.Network([sp.Dense(3, 6, "tanh", dropout=0.3), sp.Dense(6, 2, "softmax")],
                     loss="ce", dtype="float64", seed=None)
    module = net._module(sp.Adam(0.01))
    real, calls, before = module.train_epoch, [], {}

    def failing(X, Y, perm, batch_size, step, *rest, **kwargs):
        calls.append(len(perm))
        if len(calls) != 3:
            return real(X, Y, perm, batch_size, step, *rest, **kwargs)
        _, step, _ = real(X, Y, perm[:2 * batch_size], batch_size, step, *rest, **kwargs)
        before["params"], before["step"] = net.params, step
        _, step, _ = real(X, Y, perm[2 * batch_size:3 * batch_size], batch_size, step, *rest,
                          **kwargs)
        return 2, step, 2

    monkeypatch.setattr(module, "train_epoch", failing)
    with pytest.raises(sp.TrainingError, match="epoch 3, batch 3 of 4"):
        net.fit(X, y, epochs=5, batch_size=6, optimizer=sp.Adam(0.01), verbose=False)
    for (W, b), (W0, b0) in zip(net.params, before["params"], strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    assert net._step == before["step"]
