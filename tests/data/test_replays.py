"""Historical replays 2021-05-19 (ETH lending) and 2025-10-10 (BTC perp) on the real data files.

Each event runs once with ``quick=True`` (module-scoped fixture; numba compiles the time loop once
per protocol mix, which dominates the time) and once more for the same-seed check. Checks: the
headline numbers are there and finite, every sensitivity table has >= 2 finite rows, the same
seed gives the identical document, collateral/debt (lending) and positions/cash (perp) are
conserved, safe directions hold (a bigger insurance fund never gives more ADL, a deeper book never
a deeper wick), and unreadable data gives an :class:`InputError` naming the file.

The data live in ``../shared/data`` beside the repository; the tests skip when it is absent.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.replay import ReplayOptions
from liqcascade.replay import may_2021, perp_2025

from data_helpers import DATA, need

REL = 1e-6

MAY_KEYS = [f"{p}_{k}" for p in ("aave", "compound", "liquity")
            for k in ("liquidations", "liquidated_collateral_usd", "bad_debt_usd")] + [
    "liquidations", "liquidated_collateral_usd", "bad_debt_usd", "price_min_path", "price_min_venues",
    "price_min_oracle", "amplification", "gas_cost_usd", "liquity_redistributed_debt_lusd"]
PERP_KEYS = ["liquidations", "liquidated_notional_usd", "insurance_fund_draw_usd", "adl_events",
             "adl_notional_usd", "bad_debt_usd", "index_min", "book_min", "amplification",
             "depth_1pct_crash_usd", "depth_1pct_calm_usd"]


def _needs(mod):
    for rel in mod.EVENT.needs:
        need(*rel.split("/"))
    return DATA


@pytest.fixture(scope="module")
def may():
    return may_2021.EVENT.run(ReplayOptions(data_dir=_needs(may_2021), seed=3, quick=True))


@pytest.fixture(scope="module")
def perp():
    return perp_2025.EVENT.run(ReplayOptions(data_dir=_needs(perp_2025), seed=3, quick=True))


def close(a, b, scale):
    assert abs(float(a) - float(b)) <= REL * max(abs(float(scale)), 1e-12), f"{a!r} != {b!r} (scale {scale!r})"


# ------------------------------------------------------------------------------------------
# both events


@pytest.mark.parametrize("name,keys", [("may", MAY_KEYS), ("perp", PERP_KEYS)])
def test_headline_and_sensitivity(request, name, keys):
    r = request.getfixturevalue(name)
    missing = [k for k in keys if k not in r.headline]
    assert not missing, f"{r.event}: headline lacks {missing}"
    bad = {k: v for k, v in r.headline.items() if not math.isfinite(v)}
    assert not bad, f"{r.event}: non-finite headline values {bad}"
    assert r.headline["liquidations"] > 0, f"{r.event}: no liquidation on the crash path"
    assert r.sensitivity and all(len(s.rows) >= 2 for s in r.sensitivity)
    for s in r.sensitivity:
        for row in s.rows:
            assert set(s.columns) <= set(row) and "value" in row
            assert all(math.isfinite(row[c]) for c in s.columns), f"{s.parameter}: {row}"
    assert any("synthetic" in a for a in r.assumptions), "the replay must say its books are synthetic"
    assert r.run is not None and r.compiled is not None
    json.dumps(r.as_dict())  # plain JSON


@pytest.mark.parametrize("name,mod", [("may", may_2021), ("perp", perp_2025)])
def test_same_seed_same_document(request, name, mod):
    r = request.getfixturevalue(name)
    again = mod.EVENT.run(ReplayOptions(data_dir=DATA, seed=3, quick=True))
    assert json.dumps(again.as_dict(), sort_keys=True) == json.dumps(r.as_dict(), sort_keys=True)


# ------------------------------------------------------------------------------------------
# 2021-05-19


def test_may_conservation(may):
    c, res = may.compiled, may.run
    ev = res.events
    # aave: collateral seized + left = before; debt repaid + bad + left = before (USDC at 1)
    b = c.book
    a = ev["protocol"] == "aave"
    assert a.any()
    coll0, debt0 = b.coll.sum(), b.debt.sum()
    close(res.final_coll.sum() + ev["collateral_seized"][a].sum(), coll0, coll0)
    close(res.final_debt.sum() + ev["debt_repaid"][a].sum() + ev["bad_debt"][a].sum(), debt0, debt0)
    # the units: each against its own pack before the run (run_dynamic runs on copies)
    units = {c.protocols[u.proto_id]: u for u in c.units}
    u0, u = units["compound"].totals(), res.unit_totals["compound"]
    w0 = float(np.sum(u0["collateral_held"]))
    close(np.sum(u["collateral_held"]) + np.sum(u["collateral_seized"]), w0, w0)
    close(u["debt"] + u["debt_absorbed"], u0["debt"], u0["debt"])
    close(u["debt_absorbed"], u["repaid_by_credit"] + u["shortfall"], u0["debt"])
    close(may.headline["compound_bad_debt_usd"], u["shortfall"], u0["debt"])
    q = res.unit_totals["liquity"]
    close(q["coll_total"], q["coll_initial"], q["coll_initial"])
    close(q["debt_total"], q["debt_initial"], q["debt_initial"])
    close(q["debt_initial"], units["liquity"].totals()["debt_initial"], q["debt_initial"])
    # the headline sums the protocols
    tot = sum(may.headline[f"{p}_liquidations"] for p in ("aave", "compound", "liquity"))
    assert may.headline["liquidations"] == tot
    # the books are the stated sizes
    close(debt0, may_2021.DEBT_USD["aave"], debt0)
    close(q["debt_initial"], may_2021.DEBT_USD["liquity"], q["debt_initial"])


def test_may_path_is_the_recorded_one(may):
    from liqcascade.data.bars import load_ohlcv_json
    from liqcascade.kernels import dynamic as K

    bars = load_ohlcv_json(DATA / may_2021.ETH)
    ref = may.run.steps_asset[0, :, 0, K.ST_REF]
    np.testing.assert_allclose(ref[1:], bars.close, rtol=1e-12)
    assert may.headline["price_min_path"] == pytest.approx(bars.close.min(), rel=1e-12)
    assert may.headline["price_min_venues"] <= may.headline["price_min_path"] * (1 + 1e-9)


# ------------------------------------------------------------------------------------------
# 2025-10-10


def test_perp_conservation(perp):
    u = perp.run.unit_totals["binance-btcusdt"]
    oi = float(np.max(u["oi_long"]))
    assert np.allclose(u["net_position"], 0.0, rtol=0, atol=REL * oi), "Σ positions of all holders != 0"
    assert np.allclose(u["oi_long"], u["oi_short"], rtol=REL)
    close(u["cash_total"] - u["socialized"], u["cash_initial"], u["cash_initial"])
    close(u["value_total"], u["cash_total"], u["cash_initial"])
    assert u["positions_open"] < perp.run.n_positions
    close(perp.headline["adl_notional_usd"], u["adl_notional"], max(1.0, u["adl_notional"]))


def test_perp_directions(perp):
    fund, depth = perp.sensitivity
    rows = sorted(fund.rows, key=lambda r: r["value"])
    for lo, hi in zip(rows, rows[1:]):
        assert hi["adl_notional_usd"] <= lo["adl_notional_usd"] * (1 + 1e-9) + 1e-6, \
            f"fund {hi['value']:g} gives more ADL than {lo['value']:g}"
    assert rows[-1]["adl_notional_usd"] < rows[0]["adl_notional_usd"], "the fund sizes tried change nothing"
    # a deeper book takes the same orders with less impact (bad debt has no such law: it depends
    # on which positions go first)
    rows = sorted(depth.rows, key=lambda r: r["value"])
    for lo, hi in zip(rows, rows[1:]):
        assert hi["book_drawdown"] <= lo["book_drawdown"] + 1e-12, \
            f"depth x{hi['value']:g} gives a deeper wick than x{lo['value']:g}"
    # the collapsed book deepens the perp's wick beyond the index
    assert perp.headline["book_min"] < perp.headline["index_min"]


def test_perp_depth_is_the_measured_crash_minute(perp):
    from liqcascade.data.binance import load_book_depth

    d = load_book_depth(DATA / perp_2025.DEPTH)
    k, q = d.side("ask")
    t = perp_2025.DAY0 + 21 * 3600 + 20 * 60  # the index low of the window: 21:20 UTC
    sel = (d.time_s >= t) & (d.time_s < t + 60)
    assert sel.any()
    np.testing.assert_allclose(perp.extra["depth_crash_usd"], np.median(q[sel], axis=0), rtol=1e-12)
    assert perp.headline["depth_1pct_calm_usd"] > 2 * perp.headline["depth_1pct_crash_usd"]


# ------------------------------------------------------------------------------------------
# bad input


def _copy_needs(mod, tmp_path):
    for rel in mod.EVENT.needs:
        src = need(*rel.split("/"))
        dst = tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return tmp_path


def test_may_unreadable_file_names_it(tmp_path):
    d = _copy_needs(may_2021, tmp_path)
    (d / may_2021.ETH).write_text('[{"time_period_start": "2021-05-19T00:00:00Z", "price_open": "x"}]')
    with pytest.raises(InputError) as e:
        may_2021.EVENT.run(ReplayOptions(data_dir=d, quick=True))
    assert "05-19-2021.json" in str(e.value)


def test_perp_unreadable_file_names_it(tmp_path):
    d = _copy_needs(perp_2025, tmp_path)
    (d / perp_2025.DEPTH).write_text("timestamp,percentage,depth,notional\n2025-10-10 00:00:07,1,abc,5\n")
    with pytest.raises(InputError) as e:
        perp_2025.EVENT.run(ReplayOptions(data_dir=d, quick=True))
    assert "bookDepth" in str(e.value) and "depth" in (e.value.where or "")


@pytest.mark.parametrize("mod", [may_2021, perp_2025])
def test_unknown_knob_refused(mod):
    with pytest.raises(InputError) as e:
        mod.EVENT.run(ReplayOptions(data_dir=DATA, quick=True, overrides={"no_such_knob": "1"}))
    assert "no_such_knob" in str(e.value)


@pytest.mark.parametrize("mod", [may_2021, perp_2025])
def test_bad_knob_value_refused(mod):
    with pytest.raises(InputError) as e:
        mod.EVENT.run(ReplayOptions(data_dir=DATA, quick=True, overrides={"positions": "many"}))
    assert "positions" in str(e.value)
