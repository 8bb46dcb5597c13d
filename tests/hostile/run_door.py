"""Run the hostile-input corpus (corpus.json, next to this file) through one door of symprop.

    python tests/hostile/run_door.py DOOR --work DIR --marker-dir DIR [--only ID ...]
                                          [--exec-cli] [--corpus FILE]

DOOR is ``api``, ``cli``, ``model`` or ``export`` (``selftest`` checks the harness itself).
A case is one corpus entry through one probe of a door (``sp.activation``, ``symprop
kernels``, ...). Each case runs in a child forked from this process once symprop, SymPy and
Numba are imported, so a case costs what it does, not an interpreter's start-up, and a case
that hangs or crashes takes only itself down: it is killed GRACE_S seconds after its entry's
bound. The marker folder is every child's working directory, and the payloads write there;
after each case nothing new may be in it. A CLI case runs ``python -m symprop`` in the child
as the interpreter would (runpy; SystemExit's status; an uncaught exception's traceback on
stderr, status 1), or, with ``--exec-cli``, as a real ``python -m symprop`` process.

Output: one JSON object a line, flushed as it happens, so that a hang shows where it is.
``{"event": "start", "entry", "probe"}`` before a case, ``{"event": "result", ...}`` after it
(see ``Runner.emit_result``), ``{"event": "skip", "entry", "probe", "reason"}`` for a case
the door cannot take, and at the end ``{"event": "done", "created": [names],
"marker_folder": [names]}``: what appeared in the marker folder during the run (each removed
after the case that made it, so that every case is judged on its own) and what is there now.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
import traceback
import unicodedata
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.json"
DOORS = ("api", "cli", "model", "export")
GRACE_S = 3.0  # a case is killed this long after its bound: it has failed by then anyway

# The network that formulas, names and losses go into (2 -> 2 -> 1: few, tiny modules to
# compile), and the CSV file `symprop train` fits it to.
FORMULA = "x*tanh(x)"
ARCH = f"2-2:{FORMULA}-1:sigmoid"
TRAIN = ["--epochs=1", "--batch-size=8", "--seed=0", "--json"]
CSV_ROWS = "a,b,t\n" + "".join(f"{i / 10},{-i / 5},{i % 2}\n" for i in range(24))
MODEL_KINDS = ("activation", "loss", "layer_name", "hyper_name", "hyper_value", "model_meta",
               "model_array")


# -- the corpus -----------------------------------------------------------------------------------

def load_corpus(path=CORPUS, marker: str = "/tmp/marker/MARKER") -> tuple[list[dict], list[str]]:
    """The entries, each text built from its 'parts' and the placeholders filled in for the
    marker's path (an entry keeps its unfilled text as 'template'), and the strings that no
    output may contain."""
    with open(path, encoding="utf-8") as handle:
        corpus = json.load(handle)
    hexed = marker.encode().hex()

    def fill(value):
        if isinstance(value, str):
            return value.replace("{MARKER_HEX}", hexed).replace("{MARKER}", marker)
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {fill(key): fill(item) for key, item in value.items()}
        return value

    entries = []
    for raw in corpus["entries"]:
        if "parts" in raw:
            raw = {**raw, "text": "".join(piece * times for piece, times in raw["parts"])}
            del raw["parts"]
        entries.append({**fill(raw), "template": raw.get("text")})
    return entries, fill(corpus["forbidden_in_output"])


def valid_at(entry: dict, door: str) -> bool:
    return door in entry.get("valid", {}).get("doors", ())


def hyperparameters(entry: dict) -> dict:
    """The keyword arguments that go with an entry's formula."""
    if entry["kind"] == "hyper_value":
        convert = {"float": float, "int": int, "str": str, "bool": lambda text: text == "True"}
        return {entry["param"]: convert[entry["value_as"]](entry["text"])}
    return dict(entry.get("params", {}))


# -- which cases a door runs for an entry ---------------------------------------------------------

class Probe(NamedTuple):
    name: str
    argv: list[str] | None = None  # a command line (after `symprop`), for the cli and export
    skip: str | None = None  # why the door cannot take it


API_PROBES = {
    "activation": ("activation", "network"),
    "loss": ("loss", "output_delta", "network"),
    "layer_name": ("activation", "loss", "network"),
    "hyper_name": ("activation", "network"),
    "hyper_value": ("activation", "network"),
    "csv": ("load_csv",),
}


def probes(door: str, entry: dict) -> list[Probe]:
    """The cases of ``entry`` at ``door`` (no symprop import needed: the tests plan with it)."""
    kind = entry["kind"]
    if door == "api":
        if kind == "calculus":
            return [Probe(entry["call"])]
        return [Probe(name) for name in API_PROBES.get(kind, ())]
    if door == "model":
        return [Probe("load+predict")] if kind in MODEL_KINDS else []
    if door in ("cli", "export"):
        return [Probe(name, skip="a command line cannot carry a NUL byte")
                if any("\x00" in arg for arg in argv) else Probe(name, argv)
                for name, argv in _command_lines(door, entry)]
    raise ValueError(f"unknown door {door!r}")


def _command_lines(door: str, entry: dict) -> list[tuple[str, list[str]]]:
    """(probe, argv) of a CLI or export case; the runner fills in {OUT}, {CSV}, {ENTRY_CSV}.
    Options come before ``--``, so a text that starts with '-' stays a value."""
    kind, text = entry["kind"], entry.get("text", "")
    kernels = ["kernels", "--out={OUT}"]
    if door == "export":
        if kind == "loss":
            return [("kernels+import", [*kernels, f"--loss={text}", "--", ARCH])]
        if kind == "arch":
            return [("kernels+import", [*kernels, "--loss=bce", "--", text])]
        # An activation goes in an architecture string, where '-' and ':' would split it.
        template = entry.get("template") or ""
        if kind == "activation" and not entry.get("params") and not set("-:") & set(template):
            return [("kernels+import", [*kernels, "--loss=bce", "--", f"2-2:{text}-1:sigmoid"])]
        return []
    formula = entry.get("formula", FORMULA)
    params = ([f"--param={entry['param']}={entry['text']}"] if kind == "hyper_value" else
              [f"--param={name}={value}" for name, value in hyperparameters(entry).items()])
    train = ["train", "--csv={CSV}", "--label=t", *TRAIN]
    return {
        "activation": [("derive", ["derive", *params, "--", text])],
        "loss": [("derive", ["derive", "--activation=sigmoid", "--", text]),
                 ("kernels", [*kernels, f"--loss={text}", "--", ARCH]),
                 ("train", [*train, f"--arch={ARCH}", f"--loss={text}"])],
        "layer_name": [("derive", ["derive", f"--name={text}", "--", formula])],
        "hyper_name": [("derive", ["derive", *params, "--", formula])],
        "hyper_value": [("derive", ["derive", *params, "--", formula])],
        "arch": [("derive net", ["derive", "--loss=bce", "--", "net", text]),
                 ("kernels", [*kernels, "--loss=bce", "--", text]),
                 ("train", [*train, f"--arch={text}", "--loss=bce"])],
        "csv": [("train", ["train", "--csv={ENTRY_CSV}", f"--label={entry.get('target')}",
                           *TRAIN, f"--arch={ARCH}", "--loss=bce"])],
    }.get(kind, [])


# -- children -------------------------------------------------------------------------------------

def run_forked(target, limit: float) -> tuple[int | None, float]:
    """Run ``target()``, which returns an exit status, in a forked child: (its status, or
    -N when signal N ended it, or None when it was killed at ``limit`` seconds; seconds)."""
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: it never returns into the runner
        status = 70
        try:
            status = target()
        except BaseException:  # noqa: B036 - whatever happens, the child exits here
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), time.monotonic() - start
        if time.monotonic() - start > limit:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None, time.monotonic() - start
        time.sleep(0.005)


def call_case(func, result_path: Path, forbidden: list[str]):
    """A child's target for a Python call: ``func()`` returns the texts it produced
    (generated source, LaTeX), searched for forbidden strings; the record (outcome ok,
    error for a SympropError or raised for another exception, with class, MRO and message)
    goes to ``result_path`` as JSON."""
    def target():
        try:
            record = {"outcome": "ok", "leaks": leaks(func() or [], forbidden)}
        except BaseException as exc:  # noqa: B036 - recording what it ended with
            import symprop

            record = {"outcome": "error" if isinstance(exc, symprop.SympropError) else "raised",
                      "error": type(exc).__name__,
                      "classes": [cls.__name__ for cls in type(exc).__mro__],
                      "message": clip(str(exc))}
        result_path.write_text(json.dumps(record))
        return 0
    return target


def cli_case(argv: list[str], out: Path, err: Path, module: str = "symprop"):
    """A child's target that is ``python -m symprop ARGV``, its stdout and stderr (the file
    descriptors: C code and tracebacks too) going to files."""
    def target():
        for path, fd in ((out, 1), (err, 2)):
            with open(path, "wb") as handle:
                os.dup2(handle.fileno(), fd)
        sys.argv = [module, *argv]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as exc:  # as the interpreter treats it
            if exc.code is None or isinstance(exc.code, int):
                return exc.code or 0
            print(exc.code, file=sys.stderr)
            return 1
        except BaseException:  # noqa: B036 - uncaught: a traceback and status 1
            traceback.print_exc()
            return 1
        return 0
    return target


def clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def leaks(texts, forbidden: list[str]) -> list[str]:
    """The forbidden strings that appear in any of ``texts``."""
    return sorted({bad for text in texts for bad in forbidden if bad in text})


def cli_streams(stdout: Path, stderr: Path, out: Path, forbidden: list[str]) -> dict:
    """What a CLI case wrote: its stderr (clipped) and number of lines, whether it holds a
    traceback or raw control or bidi characters (terminal injection), and the forbidden
    strings in its stdout or in the modules it wrote to ``out``."""
    def read(path: Path) -> str:
        return path.read_bytes().decode("utf-8", errors="backslashreplace")

    err = read(stderr)
    texts = [read(stdout), *(read(path) for path in sorted(out.glob("*.py")))]
    lines = err.splitlines()
    control = any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\t"
                  for line in lines for ch in line)
    return {"stderr": clip(err), "stderr_lines": len(lines), "traceback": "Traceback" in err,
            "control": control, "leaks": leaks(texts, forbidden)}


# -- what the cases do --------------------------------------------------------------------------

class HarnessError(Exception):
    """The harness could not do its part of a case (not an error of symprop's)."""


def preload() -> None:
    """Import, once and before any fork, what the children would each import: symprop,
    SymPy (the derive stage), Numba, the CLI and its training path."""
    import numba  # noqa: F401

    import symprop.cli  # noqa: F401
    import symprop.codegen.build  # noqa: F401
    import symprop.derive  # noqa: F401
    import symprop.runtime.cli_train  # noqa: F401


def api_call(entry: dict, probe: str, csv_path: Path | None = None):
    """The function an API case calls; it returns the texts it produced."""
    import symprop as sp

    kind, text = entry["kind"], entry.get("text")
    params = hyperparameters(entry)
    activation = text if kind == "activation" else entry.get("formula", FORMULA)
    name = text if kind == "layer_name" else None
    loss = text if kind == "loss" else "bce"

    def derived(obj):
        return [obj.derivation().latex(), str(obj.expr)]

    def activation_call():
        return derived(sp.activation(activation, name=name, **params))

    def loss_call():
        return derived(sp.loss("(yhat - y)**4", name=name) if kind == "layer_name"
                       else sp.loss(text))

    def network_call():
        return run_network(sp.Network([sp.Dense(2, 2, activation, name=name, **params),
                                       sp.Dense(2, 1, "sigmoid")], loss=loss, seed=0))

    def calculus_call():
        if entry["call"] == "gradient":
            return [str(sp.gradient(text, entry["variables"]))]
        return [str(sp.gradient_descent(text, start=entry["start"], lr=entry["lr"],
                                        steps=entry["steps"]))]

    def csv_call():
        sp.load_csv(str(csv_path), entry["target"])
        return []  # the column names are the file's data: echoing them is no leak

    return {"activation": activation_call, "loss": loss_call, "network": network_call,
            "output_delta": lambda: [sp.output_delta(text, "sigmoid").latex()],
            "gradient": calculus_call, "gradient_descent": calculus_call,
            "load_csv": csv_call}[probe]


def run_network(net) -> list[str]:
    """Predict and take gradients on 4 rows (so the generated module is built, imported and
    run); the module's source and the network's derivation."""
    import numpy as np

    X = np.random.default_rng(0).standard_normal((4, 2))
    out = net.predict(X)
    if not np.all(np.isfinite(out)):
        raise HarnessError(f"predict gave non-finite outputs {out.ravel()}")
    net.gradients(X, np.array([0, 1, 0, 1]))
    return [net.kernel_source(), net.derivation().latex()]


def save_base_model(path: Path) -> int:
    """A valid model file (2 -> 3 tanh -> 1 sigmoid, bce) that each model case tweaks."""
    import symprop as sp

    sp.Network([sp.Dense(2, 3, "tanh"), sp.Dense(3, 1, "sigmoid")], loss="bce",
               seed=0).save(str(path))
    return 0


def tweaked_model(entry: dict, base: Path, path: Path) -> Path:
    """The base model with the entry's value in its metadata (the arrays, so their digests,
    unchanged), or with one member replaced by an object array that pickles a call."""
    import numpy as np

    with np.load(base) as model:  # our own file: no pickles in it
        members = {name: model[name] for name in model.files}
    meta = json.loads(members["__meta__"].tobytes())
    kind, text = entry["kind"], entry.get("text")
    layer = meta["layers"][0]
    if kind == "activation":
        layer.update(activation=text, hyperparameters=hyperparameters(entry))
    elif kind == "loss":
        meta["loss"] = text
    elif kind == "layer_name":
        layer.update(activation=entry["formula"], name=text)
    elif kind in ("hyper_name", "hyper_value"):
        layer.update(activation=entry["formula"], hyperparameters=hyperparameters(entry))
    elif kind == "model_meta":  # a dotted field: layers.0.init
        keys = [int(key) if key.isdigit() else key for key in entry["field"].split(".")]
        target = meta
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = entry.get("value", text)
    members["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    if kind == "model_array":
        import builtins

        members[entry["member"]] = np.empty(1, dtype=object)
        members[entry["member"]][0] = CallOnUnpickle(getattr(builtins, entry["pickle_call"]),
                                                     entry["args"])
    np.savez(path, **members)  # np.save pickles object arrays
    return path


class CallOnUnpickle:
    """Pickles as a call of ``function(*args)``: unpickling it makes the call."""

    def __init__(self, function, args):
        self.function, self.args = function, tuple(args)

    def __reduce__(self):
        return self.function, self.args


def import_and_call(folder: Path, arch: str, call: bool = True) -> list[str]:
    """Import the exported activations.py and network.py; with ``call``, run the network's
    gradients() on 4 rows of float32 data for the widths of ``arch`` (at most 64 each)."""
    import importlib.util

    import numpy as np

    from symprop.architecture import parse_architecture

    modules = {}
    for name in ("activations", "network"):
        spec = importlib.util.spec_from_file_location(f"hostile_export_{name}",
                                                      folder / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = modules[name]
        spec.loader.exec_module(modules[name])
    layers = parse_architecture(arch)
    widths = [layers[0].n_in] + [layer.n_out for layer in layers]
    if not call or max(widths) > 64:
        return []
    rng = np.random.default_rng(0)
    arrays = {"X": rng.standard_normal((4, widths[0])),
              "Y": rng.random((4, widths[-1])) > 0.5}
    for n in range(1, len(widths)):
        arrays[f"W{n}"] = rng.standard_normal((widths[n - 1], widths[n])) * 0.5
        arrays[f"b{n}"] = arrays[f"db{n}"] = np.zeros(widths[n])
        arrays[f"dW{n}"] = np.zeros((widths[n - 1], widths[n]))
    gradients = modules["network"].gradients
    missing = set(inspect.signature(gradients).parameters) - set(arrays)
    if missing:
        raise HarnessError(f"gradients() takes {sorted(missing)}, which the harness cannot fill")
    loss = gradients(**{name: np.array(arrays[name], dtype=np.float32)
                        for name in inspect.signature(gradients).parameters})
    if not np.isfinite(loss):
        raise HarnessError(f"gradients() returned the loss {loss}")
    return []


# -- the runner -----------------------------------------------------------------------------------

class Runner:
    """Runs one door's cases and reports each."""

    def __init__(self, door: str, work: Path, marker_dir: Path, corpus: Path = CORPUS,
                 exec_cli: bool = False):
        self.door, self.work, self.marker_dir, self.exec_cli = door, work, marker_dir, exec_cli
        self.marker = str(marker_dir / "MARKER")
        self.entries, self.forbidden = load_corpus(corpus, self.marker)
        self.seen = set(os.listdir(marker_dir))  # empty, unless the caller put something there
        self.created: list[str] = []  # what appeared in it, case after case
        self.count = 0
        for folder in ("out", "csv", "model", "results"):
            (work / folder).mkdir(parents=True, exist_ok=True)
        self.train_csv = work / "csv" / "_train.csv"
        self.train_csv.write_text(CSV_ROWS)
        self.base_model = work / "model" / "_base.npz"
        self.called: dict[bytes, str] = {}  # exported network.py -> the entry that ran it

    def emit(self, **fields) -> None:
        print(json.dumps(fields), flush=True)

    def emit_result(self, entry_id: str, probe: str, record: dict) -> None:
        """A case's record: outcome (ok | error, a SympropError | raised, another exception
        | exit N | timeout | crash), error, classes (its MRO) and message, seconds,
        new_files (what appeared in the marker folder), leaks (forbidden strings found in
        its outputs); for command lines exit_code, stderr, stderr_lines, traceback and
        control; for the export door, import (the exported module's import and call)."""
        record["new_files"] = sorted(set(os.listdir(self.marker_dir)) - self.seen)
        for name in record["new_files"]:  # removed, so that the next case is judged alone
            path = self.marker_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        self.created += record["new_files"]
        self.emit(event="result", entry=entry_id, probe=probe, **record)

    def emit_done(self) -> None:
        self.emit(event="done", created=self.created,
                  marker_folder=sorted(os.listdir(self.marker_dir)))

    def run(self, only: set[str] | None = None) -> None:
        preload()
        if self.door == "model":
            status, _ = run_forked(lambda: save_base_model(self.base_model), 60)
            if status != 0:
                raise SystemExit(f"could not save the base model (status {status})")
        for entry in self.entries:
            if only and entry["id"] not in only:
                continue
            for probe in probes(self.door, entry):
                if probe.skip:
                    self.emit(event="skip", entry=entry["id"], probe=probe.name,
                              reason=probe.skip)
                    continue
                self.emit(event="start", entry=entry["id"], probe=probe.name)
                self.count += 1
                record = self.command(entry, probe.argv) if probe.argv else self.call(
                    entry, probe.name)
                self.emit_result(entry["id"], probe.name, record)
        self.emit_done()

    def limit(self, entry: dict) -> float:
        return entry["bound_s"] + GRACE_S

    def forked_call(self, func, limit: float, forbidden: list[str] | None = None) -> dict:
        result = self.work / "results" / f"{self.count}.json"
        result.unlink(missing_ok=True)
        status, seconds = run_forked(call_case(func, result, forbidden or self.forbidden), limit)
        record = {"seconds": round(seconds, 3)}
        if status is None:
            return {**record, "outcome": "timeout"}
        if not result.exists():
            return {**record, "outcome": "crash", "exit_code": status}
        return {**record, **json.loads(result.read_text())}

    def call(self, entry: dict, probe: str) -> dict:
        if self.door != "model":
            return self.forked_call(api_call(entry, probe, self.entry_csv(entry)),
                                    self.limit(entry))
        path = tweaked_model(entry, self.base_model, self.work / "model" / f"{self.count}.npz")

        def load_and_predict():
            import symprop

            return run_network(symprop.load(str(path)))

        return self.forked_call(load_and_predict, self.limit(entry))

    def entry_csv(self, entry: dict) -> Path | None:
        if entry["kind"] != "csv":
            return None
        path = self.work / "csv" / f"{self.count}.csv"
        path.write_bytes(entry["text"].encode(entry.get("encoding", "utf-8")))
        return path

    def command(self, entry: dict, argv: list[str]) -> dict:
        out = self.work / "out" / str(self.count)
        fills = {"{OUT}": out, "{CSV}": self.train_csv, "{ENTRY_CSV}": self.entry_csv(entry)}
        for placeholder, value in fills.items():
            argv = [arg.replace(placeholder, str(value)) for arg in argv]
        stdout = self.work / "results" / f"{self.count}.out"
        stderr = self.work / "results" / f"{self.count}.err"
        if self.exec_cli and self.door == "cli":
            status, seconds = self.real_cli(argv, stdout, stderr, self.limit(entry))
        else:
            status, seconds = run_forked(cli_case(argv, stdout, stderr), self.limit(entry))
        record = {"seconds": round(seconds, 3), "exit_code": status, "argv": clip(repr(argv)),
                  "outcome": {None: "timeout", 0: "ok", 2: "error"}.get(status, f"exit {status}"),
                  **cli_streams(stdout, stderr, out, self.forbidden)}
        if self.door == "export" and status == 0:
            record.update(self.import_exported(entry, out, argv[-1],
                                               self.limit(entry) - seconds))
            record["seconds"] = round(seconds + record["import"]["seconds"], 3)
        return record

    def real_cli(self, argv: list[str], stdout: Path, stderr: Path, limit: float):
        start = time.monotonic()
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            try:
                done = subprocess.run([sys.executable, "-m", "symprop", *argv], stdout=out,
                                      stderr=err, timeout=limit, cwd=self.marker_dir)
            except subprocess.TimeoutExpired:
                return None, time.monotonic() - start
        return done.returncode, time.monotonic() - start

    def import_exported(self, entry: dict, out: Path, arch: str, limit: float) -> dict:
        """Import what `symprop kernels` wrote and call its gradients(), in a child. A
        network.py byte for byte like one an earlier entry ran is imported, not called
        again (the call would only compile the same code once more)."""
        source = (out / "network.py").read_bytes()
        same_as = self.called.get(source)
        record = self.forked_call(lambda: import_and_call(out, arch, call=same_as is None),
                                  max(limit, 1.0))
        if record["outcome"] == "ok" and same_as is None:
            self.called[source] = entry["id"]
        return {"import": {**record, "same_module_as": same_as},
                "outcome": "ok" if record["outcome"] == "ok" else f"import {record['outcome']}"}


# -- the harness's own check ----------------------------------------------------------------------

SELFTEST = ("marker", "hang", "raise", "symprop-error", "leak", "leak-in-latex", "cli-usage",
            "cli-crash", "cli-ok", "cli-leak-in-files", "import-call")


def selftest(work: Path, marker_dir: Path) -> None:
    """Cases that misbehave on purpose, symprop not being broken for it: the test checks that
    each is reported as what it is (and that a run goes on after a hang). The last ones check
    that real outputs are searched (a LaTeX derivation, exported modules: each searched for a
    string it holds) and that an exported module is imported and called."""
    runner = Runner("selftest", work, marker_dir)
    marker = Path(runner.marker)
    exported = work / "out" / "selftest"
    preload()
    import symprop

    def make_marker():
        marker.write_text("code ran")

    def hang():
        time.sleep(60)

    def raise_other():
        raise KeyError("not a symprop error")

    def raise_symprop():
        raise symprop.FormulaError("refused")

    calls = {"marker": make_marker, "hang": hang, "raise": raise_other,
             "symprop-error": raise_symprop, "leak": lambda: [f"... {marker} ..."],
             "leak-in-latex": lambda: [symprop.activation(FORMULA).derivation().latex()],
             "import-call": lambda: import_and_call(exported, "2-1:sigmoid")}
    argvs = {"cli-usage": ["derive"],  # argparse: a usage line, then its error
             "cli-crash": ["derive", "sigmoid"],  # run as a module that does not exist
             "cli-ok": ["derive", "sigmoid"],
             "cli-leak-in-files": ["kernels", f"--out={exported}", "--", "2-1:sigmoid"]}
    # strings that those real outputs hold: the searches must find them
    also_forbidden = {"leak-in-latex": ["tanh"], "cli-leak-in-files": ["njit"]}
    for name in SELFTEST:
        limit = 1.0 + GRACE_S if name == "hang" else 20.0 + GRACE_S
        forbidden = runner.forbidden + also_forbidden.get(name, [])
        runner.emit(event="start", entry=f"selftest-{name}", probe=name)
        runner.count += 1
        if name in calls:
            record = runner.forked_call(calls[name], limit, forbidden)
        else:
            out, err = work / "results" / f"{name}.out", work / "results" / f"{name}.err"
            module = "hostile_no_such_module" if name == "cli-crash" else "symprop"
            status, seconds = run_forked(cli_case(argvs[name], out, err, module), limit)
            record = {"exit_code": status, "seconds": round(seconds, 3),
                      "outcome": {0: "ok", 2: "error"}.get(status, f"exit {status}"),
                      **cli_streams(out, err, exported, forbidden)}
        runner.emit_result(f"selftest-{name}", name, record)
    runner.emit_done()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("door", choices=(*DOORS, "selftest"))
    parser.add_argument("--work", type=Path, required=True, help="a scratch folder")
    parser.add_argument("--marker-dir", type=Path, required=True,
                        help="an empty folder: the children's cwd, where payloads write")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--only", nargs="*", help="run only these entry ids")
    parser.add_argument("--exec-cli", action="store_true",
                        help="cli door: real `python -m symprop` processes, not forks")
    args = parser.parse_args(argv)
    os.chdir(args.marker_dir)
    if args.door == "selftest":
        selftest(args.work, args.marker_dir)
    else:
        Runner(args.door, args.work, args.marker_dir, args.corpus, args.exec_cli).run(
            set(args.only) if args.only else None)


if __name__ == "__main__":
    main()
