"""Compound v3 (Comet) interest-rate model and index accrual, float64.

Rates (compound-finance/comet@d5a30b0 ``contracts/Comet.sol``)
--------------------------------------------------------------
Per-second rates with separate supply and borrow kinks (``getSupplyRate`` L449-459,
``getBorrowRate`` L464-474)::

    rate(U) = base + low · U                                  (U <= kink)
            = base + low · kink + high · (U − kink)           (U >  kink)

``U = presentValue(totalBorrowBase) / presentValue(totalSupplyBase)``, 0 without supply
(``getUtilization`` L478-486). The per-second constants are the configured per-year values
divided by ``SECONDS_PER_YEAR = 31,536,000`` with integer truncation at 1e18 (constructor
L166-176; ``CometCore.sol`` L45): the pack reproduces that truncation.

Accrual (``accruedInterestIndices`` L403-414, ``accrueInternal`` L419-433)
-------------------------------------------------------------------------
Over ``Δt`` seconds, *simple* interest on each index at the rates of the current utilization::

    baseSupplyIndex += baseSupplyIndex · supplyRate · Δt
    baseBorrowIndex += baseBorrowIndex · borrowRate · Δt

Balances are principals (``principal = present / index``; ``CometCore.sol``
``presentValueSupply``/``presentValueBorrow`` L90-98, ``principalValueSupply``/``Borrow``
L116-125). Reserves are ``cash − presentValue(supply) + presentValue(borrow)`` (``getReserves``
L511-517).
The indexes start at 1 (``BASE_INDEX_SCALE = 1e15``, CometCore L51).

Float64 instead of the contract's 1e15 index and 1e18 factor fixed point.
"""

from __future__ import annotations

from ...kernels._jit import njit

SECONDS_PER_YEAR = 31_536_000.0

# parameters: per-second rates (already truncated as the contract stores them) and kinks
CP_SUPPLY_KINK = 0
CP_SUPPLY_LOW = 1
CP_SUPPLY_HIGH = 2
CP_SUPPLY_BASE = 3
CP_BORROW_KINK = 4
CP_BORROW_LOW = 5
CP_BORROW_HIGH = 6
CP_BORROW_BASE = 7
NCP = 8

# state
CS_SUPPLY_INDEX = 0
CS_BORROW_INDEX = 1
CS_SUPPLY_PRINCIPAL = 2  # totalSupplyBase
CS_BORROW_PRINCIPAL = 3  # totalBorrowBase
CS_CASH = 4  # base tokens held by the contract
NCS = 5


@njit
def comet_supply_rate(u, par):
    """``getSupplyRate(utilization)`` per second (L449-459)."""
    kink = par[CP_SUPPLY_KINK]
    if u <= kink:
        return par[CP_SUPPLY_BASE] + par[CP_SUPPLY_LOW] * u
    return par[CP_SUPPLY_BASE] + par[CP_SUPPLY_LOW] * kink + par[CP_SUPPLY_HIGH] * (u - kink)


@njit
def comet_borrow_rate(u, par):
    """``getBorrowRate(utilization)`` per second (L464-474)."""
    kink = par[CP_BORROW_KINK]
    if u <= kink:
        return par[CP_BORROW_BASE] + par[CP_BORROW_LOW] * u
    return par[CP_BORROW_BASE] + par[CP_BORROW_LOW] * kink + par[CP_BORROW_HIGH] * (u - kink)


@njit
def comet_total_supply(st):
    return st[CS_SUPPLY_PRINCIPAL] * st[CS_SUPPLY_INDEX]


@njit
def comet_total_borrow(st):
    return st[CS_BORROW_PRINCIPAL] * st[CS_BORROW_INDEX]


@njit
def comet_utilization(st):
    """``getUtilization`` (L478-486)."""
    s = comet_total_supply(st)
    if s == 0.0:
        return 0.0
    return comet_total_borrow(st) / s


@njit
def comet_reserves(st):
    """``getReserves``: cash − supplied + borrowed (present values); may go negative."""
    return st[CS_CASH] - comet_total_supply(st) + comet_total_borrow(st)


@njit
def comet_accrue(st, par, dt):
    """``accrueInternal`` over ``dt`` seconds (L403-433). Returns the borrow-index growth
    factor (what every borrower's debt was multiplied by)."""
    if dt <= 0.0:
        return 1.0
    u = comet_utilization(st)
    sr = comet_supply_rate(u, par)
    br = comet_borrow_rate(u, par)
    st[CS_SUPPLY_INDEX] += st[CS_SUPPLY_INDEX] * (sr * dt)
    growth = 1.0 + br * dt
    st[CS_BORROW_INDEX] += st[CS_BORROW_INDEX] * (br * dt)
    return growth


@njit
def comet_supply(st, amount):
    """Supply ``amount`` base: principal += amount / supply index; cash += amount."""
    if amount <= 0.0:
        return 0.0
    st[CS_SUPPLY_PRINCIPAL] += amount / st[CS_SUPPLY_INDEX]
    st[CS_CASH] += amount
    return amount


@njit
def comet_withdraw(st, amount):
    """Withdraw up to ``amount`` base, capped by the cash the contract holds (a transfer out
    beyond it reverts). Returns the amount withdrawn."""
    w = min(amount, st[CS_CASH])
    if w <= 0.0:
        return 0.0
    st[CS_SUPPLY_PRINCIPAL] -= w / st[CS_SUPPLY_INDEX]
    st[CS_CASH] -= w
    return w


@njit
def comet_borrow(st, amount):
    """Borrow up to ``amount`` base, capped by the cash. Returns the amount lent."""
    b = min(amount, st[CS_CASH])
    if b <= 0.0:
        return 0.0
    st[CS_BORROW_PRINCIPAL] += b / st[CS_BORROW_INDEX]
    st[CS_CASH] -= b
    return b


@njit
def comet_repay(st, amount):
    """Repay up to ``amount`` of the borrow total. Returns the amount repaid."""
    r = min(amount, comet_total_borrow(st))
    if r <= 0.0:
        return 0.0
    st[CS_BORROW_PRINCIPAL] -= r / st[CS_BORROW_INDEX]
    if st[CS_BORROW_PRINCIPAL] < 0.0:
        st[CS_BORROW_PRINCIPAL] = 0.0
    st[CS_CASH] += r
    return r
