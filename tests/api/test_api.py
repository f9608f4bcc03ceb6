"""The Python API (``import liqcascade as lc``): scenarios, results and their conventions."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import liqcascade as lc
from liqcascade.api.toml import dumps

REPO = Path(__file__).resolve().parents[2]
EX = REPO / "examples"
MINIMAL = EX / "minimal.toml"
LT = "protocols.aave.params.WETH.liquidation_threshold"
CLI = [sys.executable, "-m", "liqcascade.cli"]

#: modules that `import liqcascade` (and loading, editing and writing a scenario) must not import
HEAVY = ("numba", "numpy", "pyarrow", "plotly", "polars", "pandas", "duckdb", "fastapi", "uvicorn", "scipy", "dask")


def _imported(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"],
                         capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_is_light():
    assert _imported("import liqcascade") == []
    assert "pydantic" not in subprocess.run(
        [sys.executable, "-c", "import liqcascade, sys; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True).stdout


def test_scenarios_need_no_engine():
    code = ("import liqcascade as lc\n"
            "s = lc.load('examples/minimal.toml').set('protocols.aave.assets.WETH.liquidation_threshold', 0.84)\n"
            "s.to_toml(); s.get('simulation.steps'); lc.Scenario.from_dict(s.to_dict(), base_dir='examples')\n"
            "lc.curve, lc.run, lc.mc, lc.CurveResult, lc.Table")
    assert _imported(code) == []


# ---- scenarios ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EX.glob("*.toml")), ids=lambda p: p.stem)
def test_to_toml_round_trips_every_example(path):
    s = lc.load(path)
    text = s.to_toml()
    assert tomllib.loads(text) == tomllib.loads(path.read_text()) == s.to_dict()
    again = lc.Scenario.from_toml(text, base_dir=EX)
    assert again == s and again.hash == s.hash


def test_set_returns_a_new_validated_scenario():
    s = lc.load(MINIMAL)
    t = s.set("protocols.aave.assets.WETH.liquidation_threshold", 0.84)
    assert t.get(LT) == 0.84 and s.get(LT) == 0.86
    assert t.model.protocols[0].params["WETH"].liquidation_threshold == 0.84
    assert t.hash != s.hash
    # by index, a missing table created, None back to the default
    u = s.set({"protocols.0.close_factor": 0.7, "liquidators.gas_cost": 3.0, "simulation.seed": 11})
    assert u.get("protocols.aave.close_factor") == 0.7 and u.get("liquidators.gas_cost") == 3.0
    assert u.set("liquidators.gas_cost", None).get("liquidators.gas_cost") == 0.0
    assert "gas_cost" not in u.set("liquidators.gas_cost", None).to_dict()["liquidators"]
    # an optional section is switched on only when set as a table
    cb = s.set("mechanisms.circuit_breaker", {})
    assert cb.model.mechanisms.active() == ["circuit_breaker"]
    assert cb.set("mechanisms.circuit_breaker.threshold", 0.2).get("mechanisms.circuit_breaker.threshold") == 0.2
    # numpy values become plain numbers
    assert s.set(LT, np.float64(0.85)).to_dict()["protocols"][0]["params"]["WETH"]["liquidation_threshold"] == 0.85


def test_set_on_a_unit_protocols_config():
    s = lc.load(EX / "comet.toml")
    name = s.model.protocols[0].name
    key = next(iter(s.model.protocols[0].config), None)
    if key is None:
        pytest.skip("comet example has no config override")
    v = s.get(f"protocols.{name}.config.{key}")
    t = s.set(f"protocols.{name}.config.{key}", v)
    assert t == s


@pytest.mark.parametrize("path,value,reason", [
    (LT, 1.2, "Input should be less than 1"),
    (LT, 0.8, "ltv 0.825 exceeds liquidation_threshold 0.8"),
    ("simulation.steps", "abc", "Input should be a valid integer"),
    ("assets.WETH.price", -1.0, "Input should be greater than 0"),
])
def test_set_errors_are_the_cli_errors(tmp_path, path, value, reason):
    """The message of a bad value set through the API is the line `liqcascade validate` prints
    for the same value written in the file."""
    f = tmp_path / "s.toml"
    s = lc.load(MINIMAL).save(f)
    good = lc.load(s)
    with pytest.raises(lc.InputError) as ei:
        good.set(path, value)
    api_msg = str(ei.value)
    assert reason in api_msg
    # the same value written into the file, through the CLI
    d = good.to_dict()
    cont, key = _container(d, path)
    cont[key] = value
    f.write_text(dumps(d))
    r = subprocess.run([*CLI, "validate", str(f)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {api_msg}"


def _container(d, path):
    parts = path.split(".")
    cur = d
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = next(el for el in cur if el.get("name") == p)
        else:
            cur = cur[p]
    return cur, parts[-1]


@pytest.mark.parametrize("path,fragment", [
    ("protocols.aave.params.WETH.liquidaton_threshold", "did you mean 'liquidation_threshold'"),
    ("protocols.nope.params.WETH.ltv", "no element named 'nope' at protocols.nope (have: aave)"),
    ("mechanisms.throttle.max_debt_per_window", "mechanisms.throttle is not set in this scenario"),
    ("simulation.steps.x", "'simulation.steps' is a value, not a table"),
    ("simulation..steps", "expected a dotted field path"),
])
def test_bad_paths(path, fragment):
    with pytest.raises(lc.InputError) as ei:
        lc.load(MINIMAL).set(path, 1)
    assert fragment in str(ei.value)
    assert str(ei.value).startswith(f"{MINIMAL}: {path}: ")


def test_load_errors():
    with pytest.raises(lc.InputError, match="file not found"):
        lc.load(EX / "missing.toml")
    with pytest.raises(lc.InputError, match="malformed TOML"):
        lc.Scenario.from_toml("name = ", source="x.toml")
    with pytest.raises(lc.InputError, match="assets: required field is missing"):
        lc.Scenario.from_dict({"protocols": []})


def test_save_rebases_relative_files(tmp_path):
    s = lc.load(MINIMAL)
    out = s.save(tmp_path / "sub" / "copy.toml")
    t = lc.load(out)
    assert t.to_dict()["protocols"][0]["positions"] != "minimal_positions.csv"
    assert t.compile().book.n == s.compile().book.n
    assert np.array_equal(np.sort(t.compile().book.debt), np.sort(s.compile().book.debt))


_keys = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1),
                     st.floats(allow_nan=False), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
_values = st.recursive(_scalars, lambda ch: st.one_of(st.lists(ch, max_size=4), st.dictionaries(_keys, ch, max_size=4)),
                       max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
@example({"0\n": {}})  # a bare-key pattern ending in "$" let a trailing newline through
def test_toml_writer_round_trips(d):
    assert tomllib.loads(dumps(d)) == d


# ---- results ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s():
    return lc.load(MINIMAL)


@pytest.fixture(scope="module")
def curve(s):
    return lc.curve(s, shocks="0:0.3:0.05")


@pytest.fixture(scope="module")
def run(s):
    return lc.run(s, paths=3, seed=5)


def test_curve_wraps_the_engine(s, curve):
    from liqcascade.engine.static import solve_static

    raw = solve_static(s.compile(), np.round(np.arange(0, 0.3001, 0.05), 12))
    assert [p.as_dict() for p in curve.raw.points] == [p.as_dict() for p in raw.points]
    assert curve.critical_shock == raw.critical_shock == 0.2
    t = curve.table()
    assert list(t["final_price"]) == [p.final_price for p in raw.points]
    assert t["liquidations"].dtype == np.int64
    df = curve.to_polars()
    assert df["bad_debt"].to_list() == [p.bad_debt for p in raw.points]
    assert list(curve.to_pandas()["shock"]) == [p.shock for p in raw.points]
    fig = curve.plot()
    assert [tr.name for tr in fig.data] == ["bad debt", "no cascade", "final price"]
    assert list(fig.data[2].y) == [p.final_price for p in raw.points]


def test_curve_shocks_and_errors(s):
    a = lc.curve(s, shocks=[0.1, 0.2])
    b = lc.curve(s, shocks="0.1,0.2")
    assert a.table()["final_price"].tolist() == b.table()["final_price"].tolist()
    for bad in ("0:1.5:0.1", "x", [], [0.5, 1.0], "0.2:0.1:0.1"):
        with pytest.raises(lc.InputError):
            lc.curve(s, shocks=bad)
    with pytest.raises(lc.InputError, match="mode: must be mechanical or rational"):
        lc.curve(s, mode="sometimes")
    with pytest.raises(lc.InputError, match="only protocol units"):
        lc.curve(lc.load(EX / "comet.toml"))


def test_meta_records_provenance(s, curve, run):
    for res in (curve, run):
        m = res.meta
        assert m["package_version"] == lc.__version__
        assert m["schema_version"] >= 1 and isinstance(m["code_version"], str)
        assert len(m["scenario_hash"]) == 64
        assert json.loads(res.to_json())["meta"] == json.loads(json.dumps(m))
    assert curve.meta["seed"] == 7 and run.meta["seed"] == 5
    assert run.meta["scenario_hash"] == s.set({"simulation.paths": 3, "simulation.seed": 5}).hash
    md = json.loads(run.events.to_arrow().schema.metadata[b"liqcascade"])
    assert md["seed"] == 5 and md["table"] == "events" and md["units"]["bad_debt"] == "quote"


def test_run_matches_cli_json(s, run, tmp_path):
    out = subprocess.run([*CLI, "run", str(MINIMAL), "--paths", "3", "--seed", "5", "--json"],
                         capture_output=True, text=True, check=True)
    cli = json.loads(out.stdout)
    assert json.loads(json.dumps(run.totals())) == cli["totals"]
    assert json.loads(run.to_json())["totals"] == cli["totals"]


def test_run_tables(run):
    ev = run.events
    assert len(ev) == len(run.raw.events) and ev.columns == list(run.raw.events.dtype.names)
    assert ev.to_polars().height == len(ev)
    st_ = run.steps.to_pandas()
    assert len(st_) == run.recorded_paths * (run.n_steps + 1) * len(run.assets)
    pp = run.per_path()
    assert pp["path"].tolist() == [0, 1, 2]
    assert np.allclose(pp["bad_debt"].mean(), run.totals()["bad_debt"])
    prot = run.per_protocol()
    assert prot["protocol"].tolist() == ["aave"]
    assert prot["events"][0] == len(ev) / run.recorded_paths
    assert math.isclose(prot["bad_debt"][0], float(ev["bad_debt"].sum()), rel_tol=1e-12)
    assert math.isclose(prot["collateral_seized_value"][0],
                        float((ev["collateral_seized"] * ev["oracle_price"]).sum()), rel_tol=1e-12)
    with pytest.raises(AttributeError, match="does not record individual sales"):
        run.sales  # noqa: B018
    assert {tr.name for tr in run.plot().data} >= {"WETH venue", "WETH liquidations"}


def test_same_seed_same_result(s):
    a = lc.run(s, paths=2, seed=3)
    b = lc.run(s, paths=2, seed=3)
    assert a.to_json() == b.to_json()
    assert a.events.to_arrow().equals(b.events.to_arrow())


def test_summary_is_plain_text_and_rich(curve, run):
    text = str(curve.summary())
    assert "\x1b" not in text and "critical shock: 0.200" in text and "seed 7" in text
    assert "note:" not in str(curve.summary(notes=False))

    class P:  # IPython's pretty printer
        def __init__(self):
            self.out = ""

        def text(self, t):
            self.out += t

    p = P()
    run._repr_pretty_(p, False)
    assert "bad debt" in p.out and "\x1b" not in p.out
    from rich.console import Console

    con = Console(record=True, width=120, force_terminal=True, color_system="truecolor")
    con.print(run.summary())
    assert "debt repaid" in con.export_text()


def test_progress_and_stopping(s):
    seen = []
    lc.curve(s, shocks="0:0.4:0.01", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (41, 41) and len(seen) > 1

    class Stop(Exception):
        pass

    def stop(d, t):
        raise Stop

    with pytest.raises(Stop):
        lc.curve(s, shocks="0:0.4:0.01", progress=stop)
    with pytest.raises(Stop):
        lc.run(s, paths=50, progress=stop)


def test_run_many_threads_match_sequential(s):
    grid = {"liquidators.mode": ["mechanical", "rational"], "simulation.seed": [1, 2]}
    a = lc.run_many(s, grid=grid)
    b = lc.run_many(s, grid=grid, workers=2)
    assert a.table().to_arrow().drop_columns([]).equals(b.table().to_arrow())
    assert len(a) == 4 and all(r is not None for r in a)
    lst = lc.run_many([s, s.set("liquidators.mode", "rational")])
    assert lst.table()["status"].tolist() == ["ok", "ok"]
    assert lst[1].totals() == a[2].totals()


def test_compare_table(s):
    c = lc.compare(s, "none,circuit-breaker", paths=2)
    t = c.table()
    raw_cb = next(x for x in c.raw.configs if x.label == "circuit-breaker")
    sel = (t["configuration"] == "circuit-breaker") & (t["metric"] == "bad_debt")
    assert t["mean"][sel][0] == raw_cb.stats["bad_debt"]["mean"]
    assert set(c.runs) == {"none", "circuit-breaker"}
    assert c.runs["circuit-breaker"].totals()["bad_debt"] == raw_cb.run.totals()["bad_debt"]
    assert len(c.per_path()) == 4


def test_replay_is_callable_after_the_subpackage_is_imported():
    import liqcascade.replay as rp

    assert lc.replay is rp and callable(lc.replay)
    with pytest.raises(lc.InputError, match="unknown event"):
        lc.replay("1999-01-01")


# ---- studies on the run store ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gbm(s):
    return s.set({"price.kind": "gbm", "price.sigma": 1.2, "simulation.dt_seconds": 3600, "simulation.steps": 48})


def test_mc_is_the_cli_run(gbm, tmp_path, monkeypatch):
    """lc.mc plans the same run as `liqcascade mc` on the same scenario file: same run id, same metrics."""
    import shutil

    monkeypatch.setenv("LIQCASCADE_CODE_VERSION", "0.0.0+test")
    f = tmp_path / "gbm.toml"
    f.write_text(gbm.to_toml())
    shutil.copy(EX / "minimal_positions.csv", tmp_path)
    m = lc.mc(lc.load(f), paths=96, seed=4, store=tmp_path / "a", workers=0, chunk_paths=32)
    out = subprocess.run([*CLI, "mc", str(f), "--paths", "96", "--seed", "4", "--store", str(tmp_path / "b"),
                          "--workers", "0", "--chunk-paths", "32", "--json"], capture_output=True, text=True, check=True)
    cli = json.loads(out.stdout)
    assert cli["run_id"] == m.run_id
    assert cli["points"][0]["metrics"] == json.loads(json.dumps(m.metrics))
    assert m.meta["scenario_hash"] == m._plan.base_hash and m.meta["seed"] == 4 and m.meta["paths"] == 96
    t = m.to_polars()
    assert t.height == 96 and sorted(t["path"].to_list()) == list(range(96))
    assert math.isclose(m.var95, float(np.quantile(t["bad_debt"].to_numpy(), 0.95)), rel_tol=1e-12)


def test_mc_stopped_by_progress_is_interrupted_and_resumes(gbm, tmp_path):
    from liqcascade.results.catalog import Catalog

    class Stop(KeyboardInterrupt):
        pass

    def stop(done, total):
        if done >= 1:
            raise Stop

    with pytest.raises(Stop):
        lc.mc(gbm, paths=128, seed=1, store=tmp_path, workers=0, chunk_paths=32, progress=stop)
    with Catalog(tmp_path, read_only=True) as cat:
        (row,) = cat.list_runs()
    assert row["status"] == "interrupted"
    m = lc.mc(gbm, paths=128, seed=1, store=tmp_path, workers=0, chunk_paths=32)
    assert m.run_id == row["run_id"] and m.raw.chunks["skipped"] >= 1 and m.metrics["paths"] == 128


def test_sweep_points_and_invalid_ones(gbm, tmp_path):
    sw = lc.sweep(gbm, {"protocols.aave.assets.WETH.liquidation_threshold": [0.8, 0.86],
                        "liquidators.gas_cost": "0:10:10"}, paths=32, store=tmp_path, workers=0)
    t = sw.table()
    assert len(t) == 4 and t["status"].tolist().count("invalid") == 2
    assert "ltv 0.825 exceeds liquidation_threshold 0.8" in t["reason"][0]
    assert sw.params == ["protocols.aave.params.WETH.liquidation_threshold", "liquidators.gas_cost"]
    ok = t["status"] == "ok"
    assert np.all(t["paths"][ok] == 32) and np.all(np.isnan(t["var95"][~ok]))
    assert t["status"].tolist() == ["invalid", "invalid", "ok", "ok"] and len(sw.per_path(2)) == 32
    with pytest.raises(ValueError, match="no valid point 0"):
        sw.per_path(0)
    with pytest.raises(lc.InputError, match="sweeps take numbers"):
        lc.sweep(gbm, {"liquidators.mode": ["rational"]}, paths=4, store=tmp_path, workers=0)
    fig = sw.plot()
    assert len(fig.data) == 2  # one line per gas cost


def test_per_protocol_with_two_protocols():
    r = lc.run(lc.load(EX / "two_protocols.toml"))
    pp = r.per_protocol()
    assert pp["protocol"].tolist() == r.protocols and len(pp) == 2
    ev = r.events
    assert math.isclose(float(pp["bad_debt"].sum()), float(ev["bad_debt"].sum()), rel_tol=1e-12, abs_tol=1e-9)
    assert int(pp["events"].sum()) == len(ev)
    assert set(pp["kind"].tolist()) == {"aave_v3"}
    comet = lc.run(lc.load(EX / "comet.toml"))
    cp = comet.per_protocol()
    assert cp["kind"].tolist() == ["comet"] and int(cp["events"][0]) == len(comet.events)


def test_replay_result_records_its_data():
    data = (REPO / ".." / "shared" / "data").resolve()
    if not (data / "stablesims").is_dir():
        pytest.skip("needs ../shared/data (reference data beside the repository; absent here)")
    bt = lc.replay("2020-03-12", data_dir=data, quick=True, seed=0)
    m = bt.meta
    assert m["kind"] == "replay" and m["seed"] == 0 and m["event"] == "2020-03-12" and len(m["scenario_hash"]) == 64
    assert "data files" in m["scenario_hash_covers"]
    assert bt.run.meta["kind"] == "run" and bt.run.meta["scenario_hash"] == m["scenario_hash"]
    assert bt.table()["metric"].tolist() == list(bt.headline)
    assert bt.headline["bad_debt"] == bt.raw.headline["bad_debt"]
    assert json.loads(bt.to_json())["meta"]["event"] == "2020-03-12"
