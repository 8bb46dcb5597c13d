"""Side-by-side training benchmarks: symprop against PyTorch eager, scikit-learn, NumPy.

Run ``python -m benchmarks`` from the repository root; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_env(cache_folder: Path | None = None) -> dict[str, str]:
    """This process's environment for a child that imports this checkout (symprop and the
    benchmarks) first; with ``cache_folder``, its own symprop and Numba cache folders."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if cache_folder is not None:
        env["SYMPROP_CACHE_DIR"] = str(cache_folder / "symprop")
        env["NUMBA_CACHE_DIR"] = str(cache_folder / "numba")
    return env


def child_json(arguments: list[str], timeout: float, env: dict | None = None) -> dict:
    """Run ``python ARGUMENTS`` in the repository root and return the JSON object its last
    line of output prints, or {"error": ...} with the end of its stderr."""
    proc = subprocess.run([sys.executable, *arguments], capture_output=True, text=True,
                          env=env or child_env(), cwd=ROOT, timeout=timeout)
    if proc.returncode != 0:
        return {"error": f"child exited {proc.returncode}: {stderr_tail(proc.stderr)}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stderr_tail(text: str) -> str:
    """The last 3 lines of a child's standard error, on one line, for a failure's message."""
    return " / ".join(text.strip().splitlines()[-3:]) or "no output"
