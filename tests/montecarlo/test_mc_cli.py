"""`mc`, `sweep` and `runs list|show|sql` through the command line (in-process CliRunner)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from mc_helpers import cli_app, write_scenario

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


def invoke_json(*args):
    out, _ = invoke(*args)
    return json.loads(out)


@pytest.fixture(scope="module")
def mc_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    scen = write_scenario(base / "scen")
    store = base / "store"
    d = invoke_json("mc", scen, "--paths", 40, "--chunk-paths", 16, "--workers", 0, "--store", store, "--json")
    return scen, store, d


def test_mc_json(mc_run):
    scen, store, d = mc_run
    assert d["status"] == "complete" and d["kind"] == "mc" and d["paths"] == 40
    assert d["chunks"]["total"] == 3 and d["chunks"]["ran"] == 3
    m = d["points"][0]["metrics"]
    for k in ("var95", "lar95", "es95", "p_insolvency", "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi"):
        assert k in m
    assert m["paths"] == 40
    files = sorted(p.name for p in (store / "chunks" / d["run_id"]).rglob("*.parquet"))
    assert len(files) == 3 and files[0].startswith(f"{d['run_id']}_{d['points'][0]['point_id']}_c")
    # the same command again finds the run and skips every stored chunk
    d2 = invoke_json("mc", scen, "--paths", 40, "--chunk-paths", 16, "--workers", 0, "--store", store, "--json")
    assert d2["run_id"] == d["run_id"] and d2["chunks"]["ran"] == 0 and d2["chunks"]["skipped"] == 3
    assert d2["points"][0]["metrics"] == m


def test_runs_list_show_sql(mc_run, tmp_path):
    scen, store, d = mc_run
    rid = d["run_id"]
    lst = invoke_json("runs", "list", "--store", store, "--json")
    row = next(r for r in lst["runs"] if r["run_id"] == rid)
    assert row["status"] == "complete" and row["paths"] == 40 and row["chunks_stored"] == 3
    assert row["scenario_name"] == "mc-test" and row["code_version"] == "0.0.0+test"
    out, _ = invoke("runs", "list", "--store", store)
    assert rid in out

    show = invoke_json("runs", "show", rid[:6], "--store", store, "--json")
    assert show["run"]["run_id"] == rid and show["points"][0]["metrics"] == d["points"][0]["metrics"]
    out, _ = invoke("runs", "show", rid, "--store", store, "--plot", tmp_path / "dist.html")
    assert "VaR95" in out and "P(insolvent)" in out
    assert "plotly" in (tmp_path / "dist.html").read_text()[:200000].lower()

    q = invoke_json("runs", "sql", f"SELECT count(*) AS n, count(DISTINCT path) AS u, min(path), max(path) "
                                   f"FROM paths WHERE run_id = '{rid}'", "--store", store, "--json")
    assert q["columns"][:2] == ["n", "u"] and q["rows"] == [[40, 40, 0, 39]]
    q = invoke_json("runs", "sql", "SELECT r.status, count(*) FROM runs r JOIN chunks c USING (run_id) "
                                   f"WHERE run_id = '{rid}' GROUP BY 1", "--store", store, "--json")
    assert q["rows"] == [["complete", 3]]
    out, _ = invoke("runs", "sql", "SELECT run_id, var95 FROM metrics", "--store", store)
    assert rid in out
    for bad in ("DELETE FROM runs", "COPY runs TO 'x.csv'", "SELECT 1; SELECT 2", "CREATE TABLE t (a INT)"):
        _, err = invoke("runs", "sql", bad, "--store", store, code=2)
        assert err.startswith("error: QUERY: "), err
    _, err = invoke("runs", "sql", "SELECT nope FROM runs", "--store", store, code=2)
    assert err.startswith("error: QUERY: ")
    # files outside the store's chunks cannot be read through DuckDB table functions
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    _, err = invoke("runs", "sql", f"SELECT * FROM read_csv('{outside}')", "--store", store, code=2)
    assert err.startswith("error: QUERY: ")
    _, err = invoke("runs", "show", "zzzz", "--store", store, code=2)
    assert "no run" in err


def test_sweep_with_invalid_point(tmp_path):
    scen = write_scenario(tmp_path / "scen")
    store = tmp_path / "store"
    args = ("sweep", scen, "--param", "protocol.liquidation_threshold=0.86:0.96:0.05", "--param", "price.sigma=0.5,1.5",
            "--paths", 24, "--chunk-paths", 10, "--workers", 0, "--store", store)
    d = invoke_json(*args, "--json")
    assert d["kind"] == "sweep" and len(d["points"]) == 6
    invalid = [p for p in d["points"] if p["status"] == "invalid"]
    assert len(invalid) == 2 and all(p["params"]["protocol.liquidation_threshold"] == 0.96 for p in invalid)
    assert "liquidation_threshold" in invalid[0]["reason"] and invalid[0]["metrics"] is None
    ok = [p for p in d["points"] if p["status"] == "ok"]
    assert all(p["metrics"]["paths"] == 24 for p in ok)
    assert d["chunks"]["total"] == 4 * 3
    # higher volatility, more liquidated value (same random numbers at every point)
    by = {(p["params"]["protocol.liquidation_threshold"], p["params"]["price.sigma"]): p["metrics"] for p in ok}
    assert by[(0.86, 1.5)]["liquidated_mean"] >= by[(0.86, 0.5)]["liquidated_mean"]
    out, _ = invoke(*args)
    assert "invalid point 4" in out and "protocol.liquidation_threshold" in out and "12 already stored" in out
    show = invoke_json("runs", "show", d["run_id"], "--store", store, "--json")
    assert [p["status"] for p in show["points"]] == [p["status"] for p in d["points"]]
    assert show["run"]["parameters"]["mode"] == "grid"


def test_sweep_random_points(tmp_path):
    scen = write_scenario(tmp_path / "scen")
    args = ("sweep", scen, "--param", "price.sigma=0.5:1.5", "--param", "simulation.steps=20:60",
            "--random", 3, "--seed", 5, "--paths", 8, "--workers", 0, "--store", tmp_path / "st", "--json")
    d = invoke_json(*args)
    assert len(d["points"]) == 3 and d["seed"] == 5
    for p in d["points"]:
        assert 0.5 <= p["params"]["price.sigma"] <= 1.5 and 20 <= p["params"]["simulation.steps"] <= 60
    assert invoke_json(*args)["points"] == d["points"]


@pytest.mark.parametrize("args, msg", [
    (("sweep", "{scen}", "--paths", 4), "error: --param: give at least one"),
    (("sweep", "{scen}", "--param", "price.bogus=1:2:1"), "error: --param: price.bogus: unknown field"),
    (("sweep", "{scen}", "--param", "price.sigma=1:0:1"), "error: --param: price.sigma: need"),
    (("mc", "{dir}/missing.toml"), "missing.toml: file not found"),
    (("mc", "{scen}", "--dask", "remote"), "error: --dask: only 'local'"),
    (("mc", "{scen}", "--dask", "local", "--scheduler", "tcp://x:1"), "error: --dask/--scheduler"),
    (("runs", "list", "--store", "{dir}/nothing"), "no run catalog here"),
])
def test_bad_input(tmp_path, args, msg):
    scen = write_scenario(tmp_path / "scen")
    a = [str(x).format(scen=scen, dir=tmp_path) for x in args]
    if a[0] in ("mc", "sweep"):
        a += ["--store", str(tmp_path / "st"), "--workers", "0"]
    _, err = invoke(*a, code=2)
    assert msg in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_reconcile_files_and_catalog(tmp_path):
    """Files are the truth: a file the catalog misses is recorded, a row without a file is rerun."""
    scen = write_scenario(tmp_path / "scen")
    store = tmp_path / "store"
    args = ("mc", scen, "--paths", 30, "--chunk-paths", 10, "--workers", 0, "--store", store, "--json")
    d = invoke_json(*args)
    rid = d["run_id"]
    files = sorted((store / "chunks" / rid).rglob("*.parquet"))
    con = duckdb.connect(str(store / "runs.duckdb"))
    con.execute("DELETE FROM chunks WHERE chunk = 0")  # crash after the file, before the catalog row
    con.close()
    files[2].unlink()  # a row whose file disappeared
    (files[1].parent / f".{files[1].name}.123.abcd.tmp").write_bytes(b"partial")  # a write cut short
    d2 = invoke_json(*args)
    assert d2["chunks"]["recovered_from_files"] == 1 and d2["chunks"]["dropped_without_file"] == 1
    assert d2["chunks"]["ran"] == 1 and d2["chunks"]["stored"] == 3
    assert d2["points"][0]["metrics"] == d["points"][0]["metrics"]
    assert not list((store / "chunks").rglob("*.tmp"))
    con = duckdb.connect(str(store / "runs.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT chunk) FROM chunks WHERE run_id = ?", [rid]).fetchone() == (3, 3)
    assert con.execute("SELECT attempts, status FROM runs WHERE run_id = ?", [rid]).fetchone() == (2, "complete")
    con.close()


def test_unreachable_scheduler_leaves_nothing(tmp_path):
    """An unreachable --scheduler fails (exit 2, one line) before the store or catalog exists."""
    import socket

    scen = write_scenario(tmp_path / "scen")
    with socket.socket() as s:  # a port nothing listens on: bind, read the number, close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "st"
    _, err = invoke("mc", scen, "--paths", 4, "--store", store, "--scheduler", f"tcp://127.0.0.1:{port}", code=2)
    assert f"error: --scheduler: cannot connect to tcp://127.0.0.1:{port}" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not store.exists()


def test_distribution_plot_names_points_and_replaces_an_all_zero_histogram(tmp_path):
    """``mc --plot``: a run that varies no parameter names its histogram by the scenario (not a
    point hash); a quantity that is 0 on every path is a one-line note, not a bar at 0."""
    from liqcascade.montecarlo.plot import distribution_figure

    scen = write_scenario(tmp_path / "scen")
    store = tmp_path / "store"
    d = invoke_json("mc", scen, "--paths", 12, "--chunk-paths", 6, "--workers", 0, "--store", store, "--json")
    pts = d["points"]
    fig = distribution_figure(store, d["run_id"], pts, scenario="mc-test")
    names = {tr.name for tr in fig.data}
    assert names == {"mc-test"} and pts[0]["point_id"] not in str(fig.to_dict()["data"])
    # a book that never goes bad: the bad-debt panel is a note naming the scenario
    zero = [{**p, "metrics": {}} for p in pts]
    import liqcascade.montecarlo.runner as R

    orig = R.load_point
    try:
        R.load_point = lambda *a, **k: {c: np.zeros(12) for c in k.get("columns", ["bad_debt", "liquidated_value"])}
        fig = distribution_figure(store, d["run_id"], zero, scenario="mc-test")
    finally:
        R.load_point = orig
    notes = [a.text for a in fig.layout.annotations]
    assert "no bad debt on any of the 12 paths of mc-test" in notes
    assert "no liquidated value on any of the 12 paths of mc-test" in notes
    assert not fig.data
