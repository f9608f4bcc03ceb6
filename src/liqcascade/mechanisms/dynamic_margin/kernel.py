"""Dynamic margin — compiled functions the time loop calls (``kernels.stages``).

* **dynamic_margin** — target LT multiplier per protocol and asset (:func:`lt_multiplier`)
  ``m = max(min, 1 − buffer − lt_per_vol·max(0, σ − σ_ref) − congestion_k·max(0, g − 1)
  − haircut_k·lost)``, with ``σ`` the annualized realized volatility of ``p`` over the window
  (:func:`realized_vol`), ``g`` the gas multiple (1 without a gas auction) and ``lost = max(0,
  1 − D_t/D_0)`` the share of depth lost since the start: ``D_t`` is the quote (units × mean
  spot) the asset's venues absorb before their spot falls below ``(1 − band) · p`` — ``p`` the
  price the protocol values the collateral at (:func:`depth_units_to`) — and ``D_0`` the same at
  ``t = 0`` (then ``p`` = the mean spot). Measured against the protocol's price rather than each
  venue's own spot, it sees the depth an order book has lost to the impact of recent sales as
  well as a pool's shrinking reserves (a book's depth within a band of its *own* mid never
  changes). The
  liquidation test is ``key > ratio · m`` and the liquidation uses ``LT · m``. Size tiers are
  a per-position multiplier folded into the key by the engine. With a ramp (``M_DM_RAMP = R``
  steps > 0) ``m`` is the multiplier *in force*, not the target: Euler v2's liquidation-LTV
  ramp (:func:`ramp_set`, :func:`ramp_value`) — a target below the value in force starts a ramp
  from that value to the target, linear over ``R`` steps; a target at or above it applies at
  once; each step whose target differs from the ramp's target is a new setting. The size tiers
  ramp from 1 to their multiplier over the first ``R`` steps (set at ``t = 0``): position ``i``
  has ``tier_t = 1 − (1 − tier)·min(1, t/R)`` (:func:`tier_in_force`); its key keeps the full
  tier, so it is liquidatable iff ``key · tier / tier_t > ratio · m``.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal, njit
from ..kernel import (
    MK_DM, M_DM_BAND, M_DM_BUF, M_DM_CONG, M_DM_HAIR, M_DM_K, M_DM_MIN, M_DM_RAMP, M_DM_VREF, M_DM_WIN,
    M_DT, depth_units_to, realized_vol,
)


@njit
def lt_multiplier(vol, vol_ref, lt_per_vol, gas_mult, congestion_k, depth_lost, haircut_k, buffer, min_mult):
    """LT multiplier of the dynamic margin (see the module docstring), in ``[min_mult, 1]``."""
    m = 1.0 - buffer
    x = vol - vol_ref
    if x > 0.0:
        m -= lt_per_vol * x
    g = gas_mult - 1.0
    if g > 0.0:
        m -= congestion_k * g
    if depth_lost > 0.0:
        m -= haircut_k * depth_lost
    if m > 1.0:
        m = 1.0
    if m < min_mult:
        m = min_mult
    return m


@njit
def ramp_value(frm, target, end, t, ramp):
    """The value in force at step ``t`` of a ramp from ``frm`` to ``target`` ending at step
    ``end`` and lasting ``ramp`` steps: ``target + (frm − target)·(end − t)/ramp`` before the
    end when it lowers the value, else ``target`` (Euler v2 ``LTVConfig.getLTV``)."""
    if t >= end or target >= frm or ramp <= 0.0:
        return target
    return target + (frm - target) * (end - t) / ramp


#: relative change of the target below which it is the same setting (rounding, not a new one)
RAMP_SAME = 1e-12


@njit
def ramp_set(rs, t, target, ramp):
    """A new target for the ramp state ``rs = (from, target, end)`` at step ``t`` (Euler v2
    ``setLTV``): unchanged target → nothing; a target below the value in force ramps from that
    value over ``ramp`` steps; otherwise it applies at once. Returns the value in force.

    A target within :data:`RAMP_SAME` (relative) of the ramp's target is unchanged: the target
    is recomputed every step, and rounding dust in it (a depth ratio of 1 − 4e-16) would
    otherwise restart the ramp from the value in force, moving the multiplier by a visible
    amount (6e-4 on a 7-step ramp) for no change of the market."""
    cur = ramp_value(rs[0], rs[1], rs[2], t, ramp)
    if abs(target - rs[1]) > RAMP_SAME * abs(rs[1]):
        if target < cur and ramp > 0.0:
            rs[0] = cur
            rs[2] = t + ramp
        else:
            rs[0] = target
            rs[2] = t
        rs[1] = target
    return ramp_value(rs[0], rs[1], rs[2], t, ramp)


@njit
def tier_in_force(tier, t, ramp):
    """A size tier's multiplier in force at step ``t`` when it ramps in over ``ramp`` steps from
    the start (``ramp <= 0``: the full tier)."""
    if ramp <= 0.0 or t >= ramp:
        return tier
    return 1.0 - (1.0 - tier) * (t / ramp)


@internal
def dynamic_margin_before(mp, mk, t, gas_mult, stable, phist, mmult, depth0, vs, vdk, vdq, av_ptr, av_idx,
                          mean_spot, dm_ramp):
    """Dynamic margin at step ``t``: the LT multiplier ``mmult[pr, a]`` in force for every
    protocol under it and risky asset: the target from the realized vol of the price it acts on,
    the gas multiple and the venue depth lost since the start (``depth0[a]``, quote within 2 %;
    0 = not measured), reached through the ramp ``dm_ramp[pr, a]`` when ``M_DM_RAMP > 0``."""
    for a in range(stable.shape[0]):
        if stable[a]:
            continue
        for pr in range(mmult.shape[0]):
            if mk[MK_DM, pr] != 0:
                lost = 0.0
                if depth0[a] > 0.0:
                    target = (1.0 - mp[M_DM_BAND]) * phist[t, pr, a]
                    dnow = depth_units_to(vs, vdk, vdq, av_ptr, av_idx, a, target) * mean_spot[a]
                    lost = 1.0 - dnow / depth0[a]
                vol = realized_vol(phist, t, pr, a, int(mp[M_DM_WIN]), mp[M_DT])
                m = lt_multiplier(vol, mp[M_DM_VREF], mp[M_DM_K], gas_mult, mp[M_DM_CONG], lost,
                                  mp[M_DM_HAIR], mp[M_DM_BUF], mp[M_DM_MIN])
                if mp[M_DM_RAMP] > 0.0:
                    m = ramp_set(dm_ramp[pr, a], float(t), m, mp[M_DM_RAMP])
                mmult[pr, a] = m
