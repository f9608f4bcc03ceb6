"""Conformance: ``lc.protocols.comet.absorb`` / ``buy_collateral`` against compound-finance/comet's
own tests (HEAD ``d5a30b0aaeff7755f1431e87f818990902237b03``):

* ``test/absorb-test.ts`` (``AB:<line>``) and ``test/buy-collateral-test.ts`` (``BC:<line>``),
* the default market of ``test/helpers.ts`` (``defaultAssets``, L201-230; ``makeProtocol``):
  COMP $175, WETH $3,000, WBTC $41,000, USDC $1; factors 1 unless a test overrides them
  (``liquidationFactor`` and ``liquidateCF`` default to 1, ``storeFrontPriceFactor`` to 1,
  ``targetReserves`` to 0); interest rates set to 0 in the absorb tests.

Amounts here are in whole tokens (the tests' ``exp(x, decimals)`` divided by the decimals).
"""

from __future__ import annotations

import pytest

import liqcascade as lc

C = lc.protocols.comet
PRICES = {"COMP": 175.0, "WETH": 3_000.0, "WBTC": 41_000.0}


def default_market(**kw):
    assets = {a: C.Asset(price=p, borrow_collateral_factor=kw.pop("borrow_cf", 1.0 - 1e-18),
                         liquidate_collateral_factor=kw.pop("liquidate_cf", 1.0), liquidation_factor=1.0)
              for a, p in PRICES.items()}
    kw.setdefault("store_front_price_factor", 1.0)
    kw.setdefault("target_reserves", 0.0)
    return C.Market(assets, **kw)


def test_absorb_one_account_without_collateral():
    # AB:12: totalBorrowBase 100 (base units), the account owes 100: reserves 100 -> 0
    m = default_market(total_borrow_base=100e-6)
    m.accounts["underwater"] = C.Account(principal=-100e-6)
    assert m.reserves == pytest.approx(100e-6)
    r = C.absorb(m, ["underwater"], "absorber")
    assert m.total_supply_base == 0.0 and m.total_borrow_base == pytest.approx(0.0, abs=1e-18)
    assert m.reserves == pytest.approx(0.0, abs=1e-18)
    assert m.accounts["underwater"].principal == 0.0
    assert m.liquidator_points["absorber"] == {"num_absorbs": 1, "num_absorbed": 1}
    assert r.accounts[0].base_paid_out == pytest.approx(100e-6)  # AbsorbDebt.basePaidOut


def test_absorb_two_accounts():
    # AB:80: totalBorrowBase 2000; accounts owe 100 and 700: totalBorrowBase and reserves 1200
    m = default_market(total_borrow_base=2000e-6)
    m.accounts["u1"] = C.Account(-100e-6)
    m.accounts["u2"] = C.Account(-700e-6)
    C.absorb(m, ["u1", "u2"], "absorber")
    assert m.total_borrow_base == pytest.approx(1200e-6) and m.reserves == pytest.approx(1200e-6)
    assert m.liquidator_points["absorber"] == {"num_absorbs": 1, "num_absorbed": 2}


def test_absorb_three_accounts_with_collateral():
    # AB:160: totalBorrowBase 3e15 USDC, totalSupplyBase 4e15; the collateral credit never covers
    # the debts, so the reserves lose every debt and keep every collateral
    m = default_market(total_borrow_base=3e15, total_supply_base=4e15)
    debts = {"u1": 1.0, "u2": 1e6, "u3": 1e12}  # exp(1,6), exp(1,12), exp(1,18) base units
    colls = {"u1": {"COMP": 1e-6}, "u2": {"COMP": 10.0, "WETH": 1.0},
             "u3": {"COMP": 10_000.0, "WETH": 50.0, "WBTC": 50.0}}
    for u in debts:
        m.accounts[u] = C.Account(-debts[u], colls[u])
    for a in PRICES:  # bumpTotalsCollateral
        tot = sum(c.get(a, 0.0) for c in colls.values())
        m.assets[a].total_supply = m.assets[a].balance = tot
    assert m.reserves == pytest.approx(-1e15)
    r = C.absorb(m, ["u1", "u2", "u3"])
    assert m.total_supply_base == 4e15
    assert m.total_borrow_base == pytest.approx(3e15 - 1e12 - 1e6 - 1.0, rel=1e-15)
    assert m.reserves == pytest.approx(-1e15 - 1.0 - 1e6 - 1e12, rel=1e-15)
    for a in PRICES:  # every collateral is now the protocol's (reserves), nothing is the users'
        assert m.assets[a].total_supply == pytest.approx(0.0, abs=1e-9)
        assert m.collateral_reserves(a) == pytest.approx(sum(c.get(a, 0.0) for c in colls.values()))
    # AbsorbCollateral.usdValue = amount · price
    assert r.accounts[2].collateral_value == {"COMP": 1_750_000.0, "WETH": 150_000.0, "WBTC": 2_050_000.0}
    assert all(a.new_principal == 0.0 for a in r.accounts)


def test_absorb_with_more_than_enough_collateral():
    # AB:361: borrowCF 1/2, liquidateCF 2/3; debt 44,174.999999 USDC against 1 COMP, 1 WETH and
    # 1 WBTC (44,175 USD, liquidationFactor 1): the borrower keeps 1 base unit as supply
    m = default_market(borrow_cf=0.5, liquidate_cf=2 / 3)
    debt = 41_000 + 3_000 + 175 - 1e-6
    m.total_borrow_base = debt
    for a in PRICES:
        m.assets[a].total_supply = m.assets[a].balance = 1.0
    m.accounts["u"] = C.Account(-debt, {a: 1.0 for a in PRICES})
    assert m.reserves == pytest.approx(debt)
    assert C.is_liquidatable(m, "u")
    r = C.absorb(m, "u")
    assert m.accounts["u"].principal == pytest.approx(1e-6, abs=1e-9)  # pU1.internal.USDC == 1
    assert m.total_supply_base == pytest.approx(1e-6, abs=1e-9)  # finalDebt
    assert m.total_borrow_base == 0.0
    assert m.reserves == pytest.approx(-1e-6, abs=1e-9)
    assert r.accounts[0].base_paid_out == pytest.approx(debt + 1e-6, rel=1e-12)
    assert r.accounts[0].shortfall == 0.0


def test_absorb_reverts():
    # AB:485 not underwater -> NotLiquidatable; AB:495 paused -> Paused
    m = default_market()
    m.add_account("alice", 0.0)
    with pytest.raises(C.NotLiquidatable):
        C.absorb(m, ["alice"])
    m.absorb_paused = True
    with pytest.raises(C.Paused):
        C.absorb(m, ["alice"])


def _buy_market(lf, target, **kw):
    # BC:5 makeProtocol: USDC and COMP at $1, SFPF 0.5
    return C.Market({"COMP": C.Asset(price=1.0, liquidation_factor=lf)}, store_front_price_factor=0.5,
                    target_reserves=target, **kw)


def test_buy_collateral_below_target():
    # BC:5: LF 0.8, SFPF 0.5 -> 10 % off; 60 COMP held, reserves 0 < target 100 (base units);
    # 50 USDC buy 55.555555555555555555 COMP; reserves 50 USDC afterwards
    m = _buy_market(0.8, 100e-6)
    m.assets["COMP"].balance = 60.0
    got = C.buy_collateral(m, "COMP", 50.0, 50.0)
    assert got == pytest.approx(55.555555555555555555, rel=1e-15)
    assert m.reserves == 50.0 and m.assets["COMP"].balance == pytest.approx(60 - got)


def test_buy_collateral_with_negative_reserves_and_zero_target():
    # BC:74: reserves -100 USDC, target 0: buying is open; reserves -50 afterwards
    m = _buy_market(0.8, 0.0, total_borrow_base=0.0, total_supply_base=100.0)
    m.assets["COMP"].balance = 60.0
    assert m.reserves == -100.0
    assert C.buy_collateral(m, "COMP", 50.0, 50.0) == pytest.approx(55.555555555555555555, rel=1e-15)
    assert m.reserves == -50.0


def test_buy_only_what_belongs_to_no_user():
    # BC:136 / BC:184: LF 1 (no discount), 60 COMP held; users own 10 -> 50 can be bought;
    # users own 20 -> only 40 are reserves: InsufficientReserves
    m = _buy_market(1.0, 100e6)
    m.assets["COMP"].balance = 60.0
    m.assets["COMP"].total_supply = 10.0
    assert C.buy_collateral(m, "COMP", 50.0, 50.0) == 50.0 and m.reserves == 50.0
    m2 = _buy_market(1.0, 100e6)
    m2.assets["COMP"].balance = 60.0
    m2.assets["COMP"].total_supply = 20.0
    with pytest.raises(C.InsufficientReserves) as e:
        C.buy_collateral(m2, "COMP", 50.0, 50.0)
    assert e.value.collateral_reserves == 40.0 and m2.reserves == 0.0


def test_buy_collateral_reverts():
    # BC:220 reserves 100 USDC >= target 0 -> NotForSale; BC:245 minAmount 100 > 50 -> TooMuchSlippage
    m = _buy_market(1.0, 0.0, base_balance=100.0)
    m.assets["COMP"].balance = 50.0
    with pytest.raises(C.NotForSale):
        C.buy_collateral(m, "COMP", 50.0, 50.0)
    m = _buy_market(1.0, 100e-6)
    m.assets["COMP"].balance = 50.0
    with pytest.raises(C.TooMuchSlippage):
        C.buy_collateral(m, "COMP", 100.0, 50.0)
    m.buy_paused = True
    with pytest.raises(C.Paused):
        C.buy_collateral(m, "COMP", 1.0, 1.0)


def test_absorb_then_buy_on_the_launch_preset():
    """The two steps together on cUSDCv3's launch factors: absorb credits value·LF, the
    protocol sells at P·(1 − SFPF·(1 − LF)) while the reserves are below target."""
    m = C.Market.from_preset("cUSDCv3-launch", {"WETH": 2_000.0, "USDC": 1.0}, total_supply_base=1e6,
                             base_balance=1e6)
    m.add_account("bob", -1_700.0, {"WETH": 1.0})
    assert not C.is_liquidatable(m, "bob")  # 2,000 · 0.895 = 1,790 > 1,700
    m.set_price("WETH", 1_850.0)  # 1,655.75 < 1,700
    r0 = m.reserves
    r = C.absorb(m, ["bob"])
    credit = 1_850.0 * 0.95
    assert m.accounts["bob"].principal == pytest.approx(credit - 1_700.0)  # a supplier now
    assert m.reserves == pytest.approx(r0 - credit)
    assert r.accounts[0].shortfall == 0.0
    price = 1_850.0 * (1 - 0.5 * 0.05)  # 2.5 % store-front discount
    got = C.buy_collateral(m, "WETH", 0.0, 900.0)
    assert got == pytest.approx(900.0 / price)
    assert C.quote_collateral(m, "WETH", 900.0) == got
