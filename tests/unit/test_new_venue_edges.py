"""Bad or extreme trade sizes on the StableSwap and concentrated-liquidity kernels: NaN, zero and
negative amounts trade nothing; infinite or astronomically large ones sell what the pool can take
and report the rest as unsold; nothing returns NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.venues.concentrated import kernel as C
from liqcascade.venues.concentrated import snapshot as SN
from liqcascade.venues.stableswap import kernel as S

BAL = np.array([1e6, 1e6])
RATES = np.ones(2)
PAR = np.array([100.0, 0.0004, 2.0, 0.5])


@pytest.mark.parametrize("dx", [math.nan, -1.0, 0.0, -math.inf])
def test_stableswap_refuses_non_positive_amounts(dx):
    b = BAL.copy()
    assert S.ss_exchange(b, RATES, PAR, 0, 1, dx) == (0.0, 0.0, 0.0)
    assert list(b) == list(BAL)


@pytest.mark.parametrize("dx", [math.inf, 1e300, 1e30])
def test_stableswap_huge_sales_stop_at_the_floor(dx):
    cap = S.ss_capacity(BAL, RATES, PAR, 0, 1)
    b = BAL.copy()
    out, admin, unsold = S.ss_exchange(b, RATES, PAR, 0, 1, dx)
    assert out > 0.99 * BAL[1] * (1 - 0.0008) and unsold == pytest.approx(dx - cap, rel=1e-12)
    assert np.all(np.isfinite(b)) and np.all(b > 0)
    assert 0 < S.ss_spot(b, RATES, PAR, 0, 1) < 1e-5


def _cl():
    snap = SN.Snapshot(np.array([-600, -1200]), np.array([600, -600]), np.array([1e18, 1e18]))
    return SN.build_state(snap, 1.0, 0.003)[:3]


@pytest.mark.parametrize("dq", [math.nan, -1.0, 0.0, -math.inf])
def test_cl_refuses_non_positive_amounts(dq):
    cs, tk, net = _cl()
    c = cs.copy()
    assert C.cl_sell(c, tk, net, dq) == (0.0, 0.0) and C.cl_buy(c, tk, net, dq) == (0.0, 0.0)
    assert list(c) == list(cs)


@pytest.mark.parametrize("dq", [math.inf, 1e300])
def test_cl_huge_sales_empty_the_bids_and_report_the_rest(dq):
    cs, tk, net = _cl()
    cap = C.cl_sell_to_price(cs, tk, net, 0.0)
    c = cs.copy()
    out, unsold = C.cl_sell(c, tk, net, dq)
    assert out == pytest.approx(C.cl_reserves(cs, tk, net)[1], rel=1e-12)
    assert unsold == dq - cap or unsold == math.inf
    assert c[C.CS_L] == 0.0 and math.isfinite(C.cl_spot(c))
    for p in (math.nan, -1.0):
        assert C.cl_sell_to_price(cs, tk, net, p) in (0.0, cap)
        assert S.ss_sell_to_price(BAL, RATES, PAR, 0, 1, p) in (0.0, S.ss_capacity(BAL, RATES, PAR, 0, 1))
