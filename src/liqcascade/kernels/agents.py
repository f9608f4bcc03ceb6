"""Market participants and adversaries inside the dynamic time loop.

``ag`` is one float64 1-D *pack* built by :func:`liqcascade.engine.agents.agent_pack`. It holds
the agents' parameters AND their mutable state (inventories, cash, counters, rings), so
``simulate_path`` must work on ``ag.copy()`` for each path. Absent agents have their ``*_ON``
slot at 0 and every hook is then a no-op, so the hooks can be called unconditionally whenever a
pack exists. Summary columns are written by *assignment* from running totals kept in the pack
(column indices are stored in the pack, so this module does not import ``kernels.dynamic``);
calling a hook that writes them twice is harmless.

Hooks, in the order the time loop calls them in one step ``t``:

1. :func:`agents_flow` — after the exogenous flow, before arbitrage. Records ``t`` in the pack;
   the **hedger** (option market makers short gamma) trades ``gamma · (path[t]/path[t-1] - 1)``
   quote of the asset (sells on a fall, buys on a rise) routed over the asset's venues; the
   **hunter** sells from step ``HU_START`` over ``HU_SELL`` steps what brings the venues of its
   asset down to its target price (the cluster of liquidation prices chosen by the engine),
   capped by its capital, and buys back what it owes ``HU_HOLD`` steps after its last sale (or at
   the last step).
2. :func:`agents_gas_multiple` — ``min(1 + k · n, cap)`` with ``n`` the liquidations noted in
   the last ``window`` steps (this one included); :func:`agents_latency` — steps a position must
   have been liquidatable before a liquidator acts on it.
3. :func:`agents_priority` — the priority fee the winning liquidator pays out of a positive
   profit: ``share · (1 - 1/competitors) · profit``; :func:`agents_note_liquidation` — feeds the
   congestion window.
4. :func:`agents_pre_sales` — the **front-runner** sees the liquidation sales queued in the step
   (``sold[a]``, units) and sells ``share · sold[a]`` (capped at ``capital`` quote) first;
   :func:`agents_post_sales` — it buys the same amount back after them; the **hunter** with
   ``buy_discounted`` also buys what the liquidators dumped (up to what it owes) when the price
   after the dump is below its average sale price.
5. :func:`agents_borrower` — reactive borrowers (see the function); :func:`agents_note_topup`
   records the quote value they bring in.
6. :func:`agents_finish` — after the last step: marks what the hunter still owes at the final
   spot and writes the totals.

Simplifications (also in ``docs/agents.md`` and the run's notes): agents trade at the venues of
the model only and pay no gas; the hunter's capital is asset it borrows (``capital / spot`` units
at step ``HU_START``) and its PnL is ``cash − owed · final mean spot`` (a short sale: the exogenous
drift of units it did not sell is not counted); borrowers' top-ups and repayments come from
outside the system.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import njit
from ..venues.dispatch import route_buy, route_sell, venue_sell_to_price, venue_spot

# ---- pack layout: header slots -----------------------------------------------------------------
AG_A = 0  # number of assets
AG_T = 1  # current step (state; set by agents_flow)
AG_COL_PNL = 2  # summary column of the attackers' PnL, hunter + front-runner (-1: none)
AG_COL_PRIORITY = 3
AG_COL_TOPUP = 4
AG_COL_FRONTRUN = 5
# gas auction
GA_ON = 6
GA_COMP = 7
GA_SHARE = 8
GA_LAT = 9
GA_K = 10
GA_WIN = 11
GA_MAX = 12
GA_RING = 13  # offset of the congestion ring: WIN counts, then WIN step tags
# hunter (parameters)
HU_ON = 14
HU_ASSET = 15
HU_CAPITAL = 16
HU_START = 17
HU_SELL = 18
HU_HOLD = 19
HU_TARGET = 20  # absolute price the hunter pushes its asset's venues to (0: no target)
HU_BUYDISC = 21
# hunter (state)
HU_UNITS = 22  # units borrowed at step HU_START (capital / spot)
HU_SOLD = 23  # units sold
HU_OWED = 24  # units still to buy back
HU_CASH = 25  # quote: sale proceeds − buy-back cost
HU_LAST = 26  # step of the last sale (-1: none)
HU_PROCEEDS = 27  # quote received from sales (for the average sale price)
HU_BOUGHT = 28  # units bought back
# front-runner
FR_ON = 29
FR_ASSET = 30  # -1: every asset
FR_CAPITAL = 31
FR_SHARE = 32
FR_PNL = 33
FR_OWED = 34  # offset of A slots: units sold in pre_sales, bought back in post_sales
# hedger
HE_ON = 35
HE_ASSET = 36
HE_GAMMA = 37
HE_INV = 38  # units (negative: sold)
HE_CASH = 39
# reactive borrowers
BO_ON = 40
BO_SHARE = 41
BO_REACT = 42
BO_TARGET = 43
BO_DELAY = 44
BO_ACTION = 45  # 0 top up collateral, 1 repay debt
BO_SEED = 46
BO_N = 47
BO_FIRST = 48  # offset of N slots: first step of the current episode below react_hf
BO_SEEN = 49  # offset of N slots: last step the position was seen below react_hf (-2: never)
# totals
TOT_PRIORITY = 50
TOT_TOPUP = 51
TOT_NOTED = 52  # liquidations noted
TOT_REACTED = 53  # borrower reactions
TOT_HEDGE = 54  # quote traded by the hedger (absolute)
NHEAD = 55

ACTION_TOPUP = 0
ACTION_DELEVERAGE = 1

_BISECT_MAX = 200


# ---- routing helpers ---------------------------------------------------------------------------


@njit
def _mean_spot(vs, ids):
    if ids.shape[0] == 0:
        return math.nan
    s = 0.0
    for j in range(ids.shape[0]):
        s += venue_spot(vs, ids[j])
    return s / ids.shape[0]


@njit
def route_buy_amount(vs, vdk, vdq, ids, q):
    """Buy ``q`` asset across ``ids`` with best execution (bisection on the quote spent, each
    trial routed on a copy of the venue state). Returns ``(quote_spent, asset_received)``;
    ``asset_received`` is ``q`` to ~1e-12 relative."""
    if ids.shape[0] == 0 or q <= 0.0:
        return 0.0, 0.0
    hi = q * _mean_spot(vs, ids)
    for _ in range(200):
        if route_buy(vs.copy(), vdk, vdq, ids, hi) >= q:
            break
        hi *= 2.0
    lo = 0.0
    for _ in range(_BISECT_MAX):
        if hi - lo <= 1e-13 * hi:
            break
        mid = 0.5 * (lo + hi)
        if route_buy(vs.copy(), vdk, vdq, ids, mid) >= q:
            hi = mid
        else:
            lo = mid
    got = route_buy(vs, vdk, vdq, ids, hi)
    return hi, got


@njit
def _ids(ag, av_ptr, av_idx, a):
    if a < 0 or a + 1 >= av_ptr.shape[0]:
        return av_idx[0:0]
    return av_idx[av_ptr[a]:av_ptr[a + 1]]


@njit
def _put(summary, col, value):
    c = int(col)
    if c >= 0 and c < summary.shape[0]:
        summary[c] = value


@njit
def hunter_pnl(ag, vs, av_ptr, av_idx):
    """The hunter's PnL now: ``cash − owed units × mean spot of its asset``."""
    if ag[HU_ON] <= 0.0:
        return 0.0
    ids = _ids(ag, av_ptr, av_idx, int(ag[HU_ASSET]))
    owed = ag[HU_OWED]
    mark = 0.0
    if owed != 0.0 and ids.shape[0] > 0:
        mark = owed * _mean_spot(vs, ids)
    return ag[HU_CASH] - mark


@njit
def _write_totals(ag, vs, av_ptr, av_idx, summary):
    # SUM_ATTACKER_PNL: hunter + front-runner (the front-runner's alone too, where a column exists)
    if ag[HU_ON] > 0.0 or ag[FR_ON] > 0.0:
        _put(summary, ag[AG_COL_PNL], hunter_pnl(ag, vs, av_ptr, av_idx) + ag[FR_PNL])
    _put(summary, ag[AG_COL_PRIORITY], ag[TOT_PRIORITY])
    _put(summary, ag[AG_COL_TOPUP], ag[TOT_TOPUP])
    _put(summary, ag[AG_COL_FRONTRUN], ag[FR_PNL])


# ---- hooks -------------------------------------------------------------------------------------


@njit
def _hunter_buy_back(ag, vs, vdk, vdq, ids, q):
    if q <= 0.0 or ids.shape[0] == 0:
        return
    cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
    ag[HU_CASH] -= cost
    ag[HU_BOUGHT] += got
    owed = ag[HU_OWED] - got
    if abs(owed) <= 1e-9 * ag[HU_UNITS]:
        owed = 0.0
    ag[HU_OWED] = owed


@njit
def agents_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (1): after the exogenous flow of step ``t``, before arbitrage (hedger, hunter)."""
    ag[AG_T] = t
    T = path.shape[0] - 1
    if ag[HE_ON] > 0.0:
        a = int(ag[HE_ASSET])
        ids = _ids(ag, av_ptr, av_idx, a)
        if ids.shape[0] > 0 and path[t - 1, a] > 0.0:
            r = path[t, a] / path[t - 1, a] - 1.0
            trade = ag[HE_GAMMA] * r  # quote; < 0: sell
            spot = _mean_spot(vs, ids)
            if trade < 0.0 and spot > 0.0:  # a venue priced at zero takes no hedge
                units = -trade / spot
                res = route_sell(vs, vdk, vdq, ids, units)
                ag[HE_INV] -= units
                ag[HE_CASH] += res[0]
                ag[TOT_HEDGE] -= trade
            elif trade > 0.0:
                ag[HE_INV] += route_buy(vs, vdk, vdq, ids, trade)
                ag[HE_CASH] -= trade
                ag[TOT_HEDGE] += trade
    if ag[HU_ON] > 0.0:
        a = int(ag[HU_ASSET])
        ids = _ids(ag, av_ptr, av_idx, a)
        start = int(ag[HU_START])
        n_sell = int(ag[HU_SELL])
        if ids.shape[0] > 0:
            if t == start:
                spot = _mean_spot(vs, ids)
                if spot > 0.0:
                    ag[HU_UNITS] = ag[HU_CAPITAL] / spot
            target = ag[HU_TARGET]
            if start <= t < start + n_sell and target > 0.0:
                left = ag[HU_UNITS] - ag[HU_SOLD]
                need = 0.0
                for j in range(ids.shape[0]):
                    need += venue_sell_to_price(vs, vdk, vdq, ids[j], target)
                q = need / (start + n_sell - t)
                if q > left:
                    q = left
                if q > 0.0:
                    res = route_sell(vs, vdk, vdq, ids, q)
                    ag[HU_CASH] += res[0]
                    ag[HU_PROCEEDS] += res[0]
                    ag[HU_SOLD] += q
                    ag[HU_OWED] += q
                    ag[HU_LAST] = t
            last = int(ag[HU_LAST])
            if ag[HU_OWED] > 0.0 and last >= 0 and (
                    (t >= start + n_sell and t >= last + int(ag[HU_HOLD])) or t == T):
                _hunter_buy_back(ag, vs, vdk, vdq, ids, ag[HU_OWED])
    _write_totals(ag, vs, av_ptr, av_idx, summary)


@njit
def agents_gas_multiple(ag, t):
    """Hook (2): gas multiplier at step ``t``: ``min(1 + k · n, max_gas_multiple)`` with ``n``
    the liquidations noted in steps ``(t - window, t]``; 1 without a gas auction."""
    if ag[GA_ON] <= 0.0:
        return 1.0
    w = int(ag[GA_WIN])
    r = int(ag[GA_RING])
    n = 0.0
    for j in range(w):
        tag = ag[r + w + j]
        if tag > t - w and tag <= t:
            n += ag[r + j]
    m = 1.0 + ag[GA_K] * n
    if m > ag[GA_MAX]:
        m = ag[GA_MAX]
    return m


@njit
def agents_latency(ag):
    """Hook (2): steps a position must have been liquidatable before a liquidator acts on it."""
    if ag[GA_ON] <= 0.0:
        return 0
    return int(ag[GA_LAT])


@njit
def agents_priority(ag, profit):
    """Hook (3): priority fee the winning liquidator pays out of ``profit`` (quote):
    ``share · (1 − 1/competitors) · profit`` for a positive profit (with one competitor nothing
    is bid away), 0 otherwise. Added to the pack's running total."""
    if ag[GA_ON] <= 0.0 or not profit > 0.0:
        return 0.0
    fee = ag[GA_SHARE] * (1.0 - 1.0 / ag[GA_COMP]) * profit
    ag[TOT_PRIORITY] += fee
    return fee


@njit
def agents_note_liquidation(ag, t):
    """Hook (3): one liquidation happened at step ``t`` (feeds the congestion window)."""
    ag[TOT_NOTED] += 1.0
    if ag[GA_ON] <= 0.0:
        return
    w = int(ag[GA_WIN])
    r = int(ag[GA_RING])
    slot = t % w
    if ag[r + w + slot] != t:
        ag[r + w + slot] = t
        ag[r + slot] = 0.0
    ag[r + slot] += 1.0


@njit
def agents_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (4): just before the step's liquidation sales (``sold[a]`` units) are routed, the
    front-runner sells ``share · sold[a]``, capped at ``capital / spot`` units."""
    if ag[FR_ON] <= 0.0:
        return
    A = sold.shape[0]
    only = int(ag[FR_ASSET])
    o = int(ag[FR_OWED])
    for a in range(A):
        ag[o + a] = 0.0
        if only >= 0 and a != only:
            continue
        if not sold[a] > 0.0:
            continue
        ids = _ids(ag, av_ptr, av_idx, a)
        if ids.shape[0] == 0:
            continue
        spot = _mean_spot(vs, ids)
        if not spot > 0.0:
            continue
        q = ag[FR_SHARE] * sold[a]
        cap = ag[FR_CAPITAL] / spot
        if q > cap:
            q = cap
        if q <= 0.0:
            continue
        res = route_sell(vs, vdk, vdq, ids, q)
        ag[FR_PNL] += res[0]
        ag[o + a] = q


@njit
def agents_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (4): just after the step's liquidation sales: the front-runner buys back what it sold
    in :func:`agents_pre_sales`; the hunter (``buy_discounted``, after its sale phase) buys up to
    ``sold[a]`` of what it owes when the spot is below its average sale price. Writes totals."""
    t = int(ag[AG_T])
    if ag[FR_ON] > 0.0:
        o = int(ag[FR_OWED])
        for a in range(sold.shape[0]):
            q = ag[o + a]
            if q > 0.0:
                ids = _ids(ag, av_ptr, av_idx, a)
                cost, got = route_buy_amount(vs, vdk, vdq, ids, q)
                ag[FR_PNL] -= cost
                ag[o + a] = 0.0
    if ag[HU_ON] > 0.0 and ag[HU_BUYDISC] > 0.0 and ag[HU_OWED] > 0.0:
        a = int(ag[HU_ASSET])
        if a >= 0 and a < sold.shape[0] and sold[a] > 0.0 and t >= int(ag[HU_START]) + int(ag[HU_SELL]) - 1:
            ids = _ids(ag, av_ptr, av_idx, a)
            if ids.shape[0] > 0 and ag[HU_SOLD] > 0.0:
                avg = ag[HU_PROCEEDS] / ag[HU_SOLD]
                if _mean_spot(vs, ids) < avg:
                    q = sold[a]
                    if q > ag[HU_OWED]:
                        q = ag[HU_OWED]
                    _hunter_buy_back(ag, vs, vdk, vdq, ids, q)
    _write_totals(ag, vs, av_ptr, av_idx, summary)


@njit
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit
def position_draw(i, seed):
    """A uniform number in [0, 1) fixed by position ``i`` and ``seed`` (splitmix64)."""
    z = np.uint64(i) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
    z = _mix(_mix(z))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def agents_borrower(ag, i, t, hf):
    """Hook (5): ``(coll_scale, debt_scale)`` for position ``i`` with health factor ``hf`` at
    step ``t``.

    Position ``i`` is reactive iff ``position_draw(i, seed) < share``. A reactive position seen
    with ``hf < react_hf`` at consecutive steps (the caller calls this every step for each
    position with ``hf < react_hf``; a step without a call counts as recovered) acts once it has
    been below for ``BO_DELAY`` steps: it tops up collateral by ``target_hf / hf`` or repays
    debt down to ``hf / target_hf``, so its HF becomes ``target_hf``. Every other case returns
    ``(1, 1)``. The caller applies the scales and reports the quote value brought in with
    :func:`agents_note_topup`. Top-ups and repayments come from outside the system."""
    if ag[BO_ON] <= 0.0 or i < 0 or i >= int(ag[BO_N]) or not hf > 0.0:
        return 1.0, 1.0
    if hf >= ag[BO_REACT]:
        return 1.0, 1.0
    if position_draw(i, int(ag[BO_SEED])) >= ag[BO_SHARE]:
        return 1.0, 1.0
    fo = int(ag[BO_FIRST]) + i
    so = int(ag[BO_SEEN]) + i
    if ag[so] != t - 1 and ag[so] != t:
        ag[fo] = t
    ag[so] = t
    if t - ag[fo] < ag[BO_DELAY]:
        return 1.0, 1.0
    ag[TOT_REACTED] += 1.0
    ag[so] = -2.0
    if int(ag[BO_ACTION]) == ACTION_DELEVERAGE:
        return 1.0, hf / ag[BO_TARGET]
    return ag[BO_TARGET] / hf, 1.0


@njit
def agents_note_topup(ag, value):
    """Record the quote value a reactive borrower brought in (collateral added or debt repaid)."""
    ag[TOT_TOPUP] += value


@njit
def agents_finish(ag, vs, vdk, vdq, av_ptr, av_idx, summary):
    """After the last step: write the totals (the hunter's PnL marks what it still owes at the
    final mean spot of its asset)."""
    _write_totals(ag, vs, av_ptr, av_idx, summary)
