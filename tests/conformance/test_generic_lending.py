"""Conformance: generic lending options against protocol-mechanics.md §8.4 (Euler v2) and §8.5
(Morpho Blue). Every test that moves amounts checks conservation by name: collateral seized +
collateral left = collateral before; debt repaid + bad debt + debt left = debt before; and the
value identity seized value = repaid value · (1 + bonus) where the rule says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.protocols.aave import kernel as AAVE
from liqcascade.protocols.aave.incentives import kernel as G
from liqcascade.protocols.aave.incentives import twin as GP

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


def params(bonus=0.05, cursor=0.3, max_lif=1.15, max_discount=0.15, cool_off=1.0):
    g = np.zeros(G.NG)
    g[G.G_BONUS] = bonus
    g[G.G_CURSOR] = cursor
    g[G.G_MAX_LIF] = max_lif
    g[G.G_MAX_DISCOUNT] = max_discount
    g[G.G_COOL_OFF] = cool_off
    return g


def conserved_morpho(collateral, borrowed, seized, repaid, bad):
    """Collateral and debt of one Morpho liquidation accounted for by name."""
    coll_left = collateral - seized
    debt_left = borrowed - repaid - bad
    assert seized >= 0 and repaid >= 0 and bad >= 0
    assert coll_left >= -1e-12 * collateral
    assert seized + coll_left == pytest.approx(collateral, rel=1e-12)
    assert repaid + bad + debt_left == pytest.approx(borrowed, rel=1e-12)
    assert abs(debt_left) <= 1e-9 * borrowed  # no close factor: the position is settled
    if bad > 0:
        assert coll_left <= 1e-12 * collateral  # bad debt only once the collateral is gone
    return coll_left, debt_left


# --- Morpho Blue (§8.5) ------------------------------------------------------------------------

# the reference's table (4 decimals)
MORPHO_TABLE = [(0.98, 1.0060), (0.965, 1.0106), (0.945, 1.0168), (0.915, 1.0262),
                (0.86, 1.0438), (0.77, 1.0741), (0.625, 1.1268)]


@pytest.mark.parametrize("lltv,lif", MORPHO_TABLE)
def test_morpho_lif_matches_reference_table(lltv, lif):
    assert G.morpho_lif(lltv, G.MORPHO_LIQUIDATION_CURSOR, G.MORPHO_MAX_LIF) == pytest.approx(lif, abs=5e-5)
    assert GP.morpho_lif(lltv, 0.3, 1.15) == pytest.approx(lif, abs=5e-5)
    # as a bonus for a fixed-bonus unit: 86 % LLTV → about 4.4 %
    b = G.liquidation_bonus(G.BONUS_MORPHO, params(), 1.0, lltv)
    assert b == pytest.approx(lif - 1.0, abs=5e-5)
    # a full liquidation of a barely unhealthy position: seized value = repaid · LIF
    coll, price = 10.0, 100.0
    borrowed = coll * price * lltv * 1.01
    seized, repaid, bad = G.morpho_liquidate(coll, borrowed, price, lltv, 0.3, 1.15)
    conserved_morpho(coll, borrowed, seized, repaid, bad)
    if bad == 0:
        assert seized * price == pytest.approx(repaid * G.morpho_lif(lltv, 0.3, 1.15), rel=1e-12)


def test_morpho_lif_at_86_percent_and_the_cap():
    assert G.morpho_lif(0.86, 0.3, 1.15) == pytest.approx(1 / 0.958, rel=1e-15)  # ≈ 1.0438
    assert G.liquidation_bonus(G.BONUS_MORPHO, params(), 1.0, 0.86) == pytest.approx(0.0438, abs=1e-4)
    # 1/(1 − 0.3·(1 − LLTV)) exceeds 1.15 below LLTV ≈ 56.5 %: capped
    assert G.morpho_lif(0.5, 0.3, 1.15) == 1.15
    assert G.morpho_lif(0.0, 0.3, 1.15) == 1.15
    seized, repaid, bad = G.morpho_liquidate(1.0, 60.0, 100.0, 0.5, 0.3, 1.15)
    conserved_morpho(1.0, 60.0, seized, repaid, bad)
    assert seized == pytest.approx(60.0 * 1.15 / 100.0) and bad == 0.0


def test_morpho_health_boundary_and_bad_debt():
    # healthy iff borrowed ≤ collateral·price·LLTV (equality is healthy)
    assert G.morpho_is_healthy(1.0, 100.0, 86.0, 0.86)
    assert not G.morpho_is_healthy(1.0, 100.0, 86.0001, 0.86)
    seized, repaid, bad = G.morpho_liquidate(1.0, 86.0, 100.0, 0.86, 0.3, 1.15)
    assert (seized, repaid, bad) == (0.0, 0.0, 0.0)  # healthy: nothing moves
    assert (1.0 - seized, 86.0 - repaid - bad) == (1.0, 86.0)  # collateral and debt stay whole
    # collateral worth less than debt·LIF: all of it is seized, the rest is bad debt
    seized, repaid, bad = G.morpho_liquidate(1.0, 100.0, 95.0, 0.86, 0.3, 1.15)
    conserved_morpho(1.0, 100.0, seized, repaid, bad)
    lif = G.morpho_lif(0.86, 0.3, 1.15)
    assert seized == 1.0
    assert repaid == pytest.approx(95.0 / lif, rel=1e-12)
    assert bad == pytest.approx(100.0 - 95.0 / lif, rel=1e-12)


# --- Euler v2 (§8.4) -----------------------------------------------------------------------------


def conserved_euler(collateral_value, liability_value, repay, yld):
    """Euler liquidation in value terms: the liquidator takes on ``repay`` of the liability and
    receives ``yld`` of the chosen collateral; what is left stays with the violator."""
    coll_left = collateral_value - yld
    debt_left = liability_value - repay
    assert yld >= 0 and repay >= 0
    assert coll_left >= -1e-9 * max(collateral_value, 1.0)
    assert yld + coll_left == pytest.approx(collateral_value, rel=1e-12, abs=1e-12)
    assert repay + debt_left == pytest.approx(liability_value, rel=1e-12)
    return coll_left, debt_left


def test_euler_discount_grows_with_depth_underwater_up_to_the_cap():
    max_d = 0.15
    liab = 1000.0
    prev = -1.0
    for hs in (1.0, 0.99, 0.95, 0.9, 0.86, 0.85, 0.7, 0.3):
        df = G.euler_discount_factor(hs * liab, liab, max_d)
        discount = 1.0 - df
        assert discount == pytest.approx(min(1.0 - hs, max_d), abs=1e-12)
        assert discount >= prev
        prev = discount
        # collateral plentiful: repay the whole liability, yield = liability / discountFactor
        df2, repay, yld, frac = G.euler_max_liquidation(hs * liab, liab, 1e6, max_d)
        assert df2 == df
        assert repay == liab and yld == pytest.approx(liab / df, rel=1e-15)
        assert frac == pytest.approx(yld / 1e6)
        conserved_euler(1e6, liab, repay, yld)
        # the same as a bonus for a fixed-bonus unit
        assert G.liquidation_bonus(G.BONUS_EULER, params(max_discount=max_d), hs, 0.0) == \
            pytest.approx(1.0 / df - 1.0, rel=1e-12, abs=1e-15)


def test_euler_collateral_limited_and_worthless_collateral():
    # HS 0.9 → discountFactor 0.9; collateral worth 500 < 1000/0.9: yield all, repay 450
    df, repay, yld, frac = G.euler_max_liquidation(900.0, 1000.0, 500.0, 0.2)
    assert (df, yld, frac) == (pytest.approx(0.9), 500.0, 1.0)
    assert repay == pytest.approx(450.0)
    conserved_euler(500.0, 1000.0, repay, yld)
    # worthless collateral is claimed with no repay
    df, repay, yld, frac = G.euler_max_liquidation(900.0, 1000.0, 0.0, 0.2)
    assert (repay, yld, frac) == (0.0, 0.0, 1.0)
    conserved_euler(0.0, 1000.0, repay, yld)
    # healthy (adjusted collateral above liability) or no liability: nothing
    assert G.euler_max_liquidation(1000.1, 1000.0, 500.0, 0.2) == (1.0, 0.0, 0.0, 0.0)
    assert G.euler_max_liquidation(0.0, 0.0, 500.0, 0.2) == (1.0, 0.0, 0.0, 0.0)
    # HS exactly 1 is a violation in Liquidation.sol (it returns early only on ">"), discount 0
    df, repay, yld, frac = G.euler_max_liquidation(1000.0, 1000.0, 5000.0, 0.2)
    assert (df, repay, yld) == (1.0, 1000.0, 1000.0)
    conserved_euler(5000.0, 1000.0, repay, yld)


def test_euler_cool_off_ramp_and_socialization():
    # block.timestamp < lastAccountStatusCheck + coolOff → in cool-off
    assert G.euler_in_cool_off(100.0, 90.0, 11.0) and not G.euler_in_cool_off(101.0, 90.0, 11.0)
    g = params(cool_off=11.0)
    assert not G.liquidation_allowed(G.BONUS_EULER, g, 100.0, 90.0)
    assert G.liquidation_allowed(G.BONUS_EULER, g, 101.0, 90.0)
    assert G.liquidation_allowed(G.BONUS_MORPHO, g, 100.0, 90.0)
    # LLTV ramp 0.9 → 0.8 over 100 s ending at t = 1000
    assert G.euler_liquidation_ltv(0.9, 0.8, 950.0, 1000.0, 100.0) == pytest.approx(0.85)
    assert G.euler_liquidation_ltv(0.9, 0.8, 1000.0, 1000.0, 100.0) == 0.8
    assert G.euler_liquidation_ltv(0.9, 0.8, 0.0, 1000.0, 100.0) == 0.9  # capped at initial
    assert G.euler_liquidation_ltv(0.8, 0.9, 950.0, 1000.0, 100.0) == 0.9  # raising: at once
    # bad debt: after a collateral-limited liquidation with nothing left, the rest is written
    # off (≥ MIN_SOCIALIZATION_LIABILITY_VALUE, unless CFG_DONT_SOCIALIZE_DEBT)
    df, repay, yld, frac = G.euler_max_liquidation(900.0, 1000.0, 500.0, 0.2)
    coll_left, debt_left = conserved_euler(500.0, 1000.0, repay, yld)
    written = G.euler_socialized(debt_left, coll_left, debt_left * 1e6,
                                 G.EULER_MIN_SOCIALIZATION_LIABILITY_VALUE, False)
    assert written == debt_left
    assert repay + written == pytest.approx(1000.0)  # liability fully accounted for
    assert G.euler_socialized(debt_left, coll_left, debt_left * 1e6, 1e6, True) == 0.0
    assert G.euler_socialized(debt_left, 1.0, debt_left * 1e6, 1e6, False) == 0.0
    assert G.euler_socialized(debt_left, 0.0, 0.5e6, 1e6, False) == 0.0


def test_dynamic_bonus_drops_into_a_fixed_bonus_kernel():
    # Aave's pair kernel takes a bonus; give it the Morpho / Euler / fixed rule's bonus
    rules = np.zeros(AAVE.NRULE)
    rules[AAVE.R_RULE] = AAVE.RULE_FIXED
    rules[AAVE.R_CF] = 1.0
    coll, debt, pc, pd, lt = 10.0, 900.0, 100.0, 1.0, 0.86
    hs = coll * pc * lt / (debt * pd)
    for kind in (G.BONUS_FIXED, G.BONUS_MORPHO, G.BONUS_EULER):
        b = G.liquidation_bonus(kind, params(), hs, lt)
        assert b == pytest.approx(GP.liquidation_bonus(kind, params(), hs, lt), rel=1e-12, abs=1e-15)
        seize, repay, bad, fee, closed = AAVE.liquidate_pair(coll, debt, pc, pd, lt, b, 0.0, rules)
        assert seize * pc == pytest.approx(repay * pd * (1 + b), rel=1e-12)
        assert seize <= coll and repay + bad <= debt + 1e-9
        assert (coll - seize) + seize == pytest.approx(coll)
        assert (debt - repay - bad) + repay + bad == pytest.approx(debt)
    assert G.liquidation_bonus(G.BONUS_FIXED, params(bonus=0.07), 0.5, 0.8) == 0.07
    assert G.liquidation_bonus(G.BONUS_EULER, params(), 1.2, 0.8) == 0.0


# --- kernel vs twin ---------------------------------------------------------------------------


@SETTINGS
@given(st.floats(0.0, 0.999), st.floats(0.0, 1.0), st.floats(1.0, 1.5),
       st.floats(1e-3, 1e6), st.floats(1e-3, 1e6), st.floats(1e-3, 1e5))
def test_morpho_kernel_and_twin_agree(lltv, cursor, max_lif, collateral, borrowed, price):
    assert G.morpho_lif(lltv, cursor, max_lif) == pytest.approx(GP.morpho_lif(lltv, cursor, max_lif), rel=1e-14)
    assert G.morpho_is_healthy(collateral, price, borrowed, lltv) == \
        GP.morpho_is_healthy(collateral, price, borrowed, lltv)
    k = G.morpho_liquidate(collateral, borrowed, price, lltv, cursor, max_lif)
    p = GP.morpho_liquidate(collateral, borrowed, price, lltv, cursor, max_lif)
    assert k == pytest.approx(p, rel=1e-12, abs=1e-12 * borrowed)
    if k == (0.0, 0.0, 0.0):  # healthy: nothing moves, collateral and debt stay whole
        assert G.morpho_is_healthy(collateral, price, borrowed, lltv)
    else:
        conserved_morpho(collateral, borrowed, *k)


@SETTINGS
@given(st.floats(0.0, 2e6), st.floats(0.0, 2e6), st.floats(0.0, 2e6), st.floats(0.0, 0.5),
       st.floats(0.0, 1e4), st.floats(0.0, 1e4), st.floats(0.0, 1e3), st.integers(0, 2))
def test_euler_and_bonus_kernel_and_twin_agree(cav, liab, cval, max_d, now, last, cool, kind):
    k = G.euler_max_liquidation(cav, liab, cval, max_d)
    p = GP.euler_max_liquidation(cav, liab, cval, max_d)
    assert k == pytest.approx(p, rel=1e-12, abs=1e-9)
    assert G.euler_is_violator(cav, liab) == GP.euler_is_violator(cav, liab)
    if G.euler_is_violator(cav, liab):
        coll_left, debt_left = conserved_euler(cval, liab, k[1], k[2])
        assert k[2] <= cval + 1e-9 * max(cval, 1.0)
        assert k[1] <= liab * (1 + 1e-12)
        if cval > 0:
            assert k[2] * k[0] == pytest.approx(k[1], rel=1e-12)  # yield = repay / discountFactor
    assert G.euler_in_cool_off(now, last, cool) == GP.euler_in_cool_off(now, last, cool)
    assert G.euler_liquidation_ltv(0.9, 0.8, now, 5e3, cool) == pytest.approx(
        GP.euler_liquidation_ltv(0.9, 0.8, now, 5e3, cool), rel=1e-12)
    hs = cav / liab if liab > 0 else 2.0
    g = params(max_discount=max_d, cool_off=cool)
    assert G.liquidation_bonus(kind, g, hs, 0.8) == \
        pytest.approx(GP.liquidation_bonus(kind, g, hs, 0.8), rel=1e-9, abs=1e-12)
    assert G.liquidation_allowed(kind, g, now, last) == GP.liquidation_allowed(kind, g, now, last)
    assert G.euler_socialized(liab - k[1], cval - k[2], liab, 1e6, False) == pytest.approx(
        GP.euler_socialized(liab - k[1], cval - k[2], liab, 1e6, False))
