"""``liqcascade price-risk``: Euler allocation adds up, paired counterfactuals, units, outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run


SCENARIO = """name = "premium-test"
[simulation]
steps = 90
dt_seconds = 60
paths = 24
seed = 11
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[price]
kind = "jump"
sigma = 1.0
lam = 20000.0
jump_mean = -0.08
jump_std = 0.04
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 600
fee = 0.003
[[protocols]]
name = "aave"
positions = "pos.csv"
collateral = "WETH"
debt = "USDC"
[protocols.params.WETH]
ltv = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.06
[arbitrage]
enabled = false
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    d = tmp_path_factory.mktemp("pr")
    rng = np.random.default_rng(4)
    n = 60
    debt = np.exp(rng.normal(np.log(3e4), 1.5, n))
    hf = np.where(rng.random(n) < 0.6, rng.uniform(1.02, 1.25, n), rng.uniform(1.3, 2.5, n))
    coll = debt * hf / (0.85 * 2000.0)
    (d / "pos.csv").write_text("id,collateral,debt\n" + "".join(f"p{i},{c!r},{b!r}\n" for i, (c, b) in
                                                                 enumerate(zip(coll.tolist(), debt.tolist()))))
    (d / "s.toml").write_text(SCENARIO)
    return d / "s.toml"


@pytest.fixture(scope="module")
def result(scenario):
    from liqcascade.predict.premium import price_risk

    return price_risk(scenario, frontier=False)


def test_euler_allocation_adds_up(result):
    P = result.positions
    assert result.es > 0, "the fixture should produce bad debt in the tail"
    assert float(np.sum(P["es_contribution"])) == pytest.approx(result.es, rel=1e-9)
    tot_ext = sum(c["externality_tail"] for c in result.cohorts)
    assert float(np.sum(P["externality"])) == pytest.approx(tot_ext, rel=1e-9, abs=1e-6)
    assert np.all(P["capital"] == P["es_contribution"] + P["externality"])


def test_units_follow_their_definitions(result):
    P = result.positions
    m = P["debt_value"] > 0
    assert np.allclose(P["rate_addon_bps"][m], 0.10 * P["capital"][m] / P["debt_value"][m] * 1e4)
    assert np.allclose(P["lt_haircut"], P["capital"] / P["collateral_value"])
    for c in result.cohorts:
        assert c["rate_addon_bps"] == pytest.approx(0.10 * c["capital"] / c["debt_value"] * 1e4)
    # positions never liquidated in the tail carry no ES contribution
    assert (P["es_contribution"] >= 0).all()


def test_policy_keeps_capacity_equal_and_is_paired(result):
    pol = result.policy
    assert pol["premium margin"]["capacity"] == pytest.approx(pol["flat margin"]["capacity"], rel=1e-9)
    assert pol["today"]["capacity_ratio"] == 1.0
    assert pol["premium margin"]["capacity_ratio"] <= 1.0
    assert pol["today"]["var95"] == pytest.approx(result.var)
    lo, hi = pol["premium margin"]["vs_flat"]["ci"]
    assert lo <= pol["premium margin"]["vs_flat"]["var95_diff"] <= hi


def test_cli_outputs_and_determinism(scenario, tmp_path):
    import pyarrow.parquet as pq

    code, out, err = run("price-risk", scenario, "--no-frontier", "--out", tmp_path / "a", "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["paths"] == 24 and s["seed"] == 11 and s["es_allocated"] == pytest.approx(s["es"])
    assert s["provenance"]["seed"] == 11 and len(s["provenance"]["scenario_hash"]) == 64
    t = pq.read_table(tmp_path / "a" / "positions.parquet")
    assert {"id", "cohort", "leverage", "es_contribution", "externality", "rate_addon_bps", "lt_haircut"} <= set(t.column_names)
    assert json.loads(t.schema.metadata[b"liqcascade"])["seed"] == 11
    html = (tmp_path / "a" / "report.html").read_text()
    assert "Cascade risk premium" in html and "Policy test" in html
    code, out2, err = run("price-risk", scenario, "--no-frontier", "--out", tmp_path / "b")
    assert code == 0 and "policy test" in out2 and "externality" in out2
    assert pq.read_table(tmp_path / "b" / "positions.parquet").equals(t)


def test_frontier_on_the_same_paths(scenario):
    from liqcascade.predict.premium import price_risk

    r = price_risk(scenario, paths=20, frontier=True, n_boot=100,
                   frontier_params=["protocol.liquidation_threshold=0.8:0.85:0.05"])
    assert len(r.frontier["points"]) == 2
    cur = [p for p in r.frontier["points"] if p["current"]]
    assert len(cur) == 1 and cur[0]["var95"] == pytest.approx(r.policy["today"]["var95"])


def test_bad_input(tmp_path, scenario):
    code, out, err = run("price-risk", Path(__file__).resolve().parents[2] / "examples" / "comet.toml")
    assert code == 2 and "protocol unit" in (err or out) and (err or out).startswith("error: ")
    code, out, err = run("price-risk", scenario, "--leverage-edges", "3,2")
    assert code == 2 and "--leverage-edges" in (err or out)
    code, out, err = run("price-risk", tmp_path / "missing.toml")
    assert code == 2 and "not found" in (err or out)
    code, out, err = run("price-risk", scenario, "--no-frontier", "--out", tmp_path / "o", "--alpha", "0.2")
    assert code == 2 and not (tmp_path / "o").exists()
