"""The kernel cache's safety and the files symprop writes (issue 14): a private cache folder
(created 0700, refused when others could write it), files that follow the umask, FileError
for every failed write, Numba's damaged .nbi/.nbc files rebuilt, stale temporary files
removed. Every test works in folders of its own (tmp_path), never the session's cache.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_subprocess import run_cli

import symprop as sp
from symprop import io as symprop_io
from symprop.codegen import cache_folder, numba_cache
from symprop.codegen.cache import load_module
from symprop.errors import CacheError, CachePermissionError, FileError
from symprop.io import current_umask, remove_stale_temporary_files, write_atomically

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

REPO = Path(__file__).resolve().parent.parent
posix_only = pytest.mark.skipif(not cache_folder.CHECKS_PERMISSIONS,
                                reason="Windows has no POSIX owners or modes: not checked there")

PLAIN = '"""A generated module."""\n\nVALUE = 42\n'
KERNELS = '''"""Two functions with Numba's on-disk cache."""

from numba import njit


@njit(cache=True)
def double(x):
    return 2.0 * x


@njit(cache=True)
def negate(x):
    return -x
'''


@contextlib.contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def load_plain(folder, key="plain", renders=None):
    """Load a module without Numba functions from ``folder``, then forget it (so that the
    next call loads from disk again)."""
    def render():
        if renders is not None:
            renders.append(1)
        return PLAIN
    module = load_module(f"safety_{key}", render, folder)
    sys.modules.pop(module.__name__)
    return module


def temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.startswith(".tmp-")]


# -- the cache folder is private --------------------------------------------------------------

@posix_only
def test_a_missing_cache_folder_is_created_0700_and_its_parents_as_usual(tmp_path):
    folder = tmp_path / "home" / ".cache" / "symprop"
    with umask(0o027):
        module = load_plain(folder)
    assert mode(folder) == 0o700
    assert mode(folder.parent) == mode(folder.parent.parent) == 0o750  # 0o777 & ~umask
    assert mode(folder / "__pycache__") == 0o700  # Numba's folder, made before Numba does
    assert mode(module.__symprop_path__) == 0o640  # a cache module follows the umask


@posix_only
@pytest.mark.parametrize("bits", [0o770, 0o775, 0o703, 0o777], ids=oct)
def test_a_cache_folder_others_can_write_is_refused_and_left_alone(tmp_path, monkeypatch,
                                                                   bits):
    monkeypatch.setattr(cache_folder, "group_is_private", lambda gid, uid: False)  # shared
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(bits)
    renders = []
    with pytest.raises(CachePermissionError) as info:
        load_plain(folder, renders=renders)
    message = str(info.value)
    assert str(folder) in message and f"(mode {bits:04o})" in message
    assert ("all users" if bits & 0o002 else "its group") in message
    assert f"chmod 700 {os.path.realpath(folder)}" in message and "SYMPROP_CACHE_DIR" in message
    assert renders == [] and list(folder.iterdir()) == []  # nothing rendered, written, run
    assert mode(folder) == bits  # never "fixed" by symprop: it may hold planted files


@posix_only
def test_a_group_writable_folder_is_accepted_when_the_group_is_the_users_own(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(cache_folder, "group_is_private", lambda gid, uid: True)
    folder = tmp_path / "cache"  # made under umask 002 on a user-private-group system
    folder.mkdir()
    folder.chmod(0o775)
    assert load_plain(folder).VALUE == 42 and mode(folder) == 0o775
    folder.chmod(0o777)  # writable by all users: refused whatever the group
    with pytest.raises(CachePermissionError, match="all users"):
        load_plain(folder)


@posix_only
def test_a_group_is_private_when_the_user_is_its_only_member(monkeypatch):
    import grp
    import pwd

    def user(name, uid, gid):
        return pwd.struct_passwd((name, "x", uid, gid, "", "/home/" + name, "/bin/sh"))

    users = [user("alice", 1000, 1000), user("bob", 1001, 1001)]
    listed = {1000: [], 1001: [], 1002: ["alice"], 1003: []}  # gid -> its listed members
    monkeypatch.setattr(pwd, "getpwall", lambda: users)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: next(u for u in users if u.pw_uid == uid))
    monkeypatch.setattr(grp, "getgrgid",
                        lambda gid: grp.struct_group((f"g{gid}", "x", gid, listed[gid])))
    private = cache_folder.group_is_private.__wrapped__  # not memoised
    assert private(1000, 1000)  # alice's own group: her primary group, nobody else's
    assert not private(1001, 1000)  # bob's primary group
    assert private(1002, 1000)  # lists only alice
    assert not private(1003, 1000)  # no member at all (as setgid programs' groups)
    listed[1000] = ["bob"]
    assert not private(1000, 1000)  # bob listed in alice's group
    assert not private(1004, 1000)  # a group the system does not know (KeyError)


@posix_only
def test_a_cache_folder_another_user_owns_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    owner = folder.stat().st_uid
    monkeypatch.setattr(cache_folder.os, "geteuid", lambda: owner + 4242)
    with pytest.raises(CachePermissionError, match="owned by another user") as info:
        load_plain(folder)
    assert str(folder) in str(info.value) and "SYMPROP_CACHE_DIR" in str(info.value)
    assert list(folder.iterdir()) == []


@posix_only
def test_symlinks_are_judged_by_their_target_and_anything_but_a_folder_refused(tmp_path):
    private, shared = tmp_path / "private", tmp_path / "shared"
    private.mkdir(mode=0o700)
    shared.mkdir()
    shared.chmod(0o777)
    (tmp_path / "to_private").symlink_to(private)
    (tmp_path / "to_shared").symlink_to(shared)
    (tmp_path / "to_nothing").symlink_to(tmp_path / "missing")
    (tmp_path / "a_file").write_text("")

    assert load_plain(tmp_path / "to_private").VALUE == 42
    assert (private / "symprop_safety_plain.py").is_file()
    with pytest.raises(CachePermissionError, match=f"a symlink to {shared}.* all users"):
        load_plain(tmp_path / "to_shared")
    for name in ("to_nothing", "a_file"):
        with pytest.raises(CachePermissionError, match="is not a folder"):
            load_plain(tmp_path / name)
    assert not (tmp_path / "missing").exists()  # a dangling symlink's target is not made
    assert list(shared.iterdir()) == []


@posix_only
@pytest.mark.skipif(sys.platform == "darwin", reason="XDG layout is for Linux")
def test_an_existing_0755_folder_is_accepted_and_only_symprops_own_is_tightened(
        tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"  # SYMPROP_CACHE_DIR: the user's folder, left as it is
    chosen.mkdir()
    chosen.chmod(0o755)
    assert load_plain(chosen).VALUE == 42
    assert mode(chosen) == 0o755

    monkeypatch.delenv("SYMPROP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    own = tmp_path / "xdg" / "symprop"  # as an earlier symprop left it
    own.mkdir(parents=True)
    own.chmod(0o755)
    module = load_module("safety_default", lambda: PLAIN)
    sys.modules.pop(module.__name__)
    assert Path(module.__symprop_path__).parent == own and mode(own) == 0o700


@posix_only
def test_numbas_cache_folder_must_be_private_too(tmp_path, monkeypatch):
    from numba.core import config

    monkeypatch.setattr(cache_folder, "group_is_private", lambda gid, uid: False)  # shared
    if config.CACHE_DIR:
        pytest.skip("NUMBA_CACHE_DIR is set: Numba's folder is not __pycache__")
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__").chmod(0o775)
    with pytest.raises(CachePermissionError, match="Numba cache folder") as info:
        load_plain(folder)
    assert str(folder / "__pycache__") in str(info.value)


# -- files follow the umask -------------------------------------------------------------------

@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002], ids=oct)
def test_a_saved_model_follows_the_umask_and_a_replaced_one_keeps_its_mode(tmp_path, mask):
    net = sp.Network([sp.Dense(2, 1, "sigmoid")], loss="bce", seed=0)
    path = tmp_path / "model.npz"
    with umask(mask):
        assert current_umask() == mask
        net.save(path)
    assert mode(path) == 0o666 & ~mask
    path.chmod(0o604)
    with umask(0o022):
        net.save(path)  # rewritten, as a program that rewrites a file keeps its mode
    assert mode(path) == 0o604


@posix_only
def test_a_plot_follows_the_umask(tmp_path):
    pytest.importorskip("matplotlib")
    from symprop.runtime.plotting import plot_history
    from symprop.runtime.training import History

    history = History()
    history.append({"loss": 1.0})
    history.append({"loss": 0.5})
    with umask(0o027):
        plot_history(history, tmp_path / "loss.png")
    assert mode(tmp_path / "loss.png") == 0o640


@posix_only
def test_derived_latex_and_exported_kernels_follow_the_umask(tmp_path):
    with umask(0o027):  # inherited by the child processes
        derive = run_cli("derive", "sigmoid", "-o", tmp_path / "sigmoid.tex")
        kernels = run_cli("kernels", "2-1:sigmoid", "--loss", "bce", "--out", tmp_path / "k")
    assert derive.returncode == 0, derive.stderr
    assert kernels.returncode == 0, kernels.stderr
    written = [tmp_path / "sigmoid.tex", *sorted((tmp_path / "k").iterdir())]
    assert len(written) >= 3
    assert {p.name: mode(p) for p in written} == {p.name: 0o640 for p in written}


def test_the_umask_is_read_without_changing_it_or_once_where_it_must_be(monkeypatch):
    real_umask, settings = os.umask, []

    def counted_umask(value):
        settings.append(value)
        return real_umask(value)

    with umask(0o037):
        monkeypatch.setattr(symprop_io.os, "umask", counted_umask)
        assert current_umask() == 0o037 and settings == []  # from /proc, where there is one

        def no_proc(*args, **kwargs):
            raise OSError(errno.ENOENT, "no /proc here")

        monkeypatch.setattr(symprop_io, "open", no_proc, raising=False)
        monkeypatch.setattr(symprop_io, "_FALLBACK_UMASK", None)
        assert current_umask() == 0o037 and len(settings) == 2  # set, then restored
        assert current_umask() == 0o037 and len(settings) == 2  # once per process
        assert real_umask(0o037) == 0o037


# -- every failed write is a FileError naming the user's path ---------------------------------

@pytest.mark.parametrize("where", ["missing folder", "onto a folder", "under a file"])
def test_write_atomically_fails_with_a_file_error_naming_the_path(tmp_path, monkeypatch,
                                                                   where):
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("")
    target, reason = {
        "missing folder": (tmp_path / "no" / "such" / "out.npz",
                           f"the folder {tmp_path / 'no' / 'such'} does not exist"),
        "onto a folder": (tmp_path / "a_folder", "it is a folder"),
        "under a file": (tmp_path / "a_file" / "out.npz",
                         f"{tmp_path / 'a_file'} is a file, not a folder"),
    }[where]
    if where == "onto a folder":  # refused before any temporary file is written
        monkeypatch.setattr(symprop_io.tempfile, "mkstemp", None)
    with pytest.raises(FileError) as info:
        write_atomically(target, b"data")
    message = str(info.value)
    assert message.startswith(f"cannot write {target}: ") and reason in message, message
    assert ".tmp-" not in message
    assert not (tmp_path / "no").exists(), "a missing folder was created"
    assert temporaries(tmp_path) == []


def test_a_folder_that_refuses_writes_is_permission_denied(tmp_path):
    if cache_folder.CHECKS_PERMISSIONS and os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir(mode=0o500)
    elif Path("/sys/kernel").is_dir():
        folder = Path("/sys/kernel")  # sysfs makes no files, not even for root
    else:
        pytest.skip("running as root, and no folder that refuses root's writes")
    with pytest.raises(FileError) as info:
        write_atomically(folder / "m.npz", b"data")
    message = str(info.value)
    assert message.startswith(f"cannot write {folder / 'm.npz'}: ")
    assert "permission denied" in message or "read-only" in message, message
    assert ".tmp-" not in message


@pytest.mark.parametrize("failure", ["disk full", "interrupted"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch,
                                                                        failure):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    error = (OSError(errno.ENOSPC, "No space left on device") if failure == "disk full"
             else KeyboardInterrupt())

    def fsync(handle):
        raise error

    monkeypatch.setattr(symprop_io.os, "fsync", fsync)
    expected = FileError if failure == "disk full" else KeyboardInterrupt
    with pytest.raises(expected) as info:
        write_atomically(target, b"new")
    if failure == "disk full":
        assert str(info.value) == f"cannot write {target}: the disk is full"
    assert target.read_bytes() == b"old" and temporaries(tmp_path) == []


# -- stale temporary files --------------------------------------------------------------------

def aged(path: Path, hours: float) -> Path:
    path.write_bytes(b"partial")
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


@pytest.mark.skipif(fcntl is None, reason="no flock on Windows")
def test_stale_temporary_files_are_removed_once_and_fresh_or_locked_ones_kept(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(cache_folder, "_SWEPT", set())
    monkeypatch.setattr(numba_cache, "_SWEPT", set())
    folder = tmp_path / "cache"
    numba_folder = folder / "__pycache__"
    numba_folder.mkdir(mode=0o700, parents=True)
    folder.chmod(0o700)
    stale = aged(folder / ".tmp-abc123.py", 2)
    fresh = aged(folder / ".tmp-def456.npz", 0.5)
    locked = aged(folder / ".tmp-ghi789.py", 2)  # a writer stalled for two hours
    numba_stale = aged(numba_folder / "symprop_x.run-1.py311.nbi.tmp.0123456789abcdef", 48)
    numba_recent = aged(numba_folder / "symprop_x.run-1.py311.1.nbc.tmp.fedcba9876543210", 2)
    foreign = aged(numba_folder / "other.f-1.py311.nbi.tmp.0123456789abcdef", 48)
    with open(locked, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)
        load_plain(folder)
    assert not stale.exists() and not numba_stale.exists()
    assert fresh.exists() and locked.exists() and numba_recent.exists() and foreign.exists()
    later = aged(folder / ".tmp-jkl012.py", 2)
    load_plain(folder, key="plain_again")
    assert later.exists()  # swept once per process, when the folder is first used


@pytest.mark.skipif(fcntl is None, reason="no flock on Windows")
def test_a_sweep_never_removes_a_live_writers_file(tmp_path, monkeypatch):
    sweeps, real_fsync = [], os.fsync

    def sweep_meanwhile(handle):
        (in_progress,) = tmp_path.glob(".tmp-*")
        aged_time = time.time() - 7200
        os.utime(in_progress, (aged_time, aged_time))  # as old as an abandoned one
        sweeps.append(remove_stale_temporary_files(tmp_path))
        real_fsync(handle)

    monkeypatch.setattr(symprop_io.os, "fsync", sweep_meanwhile)
    write_atomically(tmp_path / "model.npz", b"data")
    assert sweeps == [[]] and (tmp_path / "model.npz").read_bytes() == b"data"


# -- Numba's cache files: signed, checked, rebuilt when damaged -------------------------------

def signed_index(version=None) -> bytes:
    import numba

    return (pickle.dumps(version or numba.__version__, protocol=-1)  # Numba's version, then
            + numba_cache.sign(pickle.dumps((b"stamp", {("sig",): "f.1.nbc"}), protocol=4)))


def signed_data() -> bytes:
    return numba_cache.sign(pickle.dumps(("obj", bytes(range(256)) * 40, {"e": 1}), 4))


def unsigned(data: bytes) -> bytes:
    return data[:-numba_cache.TRAILER_LENGTH]


def garble(data: bytes) -> bytes:
    middle = len(data) // 3
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 64]) + data[middle + 64:]


DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "emptied": lambda data: b"",
    "garbled": garble,
    "flipped byte": lambda data: data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1])
    + data[len(data) // 2 + 1:],
    "trailing garbage": lambda data: data + b"garbage",
    "end cut off": lambda data: data[:-10],
}
SHAPE_ONLY = ["truncated", "emptied", "trailing garbage", "end cut off"]  # seen unsigned


@pytest.mark.parametrize("kind", ["nbi", "nbc"])
def test_damage_is_found_in_signed_and_unsigned_files(kind):
    intact = signed_index() if kind == "nbi" else signed_data()
    assert numba_cache.damage(intact, kind) is None
    # Where this Numba signs, an unsigned file is refused (its payload cannot be checked);
    # a Numba whose writer could not be extended has its files checked by shape only.
    assert numba_cache.damage(unsigned(intact), kind) is not None
    assert numba_cache.damage(unsigned(intact), kind, signed_only=False) is None
    for name, spoil in DAMAGE.items():
        assert numba_cache.damage(spoil(intact), kind) is not None, name
        if name in SHAPE_ONLY:  # a garbled payload of an unsigned file looks like any other
            assert numba_cache.damage(spoil(unsigned(intact)), kind,
                                      signed_only=False) is not None, name
    if kind == "nbi":  # its first bytes, unsigned, are this Numba's version
        assert numba_cache.damage(signed_index("0.0.0"), kind) is not None
        assert numba_cache.damage(b"\x00" + intact[1:], kind) is not None


def test_only_the_modules_damaged_files_are_deleted_before_it_runs(tmp_path, monkeypatch):
    from numba.core import config

    if config.CACHE_DIR:
        pytest.skip("NUMBA_CACHE_DIR is set: Numba's folder is not __pycache__")
    numba_folder = tmp_path / "cache" / "__pycache__"
    numba_folder.mkdir(parents=True)
    base = numba_folder / "symprop_safety_plain.f-3.py311"
    damaged, intact = Path(f"{base}.1.nbc"), Path(f"{base}.nbi")
    damaged.write_bytes(signed_data()[:50])
    intact.write_bytes(signed_index())
    others = numba_folder / "symprop_safety_other.f-3.py311.1.nbc"  # another module's
    others.write_bytes(b"garbage")
    load_plain(tmp_path / "cache")
    assert not damaged.exists() and intact.exists() and others.exists()

    damaged.write_bytes(b"")

    def refuse(path, missing_ok=False):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refuse)  # Numba would load it: refused, not used
    with pytest.raises(CacheError, match=f"{damaged} .*cannot be removed"):
        load_plain(tmp_path / "cache")


NUMBA_CHILD = """
import json, sys
from pathlib import Path
from symprop.codegen.cache import load_module
module = load_module("safety_kernels", lambda: sys.argv[2], Path(sys.argv[1]))
values = [module.double(1.5), module.negate(2.0)]
print(json.dumps({"values": values, "stats": {
    name: [sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values())]
    for name, f in (("double", module.double), ("negate", module.negate))}}))
"""


def run_numba_child(folder: Path, numba_dir: Path | None = None) -> dict:
    """Load the two-function module from ``folder`` in a fresh process, call both; returns
    their values and [cache hits, cache misses] of each."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if numba_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_dir)
    done = subprocess.run([sys.executable, "-c", NUMBA_CHILD, str(folder), KERNELS], env=env,
                          cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"child failed ({done.returncode}):\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["values"] == [3.0, -2.0]
    return result["stats"]


def cache_files(folder: Path) -> dict[tuple[str, str], Path]:
    """(function, "nbi" | "nbc") -> its Numba cache file, wherever under ``folder``."""
    found = {}
    for path in folder.rglob("symprop_safety_kernels.*"):
        if path.suffix in (".nbi", ".nbc"):
            found[(path.name.split(".")[1].split("-")[0], path.suffix[1:])] = path
    return found


@pytest.fixture(scope="module")
def primed(tmp_path_factory) -> Path:
    """A cache folder whose module's two functions were compiled and cached by one process."""
    folder = tmp_path_factory.mktemp("primed")
    assert run_numba_child(folder) == {"double": [0, 1], "negate": [0, 1]}
    files = cache_files(folder)
    assert sorted(files) == [("double", "nbc"), ("double", "nbi"), ("negate", "nbc"),
                             ("negate", "nbi")]
    for path in files.values():  # signed by symprop, as Numba wrote them
        assert path.read_bytes()[-numba_cache.TRAILER_LENGTH:].startswith(numba_cache.MAGIC)
    return folder


SCENARIOS = {
    "truncated .nbc": {("double", "nbc"): "truncated"},
    "garbled .nbc": {("negate", "nbc"): "garbled"},  # machine code: crashed Numba before
    "emptied .nbi": {("negate", "nbi"): "emptied"},
    "one of each": {("double", "nbi"): "truncated", ("double", "nbc"): "emptied",
                    ("negate", "nbc"): "garbled"},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_damaged_numba_cache_files_are_rebuilt_in_the_next_run(primed, tmp_path, scenario):
    folder = tmp_path / "cache"
    shutil.copytree(primed, folder)
    damaged = SCENARIOS[scenario]
    for (function, kind), how in damaged.items():
        path = cache_files(folder)[(function, kind)]
        path.write_bytes(DAMAGE[how](path.read_bytes()))

    stats = run_numba_child(folder)
    rebuilt = {function for function, _ in damaged}
    assert stats == {name: [0, 1] if name in rebuilt else [1, 0]
                     for name in ("double", "negate")}, "damaged files were used, or intact ones"
    files = cache_files(folder)
    assert len(files) == 4
    assert all(numba_cache.damage(p.read_bytes(), kind) is None
               for (_, kind), p in files.items())
    if scenario == "one of each":  # and the run after is warm again
        assert run_numba_child(folder) == {"double": [1, 0], "negate": [1, 0]}


def test_damaged_files_under_numba_cache_dir_are_found_and_rebuilt(tmp_path):
    folder, numba_dir = tmp_path / "cache", tmp_path / "numba"
    assert run_numba_child(folder, numba_dir) == {"double": [0, 1], "negate": [0, 1]}
    files = cache_files(numba_dir)
    assert len(files) == 4 and not (folder / "__pycache__").exists()
    path = files[("double", "nbc")]
    path.write_bytes(path.read_bytes()[:100])
    assert run_numba_child(folder, numba_dir) == {"double": [0, 1], "negate": [1, 0]}
    assert numba_cache.damage(path.read_bytes(), "nbc") is None
