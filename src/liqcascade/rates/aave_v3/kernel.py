"""Aave v3 interest-rate model and index accrual, float64.

Rates (aave-dao/aave-v3-origin@fd1fbd9, v3.7)
--------------------------------------------
``DefaultReserveInterestRateStrategyV2.calculateInterestRates``
(``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol`` L124-170), all rates per year::

    available  = virtualUnderlyingBalance + liquidityAdded − liquidityTaken
    U_borrow   = debt / (available + debt)
    U_supply   = debt / (available + debt + unbacked)
    borrow     = base + slope1 · U_borrow / U_opt                          (U_borrow <= U_opt)
               = base + slope1 + slope2 · (U_borrow − U_opt) / (1 − U_opt)   (U_borrow >  U_opt)
    liquidity  = borrow · U_supply · (1 − reserveFactor)
    debt == 0  → (liquidity, borrow) = (0, base)

Accrual (``src/contracts/protocol/libraries/logic/ReserveLogic.sol``, ``MathUtils.sol``)
-----------------------------------------------------------------------------------------
* ``updateState`` (ReserveLogic L85-101) runs ``_updateIndexes`` then ``_accrueToTreasury``.
* Liquidity index, *linear* (``calculateLinearInterest``, MathUtils L23-34):
  ``I_liq ← I_liq · (1 + r_liq · Δt / year)``, only when ``r_liq != 0`` (ReserveLogic L218-227).
* Variable-borrow index, *compounded* with the contract's 3-term approximation
  (``calculateCompoundedInterest``, MathUtils L50-85): with ``x = r_var · Δt / year``,
  ``1 + x + x²/2 + x³/6`` — it undercharges borrowers against ``e^x`` (see the contract's
  comment L37-44); only when there is variable debt (ReserveLogic L233-242).
* Treasury (``_accrueToTreasury``, ReserveLogic L183-204): the debt accrued
  ``scaledDebt · (I_var' − I_var)`` times the reserve factor is minted to the treasury as
  scaled aTokens at the new liquidity index.
* After any action the rates are recomputed from the new totals
  (``updateInterestRatesAndVirtualBalance``, ReserveLogic L130-175) and the virtual balance moves
  by the liquidity added/taken.

``year = 365 days`` (``SECONDS_PER_YEAR``, MathUtils L15). Float64 instead of ray (1e27) fixed
point; the formulas are the same term for term.

State ``st`` float64[NAS] and parameters ``par`` float64[NAP] use the slot constants below.
Amounts are underlying units; ``AS_SUPPLY_SCALED`` and ``AS_DEBT_SCALED`` are the aToken and
variable-debt-token scaled totals (amount / index at the time of the action).
"""

from __future__ import annotations

from ...kernels._jit import njit

SECONDS_PER_YEAR = 365.0 * 86400.0

# parameters (fractions per year; reserve factor a fraction)
AP_BASE = 0
AP_SLOPE1 = 1
AP_SLOPE2 = 2
AP_OPTIMAL = 3
AP_RF = 4
NAP = 5

# state
AS_LIQ_INDEX = 0
AS_VAR_INDEX = 1
AS_LIQ_RATE = 2
AS_VAR_RATE = 3
AS_SUPPLY_SCALED = 4
AS_DEBT_SCALED = 5
AS_AVAILABLE = 6  # virtualUnderlyingBalance
AS_TREASURY_SCALED = 7  # accruedToTreasury (scaled aTokens)
AS_UNBACKED = 8  # reserve.deficit, passed as "unbacked" to the strategy
NAS = 9


@njit
def aave_interest_rates(total_debt, available, unbacked, par):
    """``(liquidity_rate, variable_borrow_rate)`` per year (strategy L124-170)."""
    base = par[AP_BASE]
    if total_debt == 0.0:
        return 0.0, base
    opt = par[AP_OPTIMAL]
    denom = available + total_debt
    u_borrow = total_debt / denom
    u_supply = total_debt / (denom + unbacked)
    if u_borrow > opt:
        excess = (u_borrow - opt) / (1.0 - opt)
        borrow = base + par[AP_SLOPE1] + par[AP_SLOPE2] * excess
    else:
        borrow = base + par[AP_SLOPE1] * u_borrow / opt
    liquidity = borrow * u_supply * (1.0 - par[AP_RF])
    return liquidity, borrow


@njit
def linear_interest(rate, dt):
    """``calculateLinearInterest`` (MathUtils L23-34): ``1 + rate · dt / year``."""
    return 1.0 + rate * dt / SECONDS_PER_YEAR


@njit
def compounded_growth(rate, dt):
    """``calculateCompoundedInterest − 1``: ``x + x (x/2 + x · x/6)`` with
    ``x = rate · dt / year`` (kept apart so that the interest itself has no cancellation)."""
    if dt == 0.0:
        return 0.0
    x = rate * dt / SECONDS_PER_YEAR
    return x + x * (x / 2.0 + x * (x / 6.0))


@njit
def compounded_interest(rate, dt):
    """``calculateCompoundedInterest`` (MathUtils L50-85): ``1 + x + x (x/2 + x · x/6)`` with
    ``x = rate · dt / year`` (``x.rayMul(x/2 + x.rayMul(x/6))`` in the contract)."""
    return 1.0 + compounded_growth(rate, dt)


@njit
def aave_total_debt(st):
    return st[AS_DEBT_SCALED] * st[AS_VAR_INDEX]


@njit
def aave_total_supplied(st):
    """Suppliers' claims (aToken balances) at the current index, treasury excluded."""
    return st[AS_SUPPLY_SCALED] * st[AS_LIQ_INDEX]


@njit
def aave_utilization(st):
    """Borrow usage ratio ``debt / (available + debt)`` (0 without debt)."""
    d = aave_total_debt(st)
    if d == 0.0:
        return 0.0
    return d / (st[AS_AVAILABLE] + d)


@njit
def aave_update_state(st, par, dt):
    """``ReserveLogic.updateState`` for ``dt`` seconds at the stored rates (L85-101): indexes,
    then the treasury's share of the accrued debt. Returns the variable-debt growth factor
    ``I_var' / I_var`` (what every borrower's debt was multiplied by)."""
    if dt <= 0.0:
        return 1.0
    liq_rate = st[AS_LIQ_RATE]
    if liq_rate != 0.0:
        st[AS_LIQ_INDEX] = st[AS_LIQ_INDEX] * linear_interest(liq_rate, dt)
    growth = 1.0
    if st[AS_DEBT_SCALED] != 0.0:
        old = st[AS_VAR_INDEX]
        g1 = compounded_growth(st[AS_VAR_RATE], dt)
        growth = 1.0 + g1
        st[AS_VAR_INDEX] = old * growth
        rf = par[AP_RF]
        if rf != 0.0:
            # scaledDebt · (I_var' − I_var), as scaledDebt · I_var · (growth − 1)
            accrued = st[AS_DEBT_SCALED] * old * g1
            st[AS_TREASURY_SCALED] += accrued * rf / st[AS_LIQ_INDEX]
    return growth


@njit
def aave_update_rates(st, par, added, taken):
    """``updateInterestRatesAndVirtualBalance`` (L130-175): rates from the totals with the
    liquidity ``added``/``taken`` by the action, then the virtual balance moves."""
    avail = st[AS_AVAILABLE] + added - taken
    liq, var = aave_interest_rates(aave_total_debt(st), avail, st[AS_UNBACKED], par)
    st[AS_LIQ_RATE] = liq
    st[AS_VAR_RATE] = var
    st[AS_AVAILABLE] = avail


@njit
def aave_accrue(st, par, dt, refresh):
    """One time step: ``updateState`` for ``dt`` seconds, then (``refresh``) the rates are
    recomputed from the grown debt, as the next action on the reserve would do (on a busy
    reserve one happens every block). Returns the variable-debt growth factor."""
    g = aave_update_state(st, par, dt)
    if refresh:
        aave_update_rates(st, par, 0.0, 0.0)
    return g


@njit
def aave_supply(st, par, amount):
    """Supply ``amount``: aTokens minted at the liquidity index. Returns ``amount``."""
    if amount <= 0.0:
        return 0.0
    st[AS_SUPPLY_SCALED] += amount / st[AS_LIQ_INDEX]
    aave_update_rates(st, par, amount, 0.0)
    return amount


@njit
def aave_withdraw(st, par, amount):
    """Withdraw up to ``amount``, capped by the available liquidity (at 100 % utilization
    nothing can leave). Returns the amount withdrawn."""
    w = min(amount, st[AS_AVAILABLE])
    if w <= 0.0:
        return 0.0
    st[AS_SUPPLY_SCALED] -= w / st[AS_LIQ_INDEX]
    aave_update_rates(st, par, 0.0, w)
    return w


@njit
def aave_borrow(st, par, amount):
    """Borrow up to ``amount``, capped by the available liquidity. Returns the amount lent."""
    b = min(amount, st[AS_AVAILABLE])
    if b <= 0.0:
        return 0.0
    st[AS_DEBT_SCALED] += b / st[AS_VAR_INDEX]
    aave_update_rates(st, par, 0.0, b)
    return b


@njit
def aave_repay(st, par, amount):
    """Repay up to ``amount`` of variable debt (capped by the total debt). Returns the amount
    repaid."""
    r = min(amount, aave_total_debt(st))
    if r <= 0.0:
        return 0.0
    st[AS_DEBT_SCALED] -= r / st[AS_VAR_INDEX]
    if st[AS_DEBT_SCALED] < 0.0:
        st[AS_DEBT_SCALED] = 0.0
    aave_update_rates(st, par, r, 0.0)
    return r


@njit
def aave_solvency_gap(st):
    """``available + debt − suppliers' claims − treasury's claims``: >= 0 while borrowers pay at
    least what suppliers and the treasury are credited (the compounded borrow index outgrows the
    linear supply index, so the gap grows slowly)."""
    claims = (st[AS_SUPPLY_SCALED] + st[AS_TREASURY_SCALED]) * st[AS_LIQ_INDEX]
    return st[AS_AVAILABLE] + aave_total_debt(st) - claims
