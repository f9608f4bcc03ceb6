"""Random execution — compiled functions the time loop calls (``kernels.stages``).

* **random_execution** — a position first seen liquidatable at ``t0`` waits until
  ``t0 + delay``; ``delay`` is uniform on ``0 … W`` from a hash of (seed, path, position)
  (:func:`random_delay`), no RNG state.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

import numpy as np

from ...kernels._jit import njit


@njit
def _splitmix(x):
    """splitmix64 finaliser on a uint64."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return x ^ (x >> np.uint64(31))


@njit
def random_delay(seed, path, pos, window):
    """Delay in ``0 … window`` steps, uniform, from a hash of ``(seed, path, pos)`` (all ≥ 0)."""
    if window <= 0:
        return np.int64(0)
    h = _splitmix(np.uint64(seed))
    h = _splitmix(h ^ np.uint64(path))
    h = _splitmix(h ^ np.uint64(pos))
    return np.int64(h % np.uint64(window + 1))
