"""Aave v3 liquidation sizing (protocol-mechanics.md §1.3–1.6), kernel and plain-Python twin."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.protocols.aave import kernel as K
from liqcascade.protocols.aave.twin import liquidate_pair_py


def rules(rule, cf=0.5, hf_thr=0.95, min_base=2000.0, min_left=1000.0):
    r = np.zeros(K.NRULE)
    r[K.R_RULE] = rule
    r[K.R_CF] = cf
    r[K.R_HF_CF] = hf_thr
    r[K.R_MIN_BASE] = min_base
    r[K.R_MIN_LEFTOVER] = min_left
    return r


V32 = rules(K.RULE_V32)
V33 = rules(K.RULE_V33)


def both(*args):
    """Kernel result, after checking that the twin gives the same one."""
    k = K.liquidate_pair(*args)
    p = liquidate_pair_py(*args)
    np.testing.assert_allclose(k[:4], p[:4], rtol=1e-14, atol=0.0)
    assert bool(k[4]) == bool(p[4])
    return k


def fee_of(seized, bonus, pfee):
    return (seized - seized / (1.0 + bonus)) * pfee


# ---------------------------------------------------------------------------------------------
# close factor


@pytest.mark.parametrize("hf, cf", [(0.99, 0.5), (0.9501, 0.5), (0.95, 1.0), (0.9499, 1.0), (0.6, 1.0)])
def test_close_factor_v32(hf, cf):
    assert K.close_factor(V32, hf, 1e6, 1e6) == cf
    # v3.2 ignores position size
    assert K.close_factor(V32, hf, 10.0, 10.0) == cf


@pytest.mark.parametrize(
    "hf, coll_v, debt_v, cf",
    [
        (0.99, 10_000.0, 10_000.0, 0.5),  # large, HF > 0.95: 50 %
        (0.99, 2_000.0, 2_000.0, 0.5),  # exactly at the threshold counts as large
        (0.99, 1_999.99, 10_000.0, 1.0),  # small collateral: 100 %
        (0.99, 10_000.0, 1_999.99, 1.0),  # small debt: 100 %
        (0.95, 10_000.0, 10_000.0, 1.0),  # HF at 0.95: 100 %
        (0.7, 10_000.0, 10_000.0, 1.0),
    ],
)
def test_close_factor_v33(hf, coll_v, debt_v, cf):
    assert K.close_factor(V33, hf, coll_v, debt_v) == cf


def test_close_factor_fixed():
    assert K.close_factor(rules(K.RULE_FIXED, cf=0.3), 0.5, 1.0, 1.0) == 0.3


# ---------------------------------------------------------------------------------------------
# v3.2 sizing


def test_v32_half_when_hf_above_095():
    # 10 A @ 100, 820 Q @ 1, LT 0.8: HF = 800/820 = 0.9756 > 0.95 -> CF 50 %
    seized, repaid, bad, fee, closed = both(10.0, 820.0, 100.0, 1.0, 0.8, 0.05, 0.1, V32)
    assert repaid == pytest.approx(410.0, rel=1e-15)
    assert seized == pytest.approx(410.0 * 1.0 * 1.05 / 100.0, rel=1e-15)  # 4.305
    assert fee == pytest.approx(fee_of(4.305, 0.05, 0.1), rel=1e-12)  # 0.0205
    assert fee == pytest.approx(0.0205, rel=1e-12)
    assert bad == 0.0 and not closed


def test_v32_full_at_hf_exactly_095():
    # 19 A @ 100, LT 0.5, debt 1000: HF = 950/1000 = 0.95 exactly -> CF 100 %
    seized, repaid, bad, fee, closed = both(19.0, 1000.0, 100.0, 1.0, 0.5, 0.05, 0.0, V32)
    assert repaid == 1000.0
    assert seized == pytest.approx(10.5, rel=1e-15)
    assert bad == 0.0 and fee == 0.0 and closed


def test_v32_seizure_with_debt_price():
    # debt asset priced 2: seize = repay · P_debt · LB / P_coll
    seized, repaid, bad, fee, closed = both(10.0, 410.0, 100.0, 2.0, 0.8, 0.1, 0.2, V32)
    # HF = 800/820 > 0.95 -> 50 %
    assert repaid == pytest.approx(205.0, rel=1e-15)
    assert seized == pytest.approx(205.0 * 2.0 * 1.1 / 100.0, rel=1e-15)
    assert fee == pytest.approx(fee_of(seized, 0.1, 0.2), rel=1e-12)
    assert not closed


# ---------------------------------------------------------------------------------------------
# v3.3 sizing


def test_v33_small_collateral_full():
    # 15 A @ 100 = US$1,500 < 2,000; HF = 1200/1230 = 0.976 > 0.95 but CF 100 %
    seized, repaid, bad, fee, closed = both(15.0, 1230.0, 100.0, 1.0, 0.8, 0.05, 0.1, V33)
    assert repaid == 1230.0
    assert seized == pytest.approx(12.915, rel=1e-14)
    assert closed and bad == 0.0


def test_v33_small_debt_full():
    # collateral US$3,000, debt US$1,850 < 2,000; HF = 1800/1850 = 0.973
    seized, repaid, bad, fee, closed = both(30.0, 1850.0, 100.0, 1.0, 0.6, 0.05, 0.1, V33)
    assert repaid == 1850.0
    assert seized == pytest.approx(1850.0 * 1.05 / 100.0, rel=1e-14)
    assert closed


def test_v33_large_half():
    # US$10,000 collateral, 8,200 debt, HF = 8000/8200 = 0.9756 -> 50 %
    seized, repaid, bad, fee, closed = both(100.0, 8200.0, 100.0, 1.0, 0.8, 0.05, 0.1, V33)
    assert repaid == pytest.approx(4100.0, rel=1e-15)
    assert seized == pytest.approx(43.05, rel=1e-14)
    assert fee == pytest.approx(fee_of(43.05, 0.05, 0.1), rel=1e-12)
    assert not closed and bad == 0.0


def test_v33_large_deep_full():
    # HF = 8000/8500 = 0.941 <= 0.95 -> 100 %
    seized, repaid, bad, fee, closed = both(100.0, 8500.0, 100.0, 1.0, 0.8, 0.05, 0.1, V33)
    assert repaid == 8500.0
    assert seized == pytest.approx(89.25, rel=1e-14)
    assert closed


def test_v33_dust_rule_leaves_exactly_min_leftover():
    # 20.5 A @ 100 = US$2,050; debt 2,040; LT 0.95, LB 1.05: HF = 1947.5/2040 = 0.9547 -> 50 %.
    # 50 % = 1,020 would seize 10.71 A and leave US$979 < 1,000: reduced so exactly 1,000 remains:
    # repay = (2050 - 1000) / 1.05 = 1000, seize = 10.5 A, 10 A left.
    seized, repaid, bad, fee, closed = both(20.5, 2040.0, 100.0, 1.0, 0.95, 0.05, 0.1, V33)
    assert repaid == pytest.approx(1000.0, rel=1e-14)
    assert seized == pytest.approx(10.5, rel=1e-14)
    assert (20.5 - seized) * 100.0 == pytest.approx(1000.0, rel=1e-12)
    assert fee == pytest.approx(fee_of(10.5, 0.05, 0.1), rel=1e-12)
    assert not closed and bad == 0.0


def test_v33_dust_rule_at_the_2000_threshold():
    # exactly US$2,000 on both sides and HF = LT = 0.97 > 0.95 -> 50 % (1,000), which would
    # seize 10.3 A and leave US$970: reduced to leave US$1,000 (repay 1000/1.03)
    seized, repaid, bad, fee, closed = both(20.0, 2000.0, 100.0, 1.0, 0.97, 0.03, 0.0, V33)
    assert repaid == pytest.approx(1000.0 / 1.03, rel=1e-14)
    assert seized == pytest.approx(10.0, rel=1e-14)
    assert not closed


def test_v32_has_no_dust_rule():
    seized, repaid, bad, fee, closed = both(20.5, 2040.0, 100.0, 1.0, 0.95, 0.05, 0.1, V32)
    assert repaid == pytest.approx(1020.0, rel=1e-15)
    assert seized == pytest.approx(10.71, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# capping and bad debt


@pytest.mark.parametrize("r", [V32, V33, rules(K.RULE_FIXED, cf=1.0)])
def test_cap_at_balance_and_bad_debt(r):
    # 10 A @ 100, debt 1000, LT 0.8, LB 1.1: HF 0.8 -> 100 %; seize 11 A > 10 A balance.
    seized, repaid, bad, fee, closed = both(10.0, 1000.0, 100.0, 1.0, 0.8, 0.1, 0.1, r)
    assert seized == 10.0
    assert repaid == pytest.approx(10.0 * 100.0 / (1.1 * 1.0), rel=1e-15)  # 909.09
    assert bad == pytest.approx(1000.0 - 1000.0 / 1.1, rel=1e-12)  # 90.909
    assert repaid + bad == pytest.approx(1000.0, rel=1e-15)
    assert fee == pytest.approx((10.0 - 10.0 / 1.1) * 0.1, rel=1e-12)
    assert closed


def test_cap_with_partial_close_factor():
    # fixed CF 0.5 but the 50 % already needs more than the balance
    seized, repaid, bad, fee, closed = both(1.0, 1000.0, 100.0, 1.0, 0.8, 0.1, 0.0,
                                            rules(K.RULE_FIXED, cf=0.5))
    assert seized == 1.0
    assert repaid == pytest.approx(100.0 / 1.1, rel=1e-15)
    assert bad == pytest.approx(1000.0 - 100.0 / 1.1, rel=1e-12)
    assert closed


def test_fixed_close_factor():
    seized, repaid, bad, fee, closed = both(10.0, 900.0, 100.0, 1.0, 0.8, 0.05, 0.1,
                                            rules(K.RULE_FIXED, cf=0.3))
    assert repaid == pytest.approx(270.0, rel=1e-15)
    assert seized == pytest.approx(2.835, rel=1e-14)
    assert not closed


# ---------------------------------------------------------------------------------------------
# kernel vs twin, random inputs


@settings(deadline=None, max_examples=300)
@given(
    coll=st.floats(1e-3, 1e5),
    hf=st.floats(0.05, 0.9999),
    p_coll=st.floats(0.01, 1e5),
    p_debt=st.sampled_from([1.0, 0.5, 2.0, 3000.0]),
    lt=st.floats(0.3, 0.95),
    bonus=st.floats(0.0, 0.15),
    pfee=st.sampled_from([0.0, 0.1, 0.5]),
    rule=st.sampled_from([K.RULE_FIXED, K.RULE_V32, K.RULE_V33]),
    cf=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_kernel_matches_twin(coll, hf, p_coll, p_debt, lt, bonus, pfee, rule, cf):
    debt = coll * p_coll * lt / (hf * p_debt)
    r = rules(rule, cf=cf)
    seized, repaid, bad, fee, closed = both(coll, debt, p_coll, p_debt, lt, bonus, pfee, r)
    # invariants of §1.4/§1.6
    assert 0.0 <= seized <= coll
    assert 0.0 <= repaid <= debt
    assert bad >= 0.0
    if bad > 0.0:
        assert closed and seized == coll
        assert repaid + bad == pytest.approx(debt, rel=1e-12)
    assert fee == pytest.approx(fee_of(seized, bonus, pfee), rel=1e-12, abs=1e-300)
    if not (seized == coll):
        # uncapped: seizure is exactly repay · P_debt · LB / P_coll
        assert seized == pytest.approx(repaid * p_debt * (1 + bonus) / p_coll, rel=1e-12)
