"""The split path: batches split over threads give the same training as one thread (to
rounding), stop at the same non-finite batch, and are used only where they pay and are safe
(symprop/runtime/threads.py). Two ways to split: the ARCH chain (three dense layers) shares
out its first layer's units (the column split), the others each batch's rows."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symprop as sp
from symprop.architecture import parse_architecture
from symprop.codegen import split_support
from symprop.codegen.build import network_source
from symprop.codegen.split_support import ARRIVED
from symprop.runtime import threads
from symprop.runtime.metrics import BatchScoreMetrics, RunningMetrics
from symprop.runtime.optimizers import make_optimizer

# 40*96 + 96*64 + 64*3 = 10176 multiply-adds a row: just above SHARD_MIN_MACS_PER_ROW
ARCH = [(40, 96, "relu"), (96, 64, "tanh"), (64, 3, "softmax")]
# A chain of four: the row split (the column split takes three dense layers)
ROWS_ARCH = [(40, 96, "relu"), (96, 64, "tanh"), (64, 32, "relu"), (32, 3, "softmax")]


@pytest.fixture(autouse=True)
def modules_with_the_split_path(monkeypatch):
    """Build modules with the split path even where Numba has one thread (the path runs
    there too, each share in turn)."""
    from symprop.codegen import build

    monkeypatch.setattr(build, "numba_threads", lambda: 2)


def make_net(dtype="float64", blocks=False):
    """The dense chain ARCH (the column split), with ``blocks`` "rows" ROWS_ARCH (the row
    split), "ln" ARCH's ends around a layer normalization and a residual block (both work
    row by row), "bn" around batch normalizations, one in the block (they split in stages)."""
    if blocks == "rows":
        layers = [sp.Dense(n_in, n_out, act) for n_in, n_out, act in ROWS_ARCH]
    elif blocks == "ln":
        layers = [sp.Dense(40, 96, "relu"), sp.LayerNorm(96),
                  sp.Residual([sp.Dense(96, 96, "tanh"), sp.Dense(96, 96, "relu")]),
                  sp.Dense(96, 64, "tanh"), sp.Dense(64, 3, "softmax")]
    elif blocks == "bn":
        layers = [sp.Dense(40, 96, "relu"), sp.BatchNorm(96, momentum=0.3),
                  sp.Residual([sp.Dense(96, 96, "tanh"), sp.BatchNorm(96),
                               sp.Dense(96, 96, "relu")]),
                  sp.Dense(96, 64, "tanh"), sp.Dense(64, 3, "softmax")]
    else:
        layers = [sp.Dense(n_in, n_out, act) for n_in, n_out, act in ARCH]
    return sp.Network(layers, loss="ce", dtype=dtype, seed=3)


def data(rows=389, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, ARCH[0][0]))
    y = rng.integers(0, ARCH[-1][1], rows)
    return X, y


def network_and_data(blocks, nan_row=None):
    """make_net's network, data()'s X and both as the module takes them; a NaN target in
    row nan_row (past the checks fit() makes) if given."""
    net = make_net(blocks=blocks)
    X, y = data()
    Xf, Y = net._features(X), net._targets(y, X.shape[0])
    if nan_row is not None:
        Y = Y.copy()
        Y[nan_row, 1] = np.nan
    return net, X, Xf, Y


def train_with(shards, optimizer, clip_norm=0.0, batch_size=64, epochs=2, nan_row=None,
               blocks=False, lr=None, bad_input=None):
    """Parameters, and each epoch's (batches, step, status, batch losses, outputs, batch
    scores) after `epochs` epochs through module.train_epoch; a NaN
    target in row nan_row (past the checks fit() makes) if given; ``bad_input`` (row,
    column, value): that value in X (fit leaves X's check to the epoch); ``lr`` as given
    (past the optimizer's checks, inf say) if given."""
    net, X, Xf, Y = network_and_data(blocks, nan_row)
    if bad_input is not None:
        Xf = Xf.copy()
        Xf[bad_input[0], bad_input[1]] = bad_input[2]
    optimizer = make_optimizer(optimizer)
    module = net._module(optimizer)
    assert module.SHARDED
    params = net._flat_params() + net._running
    states = [np.zeros_like(p) for p in net._flat_params() for _ in module.OPTIMIZER_STATE]
    hyper = optimizer.hyper_values()
    if lr is not None:
        hyper = [lr, *hyper[1:]]
    step, results = 0, []
    rng = np.random.default_rng(7)
    work = module.epoch_work(batch_size, net._flat_params(), shards)
    # the threads' meeting points (symprop.codegen.split_support); one share has none
    sync = work[2][2] if shards > 1 else None
    for _ in range(epochs):
        perm = rng.permutation(X.shape[0])
        losses = np.full(-(-X.shape[0] // batch_size), np.nan)
        # each row's output as its batch saw it (kept on one thread only)
        outputs = np.full(Y.shape, np.nan) if shards == 1 else None
        scores = np.full((losses.shape[0], 2), np.nan)  # each batch's counts (fit's metrics)
        batches, step, status = module.train_epoch(
            Xf, Y, perm, batch_size, step, clip_norm, losses, *params, *states,
            *net._model_hyper(), *hyper, shards=shards, outputs=outputs, work=work,
            scores=scores)
        results.append((batches, step, status, losses.copy(), outputs, scores))
        JOINED.append(shards > 1 and sync[ARRIVED] == shards)  # all threads ran the epoch
        if status:
            break
    return [p.copy() for p in params], results


JOINED: list[bool] = []  # whether each epoch of train_with ran on all its threads


SGD, ADAM = (sp.SGD(lr=0.1), 0.0), (sp.Adam(lr=0.01), 0.5)
MOMENTUM = (sp.SGD(lr=0.1, momentum=0.9), 0.5)


# The networks with blocks compile a module per optimizer (the staged one for a while): one
# with clipping each. Not Adam with batch normalization: the bias of a dense layer before one
# has a gradient of exactly zero, whose rounding noise (different for each split) Adam's
# g / sqrt(v) blows up to steps of lr.
@pytest.mark.parametrize("shards, blocks, optimizer, clip_norm", [
    (shards, blocks, *optimizer)
    for blocks, optimizers in ((False, (SGD, ADAM, MOMENTUM)), ("rows", (SGD, MOMENTUM)),
                               ("ln", (ADAM,)), ("bn", (MOMENTUM,)))
    for optimizer in optimizers for shards in (2, 3)])
def test_split_batches_train_like_one_thread(shards, blocks, optimizer, clip_norm):
    """389 rows in batches of 64: the last batch (5 rows) splits unevenly. Three shards
    over two Numba threads (CI's) run on one thread, every share in turn."""
    ref_params, ref = train_with(1, optimizer, clip_norm, blocks=blocks)
    params, got = train_with(shards, optimizer, clip_norm, blocks=blocks)
    for a, b in zip(ref_params, params, strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    labels = data()[1]
    for (b1, s1, st1, l1, o1, c1), (b2, s2, st2, l2, o2, c2) in zip(ref, got, strict=True):
        assert (b1, s1, st1) == (b2, s2, st2)
        np.testing.assert_allclose(l2, l1, rtol=1e-12)
        assert np.isfinite(o1).all() and o2 is None  # every row's output written
        # each batch's correct predictions, summed over the threads' shares: as many as
        # one thread's outputs have
        np.testing.assert_array_equal(c2, c1)
        assert c1[:, 0].sum() == np.count_nonzero(o1.argmax(axis=1) == labels)
        assert not c1[:, 1].any()
    assert not np.allclose(ref_params[0], make_net().params[0][0])  # training moved them


@pytest.mark.parametrize("blocks, optimizer, clip_norm", [
    (False, *ADAM), (False, *MOMENTUM), ("rows", *MOMENTUM), ("bn", *MOMENTUM)])
def test_threads_that_cannot_all_start_give_the_same_epoch_on_one(blocks, optimizer,
                                                                  clip_norm):
    """An epoch's threads meet at barriers; with one Numba thread they cannot all run, and
    the epoch runs every share in turn on one: bit for bit what two threads give."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread: every epoch runs its shares in turn")
    JOINED.clear()
    joined_params, joined = train_with(2, optimizer, clip_norm, blocks=blocks)
    if not all(JOINED):  # a busy machine kept a thread from starting in time
        pytest.skip(f"the threads did not all start in every epoch: {JOINED}")
    numba.set_num_threads(1)
    try:
        serial_params, serial = train_with(2, optimizer, clip_norm, blocks=blocks)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert not any(JOINED[len(joined):])  # one thread: every epoch in turn, at once
    for a, b in zip(joined_params, serial_params, strict=True):
        np.testing.assert_array_equal(b, a)
    for (b1, s1, st1, l1, _, c1), (b2, s2, st2, l2, _, c2) in zip(joined, serial, strict=True):
        assert (b1, s1, st1) == (b2, s2, st2)
        np.testing.assert_array_equal(l2, l1)
        np.testing.assert_array_equal(c2, c1)


@pytest.mark.parametrize("blocks, clip_norm", [(False, 0.0), (False, 0.5), ("rows", 0.0),
                                              ("bn", 0.5)])
def test_split_batches_stop_at_the_same_non_finite_update(blocks, clip_norm):
    """A step that makes the weights infinite (status 2): every thread stops at the same
    batch, as one thread does."""
    ref_params, ref = train_with(1, sp.SGD(lr=0.1), clip_norm, blocks=blocks, lr=np.inf)
    params, got = train_with(2, sp.SGD(lr=0.1), clip_norm, blocks=blocks, lr=np.inf)
    assert len(ref) == 1 and ref[0][2] == 2
    assert [r[:3] for r in ref] == [g[:3] for g in got]
    for a, b in zip(ref_params, params, strict=True):
        np.testing.assert_array_equal(np.isfinite(b), np.isfinite(a))


@pytest.mark.parametrize("blocks", [False, "rows", "bn"])
def test_split_batches_stop_at_the_same_non_finite_batch(blocks):
    """A NaN target: the batch's loss is not finite, no update applied from it on (with
    batch normalization, the loss comes from one of the stages)."""
    ref_params, ref = train_with(1, sp.SGD(lr=0.1), nan_row=200, blocks=blocks)
    params, got = train_with(2, sp.SGD(lr=0.1), nan_row=200, blocks=blocks)
    assert len(ref) == 1 and ref[0][2] == 1  # status: stopped in the first epoch
    assert 0 < ref[0][0] < 6  # a batch in the middle: earlier updates were applied
    assert [r[:3] for r in ref] == [g[:3] for g in got]
    for a, b in zip(ref_params, params, strict=True):
        assert np.isfinite(b).all()  # the weights from before the NaN batch
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


@pytest.mark.parametrize("blocks, value", [(False, np.nan), (False, -np.inf), ("rows", np.nan),
                                           ("bn", np.inf), ("ln", np.nan)])
def test_split_batches_stop_at_a_non_finite_input(blocks, value):
    """A NaN or inf in X stops the epoch at its batch (status 1), before that batch's
    update, on one thread and split alike, though relu would turn a NaN into 0 and the
    loss could stay finite: each thread checks the rows it gathers (fit then names the
    value, tests/test_fit_bad_rows.py). The row is in batch 2 of the first epoch."""
    row = int(np.random.default_rng(7).permutation(389)[2 * 64 + 17])  # train_with's order
    ref_params, ref = train_with(1, sp.SGD(lr=0.1), blocks=blocks, bad_input=(row, 5, value))
    params, got = train_with(2, sp.SGD(lr=0.1), blocks=blocks, bad_input=(row, 5, value))
    assert len(ref) == 1 and ref[0][:3] == (2, 2, 1)  # stopped at batch 2, two steps done
    assert [r[:3] for r in ref] == [g[:3] for g in got]
    trained = len(make_net(blocks=blocks)._flat_params())
    for a, b in zip(ref_params, params, strict=True):
        # batch normalization's running statistics already hold the bad batch's (fit
        # restores them): the same on one thread and split
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    for b in params[:trained]:
        assert np.isfinite(b).all()  # the weights from before the bad batch


def test_fit_names_a_bad_input_the_split_epoch_met(monkeypatch):
    """Through Network.fit on two shards: the DataError names the value, and the network
    is as it was before the call (fit's checks on one thread: tests/test_fit_bad_rows.py)."""
    X, y = data()
    X[123, 7] = np.nan
    net = make_net()
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 2)
    assert threads.shards_for(net._module(sp.SGD(lr=0.1)), net.layers, 64) == 2
    params, generator = net._flat_params(), net._rng.bit_generator.state
    kept = [p.copy() for p in params]
    with pytest.raises(sp.DataError, match=r"\(row 123, column 7\)"):
        net.fit(X, y, epochs=2, batch_size=64, optimizer=sp.SGD(lr=0.1), verbose=False)
    for got, before in zip(net._flat_params(), kept, strict=True):
        np.testing.assert_array_equal(got, before)
    assert net._step == 0 and net._optimizer is None and net._rng.bit_generator.state == generator


def test_fit_splits_medium_batches_and_matches_one_thread(monkeypatch):
    """Through Network.fit: the policy picks two shards here, and the result is what one
    thread gives."""
    X, y = data()
    a, b = make_net(), make_net()
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 2)
    module = a._module(sp.SGD(lr=0.1))
    assert threads.shards_for(module, a.layers, 64) == 2
    calls = []
    original = module.train_epoch
    monkeypatch.setattr(module, "train_epoch",
                        lambda *args, **kw: calls.append(kw.get("shards")) or original(*args, **kw))
    history = a.fit(X, y, epochs=2, batch_size=64, optimizer=sp.SGD(lr=0.1), verbose=False)
    assert calls == [2, 2]
    monkeypatch.setattr(threads, "shards_for", lambda *args: 1)
    monkeypatch.setattr("symprop.runtime.training.shards_for", lambda *args: 1)
    reference = b.fit(X, y, epochs=2, batch_size=64, optimizer=sp.SGD(lr=0.1), verbose=False)
    assert history.keys() == reference.keys() == {"loss", "accuracy"}
    for key in history.keys():
        np.testing.assert_allclose(history[key], reference[key], rtol=1e-12)
    for (Wa, ba), (Wb, bb) in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(Wa, Wb, atol=1e-12)
        np.testing.assert_allclose(ba, bb, atol=1e-12)


def test_fit_splits_large_products_by_units_on_one_blas_thread_each(monkeypatch):
    """784-128-64-10 at batch 256: products past SINGLE_THREAD_MACS, which BLAS's threads
    would share, take the column split instead, each thread's BLAS calls on one thread; the
    result is what one thread gives."""
    from symprop.codegen import blas

    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((600, 784)), rng.integers(0, 10, 600)
    layers = [(784, 128, "relu"), (128, 64, "relu"), (64, 10, "softmax")]
    a, b = (sp.Network([sp.Dense(*layer) for layer in layers], loss="ce", dtype="float64",
                       seed=1) for _ in range(2))
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 2)
    monkeypatch.setattr(threads, "_blas_thread_count", lambda: 2)
    module = a._module(sp.SGD(lr=0.05))
    assert module.SPLIT_UNITS == 128 and threads.largest_product(a.layers, 256) > \
        threads.SINGLE_THREAD_MACS
    assert threads.shards_for(module, a.layers, 256) == 2
    counts, original = [], module.column_thread
    bound = blas.thread_count()

    def column_thread(*args):  # what BLAS is set to while the threads run
        counts.append(bound[0]() if bound else 1)
        return original(*args)

    monkeypatch.setattr(module, "column_thread", column_thread)
    history = a.fit(X, y, epochs=2, batch_size=256, optimizer=sp.SGD(lr=0.05), verbose=False)
    assert counts and set(counts) == {1}
    monkeypatch.setattr("symprop.runtime.training.shards_for", lambda *args: 1)
    reference = b.fit(X, y, epochs=2, batch_size=256, optimizer=sp.SGD(lr=0.05), verbose=False)
    np.testing.assert_allclose(history["loss"], reference["loss"], rtol=1e-12)
    for (Wa, ba), (Wb, bb) in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(Wa, Wb, atol=1e-12)
        np.testing.assert_allclose(ba, bb, atol=1e-12)


class _Module:
    SHARDED = True


@pytest.fixture
def fast_threads(monkeypatch):
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 4)


def test_policy_splits_where_it_pays(fast_threads, monkeypatch):
    layers = make_net().layers
    assert threads.shards_for(_Module(), layers, 32) == 2
    assert threads.shards_for(_Module(), layers, 48) == 3
    assert threads.shards_for(_Module(), layers, 256) == 4  # Numba's 4 threads, 64 rows each
    assert threads.shards_for(_Module(), layers, 31) == 1  # under 16 rows a thread
    assert threads.shards_for(object(), layers, 256) == 1  # a module without the path
    big = [type("L", (), {"n_in": 784, "n_out": 512})()]
    assert threads.shards_for(_Module(), big, 256) == 1  # BLAS threads take those products
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 1)
    assert threads.shards_for(_Module(), layers, 256) == 1  # numba.set_num_threads(1)


def test_policy_gives_the_column_split_blocks_of_32_units_at_least(fast_threads, monkeypatch):
    columns = type("Columns", (), {"SHARDED": True, "SPLIT_UNITS": 96})
    layers = make_net().layers
    assert threads.shards_for(columns, layers, 256) == 3  # 96 units: 3 blocks of 32
    assert threads.shards_for(columns, layers, 32) == 2  # 16 rows a thread still
    # products past SINGLE_THREAD_MACS: the column split where it gets as many threads as
    # BLAS has, up to COLUMN_MAX_BIG_SHARDS (else BLAS's own threads)
    big = [type("L", (), {"n_in": 784, "n_out": 512})()]
    monkeypatch.setattr(threads, "_blas_thread_count", lambda: 2)
    assert threads.shards_for(columns, big, 256) == 1  # 3 shares: beyond the two measured
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 2)
    assert threads.shards_for(columns, big, 256) == 2
    monkeypatch.setattr(threads, "_blas_thread_count", lambda: 8)
    assert threads.shards_for(columns, big, 256) == 1  # BLAS has more threads
    monkeypatch.setattr(split_support, "numba_thread_count", lambda: 4)
    columns.SPLIT_UNITS = 63
    assert threads.shards_for(columns, layers, 256) == 1


def test_the_column_split_takes_no_more_shards_than_units():
    net = make_net()
    module = net._module(make_optimizer(sp.SGD(lr=0.1)))
    assert module.SPLIT_UNITS == 96
    X, Y = net._features(data()[0]), net._targets(data()[1], 389)
    with pytest.raises(ValueError, match="96 units"):
        module.train_epoch(X, Y, np.arange(389), 64, 0, 0.0, np.empty(7),
                           *net._flat_params(), *net._model_hyper(), 0.1, 0.0, shards=97)


def test_policy_sizes_the_dense_products_inside_blocks():
    """Normalizations have no product; a residual block's body's layers count."""
    assert threads.largest_product([sp.Dense(64, 1024, "relu"), sp.BatchNorm(1024),
                                    sp.Dense(1024, 10, "softmax")], 64) == 64 * 64 * 1024
    assert threads.largest_product([sp.Dense(8, 128, "relu"), sp.Residual(
        [sp.Dense(128, 1024, "relu"), sp.Dense(1024, 128, "relu")]), sp.LayerNorm(128),
        sp.Dense(128, 10, "softmax")], 64) == 64 * 128 * 1024


# A child process's script from its start: the ARCH network (float64) trained one epoch in
# batches of 64 (the split path, with NUMBA_NUM_THREADS=2)
SPLIT_FIT = textwrap.dedent(f"""
    import numpy as np
    import symprop as sp
    arch = {ARCH!r}
    net = sp.Network([sp.Dense(i, o, a) for i, o, a in arch], loss="ce", dtype="float64")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((256, 40)), rng.integers(0, 3, 256)
    net.fit(X, y, epochs=1, batch_size=64, optimizer=sp.SGD(lr=0.1), verbose=False)
""")


def test_the_thread_count_is_read_without_starting_numbas_pool():
    """The split path's threads are Python's: deciding on it, and training on it, start no
    Numba thread pool (whose OpenMP threads a forked child could not use); where the pool
    has started, numba.set_num_threads is the knob."""
    script = SPLIT_FIT + textwrap.dedent("""
        import numba
        from numba.np.ufunc import parallel
        from symprop.codegen.split_support import numba_thread_count
        from symprop.runtime import threads
        split = threads.shards_for(net._module(sp.SGD(lr=0.1)), net.layers, 64)
        started = parallel._is_initialized
        numba.set_num_threads(1)
        print(split, started, numba_thread_count())
    """)
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "False", "1"], result.stdout


def test_forked_children_split_batches_too():
    """A child forked after its parent trained on the split path (and after Numba's thread
    pool started) splits its batches as well, and trains to the parent's weights."""
    script = textwrap.dedent(f"""
        import os
        import numba
        import numpy as np
        import symprop as sp
        from symprop.runtime import threads
        arch = {ARCH!r}
        net = sp.Network([sp.Dense(i, o, a) for i, o, a in arch], loss="ce", dtype="float64",
                         seed=3)
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((256, 40)), rng.integers(0, 3, 256)
        numba.set_num_threads(2)  # starts Numba's thread pool
        net.fit(X, y, epochs=1, batch_size=64, optimizer=sp.SGD(lr=0.1), verbose=False)
        start = net.params

        def trained():
            net.set_params(start)
            net.fit(X, y, epochs=2, batch_size=64, optimizer=sp.SGD(lr=0.1), shuffle=False,
                    verbose=False)
            return np.concatenate([a.ravel() for pair in net.params for a in pair])

        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            split = threads.shards_for(net._module(sp.SGD(lr=0.1)), net.layers, 64)
            os.write(write, np.append(trained(), split).tobytes())
            os._exit(0)
        os.close(write)
        data = b""
        while chunk := os.read(read, 1 << 16):
            data += chunk
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        child = np.frombuffer(data)
        print(code, int(child[-1]), float(np.abs(child[:-1] - trained()).max()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "NUMBA_NUM_THREADS": "2"})
    assert result.returncode == 0, result.stderr
    code, split, difference = result.stdout.split()
    assert (code, split) == ("0", "2"), result.stderr
    assert float(difference) <= 1e-12


def _source(arch, **options):
    return network_source(parse_architecture(arch), "ce", "sgd", **options)


def test_only_mid_size_networks_without_dropout_get_the_parallel_path():
    medium = _source("64-128:relu-64:relu-10:softmax", split_batches=True, direct_blas=True)
    assert "SHARDED = True" in medium and "def column_thread(" in medium
    assert "SPLIT_UNITS = 128" in medium and "shard_thread" not in medium
    # the column split takes layers of any size (no weight crosses between the cores)
    assert "SPLIT_UNITS = 512" in _source("784-512:relu-512:relu-10:softmax",
                                          split_batches=True, direct_blas=True)
    # its partial sums are BLAS's own: without the CBLAS bound (np.dot), the row split
    fallback = _source("64-128:relu-64:relu-10:softmax", split_batches=True)
    assert "def shard_thread(" in fallback and "SPLIT_UNITS = 0" in fallback
    deeper = _source("64-128:relu-64:relu-32:relu-10:softmax", split_batches=True)
    assert "def shard_thread(" in deeper and "SPLIT_UNITS = 0" in deeper
    # the threads are Python's (split_support.run_threads): no parallel region to compile
    for source in (medium, deeper):
        assert "parallel=True" not in source and "prange(" not in source
    # not the column split: a wide output layer each thread would compute whole, a first
    # layer too narrow for two blocks of COLUMN_MIN_UNITS, a softmax in the middle or first
    # (it would normalize over each block's units alone)
    for arch in ("64-128:relu-64:relu-64:softmax", "128-48:relu-256:relu-10:softmax",
                 "64-128:relu-64:softmax-10:softmax", "64-128:softmax-64:relu-10:softmax"):
        assert "def shard_thread(" in _source(arch, split_batches=True, direct_blas=True)
    for arch, options in (("20-32:relu-16:relu-10:softmax", {}),  # too small to pay
                          # BLAS threads instead (too big for the row split)
                          ("784-512:relu-512:relu-256:relu-10:softmax", {}),
                          ("64-128:relu-64:relu-10:softmax", {"dropout": [True, False, False]})):
        options["split_batches"] = True
        source = _source(arch, **options)
        assert "SHARDED = False" in source and "_thread" not in source
        assert "run_threads" not in source


def test_one_numba_thread_builds_no_parallel_path(monkeypatch):
    """NUMBA_NUM_THREADS=1 (or one core): nothing could use the path, so nothing compiles it."""
    from symprop.codegen import build

    monkeypatch.setattr(build, "numba_threads", lambda: 1)
    assert not make_net()._module(sp.SGD(lr=0.1)).SHARDED
    monkeypatch.setattr(build, "numba_threads", lambda: 2)
    assert make_net()._module(sp.SGD(lr=0.1)).SHARDED


def test_exported_modules_stay_serial():
    """What `symprop kernels` writes: no OpenMP, nothing a fork could trip on."""
    source = _source("64-128:relu-64:relu-10:softmax")
    assert "SHARDED = False" in source and "_thread" not in source


def test_transposed_weight_copies_train_like_the_plain_products():
    """The 96 x 64 layer's delta product reads a kept copy of W^T (TRANSPOSE_WEIGHTS),
    refreshed after every update: the same training as the generated loops, which read W
    itself, split over threads or not."""
    X, y = data()
    blas = make_net()
    assert "delta_relu_blas_t(D2, W2T" in blas.kernel_source(sp.SGD(lr=0.1))
    loops = sp.Network([sp.Dense(n_in, n_out, act) for n_in, n_out, act in ARCH], loss="ce",
                       dtype="float64", seed=3, matmul="loops")
    assert "_t(" not in loops.kernel_source(sp.SGD(lr=0.1))
    for net in (blas, loops):
        net.fit(X, y, epochs=3, batch_size=64, optimizer=sp.SGD(lr=0.1, momentum=0.9),
                verbose=False)
    for (Wa, ba), (Wb, bb) in zip(blas.params, loops.params, strict=True):
        np.testing.assert_allclose(Wa, Wb, atol=1e-11)
        np.testing.assert_allclose(ba, bb, atol=1e-11)
    ga, gb = blas.gradients(X, y), loops.gradients(X, y)
    for (Wa, ba), (Wb, bb) in zip(ga, gb, strict=True):
        np.testing.assert_allclose(Wa, Wb, atol=1e-13)
        np.testing.assert_allclose(ba, bb, atol=1e-13)


def epochs_in_one_call(shards, count, nan_row=None, blocks="bn"):
    """``count`` epochs of train_with's network and data through one train_epoch call (perm
    their orders back to back): parameters, and (batches, step, status, batch losses,
    outputs (one thread's; None on the split path), batch scores). A NaN target in row
    nan_row if given, which the first epoch's order leaves out (row 0 twice instead): the
    stop falls in the call's second epoch."""
    net, X, Xf, Y = network_and_data(blocks, nan_row)
    optimizer = make_optimizer(sp.SGD(lr=0.1, momentum=0.9))
    module = net._module(optimizer)
    params = net._flat_params() + net._running
    states = [np.zeros_like(p) for p in net._flat_params() for _ in module.OPTIMIZER_STATE]
    rng = np.random.default_rng(7)
    perm = np.concatenate([rng.permutation(X.shape[0]) for _ in range(count)])
    first = perm[:X.shape[0]]
    first[first == nan_row] = 0
    losses = np.full(count * -(-X.shape[0] // 64), np.nan)
    outputs = np.full((count * Y.shape[0], Y.shape[1]), np.nan) if shards == 1 else None
    scores = np.full((losses.shape[0], 2), np.nan)
    batches, step, status = module.train_epoch(
        Xf, Y, perm, 64, 0, 0.5, losses, *params, *states, *net._model_hyper(),
        *optimizer.hyper_values(), shards=shards, outputs=outputs,
        work=module.epoch_work(64, net._flat_params(), shards), epochs=count, scores=scores)
    return [p.copy() for p in params], (batches, step, status, losses, outputs, scores)


@pytest.mark.parametrize("blocks", [False, "rows", "bn"])
def test_split_batches_take_several_epochs_a_call(blocks):
    """Three epochs in one call on the split path (each batch's rows over two threads, or
    three shares in turn): bit for bit what three calls of one epoch give, each epoch's
    batch losses and scores in its own rows, and the batches counted over the three."""
    for shards in (2, 3):
        params, (batches, step, status, losses, outputs, scores) = epochs_in_one_call(
            shards, 3, blocks=blocks)
        assert (batches, step, status) == (3 * 7, 3 * 7, 0)
        # against train_with's one epoch a call, of the same row orders
        ref_params, ref = train_with(shards, sp.SGD(lr=0.1, momentum=0.9), 0.5,
                                     blocks=blocks, epochs=3)
        for a, b in zip(ref_params, params, strict=True):
            np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(losses, np.concatenate([r[3] for r in ref]))
        np.testing.assert_array_equal(scores, np.concatenate([r[5] for r in ref]))


@pytest.mark.parametrize("out_act, loss", [("identity", "mse"), ("sigmoid", "bce")])
def test_split_batches_count_the_other_scores(out_act, loss):
    """The split path's counts of summed errors (regression) and of outputs on their
    target's side of 0.5 (bce), summed over the threads' shares: the metrics they give are
    those of one thread's outputs, to rounding."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((389, 40))
    y = (rng.standard_normal((389, 3)) if loss == "mse"
         else rng.integers(0, 2, (389, 3)).astype(float))
    perm = rng.permutation(389)
    kept = {}
    for shards in (1, 2):
        net = sp.Network([sp.Dense(40, 96, "relu"), sp.Dense(96, 64, "tanh"),
                          sp.Dense(64, 3, out_act)], loss=loss, dtype="float64", seed=3)
        optimizer = make_optimizer(sp.SGD(lr=0.1))
        module = net._module(optimizer)
        assert module.SHARDED
        Xf, Y = net._features(X), net._targets(y, 389)
        losses, scores = np.empty(7), np.full((7, 2), np.nan)
        outputs = np.full(Y.shape, np.nan) if shards == 1 else None
        module.train_epoch(Xf, Y, perm, 64, 0, 0.0, losses, *net._flat_params(),
                           *optimizer.hyper_values(), shards=shards, outputs=outputs,
                           work=module.epoch_work(64, net._flat_params(), shards),
                           scores=scores)
        kept[shards] = scores
        if shards == 1:
            want = RunningMetrics(loss, Y)(outputs)
    for scores in kept.values():
        assert (scores[:, 1] > 0).all() if loss == "mse" else not scores[:, 1].any()
        got = BatchScoreMetrics(module.BATCH_SCORES, Y).epochs(scores, 1)
        assert got.keys() == want.keys()
        for key, value in want.items():
            np.testing.assert_allclose(got[key][0], value, rtol=1e-9)


def test_split_path_keeps_no_outputs():
    """Each row's output is kept on one thread only (the split path counts scores): asked
    for with several shards, train_epoch refuses before training."""
    net, X, Xf, Y = network_and_data(False)
    module = net._module(make_optimizer(sp.SGD(lr=0.1)))
    params = net._flat_params()
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match="outputs are kept on one thread"):
        module.train_epoch(Xf, Y, np.arange(X.shape[0]), 64, 0, 0.0, np.empty(7), *params,
                           0.1, 0.0, shards=2, outputs=np.empty_like(Y))
    for got, want in zip(params, before, strict=True):
        np.testing.assert_array_equal(got, want)


def test_split_batches_stop_inside_a_call_of_several_epochs():
    """A NaN target that only the call's second epoch meets: it stops at that batch (status
    1), the batches counted from the call's start, with the losses and scores up to there,
    as one thread does; nothing is written for the batches after it."""
    ref_params, ref = epochs_in_one_call(1, 3, nan_row=200)
    for shards in (2, 3):
        params, got = epochs_in_one_call(shards, 3, nan_row=200)
        assert ref[:3] == got[:3] and ref[2] == 1 and 7 <= ref[0] < 14  # in the 2nd epoch
        done = ref[0]
        np.testing.assert_allclose(got[3][:done], ref[3][:done], rtol=1e-12)
        assert np.isnan(got[3][done + 1:]).all()  # no batch after the stop
        np.testing.assert_array_equal(got[5][:done], ref[5][:done])
        assert np.isnan(got[5][done:]).all()  # none for the stopping batch or after it
        for a, b in zip(ref_params, params, strict=True):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def test_fit_takes_several_epochs_a_call_on_the_split_path(monkeypatch):
    """fit trains several epochs a call on the split path too (two shares, on two threads or
    in turn): bit for bit what one epoch a call gives, batch normalization included."""
    from symprop.runtime import recovery, training

    monkeypatch.setattr(training, "shards_for", lambda *args: 2)
    monkeypatch.setattr(training, "CALL_SECONDS", float("inf"))  # calls up to each copy
    monkeypatch.setattr(recovery, "EVERY_BATCHES", 64)
    X, y = data(120)

    def split_fit():
        net = make_net(blocks="bn")
        module, calls = net._module(sp.Adam(0.01)), []
        original = module.train_epoch

        def train_epoch(*args, **kwargs):
            calls.append((kwargs.get("epochs", 1), kwargs["shards"]))
            return original(*args, **kwargs)

        monkeypatch.setattr(module, "train_epoch", train_epoch)
        history = net.fit(X, y, epochs=12, batch_size=40, optimizer=sp.Adam(0.01),
                          verbose=False)
        return net, history, calls

    net, history, calls = split_fit()
    assert calls == [(1, 2), (11, 2)]  # 3 batches an epoch: a copy due every 22 epochs
    monkeypatch.setattr(training, "_epochs_at_once", lambda *args: 1)
    reference, expected, calls = split_fit()
    assert calls == [(1, 2)] * 12
    for key in history.keys():
        assert history[key] == expected[key], key
    for got, want in zip(net._flat_params() + net._running + net._state,
                         reference._flat_params() + reference._running + reference._state,
                         strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("blocks", [False, "ln", "bn"])
def test_infer_is_runs_evaluation(blocks):
    """A split-path module's forward-only infer() (what evaluate() takes before run() has
    been compiled) gives run()'s outputs bit for bit, and its loss to rounding: in chunks,
    with and without the loss, batch normalization's running statistics, a NaN input's NaN
    loss."""
    net, X, Xf, Y = network_and_data(blocks)
    net.fit(X[:128], data()[1][:128], epochs=1, batch_size=64, optimizer=sp.SGD(lr=0.1),
            verbose=False)  # running statistics away from their start
    module = net._module()
    extra = (*net._flat_params(), *net._running, *net._model_hyper())
    net.gradients(X[:8], data()[1][:8])  # compiles run(): evaluate() takes it from here
    assert module.run.overloads
    Xf = Xf.copy()
    Xf[300, 7] = np.nan
    for with_loss in (True, False):
        for chunk in (64, 389):
            by_infer, by_run = np.full(Y.shape, 7.0), np.full(Y.shape, 7.0)
            loss = module.infer(with_loss, Xf, Y, np.arange(389), chunk, by_infer,
                                *module._buffers(chunk), *extra)
            mean = module.evaluate(Xf, Y, by_run, with_loss, chunk, *extra)
            np.testing.assert_array_equal(by_infer, by_run)
            assert (by_infer != 7.0).all()  # every row's output written
            assert (np.isnan(loss) and np.isnan(mean)) if with_loss else loss == mean == 0
    clean = data()[0]
    loss = module.infer(True, net._features(clean), Y, np.arange(389), 64, np.empty_like(Y),
                        *module._buffers(64), *extra)
    mean = module.evaluate(net._features(clean), Y, np.empty_like(Y), True, 64, *extra)
    np.testing.assert_allclose(loss / 389, mean, rtol=1e-12)  # LLVM may sum in its order


def test_a_first_prediction_after_the_split_path_compiles_infer_alone():
    """In a fresh process, fit on the split path then predict: run() is never compiled
    (infer() predicts); once it is (gradients), predictions are the same, bit for bit."""
    script = SPLIT_FIT + textwrap.dedent("""
        first = net.predict(X)
        module = net._module(sp.SGD(lr=0.1))
        compiled = (bool(module.column_thread.overloads), bool(module.infer.overloads),
                    bool(module.run.overloads))
        net.gradients(X[:8], y[:8])
        again = net.predict(X)
        print(*compiled, bool(module.run.overloads), bool((first == again).all()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "NUMBA_NUM_THREADS": "2"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False", "True", "True"], result.stdout
