"""``python -m benchmarks.gpu_profile [CASE] [STEPS]``: where a symprop-cuda training step's
time goes, on a machine with a GPU.

Prints, for one case of the GPU suite (default: large): the time per step of one fit of
STEPS steps, and of the fixed cost of a fit call (a 1-step fit); cProfile's heaviest
functions over such a fit; and what one generated-kernel launch and one cuBLAS product
cost from Python, the two things a step of the per-layer path is made of.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import numpy as np

from benchmarks.cases import init_params, make_data
from benchmarks.gpu import GPU_CASES, missing_gpu


def per_call(function, calls: int = 2000) -> float:
    """Seconds per call, the GPU synchronised after all of them."""
    from numba import cuda

    function()
    cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        function()
    cuda.synchronize()
    return (time.perf_counter() - start) / calls


def main(argv: list[str]) -> None:
    reason = missing_gpu()
    if reason is not None:
        print(f"nothing to profile: {reason}")
        return
    import symprop as sp

    case = GPU_CASES[argv[0] if argv else "large"]
    steps = int(argv[1]) if len(argv) > 1 else 40
    X, y = make_data(case, steps * case.batch)
    net = sp.Network([sp.Dense(*layer) for layer in case.layers], loss=case.loss,
                     dtype=case.dtype, target="cuda", seed=0)
    net.set_params(init_params(case))

    def fit(rows):
        net.fit(X[:rows], y[:rows], epochs=1, batch_size=case.batch, shuffle=False,
                optimizer=sp.SGD(case.lr), verbose=False)

    fit(2 * case.batch)  # compile
    times = {}
    for rows in (case.batch, steps * case.batch):
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            fit(rows)
            runs.append(time.perf_counter() - start)
        times[rows // case.batch] = float(np.median(runs))
    marginal = (times[steps] - times[1]) / (steps - 1)
    print(f"[{case.name}] fit of {steps} steps: {times[steps] / steps * 1e6:.1f} us/step; "
          f"1-step fit {times[1] * 1e3:.2f} ms; marginal step {marginal * 1e6:.1f} us")

    profile = cProfile.Profile()
    profile.enable()
    fit(steps * case.batch)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(22)

    from numba import cuda

    module = net._module(sp.SGD(case.lr))
    width = case.widths[1]
    D = cuda.device_array((case.batch, width), dtype=np.float32)
    db = cuda.device_array(width, dtype=np.float32)
    grid, block = module._blocks(width, module.SUM_COLS), (module.SUM_COLS, module.SUM_ROWS)
    configured = module._launcher(module.column_sums, grid, block)
    once = per_call(lambda: configured(D, db, case.batch))
    each = per_call(lambda: module.column_sums[grid, block](D, db, case.batch))
    print(f"one column_sums launch: {once * 1e6:.1f} us configured once, "
          f"{each * 1e6:.1f} us configured each time")
    if getattr(module, "USE_CUPY", False):
        A = cuda.device_array((case.batch, case.widths[0]), dtype=np.float32)
        W = cuda.device_array((case.widths[0], width), dtype=np.float32)
        views: dict = {}

        def product():
            module.matmul(A, W, D, case.batch, width, case.widths[0], False, False, views)

        print(f"one cuBLAS product {case.batch}x{case.widths[0]}x{width} through matmul: "
              f"{per_call(product, 500) * 1e6:.1f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
