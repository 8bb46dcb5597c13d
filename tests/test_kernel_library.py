"""Shared kernel modules (symprop.codegen.kernel_library): what a network's module leaves to
them, that a second architecture loads them from Numba's cache instead of compiling them,
and that the cache's libraries are held to the same checks as its network modules."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symprop.codegen.cache import CHECKSUM_PREFIX, with_checksum
from symprop.codegen.check import check_module
from symprop.codegen.kernel_library import LIBRARY_PREFIX, library_imports, split_source
from symprop.errors import UnsafeSourceError

REPO = Path(__file__).resolve().parent.parent

SOURCE = '''"""A module as the templates write it."""

import math

import numpy as np
from numba import njit, prange

TRAIN = 0


@njit(nogil=True)
def _helper(x):
    return math.exp(x)


@njit(nogil=True)
def kernel(A, nb):
    for r in range(nb):
        A[r] = _helper(A[r])


@njit(nogil=True)
def unused(A):
    return A[0]


@njit(nogil=True)
def reads_a_constant(mode):
    return mode == TRAIN


@njit(nogil=True, parallel=True)
def parallel_part(A):
    for t in prange(2):
        kernel(A, 1)


@njit(cache=True, nogil=True)
def run(A, mode):
    kernel(A, A.shape[0])
    parallel_part(A)
    return reads_a_constant(mode)
'''


def _key(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:24]


def test_the_split_moves_what_depends_only_on_imports_and_shared_kernels():
    network, libraries = split_source(SOURCE, _key)
    functions = {lib.function: lib for lib in libraries}
    # kernel and its helper leave; what reads the module's constants, the parallel function
    # and the cached entry point stay; a function nothing calls is dropped with no library
    assert sorted(functions) == ["_helper", "kernel"]
    tree = check_module(network, "the split module")
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert defined == {"reads_a_constant", "parallel_part", "run"}
    assert library_imports(tree) == [functions["kernel"].name]  # _helper only through kernel
    kernel_tree = check_module(functions["kernel"].source, "a library")
    assert library_imports(kernel_tree) == [functions["_helper"].name]
    assert "@njit(cache=True, nogil=True)" in functions["kernel"].source
    assert libraries.index(functions["_helper"]) < libraries.index(functions["kernel"])
    assert all(re.fullmatch(LIBRARY_PREFIX + "[0-9a-f]{24}", lib.name) for lib in libraries)


def test_a_functions_own_names_are_not_taken_for_the_modules():
    """An argument or local named like a shared kernel (or a module constant) is the
    function's own: no import of the kernel into the module that holds it (the checker would
    refuse the argument as a rebinding), and the constant does not keep it in the module."""
    source = SOURCE.replace("def unused(A):\n    return A[0]",
                            "def unused(kernel, TRAIN):\n    return kernel[TRAIN]").replace(
        "    return reads_a_constant(mode)", "    unused(A, 0)\n    return reads_a_constant(mode)")
    network, libraries = split_source(source, _key)
    assert sorted(lib.function for lib in libraries) == ["_helper", "kernel", "unused"]
    unused = next(lib for lib in libraries if lib.function == "unused")
    assert library_imports(check_module(unused.source, "a library")) == []
    check_module(network, "the split module")


@pytest.mark.parametrize(("change", "kept"), [
    # two kernels calling each other: no library can import one that imports it
    (("    return math.exp(x)", "    return kernel(x, 1)"), {"_helper", "kernel"}),
    # a name bound in a module-level if is the module's
    (("TRAIN = 0\n", "TRAIN = 0\nif TRAIN:\n    LIMIT = 1\n"
      ), set()),
    # a default argument is read in the module's scope
    (("def _helper(x):", "def _helper(x, mode=TRAIN):"), {"_helper", "kernel"}),
    # a positional signature: njit(cache=True, "sig") would not parse
    (("@njit(nogil=True)\ndef _helper", "@njit('float64(float64)', nogil=True)\ndef _helper"),
     {"_helper", "kernel"}),
])
def test_what_the_module_reads_keeps_a_kernel_in_it(change, kept):
    source = SOURCE.replace(*change)
    if change[1].startswith("TRAIN = 0\nif"):  # and a kernel reading that name
        source = source.replace("return A[0]", "return A[LIMIT]").replace(
            "    return reads_a_constant(mode)", "    unused(A)\n    return reads_a_constant(mode)")
        kept = {"unused"}
    network, libraries = split_source(source, _key)
    tree = check_module(network, "the split module")
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert kept <= defined
    assert not kept & {lib.function for lib in libraries}
    for library in libraries:
        check_module(library.source, "a library")


def test_a_function_defined_twice_keeps_the_module_whole():
    source = SOURCE + "\n\n@njit(nogil=True)\ndef kernel(A, nb):\n    return nb\n"
    assert split_source(source, _key) == (source, [])


def test_a_library_is_named_by_its_text_and_its_dependencies():
    _, first = split_source(SOURCE, _key)
    _, second = split_source(SOURCE.replace("math.exp(x)", "math.exp(-x)"), _key)
    names = [{lib.function: lib.name for lib in libraries} for libraries in (first, second)]
    assert names[0]["_helper"] != names[1]["_helper"]
    # kernel's own text is the same, but it imports another helper: another library
    assert names[0]["kernel"] != names[1]["kernel"]
    _, again = split_source(SOURCE, _key)
    assert [lib.name for lib in again] == [lib.name for lib in first]


@pytest.mark.parametrize("line", [
    "from symprop_kernel_0123 import kernel",  # not a library's name
    "from symprop_kernel_0123456789abcdef01234567 import kernel as k",
    "from symprop_kernel_0123456789abcdef01234567 import __import__",
    "from symprop_kernel_0123456789abcdef01234567 import np",
    "from .symprop_kernel_0123456789abcdef01234567 import kernel",
    # what numba, numpy or the builtins bind: a library's njit would stand in for numba's
    "from symprop_kernel_0123456789abcdef01234567 import njit",
    "from symprop_kernel_0123456789abcdef01234567 import range",
    "from symprop_kernel_0123456789abcdef01234567 import kernel\n"
    "from symprop_kernel_fedcba9876543210fedcba98 import kernel",  # one name imported twice
])
def test_the_checker_takes_only_plain_imports_of_library_names(line):
    with pytest.raises(UnsafeSourceError):
        check_module(f"{line}\n")
    check_module("from symprop_kernel_0123456789abcdef01234567 import kernel\n")


CHILD = r"""
import json, sys
import numpy as np
import symprop as sp

width = int(sys.argv[1])
net = sp.Network([sp.Dense(6, width, "relu"), sp.Dense(width, 2, "softmax")], loss="ce",
                 dtype="float32", seed=0)
X = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
y = (X[:, 0] > 0).astype(np.int64)
history = net.fit(X, y, epochs=2, batch_size=32, verbose=False)
module = net._module(net._optimizer)
hits, misses = {}, {}
for name, value in vars(module).items():
    stats = getattr(value, "stats", None)
    if stats is not None and value.py_func.__module__ != module.__name__:
        hits[name] = sum(stats.cache_hits.values())
        misses[name] = sum(stats.cache_misses.values())
print(json.dumps({"libraries": module.__symprop_libraries__, "loss": history["loss"],
                  "hits": hits, "misses": misses, "marker": "MARKER" in sys.modules}))
"""


def _child(folder: Path, width: int) -> dict:
    env = dict(os.environ, SYMPROP_CACHE_DIR=str(folder / "symprop"),
               NUMBA_CACHE_DIR=str(folder / "numba"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO),
                                                         os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(width)], env=env,
                          cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_new_architecture_loads_the_shared_kernels_an_earlier_one_compiled(tmp_path):
    """The point of the split: the second network's module is new, its relu and update
    kernels are not: Numba loads them from its cache (hits, no misses)."""
    first = _child(tmp_path, 8)
    second = _child(tmp_path, 9)
    shared = {Path(p).name for p in first["libraries"]} & {
        Path(p).name for p in second["libraries"]}
    assert shared, "no kernel shared by 6-8-2 and 6-9-2"
    assert sum(first["misses"].values()) > 0
    relu = [name for name in second["hits"] if name.startswith("forward_relu")]
    assert relu and all(second["hits"][name] >= 1 and second["misses"][name] == 0
                        for name in relu + ["update_flat"])


def test_a_tampered_library_is_never_imported_and_is_written_again(tmp_path):
    """A library whose checksum holds but whose code symprop never writes (an import of
    sys that marks the process) is refused: the network is rendered again, the library
    rewritten, and the marker never set."""
    first = _child(tmp_path, 8)
    target = Path(first["libraries"][0])
    body = target.read_text().partition("\n")[2]
    evil = "import sys\nsys.modules['MARKER'] = sys\n" + body
    target.write_text(with_checksum(evil))
    again = _child(tmp_path, 8)
    assert again["marker"] is False
    assert again["loss"] == first["loss"]
    assert target.read_text().startswith(CHECKSUM_PREFIX)
    assert "MARKER" not in target.read_text()


def test_a_missing_library_brings_its_network_back(tmp_path):
    first = _child(tmp_path, 8)
    for path in first["libraries"]:
        Path(path).unlink()
    again = _child(tmp_path, 8)
    assert again["loss"] == first["loss"]
    assert all(Path(path).exists() for path in again["libraries"])


def test_libraries_that_import_each_other_are_refused_and_rewritten(tmp_path):
    """A cycle symprop never writes (two libraries importing each other) ends in a render,
    not in endless recursion."""
    first = _child(tmp_path, 8)
    paths = [Path(path) for path in first["libraries"][:2]]
    names = [path.stem for path in paths]
    for path, other in zip(paths, reversed(names), strict=True):
        body = path.read_text().partition("\n")[2]
        path.write_text(with_checksum(f"from {other} import kernel_{other[-4:]}\n" + body))
    again = _child(tmp_path, 8)
    assert again["loss"] == first["loss"]
    assert all(Path(p).read_text().count("import kernel_") == 0 for p in again["libraries"])


RACE = r"""
import sys, threading, time
from symprop.architecture import parse_architecture
from symprop.codegen import build, cache

ARCHS = ("4-8:relu-1:sigmoid", "20-16:relu-1:sigmoid")  # sharing their relu kernels
if sys.argv[1] == "warm":
    for arch in ARCHS:
        build.build_network_module(parse_architecture(arch), "bce")
    sys.exit()
signed = cache.sign_cache_writes
cache.sign_cache_writes = lambda module: time.sleep(0.2) or signed(module)  # a wide window
errors = []

def load(arch):
    try:
        build.build_network_module(parse_architecture(arch), "bce")
    except BaseException as exc:
        errors.append(f"{arch}: {type(exc).__name__}: {exc}")

threads = [threading.Thread(target=load, args=(arch,)) for arch in ARCHS]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print("errors:", errors)
"""


def test_threads_loading_networks_that_share_kernels(tmp_path):
    """Two threads load two networks sharing a kernel library while a library is between
    sys.modules and the end of its set-up (widened to 0.2 s): neither sees it half made."""
    env = dict(os.environ, SYMPROP_CACHE_DIR=str(tmp_path / "symprop"),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO),
                                                         os.environ.get("PYTHONPATH")])))
    for phase in ("warm", "race"):
        done = subprocess.run([sys.executable, "-c", RACE, phase], env=env, cwd=str(REPO),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "errors: []"
