"""The external flow from the command line: `run`, `validate`, `sweep` on a [flow] scenario, its
files, its bad input (exit status 2, one line naming file, field and reason, nothing written)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def flow_dir(tmp_path):
    for f in ("flow_synthetic.toml", "flow_synthetic.csv"):
        shutil.copy(EXAMPLES / f, tmp_path / f)
    return tmp_path


def cli(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args} raised {r.exception!r}") from r.exception
    return r.exit_code, r.stdout, r.stderr


def test_run_prints_max_drop_and_the_accounting():
    code, out, err = cli("run", EXAMPLES / "flow_synthetic.toml")
    assert code == 0, err
    assert "max_drop (vs the no-flow run)" in out and "absorbed by the backstop" in out
    assert "note: venue recovery: half-life 300 s" in out


def test_run_json_is_reproducible_and_records_provenance():
    code, out, _ = cli("run", EXAMPLES / "flow_synthetic.toml", "--json")
    code2, out2, _ = cli("run", EXAMPLES / "flow_synthetic.toml", "--json")
    assert code == code2 == 0
    a, b = json.loads(out), json.loads(out2)
    assert a == b
    assert a["kind"] == "flow" and 0 < a["summary"]["max_drop"] < 1
    for k in ("seed", "package_version", "schema_version", "scenario_hash", "code_version"):
        assert k in a["meta"], k
    s = a["summary"]
    assert s["sell_in"] == pytest.approx(s["absorbed"] + s["sold"] + s["sell_unfilled"], rel=1e-12)


def test_out_writes_steps_and_summary(tmp_path):
    import pyarrow.parquet as pq

    from liqcascade.results.flow import STEP_COLUMNS

    out = tmp_path / "run"
    code, _, err = cli("run", EXAMPLES / "flow_synthetic.toml", "--out", out)
    assert code == 0, err
    t = pq.read_table(out / "steps.parquet")
    assert tuple(t.column_names) == STEP_COLUMNS and t.num_rows == 180
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["max_drop"] == pytest.approx(max(t.column("drop").to_pylist()))


def test_validate_names_the_flow():
    code, out, _ = cli("validate", EXAMPLES / "flow_synthetic.toml")
    assert code == 0 and "flow study, 180 rows of flow_synthetic.csv" in out


def _edit(path: Path, old, new) -> Path:
    text = path.read_text()
    for o, n in zip((old,) if isinstance(old, str) else old, (new,) if isinstance(new, str) else new):
        assert o in text, o
        text = text.replace(o, n, 1)
    path.write_text(text)
    return path


BAD = {
    "missing_file": ('file = "flow_synthetic.csv"', 'file = "nope.csv"', "nope.csv: file not found"),
    "missing_column": ('sells = "liq_long"', 'sells = "liquidations"',
                       "flow_synthetic.csv: line 1: missing column(s) liquidations"),
    "unknown_venue": ('venue = "weth-pool"', 'venue = "other"', "flow.venue: unknown venue 'other'"),
    "negative_multiplier": ("multiplier = 1.0", "multiplier = -1.0", "flow.multiplier"),
    "unknown_key": ("multiplier = 1.0", "multiplier = 1.0\nmultiplyer = 2.0", "flow.multiplyer: unknown key"),
    "bad_units": ('units = "base"', 'units = "eth"', "flow.units"),
    "no_volume_column": (('sells = "liq_long"', 'buys = "liq_short"'), ("", ""), "flow: give at least one volume column"),
    "bad_withdrawal": ('withdrawal = "drawdown"', 'withdrawal = "panic"', "flow.backstop.withdrawal"),
    "window_without_rows": ("multiplier = 1.0", 'multiplier = 1.0\nstart = "2030-01-01"',
                            "flow.start: no rows between start and end"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_input(flow_dir, case):
    old, new, expect = BAD[case]
    toml = _edit(flow_dir / "flow_synthetic.toml", old, new)
    out = flow_dir / "out"
    code, stdout, err = cli("run", toml, "--out", out)
    assert code == 2, (stdout, err)
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line, line
    assert expect in line, line
    assert not out.exists()


@pytest.mark.parametrize("row,expect", [
    ("1609459260,abc,2000.50,0,0", "line 3, column 'bid_price': not a number: 'abc'"),
    ("1609459260,2001,2000.50,0,0", "line 3, column 'bid_price': bid 2001.0 is above ask 2000.5"),
    ("1609459260,1999.5,2000.50,-3,0", "line 3, column 'liq_long': volume must be >= 0"),
    ("1609459200,1999.5,2000.50,0,0", "line 3, column 'timestamp': times must increase (repeated"),
    ("1609459260,0,2000.50,0,0", "line 3, column 'bid_price': price must be > 0"),
    ("1609459260,1999.5,2000.50,nan,0", "line 3, column 'liq_long': must be a finite number"),
])
def test_bad_series_row(flow_dir, row, expect):
    lines = (flow_dir / "flow_synthetic.csv").read_text().splitlines()
    lines[2] = row
    (flow_dir / "flow_synthetic.csv").write_text("\n".join(lines) + "\n")
    code, _, err = cli("run", flow_dir / "flow_synthetic.toml")
    assert code == 2
    assert err.strip().startswith(f"error: flow_synthetic.csv: {expect}"), err


def test_flow_options_that_do_not_apply(flow_dir):
    code, _, err = cli("run", flow_dir / "flow_synthetic.toml", "--paths", "5")
    assert code == 2 and "--paths: a flow run is deterministic" in err
    code, _, err = cli("run", flow_dir / "flow_synthetic.toml", "--report", flow_dir / "r.html")
    assert code == 2 and "--report" in err and not (flow_dir / "r.html").exists()
    code, _, err = cli("curve", flow_dir / "flow_synthetic.toml")
    assert code == 2 and "flow: a flow study ([flow]) has no position book" in err


def test_flow_cannot_be_combined_with_protocols(flow_dir):
    toml = flow_dir / "flow_synthetic.toml"
    toml.write_text(toml.read_text() + '\n[[protocols]]\nname = "aave"\npositions = "p.csv"\ncollateral = "WETH"\n'
                    'debt = "USDC"\n[protocols.params.WETH]\nliquidation_threshold = 0.8\nliquidation_bonus = 0.05\n')
    code, _, err = cli("run", toml)
    assert code == 2 and "flow: a [flow] study drives a venue with a real series" in err


def test_sweep_grids_pool_size_and_multiplier(tmp_path):
    store = tmp_path / "store"
    code, out, err = cli("sweep", EXAMPLES / "flow_synthetic.toml", "--param", "flow.backstop.size=0,1e6,4e6",
                         "--param", "flow.multiplier=0.5,2", "--store", store, "--workers", "0", "--json")
    assert code == 0, err
    rep = json.loads(out)
    pts = {(p["params"]["flow.backstop.size"], p["params"]["flow.multiplier"]): p["metrics"] for p in rep["points"]}
    assert len(pts) == 6 and all(m["paths"] == 1 for m in pts.values())
    for size in (0.0, 1e6, 4e6):
        assert pts[(size, 2.0)]["max_drop"] >= pts[(size, 0.5)]["max_drop"]
    for m in (0.5, 2.0):
        assert pts[(0.0, m)]["max_drop"] >= pts[(1e6, m)]["max_drop"] >= pts[(4e6, m)]["max_drop"]
    assert pts[(0.0, 0.5)]["absorbed"] == 0 and pts[(4e6, 0.5)]["absorbed"] > 0
    # each point equals a plain `run` of the same scenario
    _, one, _ = cli("run", EXAMPLES / "flow_synthetic.toml", "--json")
    assert pts[(1e6, 2.0)]["max_drop"] != json.loads(one)["summary"]["max_drop"]  # multiplier 2, not 1
    # the table and `runs show` read the stored metrics back
    code, out, err = cli("sweep", EXAMPLES / "flow_synthetic.toml", "--param", "flow.backstop.size=0,1e6,4e6",
                         "--param", "flow.multiplier=0.5,2", "--store", store, "--workers", "0")
    assert code == 0 and "max_drop" in out and "(6 run" not in out, out
    code, out, err = cli("runs", "show", rep["run_id"], "--store", store)
    assert code == 0, err


def test_sweep_refuses_several_paths(tmp_path):
    code, _, err = cli("sweep", EXAMPLES / "flow_synthetic.toml", "--param", "flow.multiplier=1,2", "--paths", "10",
                       "--store", tmp_path / "s", "--workers", "0")
    assert code == 2 and "one path per point" in err


def test_subprocess_bad_input_has_no_traceback(flow_dir):
    toml = _edit(flow_dir / "flow_synthetic.toml", 'sells = "liq_long"', 'sells = "x"')
    r = subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(toml)], capture_output=True, text=True,
                       cwd=flow_dir)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_report_on_a_flow_run_folder_says_what_it_is(tmp_path):
    out = tmp_path / "run"
    assert cli("run", EXAMPLES / "flow_synthetic.toml", "--out", out)[0] == 0
    code, _, err = cli("report", out)
    assert code == 2 and "a flow run folder" in err and not list(out.glob("*.html"))
