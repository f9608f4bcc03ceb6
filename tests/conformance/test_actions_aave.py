"""Conformance: ``lc.protocols.aave.liquidation_call`` against aave-dao/aave-v3-origin's own tests.

Repository aave-dao/aave-v3-origin at HEAD ``fd1fbd9150426ca8ace9cee45b4acf912ae84f5b`` (v3.7):

* ``tests/protocol/pool/Pool.Liquidations.t.sol`` (cited ``PL:<line>``),
* ``tests/protocol/pool/Pool.Liquidations.CloseFactor.t.sol`` (``CF:<line>``),
* the testnet market of ``tests/mocks/AaveV3TestListing.sol`` (``L:42-130``): USDX at $1 (6
  decimals), WBTC at $27,000 (8), WETH at $1,800 (18); every asset LTV 82.5 %, LT 86 %,
  bonus 5 %, protocol fee 10 %. ``_calcPrice(price, p)`` (``tests/utils/TestnetProcedures.sol``)
  moves a price *down* by ``p`` bps.

The expected amounts are the contract's integer arithmetic (``LiquidationLogic.
_calculateAvailableCollateralToLiquidate`` with PercentageMath's floor/ceil, reproduced in
:func:`contract_amounts`); the action computes in real numbers, so they agree to a few base
units of the token (``UNITS``). Interest that the tests let accrue (``vm.warp``) is left out:
the debt is the borrowed amount.
"""

from __future__ import annotations

import math

import pytest

import liqcascade as lc

A = lc.protocols.aave
DEC = {"USDX": 6, "WBTC": 8, "WETH": 18}
PRICE = {"USDX": 1.0, "WBTC": 27_000.0, "WETH": 1_800.0}
UNITS = 3  # base units of rounding the real-number action may differ by


def market(version="v3.3", **prices):
    p = {**PRICE, **prices}
    return A.Market({a: A.Reserve(price=p[a], liquidation_threshold=0.86, liquidation_bonus=0.05, protocol_fee=0.10,
                                  ltv=0.825) for a in PRICE}, version=version)


def calc_price(asset, bps):
    """``_calcPrice``: the price lowered by ``bps`` basis points."""
    return PRICE[asset] * (1 - bps / 1e4)


def contract_amounts(debt_to_cover, coll_bal, p_coll, p_debt, dec_coll, dec_debt, lb_bps=10500, fee_bps=1000):
    """v3.7 ``_calculateAvailableCollateralToLiquidate`` in integers (base units, 8-decimal prices):
    returns ``(collateral to liquidator, debt repaid, protocol fee)``."""
    uc, ud = 10**dec_coll, 10**dec_debt
    pc, pd = round(p_coll * 1e8), round(p_debt * 1e8)
    base = (pd * debt_to_cover * uc) // (pc * ud)
    max_coll = base * lb_bps // 10_000  # percentMulFloor
    if max_coll > coll_bal:
        coll = coll_bal
        x = (pc * coll * ud) // (pd * uc)
        debt = -(-x * 10_000 // lb_bps)  # percentDivCeil
    else:
        coll, debt = max_coll, debt_to_cover
    bonus = coll - coll * 10_000 // lb_bps  # percentDivFloor
    fee = -(-bonus * fee_bps // 10_000)  # percentMulCeil
    return coll - fee, debt, fee


def units(x, asset):
    return x * 10 ** DEC[asset]


def assert_conserved(before, acct, res):
    c0, d0 = before
    for a in set(c0) | set(acct.collateral):
        seized = res.collateral_seized if a == res.collateral_asset else 0.0
        assert acct.collateral.get(a, 0.0) + seized == pytest.approx(c0.get(a, 0.0), rel=1e-12, abs=1e-12)
    for a in set(d0) | set(acct.debt):
        repaid = res.debt_repaid if a == res.debt_asset else 0.0
        assert acct.debt.get(a, 0.0) + repaid + res.deficit.get(a, 0.0) == pytest.approx(d0.get(a, 0.0), rel=1e-12)


def call(acct, *args, **kw):
    before = (dict(acct.collateral), dict(acct.debt))
    res = A.liquidation_call(acct, *args, **kw)
    assert_conserved(before, acct, res)
    return res


# --- reverts (PL:998-1069, PL:600) -----------------------------------------------------------


def test_health_factor_not_below_threshold():
    # PL:1008 test_reverts_liquidation_hf_gt_liquidation_threshold: 1 WBTC supplied, 2 WETH borrowed
    m = market()
    acct = A.Account(m, {"WBTC": 1.0}, {"WETH": 2.0})
    with pytest.raises(A.HealthFactorNotBelowThreshold) as e:
        A.liquidation_call(acct, "WBTC", "WETH", 100.0)
    assert e.value.health_factor == pytest.approx(27_000 * 0.86 / 3_600)
    assert e.value.code == "45" and e.value.revert == "HealthFactorNotBelowThreshold"
    assert acct.collateral == {"WBTC": 1.0} and acct.debt == {"WETH": 2.0}  # a revert changes nothing


def test_collateral_cannot_be_liquidated_and_currency_not_borrowed():
    # PL:1020 / PL:1042: 1 WBTC, 10 WETH borrowed, WBTC price -40 % (HF 0.774)
    m = market(WBTC=calc_price("WBTC", 40_00))
    acct = A.Account(m, {"WBTC": 1.0}, {"WETH": 10.0})
    assert A.health_factor(acct) == pytest.approx(16_200 * 0.86 / 18_000)
    with pytest.raises(A.CollateralCannotBeLiquidated):  # USDX was never supplied
        A.liquidation_call(acct, "USDX", "WETH", 100.0)
    with pytest.raises(A.SpecifiedCurrencyNotBorrowedByUser):  # USDX was never borrowed
        A.liquidation_call(acct, "WBTC", "USDX", 100.0)


def test_paused_inactive_grace_and_self_liquidation():
    m = market(WBTC=calc_price("WBTC", 40_00))
    acct = A.Account(m, {"WBTC": 1.0}, {"WETH": 10.0}, address="alice")
    m.reserves["WBTC"].paused = True  # PL:1061 test_reverts_liquidation_reservePaused
    with pytest.raises(A.ReservePaused):
        A.liquidation_call(acct, "WBTC", "WETH", 1.0)
    m.reserves["WBTC"].paused = False
    m.reserves["WETH"].active = False  # PL:998 test_reverts_liquidation_reserveInactive
    with pytest.raises(A.ReserveInactive):
        A.liquidation_call(acct, "WBTC", "WETH", 1.0)
    m.reserves["WETH"].active = True
    m.reserves["WETH"].grace_period_until = 3600.0  # PL:1071 grace period (v3.1+)
    m.now = 3600.0
    with pytest.raises(A.LiquidationGraceSentinelCheckFailed):
        A.liquidation_call(acct, "WBTC", "WETH", 1.0)
    m.now = 3601.0
    with pytest.raises(A.SelfLiquidation):  # PL:600 test_self_liquidate_position_shouldRevert
        A.liquidation_call(acct, "WBTC", "WETH", 1.0, liquidator="alice")
    assert call(acct, "WBTC", "WETH", 1.0).debt_repaid == 1.0


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("receive_a_token", [False, True])
def test_partial_liquidation_amounts(receive_a_token):
    # PL:247 test_partial_liquidate_variable_borrow / PL:301 (aTokens): 1 WBTC, 20,500 USDX
    # borrowed, WBTC -25 % (20,250), 106 USDX covered
    m = market(WBTC=calc_price("WBTC", 25_00))
    acct = A.Account(m, {"WBTC": 1.0}, {"USDX": 20_500.0})
    res = call(acct, "WBTC", "USDX", 106.0, receive_a_token)
    liq, debt, fee = contract_amounts(106 * 10**6, 10**8, 20_250.0, 1.0, 8, 6)
    assert (liq, debt, fee) == (547_010, 106_000_000, 2_618)  # worked by hand in the docstring's integers
    assert units(res.collateral_to_liquidator, "WBTC") == pytest.approx(liq, abs=UNITS)
    assert units(res.protocol_fee, "WBTC") == pytest.approx(fee, abs=UNITS)
    assert units(res.debt_repaid, "USDX") == pytest.approx(debt, abs=UNITS)
    assert res.max_debt == 20_500.0  # HF 0.8495 <= 0.95: the whole reserve debt (v3.3)
    assert res.receive_a_token is receive_a_token and res.deficit == {}
    assert m.reserves["WBTC"].treasury == res.protocol_fee


def test_no_fee_liquidation():
    # PL:191 test_liquidate_variable_borrow_no_fee: WBTC fee 0, WBTC -16 %, max covered
    m = market(WBTC=calc_price("WBTC", 16_00))
    m.reserves["WBTC"].protocol_fee = 0.0
    acct = A.Account(m, {"WBTC": 1.0}, {"USDX": 20_500.0})
    hf = 22_680 * 0.86 / 20_500
    assert A.health_factor(acct) == pytest.approx(hf)
    res = call(acct, "WBTC", "USDX", math.inf)
    # HF 0.9515 > 0.95 with both reserves above $2,000: 50 % of the total debt, 10,250 USDX
    assert res.max_debt == 10_250.0
    liq, debt, fee = contract_amounts(10_250 * 10**6, 10**8, 22_680.0, 1.0, 8, 6, fee_bps=0)
    assert res.protocol_fee == 0.0 and fee == 0
    assert units(res.debt_repaid, "USDX") == pytest.approx(debt, abs=UNITS)
    assert units(res.collateral_to_liquidator, "WBTC") == pytest.approx(liq, abs=UNITS)
    assert acct.debt["USDX"] == pytest.approx(10_250.0)


def test_bad_debt_creates_a_deficit():
    # PL:784 test_liquidate_borrow_bad_debt and PL:894 test_deficit_increased_after_liquidate_bad_debt:
    # 0.5 WBTC, 11,000 USDX borrowed, WBTC -20 % (21,600): collateral 10,800 < debt
    m = market(WBTC=calc_price("WBTC", 20_00))
    acct = A.Account(m, {"WBTC": 0.5}, {"USDX": 11_000.0})
    res = call(acct, "WBTC", "USDX", "max")
    liq, debt, fee = contract_amounts(11_000 * 10**6, 5 * 10**7, 21_600.0, 1.0, 8, 6)
    assert units(res.debt_repaid, "USDX") == pytest.approx(debt, abs=UNITS)  # 10,285.714286
    assert units(res.collateral_to_liquidator + res.protocol_fee, "WBTC") == pytest.approx(5 * 10**7, abs=UNITS)
    # DeficitCreated(user, USDX, userDebtBefore - actualDebtToLiquidate)
    assert res.deficit["USDX"] == pytest.approx(11_000 - res.debt_repaid, rel=1e-12)
    assert m.reserves["USDX"].deficit == res.deficit["USDX"]
    assert acct.debt == {"USDX": 0.0} and acct.collateral == {"WBTC": 0.0}
    assert res.health_factor_after == math.inf


def test_bad_debt_burns_every_debt_asset():
    # PL:834 test_liquidate_borrow_burn_multiple_assets_bad_debt: 1.00999999 WBTC; 20,500.999999
    # USDX, 0.002 WETH and 0.002 WBTC borrowed; WBTC -21.5 %; the WBTC debt is 0 afterwards
    m = market(WBTC=calc_price("WBTC", 21_50))
    acct = A.Account(m, {"WBTC": 1.00999999}, {"USDX": 20_500.999999, "WETH": 0.002, "WBTC": 0.002})
    res = call(acct, "WBTC", "USDX", math.inf)
    assert set(res.deficit) == {"USDX", "WETH", "WBTC"}
    assert res.deficit["WETH"] == 0.002 and res.deficit["WBTC"] == 0.002
    assert all(v == 0.0 for v in acct.debt.values())
    liq, debt, fee = contract_amounts(int(20_500.999999 * 10**6), 100_999_999, 21_195.0, 1.0, 8, 6)
    assert units(res.debt_repaid, "USDX") == pytest.approx(debt, abs=UNITS)


def test_v32_keeps_debt_without_collateral():
    # tag v3.2.0: no deficit; a position without collateral keeps its debt (§1.6)
    m = market("v3.2", WBTC=calc_price("WBTC", 20_00))
    acct = A.Account(m, {"WBTC": 0.5}, {"USDX": 11_000.0})
    res = call(acct, "WBTC", "USDX", math.inf)
    assert res.deficit == {} and acct.debt["USDX"] == pytest.approx(11_000 - res.debt_repaid)
    assert m.reserves["USDX"].deficit == 0.0


# --- close factor (CF:119-282) ----------------------------------------------------------------


def _borrow_to_hf(m, coll, debt_asset, hf):
    """``_borrowToBeBelowHf`` (CF:284): borrow so that HF is just under ``hf``, with the test's
    ``percentMul(LT + 1)``."""
    c = sum(v * m.reserves[a].price for a, v in coll.items())
    return c * 0.8601 / hf / m.reserves[debt_asset].price


@pytest.mark.parametrize("hf, weth, cf", [
    (0.94, 100.0, 1.0),   # CF:119 hf <= 0.95, collateral above $2,000: 100 %
    (0.97, 0.5, 1.0),     # CF:123 hf > 0.95, collateral $900 < $2,000: 100 %
    (0.97, 100.0, 0.5),   # CF:127 hf > 0.95, collateral and debt above $2,000: 50 %
])
def test_close_factor_v33(hf, weth, cf):
    m = market()
    acct = A.Account(m, {"WETH": weth}, {})
    acct.debt["USDX"] = _borrow_to_hf(m, {"WETH": weth}, "USDX", hf)
    assert A.health_factor(acct) < hf
    d0 = acct.debt["USDX"]
    info = A.liquidation_info(acct, "WETH", "USDX")
    res = call(acct, "WETH", "USDX", math.inf)
    assert res.max_debt == pytest.approx(cf * d0, rel=1e-12)
    # _liquidateAndValidateCloseFactor: maxDebtToLiquidate = debt at 100 % × closeFactor
    assert res.debt_repaid == pytest.approx(min(info.max_debt_to_liquidate, res.max_debt), rel=1e-12)
    assert res.collateral_to_liquidator == pytest.approx(info.max_collateral_to_liquidate, rel=1e-12)


def test_close_factor_100_when_the_collateral_reserve_is_small():
    # CF:131: USDX and WETH collateral each just under $2,000, USDX debt above it, HF 0.97
    m = market()
    coll = {"USDX": 1_999.0, "WETH": 1_999.0 / 1_800.0}
    acct = A.Account(m, dict(coll), {})
    acct.debt["USDX"] = _borrow_to_hf(m, coll, "USDX", 0.97)
    assert acct.total_debt_value > 2_000 and A.health_factor(acct) > 0.95
    assert A.liquidation_info(acct, "WETH", "USDX").max_debt_to_liquidate > 0
    res = call(acct, "WETH", "USDX", math.inf)
    assert res.max_debt == pytest.approx(acct.debt["USDX"] + res.debt_repaid)  # 100 %


def test_close_factor_v32():
    # tag v3.2.0 _calculateDebt: 50 % of the reserve's debt while HF > 0.95, whatever the size
    m = market("v3.2")
    acct = A.Account(m, {"WETH": 0.5}, {})
    acct.debt["USDX"] = _borrow_to_hf(m, {"WETH": 0.5}, "USDX", 0.97)
    d0 = acct.debt["USDX"]
    res = call(acct, "WETH", "USDX", math.inf)
    assert res.max_debt == pytest.approx(0.5 * d0) and res.debt_repaid == pytest.approx(0.5 * d0)


# --- dust (CF:152-242) --------------------------------------------------------------------------


def test_must_not_leave_dust():
    # CF:152 test_shouldRevertIfCloseFactorIs100ButCollateralIsBelowThreshold: 2,000 USDX + 4 WETH,
    # USDX borrowed to HF 0.93, 956 USDX covered on the USDX collateral: 996.2 USDX would be left
    m = market()
    coll = {"USDX": 2_000.0, "WETH": 4.0}
    acct = A.Account(m, dict(coll), {})
    acct.debt["USDX"] = _borrow_to_hf(m, coll, "USDX", 0.93)
    with pytest.raises(A.MustNotLeaveDust) as e:
        A.liquidation_call(acct, "USDX", "USDX", 1_000.0 - 44.0)
    assert e.value.code == "103" and e.value.collateral_left_value == pytest.approx(2_000 - 956 * 1.05)
    assert acct.collateral == coll  # nothing changed
    # v3.2 has no dust rule
    m32 = market("v3.2")
    acct32 = A.Account(m32, dict(coll), {"USDX": acct.debt["USDX"]})
    assert call(acct32, "USDX", "USDX", 956.0).debt_repaid == 956.0


@pytest.mark.parametrize("usdx, weth_usd, borrowed_usdx", [
    (8_000.0, 0.0, 4_200.0),   # CF:178 test_liquidationdataprovider_edge_range
    (4_200.0, 4_000.0, 0.0),   # CF:211 test_liquidationdataprovider_edge_range_reverse
])
def test_max_reverts_with_dust_and_the_data_provider_amount_does_not(usdx, weth_usd, borrowed_usdx):
    m = market()
    coll = {"USDX": usdx}
    if weth_usd:
        coll["WETH"] = weth_usd / 1_800.0
    acct = A.Account(m, dict(coll), {"USDX": borrowed_usdx} if borrowed_usdx else {})
    debt_asset = "WETH" if borrowed_usdx else "USDX"
    c_value = sum(v * m.reserves[a].price for a, v in coll.items())
    already = borrowed_usdx
    acct.debt[debt_asset] = acct.debt.get(debt_asset, 0.0) + (c_value * 0.8601 / 0.98 - already) / m.reserves[debt_asset].price
    with pytest.raises(A.MustNotLeaveDust):
        A.liquidation_call(acct, "USDX", "USDX", math.inf)
    info = A.liquidation_info(acct, "USDX", "USDX")
    res = call(acct, "USDX", "USDX", info.amount_to_pass)
    assert res.debt_repaid == pytest.approx(info.max_debt_to_liquidate, rel=1e-12)
    assert min(acct.debt["USDX"], acct.collateral["USDX"]) >= 1_000.0 - 1e-6  # leftovers >= MIN_LEFTOVER_BASE


def test_health_factor_beside_the_kernel_and_in_data():
    """The vectorised health factor lives beside the Aave kernel; ``data.aave`` re-exports it."""
    import numpy as np

    from liqcascade.data.aave import aave_health_factor
    from liqcascade.protocols.aave import kernel as K
    from liqcascade.protocols.aave.health import health_factors

    assert aave_health_factor is health_factors
    m = market(WBTC=calc_price("WBTC", 40_00))
    acct = A.Account(m, {"WBTC": 1.0, "WETH": 2.0}, {"USDX": 10_000.0, "WETH": 1.0})
    names = list(m.reserves)
    c = np.array([acct.collateral.get(n, 0.0) for n in names])
    d = np.array([acct.debt.get(n, 0.0) for n in names])
    p = np.array([m.reserves[n].price for n in names])
    lt = np.full(3, 0.86)
    assert A.health_factor(acct) == pytest.approx(float(health_factors(c, d, p, lt)), rel=1e-15)
    assert A.health_factor(acct) == pytest.approx(float(K.health_factor(c, d, p, lt)), rel=1e-15)


def test_market_from_a_scenario():
    from pathlib import Path

    s = lc.load(Path(__file__).resolve().parents[2] / "examples" / "minimal.toml")
    m = A.Market.from_scenario(s)
    assert m.version == "v3.3" and m.reserves["WETH"].liquidation_threshold == 0.86
    assert m.reserves["WETH"].liquidation_bonus == 0.052 and m.reserves["WETH"].price == 2000.0
    acct = A.Account(m, {"WETH": 10.0}, {"USDC": 17_500.0})
    m.set_price("WETH", 1_800.0)
    res = call(acct, "WETH", "USDC", math.inf)
    # the engine's mechanical liquidator repays the same on a single pair (liquidate_pair)
    from liqcascade.protocols.aave import kernel as K

    seize, repay, bad, fee, _ = K.liquidate_pair(10.0, 17_500.0, 1_800.0, 1.0, 0.86, 0.052, 0.10, m.rules)
    assert res.debt_repaid == pytest.approx(repay, rel=1e-12)
    assert res.collateral_seized == pytest.approx(seize, rel=1e-12)
