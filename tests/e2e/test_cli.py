"""End-to-end checks of the command line on the shipped example (``examples/minimal.toml``).

In-process (:class:`typer.testing.CliRunner`) for speed; a couple of checks run the installed
``liqcascade`` script in a subprocess, as a user would.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MINIMAL = EXAMPLES / "minimal.toml"
MINIMAL_CSV = EXAMPLES / "minimal_positions.csv"

CURVE_POINT_KEYS = {
    "shock", "final_price", "rounds", "liquidations", "liquidated_collateral", "repaid_debt", "bad_debt",
    "amplification",
}
EVENT_COLUMNS = {
    "step", "position", "protocol", "collateral_seized", "debt_repaid", "execution_price", "bonus_paid", "bad_debt",
}
TOTALS_KEYS = {
    "liquidations", "liquidated_collateral", "repaid_debt", "bad_debt", "protocol_fees", "liquidator_bonus",
    "sale_proceeds", "liquidator_profit", "max_drawdown", "final_price",
}

_runner = CliRunner()


def invoke(*args):
    r = _runner.invoke(app, [str(a) for a in args])
    try:
        out, err = r.stdout, r.stderr
    except ValueError:  # older Click without separate stderr capture
        out, err = r.output, ""
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}\n{err}") from r.exception
    assert r.exit_code == 0, f"liqcascade {' '.join(map(str, args))}: exit {r.exit_code}\n{out}\n{err}"
    return out, err


def invoke_json(*args) -> dict:
    out, _ = invoke(*args)
    return json.loads(out)  # fails on anything but exactly one JSON document


def _cli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("liqcascade")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("liqcascade")
    return [found] if found else [sys.executable, "-m", "liqcascade.cli"]


def run_subprocess(args, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["COLUMNS"] = "200"
    return subprocess.run(_cli_cmd() + [str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def _n_rows(path: Path) -> int:
    with open(path, newline="") as fh:
        return sum(1 for row in csv.reader(fh) if row) - 1


@pytest.fixture(scope="module")
def minimal_run() -> dict:
    return invoke_json("run", MINIMAL, "--json")


@pytest.fixture(scope="module")
def minimal_curve() -> dict:
    return invoke_json("curve", MINIMAL, "--shocks", "0:0.5:0.01", "--json")


# ---------------------------------------------------------------------------------------------
# help / validate
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [[], ["run"], ["curve"], ["validate"], ["positions"], ["positions", "synth"]])
def test_help(cmd):
    out, _ = invoke(*cmd, "--help")
    assert "Usage" in out


def test_validate_minimal():
    out, _ = invoke("validate", MINIMAL)
    assert out.startswith(f"ok: {MINIMAL}")
    assert f"{_n_rows(MINIMAL_CSV)} positions" in out
    assert "2 assets" in out and "1 protocols" in out


# ---------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------


def test_run_prints_summary_table():
    out, _ = invoke("run", MINIMAL)
    for label in ("metric", "liquidations", "debt repaid", "bad debt", "final price WETH", "max drawdown WETH"):
        assert label in out, label
    assert "┏" in out  # a rich table, not JSON
    assert not out.lstrip().startswith("{")


def _minimal_toml() -> dict:
    import tomllib

    return tomllib.loads(MINIMAL.read_text())


def test_run_json_is_one_object(minimal_run):
    d = minimal_run
    sc = _minimal_toml()
    assert d["scenario"] == sc["name"]
    assert d["paths"] == sc["simulation"].get("paths", 1) == 1
    assert d["steps"] == sc["simulation"]["steps"] and d["dt_seconds"] == sc["simulation"]["dt_seconds"]
    assert d["positions"] == _n_rows(MINIMAL_CSV)
    assert d["assets"] == ["WETH", "USDC"] and d["protocols"] == ["aave"]
    assert TOTALS_KEYS <= set(d["totals"])
    t = d["totals"]
    for k in ("liquidations", "liquidated_collateral", "repaid_debt", "bad_debt", "protocol_fees",
              "liquidator_bonus", "sale_proceeds"):
        assert math.isfinite(t[k]) and t[k] >= 0, k
    # the 25% crash into a thin pool triggers liquidations
    assert t["liquidations"] > 0 and t["repaid_debt"] > 0
    assert t["final_price"].get("USDC", 1.0) == 1.0  # stable assets may be left out
    assert 0 < t["final_price"]["WETH"] < 2000.0
    if sc["price"].get("kind", "crash") == "crash":
        assert sc["price"]["shock"] - 1e-9 <= t["max_drawdown"]["WETH"] < 1
    assert len(d["per_path"]["liquidations"]) == 1
    assert d["per_path"]["liquidations"][0] == t["liquidations"]


def test_run_out_writes_four_files(tmp_path, minimal_run):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    out_dir = tmp_path / "reports" / "minimal"  # parent does not exist yet
    d = invoke_json("run", MINIMAL, "--json", "--out", out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == ["events.parquet", "sales.parquet", "steps.parquet",
                                                        "summary.json"]
    # no temporary folders left beside the target
    assert [p.name for p in out_dir.parent.iterdir()] == ["minimal"]

    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary == d == minimal_run

    ev = pq.read_table(out_dir / "events.parquet")
    assert EVENT_COLUMNS <= set(ev.column_names), ev.column_names
    assert ev.num_rows == d["totals"]["liquidations"]
    evd = ev.to_pydict()
    assert all(0 <= s <= d["steps"] for s in evd["step"])
    assert set(evd["protocol"]) == {"aave"}
    assert all(x >= 0 for col in ("collateral_seized", "debt_repaid", "bonus_paid", "bad_debt") for x in evd[col])
    assert all(x > 0 for x in evd["execution_price"])
    assert math.isclose(sum(evd["debt_repaid"]), d["totals"]["repaid_debt"], rel_tol=1e-9)
    ids = {row[0] for row in csv.reader(open(MINIMAL_CSV)) if row and row[0] != "id"}
    assert set(evd["position"]) <= ids

    st = pq.read_table(out_dir / "steps.parquet")
    std = st.to_pydict()
    assert {"step", "asset"} <= set(st.column_names)
    keys = list(zip(std.get("path", [0] * st.num_rows), std["step"], std["asset"]))
    assert len(set(keys)) == st.num_rows, "steps.parquet: more than one row per step × asset"
    assert set(std["asset"]) == set(d["assets"])
    n_steps = len(set(std["step"]))
    assert n_steps in (d["steps"], d["steps"] + 1)  # with or without the initial state
    assert st.num_rows == n_steps * len(d["assets"])
    assert pa.types.is_integer(st.schema.field("step").type)

    # the sales ledger: every unit sold, with its owner and its share of the pool's move
    sl = pq.read_table(out_dir / "sales.parquet").to_pydict()
    assert {"step", "venue", "protocol", "position", "amount", "proceeds", "price_pre", "price_post",
            "impact"} <= set(sl)
    assert set(sl["protocol"]) == {"aave"} and set(sl["position"]) <= ids
    assert math.isclose(sum(sl["amount"]), sum(std["collateral_sold"]), rel_tol=1e-9)
    assert math.isclose(sum(sl["proceeds"]), d["totals"]["sale_proceeds"], rel_tol=1e-9)
    assert d["attribution"][0]["protocol"] == "aave" and d["attribution"][0]["move_share"] == 1.0


def test_run_out_table_mentions_files(tmp_path):
    out_dir = tmp_path / "o"
    out, _ = invoke("run", MINIMAL, "--out", out_dir)
    assert "wrote" in out and "summary.json" in out
    assert (out_dir / "summary.json").exists()


def test_run_out_existing_folder_is_reused(tmp_path):
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("x")
    invoke("run", MINIMAL, "--out", out_dir, "--json")
    assert sorted(p.name for p in out_dir.iterdir()) == ["events.parquet", "keep.txt", "sales.parquet",
                                                        "steps.parquet", "summary.json"]


def test_run_overrides_paths_and_seed():
    d = invoke_json("run", MINIMAL, "--json", "--paths", "3", "--seed", "1")
    assert d["paths"] == 3
    assert len(d["per_path"]["bad_debt"]) == 3
    assert {"bad_debt_p95", "probability_bad_debt"} <= set(d["totals"])
    assert 0 <= d["totals"]["probability_bad_debt"] <= 1


def test_run_json_reproducible(minimal_run):
    again = invoke_json("run", MINIMAL, "--json")
    assert again == minimal_run
    out1, _ = invoke("run", MINIMAL, "--json")
    out2, _ = invoke("run", MINIMAL, "--json")
    assert out1 == out2


def test_run_json_same_in_a_fresh_process(tmp_path, minimal_run):
    """A new interpreter (fresh seeds, no warm caches) prints byte-for-byte the same JSON."""
    cp = run_subprocess(["run", MINIMAL, "--json"], cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    assert "Traceback" not in cp.stderr
    assert json.loads(cp.stdout) == minimal_run
    inproc, _ = invoke("run", MINIMAL, "--json")
    assert cp.stdout == inproc


# ---------------------------------------------------------------------------------------------
# curve
# ---------------------------------------------------------------------------------------------


def test_curve_json_shape(minimal_curve):
    d = minimal_curve
    assert {"points", "critical_shock"} <= set(d)
    pts = d["points"]
    assert len(pts) == 51
    for p in pts:
        assert CURVE_POINT_KEYS <= set(p), set(p)
        assert isinstance(p["rounds"], int) and isinstance(p["liquidations"], int)
        for k in ("final_price", "liquidated_collateral", "repaid_debt", "bad_debt"):
            assert math.isfinite(p[k]) and p[k] >= 0, (p["shock"], k)
        assert p["amplification"] is None or math.isfinite(p["amplification"])
    assert [p["shock"] for p in pts] == [i / 100 for i in range(51)]
    assert pts[0]["final_price"] == d.get("initial_price", pts[0]["final_price"])
    assert pts[0]["liquidations"] == 0 and pts[0]["amplification"] is None
    assert d["critical_shock"] is None or d["critical_shock"] in {p["shock"] for p in pts}


def test_curve_final_price_never_above_shocked_price(minimal_curve):
    """Liquidations only sell: the fixed point is at or below the exogenously shocked price."""
    p0 = minimal_curve["points"][0]["final_price"]
    for p in minimal_curve["points"]:
        assert p["final_price"] <= p0 * (1 - p["shock"]) * (1 + 1e-9), p


def test_curve_final_price_non_increasing_mechanical(minimal_curve):
    """On the shipped example a larger shock never leaves a higher price.

    Not a law of the model in general: with Aave v3.3 close factors a bigger shock can close a
    position 100 % in the first round (leaving its surplus collateral unsold) where a smaller one
    closes 50 % and sells the rest later, lower — thin pools can then show small rises.
    """
    assert minimal_curve.get("mode", "mechanical") == "mechanical"
    pts = minimal_curve["points"]
    rises = [(a["shock"], b["shock"], a["final_price"], b["final_price"])
             for a, b in zip(pts, pts[1:]) if b["final_price"] > a["final_price"] * (1 + 1e-12)]
    assert not rises, f"final_price increases with the shock at {rises}"


def test_curve_default_grid_and_shock_list():
    d = invoke_json("curve", MINIMAL, "--json")
    assert [p["shock"] for p in d["points"]] == [i / 100 for i in range(51)]
    d = invoke_json("curve", MINIMAL, "--json", "--shocks", "0.3,0.1, 0.2")
    assert [p["shock"] for p in d["points"]] == [0.3, 0.1, 0.2]


def test_curve_json_matches_grid_subset(minimal_curve):
    """A coarser grid gives the same points as the fine one (shocks are independent)."""
    d = invoke_json("curve", MINIMAL, "--json", "--shocks", "0:0.5:0.05")
    fine = {p["shock"]: p for p in minimal_curve["points"]}
    assert len(d["points"]) == 11
    for p in d["points"]:
        assert p == fine[p["shock"]]


def test_curve_rational_mode():
    d = invoke_json("curve", MINIMAL, "--json", "--shocks", "0:0.5:0.1", "--mode", "rational")
    assert len(d["points"]) == 6
    assert d.get("mode", "rational") == "rational"


def test_curve_table():
    out, _ = invoke("curve", MINIMAL, "--shocks", "0:0.5:0.05")
    assert "cascade curve" in out and "critical shock" in out
    assert "0.500" in out


def test_curve_reproducible(minimal_curve):
    assert invoke_json("curve", MINIMAL, "--shocks", "0:0.5:0.01", "--json") == minimal_curve


# ---------------------------------------------------------------------------------------------
# positions synth
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_synth_same_seed_same_bytes(tmp_path, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    a, b, c = (tmp_path / f"{n}.{ext}" for n in ("a", "b", "c"))
    out, _ = invoke("positions", "synth", "--n", "500", "--seed", "11", "--out", a)
    assert "500" in out
    invoke("positions", "synth", "--n", "500", "--seed", "11", "--out", b)
    invoke("positions", "synth", "--n", "500", "--seed", "12", "--out", c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (a, b, c))  # no temp files left

    from liqcascade.positions.io import load_positions

    t = load_positions(a)
    assert t.wide and t.n == 500
    assert (t.collateral > 0).all() and (t.debt >= 0).all()


def test_synth_csv_and_parquet_agree(tmp_path):
    pytest.importorskip("pyarrow")
    import numpy as np

    from liqcascade.positions.io import load_positions

    invoke("positions", "synth", "--n", "300", "--seed", "5", "--out", tmp_path / "b.csv")
    invoke("positions", "synth", "--n", "300", "--seed", "5", "--out", tmp_path / "b.parquet")
    x, y = load_positions(tmp_path / "b.csv"), load_positions(tmp_path / "b.parquet")
    assert list(x.ids) == list(y.ids)
    np.testing.assert_array_equal(x.collateral, y.collateral)
    np.testing.assert_array_equal(x.debt, y.debt)


def test_synth_book_feeds_a_scenario(tmp_path):
    """synth → scenario → validate/run/curve: the generated file is a usable position book."""
    invoke("positions", "synth", "--n", "200", "--seed", "3", "--out", tmp_path / "book.parquet",
           "--price", "2000", "--lt", "0.86")
    text = MINIMAL.read_text()
    assert text.count('"minimal_positions.csv"') == 1
    sc = tmp_path / "synth.toml"
    sc.write_text(text.replace('"minimal_positions.csv"', '"book.parquet"'))
    out, _ = invoke("validate", sc)
    assert "200 positions" in out
    d = invoke_json("run", sc, "--json")
    assert d["positions"] == 200
    c = invoke_json("curve", sc, "--json", "--shocks", "0:0.3:0.1")
    assert len(c["points"]) == 4


def test_synth_real_process_byte_identical(tmp_path):
    for name in ("x.csv", "y.csv"):
        cp = run_subprocess(["positions", "synth", "--n", "100", "--seed", "9", "--out", name], cwd=tmp_path)
        assert cp.returncode == 0, cp.stderr
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "y.csv").read_bytes()
    assert (tmp_path / "x.csv").read_text().splitlines()[0] == "id,collateral,debt"
