"""Hostile inputs through every door (issue 14).

The corpus (tests/hostile/corpus.json: formulas, names, hyperparameters, architecture strings,
CSV files, model-file metadata) runs through four doors: the Python API, the CLI, model files
(``sp.load(path).predict``) and modules exported by ``symprop kernels`` (imported and called).
Each door is one subprocess (tests/hostile/run_door.py, which forks a child per case, with a
fresh private kernel cache). Every case must end with a symprop error within its entry's bound
(on the CLI: exit 2, one ``symprop: error:`` line, no traceback), and none may ever create a
file in the marker folder, where the payloads write. An entry marked ``valid`` for a door is
legitimate input there and must work instead, its text reaching no generated module, LaTeX or
output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(os, "fork"), reason="the doors fork a child a case")]

TESTS = Path(__file__).resolve().parent
RUNNER = TESTS / "hostile" / "run_door.py"
DOOR_TIMEOUT_S = 600  # a whole door; every case is killed at its own bound anyway


def _import_runner():
    spec = importlib.util.spec_from_file_location("hostile_run_door", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_door = _import_runner()
ENTRIES, _ = run_door.load_corpus()
BY_ID = {entry["id"]: entry for entry in ENTRIES}


def planned(door: str) -> list[str]:
    return [entry["id"] for entry in ENTRIES if run_door.probes(door, entry)]


# -- running the doors ----------------------------------------------------------------------------

class DoorRun:
    """What one door's subprocess reported: records by entry, skips, the case it was in when
    it ended, and the marker folder's content at its end."""

    def __init__(self, door: str, lines: list[str], returncode, stderr: str, marker_dir: Path):
        self.door, self.returncode, self.stderr = door, returncode, stderr
        self.marker_dir = marker_dir
        self.records: dict[str, list[dict]] = {}
        self.skips: dict[str, list[dict]] = {}
        self.done, self.last_started = None, None
        for line in lines:
            event = json.loads(line)
            if event["event"] == "start":
                self.last_started = f"{event['entry']} / {event['probe']}"
            elif event["event"] == "result":
                self.records.setdefault(event["entry"], []).append(event)
                self.last_started = None
            elif event["event"] == "skip":
                self.skips.setdefault(event["entry"], []).append(event)
            elif event["event"] == "done":
                self.done = event

    def why_missing(self) -> str:
        return (f"the {self.door} door's run ended (exit {self.returncode}) during "
                f"{self.last_started or 'no case'}; its stderr ends: {self.stderr[-1500:]}")


def run_door_process(door: str, base: Path, *extra: str) -> DoorRun:
    """``run_door.py DOOR`` in a subprocess with a fresh private kernel cache."""
    work, marker, cache = base / "work", base / "marker", base / "cache"
    for folder in (work, marker, cache):
        folder.mkdir(parents=True)
    cache.chmod(0o700)
    env = {**os.environ, "SYMPROP_CACHE_DIR": str(cache), "NUMBA_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, str(RUNNER), door, "--work", str(work), "--marker-dir",
               str(marker), *extra]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, cwd=marker) as process:
        try:
            out, err = process.communicate(timeout=DOOR_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += f"\n(killed after {DOOR_TIMEOUT_S} s)"
    return DoorRun(door, out.splitlines(), process.returncode, err, marker)


class Doors:
    """The four doors' runs, started together on first use (two at a time: the CLI door,
    the longest, next to the three others in turn)."""

    ORDER = ("cli", "api", "model", "export")

    def __init__(self, base: Path):
        self.base, self.lock, self.futures = base, threading.Lock(), None

    def result(self, door: str) -> DoorRun:
        with self.lock:
            if self.futures is None:
                pool = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1))
                self.futures = {name: pool.submit(run_door_process, name, self.base / name)
                                for name in self.ORDER}
                pool.shutdown(wait=False)
        return self.futures[door].result()


@pytest.fixture(scope="module")
def doors(tmp_path_factory):
    return Doors(tmp_path_factory.mktemp("hostile"))


# -- what a case must have done -----------------------------------------------------------------

def describe(record: dict) -> str:
    if "exit_code" in record:
        text = f"exit {record['exit_code']}, stderr {record['stderr'][:300]!r}"
        if "import" in record:
            imported = record["import"]
            text += (f"; importing the exported module: {imported['outcome']} "
                     f"{imported.get('error', '')} {imported.get('message', '')[:200]}")
        return text
    if record["outcome"] in ("error", "raised"):
        return f"{record['error']}: {record['message'][:300]}"
    return "success (the input was accepted)" if record["outcome"] == "ok" else record["outcome"]


def judge(door: str, entry: dict, record: dict) -> list[str]:
    """What is wrong with one case's record (empty when nothing is)."""
    problems = []
    if record.get("new_files"):
        problems.append(f"CREATED {record['new_files']} in the marker folder: the input ran as "
                        "code")
    if record.get("leaks"):
        problems.append(f"its text reached a generated module, LaTeX or output: "
                        f"{record['leaks']}")
    bound = entry["bound_s"]
    if record["outcome"] == "timeout":
        problems.append(f"still running after {record['seconds']:.1f} s (bound {bound} s): "
                        "killed")
    elif record["seconds"] > bound:
        problems.append(f"took {record['seconds']:.1f} s, more than its bound of {bound} s")
    if run_door.valid_at(entry, door):
        if record["outcome"] != "ok":
            problems.append(f"valid input here ({entry['valid']['why']}), but it ended with "
                            f"{describe(record)}")
        return problems
    if "exit_code" in record:  # the CLI, and the export door's `symprop kernels`
        stderr = record["stderr"]
        if record["exit_code"] == 0:
            return [*problems, f"accepted (exit 0), not refused: {describe(record)}"]
        if record["exit_code"] != 2:
            problems.append(f"not refused with exit code 2: {describe(record)}")
        if record["traceback"]:
            problems.append("printed a traceback")
        if record["stderr_lines"] != 1 or not stderr.startswith("symprop: error: "):
            problems.append(f"stderr is not one 'symprop: error: ...' line: {stderr[:300]!r}")
        if record["control"]:
            problems.append("the error line holds raw control or bidi characters (terminal "
                            "injection)")
        return problems
    if record["outcome"] != "error":
        problems.append(f"ended with {describe(record)}, not a symprop error")
        return problems
    wanted = "ModelFileError" if door == "model" else entry.get("error") if door == "api" else None
    if wanted and wanted not in record["classes"]:
        problems.append(f"raised {describe(record)}, not a {wanted}")
    return problems


def check_entry(run: DoorRun, entry_id: str) -> None:
    entry = BY_ID[entry_id]
    expected = [probe.name for probe in run_door.probes(run.door, entry) if not probe.skip]
    if not expected:
        pytest.skip("; ".join(f"{skip['probe']}: {skip['reason']}"
                              for skip in run.skips.get(entry_id, [])))
    records = run.records.get(entry_id, [])
    problems = [f"{probe}: no result: {run.why_missing()}"
                for probe in expected if probe not in {r["probe"] for r in records}]
    for record in records:
        problems += [f"{record['probe']}: {problem}" for problem in judge(run.door, entry, record)]
    assert not problems, (f"{entry_id} ({entry['why']}) through the {run.door} door:\n  "
                          + "\n  ".join(problems))


@pytest.mark.parametrize("entry_id", planned("api"))
def test_api_door(doors, entry_id):
    check_entry(doors.result("api"), entry_id)


@pytest.mark.parametrize("entry_id", planned("cli"))
def test_cli_door(doors, entry_id):
    check_entry(doors.result("cli"), entry_id)


@pytest.mark.parametrize("entry_id", planned("model"))
def test_model_file_door(doors, entry_id):
    check_entry(doors.result("model"), entry_id)


@pytest.mark.parametrize("entry_id", planned("export"))
def test_exported_module_door(doors, entry_id):
    check_entry(doors.result("export"), entry_id)


@pytest.mark.parametrize("door", Doors.ORDER)
def test_nothing_ever_appears_in_the_marker_folder(doors, door):
    run = doors.result(door)
    assert run.done is not None, run.why_missing()
    left = sorted(path.name for path in run.marker_dir.iterdir())
    assert run.done["created"] == [] and left == [], (
        f"the {door} door's cases created {run.done['created']} in the marker folder, which "
        f"holds {left} at the end: some input ran as code")


# -- the CLI emulation against a real `python -m symprop`, and the harness itself ------------------

REAL_CLI_ENTRIES = ("act-docstring-comment", "name-newline", "arch-colon-payload",
                    "csv-cell-payload")


def test_real_python_m_symprop_agrees_with_the_forked_cli(doors, tmp_path):
    """The CLI door runs ``python -m symprop`` in forked children; a few entries through real
    processes must end the same way (and pass the same checks)."""
    real = run_door_process("cli", tmp_path, "--exec-cli", "--only", *REAL_CLI_ENTRIES)
    forked = doors.result("cli")
    for entry_id in REAL_CLI_ENTRIES:
        check_entry(real, entry_id)
        got = [(r["probe"], r["exit_code"], r["stderr_lines"]) for r in real.records[entry_id]]
        want = [(r["probe"], r["exit_code"], r["stderr_lines"])
                for r in forked.records.get(entry_id, [])]
        assert got == want, entry_id


def test_the_harness_reports_each_way_a_case_can_go_wrong(tmp_path):
    """The harness's own cases misbehave on purpose (symprop is not broken for this): a child
    that writes the marker, hangs, raises another exception, echoes the marker's path, or
    runs a CLI that prints a usage error or a traceback. Each must be reported as such and
    fail judge(); a symprop error and a working CLI call must pass it. Real outputs (LaTeX,
    exported files) are scanned, and an exported module is imported and called."""
    run = run_door_process("selftest", tmp_path)
    records = {name: run.records.get(f"selftest-{name}", [None])[0]
               for name in run_door.SELFTEST}
    assert all(records.values()), run.why_missing()
    entry = {"id": "selftest", "kind": "activation", "why": "harness", "bound_s": 20.0}
    valid_cli = {**entry, "valid": {"doors": ["cli"], "why": "a built-in name"}}

    def problems(name, door="api", of=entry):
        return " | ".join(judge(door, {**of, "bound_s": 1.0} if name == "hang" else of,
                                records[name]))

    assert records["marker"]["new_files"] == ["MARKER"]
    assert "CREATED ['MARKER']" in problems("marker")
    assert records["hang"]["outcome"] == "timeout" and records["hang"]["seconds"] < 10
    assert "killed" in problems("hang")
    assert "KeyError" in problems("raise") and "not a symprop error" in problems("raise")
    assert problems("symprop-error") == ""
    assert "FormulaError" in problems("symprop-error", of={**entry, "error": "ShapeError"})
    assert "reached" in problems("leak")
    assert "not one 'symprop: error: ...' line" in problems("cli-usage", "cli")
    assert "printed a traceback" in problems("cli-crash", "cli")
    assert "accepted (exit 0)" in problems("cli-ok", "cli")
    assert problems("cli-ok", "cli", of=valid_cli) == ""
    assert records["leak-in-latex"]["leaks"] == ["tanh"]
    assert records["cli-leak-in-files"]["leaks"] == ["njit"]
    assert records["import-call"]["outcome"] == "ok", records["import-call"]
    assert run.done["created"] == ["MARKER"]  # and the run went on


def test_the_corpus_is_well_formed():
    kinds = {"activation", "loss", "layer_name", "hyper_name", "hyper_value", "calculus",
             "arch", "csv", "model_meta", "model_array"}
    assert len(BY_ID) == len(ENTRIES), "entry ids must be unique"
    for entry in ENTRIES:
        assert entry["kind"] in kinds and entry["why"] and entry["bound_s"] in (5, 20), entry
        for door in entry.get("valid", {}).get("doors", ()):
            assert door in run_door.DOORS and run_door.probes(door, entry), entry["id"]
        assert any(run_door.probes(door, entry) for door in run_door.DOORS), entry["id"]
