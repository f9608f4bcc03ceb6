"""``liqcascade contagion``: the counterfactual matrix on a book built so that the direction of
contagion is known, strict JSON with provenance, the same output for the same seed, the HTML
report, and bad input.

The book: protocol ``a`` holds positions already under water (HF 0.85, close factor 1) that are
liquidated at the first step whatever happens; their sales push a thin pool down by several per
cent. Protocol ``b`` holds positions at HF 1.03 against the pool's own price. The reference
price barely moves (GBM, 20 % a year, half an hour), so ``b`` can only be liquidated after ``a``
sells: C[a, b] > 0 on every path, and nothing ``b`` does can reach ``a`` (C[b, a] = 0)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

runner = CliRunner()

SCENARIO = """
name = "one-way"
[simulation]
steps = 30
dt_seconds = 60
paths = 4
seed = 5
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[price]
kind = "gbm"
sigma = 0.2
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 1000
fee = 0.003
[[protocols]]
name = "a"
kind = "aave_v3"
positions = "a.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "fixed"
close_factor = 1.0
[protocols.params.WETH]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
protocol_fee = 0.0
[[protocols]]
name = "b"
kind = "aave_v3"
positions = "b.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "fixed"
close_factor = 1.0
[protocols.params.WETH]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
protocol_fee = 0.0
[liquidators]
mode = "mechanical"
[arbitrage]
enabled = false
to_reference = false
"""


def _book(prefix: str, n: int, coll: float, hf: float) -> str:
    debt = coll * 2000.0 * 0.8 / hf
    return "id,collateral,debt\n" + "".join(f"{prefix}{k},{coll},{debt:.6f}\n" for k in range(n))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("contagion")
    (d / "a.csv").write_text(_book("a", 10, 6.0, 0.85))
    (d / "b.csv").write_text(_book("b", 10, 3.0, 1.03))
    p = d / "one_way.toml"
    p.write_text(SCENARIO)
    return p


@pytest.fixture(scope="module")
def result(scenario):
    from liqcascade.commands._common import load_compiled
    from liqcascade.engine.contagion import run_contagion

    return run_contagion(load_compiled(scenario))


def test_a_infects_b_and_b_cannot_reach_a_on_every_path(result):
    from liqcascade.engine.contagion import METRICS

    assert result.protocols == ["a", "b"] and result.paths == 4
    eff = result.effect  # [A, path, B, metric]
    nliq, value, bad = (METRICS.index(m) for m in ("liquidations", "liquidated_value", "bad_debt"))
    assert np.all(eff[0, :, 1, nliq] > 0) and np.all(eff[0, :, 1, value] > 0)
    assert np.all(eff[1, :, 0, :] == 0.0)
    # without a's sales, b is never liquidated; a is liquidated the same way in every run
    assert np.all(result.without[0, :, 1, nliq] == 0.0)
    assert np.all(result.base[:, 1, nliq] > 0)
    assert np.all(result.without[1, :, 0, :] == result.base[:, 0, :])
    m = result.matrix("liquidations")
    assert m["mean"][0, 1] > 0 and m["ci_lo"][0, 1] <= m["mean"][0, 1] <= m["ci_hi"][0, 1]
    assert m["mean"][1, 0] == 0.0


def test_timeline_names_who_moved_the_pool(result):
    tl = result.timeline(0)
    assert set(tl) == {"pool"} and set(tl["pool"]) == {"a", "b"}
    # a sold first and alone: the whole move of the first step is a's
    first = int(np.flatnonzero(tl["pool"]["a"])[0])
    assert first == 1 and tl["pool"]["b"][first] == 0.0 and tl["pool"]["a"][first] < 0
    assert result.sales["impact"].sum() == pytest.approx(
        sum(float(v.sum()) for p in range(result.paths) for v in result.timeline(p)["pool"].values()), rel=1e-12)


def _cli(*args):
    return runner.invoke(app, ["contagion", *[str(a) for a in args]])


def test_json_is_strict_with_provenance_and_the_same_for_the_same_seed(scenario):
    r1 = _cli(scenario, "--json", "--paths", "2")
    assert r1.exit_code == 0, r1.output
    r2 = _cli(scenario, "--json", "--paths", "2")
    assert r1.stdout == r2.stdout
    d = json.loads(r1.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert d["seed"] == 5 and d["paths"] == 2 and d["protocols"] == ["a", "b"]
    prov = d["provenance"]
    assert prov["kind"] == "contagion" and prov["seed"] == 5
    assert {"package_version", "schema_version", "scenario_hash", "code_version"} <= set(prov)
    assert d["matrix"]["liquidations"]["mean"][0][1] > 0 and d["matrix"]["bad_debt"]["mean"][1][0] == 0
    r3 = _cli(scenario, "--json", "--paths", "2", "--seed", "6")
    assert r3.exit_code == 0, r3.output
    d3 = json.loads(r3.stdout)
    assert d3["seed"] == 6 and d3["price_move_by_protocol"] != d["price_move_by_protocol"]


def test_one_path_has_no_interval_in_json(scenario):
    r = _cli(scenario, "--json", "--paths", "1")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["matrix"]["liquidations"]["ci_lo"][0][1] is None


def test_table_and_report(scenario, tmp_path):
    out = tmp_path / "c.html"
    r = _cli(scenario, "--paths", "2", "--report", out)
    assert r.exit_code == 0, r.output
    assert "liquidations in B caused by A's sales" in r.output and "sales of A" in r.output
    page = out.read_text()
    for div in ("contagion-0", "contagion-1", "contagion-2"):
        assert f'id="{div}"' in page
    assert "who transmits bad debt to whom" in page and "which protocol" in page
    assert page.count("<script type=\"text/javascript\">/**") <= 1  # plotly.js inline once


def _one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_bad_input(scenario, tmp_path):
    _one_line_error(_cli(scenario, "--paths", "0"), "--paths")
    _one_line_error(_cli(scenario, "--seed", "-1"), "--seed")
    _one_line_error(_cli(scenario, "--report", tmp_path / "c.txt"), "--report", ".html")
    _one_line_error(_cli(tmp_path / "missing.toml"), "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.replace('kind = "cpmm"', 'kind = "nope"'))
    (tmp_path / "a.csv").write_text("id,collateral,debt\n")
    _one_line_error(_cli(bad), "bad.toml")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_error(_cli(scenario, "--report", blocker / "c.html"), "--report")
    assert not (tmp_path / "c.txt").exists()


def test_attribution_columns_in_run_and_compare(scenario, tmp_path):
    """run --json / --out and compare --json carry the ledger's attribution per protocol and venue;
    the shares of a venue add up to one."""
    r = runner.invoke(app, ["run", str(scenario), "--json", "--paths", "1", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    att = json.loads(r.stdout)["attribution"]
    assert {a["protocol"] for a in att} == {"a", "b"} and {a["venue"] for a in att} == {"pool"}
    assert sum(a["move_share"] for a in att) == pytest.approx(1.0, rel=1e-12)
    assert all(a["price_move"] < 0 and a["relative_move"] < 0 for a in att)
    assert (tmp_path / "o" / "sales.parquet").exists()
    r = runner.invoke(app, ["compare", str(scenario), "--mechanisms", "none,circuit-breaker", "--paths", "1",
                            "--json"])
    assert r.exit_code == 0, r.output
    for cfg in json.loads(r.stdout)["configurations"]:
        att = cfg["attribution"]
        assert set(att) <= {"a @ pool", "b @ pool"} and "a @ pool" in att
        assert sum(v["share"] for v in att.values()) == pytest.approx(1.0, rel=1e-12)


def test_python_api(scenario):
    import liqcascade as lc

    r = lc.contagion(scenario, paths=2, seed=5)
    assert isinstance(r, lc.ContagionResult) and r.protocols == ["a", "b"]
    m = r.matrix("liquidations")
    assert m["mean"][0, 1] > 0 and m["mean"][1, 0] == 0.0
    t = r.table()
    assert len(t) == 3 * 2 * 2 and t.columns[:3] == ["metric", "sales_of", "hit"]
    assert "bad debt in B caused by A's sales" in str(r.summary())
    assert len(r.sales) == len(r.raw.sales) > 0
    d = json.loads(r.to_json())
    assert d["meta"]["kind"] == "contagion" and d["meta"]["seed"] == 5 and d["matrix"]["liquidations"]
    assert r.to_json() == lc.contagion(scenario, paths=2, seed=5).to_json()
    assert {tr.name for tr in r.plot("heatmap").data} >= {"liquidations", "bad debt"}
    with pytest.raises(lc.InputError):
        lc.contagion(scenario, paths=0)
    with pytest.raises(ValueError):
        r.matrix("nope")
