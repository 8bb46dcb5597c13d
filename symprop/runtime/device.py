"""Where a network's arrays live while it trains: the host for target="cpu", the GPU for
target="cuda" (copied there once per fit, back once per epoch, never per batch)."""

from __future__ import annotations

import numpy as np

from symprop.errors import SympropError


def require_cuda() -> None:
    """A clear error naming what is missing when target="cuda" cannot run here."""
    try:
        from numba import cuda
    except ImportError as exc:  # numba without its CUDA target (numba-cuda)
        raise SympropError(f"target='cuda' needs numba's CUDA target, which does not import "
                           f"here ({exc}); install numba-cuda, or use target='cpu'") from None
    try:
        available = cuda.is_available()
    except Exception as exc:  # a broken driver or toolkit raises rather than answers
        raise SympropError(f"target='cuda': the CUDA driver could not be queried ({exc}); "
                           "use target='cpu'") from None
    if not available:
        raise SympropError("target='cuda' needs an NVIDIA GPU with its driver, and none was "
                           "found (numba.cuda.is_available() is False); use target='cpu'")


class HostArrays:
    """target="cpu": the generated module updates the network's own arrays in place."""

    def __init__(self, net, X, Y):
        self.net, self.X, self.Y = net, X, Y

    @property
    def params(self) -> list:
        return self.net._flat_params()

    @property
    def state(self) -> list:
        return self.net._state

    @property
    def running(self) -> list:
        """Batch normalization's running means and variances (none without it)."""
        return self.net._running

    def arrays(self) -> list:
        """Parameters, running statistics and optimizer state where this fit keeps them."""
        return self.params + self.running + self.state

    def sync(self) -> None:
        """Nothing to copy: the host arrays are the network's."""

    def snapshot(self, lasting: bool = True) -> list:
        """Copies of the parameters, running statistics and optimizer state
        (symprop.runtime.recovery): the kernels update these very arrays in place.
        ``lasting``: whether the copy must outlive the next sync() (a copy on the host
        always does)."""
        return [array.copy() for array in self.arrays()]

    def restore(self, snapshot: list) -> None:
        for array, saved in zip(self.arrays(), snapshot, strict=True):
            array[...] = saved

    def placed(self, X, Y) -> tuple:
        """(X, Y, parameters) for the generated evaluate(), where this fit keeps them."""
        return X, Y, self.params


class DeviceArrays(HostArrays):
    """target="cuda": data, parameters and optimizer state on the GPU for a whole fit."""

    def __init__(self, net, X, Y):
        from numba import cuda

        super().__init__(net, cuda.to_device(X), cuda.to_device(Y))
        self._params = [cuda.to_device(p) for p in net._flat_params()]
        self._running = [cuda.to_device(r) for r in net._running]
        self._state = [cuda.to_device(s) for s in net._state]
        # Device copies by the ids of the host (X, Y) pair they were made from: the training
        # pair, and each other pair (validation) copied once. The entry keeps both host
        # arrays alive, so their ids cannot be reused by other arrays meanwhile.
        self._copies = {(id(X), id(Y)): (X, Y, self.X, self.Y)}

    @property
    def params(self) -> list:
        return self._params

    @property
    def state(self) -> list:
        return self._state

    @property
    def running(self) -> list:
        return self._running

    def _host_arrays(self) -> list:
        return self.net._flat_params() + self.net._running + self.net._state

    def sync(self) -> None:
        """Copy parameters, running statistics and optimizer state back into the network's
        host arrays."""
        for device, host in zip(self.arrays(), self._host_arrays(), strict=True):
            device.copy_to_host(host)

    def snapshot(self, lasting: bool = True) -> list | None:
        """Taken at an epoch's start, right after a sync(): the network's host arrays hold the
        training state until the next sync, so unless the snapshot must outlive that
        (``lasting``) nothing is copied (None). A lasting one is a device copy into buffers
        the network keeps across fits (copying 80 MB of host arrays took 20 ms, allocating
        device buffers each fit 1-3 ms)."""
        if not lasting:
            return None
        from numba import cuda

        arrays = self.arrays()
        shapes = [(array.shape, array.dtype) for array in arrays]
        kept = getattr(self.net, "_snapshot_buffers", None)
        if kept is None or [(b.shape, b.dtype) for b in kept] != shapes:
            kept = [cuda.device_array(shape, dtype=dtype) for shape, dtype in shapes]
            self.net._snapshot_buffers = kept
        for saved, array in zip(kept, arrays, strict=True):
            saved.copy_to_device(array)
        return kept

    def restore(self, snapshot: list | None) -> None:
        sources = self._host_arrays() if snapshot is None else snapshot
        for device, source in zip(self.arrays(), sources, strict=True):
            device.copy_to_device(source)

    def placed(self, X, Y) -> tuple:
        key = (id(X), id(Y))
        if key not in self._copies:
            from numba import cuda

            self._copies[key] = (X, Y, cuda.to_device(X), cuda.to_device(Y))
        _, _, X_device, Y_device = self._copies[key]
        return X_device, Y_device, self._params


def arrays_for(net, X: np.ndarray, Y: np.ndarray) -> HostArrays:
    return DeviceArrays(net, X, Y) if net.target == "cuda" else HostArrays(net, X, Y)
