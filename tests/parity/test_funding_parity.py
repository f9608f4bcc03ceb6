"""Parity: the compiled funding accumulators (closed-form weight sums, interval splitting) against
the naive twins (every 5-second sample kept in a list), on generated premium paths."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.funding.binance import kernel as B
from liqcascade.funding.binance import twin as BT
from liqcascade.funding.binance.model import BinanceFunding
from liqcascade.funding.hyperliquid import kernel as H
from liqcascade.funding.hyperliquid import twin as HT
from liqcascade.funding.hyperliquid.model import HyperliquidFunding

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])

PATHS = st.lists(st.tuples(st.integers(1, 720).map(lambda k: 5.0 * k), st.floats(-0.01, 0.01)), min_size=1, max_size=60)


@SETTINGS
@given(PATHS, st.sampled_from([1, 4, 8]), st.integers(0, 5_000).map(lambda k: 5.0 * k))
def test_binance_parity(path, hours, start):
    model = BinanceFunding(interval_hours=hours)
    par = model.pack()
    start = start % (hours * 3600.0)
    s = BinanceFunding.initial_state(start)
    cap, floor = model.caps()
    t = BT.Funding(interval=hours * 3600.0, cap=cap, floor=floor, elapsed=start)
    total_k = total_t = 0.0
    for dt, p in path:
        a = B.binance_step(s, par, dt, p)
        b = t.step(dt, p)
        assert a == pytest.approx(b, rel=1e-11, abs=1e-16)
        total_k += a
        total_t += b
        assert abs(a) <= cap * (dt // (hours * 3600.0) + 1) + 1e-15  # each interval's rate is capped
    assert total_k == pytest.approx(total_t, rel=1e-11, abs=1e-16)
    assert s[B.BS_LAST_RATE] == pytest.approx(t.last_rate, rel=1e-11, abs=1e-16)


@SETTINGS
@given(PATHS, st.integers(0, 700).map(lambda k: 5.0 * k))
def test_hyperliquid_parity(path, start):
    par = HyperliquidFunding().pack()
    s = HyperliquidFunding.initial_state(start)
    t = HT.Funding(elapsed=start)
    for dt, p in path:
        a = H.hl_step(s, par, dt, p)
        b = t.step(dt, p)
        assert a == pytest.approx(b, rel=1e-11, abs=1e-16)
        assert abs(a) <= 0.04 * (dt // 3600 + 1) + 1e-15


@SETTINGS
@given(st.floats(-0.05, 0.05), st.sampled_from([1, 4, 8]))
def test_constant_premium_pays_the_formula_rate(p, hours):
    par = BinanceFunding(interval_hours=hours).pack()
    s = BinanceFunding.initial_state()
    total = sum(B.binance_step(s, par, 300.0, p) for _ in range(int(hours * 12)))
    assert total == pytest.approx(B.funding_rate(p, par), rel=1e-12, abs=1e-18)
