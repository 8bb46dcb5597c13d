"""The on-disk cache of generated modules.

Each generated module is a real ``.py`` file (so Numba's ``cache=True`` can store its machine
code beside it) named by a hash of everything that produced it. Files are written atomically
(temporary file, then rename), so a second process building the same kernels at the same
time at worst writes identical bytes twice. The first line of every module carries a
checksum of the rest; a module whose checksum does not match (truncated, edited, corrupted)
or whose syntax tree is not what symprop generates (symprop.codegen.check) is never
imported: it is rebuilt.

The folder is private (symprop.codegen.cache_folder: created 0700, refused when others
could write it), and so is the folder of Numba's cached machine code, whose files are
signed when written and checked before a module runs (symprop.codegen.numba_cache).
Temporary files that killed writers left are removed once per process.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from symprop.codegen.cache_folder import ensure_private_folder, sweep_once
from symprop.codegen.check import check_module
from symprop.codegen.kernel_library import library_imports
from symprop.codegen.numba_cache import discard_damaged_files, sign_cache_writes
from symprop.codegen.numba_linking import bind_kernels_to_callers
from symprop.codegen.numba_opt import compile_at_level
from symprop.codegen.numba_startup import defer_scipy_blas_probe
from symprop.errors import CacheError, UnsafeSourceError
from symprop.io import write_atomically

CHECKSUM_PREFIX = "# symprop-checksum: "
_PACKAGE = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """``SYMPROP_CACHE_DIR`` if set, else the platform's user cache folder."""
    override = os.environ.get("SYMPROP_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return default_cache_dir()


def default_cache_dir() -> Path:
    """symprop's own folder in the platform's user cache folder."""
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


def intact_source(path: Path) -> str | None:
    """The file's text if its first-line checksum matches the rest of it, else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    first, _, body = data.partition(b"\n")
    if not first.startswith(CHECKSUM_PREFIX.encode()):
        return None
    expected = first[len(CHECKSUM_PREFIX):].decode(errors="replace").strip()
    if hashlib.sha256(body).hexdigest() != expected:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def is_intact(path: Path) -> bool:
    """Does the file's first-line checksum match the rest of it?"""
    return intact_source(path) is not None


def _checked_file(path: Path) -> tuple[str, ast.Module] | None:
    """The text of the cached module at ``path`` and its syntax tree, if it is intact and
    passes the structural check; None means: render it again (missing, corrupt, or not what
    symprop generates: whoever wrote it, it is never imported)."""
    source = intact_source(path)
    if source is None:
        return None
    try:
        return source, check_module(source, f"kernel cache file {path}")
    except UnsafeSourceError:
        return None


def load_module(key: str, render: Callable[[], str], folder: Path | None = None,
                split: Callable[[str], tuple[str, list]] | None = None) -> ModuleType:
    """The module cached under ``key``, rendering (and writing) it first if it is missing or
    not intact. ``render`` is only called on a miss, so a warm start derives nothing.
    ``split``: how a rendered module leaves its shared kernels to library modules of their
    own (symprop.codegen.kernel_library.split_source), written beside it where missing.

    The module runs from the very text that was checked: the file is read once, its checksum
    and syntax tree checked (symprop.codegen.check), and that text compiled and executed
    (never a bytecode file or a second read, which could differ from what was checked). The
    kernel libraries it imports are loaded the same way from the same folder first, or, if
    one is missing or damaged, the module is rendered again.

    Before that, the folder must be private (CachePermissionError otherwise) and Numba's
    damaged cache files of the module are deleted (compiled again on first use); after it,
    the module's Numba functions sign the cache files they write."""
    name = f"symprop_generated_{key}"
    # One load at a time in a process: a module is in sys.modules before it has run, and
    # networks share libraries, so another thread could import a library half made.
    with _LOADING:
        if name in sys.modules:
            return sys.modules[name]
        return _load(name, key, render, folder, split)


_LOADING = threading.RLock()


def _load(name: str, key: str, render: Callable[[], str], folder: Path | None,
          split: Callable[[str], tuple[str, list]] | None) -> ModuleType:
    if folder is None:
        folder = cache_dir()
        # symprop's own default folder is made 0700 if an earlier version left it 0755.
        ensure_private_folder(folder, tighten=folder == default_cache_dir())
    else:
        ensure_private_folder(folder)
    sweep_once(folder)
    path = folder / f"symprop_{key}.py"
    checked = _checked_file(path)
    libraries: list[Path] = []
    if checked is not None and not _load_libraries(checked[1], folder, libraries):
        checked = None  # a kernel library it imports is missing or damaged
    if checked is None:
        source = render()
        check_module(source, f"the module rendered for {path}")  # never written otherwise
        source, shared = split(source) if split is not None else (source, [])
        for library in shared:
            _write(folder / f"{library.name}.py", library.source)
        _write(path, source)
        checked = _checked_file(path)
        libraries = []
        if checked is None or not _load_libraries(checked[1], folder, libraries):
            raise CacheError(f"kernel cache file {path} could not be written intact")
    module = _execute(name, path, checked[0])
    module.__symprop_libraries__ = [str(library) for library in libraries]
    return module


def _write(path: Path, source: str) -> None:
    """``source`` checked, then written whole, unless the file already holds it intact
    (it is checked again when it is loaded)."""
    if intact_source(path) != with_checksum(source):
        check_module(source, f"the module rendered for {path}")
        write_atomically(path, with_checksum(source).encode())


def _load_libraries(tree: ast.Module, folder: Path, loaded: list[Path],
                    pending: frozenset[str] = frozenset()) -> bool:
    """Load (checked, from ``folder``) every kernel library the checked ``tree`` imports,
    theirs first; False where one is missing, not intact, or imports itself through others (symprop
    writes no cycle). ``loaded`` gets their paths."""
    for library in library_imports(tree):
        path = folder / f"{library}.py"
        if library in pending:
            return False
        if library in sys.modules:  # loaded before, perhaps from another folder: its file
            path = Path(sys.modules[library].__symprop_path__)
            loaded += [path] if path not in loaded else []
            continue
        checked = _checked_file(path)
        if checked is None or not _load_libraries(checked[1], folder, loaded,
                                                  pending | {library}):
            return False
        _execute(library, path, checked[0])
        loaded.append(path)
    return True


def _execute(name: str, path: Path, checked: str) -> ModuleType:
    """The checked text of ``path`` run as module ``name``."""
    defer_scipy_blas_probe()  # before the module's first Numba function is compiled or loaded
    bind_kernels_to_callers()  # likewise: one copy of each kernel runs (numba_linking.py)
    discard_damaged_files(path)  # Numba compiles again what it no longer finds
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise CacheError(f"cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    # The file's own name: Numba keys its on-disk cache by it and reads the source lines.
    # From text, not the tree: compiling a tree recursed out for networks of 500 layers.
    code = compile(checked, str(path), "exec")
    module.__symprop_path__ = str(path)  # before it is in sys.modules: another thread reads it
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - the checked text of a generated module
    except Exception:
        del sys.modules[name]
        raise
    sign_cache_writes(module)  # before any function compiles, loads or writes its cache
    compile_at_level(module)  # likewise: LLVM's level 1 (numba_opt.py)
    return module
