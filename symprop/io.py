"""Atomic file writes: a temporary file in the same folder, flushed, then renamed over the
target, so a reader never sees a half-written model, kernel module or document.

Every file symprop writes (models, plots, LaTeX, exported kernels, cache modules) gets the
permissions any program's new file gets, ``0o666 & ~umask``; a file that is replaced keeps
the permission bits it had, as it would if a program rewrote it in place. Every failure is a
:class:`~symprop.errors.FileError` that names the user's path (never the temporary file) and
why, and no temporary file is left behind. Missing folders are not created: a path in a
folder that does not exist is the user's mistake to hear about.

A writer holds an exclusive ``flock`` on its temporary file until the rename, so that
:func:`remove_stale_temporary_files` can tell a live writer's file (locked) from one a
killed writer left (unlocked) and never removes the former.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
import time

from symprop.errors import FileError

try:  # POSIX only: Windows has no flock and no permission bits to set
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

TEMPORARY_PREFIX = ".tmp-"


def write_atomically(path, data: bytes) -> None:
    """Write ``data`` to ``path`` (replacing it whole, or not at all)."""
    target = os.fspath(path)
    if "\0" in str(target):
        raise FileError(f"cannot write {target!r}: a path has no NUL characters")
    folder = os.path.dirname(os.path.abspath(target))
    if os.path.isdir(target):  # before writing what could be a large file for nothing
        raise _file_error(target, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    tmp = None
    try:
        mode = _mode_for(target)
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX,
                                       suffix=os.path.splitext(target)[1])
        with os.fdopen(handle, "wb") as stream:
            _lock(stream.fileno())  # released when the file is closed, after the rename
            if mode is not None:
                _set_mode(stream.fileno(), mode)  # mkstemp's 0600 otherwise
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
            if fcntl is not None:  # renamed while still locked (Windows renames no open file)
                os.replace(tmp, target)
                tmp = None
        if tmp is not None:
            os.replace(tmp, target)
            tmp = None
    except OSError as exc:
        raise _file_error(target, exc) from exc
    finally:
        if tmp is not None:  # any failure, KeyboardInterrupt included: leave nothing behind
            try:
                os.unlink(tmp)
            except OSError:
                pass


def check_file_target(what: str, path, example: str | None = None) -> None:
    """Refuse, before any work is done, a path that cannot take a file: its folder must
    exist (and be a folder), and the path must not be a folder itself. ``what`` names the
    path in the message (an option, "results file"); ``example``: a file name to suggest
    where a folder was given."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        problem = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise FileError(f"{what} {path}: its folder {folder} {problem}")
    if os.path.isdir(path):
        hint = f"; give a file name, e.g. {os.path.join(path, example)}" if example else ""
        raise FileError(f"{what} {path} is a folder{hint}")


def new_file_mode() -> int:
    """The permission bits of a new file, as ``open()`` would create it: 0o666 & ~umask."""
    return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's
    /proc/self/status, read each time: a program may set its umask after importing
    symprop). Elsewhere ``os.umask`` must be set to read it, which races with threads that
    create files meanwhile: that is done once per process, under a lock, setting the most
    private umask for the instant it takes."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    global _FALLBACK_UMASK
    with _UMASK_LOCK:
        if _FALLBACK_UMASK is None:
            _FALLBACK_UMASK = os.umask(0o077)
            os.umask(_FALLBACK_UMASK)
        return _FALLBACK_UMASK


_UMASK_LOCK = threading.Lock()
_FALLBACK_UMASK: int | None = None


def remove_stale_temporary_files(folder, older_than_s: float = 3600.0) -> list[str]:
    """Remove the temporary files that killed writers left in ``folder`` (names starting
    with ``.tmp-``): those not modified for ``older_than_s`` seconds and not locked by a
    live writer (see the module docstring). Returns the names removed; errors are ignored
    (another process may be cleaning the same folder)."""
    removed = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TEMPORARY_PREFIX)]
    except OSError:
        return removed
    limit = time.time() - older_than_s
    for name in names:
        path = os.path.join(folder, name)
        try:
            # Never through a symlink, and never blocking (on a FIFO someone put there).
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue  # renamed by its writer meanwhile, or not ours to open
        stale = False
        try:
            info = os.fstat(handle)
            # Unlocked: no live writer holds it (checked while we hold the lock ourselves).
            stale = (stat.S_ISREG(info.st_mode) and info.st_mtime <= limit
                     and _try_lock(handle))
            if stale and fcntl is not None:
                os.unlink(path)  # still holding the lock
        except OSError:
            stale = False
        finally:
            os.close(handle)
        if stale and fcntl is None:  # Windows removes no open file; no locks there anyway
            try:
                os.unlink(path)
            except OSError:
                stale = False
        if stale:
            removed.append(name)
    return removed


def _lock(handle: int) -> None:
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without flock: the age rule alone protects the file


def _try_lock(handle: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # no flock here: the age rule decides
    return True


def _set_mode(handle: int, mode: int) -> None:
    try:
        os.fchmod(handle, mode)
    except OSError:
        pass  # a file system without POSIX modes (FAT, some network mounts): write anyway


def _mode_for(target: str) -> int | None:
    """The mode the written file gets: the replaced file's permission bits, else a new
    file's. None where there are no POSIX modes to set."""
    if not hasattr(os, "fchmod"):
        return None
    try:
        info = os.stat(target)
    except OSError:
        return new_file_mode()
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode) & 0o777
    return new_file_mode()


_REASONS = {
    errno.EACCES: "permission denied (you cannot write to that folder)",
    errno.EPERM: "permission denied (you cannot write to that folder)",
    errno.EISDIR: "it is a folder; give a file name",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.ENAMETOOLONG: "the name is too long",
}
if hasattr(errno, "EDQUOT"):
    _REASONS[errno.EDQUOT] = "the disk quota is exceeded"


def _file_error(target: str, exc: OSError) -> FileError:
    """The user's error for ``exc``: names ``target`` and the reason, never the temporary
    file (whose name an OSError's own message would show)."""
    folder = os.path.dirname(os.path.abspath(target))
    if exc.errno == errno.ENOENT:
        reason = f"the folder {folder} does not exist; create it first"
    elif exc.errno == errno.ENOTDIR:
        reason = f"{_not_a_folder(folder)} is a file, not a folder"
    else:
        reason = _REASONS.get(exc.errno, exc.strerror or str(exc) or type(exc).__name__)
    return FileError(f"cannot write {target}: {reason}")


def _not_a_folder(folder: str) -> str:
    """The deepest existing part of ``folder``: the file that stands where a folder should."""
    while folder and not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder
