"""Running ``python -m symprop`` in a subprocess, and what its one-line errors must look like
(shared by the tests of errors through every door)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None, path_first=()) -> subprocess.CompletedProcess:
    """``python -m symprop ARGS`` with this checkout first on the path (after the folders of
    ``path_first``: stand-in packages) and the session's kernel cache (SYMPROP_CACHE_DIR, set
    by conftest's kernel_cache fixture)."""
    path = [*map(str, path_first), str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run([sys.executable, "-m", "symprop", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def assert_cli_error(run: subprocess.CompletedProcess, *fragments) -> str:
    """Exit code 2, exactly one line on stderr, ``symprop: error: ...``, no traceback, and
    every fragment (the user's path, the argument at fault) in that line. Returns the line."""
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symprop: error: "), run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr)
    for fragment in fragments:
        assert str(fragment) in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]
