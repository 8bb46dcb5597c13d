"""Running a sweep's runs on Dask distributed: an embedded LocalCluster by default, or any
cluster a caller connects to. Each finished run is appended to the results file at once, so
an interrupted sweep loses nothing finished, and ``resume`` skips what the file holds.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import os
import sys
import uuid

from symprop.errors import FileError
from symprop.io import check_file_target
from symprop.sweeps.chunks import chunks
from symprop.sweeps.grid import SweepError, run_id
from symprop.sweeps.task import train_runs

# Worker processes symprop starts train on one thread each: the parallelism is across runs.
ONE_THREAD = {name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                     "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
# ... and without Dask's statistical profiler, which samples each worker's stack every 10 ms
# under the GIL, interrupting the runs (a 60-run sweep of 50 epochs on 2 workers: 0.091-0.094
# against 0.077-0.082 s). The dashboard's profile page stays empty for symprop's own clusters.
# Each server's event-loop tick (a check that the loop is not blocked) every second, not
# every 20 ms: at rest the scheduler, client and nannies' loop took 18 ms of CPU a second
# with Dask's default, 8 with this, and a worker process 8-9 against 4, CPU the workers'
# runs share (benchmarks/README.md, "Sweeps": 2 workers 1,589-1,597 runs/s against
# 1,555-1,593). A loop blocked for longer than Dask's limit (3 s) is still reported.
CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                  "distributed.admin.tick.interval": "1s"}


def require_distributed():
    try:
        import distributed
    except ImportError:
        raise SweepError("sweeps run on Dask distributed, an optional extra: "
                         "pip install 'symprop[sweep]'") from None
    return distributed


@contextlib.contextmanager
def dask_client(client=None, workers: int | None = None, scheduler: str | None = None,
                log=None):
    """``client`` as it is; else a Client of the cluster at ``scheduler``; else an embedded
    LocalCluster of ``workers`` single-threaded worker processes (default: the cores),
    closed afterwards."""
    if client is not None:
        yield client
        return
    distributed = require_distributed()
    if scheduler is not None:
        try:
            connecting = distributed.Client(scheduler, timeout="20s")
        except (OSError, ValueError, TimeoutError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with connecting as connected:
            _say(log, f"sweep: connected to {scheduler}" + _dashboard(connected))
            yield connected
        return
    check_workers(workers)
    count = workers or os.cpu_count() or 1
    import dask

    try:
        # the scheduler and nannies read it as they are made, and the nannies hand it at
        # their start to their workers (restarts too); workers added later (cluster.scale)
        # would not have it: symprop adds none
        with dask.config.set(CLUSTER_CONFIG):
            cluster = distributed.LocalCluster(n_workers=count, threads_per_worker=1,
                                               processes=True, dashboard_address=":0",
                                               silence_logs=logging.ERROR, env=ONE_THREAD)
    except RuntimeError as exc:
        raise SweepError(
            f"Dask's worker processes did not start ({exc}). Each one imports the main "
            "script: in a script, run the sweep under `if __name__ == \"__main__\":`"
        ) from None
    with cluster, distributed.Client(cluster) as local:
        _say(log, f"sweep: a local Dask cluster of {count} worker process(es), one thread each"
                  + _dashboard(local))
        yield local


def _dashboard(client) -> str:
    """'; dashboard LINK' where the cluster serves one (Dask's needs bokeh installed)."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return ""
    return f"; dashboard {client.dashboard_link}"


def check_workers(workers) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SweepError(f"workers must be a positive integer, not {workers!r}")


def _say(log, message: str) -> None:
    if log is not None:
        log(message)


def finished_runs(path) -> dict[str, dict]:
    """The records in a results file, by run id (a line that is not a whole JSON record,
    such as the last line of a sweep killed while writing it, is skipped)."""
    records = {}
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if _is_record(record) and not record.get("retry"):
                    records[record["run_id"]] = record
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"results file {path}: cannot be read ({exc})") from None
    return records


def _is_record(record) -> bool:
    """A record as train_run writes it: its run id that of its fields (so a line edited or
    written by something else is not taken for a run), a status, and metrics that are
    numbers where the run finished."""
    if not isinstance(record, dict) or record.get("status") not in ("ok", "failed"):
        return False
    try:
        if record["run_id"] != run_id(record):
            return False
    except (KeyError, TypeError, ValueError):
        return False
    if record["status"] == "ok":
        parts = [record.get("train"), record.get("validation")]
        return all(isinstance(part, dict) and part and all(
            isinstance(v, float) for v in part.values()) for part in parts)
    return True


class ResultsFile:
    """Appends one JSON line per finished run, flushed and synced before the next."""

    def __init__(self, path, resume: bool):
        self.path = os.fspath(path)
        check_file_target("results file", self.path)
        exists = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        if exists and not resume:
            raise FileError(f"results file {self.path} already holds runs: add --resume "
                            "(resume=True) to continue that sweep, or name another file")
        self.stream = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if exists and not _ends_with_newline(self.path):
            self.stream.write("\n")  # a partial last line stays alone (and skipped)

    def append(self, record: dict) -> None:
        self.stream.write(json.dumps(record, sort_keys=True, allow_nan=False) + "\n")
        self.stream.flush()
        os.fsync(self.stream.fileno())

    def close(self) -> None:
        self.stream.close()


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as stream:
        stream.seek(-1, os.SEEK_END)
        return stream.read(1) == b"\n"


def run_all(client, runs: list[dict], data: dict, results: ResultsFile | None,
            progress=None, on_record=None) -> list[dict]:
    """Submit every run, gather the records as they finish (appending each to ``results``);
    the records in the order of ``runs``. ``data``: data set name -> (X, y) for data that is
    not built in (scattered to the workers once); built-in data sets load on the workers.
    Runs go in tasks of runs of one data set, grouped by their estimated work
    (symprop.sweeps.chunks). The runs of a
    task whose worker died more often than Dask allows are recorded as failed, marked for
    ``resume`` to run again."""
    distributed = require_distributed()
    # On every worker: data scattered to one would be lost with it (Dask cannot rebuild it)
    shipped = {name: client.scatter(arrays, broadcast=True, hash=False)
               for name, arrays in data.items()}
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    # Keys named by a run (readable on a dashboard) and this submission: a resumed sweep's
    # futures must not meet those of the interrupted one, still being cancelled.
    submission = uuid.uuid4().hex[:8]
    shapes = {name: arrays[0].shape for name, arrays in data.items()}
    tasks = chunks(runs, workers, shapes)
    # one call for all tasks: one message to the scheduler (a submit each sent the second
    # and later ones after the client's 10 ms batching interval, and the workers started
    # their first tasks 12-20 ms after the sweep's)
    futures = dict(zip(client.map(
        train_runs, tasks, [shipped.get(chunk[0]["dataset"]) for chunk in tasks], pure=False,
        key=[f"symprop-runs-{chunk[0]['run_id']}-{submission}" for chunk in tasks]), tasks,
        strict=True))
    # a future Dask gave up on: its worker died too often, or it lost what it needed
    lost = (distributed.KilledWorker,
            getattr(distributed.client, "FutureCancelledError", concurrent.futures.CancelledError))
    records = {}
    try:
        for future in distributed.as_completed(futures):
            chunk = futures[future]
            try:
                done = future.result()
            except lost as exc:
                # not the run's fault: --resume runs it again
                done = [{**run, "status": "failed", "retry": True,
                         "error": " ".join(f"worker lost: {exc}".split())} for run in chunk]
            for record in done:
                records[record["run_id"]] = record
                if results is not None:
                    results.append(record)
                if progress is not None:
                    progress.update(1)
                if on_record is not None:
                    on_record(record)
    except BaseException:
        client.cancel(list(futures))
        raise
    return [records[run["run_id"]] for run in runs]


def progress_bar(total: int, verbose: bool):
    if not verbose:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="sweep", file=sys.stderr, dynamic_ncols=True)
