"""No output of any command holds NaN or Infinity.

Every command that prints JSON (``--json``) or writes it (``summary.json``, ``curve.json``,
``compare.json``, ``attack.json``, ``recommend.json``, ``replay.json``) runs on two scenarios:
the shipped minimal example and an extreme one where the venue runs out of bids (its price
sits at the floor, collateral runs out, bad debt piles up). Its JSON must parse under a strict
parser (NaN and Infinity refused, as a browser's ``JSON.parse`` does) and the visible text of
the HTML reports must not show ``nan`` or ``inf`` either. In-process for speed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
MINIMAL = REPO / "examples" / "minimal.toml"
DATA = (REPO / ".." / "shared" / "data").resolve()

EXTREME = """\
name = "extreme"
[simulation]
steps = 30
paths = 2
seed = 1
[[assets]]
name = "A"
price = 100.0
[[assets]]
name = "Q"
price = 1.0
stable = true
[price]
kind = "crash"
shock = 0.4
start_seconds = 120.0
over_seconds = 180.0
[[venues]]
name = "book"
asset = "A"
kind = "book"
depth = [[0.2, 1000.0]]
[[oracles]]
name = "o"
asset = "A"
kind = "spot"
[[protocols]]
name = "aave"
positions = "positions.csv"
collateral = "A"
debt = "Q"
[protocols.params.A]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
ltv = 0.75
[arbitrage]
enabled = false
to_reference = false
"""
EXTREME_CSV = "id,collateral,debt\nbig,1000000.0,60000000.0\n" + "".join(
    f"p{i},{1.0 + i},{(1.0 + i) * 100 * 0.8 / (1.01 + 0.02 * i):.4f}\n" for i in range(20))

_runner = CliRunner()


def _reject(tok):
    raise AssertionError(f"non-standard JSON token {tok!r}")


def strict(text: str):
    return json.loads(text, parse_constant=_reject)


def invoke(*args) -> str:
    r = _runner.invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}") from r.exception
    try:
        out, err = r.stdout, r.stderr
    except ValueError:
        out, err = r.output, ""
    assert r.exit_code == 0, f"liqcascade {' '.join(map(str, args))}: exit {r.exit_code}\n{out}\n{err}"
    return out


def json_lines(out: str) -> list:
    """stdout of a --json command: one object, or one object per line (data inspect)."""
    out = out.strip()
    try:
        return [strict(out)]
    except json.JSONDecodeError:
        return [strict(line) for line in out.splitlines() if line.strip()]


_SCRIPT = re.compile(r"<script\b.*?</script>|<style\b.*?</style>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_BAD_TEXT = re.compile(r"(?<![\w.-])(nan|NaN|-?inf|-?Infinity)(?![\w-])")


def check_html(path: Path) -> None:
    text = _TAG.sub(" ", _SCRIPT.sub(" ", path.read_text(encoding="utf-8")))
    m = _BAD_TEXT.search(text)
    assert m is None, f"{path.name} shows {m.group(0)!r}: …{text[max(0, m.start() - 80):m.end() + 80]}…"
    # the figures' data (plotly JSON inside the scripts) must be strict too
    for blob in re.findall(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", path.read_text(encoding="utf-8"), re.S):
        assert not re.search(r"(?<![\w\"])(NaN|Infinity)(?![\w\"])", blob), path.name


def check_files(folder: Path) -> int:
    n = 0
    for f in sorted(folder.rglob("*.json")):
        strict(f.read_text())
        n += 1
    for f in sorted(folder.rglob("*.html")):
        check_html(f)
        n += 1
    return n


@pytest.fixture(scope="module", params=["minimal", "extreme"])
def scen(request, tmp_path_factory):
    if request.param == "minimal":
        return MINIMAL
    d = tmp_path_factory.mktemp("extreme")
    (d / "positions.csv").write_text(EXTREME_CSV)
    p = d / "extreme.toml"
    p.write_text(EXTREME)
    return p


def test_curve_run_demo_report(scen, tmp_path):
    d = strict(invoke("curve", scen, "--shocks", "0:0.6:0.2", "--json", "--report", tmp_path / "curve.html"))
    assert d["points"]
    d = strict(invoke("curve", scen, "--shocks", "0,0.3", "--mode", "rational", "--json"))
    d = strict(invoke("run", scen, "--json", "--out", tmp_path / "run", "--report", tmp_path / "run.html"))
    assert d["totals"]
    strict(invoke("run", scen, "--paths", 3, "--json"))
    invoke("demo", "--scenario", scen, "--out", tmp_path / "demo", "--shocks", "0:0.4:0.2")
    invoke("report", tmp_path / "run", "--out", tmp_path / "run2.html", "--scenario", scen)
    assert check_files(tmp_path) >= 7


def test_compare_attack(scen, tmp_path):
    strict(invoke("compare", scen, "-m", "none,circuit-breaker,throttle+twap-exit", "--paths", 3, "--json",
                  "--out", tmp_path / "cmp"))
    strict(invoke("attack", scen, "--capital", "0:2e6:3", "--paths", 2, "--json", "--out", tmp_path / "att"))
    assert check_files(tmp_path) >= 2


def test_monte_carlo_commands(scen, tmp_path):
    st = tmp_path / "store"
    d = strict(invoke("mc", scen, "--paths", 6, "--chunk-paths", 3, "--workers", 0, "--store", st, "--json",
                      "--no-progress"))
    strict(invoke("sweep", scen, "--param", "price.shock=0.2,0.5", "--paths", 4, "--workers", 0, "--store", st,
                  "--json", "--no-progress"))
    strict(invoke("runs", "list", "--store", st, "--json"))
    strict(invoke("runs", "show", d["run_id"], "--store", st, "--json"))
    strict(invoke("runs", "sql", "SELECT * FROM metrics", "--store", st, "--json"))
    strict(invoke("recommend", scen, "--no-defaults", "--param", "protocol.liquidation_threshold=0.8,0.85",
                  "--paths", 6, "--chunk-paths", 6, "--workers", 0, "--bootstrap", 100, "--store", st,
                  "--out", tmp_path / "rec", "--json", "--no-progress"))
    check_files(tmp_path / "rec")


def test_catalogues_and_data_commands(tmp_path):
    strict(invoke("protocols", "--json"))
    for kind in ("comet", "maker", "liquity", "llamma", "perp"):
        strict(invoke("protocols", kind, "--json"))
    strict(invoke("mechanisms", "--json"))
    strict(invoke("mechanisms", "circuit-breaker", "--json"))
    pos = REPO / "examples" / "minimal_positions.csv"
    strict(invoke("heatmap", pos, "--scenario", MINIMAL, "--out", tmp_path / "h.html", "--json"))
    check_html(tmp_path / "h.html")
    strict(invoke("replay", "--list", "--json", "--data", tmp_path))
    files = [pos] + [f for f in (DATA / "hourly_prices_2021_2024" / "coingecko" / "UST_usd.csv",  # UST's collapse
                                 DATA / "binance_2025-10-10" / "BTCUSDT-5m-2025-10-10.zip") if f.exists()]
    assert len(json_lines(invoke("data", "inspect", *files, "--json"))) == len(files)


def test_replay_json(tmp_path):
    if not DATA.exists():
        pytest.skip("needs ../shared/data (reference data beside the repository; absent here)")
    events = strict(invoke("replay", "--list", "--json", "--data", DATA))["events"]
    ready = [e for e in events if e.get("data_ok", e.get("available", False))]
    if not ready:
        pytest.skip("no replay event has its data here")
    name = ready[0].get("event") or ready[0].get("name")
    strict(invoke("replay", name, "--inputs", "--json", "--data", DATA))
    strict(invoke("replay", name, "--quick", "--json", "--data", DATA, "--out", tmp_path / "rp"))
    check_files(tmp_path / "rp")


def test_predict_commands(scen, tmp_path):
    strict(invoke("price-risk", scen, "--paths", 20, "--no-frontier", "--json", "--out", tmp_path / "pr"))
    check_files(tmp_path / "pr")
    ex = REPO / "examples"
    strict(invoke("warn", ex / "multi_venue_book.toml", ex / "market.csv", "--json"))
