"""The LLVM level generated functions compile at (symprop/codegen/numba_opt.py): 1 for
their own compilation, including the kernels run() calls, and Numba's level everywhere else."""

from __future__ import annotations

import types

import numpy as np
import pytest
from numba import njit
from numba.core import codegen, config

from symprop.architecture import parse_architecture
from symprop.codegen.build import build_network_module
from symprop.codegen.numba_opt import (
    GENERATED_OPT_LEVEL,
    compile_at_level,
    optimization_level,
)


@pytest.fixture
def levels_seen(monkeypatch):
    """The LLVM level of every pass pipeline Numba builds from here on."""
    seen = []
    build = codegen.JITCPUCodegen._pass_builder

    def recording(self, **kwargs):
        seen.append(int(kwargs.get("opt", config.OPT)))
        return build(self, **kwargs)

    monkeypatch.setattr(codegen.JITCPUCodegen, "_pass_builder", recording)
    monkeypatch.delenv("NUMBA_OPT", raising=False)
    return seen


def _module_with_functions(name: str) -> types.ModuleType:
    """A module of its own with a Numba function calling another (each new per test, so
    that each compiles while the test watches)."""
    module = types.ModuleType(name)
    source = ("from numba import njit\n"
              "@njit\ndef inner(x):\n    return x * 2.0\n"
              "@njit\ndef outer(x):\n    return inner(x) + 1.0\n")
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - test source
    return module


def test_a_modules_functions_and_what_they_compile_use_the_level(levels_seen):
    module = _module_with_functions("symprop_test_levels_a")
    assert compile_at_level(module) == 2
    before = config.OPT
    assert module.outer(1.5) == 4.0
    assert config.OPT == before  # restored
    # outer's own pipelines and inner's, compiled while outer was typed (the cheap
    # pre-pass Numba runs at level 0 stays)
    assert levels_seen and set(levels_seen) <= {0, GENERATED_OPT_LEVEL}
    assert GENERATED_OPT_LEVEL in levels_seen


def test_other_functions_keep_numbas_level(levels_seen):
    @njit
    def elsewhere(x):
        return x - 1.0

    module = _module_with_functions("symprop_test_levels_b")
    compile_at_level(module)
    module.outer(1.0)
    levels_seen.clear()
    assert elsewhere(3.0) == 2.0
    assert int(config.OPT) in levels_seen and GENERATED_OPT_LEVEL not in levels_seen


def test_a_level_the_user_set_is_left_alone(monkeypatch):
    monkeypatch.setenv("NUMBA_OPT", "3")
    module = _module_with_functions("symprop_test_levels_c")
    assert compile_at_level(module) == 0
    assert "_compile_for_args" not in vars(module.outer)


def test_the_level_is_restored_when_compiling_fails():
    before = config.OPT
    with pytest.raises(ZeroDivisionError), optimization_level(GENERATED_OPT_LEVEL):
        assert int(config.OPT) == GENERATED_OPT_LEVEL
        raise ZeroDivisionError
    assert config.OPT == before and type(config.OPT) is type(before)


def test_generated_modules_load_with_the_level(levels_seen, tmp_path, monkeypatch):
    """Through the cache: run() and its kernels compile at the level, and train."""
    monkeypatch.setenv("SYMPROP_CACHE_DIR", str(tmp_path))
    module = build_network_module(parse_architecture("3-4:tanh-2:softmax"), "ce",
                                  dtype="float64")
    assert "_compile_for_args" in vars(module.run)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), np.eye(2)[rng.integers(0, 2, 8)]
    params = [rng.standard_normal((3, 4)), np.zeros(4), rng.standard_normal((4, 2)),
              np.zeros(2)]
    batches, step, status = module.train_epoch(X, Y, np.arange(8), 4, 0, 0.0, np.empty(2),
                                               *params, 0.1, 0.0)
    assert (batches, step, status) == (2, 2, 0)
    assert GENERATED_OPT_LEVEL in levels_seen and 3 not in levels_seen
