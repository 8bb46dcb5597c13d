"""The batch gather of the generated CPU loops (copy_row and gather_rows in macros.j2): rows
of X and Y copied into the batch buffers, as tuple assignments of eight columns for rows of
6 to 32 columns and as a loop otherwise, and every input summed times 0 for the check that
finds a NaN or inf."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symprop as sp
from symprop.architecture import parse_architecture
from symprop.codegen.build import build_network_module, network_source
from symprop.errors import DataError

# (inputs, outputs): the loop below 6 columns, either side of one tuple of eight and of
# several, and the loop above 32
WIDTHS = [(1, 1), (5, 6), (6, 5), (8, 1), (9, 9), (20, 3), (32, 10), (33, 1), (100, 70)]


@pytest.mark.parametrize("n_in, n_out", WIDTHS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_column_of_x_and_y_reaches_the_gradients(n_in, n_out, dtype):
    """A linear layer under mse: dW = 2 X^T (XW + b - Y) / (rows * outputs) reads every
    gathered input and target column in its place; a column dropped, repeated or moved
    changes its row of dW."""
    rng = np.random.default_rng(n_in * 100 + n_out)
    rows = 37
    X = rng.standard_normal((rows, n_in))
    Y = rng.standard_normal((rows, n_out))
    net = sp.Network([sp.Dense(n_in, n_out, "identity")], loss="mse", dtype=dtype, seed=3)
    W, b = (p.astype(np.float64) for p in net.params[0])
    residual = X.astype(dtype).astype(np.float64) @ W + b - Y.astype(dtype).astype(np.float64)
    (dW, db), = net.gradients(X, Y)
    tolerance = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(dW, 2 * X.astype(dtype).T @ residual / (rows * n_out),
                               rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(db, 2 * residual.sum(axis=0) / (rows * n_out),
                               rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("n_in", [4, 20, 33])
@pytest.mark.parametrize("column_from_end", [None, 0, 3, 12])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_bad_input_in_any_column_stops_its_batch(n_in, column_from_end, value):
    """The batch check sees every column, first or last of a tuple of eight or of the loop:
    the epoch stops at the bad row's batch before its update (status 1), where relu
    would have turned a NaN into 0 and let the loss stay finite."""
    rng = np.random.default_rng(n_in)
    X = rng.standard_normal((90, n_in)).astype(np.float32)
    Y = rng.integers(0, 2, (90, 1)).astype(np.float32)
    column = 0 if column_from_end is None else max(n_in - 1 - column_from_end, 0)
    X[61, column] = value  # in batch 3 (of 16 rows), counting from 0
    module = build_network_module(parse_architecture(f"{n_in}-4:relu-1:sigmoid"), "bce")
    params = [rng.standard_normal((n_in, 4)).astype(np.float32), np.zeros(4, np.float32),
              rng.standard_normal((4, 1)).astype(np.float32), np.zeros(1, np.float32)]
    kept = [p.copy() for p in params[:2]]
    batches, step, status = module.train_epoch(X, Y, np.arange(90), 16, 0, 0.0, np.empty(6),
                                               *params, 0.1, 0.0)
    assert (batches, step, status) == (3, 3, 1)
    assert all(np.isfinite(p).all() for p in params)
    assert not np.array_equal(params[0], kept[0])  # three updates ran before it


@pytest.mark.parametrize("n_in", [4, 20, 33])
def test_fit_names_a_bad_input_and_keeps_the_weights(n_in):
    rng = np.random.default_rng(n_in)
    X = rng.standard_normal((90, n_in))
    X[61, n_in - 1] = np.nan
    net = sp.Network([sp.Dense(n_in, 4, "relu"), sp.Dense(4, 1, "sigmoid")], loss="bce",
                     dtype="float32", seed=2)
    before = [p.copy() for p in net._flat_params()]
    with pytest.raises(DataError, match=rf"row 61, column {n_in - 1}\b"):
        net.fit(X, rng.integers(0, 2, 90), epochs=2, batch_size=16, verbose=False)
    for got, kept in zip(net._flat_params(), before, strict=True):
        np.testing.assert_array_equal(got, kept)


def _gather(source: str, function: str) -> str:
    """The gather of ``function`` in a module's source: from inputs_check's start to the
    end of the loop that sums it."""
    body = source.split(f"\ndef {function}(", 1)[1].split("\ndef ", 1)[0]
    return body.split("inputs_check = ", 1)[1].split("inputs_finite = True", 1)[0]


def test_narrow_rows_are_copied_as_tuples_and_summed_flat():
    """Rows of 6 to 32 columns are tuple assignments of eight (the last one shorter), and
    inputs_check sums XB's flat view after them; on the split path that view is the
    thread's slice of its work row."""
    source = network_source(parse_architecture("20-32:relu-1:sigmoid"), "bce",
                            direct_blas=True)
    gather = _gather(source, "run")
    assert re.search(r"XB\[r, 16\], XB\[r, 17\], XB\[r, 18\], XB\[r, 19\] = \(\n\s+"
                     r"X\[src, 16\], X\[src, 17\], X\[src, 18\], X\[src, 19\]\)", gather)
    assert "XB[r, 0], XB[r, 1]" in gather and "for k in" not in gather
    assert "YB[r, 0] = Y[src, 0]" in gather
    assert re.search(r"for i in range\(nb \* 20\):[^\n]*\n\s+inputs_check \+= XB_flat\[i\]", gather)
    assert "XB_flat = XB.reshape(-1)" in source
    split = network_source(parse_architecture("32-128:relu-64:relu-32:relu-10:softmax"), "ce",
                           direct_blas=True, split_batches=True)  # the row split
    assert "XB_flat = work_row[:rows * 32]" in split
    assert "for i in range(rows * 32):" in _gather(split, "shard_thread")
    assert "XB[r, 24], XB[r, 25]" in _gather(split, "shard_thread")
    columns = network_source(parse_architecture("32-128:relu-64:relu-10:softmax"), "ce",
                             direct_blas=True, split_batches=True)  # the column split
    assert "XB_flat = XB.reshape(-1)" in columns
    assert "for i in range(nb * 32):" in _gather(columns, "column_thread")
    assert "XB[r, 24], XB[r, 25]" in _gather(columns, "column_thread")


@pytest.mark.parametrize("n_in, n_out", [(33, 70), (5, 3)])
def test_wide_and_short_rows_keep_the_loop_and_sum_as_they_copy(n_in, n_out):
    source = network_source(parse_architecture(f"{n_in}-8:relu-{n_out}:identity"), "mse",
                            direct_blas=True)
    gather = _gather(source, "run")
    assert re.search(rf"for k in range\({n_in}\):\n\s+XB\[r, k\] = X\[src, k\]\n\s+"
                     r"inputs_check \+= X\[src, k\]", gather)
    assert re.search(rf"for k in range\({n_out}\):\n\s+YB\[r, k\] = Y\[src, k\]\n",
                     gather)
    assert "XB_flat" not in source


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("row, column", [(50, 0), (50, 19), (97, 7)])
@pytest.mark.parametrize("shards", [1, 2])
def test_the_split_paths_tuple_gather_finds_a_bad_input(monkeypatch, blocks, row, column,
                                                        shards):
    """On the split path too (20 columns: tuples, XB_flat a slice of the thread's work
    row), plain and staged around a batch normalization: a NaN stops the epoch at its batch
    (rows in order, batches of 32: row 50 in batch 1, row 97 in the last, of 4 rows) with
    status 1, whichever thread's share holds it."""
    from symprop.codegen import build

    monkeypatch.setattr(build, "numba_threads", lambda: 2)  # the split path where 1 thread
    middle = [sp.BatchNorm(160)] if blocks else []
    layers = [sp.Dense(20, 160, "relu"), *middle, sp.Dense(160, 48, "tanh"),
              sp.Dense(48, 3, "softmax")]  # 11,024 multiply-adds a row: split
    net = sp.Network(layers, loss="ce", dtype="float64", seed=1)
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((101, 20)), np.eye(3)[rng.integers(0, 3, 101)]
    X[row, column] = np.nan
    optimizer = sp.SGD(lr=0.05)
    module = net._module(optimizer)
    assert module.SHARDED
    batches, step, status = module.train_epoch(
        X, Y, np.arange(101), 32, 0, 0.0, np.empty(4), *net._flat_params(), *net._running,
        *net._model_hyper(), *optimizer.hyper_values(), shards=shards)
    assert (batches, step, status) == (row // 32, row // 32, 1)
