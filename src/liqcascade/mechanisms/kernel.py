"""What the prevention mechanisms share inside the time loop: the parameter pack ``mech``
(``M_*``), the applicability mask ``mmask[NMECH, P]`` (``MK_*`` rows), the switches
(:func:`mechanisms_on`), the per-path state (:func:`mech_state_new`, columns ``BA_*`` of the
batch auction's state), the rolling-window ring, the venue-depth helpers, realized volatility
and the multi-asset health factor.

Each mechanism is a folder next to this file (``mechanisms/<name>/``: ``model.py``,
``pack.py``, ``kernel.py``, ``twin.py``, ``README.md``); its ``kernel.py`` holds its own
compiled functions and says its exact rule. :mod:`liqcascade.mechanisms.hooks` holds the hooks
that touch several mechanisms at once (one liquidation booked into the throttle, pool, TWAP
exit and fund; the step's sales through the buffer pool and the TWAP exit). The pack is built
by :func:`liqcascade.mechanisms.pack.mechanism_setup`; the time loop's stages
(:mod:`liqcascade.kernels.stages`) call the compiled functions. Plain-Python twins of what is
here: :mod:`liqcascade.mechanisms.twin`.

Notation: ``t`` is the step, ``p`` the price a protocol acts on (its oracle), ``W`` a window in
steps. This module imports only numpy, numba and other kernel-layer modules.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels._jit import internal, njit
from ..kernels.layouts import MS_BP_CAP, MS_FUND, NCA, NMS, MechState
from ..venues.dispatch import venue_sell_to_price, venue_spot

SECONDS_PER_YEAR = 365.0 * 86400.0
DEPTH_REF_SLIPPAGE = 0.02  # dynamic margin: the haircut's default depth band

# ---- mech pack (float64[NMECH_PARAMS]) ---------------------------------------------------------
M_ON = 0  # any mechanism on (1.0) — the time loop's global switch
M_DT = 1  # seconds per step
M_SEED = 2  # root seed (random execution)
M_CB_ON = 3
M_CB_THR = 4
M_CB_WIN = 5
M_CB_PAUSE = 6
M_CB_GRACE = 7
M_CB_EXEMPT = 8
M_TH_ON = 9
M_TH_DEBT = 10  # 0 = no debt cap
M_TH_WIN = 11
M_TH_SLIP = 12  # 0 = no depth cap
M_TW_ON = 13
M_TW_SLICES = 14
M_BP_ON = 15
M_BP_CAP = 16
M_BP_DISC = 17
M_IF_ON = 18
M_IF_SIZE = 19
M_IF_SHARE = 20
M_DA_ON = 21
M_DA_START = 22
M_DA_MAX = 23
M_DA_STEPS = 24
M_PA_ON = 25
M_PA_CF = 26
M_PA_COOL = 27
M_DM_ON = 28
M_DM_WIN = 29
M_DM_VREF = 30
M_DM_K = 31
M_DM_CONG = 32
M_DM_HAIR = 33
M_DM_BUF = 34
M_DM_MIN = 35
M_RE_ON = 36
M_RE_WIN = 37
M_BA_ON = 38
M_BA_WIN = 39  # batch auction: window in steps
M_VF_ON = 40
M_VF_K = 41
M_VF_VREF = 42
M_VF_WIN = 43
M_VF_MAX = 44
M_DM_RAMP = 45  # dynamic margin: ramp length in steps (0 = tighten at once)
M_BA_SLIP = 46  # batch auction: the keepers' resale depth budget, slippage per step (0 = none)
M_BA_MARGIN = 47  # batch auction: keepers' margin below the bundle's immediate sale value
M_LF_ON = 48  # leverage fee (volatility_fee): on
M_LF_K = 49
M_LF_VREF = 50
M_LF_WIN = 51
M_LF_MAX = 52
M_DM_BAND = 53  # dynamic margin: depth band of the haircut (fraction below the protocol's price)
# the cross-protocol clearinghouse (mechanisms/clearinghouse/kernel.py)
M_CH_ON = 54
M_CH_STEP = 55  # largest fall of the mean venue spot the clearinghouse's sales may cause in one step (fraction)
M_CH_WMOVE = 56  # largest fall below the window's high (fraction)
M_CH_WIN = 57  # window in steps
M_CH_ALLOC = 58  # 0 urgency (lowest HF first), 1 pro rata
M_CH_NET = 59  # netting of a perp venue's forced buys against the others' sales (1.0 on)
M_CH_BS_CAP = 60  # shared backstop capital, quote (0 = no backstop)
M_CH_BS_DISC = 61  # backstop's discount to the mean venue spot
NMECH_PARAMS = 62

# ---- columns of the batch auction's state MechState.ba[A + 1, NBA] ----------------------------
BA_STEP = 0  # units its protocols seized this step
BA_COLL = 1  # units collected in the current window (the liquidators', not yet cleared)
BA_LEFT = 2  # units the keepers bought and have not resold yet
BA_SLICE = 3  # keepers' resale per step (units)
NBA = 4
# row A: (T, first event of the current window, batches cleared, 0)

# ---- rows of the applicability mask mmask[NMECH, P] (1 = applies) -----------------------------
MK_CB = 0
MK_TH = 1
MK_TW = 2
MK_BP = 3
MK_IF = 4
MK_DA = 5
MK_PA = 6
MK_DM = 7
MK_RE = 8
MK_BA = 9
MK_VF = 10  # volatility_bonus (the bonus-raising mechanism)
MK_LF = 11  # volatility_fee (the leverage fee)
MK_CH = 12  # clearinghouse (participating protocols, units included)
NMECH = 13


def mech_off(n_protocols: int = 1):
    """``(mech, mmask, pos_ltm)`` with every mechanism off (the kernels' defaults)."""
    mech = np.zeros(NMECH_PARAMS)
    mech[M_DT] = 60.0
    return mech, np.zeros((NMECH, max(n_protocols, 1)), np.int64), np.zeros(0)


# ---- price history, rolling window, venue depth ---------------------------------------------


@njit
def realized_vol(phist, t, pr, a, window, dt_seconds):
    """Annualized realized volatility of ``phist[·, pr, a]`` over the last ``min(window, t)``
    steps ending at ``t``: ``sqrt(mean(ln(p_s/p_{s−1})²) · year/dt)`` (zero-mean estimate)."""
    n = window if window < t else t
    if n <= 0:
        return 0.0
    s = 0.0
    for k in range(t - n + 1, t + 1):
        p1 = phist[k, pr, a]
        p0 = phist[k - 1, pr, a]
        if p1 > 0.0 and p0 > 0.0:
            r = math.log(p1 / p0)
            s += r * r
    return math.sqrt(s / n * SECONDS_PER_YEAR / dt_seconds)


@njit
def ring_advance(ring, used, t):
    """Rolling-window sum: drop the slot step ``t`` reuses (``t − len(ring)``). Returns the new
    sum of the window; add this step's amounts to ``ring[t % len]`` and the sum."""
    k = t % ring.shape[0]
    used -= ring[k]
    ring[k] = 0.0
    return used if used > 0.0 else 0.0


@njit
def depth_units(vs, vdk, vdq, av_ptr, av_idx, a, slippage):
    """Asset units the venues of asset ``a`` absorb before each one's spot falls by
    ``slippage`` (sum over venues of sell-to-price to ``spot · (1 − slippage)``)."""
    s = 0.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        v = av_idx[j]
        s += venue_sell_to_price(vs, vdk, vdq, v, venue_spot(vs, v) * (1.0 - slippage))
    return s


@njit
def depth_units_to(vs, vdk, vdq, av_ptr, av_idx, a, target):
    """Asset units the venues of asset ``a`` absorb before each one's spot reaches ``target``
    (0 for a venue already at or below it): the depth within a band of a price that is not the
    venue's own spot."""
    s = 0.0
    for j in range(av_ptr[a], av_ptr[a + 1]):
        s += venue_sell_to_price(vs, vdk, vdq, av_idx[j], target)
    return s


@njit
def multi_hf(cs, ds, assets, prices, lt_row, lt_scale):
    """Health factor ``Σ c·p·LT·scale / Σ d·p`` of a multi-asset position (inf without debt)."""
    wv = 0.0
    dv = 0.0
    for e in range(cs.shape[0]):
        a = assets[e]
        wv += cs[e] * prices[a] * lt_row[a] * lt_scale[a]
        dv += ds[e] * prices[a]
    if dv <= 0.0:
        return np.inf
    return wv / dv


# ---- switches and per-path state -------------------------------------------------------------


@internal
def mechanisms_on(mp):
    """``(any, breaker, throttle, twap_exit, buffer_pool, insurance_fund, dutch_auction, partial,
    dynamic_margin, random_execution, batch, volatility_fee)`` switches."""
    on = mp[M_ON] > 0.0
    return (on, on and mp[M_CB_ON] > 0.0, on and mp[M_TH_ON] > 0.0, on and mp[M_TW_ON] > 0.0,
            on and mp[M_BP_ON] > 0.0, on and mp[M_IF_ON] > 0.0, on and mp[M_DA_ON] > 0.0,
            on and mp[M_PA_ON] > 0.0, on and mp[M_DM_ON] > 0.0, on and mp[M_RE_ON] > 0.0,
            on and mp[M_BA_ON] > 0.0, on and mp[M_VF_ON] > 0.0)


@internal
def mech_state_new(mp, T, P, A, bonus):
    """The per-path :class:`~liqcascade.kernels.layouts.MechState` (small arrays for the
    mechanisms that are off). ``bonus[P, A]`` is the protocols' bonus (the bonus in force starts
    there)."""
    on, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    lf_on = on and mp[M_LF_ON] > 0.0
    need_hist = cb_on or dm_on or vf_on or lf_on
    th_win = int(mp[M_TH_WIN]) if th_on else 1
    tw_slices = int(mp[M_TW_SLICES]) if tw_on else 1
    ms = np.zeros(NMS)
    ms[MS_FUND] = mp[M_IF_SIZE]
    ms[MS_BP_CAP] = mp[M_BP_CAP]
    ba = np.zeros((A + 1 if ba_on else 1, NBA))
    if ba_on:
        ba[A, 0] = T
    ch_q, ch_key, ch_acc, ch_ring, ch_bs, ch_hf = _clearing_state(mp, P, A)
    return MechState(
        np.zeros((T + 1 if need_hist else 1, P, A)), np.ones((P, A)), np.zeros((P, A)), bonus.copy(),
        np.zeros((P, 2), np.int64), np.zeros(P, np.bool_), ba,
        np.zeros(max(th_win, 1)), np.zeros(A), np.zeros(A), np.zeros((max(tw_slices, 1), A)),
        np.zeros(A), np.zeros(A), np.zeros(A), np.zeros(A), np.zeros(A), np.zeros(A), np.zeros(A), ms,
        _ramp_state(P if dm_on else 0, A), np.ones(P), ch_q, ch_key, ch_acc, ch_ring, ch_bs, ch_hf)


@internal
def _clearing_state(mp, P, A):
    """The clearinghouse's per-path arrays (``[1, …]``-sized when it is off; see
    :class:`~liqcascade.kernels.layouts.MechState`)."""
    on = mp[M_ON] > 0.0 and mp[M_CH_ON] > 0.0
    p = P if on else 1
    a = A if on else 1
    w = max(int(mp[M_CH_WIN]), 1) if on else 1
    bs = np.zeros((a + 1, 4))
    bs[a, 0] = mp[M_CH_BS_CAP] if on else 0.0
    return (np.zeros((p, a)), np.full((p, a), np.inf), np.zeros((p, a, NCA)), np.zeros((w + 1, a)), bs,
            np.full((p, a), np.inf))


@internal
def _ramp_state(P, A):
    """Dynamic-margin ramp state ``[P, A, 3]`` = (from, target, end step), all at 1 (no tightening)."""
    rs = np.ones((P, A, 3))
    rs[:, :, 2] = 0.0
    return rs
