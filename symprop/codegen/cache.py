"""The on-disk cache of generated modules.

Each generated module is a real ``.py`` file (so Numba's ``cache=True`` can store its machine
code beside it) named by a hash of everything that produced it. Files are written atomically
(temporary file, then rename), so a second process building the same kernels at the same
time at worst writes identical bytes twice. The first line of every module carries a
checksum of the rest; a module whose checksum does not match (truncated, edited, corrupted)
is never imported: it is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from symprop.codegen.numba_startup import defer_scipy_blas_probe
from symprop.errors import CacheError
from symprop.io import write_atomically

CHECKSUM_PREFIX = "# symprop-checksum: "
_PACKAGE = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """``SYMPROP_CACHE_DIR`` if set, else the platform's user cache folder."""
    override = os.environ.get("SYMPROP_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "symprop"


def _source_fingerprint() -> str:
    """A hash of the derive and codegen sources and templates: any change to the code that
    produces kernels invalidates every cached module."""
    digest = hashlib.sha256()
    paths = [_PACKAGE / "catalog.py", _PACKAGE / "architecture.py"]
    for folder in ("derive", "codegen"):
        paths += sorted((_PACKAGE / folder).rglob("*"))
    for path in paths:
        if path.suffix in (".py", ".j2"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


_FINGERPRINT: str | None = None


def cache_key(*parts: object) -> str:
    global _FINGERPRINT
    if _FINGERPRINT is None:
        _FINGERPRINT = _source_fingerprint()
    import numba

    digest = hashlib.sha256()
    for part in (_FINGERPRINT, numba.__version__, sys.version_info[:2], *parts):
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def with_checksum(source: str) -> str:
    body = source if source.endswith("\n") else source + "\n"
    return CHECKSUM_PREFIX + hashlib.sha256(body.encode()).hexdigest() + "\n" + body


def is_intact(path: Path) -> bool:
    """Does the file's first-line checksum match the rest of it?"""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    first, _, body = data.partition(b"\n")
    if not first.startswith(CHECKSUM_PREFIX.encode()):
        return False
    expected = first[len(CHECKSUM_PREFIX):].decode(errors="replace").strip()
    return hashlib.sha256(body).hexdigest() == expected


def load_module(key: str, render: Callable[[], str], folder: Path | None = None) -> ModuleType:
    """The module cached under ``key``, rendering (and writing) it first if it is missing or
    not intact. ``render`` is only called on a miss, so a warm start derives nothing."""
    folder = folder or cache_dir()
    path = folder / f"symprop_{key}.py"
    if not is_intact(path):
        write_atomically(path, with_checksum(render()).encode())
        if not is_intact(path):
            raise CacheError(f"kernel cache file {path} could not be written intact")
    name = f"symprop_generated_{key}"
    if name in sys.modules:
        return sys.modules[name]
    defer_scipy_blas_probe()  # before the module's first Numba function is compiled or loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CacheError(f"cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    module.__symprop_path__ = str(path)
    return module
