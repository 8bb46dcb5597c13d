"""Peak memory of one contender on one case, in a fresh child process.

The child imports numpy, builds the case's data (``baseline``: its RSS now), then imports the
contender's library, prepares it (warm-up included; symprop loads its kernels from the
cache the parent filled) and trains ``steps`` steps once. It reports its own peak RSS, the
``VmHWM`` high-water mark of /proc/self/status. Not ``ru_maxrss``: Linux carries the
maximum over into a process across fork + exec, so a child of this (large) process would
start out with the parent's peak; RUSAGE_CHILDREN has the same flaw and is also a maximum
over all children. ``peak_mib - baseline_mib`` is what the library, its model and its
training added on top of Python + numpy + the data.

``fit_bound``: the peak RSS of a plain ``net.fit`` with Adam (the optimizer that keeps the
most state: two moments per parameter; otherwise fit's defaults: shuffled batches, running
metrics) on ``rows`` rows against issue 17's bound, the data's size plus 1.5 times
the model's and its optimizer state's plus 300 MiB. A first child fills the kernel cache
(its peak, with Numba's compiler in it, is reported as ``cold_peak_mib``); a second one,
loading the kernels, is the one measured.

    python -m benchmarks.memory CASE CONTENDER STEPS
    python -m benchmarks.memory --fit CASE ROWS
"""

from __future__ import annotations

import json
import os
import resource
import sys

from benchmarks import child_json


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


def reset_peak() -> bool:
    """Restart VmHWM from the current RSS (Linux: "5" into /proc/self/clear_refs), so that the
    peak measured is that of what follows, not of making the data (a float64 temporary of
    the teacher's product: twice X). False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as stream:
            stream.write("5")
        return True
    except OSError:
        return False


def peak_memory(case: str, contender: str, steps: int, timeout: float = 300) -> dict:
    return _child_json([case, contender, str(steps)], timeout)


FIXED_MIB = 300  # issue 17: peak RSS <= data + 1.5 x (model + optimizer state) + 300 MiB


def fit_bound(case: str, rows: int, timeout: float = 600) -> dict:
    """Peak RSS of ``fit`` on ``rows`` rows of ``case`` (warm cache) and issue 17's bound."""
    cold = _child_json(["--fit", case, str(rows)], timeout)
    if "error" in cold:
        return cold
    result = _child_json(["--fit", case, str(rows)], timeout)
    if "error" not in result:
        result["cold_peak_mib"] = cold["peak_mib"]
    return result


def _child_json(arguments: list[str], timeout: float) -> dict:
    return child_json(["-m", "benchmarks.memory", *arguments], timeout)


def child(case_name: str, contender_name: str, steps: int) -> dict:
    from benchmarks import contenders
    from benchmarks.cases import CASES, init_params, make_data

    case = CASES[case_name]
    X, y = make_data(case, steps * case.batch)
    params = init_params(case)
    reset_peak()
    baseline = current_rss_mib()
    contender = contenders.BY_NAME[contender_name]()
    contender.prepare(case, X, y, params)
    contender.reset(params)
    contender.run(steps)
    peak = peak_rss_mib()
    return {"peak_mib": peak, "baseline_mib": baseline, "added_mib": peak - baseline}


def fit_child(case_name: str, rows: int) -> dict:
    from benchmarks.cases import CASES, make_data

    case = CASES[case_name]
    X, y = make_data(case, rows)
    peak_reset = reset_peak()
    baseline = current_rss_mib()
    import symprop as sp

    net = sp.Network([sp.Dense(n_in, n_out, act) for n_in, n_out, act in case.layers],
                     loss=case.loss, dtype=case.dtype, seed=0)
    net.fit(X, y, epochs=1, batch_size=case.batch, optimizer=sp.Adam(lr=0.001), verbose=False)
    peak = peak_rss_mib()
    data_mib = (X.nbytes + y.nbytes) / 2**20
    model_mib = sum(W.nbytes + b.nbytes for W, b in net.params) / 2**20
    state_mib = 2 * model_mib  # Adam's two moments per parameter
    bound = data_mib + 1.5 * (model_mib + state_mib) + FIXED_MIB
    return {"case": case_name, "rows": rows, "peak_mib": peak, "baseline_mib": baseline,
            "data_mib": data_mib, "model_mib": model_mib, "state_mib": state_mib,
            "bound_mib": bound, "within": peak <= bound, "peak_reset": peak_reset}


if __name__ == "__main__":
    if sys.argv[1] == "--fit":
        print(json.dumps(fit_child(sys.argv[2], int(sys.argv[3]))))
    else:
        print(json.dumps(child(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
