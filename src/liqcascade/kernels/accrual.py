"""Interest accrual and lending-pool state inside the time loop (``[protocols.rates.ASSET]``).

One *rate row* ``r`` per (Aave-rule protocol, debt asset) that has a rate model. The row holds
the pool of that asset (the rate kinds' own state vectors, :mod:`liqcascade.rates`) and the
book's *debt factor* ``fac[r]``: the book keeps every position's debt **scaled** (its debt at
``t = 0``), and its debt now is ``scaled · fac[r]`` — the way Aave's variable-debt token holds
``scaledBalance`` and multiplies by the borrow index. ``fac`` is the pool's borrow index since
``t = 0`` times what reacting borrowers repaid (a uniform fraction of every position). The
liquidation stage therefore prices one scaled debt unit at ``pd · fac[r]``: the sort order of a
segment never changes, and ``HF = c·pc·LT / (d_scaled · fac · pd)`` is exact.

Per step (stage :func:`rates_before`, after the oracles and before the liquidations), row by row:

1. **accrual** over ``dt_seconds`` at the rates the last action left (``aave_accrue`` with the
   rates refreshed from the grown debt, ``comet_accrue``, ``fixed_drip``; Liquity: none). The
   book's interest ``bsc · fac · (g − 1)`` is booked (``RT_INTEREST``) and ``fac *= g``;
2. **borrower reaction** (optional): while the borrow rate (per year) is above ``react_rate``,
   borrowers repay ``react_repay`` of their debt per step (``fac *= 1 − f``; the pool is repaid;
   ``RT_BORROWER_REPAID``);
3. **withdrawals**: during the window, lenders not yet queued ask for ``withdraw_per_step`` of
   their claims each step; the queue is served up to the available liquidity (``*_withdraw``);
   what is left is *locked out* (``RR_LOCKED``), and stays queued;
4. **liquidators' pool liquidity**: ``cap[r]`` ← the available liquidity (when liquidators source
   the debt asset from the pool), spent by the step's repayments.

After each segment's scan (:func:`rates_after_scan`) the repaid debt goes back to the pool, bad
debt is burned from it (Aave: booked as the reserve's deficit; Compound: absorbed by reserves),
and the events' ``debt_repaid`` (written in scaled units) are multiplied by ``fac``; debt that the
loop's reactive borrowers (``[agents.borrowers]``, deleverage) repaid during the scan goes back to
the pool too and counts as repaid by borrowers (:func:`rates_borrowers_repaid`).

Conservation, per row and in debt-asset units: ``book debt at t=0 + RT_INTEREST =
liquidations' repaid + RT_BORROWER_REPAID + bad debt + book debt left`` (``RT_REPAID``,
``RT_BAD``, ``RT_LEFT``). Under the leverage fee (``mechanisms.volatility_fee``) the debt owed is
``bsc · fac · lev_ix``: interest and borrowers' repayments are fractions of it, ``RT_LEFT`` is
it, and the fee's own accrual is a third source of debt on the left of the identity (not
interest, not recorded here).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import internal
from .events import EV_N
from ..rates.aave_v3.kernel import (
    AS_AVAILABLE, AS_DEBT_SCALED, AS_LIQ_RATE, AS_UNBACKED, AS_VAR_INDEX, AS_VAR_RATE, aave_accrue,
    aave_repay, aave_total_debt, aave_total_supplied, aave_update_rates, aave_utilization, aave_withdraw,
)
from ..rates.comet.kernel import (
    CS_BORROW_INDEX, CS_BORROW_PRINCIPAL, CS_CASH, SECONDS_PER_YEAR as COMET_YEAR, comet_accrue, comet_borrow_rate,
    comet_repay, comet_supply_rate, comet_total_borrow, comet_total_supply, comet_utilization, comet_withdraw,
)
from ..rates.fixed.kernel import FP_BASE, FP_RATE, annual_rate, fixed_drip

# rate kinds (Rates.kind)
RK_AAVE = 1
RK_COMET = 2
RK_FIXED = 3
RK_LIQUITY = 4
NRP = 8  # parameter slots (the largest kind: Comet's 8)
NRS = 9  # state slots (the largest kind: Aave's 9)

# per-row settings (Rates.cfg[r, RW_*])
RW_FRAC = 0  # lenders' withdrawal intent: fraction of the claims not yet queued, per step
RW_START = 1  # first step of the withdrawal window
RW_END = 2  # last step of the window
RW_REACT = 3  # borrow rate (per year) above which borrowers repay (0: no reaction)
RW_REPAY = 4  # fraction of their debt borrowers repay per step while above
NRW = 5

# per-step records (Rates.rec[t, r, RR_*])
RR_UTIL = 0  # utilization after the step
RR_BORROW_RATE = 1  # per year
RR_SUPPLY_RATE = 2  # per year
RR_INDEX = 3  # pool borrow index since t = 0
RR_FACTOR = 4  # the book's debt factor (index × borrowers' repayments)
RR_AVAILABLE = 5  # available liquidity, units
RR_SUPPLIED = 6  # lenders' claims, units
RR_BORROWED = 7  # total borrows, units
RR_WITHDRAWN = 8  # withdrawn this step, units
RR_LOCKED = 9  # withdrawals asked and not served (still queued), units
RR_INTEREST = 10  # the book's interest this step, units
RR_LIQ_CAP = 11  # pool liquidity open to liquidators at the start of the step, units (inf: not capped)
NRR = 12

# per-path totals (Rates.tot[r, RT_*])
RT_INTEREST = 0  # the book's interest accrued, units
RT_REPAID = 1  # debt repaid by liquidations, units
RT_BAD = 2  # bad debt, units
RT_BORROWER_REPAID = 3  # repaid by reacting borrowers, units
RT_LEFT = 4  # the book's debt left at the end, units
RT_FACTOR = 5  # the book's final debt factor
RT_WITHDRAWN = 6  # lenders' withdrawals served, units
RT_LOCKED_MAX = 7  # largest queue of locked-out withdrawals, units
RT_LOCKED_END = 8  # queue at the end, units
RT_LOCKED_STEPS = 9  # steps with a locked-out queue
RT_UTIL_MAX = 10
RT_RATE_MAX = 11  # highest borrow rate, per year
RT_FULL_STEPS = 12  # steps at 100 % utilization (no liquidity left)
NRT = 13


#: names of the RR_* and RT_* columns (the run's rates table and totals)
STEP_NAMES = ("utilization", "borrow_rate", "supply_rate", "borrow_index", "debt_factor", "available", "supplied",
              "borrowed", "withdrawn", "locked_out", "interest", "liquidator_liquidity")
TOTAL_NAMES = ("interest_accrued", "repaid_by_liquidations", "bad_debt", "repaid_by_borrowers", "debt_left",
               "debt_factor", "withdrawn", "locked_out_max", "locked_out_end", "locked_out_steps",
               "utilization_max", "borrow_rate_max", "steps_at_full_utilization")


class Rates(NamedTuple):
    """Rate rows (constant except ``rec``/``tot``, which the loop writes). ``on`` false: no rows,
    nothing runs. ``pool_cap``: liquidators source the debt asset from the pool (capped by its
    available liquidity). ``kind/proto/asset[R]``, ``row_of[P, A]`` (-1: none), ``par[R, NRP]``,
    ``st0[R, NRS]`` the pool at ``t = 0``, ``cfg[R, NRW]``, ``book0[R]`` the book's debt at
    ``t = 0`` (units), ``rec[T+1, R, NRR]`` (first dimension 0: not recorded), ``tot[R, NRT]``."""

    on: bool
    pool_cap: bool
    kind: np.ndarray
    proto: np.ndarray
    asset: np.ndarray
    row_of: np.ndarray
    par: np.ndarray
    st0: np.ndarray
    cfg: np.ndarray
    book0: np.ndarray
    rec: np.ndarray
    tot: np.ndarray


class RateState(NamedTuple):
    """Per path: pool states ``st[R, NRS]``, book debt factor ``fac[R]``, the book's scaled debt
    outstanding ``bsc[R]``, queued withdrawals ``pend[R]``, liquidators' pool liquidity left this
    step ``cap[R]``, totals ``acc[R, NRT]``."""

    st: np.ndarray
    fac: np.ndarray
    bsc: np.ndarray
    pend: np.ndarray
    cap: np.ndarray
    acc: np.ndarray


def rates_empty(P: int = 0, A: int = 0) -> Rates:
    """No rate rows (the default: no accrual, results exactly as without this module)."""
    z = np.zeros
    return Rates(False, False, z(0, np.int64), z(0, np.int64), z(0, np.int64), np.full((P, A), -1, np.int64),
                 z((0, NRP)), z((0, NRS)), z((0, NRW)), z(0), z((0, 0, NRR)), z((0, NRT)))


@internal
def rates_fresh(rates, record):
    """The layout with outputs of its own (a path of ``simulate_many`` writes nowhere shared)."""
    R = rates.kind.shape[0]
    rec = rates.rec if record else np.zeros((0, R, NRR))
    return Rates(rates.on, rates.pool_cap, rates.kind, rates.proto, rates.asset, rates.row_of, rates.par,
                 rates.st0, rates.cfg, rates.book0, rec, np.zeros((R, NRT)))


@internal
def rates_state_new(rates):
    """The path's :class:`RateState`; ``rates`` None (the lean time loop): one without rows, of
    the same type (a None here would make the full loop's state an optional)."""
    if rates is None:
        st0 = np.zeros((0, NRS))
        book0 = np.zeros(0)
    else:
        st0 = rates.st0.copy()
        book0 = rates.book0.copy()
    R = book0.shape[0]
    return RateState(st0, np.ones(R), book0, np.zeros(R), np.full(R, np.inf), np.zeros((R, NRT)))


# ---- one row's pool -------------------------------------------------------------------------------


@internal
def pool_view(kind, st, par):
    """``(utilization, borrow rate per year, supply rate per year, borrow index, available,
    supplied, borrowed)`` of a pool (NaN where the kind has no pool)."""
    if kind == RK_AAVE:
        return (aave_utilization(st), st[AS_VAR_RATE], st[AS_LIQ_RATE], st[AS_VAR_INDEX], st[AS_AVAILABLE],
                aave_total_supplied(st), aave_total_debt(st))
    if kind == RK_COMET:
        u = comet_utilization(st)
        return (u, comet_borrow_rate(u, par) * COMET_YEAR, comet_supply_rate(u, par) * COMET_YEAR,
                st[CS_BORROW_INDEX], st[CS_CASH], comet_total_supply(st), comet_total_borrow(st))
    if kind == RK_FIXED:
        return (np.nan, annual_rate(par[FP_RATE] + par[FP_BASE]), np.nan, st[0], np.nan, np.nan, np.nan)
    return (np.nan, 0.0, np.nan, 1.0, np.nan, np.nan, np.nan)


@internal
def pool_repay(kind, st, par, amount):
    if amount <= 0.0:
        return
    if kind == RK_AAVE:
        aave_repay(st, par, amount)
    elif kind == RK_COMET:
        comet_repay(st, amount)


@internal
def pool_burn(kind, st, par, amount):
    """Bad debt leaves the pool's borrows without cash coming in: Aave books it as the reserve's
    deficit (v3.3 ``_burnBadDebt``; the strategy's ``unbacked`` input), Compound absorbs it
    (reserves fall)."""
    if amount <= 0.0:
        return
    if kind == RK_AAVE:
        st[AS_DEBT_SCALED] -= amount / st[AS_VAR_INDEX]
        if st[AS_DEBT_SCALED] < 0.0:
            st[AS_DEBT_SCALED] = 0.0
        st[AS_UNBACKED] += amount
        aave_update_rates(st, par, 0.0, 0.0)
    elif kind == RK_COMET:
        st[CS_BORROW_PRINCIPAL] -= amount / st[CS_BORROW_INDEX]
        if st[CS_BORROW_PRINCIPAL] < 0.0:
            st[CS_BORROW_PRINCIPAL] = 0.0


@internal
def pool_withdraw(kind, st, par, amount):
    if amount <= 0.0:
        return 0.0
    if kind == RK_AAVE:
        return aave_withdraw(st, par, amount)
    if kind == RK_COMET:
        return comet_withdraw(st, amount)
    return 0.0


@internal
def pool_accrue(kind, st, par, dt):
    if kind == RK_AAVE:
        return aave_accrue(st, par, dt, True)
    if kind == RK_COMET:
        return comet_accrue(st, par, dt)
    if kind == RK_FIXED:
        return fixed_drip(st, par, dt)
    return 1.0


# ---- stages -----------------------------------------------------------------------------------------


@internal
def rates_before(t, dt, rates, rs, lev_ix):
    """Stage ``rates`` of step ``t`` (see the module docstring): accrual, borrower reaction,
    withdrawals, liquidators' pool liquidity. ``lev_ix[P]`` is the leverage fee's index per
    protocol (1.0 when the fee is off): the book's debt owed is ``bsc · fac · lev_ix``, and the
    interest and the borrowers' repayments are fractions of that."""
    kind = rates.kind
    par = rates.par
    cfg = rates.cfg
    st = rs.st
    fac = rs.fac
    bsc = rs.bsc
    pend = rs.pend
    cap = rs.cap
    acc = rs.acc
    rec = rates.rec
    pool_cap = rates.pool_cap
    do_rec = rec.shape[0] > 0
    for r in range(kind.shape[0]):
        k = kind[r]
        row = st[r]
        pr = par[r]
        g = pool_accrue(k, row, pr, dt)
        lev = lev_ix[rates.proto[r]]
        interest = bsc[r] * fac[r] * lev * (g - 1.0)
        acc[r, RT_INTEREST] += interest
        fac[r] *= g
        u, brate, srate, idx, avail, supplied, borrowed = pool_view(k, row, pr)
        if cfg[r, RW_REACT] > 0.0 and brate > cfg[r, RW_REACT] and cfg[r, RW_REPAY] > 0.0 and bsc[r] > 0.0:
            f = cfg[r, RW_REPAY]
            paid = bsc[r] * fac[r] * lev * f
            pool_repay(k, row, pr, paid)
            acc[r, RT_BORROWER_REPAID] += paid
            fac[r] *= 1.0 - f
        got = 0.0
        if (k == RK_AAVE or k == RK_COMET) and cfg[r, RW_FRAC] > 0.0 and cfg[r, RW_START] <= t <= cfg[r, RW_END]:
            u, brate, srate, idx, avail, supplied, borrowed = pool_view(k, row, pr)
            free = supplied - pend[r]
            if free > 0.0:
                pend[r] += cfg[r, RW_FRAC] * free
        if pend[r] > 0.0:
            got = pool_withdraw(k, row, pr, pend[r])
            pend[r] -= got
            if pend[r] < 0.0:
                pend[r] = 0.0
            acc[r, RT_WITHDRAWN] += got
        u, brate, srate, idx, avail, supplied, borrowed = pool_view(k, row, pr)
        cap[r] = avail if (pool_cap and (k == RK_AAVE or k == RK_COMET)) else np.inf
        if do_rec:
            rec[t, r, RR_WITHDRAWN] = got
            rec[t, r, RR_INTEREST] = interest
            rec[t, r, RR_LIQ_CAP] = cap[r]


@internal
def rates_segment_price(rates, rs, pr, da, pd):
    """The price of one scaled debt unit of protocol ``pr``'s debt asset ``da`` and the row
    (-1: none, ``pd`` unchanged)."""
    r = rates.row_of[pr, da]
    if r < 0:
        return pd, -1
    return pd * rs.fac[r], r


@internal
def rates_after_scan(rates, rs, r, pd_raw, cap_global, rep0, bad0, sc, i_cap, i_rep, i_bad, ev, ev0, lev):
    """Book one segment's scan on row ``r``: ``rep0``/``bad0`` were the step's repaid and bad
    debt (quote, ``sc[i_rep]``, ``sc[i_bad]``) before it, ``cap_global`` the liquidators' own
    capital left. The repaid debt goes back to the pool and comes off the pool liquidity left
    to the liquidators (``sc[i_cap]`` ← their own capital less what they repaid, when the pool
    capped the scan; untouched otherwise), the bad debt is burned, the events' ``debt_repaid``
    (scaled units) become units of debt. ``lev`` is the protocol's leverage-fee index (the
    scaled debt repaid is the units repaid over ``fac · lev``)."""
    k = rates.kind[r]
    row = rs.st[r]
    pr = rates.par[r]
    fac = rs.fac[r]
    used = sc[i_rep] - rep0
    rep_u = used / pd_raw
    bad_u = (sc[i_bad] - bad0) / pd_raw
    if rep_u > 0.0:
        pool_repay(k, row, pr, rep_u)
        rs.acc[r, RT_REPAID] += rep_u
    if bad_u > 0.0:
        pool_burn(k, row, pr, bad_u)
        rs.acc[r, RT_BAD] += bad_u
    rs.bsc[r] -= (rep_u + bad_u) / (fac * lev)
    if rs.bsc[r] < 0.0:
        rs.bsc[r] = 0.0
    if rs.cap[r] < np.inf:
        rs.cap[r] -= rep_u
        if rs.cap[r] < 0.0:
            rs.cap[r] = 0.0
        sc[i_cap] = cap_global - used
    buf = ev.buf
    for j in range(ev0, ev.n[EV_N]):
        e = buf[j]
        e["debt_repaid"] = e["debt_repaid"] * fac


@internal
def rates_borrowers_repaid(rates, rs, r, units, lev):
    """Debt that reactive borrowers (``[agents.borrowers]``, deleverage) repaid during a scan of a
    segment of row ``r``, in units: it goes back to the pool, counts as repaid by borrowers
    (``RT_BORROWER_REPAID``) and leaves the book's scaled debt (over ``fac · lev``, ``lev`` the
    protocol's leverage-fee index)."""
    pool_repay(rates.kind[r], rs.st[r], rates.par[r], units)
    rs.acc[r, RT_BORROWER_REPAID] += units
    rs.bsc[r] -= units / (rs.fac[r] * lev)
    if rs.bsc[r] < 0.0:
        rs.bsc[r] = 0.0


@internal
def rates_cap(rs, r, pd_raw, cap_global):
    """The capital a segment's scan may use: the liquidators' own, and (pool sourcing) no more
    than the pool's liquidity left to them."""
    c = rs.cap[r]
    if c < np.inf and c * pd_raw < cap_global:
        return c * pd_raw
    return cap_global


@internal
def rates_record(t, rates, rs):
    """End of step ``t``: the pool's state into ``rates.rec[t]`` (when recorded) and the running
    maxima into the totals."""
    kind = rates.kind
    par = rates.par
    st = rs.st
    acc = rs.acc
    rec = rates.rec
    do_rec = rec.shape[0] > 0
    for r in range(kind.shape[0]):
        u, brate, srate, idx, avail, supplied, borrowed = pool_view(kind[r], st[r], par[r])
        locked = rs.pend[r]
        if locked > acc[r, RT_LOCKED_MAX]:
            acc[r, RT_LOCKED_MAX] = locked
        if locked > 0.0:
            acc[r, RT_LOCKED_STEPS] += 1.0
        if u > acc[r, RT_UTIL_MAX]:
            acc[r, RT_UTIL_MAX] = u
        if brate > acc[r, RT_RATE_MAX]:
            acc[r, RT_RATE_MAX] = brate
        if (kind[r] == RK_AAVE or kind[r] == RK_COMET) and not (avail > 0.0):
            acc[r, RT_FULL_STEPS] += 1.0
        if do_rec:
            rec[t, r, RR_UTIL] = u
            rec[t, r, RR_BORROW_RATE] = brate
            rec[t, r, RR_SUPPLY_RATE] = srate
            rec[t, r, RR_INDEX] = idx
            rec[t, r, RR_FACTOR] = rs.fac[r]
            rec[t, r, RR_AVAILABLE] = avail
            rec[t, r, RR_SUPPLIED] = supplied
            rec[t, r, RR_BORROWED] = borrowed
            rec[t, r, RR_LOCKED] = locked


@internal
def rates_start(rates, rs):
    """Step 0's records."""
    rec = rates.rec
    if rec.shape[0] == 0:
        return
    for r in range(rates.kind.shape[0]):
        u, brate, srate, idx, avail, supplied, borrowed = pool_view(rates.kind[r], rs.st[r], rates.par[r])
        rec[0, r, RR_UTIL] = u
        rec[0, r, RR_BORROW_RATE] = brate
        rec[0, r, RR_SUPPLY_RATE] = srate
        rec[0, r, RR_INDEX] = 1.0
        rec[0, r, RR_FACTOR] = 1.0
        rec[0, r, RR_AVAILABLE] = avail
        rec[0, r, RR_SUPPLIED] = supplied
        rec[0, r, RR_BORROWED] = borrowed
        rec[0, r, RR_LIQ_CAP] = np.inf


@internal
def rates_finish(rates, rs, lev_ix):
    """After the last step: totals into ``rates.tot`` (the book's debt left, owed with the
    leverage fee's index ``lev_ix``; the final factor, without it)."""
    tot = rates.tot
    for r in range(rates.kind.shape[0]):
        for j in range(NRT):
            tot[r, j] = rs.acc[r, j]
        tot[r, RT_LEFT] = rs.bsc[r] * rs.fac[r] * lev_ix[rates.proto[r]]
        tot[r, RT_FACTOR] = rs.fac[r]
        tot[r, RT_LOCKED_END] = rs.pend[r]
