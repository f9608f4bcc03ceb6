"""Throttle — compiled functions the time loop calls (``kernels.stages``).

* **throttle** — debt repaid by the protocols it applies to, summed over the rolling window of
  the last ``W`` steps (:func:`ring_advance`), may not exceed ``max_debt_per_window``; the
  collateral they seize of an asset in a step may not exceed what the asset's venues absorb
  before their spot falls by ``depth_slippage`` (:func:`depth_units`, measured after the
  step's oracle update; no cap for an asset sold at a fixed price — stable or without venues).
  A liquidation that does not fit is scaled down to the room left
  (:func:`scale_liquidation`: seized, repaid and fee in proportion, no bad debt, position stays
  open; Maker's partial ``Hole`` bark); with no room it waits. Multi-asset positions only wait.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

import numpy as np

from ...kernels._jit import internal, njit
from ...kernels.layouts import MS_TH_USED
from ..kernel import M_TH_SLIP, depth_units, ring_advance


@njit
def scale_liquidation(seize, repay, bad, fee, closed, s):
    """The liquidation ``(seize, repay, bad, fee, closed)`` scaled by ``s`` in [0, 1]: seized,
    repaid and fee in proportion, no bad debt, the position stays open (when ``s < 1``)."""
    if s >= 1.0:
        return seize, repay, bad, fee, closed
    if s < 0.0:
        s = 0.0
    return seize * s, repay * s, 0.0, fee * s, False


#: share of a liquidation below which the throttle's room counts as none (see :func:`room_share`)
ROOM_DUST = 1e-9


@njit
def room_share(room, amount):
    """Share of ``amount`` that fits in ``room`` (1 when it all fits, 0 when no room). A room of
    at most :data:`ROOM_DUST` of the amount counts as none: it is the rounding residue of a
    window that an earlier, scaled liquidation filled exactly (``cap − used`` a few ulps off
    zero), and would otherwise become a dust liquidation that still pays full gas."""
    if amount <= room:
        return 1.0
    if room <= ROOM_DUST * amount:
        return 0.0
    return room / amount


@internal
def throttle_before(mp, t, stable, th_ring, ms, th_sold, depth_cap, vs, vdk, vdq, av_ptr, av_idx):
    """Throttle at step ``t``: roll the debt window (``ms[MS_TH_USED]``), reset the step's sales
    ``th_sold`` and measure each asset's depth room ``depth_cap`` (inf for an asset sold at a
    fixed price)."""
    ms[MS_TH_USED] = ring_advance(th_ring, ms[MS_TH_USED], t)
    for a in range(stable.shape[0]):
        th_sold[a] = 0.0
        if mp[M_TH_SLIP] > 0.0:
            if stable[a] or av_ptr[a + 1] == av_ptr[a]:
                depth_cap[a] = np.inf  # sold at a fixed price: no book to protect
            else:
                depth_cap[a] = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, mp[M_TH_SLIP])
