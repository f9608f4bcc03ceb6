"""Plain-Python twins of what the mechanisms share (:mod:`liqcascade.mechanisms.kernel`) and of
the hooks that touch several of them (:mod:`liqcascade.mechanisms.hooks`); naive, written
independently of the compiled versions (lists instead of ring arithmetic where that is simpler).
Each mechanism's own twin is ``mechanisms/<name>/twin.py``.
"""

from __future__ import annotations

import math

from ..venues import twin as venues_py
from .insurance_fund.twin import fund_absorb
from .kernel import MK_BP, MK_IF, MK_TH, MK_TW  # mask rows (layout constants only)

YEAR = 365.0 * 86400.0


def realized_vol(series, t, window, dt_seconds):
    """``series``: the price history of one (protocol, asset) as a list, index = step."""
    rets = [math.log(series[k] / series[k - 1]) for k in range(max(1, t - window + 1), t + 1)
            if series[k] > 0 and series[k - 1] > 0]
    n = min(window, t)
    if n <= 0:
        return 0.0
    return math.sqrt(sum(r * r for r in rets) / n * YEAR / dt_seconds)


class RollingSum:
    """Sum of the amounts added in the last ``window`` steps."""

    def __init__(self, window):
        self.window = window
        self.items = []  # (step, amount)

    def used(self, t):
        return sum(x for s, x in self.items if s > t - self.window)

    def add(self, t, x):
        self.items.append((t, x))


def depth_units(venues_list, slippage):
    """``venues_list``: (vs, vdk, vdq, v) tuples of one asset's venues."""
    total = 0.0
    for vs, vdk, vdq, v in venues_list:
        total += venues_py.venue_sell_to_price(vs, vdk, vdq, v, venues_py.venue_spot(vs, v) * (1.0 - slippage))
    return total


def depth_units_to(venues_list, target):
    """Units the venues absorb before each one's spot reaches ``target`` (0 when at or below)."""
    total = 0.0
    for vs, vdk, vdq, v in venues_list:
        if venues_py.venue_spot(vs, v) > target:
            total += venues_py.venue_sell_to_price(vs, vdk, vdq, v, target)
    return total


def account_liquidation(mk, pr, a, t, seize, repaid_value, bad_value, fee_value, seized_value,
                        th_on, bp_on, tw_on, if_on, if_share, th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund):
    """Twin of :func:`liqcascade.mechanisms.hooks.account_liquidation`."""
    under = lambda row: bool(mk[row][pr])  # noqa: E731
    th_add = 0.0
    if th_on and under(MK_TH):
        th_ring[t % len(th_ring)] += repaid_value
        th_add = repaid_value
        th_sold[a] += seize
    if bp_on and under(MK_BP):
        bp_q[a] += seize
        bp_v[a] += seized_value
    if tw_on and under(MK_TW):
        tw_q[a] += seize
        if bp_on and under(MK_BP):
            tb_q[a] += seize
    if if_on and under(MK_IF):
        fund, drawn, soc = fund_absorb(fund + if_share * fee_value, bad_value)
        return th_add, fund, drawn, soc
    return th_add, fund, 0.0, bad_value


def multi_hf(cs, ds, assets, prices, lt_row, lt_scale):
    wv = sum(c * prices[a] * lt_row[a] * lt_scale[a] for c, a in zip(cs, assets))
    dv = sum(d * prices[a] for d, a in zip(ds, assets))
    return math.inf if dv <= 0 else wv / dv
