"""What machine the numbers come from: its measured float32 GEMM rate, and its float32 FMA
peak from a tuned micro-kernel."""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import time

import numpy as np

LIBRARIES = ("numpy", "numba", "torch", "sklearn", "symprop", "jax", "threadpoolctl")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = getattr(importlib.import_module(name), "__version__", "?")
        except Exception:  # not installed or broken: say so, do not fail
            found[name] = "not installed"
    return found


def blas() -> list[dict]:
    """Thread pools (BLAS, OpenMP) as threadpoolctl sees them, else numpy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"source": "numpy.show_config", "blas": _numpy_blas()}]
    keys = ("user_api", "internal_api", "num_threads", "version", "architecture")
    return [{k: pool.get(k) for k in keys} | {"library": os.path.basename(pool["filepath"])}
            for pool in threadpool_info()]


def _numpy_blas() -> str:
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        return f"{info.get('name')} {info.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        return "unknown"


def torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def machine_info() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
            "platform": platform.platform(), "load_average": list(os.getloadavg()),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions(), "blas": blas(), "torch_threads": torch_threads()}


def gemm_rate(n: int = 2048, repeats: int = 5) -> dict:
    """Best float32 ``A @ B`` rate for n x n matrices (2 n^3 flops), BLAS at its default
    thread count: the ceiling the large case is measured against."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n), dtype=np.float32)
    B = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(A, B, out=out)  # warm-up: threads started, pages touched
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(A, B, out=out)
        best = min(best, time.perf_counter() - start)
    return {"n": n, "repeats": repeats, "best_s": best, "gflops": 2.0 * n**3 / best / 1e9}


# Independent accumulators of the micro-kernel, each count tried: 4 to 16 vectors of 16
# lanes, enough to keep every FMA unit busy at any latency and width without spilling.
FMA_CHAINS = (64, 128, 256)


def _fma_kernel(chains: int):
    from numba import njit

    @njit(fastmath=True, cache=False)
    def fma_chains(n, start):
        """n rounds of acc = acc * m + c on `chains` float32 accumulators; LLVM keeps them
        in vector registers and issues nothing but FMAs in the loop."""
        acc = start.copy()
        m, c = np.float32(0.999999), np.float32(1e-6)
        for _ in range(n):
            for j in range(chains):
                acc[j] = acc[j] * m + c
        return acc.sum()

    return fma_chains


def fma_rates(rounds: int, repeats: int) -> dict:
    """The micro-kernel's best rate (GFLOP/s, 2 flops an FMA) for each chain count, in this
    process as Numba compiles for it."""
    rates = {}
    for chains in FMA_CHAINS:
        kernel = _fma_kernel(chains)
        start = np.ones(chains, dtype=np.float32)
        kernel(10, start)  # compile
        steps = max(1, rounds * FMA_CHAINS[0] // chains)  # the same FMAs whatever the count
        best = float("inf")
        for _ in range(repeats):
            began = time.perf_counter()
            kernel(steps, start)
            best = min(best, time.perf_counter() - began)
        rates[chains] = 2.0 * chains * steps / best / 1e9
    return rates


def widest_vectors_env() -> dict[str, str]:
    """The environment under which Numba compiles for the host's widest vectors: on Intel's
    AVX-512 parts LLVM prefers 256-bit vectors (its tuning for them), so a micro-kernel as
    Numba compiles it by default measures AVX2's peak, half the FMA units' (an Emerald
    Rapids core: 127 GFLOP/s with 256-bit vectors, 247 with 512-bit; its SGEMM 226)."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    if not features.get("avx512f"):
        return {}
    return {"NUMBA_CPU_NAME": llvm.get_host_cpu_name(),
            "NUMBA_CPU_FEATURES": features.flatten() + ",-prefer-256-bit"}


def fma_peak(rounds: int = 4_000_000, repeats: int = 3) -> dict:
    """The float32 FMA rate of one core (best of ``repeats``), measured by a micro-kernel of
    independent FMA chains at the widest vectors (in a child process: Numba reads its
    target when imported) and the best of FMA_CHAINS' counts: the peak the products
    approach, which the vector width and clock alone misstate (AMD's AVX-512 runs as two
    256-bit halves)."""
    import json
    import subprocess
    import sys

    code = ("import json, sys; from benchmarks.machine import fma_rates; "
            "print(json.dumps(fma_rates(int(sys.argv[1]), int(sys.argv[2]))))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    widest = widest_vectors_env()
    done = subprocess.run([sys.executable, "-c", code, str(rounds), str(repeats)],
                          capture_output=True, text=True, check=True, cwd=root,
                          env={**os.environ, **widest}, timeout=600)
    rates = {int(chains): rate for chains, rate in json.loads(done.stdout).items()}
    chains = max(rates, key=rates.get)
    return {"rounds": rounds, "chains": chains, "rates": rates,
            "widest_vectors": bool(widest), "gflops_per_core": rates[chains]}


def summary(info: dict) -> str:
    pools = ", ".join(f"{p.get('internal_api') or p.get('blas')} {p.get('version') or ''}"
                      f"({p.get('num_threads', '?')} threads)" for p in info["blas"])
    load = ", ".join(f"{x:.2f}" for x in info["load_average"])
    return (f"{info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
            f"load average {load}; BLAS: {pools}; torch threads: {info['torch_threads']}")
