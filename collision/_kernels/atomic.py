"""An atomic counter for numba's parallel regions: workers that take their next piece of
work from a shared counter (self-scheduling, :mod:`collision._kernels.batch`)."""

from __future__ import annotations

from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def fetch_add(typingctx, counter, value):
    """``old = counter[0]; counter[0] += value; return old``, atomically (sequentially
    consistent: whatever a thread wrote before its ``fetch_add`` is visible to a thread
    whose later ``fetch_add`` returns the value it left)."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64
            and isinstance(value, types.Integer)):
        return None
    sig = types.int64(counter, value)

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        increment = context.cast(builder, args[1], signature.args[1], types.int64)
        return builder.atomic_rmw("add", cgutils.get_item_pointer2(
            context, builder, array.data, cgutils.unpack_tuple(builder, array.shape),
            cgutils.unpack_tuple(builder, array.strides), signature.args[0].layout,
            [context.get_constant(types.intp, 0)]), increment, "seq_cst")

    return sig, codegen
