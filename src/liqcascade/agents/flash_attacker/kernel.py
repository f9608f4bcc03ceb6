"""The atomic flash-loan bundle: borrow, push a venue, read the oracle, liquidate, unwind, repay.

:func:`bundle` evaluates (or, with ``apply``, executes) one bundle of loan size ``loan`` inside
step ``t``; everything happens in one transaction of one block:

1. **borrow** ``loan`` units of the pushed asset from the flash-loan sources, cheapest first,
   each up to its liquidity (:func:`liqcascade.flashloans.dispatch.borrow`); more than they
   hold together reverts (``L_FEASIBLE = 0``);
2. **push**: sell the loan into venue ``v`` (:func:`liqcascade.venues.dispatch.venue_sell`);
3. **oracle**: the price the protocol reads in the same block. The oracle's own kernel is
   stepped from its state *before* step ``t`` twice — on the source history as it is (``p_pre``)
   and with the pushed venue's spot written into column ``t`` (``p_post``; the column is
   restored afterwards). A spot oracle without lag moves with the pool; a lagged oracle reads an
   older column and does not move; a TWAP moves by the pushed sample's weight in its window; an
   OSM publishes ``cur``, read one hop earlier; an EMA by its smoothing weight; a median only if
   the pushed venue moves the median. A Chainlink-style feed (``heartbeat``) publishes through
   its own network's transaction, which the attacker cannot put inside its atomic bundle, so in
   the bundle ``p_post = p_pre``;
4. **liquidate** the protocol's positions with HF < 1 at ``p_post``, most underwater first,
   one ``liquidationCall`` each under the protocol's rule
   (:func:`liqcascade.protocols.aave.kernel.liquidate_pair`: close factor, bonus, protocol fee,
   bad debt), when the call raises the bundle's PnL: what the seized collateral (less the
   treasury's share) saves on the buy-back or brings on the final sale, at the pushed venue's
   prices, beats the debt repaid plus the gas of one call; within the quote the sale brought in
   plus the sources' quote liquidity, at most ``A_MAX_LIQ`` calls;
5. **unwind**: the attacker owes ``loan + fee`` units; it buys the shortfall back on the same
   venue (the exact amount, by bisection on the quote spent) or sells the surplus there;
6. **repay** the loan with its fee (and any quote flash loan taken to fund the repayments or
   the buy-back, with its fee), pay gas.

``L_PNL`` is the attacker's profit in quote (a leftover of the asset from the buy-back's
rounding is valued at the venue's final spot). The attacker acts only when ``L_FEASIBLE`` and
``L_PNL > A_MIN_PROFIT``: that decision is the caller's.

**Conservation.** Valuing the asset at any price ``P`` and the debt asset at ``p_debt``::

    pnl(P) + Δborrowers + Δprotocol + Δvenue + lender_fees + gas = 0
    Δborrowers = −seized·P + (repaid + bad)·p_debt
    Δprotocol  = treasury_fee·P − bad·p_debt
    Δvenue     = asset_in·P − quote_out            (the venue's side of the attacker's trades)
    lender_fees = fee_asset·P + fee_quote

so the attacker's gain is what borrowers lose (collateral taken beyond the debt cancelled),
less the treasury's share, less what the venue keeps (its fees and any displacement not
restored), less the flash-loan fees and the gas. ``tests/property/test_flash_conservation.py``
checks it against the positions and the venue state.

Simplified: one venue is pushed (no routing over several); one liquidation call per position;
the positions are single-collateral, single-debt (the engine's books); the debt asset is
valued at ``p_debt`` throughout; gas is a quote amount per bundle and per call. Rules and
sources: ``README.md`` in this folder.
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.flashloans.dispatch import borrow, capacity
from liqcascade.kernels._jit import njit
from liqcascade.oracles.dispatch import oracle_step
from liqcascade.oracles.kernel import ORACLE_HEARTBEAT, NSTATE
from liqcascade.protocols.aave.kernel import liquidate_pair
from liqcascade.venues.dispatch import _venue_preview_buy, venue_preview_sell, venue_buy, venue_sell, venue_spot

# --- attacker parameters (float64[NA]) --------------------------------------------------------
A_GAS_BUNDLE = 0  # quote: gas of the flash loan, the swaps and the repayment
A_GAS_LIQ = 1  # quote: gas of one liquidationCall
A_MAX_LIQ = 2  # most liquidation calls in one bundle
A_MIN_PROFIT = 3  # quote: least profit for which the attacker acts
NA = 4

# --- ledger (float64[NLEDGER]) ----------------------------------------------------------------
L_LOAN = 0  # asset borrowed
L_FEE_ASSET = 1  # flash fee on it (asset)
L_QUOTE_LOAN = 2  # quote borrowed to fund repayments / buy-back
L_FEE_QUOTE = 3  # flash fee on it (quote)
L_PUSH_QUOTE = 4  # quote received for the pushed loan
L_SPOT_PRE = 5  # venue spot before the bundle
L_SPOT_PUSHED = 6  # venue spot after the push
L_P_PRE = 7  # oracle price at t without the push
L_P_POST = 8  # oracle price at t with the push (what the liquidations use)
L_NLIQ = 9  # liquidation calls
L_REPAID = 10  # debt repaid (debt units)
L_SEIZED = 11  # collateral taken from borrowers (asset, treasury share included)
L_TREASURY = 12  # protocol fee (asset)
L_BAD = 13  # debt written off (debt units)
L_BUY_QUOTE = 14  # quote spent buying back
L_BUY_ASSET = 15  # asset bought back
L_SELL_ASSET = 16  # surplus asset sold at the end
L_SELL_QUOTE = 17  # quote from that sale
L_GAS = 18  # gas (quote)
L_LEFT_ASSET = 19  # asset left over (buy-back rounding, >= 0)
L_SPOT_END = 20  # venue spot after the bundle
L_PNL = 21  # attacker profit (quote)
L_FEASIBLE = 22  # 1: executable; 0: the sources cannot lend the loan; 2: the quote side or the buy-back cannot be funded
L_PRE_LIQUIDATABLE = 23  # positions with HF < 1 already at p_pre
NLEDGER = 24

_BUY_ITERS = 200


@njit
def _quote_for(vs, vdk, vdq, v, x):
    """The least quote that buys at least ``x`` asset on venue ``v`` (bisection on the quote
    spent, previews only: the venue is not changed); ``inf`` when the venue cannot supply ``x``."""
    if x <= 0.0:
        return 0.0
    hi = x * venue_spot(vs, v)
    if not hi > 0.0:
        return math.inf
    for _ in range(1100):
        got, _after = _venue_preview_buy(vs, vdk, vdq, v, hi)
        if got >= x:
            break
        hi *= 2.0
        if not math.isfinite(hi):
            return math.inf
    got, _after = _venue_preview_buy(vs, vdk, vdq, v, hi)
    if not got >= x:
        return math.inf
    lo = 0.0
    for _ in range(_BUY_ITERS):
        if hi - lo <= 1e-15 * hi:
            break
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        g, _after = _venue_preview_buy(vs, vdk, vdq, v, mid)
        if g >= x:
            hi = mid
        else:
            lo = mid
    return hi


@njit
def _unwind_value(vs, vdk, vdq, v, have, need):
    """Quote the unwind brings (> 0: selling the surplus ``have − need``) or costs (< 0: buying
    the shortfall back), on venue ``v`` as it is now (previews only)."""
    if have < need:
        return -_quote_for(vs, vdk, vdq, v, need - have)
    if have > need:
        q, _after = venue_preview_sell(vs, vdk, vdq, v, have - need)
        return q
    return 0.0


@njit
def oracle_in_block(o_kind, o_params, o_src, hist, t, ostate_prev, v, price):
    """``(p_pre, p_post)``: the oracle's price at step ``t`` stepped from ``ostate_prev`` (its
    state after step ``t − 1``) on ``hist`` as it is, and with source row ``v`` (the pushed venue)
    reading ``price`` at column ``t``. ``hist`` is restored; ``ostate_prev`` is not changed. A
    ``heartbeat`` feed does not publish within the attacker's transaction: ``p_post = p_pre``."""
    st = np.empty(NSTATE)
    for j in range(NSTATE):
        st[j] = ostate_prev[j]
    p_pre = oracle_step(o_kind, o_params, o_src, hist, t, st)
    if o_kind == ORACLE_HEARTBEAT:
        return p_pre, p_pre
    saved = hist[v, t]
    hist[v, t] = price
    for j in range(NSTATE):
        st[j] = ostate_prev[j]
    p_post = oracle_step(o_kind, o_params, o_src, hist, t, st)
    hist[v, t] = saved
    return p_pre, p_post


@njit
def bundle(loan, vs, vdk, vdq, v, o_kind, o_params, o_src, hist, t, ostate_prev,
           coll, debt, lt, bonus, pfee, p_debt, rules, s_kind, s_params, ap, apply,
           ledger, ev_pos, ev_seized, ev_repaid, ev_bad, ev_fee):
    """One atomic bundle of size ``loan`` (asset units) in step ``t`` (module docstring).

    ``vs, vdk, vdq``: the venues (``vs`` is copied unless ``apply``); ``v``: the venue pushed.
    ``o_kind, o_params, o_src``: the oracle the protocol reads for the pushed asset (its
    sources are venue rows of ``hist[V, T + 1]``, filled up to column ``t`` with the pre-attack
    spots); ``ostate_prev``: its state after step ``t − 1``. ``coll``, ``debt``: the protocol's
    positions in this (collateral, debt) pair (changed in place only when ``apply``); ``lt``,
    ``bonus``, ``pfee``: the collateral's parameters; ``p_debt``: the debt asset's price;
    ``rules``: the protocol's Aave rule vector. ``s_kind``, ``s_params``: the flash-loan
    sources in the order they are drawn. ``ap``: float64[NA]. Fills ``ledger`` (float64[NLEDGER])
    and the liquidation records ``ev_*`` (one per call, at most ``len(ev_pos)``); returns the
    number of calls.
    """
    for j in range(ledger.shape[0]):
        ledger[j] = 0.0
    vw = vs if apply else vs.copy()
    ns = s_kind.shape[0]
    taken = np.zeros(ns)
    spot0 = venue_spot(vw, v)
    ledger[L_LOAN] = loan
    ledger[L_SPOT_PRE] = spot0
    fee_a = borrow(s_kind, s_params, loan, 0, taken)
    if fee_a < 0.0:
        ledger[L_FEASIBLE] = 0.0
        ledger[L_PNL] = math.nan
        ledger[L_SPOT_PUSHED] = spot0
        ledger[L_SPOT_END] = spot0
        return 0
    ledger[L_FEE_ASSET] = fee_a

    # 2. push
    q1 = venue_sell(vw, vdk, vdq, v, loan)
    ledger[L_PUSH_QUOTE] = q1
    ledger[L_SPOT_PUSHED] = venue_spot(vw, v)

    # 3. oracle in the same block
    p_pre, p_post = oracle_in_block(o_kind, o_params, o_src, hist, t, ostate_prev, v, venue_spot(vw, v))
    ledger[L_P_PRE] = p_pre
    ledger[L_P_POST] = p_post

    # 4. liquidations, most underwater first
    n = coll.shape[0]
    hf = np.empty(n)
    npre = 0
    for i in range(n):
        if debt[i] > 0.0:
            hf[i] = coll[i] * p_post * lt / (debt[i] * p_debt)
            if coll[i] * p_pre * lt < debt[i] * p_debt:
                npre += 1
        else:
            hf[i] = math.inf
    ledger[L_PRE_LIQUIDATABLE] = npre
    order = np.argsort(hf, kind="mergesort")
    have = 0.0  # collateral the attacker holds (seized less the treasury's share)
    need = loan + fee_a  # what it owes the flash-loan sources in the asset
    budget = q1 + capacity(s_params, 1)
    gas_liq = ap[A_GAS_LIQ]
    max_liq = int(ap[A_MAX_LIQ])
    cap_ev = ev_pos.shape[0]
    nl = 0
    repaid_q = 0.0
    seized = 0.0
    treasury = 0.0
    bad_tot = 0.0
    repaid_tot = 0.0
    for k in range(n):
        if nl >= max_liq or nl >= cap_ev:
            break
        i = order[k]
        if not hf[i] < 1.0:
            break
        s, r, b, f, _closed = liquidate_pair(coll[i], debt[i], p_post, p_debt, lt, bonus, pfee, rules)
        if r <= 0.0 or s <= 0.0:
            continue
        cost = r * p_debt
        if cost > budget - repaid_q:
            continue
        gain = _unwind_value(vw, vdk, vdq, v, have + s - f, need) - _unwind_value(vw, vdk, vdq, v, have, need)
        if not gain - cost - gas_liq > 0.0:
            continue
        have += s - f
        repaid_q += cost
        repaid_tot += r
        seized += s
        treasury += f
        bad_tot += b
        ev_pos[nl] = i
        ev_seized[nl] = s
        ev_repaid[nl] = r
        ev_bad[nl] = b
        ev_fee[nl] = f
        nl += 1
        if apply:
            if _closed:
                coll[i] = coll[i] - s if s < coll[i] else 0.0
                debt[i] = 0.0
            else:
                coll[i] = coll[i] - s
                debt[i] = debt[i] - r
    ledger[L_NLIQ] = nl
    ledger[L_REPAID] = repaid_tot
    ledger[L_SEIZED] = seized
    ledger[L_TREASURY] = treasury
    ledger[L_BAD] = bad_tot

    # 5. unwind
    buy_q = 0.0
    buy_a = 0.0
    sell_a = 0.0
    sell_q = 0.0
    feasible = 1.0
    if have < need:
        buy_q = _quote_for(vw, vdk, vdq, v, need - have)
        if math.isfinite(buy_q):
            buy_a = venue_buy(vw, vdk, vdq, v, buy_q)
        else:
            feasible = 2.0
            buy_q = 0.0
    elif have > need:
        sell_a = have - need
        sell_q = venue_sell(vw, vdk, vdq, v, sell_a)
    ledger[L_BUY_QUOTE] = buy_q
    ledger[L_BUY_ASSET] = buy_a
    ledger[L_SELL_ASSET] = sell_a
    ledger[L_SELL_QUOTE] = sell_q
    left = have + buy_a - sell_a - need if feasible == 1.0 else 0.0
    ledger[L_LEFT_ASSET] = left

    # 6. quote loan for the deficit of the repayments and the buy-back, repay, gas
    deficit = repaid_q + buy_q - q1
    if sell_a > 0.0:
        deficit = repaid_q - q1
    fee_q = 0.0
    if deficit > 0.0:
        fee_q = borrow(s_kind, s_params, deficit, 1, taken)
        if fee_q < 0.0:
            feasible = 2.0
            fee_q = 0.0
        else:
            ledger[L_QUOTE_LOAN] = deficit
    ledger[L_FEE_QUOTE] = fee_q
    gas = ap[A_GAS_BUNDLE] + gas_liq * nl
    ledger[L_GAS] = gas
    spot_end = venue_spot(vw, v)
    ledger[L_SPOT_END] = spot_end
    ledger[L_FEASIBLE] = feasible
    ledger[L_PNL] = q1 + sell_q - repaid_q - buy_q - fee_q - gas + left * spot_end
    return nl


@njit
def _searchsorted(g, x):
    """First index ``i`` with ``g[i] >= x`` (``g`` ascending)."""
    lo = 0
    hi = g.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if g[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def search(loans, vs, vdk, vdq, v, o_kind, o_params, o_src, hist, t, ostate_prev,
           coll, debt, lt, bonus, pfee, p_debt, rules, s_kind, s_params, ap, rounds, points,
           ledger, ev_pos, ev_seized, ev_repaid, ev_bad, ev_fee):
    """The attacker's choice in step ``t``: the loan size with the highest PnL among those that are
    feasible and earn more than ``ap[A_MIN_PROFIT]``, over the grid ``loans`` and then ``rounds``
    refinements of ``points`` evenly spaced sizes between the best size's grid neighbours (the
    neighbours in the sorted, de-duplicated grid; then in the last refinement's sizes). Nothing is
    changed (every bundle is evaluated on copies). Returns ``(loan, pnl)``; ``loan = -1`` when no
    size is profitable. A time loop executes the choice with :func:`bundle` and ``apply=True``."""
    g = np.unique(loans)
    best_l = -1.0
    best_p = -math.inf
    mp = ap[A_MIN_PROFIT]
    for j in range(g.shape[0]):
        bundle(g[j], vs, vdk, vdq, v, o_kind, o_params, o_src, hist, t, ostate_prev, coll, debt, lt, bonus, pfee,
               p_debt, rules, s_kind, s_params, ap, False, ledger, ev_pos, ev_seized, ev_repaid, ev_bad, ev_fee)
        p = ledger[L_PNL]
        if ledger[L_FEASIBLE] == 1.0 and p > mp and p > best_p:
            best_p = p
            best_l = g[j]
    if best_l < 0.0:
        return -1.0, math.nan
    for _ in range(rounds):
        i = _searchsorted(g, best_l)
        lo = g[i - 1] if i > 0 else g[0]
        hi = g[i + 1] if i + 1 < g.shape[0] else g[g.shape[0] - 1]
        if not hi > lo:
            break
        g = np.linspace(lo, hi, points)
        for j in range(g.shape[0]):
            bundle(g[j], vs, vdk, vdq, v, o_kind, o_params, o_src, hist, t, ostate_prev, coll, debt, lt, bonus,
                   pfee, p_debt, rules, s_kind, s_params, ap, False, ledger, ev_pos, ev_seized, ev_repaid, ev_bad,
                   ev_fee)
            p = ledger[L_PNL]
            if ledger[L_FEASIBLE] == 1.0 and p > mp and p > best_p:
                best_p = p
                best_l = g[j]
    return best_l, best_p
