"""Calibration of the premium that the funding formulas leave free (``calibration/funding.py``):
the inversion of the formula, the censored regression on synthetic data with known answers, and
the fit on the real series in ``../shared/data/perp_venues_2025`` (skipped when absent)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from data_helpers import need

from liqcascade.calibration.funding import calibrate, fit_censored, implied_premium
from liqcascade.funding.binance import kernel as B
from liqcascade.funding.binance.model import BinanceFunding
from liqcascade.funding.hyperliquid import kernel as H
from liqcascade.funding.hyperliquid.model import HyperliquidFunding


def test_inversion_brackets_the_premium_the_formula_saw():
    rng = np.random.default_rng(3)
    p = rng.normal(-2e-4, 6e-4, 2_000)
    bpar = BinanceFunding(maintenance_margin_rate=None).pack()  # ±2 % caps, not reached here
    hpar = HyperliquidFunding().pack()
    f8_b = np.array([B.funding_rate(x, bpar) for x in p])
    f8_h = np.array([H.hourly_rate(x, hpar) * 8 for x in p])
    for f8 in (f8_b, f8_h):
        lo, hi = implied_premium(f8, 1e-4, 5e-4, 0.32)
        assert np.all(lo <= p + 1e-15) and np.all(p <= hi + 1e-15)
        exact = lo == hi
        np.testing.assert_allclose(lo[exact], p[exact], rtol=1e-9, atol=1e-15)
        assert np.all(np.abs(p[~exact] - 1e-4) <= 5e-4 + 1e-15)  # censored = in the dead band
    lo, hi = implied_premium(np.array([0.32, -0.32]), 1e-4, 5e-4, 0.32)  # Hyperliquid's 4 %/h cap
    assert hi[0] == math.inf and lo[1] == -math.inf


def test_censored_regression_recovers_known_parameters():
    """Simulate P = a + b x + noise, censor it through the funding formula, fit it back."""
    rng = np.random.default_rng(11)
    n = 4_000
    x = rng.normal(0, 0.02, n)
    p = -3e-4 + 0.01 * x + rng.normal(0, 3e-4, n)
    f8 = p + np.clip(1e-4 - p, -5e-4, 5e-4)
    lo, hi = implied_premium(f8, 1e-4, 5e-4)
    assert 0.2 < np.mean(lo != hi) < 0.8  # a realistic share sits in the band
    coef, se, sigma, _ = fit_censored(np.column_stack([np.ones(n), x]), lo, hi, ["a", "beta"])
    assert abs(coef["a"] + 3e-4) < 4 * se["a"]
    assert abs(coef["beta"] - 0.01) < 4 * se["beta"]
    assert sigma == pytest.approx(3e-4, rel=0.1)
    # ignoring the censoring (the midpoints as data) biases the slope towards zero
    mid = np.where(lo == hi, lo, 0.5 * (lo + hi))
    ols = np.polyfit(x, mid, 1)[0]
    assert ols < coef["beta"]


@pytest.mark.shared_data
@pytest.mark.parametrize("venue", ["binance", "hyperliquid"])
@pytest.mark.parametrize("coin", ["BTC", "ETH"])
def test_fit_on_real_data(venue, coin):
    """The fit runs on the 2025-26 series and reports what it finds: finite coefficients with
    standard errors, persistence φ in (0, 1), the likelihood-ratio test against persistence only,
    and the out-of-sample errors next to the naive forecast. (What it finds — β > 0 on
    Hyperliquid and Binance ETH, no return effect on Binance BTC — is in funding/README.md; the
    test does not assert a sign the data need not have.)"""
    data = need("perp_venues_2025", "funding_rates.parquet").parent.parent
    need("perp_venues_2025", "candles.parquet")
    fit = calibrate(data, venue, coin, spec="returns")
    assert fit.n > 1_000
    assert all(math.isfinite(v) for v in fit.coef.values())
    assert all(math.isfinite(v) and v > 0 for v in fit.se.values())
    assert 0 < fit.coef["phi"] < 1
    assert fit.lr_stat >= -1e-6 and 0 <= fit.lr_pvalue <= 1
    assert fit.sigma > 0 and math.isfinite(fit.oos_mae) and math.isfinite(fit.oos_mae_naive)
    assert "in the dead band" in fit.summary()


@pytest.mark.shared_data
def test_dislocation_spec_reports_its_coverage():
    data = need("perp_venues_2025", "funding_rates.parquet").parent.parent
    fit = calibrate(data, "hyperliquid", "BTC", spec="dislocation")
    assert 500 < fit.n < 2_000  # Hyperliquid's own candles cover six weeks
    assert any("2025-04-18" in n for n in fit.notes)
    assert math.isfinite(fit.coef["gamma"]) and fit.se["gamma"] > 0
    with pytest.raises(ValueError, match="venue"):
        calibrate(data, "bybit", "BTC")
