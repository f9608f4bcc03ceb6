"""Every liquidation of a recorded path reaches ``events.parquet``; a loss is a printed warning.

Regression for the silent loss of events: with ``[mechanisms.partial] close_factor = 0.001``
and no cooldown, one position (``pos0,100.0,7999.0``) is liquidated a little on almost every step
of a 60 % crash over 1,500 of 2,000 steps against a deep pool — about 1,600 liquidations from a
single position, far more than the old fixed buffer of ``4 × positions + 1024`` rows (1,028) held;
574 of them used to vanish with nothing but a summary counter to say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

SCENARIO = """
name = "many-events"
[simulation]
steps = 2000
[[assets]]
name = "A"
price = 100.0
[[assets]]
name = "Q"
price = 1.0
stable = true
[price]
kind = "crash"
shock = 0.6
start_seconds = 60.0
over_seconds = 90000.0
[[venues]]
name = "pool"
asset = "A"
kind = "cpmm"
reserve_asset = 1e9
[[protocols]]
name = "p"
positions = "positions.csv"
collateral = "A"
debt = "Q"
[protocols.params.A]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
[mechanisms.partial]
close_factor = 0.001
cooldown_seconds = 0.0
"""


@pytest.fixture()
def scenario(tmp_path: Path) -> Path:
    (tmp_path / "positions.csv").write_text("id,collateral,debt\npos0,100.0,7999.0\n")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    return path


def _run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 0, r.output
    try:
        return r.stdout, r.stderr
    except ValueError:  # older Click: one stream
        return r.output, r.output


def test_every_liquidation_is_an_event(scenario: Path, tmp_path: Path):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    stdout, stderr = _run("run", scenario, "--out", out)
    summary = json.loads((out / "summary.json").read_text())
    n_liq = summary["totals"]["liquidations"]
    assert n_liq > 1028  # more than the old fixed buffer held
    events = pq.read_table(out / "events.parquet")
    assert events.num_rows == n_liq
    assert summary["totals"]["events_not_recorded"] == 0
    assert "warning" not in stderr
    # the events account for the whole book: seized + left = before
    seized = sum(events.column("collateral_seized").to_pylist())
    assert seized == pytest.approx(100.0 - _final_collateral(scenario), rel=1e-9)


def _final_collateral(scenario: Path) -> float:
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(scenario)
    res = run_dynamic(compile_scenario(sc, base))
    return float(res.final_coll.sum())


def test_a_limit_on_events_is_a_printed_warning(scenario: Path, tmp_path: Path):
    out = tmp_path / "out"
    stdout, stderr = _run("run", scenario, "--out", out, "--max-events", 100)
    summary = json.loads((out / "summary.json").read_text())
    n_liq = summary["totals"]["liquidations"]
    lost = summary["totals"]["events_not_recorded"]
    assert lost == n_liq - 100
    assert f"warning: {lost:,} liquidation events not recorded" in stderr
    assert any("not recorded" in n for n in summary["notes"])
    import pyarrow.parquet as pq

    assert pq.read_table(out / "events.parquet").num_rows == 100
