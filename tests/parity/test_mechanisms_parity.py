"""Parity: the compiled mechanism helpers (mechanisms/kernel.py, mechanisms/hooks.py and each
mechanism's kernel.py) against their naive plain-Python twins (the twin.py next to each), on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.mechanisms import hooks as HK
from liqcascade.mechanisms import kernel as KM
from liqcascade.mechanisms import twin as PY
from liqcascade.mechanisms.buffer_pool import kernel as BP
from liqcascade.mechanisms.buffer_pool import twin as BP_PY
from liqcascade.mechanisms.circuit_breaker import kernel as CB
from liqcascade.mechanisms.circuit_breaker import twin as CB_PY
from liqcascade.mechanisms.dutch_auction import kernel as DA
from liqcascade.mechanisms.dutch_auction import twin as DA_PY
from liqcascade.mechanisms.dynamic_margin import kernel as DM
from liqcascade.mechanisms.dynamic_margin import twin as DM_PY
from liqcascade.mechanisms.insurance_fund import kernel as IF
from liqcascade.mechanisms.insurance_fund import twin as IF_PY
from liqcascade.mechanisms.random_execution import kernel as RE
from liqcascade.mechanisms.random_execution import twin as RE_PY
from liqcascade.mechanisms.throttle import kernel as TH
from liqcascade.mechanisms.throttle import twin as TH_PY
from liqcascade.mechanisms.twap_exit import kernel as TW
from liqcascade.mechanisms.twap_exit import twin as TW_PY
from liqcascade.mechanisms.volatility_bonus import kernel as VB
from liqcascade.mechanisms.volatility_bonus import twin as VB_PY
from liqcascade.venues.pack import make_venue_state

finite = st.floats(0.0, 10.0, allow_nan=False)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=200)
@given(seed=st.integers(0, 2**52), path=st.integers(0, 10**6), pos=st.integers(0, 10**8), window=st.integers(0, 50))
def test_random_delay(seed, path, pos, window):
    d = RE.random_delay(seed, path, pos, window)
    assert d == RE_PY.random_delay(seed, path, pos, window)
    assert 0 <= d <= window


def test_random_delay_is_roughly_uniform():
    d = np.array([RE.random_delay(7, 0, i, 9) for i in range(20000)])
    counts = np.bincount(d, minlength=10)
    assert counts.min() > 0.8 * 2000 and counts.max() < 1.2 * 2000


@st.composite
def price_history(draw):
    n = draw(st.integers(2, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vol = draw(st.sampled_from([0.0, 0.001, 0.02, 0.2]))
    x = 100.0 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    x[0] = 100.0
    return x


@settings(deadline=None, max_examples=100)
@given(x=price_history(), window=st.integers(1, 70), dt=st.sampled_from([1.0, 60.0, 3600.0]), data=st.data())
def test_realized_vol_and_window_fall(x, window, dt, data):
    t = data.draw(st.integers(0, x.shape[0] - 1))
    ph = np.zeros((x.shape[0], 2, 1))
    ph[:, 1, 0] = x
    _close(KM.realized_vol(ph, t, 1, 0, window, dt), PY.realized_vol(list(x), t, window, dt))
    _close(CB.window_fall(ph, t, 1, 0, window), CB_PY.window_fall(list(x), t, window))


@settings(deadline=None, max_examples=100)
@given(falls=st.lists(st.floats(0.0, 0.5), min_size=1, max_size=60), thr=st.floats(0.0, 0.4),
       pause=st.integers(1, 10), grace=st.integers(0, 5))
def test_breaker(falls, thr, pause, grace):
    state = np.zeros((2, 2), np.int64)
    br = CB_PY.Breaker()
    for t, f in enumerate(falls, start=1):
        assert CB.breaker_step(state, 1, t, f, thr, pause, grace) == br.step(t, f, thr, pause, grace)


@settings(deadline=None, max_examples=100)
@given(amounts=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=40), window=st.integers(1, 8))
def test_rolling_window(amounts, window):
    ring = np.zeros(window)
    used = 0.0
    rs = PY.RollingSum(window)
    for t, x in enumerate(amounts, start=1):
        used = KM.ring_advance(ring, used, t)
        _close(used, rs.used(t))
        ring[t % window] += x
        used += x
        rs.add(t, x)
        _close(used, rs.used(t))


@settings(deadline=None, max_examples=100)
@given(seize=finite, repay=finite, bad=finite, fee=finite, closed=st.booleans(), s=st.floats(-0.5, 1.5),
       room=st.floats(-10, 10), amount=st.floats(0.001, 10))
def test_scale_and_room(seize, repay, bad, fee, closed, s, room, amount):
    assert TH.scale_liquidation(seize, repay, bad, fee, closed, s) == TH_PY.scale_liquidation(seize, repay, bad, fee, closed, s)
    _close(TH.room_share(room, amount), TH_PY.room_share(room, amount))


@settings(deadline=None, max_examples=200)
@given(start=st.floats(0, 0.1), extra=st.floats(0, 0.2), steps=st.integers(0, 50), age=st.integers(-2, 80),
       vol=st.floats(0, 5), k=st.floats(0, 2), vref=st.floats(0, 2), mx=st.floats(0, 0.3))
def test_bonus_helpers(start, extra, steps, age, vol, k, vref, mx):
    _close(DA.dutch_bonus(start, start + extra, steps, age), DA_PY.dutch_bonus(start, start + extra, steps, age))
    b = VB.vol_fee_bonus(start, vol, k, vref, mx)
    _close(b, VB_PY.vol_fee_bonus(start, vol, k, vref, mx))
    assert b >= start


@settings(deadline=None, max_examples=200)
@given(vol=st.floats(0, 5), vref=st.floats(0, 2), kv=st.floats(0, 1), g=st.floats(0.5, 20), kc=st.floats(0, 0.1),
       lost=st.floats(-0.5, 1), kh=st.floats(0, 1), buf=st.floats(0, 0.5), mn=st.floats(0.01, 1))
def test_lt_multiplier(vol, vref, kv, g, kc, lost, kh, buf, mn):
    m = DM.lt_multiplier(vol, vref, kv, g, kc, lost, kh, buf, mn)
    _close(m, DM_PY.lt_multiplier(vol, vref, kv, g, kc, lost, kh, buf, mn))
    assert mn <= m <= 1.0 or m == mn


@settings(deadline=None, max_examples=60)
@given(pushes=st.lists(st.tuples(st.integers(0, 1), st.floats(0, 10)), min_size=1, max_size=30),
       slices=st.integers(1, 6))
def test_twap_ring(pushes, slices):
    ring = np.zeros((slices, 2))
    tw = TW_PY.TwapRing()
    for t, (a, q) in enumerate(pushes, start=1):
        TW.twap_push(ring, t, a, q, slices)
        tw.push(t, a, q, slices)
        for b in range(2):
            _close(TW.twap_pop(ring, t, b), tw.pop(t, b))
    for b in range(2):
        _close(TW.twap_left(ring, b), tw.left(b))


@settings(deadline=None, max_examples=100)
@given(q=st.floats(0, 100), price=st.floats(0.1, 100), cap=st.floats(0, 1000), disc=st.floats(0, 0.5),
       fund=st.floats(0, 100), bad=st.floats(-1, 200))
def test_pool_and_fund(q, price, cap, disc, fund, bad):
    a = BP.pool_buy(q, q * price, cap, disc)
    b = BP_PY.pool_buy(q, q * price, cap, disc)
    _close(a, b)
    assert a[1] <= cap * (1 + 1e-12)
    _close(IF.fund_absorb(fund, bad), IF_PY.fund_absorb(fund, bad))


@settings(deadline=None, max_examples=100)
@given(mask=st.lists(st.integers(0, 1), min_size=4, max_size=4), flags=st.lists(st.booleans(), min_size=4, max_size=4),
       t=st.integers(0, 50), seize=finite, repaid=finite, bad=finite, fee=finite, fund=finite,
       share=st.floats(0, 1))
def test_account_liquidation(mask, flags, t, seize, repaid, bad, fee, fund, share):
    mk = np.zeros((KM.NMECH, 2), np.int64)
    for row, m in zip((KM.MK_TH, KM.MK_BP, KM.MK_TW, KM.MK_IF), mask):
        mk[row, 1] = m
    arrays = lambda: (np.zeros(7), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2))  # noqa: E731
    ak, ap = arrays(), arrays()
    rk = HK.account_liquidation(mk, 1, 1, t, seize, repaid, bad, fee, seize * 3.0, *flags, share, *ak, fund)
    rp = PY.account_liquidation(mk, 1, 1, t, seize, repaid, bad, fee, seize * 3.0, *flags, share, *ap, fund)
    _close(rk, rp)
    for x, y in zip(ak, ap):
        _close(x, y)
    _, _, drawn, soc = rk
    assert drawn + soc == pytest.approx(max(bad, 0.0), rel=1e-12, abs=1e-12)  # nothing lost


@settings(deadline=None, max_examples=100)
@given(data=st.data(), n=st.integers(1, 4))
def test_multi_hf(data, n):
    cs = np.array(data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    ds = np.array(data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    assets = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int64)
    prices = np.array([1.0, 50.0, 2000.0])
    lt = np.array([0.0, 0.8, 0.86])
    sc = np.array([1.0, 0.9, 0.7])
    _close(KM.multi_hf(cs, ds, assets, prices, lt, sc), PY.multi_hf(cs, ds, assets, prices, lt, sc))


@settings(deadline=None, max_examples=50)
@given(slip=st.floats(0.001, 0.5), reserve=st.floats(10, 1e5), depth=st.floats(1e3, 1e7))
def test_depth_units(slip, reserve, depth):
    vs, vdk, vdq = make_venue_state([
        {"kind": "cpmm", "asset": 0, "fee": 0.003, "reserve_asset": reserve, "reserve_quote": reserve * 100.0},
        {"kind": "book", "asset": 0, "fee": 0.0, "mid": 100.0, "depth": [(0.01, depth), (0.05, 4 * depth)],
         "half_life_steps": 0.0},
    ])
    av_ptr = np.array([0, 2], np.int64)
    av_idx = np.array([0, 1], np.int64)
    got = KM.depth_units(vs, vdk, vdq, av_ptr, av_idx, 0, slip)
    want = PY.depth_units([(vs, vdk, vdq, 0), (vs, vdk, vdq, 1)], slip)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    for target in (90.0, 100.0 * (1 - slip), 100.0, 120.0):  # below, at the band, at and above the spots
        got = KM.depth_units_to(vs, vdk, vdq, av_ptr, av_idx, 0, target)
        want = PY.depth_units_to([(vs, vdk, vdq, 0), (vs, vdk, vdq, 1)], target)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@settings(deadline=None, max_examples=100)
@given(targets=st.lists(st.floats(0.3, 1.0), min_size=1, max_size=40),
       ramp=st.one_of(st.just(0.0), st.floats(1.0, 30.0)))  # the engine ramps over at least one step
def test_ramp_follows_euler_ltv_ramp(targets, ramp):
    """The dynamic margin's ramp against the twin written from Euler v2's LTVConfig: linear from
    the value in force to a lower target over the ramp, a higher target at once."""
    rs = np.array([1.0, 1.0, 0.0])
    tw = DM_PY.Ramp()
    prev = 1.0
    for t, target in enumerate(targets, start=1):
        v = DM.ramp_set(rs, float(t), target, ramp)
        _close(v, tw.set(float(t), target, ramp))
        assert min(target, prev) - 1e-12 <= v <= max(target, prev) + 1e-12  # never overshoots
        prev = v
    for t in range(len(targets) + 1, len(targets) + 40):
        _close(DM.ramp_value(rs[0], rs[1], rs[2], float(t), ramp), tw.value(float(t), ramp))


@settings(deadline=None, max_examples=100)
@given(tier=st.floats(0.1, 1.0), t=st.integers(0, 100), ramp=st.floats(0.0, 60.0))
def test_tier_in_force(tier, t, ramp):
    _close(DM.tier_in_force(tier, t, ramp), DM_PY.tier_in_force(tier, t, ramp))
