"""One switch for the compiled path.

Every kernel is decorated with :func:`njit`. Setting ``LIQCASCADE_DISABLE_JIT=1`` in the
environment turns the decorator into the identity, so the same source runs as plain Python
(useful for debugging and coverage). The plain-Python *twins* in ``*_py.py`` modules are
separate, deliberately naive implementations used by the parity tests.
"""

from __future__ import annotations

import os

DISABLED = os.environ.get("LIQCASCADE_DISABLE_JIT", "") not in ("", "0")

if DISABLED:  # pragma: no cover - exercised only with the env switch

    def njit(*args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    def prange(*args):
        return range(*args)

else:
    import numba

    def njit(*args, **kwargs):
        opts = {"cache": True, "nogil": True}
        opts.update(kwargs)
        if len(args) == 1 and callable(args[0]):
            return numba.njit(**opts)(args[0])
        return numba.njit(*args, **opts)

    prange = numba.prange
