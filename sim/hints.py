"""Hints to the processor from compiled code: they change no value.

`prefetch(arr, idx)` asks for the cache line of `arr[idx]` ahead of its use, so that misses
known in advance overlap instead of being met one after another: the fast engine's kernels
(a consumer's lines before an adoption or a need) and the network's construction (the row
counts of ties met a few ties later) use it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the processor to bring the cache line of arr[idx] in, for writing (LLVM's
    `llvm.prefetch`): a hint, which changes no value and never faults."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        address = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        fnty = ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [address, i32(1), i32(3), i32(1)])  # write, keep, data
        return context.get_dummy_value()

    return sig, codegen
