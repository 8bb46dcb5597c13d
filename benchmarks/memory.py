"""Peak memory of one contender on one case, in a fresh child process.

The child imports numpy, builds the case's data (``baseline``: its RSS now), then imports the
contender's library, prepares it (warm-up included; symprop loads its kernels from the
cache the parent filled) and trains ``steps`` steps once. It reports its own peak RSS, the
``VmHWM`` high-water mark of /proc/self/status. Not ``ru_maxrss``: Linux carries the
maximum over into a process across fork + exec, so a child of this (large) process would
start out with the parent's peak; RUSAGE_CHILDREN has the same flaw and is also a maximum
over all children. ``peak_mib - baseline_mib`` is what the library, its model and its
training added on top of Python + numpy + the data.

    python -m benchmarks.memory CASE CONTENDER STEPS
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as stream:
            pages = int(stream.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as stream:
            for line in stream:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # see the module docstring
    return kib / 2**20 if sys.platform == "darwin" else kib / 1024  # bytes on macOS


def peak_memory(case: str, contender: str, steps: int, timeout: float = 300) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", case, contender,
                           str(steps)], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = " / ".join(proc.stderr.strip().splitlines()[-3:]) or "no output"
        return {"error": f"child exited {proc.returncode}: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child(case_name: str, contender_name: str, steps: int) -> dict:
    from benchmarks import contenders
    from benchmarks.cases import CASES, init_params, make_data

    case = CASES[case_name]
    X, y = make_data(case, steps * case.batch)
    params = init_params(case)
    baseline = current_rss_mib()
    contender = contenders.BY_NAME[contender_name]()
    contender.prepare(case, X, y, params)
    contender.reset(params)
    contender.run(steps)
    peak = peak_rss_mib()
    return {"peak_mib": peak, "baseline_mib": baseline, "added_mib": peak - baseline}


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
