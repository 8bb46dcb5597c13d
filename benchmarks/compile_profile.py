"""Where a cold start goes: ``python -m benchmarks.compile_profile [ARCH] [--loss L]
[--fit-only] [--warm-with ARCH2]``.

Builds a network in empty cache folders (in this process) and prints derive + render time,
then every function Numba compiled with its time (inclusive of the functions it compiled
in turn), the time spent holding LLVM (in all, and within each function), and the slowest
compiler passes of run() and shard_thread(). The numbers come from Numba's own event API
(``numba.core.event``) and ``dispatcher.get_metadata``.

``--fit-only``: no ``gradients()`` first (it compiles run(), which a fit on the split path
does not need). ``--warm-with ARCH2``: a child process first trains ARCH2 on the same cache
folders, as a user's earlier work would have (the support module, the BLAS wrappers and the
shared kernels are then cached): what a new architecture costs on a machine that has run
symprop before.
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
            self._open: list[tuple[list[str], float]] = []

        def on_start(self, e):
            if e.kind == "numba:compile":
                names = [e.data["dispatcher"].py_func.__qualname__]
            else:  # LLVM's time, also counted for the function being compiled
                names = ["(holding LLVM, all functions)"]
                names += [f"  LLVM within {name} (exclusive)" for name in self._compiling()[-1:]]
            self._open.append((names, time.perf_counter()))

        def on_end(self, e):
            names, began = self._open.pop()
            for name in names:
                self.seconds[name] += time.perf_counter() - began

        def _compiling(self) -> list[str]:
            return [names[0] for names, _ in self._open if "LLVM" not in names[0]]

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
    parser.add_argument("--fit-only", action="store_true",
                        help="no gradients() call first: a user's first fit alone")
    parser.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train_only:  # the --warm-with child: the caches are the parent's
        net, X, y = _network_and_data(args.arch, args.loss)
        net.fit(X, y, epochs=1, batch_size=32, verbose=False)
        return
    folder = tempfile.mkdtemp(prefix="symprop-profile-")
    os.environ["SYMPROP_CACHE_DIR"] = os.path.join(folder, "symprop")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(folder, "numba")  # before numba imports
    if args.warm_with:
        subprocess.run([sys.executable, "-m", "benchmarks.compile_profile", args.warm_with,
                        "--loss", args.loss, "--train-only"], check=True)

    import symprop as sp

    net, X, y = _network_and_data(args.arch, args.loss)
    times = compile_times()
    with times.listening():
        began = time.perf_counter()
        module = net._module(sp.SGD(0.1))
        rendered = time.perf_counter()
        if not args.fit_only:
            net.gradients(X, y)
        net.fit(X, y, epochs=1, batch_size=32, verbose=False)
        done = time.perf_counter()
    print(f"{args.arch} ({args.loss}): derive + render {rendered - began:.2f} s, "
          f"compile + first fit {done - rendered:.2f} s, total {done - began:.2f} s")
    print("seconds  function (inclusive of what it compiled)")
    for name, seconds in sorted(times.seconds.items(), key=lambda item: -item[1]):
        print(f"{seconds:7.2f}  {name}")
    for name in ("run", "shard_thread", "column_thread"):
        dispatcher = getattr(module, name, None)
        for signature in getattr(dispatcher, "signatures", ()):
            passes = dispatcher.get_metadata(signature)["pipeline_times"]["nopython"]
            slowest = sorted(passes.items(), key=lambda item: -item[1].run)[:3]
            print(f"{name}()'s slowest passes (inclusive): " + ", ".join(
                f"{step} {t.run:.2f} s" for step, t in slowest))


def _network_and_data(arch: str, loss: str):
    """The network profiled, and 64 rows of its input width (every label 0)."""
    import numpy as np

    import symprop as sp
    from symprop.architecture import parse_architecture

    layers = parse_architecture(arch)
    net = sp.Network([sp.Dense(x.n_in, x.n_out, x.activation) for x in layers], loss=loss,
                     dtype="float32", seed=0)
    X = np.random.default_rng(0).standard_normal((64, layers[0].n_in)).astype(np.float32)
    return net, X, np.zeros(64, dtype=np.int64)


if __name__ == "__main__":
    main()
