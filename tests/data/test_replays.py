"""The four historical replays on the real data files (``../shared/data``; skipped without it).

Each event runs one quick point member (module-scoped fixture; numba compiles each protocol mix
once, which dominates the time): every headline outcome is there and finite, the records are
attached, the books hold the aggregates they were drawn to, conservation holds, the counts are
defined separately, the same seed gives the same document; a tiny in-process ensemble writes
resumable chunks and a summary with bands, records, tornado and the inputs table; Liquity's book
reaches recovery mode when the aggregates' TCR and the path take it there and does not when they
do not; unreadable data gives an :class:`InputError` naming the file.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.replay import ReplayOptions, maker_2020, may_2021, perp_2025, steth_2022
from liqcascade.replay.priors import central_draw

from data_helpers import DATA, need

REL = 1e-6
MODS = {"maker": maker_2020, "may": may_2021, "steth": steth_2022, "perp": perp_2025}


def _needs(mod):
    for rel in mod.EVENT.needs:
        need(*rel.split("/"))
    return DATA


def _opts(mod, seed=3, **over):
    return ReplayOptions(data_dir=_needs(mod), seed=seed, quick=True, overrides=over)


@pytest.fixture(scope="module")
def maker():
    return maker_2020.EVENT.run(_opts(maker_2020))


@pytest.fixture(scope="module")
def may():
    return may_2021.EVENT.run(_opts(may_2021))


@pytest.fixture(scope="module")
def steth():
    return steth_2022.EVENT.run(_opts(steth_2022))


@pytest.fixture(scope="module")
def perp():
    return perp_2025.EVENT.run(_opts(perp_2025))


def close(a, b, scale):
    assert abs(float(a) - float(b)) <= REL * max(abs(float(scale)), 1e-12), f"{a!r} != {b!r} (scale {scale!r})"


# ------------------------------------------------------------------------------------------
# every event


@pytest.mark.parametrize("name", list(MODS))
def test_headline_records_and_inputs(request, name):
    r = request.getfixturevalue(name)
    mod = MODS[name]
    keys = [o.name for o in mod.EVENT.outcomes]
    assert list(r.headline) == keys
    bad = {k: v for k, v in r.headline.items() if not math.isfinite(v)}
    assert not bad, f"{r.event}: non-finite headline values {bad}"
    assert set(r.extra["records"]) == {o.name for o in mod.EVENT.outcomes if o.record}
    assert {i["kind"] for i in r.inputs} == {"real file", "published aggregate", "assumption"}
    assert r.extra["draw"] == central_draw(mod.EVENT.priors)
    assert r.sensitivity and all(len(s.rows) == 2 for s in r.sensitivity)  # quick: prior low and high
    assert r.run is not None and r.compiled is not None and r.assumptions
    json.dumps(r.as_dict())


@pytest.mark.parametrize("name", list(MODS))
def test_same_seed_same_document(request, name):
    r = request.getfixturevalue(name)
    again = MODS[name].EVENT.run(_opts(MODS[name]))
    assert json.dumps(again.as_dict(), sort_keys=True) == json.dumps(r.as_dict(), sort_keys=True)


@pytest.mark.parametrize("mod", list(MODS.values()))
def test_unknown_and_bad_knobs_refused(mod):
    with pytest.raises(InputError) as e:
        mod.EVENT.run(_opts(mod, no_such_knob="1"))
    assert "no_such_knob" in str(e.value)
    name = mod.EVENT.priors[0].name
    with pytest.raises(InputError) as e:
        mod.EVENT.run(_opts(mod, **{name: "many"}))
    assert name in str(e.value)


# ------------------------------------------------------------------------------------------
# 2020-03-12


def test_maker_book_matches_the_aggregates_and_conserves(maker):
    d, st = maker.extra["draw"], maker.extra["settings"]
    u = maker.run.unit_totals[maker_2020.PROTOCOL]
    close(u["debt0"], d["total_debt"] * st["vault_fraction"], d["total_debt"])
    # the bad debt is split between the data window and the extension, nothing lost
    h = maker.headline
    close(h["bad_debt_in_window"] + h["bad_debt_extension"], h["bad_debt"], h["bad_debt"] + 1)
    assert h["bad_debt_in_window"] >= 0 and h["bad_debt_extension"] >= 0
    # debt: still in vaults + in running auctions + repaid + bad = start (DAI); collateral kept
    close(u["debt"] + u["due"] + u["repaid"] + u["bad_debt"], u["debt0"], u["debt0"])
    close(h["debt_repaid"], u["repaid"], u["debt0"])
    ink0 = float(np.sum(maker.compiled.units[0].totals()["ink"]))
    left = float(np.sum(u["ink"]) + np.sum(u["lot"]) + np.sum(u["bought"]) + np.sum(u["returned"]))
    close(left, ink0, ink0)


# ------------------------------------------------------------------------------------------
# 2021-05-19


def test_may_books_and_conservation():
    # without the owners' top-ups (they add collateral from outside the book)
    may = may_2021.EVENT.run(_opts(may_2021, react_share="0"))
    d = may.extra["draw"]
    c, res = may.compiled, may.run
    b = c.book
    ev = res.events
    coll0, debt0 = b.coll.sum(), b.debt.sum()
    close(debt0, d["aave_debt"] + d["compound_debt"], debt0)
    m = np.isin(ev["protocol"], ["aave", "compound"])
    close(res.final_coll.sum() + ev["collateral_seized"][m].sum(), coll0, coll0)
    close(res.final_debt.sum() + ev["debt_repaid"][m].sum() + ev["bad_debt"][m].sum(), debt0, debt0)
    q = res.unit_totals["liquity"]
    close(q["coll_total"], q["coll_initial"], q["coll_initial"])
    close(q["debt_total"], q["debt_initial"], q["debt_initial"])
    n = may.extra["settings"]["liquity_troves"]
    close(q["debt_initial"], d["liquity_debt"] * n / may_2021.LIQUITY_TROVES, q["debt_initial"])
    assert q["n_active"] + q["n_liquidated"] == n
    assert may.headline["liquity_liquidations"] == q["n_liquidated"]
    close(may.headline["liquity_debt_offset"], q["debt_offset"], q["debt_initial"])


def test_liquity_reaches_recovery_mode_when_the_aggregates_say_so():
    """The same path: a book with little ETH per LUSD starts near 2.0 and falls under 150 %;
    one with much ETH per LUSD stays above it."""
    lo = may_2021.EVENT.run(_opts(may_2021, liquity_eth="0.75e6", liquity_debt="1.3e9", whale_icr="1.9"))
    hi = may_2021.EVENT.run(_opts(may_2021, liquity_eth="1.05e6", liquity_debt="0.8e9", whale_icr="3.2"))
    assert lo.extra["detail"]["liquity_tcr_start"] < 2.2
    assert lo.headline["liquity_tcr_min"] < 1.5 and lo.headline["liquity_recovery_entries"] >= 1
    assert hi.headline["liquity_tcr_min"] > 1.5 and hi.headline["liquity_recovery_entries"] == 0


# ------------------------------------------------------------------------------------------
# 2025-10-10


def test_perp_counts_are_separate_and_add_up(perp):
    o = {**perp.headline, **perp.extra["detail"]}
    for side, name in (("binance", "binance"), ("hl", "hyperliquid")):
        u = perp.runs[name][1].unit_totals[name]
        oi = float(np.max(u["oi_long"]))
        assert np.allclose(u["net_position"], 0.0, rtol=0, atol=REL * oi)
        close(u["cash_total"] - u["socialized"], u["cash_initial"], u["cash_initial"])
        parts = u["book_liquidated_notional"] + u["backstop_notional"] + u["fund_takeover_notional"] + u["adl_closed_notional"]
        f = o[f"{side}_sample_fraction"]  # the sample's share of the venue's open interest
        assert 0.0 < f < 1.0
        close(o[f"{side}_liquidated_notional"] * f, parts, max(parts, 1.0))
        assert o[f"{side}_liquidations"] == u["book_liquidations"]
        assert o[f"{side}_adl_closes"] == u["adl_closes"] and o[f"{side}_adl_fills"] == u["adl_fills"]
        assert o[f"{side}_bankrupt_closes"] <= u["fund_takeovers"] + u["adl_closes"]
        assert 0.0 <= o[f"{side}_closed_share"] <= 2.0
    # the rule sets differ where they should: no backstop on Binance, no fund on Hyperliquid
    assert o["binance_backstop"] == 0 and o["hl_fund_takeovers"] == 0
    assert perp.runs["binance"][1].dt_seconds == 1.0 and perp.runs["aave"][1].dt_seconds == 60.0
    # the 1-s index path reaches the recorded intraminute low of 21:20 UTC
    assert o["index_low"] == pytest.approx(102497.0, abs=1.0)


def test_perp_lending_oracle_gap_and_emode(perp):
    o = {**perp.headline, **perp.extra["detail"]}
    # the Binance candles go deeper than the index-like paths the oracle read
    assert o["btc_low_binance"] < o["index_low"] and o["eth_low_binance"] <= o["eth_low_index_like"]
    assert o["aave_liquidated_if_oracle_saw_wick"] >= 0.0
    # E-mode loops hold wstETH in ETH units against WETH: the path cannot liquidate them
    assert o["emode_liquidations"] == 0 and o["emode_liquidations_if_oracle_saw_wick"] == 0
    c, res = perp.runs["aave"]
    b = c.book
    ev = res.events
    d = perp.extra["draw"]
    # the stablecoin books hold the drawn debt (simple positions; multi-asset entries if any)
    usdc = c.assets.index("USDC")
    per_pos = np.repeat(b.seg_debt_asset, np.diff(b.seg_ptr))
    debt0 = float(b.debt[per_pos == usdc].sum() + b.m_debt[b.m_asset == usdc].sum())
    close(debt0, d["aave_debt"], d["aave_debt"])
    # debt conserved (owners' top-ups add collateral from outside, so only debt is checked here)
    m = ev["position"] != "(protocol)"
    close(res.final_debt.sum() + ev["debt_repaid"][m].sum() + ev["bad_debt"][m].sum(), b.debt.sum(), b.debt.sum())


# ------------------------------------------------------------------------------------------
# ensembles


def test_tiny_ensemble_resumes_and_summarises(tmp_path):
    from liqcascade.replay.ensemble import execute_ensemble, plan_ensemble, summarize

    ev = maker_2020.EVENT
    opts = _opts(maker_2020, seed=5, vault_fraction="0.05")
    plan = plan_ensemble(ev, opts, 3, tmp_path / "store", chunk_members=2)
    run = execute_ensemble(plan, workers=0)
    assert run.chunks == {"total": 2, "ran": 2, "already_stored": 0}
    s = summarize(ev, run)
    assert [o["name"] for o in s["outcomes"]] == [o.name for o in ev.outcomes]
    for o in s["outcomes"]:
        assert o["band"]["n"] == 3 and o["band"]["p5"] <= o["band"]["median"] <= o["band"]["p95"]
        assert {t["prior"] for t in o["tornado"]} == {p.name for p in ev.priors if p.name != "vault_fraction"}
    rec = next(o for o in s["outcomes"] if o["name"] == "bad_debt")["record"]
    assert rec["value"] == 5.67e6 and rec["where"] in ("inside", "below", "above")
    assert {i["kind"] for i in s["inputs"]} == {"real file", "published aggregate", "assumption"}
    # the draws differ between members and follow the plan
    np.testing.assert_array_equal(run.members["in.n_keepers"], plan.draws.values["n_keepers"])
    assert len(set(run.members["out.bad_debt"].tolist())) == 3
    # run again: every chunk is found; a lost chunk is rerun and gives the same numbers
    again = execute_ensemble(plan_ensemble(ev, opts, 3, tmp_path / "store", chunk_members=2), workers=0)
    assert again.chunks["ran"] == 0
    (plan.folder / "members_c000001.parquet").unlink()
    third = execute_ensemble(plan_ensemble(ev, opts, 3, tmp_path / "store", chunk_members=2), workers=0)
    assert third.chunks["ran"] == 1
    for k in run.members:
        if k not in ("wall_s", "cpu_s"):
            np.testing.assert_array_equal(third.members[k], run.members[k])


# ------------------------------------------------------------------------------------------
# bad input


def _copy_needs(mod, tmp_path):
    for rel in mod.EVENT.needs:
        src = need(*rel.split("/"))
        dst = tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
    return tmp_path


def test_may_unreadable_file_names_it(tmp_path):
    d = _copy_needs(may_2021, tmp_path)
    (d / may_2021.ETH).write_text('[{"time_period_start": "2021-05-19T00:00:00Z", "price_open": "x"}]')
    with pytest.raises(InputError) as e:
        may_2021.EVENT.run(ReplayOptions(data_dir=d, quick=True))
    assert "05-19-2021.json" in str(e.value)


def test_perp_unreadable_files_name_them(tmp_path):
    d = _copy_needs(perp_2025, tmp_path)
    (d / perp_2025.DEPTH).write_text("timestamp,percentage,depth,notional\n2025-10-10 00:00:07,1,abc,5\n")
    with pytest.raises(InputError) as e:
        perp_2025.EVENT.run(ReplayOptions(data_dir=d, quick=True))
    assert "bookDepth" in str(e.value) and "depth" in (e.value.where or "")
    _copy_needs(perp_2025, tmp_path / "b")
    (tmp_path / "b" / perp_2025.CANDLES).write_bytes(b"not parquet")
    with pytest.raises(InputError) as e:
        perp_2025.EVENT.run(ReplayOptions(data_dir=tmp_path / "b", quick=True))
    assert "candles.parquet" in str(e.value)


# ------------------------------------------------------------------------------------------
# 2022-06-18


def test_steth_loops_conserve_and_the_oracle_decides(steth):
    c, res = steth.runs["loops"]
    ev = res.events
    m = ev["position"] != "(protocol)"
    assert float(np.sum(ev["collateral_seized"][m])) + float(res.final_coll.sum()) == pytest.approx(
        float(c.book.coll.sum()), rel=1e-12)
    assert steth.headline["loops_liquidated"] > 0
    calm = steth_2022.EVENT.run(_opts(steth_2022, fundamental_oracle="1"))
    assert calm.headline["loops_liquidated"] == 0
    assert calm.headline["end_gap"] == pytest.approx(0.0, abs=1e-9)  # the pool stays on the recorded path
