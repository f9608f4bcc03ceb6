"""The external flow on the real series: Risk DAO's one-minute Binance-futures ETH/USDT
liquidations of January 2021 (``../shared/data/riskdao_jan2021``; skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import EXAMPLES, need

from liqcascade.engine.flow import compile_flow, run_flow
from liqcascade.flow.series import load_flow_series
from liqcascade.scenario.load import load_scenario

FILE = ("riskdao_jan2021", "data_unified_0_ethusdt.csv")
LONG = "binance-futures_ethusdt_liquidation_long"
SHORT = "binance-futures_ethusdt_liquidation_short"


def test_the_series_reads_as_documented():
    s = load_flow_series(need(*FILE), time="timestamp_x", sells=LONG, buys=SHORT)
    assert len(s) == 43173
    assert s.time_s[0] == pytest.approx(1609460068.9123072) and np.all(np.diff(s.time_s) > 0)
    assert s.sells.sum() == pytest.approx(1002062.324) and s.buys.sum() == pytest.approx(352972.044)
    assert 700 < s.mid.min() < s.mid.max() < 1500
    assert any("3 gap(s) longer than 2.5× the median step" in n for n in s.notes)  # the file's three gaps, named
    q = load_flow_series(need(*FILE), time="timestamp_x", sells=LONG, units="quote")
    assert np.allclose(q.sells * q.mid, s.sells)


def test_a_window_keeps_its_rows_and_says_so():
    s = load_flow_series(need(*FILE), time="timestamp_x", sells=LONG, start="2021-01-11T00:00:00",
                         end="2021-01-11T23:59:59")
    assert 1400 < len(s) <= 1440
    assert any(n.startswith("flow window 2021-01-11") and "outside start/end not used" in n for n in s.notes)


def _example(size=None, multiplier=None):
    need(*FILE)
    sc, base = load_scenario(EXAMPLES / "external_flow.toml")
    if size is not None:
        sc.flow.backstop.size = size
    if multiplier is not None:
        sc.flow.multiplier = multiplier
    return compile_flow(sc, base)


def test_the_example_runs_and_conserves_every_order():
    r = run_flow(_example())
    s = r.summary
    assert s["steps"] == 43173 and 0 < s["max_drop"] < 1
    assert s["max_drop_time"].startswith("2021-01-11 03:3")  # the largest minute of long liquidations
    c = r.conservation()
    assert abs(c["sells"]["residual"]) < 1e-9 * c["sells"]["in"] and abs(c["buys"]["residual"]) < 1e-9 * c["buys"]["in"]
    b = s["backstop"]
    assert b["size"] + b["refilled"] == pytest.approx(b["balance_end"] + b["paid"] + b["withdrawn"], rel=1e-12)


def test_direction_on_the_real_series():
    """A bigger pool never raises max_drop and a bigger multiplier never lowers it, on the real
    series with the example's venue and pool shape."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
    from test_flow_direction import book_condition_holds

    sizes, mults = (0.0, 1e6, 5e6, 2e7, 5e7), (0.5, 1.0, 2.0, 4.0)
    d = np.zeros((len(sizes), len(mults)))
    for i, size in enumerate(sizes):
        for j, m in enumerate(mults):
            fc = _example(size, m)
            r = run_flow(fc)
            assert book_condition_holds(fc, r)  # the condition under which a book keeps the direction
            d[i, j] = r.max_drop
    assert (np.diff(d, axis=1) >= -1e-12).all(), d
    assert (np.diff(d, axis=0) <= 1e-12).all(), d
    assert d[0, -1] > d[-1, 0]
