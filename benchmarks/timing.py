"""Run one case: prepare every contender on the same data and weights, each in a process of
its own (benchmarks.processes), check that they agree, then time them interleaved (order
rotated each repeat, so machine drift hits all alike)."""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks import contenders as registry
from benchmarks.cases import Case
from benchmarks.processes import ContenderProcess

CHECK_STEPS = 3       # steps of the agreement check
OVERHEAD_CALLS = 15   # 1-step symprop fits to measure the fixed cost of a fit() call
# Fresh processes for each contender this many times, the repeats shared among them: how fast
# a process runs varies from one to the next on a shared machine (the same kernels, alone,
# 1.65-1.73 us a tiny step in five processes, 2.23 in a sixth), and a contender's only
# process would carry its luck into every repeat.
GENERATIONS = 3
SETTLE_S = 0.05       # pause before each timed run: the previous library's spinning worker
                      # threads (OpenMP, OpenBLAS) go idle instead of competing for cores


def prepare_all(case: Case, classes, rows: int,
                torch_threads: int | None = None) -> tuple[list, dict]:
    """Contenders (symprop first) prepared each in a process of its own, on the case's
    first ``rows`` rows (benchmarks.processes), and, for the others, why they could not run.
    One at a time: each first call's time (compiling, tracing) is its own."""
    ready, skipped = [], {}
    for cls in classes:
        try:
            ready.append(ContenderProcess(cls, case, rows, torch_threads))
        except RuntimeError as exc:  # report the failure, keep benchmarking the rest
            skipped[cls.name] = str(exc)
    return ready, skipped


def agreement(ready: list, params, reference: str,
              steps: int = CHECK_STEPS) -> tuple[str | None, dict[str, float]]:
    """Max |param - the reference's param| after ``steps`` steps from the same weights
    (float32 rounding differences only, if every contender computes the same SGD updates).

    The reference is the hand-written NumPy loop where it runs (the CPU suite), else the
    first peer of ``reference`` (the GPU suite: PyTorch CUDA checks symprop-cuda); returns
    its name (None if no contender could serve) and the differences by contender.
    """
    final = {}
    for contender in ready:
        contender.reset(params)
        contender.run(steps)
        final[contender.name] = contender.params()
    peers = [name for name in final if name != reference]
    against = "numpy" if "numpy" in final else (peers[0] if peers else None)
    if against is None:
        return None, {}
    return against, {
        name: max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(r, np.float64))))
                  for pair, ref in zip(got, final[against], strict=True)
                  for a, r in zip(pair, ref, strict=True))
        for name, got in final.items()}


def interleaved(ready: list, params, steps: int, repeats: int,
                first_repeat: int = 0) -> dict[str, list[float]]:
    """Seconds per step of each contender, one value per repeat; the order rotated by one
    each repeat, counted from ``first_repeat`` (the repeats other processes ran before)."""
    per_step: dict[str, list[float]] = {c.name: [] for c in ready}
    if not ready:
        return per_step
    for repeat in range(first_repeat, first_repeat + repeats):
        shift = repeat % len(ready)
        for contender in ready[shift:] + ready[:shift]:
            contender.reset(params)
            contender.collect()  # in the contender's process: none in the timed run
            time.sleep(SETTLE_S)
            per_step[contender.name].append(contender.run(steps) / steps)
    return per_step


def fit_overhead(symprop, params, per_step: float) -> dict[str, float]:
    """What a 1-step ``fit`` costs, and how much of that is fixed cost per call: the time
    run() reports (taken in the contender's process, not the round trip to it)."""
    time.sleep(SETTLE_S)  # the last timed contender's worker threads go idle first
    times = []
    for _ in range(OVERHEAD_CALLS):
        symprop.reset(params)
        times.append(symprop.run(1))
    one = statistics.median(times)
    return {"one_step_fit_s": one, "fixed_cost_per_call_s": max(one - per_step, 0.0)}


def run_case(case: Case, steps: int, repeats: int, classes=None, memory: bool = True,
             log=print, reference: str = "symprop", torch_threads: int | None = None) -> dict:
    """Everything measured for one case, as a JSON-ready dict; ratios are to ``reference``.
    Each contender runs in a process of its own (benchmarks.processes), GENERATIONS times
    over (the agreement check in the first, the fit overhead in the last; an untimed run
    at the timed size in each before the rounds), the rounds interleaved.
    ``torch_threads``: torch.set_num_threads in PyTorch's process."""
    classes = classes or list(registry.ALL)
    began = time.perf_counter()
    log(f"[{case.name}] {case.describe()}: {steps} steps x {repeats} repeats, preparing ...")
    per_step: dict[str, list[float]] = {}
    info: dict[str, dict] = {}
    checked_against, check, overhead, skipped = None, {}, {}, {}
    generations = max(1, min(GENERATIONS, repeats))
    done = 0  # repeats run so far, by the earlier processes
    for generation in range(generations):
        ready, failed = prepare_all(case, classes, steps * case.batch, torch_threads)
        for name, reason in failed.items():
            skipped.setdefault(name, reason)  # one that ran before: noted on its row below
        try:
            if generation == 0:
                checked_against, check = agreement(ready, None, reference)
                log(f"[{case.name}] timing {', '.join(c.name for c in ready)}")
            for contender in ready:  # an untimed run at the timed size: first-call costs
                contender.reset(None)  # of that size (a compiled metric, pages) stay out
                contender.run(steps)
            share = repeats // generations + (generation < repeats % generations)
            for name, values in interleaved(ready, None, steps, share, done).items():
                per_step.setdefault(name, []).extend(values)
            done += share
            for contender in ready:
                info.setdefault(contender.name, contender.info)
            symprop = next((c for c in ready if c.name == reference), None)
            if symprop is not None and generation == generations - 1:
                overhead = fit_overhead(symprop, None, statistics.median(per_step[reference]))
        finally:
            for contender in ready:
                contender.close()
    results: dict[str, dict] = {}
    for name, values in per_step.items():
        median = statistics.median(values)
        results[name] = {
            "status": "ok", "step_s": median, "step_s_all": values,
            "samples_per_s": case.batch / median,
            "gflops": case.flops_per_step / median / 1e9,
            "max_abs_diff": check.get(name),
            "agreement_reference": checked_against, **info[name]}
    for name, reason in skipped.items():
        if name in results:  # ran in an earlier process, not in a later one
            results[name]["note"] = f"fewer repeats (a later process: {reason})"
        else:
            results[name] = {"status": reason}
    if reference in results:
        results[reference].update(overhead)
        base = results[reference]["step_s"]
        for entry in results.values():
            if entry["status"] == "ok":
                entry["ratio_vs_symprop"] = entry["step_s"] / base
    if memory:
        from benchmarks.memory import peak_memory

        log(f"[{case.name}] peak memory, one child process per contender ...")
        for name in per_step:
            results[name]["memory"] = peak_memory(case.name, name, steps)
    log(f"[{case.name}] done in {time.perf_counter() - began:.1f} s")
    return {"case": case.name, "description": case.describe(), "architecture": case.architecture,
            "batch": case.batch, "steps": steps, "repeats": repeats, "params": case.n_params,
            "flops_per_step": case.flops_per_step, "check_steps": CHECK_STEPS,
            "results": results}
