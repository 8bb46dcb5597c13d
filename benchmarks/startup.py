"""Start-up: a network trained for the first time in a fresh process.

cold: an empty ``SYMPROP_CACHE_DIR`` (and ``NUMBA_CACHE_DIR``): derive + generate + compile.
warm: a second process on the same cache folders: load the generated module and Numba's
cached machine code.
new architecture: a process on those folders that builds a network they do not hold yet
(what symprop compiles once for all networks, the support module, is there).

The child reports each phase: interpreter (process spawn until the first line of the script
runs, measured with the wall clock across the two processes), imports (numpy, numba,
symprop, each timed), ``module`` (``net._module(sp.SGD(0.1))`` plus the first
``net.gradients(X, y)``), ``first_fit`` (the first ``fit``, one small epoch, which compiles
the fused epoch kernel if it is not cached) and ``build`` = everything after the imports
until that fit returns (network, module, gradients, fit): the number the targets use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import ROOT, child_env, child_json

NETWORK = {"layers": [[20, 32, "relu"], [32, 16, "relu"], [16, 1, "sigmoid"]], "loss": "bce"}
QUICK_NETWORK = {"layers": [[20, 32, "relu"], [32, 1, "sigmoid"]], "loss": "bce"}

NEW_ARCHITECTURES = 3  # processes, each building an architecture new to a used cache


def new_architecture(spec: dict, k: int) -> dict:
    """``spec`` with its first hidden layer ``k`` units wider: the same kind of network, new
    to the cache (its module and machine code are made), as a user's next experiment is."""
    (n_in, width, act), (_, n_out, act2), *rest = spec["layers"]
    return {**spec, "layers": [[n_in, width + k, act], [width + k, n_out, act2], *rest]}


CHILD = r"""
import time
wall0, t0 = time.time(), time.perf_counter()
import json, sys
import numpy as np
t1 = time.perf_counter()
import numba
t2 = time.perf_counter()
import symprop as sp
t3 = time.perf_counter()
spec = json.loads(sys.argv[1])
net = sp.Network([sp.Dense(a, b, act) for a, b, act in spec["layers"]], loss=spec["loss"],
                 dtype="float32", seed=0)
rng = np.random.default_rng(0)
X = rng.standard_normal((256, spec["layers"][0][0]), dtype=np.float32)
y = (X[:, 0] > 0).astype(np.int64)
t4 = time.perf_counter()
net._module(sp.SGD(0.1))
net.gradients(X[:32], y[:32])
t5 = time.perf_counter()
net.fit(X, y, epochs=1, batch_size=32, optimizer=sp.SGD(0.1), shuffle=False, verbose=False)
t6 = time.perf_counter()
print(json.dumps({"wall_start": wall0, "import_numpy_s": t1 - t0, "import_numba_s": t2 - t1,
                  "import_symprop_s": t3 - t2, "imports_s": t3 - t0, "network_s": t4 - t3,
                  "module_s": t5 - t4, "first_fit_s": t6 - t5, "build_s": t6 - t3,
                  "import_symprop_to_fit_end_s": t6 - t2}))
"""


DERIVE_CHILD = r"""
import json, time
t0 = time.perf_counter()
import symprop as sp
import symprop.derive  # the derive stage and SymPy: an import, not a derivation
from symprop.catalog import ACTIVATIONS, LOSSES
t1 = time.perf_counter()
for name in ACTIVATIONS:
    act = sp.activation(name)
    act.derivative, act.derivative_of_output, act.derivation()
for name in LOSSES:
    sp.loss(name).gradient, sp.loss(name).derivation()
for pair in [("bce", "sigmoid"), ("ce", "softmax"), ("mse", "identity"), ("mae", "identity")]:
    sp.output_delta(*pair)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "derive_all_builtins_s": t2 - t1}))
"""


# The floor under any warm start: the first call, in a fresh process, of a trivial cached
# @njit function (Numba's one-time set-up), after importing numpy and numba, as the start-up
# child does. Set up as symprop sets Numba up: without its SciPy BLAS probe.
FLOOR_MODULE = """from numba import njit


@njit(cache=True)
def plus_one(x):
    return x + 1.0
"""
FLOOR_CHILD = r"""
import json, time
import numpy, numba
from symprop.codegen.numba_startup import defer_scipy_blas_probe
t0 = time.perf_counter()
defer_scipy_blas_probe()
import symprop_floor
symprop_floor.plus_one(1.0)
print(json.dumps({"first_call_s": time.perf_counter() - t0}))
"""


def numba_floor(runs: int = 3, timeout: float = 300) -> dict:
    """Median over ``runs`` fresh processes of the first call of a cached trivial function."""
    with tempfile.TemporaryDirectory(prefix="symprop-floor-") as tmp:
        (Path(tmp) / "symprop_floor.py").write_text(FLOOR_MODULE)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)]),
               "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        times = []
        for _ in range(runs + 1):  # the first run compiles and fills the cache
            proc = subprocess.run([sys.executable, "-c", FLOOR_CHILD], capture_output=True,
                                  text=True, env=env, cwd=tmp, timeout=timeout)
            if proc.returncode != 0:
                return {"error": proc.stderr.strip().splitlines()[-1:] or "no output"}
            times.append(json.loads(proc.stdout.strip().splitlines()[-1])["first_call_s"])
    warm = sorted(times[1:])
    return {"first_call_s": warm[len(warm) // 2], "runs": warm}


def derive_builtins(timeout: float = 300) -> dict:
    """Deriving every built-in activation (derivative, form in the output, derivation),
    loss (gradient, derivation) and canonical output delta, in a fresh process (nothing
    cached), timed after importing symprop's derive stage (SymPy)."""
    return child_json(["-c", DERIVE_CHILD], timeout)


def _child(spec: dict, folder: Path | None, timeout: float) -> dict:
    """One fresh process; ``folder``: its cache folders (None: this process's own)."""
    start = time.time()
    result = child_json(["-c", CHILD, json.dumps(spec)], timeout, child_env(folder))
    end = time.time()
    if "error" in result:
        return result
    result["interpreter_s"] = result.pop("wall_start") - start
    result["process_wall_s"] = end - start
    return result


def measure(quick: bool = False, warm_runs: int | None = None, timeout: float = 300,
            log=print, cold_runs: int = 3) -> dict:
    """Cold ``cold_runs`` times, each in its own empty cache folders, then warm ``warm_runs``
    times on the last one's; the median run of each is reported (one cold run on this
    shared machine ranged 2.95-3.74 s). ``quick``: a 2-layer network, warm only: a first
    process fills (or finds) it in this process's cache folders, a second one is measured."""
    spec = QUICK_NETWORK if quick else NETWORK
    warm_runs = warm_runs or (1 if quick else 3)
    arch = "-".join([str(spec["layers"][0][0])] + [f"{b}:{act}" for _, b, act in spec["layers"]])
    result = {"network": arch, "loss": spec["loss"]}
    if quick:
        log(f"[startup] {arch} ({spec['loss']}): warm only (--quick) ...")
        result["prime"] = _child(spec, None, timeout)
        result["cold"] = {"skipped": "not measured with --quick"}
        warm = [_child(spec, None, timeout) for _ in range(warm_runs)]
    else:
        log(f"[startup] {arch} ({spec['loss']}): {cold_runs} cold, then {warm_runs} warm "
            "process(es) ...")
        cold = []
        for _ in range(cold_runs):
            with tempfile.TemporaryDirectory(prefix="symprop-bench-") as tmp:
                cold.append(_child(spec, Path(tmp), timeout))
                if len(cold) == cold_runs:
                    warm = [_child(spec, Path(tmp), timeout) for _ in range(warm_runs)]
                    log(f"[startup] {NEW_ARCHITECTURES} architectures new to that cache, one "
                        "process each ...")
                    new = [_child(new_architecture(spec, k), Path(tmp), timeout)
                           for k in range(1, NEW_ARCHITECTURES + 1)]
        result["cold"], result["cold_runs"] = _median_run(cold), cold
        result["new_arch"], result["new_arch_runs"] = _median_run(new), new
    result["warm"], result["warm_runs"] = _median_run(warm), warm
    if not quick:
        log("[startup] `symprop train` (iris), 3 processes on empty caches, then 3 warm ...")
        result["cli_cold"], result["cli_warm"] = cli_train(timeout=timeout)
    log("[startup] Numba's floor: a cached trivial function in fresh processes ...")
    result["numba_floor"] = numba_floor(timeout=timeout)
    log("[startup] deriving every built-in in a fresh process ...")
    result["derive"] = derive_builtins(timeout)
    return result


def cli_train(runs: int = 3, timeout: float = 300) -> tuple[dict, dict]:
    """Wall time of `python -m symprop train` (the README's main job: iris, 200 epochs), as
    a new user runs it: ``runs`` processes on empty cache folders each, then ``runs`` on
    the last one's. Medians, with every run's time."""
    def wall(folder: Path) -> float | str:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "symprop", "train"], cwd=ROOT,
                              env=child_env(folder), capture_output=True, text=True,
                              timeout=timeout)
        seconds = time.perf_counter() - start
        return seconds if proc.returncode == 0 else f"exit {proc.returncode}: " + (
            proc.stderr.strip().splitlines() or ["no output"])[-1]

    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="symprop-cli-") as tmp:
            cold.append(wall(Path(tmp)))
            if len(cold) == runs:
                warm = [wall(Path(tmp)) for _ in range(runs)]
    return _median_wall(cold), _median_wall(warm)


def _median_wall(walls: list) -> dict:
    errors = [w for w in walls if isinstance(w, str)]
    if errors:
        return {"error": errors[0], "runs": walls}
    return {"wall_s": sorted(walls)[len(walls) // 2], "runs": walls}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median build time (the first run if none succeeded)."""
    ok = sorted((run for run in runs if "error" not in run), key=lambda run: run["build_s"])
    return ok[len(ok) // 2] if ok else runs[0]
