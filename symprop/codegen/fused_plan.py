"""NetworkPlan's part for the CUDA module's fused epoch kernel: whether a network fits it."""

from __future__ import annotations


class FusedEpoch:
    """Sizes of the one-block fused epoch kernel (a mixin: it reads the plan's fields)."""

    # Static shared memory a CUDA block may use is 48 KiB; leave room for the reductions.
    FUSED_LIMIT = 40_000

    def fused_shared_bytes(self, chunk: int) -> int:
        """Shared memory of the fused CUDA epoch kernel: weights and gradient sums of every
        layer, and ``chunk`` rows of inputs, targets, activations (and z) and deltas."""
        floats = chunk * (self.n_in + self.n_out)
        for layer in self.layers:
            floats += 2 * (layer.n_in * layer.n_out + layer.n_out)
            floats += chunk * layer.n_out * (3 if layer.keep_z else 2)
        return floats * (4 if self.float_type == "float32" else 8)

    # Kernel arguments travel in a 4 KiB parameter block (before CUDA 12.1 and Volta), and
    # Numba passes a 2-D array as 9 words (72 bytes): 48 arrays fill 3.4 KiB of it.
    FUSED_MAX_ARRAYS = 48

    def fused_fits(self, chunk: int = 32) -> bool:
        """Whether the CUDA module trains through the one-block fused epoch kernel: its
        shared memory and its arguments (X, Y, perm, losses, status, parameters and their
        optimizer state) fit, no layer has dropout (its masks need per-layer RNG), and the
        network is a chain of dense layers."""
        arrays = 5 + len(self.params) + len(self.states)
        return (self.fused_shared_bytes(chunk) <= self.FUSED_LIMIT and not self.blocks
                and arrays <= self.FUSED_MAX_ARRAYS and not self.dropout_args)
