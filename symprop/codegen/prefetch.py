"""A software prefetch for the generated CPU loops: ``prefetch(array, row, col)`` asks the
CPU to bring the cache line holding ``array[row, col]`` into its second-level cache, and goes
on at once.

Shuffled training reads each batch's rows from all over X: row after row a cache miss,
each waited for in the gather (fit on the tiny 20-32-1 network, 128,000 rows: 2.9-3.4 us a
shuffled step against 1.9-2.0 in order, the hardware's own prefetcher following rows in
order). run() asks for the next batch's rows while it computes this one, so that their
misses overlap its work: 2.0-2.1 us a shuffled step (benchmarks/README.md); so does each
thread of the split path for its share of the next batch (medium, 64-128-64-10, shuffled:
37.7-38.1 against 38.6-39.1 us a step). A prefetch
never faults and changes nothing but timing: an address out of the array is harmless (run()
still only asks for rows perm names).

This is LLVM's ``llvm.prefetch`` intrinsic (read, locality 2, data cache); Numba has no
function of its own for it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# llvm.prefetch's rw (read), locality and cache type (data). Locality 2 is x86's prefetcht1:
# into the second-level cache, not the first. Into the first (prefetcht0) a shuffled tiny
# step through fit took 2.83-3.07 us, into the second 2.12-2.17 (alternating runs): a
# batch's rows asked for a whole batch ahead pushed out of the small first-level cache
# what that batch's work was using.
READ, SECOND_LEVEL, DATA_CACHE = 0, 2, 1
CACHE_LINE = 64  # bytes (also where the split path's per-thread rows start)
SHORT_ROW_LINES = 4  # a row of up to this many lines is prefetched whole
# The bytes of a batch asked for ahead, at most: well inside the second-level cache (1 MB
# here), which must still hold the batch being computed.
AHEAD_BYTES = 1 << 17


def row_columns(width: int, per_line: int) -> list[int]:
    """The columns of a row of ``width`` elements whose cache lines a prefetch of the row
    asks for: one in each line of a row of up to SHORT_ROW_LINES lines, and its last
    element (a row need not start on a line); of a longer row its first two lines, the
    hardware's own prefetcher following a row it has started reading. For C-ordered rows
    of ``per_line`` elements a cache line (X and Y as fit and evaluate hand them to run(),
    in the network's dtype: the plan's line_floats)."""
    columns = list(range(0, width, per_line))
    if len(columns) > SHORT_ROW_LINES:
        return columns[:2]
    return columns + [width - 1] if width - 1 != columns[-1] else columns


def rows_ahead(lines: int) -> int:
    """How many rows run() asks for ahead at most, a row's prefetch covering ``lines``
    cache lines: a batch's worth, up to AHEAD_BYTES."""
    return max(1, AHEAD_BYTES // (CACHE_LINE * max(lines, 1)))


@intrinsic
def prefetch(typingctx, array, row, col):
    """prefetch(array, row, col): the line of a 2-D array's element [row, col], prefetched."""
    if not (isinstance(array, types.Array) and array.ndim == 2
            and isinstance(row, types.Integer) and isinstance(col, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        indices = [context.cast(builder, value, kind, types.intp)
                   for value, kind in zip(args[1:], signature.args[1:], strict=True)]
        pointer = cgutils.get_item_pointer2(
            context, builder, data.data, cgutils.unpack_tuple(builder, data.shape, 2),
            cgutils.unpack_tuple(builder, data.strides, 2), array_type.layout, indices,
            wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(READ),
                                i32(SECOND_LEVEL), i32(DATA_CACHE)])
        return context.get_dummy_value()

    return types.none(array, row, col), codegen
