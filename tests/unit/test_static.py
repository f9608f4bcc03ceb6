"""Static cascade solver on small hand-checkable books (pinned semantics of kernels/cascade.py).

Venue: a fee-less constant-product pool with 1000 A and 100,000 Q (spot 100, k = 1e8).
After the exogenous shock the pool sits at spot p = 100 (1 - δ), i.e. x = sqrt(k / p);
selling q more A gives x' = x + q and spot k / x'^2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.engine.static import critical_shock, final_state, solve_static

K_POOL = 1000.0 * 100_000.0


def pool_after_shock(shock):
    return math.sqrt(K_POOL / (100.0 * (1.0 - shock)))  # asset reserve x


def spot_after_sale(x, q):
    return K_POOL / (x + q) ** 2


V32 = {"lt": 0.8, "bonus": 0.05, "rule": "v3.2", "pfee": 0.1}


@pytest.fixture(autouse=True, params=["chosen", "per-position"])
def static_engine(request, monkeypatch):
    """Every test here runs twice: with the kernel the engine picks (the aggregated one for these
    mechanical books) and with the per-position kernel forced."""
    if request.param == "per-position":
        import liqcascade.engine.static as S

        monkeypatch.setattr(S, "choose_engine", lambda c, mode: ("per-position", "forced by the test"))
    return request.param


def test_shock_not_crossing_leaves_everything(kit):
    # 10 A, 700 Q, LT 0.8: liquidation price 87.5; a 10 % shock (price 90) crosses nothing
    c = kit.build(kit.scenario(protocols=(V32,)), [10.0], [700.0])
    oc, od, s = final_state(c, 0.1)
    assert s["rounds"] == 0 and s["liquidations"] == 0
    assert s["repaid"] == 0.0 and s["bad_debt"] == 0.0
    assert s["final_price"][0] == pytest.approx(90.0, rel=1e-12)
    assert oc[0] == 10.0 and od[0] == 700.0
    assert s["converged"]


def test_one_round_hand_computed(kit):
    # 20 % shock: price 80, HF = 10·80·0.8/700 = 0.914 <= 0.95 -> v3.2 CF 100 %:
    # repay 700, seize 700·1.05/80 = 9.1875 A, sold into the pool.
    c = kit.build(kit.scenario(protocols=(V32,)), [10.0], [700.0])
    oc, od, s = final_state(c, 0.2)
    seize = 700.0 * 1.05 / 80.0
    x = pool_after_shock(0.2)
    assert s["rounds"] == 1 and s["liquidations"] == 1
    assert s["units"][0] == pytest.approx(seize, rel=1e-12)
    assert s["repaid"] == pytest.approx(700.0, rel=1e-12)
    assert s["bad_debt"] == 0.0
    assert s["liquidated_value"] == pytest.approx(seize * 80.0, rel=1e-12)
    assert s["fees"] == pytest.approx((seize - seize / 1.05) * 0.1 * 80.0, rel=1e-12)
    assert s["bonus"] == pytest.approx((seize - (seize - seize / 1.05) * 0.1) * 80.0 - 700.0, rel=1e-9)
    assert s["final_price"][0] == pytest.approx(spot_after_sale(x, seize), rel=1e-12)
    assert oc[0] == pytest.approx(10.0 - seize, rel=1e-12)
    assert od[0] == 0.0


def test_two_position_chain(kit):
    # A: liquidation price 87.5 (10 A, 700 Q); B: liquidation price 79.5 (10 A, 636 Q).
    # Shock 20 % -> 80: only A crosses (round 1). Its 9.1875 A push the pool to ~78.70 < 79.5,
    # so B is liquidated in round 2 at that price: HF = 10·78.70·0.8/636 = 0.99 > 0.95 -> 50 %.
    c = kit.build(kit.scenario(protocols=(V32,)), [10.0, 10.0], [700.0, 636.0])
    oc, od, s = final_state(c, 0.2)
    x = pool_after_shock(0.2)
    q1 = 700.0 * 1.05 / 80.0
    p1 = spot_after_sale(x, q1)
    assert 78.0 < p1 < 79.5
    repay_b = 0.5 * 636.0
    q2 = repay_b * 1.05 / p1
    p2 = spot_after_sale(x, q1 + q2)
    # B after round 2: HF = (10 - q2)·p2·0.8 / 318 > 1: no round 3
    assert (10.0 - q2) * p2 * 0.8 / repay_b > 1.0
    assert s["rounds"] == 2 and s["liquidations"] == 2
    assert s["final_price"][0] == pytest.approx(p2, rel=1e-12)
    assert s["repaid"] == pytest.approx(700.0 + repay_b, rel=1e-12)
    assert s["units"][0] == pytest.approx(q1 + q2, rel=1e-12)
    b = kit.unsort(c, oc), kit.unsort(c, od)
    assert b[0][1] == pytest.approx(10.0 - q2, rel=1e-12)
    assert b[1][1] == pytest.approx(318.0, rel=1e-12)
    assert b[1][0] == 0.0
    # without A, B is never reached
    c2 = kit.build(kit.scenario(protocols=(V32,)), [10.0], [636.0])
    assert final_state(c2, 0.2)[2]["rounds"] == 0


def test_bad_debt(kit):
    # 10 A, 780 Q (liquidation price 97.5); 30 % shock -> 70: HF 0.718, CF 100 %,
    # seize 780·1.05/70 = 11.7 > 10 -> all 10 A, repay 10·70/1.05 = 666.67, bad debt 113.33
    c = kit.build(kit.scenario(protocols=(V32,)), [10.0], [780.0])
    oc, od, s = final_state(c, 0.3)
    repay = 10.0 * 70.0 / 1.05
    assert s["rounds"] == 1
    assert s["repaid"] == pytest.approx(repay, rel=1e-12)
    assert s["bad_debt"] == pytest.approx(780.0 - repay, rel=1e-9)
    assert oc[0] == 0.0 and od[0] == 0.0
    x = pool_after_shock(0.3)
    assert s["final_price"][0] == pytest.approx(spot_after_sale(x, 10.0), rel=1e-12)


def test_critical_shock_on_a_cliff(kit):
    # 30 positions with the same liquidation price 84.5 (0.5 A each, debt 33.8 Q): nothing
    # happens down to a 15 % shock; at 16 % (price 84) they all go at once.
    n = 30
    coll = np.full(n, 0.5)
    debt = np.full(n, 84.5 * 0.5 * 0.8)
    c = kit.build(kit.scenario(protocols=(V32,), reserve=100.0), coll, debt)
    shocks = np.round(np.arange(0.0, 0.31, 0.01), 2)
    res = solve_static(c, shocks)
    liqs = [p.liquidations for p in res.points]
    assert all(v == 0 for v in liqs[:16]) and liqs[16] >= n
    assert res.critical_shock == pytest.approx(0.16)
    endo = [(p.shocked_price - p.final_price) / 100.0 for p in res.points]
    assert res.critical_jump == pytest.approx(endo[16] - endo[15], rel=1e-12)
    assert res.critical_jump >= 0.01
    # a book without a cliff far away: no critical shock on this grid
    c2 = kit.build(kit.scenario(protocols=(V32,)), [1.0], [10.0])
    assert solve_static(c2, shocks).critical_shock is None


def test_critical_shock_helper_threshold():
    from liqcascade.results.curve import CurvePoint

    def pt(s, final):
        return CurvePoint(s, final, 0, 0, 0.0, 0.0, 0.0, None, 100 * (1 - s), 0.0, 0.0, True)

    pts = [pt(0.0, 100.0), pt(0.1, 89.5), pt(0.2, 70.0)]  # endogenous 0, 0.5 %, 10 %
    assert critical_shock(pts, 100.0) == (0.2, pytest.approx(0.095))
    assert critical_shock([pt(0.0, 100.0), pt(0.1, 89.5)], 100.0)[0] is None


def test_amplification_definition(kit):
    c = kit.build(kit.scenario(protocols=(V32,)), [10.0, 10.0], [700.0, 636.0])
    res = solve_static(c, [0.0, 0.1, 0.2])
    assert res.points[0].amplification is None  # no exogenous drop
    for p in res.points[1:]:
        shocked = 100.0 * (1.0 - p.shock)
        assert p.shocked_price == pytest.approx(shocked, rel=1e-15)
        assert p.amplification == pytest.approx((shocked - p.final_price) / (100.0 - shocked), rel=1e-12)
    assert res.points[1].amplification == pytest.approx(0.0, abs=1e-12)  # nothing liquidated
    assert res.points[2].amplification > 0.0


def test_rational_liquidator_skips_unprofitable(kit):
    # the single liquidation of test_one_round_hand_computed earns ~5 % of 700 minus slippage;
    # a gas cost above that stops it, a small one does not
    for gas, n in ((1e6, 0), (1.0, 1)):
        sc = kit.scenario(protocols=(V32,), liquidators={"mode": "rational", "gas_cost": gas})
        c = kit.build(sc, [10.0], [700.0])
        assert final_state(c, 0.2, mode="rational")[2]["liquidations"] == n
        assert solve_static(c, [0.2], mode="rational").points[0].liquidations == n


def test_bigger_shock_can_end_higher_round_timing(kit):
    """The cascade curve is not monotone in general (pinned round semantics, not a solver bug).

    Y (100 A, 7600 Q, liquidation price 95) crosses at both shocks; X (300 A, 21360 Q,
    liquidation price 89) crosses in round 1 only at the 12 % shock (price 88). At 10 % it is
    reached in round 2 at ~76.6, after Y's sale, and a lower liquidation price seizes more
    collateral (repay · LB / p), so more A hits the pool and the final price ends lower.
    """
    c = kit.build(kit.scenario(protocols=({"lt": 0.8, "bonus": 0.05, "rule": "fixed", "cf": 1.0},)),
                  [100.0, 300.0], [7600.0, 21360.0])
    x10, x12 = pool_after_shock(0.10), pool_after_shock(0.12)
    qy10 = 7600.0 * 1.05 / 90.0
    p1 = spot_after_sale(x10, qy10)
    assert 76.0 < p1 < 77.0
    q10 = qy10 + 21360.0 * 1.05 / p1  # round 2: X at p1
    q12 = (7600.0 + 21360.0) * 1.05 / 88.0  # one round at 88
    f10, f12 = spot_after_sale(x10, q10), spot_after_sale(x12, q12)
    assert f12 > f10
    res = solve_static(c, [0.10, 0.12])
    assert [p.rounds for p in res.points] == [2, 1]
    assert res.points[0].final_price == pytest.approx(f10, rel=1e-12)
    assert res.points[1].final_price == pytest.approx(f12, rel=1e-12)
