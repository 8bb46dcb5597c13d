"""Networks with BatchNorm, LayerNorm and Residual blocks through the API: training follows
PyTorch (float64, same initial weights, SGD and Adam), predictions use the running
statistics, gradients equal autograd, and bad input gets a symprop error."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from test_block_modules import TorchNet, torch_loss

import symprop as sp
from symprop.blocks import parse_network
from symprop.runtime.model_io import _digest


def _network(loss="ce"):
    out = sp.Dense(6, 3, "softmax") if loss == "ce" else sp.Dense(6, 1, "sigmoid")
    return sp.Network([sp.Dense(4, 6, "tanh"), sp.BatchNorm(6, momentum=0.2),
                       sp.Residual([sp.Dense(6, 6, "relu"), sp.LayerNorm(6),
                                    sp.Dense(6, 6, "tanh")]), out],
                      loss=loss, dtype="float64", seed=4)


def _data(rows=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    return X, (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5)


def _torch(net):
    params = [array for pair in net.params for array in pair]
    return TorchNet(parse_network(net.architecture), params,
                    [array.copy() for array in net._running])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_follows_torch_and_predicts_with_running_statistics(optimizer):
    X, y = _data()
    Y = np.eye(3)[y]
    net = _network()
    reference = _torch(net)
    make = {"sgd": (sp.SGD(lr=0.1), torch.optim.SGD(reference.tensors, lr=0.1)),
            "adam": (sp.Adam(lr=0.01), torch.optim.Adam(reference.tensors, lr=0.01))}
    ours, theirs = make[optimizer]
    history = net.fit(X, y, epochs=6, batch_size=8, optimizer=ours, shuffle=False,
                      verbose=False, metrics_each_epoch=True)  # 30 steps
    for epoch in range(6):
        for start in range(0, 40, 8):
            theirs.zero_grad()
            torch_loss(reference.forward(X[start:start + 8]),
                       torch.tensor(Y[start:start + 8]), "ce").backward()
            theirs.step()
        with torch.no_grad():  # the epoch's loss, as fit measures it after the epoch:
            # running statistics
            expected = torch_loss(reference.forward(X, training=False), torch.tensor(Y), "ce")
        assert history["loss"][epoch] == pytest.approx(expected.item(), rel=1e-8)
    ours_arrays = [array for pair in net.params for array in pair]
    for array, tensor in zip(ours_arrays, reference.tensors, strict=True):
        np.testing.assert_allclose(array, tensor.detach().numpy(), rtol=1e-8, atol=1e-12)
    for ours_stat, theirs_stat in zip(net._running, reference.running, strict=True):
        np.testing.assert_allclose(ours_stat, theirs_stat.numpy(), rtol=1e-10)
    with torch.no_grad():
        expected = reference.forward(X, training=False).numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-9, atol=1e-12)


def test_gradients_equal_autograd_with_batch_statistics():
    X, y = _data(rows=12, seed=1)
    net = _network("bce")
    targets = (y > 0).astype(float)
    reference = _torch(net)
    torch_loss(reference.forward(X), torch.tensor(targets[:, None]), "bce").backward()
    grads = net.gradients(X, targets)
    assert len(grads) == 6  # Dense, BatchNorm, Dense, LayerNorm, Dense, Dense (depth first)
    got = [array for pair in grads for array in pair]
    for ours, tensor in zip(got, reference.tensors, strict=True):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_track_gradients_has_one_norm_per_layer_with_parameters():
    X, y = _data()
    history = _network().fit(X, y, epochs=2, verbose=False, track_gradients=True)
    assert np.array(history["grad_norm"]).shape == (2, 6)


@pytest.mark.parametrize("make, fragment", [
    (lambda: sp.Residual([sp.Dense(6, 4, "relu")]), "maps 6 units to 4"),
    (lambda: sp.BatchNorm(4, eps=0), "eps must be a positive number"),
    (lambda: sp.BatchNorm(4, momentum=1.5), "momentum must be in [0, 1]"),
    (lambda: sp.LayerNorm(4, eps=-1e-5), "eps must be a positive number"),
    (lambda: sp.Network([sp.Dense(4, 6, "relu"), sp.BatchNorm(6)]), "last layer must be a "
                                                                      "Dense layer"),
    (lambda: sp.Network([sp.Dense(4, 6, "relu"), sp.BatchNorm(5), sp.Dense(5, 1, "sigmoid")],
                        loss="bce"), "takes 5 inputs"),
])
def test_bad_layers_are_refused_naming_them(make, fragment):
    with pytest.raises(sp.SympropError) as error:
        make()
    assert fragment in str(error.value) and isinstance(error.value, ValueError)


def test_batch_normalization_refuses_a_batch_of_one_row():
    X, y = _data(rows=17)
    with pytest.raises(sp.DataError, match="one row"):
        _network().fit(X, y, epochs=1, batch_size=8, verbose=False)


def test_model_files_keep_every_array_and_the_running_statistics(tmp_path):
    X, y = _data()
    net = _network()
    net.fit(X, y, epochs=3, verbose=False)
    net.save(tmp_path / "m.npz")
    back = sp.load(tmp_path / "m.npz")
    assert back.architecture == net.architecture == (
        "4-6:tanh-bn(momentum=0.2)-[6:relu-ln-6:tanh]-3:softmax")
    for (a, b), (c, d) in zip(back.params, net.params, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    for a, b in zip(back._running, net._running, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def _tampered(tmp_path, change):
    net = _network()
    net.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    arrays = {name[:-4]: np.load(io.BytesIO(data))
              for name, data in members.items()}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    change(meta, arrays)
    meta["digests"] = {name: _digest(array) for name, array in arrays.items()}
    np.savez(tmp_path / "bad.npz", __meta__=np.frombuffer(json.dumps(meta).encode(),
                                                          dtype=np.uint8), **arrays)
    return tmp_path / "bad.npz"


@pytest.mark.parametrize("change, fragment", [
    (lambda meta, arrays: meta["layers"][2]["layers"][2].update(n_out=5),
     "residual block maps 6 units to 5"),
    (lambda meta, arrays: meta["layers"][2]["layers"][1].update(colour=1), "unknown key"),
    (lambda meta, arrays: meta["layers"][1].update(momentum=2), "must be in [0, 1]"),
    (lambda meta, arrays: arrays.update(running_var2=-np.ones(6)), "variances positive"),
    (lambda meta, arrays: arrays.pop("running_mean2"), "running_mean2"),
])
def test_malformed_block_files_are_refused(tmp_path, change, fragment):
    with pytest.raises(sp.ModelFileError) as error:
        sp.load(_tampered(tmp_path, change))
    assert fragment in str(error.value)


def test_each_new_layer_prints_its_derivation():
    assert sp.BatchNorm(6).derivation().title == sp.batchnorm_derivation().title
    assert sp.LayerNorm(6).derivation().title == sp.layernorm_derivation().title
    block = sp.Residual([sp.Dense(3, 3, "relu")])
    assert "skip" in block.derivation().text().lower()
    text = _network().derivation().text()
    assert "bn" in text.splitlines()[0] and "[6:relu-ln-6:tanh]" in text.splitlines()[0]
