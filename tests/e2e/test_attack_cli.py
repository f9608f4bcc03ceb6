"""``liqcascade attack``: runs on the shipped example, JSON shape, files written, bad input is one
line with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run


REPO = Path(__file__).resolve().parents[2]
ATTACK = REPO / "examples" / "attack.toml"
MINIMAL = REPO / "examples" / "minimal.toml"

LEVEL_KEYS = {"capital", "liquidations", "liquidated_value", "triggered_liquidations", "triggered_value",
              "bad_debt", "max_drawdown", "attacker_pnl", "attacker_pnl_min", "attacker_pnl_max"}


def test_attack_json_shape_and_determinism():
    args = ("attack", ATTACK, "--capital", "0:6e6:3", "--target", "1e6", "--json")
    code, out, err = run(*args)
    assert code == 0, err
    a = json.loads(out)
    assert a["scenario"] == "attack" and a["asset"] == "WETH" and a["paths"] == 1 and a["seed"] == 11
    assert [lv["capital"] for lv in a["levels"]] == [0.0, 3e6, 6e6]
    for lv in a["levels"]:
        assert set(lv) == LEVEL_KEYS
    assert a["baseline"]["liquidations"] == 0
    assert a["levels"][0]["attacker_pnl"] == 0 and a["levels"][2]["liquidations"] > 0
    assert a["cluster"]["positions"] > 0 and 0 < a["cluster"]["drop"] < a["hunter"]["reach"]
    mc = a["min_capital"]
    assert mc["target_liquidated_value"] == 1e6 and 3e6 < mc["capital"] <= 6e6
    assert mc["level"]["liquidated_value"] >= 1e6
    assert any("hunter" in n for n in a["notes"])
    code, out2, _ = run(*args)
    assert json.loads(out2) == a


def test_attack_table_and_out(tmp_path):
    d = tmp_path / "att"
    code, out, err = run("attack", ATTACK, "--capital", "0,6e6", "--out", d)
    assert code == 0, err
    assert "attacker PnL" in out and "cluster:" in out
    j = json.loads((d / "attack.json").read_text())
    assert len(j["levels"]) == 2
    html = (d / "attack.html").read_text()
    assert "attacker PnL" in html and "liquidated value" in html
    # PNG when kaleido or chromium can render; otherwise a note says why
    assert (d / "attack.png").exists() or any("attack.png not written" in n for n in j["notes"])


def test_attack_defaults_without_hunter_table():
    # minimal.toml has no [agents.hunter]: a default hunter with the given capital
    code, out, err = run("attack", MINIMAL, "--capital", "0,1e6", "--json")
    assert code == 0, err
    a = json.loads(out)
    assert a["hunter"]["reach"] == 0.2 and len(a["levels"]) == 2


@pytest.mark.parametrize("args, words", [
    (("--capital", "abc"), ["--capital", "abc"]),
    (("--capital", "5:1:3"), ["--capital"]),
    (("--capital", "0:1e6:0"), ["--capital"]),
    (("--capital", "-1,2"), ["--capital"]),
    (("--capital", "0,nan"), ["--capital"]),
    (("--target", "-5"), ["--target"]),
])
def test_attack_bad_input_is_one_line(args, words):
    code, out, err = run("attack", ATTACK, *args)
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert err.startswith("error: ") and "Traceback" not in out + err
    for w in words:
        assert w in err


def test_attack_missing_scenario(tmp_path):
    code, out, err = run("attack", tmp_path / "nope.toml")
    assert code == 2 and err.startswith("error: ") and err.strip().count("\n") == 0


def test_attack_out_is_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    code, out, err = run("attack", ATTACK, "--capital", "0", "--out", f)
    assert code == 2 and "--out" in err and err.strip().count("\n") == 0


def test_attack_bad_hunter_field(tmp_path):
    text = ATTACK.read_text().replace("reach = 0.15", "reach = 1.5")
    (tmp_path / "attack_positions.csv").write_text((REPO / "examples" / "attack_positions.csv").read_text())
    p = tmp_path / "bad.toml"
    p.write_text(text)
    code, out, err = run("attack", p, "--capital", "0")
    assert code == 2 and "agents.hunter.reach" in err and err.strip().count("\n") == 0
