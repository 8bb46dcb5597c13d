"""Where a cold start goes: ``python -m benchmarks.compile_profile [ARCH] [--loss L]
[--warm-with ARCH2]``.

Builds a network in empty cache folders (in this process) and prints derive + render time,
then every function Numba compiled with its time (inclusive of the functions it compiled
in turn), the time spent holding LLVM, and run()'s compiler passes. The numbers come from
Numba's own event API (``numba.core.event``) and ``dispatcher.get_metadata``.
``--warm-with ARCH2``: a child process first trains ARCH2 on the same cache folders, as a
user's earlier work would have (the support module and the BLAS wrappers are then cached):
what a new architecture costs on a machine that has run symprop before.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
import time


def compile_times():
    """A numba.core.event listener: seconds per compiled function, and in the LLVM lock.
    (Made here, not at import: NUMBA_CACHE_DIR must be set before Numba is imported.)"""
    from numba.core import event

    class CompileTimes(event.Listener):
        def __init__(self):
            self.seconds: dict[str, float] = collections.defaultdict(float)
            self._open: list[tuple[str, float]] = []

        def on_start(self, e):
            name = (e.data["dispatcher"].py_func.__qualname__ if e.kind == "numba:compile"
                    else "(holding LLVM, all functions)")
            self._open.append((name, time.perf_counter()))

        def on_end(self, e):
            name, began = self._open.pop()
            self.seconds[name] += time.perf_counter() - began

        def listening(self) -> contextlib.ExitStack:
            stack = contextlib.ExitStack()
            for kind in ("numba:compile", "numba:llvm_lock"):
                stack.enter_context(event.install_listener(kind, self))
            return stack

    return CompileTimes()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", nargs="?", default="20-32:relu-16:relu-1:sigmoid")
    parser.add_argument("--loss", default="bce")
    parser.add_argument("--warm-with", metavar="ARCH2",
                        help="train ARCH2 first, in a child process on the same caches")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="symprop-profile-")
    os.environ["SYMPROP_CACHE_DIR"] = os.path.join(folder, "symprop")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(folder, "numba")  # before numba imports
    if args.warm_with:
        subprocess.run([sys.executable, "-m", "symprop", "train", "--dataset",
                        "make_classification", "--arch", args.warm_with, "--epochs", "1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    import numpy as np

    import symprop as sp
    from symprop.architecture import parse_architecture

    layers = parse_architecture(args.arch)
    net = sp.Network([sp.Dense(x.n_in, x.n_out, x.activation) for x in layers],
                     loss=args.loss, dtype="float32", seed=0)
    X = np.random.default_rng(0).standard_normal((64, layers[0].n_in)).astype(np.float32)
    y = np.zeros(64, dtype=np.int64)
    times = compile_times()
    with times.listening():
        began = time.perf_counter()
        module = net._module(sp.SGD(0.1))
        rendered = time.perf_counter()
        net.gradients(X, y)
        net.fit(X, y, epochs=1, batch_size=32, verbose=False)
        done = time.perf_counter()
    print(f"{args.arch} ({args.loss}): derive + render {rendered - began:.2f} s, "
          f"compile + first fit {done - rendered:.2f} s, total {done - began:.2f} s")
    print("seconds  function (inclusive of what it compiled)")
    for name, seconds in sorted(times.seconds.items(), key=lambda item: -item[1]):
        print(f"{seconds:7.2f}  {name}")
    for signature in module.run.signatures:
        passes = module.run.get_metadata(signature)["pipeline_times"]["nopython"]
        slowest = sorted(passes.items(), key=lambda item: -item[1].run)[:3]
        print("run()'s slowest passes: " + ", ".join(f"{name} {t.run:.2f} s"
                                                     for name, t in slowest))


if __name__ == "__main__":
    main()
