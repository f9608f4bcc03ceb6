"""Calibration functions recover known parameters from synthetic data, and reproduce the constants
committed in ``calibration/params.py`` from the reference files (../shared/data)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from data_helpers import need

from liqcascade.calibration import params as P
from liqcascade.calibration.cpmm import align_to_bars, pool_summary
from liqcascade.calibration.depth import ask_depth_curve, depth_at, depth_vol_fit, rolling_realized_vol
from liqcascade.calibration.oracle import oracle_lag
from liqcascade.calibration.returns import crash_day_stats, pooled_quantiles
from liqcascade.data.bars import Bars
from liqcascade.data.binance import BookDepth
from liqcascade.data.prices import PriceSeries
from liqcascade.data.uniswap import Reserves
from liqcascade.venues.pack import depth_from_cpmm

DAY = datetime(2025, 10, 10, tzinfo=timezone.utc).timestamp()


def _bars(close, dt=60.0, t0=0.0, low=None):
    c = np.asarray(close, dtype=float)
    o = np.r_[c[0], c[:-1]]
    lo = np.minimum(o, c) if low is None else np.asarray(low, dtype=float)
    return Bars(t0 + dt * np.arange(c.size), o, np.maximum(o, c), lo, c, np.zeros(c.size))


# --- synthetic ----------------------------------------------------------------------------------


def test_depth_vol_fit_recovers_the_elasticity():
    rng = np.random.default_rng(1)
    n = 2000
    sig = np.exp(rng.uniform(np.log(2e-4), np.log(5e-3), n))  # per-minute vol, varying slowly in blocks
    sig = np.repeat(sig[::20], 20)[:n]
    r = sig * rng.choice([-1.0, 1.0], n)  # |r| = σ exactly: window-RV equals σ inside a block
    bars = _bars(100.0 * np.exp(np.r_[0.0, np.cumsum(r)]))
    te, rv = rolling_realized_vol(bars, 1)
    assert np.allclose(rv, sig)
    t = te[5::3] + 1.0  # snapshots one second after a bar closes
    s_at = sig[5::3]
    k = np.array([0.01, 0.02])
    b_true = np.array([-0.3, -0.5])
    q = np.exp(np.log([1e8, 2e8]) + b_true * np.log(s_at)[:, None])
    book = BookDepth(t, (-2.0, -1.0, 1.0, 2.0), np.ones((t.size, 4)), np.column_stack([q[:, ::-1] * 0 + 1, q]))
    f = depth_vol_fit(book, bars, window=1)
    assert np.allclose(f.slope, b_true, atol=1e-9) and np.allclose(f.r2, 1.0)
    assert np.allclose(depth_at(k, f.depth_ref, f.slope, f.sigma_ref, f.sigma_ref), f.depth_ref)
    kk, med = ask_depth_curve(book)
    assert list(kk) == [0.01, 0.02] and np.allclose(med, np.median(q, axis=0))


def test_crash_day_stats_on_a_known_path():
    c = np.full(144, 100.0)
    c[50:] = 80.0  # a 20 % step down at bar 50
    low = c.copy()
    low[52] = 70.0  # a wick two bars later
    s = crash_day_stats(_bars(c, dt=600.0, low=low))
    assert s.max_drawdown == pytest.approx(0.30)
    assert s.max_drop_1h == pytest.approx(0.30)  # close 100 at bar 49 -> low 70 within the hour
    assert s.max_drop_1h_close == pytest.approx(0.20)
    assert s.day_return == pytest.approx(-0.20)
    q, sd, n = pooled_quantiles([_bars(c, dt=600.0), _bars(c[::-1], dt=600.0)], q=(0.0, 1.0))
    assert n == 286 and q[0] == pytest.approx(np.log(0.8)) and q[-1] == pytest.approx(-np.log(0.8))


def test_oracle_lag_recovers_a_delay():
    t = np.arange(0.0, 200 * 86400.0, 60.0)
    rng = np.random.default_rng(3)
    logp = np.log(2000.0) + np.cumsum(rng.normal(0, 0.002, t.size))
    market = PriceSeries("M", t, np.exp(logp))
    to = np.arange(3600.0, t[-1] - 3600.0, 3600.0)
    oracle = PriceSeries("O", to, np.exp(np.interp(to - 900.0, t, logp)))  # 15 minutes behind
    f = oracle_lag(oracle, market)
    assert f.best_lag_s == pytest.approx(900.0, abs=60.0)
    assert f.rms_at_best < 1e-9 < f.dev_rms
    same = oracle_lag(PriceSeries("O", to, np.exp(np.interp(to, t, logp))), market)
    assert same.best_lag_s == 0.0 and same.dev_mean_abs < 1e-12
    assert same.xcorr[list(same.xcorr_lags).index(0)] == pytest.approx(1.0)


def test_pool_summary_and_alignment():
    rng = np.random.default_rng(5)
    price = 2000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, 200)))
    L = 1e6
    x, y = L / np.sqrt(price), L * np.sqrt(price)
    res = Reserves("WETH", "DAI", x[20:164], y[20:164], np.full(144, np.nan))
    s = pool_summary(res, ks=[0.02])
    assert s.liquidity_min_over_max == pytest.approx(1.0)
    assert s.bid_depth_median[0] == pytest.approx(np.median([depth_from_cpmm(a, b, [0.02])[0] for a, b in zip(res.reserve_asset, res.reserve_quote)]))
    bars = _bars(price, dt=600.0)
    assert align_to_bars(res, bars)[0] == 20


# --- the reference files reproduce params.py ----------------------------------------------------


def test_depth_params():
    from liqcascade.data.binance import load_binance_klines, load_book_depth

    d = need("binance_2025-10-10")
    book = load_book_depth(d / "BTCUSDT-bookDepth-2025-10-10.csv")
    bars = Bars.concat([load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-09.zip"),
                        load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-10.zip")])
    k, med = ask_depth_curve(book)
    assert tuple(k) == P.BTC_ASK_DEPTH_FRACTIONS
    assert np.allclose(med, P.BTC_ASK_DEPTH_MEDIAN_USD, rtol=1e-5)
    assert np.allclose(ask_depth_curve(book, quantile=0.0)[1], P.BTC_ASK_DEPTH_MIN_USD, rtol=1e-5)
    f = depth_vol_fit(book, bars, window=P.DEPTH_VOL_WINDOW_MIN)
    assert f.n == 2879
    assert np.allclose(f.slope, P.DEPTH_VOL_SLOPE, atol=1e-4)
    assert np.allclose(f.r2, P.DEPTH_VOL_R2, atol=1e-3)
    assert f.sigma_ref == pytest.approx(P.DEPTH_VOL_SIGMA_REF, rel=1e-4)
    assert np.allclose(f.depth_ref, P.DEPTH_VOL_DEPTH_REF_USD, rtol=1e-5)
    g = depth_vol_fit(book, bars, window=P.DEPTH_VOL_WINDOW_MIN, start_s=DAY + 18 * 3600)
    assert np.allclose(g.slope, P.DEPTH_VOL_SLOPE_CRASH, atol=1e-4)
    # depth shrinks when volatility rises: every band's elasticity is negative
    assert (f.slope < 0).all() and (g.slope < -0.25).all()


def test_returns_params():
    from liqcascade.data.bars import load_ohlcv_json

    d = need("stablesims", "eth")
    days = {}
    for f in sorted(d.glob("*.json")):
        b = load_ohlcv_json(f)
        days[f.stem] = b
        s = crash_day_stats(b)
        assert (s.max_drawdown, s.max_drop_1h, s.max_drop_1h_close) == pytest.approx(P.ETH_CRASH_DAYS[f.stem], abs=6e-5)
    assert P.ETH_CRASH_DAYS["03-12-2020"][1] == pytest.approx(0.26, abs=0.005)  # README: worst 1-hour drop 26 %
    q, sd, n = pooled_quantiles(list(days.values()))
    assert n == 999 and np.allclose(q, P.ETH_CRASH_10M_LOGRET_QUANTILES, rtol=1e-3)


def test_cpmm_params():
    from liqcascade.data.bars import load_ohlcv_json
    from liqcascade.data.uniswap import load_uniswap_reserves

    d = need("stablesims")
    for f in sorted((d / "eth_dai_liquidity").glob("*.json")):
        r = load_uniswap_reserves(f)
        s = pool_summary(r)
        assert (s.reserve_asset_median, s.reserve_quote_median) == pytest.approx(
            P.UNISWAP_V2_ETH_DAI_MEDIAN_RESERVES[f.stem], rel=1e-5)
        assert s.liquidity_min_over_max == pytest.approx(P.UNISWAP_V2_ETH_DAI_LIQUIDITY_MIN_OVER_MAX[f.stem], abs=6e-4)
        sh, err = align_to_bars(r, load_ohlcv_json(d / "eth" / f.name))
        assert 39 <= sh <= 47 and err < 0.02  # snapshots start at US Pacific midnight


def test_oracle_params():
    from liqcascade.data.prices import load_price_csv

    d = need("hourly_prices_2021_2024")
    f = oracle_lag(load_price_csv(d / "compound_v3_oracle" / "WETH_usd.csv"), load_price_csv(d / "coingecko" / "WETH_usd.csv"))
    assert f.n == 4715
    assert np.allclose(f.dev_quantiles, P.ORACLE_DEV_QUANTILES, rtol=1e-3)
    assert f.dev_mean_abs == pytest.approx(P.ORACLE_DEV_MEAN_ABS, rel=1e-2)
    assert f.best_lag_s == P.ORACLE_BEST_LAG_S
    assert dict(zip(f.xcorr_lags.tolist(), np.round(f.xcorr, 4).tolist())) == P.ORACLE_XCORR_HOURLY


def test_positions_cross_reference():
    from liqcascade.calibration.positions import book_shape
    from liqcascade.data.compound import implied_values, load_compound_v2
    from liqcascade.positions import synth

    d = need("compound_v2_borrowers_2023")
    snap = load_compound_v2(d / "compound_v2_accounts_with_borrows.csv", d / "compound_v2_account_ctoken_positions.csv")
    iv = implied_values(snap)
    assert iv.eth_usd == pytest.approx(P.COMPOUND_V2_ETH_USD, abs=0.01)
    for s, v in P.COMPOUND_V2_WEIGHTED_ETH_PER_CTOKEN.items():
        assert iv.weighted_eth_per_ctoken[snap.symbols.index(s)] == pytest.approx(v, rel=1e-6)
    b = book_shape(snap, iv)
    # the same data side as positions.synth's docstring: 1,798 kept, p10/p50/p90 1.158/1.820/3.949
    assert b.n_kept == 1798
    assert np.allclose(b.c_quantiles_data, (1.158, 1.820, 3.949), atol=2e-3)
    assert np.allclose(b.c_quantiles_synth, synth.ratio_quantile([0.1, 0.5, 0.9]))
    for k, v in P.COMPOUND_V2_COLLATERAL_SHARE.items():
        assert b.collateral_share[k] == pytest.approx(v, abs=6e-4)
    for k, v in P.COMPOUND_V2_DEBT_SHARE.items():
        assert b.debt_share[k] == pytest.approx(v, abs=6e-4)


def test_aave_lt_params():
    from liqcascade.calibration.aave import lt_intervals
    from liqcascade.data.aave import load_aave_details_dir

    hs = load_aave_details_dir(need("aave_v2_borrowers_2021", "aave_user_details_v2"))
    iv = lt_intervals(hs, split_block=14_000_000)
    for (a, per), (lo, hi, n) in iv.items():
        lt = P.aave_v2_lt(13_000_000 if per == 0 else 14_800_000)[a]
        assert lo - 1e-4 <= lt <= hi + 1e-4, (a, per, lo, hi, lt)
    assert P.aave_v2_lt(14_800_000)["USDC"] == 0.88 and P.aave_v2_lt(12_000_000)["USDC"] == 0.85
