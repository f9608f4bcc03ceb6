"""Conformance: Compound v3 (Comet) unit against protocol-mechanics.md §2 (and §8.3).

Every test checks conservation by name (``assert_conserved``): collateral (accounts +
collateral reserves + bought = constant per asset), base (debt, supply, reserves and base cash
moved only by absorbs and purchases), the split of absorbed debt into credit-covered and
shortfall, and the accumulators/events against those flows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.errors import InputError
from liqcascade.protocols.comet import kernel as K
from liqcascade.protocols.comet import twin as KP
from liqcascade.protocols.kernel import (
    ACC_BAD,
    ACC_BONUS,
    ACC_FEES,
    ACC_FUND_DRAW,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_CAPITAL,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
    NACC,
    NLIQ,
)
from liqcascade.venues.pack import make_venue_state
from liqcascade.protocols.comet import model as C
from liqcascade.protocols.comet import pack as C_pack

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-9

LAUNCH = C.CometConfig(**C.PRESETS["cUSDCv3-launch"])
NAMES = ["USDC", *LAUNCH.assets]  # asset 0 = base
IDX = {n: i for i, n in enumerate(NAMES)}
P0 = np.array([1.0, 2000.0, 30000.0, 50.0, 6.0, 7.0])


# --- helpers -------------------------------------------------------------------------------


def liq_settings(mode=0, gas=0.0, capital=math.inf, max_n=0):
    liq = np.zeros(NLIQ)
    liq[LQ_MODE] = mode
    liq[LQ_GAS] = gas
    liq[LQ_CAPITAL] = capital
    liq[LQ_MAX] = max_n
    return liq


def pools(prices, depth=1e4, fee=0.003, assets=None):
    """One constant-product pool per collateral asset (assets 1..), spot = price."""
    assets = list(range(1, len(prices))) if assets is None else assets
    vs, vdk, vdq = make_venue_state([
        {"kind": "cpmm", "asset": a, "reserve_asset": depth, "reserve_quote": depth * prices[a], "fee": fee}
        for a in assets
    ])
    A = len(prices)
    av_ptr = np.zeros(A + 1, np.int64)
    for a in assets:
        av_ptr[a + 1:] += 1
    return vs, vdk, vdq, av_ptr, np.arange(len(assets), dtype=np.int64)


def no_venues(n_assets):
    vs = np.zeros((0, 9))
    return vs, np.zeros((0, 1)), np.zeros((0, 1)), np.zeros(n_assets + 1, np.int64), np.zeros(0, np.int64)


def ev_buffers(cap=256):
    i = lambda: np.zeros(cap, np.int64)  # noqa: E731
    f = lambda: np.zeros(cap, np.float64)  # noqa: E731
    return [i(), i(), i(), i(), f(), f(), f(), f(), f(), f(), f()]


def step(pack, prices, venues, liq, sold=None, twin=False, t=1):
    """One unit step. Returns (acc, sold, events dict)."""
    vs, vdk, vdq, av_ptr, av_idx = venues
    sold = np.zeros(len(prices)) if sold is None else sold
    acc = np.zeros(NACC)
    ev = ev_buffers()
    fn = KP.comet_step if twin else K.comet_step
    n = fn(pack, t, 60.0, np.asarray(prices, float), vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
           *ev, 0, 0, 0)
    return acc, sold, {k: b[:n].copy() for k, b in zip(C_pack.EVENT_FIELDS, ev)}


def close(a, b, rtol=RTOL, atol=1e-9):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol, equal_nan=True)


def assert_conserved(before, after, acc, events=None, sold_delta=None):
    """Every unit of collateral and base accounted for, by name (see module doc)."""
    scale = 1.0 + before["debt"] + before["supply"] + abs(before["reserves"])
    atol = 1e-9 * scale
    # collateral, per slot
    tot_b = before["collateral_held"] + before["collateral_reserves"] + before["collateral_bought"]
    tot_a = after["collateral_held"] + after["collateral_reserves"] + after["collateral_bought"]
    assert close(tot_b, tot_a, atol=1e-9 * (1 + tot_b.max(initial=0)))
    d_seized = after["collateral_seized"] - before["collateral_seized"]
    d_bought = after["collateral_bought"] - before["collateral_bought"]
    assert close(d_seized, before["collateral_held"] - after["collateral_held"], atol=1e-9 * (1 + tot_b.max(initial=0)))
    assert close(after["collateral_reserves"] - before["collateral_reserves"], d_seized - d_bought,
                 atol=1e-9 * (1 + tot_b.max(initial=0)))
    assert np.all(after["collateral_reserves"] >= 0) and np.all(after["collateral_held"] >= 0)
    # base
    d_abs = after["debt_absorbed"] - before["debt_absorbed"]
    d_sup = after["supply_credited"] - before["supply_credited"]
    d_short = after["shortfall"] - before["shortfall"]
    d_buy = after["base_from_buyers"] - before["base_from_buyers"]
    assert after["debt"] == pytest.approx(before["debt"] - d_abs, abs=atol)
    assert after["supply"] == pytest.approx(before["supply"] + d_sup, abs=atol)
    assert after["reserves"] == pytest.approx(before["reserves"] - d_abs - d_sup + d_buy, abs=atol)
    assert after["base_cash"] == pytest.approx(before["base_cash"] + d_buy, abs=atol)
    d_rep = after["repaid_by_credit"] - before["repaid_by_credit"]
    assert d_abs == pytest.approx(d_rep + d_short, abs=atol)
    assert d_short >= -atol and d_rep >= -atol
    assert acc[ACC_NLIQ] == after["num_absorbed"] - before["num_absorbed"]
    assert acc[ACC_GAS] == pytest.approx(after["approx_spend"] - before["approx_spend"]
                                         + after["buy_gas"] - before["buy_gas"], abs=1e-9)
    if events is not None:
        absorb = events["position"] >= 0
        buys = ~absorb
        # absorb events: collateral, value, credit-covered debt, bad debt, penalty
        for k, a in enumerate(after["collateral_assets"]):
            m = absorb & (events["asset"] == a)
            assert events["collateral_seized"][m].sum() == pytest.approx(d_seized[k], rel=RTOL, abs=1e-12)
        assert (events["collateral_seized"][absorb] * events["oracle_price"][absorb]).sum() == \
            pytest.approx(acc[ACC_LIQ_VALUE], rel=RTOL, abs=1e-9)
        assert events["debt_repaid"][absorb].sum() == pytest.approx(d_rep, rel=RTOL, abs=atol)
        assert events["bad_debt"][absorb].sum() == pytest.approx(acc[ACC_BAD], rel=RTOL, abs=atol)
        assert (events["protocol_fee"][absorb] * events["oracle_price"][absorb]).sum() == \
            pytest.approx(acc[ACC_FEES], rel=RTOL, abs=1e-9)
        assert np.all(events["bonus_paid"][absorb] == 0.0)  # the absorber gets nothing (§2.2)
        if buys.any():
            assert events["collateral_seized"][buys].sum() == pytest.approx(d_bought.sum(), rel=RTOL, abs=1e-12)
            assert events["debt_repaid"][buys].sum() == pytest.approx(d_buy, rel=RTOL, abs=atol)
            assert events["bonus_paid"][buys].sum() == pytest.approx(acc[ACC_BONUS], rel=RTOL, abs=1e-9)
    if sold_delta is not None:
        for k, a in enumerate(after["collateral_assets"]):
            assert sold_delta[a] == pytest.approx(d_bought[k], rel=RTOL, abs=1e-12)


def assert_step_values(before, after, acc, px, pb, lf):
    """Single-step value identities at constant prices (px per slot, pb base price)."""
    d_seized = after["collateral_seized"] - before["collateral_seized"]
    d_bought = after["collateral_bought"] - before["collateral_bought"]
    d_abs = after["debt_absorbed"] - before["debt_absorbed"]
    d_sup = after["supply_credited"] - before["supply_credited"]
    d_short = after["shortfall"] - before["shortfall"]
    d_buy = after["base_from_buyers"] - before["base_from_buyers"]
    v = float(np.sum(d_seized * px))
    tol = 1e-9 * (1 + v + d_abs * pb)
    assert acc[ACC_LIQ_VALUE] == pytest.approx(v, rel=RTOL, abs=tol)
    assert acc[ACC_FEES] == pytest.approx(float(np.sum(d_seized * px * (1 - lf))), rel=RTOL, abs=tol)
    assert acc[ACC_REPAID] + acc[ACC_BAD] == pytest.approx(d_abs * pb, rel=RTOL, abs=tol)
    assert acc[ACC_BAD] == pytest.approx(d_short * pb, rel=RTOL, abs=tol)
    assert acc[ACC_FUND_DRAW] == pytest.approx((d_abs + d_sup) * pb, rel=RTOL, abs=tol)
    # protocol P&L at absorb: collateral value in, base paid out = penalty − bad debt
    assert acc[ACC_LIQ_VALUE] - acc[ACC_FUND_DRAW] == pytest.approx(acc[ACC_FEES] - acc[ACC_BAD], rel=1e-7, abs=tol)
    # buyers' gain = market value at the protocol price − base paid
    assert acc[ACC_BONUS] == pytest.approx(float(np.sum(d_bought * px)) - d_buy * pb, rel=1e-7, abs=tol)


def market(principal, coll, *, config=LAUNCH, reserves=None, cres=None):
    cfg = config if reserves is None else config.model_copy(update={"initial_reserves": reserves})
    pack = C_pack.build_pack(cfg, principal, coll, IDX)
    if cres is not None:
        pack[K.PK_CRES][:] = cres
    return pack


def lf_of(pack):
    return pack[K.PK_FAC][:, K.F_LF].copy()


# --- reference formulas and worked values ----------------------------------------------------


def test_store_front_discount_is_2_5_percent_at_lf_095_and_factor_05():
    # §2.3: "LF 0.95 with SFPF 0.5 gives a 2.5% store-front discount"
    assert K.store_front_discount(0.95, 0.5) == pytest.approx(0.025, abs=1e-15)
    assert KP.store_front_discount(0.95, 0.5) == pytest.approx(0.025, abs=1e-15)
    assert K.store_front_price(2000.0, 0.95, 0.5) == pytest.approx(1950.0, rel=1e-15)
    # quoteCollateral: collateralOut = baseAmount·P_base / discountedPrice
    assert K.quote_collateral(1950.0, 2000.0, 0.95, 0.5, 1.0) == pytest.approx(1.0, rel=1e-15)
    assert KP.quote_collateral(1950.0, 2000.0, 0.95, 0.5, 1.0) == pytest.approx(1.0, rel=1e-15)
    # LF 0.93 (COMP/UNI/LINK at launch): 3.5 %
    assert K.store_front_discount(0.93, 0.5) == pytest.approx(0.035, abs=1e-15)
    # a buy through the step pays exactly 97.5 % of the oracle price per WETH
    pack = market([0.0], np.zeros((1, 5)), reserves=0.0, cres=[3.0, 0, 0, 0, 0])
    venues = pools(P0, depth=1e6, fee=0.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, venues, liq_settings())
    after = C_pack.totals(pack)
    assert after["collateral_bought"][0] == pytest.approx(3.0)
    assert after["base_from_buyers"] == pytest.approx(3.0 * 2000.0 * 0.975, rel=1e-14)
    assert acc[ACC_BONUS] == pytest.approx(3.0 * 2000.0 * 0.025, rel=1e-12)
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))


def test_absorb_of_underwater_account_costs_reserves_the_shortfall():
    # debt 1000 USDC, 0.5 WETH at 2000 = 1000: liquidity = −1000 + 1000·0.895 < 0.
    # credit = 1000·0.95 = 950 → newBalance = −50 → floored at 0: shortfall 50 (§2.2).
    r0 = 2_000_000.0
    coll = np.zeros((1, 5))
    coll[0, 0] = 0.5
    pack = market([-1000.0], coll, reserves=r0)
    venues = no_venues(6)  # nobody can buy: isolate the absorb
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, venues, liq_settings(gas=3.0))
    after = C_pack.totals(pack)
    assert pack[K.PK_PRINCIPAL][0] == 0.0
    assert after["shortfall"] == pytest.approx(50.0, rel=1e-12)
    assert acc[ACC_BAD] == pytest.approx(50.0, rel=1e-12)
    # "Reserves pay out newBalance − oldBalance" = 0 − (−1000): the base reserves fall by the
    # whole debt, of which 950 is matched by the WETH now held as collateral reserves …
    assert after["reserves"] == pytest.approx(r0 - 1000.0, rel=1e-15)
    assert after["collateral_reserves"][0] == 0.5
    # … so the protocol's equity, collateral valued at the credit it gave (value·LF), falls by
    # exactly the shortfall.
    eq_b = before["reserves"]
    eq_a = after["reserves"] + 0.5 * 2000.0 * 0.95
    assert eq_b - eq_a == pytest.approx(50.0, rel=1e-12)
    # the absorber gets nothing; liquidatorPoints count the absorb and its gas
    assert ev["bonus_paid"].tolist() == [0.0]
    assert after["num_absorbs"] == 1 and after["num_absorbed"] == 1 and after["approx_spend"] == 3.0
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))


def test_absorb_positive_remainder_becomes_supply_owned_by_the_borrower():
    coll = np.zeros((1, 5))
    coll[0, 0] = 0.5  # 1000 USD, credit 950
    pack = market([-900.0], coll, reserves=100.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    after = C_pack.totals(pack)
    assert pack[K.PK_PRINCIPAL][0] == pytest.approx(50.0, rel=1e-12)
    assert after["supply"] == pytest.approx(50.0, rel=1e-12)
    assert after["shortfall"] == 0.0 and acc[ACC_BAD] == 0.0
    assert after["reserves"] == pytest.approx(100.0 - 950.0, rel=1e-12)  # reserves may go negative
    assert acc[ACC_FEES] == pytest.approx(50.0, rel=1e-12)  # 5 % penalty
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))


def test_buy_collateral_refused_when_reserves_at_or_above_target():
    venues_args = dict(depth=1e6, fee=0.0)
    for reserves, expect_buy in ((5_000_000.0, False), (6_000_000.0, False),
                                 (4_999_999.0, True), (-10.0, True)):
        pack = market([0.0], np.zeros((1, 5)), reserves=reserves, cres=[1.0, 0, 0, 0, 0])
        before = C_pack.totals(pack)
        acc, sold, ev = step(pack, P0, pools(P0, **venues_args), liq_settings())
        after = C_pack.totals(pack)
        assert (after["num_buys"] == 1) == expect_buy, reserves
        assert_conserved(before, after, acc, ev, sold)
        assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))
    # target 0 (never for sale) still sells while reserves are negative
    cfg0 = LAUNCH.model_copy(update={"target_reserves": 0.0})
    for reserves, expect_buy in ((0.0, False), (-1.0, True)):
        pack = market([0.0], np.zeros((1, 5)), config=cfg0, reserves=reserves, cres=[1.0, 0, 0, 0, 0])
        before = C_pack.totals(pack)
        acc, sold, ev = step(pack, P0, pools(P0, **venues_args), liq_settings())
        after = C_pack.totals(pack)
        assert (after["num_buys"] == 1) == expect_buy
        assert_conserved(before, after, acc, ev, sold)
    # the check is made before each call: a purchase that crosses the target completes, the
    # next asset's purchase is refused
    pack = market([0.0], np.zeros((1, 5)), reserves=4_999_000.0, cres=[1.0, 0.1, 0, 0, 0])
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, pools(P0, **venues_args), liq_settings())
    after = C_pack.totals(pack)
    assert after["collateral_bought"].tolist()[:2] == [1.0, 0.0]
    assert after["reserves"] > 5_000_000.0
    assert_conserved(before, after, acc, ev, sold)


def test_non_negative_liquidity_is_not_absorbable():
    cfg = LAUNCH.model_copy(update={"assets": {
        **LAUNCH.assets,
        "WETH": C.CometAsset(borrow_collateral_factor=0.5, liquidate_collateral_factor=0.75, liquidation_factor=0.95),
    }})
    coll = np.zeros((4, 5))
    coll[:, 0] = 1.0  # 2000 USD · 0.75 = 1500 exactly
    principal = [-1500.0, -1500.0 - 1e-9 * 1500, 10.0, -1499.0]
    pack = market(principal, coll, config=cfg, reserves=0.0)
    px = P0[1:]
    lcf = pack[K.PK_FAC][:, K.F_LIQ_CF].copy()
    assert K.liquidity(-1500.0, coll[0], px, lcf, 1.0) == 0.0
    expect = [False, True, False, False]
    for i in range(4):
        assert K.is_liquidatable(pack[K.PK_PRINCIPAL][i], coll[i], px, lcf, 1.0) == expect[i]
        assert KP.is_liquidatable(pack[K.PK_PRINCIPAL][i], coll[i], px, lcf, 1.0) == expect[i]
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    after = C_pack.totals(pack)
    assert ev["position"].tolist() == [1]
    assert pack[K.PK_COLL][[0, 2, 3], 0].tolist() == [1.0, 1.0, 1.0]
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, px, 1.0, lf_of(pack))


def test_multi_collateral_absorb_seizes_and_credits_every_asset():
    amounts = np.array([0.3, 0.01, 4.0, 20.0, 15.0])  # every launch collateral
    value = amounts * P0[1:]
    lf = np.array([0.95, 0.95, 0.93, 0.93, 0.93])
    liq_cf = np.array([0.895, 0.77, 0.70, 0.81, 0.85])
    debt = float(np.sum(value * liq_cf)) + 1.0  # just liquidatable
    pack = market([-debt], amounts.reshape(1, 5), reserves=0.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    after = C_pack.totals(pack)
    credit = float(np.sum(value * lf))
    assert np.all(pack[K.PK_COLL][0] == 0.0)
    assert after["collateral_reserves"] == pytest.approx(amounts)
    assert ev["asset"].tolist() == [1, 2, 3, 4, 5]
    assert ev["collateral_seized"] == pytest.approx(amounts)
    assert acc[ACC_LIQ_VALUE] == pytest.approx(value.sum(), rel=1e-12)
    new = max(-debt + credit, 0.0)
    assert pack[K.PK_PRINCIPAL][0] == pytest.approx(new, rel=1e-12, abs=1e-9)
    assert after["shortfall"] == pytest.approx(max(debt - credit, 0.0), rel=1e-9, abs=1e-9)
    # each asset's event carries its share of the credit
    assert ev["debt_repaid"] == pytest.approx(min(debt, credit) * value * lf / credit, rel=1e-12)
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf)


def test_account_with_debt_and_no_collateral_is_all_shortfall():
    pack = market([-250.0, -10.0], np.zeros((2, 5)), reserves=1000.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    after = C_pack.totals(pack)
    assert after["shortfall"] == pytest.approx(260.0)
    assert ev["asset"].tolist() == [0, 0] and ev["bad_debt"].tolist() == [250.0, 10.0]
    assert after["reserves"] == pytest.approx(740.0)
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))


def test_pause_flags_block_absorb_and_buy():
    coll = np.zeros((1, 5))
    coll[0, 0] = 0.5
    cfg = LAUNCH.model_copy(update={"absorb_paused": True, "buy_paused": True})
    pack = market([-1000.0], coll, config=cfg, reserves=0.0, cres=[1.0, 0, 0, 0, 0])
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, pools(P0, depth=1e6), liq_settings())
    after = C_pack.totals(pack)
    assert after["num_absorbed"] == 0 and after["num_buys"] == 0 and len(ev["step"]) == 0
    assert_conserved(before, after, acc, ev, sold)


def test_buyers_size_to_the_venue_capital_and_gas():
    # shallow pool: buying stops where the pool's marginal bid meets the store-front price
    pack = market([0.0], np.zeros((1, 5)), reserves=0.0, cres=[100.0, 0, 0, 0, 0])
    venues = pools(P0, depth=200.0, fee=0.003)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, venues, liq_settings())
    after = C_pack.totals(pack)
    q = after["collateral_bought"][0]
    assert 0 < q < 100.0
    vs = venues[0].copy()
    from liqcascade.venues.dispatch import venue_sell, venue_spot

    venue_sell(vs, venues[1], venues[2], 0, q)
    assert venue_spot(vs, 0) * 0.997 == pytest.approx(2000.0 * 0.975, rel=1e-9)
    assert_conserved(before, after, acc, ev, sold)
    assert_step_values(before, after, acc, P0[1:], 1.0, lf_of(pack))
    # capital per step caps the purchase (quote at the store-front price)
    pack = market([0.0], np.zeros((1, 5)), reserves=0.0, cres=[100.0, 0, 0, 0, 0])
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, pools(P0, depth=1e6), liq_settings(capital=19_500.0))
    after = C_pack.totals(pack)
    assert after["collateral_bought"][0] == pytest.approx(10.0, rel=1e-12)
    assert_conserved(before, after, acc, ev, sold)
    # gas larger than the discount: nobody buys
    pack = market([0.0], np.zeros((1, 5)), reserves=0.0, cres=[0.01, 0, 0, 0, 0])
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, pools(P0, depth=1e6), liq_settings(gas=1.0))
    after = C_pack.totals(pack)
    assert after["num_buys"] == 0
    assert_conserved(before, after, acc, ev, sold)
    # venue below the store-front price (oracle lags a crash): nobody buys
    pack = market([0.0], np.zeros((1, 5)), reserves=0.0, cres=[1.0, 0, 0, 0, 0])
    low = P0.copy()
    low[1] *= 0.9
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, pools(low, depth=1e6), liq_settings())
    after = C_pack.totals(pack)
    assert after["num_buys"] == 0 and sold.sum() == 0
    assert_conserved(before, after, acc, ev, sold)


def test_rational_absorber_needs_an_open_store_and_a_profitable_bundle():
    coll = np.zeros((1, 5))
    coll[0, 0] = 0.5
    venues = pools(P0, depth=1e6, fee=0.0)
    # reserves stay ≥ target after paying out 1000: rational absorbers wait, mechanical ones don't
    for mode, expect in ((1, 0), (0, 1)):
        pack = market([-1000.0], coll, reserves=5_001_000.0)
        before = C_pack.totals(pack)
        acc, sold, ev = step(pack, P0, venues, liq_settings(mode=mode))
        after = C_pack.totals(pack)
        assert after["num_absorbed"] == expect
        assert_conserved(before, after, acc, ev, sold)
    # store open after the absorb and a 2.5 % discount worth 25 > 2 gas of 10 → absorb and buy
    pack = market([-1000.0], coll, reserves=5_000_500.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, venues, liq_settings(mode=1, gas=10.0))
    after = C_pack.totals(pack)
    assert after["num_absorbed"] == 1 and after["num_buys"] == 1
    assert_conserved(before, after, acc, ev, sold)
    # gas of 13 per call: 25 − 26 < 0 → no absorb
    pack = market([-1000.0], coll, reserves=0.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, venues, liq_settings(mode=1, gas=13.0))
    after = C_pack.totals(pack)
    assert after["num_absorbed"] == 0
    assert_conserved(before, after, acc, ev, sold)


def test_unsold_collateral_stays_on_the_books_marked_to_market():
    coll = np.zeros((1, 5))
    coll[0, 0] = 0.5
    pack = market([-1000.0], coll, reserves=6_000_000.0)  # above target: not for sale
    venues = pools(P0, depth=1e6)
    path = np.vstack([P0, P0, P0 * np.array([1, 0.5, 1, 1, 1, 1])])
    before = C_pack.totals(pack)
    out = C_pack.run_unit(pack, path, venues[0], venues[1], venues[2], venues[3], venues[4], liq_settings(), 60.0)
    after = out["totals"]
    assert after["collateral_reserves"][0] == 0.5 and after["num_buys"] == 0
    assert after["collateral_reserves_value"] == pytest.approx(0.5 * 1000.0)
    assert after["protocol_equity"] == pytest.approx(6_000_000.0 - 1000.0 + 500.0)
    assert_conserved(before, after, out["acc"], out["events"], out["sold"].sum(axis=0))


def test_liquidatable_and_borrow_collateralized_use_their_own_factors():
    coll = np.array([[1.0, 0, 0, 0, 0]])
    px = P0[1:]
    fac = C_pack.build_pack(LAUNCH, [0.0], coll, IDX)[K.PK_FAC]
    bcf, lcf = fac[:, K.F_BORROW_CF].copy(), fac[:, K.F_LIQ_CF].copy()
    # 2000·0.825 = 1650 borrowable, liquidatable above 2000·0.895 = 1790
    for d, borrow_ok, liquidatable in ((1650.0, True, False), (1700.0, False, False), (1791.0, False, True)):
        assert K.is_borrow_collateralized(-d, coll[0], px, bcf, 1.0) == borrow_ok
        assert KP.is_borrow_collateralized(-d, coll[0], px, bcf, 1.0) == borrow_ok
        assert K.is_liquidatable(-d, coll[0], px, lcf, 1.0) == liquidatable
    pack = market([-1650.0, -1700.0, -1791.0], np.repeat(coll, 3, axis=0), reserves=0.0)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    after = C_pack.totals(pack)
    assert ev["position"].tolist() == [2]
    assert_conserved(before, after, acc, ev, sold)


# --- configuration --------------------------------------------------------------------------


def test_launch_preset_is_the_reference_configuration():
    p = C.PRESETS["cUSDCv3-launch"]
    assert (p["store_front_price_factor"], p["target_reserves"], p["borrow_min"]) == (0.5, 5_000_000.0, 100.0)
    table = {"WETH": (0.825, 0.895, 0.95), "WBTC": (0.70, 0.77, 0.95), "COMP": (0.65, 0.70, 0.93),
             "UNI": (0.75, 0.81, 0.93), "LINK": (0.79, 0.85, 0.93)}
    assert list(p["assets"]) == list(table)
    pack = market([0.0] * 5, np.zeros((5, 5)), reserves=0.0)
    for k, (name, (b, lq, lf)) in enumerate(table.items()):
        a = p["assets"][name]
        assert (a["borrow_collateral_factor"], a["liquidate_collateral_factor"], a["liquidation_factor"]) == (b, lq, lf)
        assert pack[K.PK_FAC][k].tolist() == [b, lq, lf]  # exact at 4 decimals
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, P0, no_venues(6), liq_settings())
    assert_conserved(before, C_pack.totals(pack), acc, ev, sold)


def test_configurator_checks():
    ok = {"borrow_collateral_factor": 0.8, "liquidate_collateral_factor": 0.85, "liquidation_factor": 0.95}
    with pytest.raises(ValueError, match="BorrowCFTooLarge"):
        C.CometAsset(**{**ok, "borrow_collateral_factor": 0.85})
    with pytest.raises(ValueError, match="BorrowCFTooLarge"):
        C.CometAsset(**{**ok, "borrow_collateral_factor": 0.84999, "liquidate_collateral_factor": 0.849999})
    with pytest.raises(ValueError, match="LiquidateCFTooLarge"):
        C.CometAsset(**{**ok, "liquidate_collateral_factor": 1.01})
    with pytest.raises(ValueError, match="LiqPenaltyTooHigh"):
        C.CometAsset(**{**ok, "liquidation_factor": 1.2})
    with pytest.raises(ValueError):
        C.CometConfig(assets={"WETH": ok}, store_front_price_factor=1.1)  # BadDiscount
    with pytest.raises(ValueError, match="TooManyAssets"):
        C.CometConfig(assets={f"A{i}": ok for i in range(16)})
    with pytest.raises(ValueError, match="base token"):
        C.CometConfig(base="WETH", assets={"WETH": ok})
    with pytest.raises(ValueError):
        C.CometConfig(assets={"WETH": ok}, surprise=1)  # extra keys refused
    assert C.truncate_factor(0.89559) == 0.8955
    names = [n for n, _, _ in C.describe()]
    assert "store_front_price_factor" in names and "assets.<name>.liquidation_factor" in names
    # build_pack input checks and Comet's borrow rules on the initial book
    cfg = C.CometConfig(assets={"WETH": ok})
    idx = {"USDC": 0, "WETH": 1}
    with pytest.raises(InputError):
        C_pack.build_pack(cfg, [-1.0], np.zeros((1, 2)), idx)
    with pytest.raises(InputError):
        C_pack.build_pack(cfg, [-1.0], [[-1.0]], idx)
    with pytest.raises(InputError):
        C_pack.build_pack(cfg, [-1.0], [[1.0]], {"USDC": 0})
    with pytest.raises(InputError, match="BorrowTooSmall"):
        C_pack.build_pack(cfg, [-50.0], [[1.0]], idx, prices0=[1.0, 2000.0], check_borrows=True)
    with pytest.raises(InputError, match="NotCollateralized"):
        C_pack.build_pack(cfg, [-1700.0], [[1.0]], idx, prices0=[1.0, 2000.0], check_borrows=True)
    pack = C_pack.build_pack(cfg, [-1600.0], [[1.0]], idx, prices0=[1.0, 2000.0], check_borrows=True)
    before = C_pack.totals(pack)
    acc, sold, ev = step(pack, np.array([1.0, 2000.0]), no_venues(2), liq_settings())
    assert_conserved(before, C_pack.totals(pack), acc, ev, sold)


# --- kernel vs twin, and conservation on generated markets ------------------------------------


@st.composite
def markets(draw):
    k_n = draw(st.integers(1, 3))
    A = k_n + 1
    pb = draw(st.floats(0.98, 1.02))
    prices = np.array([pb] + [draw(st.floats(0.5, 5e4)) for _ in range(k_n)])
    assets = {}
    for k in range(k_n):
        lcf = draw(st.floats(0.5, 0.95))
        assets[f"C{k}"] = {"borrow_collateral_factor": round(lcf - draw(st.floats(0.01, 0.2)), 4),
                           "liquidate_collateral_factor": round(lcf, 4),
                           "liquidation_factor": round(draw(st.floats(0.85, 1.0)), 4)}
    cfg = C.CometConfig(
        base="B", assets=assets, store_front_price_factor=draw(st.floats(0.0, 1.0)),
        target_reserves=draw(st.sampled_from([0.0, 1e4, 5e6, 5e6])),
        initial_reserves=draw(st.one_of(st.floats(-1e5, 0.0), st.floats(0.0, 4e6), st.floats(4e6, 1e7))),
        record_buys=True,
    )
    n = draw(st.integers(1, 8))
    coll = np.zeros((n, k_n))
    principal = np.zeros(n)
    for i in range(n):
        for k in range(k_n):
            if draw(st.booleans()):
                coll[i, k] = draw(st.floats(1.0, 2e5)) / prices[k + 1]  # no sub-dust amounts
        value = float(np.sum(coll[i] * prices[1:]))
        if draw(st.integers(0, 4)):  # a borrower, up to 30 % underwater
            principal[i] = -value * draw(st.one_of(st.just(0.0), st.floats(0.01, 1.3))) / pb
        else:  # a supplier
            principal[i] = draw(st.floats(0, 1e4))
    idx = {"B": 0, **{f"C{k}": k + 1 for k in range(k_n)}}
    pack = C_pack.build_pack(cfg, principal, coll, idx)
    for k in range(k_n):
        if draw(st.booleans()):
            pack[K.PK_CRES][k] = draw(st.floats(1.0, 1e5)) / prices[k + 1]
    specs = []
    for a in range(1, A):
        for _ in range(draw(st.sampled_from([0, 1, 1, 2]))):
            spot = prices[a] * draw(st.floats(0.95, 1.1))
            if draw(st.booleans()):
                x = draw(st.floats(10.0, 1e5)) * 1e4 / prices[a]
                specs.append({"kind": "cpmm", "asset": a, "reserve_asset": x, "reserve_quote": x * spot,
                              "fee": draw(st.sampled_from([0.0, 0.003]))})
            else:
                q = draw(st.floats(1e4, 1e7))
                specs.append({"kind": "book", "asset": a, "mid": spot,
                              "depth": [(0.01, q), (0.05, 3 * q), (0.2, 6 * q)]})
    if specs:
        vs, vdk, vdq = make_venue_state(specs)
    else:
        vs, vdk, vdq = np.zeros((0, 9)), np.zeros((0, 1)), np.zeros((0, 1))
    order = sorted(range(len(specs)), key=lambda j: specs[j]["asset"])
    av_idx = np.array(order, dtype=np.int64)
    av_ptr = np.zeros(A + 1, np.int64)
    for s in specs:
        av_ptr[s["asset"] + 1:] += 1
    liq = liq_settings(mode=draw(st.integers(0, 1)), gas=draw(st.sampled_from([0.0, 5.0])),
                       capital=draw(st.sampled_from([math.inf, 5e4])), max_n=draw(st.integers(0, 3)))
    sold0 = np.array([0.0] + [draw(st.sampled_from([0.0, 1.0])) * 1e3 / prices[a] for a in range(1, A)])
    return pack, prices, (vs, vdk, vdq, av_ptr, av_idx), liq, sold0


@SETTINGS
@given(markets())
def test_kernel_and_twin_agree_on_one_step(m):
    pack, prices, venues, liq, sold0 = m
    pk, pt = C_pack.copy_pack(pack), C_pack.copy_pack(pack)
    before = C_pack.totals(pack)
    acc_k, sold_k, ev_k = step(pk, prices, venues, liq, sold=sold0.copy())
    acc_t, sold_t, ev_t = step(pt, prices, venues, liq, sold=sold0.copy(), twin=True)
    for a, b in zip(pk, pt):
        assert close(a, b), (a, b)
    assert close(acc_k, acc_t, atol=1e-6)
    assert close(sold_k, sold_t)
    for name in C_pack.EVENT_FIELDS:
        assert close(ev_k[name], ev_t[name], atol=1e-9), name
    after = C_pack.totals(pk)
    assert_conserved(before, after, acc_k, ev_k, sold_k - sold0)
    assert_step_values(before, after, acc_k, prices[1:], prices[0], lf_of(pack))
    # absorbed ⇔ liquidatable (mechanical, no cap), and every absorbed account lost all collateral
    lcf = pack[K.PK_FAC][:, K.F_LIQ_CF].copy()
    liquidatable = [K.is_liquidatable(pack[K.PK_PRINCIPAL][i], pack[K.PK_COLL][i], prices[1:], lcf, prices[0])
                    for i in range(len(pack[K.PK_PRINCIPAL]))]
    absorbed = set(ev_k["position"][ev_k["position"] >= 0].tolist())
    assert absorbed <= {i for i, x in enumerate(liquidatable) if x}
    if liq[LQ_MODE] == 0 and liq[LQ_MAX] == 0:
        assert absorbed == {i for i, x in enumerate(liquidatable) if x}
    for i in absorbed:
        assert np.all(pk[K.PK_COLL][i] == 0.0) and pk[K.PK_PRINCIPAL][i] >= 0.0


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(markets(), st.lists(st.floats(0.6, 1.2), min_size=3, max_size=3))
def test_run_unit_kernel_and_twin_agree_and_conserve(m, moves):
    pack, prices, venues, liq, _ = m
    path = [prices]
    for r in moves:
        nxt = path[-1].copy()
        nxt[1:] *= r
        path.append(nxt)
    path = np.array(path)
    before = C_pack.totals(pack)
    pk, pt = C_pack.copy_pack(pack), C_pack.copy_pack(pack)
    vk, vt = venues[0].copy(), venues[0].copy()
    out_k = C_pack.run_unit(pk, path, vk, venues[1], venues[2], venues[3], venues[4], liq, 60.0)
    out_t = C_pack.run_unit(pt, path, vt, venues[1], venues[2], venues[3], venues[4], liq, 60.0, twin=True)
    for a, b in zip(pk, pt):
        assert close(a, b, rtol=1e-7, atol=1e-7)
    assert close(vk, vt, rtol=1e-7)
    assert close(out_k["acc"], out_t["acc"], rtol=1e-7, atol=1e-5)
    after = out_k["totals"]
    assert_conserved(before, after, out_k["acc"], out_k["events"], out_k["sold"].sum(axis=0))
    # what the buyers sold went into the venues and came back as quote
    assert np.all((out_k["proceeds"] > 0) == (out_k["sold"] > 0))
