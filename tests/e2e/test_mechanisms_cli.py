"""``liqcascade mechanisms`` and ``liqcascade compare`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqcascade.cli import app
from liqcascade.commands.mechanisms import CLEARING_TABLE, TABLES
from liqcascade.engine.compare import AGENTS, MECHANISMS, METRICS, cli_name, model_class

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "mechanisms.md"

SMALL_TOML = """\
name = "small-compare"

[simulation]
steps = 40
dt_seconds = 60
paths = 2
seed = 4

[[assets]]
name = "WETH"
price = 2000.0

[[assets]]
name = "USDC"
price = 1.0
stable = true

[price]
kind = "jump"
sigma = 0.8
lam = 20000.0
jump_mean = -0.15
jump_std = 0.05

[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 400
fee = 0.003

[[protocols]]
name = "aave"
kind = "aave_v3"
positions = "pos.csv"
collateral = "WETH"
debt = "USDC"

[protocols.params.WETH]
liquidation_threshold = 0.86
liquidation_bonus = 0.05
"""

_runner = CliRunner()


def run(*args):
    r = _runner.invoke(app, [str(a) for a in args])
    try:
        out, err = r.stdout, r.stderr
    except ValueError:
        out, err = r.output, ""
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}") from r.exception
    return r.exit_code, out, err


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    rng = np.random.default_rng(3)
    coll = 10.0 ** rng.uniform(-1, 2, 30)
    debt = coll * 2000.0 * 0.86 / rng.uniform(1.0, 1.4, 30)
    (d / "pos.csv").write_text("id,collateral,debt\n" + "".join(f"p{i},{c:.6f},{x:.2f}\n"
                                                                 for i, (c, x) in enumerate(zip(coll, debt))))
    (d / "small.toml").write_text(SMALL_TOML)
    return d / "small.toml"


# ---- mechanisms --------------------------------------------------------------------------------


def test_mechanisms_lists_every_mechanism_agent_and_field():
    code, out, _ = run("mechanisms", "--json")
    assert code == 0
    cat = json.loads(out)
    names = [m["name"] for m in cat]
    assert names == [cli_name(m) for m in MECHANISMS] + [cli_name(a) for a in AGENTS]
    assert len(names) == 20
    for m in cat:
        group = "mechanisms" if m["kind"] == "mechanism" else "agents"
        cls = model_class(group, m["field"])
        assert [p["name"] for p in m["parameters"]] == list(cls.model_fields)
        assert all(p["description"] for p in m["parameters"]), m["name"]
        assert m["summary"] and m["real_system"], m["name"]
    code, out, _ = run("mechanisms")
    assert code == 0
    for m in cat:
        assert m["name"] in out
        for p in m["parameters"]:
            assert p["name"] in out, (m["name"], p["name"])


def test_mechanisms_one_shows_its_fields():
    code, out, _ = run("mechanisms", "circuit-breaker")
    assert code == 0
    for f, info in model_class("mechanisms", "circuit_breaker").model_fields.items():
        assert f in out
    assert "§1.7" in out
    code, out, _ = run("mechanisms", "hunter", "--json")
    assert code == 0 and json.loads(out)["table"] == "[agents.hunter]"


def test_mechanisms_unknown_name():
    code, out, err = run("mechanisms", "teleport")
    assert code == 2
    assert err.strip().count("\n") == 0 and "teleport" in err and "Traceback" not in out + err


def test_docs_describe_every_mechanism_and_agent():
    text = DOCS.read_text()
    for name in (*MECHANISMS, *AGENTS):
        assert f"`{cli_name(name)}`" in text, name
        assert f"[{'mechanisms' if name in MECHANISMS else 'agents'}.{name}]" in text, name


# ---- compare ------------------------------------------------------------------------------------


def test_compare_prints_every_configuration_and_metric_and_writes_files(small, tmp_path):
    out_dir = tmp_path / "cmp"
    report = tmp_path / "rep" / "compare-report.html"
    code, out, err = run("compare", small, "--paths", 4, "-m", "none,circuit-breaker,throttle,buffer-pool+insurance-fund",
                         "--set", "throttle.max_debt_per_window=1e5", "--out", out_dir, "--report", report)
    assert code == 0, err
    for lab in ("none", "circuit-breaker", "throttle", "buffer-pool+insurance-fund"):
        assert lab in out
    for _, cols, _ in TABLES:
        for _, head in cols:
            for word in head.replace("-\n", "").split():
                assert word.strip("Δ") in out, head
    # every metric is in a table (the clearinghouse's own table only when a configuration has it)
    assert {k for _, cols, diff in TABLES + (CLEARING_TABLE,) if not diff for k, _ in cols} == {k for k, _, _ in METRICS}
    assert "netted" not in out  # no clearinghouse here: no clearinghouse table
    assert "4 path(s)" in out and "paired difference to none" in out
    d = json.loads((out_dir / "compare.json").read_text())
    assert d["paths"] == 4 and [c["label"] for c in d["configurations"]][0] == "none"
    assert d["configurations"][2]["mechanisms"]["throttle"]["max_debt_per_window"] == 1e5
    html = (out_dir / "compare.html").read_text()
    assert "plotly" in html.lower() and "buffer-pool+insurance-fund" in html
    png = out_dir / "compare.png"
    assert png.is_file() or "PNG export is not available" in err
    if png.is_file():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rep = report.read_text()
    assert "<script" in rep and "fig-compare" in rep and "Paired difference to none" in rep
    assert "src=\"http" not in rep  # self-contained
    # no attacker here: its panel is left out of the figure and named in the caption
    assert "Not plotted, 0 in every configuration: attacker profit" in rep
    import re

    titles = re.findall(r'"text":"([^"]+)","x"', rep)
    assert "attacker profit (USD)" not in titles and "bad debt (USD)" in titles


def test_compare_json_is_one_document_and_reproducible(small):
    args = ("compare", small, "--paths", 3, "--seed", 11, "-m", "none,partial", "--json")
    code, out, _ = run(*args)
    assert code == 0
    a = json.loads(out)
    code, out2, _ = run(*args)
    assert json.loads(out2) == a
    assert a["seed"] == 11 and [c["label"] for c in a["configurations"]] == ["none", "partial"]
    assert set(a["configurations"][1]["stats"]) == {k for k, _, _ in METRICS}


@pytest.mark.parametrize("args, words", [
    (("-m", "none,teleport"), ["--mechanisms", "teleport"]),
    (("-m", "hunter"), ["--mechanisms", "agent"]),
    (("-m", "throttle", "--set", "throttle.bogus=1"), ["--set", "throttle.bogus"]),
    (("-m", "throttle", "--set", "throttle.window_seconds=-3"), ["--set", "throttle.window_seconds"]),
    (("-m", "throttle", "--set", "nonsense"), ["--set"]),
    (("-m", "none", "--set", "batch.max_per_step=2"), ["--set", "batch"]),
    (("-m", "batch", "--set", "batch.max_per_step=2"), ["batch", "liquidators.max_per_step"]),
])
def test_compare_bad_input_is_one_line(small, args, words):
    code, out, err = run("compare", small, *args)
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert err.startswith("error: ") and "Traceback" not in out + err
    for w in words:
        assert w in err


def test_compare_on_a_missing_scenario(tmp_path):
    code, _, err = run("compare", tmp_path / "nope.toml", "-m", "none")
    assert code == 2 and "file not found" in err


def test_every_mechanism_says_whether_it_reduces_or_moves_the_loss():
    """`liqcascade mechanisms` and docs/mechanisms.md carry the same one-line verdict."""
    code, out, _ = run("mechanisms", "--json")
    assert code == 0
    text = " ".join(DOCS.read_text().split())
    for m in json.loads(out):
        if m["kind"] != "mechanism":
            continue
        assert m["verdict"], m["name"]
        assert f"**Bad debt:** {m['verdict']}." in text, m["name"]
    code, out, _ = run("mechanisms", "oracle-guard")
    assert code == 0 and "liquidators" in " ".join(out.split())


def test_compare_shows_the_clearinghouse_against_uncoordinated_liquidation(tmp_path):
    """`compare` of the clearinghouse example: its table, per-protocol bad debt, the largest step
    fall and the time to recovery, in the terminal and in --json."""
    example = REPO / "examples" / "clearinghouse.toml"
    code, out, err = run("compare", example, "--paths", 2, "-m", "none,scenario")
    assert code == 0, err
    for word in ("netted", "backstop", "shortfall", "per protocol", "aave", "maker", "perp", "largest", "recovery"):
        assert word in out, word
    code, out, err = run("compare", example, "--paths", 2, "-m", "none,scenario", "--json")
    assert code == 0, err
    d = json.loads(out)
    none, ch = d["configurations"]
    assert set(ch["per_protocol"]["stats"]["bad_debt"]) == {"aave", "maker", "perp"}
    assert ch["per_protocol"]["diff_vs_none"]["bad_debt"]["perp"]["n"] == 2
    assert ch["stats"]["ch_sold"]["mean"] > 0 and none["stats"]["ch_sold"]["mean"] == 0
    assert "clearinghouse" in ch["mechanisms"]
    for key in ("max_step_move", "recovery_time", "not_recovered"):
        assert key in ch["stats"]
