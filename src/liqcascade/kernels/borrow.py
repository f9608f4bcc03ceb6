"""Borrowed views: the time loop's layouts without reference counting.

numba counts references to every array it holds: each time a compiled function binds an array
(a field of a layout, an argument) it increments the array's counter and decrements it when
done, with *atomic* instructions, because arrays may be shared between threads. The stages of
the time loop bind a few dozen arrays per call, several times per step, and the liquidation
scan binds its arrays once per source read; measured, those atomic operations were more than
half of the loop's time on small books.

:func:`borrow` returns a layout (a NamedTuple, a tuple, an array; recursively) whose arrays are
*views without an owner*: same data pointer, shape and strides, but no memory-info pointer, so
numba's increments and decrements on them do nothing. The owner — the layout the view was
made from — must outlive every use of the view: the loop borrows its input layouts (owned by
its caller for the whole call) and its per-path state (owned by a variable the loop keeps
using until its end), and never borrows an array that may be replaced while the view is used
(the event buffer and the store grow, so they are borrowed only for the duration of one read).

With ``LIQCASCADE_DISABLE_JIT=1`` :func:`borrow` is the identity.
"""

from __future__ import annotations

from ._jit import DISABLED


def borrow(x):
    """``x`` (an array, or a tuple / NamedTuple of arrays, scalars and such tuples) with every
    array replaced by an ownerless view of the same data (see the module docstring)."""
    return x


def keep(*owners):
    """Mark ``owners`` as used here, so that numba keeps them (and what was borrowed from them)
    alive up to this point."""
    return None


if not DISABLED:
    from numba.core import cgutils, types
    from numba.extending import intrinsic, overload

    @intrinsic
    def _ownerless(typingctx, arr):
        if not isinstance(arr, types.Array):
            return None

        def codegen(context, builder, signature, args):
            src = context.make_array(arr)(context, builder, value=args[0])
            dst = context.make_array(arr)(context, builder)
            dst.meminfo = cgutils.get_null_value(dst.meminfo.type)
            dst.parent = cgutils.get_null_value(dst.parent.type)
            dst.nitems = src.nitems
            dst.itemsize = src.itemsize
            dst.data = src.data
            dst.shape = src.shape
            dst.strides = src.strides
            return dst._getvalue()

        return arr(arr), codegen

    @intrinsic
    def _keep(typingctx, owners):
        def codegen(context, builder, signature, args):
            return context.get_dummy_value()

        return types.none(owners), codegen

    @overload(keep)
    def _keep_impl(*owners):
        def impl(*owners):
            return _keep(owners)

        return impl

    @overload(borrow)
    def _borrow_impl(x):
        if isinstance(x, types.Array):
            return lambda x: _ownerless(x)
        if isinstance(x, types.BaseNamedTuple):
            cls = x.instance_class
            n = len(x)
            src = "def impl(x):\n    return Cls(" + "".join(f"borrow(x[{i}]), " for i in range(n)) + ")\n"
            ns = {"Cls": cls, "borrow": borrow}
            exec(src, ns)  # noqa: S102 - generated from the tuple's length only
            return ns["impl"]
        if isinstance(x, types.BaseTuple):
            n = len(x)
            if n == 0:
                return lambda x: x
            src = "def impl(x):\n    return (" + "".join(f"borrow(x[{i}]), " for i in range(n)) + ")\n"
            ns = {"borrow": borrow}
            exec(src, ns)  # noqa: S102
            return ns["impl"]
        return lambda x: x
