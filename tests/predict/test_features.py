"""Every early-warning feature on a small example whose answer is worked out by hand here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.predict import features as F

Y = 365.0 * 86400.0


def test_log_and_window_returns():
    r = F.log_returns([100.0, 110.0, 99.0])
    assert math.isnan(r[0])
    assert r[1] == pytest.approx(math.log(1.1))
    assert r[2] == pytest.approx(math.log(0.9))
    w = F.window_return([100.0, 110.0, 99.0, 121.0], 2)
    assert np.isnan(w[:2]).all()
    assert w[2] == pytest.approx(math.log(0.99))
    assert w[3] == pytest.approx(math.log(1.1))


def test_realized_vol_two_returns():
    # returns ln(101/100), ln(99/101), ln(100/99); window 2 at t = 3: the last two, annualized per 60 s
    v = F.realized_vol([100.0, 101.0, 99.0, 100.0], 2, 60.0)
    r2, r3 = math.log(99 / 101), math.log(100 / 99)
    assert np.isnan(v[:2]).all()  # t = 1 has one return only
    assert v[3] == pytest.approx(math.sqrt((r2 ** 2 + r3 ** 2) / 2 * Y / 60.0))
    r1 = math.log(1.01)
    assert v[2] == pytest.approx(math.sqrt((r1 ** 2 + r2 ** 2) / 2 * Y / 60.0))


def test_garch_recursion_by_hand():
    p = F.GarchParams(mu=0.0, omega=1e-6, alpha=0.1, beta=0.8, dt_seconds=60.0)
    v = F.garch_vol([100.0, 101.0, 100.0], p)
    s2 = 1e-6 / (1 - 0.9)  # unconditional start
    s2 = 1e-6 + 0.9 * s2  # t = 0: no return yet
    out0 = s2
    e1 = math.log(1.01)
    s2 = 1e-6 + 0.1 * e1 * e1 + 0.8 * s2
    out1 = s2
    e2 = math.log(100 / 101)
    s2 = 1e-6 + 0.1 * e2 * e2 + 0.8 * s2
    for got, want in zip(v, (out0, out1, s2)):
        assert got == pytest.approx(math.sqrt(want * Y / 60.0))
    with pytest.raises(ValueError):
        F.garch_vol([1.0, 2.0], p, dt_seconds=3600.0)  # parameters are per bar


def test_fit_garch_recovers_parameters_and_falls_back():
    rng = np.random.default_rng(5)
    w, a, b = 2e-6, 0.10, 0.85
    n = 3000
    s2 = w / (1 - a - b)
    r = np.empty(n)
    for t in range(n):
        r[t] = math.sqrt(s2) * rng.standard_normal()
        s2 = w + a * r[t] ** 2 + b * s2
    p = F.fit_garch11(r, 60.0)
    assert p.alpha == pytest.approx(a, abs=0.05)
    assert p.beta == pytest.approx(b, abs=0.08)
    flat = F.fit_garch11(np.full(100, 0.001), 60.0)
    assert flat.alpha == 0 and flat.beta == 0
    with pytest.raises(ValueError):
        F.fit_garch11(np.ones(10), 60.0)


def test_drawdown_trailing_high():
    d = F.drawdown([100.0, 110.0, 99.0, 105.0], 2)
    assert d.tolist() == pytest.approx([0.0, 0.0, 1 - 99 / 110, 0.0])


def _phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_vpin_buckets_by_hand():
    # σ_ΔP = 1; ΔP = +1, −1, 0, +2; volumes 5, 5, 10, 10; bucket V = 10, n = 2
    close = [10.0, 11.0, 10.0, 10.0, 12.0]
    vol = [0.0, 5.0, 5.0, 10.0, 10.0]
    v = F.vpin_bvc(close, vol, bucket_volume=10.0, n_buckets=2, sigma=1.0)
    # bucket 1 = bar 1 + bar 2: buy 5Φ(1) + 5Φ(−1) = 5 → |sell − buy| = 0
    # bucket 2 = bar 3: buy 5 → 0; bucket 3 = bar 4: buy 10Φ(2) → |10 − 20Φ(2)|
    assert np.isnan(v[:3]).all()
    assert v[3] == pytest.approx(0.0, abs=1e-12)
    assert v[4] == pytest.approx(abs(10 - 20 * _phi(2.0)) / 20.0)


def test_vpin_bar_split_across_buckets():
    # one bar of volume 15 at ΔP = +1 (σ = 1) fills bucket 1 (10) and carries 5 into bucket 2 at the same share;
    # the next bar (ΔP = −1, volume 5) completes bucket 2
    v = F.vpin_bvc([1.0, 2.0, 1.0], [0.0, 15.0, 5.0], bucket_volume=10.0, n_buckets=1, sigma=1.0)
    b1 = abs(10 - 2 * 10 * _phi(1.0))
    b2 = abs(10 - 2 * (5 * _phi(1.0) + 5 * _phi(-1.0)))
    assert v[1] == pytest.approx(b1 / 10)
    assert v[2] == pytest.approx(b2 / 10)


def test_amihud_and_kyle_by_hand():
    close, vol = [100.0, 110.0, 99.0], [1.0, 2.0, 3.0]
    r1, r2 = math.log(1.1), math.log(0.9)
    dv1, dv2 = 110 * 2.0, 99 * 3.0
    a = F.amihud(close, vol, 2)
    assert a[2] == pytest.approx(1e6 * (abs(r1) / dv1 + abs(r2) / dv2) / 2)
    k = F.kyle_lambda(close, vol, 2)
    s1, s2 = +dv1, -dv2  # signed by the tick rule
    assert k[2] == pytest.approx(1e6 * (r1 * s1 + r2 * s2) / (s1 ** 2 + s2 ** 2))
    assert np.isnan(F.amihud(close, [0.0, 0.0, 0.0], 2)[2])
    assert np.isnan(F.kyle_lambda(close, [0.0, 0.0, 0.0], 2)[2])


def test_oracle_perp_spread_and_recent_liquidations():
    assert F.oracle_deviation([102.0], [100.0])[0] == pytest.approx(0.02)
    assert F.funding_per_hour([0.0008], [8.0])[0] == pytest.approx(0.0001)
    oc = F.oi_change([100.0, 120.0, 150.0], 2)
    assert oc[2] == pytest.approx(math.log(1.5))
    assert F.quoted_spread([99.0], [101.0])[0] == pytest.approx(0.02)
    rl = F.recent_liquidations([0.0, 10.0, 30.0], 2, reference=20.0)
    assert rl.tolist() == pytest.approx([0.0, math.log10(1.5), math.log10(3.0)])


def test_pool_state_hooks_say_not_available():
    assert F.utilization() == F.NOT_AVAILABLE
    assert F.borrow_rate(0.8) == F.NOT_AVAILABLE


def test_depth_of_a_pool_and_of_a_book():
    assert F.depth_cpmm(1000.0, 0.19, "bid") == pytest.approx(100.0)  # 1000 (1 − sqrt(0.81))
    assert F.depth_cpmm(1000.0, 0.21, "ask") == pytest.approx(100.0)  # 1000 (sqrt(1.21) − 1)
    d = F.depth_curve([0.01, 0.02], [100.0, 300.0], [0.005, 0.015, 0.03])
    assert d.tolist() == pytest.approx([50.0, 200.0, 500.0])  # linear, then the last density continues


def _wall_example():
    L = np.array([99.5, 98.5, 96.0, 91.0, 80.0, 101.0])
    D = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    return L, D


def test_liquidation_prices_and_wall():
    assert F.liquidation_prices([2.0], [100.0], 0.5)[0] == pytest.approx(100.0)
    assert np.isnan(F.liquidation_prices([0.0], [1.0], 0.5)[0])
    L, D = _wall_example()
    w = F.liquidation_wall(L, D, 100.0)
    assert w["now"] == 6 and w["total"] == 21
    assert (w[0.01], w[0.02], w[0.05], w[0.10]) == (1.0, 3.0, 6.0, 10.0)
    assert F.wall_in_depth(10.0, 40.0) == 0.25
    assert math.isnan(F.wall_in_depth(10.0, 0.0))


def test_cluster_distance():
    L, D = _wall_example()
    assert F.cluster_distance(L, D, 100.0, min_share=0.2) == 0.0  # 6 of 21 liquidatable now
    assert F.cluster_distance(L, D, 100.0, min_share=0.3) == 0.5  # no 1 % bucket holds 6.3
    D2 = D.copy()
    D2[5] = 0.0  # nothing liquidatable now; total 15: 3 in the bucket 4–5 % below spot
    assert F.cluster_distance(L, D2, 100.0, min_share=0.19) == pytest.approx(0.04)


def test_book_features_match_the_heatmap_numbers():
    from liqcascade.data.liqprice import book_from_positions, liquidation_points
    from liqcascade.positions.io import PositionTable

    coll = np.array([1.0, 2.0, 0.5, 3.0])
    debt = np.array([70.0, 150.0, 40.0, 100.0])
    table = PositionTable(ids=np.array(["a", "b", "c", "d"], dtype=object), assets=("X", "USD"), wide=True,
                          collateral=coll, debt=debt)
    pts = liquidation_points(book_from_positions(table, {"X": 100.0, "USD": 1.0}, 0.8))
    mine = F.liquidation_prices(coll, debt, 0.8)
    assert sorted(pts.price.tolist()) == pytest.approx(sorted(mine.tolist()))
    bf = F.book_features(pts.price, pts.debt_value, 100.0, bid_depth=lambda k: 1000.0 * k, ask_depth=lambda k: 1000.0 * k)
    # liquidation prices 87.5, 93.75, 100, 41.7: 40 liquidatable now, 150 within 10 %
    assert bf["liq_now"] == pytest.approx(40 / 360)
    assert bf["wall_10"] == pytest.approx(150 / 360)
    assert bf["wall_depth_10"] == pytest.approx(150 / 100.0)
    assert bf["depth_bid_2"] == pytest.approx(20.0)


def test_market_features_are_causal():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, 400)))
    vol = rng.uniform(1, 5, 400)
    cfg = F.FeatureConfig(600.0, 1800.0, 3600.0, vpin_buckets=5, vpin_bucket_volume=30.0,
                          garch=F.GarchParams(0.0, 1e-6, 0.1, 0.8, 60.0))
    full = F.market_features(close, 60.0, cfg, volume=vol)
    for t in (70, 150, 399):
        part = F.market_features(close[: t + 1], 60.0, cfg, volume=vol[: t + 1])
        for k in full:
            a, b = full[k][t], part[k][t]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12), k


def test_registry_documents_every_feature():
    for name, info in F.FEATURES.items():
        assert info.text and info.group
    for fn in (F.realized_vol, F.garch_vol, F.vpin_bvc, F.amihud, F.kyle_lambda, F.drawdown, F.liquidation_wall,
               F.cluster_distance, F.depth_cpmm, F.depth_curve, F.oracle_deviation, F.funding_per_hour, F.oi_change,
               F.quoted_spread, F.recent_liquidations, F.utilization, F.borrow_rate):
        assert fn.__doc__ and len(fn.__doc__) > 60, fn.__name__
