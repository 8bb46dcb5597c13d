"""What data moving between two cores costs: ``python -m benchmarks.crosscore``.

The split path (symprop/codegen/split.py) trains a batch on two threads. Each step, each
thread reads what the other wrote (its gradients, its half of the weights), and writes its
own, which the other one read. This measures those two moves alone, with the split path's
own barriers (symprop/codegen/split_support.py), in one parallel region of two threads that
each own ``--floats`` float32 (default 8,608: medium's half of its parameters). Each step a
thread reads a buffer, meets the other, writes its own buffer, meets again:

- shared: it reads the other thread's buffer (written the step before) and then writes its
  own, which the other has just read (the split step's gradient sum and update);
- local: it reads and writes its own buffer only.

Each phase is timed inside the loop with the CPU's time-stamp counter (converted to
nanoseconds against the wall clock of the whole run), per 64-byte line, median of the
repeats. On this project's 2-core machine writing lines the other core has read costs
about ten times writing lines nobody else holds: each is taken back from the other core
first (benchmarks/README.md, "medium on two threads").
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from symprop.codegen.split_support import SYNC_SLOTS, join_threads, meet, rows_apart

PHASES = ("read", "write")


@intrinsic
def _ticks(typingctx):
    """The time-stamp counter (LLVM's readcyclecounter)."""
    def codegen(context, builder, signature, args):
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter")
        return builder.call(function, [])

    return types.int64(), codegen


# fastmath: the sum vectorised, so that the reads are not bound by the adds' latency
@njit(parallel=True, nogil=True, fastmath=True)
def _steps(buffers, sync, steps, shared, out):
    """``steps`` steps on two threads; out[t] = (read ticks, write ticks, sum read), and
    out[2, 0] = 1 where both threads ran at once."""
    for i in range(sync.shape[0]):
        sync[i] = 0
    out[2, 0] = 0.0
    for t in prange(2):
        if join_threads(sync, 2):
            own = buffers[t]
            read = buffers[1 - t] if shared else own
            total = np.float32(0.0)
            sense = 0
            read_ticks = 0
            write_ticks = 0
            for _ in range(steps):
                began = _ticks()
                for i in range(read.shape[0]):
                    total += read[i]
                read_ticks += _ticks() - began
                sense = meet(sync, 2, sense)
                began = _ticks()
                for i in range(own.shape[0]):
                    own[i] = own[i] * np.float32(0.999) + np.float32(0.001)
                write_ticks += _ticks() - began
                sense = meet(sync, 2, sense)
            out[t, 0] = read_ticks
            out[t, 1] = write_ticks
            out[t, 2] = total
            if t == 0:
                out[2, 0] = 1.0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floats", type=int, default=8608)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.floats < 16 or args.steps < 1 or args.repeats < 1:
        parser.error("--floats must be at least 16, --steps and --repeats at least 1")
    import numba

    if numba.get_num_threads() < 2:
        print("crosscore: Numba has one thread here; two are needed")
        return {}
    buffers = rows_apart(2, args.floats, np.float32)
    sync, out = np.zeros(SYNC_SLOTS, np.int64), np.zeros((3, 3))
    lines = args.floats * 4 / 64
    per_line: dict[str, list[float]] = {}
    for shared in (True, False):  # compiled, and the threads started, before the clock
        _steps(buffers, sync, 10, shared, out)
    for _ in range(args.repeats):
        for shared in (True, False):  # interleaved
            began, ticks_began = time.perf_counter(), _tick_now()
            _steps(buffers, sync, args.steps, shared, out)
            seconds, ticks = time.perf_counter() - began, _tick_now() - ticks_began
            if out[2, 0] != 1.0:
                print("crosscore: the two threads did not run at once (a busy machine?)")
                return {}
            for number, phase in enumerate(PHASES):
                key = f"{phase}, {'shared' if shared else 'local'}"
                mean_ticks = (out[0, number] + out[1, number]) / 2
                per_line.setdefault(key, []).append(
                    mean_ticks * seconds / ticks / args.steps / lines)
    result = {key: statistics.median(values) for key, values in per_line.items()}
    print(f"two threads, {args.floats} float32 each ({lines:.0f} lines of 64 bytes), "
          f"{args.steps} steps, median of {args.repeats}; ns a line:")
    for phase in PHASES:
        shared, local = result[f"{phase}, shared"], result[f"{phase}, local"]
        print(f"  {phase:5}  shared {1e9 * shared:6.2f}  local {1e9 * local:6.2f}  "
              f"({shared / local:.1f} times)")
    return result


@njit(nogil=True)
def _tick_now():
    return _ticks()


if __name__ == "__main__":
    main()
