"""The kernel cache folder is private: created 0700, refused when others could write it.

Code is loaded from this folder: the generated modules (checked before they run, see
symprop.codegen.check) and Numba's cached machine code, whose index and data files are
pickles: unpickling a file runs whatever code it names. Nothing in such a file tells a
planted one from symprop's own, so what protects them is who can write the folder, and this
check is that protection. Like ssh (``~/.ssh``) and pip (its cache), symprop refuses a
folder that another user owns or that others can write, a symlink to one, and anything that
is not a folder, with a :class:`~symprop.errors.CachePermissionError` naming the folder and
the fix. It is one ``stat`` per module loaded (a microsecond or two: not worth memoising,
and a folder changed while a process runs is seen at once).

- A missing folder is created with mode 0700; its parents (``~/.cache``) are created with
  the usual permissions.
- An existing folder of the user's own that no one else can write is accepted as it is:
  caches made 0755 by earlier versions keep working. So do those made 0775 under the umask
  002 of systems with a private group per user (Debian, Ubuntu): a group-writable folder is
  accepted when the user is its group's only member, the rule Debian's OpenSSH applies.
- symprop's default folder (``~/.cache/symprop``, no ``SYMPROP_CACHE_DIR``) is symprop's
  own, so an accepted one is tightened to 0700; a folder the user chose is left as it is.
- A folder others could write is never "fixed" by symprop: it may already hold planted
  files, so the user is asked to look and fix it (``chmod 700``) or to use another folder.
- Only the folder itself is checked, not its parents (``~/.cache``, ``~``).
- Windows has no POSIX owners or modes here: the checks are skipped (the default folder
  lives in the user's own ``%LOCALAPPDATA%``, which Windows' ACLs keep private).
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from symprop.errors import CachePermissionError, FileError
from symprop.io import remove_stale_temporary_files

CHECKS_PERMISSIONS = hasattr(os, "geteuid")  # False on Windows: no POSIX owners or modes
_OWN_FOLDER = "set SYMPROP_CACHE_DIR to a private folder of your own"

# Folders whose stale temporary files were removed in this process (once per folder).
_SWEPT: set[str] = set()


def ensure_private_folder(folder: Path, what: str = "kernel cache folder",
                          tighten: bool = False) -> None:
    """Create ``folder`` (0700) if it is missing, else check that no one but this user can
    write it (see the module docstring). ``tighten``: make an accepted folder 0700
    (symprop's own default folder). Raises CachePermissionError or FileError."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        _create_private(folder, what)
        info = os.stat(folder)
    except OSError as exc:
        raise FileError(f"cannot use the {what} {folder}: {exc.strerror}; {_OWN_FOLDER}"
                        ) from exc
    if not CHECKS_PERMISSIONS:
        return
    problem = folder_problem(info)
    if problem:
        raise CachePermissionError(_refusal(folder, what, problem))
    if tighten and stat.S_IMODE(info.st_mode) & 0o077:
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass  # still safe: no one else can write it


def sweep_once(folder: Path) -> None:
    """Remove the temporary files killed writers left in ``folder``, once per process."""
    key = os.fspath(folder)
    if key not in _SWEPT:
        _SWEPT.add(key)
        remove_stale_temporary_files(folder)


def folder_problem(info: os.stat_result) -> str | None:
    """Why a folder with this ``stat`` cannot hold code this user runs, or None."""
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    user = os.geteuid()
    if info.st_uid != user:
        return f"is owned by another user ({_user_name(info.st_uid)}, not {_user_name(user)})"
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o002:
        return f"can be written by all users (mode {mode:04o})"
    if mode & 0o020 and not group_is_private(info.st_gid, user):
        return f"can be written by its group {_group_name(info.st_gid)} (mode {mode:04o})"
    return None


@functools.cache
def group_is_private(gid: int, uid: int) -> bool:
    """Is user ``uid`` the only member of group ``gid`` (as the group of a user-private-
    group system)? Members are those listing it as their primary group and its listed
    members; a group with none, or one unknown to the system, is not private."""
    try:
        import grp
        import pwd

        group, name = grp.getgrgid(gid), pwd.getpwuid(uid).pw_name
        primary = [entry.pw_uid for entry in pwd.getpwall() if entry.pw_gid == gid]
    except (ImportError, KeyError):
        return False
    members = set(group.gr_mem)
    return bool(primary or members) and set(primary) <= {uid} and members <= {name}


def _refusal(folder: Path, what: str, problem: str) -> str:
    shown = f"{folder}"
    if os.path.islink(folder):
        shown += f" (a symlink to {os.path.realpath(folder)})"
    if problem == "is not a folder":
        return f"the {what} {shown} is not a folder; remove it or {_OWN_FOLDER}"
    if problem.startswith("can be written"):
        fix = f"make it private with `chmod 700 {os.path.realpath(folder)}` or {_OWN_FOLDER}"
    else:
        fix = _OWN_FOLDER
    return (f"the {what} {shown} {problem}: symprop runs the code cached there, so it "
            f"refuses a folder that others could write; {fix}")


def _create_private(folder: Path, what: str) -> None:
    if os.path.islink(folder):  # a symlink to nothing: never create its target
        raise CachePermissionError(_refusal(folder, what, "is not a folder"))
    try:
        os.makedirs(folder.parent, exist_ok=True)
        os.mkdir(folder, 0o700)
    except FileExistsError:
        return  # made meanwhile (another process): checked by the caller like any other
    except OSError as exc:
        raise FileError(f"cannot create the {what} {folder}: {exc.strerror}; "
                        f"{_OWN_FOLDER}") from exc
    if CHECKS_PERMISSIONS:
        os.chmod(folder, 0o700)  # exactly 0700, whatever the umask took away


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _group_name(gid: int) -> str:
    try:
        import grp

        return f"{grp.getgrgid(gid).gr_name} (gid {gid})"
    except (ImportError, KeyError):
        return f"gid {gid}"
