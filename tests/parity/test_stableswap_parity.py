"""Parity: the compiled StableSwap kernel against its naive twin (bisection on the invariant),
plus the pool's conservation rules on generated pools and trades."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.venues.stableswap import kernel as K
from liqcascade.venues.stableswap import twin as T

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pools(draw):
    n = draw(st.integers(2, 4))
    base = draw(st.floats(1e2, 1e9))
    bal = [base * 10 ** draw(st.floats(-2.0, 2.0)) for _ in range(n)]
    rates = [draw(st.sampled_from([1.0, 1.0, 1.07, 0.5])) for _ in range(n)]
    amp = draw(st.sampled_from([1.0, 10.0, 100.0, 2000.0, 20000.0]))
    fee = draw(st.sampled_from([0.0, 0.0001, 0.0004, 0.003]))
    offpeg = draw(st.sampled_from([1.0, 2.0, 10.0]))
    admin = draw(st.sampled_from([0.0, 0.5]))
    i, j = draw(st.permutations(range(n)))[:2]
    return np.array(bal), np.array(rates), np.array([amp, fee, offpeg, admin]), i, j


@SETTINGS
@given(pools(), st.floats(1e-7, 3.0))
def test_exchange_parity_and_conservation(pool, frac):
    bal, rates, par, i, j = pool
    dx = frac * bal[i]
    tw = T.Pool(bal, rates, *par)
    d0 = K.ss_invariant(bal, rates, par)
    assert d0 == pytest.approx(tw.D(), rel=1e-12)
    assert K.ss_spot(bal, rates, par, i, j) == pytest.approx(tw.spot(i, j), rel=1e-11)

    b = bal.copy()
    out, admin, unsold = K.ss_exchange(b, rates, par, i, j, dx)
    out_t, admin_t, unsold_t = tw.exchange(i, j, dx)
    assert out == pytest.approx(out_t, rel=1e-9)
    assert admin == pytest.approx(admin_t, rel=1e-8, abs=1e-12 * out)
    assert unsold == pytest.approx(unsold_t, rel=1e-9, abs=1e-12 * dx)
    # conservation: coin i in = taken, coin j out = paid + admin share of the fee
    assert b[i] - bal[i] == pytest.approx(dx - unsold, rel=1e-12, abs=4e-16 * b[i])
    assert bal[j] - b[j] == pytest.approx(out + admin, rel=1e-12, abs=4e-16 * bal[j])
    for k in range(len(b)):
        if k not in (i, j):
            assert b[k] == bal[k]
    assert np.all(b > 0)
    # the LPs' share of the fee stays in the pool: D does not fall (up to rounding)
    # (a balance left at 1e-6 of its size carries a rounding of ~1e-10 of itself into D)
    assert K.ss_invariant(b, rates, par) >= d0 * (1 - 1e-10)
    # no free lunch: every unit is sold below the pre-trade spot
    assert out <= (dx - unsold) * K.ss_spot(bal, rates, par, i, j) * (1 + 1e-12)


@SETTINGS
@given(pools(), st.floats(1e-4, 0.5))
def test_sell_and_buy_to_price_parity(pool, move):
    bal, rates, par, i, j = pool
    tw = T.Pool(bal, rates, *par)
    s0 = K.ss_spot(bal, rates, par, i, j)
    dq = K.ss_sell_to_price(bal, rates, par, i, j, s0 * (1 - move))
    assert dq == pytest.approx(tw.sell_to_price(i, j, s0 * (1 - move)), rel=1e-7)
    dy = K.ss_buy_to_price(bal, rates, par, i, j, s0 * (1 + move))
    assert dy == pytest.approx(tw.buy_to_price(i, j, s0 * (1 + move)), rel=1e-7)


@SETTINGS
@given(pools(), st.floats(1e-5, 0.9))
def test_round_trip_never_profits(pool, frac):
    """Sell coin i for j, then sell everything received back: never more coin i than sold."""
    bal, rates, par, i, j = pool
    b = bal.copy()
    dx = frac * bal[i]
    out, _, unsold = K.ss_exchange(b, rates, par, i, j, dx)
    back, _, unsold2 = K.ss_exchange(b, rates, par, j, i, out)
    assert unsold2 == 0.0
    assert back <= (dx - unsold) * (1 + 1e-11)


@SETTINGS
@given(pools(), st.lists(st.floats(1e-4, 0.3), min_size=2, max_size=6))
def test_spot_falls_with_every_sale(pool, fracs):
    bal, rates, par, i, j = pool
    b = bal.copy()
    last = K.ss_spot(b, rates, par, i, j)
    for f in fracs:
        K.ss_exchange(b, rates, par, i, j, f * bal[i])
        s = K.ss_spot(b, rates, par, i, j)
        assert s <= last * (1 + 1e-12)
        last = s
