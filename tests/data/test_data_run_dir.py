"""A run folder read back (``results.run_dir``) rebuilds the same report; ``liqcascade report``."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest
from data_helpers import EXAMPLES, cli_app, invoke

pytest.importorskip("plotly")
pytest.importorskip("pyarrow")

from liqcascade.results.run_dir import read_curve_json, read_run_dir  # noqa: E402
from liqcascade.engine.compile import compile_scenario  # noqa: E402
from liqcascade.engine.dynamic import run_dynamic  # noqa: E402
from liqcascade.engine.static import solve_static  # noqa: E402
from liqcascade.errors import InputError  # noqa: E402
from liqcascade.report.html import render_report  # noqa: E402
from liqcascade.results.store import write_run  # noqa: E402
from liqcascade.scenario.load import load_scenario  # noqa: E402

MINIMAL = EXAMPLES / "minimal.toml"
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _jd(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    sc, base = load_scenario(MINIMAL)
    c = compile_scenario(sc, base)
    res = run_dynamic(c)
    cur = solve_static(c, np.arange(0, 0.31, 0.05))
    d = tmp_path_factory.mktemp("run") / "minimal"
    write_run(d, res)
    (d / "curve.json").write_text(json.dumps(cur.as_dict(), indent=2, default=_jd))  # as `liqcascade demo` does
    return c, res, cur, d


def test_arrays_round_trip(original):
    c, res, cur, d = original
    rd = read_run_dir(d)
    v = rd.run
    assert (v.scenario, v.assets, v.paths, v.steps, v.dt_seconds, v.n_positions) == (
        res.scenario, res.assets, res.paths, res.steps, res.dt_seconds, res.n_positions)
    assert np.array_equal(v.steps_asset, res.steps_asset)
    assert np.array_equal(v.steps_scalar, res.steps_scalar)
    assert np.array_equal(v.p0, res.p0)
    assert len(v.events) == len(res.events) > 0
    for name in res.events.dtype.names:
        assert list(v.events[name]) == list(res.events[name]), name
    assert v.totals() == json.loads(json.dumps(res.totals()))
    assert [p.as_dict() for p in rd.curve.points] == [p.as_dict() for p in cur.points]
    assert rd.curve.critical_shock == cur.critical_shock


def test_report_is_rebuilt_identically(original):
    c, res, cur, d = original
    rd = read_run_dir(d)
    assert render_report(run=rd.run, curve=rd.curve, generated=WHEN) == render_report(run=res, curve=cur, generated=WHEN)
    assert render_report(run=rd.run, curve=rd.curve, compiled=c, generated=WHEN) == render_report(
        run=res, curve=cur, compiled=c, generated=WHEN)


def test_cli_report(original, tmp_path):
    c, res, cur, d = original
    app = cli_app()
    code, o, e = invoke(app, "report", d, "--out", tmp_path / "r.html")
    assert code == 0, e
    assert "run, curve" in o and (tmp_path / "r.html").stat().st_size > 1_000_000
    text = (tmp_path / "r.html").read_text()
    assert 'id="fig-prices"' in text and 'id="fig-curve"' in text and 'id="fig-clusters"' not in text
    code, o, e = invoke(app, "report", d, "--out", tmp_path / "r2.html", "--scenario", MINIMAL)
    assert code == 0, e
    assert 'id="fig-clusters"' in (tmp_path / "r2.html").read_text()
    code, o, e = invoke(app, "report", d, "--out", tmp_path / "r3.html",
                        "--scenario", EXAMPLES / "two_protocols.toml")
    assert code == 2 and "differ" in (e or o)


def test_default_out_and_curve_only(original, tmp_path):
    c, res, cur, d = original
    only = tmp_path / "curve_only"
    only.mkdir()
    (only / "curve.json").write_text((d / "curve.json").read_text())
    code, o, e = invoke(cli_app(), "report", only)
    assert code == 0, e
    assert (only / "report.html").is_file() and "(curve)" in o


def _copy(d, dst, skip=()):
    dst.mkdir()
    for f in d.iterdir():
        if f.name not in skip and f.suffix in (".json", ".parquet"):
            (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_bad_run_folders(original, tmp_path):
    c, res, cur, d = original
    with pytest.raises(InputError, match="run folder not found"):
        read_run_dir(tmp_path / "nope")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        read_run_dir(tmp_path / "afile")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no run files"):
        read_run_dir(tmp_path / "empty")
    x = _copy(d, tmp_path / "nosteps", skip=("steps.parquet",))
    with pytest.raises(InputError) as ei:
        read_run_dir(x)
    assert ei.value.file.endswith("steps.parquet") and "missing" in ei.value.reason
    x = _copy(d, tmp_path / "badjson")
    (x / "summary.json").write_text('{"scenario": ')
    with pytest.raises(InputError) as ei:
        read_run_dir(x)
    assert ei.value.file.endswith("summary.json") and "line 1" in ei.value.where
    x = _copy(d, tmp_path / "nokey")
    s = json.loads((x / "summary.json").read_text())
    del s["assets"]
    (x / "summary.json").write_text(json.dumps(s))
    with pytest.raises(InputError, match="assets: missing"):
        read_run_dir(x)
    x = _copy(d, tmp_path / "notparquet")
    (x / "events.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_run_dir(x)
    import pyarrow as pa
    import pyarrow.parquet as pq

    x = _copy(d, tmp_path / "cols")
    t = pq.read_table(x / "steps.parquet").drop_columns(["oracle_price"])
    pq.write_table(t, x / "steps.parquet")
    with pytest.raises(InputError, match="missing column\\(s\\) oracle_price"):
        read_run_dir(x)
    x = _copy(d, tmp_path / "rows")
    t = pq.read_table(x / "steps.parquet")
    pq.write_table(t.slice(0, t.num_rows - 1), x / "steps.parquet")
    with pytest.raises(InputError, match="do not cover"):
        read_run_dir(x)
    x = _copy(d, tmp_path / "asset")
    t = pq.read_table(x / "events.parquet")
    t = t.set_column(t.column_names.index("asset"), "asset", pa.array(["BTC"] * t.num_rows))
    pq.write_table(t, x / "events.parquet")
    with pytest.raises(InputError, match="not in summary.json"):
        read_run_dir(x)
    bad = tmp_path / "curve.json"
    bad.write_text(json.dumps({"asset": "A", "initial_price": 1, "mode": "m", "critical_jump": 0,
                               "points": [{"shock": 0.1}]}))
    with pytest.raises(InputError, match="points\\[0\\]: missing"):
        read_curve_json(bad)
    code, o, e = invoke(cli_app(), "report", tmp_path / "nope")
    assert code == 2 and "run folder not found" in (e or o)
