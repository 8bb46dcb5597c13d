"""The LLVM optimization level symprop's generated functions compile at: 1, not Numba's 3.

Numba runs LLVM's pipeline at one level for the whole process (``NUMBA_OPT``, 3 unless set),
with the loop and SLP vectorizers on at every level. For the generated kernels level 1
makes code as fast (benchmarks/README.md, "The gather, narrow layers and LLVM's level") and
compiles it in less time: a fresh cache's first ``symprop train`` 3.09 -> 2.80 s.

Numba has no level per function, but reads ``numba.core.config.OPT`` each time it builds a
pass pipeline (and leaves a value set in the module alone unless a ``NUMBA_`` variable
changes). ``compile_at_level(module)`` has each Numba function of a generated module set it
for its own compilation, which includes what that compiles (the kernels run() calls), and
restore it after, holding Numba's compiler lock throughout so that no other thread's
compilation sees it. A level the user asked for (``NUMBA_OPT`` set) is left as it is.

The level is that of LLVM's optimization passes; machine code is generated at the level
Numba's target machine was made with (3). Numba's on-disk cache does not key its objects by
level: functions cached at one level load as they are under another (the arithmetic is the
same; the trained weights were identical at levels 1 and 3 in a float32 and a float64 run).
Only the environment variable is seen: a level set in ``numba.config`` or Numba's
configuration file is overridden for these functions.
"""

from __future__ import annotations

import functools
import os
import types
from contextlib import contextmanager

from symprop.codegen.numba_cache import own_numba_functions

GENERATED_OPT_LEVEL = 1


def compile_at_level(module: types.ModuleType, level: int = GENERATED_OPT_LEVEL) -> int:
    """Make ``module``'s own Numba functions compile at LLVM level ``level``; returns how many
    were. Call after executing the module, before its functions are first called."""
    if "NUMBA_OPT" in os.environ:
        return 0
    count = 0
    for value in own_numba_functions(module):
        compile_for_args = getattr(value, "_compile_for_args", None)
        if compile_for_args is not None:  # every CPU dispatcher has it
            value._compile_for_args = _at_level(compile_for_args, level)
            count += 1
    return count


def _at_level(compile_for_args, level: int):
    """The dispatcher's compile-on-call (what its first call with new argument types runs,
    to compile or load from the cache) at LLVM level ``level``."""
    @functools.wraps(compile_for_args)
    def compile_for_args_at_level(*args, **kwargs):
        with optimization_level(level):
            return compile_for_args(*args, **kwargs)
    return compile_for_args_at_level


@contextmanager
def optimization_level(level: int):
    """Numba compiles at LLVM level ``level`` inside the block, in this thread alone."""
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:  # re-entrant: the compilation inside takes it again
        saved = config.OPT
        try:
            config.OPT = type(saved)(level)
            yield
        finally:
            config.OPT = saved
