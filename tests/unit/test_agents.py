"""Market participants and adversaries in the dynamic engine: the direction of each agent's
effect, the hunter's cascade and PnL, conservation, determinism, and the ladder / attack curve."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine import attack as A
from liqcascade.agents.hunter.pack import hunter_target, liquidation_ladder, liquidation_prices
from liqcascade.agents.pack import agent_pack
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.agents import kernel as KA
from liqcascade.kernels import dynamic as KD
from liqcascade.scenario.load import validate_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = tomllib.loads((EXAMPLES / "attack.toml").read_text())
CRASH = {"kind": "crash", "shock": 0.12, "start_seconds": 300, "over_seconds": 300}


def build(*, price=None, agents=None, liquidators=None, steps=60):
    d = copy.deepcopy(BASE)
    d["simulation"]["steps"] = steps
    d["agents"] = agents or {}
    if price is not None:
        d["price"] = price
    if liquidators is not None:
        d["liquidators"] = liquidators
    return compile_scenario(validate_dict(d, "attack.toml"), EXAMPLES)


def run(**kw):
    return run_dynamic(build(**kw))


def exec_price(r):
    ev = r.events
    return float((ev["execution_price"] * ev["collateral_seized"]).sum() / ev["collateral_seized"].sum())


def test_no_agents_no_pack():
    assert agent_pack(build()) is None


def test_hedger_deepens_the_drop():
    plain = run(price=CRASH)
    hedged = run(price=CRASH, agents={"hedger": {"gamma_notional": 3e7}})
    assert hedged.min_spot[0, 0] < plain.min_spot[0, 0] * 0.99
    assert hedged.totals()["liquidated_collateral"] > plain.totals()["liquidated_collateral"]


def test_front_runner_lowers_execution_price():
    plain = run(price=CRASH)
    fr = run(price=CRASH, agents={"front_runner": {"capital": 5e6, "share": 1.0}})
    assert plain.totals()["liquidations"] > 0
    assert exec_price(fr) < exec_price(plain) * 0.999
    # it profits from selling ahead and buying the dump back
    assert fr.totals()["attacker_pnl"] > 0


def test_congestion_raises_gas_spent():
    lq = {"mode": "mechanical", "gas_cost": 100.0}
    plain = run(price=CRASH, liquidators=lq)
    cong = run(price=CRASH, liquidators=lq, agents={"gas_auction": {"congestion_k": 0.5, "congestion_window_seconds": 180}})
    assert plain.totals()["liquidations"] == cong.totals()["liquidations"] > 1  # mechanical: same liquidations
    assert cong.totals()["gas_spent"] > plain.totals()["gas_spent"] * 1.5


def test_priority_fees_cut_liquidator_profit():
    lq = {"mode": "rational", "gas_cost": 10.0}
    plain = run(price=CRASH, liquidators=lq)
    pga = run(price=CRASH, liquidators=lq, agents={"gas_auction": {"competitors": 5, "priority_share": 0.5}})
    t0, t1 = plain.totals(), pga.totals()
    assert t0["priority_fees"] == 0.0 and t1["priority_fees"] > 0
    assert t1["liquidator_profit"] < t0["liquidator_profit"]


def test_latency_delays_first_liquidation():
    plain = run(price=CRASH)
    slow = run(price=CRASH, agents={"gas_auction": {"latency_seconds": 240}})
    first0 = int(plain.events["step"].min())
    first1 = int(slow.events["step"].min())
    assert first1 >= first0 + 4


def test_reactive_borrowers_reduce_liquidations_and_topups_recorded():
    plain = run(price=CRASH)
    react = run(price=CRASH, agents={"borrowers": {"share": 0.6, "delay_seconds": 0}})
    t0, t1 = plain.totals(), react.totals()
    assert t1["liquidations"] < t0["liquidations"]
    assert t1["borrower_topups"] > 0 and t0["borrower_topups"] == 0
    # debt conservation (top-ups add collateral, never debt): repaid + bad + left = before
    c = build(price=CRASH)
    d0 = c.book.debt.sum()
    ev = react.events
    left = react.final_debt.sum()
    assert ev["debt_repaid"].sum() + ev["bad_debt"].sum() + left == pytest.approx(d0, rel=1e-9)


def test_borrowers_outrun_by_a_fast_crash_say_so():
    """Default borrowers (300 s delay) against mechanical liquidators on a fast crash: when they
    make no top-up the run says why; with no delay they act and the note is absent."""
    fast = {"kind": "crash", "shock": 0.3, "start_seconds": 300, "over_seconds": 60}  # one step
    late = run(price=fast, agents={"borrowers": {}})
    assert late.totals()["liquidations"] > 0 and late.totals()["borrower_topups"] == 0
    idle = [n for n in late.notes if n.startswith("agents.borrowers: 0 top-ups")]
    assert len(idle) == 1 and "delay_seconds = 300" in idle[0] and "outran" in idle[0]
    quick = run(price=fast, agents={"borrowers": {"delay_seconds": 0}})
    assert quick.totals()["borrower_topups"] > 0
    assert quick.totals()["liquidations"] < late.totals()["liquidations"]
    assert not any(n.startswith("agents.borrowers: 0 top-ups") for n in quick.notes)
    # a slower crash leaves the default borrowers time: they act, and no note
    slow = run(price=CRASH, agents={"borrowers": {}})
    assert slow.totals()["borrower_topups"] > 0
    assert not any(n.startswith("agents.borrowers: 0 top-ups") for n in slow.notes)


def test_deleveraging_borrowers_repay_debt():
    plain = run(price=CRASH)
    dl = run(price=CRASH, agents={"borrowers": {"share": 1.0, "delay_seconds": 0, "action": "deleverage"}})
    assert dl.totals()["liquidations"] < plain.totals()["liquidations"]
    assert dl.final_debt.sum() < build().book.debt.sum()


def test_hunter_triggers_cascade_and_reports_pnl():
    calm = run()
    hunted = run(agents={"hunter": {"capital": 6e6, "start_seconds": 300, "sell_seconds": 120, "hold_seconds": 1200,
                                    "reach": 0.15}})
    assert calm.totals()["liquidations"] == 0
    t = hunted.totals()
    assert t["liquidations"] >= 20
    assert t["attacker_pnl"] != 0.0
    assert hunted.summary[0, KD.SUM_ATTACKER_PNL] == t["attacker_pnl"]
    # collateral conservation with the hunter trading: seized + left = before
    c = build()
    assert hunted.events["collateral_seized"].sum() + hunted.final_coll.sum() == pytest.approx(c.book.coll.sum(), rel=1e-9)
    # the oracle went through the cluster's target
    target, info = hunter_target(c, 0, 0.15)
    assert hunted.min_spot[0, 0] <= target * 1.001


def test_small_hunter_loses_and_triggers_nothing():
    r = run(agents={"hunter": {"capital": 5e5, "start_seconds": 300, "reach": 0.15}})
    assert r.totals()["liquidations"] == 0
    assert r.totals()["attacker_pnl"] < 0  # slippage both ways, no cascade to buy into


def test_same_seed_identical():
    ag = {"hunter": {"capital": 5e6, "start_seconds": 180, "reach": 0.15},
          "hedger": {"gamma_notional": 1e6}, "front_runner": {"capital": 1e6},
          "gas_auction": {"congestion_k": 0.2, "latency_seconds": 60},
          "borrowers": {"share": 0.4, "delay_seconds": 60}}
    a = run(agents=ag, liquidators={"mode": "rational", "gas_cost": 20.0})
    b = run(agents=ag, liquidators={"mode": "rational", "gas_cost": 20.0})
    np.testing.assert_array_equal(a.summary, b.summary)
    np.testing.assert_array_equal(a.steps_asset, b.steps_asset)
    assert a.events.tobytes() == b.events.tobytes() or (a.events == b.events).all()


def test_ladder_and_target():
    c = build()
    price, debt_v, _ = liquidation_prices(c, 0)
    lad = liquidation_ladder(c, "WETH", 15, 0.15)
    inside = (price >= lad.edges[0]) & (price < c.p0[0])
    assert lad.debt_value.sum() == pytest.approx(debt_v[inside].sum())
    assert lad.count.sum() == inside.sum()
    target, info = hunter_target(c, 0, 0.15)
    assert info["positions"] > 0 and target < info["bucket"][0] + 1e-9
    # the cluster is the bucket with the most debt
    lad20 = liquidation_ladder(c, 0, 20, 0.15)
    assert info["debt_value"] == pytest.approx(lad20.debt_value.max())
    assert 0.05 < info["drop"] < 0.15
    # nothing within a 1 % reach: no target, the hunter does not trade
    t0, info0 = hunter_target(c, 0, 0.01)
    assert t0 == 0.0 and info0["cluster"] is None


def test_pack_layout():
    c = build(agents={"gas_auction": {"congestion_window_seconds": 240}, "borrowers": {}, "front_runner": {"capital": 1.0}})
    ag = agent_pack(c)
    n = c.book.n + c.book.n_multi
    assert ag.shape == (KA.NHEAD + 2 * 4 + c.n_assets + 2 * n,)
    assert ag[KA.AG_COL_PNL] == KD.SUM_ATTACKER_PNL and ag[KA.AG_COL_TOPUP] == KD.SUM_TOPUP
    assert ag[KA.GA_ON] == 1 and ag[KA.HU_ON] == 0 and ag[KA.BO_N] == n


def test_attack_curve_and_min_capital():
    c = build()
    st = A.prepare(c, hunter=A.base_hunter(c))
    res = A.attack_curve(c, [0.0, 1e6, 6e6], setup=st)
    lv = res["levels"]
    assert [x["capital"] for x in lv] == [0.0, 1e6, 6e6]
    assert lv[0]["liquidations"] == 0 and lv[0]["attacker_pnl"] == 0.0
    assert lv[2]["liquidated_value"] > lv[1]["liquidated_value"]
    assert lv[2]["triggered_value"] == lv[2]["liquidated_value"] - res["baseline"]["liquidated_value"]
    mc = A.min_capital(c, 1e6, setup=st, rtol=0.05)
    assert mc["capital"] is not None and 1e6 < mc["capital"] <= 6e6
    assert mc["level"]["liquidated_value"] >= 1e6
    assert A.min_capital(c, 1e12, setup=st, max_capital=2e7)["capital"] is None
