"""Morpho Blue's and Euler v2's liquidation incentives on the Aave-style engine
(``protocol-mechanics.md`` §8.4, §8.5): the scenario option ``incentive``, the compiled bonus and
rules, the sizing kernel against its twin, the static solver against the brute-force twin, and
the dynamic engine against the static solver."""

from __future__ import annotations

import numpy as np
import pytest

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import choose_engine, final_state, static_arrays
from liqcascade.protocols.aave import kernel as KA
from liqcascade.kernels import cascade as K
from liqcascade.protocols.aave.twin import liquidate_pair_py
from liqcascade.kernels.cascade_py import solve_shock_py
from liqcascade.scenario.models import Scenario


def check_parity(kit, c, shock, coll, debt, proto):
    """The compiled static solver against the brute-force twin on one shock."""
    oc, od, s = final_state(c, shock)
    vs, vdk, vdq, mask = static_arrays(c)
    n = len(coll)
    py = solve_shock_py(shock, coll, debt, np.zeros(n, np.int64), proto, np.ones(n), c.lt_pa, c.bonus_pa,
                        c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask, K.MODE_MECHANICAL, 0.0,
                        int(c.scenario.simulation.max_rounds))
    assert s["rounds"] == py["rounds"] and s["liquidations"] == py["liquidations"]
    assert s["final_price"][0] == pytest.approx(py["final_price"][0], rel=1e-9)
    for k in ("repaid", "bad_debt", "liquidated_value", "fees"):
        assert s[k] == pytest.approx(py[k], rel=1e-9, abs=1e-9 * debt.sum())
    np.testing.assert_allclose(kit.unsort(c, od), py["debt"], rtol=1e-9, atol=1e-9 * debt.max())
    return s


def incentive_scenario(kit, incentive, lt=0.86, **kw):
    d = kit.scenario(protocols=({"lt": lt, "bonus": 0.05},), **kw).model_dump(mode="python")
    p = d["protocols"][0]
    for k in ("close_factor_rule", "close_factor"):
        p.pop(k)
    p["incentive"] = incentive
    p["params"]["A"]["liquidation_bonus"] = None
    for k in [k for k, v in d.items() if v is None]:
        d.pop(k)
    return Scenario.model_validate(d)


def test_morpho_bonus_is_lif_of_the_lltv(kit):
    # reference table §8.5: LIF 1.0438 at LLTV 86 %, 1.0741 at 77 %, 1.1268 at 62.5 %, 1.0168 at 94.5 %
    for lt, lif in ((0.86, 1.0438), (0.77, 1.0741), (0.625, 1.1268), (0.945, 1.0168)):
        c = kit.build(incentive_scenario(kit, "morpho", lt=lt), np.array([1.0]), np.array([1.0]))
        assert c.bonus_pa[0, 0] + 1.0 == pytest.approx(lif, abs=6e-5)
        assert c.rules[0, KA.R_RULE] == KA.RULE_FIXED and c.rules[0, KA.R_CF] == 1.0
        assert c.rules[0, KA.R_INC] == KA.INC_FIXED
        assert any("Morpho" in n for n in c.notes)


def test_euler_rules_and_engine_choice(kit):
    c = kit.build(incentive_scenario(kit, "euler"), np.array([1.0]), np.array([1.0]))
    assert c.rules[0, KA.R_INC] == KA.INC_EULER and c.rules[0, KA.R_INC_MAXD] == 0.15
    assert c.rules[0, KA.R_CF] == 1.0
    engine, why = choose_engine(c, "mechanical")
    assert engine == "per-position" and "Euler" in why


def test_fixed_incentive_still_needs_a_bonus_and_others_refuse_a_close_factor(kit):
    d = kit.scenario().model_dump(mode="python")
    d["protocols"][0]["params"]["A"]["liquidation_bonus"] = None
    with pytest.raises(ValueError, match="liquidation_bonus: required"):
        Scenario.model_validate({k: v for k, v in d.items() if v is not None})
    d = kit.scenario().model_dump(mode="python")
    d["protocols"][0]["incentive"] = "euler"
    with pytest.raises(ValueError, match="no close factor"):
        Scenario.model_validate({k: v for k, v in d.items() if v is not None})


@pytest.mark.parametrize("hf", [0.99, 0.9, 0.86, 0.85, 0.6, 0.2])
def test_euler_discount_is_one_minus_hf_capped(hf):
    rules = np.zeros(KA.NRULE)
    rules[KA.R_RULE] = KA.RULE_FIXED
    rules[KA.R_CF] = 1.0
    rules[KA.R_INC] = KA.INC_EULER
    rules[KA.R_INC_MAXD] = 0.15
    lt, pc, pd = 0.8, 50.0, 1.0
    coll = 100.0
    debt = coll * pc * lt / hf
    lb = 1.0 / max(hf, 0.85)
    got = KA.liquidate_pair(coll, debt, pc, pd, lt, 0.05, 0.1, rules)
    twin = liquidate_pair_py(coll, debt, pc, pd, lt, 0.05, 0.1, rules)
    np.testing.assert_allclose(got[:4], twin[:4], rtol=1e-12)
    assert got[4] == twin[4]
    seize, repay, bad, fee, closed = got
    assert seize * pc == pytest.approx(repay * pd * lb, rel=1e-12)
    assert closed  # no close factor: the whole debt, or the whole collateral
    assert seize + (coll - seize) == coll and repay + bad <= debt * (1 + 1e-12)
    if coll * pc < debt * pd * lb:  # collateral runs out: the rest is bad debt
        assert seize == coll and bad == pytest.approx(debt - repay)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shock", [0.08, 0.2, 0.35])
def test_euler_static_matches_brute_force_and_dynamic(kit, seed, shock):
    rng = np.random.default_rng(seed)
    coll, debt, proto = kit.random_book(rng, 150, [0.86])
    reserve = float(coll.sum()) * 1.5
    c = kit.build(incentive_scenario(kit, "euler", reserve=reserve), coll, debt, proto)
    s = check_parity(kit, c, shock, coll, debt, proto)
    steps = int(s["rounds"]) + 3
    sc = incentive_scenario(kit, "euler", reserve=reserve, steps=steps,
                            price={"kind": "crash", "shock": shock, "start_seconds": 60, "over_seconds": 60})
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    assert r.final_spot[0, 0] == pytest.approx(s["final_price"][0], rel=1e-9)
    oc, od, _ = final_state(c, shock)
    np.testing.assert_allclose(r.final_debt, od, rtol=1e-9, atol=1e-9 * debt.max())
    # conservation: debt repaid + bad debt + debt left = debt before
    assert (debt.sum() - od.sum()) == pytest.approx(s["repaid"] + s["bad_debt"], rel=1e-9)


def test_euler_pays_more_than_morpho_on_deep_positions(kit):
    # one position at HF 0.7 after the move: Euler's discount is capped at 15 %, Morpho's LIF at
    # LLTV 86 % is 4.4 %: Euler's liquidator takes more collateral for the same debt
    coll = np.array([10.0])
    debt = np.array([10.0 * kit.P0 * 0.86 / 0.7])
    out = {}
    for inc in ("euler", "morpho"):
        c = kit.build(incentive_scenario(kit, inc, reserve=1e9), coll, debt)
        _, _, s = final_state(c, 0.0)
        out[inc] = s
    assert out["euler"]["liquidations"] == out["morpho"]["liquidations"] == 1
    assert out["euler"]["bad_debt"] > out["morpho"]["bad_debt"]
