"""Hyperliquid perpetual funding and mark price, float64.

Published rules (hyperliquid.gitbook.io/hyperliquid-docs/trading/funding and
…/trading/robust-price-indices; protocol-mechanics.md §6.1):

* premium, sampled every 5 s and **averaged (equal weights) over the hour**::

      premium = [max(impact_bid − oracle, 0) − max(oracle − impact_ask, 0)] / oracle

  (HIP-3 perps: ``0.5 · (impact_bid + impact_ask) / oracle − 1``), the impact prices being the
  average fills of ``impact_notional_usd`` (20,000 USDC for BTC and ETH, 6,000 for the others);
* the 8-hour rate ``F = P + clamp(I − P, −0.0005, 0.0005)`` with ``I = 0.01 %`` per 8 h,
  **paid every hour at one eighth**: the hourly rate is ``F / 8``, capped at ±4 % per hour;
* the payment at the end of each hour is ``position_size · oracle_price · rate`` — the *oracle*
  (spot) price, not the mark;
* the oracle is a weighted median of CEX spot prices; the mark is the median of
  (oracle + 150-second EMA of (mid − oracle)), median(best bid, best ask, last trade), and the
  median of other venues' perp mids; the EMA updates ``num ← num·e^(−t/150 s) + sample·t``,
  ``den ← den·e^(−t/150 s) + t``.

Worked example from the docs: premium 1 % (impact bid 10,100, oracle 10,000), interest 0.01 %:
``clamp(0.01 % − 1 %, ±0.05 %) = −0.05 %``, ``F = 0.95 %`` (8-hour), so ``0.11875 %`` per hour.

Sampling inside the time loop: a step of ``dt`` seconds holds its premium for ``dt / 5``
samples, equally weighted. ``settle_mode`` 1 accrues ``F/8 · dt / 3600`` every step
(continuous) instead of paying at the end of each hour.

State ``st`` float64[NHS] and parameters ``par`` float64[NHP]: slot constants below.
"""

from __future__ import annotations

import math

from ...kernels._jit import njit

HOUR = 3_600.0

# parameters
HP_INTEREST = 0  # per 8 h (0.0001)
HP_DAMPER = 1  # 0.0005
HP_CAP = 2  # per hour (0.04)
HP_INTERVAL = 3  # seconds between payments (3,600)
HP_SAMPLE = 4  # seconds between premium samples (5)
HP_EMA_TAU = 5  # mark price: EMA time constant, seconds (150)
HP_MODE = 6  # 0 = pay at the end of each interval, 1 = continuous accrual
HP_HIP3 = 7  # 1 = HIP-3 premium formula
NHP = 8

# state
HS_SUM_P = 0
HS_N = 1
HS_ELAPSED = 2
HS_LAST_RATE = 3  # last hourly rate paid
HS_EMA_NUM = 4
HS_EMA_DEN = 5
NHS = 6


@njit
def premium(impact_bid, impact_ask, oracle, hip3):
    """The premium of one sample (standard or HIP-3 formula)."""
    if hip3 != 0.0:
        return 0.5 * (impact_bid + impact_ask) / oracle - 1.0
    return (max(impact_bid - oracle, 0.0) - max(oracle - impact_ask, 0.0)) / oracle


@njit
def rate_8h(p_avg, par):
    """``P + clamp(I − P, −d, d)``."""
    i = par[HP_INTEREST]
    d = par[HP_DAMPER]
    return p_avg + min(max(i - p_avg, -d), d)


@njit
def hourly_rate(p_avg, par):
    """The rate paid per interval: one eighth of the 8-hour rate per hour, scaled to the
    interval, capped at ``±cap`` per hour."""
    hours = par[HP_INTERVAL] / HOUR
    r = rate_8h(p_avg, par) / 8.0
    cap = par[HP_CAP]
    return min(max(r, -cap), cap) * hours


@njit
def hl_step(st, par, dt, prem):
    """Advance ``dt`` seconds with the premium ``prem``. Returns the rate paid at this step (0
    when no payment falls in it); a step crossing an interval's end is split there."""
    if par[HP_MODE] == 1.0:
        r = hourly_rate(prem, par)
        st[HS_LAST_RATE] = r
        return r * dt / par[HP_INTERVAL]
    paid = 0.0
    left = dt
    interval = par[HP_INTERVAL]
    while left > 0.0:
        room = interval - st[HS_ELAPSED]
        take = left if left < room else room
        m = take / par[HP_SAMPLE]
        st[HS_SUM_P] += m * prem
        st[HS_N] += m
        st[HS_ELAPSED] += take
        left -= take
        if st[HS_ELAPSED] >= interval:
            p = st[HS_SUM_P] / st[HS_N] if st[HS_N] > 0.0 else 0.0
            r = hourly_rate(p, par)
            paid += r
            st[HS_LAST_RATE] = r
            st[HS_SUM_P] = 0.0
            st[HS_N] = 0.0
            st[HS_ELAPSED] = 0.0
    return paid


@njit
def ema_update(st, par, sample, dt):
    """The mark price's EMA of ``mid − oracle``: ``num ← num·e^(−dt/τ) + sample·dt``,
    ``den ← den·e^(−dt/τ) + dt``. Returns the EMA."""
    decay = math.exp(-dt / par[HP_EMA_TAU])
    st[HS_EMA_NUM] = st[HS_EMA_NUM] * decay + sample * dt
    st[HS_EMA_DEN] = st[HS_EMA_DEN] * decay + dt
    return st[HS_EMA_NUM] / st[HS_EMA_DEN]


@njit
def _median3(a, b, c):
    return max(min(a, b), min(max(a, b), c))


@njit
def mark_price(oracle, ema_basis, best_bid, best_ask, last_trade, cex_perp_median):
    """Median of (oracle + EMA basis, median(bid, ask, last), other venues' perp median). With
    ``cex_perp_median`` NaN (not modelled) only two inputs exist; the docs then add a 30-second
    EMA of the book median as the third, for which the book median itself stands in here, so the
    mark is the book median."""
    a = oracle + ema_basis
    b = _median3(best_bid, best_ask, last_trade)
    if math.isnan(cex_perp_median):
        return _median3(a, b, b)
    return _median3(a, b, cex_perp_median)


@njit
def payment(size, oracle, rate):
    """``position_size · oracle_price · rate`` (> 0: the position pays; ``size > 0`` long)."""
    return size * oracle * rate


@njit
def premium_response(a, phi, beta, gamma, prev_rate8, ret, disloc):
    """The calibrated reduced form of the hour's average premium (``calibration/funding.py``):
    ``a + φ · F8_prev + β · return + γ · dislocation``."""
    return a + phi * prev_rate8 + beta * ret + gamma * disloc
