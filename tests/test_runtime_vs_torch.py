"""The runtime against PyTorch autograd and torch.optim (float64), the notes' hand-written
NumPy training loop, and the notes' backprop worked example.

Every distinct network structure compiles a Numba module (seconds, cold), so this file keeps
to a few structures: four networks are trained with one optimizer each (their gradients are
then checked at the trained weights, through the same module), two more are checked for
gradients only, and two small ones reproduce the notes.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import symprop as sp  # noqa: E402

# -- reference implementation in torch ------------------------------------------------------

def _torch_activation(name: str, hyper: dict):
    table = {
        "identity": lambda z: z,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=hyper.get("alpha", 0.01)),
        "elu": lambda z: F.elu(z, alpha=hyper.get("alpha", 1.0)),
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
        "gelu": F.gelu,
        "silu": F.silu,
        "softmax": lambda z: torch.softmax(z, dim=1),
    }
    return table[name]


def _torch_loss(layers, loss: str, params, X, Y):
    """Batch-mean loss with torch's own loss functions; ``params`` are torch tensors
    [W1, b1, W2, b2, ...] with W shaped (n_in, n_out) as in symprop."""
    A = X
    for number, (_, _, act, hyper) in enumerate(layers):
        Z = A @ params[2 * number] + params[2 * number + 1]
        last = number == len(layers) - 1
        if last and loss == "ce":
            assert act == "softmax"
            return F.cross_entropy(Z, Y)  # logits; Y: int64 labels or one-hot probabilities
        A = _torch_activation(act, hyper)(Z)
    if loss == "bce":
        return F.binary_cross_entropy(A, Y)
    if loss == "mse":
        return F.mse_loss(A, Y)
    if loss == "mae":
        return F.l1_loss(A, Y)
    raise AssertionError(loss)


def _torch_outputs(layers, params, X):
    """The output layer's activations (probabilities for softmax)."""
    A = X
    for number, (_, _, act, hyper) in enumerate(layers):
        A = _torch_activation(act, hyper)(A @ params[2 * number] + params[2 * number + 1])
    return A


def _torch_targets(loss: str, y: np.ndarray, n_out: int):
    if loss == "ce" and y.ndim == 1:
        return torch.tensor(y, dtype=torch.int64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    assert y.shape[1] == n_out
    return torch.tensor(y, dtype=torch.float64)


def _torch_params(params):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True)
            for pair in params for a in pair]


def _torch_gradients(layers, loss, params, X, y):
    tparams = _torch_params(params)
    n_out = layers[-1][1]
    value = _torch_loss(layers, loss, tparams, torch.tensor(X, dtype=torch.float64),
                        _torch_targets(loss, y, n_out))
    grads = torch.autograd.grad(value, tparams)
    return float(value.detach()), [g.numpy() for g in grads]


def _make_net(layers, loss, seed=0):
    return sp.Network([sp.Dense(n_in, n_out, act, **hyper) for n_in, n_out, act, hyper in layers],
                      loss=loss, dtype="float64", seed=seed)


def _assert_gradients(net, layers, loss, X, y, what):
    got = [a for pair in net.gradients(X, y) for a in pair]
    _, expected = _torch_gradients(layers, loss, net.params, X, y)
    assert len(got) == len(expected)
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        name = f"{what}: {'dW' if index % 2 == 0 else 'db'}{index // 2 + 1}"
        assert g.shape == e.shape, name
        assert g.dtype == np.float64, name
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12, err_msg=name)
    # and not trivially: the gradient is not all zeros
    assert any(np.abs(g).max() > 1e-6 for g in got), what


# -- data -----------------------------------------------------------------------------------

N_SAMPLES, N_FEATURES = 40, 5


def _data(loss: str, n_out: int, output: str, seed: int = 7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    if loss == "ce":
        y = rng.integers(0, n_out, N_SAMPLES)
        y[:n_out] = np.arange(n_out)  # every class present
    elif loss == "bce":
        y = rng.integers(0, 2, N_SAMPLES).astype(np.float64)
    elif output == "tanh":
        y = rng.uniform(-0.9, 0.9, (N_SAMPLES, n_out))
    elif output == "softmax":
        y = rng.dirichlet(np.ones(n_out), N_SAMPLES)
    else:
        y = rng.standard_normal((N_SAMPLES, n_out))
    return X, y


# Networks trained against torch.optim (one optimizer each), then gradient-checked at the
# trained weights. Layers: (n_in, n_out, activation, hyperparameters).
TRAINED = {
    "sgd_momentum": (
        [(5, 6, "relu", {}), (6, 4, "leaky_relu", {"alpha": 0.2}), (4, 3, "softmax", {})], "ce",
        lambda: sp.SGD(lr=0.1, momentum=0.9, weight_decay=1e-3),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3)),
    "adam": (
        [(5, 6, "elu", {}), (6, 4, "tanh", {}), (4, 2, "identity", {})], "mse",
        lambda: sp.Adam(lr=0.01),
        lambda p: torch.optim.Adam(p, lr=0.01)),
    "nesterov": (
        [(5, 6, "gelu", {}), (6, 4, "silu", {}), (4, 2, "identity", {})], "mae",
        lambda: sp.SGD(lr=0.05, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "rmsprop": (
        [(5, 6, "sigmoid", {}), (6, 4, "softplus", {}), (4, 3, "tanh", {})], "mse",
        lambda: sp.RMSprop(lr=0.01, alpha=0.99, eps=1e-8),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8)),
}
EPOCHS, BATCH = 5, 8  # 40 samples / 8 = 5 steps per epoch: 25 steps


@functools.cache
def _trained(key: str):
    """Train the symprop network and the torch reference from the same initial weights."""
    layers, loss, make_sp_opt, make_torch_opt = TRAINED[key]
    X, y = _data(loss, layers[-1][1], layers[-1][2])
    net = _make_net(layers, loss, seed=11)
    initial = net.params
    history = net.fit(X, y, epochs=EPOCHS, batch_size=BATCH, optimizer=make_sp_opt(),
                      shuffle=False, verbose=False, metrics_each_epoch=True)

    tparams = _torch_params(initial)
    optimizer = make_torch_opt(tparams)
    TX = torch.tensor(X, dtype=torch.float64)
    TY = _torch_targets(loss, y, layers[-1][1])
    batch_losses, epoch_losses, seen = [], [], []
    for _ in range(EPOCHS):
        outputs = []
        for start in range(0, N_SAMPLES, BATCH):
            optimizer.zero_grad()
            value = _torch_loss(layers, loss, tparams, TX[start:start + BATCH],
                                TY[start:start + BATCH])
            with torch.no_grad():  # what the batch saw, before its update
                outputs.append(_torch_outputs(layers, tparams, TX[start:start + BATCH]))
            value.backward()
            optimizer.step()
            batch_losses.append(float(value.detach()))
        seen.append(torch.cat(outputs).numpy())
        with torch.no_grad():
            epoch_losses.append(float(_torch_loss(layers, loss, tparams, TX, TY)))
    expected = [p.detach().numpy().copy() for p in tparams]
    return net, history, initial, expected, epoch_losses, batch_losses, (X, y), seen


@pytest.mark.parametrize("key", list(TRAINED))
def test_training_follows_torch_optim(key):
    net, history, initial, expected, epoch_losses, batch_losses, *_ = _trained(key)
    assert len(batch_losses) == EPOCHS * N_SAMPLES // BATCH == 25
    assert np.all(np.isfinite(batch_losses))
    got = [a for pair in net.params for a in pair]
    moved = max(np.abs(g - a).max() for g, a in zip(got, [a for p in initial for a in p],
                                                        strict=True))
    assert moved > 1e-3, f"{key}: training barely moved the weights"
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-11,
                                   err_msg=f"{key}: parameter {index}")
    assert history.epochs == EPOCHS
    np.testing.assert_allclose(history["loss"], epoch_losses, rtol=1e-8, atol=1e-12,
                               err_msg=f"{key}: per-epoch loss")


@pytest.mark.parametrize("key", list(TRAINED))
def test_running_epoch_values_are_what_the_batches_saw(key):
    """fit's default epoch values (no pass after the epoch): the mean of the epoch's batch
    losses, and the metrics of each row's output before its batch's update, as PyTorch's
    loop computes them from the same weights."""
    layers, loss, make_sp_opt, _ = TRAINED[key]
    *_, batch_losses, (X, y), seen = _trained(key)
    net = _make_net(layers, loss, seed=11)
    history = net.fit(X, y, epochs=EPOCHS, batch_size=BATCH, optimizer=make_sp_opt(),
                      shuffle=False, verbose=False)
    per_epoch = np.asarray(batch_losses).reshape(EPOCHS, -1).mean(axis=1)  # equal batches
    np.testing.assert_allclose(history["loss"], per_epoch, rtol=1e-8, atol=1e-12)
    Y = _torch_targets(loss, y, layers[-1][1]).numpy()
    for epoch, outputs in enumerate(seen):
        if loss == "ce":
            expected = {"accuracy": np.mean(outputs.argmax(axis=1) == Y)}
        elif loss == "bce":
            expected = {"accuracy": np.mean((outputs > 0.5) == (Y > 0.5))}
        else:
            residual, total = ((Y - outputs) ** 2).sum(), ((Y - Y.mean(axis=0)) ** 2).sum()
            expected = {"mae": np.abs(Y - outputs).mean(), "r2": 1 - residual / total}
        assert expected.keys() <= history.keys()
        for name, value in expected.items():
            assert history[name][epoch] == pytest.approx(value, rel=1e-8, abs=1e-12), name


def test_training_loss_decreases_like_torch():
    """The per-epoch losses decrease for the SGD-with-momentum run, as torch's per-batch ones
    do on average: the trajectories are not just equal but meaningful."""
    _, history, _, _, epoch_losses, batch_losses, *_ = _trained("sgd_momentum")
    assert history["loss"][-1] < history["loss"][0]
    assert np.mean(batch_losses[-5:]) < np.mean(batch_losses[:5])
    assert epoch_losses[-1] < epoch_losses[0]


def test_gradients_ce_int_and_one_hot_labels():
    net, *_, (X, y), _ = _trained("sgd_momentum")
    layers, loss = TRAINED["sgd_momentum"][:2]
    _assert_gradients(net, layers, loss, X, y, "softmax/ce, int labels")
    one_hot = np.eye(3)[y]
    _assert_gradients(net, layers, loss, X, one_hot, "softmax/ce, one-hot labels")
    for (a, b), (c, d) in zip(net.gradients(X, y), net.gradients(X, one_hot), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.parametrize("key", ["adam", "nesterov", "rmsprop"])
def test_gradients_regression_outputs(key):
    net, *_, (X, y), _ = _trained(key)
    layers, loss = TRAINED[key][:2]
    _assert_gradients(net, layers, loss, X, y, f"{key}: {layers[-1][2]}/{loss}")


# -- the notes' NumPy loop (3-4-1, relu then sigmoid, BCE) ----------------------------------

NOTES_LAYERS = [(3, 4, "relu", {}), (4, 1, "sigmoid", {})]
NOTES_X = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]], dtype=np.float64)
NOTES_Y = np.array([[0], [0], [1], [1]], dtype=np.float64)


def _notes_initial():
    np.random.seed(42)
    W1 = np.random.randn(3, 4) * 0.01
    b1 = np.zeros((1, 4))
    W2 = np.random.randn(4, 1) * 0.01
    b2 = np.zeros((1, 1))
    return W1, b1, W2, b2


def _notes_loop(epochs: int, lr: float = 0.1):
    """The notes' loop as written (without the +1e-8 inside the logs): the loss recorded at
    the top of each epoch, i.e. before that epoch's update."""
    W1, b1, W2, b2 = _notes_initial()
    X_train, y_train = NOTES_X, NOTES_Y
    losses = []
    for _ in range(epochs):
        Z1 = np.dot(X_train, W1) + b1
        A1 = np.maximum(0, Z1)
        Z2 = np.dot(A1, W2) + b2
        A2 = 1 / (1 + np.exp(-Z2))
        m = X_train.shape[0]
        loss = -np.mean(y_train * np.log(A2) + (1 - y_train) * np.log(1 - A2))
        losses.append(loss)
        dZ2 = A2 - y_train
        dW2 = np.dot(A1.T, dZ2) / m
        db2 = np.sum(dZ2, axis=0, keepdims=True) / m
        dA1 = np.dot(dZ2, W2.T)
        dZ1 = dA1 * (Z1 > 0)
        dW1 = np.dot(X_train.T, dZ1) / m
        db1 = np.sum(dZ1, axis=0, keepdims=True) / m
        W2 -= lr * dW2
        b2 -= lr * db2
        W1 -= lr * dW1
        b1 -= lr * db1
    return losses, (W1, b1, W2, b2)


def _notes_net():
    W1, b1, W2, b2 = _notes_initial()
    net = _make_net(NOTES_LAYERS, "bce")
    net.set_params([(W1, b1[0]), (W2, b2[0])])
    return net


def test_notes_numpy_loop_same_loss_trajectory():
    epochs = 200
    numpy_losses, (W1, b1, W2, b2) = _notes_loop(epochs + 1)
    net = _notes_net()
    history = net.fit(NOTES_X, NOTES_Y, epochs=epochs, batch_size=4, optimizer=sp.SGD(lr=0.1),
                      shuffle=False, verbose=False)
    # the notes record the loss before each (full-batch) update, as fit's running loss does
    np.testing.assert_allclose(history["loss"], numpy_losses[:epochs], rtol=1e-9, atol=0)
    exact = _notes_net()
    start = exact.evaluate(NOTES_X, NOTES_Y)["loss"]
    after = exact.fit(NOTES_X, NOTES_Y, epochs=epochs, batch_size=4, optimizer=sp.SGD(lr=0.1),
                      shuffle=False, verbose=False, metrics_each_epoch=True)
    # metrics_each_epoch: the loss after each epoch's update
    np.testing.assert_allclose([start] + after["loss"], numpy_losses, rtol=1e-9, atol=0)
    assert numpy_losses[-1] < numpy_losses[0]  # it learned something
    (gW1, gb1), (gW2, gb2) = net.params
    # after `epochs` updates the weights are the notes' after the same number of updates
    _, (eW1, eb1, eW2, eb2) = _notes_loop(epochs)
    for got, expected in ((gW1, eW1), (gb1, eb1[0]), (gW2, eW2), (gb2, eb2[0])):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-13)


def test_notes_network_gradients_match_torch_bce_label_shapes():
    net = _notes_net()
    rng = np.random.default_rng(3)
    net.set_params([(rng.standard_normal((3, 4)) * 0.5, rng.standard_normal(4) * 0.1),
                    (rng.standard_normal((4, 1)), rng.standard_normal(1) * 0.1)])
    X = rng.standard_normal((12, 3))
    y = rng.integers(0, 2, 12).astype(np.float64)
    _assert_gradients(net, NOTES_LAYERS, "bce", X, y, "sigmoid/bce, labels (n,)")
    _assert_gradients(net, NOTES_LAYERS, "bce", X, y[:, None], "sigmoid/bce, labels (n, 1)")
    for (a, b), (c, d) in zip(net.gradients(X, y), net.gradients(X, y[:, None]), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    # the value of the loss agrees too
    value, _ = _torch_gradients(NOTES_LAYERS, "bce", net.params, X, y)
    assert net.evaluate(X, y)["loss"] == pytest.approx(value, rel=1e-12)


def test_gradients_softmax_with_mse():
    layers = [(5, 6, "tanh", {}), (6, 3, "softmax", {})]
    net = _make_net(layers, "mse", seed=5)
    X, y = _data("mse", 3, "softmax", seed=9)
    _assert_gradients(net, layers, "mse", X, y, "softmax/mse")
    value, _ = _torch_gradients(layers, "mse", net.params, X, y)
    assert net.evaluate(X, y)["loss"] == pytest.approx(value, rel=1e-12)


# -- the notes' backprop worked example ------------------------------------------------------

def test_backprop_worked_example():
    net = sp.Network([sp.Dense(1, 1, "relu"), sp.Dense(1, 1, "identity")], loss="mse",
                     dtype="float64")
    net.set_params([(np.array([[3.0]]), np.zeros(1)), (np.array([[0.5]]), np.zeros(1))])
    x, target = np.array([[2.0]]), np.array([[5.0]])
    assert net.predict(x)[0, 0] == pytest.approx(3.0)
    assert net.evaluate(x, target)["loss"] == pytest.approx(4.0)
    (dw, db1), (dv, db2) = net.gradients(x, target)
    assert dw[0, 0] == pytest.approx(-4.0, rel=1e-12)
    assert dv[0, 0] == pytest.approx(-24.0, rel=1e-12)
    assert db2[0] == pytest.approx(-4.0, rel=1e-12)  # dL/dyhat = 2 (3 - 5)
    assert db1[0] == pytest.approx(-2.0, rel=1e-12)  # dL/dyhat * v * relu'(6)
    net.fit(x, target, epochs=1, batch_size=1, optimizer=sp.SGD(lr=0.1), verbose=False)
    (w, _), (v, _) = net.params
    assert w[0, 0] == pytest.approx(3.4, rel=1e-12)
    assert v[0, 0] == pytest.approx(2.9, rel=1e-12)
