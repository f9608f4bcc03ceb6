"""Plain-Python twin of :mod:`liqcascade.protocols.comet.kernel` (Compound v3, reference §2).

Written separately and naively, in the shape of ``Comet.sol``: ``isLiquidatable`` walks the
assets with the early exit, ``absorbInternal`` computes ``oldBalance``/``deltaValue``/
``newBalance`` and splits ``newBalance − oldBalance`` into repay and supply amounts,
``quoteCollateral`` prices a purchase from a base amount. Venue quotes use the plain-Python
venue twin (:mod:`liqcascade.venues.twin`) on copies of the venue state. Same inputs
and outputs as the kernel (the pack is mutated in place), Python floats, no numba.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_CAPITAL,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
)
from liqcascade.venues import twin as V

# same layout as the kernel (kept literal on purpose: the parity test compares the two)
P_BASE, P_SFPF, P_TARGET, P_BORROW_MIN, P_ABSORB_PAUSED, P_BUY_PAUSED, P_BUY_EVENTS = range(7)
F_BORROW_CF, F_LIQ_CF, F_LF = range(3)
(S_RESERVES, S_NUM_ABSORBS, S_NUM_ABSORBED, S_APPROX_SPEND, S_DEBT_ABSORBED, S_SUPPLY_CREDITED,
 S_SHORTFALL, S_BUY_BASE, S_NUM_BUYS, S_BUY_GAS, S_LAST_T) = range(11)


# --- rule functions ---------------------------------------------------------------------------


def liquidity(principal, coll_row, px, cf, pb):
    out = float(principal) * float(pb)
    for c, p, f in zip(coll_row, px, cf):
        if c > 0:
            out = out + float(c) * float(p) * float(f)
    return out


def is_liquidatable(principal, coll_row, px, liq_cf, pb):
    # Comet: int liquidity = -debt·P_base; for each asset: if liquidity >= 0 return false; add.
    if principal >= 0:
        return False
    liq = float(principal) * float(pb)
    for c, p, f in zip(coll_row, px, liq_cf):
        if liq >= 0:
            return False
        if c > 0:
            liq += float(c) * float(p) * float(f)
    return liq < 0


def is_borrow_collateralized(principal, coll_row, px, borrow_cf, pb):
    if principal >= 0:
        return True
    return liquidity(principal, coll_row, px, borrow_cf, pb) >= 0


def store_front_discount(lf, sfpf):
    return sfpf * (1 - lf)


def store_front_price(p, lf, sfpf):
    discount_factor = sfpf * (1 - lf)
    return p * (1 - discount_factor)


def quote_collateral(base_amount, p, lf, sfpf, pb):
    value_of_base = base_amount * pb
    return value_of_base / store_front_price(p, lf, sfpf)


def buy_allowed(reserves, target):
    # buyCollateral: if (reserves >= 0 && uint(reserves) >= targetReserves) revert NotForSale();
    return not (reserves >= 0 and reserves >= target)


def absorb_account(principal, coll_row, px, lf, pb):
    old_balance = float(principal)
    delta_value = 0.0
    for c, p, f in zip(coll_row, px, lf):
        if c > 0:
            delta_value += float(c) * float(p) * float(f)
    delta_balance = delta_value / pb
    new_balance = old_balance + delta_balance
    if new_balance < 0:
        new_balance = 0.0
    # repayAndSupplyAmount(old, new): repay = min(-old, new - old) when old < 0, supply = new
    if old_balance < 0:
        repay_amount = min(-old_balance, new_balance - old_balance)
    else:
        repay_amount = 0.0
    supply_amount = new_balance if new_balance > 0 else 0.0
    debt = -old_balance if old_balance < 0 else 0.0
    covered = min(debt, delta_balance)
    shortfall = debt - covered
    paid_out = new_balance - old_balance
    assert abs((repay_amount + supply_amount) - paid_out) <= 1e-9 * max(1.0, abs(paid_out))
    return new_balance, delta_value, paid_out, covered, shortfall


# --- venue helpers ------------------------------------------------------------------------------


def best_venue(vs, av_ptr, av_idx, a):
    ids = [int(v) for v in av_idx[av_ptr[a]:av_ptr[a + 1]]]
    if not ids:
        return -1
    best = ids[0]
    for v in ids[1:]:
        if V.venue_spot(vs, v) > V.venue_spot(vs, best):
            best = v
    return best


def _quote_after(vs, vdk, vdq, v, queued, q):
    """Extra quote for ``q`` units sold after ``queued`` (both quoted from the current state:
    one sale of ``queued + q`` minus one sale of ``queued``, as the engine sells them)."""
    if q <= 0:
        return 0.0
    together = V.venue_sell(np.array(vs, dtype=float), vdk, vdq, v, queued + q)
    before = V.venue_sell(np.array(vs, dtype=float), vdk, vdq, v, queued) if queued > 0 else 0.0
    return together - before


def _buy_amount(vs, vdk, vdq, v, queued, sp):
    gross = 1.0 - vs[v, 3] if int(vs[v, 0]) == 0 else 1.0
    need = V.venue_sell_to_price(vs, vdk, vdq, v, sp / gross)
    return max(need - queued, 0.0)


# --- the step -----------------------------------------------------------------------------------


def comet_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
               sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
               ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    par, asset, fac, principal, coll, st, cres, seized, bought, last_px = pack
    n_assets = len(asset)
    base = int(par[P_BASE])
    pb = float(prices[base])
    sfpf = float(par[P_SFPF])
    target = float(par[P_TARGET])
    rational = int(liq[LQ_MODE]) == 1
    gas = float(liq[LQ_GAS])
    limit = int(liq[LQ_MAX])
    px = [float(prices[int(a)]) for a in asset]
    for k in range(n_assets):
        last_px[k] = px[k]
    last_px[n_assets] = pb
    st[S_LAST_T] = t
    lf = [float(fac[k, F_LF]) for k in range(n_assets)]
    lcf = [float(fac[k, F_LIQ_CF]) for k in range(n_assets)]
    events = []

    def emit(pos, a, q, rep, price, bonus, bad, fee):
        events.append((t, pos, proto_id, a, q, rep, price, bonus, bad, fee))

    if par[P_ABSORB_PAUSED] == 0:
        absorbed = 0
        for i in range(len(principal)):
            if limit > 0 and absorbed == limit:
                break
            balances = [float(x) for x in coll[i]]
            if not is_liquidatable(principal[i], balances, px, lcf, pb):
                continue
            new_balance, delta_value, paid_out, covered, shortfall = absorb_account(
                principal[i], balances, px, lf, pb)
            if rational:
                if par[P_BUY_PAUSED] != 0:
                    continue
                if not buy_allowed(st[S_RESERVES] - paid_out, target):
                    continue
                profit = -gas
                spent = 0.0
                for k in range(n_assets):
                    if balances[k] <= 0:
                        continue
                    a = int(asset[k])
                    v = best_venue(vs, av_ptr, av_idx, a)
                    if v < 0:
                        continue
                    got = _quote_after(vs, vdk, vdq, v, sold[a], balances[k])
                    price_paid = balances[k] * store_front_price(px[k], lf[k], sfpf)
                    spent += price_paid
                    profit += got - price_paid - gas
                if not profit > 1e-9 * spent:
                    continue
            old_balance = float(principal[i])
            absorbed += 1
            principal[i] = new_balance
            st[S_RESERVES] = st[S_RESERVES] - paid_out
            st[S_NUM_ABSORBS] += 1
            st[S_NUM_ABSORBED] += 1
            st[S_APPROX_SPEND] += gas
            st[S_DEBT_ABSORBED] += -old_balance
            st[S_SUPPLY_CREDITED] += new_balance
            st[S_SHORTFALL] += shortfall
            acc[ACC_NLIQ] += 1
            acc[ACC_REPAID] += covered * pb
            acc[ACC_BAD] += shortfall * pb
            acc[ACC_GAS] += gas
            acc[ACC_FUND_DRAW] += paid_out * pb
            held = [k for k in range(n_assets) if balances[k] > 0]
            for k in held:
                c = balances[k]
                acc[ACC_LIQ_VALUE] += c * px[k]
                acc[ACC_FEES] += c * px[k] * (1 - lf[k])
                cres[k] += c
                seized[k] += c
                coll[i, k] = 0.0
                frac = (c * px[k] * lf[k]) / delta_value if delta_value > 0 else 0.0
                emit(pos_offset + i, int(asset[k]), c, covered * frac, px[k], 0.0,
                     shortfall * pb * frac, c * (1 - lf[k]))
            if not held:
                emit(pos_offset + i, base, 0.0, 0.0, pb, 0.0, shortfall * pb, 0.0)

    if par[P_BUY_PAUSED] == 0:
        capital = float(liq[LQ_CAPITAL])
        buys = 0
        for k in range(n_assets):
            if limit > 0 and buys == limit:
                break
            if not buy_allowed(st[S_RESERVES], target):
                break
            if cres[k] <= 0:
                continue
            a = int(asset[k])
            v = best_venue(vs, av_ptr, av_idx, a)
            if v < 0:
                continue
            sp = store_front_price(px[k], lf[k], sfpf)
            if not sp > 0:
                continue
            want = min(_buy_amount(vs, vdk, vdq, v, sold[a], sp), float(cres[k]))
            if want * sp > capital:
                want = capital / sp
            if want <= 1e-9 * cres[k]:
                continue
            base_amount = want * sp / pb
            out = quote_collateral(base_amount, px[k], lf[k], sfpf, pb)
            del out  # equals `want` up to rounding; the kernel books `want`
            cost = want * sp
            if _quote_after(vs, vdk, vdq, v, sold[a], want) - cost - gas <= 1e-9 * cost:
                continue
            buys += 1
            capital -= cost
            cres[k] -= want
            bought[k] += want
            sold[a] += want
            st[S_RESERVES] += cost / pb
            st[S_BUY_BASE] += cost / pb
            st[S_NUM_BUYS] += 1
            st[S_BUY_GAS] += gas
            acc[ACC_BONUS] += want * px[k] - cost
            acc[ACC_GAS] += gas
            if par[P_BUY_EVENTS] != 0:
                emit(-1, a, want, cost / pb, px[k], want * px[k] - cost, 0.0, 0.0)

    cap = len(ev_step)
    for (s, pos, pr, a, q, rep, price, bonus, bad, fee) in events:
        if n_ev >= cap:
            break
        ev_step[n_ev] = s
        ev_pos[n_ev] = pos
        ev_proto[n_ev] = pr
        ev_asset[n_ev] = a
        ev_seized[n_ev] = q
        ev_repaid[n_ev] = rep
        ev_price[n_ev] = price
        ev_exec[n_ev] = math.nan
        ev_bonus[n_ev] = bonus
        ev_bad[n_ev] = bad
        ev_fee[n_ev] = fee
        n_ev += 1
    return n_ev
