"""Conformance: the StableSwap kernel against Curve's own integer math.

Expected values come from ``curve_int`` (this folder), which restates the contracts' arithmetic in
Python integers: legacy pools from curvefi/curve-contract@574f440
``contracts/pools/3pool/StableSwap3Pool.vy`` (``get_D`` L193-218, ``get_y`` L354-397, ``get_dy``
L400-411, ``exchange`` L429-478) and NG pools from curvefi/stableswap-ng@2abe778
``contracts/main/CurveStableSwapNG.vy`` (``_dynamic_fee`` L885-900, ``__exchange`` L903-939,
``get_y`` L1007-1074, ``get_D`` L1077-1125, ``_get_p`` L1311-1336) and
``CurveStableSwapNGViews.vy`` (``get_dy`` L57-86, ``_get_dx`` L347-376).

The kernel computes in float64; the contracts in 1e18 fixed point with floor division and a
1-wei rounding guard. Agreement is to ~1e-12 relative, except where the contract quantises a
quantity more coarsely than that: NG's dynamic fee is an integer in 1e10 units (a few million
for typical fees), so amounts that include it agree to the fee's resolution, ``dy · 1e-10``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from curve_int import (
    A_PRECISION,
    FEE_DENOMINATOR,
    legacy_exchange,
    legacy_get_D,
    legacy_get_dy,
    ng_dynamic_fee,
    ng_exchange,
    ng_get_D,
    ng_get_dx,
    ng_get_dy,
    ng_get_p,
)
from pydantic import ValidationError

from liqcascade.venues.stableswap import kernel as K
from liqcascade.venues.stableswap.model import StableSwapVenue

E18 = 10**18

# 3pool-like balances (DAI, USDC, USDT in whole coins) and an imbalanced stETH/ETH-like pair
POOLS_3 = [
    (1_000_000, 1_200_000, 900_000),
    (150_000_000, 160_000_000, 60_000_000),
    (5, 7, 3),
    (1_000, 1_000, 1_000),
]
POOLS_2 = [(1_000_000, 1_000_000), (300_000, 1_100_000), (25_000_000, 1_000), (1, 2)]


def par(amp, fee, offpeg=1.0, admin=0.5):
    p = np.zeros(K.NSS)
    p[K.SS_AMP], p[K.SS_FEE], p[K.SS_OFFPEG], p[K.SS_ADMIN] = amp, fee, offpeg, admin
    return p


def f(bal):
    return np.array([float(b) for b in bal])


# --- invariant -------------------------------------------------------------------------------


@pytest.mark.parametrize("bal", POOLS_3 + POOLS_2)
@pytest.mark.parametrize("amp", [1, 100, 2000, 50_000])
def test_get_D_matches_contract(bal, amp):
    xp = [b * E18 for b in bal]
    d_legacy = legacy_get_D(xp, amp) / E18
    d_ng = ng_get_D(xp, amp * A_PRECISION) / E18
    d = K.get_D(f(bal), float(amp))
    assert d == pytest.approx(d_legacy, rel=1e-13)
    assert d == pytest.approx(d_ng, rel=1e-13)


def test_balanced_pool_D_is_the_sum_and_spot_is_one():
    """Whitepaper: in balance, D = Σ x and every price is 1."""
    for n in (2, 3, 4, 8):
        bal = np.full(n, 123_456.0)
        assert K.get_D(bal, 100.0) == pytest.approx(bal.sum(), rel=1e-15)
        assert K.ss_spot(bal, np.ones(n), par(100.0, 0.0), 0, n - 1) == pytest.approx(1.0, rel=1e-15)


def test_limits_of_amplification():
    """A → ∞ tends to constant sum (price 1); A → 0 tends to constant product (price x_j / x_i)."""
    bal = np.array([300_000.0, 1_100_000.0])
    assert K.ss_spot(bal, np.ones(2), par(1e5, 0.0), 0, 1) == pytest.approx(1.0, abs=5e-5)
    assert K.ss_spot(bal, np.ones(2), par(1e-7, 0.0), 0, 1) == pytest.approx(1_100_000 / 300_000, rel=1e-5)


# --- exchange, legacy pools ------------------------------------------------------------------


@pytest.mark.parametrize("bal", POOLS_3)
@pytest.mark.parametrize("frac", [1e-6, 0.01, 0.3, 2.0])
@pytest.mark.parametrize("i,j", [(0, 1), (2, 0), (1, 2)])
def test_legacy_get_dy_and_exchange_match_3pool(bal, frac, i, j):
    amp, fee, admin = 2000, 1_000_000, 5 * 10**9  # 3pool: A = 2000, fee 1 bp, admin fee 50 %
    dx_coins = max(int(bal[i] * frac), 1)
    xp = [b * E18 for b in bal]
    dy_int = legacy_get_dy(i, j, dx_coins * E18, xp, amp, fee) / E18
    out_int, admin_int, new_int = legacy_exchange(i, j, dx_coins * E18, xp, amp, fee, admin)
    assert out_int / E18 == dy_int

    p = par(float(amp), fee / FEE_DENOMINATOR, 1.0, admin / FEE_DENOMINATOR)
    b = f(bal)
    out, adm, unsold = K.ss_get_dy(b, np.ones(3), p, i, j, float(dx_coins))
    assert unsold == 0.0
    assert out == pytest.approx(dy_int, rel=1e-12, abs=1e-15)
    out2, adm2, unsold2 = K.ss_exchange(b, np.ones(3), p, i, j, float(dx_coins))
    assert (out2, adm2, unsold2) == (out, adm, unsold)
    assert adm == pytest.approx(admin_int / E18, rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(b, [v / E18 for v in new_int], rtol=1e-12, atol=1e-15 * sum(bal))


# --- exchange, NG pools with the dynamic fee -------------------------------------------------


@pytest.mark.parametrize("bal", POOLS_2)
@pytest.mark.parametrize("offpeg", [10**10, 2 * 10**10, 10 * 10**10])
@pytest.mark.parametrize("frac", [1e-4, 0.05, 0.8])
@pytest.mark.parametrize("i,j", [(0, 1), (1, 0)])
def test_ng_exchange_with_dynamic_fee(bal, offpeg, frac, i, j):
    amp, fee = 1500 * A_PRECISION, 4_000_000  # A = 1500, 4 bp base fee
    rates = [E18, E18]
    dx = max(int(bal[i] * frac), 1)
    out_int, admin_int, new_int = ng_exchange(i, j, dx * E18, [b * E18 for b in bal], rates, amp, fee, offpeg)
    view_int, _ = ng_get_dy(i, j, dx * E18, [b * E18 for b in bal], rates, amp, fee, offpeg)
    assert view_int == out_int

    p = par(1500.0, fee / FEE_DENOMINATOR, offpeg / FEE_DENOMINATOR, 0.5)
    b = f(bal)
    out, adm, unsold = K.ss_exchange(b, np.ones(2), p, i, j, float(dx))
    assert unsold == 0.0
    # the NG fee is an integer in 1e10 units: the outputs agree to dy · 1e-10
    dy_gross = out + adm * 2  # out + fee (admin is half the fee)
    tol = 1.5e-10 * dy_gross + 1e-12 * out + 1e-15
    assert abs(out - out_int / E18) <= tol
    assert abs(adm - admin_int / E18) <= tol
    np.testing.assert_allclose(b, [v / E18 for v in new_int], rtol=1e-11, atol=2 * tol)


@pytest.mark.parametrize("xi,xj", [(1_000_000, 1_000_000), (3_000_000, 1_000_000), (10, 1_000_000)])
@pytest.mark.parametrize("offpeg", [10**10, 2 * 10**10, 10 * 10**10])
def test_dynamic_fee_formula(xi, xj, offpeg):
    fee = 4_000_000
    want = ng_dynamic_fee(xi * E18, xj * E18, fee, offpeg)
    got = K.dynamic_fee(float(xi), float(xj), fee / FEE_DENOMINATOR, offpeg / FEE_DENOMINATOR)
    assert got * FEE_DENOMINATOR == pytest.approx(want, abs=1.0)  # the contract truncates to 1 unit
    if offpeg <= FEE_DENOMINATOR or xi == xj:
        assert got == pytest.approx(fee / FEE_DENOMINATOR, rel=1e-15)


@pytest.mark.parametrize("bal", POOLS_2[:3])
@pytest.mark.parametrize("offpeg", [10**10, 2 * 10**10])
def test_ng_get_dx_view(bal, offpeg):
    amp, fee = 1500 * A_PRECISION, 4_000_000
    dy = int(min(bal) * 0.3) or 1
    want = ng_get_dx(0, 1, dy * E18, [b * E18 for b in bal], [E18, E18], amp, fee, offpeg) / E18
    got = K.ss_get_dx(f(bal), np.ones(2), par(1500.0, fee / 1e10, offpeg / 1e10), 0, 1, float(dy))
    assert got == pytest.approx(want, rel=2e-10)
    if offpeg == 10**10:  # with a constant fee get_dx inverts get_dy
        out, _, _ = K.ss_get_dy(f(bal), np.ones(2), par(1500.0, fee / 1e10), 0, 1, got)
        assert out == pytest.approx(dy, rel=1e-10)


# --- prices ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bal", POOLS_3 + POOLS_2)
@pytest.mark.parametrize("amp", [10, 200, 5000])
def test_spot_matches_ng_get_p(bal, amp):
    xp = [b * E18 for b in bal]
    d = ng_get_D(xp, amp * A_PRECISION)
    want = ng_get_p(xp, amp * A_PRECISION, d)
    for k in range(1, len(bal)):
        got = K.ss_spot(f(bal), np.ones(len(bal)), par(float(amp), 0.0), k, 0)
        assert got == pytest.approx(want[k - 1] / E18, rel=1e-13, abs=2e-18)


@pytest.mark.parametrize("bal", [(300_000, 1_100_000), (1_000_000, 1_000_000, 2_000_000)])
def test_spot_is_the_limit_of_small_trades(bal):
    b = f(bal)
    p = par(300.0, 0.0)
    n = len(bal)
    for i, j in [(0, 1), (1, 0), (n - 1, 0)]:
        spot = K.ss_spot(b, np.ones(n), p, i, j)
        dx = b[i] * 1e-6
        out_up, _, _ = K.ss_get_dy(b, np.ones(n), p, i, j, dx)
        assert out_up / dx == pytest.approx(spot, rel=2e-6)
        # the marginal sell price net of fee
        pf = par(300.0, 0.0004)
        assert K.ss_marginal_sell(b, np.ones(n), pf, i, j) == pytest.approx(spot * (1 - 0.0004), rel=1e-15)


def test_rate_multipliers_scale_prices():
    """A wstETH-like coin worth 1.15 of the pool unit: its price in the other coin is 1.15 times
    the xp-unit price, and the exchange works on ``bal · rate``."""
    bal = np.array([800_000.0, 1_000_000.0])
    rates = np.array([1.15, 1.0])
    p = par(50.0, 0.0)
    xp = bal * rates
    assert K.ss_spot(bal, rates, p, 0, 1) == pytest.approx(K.ss_spot(xp, np.ones(2), p, 0, 1) * 1.15, rel=1e-14)
    out, _, _ = K.ss_get_dy(bal, rates, p, 0, 1, 1000.0)
    out_xp, _, _ = K.ss_get_dy(xp, np.ones(2), p, 0, 1, 1150.0)
    assert out == pytest.approx(out_xp, rel=1e-12)
    rates_int = [int(1.15 * E18), E18]
    want, _ = ng_get_dy(0, 1, 1000 * E18, [int(b * r) for b, r in zip(bal, [1.15 * E18, E18])], rates_int,
                        50 * A_PRECISION, 0, 10**10)
    assert out == pytest.approx(want / E18, rel=1e-12)


# --- to-price helpers, depth and the floor ---------------------------------------------------


@pytest.mark.parametrize("offpeg", [1.0, 5.0])
@pytest.mark.parametrize("drop", [1e-4, 0.01, 0.2, 0.9])
def test_sell_and_buy_to_price_land_on_the_target(offpeg, drop):
    bal = np.array([2_000_000.0, 1_500_000.0, 900_000.0])
    rates = np.ones(3)
    p = par(400.0, 0.0004, offpeg, 0.5)
    s0 = K.ss_spot(bal, rates, p, 0, 2)
    dq = K.ss_sell_to_price(bal, rates, p, 0, 2, s0 * (1 - drop))
    b = bal.copy()
    out, _, unsold = K.ss_sell(b, rates, p, 0, 2, dq)
    assert unsold == 0.0 and out > 0
    assert K.ss_spot(b, rates, p, 0, 2) == pytest.approx(s0 * (1 - drop), rel=1e-11)
    dy = K.ss_buy_to_price(bal, rates, p, 0, 2, s0 * (1 + drop))
    b = bal.copy()
    K.ss_buy(b, rates, p, 0, 2, dy)
    assert K.ss_spot(b, rates, p, 0, 2) == pytest.approx(s0 * (1 + drop), rel=1e-11)
    assert K.ss_sell_to_price(bal, rates, p, 0, 2, s0 * 1.01) == 0.0
    assert K.ss_buy_to_price(bal, rates, p, 0, 2, s0 * 0.99) == 0.0


def test_depth_within_two_percent():
    bal = np.array([1_000_000.0, 1_000_000.0])
    p = par(100.0, 0.0004)
    dq, quote = K.ss_depth(bal, np.ones(2), p, 0, 1, 0.02)
    b = bal.copy()
    K.ss_sell(b, np.ones(2), p, 0, 1, dq)
    assert K.ss_spot(b, np.ones(2), p, 0, 1) == pytest.approx(0.98, rel=1e-12)
    assert 0 < quote < dq  # every unit sold below par
    assert dq > 500_000  # A = 100 keeps a deep book near the peg (a CPMM of the same size: ~10,000)


def test_sale_stops_at_the_floor_and_reports_unsold():
    bal = np.array([1_000_000.0, 1_000_000.0])
    rates = np.ones(2)
    p = par(100.0, 0.0)
    cap = K.ss_capacity(bal, rates, p, 0, 1)
    assert math.isfinite(cap) and cap > 0
    b = bal.copy()
    out, adm, unsold = K.ss_sell(b, rates, p, 0, 1, cap * 10)
    assert unsold == pytest.approx(cap * 9, rel=1e-9)
    d = K.ss_invariant(bal, rates, p)
    assert b[1] == pytest.approx(K.MIN_BALANCE_FRAC * d, rel=1e-6)
    assert out == pytest.approx(bal[1] - b[1], rel=1e-12)
    spot = K.ss_spot(b, rates, p, 0, 1)
    assert 0 < spot < 1e-10 and math.isfinite(spot)
    # at the floor nothing more is sold, and nothing breaks
    out2, _, unsold2 = K.ss_sell(b, rates, p, 0, 1, 1e6)
    assert (out2, unsold2) == (0.0, 1e6)
    assert K.ss_sell_to_price(bal, rates, p, 0, 1, 0.0) == pytest.approx(cap, rel=1e-12)


def test_unusable_pool_returns_no_trade():
    b = np.array([0.0, 1_000.0])
    p = par(100.0, 0.0004)
    assert math.isnan(K.ss_spot(b, np.ones(2), p, 0, 1))
    assert K.ss_exchange(b, np.ones(2), p, 1, 0, 10.0) == (0.0, 0.0, 10.0)
    assert K.get_D(np.zeros(2), 100.0) == 0.0


# --- configuration -----------------------------------------------------------------------------


def test_model_pack_and_validation():
    v = StableSwapVenue(name="steth", asset="stETH", quote="ETH", coins=["ETH", "stETH"],
                        balances=[400_000, 380_000], amp=50, fee=0.0004, offpeg_fee_multiplier=2)
    bal, rates, p, i, j = v.pack()
    assert (i, j) == (1, 0) and list(rates) == [1.0, 1.0]
    assert p[K.SS_AMP] == 50 and p[K.SS_OFFPEG] == 2 and p[K.SS_ADMIN] == 0.5
    bad = [
        dict(coins=["ETH", "ETH"]),
        dict(balances=[1.0]),
        dict(balances=[1.0, -1.0]),
        dict(asset="DAI"),
        dict(quote="stETH", asset="stETH"),
        dict(amp=0),
        dict(amp=1e6),
        dict(fee=0.6),
        dict(offpeg_fee_multiplier=5000.0, fee=0.001),
        dict(rates=[1.0]),
        dict(extra=1),
    ]
    base = dict(name="p", asset="stETH", quote="ETH", coins=["ETH", "stETH"], balances=[1.0, 1.0], amp=50)
    for b in bad:
        with pytest.raises(ValidationError):
            StableSwapVenue(**{**base, **b})
