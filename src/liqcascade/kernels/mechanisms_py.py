"""Plain-Python twin of :mod:`liqcascade.kernels.mechanisms` (naive, for the parity tests).

Written independently of the compiled version: lists instead of ring arithmetic where that is
simpler, Python integers for the hash.
"""

from __future__ import annotations

import math

from ..venues import twin as venues_py
from .mechanisms import MK_BP, MK_IF, MK_TH, MK_TW  # mask rows (layout constants only)

MASK64 = (1 << 64) - 1
YEAR = 365.0 * 86400.0


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def random_delay(seed, path, pos, window):
    if window <= 0:
        return 0
    h = _splitmix(int(seed))
    h = _splitmix(h ^ int(path))
    h = _splitmix(h ^ int(pos))
    return h % (window + 1)


def realized_vol(series, t, window, dt_seconds):
    """``series``: the price history of one (protocol, asset) as a list, index = step."""
    rets = [math.log(series[k] / series[k - 1]) for k in range(max(1, t - window + 1), t + 1)
            if series[k] > 0 and series[k - 1] > 0]
    n = min(window, t)
    if n <= 0:
        return 0.0
    return math.sqrt(sum(r * r for r in rets) / n * YEAR / dt_seconds)


def window_fall(series, t, window):
    mx = max(series[max(0, t - window):t + 1])
    if mx <= 0:
        return 0.0
    return max(0.0, 1.0 - series[t] / mx)


class Breaker:
    def __init__(self):
        self.pause_end = 0
        self.grace_end = 0

    def step(self, t, fall, threshold, pause, grace):
        in_pause_or_grace = t < self.grace_end
        if not in_pause_or_grace and fall > threshold:
            self.pause_end = t + pause
            self.grace_end = t + pause + grace
        return t < self.pause_end, t < self.grace_end


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


def scale_liquidation(seize, repay, bad, fee, closed, s):
    if s >= 1.0:
        return seize, repay, bad, fee, closed
    s = max(s, 0.0)
    return seize * s, repay * s, 0.0, fee * s, False


def room_share(room, amount):
    if amount <= room:
        return 1.0
    if room <= 1e-9 * amount:  # a rounding residue of a window filled exactly: no room
        return 0.0
    return room / amount


def dutch_bonus(start, max_bonus, steps_to_max, age):
    frac = 1.0 if steps_to_max <= 0 else min(1.0, max(0, age) / steps_to_max)
    if age <= 0:
        return start
    if frac >= 1.0:
        return max_bonus
    return start + (max_bonus - start) * frac


def vol_fee_bonus(bonus, vol, k, vol_ref, max_bonus):
    return min(max(max_bonus, bonus), bonus * (1.0 + k * max(0.0, vol - vol_ref)))


def lt_multiplier(vol, vol_ref, lt_per_vol, gas_mult, congestion_k, depth_lost, haircut_k, buffer, min_mult):
    m = 1.0 - buffer - lt_per_vol * max(0.0, vol - vol_ref) - congestion_k * max(0.0, gas_mult - 1.0) \
        - haircut_k * max(0.0, depth_lost)
    return max(min_mult, min(1.0, m))


class TwapRing:
    """A list of (due step, asset, units) entries."""

    def __init__(self):
        self.due = []

    def push(self, t, a, q, slices):
        if q > 0:
            for j in range(slices):
                self.due.append((t + j, a, q / slices))

    def pop(self, t, a):
        q = sum(x for s, b, x in self.due if s == t and b == a)
        self.due = [(s, b, x) for s, b, x in self.due if not (s == t and b == a)]
        return q

    def left(self, a):
        return sum(x for _, b, x in self.due if b == a)


def pool_buy(q, value, capital, discount):
    if q <= 0 or value <= 0 or capital <= 0:
        return 0.0, 0.0
    cost = value * (1.0 - discount)
    frac = min(1.0, capital / cost)
    return q * frac, cost * frac


def fund_absorb(fund, bad_value):
    if bad_value <= 0:
        return fund, 0.0, 0.0
    d = max(0.0, min(fund, bad_value))
    return fund - d, d, bad_value - d


def account_liquidation(mk, pr, a, t, seize, repaid_value, bad_value, fee_value, seized_value,
                        th_on, bp_on, tw_on, if_on, if_share, th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund):
    """Twin of :func:`liqcascade.kernels.mechanisms.account_liquidation`."""
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


class Ramp:
    """Euler v2's liquidation-LTV ramp, written as the contract states it: a setting remembers
    the value in force, the target, and when the ramp ends."""

    def __init__(self):
        self.original, self.target, self.end = 1.0, 1.0, 0.0

    def value(self, t, ramp):
        if t >= self.end or self.target >= self.original or ramp <= 0:
            return self.target
        remaining = self.end - t
        return self.target + (self.original - self.target) * remaining / ramp

    def set(self, t, target, ramp):
        if target == self.target:
            return self.value(t, ramp)
        now = self.value(t, ramp)
        if target < now and ramp > 0:
            self.original, self.end = now, t + ramp
        else:
            self.original, self.end = target, t
        self.target = target
        return self.value(t, ramp)


def tier_in_force(tier, t, ramp):
    if ramp <= 0:
        return tier
    share = min(1.0, t / ramp)
    return 1.0 - share * (1.0 - tier)
