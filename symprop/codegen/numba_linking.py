"""A generated function calls its own copies of the kernels, in every process.

When a Numba function calls another (run() calling the layer kernels), Numba links the
callee's optimized LLVM module into the caller's with the callee's functions made
``linkonce_odr`` (weak symbols in the object code; CPUCodeLibrary._get_module_for_linking),
then optimizes the caller's whole module, so the caller's copy of a kernel is optimized a
second time. With fastmath's ``reassoc`` that second pass may order a sum differently.

Which copy runs was then up to the process:

- the process that compiled run() holds each kernel's own compiled copy, and the JIT's
  linker binds run()'s weak definitions to those: run() calls the once-optimized copies;
- a process that loads run() from Numba's cache loads run()'s object code alone (Numba
  neither compiles nor loads the functions it calls), so run() calls the twice-optimized
  copies it carries, unless something else in the process had compiled the same kernel
  under the same mangled name.

The two then gave gradients that differ in the last bits for some networks (4-32:gelu-3:
sigmoid, float64: 20 of dW2's 96 values, up to 3.5e-18; benchmarks/README.md), so the first
training of a new network could differ from every later one, and a sweep's records from
which of its workers happened to compile a structure.

``bind_kernels_to_callers()`` makes every process run the caller's copies: once Numba has
optimized a library that defines a function of a symprop module, the symprop functions
linked into it (kernels, BLAS wrappers) get internal linkage. Nothing outside the module can
then take their place, and the object code (what the cache stores) is the same either way.
Other libraries, the user's own Numba functions included, are left as Numba makes them.
"""

from __future__ import annotations

import functools
import threading

from symprop.codegen.kernel_library import LIBRARY_PREFIX

# Mangled names of functions of symprop's modules: "_ZN<length><module name>...", a dotted
# name one part at a time.
_SYMPROP_MODULES = ("symprop_generated_", LIBRARY_PREFIX)
_INSTALLED = threading.Event()
_INSTALLING = threading.Lock()


def bind_kernels_to_callers() -> None:
    """Install the internal linkage of linked kernel copies (once per process; idempotent)."""
    if _INSTALLED.is_set():
        return
    with _INSTALLING:
        if _INSTALLED.is_set():
            return
        from numba.core.codegen import CPUCodeLibrary

        # Numba's step between linking a library's callees in and generating its code
        # (numba/core/codegen.py, CPUCodeLibrary.finalize). A Numba without it trains as
        # before (tests/test_cold_warm_bits.py then fails: the two copies can differ).
        optimize = getattr(CPUCodeLibrary, "_optimize_final_module", None)
        if optimize is not None:
            @functools.wraps(optimize)
            def optimize_then_bind(library, *args, **kwargs):
                optimize(library, *args, **kwargs)
                module = getattr(library, "_final_module", None)
                if module is not None:  # (else: as before, never an error in a user's build)
                    internalize_kernel_copies(module)

            CPUCodeLibrary._optimize_final_module = optimize_then_bind
        _INSTALLED.set()


def internalize_kernel_copies(module) -> list[str]:
    """Give the linked copies of symprop functions in ``module`` (an llvmlite ModuleRef)
    internal linkage, where the module defines a function of a symprop module itself (an
    external one); returns the names changed."""
    from llvmlite import binding as llvm

    weak, own = llvm.Linkage.linkonce_odr, llvm.Linkage.external
    defined = [fn for fn in module.functions if not fn.is_declaration]
    # The library's own functions are external when Numba has just optimized it; copies
    # linked in are linkonce_odr, or internal where this made them so in their library.
    if not any(fn.linkage == own and _of_symprop(fn.name) for fn in defined):
        return []
    changed = []
    for fn in defined:
        if fn.linkage == weak and _of_symprop(fn.name):
            fn.linkage = "internal"
            changed.append(fn.name)
    return changed


def _of_symprop(mangled: str) -> bool:
    """Whether a mangled name is that of a function of a symprop module: a generated one, a
    kernel library, or symprop's own package (the BLAS wrappers run() calls)."""
    if not mangled.startswith("_ZN"):
        return False
    rest = mangled[3:]
    digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
    if not digits:
        return False
    first = rest[len(digits):len(digits) + int(digits)]  # the module path's first part
    if len(first) != int(digits):  # a name cut short
        return False
    return first == "symprop" or first.startswith(_SYMPROP_MODULES)
