"""The on-disk kernel cache: where it lives, what its keys depend on, warm starts in a second
process (Numba's cache hit, nothing re-rendered), corrupted files rebuilt, and several
processes building the same module at once.

Every test works in a temporary SYMPROP_CACHE_DIR; child processes get it explicitly.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import cache_dir_env  # noqa: E402

from symprop.architecture import parse_architecture
from symprop.codegen import cache
from symprop.codegen.build import (
    build_activation_module,
    build_network_module,
)
from symprop.codegen.cache import (
    CHECKSUM_PREFIX,
    cache_dir,
    cache_key,
    is_intact,
    load_module,
    with_checksum,
    write_atomically,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def module_cache_dir(tmp_path_factory):
    """The default cache folder of this file's in-process builds."""
    with cache_dir_env(tmp_path_factory.mktemp("symprop-cache")) as folder:
        yield folder


def child_env(folder: Path, **extra) -> dict[str, str]:
    env = dict(os.environ)
    env["SYMPROP_CACHE_DIR"] = str(folder)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_child(code: str, folder: Path, *args: str, timeout: float = 120, **env) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          env=child_env(folder, **env), cwd=str(REPO), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"child failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def forget(module) -> None:
    """Drop an imported generated module so that the next load imports the file again."""
    sys.modules.pop(module.__name__, None)


# ----------------------------------------------------------------------------------------
# Where the cache lives, and its keys
# ----------------------------------------------------------------------------------------

def test_cache_dir_honours_symprop_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMPROP_CACHE_DIR", str(tmp_path / "kernels"))
    assert cache_dir() == tmp_path / "kernels"
    module = build_activation_module(["relu"], "float64")
    assert Path(module.__symprop_path__).parent == tmp_path / "kernels"
    assert Path(module.__symprop_path__).name.startswith("symprop_")
    assert is_intact(Path(module.__symprop_path__))

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SYMPROP_CACHE_DIR", "~/symprop-kernels")
    assert cache_dir() == tmp_path / "home" / "symprop-kernels"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout is for Linux")
def test_cache_dir_default_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SYMPROP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "symprop"


def test_cache_key_depends_on_every_part():
    base = cache_key("network", "4-8:relu-3:softmax", "ce", "float32")
    assert base == cache_key("network", "4-8:relu-3:softmax", "ce", "float32")
    assert len({base,
                cache_key("network", "4-8:relu-3:softmax", "ce", "float64"),
                cache_key("network", "4-8:relu-3:softmax", "mse", "float32"),
                cache_key("network", "4-9:relu-3:softmax", "ce", "float32"),
                cache_key("activations", "4-8:relu-3:softmax", "ce", "float32")}) == 5


NET = "4-8:relu-3:softmax"


def network_path(arch=NET, loss="ce", optimizer="sgd", options=None, dtype="float32",
                 matmul="auto") -> Path:
    module = build_network_module(parse_architecture(arch), loss, optimizer, options or {},
                                  dtype, matmul)
    return Path(module.__symprop_path__)


def test_network_keys_follow_the_structure_not_the_values(module_cache_dir):
    base = network_path()
    assert base.parent == module_cache_dir
    different = {
        "dtype": network_path(dtype="float64"),
        "width": network_path(arch="4-9:relu-3:softmax"),
        "activation": network_path(arch="4-8:tanh-3:softmax"),
        "loss": network_path(loss="mse"),
        "optimizer": network_path(optimizer="adam"),
        "momentum": network_path(options={"momentum": 0.9}),
        "weight decay": network_path(options={"weight_decay": 1e-4}),
        "matmul": network_path(matmul="blas"),
    }
    paths = [base, *different.values()]
    assert len(set(paths)) == len(paths), different
    # Values that are kernel arguments (lr, the momentum's value) share one module.
    assert network_path(options={"lr": 0.5}) == base
    assert network_path(options={"momentum": 0.5}) == different["momentum"]
    assert "hp_momentum" in different["momentum"].read_text()
    assert "hp_momentum" not in base.read_text()
    assert "float64" in different["dtype"].read_text()
    for path in paths:
        assert is_intact(path)


def test_activation_keys_differ_by_dtype_and_activations():
    paths = {Path(build_activation_module(specs, dtype).__symprop_path__)
             for specs, dtype in [(["relu"], "float32"), (["relu"], "float64"),
                                  (["tanh"], "float32"), (["relu", "tanh"], "float32")]}
    assert len(paths) == 4


# ----------------------------------------------------------------------------------------
# Warm start in a second process
# ----------------------------------------------------------------------------------------

WARM_CHILD = """
import json, sys
import numpy as np
from numba.core.dispatcher import Dispatcher
from symprop.codegen import build, cache
from symprop.architecture import parse_architecture

def no_render(*args, **kwargs):
    raise RuntimeError("the module was rendered again")

build.network_source = no_render  # a warm start must not derive or render anything
arch, fingerprint = sys.argv[1], sys.argv[2]
if cache._source_fingerprint() != fingerprint:
    print(json.dumps({"sources_changed": True}))
    sys.exit(0)
module = build.build_network_module(parse_architecture(arch), "bce", "sgd", {}, "float64")
layers = parse_architecture(arch)
X = np.linspace(-1.0, 1.0, 5 * layers[0].n_in).reshape(5, -1)
Y = (np.arange(5 * layers[-1].n_out).reshape(5, -1) % 2).astype(np.float64)
params = []
for layer in layers:
    params += [np.linspace(-0.5, 0.5, layer.n_in * layer.n_out).reshape(layer.n_in, -1),
               np.full(layer.n_out, 0.1)]
grads = [np.empty_like(p) for p in params]
loss = module.gradients(X, Y, *params, *grads)
# Every Numba function of the module that this call compiled or loaded.
own = [obj for obj in vars(module).values() if isinstance(obj, Dispatcher)
       and obj.py_func.__module__ == module.__name__]
used = [obj for obj in own if obj.signatures and obj.stats.cache_path is not None]
# Helpers only compiled code calls: no cache of their own, compiled into their callers'.
inner = [obj for obj in own if obj.signatures and obj.stats.cache_path is None]
from symprop.codegen import blas
print(json.dumps({"path": module.__symprop_path__, "loss": loss,
                  "libraries": module.__symprop_libraries__,
                  "gemm_compiled": len(blas.gemm_float64.signatures),
                  "inner_compiled": len(inner),
                  "scipy_linalg_imported": "scipy.linalg" in sys.modules,
                  "grads": [g.tolist() for g in grads],
                  "used": len(used),
                  "hits": sum(sum(d.stats.cache_hits.values()) for d in used),
                  "misses": sum(sum(d.stats.cache_misses.values()) for d in used),
                  "cache_paths": sorted({str(d.stats.cache_path) for d in used})}))
"""


@pytest.mark.parametrize("arch", ["3-2:sigmoid", "4-32:tanh-1:sigmoid"],
                         ids=["loops", "direct-blas"])
def test_second_process_hits_numbas_cache_and_renders_nothing(tmp_path, arch):
    folder = tmp_path / "warm"
    fingerprint = cache._source_fingerprint()
    # First process: builds, renders and compiles (a Numba cache miss, then written).
    first = run_child(WARM_CHILD.replace("build.network_source = no_render", "pass"), folder,
                      arch, fingerprint)
    if first.get("sources_changed"):
        pytest.skip("symprop's sources changed while the test ran")
    assert first["used"] >= 1 and first["misses"] >= 1 and first["hits"] == 0
    assert Path(first["path"]).parent == folder
    assert first["cache_paths"] == [str(folder / "__pycache__")]
    assert any(name.endswith(".nbi") for name in os.listdir(folder / "__pycache__"))
    before = snapshot(folder)

    second = run_child(WARM_CHILD, folder, arch, fingerprint)
    if second.get("sources_changed"):
        pytest.skip("symprop's sources changed while the test ran")
    assert second["path"] == first["path"]
    assert second["used"] >= 1 and second["hits"] >= 1, second
    assert second["misses"] == 0, second
    # The BLAS wrappers (not cached themselves) are compiled into the cached kernels: a warm
    # process loads those and compiles nothing, not even the wrappers.
    assert second["gemm_compiled"] == 0 and second["inner_compiled"] == 0
    # Numba's set-up ran without its SciPy BLAS probe (0.25 s of a warm start).
    assert second["scipy_linalg_imported"] is False
    assert second["loss"] == first["loss"] and second["grads"] == first["grads"]
    # Nothing was written: no re-rendered module, no recompiled Numba cache.
    assert snapshot(folder) == before


# ----------------------------------------------------------------------------------------
# Corrupted files
# ----------------------------------------------------------------------------------------

def _flip(text: str) -> str:
    """Change one character in the middle of the body."""
    head, _, body = text.partition("\n")
    middle = len(body) // 2
    while not body[middle].isalnum():
        middle += 1
    swapped = "x" if body[middle] != "x" else "y"
    return head + "\n" + body[:middle] + swapped + body[middle + 1:]


CORRUPTIONS = {
    "flipped": _flip,
    "truncated": lambda text: text[: len(text) // 2],
    "no checksum line": lambda text: text.partition("\n")[2],
    "bad checksum": lambda text: CHECKSUM_PREFIX + "0" * 64 + "\n" + text.partition("\n")[2],
    "empty": lambda text: "",
    "appended": lambda text: text + "VALUE = 13\n",
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_load_module_rebuilds_a_corrupted_file(tmp_path, kind):
    key = "test_" + uuid.uuid4().hex[:16]
    renders = []

    def render():
        renders.append(1)
        return '"""A generated module."""\n\nVALUE = 42\n\n\ndef twice(x):\n    return 2 * x\n'

    module = load_module(key, render, tmp_path)
    assert module.VALUE == 42 and len(renders) == 1
    path = Path(module.__symprop_path__)
    assert path.read_text().startswith(CHECKSUM_PREFIX) and is_intact(path)
    forget(module)
    assert load_module(key, render, tmp_path).VALUE == 42 and len(renders) == 1  # warm

    path.write_text(CORRUPTIONS[kind](path.read_text()))
    assert not is_intact(path)
    forget(module)
    module = load_module(key, render, tmp_path)
    assert len(renders) == 2, "the corrupted file was used instead of rebuilt"
    assert is_intact(path)
    assert module.VALUE == 42 and module.twice(21) == 42
    assert path.read_text() == with_checksum(render())
    forget(module)


def test_is_intact_checks_the_whole_file(tmp_path):
    path = tmp_path / "module.py"
    assert not is_intact(path)  # missing
    path.write_text(with_checksum("A = 1\n"))
    assert is_intact(path)
    path.write_text(with_checksum("A = 1\n").replace("A = 1", "A = 2"))
    assert not is_intact(path)
    path.write_text("A = 1\n")
    assert not is_intact(path)


def test_write_atomically_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "module.py"
    target.parent.mkdir()  # write_atomically creates no folders (tests/test_cache_safety.py)
    write_atomically(target, b"A = 1\n")
    write_atomically(target, b"A = 2\n")
    assert target.read_text() == "A = 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["module.py"]


@pytest.mark.parametrize("kind", ["flipped kernel", "truncated", "no checksum line"])
def test_corrupted_kernel_module_is_rebuilt_and_computes_correctly(monkeypatch, tmp_path,
                                                                   kind):
    monkeypatch.setenv("SYMPROP_CACHE_DIR", str(tmp_path))
    module = build_activation_module(["tanh"], "float64")
    path = Path(module.__symprop_path__)
    original = path.read_text()
    Z = np.linspace(-3.0, 3.0, 12).reshape(3, 4)
    A = np.empty_like(Z)
    module.tanh_forward(Z, A)
    np.testing.assert_allclose(A, np.tanh(Z), rtol=1e-15)

    if kind == "flipped kernel":  # still valid Python, and wrong: must never be imported
        assert original.count("math.tanh(z)") == 1
        damaged = original.replace("math.tanh(z)", "math.sinh(z)")
    elif kind == "truncated":
        damaged = original[: len(original) // 2]
    else:
        damaged = original.partition("\n")[2]
    path.write_text(damaged)
    assert not is_intact(path)
    forget(module)

    rebuilt = build_activation_module(["tanh"], "float64")
    assert rebuilt is not module and rebuilt.__symprop_path__ == str(path)
    assert is_intact(path) and path.read_text() == original
    A = np.empty_like(Z)
    rebuilt.tanh_forward(Z, A)
    np.testing.assert_allclose(A, np.tanh(Z), rtol=1e-15)
    assert not list(tmp_path.glob(".tmp-*"))
    forget(rebuilt)


# ----------------------------------------------------------------------------------------
# Several processes at once
# ----------------------------------------------------------------------------------------

RACE_CHILD = """
import hashlib, json, os, sys, time
import numpy as np
from symprop.codegen import build
from symprop.architecture import parse_architecture

ready, go, arch = sys.argv[1], sys.argv[2], sys.argv[3]
layers = parse_architecture(arch)
open(ready, "w").close()
deadline = time.time() + 60
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.005)
module = build.build_network_module(layers, "ce", "sgd", {}, "float64")
source = build.network_source(layers, "ce", "sgd", {}, "float64", "auto", "x")
rng = np.random.default_rng(0)
X = rng.standard_normal((6, 3))
Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
params = [rng.standard_normal((3, 3)), rng.standard_normal(3)]
grads = [np.empty_like(p) for p in params]
loss = module.gradients(X, Y, *params, *grads)
print(json.dumps({"path": module.__symprop_path__, "loss": loss,
                  "libraries": module.__symprop_libraries__,
                  "grads": [g.tolist() for g in grads],
                  "source": hashlib.sha256(source.encode()).hexdigest()}))
"""


def test_concurrent_builds_of_the_same_module(tmp_path):
    folder = tmp_path / "race"
    assert not folder.exists()
    go = tmp_path / "go"
    count = 3
    children = []
    for number in range(count):
        ready = tmp_path / f"ready{number}"
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RACE_CHILD), str(ready), str(go),
             "3-3:softmax"],
            env=child_env(folder), cwd=str(REPO), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        children.append((ready, process))
    try:
        deadline = time.time() + 90
        while not all(ready.exists() for ready, _ in children):
            assert time.time() < deadline, "children did not start"
            assert all(p.poll() is None for _, p in children), "a child died while starting"
            time.sleep(0.01)
        go.touch()  # all of them build from here, at the same time
        results = []
        for _, process in children:
            out, err = process.communicate(timeout=180)
            assert process.returncode == 0, f"child failed:\n{out}\n{err}"
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for _, process in children:
            if process.poll() is None:
                process.kill()
                process.wait()

    first = results[0]
    for other in results[1:]:
        assert other["path"] == first["path"]
        assert other["loss"] == first["loss"]
        assert other["grads"] == first["grads"]
        assert other["source"] == first["source"], "renders differ between processes"
    path = Path(first["path"])
    assert path.parent == folder and is_intact(path)
    networks = [p.name for p in folder.glob("symprop_*.py")
                if not p.name.startswith("symprop_kernel_")]
    assert networks == [path.name]
    # its shared kernels beside it, each written whole once, the same in every process
    kernels = sorted(p.name for p in folder.glob("symprop_kernel_*.py"))
    assert kernels and kernels == sorted(Path(p).name for p in first["libraries"])
    assert all(other["libraries"] == first["libraries"] for other in results)
    assert all(is_intact(folder / name) for name in kernels)
    leftovers = [str(p) for p in folder.rglob("*") if p.name.startswith(".tmp-")]
    assert not leftovers
    digest = hashlib.sha256(path.read_bytes().partition(b"\n")[2]).hexdigest()
    assert path.read_text().startswith(CHECKSUM_PREFIX + digest)


CUSTOM_CHILD = """
import json, sys
import numpy as np
from symprop.codegen.build import build_activation_module
from symprop.codegen.kernels import activation_code

formula = sys.argv[1]
module = build_activation_module([formula], "float64")
name = activation_code(formula, "float64").name
Z = np.linspace(-2.0, 2.0, 8).reshape(2, 4)
A = np.empty_like(Z)
getattr(module, name + "_forward")(Z, A)
print(json.dumps({"name": name, "a": A.tolist()}))
"""


def test_custom_activation_module_is_reusable_across_processes(tmp_path):
    formula = "x*tanh(log(1 + exp(x)))"
    first = run_child(CUSTOM_CHILD, tmp_path, formula, PYTHONHASHSEED="1")
    second = run_child(CUSTOM_CHILD, tmp_path, formula, PYTHONHASHSEED="2")
    assert second["name"] == first["name"]
    assert second["a"] == first["a"]
