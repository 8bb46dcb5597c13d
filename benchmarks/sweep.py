"""Sweeps against scikit-learn's GridSearchCV: ``python -m benchmarks.sweep [--epochs N]``.

The same grid on both sides: 2 architectures (one hidden layer of 8 or 16 relu units,
softmax output) x 3 Adam learning rates x 5 stratified folds, on iris and on wine, the same
epochs (batch 16, no early stopping, standardised features). scikit-learn: GridSearchCV of
a StandardScaler + MLPClassifier pipeline with n_jobs at the cores (its loky processes
started by a first, untimed search). symprop: ``sp.sweep`` on an embedded LocalCluster of
one-thread workers, timed on a started, warm cluster (its kernels compiled by a first,
untimed sweep; each timed one after a pause, as a sweep of its own starts), with 1 worker
and with as many as cores; its throughput, runs a second through the same grid with
THROUGHPUT_SEEDS seeds (a sweep long enough that Dask's fixed cost is a small part of it);
and the scheduling overhead per run, the sweep's wall time less the runs' own time over the
workers, on 1-epoch runs. Each contender in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from benchmarks import child_json

ARCHS = {8: "4-8:relu-3:softmax", 16: "4-16:relu-3:softmax"}
LRS = [0.001, 0.01, 0.1]
FOLDS = 5
DATASETS = ["iris", "wine"]


REPEATS = 3  # timed sweeps (searches) per child process; its median is the round's time
# An untimed pause before each timed sweep: the client sends to the scheduler at most every
# 10 ms, so a sweep that follows the last one's messages (its futures' release) straight
# away waits for that interval before its tasks go out; a sweep started on its own does not.
PAUSE = 0.05
# Throughput: the same grid with this many seeds (600 runs), so that a sweep's fixed cost
# (Dask's start of its first tasks, its last task's tail: about 30 ms) is a small part of
# it, as in any sweep long enough for throughput to matter.
THROUGHPUT_SEEDS = 10


def sklearn_child(epochs: int) -> dict:
    import warnings

    from sklearn.datasets import load_iris, load_wine
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.simplefilter("ignore", ConvergenceWarning)
    data = {"iris": load_iris(return_X_y=True), "wine": load_wine(return_X_y=True)}
    cores = os.cpu_count() or 1

    def search(epochs_now):
        for X, y in data.values():
            model = make_pipeline(StandardScaler(), MLPClassifier(
                solver="adam", batch_size=16, max_iter=epochs_now, tol=0.0,
                n_iter_no_change=epochs_now + 1, random_state=0))
            grid = {"mlpclassifier__hidden_layer_sizes": [(h,) for h in ARCHS],
                    "mlpclassifier__learning_rate_init": LRS}
            GridSearchCV(model, grid, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=0),
                         n_jobs=cores, refit=False).fit(X, y)

    search(1)  # starts the worker processes
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        search(epochs)
        times.append(time.perf_counter() - began)
    return {"seconds": statistics.median(times),
            "runs": len(ARCHS) * len(LRS) * FOLDS * len(DATASETS)}


def symprop_child(epochs: int) -> dict:
    import symprop as sp
    from symprop.sweeps.engine import dask_client

    grid = {"arch": list(ARCHS.values()), "lr": LRS, "epochs": epochs, "batch_size": 16}
    out = {"runs": len(ARCHS) * len(LRS) * FOLDS * len(DATASETS)}
    for workers in worker_counts():
        # the cluster sp.sweep makes for itself (its workers' settings), started once
        with dask_client(workers=workers) as client:
            def sweep(grid_now, seeds=1):
                return sp.sweep(grid_now, DATASETS, folds=FOLDS, seeds=seeds, client=client,
                                verbose=False)

            sweep({**grid, "epochs": 1})  # compiles each structure on each worker
            times = []
            for _ in range(REPEATS):
                time.sleep(PAUSE)
                began = time.perf_counter()
                result = sweep(grid)
                times.append(time.perf_counter() - began)
            out[f"seconds_{workers}"] = statistics.median(times)
            out[f"mean_accuracy_{workers}"] = sum(
                r["validation"]["accuracy"] for r in result.runs) / len(result.runs)
            rates = []
            for _ in range(REPEATS):
                time.sleep(PAUSE)
                began = time.perf_counter()
                many = sweep(grid, seeds=THROUGHPUT_SEEDS)
                rates.append(len(many.runs) / (time.perf_counter() - began))
            out[f"runs_per_second_{workers}"] = statistics.median(rates)
            # scheduling overhead: 1-epoch runs, wall time less the runs' own time
            time.sleep(PAUSE)
            began = time.perf_counter()
            quick = sweep({**grid, "epochs": 1, "lr": [0.001, 0.002, 0.005, 0.01, 0.02, 0.05]})
            wall = time.perf_counter() - began
            busy = sum(r["seconds"] for r in quick.runs) / workers
            out[f"overhead_per_run_{workers}"] = (wall - busy) / len(quick.runs)
    return out


def plain_child(epochs: int) -> dict:
    """The sweep's runs in a plain loop in this process, warm: the work without Dask."""
    from symprop.sweeps.grid import expand
    from symprop.sweeps.task import train_run

    grid = {"arch": list(ARCHS.values()), "lr": LRS, "epochs": epochs, "batch_size": 16}
    runs = expand(grid, DATASETS, [0], FOLDS)
    for run in runs:
        train_run(run)
    began = time.perf_counter()
    for _ in range(REPEATS):
        for run in runs:
            train_run(run)
    return {"seconds": (time.perf_counter() - began) / REPEATS}


def machine_scaling(epochs: int, processes: int) -> float:
    """How much more ``processes`` processes get through than one on this machine, each
    running the runs in a plain loop (no Dask): the ceiling of the workers' scaling (cores
    that share a physical core, a host that throttles, or other load give less)."""
    import subprocess
    import sys

    from benchmarks import ROOT, child_env

    command = [sys.executable, "-m", "benchmarks.sweep", "--child", "plain", "--epochs",
               str(epochs)]
    env = {**child_env(), **{name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                                      "OPENBLAS_NUM_THREADS")}}

    def seconds(processes: list) -> list[float]:
        return [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1])["seconds"]
                for p in processes]

    def start():
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)

    (alone,) = seconds([start()])
    together = seconds([start() for _ in range(processes)])
    return processes * alone / max(together)


def worker_counts() -> list[int]:
    return sorted({1, os.cpu_count() or 1})


def _child(kind: str, epochs: int) -> dict:
    return child_json(["-m", "benchmarks.sweep", "--child", kind, "--epochs", str(epochs)],
                      timeout=1800)


def _spread(values: list[float]) -> str:
    """The median, and the range over the rounds."""
    return (f"{statistics.median(values):.1f}x ({min(values):.1f}-{max(values):.1f}x over "
            f"{len(values)} rounds)")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of one child per contender, interleaved")
    parser.add_argument("--child", choices=("symprop", "sklearn", "plain"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.epochs < 1:
        parser.error("--rounds and --epochs must be at least 1")
    if args.child:
        child = {"symprop": symprop_child, "sklearn": sklearn_child,
                 "plain": plain_child}[args.child]
        print(json.dumps(child(args.epochs)))
        return {}
    cores = os.cpu_count() or 1
    rounds = []
    for _ in range(args.rounds):  # interleaved: a slow spell of the machine hits both
        rounds.append({"symprop": _child("symprop", args.epochs),
                       "sklearn": _child("sklearn", args.epochs)})
        failed = [f"{name}: {r['error']}" for name, r in rounds[-1].items() if "error" in r]
        if failed:
            print("\n".join(failed))
            return {"rounds": rounds}
    print(f"grid: {len(ARCHS)} architectures x {len(LRS)} learning rates x {FOLDS} folds on "
          f"{' and '.join(DATASETS)}, {args.epochs} epochs, batch 16 (Adam); {cores} cores; "
          f"{args.rounds} rounds, each the median of {REPEATS} sweeps")
    sklearn_s = [r["sklearn"]["seconds"] for r in rounds]
    print(f"scikit-learn GridSearchCV (n_jobs={cores}): {statistics.median(sklearn_s):.2f} s "
          f"for {rounds[0]['sklearn']['runs']} fits")
    summary = {"rounds": rounds}
    for workers in worker_counts():
        sym = [r["symprop"][f"seconds_{workers}"] for r in rounds]
        ratios = [r["sklearn"]["seconds"] / r["symprop"][f"seconds_{workers}"] for r in rounds]
        overhead = statistics.median(r["symprop"][f"overhead_per_run_{workers}"]
                                     for r in rounds)
        summary[f"speedup_{workers}"] = statistics.median(ratios)
        print(f"symprop sweep, {workers} worker(s): {statistics.median(sym):.3f} s, "
              f"{_spread(ratios)} scikit-learn; mean validation accuracy "
              f"{rounds[-1]['symprop'][f'mean_accuracy_{workers}']:.3f}; scheduling overhead "
              f"per run {1000 * overhead:.1f} ms")
    runs = rounds[0]["symprop"]["runs"]
    for workers in worker_counts():
        rate = statistics.median(r["symprop"][f"runs_per_second_{workers}"] for r in rounds)
        summary[f"runs_per_second_{workers}"] = rate
        print(f"throughput, {workers} worker(s): {rate:.0f} runs/s (the grid with "
              f"{THROUGHPUT_SEEDS} seeds, {THROUGHPUT_SEEDS * runs} runs a sweep)")
    if cores > 1:
        scaling = [r["symprop"][f"runs_per_second_{cores}"] / r["symprop"]["runs_per_second_1"]
                   for r in rounds]
        # runs a second of the 10-seed sweep (before 2026-12-06: one grid's times, now
        # one_grid_scaling)
        summary["throughput_scaling"] = statistics.median(scaling)
        print(f"throughput {cores} workers / 1: {_spread(scaling)}")
        one_grid = [r["symprop"]["seconds_1"] / r["symprop"][f"seconds_{cores}"]
                    for r in rounds]
        summary["one_grid_scaling"] = statistics.median(one_grid)
        print(f"one grid's sweep ({runs} runs), {cores} workers / 1: {_spread(one_grid)} (its "
              f"fixed cost included)")
        summary["machine_scaling"] = machine_scaling(args.epochs, cores)
        print(f"the machine's own ceiling: {cores} plain processes get through "
              f"{summary['machine_scaling']:.2f}x what one does (the same runs, no Dask)")
    return summary


if __name__ == "__main__":
    main()
