"""``liqcascade attack S.toml --flash``: the table, strict JSON with provenance, reproducibility,
the spot-vs-TWAP result through the command line, ``--out``, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "flash_attack.toml"
runner = CliRunner()


def _strict(text: str) -> dict:
    def no_constant(name):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=no_constant)


def _copy(tmp_path: Path, edit=None) -> Path:
    shutil.copy(ROOT / "examples" / "attack_positions.csv", tmp_path / "attack_positions.csv")
    text = EXAMPLE.read_text()
    if edit:
        text = edit(text)
    p = tmp_path / "flash.toml"
    p.write_text(text)
    return p


def _run(*args):
    r = runner.invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, getattr(r, "stderr", ""), r.exception


def test_flash_json_is_strict_reproducible_and_has_provenance():
    args = ["attack", EXAMPLE, "--flash", "--loans", "0:1500:7", "--json"]
    code, out, err, exc = _run(*args)
    assert code == 0, (out, err, exc)
    d = _strict(out)
    prov = d["provenance"]
    assert prov["seed"] == 7 and prov["schema_version"] >= 1 and prov["package_version"] and prov["scenario_hash"]
    assert d["loans"] == [0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0]
    ex = {o["oracle_kind"]: o["exploitable"] for o in d["oracles"] if o["role"] == "kind"}
    assert ex["spot"] and not ex["twap"] and not ex["heartbeat"] and not ex["osm"]
    scen = d["oracles"][0]
    assert scen["role"] == "scenario" and scen["exploitable"]
    assert 0 < scen["min_profitable"]["loan"] <= scen["max_profitable"]["loan"]
    assert scen["max_profitable"]["pnl"] > 0
    code2, out2, _, _ = _run(*args)
    assert code2 == 0 and out2 == out


def test_the_same_market_under_a_30_minute_twap_is_not_exploitable(tmp_path):
    p = _copy(tmp_path, lambda t: t.replace('kind = "spot"', 'kind = "twap"\nwindow_seconds = 1800'))
    code, out, err, exc = _run("attack", p, "--flash", "--loans", "0:20000:9", "--json")
    assert code == 0, (out, err, exc)
    d = _strict(out)
    scen = d["oracles"][0]
    assert "twap" in scen["oracle"] and not scen["exploitable"]
    assert scen["min_profitable"] is None and scen["max_profitable"] is None
    assert all(lv["liquidations"] == 0 for lv in scen["levels"])


def test_flash_table_and_out(tmp_path):
    code, out, err, exc = _run("attack", EXAMPLE, "--flash", "--loans", "0,100,400", "--out", tmp_path / "o")
    assert code == 0, (out, err, exc)
    assert "exploitable in one block" in out and "oracle_guard" in out
    d = _strict((tmp_path / "o" / "attack_flash.json").read_text())
    assert d["provenance"]["kind"] == "attack_flash"


@pytest.mark.parametrize("args, part", [
    (["--flash", "--loans", "a:b"], "--loans"),
    (["--flash", "--loans", "-1,5"], "--loans"),
    (["--flash", "--loans", "0:10:0"], "--loans"),
    (["--loans", "0:10:3"], "--loans: only with --flash"),
    (["--flash", "--capital", "0:1e6:3"], "--capital: not used with --flash"),
    (["--flash", "--target", "1e6"], "--target: not used with --flash"),
])
def test_bad_flash_options(args, part):
    code, out, err, exc = _run("attack", EXAMPLE, *args)
    assert code == 2 and exc is None or isinstance(exc, SystemExit)
    assert code == 2
    assert out.strip() == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and part in lines[0], err


def test_flash_without_the_table_is_refused(tmp_path):
    p = _copy(tmp_path, lambda t: t[:t.index("[agents.flash_attacker]")])
    code, out, err, _ = _run("attack", p, "--flash")
    assert code == 2 and out.strip() == ""
    assert err.strip().startswith("error: ") and "agents.flash_attacker" in err and len(err.strip().splitlines()) == 1


def test_bad_flash_table_is_refused(tmp_path):
    p = _copy(tmp_path, lambda t: t.replace("liquidity = 1500.0", "liquidity = -1500.0"))
    code, out, err, _ = _run("attack", p, "--flash")
    assert code == 2 and out.strip() == ""
    assert "agents.flash_attacker.sources[0].liquidity" in err and len(err.strip().splitlines()) == 1


def test_run_says_the_flash_attacker_is_not_a_loop_step():
    code, out, err, exc = _run("run", EXAMPLE, "--json")
    assert code == 0, (err, exc)
    notes = _strict(out)["notes"]
    assert any("agents.flash_attacker is not a step of the time loop" in n for n in notes)


def test_the_flash_table_leaves_the_time_loop_as_without_it(tmp_path):
    """The attacker is not a loop step: the run's results equal those of the same scenario without
    the table (and its agents layout stays empty: no stray agent pack reaches the loop)."""
    p = _copy(tmp_path, lambda t: t[:t.index("[agents.flash_attacker]")])
    runs = []
    for scenario in (EXAMPLE, p, EXAMPLE):
        code, out, err, exc = _run("run", scenario, "--json")
        assert code == 0, (err, exc)
        runs.append(_strict(out)["totals"])
    assert runs[0] == runs[1] == runs[2]
