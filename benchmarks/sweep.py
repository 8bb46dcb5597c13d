"""Sweeps against scikit-learn's GridSearchCV: ``python -m benchmarks.sweep [--epochs N]``.

The same grid on both sides: 2 architectures (one hidden layer of 8 or 16 relu units,
softmax output) x 3 Adam learning rates x 5 stratified folds, on iris and on wine, the same
epochs (batch 16, no early stopping, standardised features). scikit-learn: GridSearchCV of
a StandardScaler + MLPClassifier pipeline with n_jobs at the cores (its loky processes
started by a first, untimed search). symprop: ``sp.sweep`` on an embedded LocalCluster of
one-thread workers, timed on a started, warm cluster (its kernels compiled by a first,
untimed sweep), with 1 worker and with as many as cores; and the scheduling overhead per
run, the sweep's wall time less the runs' own time over the workers, on 1-epoch runs. Each
contender in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from benchmarks import child_json

ARCHS = {8: "4-8:relu-3:softmax", 16: "4-16:relu-3:softmax"}
LRS = [0.001, 0.01, 0.1]
FOLDS = 5
DATASETS = ["iris", "wine"]


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
    began = time.perf_counter()
    search(epochs)
    return {"seconds": time.perf_counter() - began, "runs": len(ARCHS) * len(LRS) * FOLDS * 2}


def symprop_child(epochs: int) -> dict:
    import distributed

    import symprop as sp
    from symprop.sweeps.engine import ONE_THREAD

    grid = {"arch": list(ARCHS.values()), "lr": LRS, "epochs": epochs, "batch_size": 16}
    cores = os.cpu_count() or 1
    out = {"runs": len(ARCHS) * len(LRS) * FOLDS * len(DATASETS)}
    for workers in sorted({1, cores}):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                      dashboard_address=":0", silence_logs=50,
                                      env=ONE_THREAD) as cluster, \
                distributed.Client(cluster) as client:
            sp.sweep({**grid, "epochs": 1}, DATASETS, folds=FOLDS, seeds=1, client=client,
                     verbose=False)  # compiles each structure on each worker
            began = time.perf_counter()
            result = sp.sweep(grid, DATASETS, folds=FOLDS, seeds=1, client=client,
                              verbose=False)
            out[f"seconds_{workers}"] = time.perf_counter() - began
            out[f"mean_accuracy_{workers}"] = sum(
                r["validation"]["accuracy"] for r in result.runs) / len(result.runs)
            # scheduling overhead: 1-epoch runs, wall time less the runs' own time
            one = {**grid, "epochs": 1, "lr": [0.001, 0.002, 0.005, 0.01, 0.02, 0.05]}
            began = time.perf_counter()
            quick = sp.sweep(one, DATASETS, folds=FOLDS, seeds=1, client=client,
                             verbose=False)
            wall = time.perf_counter() - began
            busy = sum(r["seconds"] for r in quick.runs) / workers
            out[f"overhead_per_run_{workers}"] = (wall - busy) / len(quick.runs)
    return out


def _child(kind: str, epochs: int) -> dict:
    return child_json(["-m", "benchmarks.sweep", "--child", kind, "--epochs", str(epochs)],
                      timeout=1800)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--child", choices=("symprop", "sklearn"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child = symprop_child if args.child == "symprop" else sklearn_child
        print(json.dumps(child(args.epochs)))
        return {}
    cores = os.cpu_count() or 1
    sym, skl = _child("symprop", args.epochs), _child("sklearn", args.epochs)
    print(f"grid: {len(ARCHS)} architectures x {len(LRS)} learning rates x {FOLDS} folds on "
          f"{' and '.join(DATASETS)}, {args.epochs} epochs, batch 16 (Adam); {cores} cores")
    for name, result in (("symprop", sym), ("scikit-learn", skl)):
        if "error" in result:
            print(f"{name}: {result['error']}")
    if "error" in sym or "error" in skl:
        return {"symprop": sym, "sklearn": skl}
    print(f"scikit-learn GridSearchCV (n_jobs={cores}): {skl['seconds']:.2f} s for "
          f"{skl['runs']} fits")
    for workers in sorted({1, cores}):
        seconds = sym[f"seconds_{workers}"]
        print(f"symprop sweep, {workers} worker(s): {seconds:.3f} s "
              f"({skl['seconds'] / seconds:.1f}x scikit-learn), mean validation accuracy "
              f"{sym[f'mean_accuracy_{workers}']:.3f}; scheduling overhead per run "
              f"{1000 * sym[f'overhead_per_run_{workers}']:.1f} ms")
    if cores > 1:
        print(f"throughput {cores} workers / 1: {sym['seconds_1'] / sym[f'seconds_{cores}']:.2f}x")
    return {"symprop": sym, "sklearn": skl}


if __name__ == "__main__":
    main()
