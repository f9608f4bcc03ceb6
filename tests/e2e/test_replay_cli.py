"""``liqcascade replay``: the event list, bad input, and the 2020-03-12 MakerDAO replay on the
reference data (``../shared/data``; those tests skip with a reason when it is absent).

Also the Maker unit's keeper-schedule hook the replay relies on (``protocols.maker.with_schedule``):
compiled kernel against its plain-Python twin, conservation, and what participation 0 means.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data").resolve()
EVENT = "2020-03-12"
HEADLINE = {"bad_debt", "bad_debt_in_window", "bad_debt_extension", "zero_bid_share", "auctions",
            "collateral_liquidated_usd", "zero_bid_collateral_usd", "debt_repaid"}

_runner = CliRunner()


def run_cli(*args):
    """``(exit_code, stdout, stderr)`` of one in-process call."""
    r = _runner.invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"replay {args} raised {r.exception!r}") from r.exception
    try:
        out, err = r.stdout, r.stderr
    except ValueError:  # older Click without separate stderr capture
        out, err = r.output, ""
    return r.exit_code, out, err


def need_data() -> Path:
    from liqcascade.replay import get_event

    ev = get_event(EVENT)
    if not DATA.is_dir() or ev.missing(DATA):
        pytest.skip(f"needs ../shared/data with {', '.join(ev.needs)} (reference data beside the repository; absent here)")
    return DATA


def one_line_error(code, out, err, *needles):
    assert code == 2, (code, out, err)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# --- list and bad input (no data needed) ------------------------------------------------------


def test_list_names_every_event_and_its_data(tmp_path):
    code, out, err = run_cli("replay", "--list", "--data", tmp_path)
    assert code == 0, err
    assert EVENT in out and "available" in out
    code, out, _ = run_cli("replay", "--list", "--json", "--data", tmp_path)
    doc = json.loads(out)
    rows = {r["name"]: r for r in doc["events"]}
    assert EVENT in rows
    assert rows[EVENT]["needs"] and all(r["available"] is False for r in rows.values())  # empty folder


def test_list_marks_the_event_available_on_the_reference_data():
    data = need_data()
    code, out, _ = run_cli("replay", "--list", "--json", "--data", data)
    assert code == 0
    assert {r["name"]: r["available"] for r in json.loads(out)["events"]}[EVENT] is True


def test_unknown_event_exits_2():
    one_line_error(*run_cli("replay", "1999-12-31"), "unknown event", EVENT)


def test_no_event_exits_2():
    one_line_error(*run_cli("replay"), "--list")


def test_missing_data_folder_exits_2_naming_it(tmp_path):
    nope = tmp_path / "nope"
    one_line_error(*run_cli("replay", EVENT, "--data", nope, "--out", tmp_path / "o"), str(nope), "--data")
    assert not (tmp_path / "o").exists()


def test_missing_data_file_exits_2_naming_it(tmp_path):
    line = one_line_error(*run_cli("replay", EVENT, "--data", tmp_path), "stablesims/eth/03-12-2020.json", "--data")
    assert str(tmp_path) in line


def test_dai_file_of_another_day_exits_2_naming_it(tmp_path):
    # a DAI file that does not cover the ETH bars' window must not be held flat silently
    import shutil

    from liqcascade.replay import get_event

    data = need_data()
    for rel in get_event(EVENT).needs:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / rel, tmp_path / rel)
    dai = tmp_path / "stablesims" / "dai_black_thursday_10min.json"
    dai.write_text(dai.read_text().replace("2020-03-12T", "2020-03-19T"))
    line = one_line_error(*run_cli("replay", EVENT, "--data", tmp_path, "--quick", "--out", tmp_path / "o"),
                          "dai_black_thursday_10min.json", "does not cover")
    assert not (tmp_path / "o").exists(), line


@pytest.mark.parametrize("setting, needle", [
    ("nope=1", "unknown knob"), ("n_keepers", "key=value"), ("gas_budget=abc", "not a number"),
    ("n_keepers=1.5", "whole"), ("gas_budget=-1", "> 0"), ("vault_fraction=2", "vault_fraction"),
])
def test_bad_set_exits_2(tmp_path, setting, needle):
    need_data()
    one_line_error(*run_cli("replay", EVENT, "--data", DATA, "--quick", "--set", setting, "--out", tmp_path / "o"),
                   needle)
    assert not (tmp_path / "o").exists()


def test_inputs_lists_every_kind_without_data(tmp_path):
    code, out, err = run_cli("replay", EVENT, "--inputs", "--json", "--data", tmp_path)
    assert code == 0, err
    rows = json.loads(out)["inputs"]
    kinds = {r["kind"] for r in rows}
    assert kinds == {"real file", "published aggregate", "assumption"}
    pri = [r for r in rows if r["prior"]]
    assert pri and all(r["kind"] == "assumption" and r["prior"]["source"] for r in pri)
    assert any("WhiteRabbit" in r["source"] or "forum" in r["source"].lower() for r in rows)
    code, out, _ = run_cli("replay", EVENT, "--inputs", "--data", tmp_path)
    assert code == 0 and "published aggregate" in out and "assumption" in out


def test_ensemble_needs_at_least_two_members(tmp_path):
    need_data()
    one_line_error(*run_cli("replay", EVENT, "--ensemble", 1, "--data", DATA, "--store", tmp_path / "s",
                            "--out", tmp_path / "o"), "--ensemble", "at least 2")
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()


# --- the 2020-03-12 replay on the reference data --------------------------------------------------


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Two quick replays with the same seed (one with --report), their stdout JSON and folders."""
    data = need_data()
    base = tmp_path_factory.mktemp("replay")
    outs = []
    for name, extra in (("a", ["--report"]), ("b", [])):
        code, out, err = run_cli("replay", EVENT, "--data", data, "--quick", "--json", "--seed", 3,
                                 "--set", "vault_fraction=0.1", "--out", base / name, *extra)
        assert code == 0, err
        outs.append((out, base / name))
    return outs


def test_quick_replay_headline_records_and_tables(quick_runs):
    out, folder = quick_runs[0]
    doc = json.loads(out)
    assert doc["event"] == EVENT and doc["schema_version"] == 2 and doc["liqcascade_version"]
    assert doc["extra"]["seed"] == 3
    assert HEADLINE <= set(doc["headline"])
    h = doc["headline"]
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in h.values())
    assert h["auctions"] > 0 and 0.0 <= h["zero_bid_share"] <= 1.0
    assert h["bad_debt"] == pytest.approx(h["bad_debt_in_window"] + h["bad_debt_extension"], rel=1e-9, abs=1e-6)
    assert doc["extra"]["records"]["bad_debt"]["value"] == 5.67e6
    assert doc["assumptions"] and doc["inputs"]
    tables = {s["parameter"]: s for s in doc["sensitivity"]}
    assert len(tables) == 3 and all(len(s["rows"]) == 2 for s in tables.values())
    for s in tables.values():
        for r in s["rows"]:
            assert "value" in r and set(s["columns"]) <= set(r)


def test_same_seed_same_json(quick_runs):
    (out_a, dir_a), (out_b, dir_b) = quick_runs
    assert out_a == out_b
    assert (dir_a / "replay.json").read_text() == (dir_b / "replay.json").read_text()
    assert json.loads((dir_a / "replay.json").read_text()) == json.loads(out_a)


def test_run_folder_and_report_written(quick_runs):
    (_, dir_a), (_, dir_b) = quick_runs
    for f in ("replay.json", "events.parquet", "steps.parquet", "summary.json"):
        assert (dir_a / f).is_file() and (dir_b / f).is_file()
    html = (dir_a / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "plotly" in html.lower() and EVENT in html
    # the provenance table opens the report
    assert html.index('id="inputs"') < html.index("Point run")
    assert not (dir_b / "report.html").exists()


def test_ensemble_writes_band_tornado_and_inputs(tmp_path):
    data = need_data()
    args = ("replay", EVENT, "--ensemble", 2, "--quick", "--set", "vault_fraction=0.05", "--workers", 0,
            "--data", data, "--store", tmp_path / "store", "--out", tmp_path / "o")
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["members"] == 2 and doc["execution"]["chunks"]["ran"] == 1
    assert doc["schema_version"] == 2 and doc["seed"] == 0 and doc["execution"]["code_version"]
    bd = next(o for o in doc["outcomes"] if o["name"] == "bad_debt")
    assert {"p5", "median", "p95"} <= set(bd["band"]) and bd["record"]["value"] == 5.67e6 and bd["tornado"]
    assert {i["kind"] for i in doc["inputs"]} == {"real file", "published aggregate", "assumption"}
    for f in ("ensemble.json", "members.csv", "report.html"):
        assert (tmp_path / "o" / f).is_file()
    html = (tmp_path / "o" / "report.html").read_text()
    assert html.index('id="inputs"') < html.index('id="bands"') < html.index('id="tornado"')
    code, out, err = run_cli(*args)  # the same command again: resumed from the store
    assert code == 0, err
    assert "0 run, 1 already stored" in out


def test_without_a_low_baller_no_auction_is_won_near_zero(monkeypatch):
    """One member through the module with the zero bidder switched off: no auction is won near zero."""
    from liqcascade.replay import maker_2020 as R
    from liqcascade.replay.priors import central_draw

    data = need_data()
    monkeypatch.setattr(R, "LOWBALL", 0.0)
    ctx = R.prepare(data, {"extra_hours": 2.0, "vault_fraction": 0.05})
    m = R.member(ctx, central_draw(R.PRIORS), 0).outcomes
    assert m["auctions"] > 0 and m["zero_bid_share"] == 0.0 and m["zero_bid_collateral_usd"] == 0.0


# --- the keeper schedule hook of the Maker unit -----------------------------------------------


def _flip_case(participation=None, gas=None):
    from liqcascade.protocols.kernel import NLIQ
    from liqcascade.venues.kernel import ASSET, FEE, KIND, NCOL, VENUE_CPMM, X, Y
    from liqcascade.protocols.maker import model as M_model
    from liqcascade.protocols.maker import pack as M

    p0, T = 100.0, 60
    vs = np.zeros((1, NCOL))
    vs[0, KIND], vs[0, X], vs[0, Y], vs[0, FEE], vs[0, ASSET] = VENUE_CPMM, 5_000.0, 5_000.0 * p0, 0.003, 0
    rng = np.random.default_rng(7)
    ink = rng.uniform(1.0, 30.0, 20)
    art = ink * p0 / rng.uniform(1.3, 2.0, 20)
    path = np.ones((T + 1, 2))
    path[:, 0] = p0
    path[4:, 0] = 60.0
    cfg = M_model.preset("ETH-A-flip-2020", flip=M_model.FlipConfig(beg=0.03, ttl=180.0, tau=1_800.0, lump=10.0), osm_hop=120.0)
    liq = np.zeros(NLIQ)
    liq[:] = (1, 5.0, 3_000.0, 0)
    return M, cfg, ink, art, path, vs, liq


@pytest.mark.parametrize("pattern", ["none", "all", "mixed"])
def test_keeper_schedule_kernel_matches_twin_and_conserves(pattern):
    from liqcascade.protocols.maker import kernel as K
    from liqcascade.protocols.maker import twin as KP

    T = 60
    part = {"none": np.zeros(T + 1), "all": np.ones(T + 1),
            "mixed": np.where(np.arange(T + 1) % 7 < 3, 0.0, 0.5)}[pattern]
    gas = 1.0 + np.arange(T + 1) % 5
    M, cfg, ink, art, path, vs, liq = _flip_case(part, gas)
    av_ptr, av_idx, none = np.array([0, 1, 1], np.int64), np.array([0], np.int64), np.zeros((1, 1))
    out = []
    for fn in (K.maker_step, KP.maker_step_py):
        pack = M.with_schedule(M.build_pack(cfg, ink, art), gas, part, lowball=1e-18, margin=0.02)
        t0 = M.totals(pack)
        r = M.run_unit(pack, path, vs, none, none, av_ptr, av_idx, liq, 60.0, step_fn=fn)
        tt = M.totals(pack)
        np.testing.assert_allclose(tt["collateral"], t0["ink"], rtol=1e-12)
        assert tt["debt"] + tt["due"] + tt["repaid"] + tt["bad_debt"] == pytest.approx(tt["debt0"], rel=1e-12)
        assert tt["lot_lowball"] <= tt["bought"].sum() + 1e-9
        out.append((pack, r, tt))
    (pk, rk, tk), (pp, rp, tp) = out
    for a, b in zip(pk, pp):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-7, equal_nan=True)
    for key in rk.events:
        np.testing.assert_allclose(rk.events[key], rp.events[key], rtol=1e-9, atol=1e-7, equal_nan=True)
    assert tk["n_kick"] > 3 and tk["n_deal"] > 0
    if pattern == "none":  # no keeper ever bids: every settled auction went to the zero bidder
        assert tk["n_deal_lowball"] == tk["n_deal"] and tk["repaid"] < 1e-9
        assert tk["bad_debt"] > 0
    elif pattern == "all":
        assert tk["n_deal_lowball"] < tk["n_deal"]


def test_schedule_gas_replaces_the_liquidators_gas():
    from liqcascade.protocols.kernel import ACC_GAS

    T = 60
    M, cfg, ink, art, path, vs, liq = _flip_case(None, None)  # liq[LQ_GAS] = 5
    av_ptr, av_idx, none = np.array([0, 1, 1], np.int64), np.array([0], np.int64), np.zeros((1, 1))
    spent = []
    for g in (0.0, 2.0):
        pack = M.with_schedule(M.build_pack(cfg, ink, art), np.full(T + 1, g), np.ones(T + 1))
        r = M.run_unit(pack, path, vs, none, none, av_ptr, av_idx, liq, 60.0)
        tt = M.totals(pack)
        assert tt["n_kick"] > 3 and tt["n_bid"] > 0
        spent.append((r.acc[ACC_GAS], tt["n_kick"] + tt["n_bid"]))
    assert spent[0][0] == 0.0
    assert spent[1][0] == pytest.approx(2.0 * spent[1][1])


def test_schedule_checks_its_input():
    from liqcascade.protocols.maker import model as M_model
    from liqcascade.protocols.maker import pack as M

    pack = M.build_pack(M_model.preset("ETH-A-flip-2020"), [1.0], [10.0])
    with pytest.raises(ValueError):
        M.with_schedule(pack, [1.0, 2.0], [0.5])
    with pytest.raises(ValueError):
        M.with_schedule(pack, [1.0], [1.5])
    with pytest.raises(ValueError):
        M.with_schedule(pack, [-1.0], [1.0])
    s = M.with_schedule(pack, [1.0, 2.0], [0.0, 1.0], lowball=1e-18)
    assert s[0].shape[0] > pack[0].shape[0] and pack[0].shape[0] == s[0].shape[0] - 4
    assert all(a is not b for a, b in zip(s, pack))  # a copy: the original pack is unchanged
