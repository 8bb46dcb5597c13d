"""Mini-batch training: epochs run inside the generated ``train_epoch`` (no Python per batch);
this module validates data, splits off validation data, keeps the history, stops early, and
shows progress."""

from __future__ import annotations

import contextlib
import functools
import math
import time

import numpy as np

from symprop.errors import DataError, SympropError, TrainingError
from symprop.runtime.checks import require_finite
from symprop.runtime.device import arrays_for
from symprop.runtime.metrics import BatchScoreMetrics, RunningMetrics, metrics
from symprop.runtime.optimizers import SGD, make_optimizer
from symprop.runtime.recovery import Checkpoints
from symprop.runtime.threads import blas_threads_for, shards_for

# train_epoch's status: 1 a batch's loss, or on the CPU one of its inputs, was not finite (no
# update applied for it), 2 its update made a parameter or optimizer state non-finite.
NONFINITE_LOSS, NONFINITE_UPDATE = 1, 2

# Several epochs in one call of the module (_epochs_at_once): a call aims at this long.
CALL_SECONDS = 0.1

# track_gradients measures each layer's gradient on the same training rows every epoch (so
# the curves compare epoch with epoch), at most this many, spread evenly over the data: a
# forward and backward pass over them per epoch, a fraction of an epoch's cost.
GRADIENT_ROWS = 1024


class History:
    """Per-epoch values: ``history["loss"]``, ``"val_loss"``, ``"accuracy"`` ..."""

    def __init__(self, loss: str | None = None):
        self.history: dict[str, list[float]] = {}
        self.loss = loss  # the loss's name (the plot's label)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.restored = False  # early stopping went back to the best epoch's weights

    def append(self, values: dict) -> None:
        """One epoch's values: numbers, or a list of numbers (``grad_norm``: one a layer)."""
        for key, value in values.items():
            kept = [float(v) for v in value] if isinstance(value, list) else float(value)
            self.history.setdefault(key, []).append(kept)

    def extend(self, values: dict[str, list[float]]) -> None:
        """Several epochs' values: for each key, one number an epoch."""
        for key, series in values.items():
            self.history.setdefault(key, []).extend(series)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        """The recorded series: loss, accuracy (or mae, r2), val_*, grad_norm."""
        return self.history.keys()

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))

    def plot(self, path=None, title: str = ""):
        """The curves per epoch (loss, accuracy or R^2, validation, gradient norms), the
        best epoch marked: a PNG at ``path``, or the matplotlib figure without one (a
        notebook shows it)."""
        from symprop.runtime.plotting import plot_history

        return plot_history(self, path, title)

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items()
                if v and not isinstance(v[-1], list)}
        return f"History(epochs={self.epochs}, last={last})"


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SympropError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def fit(net, X, y, epochs: int = 100, batch_size: int = 32, optimizer=None,
        validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
        verbose: bool = True, patience: int | None = None, restore_best: bool = True,
        clip_norm: float | None = None, metrics_each_epoch: bool = False,
        track_gradients: bool = False) -> History:
    """Train ``net`` on (X, y).

    ``patience``: stop when the monitored loss (validation loss if there is validation data,
    else training loss) has not improved for that many epochs, restoring the best weights if
    ``restore_best``. ``clip_norm``: clip the global gradient norm. ``shuffle``: each epoch
    takes the rows in a new random order, drawn from the network's generator (its ``seed``
    makes training repeatable).

    The epoch's training loss and metrics (accuracy; MAE and R^2 for regression) are running
    values, as Keras reports them: the mean of its batches' losses and the metrics of each
    row's output as its batch saw it, before that batch's update, in training mode (batch
    statistics, dropout on), gathered by the generated epoch itself at no extra pass.
    ``metrics_each_epoch=True`` measures them instead after each epoch with the epoch's final
    weights in evaluation mode (one more forward pass over the training data: 25-60% of an
    epoch's time for small networks). Validation data is always evaluated that way, after
    the epoch. If the loss becomes NaN or
    infinite, or an update makes a parameter or the optimizer's state NaN or infinite,
    training stops with a TrainingError naming the epoch and batch; the weights are those
    from before that batch. ``track_gradients``: after each epoch, each layer's gradient
    norm (the Frobenius norm of its weight and bias gradients together, of the batch-mean
    loss over the same up to 1024 training rows every epoch) in ``history["grad_norm"]``,
    one list per epoch with one value a layer, first layer first: where gradients vanish
    or explode, and which layers it happens to.
    """
    epochs = _positive_int("epochs", epochs)
    if not isinstance(track_gradients, bool):
        raise SympropError(f"track_gradients must be True or False, not {track_gradients!r}")
    batch_size = _positive_int("batch_size", batch_size)
    if patience is not None:
        patience = _positive_int("patience", patience)
    if clip_norm is not None and not (isinstance(clip_norm, int | float) and clip_norm > 0):
        raise SympropError(f"clip_norm must be a positive number, not {clip_norm!r}")
    # The CPU epoch checks each row of X as it gathers it into a batch (a NaN or inf makes
    # that batch's loss NaN), so fit need not read all of X first: it looks only when an
    # epoch stops, then names the value and gives back the network as it was.
    rows_checked = net.target == "cpu" and not validation_split
    X = net._features(X, finite=not rows_checked)
    Y = net._targets(y, X.shape[0])
    X, Y, X_val, Y_val = _validation(net, X, Y, validation_split, validation_data)
    start_state = _start_state(net) if rows_checked else None
    optimizer = make_optimizer(optimizer) if optimizer is not None else SGD(0.01)
    module = net._module(optimizer)
    if optimizer is not net._optimizer or not net._state:
        net._optimizer = optimizer
        states_per_param = len(module_states(module))
        net._state = [np.zeros_like(p) for p in net._flat_params()
                      for _ in range(states_per_param)]
        net._step = 0
        if net.seed is not None:
            module.seed_rng(int(net._rng.integers(2**31)))
    n = X.shape[0]
    # A batch larger than the data is one batch of all rows (as PyTorch's DataLoader and
    # Keras do); the module's batch buffers are sized by batch_size, so never beyond n.
    batch_size = min(batch_size, n)
    _check_batch_statistics(net, n, batch_size)
    per_epoch = (n + batch_size - 1) // batch_size  # batches
    hyper = net._model_hyper()
    opt_hyper = optimizer.hyper_values()
    dropout = net._dropout_values()
    history = History(net.loss)
    monitor = "val_loss" if X_val is not None else "loss"
    best_params, waited = None, 0
    split = {"shards": shards_for(module, net.layers, batch_size)} if net.target == "cpu" else {}
    progress = _progress(epochs, verbose, compiling=not _compiled(module, split.get("shards", 1)))
    arrays = arrays_for(net, X, Y)  # on the GPU for target="cuda", for the whole fit
    threads = blas_threads_for(net.layers, batch_size)
    # the split path's threads each call BLAS: one BLAS thread for its epochs (evaluation
    # and validation keep what `threads` gives them)
    split_threads = ((lambda: blas_threads_for(net.layers, batch_size, split=True))
                     if split.get("shards", 1) > 1 else contextlib.nullcontext)
    checkpoints = Checkpoints(net, arrays, module, n, shuffle, epochs, per_epoch)
    most = _epochs_at_once(checkpoints, epochs, net.target == "cpu" and X_val is None
                           and patience is None and not track_gradients
                           and not metrics_each_epoch)
    batch_losses = np.empty(most * per_epoch, dtype=np.float64)
    gathered, running_metrics = ({}, None) if metrics_each_epoch else _running_metrics(
        net, module, X, Y, y, most, per_epoch)
    batch_rows = _batch_rows(n, batch_size)
    flushed = contextlib.nullcontext  # the GPU module: no host floating-point state to set
    if net.target == "cpu":  # the CPU module: its scratch arrays made once a fit
        split["work"] = _epoch_work(net, module, batch_size, arrays.params, split["shards"])
        # here, not at import: `import symprop` loads no Numba (its derivations need none)
        from symprop.codegen.float_control import flushed_subnormals as flushed

    def run_epoch(perm, count: int = 1) -> tuple[int, int]:
        """``count`` epochs (perm their orders back to back): (batches done, status). On the
        CPU with subnormal numbers flushed to zero (symprop.codegen.float_control: a
        confident network's epochs took 4.5 times as long without)."""
        extra = {"epochs": count} if count > 1 else {}  # the CUDA module trains one at a time
        with flushed(), split_threads():
            batches, step, status = module.train_epoch(
                arrays.X, arrays.Y, perm, batch_size, net._step, float(clip_norm or 0.0),
                batch_losses, *arrays.params, *arrays.running, *arrays.state, *hyper,
                *opt_hyper, *dropout, **split, **gathered, **extra)
        net._step = int(step)
        return int(batches), int(status)

    def stopping(epoch: int, values: dict) -> bool:
        """Record an epoch's values; whether early stopping ends training there."""
        nonlocal best_params, waited
        best = _best_value(history, monitor)
        history.append(values)
        if progress is not None:
            _show_epoch(progress, epoch, values)
        if values[monitor] < best - 1e-12:
            waited, history.best_epoch = 0, epoch
            if patience is not None and restore_best:
                best_params = net.params, [array.copy() for array in net._running]
        elif patience is not None:
            waited += 1
            if waited >= patience:
                history.stopped_epoch = epoch
                return True
        return False

    threads.__enter__()
    try:
        epoch, at_once = 1, 1  # the first call: one epoch (it may compile), and timed
        while epoch <= epochs:
            perm, count = checkpoints.begin_epochs(epoch, min(at_once, epochs - epoch + 1))
            began = time.perf_counter()
            batches, status = run_epoch(perm, count)
            # the next call: what runs in about CALL_SECONDS at this call's pace
            at_once = max(1, int(min(most, CALL_SECONDS * count
                                     / max(time.perf_counter() - began, 1e-9))))
            checkpoints.end_epoch(batches)
            if status:
                failed = epoch + batches // per_epoch
                if start_state is not None and failed == 1:
                    _refuse_nonfinite_rows(net, X, checkpoints, start_state)
                if status == NONFINITE_UPDATE:
                    _recover(checkpoints, failed, batches % per_epoch, per_epoch, batch_size,
                             run_epoch)
                arrays.sync()
                raise TrainingError(
                    f"the loss became {batch_losses[batches]} at epoch {failed}, batch "
                    f"{batches % per_epoch + 1} of {per_epoch}; training stopped and the "
                    "weights are those from before that batch")
            arrays.sync()  # once per call: metrics, early stopping and the caller see them
            if count > 1:  # several epochs, nothing between them: their running values
                _record_epochs(history, epoch, _epoch_losses(batch_losses, batch_rows, n, count),
                               running_metrics(count), progress)
                epoch += count
                continue
            if metrics_each_epoch:
                values = _epoch_values(net, X, Y, arrays)
            else:  # the running values: every row ran once in this epoch
                values = {"loss": _epoch_losses(batch_losses, batch_rows, n, 1)[0],
                          **{key: series[0] for key, series in running_metrics(1).items()}}
            if X_val is not None:
                values.update(_epoch_values(net, X_val, Y_val, arrays, "val_"))
            if track_gradients:
                values["grad_norm"] = _gradient_norms(net, X, Y)
            if stopping(epoch, values):
                break
            epoch += 1
    finally:
        arrays.sync()
        threads.__exit__(None, None, None)
        if progress is not None:
            progress.close()
    if best_params is not None and history.stopped_epoch is not None:
        params, running = best_params
        net._arrays = [np.ascontiguousarray(array) for pair in params for array in pair]
        for array, best in zip(net._running, running, strict=True):
            array[...] = best
        history.restored = True
    return history


@functools.lru_cache(maxsize=4)
def _batch_rows(n: int, batch_size: int) -> np.ndarray:
    """The rows of each of an epoch's batches (the last may be short), as floats: np.dot of
    the float losses with integers converts them first (2.6 against 1.1 us). Kept for the
    next fit of as many rows in batches as large (fit called in a loop: 14 us a call for
    4,000 batches); read-only, as it is shared."""
    per_epoch = -(-n // batch_size)
    rows = np.minimum(batch_size, n - batch_size * np.arange(per_epoch), dtype=np.float64)
    rows.flags.writeable = False
    return rows


# A fit's scratch arrays are kept for the next fit up to this size: what they save (10 us a
# call) matters for small networks alone, and a large one's (a gradient per parameter) would
# hold as much memory again as its weights between fits.
KEPT_WORK_BYTES = 1 << 20


def _epoch_work(net, module, batch_size: int, params: list, shards: int):
    """The module's scratch arrays for a fit (epoch_work's): on one thread, those of the
    network's last fit where that had the same module and batch size (nothing in them
    outlives an epoch; making them anew was 10 us of a tiny network's fit call), if they
    take KEPT_WORK_BYTES at most. The split path's hold its threads' meeting points: made
    anew for each fit."""
    kept = net._epoch_work
    if shards == 1 and kept is not None and kept[0] is module and kept[1] == batch_size:
        return kept[2]
    work = module.epoch_work(batch_size, params, shards)
    small = sum(array.nbytes for arrays in work[:2] for array in arrays) <= KEPT_WORK_BYTES
    net._epoch_work = (module, batch_size, work) if shards == 1 and small else None
    return work


def _epoch_losses(batch_losses: np.ndarray, batch_rows: np.ndarray, rows: int, count: int
                  ) -> list[float]:
    """The mean loss over the ``rows`` rows of each of ``count`` epochs, from its batches'
    mean losses (the first epoch's first) and their rows."""
    per_epoch = batch_rows.shape[0]
    # one product and one sum along the rows for all the epochs (a np.dot each was 45 us of
    # a 50-epoch fit on iris): each row sums as one epoch alone does, whatever the count
    by_epoch = batch_losses[:count * per_epoch].reshape(count, per_epoch) * batch_rows
    return (by_epoch.sum(axis=1) / rows).tolist()


def _record_epochs(history: History, first: int, losses: list[float],
                   metrics_lists: dict[str, list[float]], progress) -> None:
    """The running values of several epochs from ``first`` on, trained in one call (no
    validation data and no early stopping there): into the history, the best one marked,
    the bar moved on once."""
    count = len(losses)
    values = {"loss": losses, **metrics_lists}
    best = _best_value(history, "loss")
    history.extend(values)
    for number, loss in enumerate(losses):
        if loss < best - 1e-12:
            best, history.best_epoch = loss, first + number
    if progress is not None:
        _show_epoch(progress, first + count - 1, {k: v[-1] for k, v in values.items()},
                    count)


def _epochs_at_once(checkpoints: Checkpoints, epochs: int, between_free: bool) -> int:
    """How many epochs one call of the module trains at most. Where nothing runs between
    epochs (``between_free``: the CPU module, no validation, early stopping, gradient norms
    or exact metrics), those up to the next copy of the training state (recovery.py; so at
    most EVERY_BATCHES batches and an epoch's, each a loss and two scores in memory): for a
    small network a call and an epoch's Python cost 20-30 us, as much as its batches. Each
    call is then held to about CALL_SECONDS by the pace of the one before (the bar moves,
    Ctrl-C is heard)."""
    if not between_free:
        return 1
    return max(1, min(epochs, checkpoints.epochs_until_copy()))


def _best_value(history: History, monitor: str) -> float:
    """The monitored value of the best epoch so far (inf before the first)."""
    return math.inf if history.best_epoch is None else history[monitor][history.best_epoch - 1]


def _running_metrics(net, module, X: np.ndarray, Y: np.ndarray, y, most: int,
                     per_epoch: int):
    """Where the epochs' running metrics come from: (train_epoch's arguments that gather
    them, a function of an epoch count that gives each metric's values for the epochs of
    the last call). The CPU module counts them batch by batch as it trains (its scores, a
    row a batch); the GPU module keeps each row's output as its batch saw it, measured on
    the host after its epoch (it trains one epoch a call)."""
    if net.target == "cpu":
        scores = np.empty((most * per_epoch, 2))
        counted = BatchScoreMetrics(module.BATCH_SCORES, Y)
        return {"scores": scores}, lambda count: counted.epochs(scores[:count * per_epoch], count)
    n = X.shape[0]
    outputs = _epoch_outputs(net, n, Y.shape[1], X.dtype)
    measure = RunningMetrics(net.loss, Y, _class_labels(net, y, Y))
    return {"outputs": outputs}, lambda count: {
        key: [value] for key, value in measure(outputs[:n]).items()}


def _epoch_outputs(net, rows: int, units: int, dtype) -> np.ndarray:
    """The array the epoch writes each row's output into, the network's from its last fit
    where that had as many rows: the first write to a fresh page costs a page fault, which
    for 128,000 rows of a tiny network was 1-2% of a one-epoch fit (fit called in a loop)."""
    kept = net._epoch_outputs
    if kept is None or kept.shape != (rows, units) or kept.dtype != dtype:
        kept = net._epoch_outputs = np.empty((rows, units), dtype)
    return kept


def _class_labels(net, y, Y: np.ndarray) -> np.ndarray | None:
    """y itself where it holds ce's integer class labels of Y's rows, else None (the
    metrics then take Y's argmax). With validation rows split off, Y has fewer rows."""
    if (net.loss == "ce" and isinstance(y, np.ndarray) and y.ndim == 1
            and y.shape[0] == Y.shape[0] and np.issubdtype(y.dtype, np.integer)):
        return y
    return None


def _start_state(net) -> tuple:
    """What fit gives back besides the arrays (Checkpoints' first copy holds those) when it
    stops on bad data: the optimizer, its state, the step count, the generator's state."""
    return net._optimizer, net._state, net._step, net._rng.bit_generator.state


def _refuse_nonfinite_rows(net, X, checkpoints, start_state) -> None:
    """Epoch 1 stopped (a batch's NaN loss or input, or an update that overflowed before a
    bad row came): if X holds a NaN or inf, the network as it was before fit, then the
    DataError that names the value (as_features' own), as a pass over X first would."""
    try:
        require_finite(X)
    except DataError:
        checkpoints.arrays.restore(checkpoints.saved[1])  # epoch 1's copy: fit's start
        net._optimizer, net._state, net._step, generator = start_state
        net._rng.bit_generator.state = generator
        raise
    # X is finite: the loss or the update itself overflowed, fit's TrainingError says so


def _recover(checkpoints, epoch: int, batch: int, batches: int, batch_size: int,
             run_epoch) -> None:
    """The update of ``batch`` made the weights non-finite: back to those from before it
    (symprop.runtime.recovery), then a TrainingError that says where and what to try."""
    where = f"epoch {epoch}, batch {batch + 1} of {batches}"
    if checkpoints.replay(epoch, batch, batch_size, lambda perm: run_epoch(perm)[1]):
        state = "the weights are those from before that batch"
    else:  # cannot happen on the CPU, whose training is deterministic
        state = (f"replaying to that batch failed earlier, so the weights are those from the "
                 f"start of epoch {checkpoints.saved[0]}")
    checkpoints.arrays.sync()
    raise TrainingError(
        f"the update of {where} made a parameter or optimizer state non-finite (inf or NaN) "
        f"though the loss was finite; training stopped and {state}. Try a smaller learning "
        "rate or clip_norm=..., and check the activations and loss for infinite gradients")


def _gradient_norms(net, X: np.ndarray, Y: np.ndarray) -> list[float]:
    """Each layer's gradient norm on up to GRADIENT_ROWS rows of the training data, the same
    rows every epoch (evenly spaced: no draw from the network's random stream, which would
    change the training itself)."""
    rows = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], GRADIENT_ROWS)).astype(int))
    grads = net.gradients(X[rows], Y[rows])
    return [math.sqrt(float(np.sum(np.square(dW, dtype=np.float64)))
                      + float(np.sum(np.square(db, dtype=np.float64)))) for dW, db in grads]


def _check_batch_statistics(net, n: int, batch_size: int) -> None:
    """Batch normalization estimates a variance from each training batch: one row has none
    (PyTorch refuses it too)."""
    if batch_size != 1 and n % batch_size != 1:  # every batch has two rows or more
        return
    from symprop.runtime.blocks import BatchNorm
    from symprop.runtime.network_parts import param_nodes

    norm = next((layer for layer in param_nodes(net.layers) if isinstance(layer, BatchNorm)),
                None)
    if norm is not None:
        raise DataError(f"{norm!r} trains on batch statistics, and with {n} rows in batches "
                        f"of {batch_size} a batch would have one row, whose variance is "
                        "undefined: choose another batch_size")


def module_states(module) -> list[str]:
    """The optimizer state slots of a generated module (from its update signature)."""
    return list(getattr(module, "OPTIMIZER_STATE", ()))


def _epoch_values(net, X, Y, arrays, prefix: str = "") -> dict[str, float]:
    """Loss and metrics of the network on X; the arrays fit() placed are reused."""
    out, loss = net._run(X, Y, arrays.placed(X, Y))
    return {f"{prefix}loss": loss, **{prefix + k: v for k, v in metrics(net.loss, out, Y).items()}}


def _validation(net, X, Y, split, data):
    if data is not None:
        if split:
            raise SympropError("give validation_split or validation_data, not both")
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise SympropError("validation_data must be a pair (X_val, y_val)")
        X_val = net._features(data[0], "X_val")
        return X, Y, X_val, net._targets(data[1], X_val.shape[0], "y_val")
    if not split:
        return X, Y, None, None
    if not isinstance(split, int | float) or not 0 < split < 1:
        raise SympropError(f"validation_split must be between 0 and 1, not {split!r}")
    n_val = int(round(X.shape[0] * split))
    if n_val < 1 or n_val >= X.shape[0]:
        raise DataError(f"validation_split={split} leaves no data on one side of "
                        f"{X.shape[0]} samples")
    order = net._rng.permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    return (np.ascontiguousarray(X[train]), np.ascontiguousarray(Y[train]),
            np.ascontiguousarray(X[val]), np.ascontiguousarray(Y[val]))


def _compiled(module, shards: int = 1) -> bool:
    """Whether the module's epoch function (the split path's with several shards) has run
    in this process (else its first call compiles it, or loads it from Numba's cache)."""
    name = "run" if shards == 1 else (
        "column_thread" if getattr(module, "SPLIT_UNITS", 0) else "shard_thread")
    run = getattr(module, name, None)
    # the dispatcher's table of compiled signatures (``signatures`` copies it: 17 us a fit)
    return bool(getattr(run, "overloads", True))


# The progress bar's label while the first epoch also compiles the kernels: its time says
# nothing about the epochs after it, so no rate or remaining time is shown until it is done.
COMPILING = "compiling kernels + epoch 1"


def _progress(epochs: int, verbose: bool, compiling: bool = False):
    if not verbose:
        return None
    # The text bar everywhere: in a notebook it prints as text too (tqdm.auto's widget warns
    # without ipywidgets, and a saved notebook keeps it at 0%)
    from tqdm import tqdm

    if compiling:
        return tqdm(total=epochs, unit="epoch", leave=True, dynamic_ncols=True,
                    desc=COMPILING, bar_format="{desc}: {elapsed}")
    return tqdm(total=epochs, unit="epoch", leave=True, dynamic_ncols=True)


def _show_epoch(progress, epoch: int, values: dict, epochs: int = 1) -> None:
    """One epoch done (or ``epochs``, the last one's values shown): its values beside the
    bar. After a compiling first epoch the bar starts its clock again, so that its rate and
    remaining time are the epochs' own."""
    if epoch == 1 and progress.desc == COMPILING:
        progress.bar_format = None
        progress.set_description_str("", refresh=False)
        progress.reset(total=progress.total)
    progress.set_postfix({k: f"{v:.4g}" for k, v in values.items() if k != "grad_norm"},
                         refresh=False)
    progress.update(epochs)
