"""The StableSwap and concentrated-liquidity venue kinds wired into the engine: scenario keys,
both engines, bad input, and the direction test (a concentrated pool whose price leaves its
active ticks fills far worse than a constant-product pool holding the same value)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.engine.static import solve_static
from liqcascade.errors import InputError
from liqcascade.kernels import dynamic as KD
from liqcascade.scenario.models import Scenario
from liqcascade.venues import dispatch as K
from liqcascade.venues.kernel import UNSOLD
from liqcascade.venues.pack import make_venue_state

P0 = 100.0
TVL = 2e6


def _venues():
    """The same value (TVL at P0) as a cpmm and as a concentrated pool within about ±4 %."""
    return [
        {"name": "v", "asset": "A", "kind": "cpmm", "reserve_asset": TVL / 2 / P0, "fee": 0.003},
        {"name": "v", "asset": "A", "kind": "concentrated", "fee": 0.003,
         "synthetic": {"tvl": TVL, "sigma": 0.02, "cut": 2.0}},
    ]


def test_concentrated_fills_better_in_range_and_far_worse_once_the_price_leaves_it():
    specs = [{**{k: v for k, v in d.items() if k != "name"}, "asset": 0} for d in _venues()]
    specs[0]["reserve_quote"] = TVL / 2
    specs[1]["price"] = P0
    vs, vdk, vdq = make_venue_state(specs)
    dq = 0.01 * TVL / P0  # a sale worth 1 % of either pool
    q_in = [K.venue_preview_sell(vs, vdk, vdq, v, dq)[0] for v in (0, 1)]
    assert q_in[1] > q_in[0]  # concentrated depth: better fills near the price
    # the market moves both pools 6 % down, past the concentrated pool's active ticks (±4 %)
    for v in (0, 1):
        K.venue_apply_return(vs, vdk, vdq, v, 0.94)
    q_out = [K.venue_preview_sell(vs, vdk, vdq, v, dq)[0] for v in (0, 1)]
    assert q_out[1] < q_out[0]  # nothing left to sell into
    a = vs.copy()
    K.venue_sell(a, vdk, vdq, 1, dq)
    assert a[1, UNSOLD] > 0.0  # the pool could not take the rest (the stub bid at the floor did)


def _scenario(venue: dict, *, static_venue=False) -> Scenario:
    return Scenario.model_validate({
        "name": "dir", "simulation": {"steps": 20, "dt_seconds": 60, "paths": 1, "seed": 3},
        "assets": [{"name": "A", "price": P0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "crash", "shock": 0.12, "over_seconds": 300},
        "venues": [venue],
        "protocols": [{"name": "p", "positions": "-", "collateral": "A", "debt": "Q",
                       "params": {"A": {"liquidation_threshold": 0.85, "liquidation_bonus": 0.05,
                                        "protocol_fee": 0.1}}}],
        "arbitrage": {"enabled": False, "to_reference": False},
    })


@pytest.fixture
def book_arrays():
    rng = np.random.default_rng(7)
    n = 60
    value = 10 ** rng.uniform(3.0, 3.7, n)  # about 10 % of the pools' value in all
    hf = rng.uniform(1.0, 1.25, n)
    return value / P0, value * 0.85 / hf


def test_liquidators_realise_less_in_a_concentrated_pool_that_runs_out(kit, book_arrays):
    coll, debt = book_arrays
    ratio = []
    for v in _venues():
        sc = _scenario(v)
        c = compile_scenario(sc, Path("."), book=kit.join_books(coll, debt, np.zeros(len(coll), np.int64), [0.85]))
        res = run_dynamic(c, paths=make_paths(c), record_paths=1)
        s = res.summary[0]
        assert s[KD.SUM_NLIQ] > 0
        ratio.append(s[KD.SUM_PROCEEDS] / s[KD.SUM_LIQ_VALUE])
    assert ratio[1] < ratio[0]


@pytest.mark.parametrize("kind", ["stableswap", "concentrated"])
def test_static_curve_runs_on_the_new_kinds_and_agrees_with_a_one_step_run(kit, book_arrays, kind):
    coll, debt = book_arrays
    v = (_venues()[1] if kind == "concentrated" else
         {"name": "v", "asset": "A", "kind": "stableswap", "reserve_asset": TVL / 2 / P0, "rate": P0,
          "amp": 100.0, "fee": 0.0004})
    c = compile_scenario(_scenario(v), Path("."), book=kit.join_books(coll, debt, np.zeros(len(coll), np.int64), [0.85]))
    pts = solve_static(c, [0.0, 0.05, 0.1, 0.2]).points
    assert pts[0].liquidations == 0
    assert any(p.liquidations > 0 for p in pts)
    prices = [p.final_price for p in pts]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(prices, prices[1:]))  # deeper shock, lower price


def test_stableswap_starts_at_the_asset_price():
    vs, vdk, vdq = make_venue_state([{"kind": "stableswap", "asset": 0, "reserve_asset": 1e5, "price": 1.07,
                                      "rate": 1.1, "amp": 50.0, "fee": 0.0004}])
    assert K.venue_spot(vs, 0) == pytest.approx(1.07, rel=1e-13)


@pytest.mark.parametrize("venue, field", [
    ({"name": "v", "asset": "A", "kind": "stableswap", "reserve_asset": 10.0}, "amp"),
    ({"name": "v", "asset": "A", "kind": "concentrated", "fee": 0.003}, "ticks_file"),
    ({"name": "v", "asset": "A", "kind": "concentrated", "fee": 0.002, "synthetic": {"tvl": 1e6}}, "tick_spacing"),
])
def test_bad_venue_tables_are_refused(venue, field):
    with pytest.raises(ValueError, match=field):
        _scenario(venue)


def test_tick_file_errors_name_the_file(tmp_path):
    f = tmp_path / "ticks.csv"
    f.write_text("tick_lower,tick_upper,liquidity\n10,5,1e18\n")
    v = {"name": "v", "asset": "A", "kind": "concentrated", "fee": 0.003, "ticks_file": "ticks.csv"}
    with pytest.raises(InputError) as e:
        compile_scenario(_scenario(v), tmp_path)
    assert "ticks.csv" in str(e.value.file)


def test_tick_file_loads(tmp_path, kit, book_arrays):
    """A snapshot CSV: three ranges around P0 (ticks near ln(100)/ln(1.0001) ≈ 46054)."""
    f = tmp_path / "ticks.csv"
    f.write_text("tick_lower,tick_upper,liquidity\n45600,46200,3e5\n45000,47100,1e5\n46020,46080,2e6\n")
    v = {"name": "v", "asset": "A", "kind": "concentrated", "fee": 0.003, "ticks_file": "ticks.csv"}
    coll, debt = book_arrays
    c = compile_scenario(_scenario(v), tmp_path, book=kit.join_books(coll, debt, np.zeros(len(coll), np.int64), [0.85]))
    assert K.venue_spot(c.vs0, 0) == pytest.approx(P0, rel=1e-12)
    assert int(c.vs0[0, 7]) == 6  # six initialized ticks
    res = run_dynamic(c, paths=make_paths(c), record_paths=1)
    assert np.isfinite(res.summary).all()


def test_cli_bad_pool_table_is_one_line_exit_2(tmp_path):
    from typer.testing import CliRunner

    from liqcascade.cli import app

    text = (Path(__file__).resolve().parents[2] / "examples" / "steth_depeg.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("amp = 50\n", ""))
    r = CliRunner().invoke(app, ["run", str(bad)])
    assert r.exit_code == 2
    assert "error:" in r.output and "amp" in r.output and "Traceback" not in r.output
