"""Conformance: ``lc.protocols.morpho.liquidate`` against morpho-org/morpho-blue's own tests,
in the contract's integer arithmetic (HEAD ``3085651a79553bbabbfd8be309c262dab45b686e``):

* ``test/integration/LiquidateIntegrationTest.sol`` (``LI:<line>``): the expected repaid
  assets, shares and seized collateral are the test's own formulas (``mulDivUp``,
  ``wDivUp``, ``toSharesDown``...), here with hypothesis drawing what the fuzz tests draw;
* ``src/libraries/SharesMathLib.sol`` (virtual shares 1e6, virtual assets 1) and
  ``ConstantsLib.sol`` (cursor 0.3, maximum factor 1.15).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import liqcascade as lc

Mo = lc.protocols.morpho
WAD = 10**18
SCALE = 10**36
SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def mul_div_up(x, y, d):
    return (x * y + d - 1) // d


def mul_div_down(x, y, d):
    return x * y // d


def unhealthy_price(lltv, collateral, borrowed, h):
    """``_boundUnhealthyPosition``: a price at which the position's health is about ``h`` < 1."""
    return max(1, int(h * borrowed * SCALE * WAD // (collateral * lltv)))


UNHEALTHY = dict(lltv=st.integers(WAD // 100, WAD - WAD // 100), collateral=st.integers(2, 10**30),
                 borrowed=st.integers(1, 10**28), h=st.floats(0.05, 0.99), frac=st.floats(0.0, 1.0))


def market_with_loan(lltv, collateral, borrowed, supplied, price_at_borrow):
    m = Mo.Market(lltv=lltv, price=price_at_borrow)
    Mo.supply(m, "supplier", supplied)
    Mo.supply_collateral(m, "borrower", collateral)
    Mo.borrow(m, "borrower", borrowed)
    return m


@SETTINGS
@given(**UNHEALTHY)
def test_liquidate_seized_input_no_bad_debt(lltv, collateral, borrowed, h, frac):
    # LI:114 testLiquidateSeizedInputNoBadDebtRealized
    m = market_with_loan(lltv, collateral, borrowed, borrowed, 2**256 // collateral)
    m.price = price = unhealthy_price(lltv, collateral, borrowed, h)
    assume(not Mo.is_healthy(m, "borrower"))
    shares0 = m.position("borrower").borrow_shares
    lif = Mo.liquidation_incentive_factor(lltv)
    max_seized = mul_div_down(mul_div_down(borrowed, lif, WAD), SCALE, price)
    assume(max_seized != 0)
    seized = max(1, min(int(frac * min(max_seized, collateral - 1)), max_seized, collateral - 1))
    expected_repaid = mul_div_up(mul_div_up(seized, price, SCALE), WAD, lif)
    expected_shares = Mo.to_shares_down(expected_repaid, m.total_borrow_assets, m.total_borrow_shares)
    r = Mo.liquidate(m, "borrower", seized_assets=seized)
    assert (r.seized_assets, r.repaid_assets, r.repaid_shares) == (seized, expected_repaid, expected_shares)
    assert (r.bad_debt_assets, r.bad_debt_shares) == (0, 0)
    assert m.position("borrower").borrow_shares == shares0 - expected_shares
    assert m.total_borrow_assets == borrowed - expected_repaid
    assert m.position("borrower").collateral == collateral - seized


@SETTINGS
@given(**UNHEALTHY)
def test_liquidate_shares_input_no_bad_debt(lltv, collateral, borrowed, h, frac):
    # LI:174 testLiquidateSharesInputNoBadDebtRealized: seized = toAssetsDown(shares) · LIF / price
    m = market_with_loan(lltv, collateral, borrowed, borrowed, 2**256 // collateral)
    m.price = price = unhealthy_price(lltv, collateral, borrowed, h)
    assume(not Mo.is_healthy(m, "borrower"))
    shares0 = m.position("borrower").borrow_shares
    lif = Mo.liquidation_incentive_factor(lltv)
    max_shares = Mo.to_shares_down(mul_div_down(mul_div_down(collateral, price, SCALE), WAD, lif),
                                   m.total_borrow_assets, m.total_borrow_shares)
    max_shares = min(max_shares, shares0)
    assume(max_shares > Mo.VIRTUAL_SHARES)
    shares = max(1, int(frac * max_shares))
    expected_seized = mul_div_down(mul_div_down(Mo.to_assets_down(shares, m.total_borrow_assets, m.total_borrow_shares),
                                                lif, WAD), SCALE, price)
    expected_repaid = Mo.to_assets_up(shares, m.total_borrow_assets, m.total_borrow_shares)
    assume(expected_seized < collateral)
    r = Mo.liquidate(m, "borrower", repaid_shares=shares)
    assert (r.seized_assets, r.repaid_assets, r.repaid_shares) == (expected_seized, expected_repaid, shares)
    assert m.position("borrower").borrow_shares == shares0 - shares


def test_bad_debt_realised():
    # LI:244 testLiquidateBadDebtRealized, one draw worked by hand: the whole collateral seized;
    # the borrow shares left are cancelled and the suppliers lose their assets at once
    lltv = 80 * 10**16
    m = market_with_loan(lltv, 10**18, 8 * 10**17, 10**18, SCALE)
    m.price = SCALE // 2  # collateral now worth 0.5 loan units
    lif = Mo.liquidation_incentive_factor(lltv)
    assert lif == 1_063_829_787_234_042_553  # 1 / (1 − 0.3 · 0.2)
    r = Mo.liquidate(m, "borrower", seized_assets=10**18)
    repaid = mul_div_up(mul_div_up(10**18, SCALE // 2, SCALE), WAD, lif)
    assert r.repaid_assets == repaid and r.seized_assets == 10**18
    assert r.bad_debt_assets == 8 * 10**17 - repaid
    assert m.total_borrow_assets == 0 and m.total_borrow_shares == 0
    assert m.total_supply_assets == 10**18 - r.bad_debt_assets
    assert m.position("borrower").borrow_shares == 0 and m.position("borrower").collateral == 0


def test_seized_assets_round_up():
    # LI:355 testSeizedAssetsRoundUp: LLTV 75 %, 400 collateral, 300 borrowed, price 1 − 0.01e-18;
    # liquidating 1 share seizes 0 and repays 1
    m = market_with_loan(75 * 10**16, 400, 300, 100 * 10**18, SCALE)
    m.price = SCALE - 10**16
    r = Mo.liquidate(m, "borrower", repaid_shares=1)
    assert (r.seized_assets, r.repaid_assets) == (0, 1)


def test_bad_debt_over_total_borrow_assets():
    # LI:335: borrowing 1 extra share inflates the shares; the bad debt is capped by the total
    m = market_with_loan(80 * 10**16, 10 * 10**18, 10**18, 10**18, SCALE)
    Mo.borrow(m, "borrower", shares=1)
    m.price = SCALE // 100
    r = Mo.liquidate(m, "borrower", seized_assets=10 * 10**18)
    assert m.total_borrow_assets == 0 and r.bad_debt_assets <= 10**18


def test_reverts():
    m = market_with_loan(80 * 10**16, 10**18, 5 * 10**17, 10**18, SCALE)
    with pytest.raises(Mo.InconsistentInput) as e:  # LI:19 and LI:27
        Mo.liquidate(m, "borrower")
    assert e.value.revert == "inconsistent input"
    with pytest.raises(Mo.InconsistentInput):
        Mo.liquidate(m, "borrower", 1, 1)
    with pytest.raises(Mo.HealthyPosition):  # LI:37
        Mo.liquidate(m, "borrower", seized_assets=1)
    with pytest.raises(Mo.InsufficientCollateral):
        Mo.borrow(m, "borrower", 4 * 10**17)
    assert m.total_borrow_assets == 5 * 10**17  # the revert changed nothing
    with pytest.raises(TypeError):
        Mo.Market(lltv=0.8, price=SCALE)


def test_virtual_shares():
    # SharesMathLib: an empty market gives 1e6 shares per unit, rounding as named
    assert Mo.to_shares_down(1, 0, 0) == 10**6
    assert Mo.to_assets_up(1, 0, 0) == 1 and Mo.to_assets_down(1, 0, 0) == 0
    assert Mo.to_shares_up(10, 9, 9 * 10**6) == 10 * 10**6


@pytest.mark.parametrize("lltv, lif", [(0.98, 1.0060), (0.965, 1.0106), (0.945, 1.0168), (0.915, 1.0262),
                                       (0.86, 1.0438), (0.77, 1.0741), (0.625, 1.1268)])
def test_incentive_factor_matches_the_engine(lltv, lif):
    """protocol-mechanics.md §8.5's table, and the engine's float kernel (``incentive = "morpho"``)."""
    from liqcascade.protocols.aave.incentives import kernel as IK

    exact = Mo.liquidation_incentive_factor(round(lltv * WAD)) / WAD
    assert exact == pytest.approx(lif, abs=5e-5)
    assert float(IK.morpho_lif(lltv, 0.3, 1.15)) == pytest.approx(exact, rel=1e-15)
