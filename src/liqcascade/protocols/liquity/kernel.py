"""Liquity v1 troves, Stability Pool and redistribution — compiled protocol unit.

Follows ``protocol-mechanics.md`` §4 (``liquity/dev`` ``TroveManager.sol``,
``StabilityPool.sol``, ``LiquityBase.sol``; the 2021 mainnet-era code ``b9dcdbd3`` and the 2025
HEAD ``39f1f7f8``):

* ratios (§4.2): ``ICR = coll · price / debt`` on the trove's *entire* collateral and debt
  (recorded amounts plus pending redistribution rewards); ``TCR`` = (ActivePool + DefaultPool
  collateral) · price / (ActivePool + DefaultPool debt); recovery mode when ``TCR < CCR``;
* normal-mode liquidation (§4.3): when ``ICR < MCR``, always full; the caller gets
  ``coll / PERCENT_DIVISOR`` collateral plus ``LUSD_GAS_COMPENSATION``; of ``coll' = coll −
  collGasComp``, ``debtToOffset = min(debt, LUSD in SP)`` is offset against the Stability Pool
  with ``collToSP = coll' · debtToOffset / debt`` and the rest of the debt and collateral is
  redistributed (everything when the pool is empty);
* recovery-mode liquidation (§4.4), per trove: ICR ≤ 100 % → everything redistributed, the pool
  not used; 100 % < ICR < MCR → as in normal mode; MCR ≤ ICR < TCR and ``debt ≤ LUSD in SP`` →
  the whole debt offset, collateral capped at ``debt · MCR / price`` (gas compensation is
  ``cappedColl / PERCENT_DIVISOR``, the pool gets the rest of the capped part, ``coll −
  cappedColl`` goes to the CollSurplusPool for the borrower); anything else → not liquidated;
* the sequence (§4.4, ``liquidateTroves(n)``): troves from the lowest ICR upward; in recovery
  mode TCR is recomputed after every trove from the running system collateral and debt (minus
  what left the system: collateral to the pool, gas compensation and surplus; debt offset) and
  once ``TCR ≥ CCR`` the rest of the sequence uses normal-mode rules and stops at the first trove
  with ``ICR ≥ MCR``; in recovery mode the loop stops at a trove with ``ICR ≥ MCR`` when the pool
  is empty; the last trove (the head of the sorted list) is never liquidated;
* Stability Pool (§4.5): each offset takes ``debtToOffset`` LUSD from and gives ``collToSP``
  collateral to the depositors in proportion to their deposits. Variant ``2021`` (mainnet-era
  code) may use the whole pool (an emptied pool zeroes every deposit, the new-epoch case);
  variant ``2025`` (HEAD) offsets at most ``total − min(MIN_LUSD_IN_SP, total)``
  (``getMaxAmountToOffset``);
* redistribution (§4.6): ``L_ETH += coll / totalStakes``, ``L_LUSDDebt += debt /
  totalStakes`` over the stakes of the troves still active; the amounts move from the
  ActivePool to the DefaultPool. A trove's pending reward is ``stake · (L − snapshot)``, read
  whenever its ICR is computed and moved to the ActivePool when it is liquidated (*lazy*, as in
  Liquity). Redistribution raises the other troves' debt by more than their collateral's value
  when the liquidated trove was under 100 % — a cascade channel.

Like the contract, a sequence first tallies every trove (the ICRs of the troves it visits are
read before the sequence's own offset and redistribution are applied) and then applies the
pool offset, the redistribution, the surplus and the gas compensation once at the end; the
next sequence sees the redistributed amounts.

Simplifications (also in ``protocols/liquity/README.md``):

* amounts are float64 real numbers, not 18-decimal integers: no rounding, no ``1e18`` scaling,
  no error feedback in ``L_ETH``/``L_LUSDDebt`` or ``P``/``S``, no ``SCALE_FACTOR`` shifts;
* the Stability Pool keeps explicit per-depositor arrays (deposit, collateral held, collateral
  sold) updated pro rata at each offset instead of the product ``P`` / sum ``S`` — the same
  numbers without rounding; LQTY rewards and front ends are not modelled;
* LUSD is worth exactly 1 quote unit (the protocol's own assumption in ICR/TCR);
* borrowers never act: no new troves, top-ups, repayments, redemptions, deposits or
  withdrawals, so stakes stay as built (``stake = coll``, a fresh system, §4.6) and pending
  rewards are applied only at liquidation;
* the list is ordered by current ICR (ties: lower index first) — Liquity walks its list sorted
  by nominal ICR, which orders troves identically at one price;
* the last-trove rule is applied in both modes: in recovery mode the loop never reaches the head
  of the list (``vars.user != firstUser``), in normal mode closing the last trove reverts
  (``_requireMoreThanOneTroveInSystem``), so the liquidator leaves it out.
"""

from __future__ import annotations

import numpy as np

from liqcascade.kernels._jit import njit
from liqcascade.kernels.cascade import marginal_proceeds
from liqcascade.protocols.kernel import (
    ACC_BONUS,
    ACC_EV_LOST,
    ACC_FUND_DRAW,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
)
from liqcascade.venues.dispatch import best_venue as _best_venue, venue_spot

# --- parameter vector pack[PK_PAR] (float64[NPAR]) ------------------------------------------
P_MCR = 0  # minimum collateral ratio (1.10)
P_CCR = 1  # critical system collateral ratio (1.50)
P_GAS_COMP = 2  # LUSD_GAS_COMPENSATION (200)
P_MIN_NET_DEBT = 3  # MIN_NET_DEBT (1800), checked when the pack is built
P_PCT_DIV = 4  # PERCENT_DIVISOR (200): collateral gas compensation = coll / 200
P_VARIANT = 5  # VARIANT_2021 / VARIANT_2025
P_MIN_SP = 6  # MIN_LUSD_IN_SP (1 LUSD; variant 2025 only)
P_SP_SELLS = 7  # fraction of their collateral gains Stability Pool depositors sell at once
P_ASSET = 8  # collateral asset index (prices[], sold[])
P_SEQS = 9  # liquidation sequences (liquidateTroves calls) per step
P_COLL0 = 10  # total collateral when built (conservation)
P_DEBT0 = 11  # total debt when built
P_SP0 = 12  # Stability Pool LUSD when built
P_N0 = 13  # troves when built
P_BATCH = 14  # 1: the keeper pays the batch rule below instead of liq[LQ_GAS] per trove
P_GAS_BASE = 15  # batch rule: fixed gas cost of one batchLiquidateTroves call (quote)
P_GAS_TROVE = 16  # batch rule: gas cost per trove in the batch (quote)
NPAR = 17

VARIANT_2021 = 0
VARIANT_2025 = 1

# --- system state pack[PK_SYS] (float64[NSYS]) -----------------------------------------------
S_AC = 0  # ActivePool collateral (recorded collateral of active troves)
S_AD = 1  # ActivePool debt
S_DC = 2  # DefaultPool collateral (redistributed, pending)
S_DD = 3  # DefaultPool debt (redistributed, pending)
S_L_ETH = 4  # L_ETH: redistributed collateral per unit stake
S_L_DEBT = 5  # L_LUSDDebt
S_STAKES = 6  # totalStakes
S_STAKES_SNAP = 7  # totalStakesSnapshot
S_COLL_SNAP = 8  # totalCollateralSnapshot
S_SP_LUSD = 9  # LUSD deposited in the Stability Pool
S_SP_OFFSET = 10  # cumulative debt offset = depositors' LUSD loss
S_SP_COLL_IN = 11  # cumulative collateral sent to the pool
S_SP_SOLD = 12  # cumulative collateral depositors sold (into `sold`)
S_SURPLUS = 13  # CollSurplusPool collateral (claimable by liquidated borrowers)
S_GC_COLL = 14  # cumulative collateral gas compensation paid to liquidators (sold)
S_GC_LUSD = 15  # cumulative LUSD gas compensation paid to liquidators
S_GAS_POOL = 16  # GasPool LUSD (200 per active trove)
S_RED_COLL = 17  # cumulative collateral redistributed
S_RED_DEBT = 18  # cumulative debt redistributed
S_NLIQ = 19  # troves liquidated
S_NSEQ = 20  # sequences that liquidated at least one trove
S_TCR_MIN = 21  # lowest TCR seen at the start of a step (+inf before the first step)
S_RM_STEPS = 22  # steps that started in recovery mode (TCR < CCR)
S_RM_ENTRIES = 23  # times the system entered recovery mode (step starts, normal -> recovery)
S_RM_FLAG = 24  # 1 while the last step started in recovery mode
S_BATCH_SKIP = 25  # batches the keeper did not send (compensation short of the batch's gas)
NSYS = 26

# --- trove status (Liquity's Status enum) ----------------------------------------------------
ST_ACTIVE = 1.0
ST_LIQUIDATED = 3.0

# --- pack tuple slots --------------------------------------------------------------------
PK_PAR = 0
PK_SYS = 1
PK_COLL = 2  # recorded trove collateral (without pending rewards)
PK_DEBT = 3  # recorded trove debt, gas reserve included ("composite debt")
PK_STAKE = 4
PK_SNAP_ETH = 5  # L_ETH snapshot per trove
PK_SNAP_DEBT = 6  # L_LUSDDebt snapshot per trove
PK_STATUS = 7
PK_SURPLUS = 8  # CollSurplusPool balance per borrower
PK_DEP = 9  # current (compounded) deposit per depositor
PK_DEP0 = 10  # initial deposit per depositor
PK_DEP_COLL = 11  # collateral gain held per depositor
PK_DEP_SOLD = 12  # collateral gain sold per depositor
NPACK = 13

# --- what happened to one trove ------------------------------------------------------------
K_NONE = 0  # not liquidated
K_REDIST = 1  # recovery mode, ICR <= 100 %: everything redistributed
K_OFFSET = 2  # normal mode / recovery 100 % < ICR < MCR: offset, then redistribute the rest
K_CAPPED = 3  # recovery mode, MCR <= ICR < TCR, debt <= LUSD in SP: capped offset, surplus

MODE_MECHANICAL = 0
MODE_RATIONAL = 1


@njit
def compute_cr(coll, debt, price):
    """``coll · price / debt`` (``LiquityMath._computeCR``); +inf without debt."""
    if debt > 0.0:
        return coll * price / debt
    return np.inf


@njit
def entire_coll_debt(sysv, coll, debt, stake, snap_eth, snap_debt, i):
    """Entire collateral and debt of trove ``i``: recorded plus pending rewards (§4.6)."""
    pc = stake[i] * (sysv[S_L_ETH] - snap_eth[i])
    pd = stake[i] * (sysv[S_L_DEBT] - snap_debt[i])
    return coll[i] + pc, debt[i] + pd, pc, pd


@njit
def system_tcr(sysv, price):
    """TCR (§4.2): (ActivePool + DefaultPool collateral) · price / (their debt)."""
    return compute_cr(sysv[S_AC] + sysv[S_DC], sysv[S_AD] + sysv[S_DD], price)


@njit
def sp_available(par, sysv):
    """LUSD a sequence may offset: all of it (2021) or all but MIN_LUSD_IN_SP (2025, §4.5)."""
    total = sysv[S_SP_LUSD]
    if total <= 0.0:
        return 0.0
    if int(par[P_VARIANT]) == VARIANT_2025:
        keep = par[P_MIN_SP] if par[P_MIN_SP] < total else total
        return total - keep
    return total


@njit
def offset_and_redistribution(debt, coll, lusd_in_sp):
    """``_getOffsetAndRedistributionVals`` (§4.3) for ``coll`` net of gas compensation.

    Returns ``(debt_to_offset, coll_to_sp, debt_to_redistribute, coll_to_redistribute)``.
    """
    if lusd_in_sp > 0.0:
        off = debt if debt < lusd_in_sp else lusd_in_sp
        csp = coll * off / debt
        return off, csp, debt - off, coll - csp
    return 0.0, 0.0, debt, coll


@njit
def liquidation_values(ec, ed, icr, lusd_in_sp, tcr, price, recovery, mcr, pct_div):
    """Values of one trove's liquidation (normal mode §4.3 or recovery mode §4.4).

    ``ec``/``ed``: entire collateral and debt; ``lusd_in_sp``: LUSD still usable in this
    sequence; ``tcr``: TCR before this trove (recovery mode only).
    Returns ``(kind, coll_gas_comp, debt_to_offset, coll_to_sp, debt_to_redistribute,
    coll_to_redistribute, coll_surplus)``.
    """
    if not recovery:
        if not (icr < mcr):
            return K_NONE, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        gc = ec / pct_div
        off, csp, dr, cr = offset_and_redistribution(ed, ec - gc, lusd_in_sp)
        return K_OFFSET, gc, off, csp, dr, cr, 0.0
    if icr <= 1.0:
        gc = ec / pct_div
        return K_REDIST, gc, 0.0, 0.0, ed, ec - gc, 0.0
    if icr < mcr:
        gc = ec / pct_div
        off, csp, dr, cr = offset_and_redistribution(ed, ec - gc, lusd_in_sp)
        return K_OFFSET, gc, off, csp, dr, cr, 0.0
    if icr < tcr and ed <= lusd_in_sp:
        capped = ed * mcr / price
        gc = capped / pct_div
        return K_CAPPED, gc, ed, capped - gc, 0.0, 0.0, ec - capped
    return K_NONE, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0


@njit
def sp_offset(par, sysv, dep, dep_coll, dep_sold, debt_to_offset, coll_to_add, emptied):
    """``StabilityPool.offset`` (§4.5), pro rata per depositor. ``emptied``: the sequence used
    the whole pool (2021 variant; every deposit becomes 0, the contract's new epoch).
    Depositors keep ``1 − sp_sells`` of the collateral and sell the rest; returns the amount
    sold."""
    total = sysv[S_SP_LUSD]
    if debt_to_offset <= 0.0 or total <= 0.0:
        return 0.0
    f = par[P_SP_SELLS]
    emptied = emptied or debt_to_offset >= total
    for k in range(dep.shape[0]):
        share = dep[k] / total
        gain = coll_to_add * share
        if emptied:
            dep[k] = 0.0
        else:
            dep[k] = dep[k] - debt_to_offset * share
        dep_coll[k] += gain * (1.0 - f)
        dep_sold[k] += gain * f
    sysv[S_SP_LUSD] = 0.0 if emptied else total - debt_to_offset
    sysv[S_SP_OFFSET] += debt_to_offset
    sysv[S_SP_COLL_IN] += coll_to_add
    sold = coll_to_add * f
    sysv[S_SP_SOLD] += sold
    return sold


@njit
def redistribute(sysv, debt_r, coll_r):
    """``_redistributeDebtAndColl`` (§4.6) over the stakes of the troves still active."""
    if debt_r == 0.0:
        return
    stakes = sysv[S_STAKES]
    sysv[S_L_ETH] += coll_r / stakes
    sysv[S_L_DEBT] += debt_r / stakes
    sysv[S_DC] += coll_r
    sysv[S_DD] += debt_r
    sysv[S_RED_COLL] += coll_r
    sysv[S_RED_DEBT] += debt_r


@njit
def liquidate_sequence(pack, price, nmax, mode, gas, vs, vdk, vdq, best, sold, acc, t,
                       ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
                       ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """One ``liquidateTroves(nmax)`` call (``nmax <= 0``: no limit). Returns
    ``(troves liquidated, n_ev)``. Rational mode (``mode == 1``): the keeper calls
    ``batchLiquidateTroves`` with the troves worth their gas — a trove whose gas compensation
    (LUSD at 1 plus the collateral part sold into venue ``best`` after ``sold[a]`` and the batch's
    earlier compensation) does not beat its gas is left out, and the batch goes on in ICR order
    (a left-out trove does not count toward ``nmax``). A trove's gas is ``gas`` (one whole call
    per trove), or, with the batch rule (``P_BATCH``), ``P_GAS_TROVE``; the batch rule also
    charges ``P_GAS_BASE`` once per call, and a rational keeper does not send a batch whose
    total compensation does not cover ``P_GAS_BASE + P_GAS_TROVE · troves`` (the tally is undone,
    ``S_BATCH_SKIP`` counts it)."""
    par = pack[PK_PAR]
    sysv = pack[PK_SYS]
    coll = pack[PK_COLL]
    debt = pack[PK_DEBT]
    stake = pack[PK_STAKE]
    snap_eth = pack[PK_SNAP_ETH]
    snap_debt = pack[PK_SNAP_DEBT]
    status = pack[PK_STATUS]
    surplus = pack[PK_SURPLUS]
    a = int(par[P_ASSET])
    mcr = par[P_MCR]
    ccr = par[P_CCR]
    gas_lusd = par[P_GAS_COMP]
    pct_div = par[P_PCT_DIV]
    n = coll.shape[0]

    # current ICRs; the head of the list (highest ICR, ties: highest index) is never liquidated
    icr = np.empty(n)
    n_active = 0
    head = -1
    for i in range(n):
        if status[i] == ST_ACTIVE:
            ec, ed, _pc, _pd = entire_coll_debt(sysv, coll, debt, stake, snap_eth, snap_debt, i)
            icr[i] = compute_cr(ec, ed, price)
            n_active += 1
            if head < 0 or icr[i] >= icr[head]:
                head = i
        else:
            icr[i] = np.inf
    if n_active <= 1:
        return 0, n_ev
    sys_coll = sysv[S_AC] + sysv[S_DC]
    sys_debt = sysv[S_AD] + sysv[S_DD]
    recovery = compute_cr(sys_coll, sys_debt, price) < ccr
    thr = mcr
    if recovery and ccr > mcr:
        thr = ccr  # in recovery mode only troves under TCR < CCR (or under MCR) can go
    n_cand = 0
    for i in range(n):
        if i != head and status[i] == ST_ACTIVE and icr[i] < thr:
            n_cand += 1
    if n_cand == 0:
        return 0, n_ev
    cand = np.empty(n_cand, np.int64)
    kc = 0
    for i in range(n):
        if i != head and status[i] == ST_ACTIVE and icr[i] < thr:
            cand[kc] = i
            kc += 1
    keys = np.empty(n_cand)
    for k in range(n_cand):
        keys[k] = icr[cand[k]]
    order = np.argsort(keys, kind="mergesort")  # stable: equal ICRs by index

    batch = par[P_BATCH] > 0.0
    per_trove = par[P_GAS_TROVE] if batch else gas
    # the batch rule decides after the tally: keep what a call that is not sent would undo
    n_ev0 = n_ev
    if batch:
        s_coll = coll.copy()
        s_debt = debt.copy()
        s_stake = stake.copy()
        s_status = status.copy()
        s_surplus = surplus.copy()
        s_sysv = sysv.copy()
        s_acc = acc.copy()
    comp = 0.0  # what the included troves pay the keeper (collateral sold + LUSD)
    remaining = sp_available(par, sysv)
    normal = not recovery
    t_off = 0.0
    t_csp = 0.0
    t_dr = 0.0
    t_cr = 0.0
    t_sur = 0.0
    t_gc = 0.0
    n_liq = 0
    it = 0
    ev_cap = ev_step.shape[0]
    for k in range(n_cand):
        if nmax > 0 and it >= nmax:
            break
        i = cand[order[k]]
        r = icr[i]
        if not normal and r >= mcr and remaining <= 0.0:
            break
        if normal and not (r < mcr):
            break
        ec, ed, pc, pd = entire_coll_debt(sysv, coll, debt, stake, snap_eth, snap_debt, i)
        tcr = compute_cr(sys_coll, sys_debt, price)
        kind, gc, off, csp, dr, cr, sur = liquidation_values(
            ec, ed, r, remaining, tcr, price, not normal, mcr, pct_div)
        if kind != K_NONE:
            if best >= 0:
                got = marginal_proceeds(vs, vdk, vdq, best, sold[a] + t_gc, gc)
            else:
                got = gc * price
            if mode == MODE_RATIONAL:
                if got + gas_lusd - per_trove <= 0.0:
                    continue  # not worth its gas: left out of the keeper's batch
            comp += got + gas_lusd
            # pending rewards to the ActivePool, then the whole trove leaves it
            sysv[S_DC] -= pc
            sysv[S_DD] -= pd
            sysv[S_AC] += pc
            sysv[S_AD] += pd
            sysv[S_AC] -= ec
            sysv[S_AD] -= ed
            sysv[S_STAKES] -= stake[i]
            stake[i] = 0.0
            coll[i] = 0.0
            debt[i] = 0.0
            status[i] = ST_LIQUIDATED
            surplus[i] += sur
            t_off += off
            t_csp += csp
            t_dr += dr
            t_cr += cr
            t_sur += sur
            t_gc += gc
            n_liq += 1
            remaining -= off
            if remaining < 0.0:
                remaining = 0.0
            if not normal:
                sys_debt -= off
                sys_coll -= csp + gc + sur
            seized = ec - sur
            bonus = (csp + gc) * price - off + gas_lusd
            acc[ACC_NLIQ] += 1.0
            acc[ACC_LIQ_VALUE] += seized * price
            acc[ACC_REPAID] += off
            acc[ACC_FUND_DRAW] += off
            acc[ACC_BONUS] += bonus
            acc[ACC_GAS] += per_trove
            if n_ev < ev_cap:
                ev_step[n_ev] = t
                ev_pos[n_ev] = pos_offset + i
                ev_proto[n_ev] = proto_id
                ev_asset[n_ev] = a
                ev_seized[n_ev] = seized
                ev_repaid[n_ev] = off
                ev_price[n_ev] = price
                ev_exec[n_ev] = np.nan
                ev_bonus[n_ev] = bonus
                ev_bad[n_ev] = 0.0
                ev_fee[n_ev] = 0.0
                n_ev += 1
            else:
                acc[ACC_EV_LOST] += 1.0
        if not normal:
            normal = not (compute_cr(sys_coll, sys_debt, price) < ccr)
        it += 1
    if n_liq == 0:
        return 0, n_ev
    if batch:
        if mode == MODE_RATIONAL and comp - par[P_GAS_BASE] - per_trove * n_liq <= 0.0:
            # the batch would not pay its fixed gas: the keeper does not send it
            coll[:] = s_coll
            debt[:] = s_debt
            stake[:] = s_stake
            status[:] = s_status
            surplus[:] = s_surplus
            sysv[:] = s_sysv
            acc[:] = s_acc
            sysv[S_BATCH_SKIP] += 1.0
            return 0, n_ev0
        acc[ACC_GAS] += par[P_GAS_BASE]
    # end of the call: pool offset, redistribution, surplus, snapshots, gas compensation
    emptied = remaining <= 0.0 and int(par[P_VARIANT]) == VARIANT_2021
    sold[a] += sp_offset(par, sysv, pack[PK_DEP], pack[PK_DEP_COLL], pack[PK_DEP_SOLD],
                         t_off, t_csp, emptied)
    redistribute(sysv, t_dr, t_cr)
    sysv[S_SURPLUS] += t_sur
    sysv[S_STAKES_SNAP] = sysv[S_STAKES]
    sysv[S_COLL_SNAP] = sysv[S_AC] + sysv[S_DC]
    sysv[S_GC_COLL] += t_gc
    sysv[S_GC_LUSD] += gas_lusd * n_liq
    sysv[S_GAS_POOL] -= gas_lusd * n_liq
    sysv[S_NLIQ] += n_liq
    sysv[S_NSEQ] += 1.0
    sold[a] += t_gc  # the liquidator sells its collateral gas compensation
    return n_liq, n_ev


@njit
def liquity_step(pack, t, dt_seconds, prices, vs, vdk, vdq, av_ptr, av_idx,
                 sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid,
                 ev_price, ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset):
    """Protocol-unit step (docs/architecture.md "Protocol units"): up to ``P_SEQS``
    liquidation sequences at the oracle price of the collateral asset, each of at most
    ``liq[LQ_MAX]`` troves (0 = no limit), stopping early when one liquidates nothing.
    ``dt_seconds`` is unused (Liquity has no time-dependent liquidation rule).
    Returns the new ``n_ev``."""
    par = pack[PK_PAR]
    a = int(par[P_ASSET])
    price = prices[a]
    if not (price > 0.0) or not np.isfinite(price):
        return n_ev
    mode = int(liq[LQ_MODE])
    gas = liq[LQ_GAS]
    nmax = int(liq[LQ_MAX])
    # recovery-mode record at the start of the step (after the price moved, before liquidations)
    sysv_ = pack[PK_SYS]
    tcr0 = system_tcr(sysv_, price)
    if tcr0 < sysv_[S_TCR_MIN]:
        sysv_[S_TCR_MIN] = tcr0
    if tcr0 < par[P_CCR]:
        sysv_[S_RM_STEPS] += 1.0
        if sysv_[S_RM_FLAG] == 0.0:
            sysv_[S_RM_ENTRIES] += 1.0
        sysv_[S_RM_FLAG] = 1.0
    else:
        sysv_[S_RM_FLAG] = 0.0
    best = -1
    if av_ptr.shape[0] > a + 1:
        best = _best_venue(vs, av_ptr, av_idx, a)
    for _s in range(int(par[P_SEQS])):
        n_liq, n_ev = liquidate_sequence(
            pack, price, nmax, mode, gas, vs, vdk, vdq, best, sold, acc, t,
            ev_step, ev_pos, ev_proto, ev_asset, ev_seized, ev_repaid, ev_price,
            ev_exec, ev_bonus, ev_bad, ev_fee, n_ev, proto_id, pos_offset)
        if n_liq == 0:
            break
    return n_ev
