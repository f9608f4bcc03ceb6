"""Parity: the compiled concentrated-liquidity kernel (tick-by-tick swap steps) against its naive
twin (bisection on the price over the sum of the positions' token amounts), plus the pool's
conservation rules, on generated pools and trades."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.venues.concentrated import kernel as K
from liqcascade.venues.concentrated import snapshot as S
from liqcascade.venues.concentrated import twin as T

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pools(draw):
    spacing = draw(st.sampled_from([1, 10, 60, 200]))
    n = draw(st.integers(1, 12))
    ranges = []
    for _ in range(n):
        a = draw(st.integers(-400, 400)) * spacing
        w = draw(st.integers(1, 200)) * spacing
        liq = 10 ** draw(st.floats(0.0, 6.0))
        ranges.append((a, a + w, liq))
    lo = min(r[0] for r in ranges)
    hi = max(r[1] for r in ranges)
    tick = draw(st.integers(lo - 5 * spacing, hi + 5 * spacing))
    price = K.sqrt_at_tick(tick + draw(st.floats(0.0, 0.999))) ** 2
    fee = draw(st.sampled_from([0.0, 0.0005, 0.003, 0.01]))
    asset0 = draw(st.booleans())
    snap = S.Snapshot(np.array([r[0] for r in ranges], np.int64), np.array([r[1] for r in ranges], np.int64),
                      np.array([r[2] for r in ranges]))
    cs, tk_sqrt, tk_net, _ = S.build_state(snap, price, fee, asset_is_token0=asset0)
    twin = T.Pool([(K.sqrt_at_tick(a), K.sqrt_at_tick(b), liq) for a, b, liq in ranges], math.sqrt(price), fee, asset0)
    return cs, tk_sqrt, tk_net, twin


def _scale(cs, tk_sqrt, tk_net, sell: bool):
    """A typical trade size: the side's capacity (or 1 if that side is empty)."""
    if sell:
        cap = K.cl_sell_to_price(cs, tk_sqrt, tk_net, 0.0)
    else:
        cap = K.cl_buy_to_price(cs, tk_sqrt, tk_net, math.inf)
    return cap if cap > 0 else 1.0


@SETTINGS
@given(pools(), st.booleans(), st.floats(1e-9, 1.5))
def test_swap_parity_and_conservation(pool, sell, frac):
    cs, tk_sqrt, tk_net, twin = pool
    amount = frac * _scale(cs, tk_sqrt, tk_net, sell)
    r0 = K.cl_reserves(cs, tk_sqrt, tk_net)
    assert r0[0] == pytest.approx(twin.reserves()[0], rel=1e-11, abs=1e-9)
    assert r0[1] == pytest.approx(twin.reserves()[1], rel=1e-11, abs=1e-9)
    spot0 = K.cl_spot(cs)
    zero_for_one = bool(cs[K.CS_ASSET0]) == sell
    c = cs.copy()
    a_in, out, fee, unsold = K.cl_swap(c, tk_sqrt, tk_net, zero_for_one, amount, 0.0 if zero_for_one else math.inf, True)
    t_in, t_out, t_fee, t_unsold = twin.swap(zero_for_one, amount)
    assert out == pytest.approx(t_out, rel=1e-9, abs=1e-12 * amount)
    assert a_in == pytest.approx(t_in, rel=1e-9)
    assert unsold == pytest.approx(t_unsold, rel=1e-7, abs=1e-9 * amount)
    assert a_in + unsold == pytest.approx(amount, rel=1e-12)
    # conservation: the pool's ranges gain the input net of fee and lose the output; the fee is
    # booked apart, in the input token
    r1 = K.cl_reserves(c, tk_sqrt, tk_net)
    i, o = (0, 1) if zero_for_one else (1, 0)
    # (reserves come from √P: each range's amount carries an absolute rounding ~ε L (1/√P + √P))
    sp = c[K.CS_SQRT]
    tol = 1e-14 * (np.abs(tk_net).sum() * (1 / sp + sp) + r0[0] + r0[1] + r1[0] + r1[1])
    assert r1[i] - r0[i] == pytest.approx(a_in - fee, rel=1e-9, abs=tol)
    assert r0[o] - r1[o] == pytest.approx(out, rel=1e-9, abs=tol)
    assert c[K.CS_FEES0 + i] == fee and c[K.CS_FEES0 + o] == 0.0
    assert fee == pytest.approx((a_in) * cs[K.CS_FEE], rel=1e-9, abs=1e-12 * amount)
    assert c[K.CS_L] >= 0.0
    # the price moves against the trade, never with it
    if sell:
        assert K.cl_spot(c) <= spot0 * (1 + 1e-15)
        assert out <= (a_in - fee) * spot0 * (1 + 1e-12)
    else:
        assert K.cl_spot(c) >= spot0 * (1 - 1e-15)
        assert out <= (a_in - fee) / spot0 * (1 + 1e-12)
    assert all(math.isfinite(v) for v in (a_in, out, fee, unsold, K.cl_spot(c)))


@SETTINGS
@given(pools(), st.floats(1e-4, 0.9))
def test_to_price_parity(pool, move):
    cs, tk_sqrt, tk_net, twin = pool
    s0 = K.cl_spot(cs)
    dq = K.cl_sell_to_price(cs, tk_sqrt, tk_net, s0 * (1 - move))
    assert dq == pytest.approx(twin.sell_to_price(s0 * (1 - move)), rel=1e-9, abs=1e-12)
    dy = K.cl_buy_to_price(cs, tk_sqrt, tk_net, s0 * (1 + move))
    assert dy == pytest.approx(twin.buy_to_price(s0 * (1 + move)), rel=1e-9, abs=1e-12)
    if dq > 0:
        c = cs.copy()
        _, unsold = K.cl_sell(c, tk_sqrt, tk_net, dq)
        assert unsold == 0.0
        # the whole bid side (to rounding): the price ends at the last range's edge
        capacity_hit = dq >= K.cl_sell_to_price(cs, tk_sqrt, tk_net, 0.0) * (1 - 1e-12)
        if capacity_hit:
            edge = tk_sqrt[0] ** 2 if cs[K.CS_ASSET0] else 1.0 / tk_sqrt[-1] ** 2
            assert K.cl_spot(c) == pytest.approx(edge, rel=1e-9)
        else:
            # the target is reached, or it lies in an empty gap: any price there costs the same
            # and the sale stops at the gap's near edge
            target = s0 * (1 - move)
            assert K.cl_spot(c) >= target * (1 - 1e-11)
            if K.cl_spot(c) > target * (1 + 1e-11):  # nothing left to pay to get there
                assert K.cl_sell_to_price(c, tk_sqrt, tk_net, target) <= 1e-12 * dq


@SETTINGS
@given(pools(), st.lists(st.tuples(st.booleans(), st.floats(1e-6, 0.4)), min_size=2, max_size=8))
def test_sequences_of_trades_stay_in_parity(pool, trades):
    cs, tk_sqrt, tk_net, twin = pool
    for sell, frac in trades:
        amount = frac * _scale(cs, tk_sqrt, tk_net, sell)
        if sell:
            out, unsold = K.cl_sell(cs, tk_sqrt, tk_net, amount)
            t_out, t_unsold = twin.sell(amount)
        else:
            out, unsold = K.cl_buy(cs, tk_sqrt, tk_net, amount)
            t_out, t_unsold = twin.buy(amount)
        assert out == pytest.approx(t_out, rel=1e-8, abs=1e-12 * amount)
        assert unsold == pytest.approx(t_unsold, rel=1e-6, abs=1e-9 * amount)
    r = K.cl_reserves(cs, tk_sqrt, tk_net)
    tr = twin.reserves()
    assert r[0] == pytest.approx(tr[0], rel=1e-8, abs=1e-9 * max(tr))
    assert r[1] == pytest.approx(tr[1], rel=1e-8, abs=1e-9 * max(tr))
