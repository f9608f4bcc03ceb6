"""Plain-Python twin of :mod:`.kernel`, written naively for the parity tests.

Same model, different arithmetic: no tick crossing, no swap steps.

* The pool is its list of positions ``(√a, √b, L)`` and the current ``√P``.
* The token amounts the positions hold at any price are summed position by position
  (``x(s) = Σ L (1/max(s, √a) − 1/√b)⁺``, ``y(s) = Σ L (min(s, √b) − √a)⁺``) in 50-digit
  decimals.
* A sale of token0 with net input ``a (1 − fee)`` moves the price to the ``s'`` where
  ``x(s') − x(s) = a (1 − fee)``, found by **bisection on the price**; it pays
  ``y(s) − y(s')``. The fee is taken on the input as a whole (the kernel takes it per step; the
  totals agree). The to-price amounts are ``(x(s') − x(s)) / (1 − fee)`` directly.
* Below the lowest position (or above the highest) nothing is left; a larger sale stops there
  and returns the rest as unsold.

Accuracy is ~1e-15 relative on the amounts; it is slow. Never use it in the engine.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

_PREC = 50


def _d(v) -> Decimal:
    return Decimal(float(v))


class Pool:
    """Positions ``[(sqrt_lower, sqrt_upper, liquidity)]`` (human units), ``√P``, fee, side."""

    def __init__(self, positions, sqrt_price, fee, asset_is_token0=True):
        self.pos = [(_d(a), _d(b), _d(liq)) for a, b, liq in positions if liq > 0]
        self.s = _d(sqrt_price)
        self.fee = _d(fee)
        self.asset0 = bool(asset_is_token0)
        self.fees = [Decimal(0), Decimal(0)]

    def x_at(self, s: Decimal) -> Decimal:
        tot = Decimal(0)
        for a, b, liq in self.pos:
            lo = max(s, a)
            if lo < b:
                tot += liq * (1 / lo - 1 / b)
        return tot

    def y_at(self, s: Decimal) -> Decimal:
        tot = Decimal(0)
        for a, b, liq in self.pos:
            hi = min(s, b)
            if hi > a:
                tot += liq * (hi - a)
        return tot

    def s_min(self) -> Decimal:
        return min(a for a, _, _ in self.pos)

    def s_max(self) -> Decimal:
        return max(b for _, b, _ in self.pos)

    def spot(self) -> float:
        p = float(self.s) ** 2
        return p if self.asset0 else 1.0 / p

    # --- swaps in the pool's own direction ----------------------------------------------------

    def _bisect(self, f, lo: Decimal, hi: Decimal) -> Decimal:
        """Root of an increasing ``f`` on ``[lo, hi]`` (``f(lo) <= 0 <= f(hi)``)."""
        for _ in range(400):
            mid = (lo + hi) / 2
            if hi - lo <= hi * Decimal("1e-40"):
                break
            if f(mid) < 0:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def swap(self, zero_for_one: bool, amount: float, apply=True):
        """Exact input ``amount`` (fee included). Returns ``(amount_in, amount_out, fee, unsold)``."""
        with localcontext() as ctx:
            ctx.prec = _PREC
            if amount <= 0 or not self.pos:
                return 0.0, 0.0, 0.0, 0.0
            g = 1 - self.fee
            net = _d(amount) * g
            s0 = self.s
            if zero_for_one:
                x0 = self.x_at(s0)
                floor = self.s_min()
                cap = self.x_at(floor) - x0 if floor < s0 else Decimal(0)
                if net >= cap:
                    s1, used_net = min(floor, s0), cap
                else:
                    s1 = self._bisect(lambda s: net - (self.x_at(s) - x0), floor, s0)
                    used_net = net
                out = self.y_at(s0) - self.y_at(s1)
            else:
                y0 = self.y_at(s0)
                ceil = self.s_max()
                cap = self.y_at(ceil) - y0 if ceil > s0 else Decimal(0)
                if net >= cap:
                    s1, used_net = max(ceil, s0), cap
                else:
                    s1 = self._bisect(lambda s: (self.y_at(s) - y0) - net, s0, ceil)
                    used_net = net
                out = self.x_at(s0) - self.x_at(s1)
            used = used_net / g
            fee = used - used_net
            if apply:
                self.s = s1
                self.fees[0 if zero_for_one else 1] += fee
            return float(used), float(out), float(fee), max(float(_d(amount) - used), 0.0)

    def swap_to(self, zero_for_one: bool, s_target: float) -> float:
        """Input (fee included) that moves ``√P`` to ``s_target`` (or empties that side)."""
        with localcontext() as ctx:
            ctx.prec = _PREC
            st = _d(s_target)
            if zero_for_one:
                st = max(st, self.s_min())
                if st >= self.s:
                    return 0.0
                net = self.x_at(st) - self.x_at(self.s)
            else:
                st = min(st, self.s_max())
                if st <= self.s:
                    return 0.0
                net = self.y_at(st) - self.y_at(self.s)
            return float(net / (1 - self.fee))

    # --- the venue's view: asset against quote ------------------------------------------------

    def sell(self, dq):
        _, out, _, unsold = self.swap(self.asset0, dq)
        return out, unsold

    def buy(self, dy):
        _, out, _, unsold = self.swap(not self.asset0, dy)
        return out, unsold

    def sell_to_price(self, p):
        if not p < self.spot():
            return 0.0
        s = p**0.5 if self.asset0 else 1.0 / p**0.5
        return self.swap_to(self.asset0, s)

    def buy_to_price(self, p):
        if not p > self.spot():
            return 0.0
        s = p**0.5 if self.asset0 else 1.0 / p**0.5
        return self.swap_to(not self.asset0, s)

    def reserves(self):
        with localcontext() as ctx:
            ctx.prec = _PREC
            return float(self.x_at(self.s)), float(self.y_at(self.s))


# --- the kind interface used by ``venues/twin.py``: ``cs`` is ``vs[v, AUX:AUX + 7]``, the ticks the
# first ``NK`` entries of ``vdk[v]`` / ``vdq[v]``; the twin rebuilds the ranges from them ----------

NK, FLOOR, UNSOLD, AUX = 7, 9, 10, 11
CS_SQRT, CS_FEE, CS_FEES0, CS_FEES1, CS_ASSET0 = 0, 3, 4, 5, 6


class Venue:
    """The pool as a venue (asset against quote), with the unsold counter."""

    def __init__(self, pool: Pool, unsold: float = 0.0, floor: float = 0.0):
        self.pool = pool
        self.unsold = float(unsold)
        self.floor = float(floor)  # the venue's floor price (0: none): a stub bid at it

    def __copy__(self):
        q = Pool([], 1.0, 0.0, self.pool.asset0)
        q.pos, q.s, q.fee, q.fees = list(self.pool.pos), self.pool.s, self.pool.fee, list(self.pool.fees)
        return Venue(q, self.unsold, self.floor)

    @property
    def spot(self):
        return self.pool.spot()

    @property
    def gross(self):
        return 1.0 - float(self.pool.fee)

    def sell(self, dq):
        if dq <= 0:
            return 0.0
        cap = min(dq, self.pool.sell_to_price(self.floor)) if self.floor > 0 else dq
        out, unsold = self.pool.sell(cap)
        rest = dq - cap + unsold
        self.unsold += rest
        return out + rest * self.floor

    def buy(self, dy):
        return self.pool.buy(dy)[0]

    def sell_to_price(self, p):
        return self.pool.sell_to_price(max(p, self.floor))

    def buy_to_price(self, p):
        return self.pool.buy_to_price(p)


def load(vs, vdk, vdq, v):
    """Ranges between consecutive initialized ticks, each with the running sum of the nets."""
    m = int(vs[v, NK])
    positions, liq = [], 0.0
    for k in range(m - 1):
        liq += float(vdq[v, k])
        if liq > 0:
            positions.append((float(vdk[v, k]), float(vdk[v, k + 1]), liq))
    pool = Pool(positions, vs[v, AUX + CS_SQRT], vs[v, AUX + CS_FEE], vs[v, AUX + CS_ASSET0] != 0)
    return Venue(pool, vs[v, UNSOLD], vs[v, FLOOR])


def spot(vs, v):
    p = float(vs[v, AUX + CS_SQRT]) ** 2
    return p if vs[v, AUX + CS_ASSET0] != 0 else 1.0 / p


def store(vs, v, venue):
    vs[v, AUX + CS_SQRT] = float(venue.pool.s)
    vs[v, UNSOLD] = venue.unsold


def apply_return(vs, vdk, vdq, v, ret):
    ven = load(vs, vdk, vdq, v)
    target = max(ven.spot * ret, vs[v, FLOOR])
    if ret < 1:
        ven.pool.sell(ven.sell_to_price(target))
    else:
        ven.pool.buy(ven.buy_to_price(target))
    store(vs, v, ven)


def decay(vs, v):
    return None


def follows_reference(vs, v):
    return False
