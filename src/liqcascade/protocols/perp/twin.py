"""Plain-Python twin of :mod:`liqcascade.protocols.perp.kernel`, written naively from §6 of
``protocol-mechanics.md`` for the parity tests.

Same model and same pack layout (the column constants are imported: the layout is the
interface), different arithmetic and structure:

* the pack is loaded into small Python objects (positions, accounts as lists of positions,
  markets), processed, and written back;
* a tier's deduction is recomputed from its definition by recursion each time; the tier is
  found by scanning every row;
* venues are the naive twins of :mod:`liqcascade.venues.twin` (numerical integration
  and bisection); buying an exact asset amount from a book is a bisection on the price
  fraction, from a pool a bisection on the quote spent;
* the ADL queue is Python's ``sorted`` on ``(−rank, position index)``; the random start
  rotates a list.

Slow: for tests only.
"""

from __future__ import annotations

import math

from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_MAX,
)
from liqcascade.funding.kernel import (
    FD_A, FD_BETA, FD_I0, FD_PHI, FD_PN, FD_PPREV, FD_PSUM, FD_SRC, NFP, SRC_CALIBRATED,
)
from liqcascade.venues.kernel import VENUE_CPMM
from liqcascade.protocols.perp.kernel import (
    M_FD,
    M_X_AVAIL,
    M_X_FILL,
    M_X_PX,
    M_FD_IMPACT,
    M_FD_KIND,
    M_FD_PAID,
    M_FD_PAR,
    M_FD_RATE,
    M_FD_ST,
    ADL_AT_PREV_MARK,
    ADL_HL,
    ADL_PNL_LEV,
    ADL_RANDOM,
    BOOK_BUY_K_MAX,
    H_ADL_FILLS,
    H_ADL_NOTIONAL,
    H_ADL_QTY,
    H_BS_CASH,
    H_FEES,
    H_FUND_CASH,
    H_FUND_DRAWN,
    H_N_ADL_CLOSE,
    H_N_BACKSTOP,
    H_N_BANKRUPT,
    H_N_BOOK,
    H_N_FUND,
    H_N_WRITEOFF,
    H_NOT_ADL_CLOSE,
    H_NOT_BACKSTOP,
    H_NOT_BOOK,
    H_NOT_FUND,
    H_NOT_LONG,
    H_RAND_CUR,
    H_SOCIAL,
    H_TREASURY,
    LIMIT_BANKRUPTCY,
    LIMIT_DYDX,
    MARK_EMA,
    MARK_HL,
    MARK_INDEX,
    M_ASSET,
    M_BOOK_CASH,
    M_BOOK_POS,
    M_BS_POS,
    M_EB_DEN,
    M_EB_NUM,
    M_EK_DEN,
    M_EK_NUM,
    M_FUND_POS,
    M_MARK,
    M_MARK_PREV,
    M_NTIER,
    M_VENUE,
    P_ADL_PRICE,
    P_ADL_RANK,
    P_BS_FRAC,
    P_BS_ON,
    P_COOLDOWN,
    P_DYDX_BA,
    P_DYDX_SMMR,
    P_FEE,
    P_FEE_TO_FUND,
    P_FUND_CAP,
    P_FUND_ON,
    P_LIMIT,
    P_MARK,
    P_SLICE,
    P_SLICE_FRAC,
    P_SLICE_MIN,
    P_TAU_BASIS,
    P_TAU_BOOK,
    P_UNWIND_BS,
    P_UNWIND_FUND,
    SLICE_HL,
    SLICE_TIER_DOWN,
    T_LB,
    T_MMR,
)
from liqcascade.venues import twin as V
from liqcascade.venues.cpmm import twin as cpmm_twin


# --- tiers --------------------------------------------------------------------------------


def _deduction(rows, n):
    if n == 0:
        return 0.0
    return _deduction(rows, n - 1) + rows[n][0] * (rows[n][1] - rows[n - 1][1])


def mm_py(rows, notional):
    """Maintenance margin of one position (rows: ``[(lower_bound, mmr), ...]``)."""
    if notional <= 0:
        return 0.0
    tier = 0
    for n, (lb, _) in enumerate(rows):
        if n > 0 and notional > lb:
            tier = n
    return notional * rows[tier][1] - _deduction(rows, tier)


def liquidation_price_py(side, size, price, account_value, rows):
    """Price at which ``equity = MM`` for this position, by bisection on the price."""

    def gap(p):  # equity − MM at price p; increasing for a long, decreasing for a short
        return account_value + side * size * (p - price) - mm_py(rows, size * p)

    if side > 0:
        lo, hi = 0.0, price
        if gap(lo) >= 0:
            return 0.0
        while gap(hi) < 0:
            hi *= 2
        for _ in range(300):
            mid = 0.5 * (lo + hi)
            if gap(mid) < 0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)
    lo, hi = price, price
    while gap(hi) > 0:
        hi *= 2
    lo = 0.0 if gap(0.0) >= 0 else lo
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        if gap(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --- venue helpers ---------------------------------------------------------------------------


def _buy_exact(vs, vdk, vdq, v, amount):
    venue = V._load(vs, vdk, vdq, v)
    if isinstance(venue, cpmm_twin.Pool):
        hi = venue.y
        while venue.x - venue.after_buy(hi)[0] < amount:
            hi *= 2
        lo, hi = V.bisect(lambda dy: (venue.x - venue.after_buy(dy)[0]) - amount, 0.0, hi)
        dy = hi
        venue.x, venue.y = venue.after_buy(dy)
        V._store(vs, v, venue)
        return dy
    hi = 1.0
    while venue.buy_asset(hi) < amount:
        hi *= 2
    _, k = V.bisect(lambda k: venue.buy_asset(k) - amount, 0.0, hi)
    quote = max(venue.depth(k), amount * venue.mid)
    venue.mid = venue.mid * (1 + k)
    V._store(vs, v, venue)
    return quote


def _buy_cap(vs, vdk, vdq, v, p_limit):
    """Most asset one buy order may take, ``p_limit`` None = no limit: a pool gives at most half
    its asset reserve, a book fills at most up to ``(1 + BOOK_BUY_K_MAX)`` × its mid."""
    venue = V._load(vs, vdk, vdq, v)
    if isinstance(venue, cpmm_twin.Pool):
        if p_limit is None:
            return 0.5 * venue.x
        dy = venue.buy_to_price(p_limit)
        return min(venue.x - venue.after_buy(dy)[0], 0.5 * venue.x)
    k = BOOK_BUY_K_MAX
    if p_limit is not None:
        if p_limit <= venue.mid:
            return 0.0
        k = min(k, p_limit / venue.mid - 1)
    return venue.buy_asset(k)


def _market_close(vs, vdk, vdq, v, s, amount, limit, d=None):
    """Close ``amount`` of a side-``s`` position on the book; ``limit`` None = market. A buy first
    takes what a clearinghouse offers the market (``d``: its columns; ``M_X_AVAIL`` units at
    ``M_X_PX`` when within the limit), off the book."""
    if s > 0:
        if limit is not None:
            amount = min(amount, V.venue_sell_to_price(vs, vdk, vdq, v, limit))
        if amount <= 0:
            return 0.0, 0.0
        return amount, V.venue_sell(vs, vdk, vdq, v, amount)
    crossed, cquote = 0.0, 0.0
    if d is not None and d[M_X_AVAIL] > 0 and amount > 0 and (limit is None or d[M_X_PX] <= limit):
        crossed = min(amount, d[M_X_AVAIL])
        cquote = crossed * d[M_X_PX]
        d[M_X_AVAIL] -= crossed
        d[M_X_FILL] += crossed
        amount -= crossed
    amount = min(amount, _buy_cap(vs, vdk, vdq, v, limit))
    if amount <= 0:
        return crossed, cquote
    return crossed + amount, cquote + _buy_exact(vs, vdk, vdq, v, amount)


# --- the twin --------------------------------------------------------------------------------


class _Pos:
    def __init__(self, i, side, size, entry, acct, mkt):
        self.i, self.side, self.size, self.entry, self.acct, self.mkt = i, side, size, entry, acct, mkt


class _Twin:
    def __init__(self, pack, vs, vdk, vdq, acc, ev, t, proto_id, pos_offset):
        (self.params, self.side_a, self.size_a, self.entry_a, self.pos_acct, self.pos_mkt,
         self.margin_a, self.last_partial_a, _kind, _ptr, _pos, self.mkt_a, tiers, self.hold_a,
         self.adl_u) = pack
        p = self.params
        self.P = {k: float(p[k]) for k in range(len(p))}
        self.pos = [_Pos(i, float(self.side_a[i]), float(self.size_a[i]), float(self.entry_a[i]),
                         int(self.pos_acct[i]), int(self.pos_mkt[i])) for i in range(len(self.size_a))]
        self.margin = [float(x) for x in self.margin_a]
        self.last_partial = [float(x) for x in self.last_partial_a]
        self.accounts = [[q for q in self.pos if q.acct == a] for a in range(len(self.margin))]
        self.mk = [dict(enumerate(float(x) for x in row)) for row in self.mkt_a]
        self.rows = []
        for m, row in enumerate(self.mkt_a):
            nt = int(row[M_NTIER])
            self.rows.append([(float(tiers[m, n, T_LB]), float(tiers[m, n, T_MMR])) for n in range(nt)])
        self.hold = [float(x) for x in self.hold_a]
        self.vs, self.vdk, self.vdq = vs, vdk, vdq
        self.acc, self.ev, self.t = acc, ev, t
        self.proto_id, self.pos_offset = proto_id, pos_offset

    # ------------------------------------------------------------------ bookkeeping
    def store(self):
        for q in self.pos:
            self.size_a[q.i] = q.size
        for a, x in enumerate(self.margin):
            self.margin_a[a] = x
            self.last_partial_a[a] = self.last_partial[a]
        for m, d in enumerate(self.mk):
            for c, x in d.items():
                self.mkt_a[m, c] = x
        for k, x in enumerate(self.hold):
            self.hold_a[k] = x

    def mark(self, m):
        return self.mk[m][M_MARK]

    def open(self, a):
        return [q for q in self.accounts[a] if q.size > 0]

    def equity(self, a):
        return self.margin[a] + sum(q.side * q.size * (self.mark(q.mkt) - q.entry) for q in self.open(a))

    def mm(self, a):
        return sum(mm_py(self.rows[q.mkt], q.size * self.mark(q.mkt)) for q in self.open(a))

    def fund_value(self):
        return self.hold[H_FUND_CASH] + sum(d[M_FUND_POS] * d[M_MARK] for d in self.mk if d[M_FUND_POS] != 0)

    def emit(self, q, seized, repaid, exe, bonus, bad, fee):
        n = self.ev["n"]
        if n < len(self.ev["step"]):
            row = (self.t, self.pos_offset + q.i, self.proto_id, int(self.mk[q.mkt][M_ASSET]), seized,
                   repaid, self.mark(q.mkt), exe, bonus, bad, fee)
            for name, x in zip(("step", "pos", "proto", "asset", "seized", "repaid", "price", "exec",
                                "bonus", "bad", "fee"), row):
                self.ev[name][n] = x
            self.ev["n"] = n + 1

    # ------------------------------------------------------------------ marks
    def update_marks(self, prices, dt):
        for d in self.mk:
            index = float(prices[int(d[M_ASSET])])
            mid = V.venue_spot(self.vs, int(d[M_VENUE]))
            fb = math.exp(-dt / self.P[P_TAU_BASIS])
            fk = math.exp(-dt / self.P[P_TAU_BOOK])
            d[M_EB_NUM] = d[M_EB_NUM] * fb + (mid - index) * dt
            d[M_EB_DEN] = d[M_EB_DEN] * fb + dt
            d[M_EK_NUM] = d[M_EK_NUM] * fk + mid * dt
            d[M_EK_DEN] = d[M_EK_DEN] * fk + dt
            ema_basis = d[M_EB_NUM] / d[M_EB_DEN]
            mode = int(self.P[P_MARK])
            if mode == MARK_INDEX:
                new = index
            elif mode == MARK_EMA:
                new = index + ema_basis
            elif mode == MARK_HL:
                new = sorted([index + ema_basis, mid, d[M_EK_NUM] / d[M_EK_DEN]])[1]
            else:
                new = sorted([index, index + ema_basis, mid])[1]
            d[M_MARK_PREV] = new if math.isnan(d[M_MARK]) else d[M_MARK]
            d[M_MARK] = new

    # ------------------------------------------------------------------ funding
    def funding(self, prices, dt):
        """Funding sample by sample (``funding/kernel.py``): every ``sample`` seconds the
        step's premium joins the interval's list of samples (Binance: weights 1, 2, 3, …;
        Hyperliquid: equal); when the clock reaches the interval's end the rate is settled from
        the explicit average and every holder pays ``position · price · rate``. The running
        sums live in the market's state columns between steps (sum of w·P, sum of w, count,
        elapsed)."""
        from liqcascade.funding.binance.kernel import impact_prices_book, impact_prices_cpmm

        for m, d in enumerate(self.mk):
            kind = int(d[M_FD_KIND])
            if kind == 0:
                continue
            par = [d[M_FD_PAR + j] for j in range(NFP)]
            st = M_FD_ST
            index = float(prices[int(d[M_ASSET])])
            v = int(d[M_VENUE])
            if int(self.vs[v, 0]) == VENUE_CPMM:
                bid, ask = impact_prices_cpmm(self.vs[v, 1], self.vs[v, 2], self.vs[v, 3], d[M_FD_IMPACT])
            else:
                bid, ask = impact_prices_book(self.vs[v, 4], self.vdk[v], self.vdq[v], int(self.vs[v, 7]),
                                              d[M_FD_IMPACT])
            if kind == 2 and par[7] != 0.0:
                prem = 0.5 * (bid + ask) / index - 1.0
            else:
                prem = (max(0.0, bid - index) - max(0.0, index - ask)) / index
            fd = M_FD
            if int(d[fd + FD_SRC]) == SRC_CALIBRATED:  # the fitted response replaces the book's premium
                if d[fd + FD_I0] <= 0:
                    d[fd + FD_I0] = index
                prem = d[fd + FD_A] + d[fd + FD_PHI] * d[fd + FD_PPREV] + d[fd + FD_BETA] * math.log(index / d[fd + FD_I0])
            if kind == 1:
                interest, damper, interval, cap, floor, sample, _, mode = par[:8]
            else:
                interest, damper, cap, interval, sample, _, mode, _ = par[:8]
            rate = 0.0
            closed = mode == 1.0
            if mode == 1.0:
                f8 = prem + min(max(interest - prem, -damper), damper)
                if kind == 1:
                    r = min(max(f8 * interval / 28_800.0, floor), cap)
                else:
                    r = min(max(f8 / 8.0, -cap), cap) * interval / 3600.0
                rate = r * dt / interval
            else:
                n_samples = int(round(dt / sample))
                for _ in range(n_samples):
                    # kernel slots: Binance (ΣwP, Σw, n, elapsed); Hyperliquid (ΣP, n, elapsed)
                    if kind == 1:
                        w = d[st + 2] + 1.0
                        d[st + 0] += w * prem
                        d[st + 1] += w
                        d[st + 2] += 1.0
                        d[st + 3] += sample
                        done = d[st + 3] >= interval - 1e-9
                    else:
                        d[st + 0] += prem
                        d[st + 1] += 1.0
                        d[st + 2] += sample
                        done = d[st + 2] >= interval - 1e-9
                    if done:
                        closed = True
                        if kind == 1:
                            p_avg = d[st + 0] / d[st + 1]
                            f8 = p_avg + min(max(interest - p_avg, -damper), damper)
                            rate += min(max(f8 * interval / 28_800.0, floor), cap)
                            d[st + 0] = d[st + 1] = d[st + 2] = d[st + 3] = 0.0
                        else:
                            p_avg = d[st + 0] / d[st + 1]
                            f8 = p_avg + min(max(interest - p_avg, -damper), damper)
                            rate += min(max(f8 / 8.0, -cap), cap) * interval / 3600.0
                            d[st + 0] = d[st + 1] = d[st + 2] = 0.0
            d[fd + FD_PSUM] += prem
            d[fd + FD_PN] += 1.0
            if closed:
                d[fd + FD_PPREV] = d[fd + FD_PSUM] / d[fd + FD_PN]
                d[fd + FD_PSUM] = d[fd + FD_PN] = 0.0
                d[fd + FD_I0] = index
            d[M_FD_RATE] = rate
            px = d[M_MARK] if kind == 1 else index
            if rate == 0.0 or not px > 0:
                continue
            for q in self.pos:
                if q.mkt != m or q.size <= 0:
                    continue
                pay = q.side * q.size * px * rate
                self.margin[q.acct] -= pay
                if q.side > 0:
                    d[M_FD_PAID] += pay
            d[M_BOOK_CASH] -= d[M_BOOK_POS] * px * rate
            self.hold[H_FUND_CASH] -= d[M_FUND_POS] * px * rate
            self.hold[H_BS_CASH] -= d[M_BS_POS] * px * rate

    def unwind(self):
        for d in self.mk:
            v = int(d[M_VENUE])
            for col, cash, frac in ((M_FUND_POS, H_FUND_CASH, self.P[P_UNWIND_FUND]),
                                    (M_BS_POS, H_BS_CASH, self.P[P_UNWIND_BS])):
                if frac <= 0 or d[col] == 0:
                    continue
                s = 1.0 if d[col] > 0 else -1.0
                got, quote = _market_close(self.vs, self.vdk, self.vdq, v, s, frac * abs(d[col]), None, d)
                if got <= 0:
                    continue
                d[col] -= s * got
                self.hold[cash] += s * quote
                d[M_BOOK_POS] += s * got
                d[M_BOOK_CASH] -= s * quote

    # ------------------------------------------------------------------ transfers
    def shares(self, a, eq):
        """Equity share and bankruptcy price of each open position (split by notional)."""
        ps = self.open(a)
        total = sum(q.size * self.mark(q.mkt) for q in ps)
        out = []
        for q in ps:
            share = eq * (q.size * self.mark(q.mkt) / total)
            out.append((q, share, self.mark(q.mkt) - q.side * share / q.size))
        return out

    def takeover(self, a, eq, to_fund):
        col = M_FUND_POS if to_fund else M_BS_POS
        cash = H_FUND_CASH if to_fund else H_BS_CASH
        for q, share, pb in self.shares(a, eq):
            size = q.size
            self.margin[a] += q.side * size * (pb - q.entry)
            q.size = 0.0
            self.mk[q.mkt][col] += q.side * size
            self.hold[cash] -= q.side * size * pb
            gain, loss = max(share, 0.0), max(-share, 0.0)
            if to_fund:
                self.hold[H_FUND_DRAWN] += loss
                self.acc[ACC_FUND_DRAW] += loss
                self.hold[H_N_FUND] += 1
                self.hold[H_NOT_FUND] += size * self.mark(q.mkt)
                if share < 0:
                    self.hold[H_N_BANKRUPT] += 1
            else:
                self.hold[H_N_BACKSTOP] += 1
                self.hold[H_NOT_BACKSTOP] += size * self.mark(q.mkt)
            if q.side > 0:
                self.hold[H_NOT_LONG] += size * self.mark(q.mkt)
            self.acc[ACC_NLIQ] += 1
            self.acc[ACC_LIQ_VALUE] += size * self.mark(q.mkt)
            self.acc[ACC_REPAID] += gain
            self.acc[ACC_BAD] += loss
            self.acc[ACC_BONUS] += gain
            self.emit(q, size, gain, pb, gain, loss, 0.0)
        self.hold[cash] += self.margin[a]
        self.margin[a] = 0.0

    def rank(self, q, value):
        p = self.mark(q.mkt)
        lev = q.size * p / value
        mode = int(self.P[P_ADL_RANK])
        if mode == ADL_HL:
            return (p / q.entry if q.side > 0 else q.entry / p) * lev
        if mode == ADL_PNL_LEV:
            pnl = q.side * (p - q.entry) / q.entry
            return pnl * lev if pnl > 0 else pnl / lev
        return 0.0

    def adl(self, a, eq):
        prev = int(self.P[P_ADL_PRICE]) == ADL_AT_PREV_MARK
        for q, share, pb in self.shares(a, eq):
            price = self.mk[q.mkt][M_MARK_PREV] if prev else pb
            values = {b: self.equity(b) for b in range(len(self.margin))}
            cands = [c for c in self.pos if c.mkt == q.mkt and c.size > 0 and c.side == -q.side
                     and c.acct != a and values[c.acct] > 0]
            if int(self.P[P_ADL_RANK]) == ADL_RANDOM:
                u = self.adl_u[int(self.hold[H_RAND_CUR]) % len(self.adl_u)] if len(self.adl_u) else 0.0
                self.hold[H_RAND_CUR] += 1
                start = min(int(u * len(cands)), max(len(cands) - 1, 0))
                queue = cands[start:] + cands[:start]
            else:
                queue = sorted(cands, key=lambda c: (-self.rank(c, values[c.acct]), c.i))
            left = q.size
            for c in queue:
                if left <= 0:
                    break
                take = min(c.size, left)
                self.margin[c.acct] += c.side * take * (price - c.entry)
                c.size -= take
                left -= take
                self.hold[H_ADL_FILLS] += 1
                self.hold[H_ADL_QTY] += take
                self.hold[H_ADL_NOTIONAL] += take * price
            if left > 0:
                self.mk[q.mkt][M_BOOK_POS] += q.side * left
                self.mk[q.mkt][M_BOOK_CASH] -= q.side * left * price
            size = q.size
            self.margin[a] += q.side * size * (price - q.entry)
            q.size = 0.0
            gain, loss = max(share, 0.0), max(-share, 0.0)
            self.hold[H_N_ADL_CLOSE] += 1
            self.hold[H_NOT_ADL_CLOSE] += size * self.mark(q.mkt)
            if share < 0:
                self.hold[H_N_BANKRUPT] += 1
            if q.side > 0:
                self.hold[H_NOT_LONG] += size * self.mark(q.mkt)
            self.acc[ACC_NLIQ] += 1
            self.acc[ACC_LIQ_VALUE] += size * self.mark(q.mkt)
            self.acc[ACC_REPAID] += gain
            self.acc[ACC_BAD] += loss
            self.emit(q, size, gain, price, 0.0, loss, 0.0)
        if not prev or self.margin[a] < 0:
            self.hold[H_SOCIAL] -= self.margin[a]
            self.margin[a] = 0.0

    def resolve(self, a, eq):
        can = self.P[P_FUND_ON] > 0
        if can:
            after = self.fund_value() + eq
            can = after >= 0
            cap = self.P[P_FUND_CAP]
            if can and not math.isinf(cap):
                for m, d in enumerate(self.mk):
                    mine = [q for q in self.open(a) if q.mkt == m]
                    if mine:
                        new = d[M_FUND_POS] + sum(q.side * q.size for q in mine)
                        if abs(new) * d[M_MARK] > cap * after:
                            can = False
        if can:
            self.takeover(a, eq, True)
        else:
            self.adl(a, eq)

    # ------------------------------------------------------------------ one account
    def book_liquidation(self, a, now):
        cooling = now - self.last_partial[a] < self.P[P_COOLDOWN]
        sliced = False
        short_fill = False
        last = None
        for q in list(self.accounts[a]):
            if q.size <= 0:
                continue
            last = q
            p = self.mark(q.mkt)
            want = q.size
            is_part = False
            if int(self.P[P_SLICE]) == SLICE_HL and q.size * p > self.P[P_SLICE_MIN] and not cooling:
                want, is_part = self.P[P_SLICE_FRAC] * q.size, True
            elif int(self.P[P_SLICE]) == SLICE_TIER_DOWN:
                rows = self.rows[q.mkt]
                lbs = [lb for n, (lb, _) in enumerate(rows) if n > 0 and lb < q.size * p]
                if lbs:
                    want, is_part = q.size - lbs[-1] / p, True
            e_before = self.equity(a)
            limit = None
            if int(self.P[P_LIMIT]) == LIMIT_BANKRUPTCY:
                limit = p - q.side * e_before / q.size
            elif int(self.P[P_LIMIT]) == LIMIT_DYDX:
                abr = min(1.0, max(0.0, self.P[P_DYDX_BA] * (1 - e_before / self.mm(a))))
                pmmr = mm_py(self.rows[q.mkt], q.size * p)
                limit = p - q.side * abr * self.P[P_DYDX_SMMR] * pmmr / q.size
            got, quote = _market_close(self.vs, self.vdk, self.vdq, int(self.mk[q.mkt][M_VENUE]),
                                       q.side, want, limit, self.mk[q.mkt])
            if got < want:
                short_fill = True
            if got <= 0:
                continue
            fill = quote / got
            self.margin[a] += q.side * got * (fill - q.entry)
            q.size -= got
            self.mk[q.mkt][M_BOOK_POS] += q.side * got
            self.mk[q.mkt][M_BOOK_CASH] -= q.side * quote
            sliced = sliced or is_part
            e_after = self.equity(a)
            fee = min(self.P[P_FEE] * quote, max(e_after, 0.0))
            self.margin[a] -= fee
            self.hold[H_FUND_CASH] += fee * self.P[P_FEE_TO_FUND]
            self.hold[H_TREASURY] += fee - fee * self.P[P_FEE_TO_FUND]
            self.hold[H_FEES] += fee
            consumed = e_before - (e_after - fee)
            gain = q.side * got * (p - fill)
            self.hold[H_N_BOOK] += 1
            self.hold[H_NOT_BOOK] += got * p
            if q.side > 0:
                self.hold[H_NOT_LONG] += got * p
            self.acc[ACC_NLIQ] += 1
            self.acc[ACC_LIQ_VALUE] += got * p
            self.acc[ACC_REPAID] += consumed
            self.acc[ACC_FEES] += fee
            self.acc[ACC_BONUS] += gain
            self.emit(q, got, consumed, fill, gain, 0.0, fee)
        if sliced:
            self.last_partial[a] = now
        eq, mm = self.equity(a), self.mm(a)
        if self.open(a):
            if self.P[P_BS_ON] > 0 and 0 <= eq < self.P[P_BS_FRAC] * mm:
                return "backstop"
            if eq < 0 or (short_fill and eq < mm):
                return "resolve"
        elif self.margin[a] < 0:
            deficit = -self.margin[a]
            cover = min(deficit, max(self.fund_value(), 0.0)) if self.P[P_FUND_ON] > 0 else 0.0
            self.hold[H_FUND_CASH] -= cover
            self.hold[H_FUND_DRAWN] += cover
            self.hold[H_SOCIAL] += deficit - cover
            self.hold[H_N_WRITEOFF] += 1
            self.margin[a] = 0.0
            self.acc[ACC_BAD] += deficit
            self.acc[ACC_FUND_DRAW] += cover
            self.emit(last, 0.0, 0.0, self.mark(last.mkt), 0.0, deficit, 0.0)
        return None

    def run(self, prices, dt, liq):
        now = self.t * dt
        self.update_marks(prices, dt)
        self.funding(prices, dt)
        self.unwind()
        cap = int(liq[LQ_MAX]) if len(liq) > LQ_MAX else 0
        acted = 0
        queue = {"backstop": [], "resolve": []}  # phase 1 (book orders) queues for phases 2 and 3
        for a in range(len(self.margin)):
            if cap > 0 and acted >= cap:
                break
            if not self.open(a):
                continue
            eq, mm = self.equity(a), self.mm(a)
            if not eq < mm:
                continue
            acted += 1
            if eq < 0:
                queue["resolve"].append(a)
            elif self.P[P_BS_ON] > 0 and eq < self.P[P_BS_FRAC] * mm:
                queue["backstop"].append(a)
            else:
                then = self.book_liquidation(a, now)
                if then is not None:
                    queue[then].append(a)
        # phase 2: the backstop; phase 3: the fund, else ADL
        for a in queue["backstop"]:
            if self.open(a):
                self.takeover(a, self.equity(a), False)
        for a in queue["resolve"]:
            if self.open(a):
                self.resolve(a, self.equity(a))


def perp_mark_init_py(pack, prices, vs):
    mkt = pack[11]
    for m in range(mkt.shape[0]):
        x = float(prices[int(mkt[m, M_ASSET])])
        mkt[m, M_MARK] = x
        mkt[m, M_MARK_PREV] = x
        mkt[m, M_EB_NUM] = mkt[m, M_EB_DEN] = mkt[m, M_EK_NUM] = mkt[m, M_EK_DEN] = 0.0


def perp_step_py(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
                 sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                 ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """Same contract as :func:`liqcascade.protocols.perp.kernel.perp_step`."""
    ev = {"step": ev_step, "pos": ev_pos, "proto": ev_proto, "asset": ev_asset, "seized": ev_seized,
          "repaid": ev_repaid, "price": ev_price, "exec": ev_exec, "bonus": ev_bonus, "bad": ev_bad,
          "fee": ev_fee, "n": n_ev}
    twin = _Twin(pack, vs, vdk, vdq, acc, ev, t, proto_id, pos_offset)
    twin.run(prices, float(dt_seconds), liq)
    twin.store()
    return ev["n"]
