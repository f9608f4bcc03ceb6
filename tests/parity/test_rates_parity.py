"""Parity: the compiled rate models against their naive twins on generated sequences of pool
actions and time steps, plus the accounting each model must keep (solvency of the Aave reserve,
Comet's reserves moving only by the interest spread, Maker's accumulator composing)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.rates.aave_v3 import kernel as A
from liqcascade.rates.aave_v3 import twin as AT
from liqcascade.rates.aave_v3.model import AaveV3Rates
from liqcascade.rates.comet import kernel as C
from liqcascade.rates.comet import twin as CT
from liqcascade.rates.comet.model import CometRates
from liqcascade.rates.fixed import kernel as X
from liqcascade.rates.fixed import twin as XT
from liqcascade.rates.liquity import kernel as L
from liqcascade.rates.liquity import twin as LT

SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = st.lists(st.tuples(st.sampled_from(["supply", "withdraw", "borrow", "repay", "accrue"]),
                             st.floats(0.0, 1.0), st.floats(1.0, 86_400.0 * 30)), min_size=1, max_size=25)


@st.composite
def aave_params(draw):
    opt = draw(st.floats(0.01, 0.99))
    s1 = draw(st.floats(0.0, 0.2))
    s2 = draw(st.floats(s1, 3.0))
    return AaveV3Rates(optimal_usage=opt, base=draw(st.floats(0.0, 0.05)), slope1=s1, slope2=s2,
                       reserve_factor=draw(st.sampled_from([0.0, 0.1, 0.2, 1.0])))


@SETTINGS
@given(aave_params(), st.floats(1e3, 1e9), st.floats(0.0, 1.0), ACTIONS)
def test_aave_parity_and_solvency(model, supplied, use, actions):
    par = model.pack()
    s = model.initial_state(supplied, supplied * use)
    t = AT.Reserve(par, supplied, supplied * use)
    for kind, frac, dt in actions:
        if kind == "accrue":
            g = A.aave_accrue(s, par, dt, True)
            assert g == pytest.approx(t.accrue(dt), rel=1e-14)
        else:
            scale = {"supply": supplied, "withdraw": A.aave_total_supplied(s), "borrow": s[A.AS_AVAILABLE] * 1.2,
                     "repay": A.aave_total_debt(s) * 1.2}[kind]
            amt = frac * scale
            got = getattr(A, f"aave_{kind}")(s, par, amt)
            want = getattr(t, kind)(amt)
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9)
        assert s[A.AS_LIQ_INDEX] == pytest.approx(t.li, rel=1e-13)
        assert s[A.AS_VAR_INDEX] == pytest.approx(t.vi, rel=1e-13)
        assert s[A.AS_VAR_RATE] == pytest.approx(t.vr, rel=1e-11, abs=1e-15)
        assert s[A.AS_LIQ_RATE] == pytest.approx(t.lr, rel=1e-11, abs=1e-15)
        assert s[A.AS_AVAILABLE] == pytest.approx(t.available, rel=1e-11, abs=1e-6)
        # the reserve never owes more than it holds: available + debt covers every claim
        total = s[A.AS_AVAILABLE] + A.aave_total_debt(s)
        assert A.aave_solvency_gap(s) >= -1e-10 * max(total, 1.0)
        assert s[A.AS_AVAILABLE] >= 0 and A.aave_utilization(s) <= 1.0 + 1e-12


@st.composite
def comet_params(draw):
    k = draw(st.floats(0.05, 0.95))
    return CometRates(supply_kink=k, supply_slope_low=draw(st.floats(0.0, 0.1)), supply_slope_high=draw(st.floats(0.0, 2.0)),
                      supply_base=0.0, borrow_kink=k, borrow_slope_low=draw(st.floats(0.0, 0.1)),
                      borrow_slope_high=draw(st.floats(0.0, 2.0)), borrow_base=draw(st.floats(0.0, 0.05)))


@SETTINGS
@given(comet_params(), st.floats(1e3, 1e9), st.floats(0.0, 1.0), ACTIONS)
def test_comet_parity_and_reserves(model, supplied, use, actions):
    par = model.pack()
    s = model.initial_state(supplied, supplied * use)
    t = CT.Market(par, supplied, supplied * use)
    reserves = C.comet_reserves(s)
    for kind, frac, dt in actions:
        if kind == "accrue":
            u = C.comet_utilization(s)
            sr, br = C.comet_supply_rate(u, par), C.comet_borrow_rate(u, par)
            spread = C.comet_total_borrow(s) * br * dt - C.comet_total_supply(s) * sr * dt
            g = C.comet_accrue(s, par, dt)
            assert g == pytest.approx(t.accrue(dt), rel=1e-14)
            reserves += spread  # reserves move by the interest spread only
        else:
            scale = {"supply": supplied, "withdraw": C.comet_total_supply(s), "borrow": s[C.CS_CASH] * 1.2,
                     "repay": C.comet_total_borrow(s) * 1.2}[kind]
            amt = frac * scale
            kfun = getattr(C, f"comet_{kind}")
            assert kfun(s, amt) == pytest.approx(getattr(t, kind)(amt), rel=1e-12, abs=1e-9)
        assert C.comet_reserves(s) == pytest.approx(reserves, rel=1e-9, abs=1e-7 * supplied)
        assert s[C.CS_SUPPLY_INDEX] == pytest.approx(t.si, rel=1e-13)
        assert s[C.CS_BORROW_INDEX] == pytest.approx(t.bi, rel=1e-13)
        assert s[C.CS_CASH] == pytest.approx(t.cash, rel=1e-11, abs=1e-6)
        assert s[C.CS_CASH] >= 0.0


@SETTINGS
@given(st.floats(0.0, 2.0), st.lists(st.floats(0.0, 86_400.0 * 400), min_size=1, max_size=8))
def test_fixed_rate_parity_and_composition(annual, dts):
    r = X.per_second_rate(annual)
    assert r == pytest.approx(XT.per_second_rate(annual), rel=1e-14, abs=1e-30)
    par = np.array([r, 0.0])
    s = np.array([1.0, 0.0])
    t = XT.Ilk(r)
    for dt in dts:
        assert X.fixed_drip(s, par, dt) == pytest.approx(t.drip(dt), rel=1e-13)
    assert s[X.FS_RATE] == pytest.approx(t.rate, rel=1e-12)
    # drips compose: many small ones = one long one; fees = accumulator growth
    one = np.array([1.0, 0.0])
    X.fixed_drip(one, par, sum(dts))
    assert s[X.FS_RATE] == pytest.approx(one[X.FS_RATE], rel=1e-12)
    assert s[X.FS_FEES] == pytest.approx(s[X.FS_RATE] - 1.0, rel=1e-12, abs=1e-15)


@SETTINGS
@given(st.floats(0.0, 1.0),
       st.lists(st.tuples(st.booleans(), st.floats(0.0, 86_400.0 * 3), st.floats(0.0, 0.05)), min_size=1, max_size=10))
def test_liquity_parity(base, events):
    s = np.array([base, 0.0, 0.0])
    t = LT.Fees(base, 0.0)
    now = 0.0
    for redeem, gap, size in events:
        now += gap
        if redeem:
            got = L.liquity_redeem(s, now, size * 1_000.0, 2_000.0, 2_000_000.0)
            want = t.redeem(now, size * 1_000.0, 2_000.0, 2_000_000.0)
        else:
            got = L.liquity_borrow_fee(s, now, 10_000.0)
            want = t.borrow_fee(now, 10_000.0)
        assert got == pytest.approx(want, rel=1e-11, abs=1e-15)
        assert s[L.LS_BASE_RATE] == pytest.approx(t.base, rel=1e-11, abs=1e-18)
        assert s[L.LS_LAST_OP] == t.last
        assert 0.0 <= s[L.LS_BASE_RATE] <= 1.0
