"""What the market participants and adversaries in the time loop share: the layout of their
one float64 pack ``ag`` (header slots by agent; built by :func:`liqcascade.agents.pack.agent_pack`)
and the routing helpers (mean spot, buying an amount of asset across venues).

``ag`` holds the agents' parameters AND their mutable state (inventories, cash, counters,
rings), so ``simulate_path`` works on ``ag.copy()`` for each path. Absent agents have their
``*_ON`` slot at 0 and every hook is then a no-op, so the hooks can be called unconditionally
whenever a pack exists. Summary columns are written by *assignment* from running totals kept in
the pack (column indices are stored in the pack, so the kernels do not import
``kernels.dynamic``); calling a hook that writes them twice is harmless.

Each agent is a folder next to this file (``agents/<name>/``); its ``kernel.py`` holds its
compiled functions. The hooks the time loop calls, in order, are in :mod:`liqcascade.agents.hooks`.
Plain-Python twins: :mod:`liqcascade.agents.twin`.
"""

from __future__ import annotations

import math

from ..kernels._jit import njit
from ..venues.dispatch import route_buy, venue_spot

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
