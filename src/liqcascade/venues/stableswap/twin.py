"""Plain-Python twin of :mod:`.kernel`, written naively for the parity tests.

Same model, different arithmetic: nothing here uses the contracts' Newton iterations or the
kernel's closed forms.

* Amounts are exact integers on a grid of ``2^-160`` (every float64 input converts exactly).
* ``D`` and the post-trade balance are found by **bisection on the invariant**, whose sign is
  evaluated exactly in integers: ``F = (Ann (S − D) + D) · n^n Π xp − D^(n+1)`` (the invariant
  multiplied by ``n^n Π xp > 0``; it decreases in ``D`` and increases in every balance).
  Bisection runs to one grid unit.
* The spot is the ratio of the invariant's partial derivatives ``∂F/∂x_i / ∂F/∂x_j``,
  evaluated in exact rationals.
* The to-price amounts are found by bisection on the *traded amount*, trading copies of the
  pool (the kernel searches on the output with regula falsi).

Fees, rates and the final amounts are float64. Accuracy is about 1e-15 relative on the
amounts, whatever the trade size. It is slow; never use it in the engine.
"""

from __future__ import annotations

from fractions import Fraction

MIN_BALANCE_FRAC = 1e-9
_BITS = 160
_ONE = 1 << _BITS


def _to_int(v) -> int:
    """``v`` (float or Fraction) on the 2^-160 grid, rounded down."""
    f = Fraction(v) * _ONE
    return f.numerator // f.denominator


def _to_float(k: int) -> float:
    return float(Fraction(k, _ONE))


def _ann(amp: float, n: int) -> tuple[int, int]:
    """``Ann = amp · n`` as an exact fraction ``(numerator, denominator)``."""
    f = Fraction(amp) * n
    return f.numerator, f.denominator


def _gap_sign(xp: list[int], ann: tuple[int, int], d: int) -> int:
    """Sign of ``(Ann (S − D) + D) · n^n Π xp − D^(n+1)`` (all on the grid), multiplied
    through by ``Ann``'s denominator so that everything stays an integer."""
    n = len(xp)
    a_num, a_den = ann
    prod = n**n
    for x in xp:
        prod *= x
    lhs = (a_num * (sum(xp) - d) + a_den * d) * prod
    rhs = a_den * d ** (n + 1)
    return (lhs > rhs) - (lhs < rhs)


def invariant_int(xp: list[int], amp: float) -> int:
    """``D`` on the grid: the largest grid point with ``F(D) >= 0`` (bisection on ``[0, S]``)."""
    s = sum(xp)
    if s == 0:
        return 0
    ann = _ann(amp, len(xp))
    lo, hi = 0, s  # F(0) = Ann S n^n Π x > 0; F(S) <= 0 by AM-GM
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _gap_sign(xp, ann, mid) >= 0:
            lo = mid
        else:
            hi = mid
    return lo


def balance_for_int(xp: list[int], amp: float, d: int, i: int, j: int, x: int) -> int:
    """Coin ``j``'s grid balance that keeps ``D`` once coin ``i`` is ``x`` (``F`` increases in
    the balance: the smallest grid point with ``F >= 0``)."""
    ann = _ann(amp, len(xp))
    trial = list(xp)
    trial[i] = x
    lo, hi = 0, max(d, 1)
    trial[j] = hi
    while _gap_sign(trial, ann, d) < 0:
        hi *= 2
        trial[j] = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial[j] = mid
        if mid > 0 and _gap_sign(trial, ann, d) >= 0:
            hi = mid
        else:
            lo = mid
    return hi


def fee_at(xpi, xpj, fee, offpeg):
    if offpeg <= 1.0:
        return fee
    return offpeg * fee / ((offpeg - 1.0) * 4.0 * xpi * xpj / (xpi + xpj) ** 2 + 1.0)


class Pool:
    """A StableSwap pool: balances, rate multipliers and parameters as plain Python."""

    def __init__(self, balances, rates, amp, fee, offpeg=1.0, admin_fee=0.0):
        self.bal = [float(b) for b in balances]
        self.rates = [float(r) for r in rates]
        self.amp = float(amp)
        self.fee = float(fee)
        self.offpeg = float(offpeg)
        self.admin = float(admin_fee)

    def copy(self):
        return Pool(self.bal, self.rates, self.amp, self.fee, self.offpeg, self.admin)

    def xp_int(self):
        return [_to_int(Fraction(b) * Fraction(r)) for b, r in zip(self.bal, self.rates)]

    def D(self):
        return _to_float(invariant_int(self.xp_int(), self.amp))

    def spot(self, i, j):
        """Price of coin ``i`` in coin ``j``: ``(∂F/∂x_i) / (∂F/∂x_j)`` times the rate ratio,
        with ``F = Ann (S − D) + D − D^(n+1) / (n^n Π xp)``."""
        xp = self.xp_int()
        n = len(xp)
        d = Fraction(invariant_int(xp, self.amp))
        ann = Fraction(self.amp) * n
        prod = Fraction(n**n)
        for x in xp:
            prod *= x
        pt = d ** (n + 1) / prod
        ratio = (ann + pt / xp[i]) / (ann + pt / xp[j])
        return float(ratio * Fraction(self.rates[i]) / Fraction(self.rates[j]))

    def exchange(self, i, j, dx):
        """Sell ``dx`` coin ``i`` for coin ``j`` (in place). Returns ``(out, admin, unsold)``."""
        if dx <= 0:
            return 0.0, 0.0, 0.0
        xp = self.xp_int()
        d = invariant_int(xp, self.amp)
        floor = _to_int(Fraction(d, _ONE) * Fraction(MIN_BALANCE_FRAC))
        if xp[j] <= floor:
            return 0.0, 0.0, dx
        x = xp[i] + _to_int(Fraction(dx) * Fraction(self.rates[i]))
        used = dx
        y = balance_for_int(xp, self.amp, d, i, j, x)
        if y < floor:
            y = floor
            x = balance_for_int(xp, self.amp, d, j, i, floor)
            used = min(_to_float(x - xp[i]) / self.rates[i], dx)
        dy = _to_float(xp[j] - y)
        f = fee_at(_to_float(xp[i] + x) / 2, _to_float(xp[j] + y) / 2, self.fee, self.offpeg)
        out = dy * (1.0 - f) / self.rates[j]
        admin = dy * f * self.admin / self.rates[j]
        self.bal[i] += used
        self.bal[j] -= out + admin
        return out, admin, dx - used

    def sell_to_price(self, i, j, p):
        """Coin ``i`` to sell so that ``spot(i, j)`` becomes ``p`` (bisection on the amount)."""
        if not p < self.spot(i, j):
            return 0.0

        def trial(dx):
            q = self.copy()
            _, _, unsold = q.exchange(i, j, dx)
            return q.spot(i, j), unsold

        hi = self.bal[j] * self.rates[j] / self.rates[i]
        while True:
            s, unsold = trial(hi)
            if unsold > 0 and s > p:  # the floor comes first: the whole capacity
                return hi - unsold
            if s <= p:
                break
            hi *= 2.0
        lo = 0.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if hi - lo <= 1e-15 * hi or mid in (lo, hi):
                break
            if trial(mid)[0] >= p:
                lo = mid
            else:
                hi = mid
        return lo

    def buy_to_price(self, i, j, p):
        """Coin ``j`` to spend so that ``spot(i, j)`` rises to ``p``."""
        if not p > self.spot(i, j):
            return 0.0
        return self.sell_to_price(j, i, 1.0 / p)


__all__ = ["Pool", "invariant_int", "balance_for_int", "fee_at"]


# --- the kind interface used by ``venues/twin.py`` (columns of ``vs`` as in ``venues/kernel.py``:
# balances in X (asset) and Y (quote), rates in AUX, AUX + 1, parameters from AUX + 2) ----------

X, Y, FLOOR, UNSOLD, AUX = 1, 2, 9, 10, 11


class Venue:
    """The two-coin pool as a venue (asset = coin 0, quote = coin 1)."""

    def __init__(self, pool: Pool, unsold: float = 0.0, floor: float = 0.0):
        self.pool = pool
        self.unsold = float(unsold)
        self.floor = float(floor)  # the venue's floor price (0: none): a stub bid at it

    def __copy__(self):
        return Venue(self.pool.copy(), self.unsold, self.floor)

    @property
    def spot(self):
        return self.pool.spot(0, 1)

    @property
    def gross(self):
        p = self.pool
        return 1.0 - fee_at(p.bal[0] * p.rates[0], p.bal[1] * p.rates[1], p.fee, p.offpeg)

    def sell(self, dq):
        if dq <= 0:
            return 0.0
        cap = min(dq, self.pool.sell_to_price(0, 1, self.floor)) if self.floor > 0 else dq
        out, _, unsold = self.pool.exchange(0, 1, cap)
        rest = dq - cap + unsold
        self.unsold += rest
        return out + rest * self.floor

    def buy(self, dy):
        out, _, _ = self.pool.exchange(1, 0, dy)
        return out

    def sell_to_price(self, p):
        return self.pool.sell_to_price(0, 1, max(p, self.floor))

    def buy_to_price(self, p):
        return self.pool.buy_to_price(0, 1, p)


def load(vs, vdk, vdq, v):
    pool = Pool([vs[v, X], vs[v, Y]], [vs[v, AUX], vs[v, AUX + 1]], vs[v, AUX + 2], vs[v, AUX + 3],
                vs[v, AUX + 4], vs[v, AUX + 5])
    return Venue(pool, vs[v, UNSOLD], vs[v, FLOOR])


def spot(vs, v):
    return load(vs, None, None, v).spot


def store(vs, v, venue):
    vs[v, X] = venue.pool.bal[0]
    vs[v, Y] = venue.pool.bal[1]
    vs[v, UNSOLD] = venue.unsold


def apply_return(vs, vdk, vdq, v, ret):
    ven = load(vs, vdk, vdq, v)
    target = max(ven.spot * ret, vs[v, FLOOR])
    if ret < 1:
        ven.pool.exchange(0, 1, ven.sell_to_price(target))
    else:
        ven.pool.exchange(1, 0, ven.buy_to_price(target))
    store(vs, v, ven)


def decay(vs, v):
    return None


def follows_reference(vs, v):
    return False
