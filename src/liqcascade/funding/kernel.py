"""Perp funding inside the perp unit: premium from the market's own book against the index,
the venue's funding formula, payments that move margin (compiled; called by
:func:`liqcascade.protocols.perp.kernel.perp_step` after the marks, before the margin checks).

Per market ``m`` with a funding rule (``mkt[m, M_FD_KIND]``: 1 Binance, 2 Hyperliquid; 0 none):

1. **premium** of the step: the impact bid and ask — the average fills of selling and of
   buying ``M_FD_IMPACT`` quote on the market's order-book venue (``funding/binance``:
   ``impact_prices_book`` for a depth-curve book, ``impact_prices_cpmm`` for a pool) — against
   the **index** (the price the perp protocol acts on: its oracle, fed by the reference's spot
   venues): ``[max(0, bid − index) − max(0, index − ask)] / index`` (both venues' formula; the
   HIP-3 variant when ``HP_HIP3``);
2. **rate**: ``binance_step`` (linearly weighted average over the interval, ``P + clamp(I − P,
   ±0.05 %)`` scaled to the interval, capped) or ``hl_step`` (equal-weight hourly average, the
   8-hour rate paid hourly at one eighth, ±4 %/h), settled at each interval's end (or
   continuously, ``settle = "continuous"``);
3. **payment** when a rate settles: every holder of the market pays ``P · price · rate``
   (``P`` its signed position; longs pay a positive rate) — traders from their account margin,
   the book's holders, the insurance fund and the backstop vault from their cash. Binance pays
   at the mark, Hyperliquid at the oracle (index) price. ``Σ P = 0`` in every market, so funding
   only moves cash between holders: the unit's conserved total ``H_CASH0`` does not change.

Funding can therefore liquidate: a long on a positive rate loses margin every interval until
``E < MM`` at the next check.
"""

from __future__ import annotations

import math

from liqcascade.funding.binance.kernel import (
    BP_INTERVAL, NBP, NBS, binance_step, impact_prices_book, impact_prices_cpmm, premium_index,
)
from liqcascade.funding.hyperliquid.kernel import HP_HIP3, NHP, NHS, hl_step, premium as hl_premium
from liqcascade.kernels._jit import njit
from liqcascade.venues.kernel import FEE, KIND, MID, NK, VENUE_CPMM, X, Y

FD_NONE = 0
FD_BINANCE = 1
FD_HYPERLIQUID = 2
NFP = max(NBP, NHP)  # parameter slots (the kinds' own vectors)
NFS = max(NBS, NHS)  # state slots
SRC_BOOK = 0
SRC_CALIBRATED = 1

# the funding block of a market's row, from its first column ``c0`` (kernel.M_FD)
FD_KIND = 0  # FD_NONE / FD_BINANCE / FD_HYPERLIQUID
FD_IMPACT = 1  # impact notional (quote)
FD_PAID = 2  # longs' payments so far (quote)
FD_RATE = 3  # the rate settled this step (0: none)
FD_SRC = 4  # premium source: SRC_BOOK / SRC_CALIBRATED
FD_A = 5  # calibrated premium: P = a + phi · P_prev + beta · log(index / index at the interval's start)
FD_PHI = 6
FD_BETA = 7
FD_PPREV = 8  # the previous interval's average step premium
FD_PSUM = 9  # this interval's step premiums: sum and count
FD_PN = 10
FD_I0 = 11  # index at the interval's start (0: not yet)
FD_PAR = 12  # NFP slots: the rule's parameter vector
FD_ST = FD_PAR + NFP  # NFS slots: the rule's state
NFD = FD_ST + NFS
ELAPSED_SLOT = (0, 3, 2)  # by kind: the state slot of the seconds elapsed in the interval


@njit
def impact_prices(vs, vdk, vdq, v, notional):
    """``(impact_bid, impact_ask)`` of ``notional`` quote on venue ``v`` (not traded)."""
    if int(vs[v, KIND]) == VENUE_CPMM:
        return impact_prices_cpmm(vs[v, X], vs[v, Y], vs[v, FEE], notional)
    return impact_prices_book(vs[v, MID], vdk[v], vdq[v], int(vs[v, NK]), notional)


@njit
def step_premium(kind, par, bid, ask, index):
    if kind == FD_HYPERLIQUID:
        return hl_premium(bid, ask, index, par[HP_HIP3])
    return premium_index(bid, ask, index)


@njit
def perp_funding(mkt, c0, c_mark, c_asset, c_venue, c_fund_pos, c_bs_pos, c_book_pos, c_book_cash, side, size,
                 pos_mkt, pos_acct, margin, hold, h_fund, h_bs, prices, vs, vdk, vdq, dt):
    """One step of funding for every market (module docstring). ``c0`` is the first column of
    the funding block in ``mkt`` (the pack's market table), ``c_*`` the other columns it reads;
    ``h_fund``/``h_bs`` the fund's and the vault's cash in ``hold``. Writes the settled rate to
    the block's ``FD_RATE`` (0 when nothing settled) and adds the longs' payment (quote) to
    ``FD_PAID``."""
    n_m = mkt.shape[0]
    for m in range(n_m):
        kind = int(mkt[m, c0 + FD_KIND])
        if kind == FD_NONE:
            continue
        par = mkt[m, c0 + FD_PAR:c0 + FD_PAR + NFP]
        st = mkt[m, c0 + FD_ST:c0 + FD_ST + NFS]
        index = prices[int(mkt[m, c_asset])]
        if int(mkt[m, c0 + FD_SRC]) == SRC_CALIBRATED:
            if mkt[m, c0 + FD_I0] <= 0.0:
                mkt[m, c0 + FD_I0] = index
            ret = math.log(index / mkt[m, c0 + FD_I0]) if index > 0.0 else 0.0
            prem = mkt[m, c0 + FD_A] + mkt[m, c0 + FD_PHI] * mkt[m, c0 + FD_PPREV] + mkt[m, c0 + FD_BETA] * ret
        else:
            v = int(mkt[m, c_venue])
            bid, ask = impact_prices(vs, vdk, vdq, v, mkt[m, c0 + FD_IMPACT])
            prem = step_premium(kind, par, bid, ask, index)
        before = st[ELAPSED_SLOT[kind]]
        if kind == FD_BINANCE:
            rate = binance_step(st, par, dt, prem)
            px = mkt[m, c_mark]
        else:
            rate = hl_step(st, par, dt, prem)
            px = index
        mkt[m, c0 + FD_PSUM] += prem
        mkt[m, c0 + FD_PN] += 1.0
        if st[ELAPSED_SLOT[kind]] < before + dt - 1e-9:  # an interval closed in this step
            mkt[m, c0 + FD_PPREV] = mkt[m, c0 + FD_PSUM] / mkt[m, c0 + FD_PN]
            mkt[m, c0 + FD_PSUM] = 0.0
            mkt[m, c0 + FD_PN] = 0.0
            mkt[m, c0 + FD_I0] = index
        mkt[m, c0 + FD_RATE] = rate
        if rate == 0.0 or not (px > 0.0):
            continue
        k = rate * px
        longs = 0.0
        for i in range(side.shape[0]):
            if pos_mkt[i] != m or size[i] <= 0.0:
                continue
            pay = side[i] * size[i] * k
            margin[pos_acct[i]] -= pay
            if side[i] > 0.0:
                longs += pay
        mkt[m, c_book_cash] -= mkt[m, c_book_pos] * k
        hold[h_fund] -= mkt[m, c_fund_pos] * k
        hold[h_bs] -= mkt[m, c_bs_pos] * k
        mkt[m, c0 + FD_PAID] += longs
