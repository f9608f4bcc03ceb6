"""What a new user hits first: books with debt and no collateral, positions already
liquidatable, header-only and missing files, misspelt keys, usage errors, provenance in every
output. Each case here failed silently or unhelpfully before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
MINIMAL = (REPO / "examples" / "minimal.toml").read_text()
runner = CliRunner()


def scenario(tmp_path, positions: str | None = "id,collateral,debt\na,10,10000\nb,5,5000\n", name="s.toml",
             edit=None) -> Path:
    text = MINIMAL
    if positions is not None:
        (tmp_path / "book.csv").write_text(positions)
        text = text.replace("minimal_positions.csv", "book.csv")
    if edit:
        text = edit(text)
    p = tmp_path / name
    p.write_text(text)
    return p


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# --- debt without collateral ------------------------------------------------------------------


def test_debt_without_collateral_is_pre_existing_bad_debt_in_both_engines(tmp_path):
    sc = scenario(tmp_path, "id,collateral,debt\nzero,0,1000\nok,10,10000\nlt,0,250.5\n")
    r = cli("curve", sc, "--json", "--shocks", "0:0.2:0.1")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["pre_existing_bad_debt"] == {"positions": 2, "value": 1250.5,
                                          "by_protocol": {"aave": {"positions": 2, "value": 1250.5}}}
    assert all(p["bad_debt"] == 0 for p in d["points"])  # not mixed into the cascade's bad debt
    assert any("pre-existing bad debt" in n for n in d["notes"])
    r = cli("run", sc, "--json")
    d = json.loads(r.stdout)
    assert d["pre_existing_bad_debt"]["value"] == 1250.5 and d["totals"]["pre_existing_bad_debt"] == 1250.5
    assert d["positions"] == 3
    # the tables say it too, and stderr warns once
    r = cli("run", sc)
    assert "pre-existing bad debt (debt without collateral)" in r.stdout and "1,250.50" in r.stdout
    assert "warning: 2 position(s) have debt and no collateral: 1,250.50 of pre-existing bad debt" in r.output
    r = cli("curve", sc, "--shocks", "0:0.2:0.1")
    assert "pre-existing bad debt: 1,250.50 (2 position(s)" in r.stdout


def test_pre_existing_bad_debt_in_the_api_and_multi_asset_books(tmp_path):
    import liqcascade as lc

    # m: two debt assets (a multi-asset position) and no collateral: 0.1 WETH (200) + 500 USDC
    (tmp_path / "long.csv").write_text("id,asset,collateral,debt\nm,WETH,0,0.1\nm,USDC,0,500\n"
                                       "x,WETH,3,0\nx,USDC,0,1000\n")
    sc = scenario(tmp_path, None, edit=lambda t: t.replace("minimal_positions.csv", "long.csv"))
    s = lc.load(sc)
    r = lc.run(s)
    assert r.raw.as_dict()["pre_existing_bad_debt"]["positions"] == 1
    assert r.raw.as_dict()["pre_existing_bad_debt"]["value"] == 700.0
    assert "pre-existing bad debt (debt without collateral)" in str(r.summary())
    c = lc.curve(s, shocks="0,0.1")
    assert "pre-existing bad debt: 700.00" in str(c.summary())


def test_positions_liquidatable_at_t0_are_counted_and_warned(tmp_path):
    # 1 WETH at 2,000 with LT 0.86 carries 1,720: a debt of 1,900 is liquidatable from the start
    sc = scenario(tmp_path, "id,collateral,debt\na,1,1900\nb,10,10000\nc,2,3500\n")
    r = cli("validate", sc)
    assert r.exit_code == 0
    assert "warning: 2 position(s) are liquidatable at t = 0 (HF < 1 at the initial prices)" in r.output
    r = cli("run", sc, "--json")
    assert json.loads(r.stdout)["liquidatable_at_start"] == {"positions": 2, "by_protocol": {"aave": 2}}
    r = cli("curve", sc, "--json", "--shocks", "0")
    d = json.loads(r.stdout)
    assert d["liquidatable_at_start"]["positions"] == 2
    assert any("liquidatable at t = 0" in n for n in d["notes"])
    r = cli("validate", scenario(tmp_path / "..", name="fine.toml"))  # a healthy book: no warning
    assert "warning" not in r.output


# --- files --------------------------------------------------------------------------------------


def test_header_only_positions_file_is_refused(tmp_path):
    sc = scenario(tmp_path, "id,collateral,debt\n")
    for cmd in (("validate", sc), ("run", sc), ("curve", sc, "--shocks", "0")):
        one_line_error(cli(*cmd), "protocols[0].positions", "book.csv", "no positions (the file has a header and no rows)")


@pytest.mark.parametrize("target, reason", [("missing.csv", "file not found"),
                                            (".", "is a directory")])
def test_missing_or_directory_positions_file_names_the_key(tmp_path, target, reason):
    sc = scenario(tmp_path, None, edit=lambda t: t.replace("minimal_positions.csv", target))
    line = one_line_error(cli("validate", sc), f"{sc}: protocols[0].positions:", reason)
    assert str(tmp_path) in line


def test_missing_price_file_names_the_key(tmp_path):
    sc = scenario(tmp_path, edit=lambda t: t.replace('kind = "crash"', 'kind = "historical"\nfile = "nope.csv"')
                  .replace("shock = 0.25\n", "").replace("start_seconds = 300\n", "").replace("over_seconds = 600\n", ""))
    one_line_error(cli("run", sc), f"{sc}: price.file:", "nope.csv: file not found")


def test_misspelt_key_says_did_you_mean(tmp_path):
    sc = scenario(tmp_path, edit=lambda t: t.replace("\nliquidation_threshold", "\nliquidaton_threshold"))
    line = one_line_error(cli("validate", sc), "protocols[0].params.WETH.liquidaton_threshold",
                          "unknown key 'liquidaton_threshold'", "did you mean 'liquidation_threshold'?")
    assert "required field is missing" not in line and "more problem" not in line
    sc = scenario(tmp_path, edit=lambda t: t.replace("steps = 120", "stpes = 120"), name="t.toml")
    one_line_error(cli("validate", sc), "simulation.stpes", "did you mean 'steps'?")


# --- usage errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, needles", [
    (("mc", "{sc}", "--paths", "0"), ["--paths:", "greater than or equal to 1", "liqcascade mc --help"]),
    (("run", "{sc}", "--paths", "abc"), ["--paths:", "valid integer"]),
    (("run", "{sc}", "--pths", "3"), ["No such option: --pths"]),
    (("run",), ["Missing argument", "liqcascade run --help"]),
    (("nosuch",), ["No such command 'nosuch'"]),
])
def test_usage_errors_are_one_line(tmp_path, args, needles):
    sc = scenario(tmp_path)
    r = cli(*[a.format(sc=sc) for a in args])
    one_line_error(r, *needles)


def test_usage_errors_from_the_installed_command(tmp_path):
    import subprocess
    import sys

    sc = scenario(tmp_path)
    out = subprocess.run([sys.executable, "-m", "liqcascade.cli", "mc", str(sc), "--paths", "0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --paths: Input should be greater than or equal to 1")


# --- provenance -------------------------------------------------------------------------------


PROV_KEYS = {"seed", "package_version", "schema_version", "scenario_hash"}


def test_every_output_records_its_provenance(tmp_path):
    import pyarrow.parquet as pq

    import liqcascade as lc
    from liqcascade.provenance import SCHEMA_VERSION

    sc = scenario(tmp_path)
    runs = []
    for _ in range(2):
        r = cli("run", sc, "--json", "--seed", "11")
        runs.append(json.loads(r.stdout))
    assert runs[0] == runs[1]  # same seed, identical output
    p = runs[0]["provenance"]
    assert PROV_KEYS <= set(p) and p["seed"] == 11 and p["schema_version"] == SCHEMA_VERSION
    assert p["package_version"] == lc.__version__ and len(p["scenario_hash"]) == 64
    # the same hash the Python API records for the same scenario
    assert lc.run(lc.load(sc), seed=11).meta["scenario_hash"] == p["scenario_hash"]
    assert isinstance(runs[0]["totals"]["liquidations"], int)
    assert all(isinstance(x, int) for x in runs[0]["per_path"]["liquidations"])
    c = json.loads(cli("curve", sc, "--json", "--shocks", "0,0.2").stdout)["provenance"]
    # the hash covers every field, the seed included: the file's seed (7) here, 11 above
    assert PROV_KEYS <= set(c) and c["seed"] == 7 and c["scenario_hash"] != p["scenario_hash"]
    assert c["scenario_hash"] == lc.curve(lc.load(sc), shocks="0,0.2").meta["scenario_hash"]
    out = tmp_path / "out"
    r = cli("run", sc, "--seed", "11", "--out", out, "--report", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "summary.json").read_text())["provenance"] == p
    for f in ("events.parquet", "steps.parquet"):
        meta = json.loads(pq.read_schema(out / f).metadata[b"liqcascade"])
        assert meta == p
    html = (tmp_path / "r.html").read_text()
    assert 'data-key="seed">11<' in html and f'data-key="scenario hash">{p["scenario_hash"][:12]}<' in html
    assert f'data-key="schema">{SCHEMA_VERSION}<' in html


def test_monte_carlo_outputs_record_their_provenance(tmp_path):
    sc = scenario(tmp_path)
    store = tmp_path / "store"
    r = cli("mc", sc, "--paths", "8", "--chunk-paths", "4", "--workers", "0", "--store", store, "--json",
            "--no-progress")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert PROV_KEYS <= set(d["provenance"]) and d["provenance"]["seed"] == 7
    r = cli("runs", "show", d["run_id"], "--store", store, "--json")
    assert json.loads(r.stdout)["provenance"]["scenario_hash"] == d["provenance"]["scenario_hash"]


# --- sweeps on a deterministic price path --------------------------------------------------


def test_sweep_on_a_deterministic_path_warns_that_paths_are_identical(tmp_path):
    sc = scenario(tmp_path)
    args = ["sweep", sc, "--param", "protocols.aave.params.WETH.liquidation_bonus=0.04:0.05:0.01", "--paths", "3",
            "--workers", "0", "--json", "--no-progress"]
    r = cli(*args, "--store", tmp_path / "s1")
    assert r.exit_code == 0, r.output
    assert "warning: price.kind = crash is deterministic: all 3 paths of each point are identical" in r.output
    d = json.loads(r.stdout)
    assert any("all 3 paths of each point are identical" in n for n in d["notes"])
    # one path, or a random price process, or random execution: no warning
    assert "warning" not in cli(*args[:5], "--paths", "1", *args[7:], "--store", tmp_path / "s2").output
    gbm = scenario(tmp_path, edit=lambda t: t.replace('kind = "crash"', 'kind = "gbm"\nsigma = 0.8')
                   .replace("shock = 0.25\n", "").replace("start_seconds = 300\n", "").replace("over_seconds = 600\n", ""),
                   name="gbm.toml")
    r = cli("sweep", gbm, *args[2:], "--store", tmp_path / "s3")
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output
    rnd = scenario(tmp_path, edit=lambda t: t + "\n[mechanisms.random_execution]\nwindow_seconds = 180\n", name="rnd.toml")
    r = cli("sweep", rnd, *args[2:], "--store", tmp_path / "s4")
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output


def test_huge_price_is_reported_against_the_users_field(tmp_path):
    sc = scenario(tmp_path, edit=lambda t: t.replace("price = 2000.0", "price = 1e308"))
    for cmd in (("validate", sc), ("run", sc), ("curve", sc, "--shocks", "0")):
        line = one_line_error(cli(*cmd), "assets[0].price")
        assert "reserve_quote" not in line and "RuntimeWarning" not in line


def test_monte_carlo_notes_pre_existing_bad_debt(tmp_path):
    sc = scenario(tmp_path, "id,collateral,debt\nzero,0,1000\nok,10,10000\n")
    r = cli("mc", sc, "--paths", "1", "--workers", "0", "--store", tmp_path / "st", "--json", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "warning: base scenario: 1 position(s) with debt and no collateral" in r.output
    assert any("1,000.00 of pre-existing bad debt" in n for n in json.loads(r.stdout)["notes"])
