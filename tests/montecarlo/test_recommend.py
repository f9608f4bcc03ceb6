"""`liqcascade recommend`: capacity on a hand-made book, the search space, the frontier, the
choice, the paired bootstrap, determinism and the command line (issue #5)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqcascade.errors import InputError
from liqcascade.montecarlo.recommend import (
    CapacityBook,
    bootstrap,
    choose,
    default_axes,
    pareto_front,
    plan_recommend,
    search_space,
)
from liqcascade.scenario.load import load_scenario

from mc_helpers import cli_app, scenario_text

# HF under LT 0.85: p0 1.7, p1 1.03 (below 1 under LT 0.80), p2 has no debt (idle, but it can borrow)
BOOK = "id,collateral,debt\np0,1,1000\np1,2,3300\np2,3,0\n" + "".join(
    f"q{i},{1 + i % 5},{(1 + i % 5) * 2000 * 0.85 / (1.03 + 0.02 * i):.2f}\n" for i in range(20))
HAND_COLL = 6 + sum(1 + i % 5 for i in range(20))

THROTTLE = """
[mechanisms.throttle]
max_debt_per_window = 100000
window_seconds = 600
"""


def write_hand(folder, ltv: float | None = 0.8, extra: str = "", book: str = BOOK):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.csv").write_text(book)
    p = folder / "hand.toml"
    ltv_line = "" if ltv is None else f"ltv = {ltv}\n"
    p.write_text(scenario_text(name="hand", steps=20, seed=11, reserve=40, extra=extra,
                               params=f"{ltv_line}liquidation_threshold = 0.85\nliquidation_bonus = 0.05\n"))
    return p


def base_dict(path):
    sc, _ = load_scenario(path)
    return sc.model_dump(mode="python")


# ---- capacity ---------------------------------------------------------------------------------


def test_capacity_hand_book(tmp_path):
    three = "id,collateral,debt\np0,1,1000\np1,2,3300\np2,3,0\n"
    p = write_hand(tmp_path, book=three)
    d = base_dict(p)
    cap = CapacityBook(tmp_path)
    c = cap(d)
    assert c["capacity"] == pytest.approx(6 * 2000 * 0.8)  # the idle position's collateral counts
    assert c["t0_liquidatable_positions"] == 0
    d2 = json.loads(json.dumps(d))
    d2["protocols"][0]["params"]["WETH"]["ltv"] = 0.7
    d2["protocols"][0]["params"]["WETH"]["liquidation_threshold"] = 0.8
    c2 = cap(d2)
    assert c2["capacity"] / c["capacity"] == pytest.approx(0.7 / 0.8)
    # p1 (HF 1.03 under 0.85) is past a threshold of 0.80 at t = 0
    assert c2["t0_liquidatable_positions"] == 1 and c2["t0_liquidatable_debt"] == pytest.approx(3300)
    # no LTV: capacity uses LT
    p3 = write_hand(tmp_path / "noltv", ltv=None, book=three)
    assert CapacityBook(tmp_path / "noltv")(base_dict(p3))["capacity"] == pytest.approx(6 * 2000 * 0.85)


def test_plan_capacity_ratios_and_invalid_points(tmp_path):
    p = write_hand(tmp_path)
    rp = plan_recommend(p, ["protocol.ltv=0.7,0.8,0.86"], defaults=False, paths=8)
    by = {pt.params.get("protocol.ltv"): pt for pt in rp.plan.points}
    assert by[0.86].status == "invalid"  # LTV above LT is skipped and counted
    assert any("1 parameter point(s) skipped as invalid: 1 with ltv > liquidation_threshold" in n for n in rp.notes)
    assert rp.capacity[by[0.7].point_id]["capacity_ratio"] == pytest.approx(0.7 / 0.8)
    assert rp.capacity[by[0.8].point_id]["capacity_ratio"] == 1.0
    assert rp.current_id == by[0.8].point_id and not rp.current_added
    assert rp.base_capacity == pytest.approx(HAND_COLL * 2000 * 0.8)


# ---- search space -----------------------------------------------------------------------------


def test_default_axes_and_user_override(tmp_path):
    d = base_dict(write_hand(tmp_path))
    axes = {s.path: s.values for s in default_axes(d)}
    assert set(axes) == {"protocol.liquidation_threshold", "protocol.ltv", "protocol.liquidation_bonus",
                         "protocol.close_factor"}
    assert axes["protocol.liquidation_threshold"] == (0.83, 0.85, 0.87)
    assert 0.8 in axes["protocol.ltv"] and 0.5 in axes["protocol.close_factor"]
    specs, dropped = search_space(d, ["protocols.aave.params.WETH.liquidation_threshold=0.8,0.85"])
    assert dropped == ["protocol.liquidation_threshold"]
    assert [s.path for s in specs][-1] == "protocols.aave.params.WETH.liquidation_threshold"
    # no LTV in the scenario: no LTV axis
    d2 = base_dict(write_hand(tmp_path / "b", ltv=None))
    assert "protocol.ltv" not in {s.path for s in default_axes(d2)}


def test_random_search_plan(tmp_path):
    p = write_hand(tmp_path)
    rp = plan_recommend(p, random=12, paths=8, seed=5)
    assert rp.plan.random_k == 12 and rp.current_added
    grid = [pt for pt in rp.plan.points if pt.params]
    assert len(grid) == 12
    for pt in grid:  # drawn inside the default box around today's values
        assert 0.83 <= pt.params["protocol.liquidation_threshold"] <= 0.87
        if pt.status == "ok":
            assert pt.params["protocol.ltv"] <= pt.params["protocol.liquidation_threshold"]
        else:
            assert "exceeds liquidation_threshold" in pt.reason
    again = plan_recommend(p, random=12, paths=8, seed=5)
    assert [pt.params for pt in again.plan.points] == [pt.params for pt in rp.plan.points]
    assert again.plan.run_id == rp.plan.run_id


def test_mechanism_paths_reach_the_scenario(tmp_path):
    p = write_hand(tmp_path, extra=THROTTLE)
    rp = plan_recommend(p, ["mechanisms.throttle.max_debt_per_window=50000,200000",
                            "mechanisms.throttle.window_seconds=300,600"], defaults=False, paths=8)
    ok = [pt for pt in rp.plan.valid_points if pt.params]
    assert len(ok) == 4 and len(rp.plan.valid_points) == 5  # the current point is added
    from liqcascade.scenario.load import validate_dict

    for pt in ok:
        sc = validate_dict(pt.scenario)
        assert sc.mechanisms.throttle.max_debt_per_window == pt.params["mechanisms.throttle.max_debt_per_window"]
        assert sc.mechanisms.throttle.window_seconds == pt.params["mechanisms.throttle.window_seconds"]
        chunk = rp.plan.chunks(tmp_path / "st")[0]
        assert chunk.scenario["mechanisms"]["throttle"]["window_seconds"] in (300, 600)
        assert rp.capacity[pt.point_id]["capacity_ratio"] == 1.0  # mechanisms leave capacity alone
    # the current parameters (100000, 10) are not on this grid: added as a point
    assert rp.current_added and rp.plan.points[-1].params == {}
    # a mechanism the scenario does not switch on: a clear message
    with pytest.raises(InputError, match=r"mechanisms.circuit_breaker is not set in this scenario"):
        plan_recommend(p, ["mechanisms.circuit_breaker.threshold=0.1,0.2"], defaults=False, paths=8)


# ---- frontier, choice, bootstrap --------------------------------------------------------------


def _dominates(a, b):
    return a[0] <= b[0] and a[1] >= b[1] and (a[0] < b[0] or a[1] > b[1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=30))
def test_frontier_is_the_non_dominated_set(pts):
    var = [float(v) for v, _ in pts]
    cap = [c / 4 for _, c in pts]
    front = set(pareto_front(var, cap))
    pairs = list(zip(var, cap))
    for i, a in enumerate(pairs):
        dominated = any(_dominates(b, a) for b in pairs)
        assert (i in front) == (not dominated)


def _rows(var, cap):
    return [{"index": i, "point_id": str(i), "capacity_ratio": c, "n_changes": 0,
             "metrics": {"var95": v, "es95": v, "bad_debt_mean": v}} for i, (v, c) in enumerate(zip(var, cap))]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0.5, 1.5)), min_size=1, max_size=30), st.floats(0.5, 1.5))
def test_choice_meets_constraint_with_lowest_var(pts, min_cap):
    rows = _rows([v for v, _ in pts], [c for _, c in pts])
    best = choose(rows, min_cap)
    feasible = [r for r in rows if r["capacity_ratio"] >= min_cap - 1e-12]
    if not feasible:
        assert best is None
        return
    assert best["capacity_ratio"] >= min_cap - 1e-12
    assert best["metrics"]["var95"] == min(r["metrics"]["var95"] for r in feasible)


def test_paired_bootstrap():
    x = np.random.default_rng(0).exponential(100.0, 400)
    same = bootstrap({"a": x, "b": x.copy()}, "a", 300, seed=1)
    assert same["b"]["diff_lo"] == same["b"]["diff_hi"] == 0.0 and not same["b"]["distinguishable"]
    shifted = bootstrap({"a": x, "b": x + 50.0}, "a", 300, seed=1)
    assert shifted["b"]["distinguishable"] and shifted["b"]["diff_lo"] > 0
    assert shifted["a"]["var_lo"] <= np.quantile(x, 0.95) <= shifted["a"]["var_hi"]
    assert bootstrap({"a": x, "b": x + 50.0}, "a", 300, seed=1) == shifted  # seeded


# ---- command line -----------------------------------------------------------------------------

_runner = CliRunner()
APP = cli_app()


def invoke(*args, code=0):
    r = _runner.invoke(APP, [str(a) for a in args])
    try:
        out, err = r.stdout, r.stderr
    except ValueError:  # older Click
        out, err = r.output, ""
    if code == 0 and r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args} raised {r.exception!r}\n{err}") from r.exception
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{out}\n{err}"
    return out, err


GRID = ["--no-defaults", "--param", "protocol.liquidation_threshold=0.82,0.85",
        "--param", "protocol.ltv=0.78,0.8,0.84", "--paths", 40, "--chunk-paths", 20, "--workers", 0,
        "--bootstrap", 200]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("rec")
    scen = write_hand(base / "scen")
    out, _ = invoke("recommend", scen, *GRID, "--store", base / "st1", "--out", base / "o1", "--json")
    return base, scen, json.loads(out)


def test_cli_json(cli_run):
    base, scen, d = cli_run
    assert d["search"]["invalid"] == {"ltv > liquidation_threshold": 1}  # (LT 0.82, LTV 0.84)
    rows = d["points"]
    assert len(rows) == 5 and sum(r["current"] for r in rows) == 1
    ids = {r["point_id"]: r for r in rows}
    # the frontier is non-dominated within the run
    for pid in d["frontier"]:
        a = ids[pid]
        assert not any(_dominates((b["metrics"]["var95"], b["capacity_ratio"]),
                                  (a["metrics"]["var95"], a["capacity_ratio"])) for b in rows)
    # the recommended point meets the constraint and has the lowest VaR of those that do
    rec = d["recommended"]
    assert rec["capacity_ratio"] >= d["min_capacity"]
    assert rec["metrics"]["var95"] == min(r["metrics"]["var95"] for r in rows if r["capacity_ratio"] >= 1.0)
    lo, hi = rec["var95_ci"]
    assert lo <= rec["metrics"]["var95"] <= hi
    for key in ("p_insolvency", "lar95", "es95", "var95"):
        assert key in rec["metrics"] and key in d["current"]["metrics"]
    assert rec["metrics"]["es95"] >= rec["metrics"]["var95"]
    assert d["current"]["capacity_ratio"] == 1.0
    caps = {r["params"]["protocol.ltv"]: r["capacity_ratio"] for r in rows}
    assert caps[0.78] == pytest.approx(0.78 / 0.8)
    assert any("Euler" in n for n in d["notes"])
    assert (base / "o1" / "recommend.json").is_file()
    assert "plotly" in (base / "o1" / "frontier.html").read_text()[:300000].lower()
    assert d["execution"]["chunks"]["total"] == 10


def test_cli_deterministic_and_resumable(cli_run):
    base, scen, d = cli_run
    invoke("recommend", scen, *GRID, "--store", base / "st2", "--out", base / "o2", "--json")
    assert (base / "o1" / "recommend.json").read_text() == (base / "o2" / "recommend.json").read_text()
    # the same command again finds the run and skips every chunk
    out, _ = invoke("recommend", scen, *GRID, "--store", base / "st1", "--json")
    again = json.loads(out)
    assert again["execution"]["chunks"]["ran"] == 0
    assert {k: v for k, v in again.items() if k != "execution"} == {k: v for k, v in d.items() if k != "execution"}


def test_cli_table(cli_run):
    base, scen, _ = cli_run
    out, _ = invoke("recommend", scen, *GRID, "--store", base / "st1", "--min-capacity", 0.95)
    assert "Recommendation" in out and "VaR95" in out and "borrow capacity" in out and "caveats" in out
    assert "recommended" in out and "current" in out


@pytest.mark.parametrize("args, msg", [
    (["--min-capacity", 5], "no parameter point keeps 5× today's borrow capacity"),
    (["--min-capacity", 0], "--min-capacity: must be a number > 0"),
    (["--param", "mechanisms.throttle.window_seconds=300,600"], "mechanisms.throttle is not set"),
])
def test_cli_bad_input(tmp_path, args, msg):
    scen = write_hand(tmp_path / "s")
    _, err = invoke("recommend", scen, "--paths", 8, "--workers", 0, "--store", tmp_path / "st", *args, code=2)
    assert msg in err and "Traceback" not in err
    assert not (tmp_path / "st").exists()  # refused before any work


def test_no_axes(tmp_path):
    scen = write_hand(tmp_path / "s")
    _, err = invoke("recommend", scen, "--no-defaults", "--workers", 0, "--store", tmp_path / "st", code=2)
    assert "nothing to search" in err
