"""--report on run and curve, and the chunked (progress) path of the static solver."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from liqcascade.cli import app
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.static import solve_static
from liqcascade.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "examples" / "minimal.toml"


def test_run_and_curve_write_a_report(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["run", str(MINIMAL), "--report", str(tmp_path / "run.html")])
    assert r.exit_code == 0, r.output
    c = runner.invoke(app, ["curve", str(MINIMAL), "--shocks", "0:0.3:0.1", "--report", str(tmp_path / "curve.html")])
    assert c.exit_code == 0, c.output
    for name in ("run.html", "curve.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "<html" in text.lower() and "plotly" in text.lower()


def test_report_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = CliRunner().invoke(app, ["run", str(MINIMAL), "--report", str(blocker / "r.html")])
    assert r.exit_code == 2
    assert blocker.read_text() == "x"


def test_progress_chunks_give_the_same_curve():
    sc, base = load_scenario(MINIMAL)
    c = compile_scenario(sc, base)
    grid = np.round(np.arange(0, 0.5, 0.01), 12)
    ticks = []
    a = solve_static(c, grid)
    b = solve_static(c, grid, progress=ticks.append)
    assert sum(ticks) == grid.size and len(ticks) > 1
    assert [p.as_dict() for p in a.points] == [p.as_dict() for p in b.points]
    assert a.critical_shock == b.critical_shock


def test_unwritable_output_is_a_one_line_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):  # running as root: permissions do not stop writes; use /proc
            target = Path("/proc/liqcascade-test-out")
        else:
            target = ro / "out"
        r = CliRunner().invoke(app, ["run", str(MINIMAL), "--out", str(target)])
        assert r.exit_code == 2, r.output
        assert "cannot write" in r.output and "Traceback" not in r.output
    finally:
        ro.chmod(0o700)
