"""Conformance: perp funding against the venues' published formulas and worked examples.

Binance — support FAQ 360033525031 "Introduction to Binance Futures Funding Rates" (premium index,
Impact Margin Notional 200 USDT / IMR with the BTCUSDT 125x example = 25,000 USDT, linearly
weighted average premium, ``F = P + clamp(I − P, ±0.05 %)`` "as long as the premium index is
between −0.04 % and 0.06 %, the funding rate will equal 0.01 %", the ``/ (8/N)`` scaling for 4-hour
intervals, caps ``±0.75 · MMR``); FAQ 360033525071 (mark price = median(Price 1, Price 2, last)).
Hyperliquid — hyperliquid-docs ``trading/funding`` ("Numerical Example": impact bid 10,100, oracle
10,000, premium 1 %, clamped difference −0.05 %, funding rate 0.95 %; hourly payment of one eighth;
cap 4 %/h; payment ``size · oracle · rate``; 0.01 % per 8 h = 0.00125 % per hour) and
``trading/robust-price-indices`` (mark EMA). protocol-mechanics.md §6.1-6.2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from liqcascade.funding import load
from liqcascade.funding.binance import kernel as B
from liqcascade.funding.binance.model import BinanceFunding
from liqcascade.funding.hyperliquid import kernel as H
from liqcascade.funding.hyperliquid.model import HyperliquidFunding
from liqcascade.venues.book import kernel as VB
from liqcascade.venues.cpmm import kernel as VC

BTC = BinanceFunding().pack()  # BTCUSDT: 8 h, cap 0.75 · 0.4 % = 0.3 %
HL = HyperliquidFunding().pack()


# --- Binance -------------------------------------------------------------------------------------


def test_binance_premium_index_and_impact_notional():
    assert B.premium_index(10_100.0, 10_120.0, 10_000.0) == pytest.approx(0.01)
    assert B.premium_index(9_990.0, 10_010.0, 10_000.0) == 0.0  # index inside the impact spread
    assert B.premium_index(9_900.0, 9_950.0, 10_000.0) == pytest.approx(-0.005)
    assert 200.0 / (1.0 / 125.0) == 25_000.0  # IMN for BTCUSDT at 125x
    assert BinanceFunding().impact_notional == 25_000.0


@pytest.mark.parametrize("p", [-0.0004, -0.0001, 0.0, 0.0001, 0.0003, 0.0006])
def test_binance_dead_band_gives_the_interest_rate(p):
    """"As long as the premium index is between -0.04 % to 0.06 %, the funding rate will equal
    0.01 %"."""
    assert B.funding_rate(p, BTC) == pytest.approx(0.0001, abs=1e-18)


@pytest.mark.parametrize("p,want", [(0.001, 0.0005), (-0.001, -0.0005), (0.0008, 0.0003), (0.01, 0.003),
                                    (-0.05, -0.003)])
def test_binance_rate_outside_the_band_and_caps(p, want):
    assert B.funding_rate(p, BTC) == pytest.approx(want, rel=1e-12)


def test_binance_four_hour_interval_divides_by_two():
    """"Funding Rate (F) = [P + clamp(I − P, 0.05 %, −0.05 %)] / (8/4)" (4-hour settlement)."""
    par = BinanceFunding(interval_hours=4, maintenance_margin_rate=None).pack()
    assert par[B.BP_CAP] == 0.02  # "others": ±2 %
    assert B.funding_rate(0.0, par) == pytest.approx(0.00005)
    assert B.funding_rate(0.002, par) == pytest.approx(0.0015 / 2)
    hourly = BinanceFunding(interval_hours=1).pack()
    assert B.funding_rate(0.0, hourly) == pytest.approx(0.0001 / 8)


def test_binance_average_premium_is_linearly_weighted():
    """P = (1·P1 + 2·P2 + … + n·Pn) / (1 + 2 + … + n) over the 5-second samples."""
    st = BinanceFunding.initial_state()
    B.add_samples(st, BTC, 0.001, 5.0)
    B.add_samples(st, BTC, 0.004, 5.0)
    assert B.average_premium(st) == pytest.approx((1 * 0.001 + 2 * 0.004) / 3)
    st = BinanceFunding.initial_state()
    B.add_samples(st, BTC, 0.002, 60.0)  # 12 samples at once: weights 1..12
    B.add_samples(st, BTC, -0.001, 60.0)  # weights 13..24
    w1, w2 = sum(range(1, 13)), sum(range(13, 25))
    assert B.average_premium(st) == pytest.approx((w1 * 0.002 - w2 * 0.001) / (w1 + w2), rel=1e-14)
    assert st[B.BS_N] == 24


def test_binance_settlement_every_eight_hours():
    st = BinanceFunding.initial_state()
    paid = [B.binance_step(st, BTC, 60.0, 0.0015) for _ in range(480 * 3)]  # 24 hours of 1-minute steps
    hits = [k for k, v in enumerate(paid) if v != 0.0]
    assert hits == [479, 959, 1439]  # at 08:00, 16:00, 24:00
    assert paid[479] == pytest.approx(0.001)  # 0.15 % − 0.05 %
    # a long step is split at the boundary; one day in one step pays three intervals
    st = BinanceFunding.initial_state()
    assert B.binance_step(st, BTC, 86_400.0, 0.0015) == pytest.approx(0.003)
    # starting 2 h into the interval, the first settlement comes 6 h later
    st = BinanceFunding.initial_state(7_200.0)
    assert B.binance_step(st, BTC, 21_599.0, 0.0) == 0.0
    assert B.binance_step(st, BTC, 1.0, 0.0) == pytest.approx(0.0001)


def test_binance_continuous_mode_accrues_pro_rata():
    par = BinanceFunding(settle="continuous").pack()
    st = BinanceFunding.initial_state()
    total = sum(B.binance_step(st, par, 60.0, 0.0015) for _ in range(480))
    assert total == pytest.approx(0.001, rel=1e-12)


def test_binance_mark_price():
    """median(index · (1 + F · t/T), index + MA(basis), last)."""
    p1 = 20_000.0 * (1 + 0.0003 * 0.5)
    assert B.mark_price(20_000.0, 0.0003, 14_400.0, 28_800.0, 5.0, 20_100.0) == pytest.approx(20_005.0)
    assert B.mark_price(20_000.0, 0.0003, 14_400.0, 28_800.0, 5.0, 20_001.0) == pytest.approx(20_003.0)
    assert p1 == pytest.approx(20_003.0)
    assert B.mark_price(20_000.0, 0.0003, 14_400.0, 28_800.0, 5.0, 19_000.0) == pytest.approx(20_003.0)
    st = BinanceFunding.initial_state()
    assert B.update_basis_ma(st, BTC, 4.0, 60.0) == 4.0  # a step longer than the 30 s window
    assert B.update_basis_ma(st, BTC, 10.0, 15.0) == pytest.approx(7.0)
    assert B.payment(2.0, 20_000.0, 0.0001) == pytest.approx(4.0)  # a long pays 0.01 % of 40,000


def test_impact_prices_from_venues():
    dk = np.array([0.01, 0.05, 0.2])
    dq = np.array([1e5, 1e6, 2e6])
    mid = 2_000.0
    bid, ask = B.impact_prices_book(mid, dk, dq, 3, 25_000.0)
    # brute force: sell until the proceeds are 25,000; buy 25,000 of quote
    k = VB.book_marginal_sell_k(dk, dq, 3, 25_000.0)
    asset = VB.book_sell_to_price(mid, dk, dq, 3, mid * (1 - k))
    _, q = VB.book_sell(mid, dk, dq, 3, asset)
    assert q == pytest.approx(25_000.0, rel=1e-12)
    assert bid == pytest.approx(25_000.0 / asset, rel=1e-12) and mid * (1 - k) < bid < mid
    _, got = VB.book_buy(mid, dk, dq, 3, 25_000.0)
    assert ask == pytest.approx(25_000.0 / got) and ask > mid
    x, y, fee = 1_000.0, 2e6, 0.003
    bid, ask = B.impact_prices_cpmm(x, y, fee, 25_000.0)
    _, _, out = VC.cpmm_sell(x, y, fee, 25_000.0 / bid)
    assert out == pytest.approx(25_000.0, rel=1e-12)
    assert bid < y / x < ask
    assert B.impact_prices_cpmm(x, y, fee, 3e6)[0] == 0.0  # the pool cannot pay that much


# --- Hyperliquid --------------------------------------------------------------------------------


def test_hyperliquid_numerical_example_from_the_docs():
    p = H.premium(10_100.0, 10_150.0, 10_000.0, 0.0)
    assert p == pytest.approx(0.01)
    assert H.rate_8h(p, HL) == pytest.approx(0.0095)  # 1 % + clamp(0.01 % − 1 %) = 0.95 %
    hourly = H.hourly_rate(p, HL)
    assert hourly == pytest.approx(0.0095 / 8)
    assert H.payment(10.0, 10_000.0, hourly) == pytest.approx(118.75)  # 10 BTC at the oracle price


def test_hyperliquid_interest_cap_and_hip3():
    assert H.hourly_rate(0.0, HL) == pytest.approx(0.0000125)  # "0.00125 % every hour"
    assert H.hourly_rate(0.5, HL) == pytest.approx(0.04)  # capped at 4 %/h
    assert H.hourly_rate(-0.5, HL) == pytest.approx(-0.04)
    assert H.premium(10_100.0, 10_200.0, 10_000.0, 1.0) == pytest.approx(0.015)  # HIP-3 formula


def test_hyperliquid_hourly_settlement_and_equal_weights():
    st = HyperliquidFunding.initial_state()
    paid = [H.hl_step(st, HL, 60.0, 0.001 if k < 30 else 0.003) for k in range(60)]
    assert all(v == 0.0 for v in paid[:59])
    # equal weights: average 0.2 %; 8 h rate 0.2 % − 0.05 % = 0.15 %; one eighth per hour
    assert paid[59] == pytest.approx(0.0015 / 8, rel=1e-12)
    st = HyperliquidFunding.initial_state()
    assert H.hl_step(st, HL, 3 * 3600.0, 0.0) == pytest.approx(3 * 0.0000125)


def test_hyperliquid_mark_price_and_ema():
    st = HyperliquidFunding.initial_state()
    assert H.ema_update(st, HL, 10.0, 3.0) == pytest.approx(10.0)
    e = H.ema_update(st, HL, 0.0, 150.0)
    d = math.exp(-1.0)
    assert e == pytest.approx(10.0 * 3.0 * d / (3.0 * d + 150.0))
    assert H.mark_price(100.0, 1.0, 100.5, 100.7, 100.6, 100.9) == pytest.approx(100.9)
    assert H.mark_price(100.0, 1.0, 100.5, 100.7, 100.6, math.nan) == pytest.approx(100.6)


def test_the_series_values_are_the_formula_in_the_band():
    """The funding series in ../shared/data holds 1.25e-5 per hour for Hyperliquid and 1e-4 per
    8 h for Binance when the premium sits in the dead band: the formula gives exactly those."""
    assert H.hourly_rate(0.0002, HL) == pytest.approx(1.25e-5, rel=1e-15)
    assert B.funding_rate(0.0002, BTC) == pytest.approx(1e-4, rel=1e-15)


def test_models_and_registry():
    assert load("binance").BinanceFunding is BinanceFunding
    assert load("hyperliquid", "kernel").hl_step is H.hl_step
    with pytest.raises(KeyError):
        load("nope")
    for bad in (dict(interval_hours=3), dict(cap=0.01, floor=0.02), dict(damper=-1.0), dict(extra=1)):
        with pytest.raises(ValidationError):
            BinanceFunding(**bad)
    with pytest.raises(ValidationError):
        HyperliquidFunding(cap_hourly=0.0)
