"""Risk metrics on known samples."""

from __future__ import annotations

import math

import numpy as np

from liqcascade.montecarlo import metrics as M


def test_metrics_known_sample():
    bad = np.zeros(100)
    bad[-5:] = [10.0, 20.0, 30.0, 40.0, 50.0]
    liq = np.arange(100, dtype=float)
    m = M.compute({"bad_debt": bad, "liquidated_value": liq, "liquidations": np.ones(100),
                   "max_drawdown_X": np.full(100, 0.25), "final_price_X": np.full(100, 3.0)})
    assert m["paths"] == 100
    assert m["var95"] == np.quantile(bad, 0.95)
    assert m["lar95"] == np.quantile(liq, 0.95)
    assert m["es95"] == 30.0  # mean of the worst 5 paths
    assert m["es95"] >= m["var95"]
    assert m["p_insolvency"] == 0.05
    assert m["p_insolvency_lo"] < 0.05 < m["p_insolvency_hi"]
    assert math.isclose(m["bad_debt_mean"], 1.5)
    h = M.Z95 * bad.std(ddof=1) / 10
    assert math.isclose(m["bad_debt_ci_hi"] - m["bad_debt_mean"], h)
    assert m["liquidations_mean"] == 1.0
    assert m["assets"] == {"X": {"max_drawdown_mean": 0.25, "final_price_mean": 3.0}}


def test_single_path_and_es_rounding():
    m = M.compute({"bad_debt": np.array([5.0]), "liquidated_value": np.array([1.0])})
    assert m["bad_debt_ci_lo"] is None and m["es95"] == 5.0
    x = np.arange(30, dtype=float)  # k = ceil(1.5) = 2 → mean of 28, 29
    assert M.expected_shortfall(x) == 28.5
