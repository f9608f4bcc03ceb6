"""Binance USDⓈ-M perpetual funding and mark price, float64.

Published rules (Binance support FAQ 360033525031 "Introduction to Binance Futures Funding
Rates", and 360033525071 "Mark Price in USDⓈ-Margined Futures"; protocol-mechanics.md §6.2):

* premium index, sampled every 5 s::

      P_t = [max(0, impact_bid − index) − max(0, index − impact_ask)] / index

  where the impact prices are the average fills of the Impact Margin Notional
  ``IMN = 200 USDT / initial margin rate at maximum leverage`` (25,000 USDT for BTCUSDT);
* average premium over the interval, **time-weighted with linearly increasing weights**::

      P = (1·P_1 + 2·P_2 + … + n·P_n) / (1 + 2 + … + n)          (5,760 points per 8 h)

* funding rate for an interval of ``N`` hours, with the interest ``I = 0.01 %`` per 8 h and the
  ±0.05 % dampener::

      F = [P + clamp(I − P, −0.05 %, +0.05 %)] / (8 / N)

  so that ``F = I · N/8`` whenever ``P`` lies within ``[I − 0.05 %, I + 0.05 %]``
  (``−0.04 %…0.06 %``: "the funding rate will equal 0.01 %");
* capped: ``clamp(F, −0.75 · MMR, +0.75 · MMR)`` for the majors (BTCUSDT ±0.30 %), ±2 % for
  the others (adjustable by Binance);
* paid at the end of each interval (00:00, 08:00, 16:00 UTC for 8 h): a position pays
  ``mark · size · F`` (longs pay when ``F > 0``);
* mark price ``median(Price 1, Price 2, last price)`` with
  ``Price 1 = index · (1 + last funding rate · time until next funding / funding period)`` and
  ``Price 2 = index + MA(basis)``, the basis ``(bid + ask)/2 − index`` averaged over 30 s (60 s
  before 2025-09-18).

Sampling inside the time loop: a step of ``dt`` seconds holds the premium it is given for
``dt / 5`` samples; with linear weights those samples carry the weights ``k+1 … k+m`` (``k``
samples already in the interval), which the accumulator adds exactly
(``Σ w = m k + m (m+1)/2``). The basis MA over a window shorter than a step is the step's basis;
over a longer window it is a running mean (an approximation of the moving average, exact when
the basis is constant over the window).

State ``st`` float64[NBS] and parameters ``par`` float64[NBP]: slot constants below.
``settle_mode``: 0 = pay at the end of each interval (Binance), 1 = continuous accrual (each
step pays ``F(P_step) · dt / interval``; for venues that accrue funding every block).
"""

from __future__ import annotations

import math

from ...kernels._jit import njit
from ...venues.book.kernel import book_buy, book_marginal_sell_k, book_sell_to_price
from ...venues.cpmm.kernel import cpmm_buy

EIGHT_HOURS = 28_800.0

# parameters
BP_INTEREST = 0  # interest component per 8 h (0.0001)
BP_DAMPER = 1  # ±0.0005
BP_INTERVAL = 2  # funding interval, seconds (28,800; 14,400; 3,600)
BP_CAP = 3  # upper cap on the interval rate (0.75 · MMR for majors, else 0.02)
BP_FLOOR = 4  # lower cap (negative)
BP_SAMPLE = 5  # premium sampling period, seconds (5)
BP_MA_WINDOW = 6  # mark price: basis moving-average window, seconds (30)
BP_MODE = 7  # 0 = settle at interval ends, 1 = continuous accrual
NBP = 8

# state
BS_SUM_WP = 0  # Σ w·P over the current interval
BS_SUM_W = 1  # Σ w
BS_N = 2  # samples taken in the current interval
BS_ELAPSED = 3  # seconds since the interval started
BS_LAST_RATE = 4  # last settled funding rate
BS_BASIS_MA = 5  # moving average of the basis (mark price, Price 2)
NBS = 6


@njit
def premium_index(impact_bid, impact_ask, index):
    """``[max(0, bid − index) − max(0, index − ask)] / index``."""
    return (max(0.0, impact_bid - index) - max(0.0, index - impact_ask)) / index


@njit
def impact_prices_book(mid, depth_k, depth_q, nk, notional):
    """Average fill prices of selling and of buying ``notional`` quote on a depth-curve book
    (``venues/book``): ``(impact_bid, impact_ask)``."""
    k = book_marginal_sell_k(depth_k, depth_q, nk, notional)
    if k >= 1.0:
        bid = 0.0
    else:
        asset = book_sell_to_price(mid, depth_k, depth_q, nk, mid * (1.0 - k))
        bid = notional / asset if asset > 0.0 else mid
    _, got = book_buy(mid, depth_k, depth_q, nk, notional)
    ask = notional / got if got > 0.0 else math.inf
    return bid, ask


@njit
def impact_prices_cpmm(x, y, fee, notional):
    """Average fill prices of selling and of buying ``notional`` quote on a constant-product
    pool: ``(impact_bid, impact_ask)`` (bid 0 when the pool cannot pay ``notional``)."""
    if notional >= y:
        bid = 0.0
    else:
        a = notional * x / (y - notional)  # priced input that pays out `notional`
        bid = notional / (a / (1.0 - fee))
    _, _, got = cpmm_buy(x, y, fee, notional)
    ask = notional / got if got > 0.0 else math.inf
    return bid, ask


@njit
def funding_rate(p_avg, par):
    """``clamp([P + clamp(I − P, −d, d)] · N/8, floor, cap)`` for the interval of ``N`` hours."""
    i = par[BP_INTEREST]
    d = par[BP_DAMPER]
    f8 = p_avg + min(max(i - p_avg, -d), d)
    f = f8 * (par[BP_INTERVAL] / EIGHT_HOURS)
    return min(max(f, par[BP_FLOOR]), par[BP_CAP])


@njit
def add_samples(st, par, premium, dt):
    """Feed ``dt`` seconds of a constant premium: ``m = dt / sample`` samples with the weights
    ``k+1 … k+m``."""
    m = dt / par[BP_SAMPLE]
    k = st[BS_N]
    w = m * k + 0.5 * m * (m + 1.0)
    st[BS_SUM_WP] += w * premium
    st[BS_SUM_W] += w
    st[BS_N] = k + m


@njit
def average_premium(st):
    """The weighted average premium of the interval so far (0 before any sample)."""
    if st[BS_SUM_W] <= 0.0:
        return 0.0
    return st[BS_SUM_WP] / st[BS_SUM_W]


@njit
def binance_step(st, par, dt, premium):
    """Advance ``dt`` seconds with the premium index ``premium``. Returns the funding rate paid
    at this step (0 when no settlement falls in it). A step that crosses an interval's end is
    split there: the part before closes the interval and pays its rate; the rest opens the next.
    """
    if par[BP_MODE] == 1.0:
        f = funding_rate(premium, par)
        st[BS_LAST_RATE] = f
        return f * dt / par[BP_INTERVAL]
    paid = 0.0
    left = dt
    interval = par[BP_INTERVAL]
    while left > 0.0:
        room = interval - st[BS_ELAPSED]
        take = left if left < room else room
        add_samples(st, par, premium, take)
        st[BS_ELAPSED] += take
        left -= take
        if st[BS_ELAPSED] >= interval:
            f = funding_rate(average_premium(st), par)
            paid += f
            st[BS_LAST_RATE] = f
            st[BS_SUM_WP] = 0.0
            st[BS_SUM_W] = 0.0
            st[BS_N] = 0.0
            st[BS_ELAPSED] = 0.0
    return paid


@njit
def update_basis_ma(st, par, basis, dt):
    """Moving average of the basis over ``BP_MA_WINDOW`` seconds (the step's basis when the step
    is at least that long; a running mean otherwise)."""
    w = par[BP_MA_WINDOW]
    if dt >= w:
        st[BS_BASIS_MA] = basis
    else:
        st[BS_BASIS_MA] += (basis - st[BS_BASIS_MA]) * (dt / w)
    return st[BS_BASIS_MA]


@njit
def mark_price(index, last_rate, time_to_funding, interval, basis_ma, last_price):
    """``median(index · (1 + last_rate · t / interval), index + MA(basis), last_price)``."""
    p1 = index * (1.0 + last_rate * (time_to_funding / interval))
    p2 = index + basis_ma
    p3 = last_price
    lo = min(p1, p2)
    hi = max(p1, p2)
    return min(max(p3, lo), hi)


@njit
def payment(size, mark, rate):
    """Funding a position pays (> 0) or receives (< 0): ``size · mark · rate`` with ``size > 0``
    for a long."""
    return size * mark * rate


@njit
def premium_response(a, phi, beta, gamma, prev_rate8, ret, disloc):
    """The calibrated reduced form of the interval's average premium (``calibration/funding.py``):
    ``a + φ · F8_prev + β · return + γ · dislocation`` — for runs without a separate perp book."""
    return a + phi * prev_rate8 + beta * ret + gamma * disloc
