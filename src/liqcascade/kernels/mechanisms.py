"""Prevention mechanisms inside the dynamic time loop — small compiled helpers.

The scenario side is :mod:`liqcascade.scenario.mechanisms`; :func:`liqcascade.engine.mechanisms.
mechanism_args` turns it into the float pack ``mech`` (indices ``M_*`` below), a per-protocol
applicability mask ``mmask[NMECH, P]`` (``MK_*`` rows) and a per-position LT multiplier (size
tiers). :func:`liqcascade.kernels.dynamic.simulate_path` calls these helpers; each has a naive
plain-Python twin in :mod:`liqcascade.kernels.mechanisms_py` (``tests/parity``).

Semantics (exact rules; the simplifications are stated here, in ``docs/mechanisms.md`` and in
the run's notes). ``t`` is the step, ``p`` the price a protocol acts on (its oracle), ``W`` a
window in steps.

* **circuit breaker** — per protocol: at step ``t`` when neither paused nor in grace, it trips if
  for one of its risky collateral assets (LT > 0) ``p_t < (1 − threshold) · max(p_{t−W} … p_t)``
  (:func:`window_fall`). Steps ``t … t+pause−1`` are *paused*, the next ``grace`` steps are the
  grace period; in both only positions with ``HF < exempt_hf`` are liquidated, HF being
  ``ratio / key`` for a pair (``1/(key/ratio)``) and the full HF for a multi-asset position.
  Others wait in the store.
* **throttle** — debt repaid by the protocols it applies to, summed over the rolling window of
  the last ``W`` steps (:func:`ring_advance`), may not exceed ``max_debt_per_window``; the
  collateral they seize of an asset in a step may not exceed what the asset's venues absorb
  before their spot falls by ``depth_slippage`` (:func:`depth_units`, measured after the
  step's oracle update; no cap for an asset sold at a fixed price — stable or without venues).
  A liquidation that does not fit is scaled down to the room left
  (:func:`scale_liquidation`: seized, repaid and fee in proportion, no bad debt, position stays
  open; Maker's partial ``Hole`` bark); with no room it waits. Multi-asset positions only wait.
* **twap_exit** — the collateral seized in a step by the protocols it applies to (after the
  buffer pool) enters a per-asset ring: ``1/slices`` of it is due on each of the steps
  ``t … t+slices−1`` (:func:`twap_push`, :func:`twap_pop`); a step sells what is due. What is
  still in the ring after the last step is held inventory, valued at the final mean spot.
* **buffer_pool** — before the venues, it buys the collateral seized by the protocols it applies
  to at ``oracle · (1 − discount)`` while its capital lasts (:func:`pool_buy`); it holds what it
  buys (valued at the final mean spot). The liquidators receive its quote as sale proceeds.
* **insurance_fund** — ``fee_share`` of each protocol fee (at the oracle price) feeds the fund; bad
  debt is drawn from it, the rest is socialized to lenders (:func:`fund_absorb`).
* **dutch_auction** — the bonus of a position is ``start + (max − start) · min(1, age / steps)``
  where ``age`` is the number of steps since the position was first seen liquidatable
  (:func:`dutch_bonus`); mechanical liquidators take it at the current bonus, rational ones
  only when profitable. *Simplification*: ``first seen`` is not reset when a position turns
  healthy again.
* **partial** — the engine sets the protocols' close-factor rule to ``fixed`` with
  ``close_factor`` (no dust rule); a position is liquidated at most once per
  ``cooldown + 1`` steps (``M_PA_COOL``: ``cooldown_seconds`` in steps).
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
* **random_execution** — a position first seen liquidatable at ``t0`` waits until
  ``t0 + delay``; ``delay`` is uniform on ``0 … W`` from a hash of (seed, path, position)
  (:func:`random_delay`), no RNG state.
* **batch** — a uniform-price batch auction (:func:`batch_sales`). The collateral seized by the
  protocols it applies to is not sold in the step: it is collected per asset over a window of
  ``W`` steps and cleared at every step ``t`` with ``t % W == 0`` (and at the last step). At the
  clearing, keepers bid for the whole bundle ``Q``: the uniform price is what the bundle would
  fetch sold at once on the venues now (best execution over a copy of the venue state) times
  ``1 − margin``; every liquidation of the window is executed at that price (the liquidators'
  proceeds). The keepers then resell ``Q`` over the next window: ``Q_left / W`` per step, capped
  per step by the depth budget (units the venues absorb before their spot falls by
  ``slippage``; no cap with ``slippage = 0``); what the cap holds back carries over. The keepers'
  resale proceeds are not the liquidators' and are not counted in ``SUM_PROCEEDS``.
* **volatility_fee** (leverage fee, ``M_LF_*``) — per protocol under it, a borrow-rate add-on
  ``r = min(max_rate, k · max(0, σ − σ_ref))`` a year with ``σ`` the largest realized volatility
  of its risky collateral assets (LT > 0); a fee index ``lev_ix[pr]`` (1 at the start) grows
  ``× (1 + r · dt / year)`` each step (:func:`leverage_fee_before`). The single-pair positions'
  debts are scaled amounts (as Aave's scaled balances): the debt owed is ``d · lev_ix`` and the
  liquidation stage values the debt asset at ``pd · lev_ix``. Multi-asset positions are not
  charged (*simplification*).
* **volatility_bonus** (``M_VF_*``) — bonus ``min(max(max_bonus, b), b · (1 + k · max(0, σ − σ_ref)))``
  (:func:`vol_fee_bonus`; never below the base bonus ``b``, which is the Dutch bonus when both
  are on).
"""

from __future__ import annotations

import math

import numpy as np

from ..venues.dispatch import route_sell, venue_sell_to_price, venue_spot
from ._jit import internal, njit
from .layouts import MS_BP_CAP, MS_FUND, MS_TH_USED, NCA, NMS, SUM_PROCEEDS, MechState

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


# ---- random execution ---------------------------------------------------------------------------


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


# ---- price history: realized volatility and the breaker's fall ---------------------------------


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
def window_fall(phist, t, pr, a, window):
    """``1 − p_t / max(p_{t−window} … p_t)`` (0 when the price did not fall)."""
    lo = t - window
    if lo < 0:
        lo = 0
    mx = 0.0
    for k in range(lo, t + 1):
        if phist[k, pr, a] > mx:
            mx = phist[k, pr, a]
    if mx <= 0.0:
        return 0.0
    f = 1.0 - phist[t, pr, a] / mx
    return f if f > 0.0 else 0.0


@njit
def breaker_step(state, pr, t, fall, threshold, pause, grace):
    """Update protocol ``pr``'s breaker at step ``t``; ``state[pr] = (pause_end, grace_end)``.

    Trips (pause from this step) when ``fall > threshold`` and the protocol is neither paused
    nor in grace. Returns ``(paused, restricted)``: paused now; paused or in grace now."""
    if t >= state[pr, 1] and fall > threshold:
        state[pr, 0] = t + pause
        state[pr, 1] = t + pause + grace
    return t < state[pr, 0], t < state[pr, 1]


# ---- throttle -----------------------------------------------------------------------------------


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


# ---- bonus, margin ------------------------------------------------------------------------------


@njit
def dutch_bonus(start, max_bonus, steps_to_max, age):
    """Linear rise from ``start`` to ``max_bonus`` over ``steps_to_max`` steps of ``age``."""
    if age <= 0:
        return start
    if steps_to_max <= 0 or age >= steps_to_max:
        return max_bonus
    return start + (max_bonus - start) * age / steps_to_max


@njit
def vol_fee_bonus(bonus, vol, k, vol_ref, max_bonus):
    """``min(max(max_bonus, bonus), bonus · (1 + k · max(0, vol − vol_ref)))``."""
    x = vol - vol_ref
    if x < 0.0:
        x = 0.0
    b = bonus * (1.0 + k * x)
    cap = max_bonus if max_bonus > bonus else bonus
    return b if b < cap else cap


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


@njit
def ramp_set(rs, t, target, ramp):
    """A new target for the ramp state ``rs = (from, target, end)`` at step ``t`` (Euler v2
    ``setLTV``): unchanged target → nothing; a target below the value in force ramps from that
    value over ``ramp`` steps; otherwise it applies at once. Returns the value in force."""
    cur = ramp_value(rs[0], rs[1], rs[2], t, ramp)
    if target != rs[1]:
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


# ---- sales: TWAP ring, buffer pool, insurance fund ----------------------------------------------


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


@njit
def pool_buy(q, value, capital, discount):
    """The buffer pool buys from ``q`` units worth ``value`` at the oracle, paying
    ``(1 − discount)`` of that, within ``capital``. Returns ``(units bought, quote paid)``."""
    if q <= 0.0 or value <= 0.0 or capital <= 0.0:
        return 0.0, 0.0
    cost = value * (1.0 - discount)
    if cost <= capital:
        return q, cost
    s = capital / cost
    return q * s, capital


@njit
def fund_absorb(fund, bad_value):
    """Draw ``bad_value`` from the fund. Returns ``(fund left, drawn, socialized)``."""
    if bad_value <= 0.0:
        return fund, 0.0, 0.0
    d = bad_value if bad_value < fund else fund
    if d < 0.0:
        d = 0.0
    return fund - d, d, bad_value - d


@njit
def account_liquidation(mk, pr, a, t, seize, repaid_value, bad_value, fee_value, seized_value,
                        th_on, bp_on, tw_on, if_on, if_share, th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund):
    """Book one liquidation of protocol ``pr`` (asset ``a``) into the mechanisms it is under: the
    throttle's window and per-step sales, the buffer pool's and the TWAP exit's queues (``tb_q``:
    units under both), and the insurance fund (fed by ``if_share`` of the fee, drawing the bad
    debt). Returns ``(throttle debt added, fund left, fund drawn, socialized)``; without the
    fund the whole bad debt is socialized."""
    th_add = 0.0
    if th_on and mk[MK_TH, pr] != 0:
        th_ring[t % th_ring.shape[0]] += repaid_value
        th_add = repaid_value
        th_sold[a] += seize
    pool = bp_on and mk[MK_BP, pr] != 0
    if pool:
        bp_q[a] += seize
        bp_v[a] += seized_value
    if tw_on and mk[MK_TW, pr] != 0:
        tw_q[a] += seize
        if pool:
            tb_q[a] += seize
    if if_on and mk[MK_IF, pr] != 0:
        fund += if_share * fee_value
        fund, drawn, soc = fund_absorb(fund, bad_value)
        return th_add, fund, drawn, soc
    return th_add, fund, 0.0, bad_value


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


# ================================================================================================
# Hooks the time loop's stages call (kernels.stages). Each takes the mechanism parameters
# ``mp``/mask ``mk`` and the arrays it reads or writes; the per-path state is the layout
# :class:`liqcascade.kernels.layouts.MechState` (``mst``).
# ================================================================================================


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


@internal
def breaker_before(mp, mk, t, lt, stable, phist, cb_state, restricted):
    """Circuit breaker at step ``t``: per protocol under it, the largest window fall of its risky
    collateral assets (LT > 0) trips or keeps the breaker (:func:`breaker_step`); sets
    ``restricted[pr]``. Returns True when some protocol is paused (not in grace) now."""
    any_paused = False
    for pr in range(lt.shape[0]):
        if mk[MK_CB, pr] == 0:
            continue
        fall = 0.0
        for a in range(lt.shape[1]):
            if not stable[a] and lt[pr, a] > 0.0:
                f = window_fall(phist, t, pr, a, int(mp[M_CB_WIN]))
                if f > fall:
                    fall = f
        paused, restr = breaker_step(cb_state, pr, t, fall, mp[M_CB_THR], int(mp[M_CB_PAUSE]), int(mp[M_CB_GRACE]))
        restricted[pr] = restr
        if paused:
            any_paused = True
    return any_paused


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


@internal
def volatility_fee_before(mp, mk, t, stable, phist, bonus, volvf, bon):
    """Volatility fee at step ``t``: realized vol ``volvf[pr, a]`` and the bonus in force
    ``bon[pr, a]`` of every protocol under it and risky asset."""
    for pr in range(bon.shape[0]):
        if mk[MK_VF, pr] == 0:
            continue
        for a in range(stable.shape[0]):
            if not stable[a]:
                volvf[pr, a] = realized_vol(phist, t, pr, a, int(mp[M_VF_WIN]), mp[M_DT])
                bon[pr, a] = vol_fee_bonus(bonus[pr, a], volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX])


@internal
def leverage_fee_on(mp):
    """The leverage fee (``volatility_fee``) is on."""
    return mp[M_ON] > 0.0 and mp[M_LF_ON] > 0.0


@njit
def leverage_rate(vol, k, vol_ref, max_rate):
    """Borrow-rate add-on a year: ``min(max_rate, k · max(0, vol − vol_ref))``."""
    x = vol - vol_ref
    if x <= 0.0:
        return 0.0
    r = k * x
    return r if r < max_rate else max_rate


@internal
def leverage_fee_before(mp, mk, t, lt, stable, phist, lev_ix):
    """Leverage fee at step ``t``: each protocol under it accrues ``lev_ix[pr] *= 1 + r · dt/year``
    with ``r`` from the largest realized volatility of its risky collateral assets (LT > 0)."""
    for pr in range(lev_ix.shape[0]):
        if mk[MK_LF, pr] == 0:
            continue
        vol = 0.0
        for a in range(stable.shape[0]):
            if not stable[a] and lt[pr, a] > 0.0:
                v = realized_vol(phist, t, pr, a, int(mp[M_LF_WIN]), mp[M_DT])
                if v > vol:
                    vol = v
        r = leverage_rate(vol, mp[M_LF_K], mp[M_LF_VREF], mp[M_LF_MAX])
        lev_ix[pr] *= 1.0 + r * mp[M_DT] / SECONDS_PER_YEAR


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


@internal
def queue_sales(mp, t, sold, bp_q, bp_v, bp_q_step, bp_units, tw_q, tb_q, tw_ring, ms):
    """Before the step's sales reach the venues: the buffer pool buys what it can of the
    collateral seized by its protocols (``bp_q`` units worth ``bp_v`` at the oracle; afterwards
    ``bp_q``/``bp_v`` hold the units it bought and the quote it paid this step), then the TWAP
    exit queues what its protocols seized (less the pool's purchases from them) and releases
    what is due this step. ``sold[a]`` becomes the units the venues receive."""
    tw_on = mp[M_TW_ON] > 0.0
    bp_on = mp[M_BP_ON] > 0.0
    tw_slices = tw_ring.shape[0]
    for a in range(sold.shape[0]):
        q_pool = 0.0
        bp_q_step[a] = bp_q[a]
        if bp_on and bp_q[a] > 0.0:
            q_pool, paid = pool_buy(bp_q[a], bp_v[a], ms[MS_BP_CAP], mp[M_BP_DISC])
            ms[MS_BP_CAP] -= paid
            bp_units[a] += q_pool
            bp_v[a] = paid  # quote the pool paid this step
            sold[a] = sold[a] - q_pool if sold[a] > q_pool else 0.0
        else:
            bp_v[a] = 0.0
        bp_q[a] = q_pool  # units the pool bought this step
        if tw_on:
            # the pool buys pro rata from what its protocols seized; only its purchases
            # from protocols that also exit by TWAP leave the TWAP queue
            from_tw = 0.0
            if q_pool > 0.0 and tb_q[a] > 0.0:
                from_tw = q_pool * (tb_q[a] / bp_q_step[a])
            tin = tw_q[a] - from_tw
            if tin > sold[a]:
                tin = sold[a]
            if tin > 0.0:
                sold[a] -= tin
                twap_push(tw_ring, t, a, tin, tw_slices)
            sold[a] += twap_pop(tw_ring, t, a)
            tw_q[a] = 0.0
            tb_q[a] = 0.0


@internal
def batch_sales(mp, t, ba, sold, vs, vdk, vdq, av_ptr, av_idx, p_fixed, summary, evbuf, n_ev, rec):
    """The batch auction at step ``t`` (see the module docstring), per asset ``a``: its protocols'
    units of the step ``ba[a, BA_STEP]`` leave ``sold[a]`` and join the window's bundle; the
    keepers sell their slice (routed over the asset's venues, capped by the depth budget); at a
    clearing step the bundle is priced (uniform price ``px``), ``SUM_PROCEEDS += px · Q``, every
    event of the window on ``a`` without an execution price gets ``px`` (when ``rec``) and the
    keepers take the bundle. ``ba[A]`` holds ``(T, first event of the window, batches, 0)``."""
    A = sold.shape[0]
    W = int(mp[M_BA_WIN])
    T = int(ba[A, 0])
    clear = (W > 0 and t % W == 0) or t >= T
    for a in range(A):
        q = ba[a, BA_STEP]
        ba[a, BA_STEP] = 0.0
        if q > 0.0:
            sold[a] = sold[a] - q if sold[a] > q else 0.0
            ba[a, BA_COLL] += q
        ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
        left = ba[a, BA_LEFT]
        if left > 0.0:
            qs = ba[a, BA_SLICE] if ba[a, BA_SLICE] < left else left
            if mp[M_BA_SLIP] > 0.0 and ids.shape[0] > 0:
                room = depth_units(vs, vdk, vdq, av_ptr, av_idx, a, mp[M_BA_SLIP])
                if qs > room:
                    qs = room if room > 0.0 else 0.0
            if qs > 0.0:
                if ids.shape[0] > 0:
                    route_sell(vs, vdk, vdq, ids, qs)
                ba[a, BA_LEFT] = left - qs if left > qs else 0.0
        Q = ba[a, BA_COLL]
        if clear and Q > 0.0:
            if ids.shape[0] > 0:
                r = route_sell(vs.copy(), vdk, vdq, ids, Q)
                px = r[0] / Q * (1.0 - mp[M_BA_MARGIN])
            else:
                px = p_fixed[a] * (1.0 - mp[M_BA_MARGIN])
            summary[SUM_PROCEEDS] += px * Q
            if rec:
                for j in range(int(ba[A, 1]), n_ev):
                    e = evbuf[j]
                    if e["asset"] == a and np.isnan(e["execution_price"]):
                        e["execution_price"] = px
            ba[a, BA_LEFT] += Q
            ba[a, BA_SLICE] = ba[a, BA_LEFT] / (W if W > 0 else 1)
            ba[a, BA_COLL] = 0.0
    if clear:
        ba[A, 1] = n_ev
        ba[A, 2] += 1.0


@internal
def batch_held(ba, a):
    """Units of asset ``a`` collected by the batch auction and not cleared (the liquidators')."""
    if ba.shape[0] <= a + 1:
        return 0.0
    return ba[a, BA_COLL]


@internal
def pool_take(bp_q, bp_v, a):
    """The buffer pool's purchase of asset ``a`` this step, ``(units, quote)``, cleared."""
    pq = bp_q[a]
    pquote = bp_v[a]
    bp_q[a] = 0.0
    bp_v[a] = 0.0
    return pq, pquote


@internal
def held_units(bp_units, tw_ring, a):
    """Units of asset ``a`` the mechanisms hold unsold (buffer pool, TWAP exit queue)."""
    return bp_units[a] + twap_left(tw_ring, a)
