"""The dashboard in a real browser: Playwright driving Debian's chromium (never Playwright's own
download) against a server on 127.0.0.1 that the fixture starts and stops.

Load the page; run examples/minimal.toml's cascade curve and find the curve's data points in the
chart; upload a bad TOML and see the error; cancel a long run; browse the run store and query it;
take a screenshot to reports/.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from dash_helpers import MINIMAL, REPO, browser_skip_reason, chromium_path, live_server

pytestmark = pytest.mark.skipif(browser_skip_reason() is not None, reason=str(browser_skip_reason()))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
LONG = 600_000  # ms: the first job of a fresh checkout compiles the numba kernels


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import liqcascade as lc

    # compile the kernels in this process first: the server's jobs run in it too
    s = lc.load(MINIMAL)
    lc.curve(s, shocks="0.1")
    lc.run(s, paths=2)
    with live_server(tmp_path_factory.mktemp("store"), max_running=1, max_queued=4) as (url, app):
        yield url, app


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, server):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=False)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    foreign: list[str] = []
    host = urlparse(url).netloc
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text
          else None)
    pg.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).netloc not in (host, "") else None)
    pg.goto(url)
    pg.wait_for_selector("body[data-ready='1']")
    yield pg
    ctx.close()
    assert errors == [], errors
    assert foreign == [], f"requests left the server (offline page expected): {foreign}"


def _load_minimal(page):
    page.select_option("#example-select", "minimal")
    page.click("#example-load")
    page.wait_for_function("() => document.getElementById('scenario-name').textContent === 'minimal'")


def _job_state(page, kind: str) -> str:
    return page.evaluate(f"""() => {{
        const li = [...document.querySelectorAll('#jobs li')].find(l => l.querySelector('.kind').textContent === '{kind}');
        return li ? li.dataset.state : null; }}""")


def test_page_loads(page):
    options = page.eval_on_selector_all("#example-select option", "os => os.map(o => o.value)")
    assert "minimal" in options and "flagship" in options
    assert page.title() == "liqcascade dashboard"
    assert page.evaluate("typeof Plotly") == "object"  # plotly.js from the server
    assert page.is_hidden("#error")


def test_curve_of_minimal_in_the_chart(page):
    import liqcascade as lc

    _load_minimal(page)
    assert page.input_value("#opt-shocks") == "0:0.5:0.01"
    page.click("#run-curve")
    page.wait_for_selector("#fig-curve .main-svg", timeout=LONG)
    data = page.evaluate("""() => {
        const gd = document.getElementById('fig-curve');
        const t = gd.data.find(t => t.name === 'final price');
        return {x: Array.from(t.x), y: Array.from(t.y), n: gd.querySelectorAll('.scatterlayer .point').length};
    }""")
    expected = lc.curve(lc.load(MINIMAL), shocks="0:0.5:0.01")
    assert data["y"] == expected.table()["final_price"].tolist()
    assert data["x"] == pytest.approx([100 * x for x in expected.table()["shock"].tolist()], rel=1e-12)
    assert data["n"] >= len(expected.table())  # the markers are drawn, not only held
    title = page.text_content("#tbl-curve")
    assert f"{expected.table()['final_price'][20]:,.2f}" in title
    assert page.is_visible("#fig-heatmap .main-svg")
    crit = expected.critical_shock
    assert f"critical shock: {crit:.3f}" in page.text_content("[data-panel='tbl-curve']")
    (REPO / "reports").mkdir(exist_ok=True)
    shot = REPO / "reports" / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_bad_toml_upload_shows_the_error(page):
    page.set_input_files("#upload-scenario", files=[{"name": "bad.toml", "mimeType": "text/plain",
                                                     "buffer": b"name = \"broken\n[[assets]\n"}])
    page.click("#upload-button")
    page.wait_for_selector("#error:not([hidden])")
    text = page.text_content("#error")
    assert text.startswith("bad.toml: malformed TOML: ") and "\n" not in text and "Traceback" not in text


def test_upload_with_positions_and_a_form_error(page, tmp_path):
    scen = tmp_path / "mine.toml"
    scen.write_bytes(MINIMAL.read_bytes())
    page.set_input_files("#upload-scenario", str(scen))
    page.set_input_files("#upload-files", str(MINIMAL.parent / "minimal_positions.csv"))
    page.click("#upload-button")
    page.wait_for_function("() => document.getElementById('scenario-name').textContent === 'minimal'")
    assert page.text_content("#scenario-origin") == "(upload mine.toml)"
    lt = "#f-protocols_aave_params_WETH_liquidation_threshold"
    page.fill(lt, "1.5")
    page.click("#form-apply")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error") == ("mine.toml: protocols[0].params.WETH.liquidation_threshold: "
                                           "Input should be less than 1")


def test_cancel_a_long_run(page, server):
    _load_minimal(page)
    page.fill("#opt-paths", "80000")
    page.click("#run-run")
    page.wait_for_function("""() => {
        const li = [...document.querySelectorAll('#jobs li')].find(l => l.querySelector('.kind').textContent === 'run');
        return li && li.dataset.state === 'running' && li.querySelector('progress').value > 0; }""", timeout=LONG)
    page.click("#jobs li[data-state='running'] .cancel")
    page.wait_for_function("""() => {
        const li = [...document.querySelectorAll('#jobs li')].find(l => l.querySelector('.kind').textContent === 'run');
        return li && li.dataset.state === 'cancelled'; }""", timeout=120_000)
    _, app = server
    jobs = app.state.dashboard.jobs.list()
    run = next(j for j in jobs if j["kind"] == "run" and j["options"]["paths"] == 80_000)
    assert run["state"] == "cancelled" and 0 < run["done"] < 80_000


def test_monte_carlo_then_the_run_store(page):
    _load_minimal(page)
    page.fill("#opt-mc-paths", "500")
    page.click("#run-mc")
    page.wait_for_selector("#fig-mc .main-svg", timeout=LONG)
    page.click("#tab-runs")
    page.wait_for_selector("#runs-list tbody tr")
    page.click("#runs-list tbody tr")
    page.wait_for_selector("#fig-run-dist .main-svg")
    assert "500" in page.text_content("#run-points")
    page.fill("#sql-query", "SELECT count(*) AS n FROM paths")
    page.click("#sql-run")
    page.wait_for_selector("#sql-table")
    assert json.loads(page.text_content("#sql-table tbody td")) >= 500
    page.fill("#sql-query", "DROP TABLE runs")
    page.click("#sql-run")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error") == "QUERY: only read-only queries (SELECT) are allowed, got DROP"
    shot = REPO / "reports" / "dashboard-runs.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)


def test_unknown_file_is_not_served(page, server):
    url, _ = server
    r = page.request.get(url + "/static/..%2F..%2F..%2Fpyproject.toml")
    assert r.status == 404 and "[project]" not in r.text()
    assert Path(REPO / "pyproject.toml").exists()
