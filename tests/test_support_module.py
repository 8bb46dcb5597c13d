"""The compiled helpers every network shares (symprop.runtime.support): each epoch's row order
(seeded from the network's generator), the finiteness check of the data and the rows' argmax
of the accuracy, against NumPy; and the scratch arrays fit makes once for all its epochs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.errors import DataError
from symprop.runtime import support
from symprop.runtime.support import floats_all_finite, row_argmax, support_module


def shuffle_rows():
    return support_module().shuffle_rows


@given(n=st.integers(0, 300), seed=st.integers(0, 2**63 - 1))
@settings(max_examples=60, deadline=None)
def test_every_row_once(n, seed):
    perm = np.full(n, -1, dtype=np.int64)
    shuffle_rows()(perm, seed)
    assert sorted(perm.tolist()) == list(range(n))


@given(n=st.integers(0, support.COMPILED_MIN_ROWS + 40), seed=st.integers(0, 2**63 - 1))
@settings(max_examples=60, deadline=None)
def test_few_rows_are_shuffled_without_compiling_the_same_way(n, seed):
    """Below COMPILED_MIN_ROWS shuffled_rows shuffles in NumPy and Python: the compiled
    loop's permutation, so that a seeded fit does not depend on the data's size class."""
    compiled = np.empty(n, dtype=np.int64)
    shuffle_rows()(compiled, seed)
    assert support._fisher_yates(n, seed) == compiled.tolist()
    out = np.full(n, -1, dtype=np.int64)
    assert support.shuffled_rows(n, seed, out) is out
    assert out.tolist() == compiled.tolist()


def test_a_process_that_shuffles_many_rows_compiles_the_shuffle(monkeypatch):
    """Past PYTHON_SHUFFLE_ROWS rows shuffled in Python, small shuffles take the compiled
    loop too (a sweep's thousands of epochs), with the same permutations."""
    monkeypatch.setattr(support, "_python_shuffled", 0)
    monkeypatch.setattr(support, "PYTHON_SHUFFLE_ROWS", 300)
    calls = []
    compiled = support_module().shuffle_rows
    monkeypatch.setattr(support, "support_module",
                        lambda: type("M", (), {"shuffle_rows": staticmethod(
                            lambda perm, seed: calls.append(len(perm)) or compiled(perm, seed))}))
    orders = [support.shuffled_rows(120, seed).tolist() for seed in range(5)]
    assert calls == [120, 120]  # 3 x 120 rows in Python reach 300: then compiled
    for seed, order in enumerate(orders):
        assert order == support._fisher_yates(120, seed)


def test_the_order_of_a_seed_is_pinned():
    """A seeded fit's row orders are part of its results: a change to the generator or the
    shuffle would change every seeded training, so it must be deliberate."""
    perm = np.empty(10, dtype=np.int64)
    shuffle_rows()(perm, 12345)
    assert perm.tolist() == PINNED_12345


PINNED_12345 = [2, 5, 4, 7, 6, 3, 8, 0, 9, 1]


def _chi_square(counts: np.ndarray) -> float:
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def test_orders_are_uniform():
    """All 24 orders of 4 rows equally often, and each row of 10 equally often in each
    position, over 24,000 consecutive seeds (chi-square far beyond chance: p < 1e-6; a
    shuffle that never moves the last row, or a biased index, fails it)."""
    shuffle = shuffle_rows()
    orders = {p: i for i, p in enumerate(itertools.permutations(range(4)))}
    counts = np.zeros(24)
    positions = np.zeros((10, 10))
    perm4, perm10 = np.empty(4, dtype=np.int64), np.empty(10, dtype=np.int64)
    for seed in range(24_000):
        shuffle(perm4, seed)
        counts[orders[tuple(perm4.tolist())]] += 1
        shuffle(perm10, seed)
        positions[np.arange(10), perm10] += 1
    assert _chi_square(counts) < 62.0  # chi-square(23) at p = 1e-6 is 61.9
    for row in positions:
        assert _chi_square(row) < 46.0  # chi-square(9) at p = 1e-6 is 45.8
    assert math.isclose(positions.sum(), 240_000)


def _data(rows=300, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, features)), rng.integers(0, classes, rows)


def _poison(work):
    """NaN into every float scratch array of epoch_work()'s result, nested lists included."""
    for item in work:
        if isinstance(item, np.ndarray) and item.dtype.kind == "f":
            item.fill(np.nan)
        elif isinstance(item, list | tuple):
            _poison(item)


@pytest.mark.parametrize("shards", [1, 2])
@pytest.mark.parametrize("layers", [  # big enough rows for the module's split path
    [sp.Dense(6, 128, "relu"), sp.Dense(128, 64, "relu"), sp.Dense(64, 3, "softmax")],
    [sp.Dense(6, 96, "tanh"), sp.BatchNorm(96),
     sp.Residual([sp.Dense(96, 96, "relu")]), sp.Dense(96, 3, "softmax")],
])
def test_scratch_arrays_carry_nothing_between_epochs(layers, shards, monkeypatch):
    """fit makes its scratch arrays once and reuses them each epoch: nothing in them may
    carry over. With every scratch array filled with NaN before each epoch, three epochs in
    one fit equal three fits of one epoch on fresh arrays (the same row orders: the
    network's generator goes on from one fit to the next). shards=2 runs the split (and,
    with the norm, staged) paths on any machine. One epoch a call, so that every epoch
    starts on poisoned arrays."""
    import symprop.runtime.training as training

    monkeypatch.setattr(training, "shards_for",
                        lambda module, layers, rows: shards if module.SHARDED else 1)
    monkeypatch.setattr(training, "_epochs_at_once", lambda *args: 1)
    X, y = _data()
    nets = [sp.Network(layers, loss="ce", dtype="float64", seed=5) for _ in range(2)]
    module = nets[0]._module(sp.SGD(lr=0.1, momentum=0.9))
    assert module.SHARDED
    original, poisoned = module.train_epoch, []

    def train_epoch(*args, work=None, **kw):
        _poison(work)
        poisoned.extend([kw["shards"]] * kw.get("epochs", 1))
        return original(*args, work=work, **kw)

    monkeypatch.setattr(module, "train_epoch", train_epoch)
    nets[0].fit(X, y, epochs=3, batch_size=64, optimizer=sp.SGD(lr=0.1, momentum=0.9),
                verbose=False)
    assert poisoned == [shards] * 3
    monkeypatch.setattr(module, "train_epoch", original)
    optimizer = sp.SGD(lr=0.1, momentum=0.9)
    for _ in range(3):
        nets[1].fit(X, y, epochs=1, batch_size=64, optimizer=optimizer, verbose=False)
    for (Wa, ba), (Wb, bb) in zip(nets[0].params, nets[1].params, strict=True):
        assert np.isfinite(Wa).all()
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)


def test_train_epoch_refuses_work_of_another_batch_size():
    """work made for smaller batches (or another shard count) would be written past its end:
    train_epoch refuses it."""
    X, y = _data()
    net = sp.Network([sp.Dense(6, 128, "relu"), sp.Dense(128, 64, "relu"),
                      sp.Dense(64, 3, "softmax")], loss="ce", dtype="float64", seed=5)
    optimizer = sp.SGD(lr=0.1)
    module = net._module(optimizer)
    assert module.SHARDED
    params = [p for pair in net.params for p in pair]
    Y = np.eye(3)[y]
    perm = np.arange(len(X))
    losses = np.empty(len(X))
    hyper = optimizer.hyper_values()
    module.train_epoch(X, Y, perm, 64, 0, 0.0, losses, *params, *hyper,
                       work=module.epoch_work(64, params))  # the matching work is taken
    for work, shards in [(module.epoch_work(16, params), 1), (module.epoch_work(64, params, 2), 1)]:
        with pytest.raises(ValueError, match="another batch_size or shard count"):
            module.train_epoch(X, Y, perm, 64, 0, 0.0, losses, *params, *hyper, shards=shards,
                               work=work)


def test_a_seeded_networks_epochs_keep_their_orders(monkeypatch):
    """The row orders fit draws for a seeded network are pinned: the seed of each epoch's
    shuffle comes from the network's generator (random_raw() >> 1) and must not change
    silently, or every seeded training in users' notes gives other numbers."""
    net = sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce", seed=7)
    module = net._module(sp.SGD(0.1))
    original, orders = module.train_epoch, []

    def train_epoch(X, Y, perm, *args, epochs=1, **kw):
        # several epochs a call: orders back to back (copied: fit refills its buffer)
        orders.extend(part.copy() for part in np.split(perm, epochs))
        return original(X, Y, perm, *args, epochs=epochs, **kw)

    monkeypatch.setattr(module, "train_epoch", train_epoch)
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    net.fit(X, y, epochs=2, batch_size=4, verbose=False)
    assert [order.tolist() for order in orders] == [[0, 4, 3, 2, 7, 8, 1, 9, 5, 6],
                                                    [9, 6, 8, 0, 3, 5, 1, 4, 2, 7]]


def test_seeds_give_their_own_orders():
    """The same seed trains the same; another seed shuffles otherwise (and so trains to
    other weights from the same initial ones)."""
    X, y = _data()
    layers = [sp.Dense(6, 8, "relu"), sp.Dense(8, 3, "softmax")]
    start = sp.Network(layers, loss="ce", dtype="float64", seed=1).params
    results = []
    for seed in (7, 7, 8):
        net = sp.Network(layers, loss="ce", dtype="float64", seed=seed)
        net.set_params(start)
        net.fit(X, y, epochs=2, batch_size=16, optimizer=sp.SGD(lr=0.1), verbose=False)
        results.append(net.params[0][0])
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.allclose(results[0], results[2])


@pytest.fixture
def compiled_for_any_size(monkeypatch):
    """The compiled paths for small arrays too (they are taken from a size on)."""
    monkeypatch.setattr(support, "COMPILED_MIN_VALUES", 1)
    monkeypatch.setattr(support, "COMPILED_MIN_ROWS", 1)


@given(size=st.integers(1, 200), where=st.integers(0, 10**6),
       bad=st.sampled_from([np.nan, np.inf, -np.inf, None]),
       dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=80, deadline=None)
def test_finiteness_as_numpy_sees_it(size, where, bad, dtype):
    array = np.random.default_rng(size).standard_normal(size).astype(dtype) * 1e3
    if bad is not None:
        array[where % size] = bad
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(support, "COMPILED_MIN_VALUES", 1)
        assert floats_all_finite(array) == bool(np.isfinite(array).all())
        assert floats_all_finite(array.reshape(1, -1)) == bool(np.isfinite(array).all())


def test_huge_finite_values_are_finite(compiled_for_any_size):
    """Values whose sum overflows are still finite (the compiled pass never sums them)."""
    array = np.full(1000, 3e38, dtype=np.float32)
    assert floats_all_finite(array)
    assert floats_all_finite(array[::2])  # not contiguous: NumPy's path


def test_fit_names_the_bad_value_of_big_data():
    """Above COMPILED_MIN_VALUES the compiled check runs, and fit still names the cell."""
    rows = support.COMPILED_MIN_VALUES // 4 + 1
    X = np.random.default_rng(0).standard_normal((rows, 4)).astype(np.float32)
    X[rows - 2, 3] = np.inf
    net = sp.Network([sp.Dense(4, 1, "sigmoid")], loss="bce", seed=0)
    before = net.params
    with pytest.raises(DataError, match=rf"X has a NaN or inf value \(row {rows - 2}, column 3\)"):
        net.fit(X, np.zeros(rows), epochs=1, verbose=False)
    np.testing.assert_array_equal(net.params[0][0], before[0][0])


@given(rows=st.integers(1, 60), columns=st.integers(1, 12), seed=st.integers(0, 10**6),
       nan=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=80, deadline=None)
def test_row_argmax_is_numpys(rows, columns, seed, nan, dtype):
    """Ties (scores from a few values) go to the first column, NaN rows as NumPy has them."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, (rows, columns)).astype(dtype)
    if nan:
        values[rng.integers(rows), rng.integers(columns)] = np.nan
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(support, "COMPILED_MIN_ROWS", 1)
        np.testing.assert_array_equal(row_argmax(values), values.argmax(axis=1))


def test_accuracy_of_many_rows_equals_numpys():
    """fit's and evaluate's accuracy for ce above COMPILED_MIN_ROWS, against NumPy's."""
    rows = support.COMPILED_MIN_ROWS + 7
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((rows, 5)).astype(np.float32), rng.integers(0, 4, rows)
    net = sp.Network([sp.Dense(5, 4, "softmax")], loss="ce", seed=0)
    expected = float(np.mean(net.predict(X).argmax(axis=1) == y))
    assert net.evaluate(X, y)["accuracy"] == expected


@given(rows=st.integers(1, 3000), seed=st.integers(0, 10**6), nan=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=40, deadline=None)
def test_threshold_hits_count_as_numpy_does(rows, seed, nan, dtype):
    """bce's correct predictions: compiled from COMPILED_MIN_ROWS values on, NumPy below;
    a NaN output is above 0.5 for neither, values at exactly 0.5 are not above it."""
    rng = np.random.default_rng(seed)
    out = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=(rows, 1)).astype(dtype)
    targets = rng.integers(0, 2, (rows, 1)).astype(dtype)
    if nan:
        out[rng.integers(rows), 0] = np.nan
    expected = int(np.count_nonzero((out > 0.5) == (targets > 0.5)))
    assert support.threshold_hits(out, targets) == expected
    assert support_module().threshold_hits(out.reshape(-1), targets.reshape(-1)) == expected


@pytest.mark.parametrize("labels", [np.int64, np.int32, list, "one-hot"])
def test_fit_reports_the_same_accuracy_from_labels_or_one_hot_rows(labels):
    """fit's running accuracy compares the outputs' argmax with the integer labels given
    (no argmax of the one-hot targets each call) or with the one-hot rows' argmax: the
    same history either way; and the same as with validation rows split off."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((3000, 5)), rng.integers(0, 4, 3000)
    targets = {"one-hot": sp.one_hot(y, 4), list: y.tolist()}.get(labels)
    targets = y.astype(labels) if targets is None else targets

    def history(given):
        net = sp.Network([sp.Dense(5, 6, "tanh"), sp.Dense(6, 4, "softmax")], loss="ce",
                         seed=1)
        return net.fit(X, given, epochs=3, batch_size=64, verbose=False).history

    got, reference = history(targets), history(y)
    assert got == reference
    assert 0.2 < reference["accuracy"][-1] < 1.0


@given(rows=st.integers(0, 80), classes=st.integers(1, 12), seed=st.integers(0, 10**6),
       outside=st.sampled_from([None, -1, "classes", 2**40]),
       dtype=st.sampled_from([np.float32, np.float64]), compiled=st.booleans())
@settings(max_examples=80, deadline=None)
def test_one_hot_rows_are_numpys_and_name_the_first_label_outside(rows, classes, seed,
                                                                  outside, dtype, compiled):
    """Compiled (from COMPILED_MIN_ROWS labels on) or NumPy's: the same rows, and the first
    row whose label is not a class (fit's DataError names that label)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, rows)
    first = -1
    if outside is not None and rows:
        first = int(rng.integers(rows))
        labels[first:] = classes if outside == "classes" else outside
    with pytest.MonkeyPatch.context() as patch:
        if compiled:
            patch.setattr(support, "COMPILED_MIN_ROWS", 1)
        out, bad = support.one_hot(labels, classes, dtype)
    assert bad == first
    if first < 0:
        expected = np.zeros((rows, classes), dtype)
        expected[np.arange(rows), labels] = 1
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, expected)


@given(values=st.lists(st.sampled_from([0, 1, 0.25, 1.5, -0.5, np.nan, 1e40, 1 + 1e-12,
                                           1 - 1e-12, -1e-50]), max_size=40),
       kind=st.sampled_from([np.int64, np.float32, np.float64, np.uint8]),
       dtype=st.sampled_from([np.float32, np.float64]), compiled=st.booleans())
@settings(max_examples=80, deadline=None)
def test_unit_targets_convert_and_check_as_numpy_does(values, kind, dtype, compiled):
    """bce's targets: converted to the network's float type, and whether every one lies in
    [0, 1] (NaN, and a value too large for float32, do not)."""
    with np.errstate(invalid="ignore", over="ignore"):
        array = np.array(values, dtype=np.float64)
        if np.issubdtype(kind, np.integer):
            array = array[np.isfinite(array) & (np.abs(array) < 1e3)]
        array = array.astype(kind).reshape(-1, 1)
        expected = array.astype(dtype)
    with pytest.MonkeyPatch.context() as patch:
        if compiled:
            patch.setattr(support, "COMPILED_MIN_ROWS", 1)
        out, inside = support.unit_targets(array, dtype)
    assert out.dtype == dtype and out.shape == array.shape and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)
    assert inside == bool(((expected >= 0) & (expected <= 1)).all())


@given(rows=st.integers(1, 60), columns=st.integers(1, 12), seed=st.integers(0, 10**6),
       nan=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=80, deadline=None)
def test_argmax_hits_count_as_numpy_does(rows, columns, seed, nan, dtype):
    """ce's correct predictions without the argmax array: ties to the first column, rows
    with a NaN as NumPy's argmax has them."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 3, (rows, columns)).astype(dtype)
    labels = rng.integers(0, columns, rows)
    if nan:
        values[rng.integers(rows), rng.integers(columns)] = np.nan
    expected = int(np.count_nonzero(values.argmax(axis=1) == labels))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(support, "COMPILED_MIN_ROWS", 1)
        assert support.argmax_hits(values, labels) == expected
    assert support.argmax_hits(values, labels) == expected  # NumPy's, below the size
