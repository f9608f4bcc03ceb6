"""Unit tests of the venue kernels: pools, depth-curve books, routing and arbitrage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.kernels import _jit
from liqcascade.venues import dispatch as K
from liqcascade.venues import kernel as K_layout
from liqcascade.venues.book import kernel as K_book
from liqcascade.venues.cpmm import kernel as K_cpmm
from liqcascade.venues.pack import depth_from_cpmm, make_venue_state

DK = np.array([0.01, 0.05, 0.2])
DQ = np.array([1.0e5, 1.0e6, 2.0e6])
MID0 = 2000.0


def _book(mid=MID0, depth=((0.01, 1e5), (0.05, 1e6), (0.2, 2e6)), half=0.0):
    return {"kind": "book", "mid": mid, "depth": list(depth), "half_life_steps": half}


def _pool(x=1000.0, y=2.0e6, fee=0.003):
    return {"kind": "cpmm", "reserve_asset": x, "reserve_quote": y, "fee": fee}


def _spots(vs, ids):
    return np.array([K.venue_spot(vs, int(v)) for v in ids])


def _asset_absorbed(vs0, vs1, vdk, vdq, v):
    """Asset a venue took in (> 0) or gave out (< 0) between two states."""
    if int(vs0[v, K_layout.KIND]) == K_layout.VENUE_CPMM:
        return vs1[v, K_layout.X] - vs0[v, K_layout.X]
    m0, m1, nk = vs0[v, K_layout.MID], vs1[v, K_layout.MID], int(vs0[v, K_layout.NK])
    if m1 <= m0:
        return K_book.book_sell_to_price(m0, vdk[v], vdq[v], nk, m1)
    return -K_book._book_buy_asset(m0, vdk[v], vdq[v], nk, m1 / m0 - 1.0)


# --- compilation ---------------------------------------------------------------------------


@pytest.mark.skipif(_jit.DISABLED, reason="JIT disabled")
def test_kernels_are_compiled():
    vs, vdk, vdq = make_venue_state([_pool(), _book(), _pool(fee=0.0)])
    ids = np.array([0, 1, 2], dtype=np.int64)
    calls = {
        "cpmm_sell": (1000.0, 2e6, 0.003, 1.0),
        "cpmm_buy": (1000.0, 2e6, 0.003, 1.0),
        "cpmm_sell_to_price": (1000.0, 2e6, 0.003, 1900.0),
        "cpmm_buy_to_price": (1000.0, 2e6, 0.003, 2100.0),
        "book_sell": (MID0, DK, DQ, 3, 1.0),
        "book_buy": (MID0, DK, DQ, 3, 1.0),
        "book_sell_to_price": (MID0, DK, DQ, 3, 1900.0),
        "book_buy_to_price": (MID0, DK, DQ, 3, 2100.0),
        "book_depth": (DK, DQ, 3, 0.1),
        "book_marginal_sell_k": (DK, DQ, 3, 1e5),
        "venue_spot": (vs, 0),
        "venue_sell": (vs, vdk, vdq, 1, 1.0),
        "venue_buy": (vs, vdk, vdq, 1, 1.0),
        "venue_sell_to_price": (vs, vdk, vdq, 1, 1900.0),
        "venue_buy_to_price": (vs, vdk, vdq, 1, 2100.0),
        "venue_apply_return": (vs, vdk, vdq, 0, 1.01),
        "venue_decay": (vs, 1),
        "route_sell": (vs, vdk, vdq, ids, 10.0),
        "arbitrage": (vs, vdk, vdq, ids, 0.0),
        "arbitrage_to_reference": (vs, vdk, vdq, 0, 1500.0, 0.001),
    }
    for name, args in calls.items():
        fn = next(getattr(m, name) for m in (K, K_cpmm, K_book) if hasattr(m, name))
        fn(*args)
        assert fn.signatures, name


# --- constant-product pool ------------------------------------------------------------------


@pytest.mark.parametrize("fee", [0.0, 0.003, 0.01])
def test_cpmm_invariant_grows_only_by_fee(fee):
    x, y = 1000.0, 2.0e6
    rng = np.random.default_rng(1)
    for _ in range(50):
        kprev = x * y
        if rng.random() < 0.5:
            dq = rng.uniform(0.01, 200.0)
            x1, y1, out = K_cpmm.cpmm_sell(x, y, fee, dq)
            assert x1 == x + dq
            assert y1 + out == pytest.approx(y, rel=1e-14)
            expected = (x + dq) * x * y / (x + (1 - fee) * dq)
        else:
            dy = rng.uniform(10.0, 3e5)
            x1, y1, out = K_cpmm.cpmm_buy(x, y, fee, dy)
            assert y1 == y + dy
            assert x1 + out == pytest.approx(x, rel=1e-14)
            expected = (y + dy) * x * y / (y + (1 - fee) * dy)
        assert x1 * y1 == pytest.approx(expected, rel=1e-13)
        if fee == 0.0:
            assert x1 * y1 == pytest.approx(kprev, rel=1e-13)
        else:
            assert x1 * y1 > kprev
        x, y = x1, y1


@pytest.mark.parametrize("fee", [0.0, 0.003, 0.3])
@pytest.mark.parametrize("move", [1e-9, 1e-4, 0.05, 0.5, 0.99])
def test_cpmm_to_price_hits_target(fee, move):
    x, y = 1234.5, 2.5e6
    spot = y / x
    target = spot * (1 - move)
    dq = K_cpmm.cpmm_sell_to_price(x, y, fee, target)
    x1, y1, _ = K_cpmm.cpmm_sell(x, y, fee, dq)
    assert y1 / x1 == pytest.approx(target, rel=1e-10)
    target = spot * (1 + 10 * move)
    dy = K_cpmm.cpmm_buy_to_price(x, y, fee, target)
    x1, y1, _ = K_cpmm.cpmm_buy(x, y, fee, dy)
    assert y1 / x1 == pytest.approx(target, rel=1e-10)


def test_cpmm_to_price_no_trade_on_wrong_side():
    assert K_cpmm.cpmm_sell_to_price(10.0, 20.0, 0.003, 2.0) == 0.0
    assert K_cpmm.cpmm_sell_to_price(10.0, 20.0, 0.003, 3.0) == 0.0
    assert K_cpmm.cpmm_buy_to_price(10.0, 20.0, 0.003, 1.0) == 0.0
    assert K_cpmm.cpmm_sell_to_price(10.0, 20.0, 0.003, 0.0) == math.inf


def test_cpmm_round_trip_loses_money():
    x, y, fee = 1000.0, 2.0e6, 0.003
    x1, y1, quote = K_cpmm.cpmm_sell(x, y, fee, 50.0)
    _, _, back = K_cpmm.cpmm_buy(x1, y1, fee, quote)
    assert back < 50.0
    # without a fee a pool is exactly reversible
    x1, y1, quote = K_cpmm.cpmm_sell(x, y, 0.0, 50.0)
    _, _, back = K_cpmm.cpmm_buy(x1, y1, 0.0, quote)
    assert back == pytest.approx(50.0, rel=1e-13)


# --- depth-curve book -----------------------------------------------------------------------


@pytest.mark.parametrize("j", [0, 1, 2])
def test_book_selling_to_depth_point_pays_depth(j):
    target = MID0 * (1 - DK[j])
    dq = K_book.book_sell_to_price(MID0, DK, DQ, 3, target)
    new_mid, quote = K_book.book_sell(MID0, DK, DQ, 3, dq)
    assert quote == pytest.approx(DQ[j], rel=1e-12)
    assert new_mid == pytest.approx(target, rel=1e-12)
    assert quote <= dq * MID0
    # and the same curve above the mid
    dy = K_book.book_buy_to_price(MID0, DK, DQ, 3, MID0 * (1 + DK[j]))
    assert dy == pytest.approx(DQ[j], rel=1e-14)
    new_mid, asset = K_book.book_buy(MID0, DK, DQ, 3, DQ[j])
    assert new_mid == pytest.approx(MID0 * (1 + DK[j]), rel=1e-14)
    assert asset <= DQ[j] / MID0


def test_book_asset_is_exact_log_integral():
    # first segment, density rho = 1e7: asset = rho * ln(1 / (1 - k)) / m
    k = 0.007
    dq = K_book.book_sell_to_price(MID0, DK, DQ, 3, MID0 * (1 - k))
    assert dq == pytest.approx(1e7 * -math.log1p(-k) / MID0, rel=1e-14)
    _, asset = K_book.book_buy(MID0, DK, DQ, 3, 1e7 * k)
    assert asset == pytest.approx(1e7 * math.log1p(k) / MID0, rel=1e-14)


def test_book_tail_continues_last_density_and_absorbs_anything():
    rho_last = (DQ[2] - DQ[1]) / (DK[2] - DK[1])
    assert K_book.book_depth(DK, DQ, 3, 0.5) == pytest.approx(DQ[2] + rho_last * 0.3, rel=1e-14)
    for dq in (1e3, 1e4, 1e6, 1e9):
        new_mid, quote = K_book.book_sell(MID0, DK, DQ, 3, dq)
        assert 0.0 <= new_mid < MID0
        assert quote <= DQ[2] + rho_last * (1 - DK[2]) + 1e-6
        assert quote <= dq * MID0
    # a flat last segment falls back on the average density
    dk = np.array([0.1, 0.2])
    dq_ = np.array([1e6, 1e6])
    assert K_book.book_depth(dk, dq_, 2, 0.3) == pytest.approx(1e6 + 5e6 * 0.1, rel=1e-14)


def test_book_flat_stretch_is_crossed_only_by_more_asset():
    # no resting quote between 5 % and 10 %: a sale that just fits the first 5 % stops there,
    # one unit more falls through the gap
    dk = np.array([0.05, 0.1, 0.2])
    dq = np.array([1e5, 1e5, 3e5])
    edge = K_book.book_sell_to_price(MID0, dk, dq, 3, MID0 * 0.95)
    assert K_book.book_sell_to_price(MID0, dk, dq, 3, MID0 * 0.92) == edge
    m, q = K_book.book_sell(MID0, dk, dq, 3, edge * (1 - 1e-9))
    assert MID0 * 0.95 < m < MID0 * 0.9500001 and q < 1e5
    m, q = K_book.book_sell(MID0, dk, dq, 3, edge * (1 + 1e-9))
    assert MID0 * 0.8999999 < m < MID0 * 0.9 and q > 1e5
    assert K_book.book_marginal_sell_k(dk, dq, 3, 1e5) == 0.05


def test_book_inverse_of_depth():
    for quote in (1.0, 5e4, 1e5, 7e5, 1e6, 1.9e6, 2e6, 5e6):
        k = K_book.book_marginal_sell_k(DK, DQ, 3, quote)
        assert K_book.book_depth(DK, DQ, 3, k) == pytest.approx(quote, rel=1e-13)


def test_book_sell_monotone_and_never_better_than_mid():
    dqs = np.geomspace(1e-6, 1e5, 400)
    mids = []
    quotes = []
    for dq in dqs:
        m, q = K_book.book_sell(MID0, DK, DQ, 3, dq)
        assert q <= dq * MID0
        mids.append(m)
        quotes.append(q)
    assert np.all(np.diff(mids) < 0)
    assert np.all(np.diff(quotes) > 0)
    dys = np.geomspace(1.0, 1e8, 400)
    assets = [K_book.book_buy(MID0, DK, DQ, 3, dy)[1] for dy in dys]
    assert np.all(np.diff(assets) > 0)
    assert np.all(np.array(assets) <= dys / MID0)


def test_book_spread_at_one_state():
    # From one state, selling q asset pays less than buying q asset costs.
    dq = 600.0
    _, quote_sell = K_book.book_sell(MID0, DK, DQ, 3, dq)
    cost = K_book.book_buy_to_price(MID0, DK, DQ, 3, 1e9)  # bracket, then bisect the cost of dq asset
    lo, hi = 0.0, cost
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if K_book.book_buy(MID0, DK, DQ, 3, mid)[1] < dq:
            lo = mid
        else:
            hi = mid
    assert quote_sell < dq * MID0 < hi


def test_book_round_trip_recentres_on_the_new_mid():
    # Documented model property: the curve is re-centred on the current mid after every trade.
    # With density rising away from the mid (this book, over its first 5 %), a sell followed by
    # a buy with the proceeds loses asset; with a uniform density it gains a little (third order
    # in the move k), so the book alone is not round-trip arbitrage-free.
    dq = 200.0
    m1, quote = K_book.book_sell(MID0, DK, DQ, 3, dq)
    _, back = K_book.book_buy(m1, DK, DQ, 3, quote)
    assert back < dq
    uk, uq = np.array([0.1]), np.array([1e6])
    m1, quote = K_book.book_sell(MID0, uk, uq, 1, dq)
    _, back = K_book.book_buy(m1, uk, uq, 1, quote)
    k = 1 - m1 / MID0
    assert dq < back <= dq * (1 + k**2)


def test_impact_decays_by_half_after_half_life():
    vs, vdk, vdq = make_venue_state([_book(half=10.0)])
    K.venue_sell(vs, vdk, vdq, 0, 500.0)
    impact0 = 1 - vs[0, K_layout.MID] / vs[0, K_layout.REF]
    assert impact0 > 0.01
    for _ in range(10):
        K.venue_decay(vs, 0)
    assert 1 - vs[0, K_layout.MID] / vs[0, K_layout.REF] == pytest.approx(impact0 / 2, rel=1e-12)
    for _ in range(10):
        K.venue_decay(vs, 0)
    assert 1 - vs[0, K_layout.MID] / vs[0, K_layout.REF] == pytest.approx(impact0 / 4, rel=1e-12)
    # no recovery when half <= 0, and pools are untouched
    vs, vdk, vdq = make_venue_state([_book(half=0.0), _pool()])
    K.venue_sell(vs, vdk, vdq, 0, 500.0)
    before = vs.copy()
    K.venue_decay(vs, 0)
    K.venue_decay(vs, 1)
    assert np.array_equal(vs, before)


def test_apply_return():
    vs, vdk, vdq = make_venue_state([_book(half=5.0), _pool()])
    K.venue_sell(vs, vdk, vdq, 0, 300.0)
    impact = 1 - vs[0, K_layout.MID] / vs[0, K_layout.REF]
    K.venue_apply_return(vs, vdk, vdq, 0, 0.9)
    assert vs[0, K_layout.REF] == pytest.approx(MID0 * 0.9, rel=1e-15)
    assert 1 - vs[0, K_layout.MID] / vs[0, K_layout.REF] == pytest.approx(impact, rel=1e-12)
    for ret in (0.9, 1.2, 0.5, 1.0):
        spot = K.venue_spot(vs, 1)
        kprod = vs[1, K_layout.X] * vs[1, K_layout.Y]
        K.venue_apply_return(vs, vdk, vdq, 1, ret)
        assert K.venue_spot(vs, 1) == pytest.approx(spot * ret, rel=1e-12)
        assert vs[1, K_layout.X] * vs[1, K_layout.Y] >= kprod * (1 - 1e-15)


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [_pool(), _book()])
def test_route_sell_identical_venues_split_equally_and_beat_one(spec):
    vs, vdk, vdq = make_venue_state([spec, spec])
    ids = np.array([0, 1], dtype=np.int64)
    one = vs.copy()
    single = K.venue_sell(one, vdk, vdq, 0, 400.0)
    quote, price = K.route_sell(vs, vdk, vdq, ids, 400.0)
    assert quote > single
    assert vs[0] == pytest.approx(vs[1], rel=1e-12)
    a0 = _asset_absorbed(make_venue_state([spec])[0], vs, vdk, vdq, 0)
    assert a0 == pytest.approx(200.0, rel=1e-12)
    assert price == pytest.approx(K.venue_spot(vs, 0), rel=1e-12)


def test_route_sell_single_venue_is_venue_sell():
    vs, vdk, vdq = make_venue_state([_book()])
    ref = vs.copy()
    q_ref = K.venue_sell(ref, vdk, vdq, 0, 123.0)
    quote, price = K.route_sell(vs, vdk, vdq, np.array([0], dtype=np.int64), 123.0)
    assert quote == q_ref
    assert price == ref[0, K_layout.MID]
    assert np.array_equal(vs, ref)


@pytest.mark.parametrize("dq", [1e-3, 10.0, 300.0, 5000.0, 1e6])
def test_route_sell_conserves_asset_and_equalises_prices(dq):
    specs = [
        _pool(1000.0, 2.0e6, 0.003),
        _book(2010.0, half=3.0),
        _pool(300.0, 0.59e6, 0.0005),
        _book(1900.0, depth=((0.02, 2e5), (0.1, 2e5), (0.3, 9e5))),
    ]
    vs0, vdk, vdq = make_venue_state(specs)
    vs = vs0.copy()
    ids = np.array([0, 1, 2, 3], dtype=np.int64)
    spots0 = _spots(vs0, ids)
    quote, price = K.route_sell(vs, vdk, vdq, ids, dq)
    absorbed = [_asset_absorbed(vs0, vs, vdk, vdq, v) for v in ids]
    assert sum(absorbed) == pytest.approx(dq, rel=1e-11)
    assert min(absorbed) >= 0.0
    spots = _spots(vs, ids)
    traded = np.array(absorbed) > 0
    assert spots[traded] == pytest.approx(np.full(traded.sum(), price), rel=1e-9)
    assert np.all(spots0[~traded] <= price * (1 + 1e-12))
    assert price == pytest.approx(spots.max(), rel=1e-15)
    # never better than the best initial price, and better than dumping on any single venue
    assert quote <= dq * spots0.max()
    for v in ids:
        alone = vs0.copy()
        assert quote >= K.venue_sell(alone, vdk, vdq, int(v), dq) * (1 - 1e-12)


# --- arbitrage ------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.0, 0.001, 0.02])
def test_arbitrage_two_pools_conserves_asset_and_closes_gap(threshold):
    vs0, vdk, vdq = make_venue_state([_pool(1000.0, 2.0e6, 0.0), _pool(800.0, 1.8e6, 0.0)])
    vs = vs0.copy()
    ids = np.array([0, 1], dtype=np.int64)
    profit = K.arbitrage(vs, vdk, vdq, ids, threshold)
    dx = vs[:, K_layout.X] - vs0[:, K_layout.X]
    dy = vs[:, K_layout.Y] - vs0[:, K_layout.Y]
    assert dx.sum() == pytest.approx(0.0, abs=1e-12 * vs0[:, K_layout.X].sum())
    assert profit > 0.0
    assert profit == pytest.approx(-dy.sum(), rel=1e-9)
    s = _spots(vs, ids)
    assert s.max() / s.min() - 1 == pytest.approx(threshold, abs=1e-11)


def test_arbitrage_with_fees_stops_at_marginal_prices():
    vs0, vdk, vdq = make_venue_state([_pool(1000.0, 2.0e6, 0.003), _pool(800.0, 1.8e6, 0.01)])
    vs = vs0.copy()
    ids = np.array([0, 1], dtype=np.int64)
    profit = K.arbitrage(vs, vdk, vdq, ids, 0.001)
    assert profit > 0
    bid = K.venue_spot(vs, 1) * (1 - 0.01)
    ask = K.venue_spot(vs, 0) / (1 - 0.003)
    assert bid / ask - 1 == pytest.approx(0.001, abs=1e-11)
    assert (vs[:, K_layout.X] - vs0[:, K_layout.X]).sum() == pytest.approx(0.0, abs=1e-12)
    # a gap smaller than the fees is left alone
    before = vs0.copy()
    vs1, _, _ = make_venue_state([_pool(1000.0, 2.0e6, 0.003), _pool(1000.0, 2.004e6, 0.003)])
    assert K.arbitrage(vs1, vdk, vdq, ids, 0.0) == 0.0
    assert np.array_equal(vs0, before)


def test_arbitrage_book_and_pool_conserves_asset():
    vs0, vdk, vdq = make_venue_state([_book(1900.0, half=4.0), _pool(1000.0, 2.0e6, 0.0)])
    vs = vs0.copy()
    ids = np.array([0, 1], dtype=np.int64)
    profit = K.arbitrage(vs, vdk, vdq, ids, 0.0)
    bought = -_asset_absorbed(vs0, vs, vdk, vdq, 0)
    sold = _asset_absorbed(vs0, vs, vdk, vdq, 1)
    assert bought > 0
    assert bought == pytest.approx(sold, rel=1e-12)
    assert profit > 0
    assert K.venue_spot(vs, 0) == pytest.approx(K.venue_spot(vs, 1), rel=1e-11)


def test_arbitrage_many_venues_narrows_the_band():
    specs = [_pool(1000.0, 2.0e6, 0.0), _book(1800.0), _book(2300.0), _pool(50.0, 0.1e6, 0.0)]
    vs0, vdk, vdq = make_venue_state(specs)
    vs = vs0.copy()
    ids = np.array([0, 1, 2, 3], dtype=np.int64)
    profit = K.arbitrage(vs, vdk, vdq, ids, 0.002)
    s0 = _spots(vs0, ids)
    s = _spots(vs, ids)
    assert profit > 0
    assert s.max() / s.min() - 1 < 0.01 * (s0.max() / s0.min() - 1)
    assert s.max() <= s0.max() and s.min() >= s0.min()


def test_arbitrage_many_pools_conserves_asset_and_quote():
    specs = [
        _pool(1000.0, 2.0e6, 0.0),
        _pool(700.0, 1.3e6, 0.001),
        _pool(90.0, 0.21e6, 0.003),
        _pool(50.0, 0.1e6, 0.0),
    ]
    vs0, vdk, vdq = make_venue_state(specs)
    vs = vs0.copy()
    ids = np.array([0, 1, 2, 3], dtype=np.int64)
    profit = K.arbitrage(vs, vdk, vdq, ids, 0.0)
    assert profit > 0
    assert (vs[:, K_layout.X] - vs0[:, K_layout.X]).sum() == pytest.approx(0.0, abs=1e-12 * vs0[:, K_layout.X].sum())
    assert profit == pytest.approx(-(vs[:, K_layout.Y] - vs0[:, K_layout.Y]).sum(), rel=1e-9)
    s0 = _spots(vs0, ids)
    s = _spots(vs, ids)
    assert s.max() / s.min() - 1 < 0.05 * (s0.max() / s0.min() - 1)


@pytest.mark.parametrize("ref", [1500.0, 1990.0, 2000.0, 2010.0, 2600.0])
@pytest.mark.parametrize("spec", [_pool(1000.0, 2.0e6, 0.003), _book()])
def test_arbitrage_to_reference(ref, spec):
    thr = 0.004
    vs, vdk, vdq = make_venue_state([spec])
    g = 1 - vs[0, K_layout.FEE]
    before = vs.copy()
    profit = K.arbitrage_to_reference(vs, vdk, vdq, 0, ref, thr)
    s = K.venue_spot(vs, 0)
    assert profit >= 0.0
    if s * g > ref * (1 + thr) * (1 + 1e-9) or s / g < ref * (1 - thr) * (1 - 1e-9):
        pytest.fail("left outside the band")
    s0 = K.venue_spot(before, 0)
    if s0 * g <= ref * (1 + thr) and s0 / g >= ref * (1 - thr):
        assert np.array_equal(vs, before)
        assert profit == 0.0
    else:
        assert profit > 0.0
        assert s * g == pytest.approx(ref * (1 + thr), rel=1e-10) or s / g == pytest.approx(
            ref * (1 - thr), rel=1e-10
        )


# --- market helpers -------------------------------------------------------------------------


def test_make_venue_state_layout_and_errors():
    vs, vdk, vdq = make_venue_state([_pool(), dict(_book(), asset=2), _book(depth=[(0.1, 5.0)])])
    assert vs.shape == (3, K_layout.NCOL) and vdk.shape == (3, 3) and vdq.shape == (3, 3)
    assert vs[0, K_layout.KIND] == K_layout.VENUE_CPMM and vs[1, K_layout.KIND] == K_layout.VENUE_BOOK
    assert vs[1, K_layout.ASSET] == 2 and vs[1, K_layout.NK] == 3 and vs[2, K_layout.NK] == 1
    assert vs[1, K_layout.MID] == vs[1, K_layout.REF] == MID0
    bad = [
        [{"kind": "amm"}],
        [_pool(x=0.0)],
        [_pool(fee=1.0)],
        [_book(depth=[])],
        [_book(depth=[(0.1, 1.0), (0.1, 2.0)])],
        [_book(depth=[(0.1, 2.0), (0.2, 1.0)])],
        [_book(depth=[(1.0, 2.0)])],
        [_book(mid=-1.0)],
        [dict(_pool(), asset=-1)],
    ]
    for venues in bad:
        with pytest.raises(InputError):
            make_venue_state(venues)


def test_depth_from_cpmm_matches_pool():
    x, y = 1000.0, 2.0e6
    ks = np.linspace(0.001, 0.6, 600)
    depth = depth_from_cpmm(x, y, ks)
    for k in (0.05, 0.3, 0.5):
        # quote paid by a fee-less pool when selling its spot down by k
        dq = K_cpmm.cpmm_sell_to_price(x, y, 0.0, y / x * (1 - k))
        _, _, quote = K_cpmm.cpmm_sell(x, y, 0.0, dq)
        assert np.interp(k, ks, depth) == pytest.approx(quote, rel=1e-5)
        # the fine piecewise-linear book absorbs about the same asset
        assert K_book.book_sell_to_price(y / x, ks, depth, len(ks), y / x * (1 - k)) == pytest.approx(
            dq, rel=1e-4
        )
    ask = depth_from_cpmm(x, y, [0.1], side="ask")[0]
    assert ask == pytest.approx(K_cpmm.cpmm_buy_to_price(x, y, 0.0, y / x * 1.1), rel=1e-12)


def test_recentred_pool_follows_the_reference_and_recovers_by_half_life():
    """A pool with half_life_steps > 0: the exogenous return moves reference and spot together
    without a trade (same x·y), and its impact halves every half-life, like a book's."""
    spec = dict(_pool(fee=0.0), half_life_steps=10.0)
    vs, vdk, vdq = make_venue_state([spec, _pool()])
    assert K.venue_follows_reference(vs, 0) and not K.venue_follows_reference(vs, 1)
    k0 = vs[0, K_layout.X] * vs[0, K_layout.Y]
    K.venue_apply_return(vs, vdk, vdq, 0, 0.8)
    assert vs[0, K_layout.REF] == pytest.approx(2000.0 * 0.8, rel=1e-15)
    assert K.venue_spot(vs, 0) == pytest.approx(2000.0 * 0.8, rel=1e-13)
    assert vs[0, K_layout.X] * vs[0, K_layout.Y] == pytest.approx(k0, rel=1e-13)
    K.venue_sell(vs, vdk, vdq, 0, 50.0)
    impact0 = 1 - K.venue_spot(vs, 0) / vs[0, K_layout.REF]
    assert impact0 > 0.05
    k1 = vs[0, K_layout.X] * vs[0, K_layout.Y]
    for _ in range(10):
        K.venue_decay(vs, 0)
    assert 1 - K.venue_spot(vs, 0) / vs[0, K_layout.REF] == pytest.approx(impact0 / 2, rel=1e-12)
    assert vs[0, K_layout.X] * vs[0, K_layout.Y] == pytest.approx(k1, rel=1e-13)
    # an ordinary pool keeps its reserves under decay
    before = vs[1].copy()
    K.venue_decay(vs, 1)
    assert np.array_equal(vs[1], before)
