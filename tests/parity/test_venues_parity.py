"""Parity: compiled venue kernels vs the naive plain-Python twin, on generated inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.venues import dispatch as K
from liqcascade.venues import kernel as K_layout
from liqcascade.venues.cpmm import kernel as K_cpmm
from liqcascade.venues.book import kernel as K_book
from liqcascade.venues.book import twin as P_book
from liqcascade.venues.cpmm import twin as P_cpmm
from liqcascade.venues import twin as P
from liqcascade.venues.pack import make_venue_state

RTOL = 1e-9
SETTINGS = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)


def close(a, b, rtol=RTOL, atol=0.0):
    return a == pytest.approx(b, rel=rtol, abs=atol)


prices = st.floats(0.05, 5e4)
fees = st.one_of(st.just(0.0), st.floats(0.0, 0.01))


@st.composite
def pools(draw):
    x = draw(st.floats(1.0, 1e6))
    y = x * draw(prices)
    half = draw(st.one_of(st.just(0.0), st.floats(1.0, 50.0)))  # > 0: re-centred on the reference
    return {"kind": "cpmm", "reserve_asset": x, "reserve_quote": y, "fee": draw(fees), "half_life_steps": half}


@st.composite
def books(draw):
    mid = draw(prices)
    n = draw(st.integers(1, 5))
    steps = draw(st.lists(st.floats(0.002, 0.1), min_size=n, max_size=n))
    ks = np.cumsum(steps)
    notional = draw(st.floats(1e3, 1e8))
    # strictly increasing depth: on a flat stretch the price reached by a trade that ends
    # exactly at its start is rounding-dependent, so flat stretches are unit-tested instead
    incs = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    qs = notional * np.cumsum(incs)
    half = draw(st.one_of(st.just(0.0), st.floats(1.0, 50.0)))
    return {"kind": "book", "mid": mid, "depth": list(zip(ks, qs)), "half_life_steps": half}


venues = st.one_of(pools(), books())


def _depth_scale(vs, vdk, vdq, v):
    """Asset amount that moves venue ``v`` by about 5 % (for sizing generated trades)."""
    return K.venue_sell_to_price(vs, vdk, vdq, v, 0.95 * K.venue_spot(vs, v))


sizes = st.one_of(st.just(0.0), st.floats(1e-3, 2.0))


def _scales(vs, vdq):
    """(asset, quote) size of the whole market: pool reserves plus book depth at the last point."""
    asset = quote = 0.0
    for v in range(vs.shape[0]):
        if int(vs[v, K_layout.KIND]) == K_layout.VENUE_CPMM:
            asset += vs[v, K_layout.X]
            quote += vs[v, K_layout.Y]
        else:
            depth = vdq[v, int(vs[v, K_layout.NK]) - 1]
            asset += depth / vs[v, K_layout.MID]
            quote += depth
    return asset, quote


def assert_states_close(a, b, vs0, vdq):
    """Prices to ``RTOL``; reserves to ``RTOL`` or 1e-12 of the market size (bisection on a
    price resolves the amounts only relative to the deepest venue)."""
    asset, quote = _scales(vs0, vdq)
    for v in range(vs0.shape[0]):
        p_tol = 1e-12 * K.venue_spot(vs0, v)  # a book sold almost to zero: the twin's k -> 1
        assert close(a[v, K_layout.X], b[v, K_layout.X], atol=1e-12 * asset)
        assert close(a[v, K_layout.Y], b[v, K_layout.Y], atol=1e-12 * quote)
        assert close(a[v, K_layout.MID], b[v, K_layout.MID], atol=p_tol)
        assert close(a[v, K_layout.REF], b[v, K_layout.REF])
        assert close(K.venue_spot(a, v), K.venue_spot(b, v), atol=p_tol)


# --- scalar kernels -------------------------------------------------------------------------


@SETTINGS
@given(pools(), st.floats(1e-4, 5.0), st.floats(0.0, 0.95), st.floats(0.0, 3.0))
def test_cpmm_parity(spec, size, down, up):
    x, y, fee = spec["reserve_asset"], spec["reserve_quote"], spec["fee"]
    for a, b in zip(K_cpmm.cpmm_sell(x, y, fee, size * x), P_cpmm.cpmm_sell(x, y, fee, size * x)):
        assert close(a, b)
    for a, b in zip(K_cpmm.cpmm_buy(x, y, fee, size * y), P_cpmm.cpmm_buy(x, y, fee, size * y)):
        assert close(a, b)
    spot = y / x
    assert close(
        K_cpmm.cpmm_sell_to_price(x, y, fee, spot * (1 - down)),
        P_cpmm.cpmm_sell_to_price(x, y, fee, spot * (1 - down)),
        atol=1e-12 * x,
    )
    assert close(
        K_cpmm.cpmm_buy_to_price(x, y, fee, spot * (1 + up)),
        P_cpmm.cpmm_buy_to_price(x, y, fee, spot * (1 + up)),
        atol=1e-12 * y,
    )


@SETTINGS
@given(books(), st.floats(1e-4, 20.0), st.floats(0.0, 0.95), st.floats(0.0, 3.0))
def test_book_parity(spec, size, down, up):
    vs, vdk, vdq = make_venue_state([spec])
    mid, nk = vs[0, K_layout.MID], int(vs[0, K_layout.NK])
    dk, dq = vdk[0], vdq[0]
    depth = dq[nk - 1]
    a_tol, q_tol = 1e-12 * depth / mid, 1e-12 * depth  # for moves at the limit of resolution
    sell = size * depth / mid
    mk, qk = K_book.book_sell(mid, dk, dq, nk, sell)
    mp, qp = P_book.book_sell(mid, dk, dq, nk, sell)
    assert close(qk, qp)
    assert close(mk, mp, atol=1e-12 * mid)
    mk, ak = K_book.book_buy(mid, dk, dq, nk, size * depth)
    mp, ap = P_book.book_buy(mid, dk, dq, nk, size * depth)
    assert close(ak, ap)
    assert close(mk, mp)
    assert close(
        K_book.book_sell_to_price(mid, dk, dq, nk, mid * (1 - down)),
        P_book.book_sell_to_price(mid, dk, dq, nk, mid * (1 - down)),
        atol=a_tol,
    )
    assert close(
        K_book.book_buy_to_price(mid, dk, dq, nk, mid * (1 + up)),
        P_book.book_buy_to_price(mid, dk, dq, nk, mid * (1 + up)),
        atol=q_tol,
    )
    assert close(K_book.book_depth(dk, dq, nk, up), P_book.book_depth(dk, dq, nk, up), atol=q_tol)
    assert close(
        K_book.book_marginal_sell_k(dk, dq, nk, size * depth),
        P_book.book_marginal_sell_k(dk, dq, nk, size * depth),
    )


# --- state kernels --------------------------------------------------------------------------


@SETTINGS
@given(st.lists(venues, min_size=1, max_size=4), st.floats(1e-3, 10.0))
def test_route_sell_parity(specs, size):
    vs, vdk, vdq = make_venue_state(specs)
    ids = np.arange(len(specs), dtype=np.int64)
    dq = size * sum(_depth_scale(vs, vdk, vdq, v) for v in ids)
    a, b = vs.copy(), vs.copy()
    qk, pk = K.route_sell(a, vdk, vdq, ids, dq)
    qp, pp = P.route_sell(b, vdk, vdq, ids, dq)
    assert close(qk, qp)
    assert close(pk, pp, atol=1e-12 * max(K.venue_spot(vs, v) for v in ids))
    assert_states_close(a, b, vs, vdq)


@SETTINGS
@given(venues, venues, st.floats(0.0, 0.02), st.floats(0.5, 2.0))
def test_arbitrage_parity(spec0, spec1, threshold, tilt):
    vs, vdk, vdq = make_venue_state([spec0, spec1])
    # put the second venue at a comparable price, tilted by `tilt`
    ids = np.array([0, 1], dtype=np.int64)
    target = K.venue_spot(vs, 0) * tilt
    if vs[1, K_layout.KIND] == K_layout.VENUE_CPMM:
        vs[1, K_layout.Y] = vs[1, K_layout.X] * target
    else:
        vs[1, K_layout.MID] = vs[1, K_layout.REF] = target
    a, b = vs.copy(), vs.copy()
    pk = K.arbitrage(a, vdk, vdq, ids, threshold)
    pp = P.arbitrage(b, vdk, vdq, ids, threshold)
    assert pk >= -1e-12 * _scales(vs, vdq)[1]
    assert close(pk, pp, atol=1e-9 * _scales(vs, vdq)[1])
    assert_states_close(a, b, vs, vdq)


@SETTINGS
@given(venues, st.floats(0.5, 2.0), st.floats(0.0, 0.02))
def test_arbitrage_to_reference_parity(spec, tilt, threshold):
    vs, vdk, vdq = make_venue_state([spec])
    ref = K.venue_spot(vs, 0) * tilt
    a, b = vs.copy(), vs.copy()
    pk = K.arbitrage_to_reference(a, vdk, vdq, 0, ref, threshold)
    pp = P.arbitrage_to_reference(b, vdk, vdq, 0, ref, threshold)
    assert pk >= -1e-12 * _scales(vs, vdq)[1]
    assert close(pk, pp, atol=1e-9 * _scales(vs, vdq)[1])
    assert_states_close(a, b, vs, vdq)


@SETTINGS
@given(venues, sizes, st.floats(0.5, 2.0), st.integers(0, 30))
def test_return_and_decay_parity(spec, size, ret, steps):
    vs, vdk, vdq = make_venue_state([spec])
    dq = size * _depth_scale(vs, vdk, vdq, 0)
    a, b = vs.copy(), vs.copy()
    assert close(K.venue_sell(a, vdk, vdq, 0, dq), P.venue_sell(b, vdk, vdq, 0, dq))
    K.venue_apply_return(a, vdk, vdq, 0, ret)
    P.venue_apply_return(b, vdk, vdq, 0, ret)
    for _ in range(steps):
        K.venue_decay(a, 0)
        P.venue_decay(b, 0)
    assert_states_close(a, b, vs, vdq)
    dy = size * _scales(vs, vdq)[1] * 0.01
    assert close(K.venue_buy(a, vdk, vdq, 0, dy), P.venue_buy(b, vdk, vdq, 0, dy))
    assert_states_close(a, b, vs, vdq)


# --- floors (a venue that runs out of bids) ---------------------------------------------------


@st.composite
def floored(draw, n=1):
    """``n`` venues of one asset, each with a floor between 5 % and 90 % of its spot."""
    specs = [draw(venues) for _ in range(n)]
    vs, vdk, vdq = make_venue_state(specs)
    for v in range(n):
        vs[v, K_layout.FLOOR] = draw(st.floats(0.05, 0.9)) * K.venue_spot(vs, v)
    return vs, vdk, vdq


@SETTINGS
@given(floored(), st.floats(0.01, 100.0))
def test_floored_sell_parity(state, size):
    vs, vdk, vdq = state
    cap = K.venue_sell_to_price(vs, vdk, vdq, 0, 0.0)  # a target under the floor means the floor
    assert close(cap, K.venue_sell_to_price(vs, vdk, vdq, 0, vs[0, K_layout.FLOOR]))
    assert close(cap, P.venue_sell_to_price(vs, vdk, vdq, 0, 0.0), atol=1e-12 * _scales(vs, vdq)[0])
    dq = size * cap
    a, b = vs.copy(), vs.copy()
    qk = K.venue_sell(a, vdk, vdq, 0, dq)
    qp = P.venue_sell(b, vdk, vdq, 0, dq)
    assert close(qk, qp, atol=1e-12 * _scales(vs, vdq)[1])
    assert_states_close(a, b, vs, vdq)
    floor = vs[0, K_layout.FLOOR]
    assert K.venue_spot(a, 0) >= floor * (1 - 1e-12)
    assert qk <= dq * K.venue_spot(vs, 0) * (1 + 1e-12)
    if size > 1.0:  # past the floor: the rest filled at the floor price
        assert K.venue_spot(a, 0) == pytest.approx(floor, rel=1e-12)
        head = K.venue_sell(vs.copy(), vdk, vdq, 0, cap)
        assert qk == pytest.approx(head + (dq - cap) * floor, rel=1e-12)
    # a preview agrees with the sale
    assert K.venue_preview_sell(vs, vdk, vdq, 0, dq)[0] == qk


@SETTINGS
@given(st.integers(2, 4).flatmap(lambda n: floored(n)), st.floats(0.1, 50.0))
def test_floored_route_sell_parity(state, size):
    vs, vdk, vdq = state
    ids = np.arange(vs.shape[0], dtype=np.int64)
    fmax = vs[:, K_layout.FLOOR].max()
    dq = size * sum(K.venue_sell_to_price(vs, vdk, vdq, v, fmax) for v in ids)
    a, b = vs.copy(), vs.copy()
    qk, pk = K.route_sell(a, vdk, vdq, ids, dq)
    qp, pp = P.route_sell(b, vdk, vdq, ids, dq)
    asset, quote = _scales(vs, vdq)
    assert close(qk, qp, rtol=1e-9, atol=1e-9 * quote)
    assert close(pk, pp, rtol=1e-9, atol=1e-12 * max(K.venue_spot(vs, v) for v in ids))
    for v in ids:
        assert K.venue_spot(a, v) >= vs[v, K_layout.FLOOR] * (1 - 1e-12)
    if size > 1.0:  # the venues cannot take it above the highest floor: every one ends there
        for v in ids:
            assert K.venue_spot(a, v) == pytest.approx(min(fmax, K.venue_spot(vs, v)), rel=1e-9)


@SETTINGS
@given(floored(), st.floats(1e-6, 1.0), st.integers(0, 30), st.floats(0.0, 0.02))
def test_floored_return_decay_and_arbitrage_parity(state, ret, steps, threshold):
    vs, vdk, vdq = state
    a, b = vs.copy(), vs.copy()
    K.venue_apply_return(a, vdk, vdq, 0, ret)
    P.venue_apply_return(b, vdk, vdq, 0, ret)
    for _ in range(steps):
        K.venue_decay(a, 0)
        P.venue_decay(b, 0)
    assert_states_close(a, b, vs, vdq)
    assert K.venue_spot(a, 0) >= vs[0, K_layout.FLOOR] * (1 - 1e-12)
    # arbitrage toward a reference under the floor stops at the floor
    ref = vs[0, K_layout.FLOOR] * ret
    a2, b2 = vs.copy(), vs.copy()
    pk = K.arbitrage_to_reference(a2, vdk, vdq, 0, ref, threshold)
    pp = P.arbitrage_to_reference(b2, vdk, vdq, 0, ref, threshold)
    assert close(pk, pp, atol=1e-9 * _scales(vs, vdq)[1])
    assert K.venue_spot(a2, 0) >= vs[0, K_layout.FLOOR] * (1 - 1e-12)


@SETTINGS
@given(st.floats(1.0, 1e6), prices, prices)
def test_cpmm_recentre_parity(x, p0, p1):
    y = x * p0
    xk, yk = K_cpmm.cpmm_recentre(x, y, p1)
    xp, yp = P_cpmm.cpmm_recentre(x, y, p1)
    assert close(xk, xp) and close(yk, yp)
    assert close(yk / xk, p1) and close(xk * yk, x * y)
