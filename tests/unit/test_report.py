"""HTML report and its figures (examples/minimal.toml)."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("plotly")

from liqcascade.engine.compile import compile_scenario  # noqa: E402
from liqcascade.engine.dynamic import run_dynamic  # noqa: E402
from liqcascade.engine.static import solve_static  # noqa: E402
from liqcascade.report import figures as F  # noqa: E402
from liqcascade.report import html as H  # noqa: E402
from liqcascade.scenario.load import load_scenario  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal.toml"
FIG_IDS = (H.FIG_PRICES, H.FIG_LIQUIDATIONS, H.FIG_CURVE, H.FIG_CLUSTERS)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def compiled():
    sc, base = load_scenario(EXAMPLE)
    return compile_scenario(sc, base)


@pytest.fixture(scope="module")
def run(compiled):
    return run_dynamic(compiled)


@pytest.fixture(scope="module")
def curve(compiled):
    return solve_static(compiled, np.arange(0, 0.51, 0.01))


@pytest.fixture(scope="module")
def report(tmp_path_factory, run, curve, compiled):
    out = tmp_path_factory.mktemp("report") / "report.html"
    path = H.write_report(out, run=run, curve=curve, compiled=compiled)
    return path


def _names(fig) -> list[str]:
    return [t.name for t in fig.data]


# --- HTML report ---------------------------------------------------------------------------------

def test_report_is_one_file(report):
    assert report.is_file()
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html"]  # no temp file left behind
    assert report.stat().st_size > 1_000_000  # plotly.js is inline


def test_report_has_figures_and_header(report, run):
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for div_id in FIG_IDS:
        assert f'id="{div_id}"' in text
        assert re.search(r'Plotly\.newPlot\(\s*"' + div_id + '"', text), div_id
    assert "liqcascade report — minimal" in text
    assert f'data-key="positions">{run.n_positions}<' in text
    assert f'data-key="paths">{run.paths}<' in text
    assert f'data-key="steps">{run.steps}<' in text
    assert "Modelling notes" in text and "Assumptions" in text
    for note in run.notes:
        assert H._e(note) in text


def test_report_contains_summary_numbers(report, run, curve):
    text = report.read_text(encoding="utf-8")
    t = run.totals()
    assert f'<tr data-key="liquidations"><td>liquidations</td><td class="num">{int(t["liquidations"]):,}</td>' in text
    for key in ("liquidated_collateral", "repaid_debt", "bad_debt", "sale_proceeds", "protocol_fees"):
        assert f'<td class="num">{H.format_value(t[key], "money")}</td>' in text, key
    # bad debt is the first row of the summary, and is split per protocol
    first = re.search(r'<table class="summary"><tbody><tr data-key="([^"]+)"', text).group(1)
    assert first == "bad_debt"
    assert '<tr data-protocol="aave"><td>aave</td><td class="num">' in text and "Bad debt per protocol" in text
    assert "(USD)" in text and "22054382" not in text
    assert f'{t["max_drawdown"]["WETH"]:.2%}' in text
    assert f'{t["final_price"]["WETH"]:,.2f}' in text
    assert 'data-key="final_price.USDC"' not in text  # stable assets are left out of per-asset rows
    if curve.critical_shock is not None:
        assert f'data-key="critical_shock">{curve.critical_shock:.1%}' in text
    else:
        assert 'data-key="critical_shock">none on this grid' in text


def test_report_needs_no_network(report):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I), "every script must be inline"
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?https?:", text, re.I)
    assert not re.search(r"<img[^>]*src\s*=\s*[\"']?https?:", text, re.I)
    assert text.count("Plotly.newPlot(") == len(FIG_IDS)
    # plotly.js inlined exactly once
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", text)) == 1


def test_report_partial_inputs(tmp_path, run, curve, compiled):
    only_curve = H.write_report(tmp_path / "curve.html", curve=curve).read_text(encoding="utf-8")
    assert f'id="{H.FIG_CURVE}"' in only_curve and f'id="{H.FIG_PRICES}"' not in only_curve
    only_book = H.write_report(tmp_path / "book.html", compiled=compiled, title="Book <check>")
    text = only_book.read_text(encoding="utf-8")
    assert f'id="{H.FIG_CLUSTERS}"' in text and "Book &lt;check&gt;" in text
    assert 'data-key="scenario">minimal<' in text
    with pytest.raises(ValueError):
        H.write_report(tmp_path / "none.html")


def test_report_write_is_atomic(tmp_path, monkeypatch, run):
    out = tmp_path / "r.html"
    out.write_text("old")

    def boom(fd):
        raise OSError("disk full")

    import liqcascade.atomic as atomic

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(OSError):
        H.write_report(out, run=run)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    monkeypatch.undo()
    assert H.write_report(out, run=run) == out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)


def test_format_value():
    assert H.format_value(52.0, "count") == "52"
    assert H.format_value(52.5, "count") == "52.5"  # a mean over paths
    assert H.format_value(22054382.796274155, "money") == "22,054,383"  # no cents on large amounts
    assert H.format_value(999.456, "money") == "999.46"
    assert H.format_value(1234.5678, "price") == "1,234.57" and H.format_value(0.0123456, "price") == "0.01235"
    assert H.format_value(0.5, "pct") == "50.00%"
    assert H.format_value(None, "money") == "—"


# --- figures -------------------------------------------------------------------------------------

def test_price_figure(run, compiled):
    fig = F.price_figure(run)
    assert _names(fig) == ["WETH reference", "WETH venue", "WETH oracle", "WETH liquidations"]
    ref, venue, oracle, liq = fig.data
    np.testing.assert_allclose(venue.y, run.steps_asset[0, :, 0, 1])
    np.testing.assert_allclose(ref.y, run.steps_asset[0, :, 0, 0])
    np.testing.assert_allclose(oracle.y, run.steps_asset[0, :, 0, 2])
    assert len(ref.x) == run.steps + 1
    steps = np.unique(run.events["step"])
    assert list(liq.x) == steps.tolist() and len(steps) > 0
    # markers sit between the lowest and highest execution price of their step
    for s, y in zip(liq.x, liq.y):
        ex = run.events["execution_price"][run.events["step"] == s]
        assert ex.min() - 1e-9 <= y <= ex.max() + 1e-9
    # the explicit stable flags give the same figure as the heuristic
    assert _names(F.price_figure(run, stable=compiled.stable)) == _names(fig)


def test_liquidations_figure(run):
    fig = F.liquidations_figure(run)
    assert _names(fig) == ["liquidations", "WETH sold", "cumulative debt repaid", "cumulative bad debt"]
    nliq, sold, repaid, bad = fig.data
    assert sum(nliq.y) == len(run.events)
    np.testing.assert_allclose(sold.y, run.steps_asset[0, :, 0, 3])
    t = run.totals()
    assert repaid.y[-1] == pytest.approx(t["repaid_debt"], rel=1e-9)
    assert bad.y[-1] == pytest.approx(t["bad_debt"], rel=1e-9, abs=1e-9)
    assert np.all(np.diff(repaid.y) >= 0)


def test_curve_figure(curve):
    fig = F.curve_figure(curve)
    assert _names(fig) == ["bad debt", "no cascade", "final price"]
    bad, nocasc, final = fig.data
    shocks = np.array([p.shock for p in curve.points])
    np.testing.assert_allclose(nocasc.y, curve.p0 * (1 - shocks))
    np.testing.assert_allclose(final.y, [p.final_price for p in curve.points])
    assert bad.yaxis == "y2"
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    if curve.critical_shock is not None:
        assert any(s.x0 == pytest.approx(curve.critical_shock * 100) for s in lines)
    else:
        assert lines == []


def test_curve_figure_without_critical_shock(compiled):
    flat = solve_static(compiled, [0.0, 0.01])
    assert flat.critical_shock is None
    fig = F.curve_figure(flat)
    assert _names(fig) == ["bad debt", "no cascade", "final price"]
    assert len(fig.layout.shapes) == 0


def test_heatmap_figure(compiled):
    fig = F.heatmap_figure(compiled)
    assert _names(fig) == ["WETH debt per bucket", "WETH cumulative debt"]
    bars, cum = fig.data
    b = compiled.book
    assert sum(bars.y) == pytest.approx(b.debt.sum() * compiled.p0[1], rel=1e-12)
    assert cum.y[0] == pytest.approx(b.debt.sum() * compiled.p0[1], rel=1e-12)
    assert np.all(np.diff(cum.y) <= 1e-9)
    # every position's liquidation price lies in the bucket range, the current price is marked
    edges, width, per, c = F.liquidation_buckets(compiled, 0)
    assert edges[0] <= b.key.min() and edges[-1] + width >= b.key.max()
    assert any(s.x0 == pytest.approx(compiled.p0[0]) for s in fig.layout.shapes)
    assert F.liquidation_buckets(compiled, 1) is None  # USDC backs nothing


def test_events_table(run):
    top = F.top_events(run, 5)
    assert len(top) == 5
    assert np.all(np.diff(top["debt_repaid"]) <= 0)
    assert top["debt_repaid"][0] == run.events["debt_repaid"].max()
    fig = F.events_table_figure(run, 5)
    assert len(fig.data) == 1 and fig.data[0].type == "table"
    assert len(fig.data[0].cells.values) == len(F.EVENT_COLUMNS)
    assert all(len(col) == 5 for col in fig.data[0].cells.values)


def test_figures_without_recorded_paths(compiled, tmp_path):
    r = run_dynamic(compiled, record_paths=0)
    assert r.steps_asset.shape[0] == 0
    for fig in (F.price_figure(r), F.liquidations_figure(r)):
        assert len(fig.data) == 0
        assert "record_paths" in fig.layout.annotations[0].text
    text = H.write_report(tmp_path / "r.html", run=r).read_text(encoding="utf-8")
    assert "No liquidation events recorded." in text


def _two_risky(run, compiled):
    """The minimal run and book with a second risky asset (a copy of WETH at half the price)."""
    sa = run.steps_asset
    weth2 = sa[:, :, :1, :].copy()
    weth2[..., [0, 1, 2]] *= 0.5
    r2 = dataclasses.replace(
        run, assets=["WETH", "WBTC", "USDC"], p0=np.array([run.p0[0], run.p0[0] / 2, 1.0]),
        stable=np.array([False, False, True]),
        steps_asset=np.concatenate([sa[:, :, :1], weth2, sa[:, :, 1:]], axis=2),
        min_spot=np.column_stack([run.min_spot[:, 0], run.min_spot[:, 0] / 2, run.min_spot[:, 1]]),
        final_spot=np.column_stack([run.final_spot[:, 0], run.final_spot[:, 0] / 2, run.final_spot[:, 1]]),
    )
    b = compiled.book
    n = b.n
    book = dataclasses.replace(
        b, coll=np.concatenate([b.coll, b.coll]), debt=np.concatenate([b.debt, b.debt]),
        key=np.concatenate([b.key, b.key / 2]), seg_ptr=np.array([0, n, 2 * n]),
        seg_asset=np.array([0, 1]), seg_proto=np.array([0, 0]), seg_debt_asset=np.array([2, 2]),
        ids=np.concatenate([b.ids, b.ids]),
    )
    c2 = dataclasses.replace(compiled, assets=r2.assets, p0=r2.p0, stable=np.array([False, False, True]),
                             book=book)
    return r2, c2


def test_figures_with_two_risky_assets(run, compiled, tmp_path):
    r2, c2 = _two_risky(run, compiled)
    assert F.risky_assets(r2) == [0, 1]
    fig = F.price_figure(r2)
    assert _names(fig) == [f"{a} {k}" for a in ("WETH", "WBTC") for k in ("reference", "venue", "oracle", "liquidations")]
    assert fig.data[4].yaxis == "y2" and len(fig.data[7].x) == 0  # WBTC row, no WBTC events
    assert _names(F.liquidations_figure(r2)) == ["liquidations", "WETH sold", "WBTC sold",
                                                 "cumulative debt repaid", "cumulative bad debt"]
    hm = F.heatmap_figure(c2)
    assert _names(hm) == ["WETH debt per bucket", "WETH cumulative debt", "WBTC debt per bucket",
                          "WBTC cumulative debt"]
    assert sum(hm.data[2].y) == pytest.approx(sum(hm.data[0].y))
    assert sorted(s.x0 for s in hm.layout.shapes) == pytest.approx([1000.0, 2000.0])
    text = H.write_report(tmp_path / "two.html", run=r2, compiled=c2).read_text(encoding="utf-8")
    assert 'data-key="max_drawdown.WBTC"' in text and 'data-key="max_drawdown.USDC"' not in text


def test_report_many_paths(compiled, tmp_path):
    from liqcascade.engine.dynamic import make_paths

    r = run_dynamic(compiled, paths=make_paths(compiled, n_paths=4), record_paths=2)
    assert r.paths == 4
    text = H.write_report(tmp_path / "many.html", run=r, compiled=compiled).read_text(encoding="utf-8")
    t = r.totals()
    assert 'data-key="probability_bad_debt"' in text
    assert H.format_value(t["bad_debt_p95"], "money") in text
    assert "Means over 4 simulated paths" in text
    assert "<th class=\"num\">path</th>" in text  # event table shows the path column


# --- headless browser ----------------------------------------------------------------------------

def _browser_skip_reason() -> str | None:
    if shutil.which("chromium") is None:
        return "needs a `chromium` executable on PATH (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the `playwright` Python package (pip install playwright; its bundled browsers are not used)"
    return None


@pytest.mark.skipif(_browser_skip_reason() is not None, reason=str(_browser_skip_reason()))
def test_report_renders_in_headless_chromium(report, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    remote: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(report.resolve().as_uri())
            page.wait_for_selector(".plotly .main-svg", timeout=60_000)
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4",
                                   timeout=60_000)
            n_plots = page.locator(".js-plotly-plot").count()
            rendered = page.evaluate(
                "Array.from(document.querySelectorAll('.js-plotly-plot'))"
                ".filter(d => d.querySelector('.main-svg') && d.getBoundingClientRect().height > 100).length")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert remote == []
    assert n_plots >= 4
    assert rendered >= 4
    assert shot.stat().st_size > 10_000
