"""Each contender in a process of its own, commanded from the suite's process.

A library loaded beside another competes with it even when idle: its worker threads spin
for a while after each call (OpenMP, OpenBLAS, XLA's pools), and its allocations and
caches share one address space. The suite therefore prepares every contender of a case in
a child process (``python -m benchmarks.processes CASE CONTENDER ROWS``), which makes the
case's data and initial weights itself (the same seeds: the same rows and weights as every
other child's) and then answers commands on its standard input, one JSON line each way:

- ``{"do": "reset"}``: the initial weights back (untimed);
- ``{"do": "collect"}``: a garbage collection (before a timed run, so that none falls into
  it; not before the 1-step fits that measure fit's cost per call: the collector's walk over
  every object left the caches cold, and a 1-step fit of tiny took 450 us, not 140);
- ``{"do": "run", "steps": S}``: S steps, timed in the child -> ``{"seconds": ...}``. A step
  first, untimed, and the weights reset: a process that waited (for its turn, or the
  suite's pause) starts slow, a tiny 1-step fit 456 us after 10 ms idle against 142 us
  right after another call, so every contender's timed run starts on a core that is awake;
- ``{"do": "params"}``: the weights, written to an .npz file -> ``{"path": ...}``;
- ``{"do": "quit"}``.

Its first line says it is ready (with the contender's facts for the report: threads,
first-call time) or why it could not be prepared. ``ContenderProcess`` is the suite's side:
a stand-in with the contenders' own interface (``reset``, ``run``, ``params``, ``name``,
``info``; and ``collect``), so that the timing code drives it as it would the contender itself. Idle
children wait on a pipe, taking no CPU time. Whatever a library prints goes to the child's
standard error (a file the suite reads only to report a failure), not into the replies.
A child that has not replied within REPLY_SECONDS is taken as hung: killed, and reported
as failed with the tail of its standard error (the suite goes on with the others).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks import ROOT, child_env, stderr_tail

# The longest a reply may take: preparing a contender compiles it (torch.compile's first
# call, a cold symprop build: seconds to a minute); no timed run comes near this.
REPLY_SECONDS = 900.0


class ContenderProcess:
    """Contender ``cls`` prepared for ``case`` (on its first ``rows`` rows) in a child
    process. Raises RuntimeError with the child's reason where it cannot be prepared."""

    def __init__(self, cls, case, rows: int, torch_threads: int | None = None,
                 reply_seconds: float = REPLY_SECONDS):
        self.name = cls.name
        self._reply_seconds = reply_seconds
        self._errors = tempfile.TemporaryFile("w+")
        self._folder = tempfile.mkdtemp(prefix="symprop-bench-")
        command = [sys.executable, "-m", "benchmarks.processes",
                   json.dumps(dataclasses.asdict(case)), cls.name, str(rows), self._folder]
        if torch_threads:
            command.append(str(torch_threads))
        try:
            self._child = subprocess.Popen(command, stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=self._errors,
                                           text=True, env=child_env(), cwd=ROOT)
        except OSError as exc:
            self._errors.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            raise RuntimeError(f"failed to start: {exc}") from exc
        try:
            self.info = self._reply()["ready"]
        except RuntimeError:
            self.close()
            raise

    def reset(self, params=None) -> None:
        """The child's own initial weights (the same as ``params``: the same seed)."""
        self._call(do="reset")

    def collect(self) -> None:
        """A garbage collection in the child."""
        self._call(do="collect")

    def run(self, steps: int) -> float:
        return self._call(do="run", steps=steps)["seconds"]

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        with np.load(self._call(do="params")["path"]) as saved:
            count = len(saved.files) // 2
            return [(saved[f"W{i}"], saved[f"b{i}"]) for i in range(count)]

    def close(self) -> None:
        """Ask the child to quit (kill it after 30 s); its pipes and files go. Idempotent."""
        if self._child.poll() is None:
            try:
                self._send(do="quit")
                self._child.wait(timeout=30)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self._child.kill()
                self._child.wait()
        for stream in (self._child.stdin, self._child.stdout, self._errors):
            stream.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _call(self, **command) -> dict:
        self._send(**command)
        return self._reply()

    def _send(self, **command) -> None:
        self._child.stdin.write(json.dumps(command) + "\n")
        self._child.stdin.flush()

    def _reply(self) -> dict:
        # one request, one line: nothing waits in the pipe's buffer unseen by select
        ready, _, _ = select.select([self._child.stdout], [], [], self._reply_seconds)
        if not ready:
            self._child.kill()
            self._child.wait()
            raise RuntimeError(f"no reply within {self._reply_seconds:g} s (killed): "
                               f"{self._stderr_tail()}")
        line = self._child.stdout.readline()
        try:
            reply = json.loads(line) if line else {"error": f"exited {self._child.wait()}: "
                                                            f"{self._stderr_tail()}"}
        except json.JSONDecodeError:
            reply = {"error": f"replied {line[:200]!r}: {self._stderr_tail()}"}
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def _stderr_tail(self) -> str:
        self._errors.seek(0)
        return stderr_tail(self._errors.read())


def serve(case_json: str, name: str, rows: int, folder: str, torch_threads: int | None) -> None:
    """The child's side: prepare the contender, then answer commands until told to quit."""
    replies = os.fdopen(os.dup(1), "w")  # the protocol's; print() and C libraries: stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(**fields) -> None:
        replies.write(json.dumps(fields) + "\n")
        replies.flush()

    from benchmarks import contenders
    from benchmarks.cases import Case, init_params, make_data

    fields = json.loads(case_json)
    case = Case(**{key: tuple(value) if isinstance(value, list) else value
                   for key, value in fields.items()})
    cls = {c.name: c for c in (*contenders.ALL, *contenders.GPU)}[name]
    reason = contenders.importable(cls)
    if reason is not None:
        reply(error=reason)
        return
    try:
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
        X, y = make_data(case, rows)
        params = init_params(case)
        contender = cls()
        contender.prepare(case, X, y, params)
    except Exception as exc:  # the suite reports it and goes on with the others
        reply(error=f"failed: {type(exc).__name__}: {exc}")
        return
    reply(ready=contender.info)
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "reset":
            contender.reset(params)
            reply(done=True)
        elif command["do"] == "collect":
            gc.collect()
            reply(done=True)
        elif command["do"] == "run":
            contender.run(1)  # untimed, then the weights back: see the module docstring
            contender.reset(params)
            reply(seconds=contender.run(command["steps"]))
        elif command["do"] == "params":
            path = os.path.join(folder, "params.npz")
            np.savez(path, **{f"{kind}{i}": np.asarray(value)
                              for i, pair in enumerate(contender.params())
                              for kind, value in zip("Wb", pair, strict=True)})
            reply(path=path)
        else:
            return


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4],
          int(sys.argv[5]) if len(sys.argv) > 5 else None)
