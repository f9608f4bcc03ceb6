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
    import hashlib
    from pathlib import Path

    import numba

    def _kernel_source_hash() -> str:
        """Hash of every kernel module's source.

        numba's on-disk cache is invalidated only when a function's *own* file changes, not when
        a kernel it calls (in another module) does. Keying the cache folder on all kernel
        sources makes any edit start from a clean cache.
        """
        h = hashlib.sha1()
        for f in sorted(Path(__file__).parent.glob("*.py")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
        return h.hexdigest()[:16]

    if not os.environ.get("NUMBA_CACHE_DIR"):
        _base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liqcascade" / "numba"
        numba.config.CACHE_DIR = str(_base / _kernel_source_hash())

    def njit(*args, **kwargs):
        opts = {"cache": True, "nogil": True}
        opts.update(kwargs)
        if len(args) == 1 and callable(args[0]):
            return numba.njit(**opts)(args[0])
        return numba.njit(*args, **opts)

    prange = numba.prange


#: decorator for kernels called only from other kernels (the time loop's stages and helpers): no
#: Python-callable wrapper is compiled for them. The wrapper would unbox every array of every
#: layout argument and costs most of such a function's compile time.
internal = njit(no_cpython_wrapper=True, no_cfunc_wrapper=True)
