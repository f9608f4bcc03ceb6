"""Plain-Python twin of :mod:`liqcascade.protocols.llamma.kernel`, written naively for parity tests.

Same model (``protocol-mechanics.md`` §5, curve-stablecoin v1), different code: the market is a
small class holding its bands as Python lists (``x``, ``y``, ``shares``, band number
``nlo + i``); band edges come from ``exp(−n·ln(A/(A−1)))``; a band trade is a small function
that solves the band's invariant for the output; arbitrage sizes are found by plain bisection
on the quote amount; venues are traded through :mod:`liqcascade.venues.twin`.

Accuracy ~1e-12 relative on one step; slow. Never use it in the engine.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from liqcascade.venues import twin as V

MIN_TICKS = 4
MAX_TICKS = 50
MAX_P_O_CHG = 1.25
PREV_P_O_DELAY = 120.0


class User:
    def __init__(self, n1, nb, shares, debt, ld, is_open):
        self.n1 = int(n1)
        self.nb = int(nb)
        self.shares = [float(s) for s in shares[: int(nb)]]
        self.debt = float(debt)
        self.ld = float(ld)
        self.open = bool(is_open)


class Market:
    """The AMM, its loans and the accounting of everyone who trades with it."""

    def __init__(self):
        self.acct = {}

    # ---- construction from a kernel pack -------------------------------------------------
    @classmethod
    def from_pack(cls, pack):
        par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
        m = cls()
        m.A = float(par[0])
        m.p_base = float(par[1])
        m.fee = float(par[2])
        m.admin_fee = float(par[3])
        m.limiter = bool(par[6])
        m.dynfee = bool(par[7])
        m.asset = int(par[8])
        m.nlo = int(par[9])
        m.thr = float(par[10])
        m.x = [float(v) for v in bx]
        m.y = [float(v) for v in by]
        m.s = [float(v) for v in bs]
        m.active = int(st[0])
        m.p_o = float(st[1])
        m.old_p_o = float(st[2])
        m.old_dfee = float(st[3])
        m.prev_time = float(st[4])
        m.users = [User(u_n1[u], u_nb[u], u_sh[u], u_debt[u], u_ld[u], u_open[u]) for u in range(len(u_debt))]
        names = ["admin_x", "admin_y", "fee_x", "fee_y", "arb_cash", "arb_inv", "arb_sold_y",
                 "arb_bought_y", "arb_q_in", "arb_q_out", "pump_x", "pump_y", "dump_y", "dump_x",
                 "liq_x", "liq_y", "liqr_cash", "wd_x", "wd_y", "repaid", "bad"]
        idx = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]
        m.acct = {k: float(st[i]) for k, i in zip(names, idx)}
        m.acct["coll0"] = float(st[26])
        m.acct["debt0"] = float(st[27])
        m.acct["n_hard"] = float(st[28])
        m.acct["n_arb"] = float(st[29])
        return m

    # ---- bands ------------------------------------------------------------------------------
    def p_up(self, n):
        return self.p_base * math.exp(-n * math.log(self.A / (self.A - 1.0)))

    def p_down(self, n):
        return self.p_up(n + 1)

    def curve(self, x, y, p_o, n):
        """f, g and the invariant of band n holding (x, y)."""
        A = self.A
        pu = self.p_up(n)
        # p_o·A·y0² − b·y0 − x·y = 0
        b = (A - 1.0) * pu / p_o * x + A * p_o ** 2 / pu * y
        c = x * y
        if c > 0:
            y0 = (b + math.sqrt(b * b + 4.0 * A * p_o * c)) / (2.0 * A * p_o)
        else:
            y0 = b / (A * p_o)
        f = A * y0 * p_o ** 2 / pu
        g = (A - 1.0) * y0 * pu / p_o
        return f, g, (f + x) * (g + y)

    def fee_of_band(self, p_o, n, lim_fee):
        fee = max(self.fee, lim_fee)
        if self.dynfee:
            lo = p_o ** 3 / self.p_up(n) ** 2
            hi = p_o ** 3 / self.p_down(n) ** 2
            if p_o < lo:
                fee = max(fee, 0.25 * (lo - p_o) / lo)
            elif p_o > hi:
                fee = max(fee, 0.25 * (p_o - hi) / p_o)
        return min(fee, 1.0 - 1e-12)

    def limit(self, p, now):
        dt = PREV_P_O_DELAY - min(PREV_P_O_DELAY, now - self.prev_time)
        if dt <= 0:
            return p, 0.0
        hi, lo = max(p, self.old_p_o), min(p, self.old_p_o)
        ratio = lo / hi
        p_new = p
        if ratio < 1.0 / MAX_P_O_CHG:
            ratio = 1.0 / MAX_P_O_CHG
            p_new = self.old_p_o * MAX_P_O_CHG if p > self.old_p_o else self.old_p_o / MAX_P_O_CHG
        fee = (1.0 + self.old_dfee - ratio ** 3) * dt / PREV_P_O_DELAY
        return p_new, max(0.0, min(fee, 1.0 - 1e-12))

    # ---- trades -------------------------------------------------------------------------------
    def pump(self, p_o, lim_fee, amount, apply):
        """Stablecoin in. Returns (used, collateral out, marginal ask)."""
        i = max(self.active - self.nlo, 0)
        left, used, got, ask, last = amount, 0.0, 0.0, float("nan"), i
        new_x, new_y = list(self.x), list(self.y)
        fx = ax = 0.0
        while i < len(self.x):
            x, y = self.x[i], self.y[i]
            if y > 0:
                n = self.nlo + i
                f, g, inv = self.curve(x, y, p_o, n)
                fee = self.fee_of_band(p_o, n, lim_fee)
                room = max(inv / g - f - x, 0.0)  # stablecoin that empties the band
                gross = room / (1.0 - fee)
                last = i
                if gross < left:
                    used += gross
                    left -= gross
                    got += y
                    fx += gross - room
                    ax += (gross - room) * self.admin_fee
                    new_x[i] = x + gross - (gross - room) * self.admin_fee
                    new_y[i] = 0.0
                    ask = (f + x + room) / g / (1.0 - fee)
                else:
                    net = left * (1.0 - fee)
                    y_after = min(max(inv / (f + x + net) - g, 0.0), y)
                    got += y - y_after
                    used += left
                    ask = (f + x + net) / (g + y_after) / (1.0 - fee)
                    if left > 0:
                        fx += left - net
                        ax += (left - net) * self.admin_fee
                        new_x[i] = x + left - (left - net) * self.admin_fee
                        new_y[i] = y_after
                    left = 0.0
                    break
            i += 1
        if apply:
            self.x, self.y = new_x, new_y
            self.acct["fee_x"] += fx
            self.acct["admin_x"] += ax
            if used > 0:
                self.active = self.nlo + last
        return used, got, ask

    def dump(self, p_o, lim_fee, amount, apply):
        """Collateral in. Returns (used, stablecoin out, marginal bid)."""
        i = min(self.active - self.nlo, len(self.x) - 1)
        left, used, got, bid, last = amount, 0.0, 0.0, float("nan"), i
        new_x, new_y = list(self.x), list(self.y)
        fy = ay = 0.0
        while i >= 0:
            x, y = self.x[i], self.y[i]
            if x > 0:
                n = self.nlo + i
                f, g, inv = self.curve(x, y, p_o, n)
                fee = self.fee_of_band(p_o, n, lim_fee)
                room = max(inv / f - g - y, 0.0)
                gross = room / (1.0 - fee)
                last = i
                if gross < left:
                    used += gross
                    left -= gross
                    got += x
                    fy += gross - room
                    ay += (gross - room) * self.admin_fee
                    new_y[i] = y + gross - (gross - room) * self.admin_fee
                    new_x[i] = 0.0
                    bid = f / (g + y + room) * (1.0 - fee)
                else:
                    net = left * (1.0 - fee)
                    x_after = min(max(inv / (g + y + net) - f, 0.0), x)
                    got += x - x_after
                    used += left
                    bid = (f + x_after) / (g + y + net) * (1.0 - fee)
                    if left > 0:
                        fy += left - net
                        ay += (left - net) * self.admin_fee
                        new_y[i] = y + left - (left - net) * self.admin_fee
                        new_x[i] = x_after
                    left = 0.0
                    break
            i -= 1
        if apply:
            self.x, self.y = new_x, new_y
            self.acct["fee_y"] += fy
            self.acct["admin_y"] += ay
            if used > 0:
                self.active = self.nlo + last
        return used, got, bid

    # ---- health -------------------------------------------------------------------------------
    def xy_up(self, user, p_o, want_y):
        A = self.A
        total = 0.0
        for k in range(user.nb):
            n = user.n1 + k
            i = n - self.nlo
            x = self.x[i] if n <= self.active else 0.0
            y = self.y[i] if n >= self.active else 0.0
            if (x <= 0 and y <= 0) or self.s[i] <= 0 or user.shares[k] <= 0:
                continue
            w = user.shares[k] / self.s[i]
            pu, pd = self.p_up(n), self.p_up(n) * (A - 1.0) / A
            geo = math.sqrt(pu * pd)  # adiabatic conversion price of a whole band
            p_mid = p_o ** 3 / (pu * pd)
            if x <= 0 or y <= 0:
                if p_o > pu:
                    yy = y if y > 0 else x / p_mid
                    total += w * (yy if want_y else yy * geo)
                    continue
                if p_o < pd:
                    xx = x if x > 0 else y * p_mid
                    total += w * (xx / geo if want_y else xx)
                    continue
            f, g, inv = self.curve(x, y, p_o, n)
            if p_o > pu:
                yo = max(inv / f, g) - g
                total += w * (yo if want_y else yo * geo)
            elif p_o < pd:
                xo = max(inv / g, f) - f
                total += w * (xo / geo if want_y else xo)
            else:
                yo = max(math.sqrt(inv / p_o), g) - g
                xo = max(inv / (g + yo), f) - f
                total += w * (yo + xo / math.sqrt(pu * p_o) if want_y else xo + yo * math.sqrt(pd * p_o))
        return total

    def health(self, u, p_o, full=True):
        user = self.users[u]
        x_down = self.xy_up(user, p_o, False)
        h = x_down * (1.0 - user.ld) / user.debt - 1.0
        if full and user.n1 > self.active and p_o > self.p_up(user.n1):
            h += (p_o - self.p_up(user.n1)) * self.xy_up(user, p_o, True) / user.debt
        return h

    def user_xy(self, u):
        user = self.users[u]
        sx = sy = 0.0
        for k in range(user.nb):
            i = user.n1 + k - self.nlo
            if self.s[i] > 0 and user.shares[k] > 0:
                sx += self.x[i] * user.shares[k] / self.s[i]
                sy += self.y[i] * user.shares[k] / self.s[i]
        return sx, sy

    def withdraw(self, u):
        user = self.users[u]
        tx = ty = 0.0
        for k in range(user.nb):
            i = user.n1 + k - self.nlo
            ds = user.shares[k]
            if self.s[i] > 0 and ds > 0:
                if self.s[i] - ds <= 1e-12 * self.s[i]:  # last holder: the band is emptied
                    dx, dy = self.x[i], self.y[i]
                    self.x[i] = self.y[i] = self.s[i] = 0.0
                else:
                    dx = self.x[i] * ds / self.s[i]
                    dy = self.y[i] * ds / self.s[i]
                    self.x[i] -= dx
                    self.y[i] -= dy
                    self.s[i] -= ds
                tx += dx
                ty += dy
            user.shares[k] = 0.0
        return tx, ty

    def totals(self):
        a = self.acct
        coll = (sum(self.y) + a["admin_y"] + a["liq_y"] + a["wd_y"] + a["arb_inv"]
                + a["arb_sold_y"] - a["arb_bought_y"] - a["coll0"])
        quote = (sum(self.x) + a["admin_x"] + a["liq_x"] + a["wd_x"] + a["arb_cash"]
                 - (a["arb_q_in"] - a["arb_q_out"]))
        debt = sum(u.debt for u in self.users if u.open) + a["repaid"] + a["bad"] - a["debt0"]
        return {"coll_residual": coll, "x_residual": quote, "debt_residual": debt}


# ---- venues (through the venue twin) -----------------------------------------------------------


def _sell_preview(vs, vdk, vdq, v, p_ext, q):
    """(quote, spot after) of selling q collateral, on a copy of the venue."""
    if v < 0:
        return q * p_ext, p_ext
    tmp = np.array(vs, dtype=float)
    out = V.venue_sell(tmp, vdk, vdq, v, q)
    return out, V.venue_spot(tmp, v)


def _cost_preview(vs, vdk, vdq, v, p_ext, want):
    """(quote, spot after) of buying exactly ``want`` collateral (inf when impossible)."""
    if v < 0:
        return want * p_ext, p_ext
    if want <= 0:
        return 0.0, V.venue_spot(vs, v)
    if int(vs[v, V.KIND]) == V.VENUE_CPMM:
        x, y, fee = vs[v, V.X], vs[v, V.Y], vs[v, V.FEE]
        if want >= x:
            return math.inf, math.inf
        dq = (x * y / (x - want) - y) / (1.0 - fee)
        return dq, (y + dq) / (x - want)

    def got(dq):
        tmp = np.array(vs, dtype=float)
        return V.venue_buy(tmp, vdk, vdq, v, dq), V.venue_spot(tmp, v)

    hi = want * V.venue_spot(vs, v)
    while got(hi)[0] < want:
        hi *= 2.0
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if got(mid)[0] >= want:
            hi = mid
        else:
            lo = mid
    return hi, got(hi)[1]


def _gross(vs, v):
    if v < 0:
        return 1.0
    return 1.0 - vs[v, V.FEE] if int(vs[v, V.KIND]) == V.VENUE_CPMM else 1.0


def _bisect_last_nonneg(gap, hi, iters=400):
    """Largest w in [0, hi] with gap(w) >= 0 (gap decreasing, gap(0) > 0 > gap(hi))."""
    lo = 0.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi or hi - lo <= 1e-15 * hi:
            break
        if gap(mid) >= 0:
            lo = mid
        else:
            hi = mid
    return lo


def plan_py(m, side, p_o, lim_fee, vs, vdk, vdq, v, p_ext):
    """Band-by-band arbitrage plan: (bands taken whole, input into the next band, total input)."""
    up = 1.0 + m.thr
    gv = _gross(vs, v)
    if side == 1:
        order = range(max(m.active - m.nlo, 0), len(m.x))
    else:
        order = range(min(m.active - m.nlo, len(m.x) - 1), -1, -1)
    whole, total, moved = 0, 0.0, 0.0  # moved: collateral out (pump) or in (dump) so far
    for i in order:
        x, y = m.x[i], m.y[i]
        if (side == 1 and y <= 0) or (side == -1 and x <= 0):
            continue
        n = m.nlo + i
        f, g, inv = m.curve(x, y, p_o, n)
        fee = m.fee_of_band(p_o, n, lim_fee)

        if side == 1:
            def gap(w, mult=1.0):
                x_on = x + w * (1.0 - fee)
                y_on = min(max(inv / (f + x_on) - g, 0.0), y)
                band_ask = (f + x_on) / (g + y_on) / (1.0 - fee)
                venue_bid = _sell_preview(vs, vdk, vdq, v, p_ext, moved + y - y_on)[1] * gv
                return venue_bid - band_ask * up * mult
            full = max(inv / g - f - x, 0.0) / (1.0 - fee)
        else:
            def gap(w, mult=1.0):
                y_on = y + w * (1.0 - fee)
                x_on = min(max(inv / (g + y_on) - f, 0.0), x)
                band_bid = (f + x_on) / (g + y_on) * (1.0 - fee)
                venue_ask = _cost_preview(vs, vdk, vdq, v, p_ext, moved + w)[1] / gv
                return band_bid - venue_ask * up * mult
            full = max(inv / f - g - y, 0.0) / (1.0 - fee)

        if not gap(0.0, 1.0 + 1e-12) > 0:
            return whole, 0.0, total
        if gap(full) >= 0:
            whole += 1
            total += full
            moved += y if side == 1 else full
            continue
        w = _bisect_last_nonneg(gap, full)
        return whole, w, total + w
    return whole, 0.0, total


def exec_py(m, side, p_o, lim_fee, whole, w):
    """Apply a plan to the bands: (input used, output)."""
    if side == 1:
        order = range(max(m.active - m.nlo, 0), len(m.x))
    else:
        order = range(min(m.active - m.nlo, len(m.x) - 1), -1, -1)
    used = out = 0.0
    taken = 0
    last = None
    for i in order:
        if taken == whole and w <= 0:
            break
        x, y = m.x[i], m.y[i]
        if (side == 1 and y <= 0) or (side == -1 and x <= 0):
            continue
        n = m.nlo + i
        f, g, inv = m.curve(x, y, p_o, n)
        fee = m.fee_of_band(p_o, n, lim_fee)
        last = i
        if taken < whole:
            net = max(inv / g - f - x, 0.0) if side == 1 else max(inv / f - g - y, 0.0)
            gross = net / (1.0 - fee)
            after = 0.0
        else:
            gross = w
            net = w * (1.0 - fee)
            if side == 1:
                after = min(max(inv / (f + x + net) - g, 0.0), y)
            else:
                after = min(max(inv / (g + y + net) - f, 0.0), x)
        kept = (gross - net) * m.admin_fee
        if side == 1:
            out += y - after
            m.x[i], m.y[i] = x + gross - kept, after
            m.acct["fee_x"] += gross - net
            m.acct["admin_x"] += kept
        else:
            out += x - after
            m.y[i], m.x[i] = y + gross - kept, after
            m.acct["fee_y"] += gross - net
            m.acct["admin_y"] += kept
        used += gross
        if taken < whole:
            taken += 1
        else:
            break
    if last is not None:
        m.active = m.nlo + last
    return used, out


def soft_liquidate_py(m, p_o, lim_fee, p_ext, vs, vdk, vdq, ids):
    a = m.acct
    for _ in range(4 * len(ids) + 4):
        if ids:
            vb = max(ids, key=lambda v: (V.venue_spot(vs, v) * _gross(vs, v), -ids.index(v)))
            va = min(ids, key=lambda v: (V.venue_spot(vs, v) / _gross(vs, v), ids.index(v)))
        else:
            vb = va = -1
        whole, w, total = plan_py(m, 1, p_o, lim_fee, vs, vdk, vdq, vb, p_ext)
        if total > 0:
            used, dy = exec_py(m, 1, p_o, lim_fee, whole, w)
            q = dy * p_ext if vb < 0 else V.venue_sell(vs, vdk, vdq, vb, dy)
            a["pump_x"] += used
            a["pump_y"] += dy
            a["arb_sold_y"] += dy
            a["arb_q_in"] += q
            a["arb_cash"] += q - used
            a["n_arb"] += 1
            continue
        whole, w, total = plan_py(m, -1, p_o, lim_fee, vs, vdk, vdq, va, p_ext)
        if total > 0:
            dq = _cost_preview(vs, vdk, vdq, va, p_ext, total)[0]
            if math.isfinite(dq):
                got = total if va < 0 else V.venue_buy(vs, vdk, vdq, va, dq)
                used, dx = exec_py(m, -1, p_o, lim_fee, whole, w)
                a["arb_bought_y"] += got
                a["arb_q_out"] += dq
                a["arb_inv"] += got - used
                a["dump_y"] += used
                a["dump_x"] += dx
                a["arb_cash"] += dx - dq
                a["n_arb"] += 1
                continue
        break


def llamma_step_py(m, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
                   events, proto_id=0, pos_offset=0):
    """One step on the twin market; events are appended to the list ``events`` as dicts."""
    a = m.asset
    p_raw = float(prices[a])
    now = t * dt_seconds
    if m.limiter:
        p_o, lim_fee = m.limit(p_raw, now)
    else:
        p_o, lim_fee = p_raw, 0.0
    m.old_p_o, m.old_dfee, m.prev_time, m.p_o = p_o, lim_fee, now, p_o
    ids = [int(v) for v in av_idx[av_ptr[a]:av_ptr[a + 1]]]
    ax, ay = m.acct["admin_x"], m.acct["admin_y"]
    soft_liquidate_py(m, p_o, lim_fee, p_raw, vs, vdk, vdq, ids)
    acc[4] += (m.acct["admin_x"] - ax) + (m.acct["admin_y"] - ay) * p_o

    mode, gas, cap, max_n = int(liq[0]), float(liq[1]), float(liq[2]), int(liq[3])
    done = 0
    for u, user in enumerate(m.users):
        if not user.open:
            continue
        if max_n > 0 and done >= max_n:
            break
        if m.health(u, p_o, True) >= 0 or user.debt > cap:
            continue
        if mode == 1:
            x_u, y_u = m.user_xy(u)
            if ids and y_u > 0:
                best = max(ids, key=lambda v: (V.venue_spot(vs, v), -ids.index(v)))
                tmp = np.array(vs, dtype=float)
                before = V.venue_sell(tmp, vdk, vdq, best, sold[a]) if sold[a] > 0 else 0.0
                tmp2 = np.array(vs, dtype=float)
                proceeds = V.venue_sell(tmp2, vdk, vdq, best, sold[a] + y_u) - before
            else:
                proceeds = y_u * p_o
            if x_u + proceeds - user.debt - gas <= 0:
                continue
        x_u, y_u = m.withdraw(u)
        debt = user.debt
        user.debt = 0.0
        user.open = False
        cap -= debt
        done += 1
        m.acct["liq_x"] += x_u
        m.acct["liq_y"] += y_u
        m.acct["liqr_cash"] += x_u - debt
        m.acct["repaid"] += debt
        m.acct["n_hard"] += 1
        sold[a] += y_u
        bonus = x_u + y_u * p_o - debt
        acc[0] += 1
        acc[1] += y_u * p_o
        acc[2] += debt
        acc[5] += bonus
        acc[6] += gas
        events.append({"step": t, "pos": pos_offset + u, "proto": proto_id, "asset": a,
                       "seized": y_u, "repaid": debt, "price": p_o, "bonus": bonus, "bad": 0.0,
                       "fee": 0.0})


def run_unit_py(m, prices_path, vs, vdk, vdq, av_ptr, av_idx, liq, dt_seconds, move_venues=True):
    """Twin of :func:`liqcascade.protocols.llamma.run_unit` (mutates ``m`` and ``vs``)."""
    path = np.asarray(prices_path, dtype=float)
    acc = [0.0] * 8
    events = []
    for t in range(1, path.shape[0]):
        if move_venues:
            for v in range(vs.shape[0]):
                a = int(vs[v, V.ASSET])
                V.venue_apply_return(vs, vdk, vdq, v, path[t, a] / path[t - 1, a])
                V.venue_decay(vs, v)
        sold = [0.0] * path.shape[1]
        llamma_step_py(m, t, dt_seconds, path[t], vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq, events)
        for a in range(path.shape[1]):
            if sold[a] > 0:
                ids = np.asarray(av_idx[av_ptr[a]:av_ptr[a + 1]], dtype=np.int64)
                if len(ids):
                    V.route_sell(vs, vdk, vdq, ids, sold[a])
    return {"acc": acc, "events": events}


def copy_market(m):
    return copy.deepcopy(m)
