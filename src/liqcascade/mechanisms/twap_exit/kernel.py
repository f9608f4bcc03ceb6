"""TWAP exit — compiled functions the time loop calls (``kernels.stages``).

* **twap_exit** — the collateral seized in a step by the protocols it applies to (after the
  buffer pool) enters a per-asset ring: ``1/slices`` of it is due on each of the steps
  ``t … t+slices−1`` (:func:`twap_push`, :func:`twap_pop`); a step sells what is due. What is
  still in the ring after the last step is held inventory, valued at the final mean spot.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import njit


@njit
def twap_push(ring, t, a, q, slices):
    """Queue ``q`` units of asset ``a`` seized at step ``t``: ``q/slices`` due at each of the
    steps ``t … t+slices−1`` (``ring[slices, A]``, slot ``step % slices``)."""
    if q <= 0.0:
        return
    part = q / slices
    for j in range(slices):
        ring[(t + j) % slices, a] += part


@njit
def twap_pop(ring, t, a):
    """Units of asset ``a`` due at step ``t`` (the slot is emptied)."""
    k = t % ring.shape[0]
    q = ring[k, a]
    ring[k, a] = 0.0
    return q


@njit
def twap_left(ring, a):
    """Units of asset ``a`` still queued."""
    s = 0.0
    for k in range(ring.shape[0]):
        s += ring[k, a]
    return s
