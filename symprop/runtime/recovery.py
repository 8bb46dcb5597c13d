"""Getting back the weights from before an update that made them non-finite.

The generated modules check every update: where a new parameter or optimizer-state value is
not finite (an infinite or NaN gradient under a finite loss, a learning rate that overflows
float32, an Adam moment that overflows), the epoch stops at that batch with status 2. By
then the update has overwritten the weights: it runs in place, in one pass, and checking
every new value before writing any would be a second pass over all parameters each step
(for a tiny network's Adam step, a sixth of its time). So fit keeps a copy instead: the
parameters, optimizer state, step count and random generator, taken at the start of an
epoch once at least EVERY_BATCHES batches have run since the last copy. On failure it
restores the copy and runs the batches since then again, with the same permutations and
dropout seeds (training is deterministic given those), up to the one before the failure.
A copy every 1024 batches costs next to nothing per step; a replay costs at most 1024
batches plus one epoch, once, when training has failed anyway. The epochs between two
copies may run in one call of the compiled module (symprop.runtime.training): for a small
network, copies every 64 batches (as before) left a third of a 50-epoch fit to the calls
and their Python.
Changing the interval changes a network with dropout's training: each copy redraws the
masks' seed (see Checkpoints). On the GPU the copy is the
network's host arrays, which hold the state at an epoch's start until that epoch's sync;
a device copy is made only where the copy must outlive that sync (measured on an H200, a
device copy costs a 1-step fit of the large case 1-3 ms).
"""

from __future__ import annotations

import copy
import functools

import numpy as np

from symprop.runtime.support import shuffled_epochs, shuffled_rows

EVERY_BATCHES = 1024


@functools.lru_cache(maxsize=2)
def _rows_in_order(n: int) -> np.ndarray:
    """0 .. n - 1, kept for the next fit of as many rows (fit called in a loop). Two sizes:
    with one, fits of two sizes taking turns (a short warm-up's and the real one's, as the
    benchmarks' do) made it anew each time, 60 us of a tiny network's 4,000-step fit call.
    Not marked read-only: Numba would compile the epoch again for a read-only array type;
    nothing writes it."""
    return np.arange(n)


@functools.lru_cache(maxsize=2)
def _rows_in_order_repeated(n: int, count: int) -> np.ndarray:
    """0 .. n - 1, ``count`` times over: the row orders of as many epochs without shuffling."""
    return np.tile(_rows_in_order(n), count)


class Checkpoints:
    """The copy of a fit's training state and the replay from it.

    ``draw_epochs`` is the only place where an epoch's randomness is drawn (the dropout seed
    at a copy, then the permutation), so that the replay draws the same numbers."""

    def __init__(self, net, arrays, module, n: int, shuffle: bool, epochs: int,
                 batches_per_epoch: int):
        self.net, self.arrays, self.module = net, arrays, module
        self.n, self.shuffle = n, shuffle
        self.epochs, self.batches_per_epoch = epochs, batches_per_epoch
        # Reseed the dropout masks' generator at each copy: its state lives inside the
        # compiled code, so a replay can only reproduce it from a seed drawn here.
        # (a network made with seed=None too: its generator is then seeded from the OS)
        self.reseed = bool(net._dropout_values())
        self.saved: tuple | None = None  # (epoch, arrays, step, generator state)
        self.batches_since = 0
        # the epochs' row order, refilled each epoch: fresh pages cost a page fault each
        # (for 128,000 rows 57 us, a 1-step fit's time)
        self.order = None if shuffle else _rows_in_order(n)
        self.orders = None  # the same for several epochs drawn at once

    def begin_epochs(self, epoch: int, most: int) -> tuple[np.ndarray, int]:
        """Copy the training state if it is time to; then the row orders, back to back, of
        the epochs from ``epoch`` on that run before the next copy falls due (at least one,
        at most ``most``), and their count. Epochs taken so in one call copy and draw what
        they would one at a time: the same training, bit for bit."""
        due = self.saved is None or self.batches_since >= EVERY_BATCHES
        if due:
            # Whether this copy must outlive the epoch's sync: another epoch follows and will
            # not take a copy of its own (on the GPU a short-lived copy costs nothing).
            lasting = (epoch < self.epochs
                       and self.batches_per_epoch < EVERY_BATCHES)
            # the state getter builds a new dict each time: no copy needed
            self.saved = (epoch, self.arrays.snapshot(lasting), self.net._step,
                          self.net._rng.bit_generator.state)
            self.batches_since = 0
        count = max(1, min(most, self.epochs_until_copy()))
        return self.draw_epochs(due, count), count

    def epochs_until_copy(self) -> int:
        """The epochs from here that end before a copy falls due (a copy is taken when
        EVERY_BATCHES batches have run since the last)."""
        left = EVERY_BATCHES - self.batches_since
        return max(1, -(-left // max(self.batches_per_epoch, 1)))

    def _orders(self, count: int) -> np.ndarray:
        """Room for ``count`` epochs' row orders; without shuffling, the one order repeated."""
        if not self.shuffle:
            return _rows_in_order_repeated(self.n, count)
        if self.orders is None or self.orders.shape[0] < count * self.n:
            self.orders = np.empty(count * self.n, dtype=np.int64)
        return self.orders[:count * self.n]

    def end_epoch(self, batches: int) -> None:
        """``batches``: those the epoch (or epochs) ran."""
        self.batches_since += batches

    def draw_epochs(self, reseed: bool, count: int) -> np.ndarray:
        """The randomness of ``count`` epochs: the dropout seed where ``reseed``, then their
        row orders back to back, each seeded with the generator's next raw 64-bit output,
        halved to fit an int64 (the same numbers whether drawn one epoch or several)."""
        rng = self.net._rng
        if reseed and self.reseed:
            self.module.seed_rng(int(rng.integers(2**31)))
        if count > 1:
            orders = self._orders(count)
            if self.shuffle:
                shuffled_epochs(self.n, rng.bit_generator.random_raw(count) >> np.uint64(1),
                                orders)
            return orders
        if not self.shuffle:
            return self.order
        if self.order is None:
            self.order = np.empty(self.n, dtype=np.int64)
        return shuffled_rows(self.n, int(rng.bit_generator.random_raw()) >> 1, self.order)

    def replay(self, epoch: int, batch: int, batch_size: int, run_epoch) -> bool:
        """Restore the copy, then run every batch from it up to, not including, batch
        number ``batch`` (0-based) of ``epoch``. ``run_epoch(perm)`` trains on the rows of
        perm and returns its status. False if the replay itself failed (then the weights
        are the copy's)."""
        first, saved, step, state = self.saved
        self.arrays.restore(saved)
        self.net._step = step
        self.net._rng.bit_generator.state = copy.deepcopy(state)
        for number in range(first, epoch + 1):
            perm = self.draw_epochs(number == first, 1)
            if number == epoch:
                perm = perm[: batch * batch_size]
            if perm.size and run_epoch(perm):
                self.arrays.restore(saved)
                self.net._step = step
                return False
        return True
