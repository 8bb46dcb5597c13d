"""Matrix products for the generated kernels: numpy's own OpenBLAS, called directly.

Numba's ``np.dot`` goes through SciPy's copy of BLAS (a second OpenBLAS with its own thread
pool) and through argument checks compiled into every kernel that uses it (0.6 s of a cold
start for a 3-layer network). numpy's wheels ship OpenBLAS with the CBLAS interface, so the
kernels call its ``cblas_?gemm`` themselves: the symbol is registered with LLVM by name, which
keeps the calling kernels cacheable (a raw address baked into the code would not be).

Where no such library is found (numpy built against MKL or Accelerate, say), ``binding()``
is None and the templates fall back to ``np.dot``; so do standalone exported modules, which
must import nothing but numpy, numba and math.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from llvmlite import binding as llvm
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # CBLAS enum values
# (symbol prefix, symbol suffix, 64-bit integers): numpy's scipy-openblas64 first.
SYMBOL_STYLES = (("scipy_", "64_", True), ("scipy_", "", False), ("", "64_", True),
                 ("", "", False))
LLVM_NAMES = {"float32": "symprop_cblas_sgemm", "float64": "symprop_cblas_dgemm"}
# OpenBLAS's out-of-place transpose (an extension of its CBLAS, there since 0.2.x): the
# kernels keep transposed copies of small weight matrices with it (see plan.py).
LLVM_TRANSPOSE_NAMES = {"float32": "symprop_cblas_somatcopy",
                        "float64": "symprop_cblas_domatcopy"}


@functools.cache
def binding() -> str | None:
    """Which CBLAS the kernels call ("openblas <symbol>"), or None for the np.dot fallback.

    Registers the gemm symbols with LLVM on first call; part of the cache key, so modules
    built against one BLAS are never loaded where another one is bound.
    """
    for path in _openblas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, wide in SYMBOL_STYLES:
            names = {(dtype, kind): f"{prefix}cblas_{letter}{kind}{suffix}"
                     for dtype, letter in (("float32", "s"), ("float64", "d"))
                     for kind in ("gemm", "omatcopy")}
            if all(hasattr(library, name) for name in names.values()):
                for (dtype, kind), name in names.items():
                    address = ctypes.cast(getattr(library, name), ctypes.c_void_p).value
                    llvm_names = LLVM_NAMES if kind == "gemm" else LLVM_TRANSPOSE_NAMES
                    llvm.add_symbol(llvm_names[dtype], address)
                _LIBRARIES.append(library)  # keep it loaded while the process runs
                _bind_thread_count(library, prefix, suffix)
                return f"openblas {names['float32', 'gemm']} ({'ilp64' if wide else 'lp64'})"
    return None


_LIBRARIES: list = []
_THREAD_COUNT: list = []  # (get, set) of the bound library's BLAS thread count, if it has them


def _bind_thread_count(library, prefix: str, suffix: str) -> None:
    names = [f"{prefix}openblas_{verb}_num_threads{suffix}" for verb in ("get", "set")]
    if all(hasattr(library, name) for name in names):
        get, set_ = (getattr(library, name) for name in names)
        get.restype, get.argtypes = ctypes.c_int, []
        set_.restype, set_.argtypes = None, [ctypes.c_int]
        _THREAD_COUNT[:] = [get, set_]


def thread_count():
    """(get, set) of the bound OpenBLAS's thread count: what the kernels' products run on,
    set in about a microsecond (threadpoolctl's limit, over every BLAS loaded, takes 14 us a
    fit); None where no OpenBLAS is bound or it lacks them."""
    return tuple(_THREAD_COUNT) if binding() is not None and _THREAD_COUNT else None


@functools.cache
def controller():
    """One threadpoolctl scan of the loaded BLAS libraries per process (a scan costs
    milliseconds); None without threadpoolctl (scikit-learn brings it)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _openblas_paths() -> list[str]:
    """OpenBLAS libraries loaded in this process, numpy's first."""
    found = controller()
    if found is None:
        return []
    paths = [lib.filepath for lib in found.lib_controllers
             if lib.internal_api == "openblas" and lib.filepath]
    return sorted(paths, key=lambda path: "numpy" not in path)


def _argument_types(dtype: str) -> tuple:
    """(BLAS integer, real) Numba types: the integer width is the bound library's."""
    wide = binding() is None or "ilp64" in binding()
    return (types.int64 if wide else types.int32,
            types.float32 if dtype == "float32" else types.float64)


def _gemm_function(dtype: str) -> types.ExternalFunction:
    integer, real = _argument_types(dtype)
    enum, pointer = types.int32, types.voidptr
    return types.ExternalFunction(LLVM_NAMES[dtype], types.void(
        enum, enum, enum, integer, integer, integer, real, pointer, integer, pointer, integer,
        real, pointer, integer))


@intrinsic
def data_pointer(typingctx, array):
    """The address of a C-contiguous array's first element, as ``void*``."""
    if not isinstance(array, types.Array) or array.layout != "C":
        raise TypingError(f"gemm needs C-contiguous arrays, not {array}")

    def codegen(context, builder, signature, args):
        data = context.make_array(array)(context, builder, args[0]).data
        return builder.bitcast(data, cgutils.voidptr_t)

    return types.voidptr(array), codegen


def _transpose_function(dtype: str) -> types.ExternalFunction:
    integer, real = _argument_types(dtype)
    enum, pointer = types.int32, types.voidptr
    return types.ExternalFunction(LLVM_TRANSPOSE_NAMES[dtype], types.void(
        enum, enum, integer, integer, real, pointer, integer, pointer, integer))


_sgemm = _gemm_function("float32")
_dgemm = _gemm_function("float64")
_somatcopy = _transpose_function("float32")
_domatcopy = _transpose_function("float64")
# Not cached on disk: the integer width in their signature comes from whichever BLAS numpy
# brings, which Numba's cache index does not see (a numpy reinstalled with an LP64 OpenBLAS
# would get int64 calls compiled for ILP64). The generated kernels that call them are cached
# with the binding in their key, and carry their own compiled copy of these wrappers. Only
# compiled code calls them, so they have no Python wrapper either (0.2 s of a cold start);
# from Python, call them through a jitted function.
_OPTIONS = {"cache": False, "nogil": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


@njit(**_OPTIONS)
def gemm_float32(A, B, C, m, n, k, transpose_a, transpose_b):
    """C[:m, :n] = op(A) @ op(B), op(A) m x k and op(B) k x n; row-major, C-contiguous."""
    _sgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, np.float32(1.0), data_pointer(A), A.shape[1], data_pointer(B), B.shape[1],
           np.float32(0.0), data_pointer(C), C.shape[1])


@njit(**_OPTIONS)
def gemm_add_float32(A, B, C, m, n, k, transpose_a, transpose_b):
    """C[:m, :n] += op(A) @ op(B): gemm's beta = 1, the sum in the same pass."""
    _sgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, np.float32(1.0), data_pointer(A), A.shape[1], data_pointer(B), B.shape[1],
           np.float32(1.0), data_pointer(C), C.shape[1])


@njit(**_OPTIONS)
def gemm_float64(A, B, C, m, n, k, transpose_a, transpose_b):
    """C[:m, :n] = op(A) @ op(B), op(A) m x k and op(B) k x n; row-major, C-contiguous."""
    _dgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, 1.0, data_pointer(A), A.shape[1], data_pointer(B), B.shape[1], 0.0,
           data_pointer(C), C.shape[1])


@njit(**_OPTIONS)
def gemm_add_float64(A, B, C, m, n, k, transpose_a, transpose_b):
    """C[:m, :n] += op(A) @ op(B): gemm's beta = 1, the sum in the same pass."""
    _dgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, 1.0, data_pointer(A), A.shape[1], data_pointer(B), B.shape[1], 1.0,
           data_pointer(C), C.shape[1])


@njit(**_OPTIONS)
def gemm_step_float32(A, D, W, k, rate):
    """W -= rate * A[:k]^T @ D[:k]: plain SGD's step of a weight matrix inside its gradient
    product (alpha = -rate, beta = 1), the gradient never stored (no zeroed buffer, no
    second pass over it)."""
    _sgemm(ROW_MAJOR, TRANS, NO_TRANS, W.shape[0], W.shape[1], k, np.float32(-rate),
           data_pointer(A), A.shape[1], data_pointer(D), D.shape[1], np.float32(1.0),
           data_pointer(W), W.shape[1])


@njit(**_OPTIONS)
def gemm_step_float64(A, D, W, k, rate):
    """W -= rate * A[:k]^T @ D[:k]: plain SGD's step of a weight matrix inside its gradient
    product (alpha = -rate, beta = 1), the gradient never stored (no zeroed buffer, no
    second pass over it)."""
    _dgemm(ROW_MAJOR, TRANS, NO_TRANS, W.shape[0], W.shape[1], k, -rate, data_pointer(A),
           A.shape[1], data_pointer(D), D.shape[1], 1.0, data_pointer(W), W.shape[1])


@njit(**_OPTIONS)
def transpose_float32(W, WT):
    """WT = W^T (WT C-contiguous, of W's shape reversed)."""
    _somatcopy(ROW_MAJOR, TRANS, W.shape[0], W.shape[1], np.float32(1.0), data_pointer(W),
               W.shape[1], data_pointer(WT), W.shape[0])


@njit(**_OPTIONS)
def transpose_float64(W, WT):
    """WT = W^T (WT C-contiguous, of W's shape reversed)."""
    _domatcopy(ROW_MAJOR, TRANS, W.shape[0], W.shape[1], 1.0, data_pointer(W), W.shape[1],
               data_pointer(WT), W.shape[0])
