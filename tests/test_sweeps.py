"""Sweeps (symprop.sweeps, `symprop sweep`): the grid, one run, the results file, resume,
failures recorded, and the engine on real Dask LocalClusters: the same records whatever the
number of workers, a worker killed mid-sweep, an interrupted sweep resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symprop as sp
from symprop.runtime.data import kfold_indices, load_dataset
from symprop.sweeps import engine
from symprop.sweeps.grid import SweepError, expand, run_id
from symprop.sweeps.task import adapt_architecture, loss_for, train_run

distributed = pytest.importorskip("distributed")

GRID = {"arch": "4-8:relu-3:softmax", "lr": [0.01, 0.1], "epochs": 5}


def _same(records) -> list[dict]:
    """Records without what differs between identical runs (time)."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def _identical(records, expected) -> bool:
    """The same runs and outcomes, to the last bit: a worker that compiles a network and one
    that loads it from Numba's cache train it alike (symprop.codegen.numba_linking)."""
    assert _same(records) == _same(expected)
    return True


# -- the grid ------------------------------------------------------------------------------

def test_the_grid_is_the_product_times_data_sets_seeds_and_folds():
    runs = expand({"arch": ["4-8:relu-3:softmax", "4-4:tanh-3:softmax"],
                   "optimizer": ["adam", "sgd"], "lr": [0.01, 0.1, 1.0]},
                  ["iris", "wine"], seeds=2, folds=3)
    assert len(runs) == 2 * 2 * 3 * 2 * 2 * 3
    assert len({r["run_id"] for r in runs}) == len(runs)
    assert {(r["seed"], r["fold"]) for r in runs} == {(s, f) for s in range(2) for f in range(3)}
    assert all(r["batch_size"] == 16 and r["epochs"] == 30 and r["loss"] == "auto"
               for r in runs)  # the defaults
    # the id is a function of the run alone: a resumed sweep recognises its runs
    again = expand({"arch": ["4-8:relu-3:softmax", "4-4:tanh-3:softmax"],
                    "optimizer": ["adam", "sgd"], "lr": [0.01, 0.1, 1.0]},
                   ["iris", "wine"], seeds=2, folds=3)
    assert [r["run_id"] for r in again] == [r["run_id"] for r in runs]
    assert run_id({**runs[0], "lr": 0.5}) != runs[0]["run_id"]


@pytest.mark.parametrize("grid, seeds, folds, message", [
    ({"lr": [0.1]}, 1, 1, "needs at least one architecture"),
    ({"arch": "4-3:softmax", "learning_rate": [0.1]}, 1, 1, "unknown grid key"),
    ({"arch": "4-3:softmax", "lr": []}, 1, 1, "empty list"),
    ({"arch": "4-3:softmax", "lr": [0.1, -1.0]}, 1, 1, "not a positive number"),
    ({"arch": "4-3:softmax", "lr": [0.1, 0.1]}, 1, 1, "more than once"),
    ({"arch": "4-3:softmax", "epochs": [2.5]}, 1, 1, "not a positive integer"),
    ({"arch": "4-3:softmax", "optimizer": ["adamw"]}, 1, 1, "unknown optimizer"),
    ({"arch": "4-3:softmax", "loss": ["cee"]}, 1, 1, "unknown loss"),
    ({"arch": "4-3:softmax"}, 0, 1, "seeds must be >= 1"),
    ({"arch": "4-3:softmax"}, [1, 1], 1, "more than once"),
    ({"arch": "4-3:softmax"}, 1, 0, "folds must be a positive integer"),
])
def test_bad_grids_are_refused_naming_what_is_wrong(grid, seeds, folds, message):
    with pytest.raises(sp.SympropError, match=message):
        expand(grid, ["iris"], seeds, folds)


def test_what_every_run_would_fail_on_is_refused_before_the_sweep(tmp_path):
    results = tmp_path / "runs.jsonl"
    with pytest.raises(SweepError, match="200 folds need at least 200 rows; data set 'iris' "
                                         "has 150"):
        sp.sweep(GRID, ["iris"], folds=200, seeds=1, results=results, verbose=False)
    with pytest.raises(SweepError, match="workers must be a positive integer"):
        sp.sweep(GRID, ["iris"], folds=2, seeds=1, workers=0, results=results,
                 verbose=False)
    assert not results.exists()  # nothing written for a sweep that never started


def test_integer_regression_targets_keep_the_softmax_width_they_were_given():
    assert adapt_architecture("4-3:softmax", 4, np.array([0, 7, 40]), classes=False) == \
        "4-3:softmax"


def test_bad_data_sets_are_refused():
    with pytest.raises(SweepError, match="more than once"):
        sp.sweep(GRID, ["iris", "IRIS"], folds=2, seeds=1, verbose=False)
    with pytest.raises(sp.UnknownNameError, match="iris"):
        sp.sweep(GRID, ["irsi"], folds=2, seeds=1, verbose=False)
    with pytest.raises(SweepError, match="one row per label"):
        sp.sweep(GRID, {"mine": (np.zeros((5, 4)), np.zeros(4, int))}, verbose=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=6, max_size=60), st.integers(2, 6))
def test_folds_partition_the_rows_and_keep_class_shares(labels, folds):
    y = np.array(labels)
    if folds > len(y):
        with pytest.raises(sp.DataError):
            kfold_indices(y, folds)
        return
    splits = kfold_indices(y, folds, seed=3)
    validated = np.concatenate([val for _, val in splits])
    assert sorted(validated.tolist()) == list(range(len(y)))  # each row validated once
    for train, val in splits:
        assert not set(train) & set(val) and len(train) + len(val) == len(y)
    for cls in np.unique(y):  # a class's rows spread over the folds as evenly as can be
        counts = [int(np.sum(y[val] == cls)) for _, val in splits]
        assert max(counts) - min(counts) <= 1
    sizes = [len(val) for _, val in splits]
    assert max(sizes) - min(sizes) <= 1


# -- one run, as a worker runs it ----------------------------------------------------------

def test_one_run_records_its_configuration_and_metrics():
    (run,) = [r for r in expand(GRID, ["wine"], seeds=1, folds=3) if r["lr"] == 0.1
              and r["fold"] == 1]
    record = train_run(run)
    assert record["status"] == "ok", record.get("error")
    assert record["network"] == "13-8:relu-3:softmax"  # the input width follows the data
    assert record["loss_used"] == "ce" and record["epochs_run"] == 5
    assert set(record["validation"]) == {"loss", "accuracy"}
    X, y = load_dataset("wine")
    assert record["rows"]["validation"] == len(kfold_indices(y, 3)[1][1])
    assert record["validation"]["accuracy"] > 0.8
    assert record["seconds"] > 0
    # deterministic: the same run gives the same numbers
    assert _identical([train_run(run)], [record])


def test_a_run_in_the_callers_process_gives_back_its_numba_thread_count():
    """A run trains on one Numba thread, then leaves the caller's count as it was (left at
    1, everything trained in that process afterwards lost the split path)."""
    import numba

    (run,) = expand(GRID, ["iris"], seeds=1, folds=2)[:1]
    before = numba.get_num_threads()
    numba.set_num_threads(2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
    try:
        wanted = numba.get_num_threads()
        assert train_run(run)["status"] == "ok"
        assert numba.get_num_threads() == wanted
    finally:
        numba.set_num_threads(before)


def test_failures_are_records_not_exceptions():
    bad_formula = {**expand({"arch": "4-8:foo(x)-3:softmax"}, ["iris"], 1, 1)[0]}
    record = train_run(bad_formula)
    assert record["status"] == "failed" and "foo" in record["error"]
    X = np.random.default_rng(0).standard_normal((40, 3)) * 1e3
    diverging = expand({"arch": "3-8:relu-1:identity", "optimizer": "sgd", "lr": 1e6,
                        "epochs": 20}, ["big"], 1, 1)[0]
    record = train_run(diverging, (X, X @ np.ones(3) * 1e6))
    assert record["status"] == "failed" and "the loss became inf" in record["error"]


def test_architectures_adapt_to_the_data_and_suggest_a_loss():
    assert adapt_architecture("4-8:relu-3:softmax", 13, np.array([0, 1, 2])) == \
        "13-8:relu-3:softmax"
    assert adapt_architecture("4-8:relu-3:softmax", 30, np.array([0, 1])) == \
        "30-8:relu-2:softmax"
    assert adapt_architecture("4-bn-[8:relu-8:relu]-1:sigmoid", 2, np.array([0, 1])) == \
        "2-bn-[8:relu-8:relu]-1:sigmoid"
    assert [loss_for(a) for a in ("4-3:softmax", "4-1:sigmoid", "4-1:identity")] == \
        ["ce", "bce", "mse"]


# -- the results file ------------------------------------------------------------------------

def _record(lr, status="ok", **extra):
    (run,) = expand({"arch": "4-3:softmax", "lr": lr}, ["iris"], 1, 1)
    metrics = {"loss": 0.5, "accuracy": 0.9}
    return {**run, "status": status, "train": metrics, "validation": metrics, **extra}


def test_results_file_refuses_to_overwrite_and_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "runs.jsonl"
    a, b, c = _record(0.1), _record(0.2), _record(0.3)
    path.write_text(json.dumps(a) + "\n" + json.dumps(b)[:40])
    with pytest.raises(sp.FileError, match="--resume"):
        engine.ResultsFile(path, resume=False)
    assert list(engine.finished_runs(path)) == [a["run_id"]]  # the torn line is no record
    writer = engine.ResultsFile(path, resume=True)
    writer.append(c)
    writer.close()
    assert list(engine.finished_runs(path)) == [a["run_id"], c["run_id"]]
    with pytest.raises(sp.FileError, match="does not exist"):
        engine.ResultsFile(tmp_path / "no" / "runs.jsonl", resume=False)


def test_the_table_escapes_control_characters_a_results_file_carries():
    from symprop.sweeps.summary import table

    failed = _record(0.1, status="failed", error="boom\x1b[2J\x07")
    shown = table([failed])
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b[2J" in shown


def test_resume_trusts_only_whole_records_and_retries_lost_workers(tmp_path):
    path = tmp_path / "runs.jsonl"
    edited = {**_record(0.1), "lr": 0.7}  # its run id no longer says what it is
    lost = _record(0.2, status="failed", retry=True, error="worker lost")
    bad_metrics = {**_record(0.3), "validation": {"loss": "0.5"}}
    failed = _record(0.4, status="failed", error="the loss became inf")
    lines = [edited, lost, bad_metrics, failed, ["not", "a", "record"], _record(0.5)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert list(engine.finished_runs(path)) == [failed["run_id"], _record(0.5)["run_id"]]


def test_without_dask_a_sweep_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SweepError, match=r"symprop\[sweep\]"):
        sp.sweep(GRID, ["iris"], folds=2, seeds=1, verbose=False)


# -- on Dask ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_workers():
    """symprop's own embedded cluster, as sp.sweep makes it without a client."""
    with engine.dask_client(workers=2) as client:
        yield client


def test_symprops_own_workers_run_one_thread_and_no_profiler(two_workers):
    """Its workers train on one thread each; Dask's statistical profiler, which would
    interrupt the runs every 10 ms, does not run in them; the servers' event-loop tick comes
    once a second, not every 20 ms."""
    import os

    def settings(dask_worker):
        return ("profile" in dask_worker.periodic_callbacks, os.environ["NUMBA_NUM_THREADS"],
                dask_worker.state.nthreads, dask_worker.periodic_callbacks["tick"].callback_time)

    assert list(two_workers.run(settings).values()) == [(False, "1", 1, 1000)] * 2
    assert two_workers.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.periodic_callbacks["tick"].callback_time) == 1000


def test_same_records_whatever_the_number_of_workers(two_workers, tmp_path):
    grid = {"arch": ["4-8:relu-3:softmax", "4-8:x*tanh(log(1+exp(x)))-3:softmax"],
            "lr": [0.01, 0.1], "epochs": 5}
    on_two = sp.sweep(grid, ["iris"], folds=2, seeds=2, client=two_workers,
                      results=tmp_path / "two.jsonl", verbose=False)
    on_one = sp.sweep(grid, ["iris"], folds=2, seeds=2, workers=1, verbose=False)
    in_process = [train_run(run) for run in expand(grid, ["iris"], 2, 2)]
    assert len(on_two.runs) == 16 and not on_two.failed
    assert _identical(on_two.runs, on_one.runs) and _identical(on_two.runs, in_process)
    lines = (tmp_path / "two.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["run_id"] for line in lines) == \
        sorted(r["run_id"] for r in on_two.runs)
    summary = on_two.summary()
    assert len(summary) == 4  # configurations
    best = summary.iloc[0]
    group = [r["validation"]["accuracy"] for r in on_two.runs
             if (r["arch"], r["lr"]) == (best["arch"], best["lr"])]
    assert best["validation_accuracy_mean"] == pytest.approx(np.mean(group))
    assert best["validation_accuracy_std"] == pytest.approx(np.std(group, ddof=1))
    assert best["validation_accuracy_mean"] == summary["validation_accuracy_mean"].max()


def test_an_interrupted_sweep_resumes_without_rerunning(two_workers, tmp_path):
    path = tmp_path / "runs.jsonl"
    seen = []

    def interrupt_after_three(record):
        seen.append(record)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sp.sweep(GRID, ["iris"], folds=3, seeds=2, client=two_workers, results=path,
                 verbose=False, on_record=interrupt_after_three)
    first = engine.finished_runs(path)
    assert len(first) == 3  # finished runs are kept
    rerun = []
    result = sp.sweep(GRID, ["iris"], folds=3, seeds=2, client=two_workers, results=path,
                      resume=True, verbose=False, on_record=rerun.append)
    assert len(result.runs) == 12 and len(rerun) == 9
    assert not {r["run_id"] for r in rerun} & set(first)
    assert len(path.read_text().splitlines()) == 12
    assert {r["run_id"]: r for r in result.runs if r["run_id"] in first} == first


def test_data_given_as_arrays_reaches_every_worker(two_workers):
    X, y = load_dataset("wine")
    result = sp.sweep({"arch": "2-6:tanh-2:softmax", "epochs": 3}, {"wine-arrays": (X, y)},
                      folds=4, seeds=2, client=two_workers, verbose=False)
    assert len(result.runs) == 8 and not result.failed
    assert {r["network"] for r in result.runs} == {"13-6:tanh-3:softmax"}
    assert _identical(result.runs, [train_run(r, (X, y)) for r in
                                expand({"arch": "2-6:tanh-2:softmax", "epochs": 3},
                                       ["wine-arrays"], 2, 4)])


def test_a_failing_configuration_does_not_stop_the_sweep(two_workers):
    grid = {"arch": ["4-8:relu-3:softmax", "4-8:nope(x)-3:softmax"], "epochs": 3}
    result = sp.sweep(grid, ["iris"], folds=2, seeds=1, client=two_workers, verbose=False)
    assert len(result.runs) == 4 and len(result.failed) == 2
    assert all("nope" in r["error"] for r in result.failed)
    assert "failed" in result.table()


def test_a_worker_killed_mid_sweep_has_its_runs_done_elsewhere(tmp_path):
    path = tmp_path / "runs.jsonl"
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=50,
                                  env=engine.ONE_THREAD) as cluster, \
            distributed.Client(cluster) as client:
        def kill_one_worker(record):
            if not killed:
                pid = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        grid = {"arch": "4-8:relu-3:softmax", "lr": [0.01, 0.03, 0.1], "epochs": 40}
        result = sp.sweep(grid, ["iris"], folds=3, seeds=2, client=client, results=path,
                          verbose=False, on_record=kill_one_worker)
    assert killed
    assert len(result.runs) == 18 and not result.failed
    assert len(engine.finished_runs(path)) == 18
    assert _identical(result.runs, [train_run(r) for r in expand(grid, ["iris"], 2, 3)])


def test_cli_sweep_prints_the_table_and_writes_results_and_plot(tmp_path):
    results, plot = tmp_path / "runs.jsonl", tmp_path / "lr.png"
    command = [sys.executable, "-m", "symprop", "sweep", "--dataset", "iris",
               "--arch", "4-8:relu-3:softmax", "--lr", "0.01,0.1", "--epochs", "3",
               "--seeds", "1", "--folds", "2", "--workers", "1", "--results", str(results),
               "--plot", str(plot)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "val accuracy" in done.stdout and "results:" in done.stdout
    assert len(results.read_text().splitlines()) == 4
    assert plot.read_bytes().startswith(b"\x89PNG")
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--resume" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    bad = subprocess.run(command[:-2] + ["--lr", "0.1,fast"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "--lr" in bad.stderr
    nowhere = str(tmp_path / "no" / "lr.png")  # refused before any training
    bad = subprocess.run(command[:-1] + [nowhere], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--plot" in bad.stderr and "does not exist" in bad.stderr


def _work(task) -> float:
    from symprop.sweeps import chunks

    return sum(chunks.estimated_seconds(run, *chunks.BUILTIN_SHAPES[run["dataset"]])
               for run in task)


def test_runs_go_in_tasks_of_one_data_set_sized_by_their_work():
    """Small runs many to a task (Dask's cost per task is a small run's), at least two tasks
    a worker; long runs one to a task; each task consecutive runs of one data set; the tasks
    largest first, shrinking to the end."""
    from symprop.sweeps import chunks

    runs = expand({"arch": "4-3:softmax", "lr": [0.1, 0.2, 0.3]}, ["iris", "wine"], 2, 5)
    position = {run["run_id"]: i for i, run in enumerate(runs)}
    for workers in (1, 2, 4):
        tasks = chunks.chunks(runs, workers)  # 60 runs of about 1 ms
        in_order = sorted(tasks, key=lambda task: position[task[0]["run_id"]])
        assert [run for task in in_order for run in task] == runs
        assert all(len({run["dataset"] for run in task}) == 1 for task in tasks)
        assert chunks.TASKS_PER_WORKER * workers <= len(tasks) <= 4 * workers + 2
        work = [_work(task) for task in tasks]
        assert work == sorted(work, reverse=True)
    long = expand({"arch": "64-128:relu-10:softmax", "epochs": 500}, ["digits"], 3, 5)
    assert all(len(task) == 1 for task in chunks.chunks(long, workers=2))
    many = expand({"arch": "4-3:softmax", "lr": [i / 1000 for i in range(1, 101)],
                   "epochs": 1}, ["iris"], 1, 10)  # 1,000 tiny runs, 0.7 s
    tasks = chunks.chunks(many, workers=2)
    assert max(len(task) for task in tasks) <= chunks.MAX_RUNS
    # guided: each about the work left over twice the workers, the last ones short
    work = [_work(task) for task in tasks]
    assert work[0] == pytest.approx(sum(work) / 4, rel=0.05)
    assert work[-1] < 2 * chunks.MIN_TASK_SECONDS < work[0] / 3  # (the last, what is left)
    assert all(w > chunks.MIN_TASK_SECONDS / 2 for w in work[:-1])
    assert len(tasks) <= 12
    uneven = expand({"arch": "4-3:softmax", "epochs": 10**5}, ["iris"], 1, 2)[:1] + many
    assert max(len(task) for task in chunks.chunks(uneven, workers=1)) <= chunks.MAX_RUNS
    no_dense = expand({"arch": ["4-bn", "4-3:softmax"]}, ["iris"], 1, 3)
    assert sorted(run["run_id"] for task in chunks.chunks(no_dense, 2) for run in task) == \
        sorted(run["run_id"] for run in no_dense)
    custom = expand({"arch": "4-3:softmax", "epochs": 200}, ["big"], 1, 5)
    assert len(chunks.chunks(custom, 1, {"big": (10**6, 4)})) == 5  # given data's rows count
    wide = expand({"arch": "4-8:relu-3:softmax", "epochs": 50}, ["digits", "iris"], 20, 5)
    sizes = {}
    for task in chunks.chunks(wide, workers=1):
        sizes[task[0]["dataset"]] = max(len(task), sizes.get(task[0]["dataset"], 0))
    assert sizes["iris"] > 2 * sizes["digits"]  # digits: 12x the rows, 16x the inputs
    # ... and its runs took 16x iris's (15.4 against 0.93 ms), the estimates' ratio close
    iris, digits = (chunks.estimated_seconds(wide[i], *chunks.BUILTIN_SHAPES[name])
                    for i, name in ((-1, "iris"), (0, "digits")))
    assert wide[0]["dataset"] == "digits" and 8 < digits / iris < 32
    for name, shape in chunks.BUILTIN_SHAPES.items():
        assert load_dataset(name)[0].shape == shape, name


def test_cli_runs_on_an_existing_cluster_given_by_its_address(two_workers, tmp_path):
    results = tmp_path / "runs.jsonl"

    def transitions():
        return two_workers.run_on_scheduler(lambda dask_scheduler:
                                            dask_scheduler.transition_counter)

    before = transitions()
    done = subprocess.run(
        [sys.executable, "-m", "symprop", "sweep", "--arch", "4-8:relu-3:softmax",
         "--epochs", "2", "--folds", "2", "--scheduler", two_workers.scheduler.address,
         "--results", str(results), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["dataset"] == "iris" and row["runs"] == 2 and row["failed"] == 0
    assert transitions() > before  # the runs went through this cluster's scheduler
    assert len(engine.finished_runs(results)) == 2


def test_workers_compiling_the_same_structure_at_once_leave_an_intact_cache(tmp_path):
    from symprop.codegen.cache import is_intact

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    grid = {"arch": "4-5:softsign-3:softmax", "lr": [0.01, 0.02], "epochs": 3}
    records = []
    for _ in range(2):  # an empty cache, both workers compiling; then one that finds it
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                      dashboard_address=":0", silence_logs=50,
                                      env={**engine.ONE_THREAD,
                                           "SYMPROP_CACHE_DIR": str(cache)}) as cluster, \
                distributed.Client(cluster) as client:
            records.append(sp.sweep(grid, ["iris"], folds=2, seeds=1, client=client,
                                    verbose=False).runs)
    from symprop.codegen.build import support_key

    modules = set(cache.glob("symprop_*.py"))
    # the helpers every network shares: iris's few rows need none of them (fit shuffles
    # fewer than 2048 rows without compiling), but where built they must be intact too
    support = cache / f"symprop_{support_key()}.py"
    assert support not in modules or is_intact(support)
    kernels = {path for path in modules if path.name.startswith("symprop_kernel_")}
    networks = list(modules - {support} - kernels)
    assert len(networks) == 1 and is_intact(networks[0])
    assert kernels and all(is_intact(path) for path in kernels)  # its shared kernels
    assert not records[0][0].get("error") and not records[1][0].get("error")
    assert _identical(records[0], records[1])
