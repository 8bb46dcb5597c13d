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

    def sync(self) -> None:
        """Nothing to copy: the host arrays are the network's."""

    def placed(self, X, Y) -> tuple:
        """(X, Y, parameters) for the generated evaluate(), where this fit keeps them."""
        return X, Y, self.params


class DeviceArrays(HostArrays):
    """target="cuda": data, parameters and optimizer state on the GPU for a whole fit."""

    def __init__(self, net, X, Y):
        from numba import cuda

        super().__init__(net, cuda.to_device(X), cuda.to_device(Y))
        self._params = [cuda.to_device(p) for p in net._flat_params()]
        self._state = [cuda.to_device(s) for s in net._state]
        self._host_X, self._others = X, {}  # other data sets (validation) by id, copied once

    @property
    def params(self) -> list:
        return self._params

    @property
    def state(self) -> list:
        return self._state

    def sync(self) -> None:
        """Copy parameters and optimizer state back into the network's host arrays."""
        for device, host in zip(self._params + self._state,
                                self.net._flat_params() + self.net._state, strict=True):
            device.copy_to_host(host)


    def placed(self, X, Y) -> tuple:
        if X is self._host_X:
            return self.X, self.Y, self._params
        if id(X) not in self._others:
            from numba import cuda

            self._others[id(X)] = (X, cuda.to_device(X), cuda.to_device(Y))
        _, X_device, Y_device = self._others[id(X)]  # the tuple keeps X, so its id, alive
        return X_device, Y_device, self._params


def arrays_for(net, X: np.ndarray, Y: np.ndarray) -> HostArrays:
    return DeviceArrays(net, X, Y) if net.target == "cuda" else HostArrays(net, X, Y)
