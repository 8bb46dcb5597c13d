"""Subnormal numbers flushed to zero in the threads that train (x86's MXCSR: FTZ and DAZ).

A network that grows confident drives its outputs, output deltas and backward products into
float32's subnormal range (below 1.2e-38), and on x86 each subnormal operand or result costs
a microcode assist: after 33 epochs of 128,000 rows a 20-32-1 sigmoid network's epoch took
23.8-25.4 ms against 5.4-5.7 ms from its initial weights, on an Intel Xeon
(benchmarks/README.md). With FTZ (subnormal results become 0) and DAZ (subnormal inputs read
as 0) set in the thread, the same epochs took 5.1-5.3 ms. The values flushed are below
1.2e-38 (float32) or 2.2e-308 (float64): nothing a trained network's numbers depend on.

The control register is per thread: ``fit`` sets the bits around each call of the module's
training epochs (``flushed_subnormals``) and the split path's threads around each part they
run (symprop.codegen.split_support), each restoring what the thread had. Elsewhere (other
processors) nothing is changed.
"""

from __future__ import annotations

import platform
from contextlib import contextmanager

# MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6)
FLUSH_BITS = (1 << 15) | (1 << 6)
X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")

if X86:
    from llvmlite import ir
    from numba import njit, types
    from numba.extending import intrinsic

    @intrinsic
    def _swap_mxcsr(typingctx, bits, mask):
        """MXCSR with the bits of ``mask`` set as in ``bits``; returns its former value."""
        def codegen(context, builder, signature, args):
            word = ir.IntType(32)
            pointer_type = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
            store = builder.module.declare_intrinsic("llvm.x86.sse.stmxcsr", fnty=pointer_type)
            load = builder.module.declare_intrinsic("llvm.x86.sse.ldmxcsr", fnty=pointer_type)
            slot = builder.alloca(word)
            address = builder.bitcast(slot, ir.IntType(8).as_pointer())
            builder.call(store, [address])
            old = builder.load(slot)
            bits32, mask32 = (builder.trunc(value, word) for value in args)
            kept = builder.and_(old, builder.not_(mask32))
            builder.store(builder.or_(kept, builder.and_(bits32, mask32)), slot)
            builder.call(load, [address])
            return builder.zext(old, ir.IntType(64))
        return types.int64(types.int64, types.int64), codegen

    @njit(cache=True, nogil=True)
    def swap_float_control(bits, mask):
        """The thread's MXCSR with ``mask``'s bits set as in ``bits``; its former value."""
        return _swap_mxcsr(bits, mask)
else:
    def swap_float_control(bits, mask):
        """No control register of MXCSR's kind here: nothing changes."""
        return 0


def flush_subnormals() -> int:
    """Set FTZ and DAZ in this thread; returns what restore_subnormals takes."""
    return int(swap_float_control(FLUSH_BITS, FLUSH_BITS))


def restore_subnormals(saved: int) -> None:
    """This thread's FTZ and DAZ as they were when flush_subnormals returned ``saved``."""
    swap_float_control(saved, FLUSH_BITS)


@contextmanager
def flushed_subnormals():
    """FTZ and DAZ set in this thread for the ``with`` block, then as they were."""
    saved = flush_subnormals()
    try:
        yield
    finally:
        restore_subnormals(saved)
