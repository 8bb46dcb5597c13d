"""Numba's cached machine code of symprop's modules: signed when written, checked before use.

For each ``cache=True`` function, Numba (numba/core/caching.py) stores an index
``<module file stem>.<qualname>-<first line>.py<major><minor><abiflags>.nbi`` (a pickle of
Numba's version, then a pickle of the source stamp and the data file of each signature) and
one data file per compiled signature, ``<same base>.<n>.nbc`` (a pickle holding the object
code), in the folder its locator picks (``__pycache__`` beside the module, a folder under
``NUMBA_CACHE_DIR``, or the user-wide cache). Numba unpickles them unchecked, so a truncated
file raised UnpicklingError on every later run, and a garbled one loads broken machine code
(tried: overwriting 64 bytes inside the object code crashed three runs of four with a
segmentation fault, and the fourth ran code nobody checked).

What this module adds, for symprop's generated modules only:

- **Signed writes.** After a module is executed, its functions' cache-file writers append a
  trailer to what Numba pickles: ``\\nsymprop-sha256:<hex digest of the pickle>\\n``. Numba
  itself still reads the files (``pickle.loads`` ignores bytes after a pickle's STOP).
- **Checked before the module runs.** Each file of the module in Numba's folder is read
  once, nothing is unpickled: a signed file must match its digest (an index must also start
  with this Numba's version, which Numba writes unsigned before it), which catches
  truncation, garbage, an emptied file and a flipped byte anywhere; an unsigned file (where
  this Numba's writer could not be extended) must be exactly its pickles, walked opcode by
  opcode with pickletools.genops (a truncated pickle never reaches STOP; trailing bytes are
  refused). A file that fails is deleted; Numba then finds no entry, compiles that function
  again and writes it anew.
- **Locations from Numba itself.** The folder comes from a ``FunctionCache`` that Numba
  builds for a stand-in function of the module's file, so it follows Numba's locator rules
  (``NUMBA_CACHE_DIR`` included) without restating them; the module's files are those named
  ``<stem>.`` ... ``.nbi`` or ``.<n>.nbc`` (CacheImpl.get_filename_base and
  IndexDataCacheFile there). That folder must be private too (symprop.codegen.cache_folder):
  the pickles run code when loaded, and its privacy is what protects them; symprop creates
  it 0700 where it can.
- **Stale temporary files.** Numba writes ``<file>.tmp.<16 hex>`` and renames it; a killed
  writer leaves it. Those of symprop's modules untouched for a day are removed once per
  process (Numba's writers hold no lock to ask, and finish in well under a second).

The cost on a warm start is a listing of the folder and a SHA-256 of each of the module's
files (read again by Numba moments later, from the page cache).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import pickle
import time
import types
from pathlib import Path

from symprop.codegen.cache_folder import ensure_private_folder
from symprop.errors import CacheError, SympropError

MAGIC = b"\nsymprop-sha256:"
TRAILER_LENGTH = len(MAGIC) + 64 + 1  # the magic, a hex SHA-256, a newline
NUMBA_FOLDER = "Numba cache folder of symprop's kernels"
_STALE_NUMBA_TEMPORARY_S = 86400.0
_LOG = logging.getLogger(__name__)

# Module folder -> Numba's cache folder for its modules (None: Numba cannot cache there).
_LOCATIONS: dict[str, Path | None] = {}
_SWEPT: set[str] = set()


def discard_damaged_files(module_path: Path) -> list[str]:
    """Check the Numba cache files of the module at ``module_path`` (before it runs) and
    delete those that are damaged; returns their names. Raises CachePermissionError if
    Numba's folder is not private."""
    folder = numba_cache_folder(module_path)
    if folder is None:
        return []
    ensure_private_folder(folder, NUMBA_FOLDER)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    if os.fspath(folder) not in _SWEPT:
        _SWEPT.add(os.fspath(folder))
        _remove_stale_numba_temporaries(folder, names)
    prefix = module_path.stem + "."
    removed = []
    for name in names:
        if not name.startswith(prefix):
            continue
        kind = _kind(name)
        if kind is None:
            continue
        path = folder / name
        try:
            data = path.read_bytes()
        except OSError:
            continue  # replaced or removed meanwhile: Numba copes with a missing file
        problem = damage(data, kind)
        if problem is None:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # removed meanwhile (another process found it damaged too)
        except OSError as exc:  # Numba would load it: refuse instead
            raise CacheError(f"the damaged Numba cache file {path} ({problem}) cannot be "
                             f"removed: {exc.strerror}; delete it by hand") from exc
        _LOG.info("discarded %s (%s): Numba compiles its function again", path, problem)
        removed.append(name)
    return removed


def damage(data: bytes, kind: str, signed_only: bool | None = None) -> str | None:
    """What is wrong with the contents of a Numba cache file (``kind``: "nbi" or "nbc"),
    or None if it is intact. Nothing is unpickled. ``signed_only`` (default: whenever this
    Numba's writer can sign): an unsigned file is refused too, since a garbled object code
    inside a well-formed pickle cannot be told from an intact one."""
    if signed_only is None:
        signed_only = _signed_writer_class() is not None
    pickles = 2 if kind == "nbi" else 1  # an index: Numba's version, then the index itself
    if data.endswith(b"\n") and data[-TRAILER_LENGTH:-65] == MAGIC:
        body, digest = data[:-TRAILER_LENGTH], data[-65:-1]
        start = 0
        if kind == "nbi":  # the version comes first, unsigned: this Numba's, or of no use
            version = _numba_version_pickle()
            if not body.startswith(version):
                return "written by another Numba version, or its start is damaged"
            start = len(version)
        if hashlib.sha256(body[start:]).hexdigest().encode() != digest:
            return "its contents do not match their SHA-256"
        return None
    if signed_only:
        return "not signed (written before symprop signed its cache files, or not by it)"
    try:
        ends = _pickle_ends(data, pickles)
    except Exception as exc:  # whatever stops the walk: damaged
        return f"unreadable: {exc}"
    if ends[-1] != len(data):
        return f"{len(data) - ends[-1]} bytes after its pickles"
    return None


def sign(payload: bytes) -> bytes:
    """``payload`` with the trailer that :func:`damage` checks."""
    return payload + MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"


def sign_cache_writes(module: types.ModuleType) -> int:
    """Make the cache-file writers of ``module``'s own Numba functions sign what they
    write; returns how many were. Call after executing the module, before its functions
    are first called (they compile, or load from the cache, on their first call)."""
    signed_class = _signed_writer_class()
    if signed_class is None:
        return 0
    count = 0
    for value in own_numba_functions(module):
        writer = getattr(getattr(value, "_cache", None), "_cache_file", None)
        if type(writer) is signed_class.__base__:
            writer.__class__ = signed_class
            count += 1
    return count


def own_numba_functions(module: types.ModuleType) -> list:
    """The Numba functions ``module`` defines (not those it imports from elsewhere)."""
    return [value for value in vars(module).values()
            if getattr(getattr(value, "py_func", None), "__module__", None) == module.__name__]


def numba_cache_folder(module_path: Path) -> Path | None:
    """The folder where Numba caches the functions of the module at ``module_path`` (the
    same for every module of one folder), as Numba's own locator picks it."""
    key = os.fspath(module_path.parent)
    if key not in _LOCATIONS:
        _LOCATIONS[key] = _locate(module_path)
    return _LOCATIONS[key]


def _locate(module_path: Path) -> Path | None:
    from numba.core import config
    from numba.core.caching import FunctionCache, _CacheLocator

    # Made private before Numba makes it with the usual permissions (where it would go).
    if config.CACHE_DIR:
        expected = Path(config.CACHE_DIR) / _CacheLocator.get_suitable_cache_subpath(
            os.fspath(module_path))
    else:
        expected = module_path.parent / "__pycache__"
    if not expected.exists():
        try:
            ensure_private_folder(expected, NUMBA_FOLDER)
        except SympropError:
            pass  # Numba's locator then picks another folder, which is checked as well
    code = _stand_in.__code__.replace(co_filename=os.fspath(module_path))
    try:
        cache = FunctionCache(types.FunctionType(code, {}))
    except RuntimeError:  # no locator: Numba will not cache this module's functions at all
        return None
    return Path(cache.cache_path)


def _stand_in():  # pragma: no cover - never called: Numba locates its cache by it
    pass


@functools.cache
def _signed_writer_class():
    """A subclass of Numba's index/data file writer whose pickles carry the trailer; None
    where this Numba has no such writer to extend (files are then checked unsigned)."""
    try:
        from numba.core.caching import IndexDataCacheFile
    except ImportError:
        return None
    if not callable(getattr(IndexDataCacheFile, "_dump", None)):
        return None

    class SignedIndexDataCacheFile(IndexDataCacheFile):
        def _dump(self, obj):
            return sign(super()._dump(obj))

    return SignedIndexDataCacheFile


def _kind(name: str) -> str | None:
    """"nbi" for an index file's name, "nbc" for a data file's (``<base>.<n>.nbc``)."""
    if name.endswith(".nbi"):
        return "nbi"
    if name.endswith(".nbc") and name[:-4].rpartition(".")[2].isdigit():
        return "nbc"
    return None


@functools.cache
def _numba_version_pickle() -> bytes:
    """How Numba starts each index file it writes (``pickle.dump(numba.__version__, f,
    protocol=-1)`` in IndexDataCacheFile._save_index)."""
    import numba

    return pickle.dumps(numba.__version__, protocol=-1)


def _pickle_ends(data: bytes, count: int) -> list[int]:
    """The offsets where each of the first ``count`` pickles in ``data`` ends, found by
    walking their opcodes (ValueError, mostly, if one is cut short or malformed)."""
    import pickletools  # only for unsigned files: not on a warm start's path

    stream, ends = io.BytesIO(data), []
    for _ in range(count):
        if stream.tell() >= len(data):
            raise ValueError("pickle missing (file cut short)")
        for _opcode, _arg, _position in pickletools.genops(stream):
            pass
        ends.append(stream.tell())
    return ends


def _remove_stale_numba_temporaries(folder: Path, names: list[str]) -> None:
    limit = time.time() - _STALE_NUMBA_TEMPORARY_S
    for name in names:
        head, _, tail = name.rpartition(".tmp.")  # Numba's "<file>.tmp.<16 hex digits>"
        if (name.startswith("symprop_") and _kind(head) and len(tail) == 16
                and all(c in "0123456789abcdef" for c in tail)):
            path = folder / name
            try:
                if path.lstat().st_mtime < limit:
                    path.unlink()
            except OSError:
                pass
