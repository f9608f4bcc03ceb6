#!/usr/bin/env python3
"""Fit the market constants of ``liqcascade.calibration.params`` from ../shared/data.

Inputs (not in the repository; see ../shared/data/README.md):
    binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv   ask bands +1..+5 % (bids frozen: unused)
    binance_2025-10-10/BTCUSD_PERP-1m-2025-10-0{9,10}.zip  1-minute BTC index klines
    stablesims/eth/*.json, stablesims/eth_dai_liquidity/*.json   ETH bars, Uniswap v2 reserves
    hourly_prices_2021_2024/{coingecko,compound_v3_oracle}/WETH_usd.csv
    aave_v2_borrowers_2021/aave_user_details_v2/*.csv
    compound_v2_borrowers_2023/*.csv

Usage:  .venv/bin/python scripts/calibrate_market.py [--data PATH] [--section NAME ...]
Prints every fitted number with the name it has in params.py (paste by hand; the script writes
nothing). Sections: depth, cpmm, returns, oracle, aave, positions (default: all).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SECTIONS = ("depth", "cpmm", "returns", "oracle", "aave", "positions")
DAY_2025_10_10 = datetime(2025, 10, 10, tzinfo=timezone.utc).timestamp()


def _t(s: float) -> str:
    return datetime.fromtimestamp(s, timezone.utc).strftime("%Y-%m-%d %H:%M")


def _fmt(a, nd=4) -> str:
    return "(" + ", ".join(f"{float(x):.{nd}g}" for x in np.ravel(a)) + ")"


def depth(data: Path) -> None:
    from liqcascade.calibration.depth import ask_depth_curve, depth_vol_fit
    from liqcascade.data.bars import Bars
    from liqcascade.data.binance import load_binance_klines, load_book_depth

    d = data / "binance_2025-10-10"
    book = load_book_depth(d / "BTCUSDT-bookDepth-2025-10-10.csv")
    bars = Bars.concat([load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-09.zip"),
                        load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-10.zip")])
    print(f"== order-book depth: {book.source}: {len(book)} snapshots {_t(book.time_s[0])}..{_t(book.time_s[-1])}")
    k, med = ask_depth_curve(book)
    _, calm = ask_depth_curve(book, stop_s=DAY_2025_10_10 + 20 * 3600)
    _, crash = ask_depth_curve(book, start_s=DAY_2025_10_10 + 21 * 3600, stop_s=DAY_2025_10_10 + 22 * 3600)
    _, low = ask_depth_curve(book, quantile=0.0)
    print(f"BTC_ASK_DEPTH_FRACTIONS = {_fmt(k)}")
    print(f"BTC_ASK_DEPTH_MEDIAN_USD = {_fmt(med, 6)}  # whole day")
    print(f"BTC_ASK_DEPTH_CALM_USD = {_fmt(calm, 6)}  # median 00:00-20:00 UTC")
    print(f"BTC_ASK_DEPTH_CRASH_USD = {_fmt(crash, 6)}  # median 21:00-22:00 UTC")
    print(f"BTC_ASK_DEPTH_MIN_USD = {_fmt(low, 6)}  # minimum over the day")
    for label, kw in (("whole day", {}), ("18:00-24:00 UTC", {"start_s": DAY_2025_10_10 + 18 * 3600})):
        for w in (5, 15, 60):
            f = depth_vol_fit(book, bars, window=w, **kw)
            print(f"  {label}, window {w:3d} min: n={f.n} slope b={_fmt(f.slope, 3)} R2={_fmt(f.r2, 2)} "
                  f"sigma_ref={f.sigma_ref:.3e}")
    f = depth_vol_fit(book, bars, window=15)
    g = depth_vol_fit(book, bars, window=15, start_s=DAY_2025_10_10 + 18 * 3600)
    print(f"DEPTH_VOL_WINDOW_MIN = {f.window}")
    print(f"DEPTH_VOL_SIGMA_REF = {f.sigma_ref:.4e}  # per-minute sigma, median over the day")
    print(f"DEPTH_VOL_SIGMA_RANGE = {_fmt(f.sigma_range)}")
    print(f"DEPTH_VOL_DEPTH_REF_USD = {_fmt(f.depth_ref, 6)}")
    print(f"DEPTH_VOL_SLOPE = {_fmt(f.slope, 4)}")
    print(f"DEPTH_VOL_R2 = {_fmt(f.r2, 3)}")
    print(f"DEPTH_VOL_SLOPE_CRASH = {_fmt(g.slope, 4)}  # 18:00-24:00 UTC")
    print(f"DEPTH_VOL_R2_CRASH = {_fmt(g.r2, 3)}")
    print(f"DEPTH_VOL_SIGMA_REF_CRASH = {g.sigma_ref:.4e}")
    print(f"DEPTH_VOL_DEPTH_REF_CRASH_USD = {_fmt(g.depth_ref, 6)}")


def cpmm(data: Path) -> None:
    from liqcascade.calibration.cpmm import align_to_bars, pool_summary
    from liqcascade.data.bars import load_ohlcv_json
    from liqcascade.data.uniswap import load_uniswap_reserves

    print("== Uniswap v2 DAI/WETH reserves (stablesims/eth_dai_liquidity)")
    out = {}
    for f in sorted((data / "stablesims" / "eth_dai_liquidity").glob("*.json")):
        r = load_uniswap_reserves(f)
        s = pool_summary(r)
        bars = load_ohlcv_json(data / "stablesims" / "eth" / f.name)
        sh, err = align_to_bars(r, bars)
        print(f"  {f.stem}: n={s.n} WETH {s.reserve_asset_median:,.0f} DAI {s.reserve_quote_median:,.0f} "
              f"spot {s.spot_median:,.1f} L_min/L_max {s.liquidity_min_over_max:.3f} "
              f"bid depth 1..5% (USD) {_fmt(s.bid_depth_median, 4)}; snapshot i ~ bar i{sh:+d} "
              f"(mean |log diff| {err:.4f})")
        out[f.stem] = (round(s.reserve_asset_median, 1), round(s.reserve_quote_median, 0))
    print("UNISWAP_V2_ETH_DAI_MEDIAN_RESERVES = {")
    for k, v in out.items():
        print(f'    "{k}": ({v[0]}, {v[1]:.0f}),')
    print("}")


def returns(data: Path) -> None:
    from liqcascade.calibration.returns import QUANTILES, crash_day_stats, pooled_quantiles
    from liqcascade.data.bars import Bars, load_ohlcv_json
    from liqcascade.data.binance import load_binance_klines

    print("== crash-day returns (stablesims/eth, 10-minute bars)")
    days = []
    rows = {}
    for f in sorted((data / "stablesims" / "eth").glob("*.json")):
        b = load_ohlcv_json(f)
        days.append(b)
        s = crash_day_stats(b)
        rows[f.stem] = s
        print(f"  {f.stem}: open {s.open:,.2f} low {s.low:,.2f} close {s.close:,.2f} drawdown {s.max_drawdown:.4f} "
              f"max 1h drop {s.max_drop_1h:.4f} (close-to-close {s.max_drop_1h_close:.4f}) std {s.ret_std:.4f} "
              f"exkurt {s.excess_kurtosis:.2f}" + (f" [{b.duplicates_dropped} duplicate bars dropped]" if b.duplicates_dropped else ""))
    q, sd, n = pooled_quantiles(days)
    print("ETH_CRASH_DAYS = {")
    for k, s in rows.items():
        print(f'    "{k}": ({s.max_drawdown:.4f}, {s.max_drop_1h:.4f}, {s.max_drop_1h_close:.4f}),')
    print("}")
    print(f"ETH_CRASH_10M_QUANTILE_LEVELS = {QUANTILES}")
    print(f"ETH_CRASH_10M_LOGRET_QUANTILES = {_fmt(q, 4)}  # pooled, n={n}")
    print(f"ETH_CRASH_10M_LOGRET_STD = {sd:.5f}")
    d = data / "binance_2025-10-10"
    idx = Bars.concat([load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-09.zip"),
                       load_binance_klines(d / "BTCUSD_PERP-1m-2025-10-10.zip")]).slice_time(DAY_2025_10_10)
    s = crash_day_stats(idx)
    s11 = crash_day_stats(idx, horizon_s=11 * 60)
    print(f"BTC_INDEX_2025_10_10 = ({s.max_drawdown:.4f}, {s.max_drop_1h:.4f}, {s.max_drop_1h_close:.4f})  "
          f"# drawdown, max 1h drop, 1h close-to-close; 11-minute drop {s11.max_drop_1h:.4f}")
    print(f"  1-minute log-return quantiles {QUANTILES}: {_fmt(s.ret_quantiles, 4)}, std {s.ret_std:.5f}")


def oracle(data: Path) -> None:
    from liqcascade.calibration.oracle import oracle_lag
    from liqcascade.data.prices import load_price_csv

    d = data / "hourly_prices_2021_2024"
    o = load_price_csv(d / "compound_v3_oracle" / "WETH_usd.csv")
    m = load_price_csv(d / "coingecko" / "WETH_usd.csv")
    f = oracle_lag(o, m)
    print(f"== oracle lag: Compound v3 WETH oracle vs CoinGecko WETH, {_t(f.start_s)}..{_t(f.stop_s)}, n={f.n}"
          f" ({o.missing_dropped} empty oracle rows dropped)")
    print(f"ORACLE_DEV_QUANTILES = {_fmt(f.dev_quantiles, 4)}  # log(oracle/market) at 1,5,50,95,99 %")
    print(f"ORACLE_DEV_MEAN_ABS = {f.dev_mean_abs:.5f}")
    print(f"ORACLE_DEV_RMS = {f.dev_rms:.5f}")
    print(f"ORACLE_DEV_SHARE_WITHIN = {{{', '.join(f'{k}: {v:.3f}' for k, v in f.share_within.items())}}}")
    print(f"ORACLE_BEST_LAG_S = {f.best_lag_s:.0f}  # RMS {f.rms_at_best:.5f}")
    print(f"ORACLE_XCORR = {dict(zip(f.xcorr_lags.tolist(), np.round(f.xcorr, 4).tolist()))}  # hours -> corr")


def aave(data: Path) -> None:
    from liqcascade.calibration.aave import lt_intervals, lt_residual_fit
    from liqcascade.calibration.params import AAVE_V2_LT
    from liqcascade.data.aave import load_aave_details_dir, oracle_health_factor

    hs = load_aave_details_dir(data / "aave_v2_borrowers_2021" / "aave_user_details_v2")
    print(f"== Aave v2 liquidation thresholds from {len(hs)} users")
    iv = lt_intervals(hs, split_block=14_000_000)
    for (a, per), (lo, hi, n) in sorted(iv.items()):
        print(f"  {a:5s} {'block >= 14,000,000' if per else 'block < 14,000,000 '}: LT in [{lo:.4f}, {hi:.4f}] ({n} rows)")
    known = {a: round((lo + hi) / 2, 3) for (a, per), (lo, hi, n) in iv.items() if per == 0 and hi - lo < 0.01}
    early = [h for h in hs if h.block[0] < 14_000_000]
    for a, (lt, n) in sorted(lt_residual_fit(early, known).items()):
        print(f"  {a:5s} least-squares LT {lt:.3f} ({n} rows; AAVE_V2_LT has {AAVE_V2_LT.get(a)})")
    from liqcascade.calibration.params import aave_v2_lt

    errs = []
    for h in hs:
        lt = aave_v2_lt(int(h.block[0]))
        e = np.abs(oracle_health_factor(h, lt) - h.health_factor)
        errs.append(e[np.isfinite(e)])
    e = np.concatenate(errs)
    print(f"  HF check with aave_v2_lt: {e.size} rows, max |HF - recorded| = {e.max():.4f}, "
          f"share <= 0.005: {(e <= 0.005 + 1e-9).mean():.4f}")


def positions(data: Path) -> None:
    from liqcascade.calibration.positions import book_shape
    from liqcascade.data.compound import implied_values, load_compound_v2

    d = data / "compound_v2_borrowers_2023"
    snap = load_compound_v2(d / "compound_v2_accounts_with_borrows.csv", d / "compound_v2_account_ctoken_positions.csv")
    iv = implied_values(snap)
    print(f"== Compound v2 snapshot: {snap.n_accounts} accounts, {snap.n_positions} positions")
    print(f"COMPOUND_V2_ETH_USD = {iv.eth_usd:.2f}")
    print("COMPOUND_V2_WEIGHTED_ETH_PER_CTOKEN = {")
    for s, w, sp, n in zip(iv.symbols, iv.weighted_eth_per_ctoken, iv.weighted_rel_spread, iv.n_weighted):
        if n:
            print(f'    "{s}": {w:.6e},  # {n} accounts, relative spread {sp:.1e}')
    print("}")
    print("COMPOUND_V2_PRICE_ETH = {")
    for s, p, n in zip(iv.symbols, iv.price_eth, iv.n_price):
        if n:
            print(f'    "{s}": {p:.6e},  # {n} single-debt accounts, USD {p * iv.eth_usd:,.4g}')
    print("}")
    b = book_shape(snap, iv)
    print(f"  synth filter kept {b.n_kept}; c p10/p50/p90 data {_fmt(b.c_quantiles_data)} "
          f"synth {_fmt(b.c_quantiles_synth)}; debt (ETH) {_fmt(b.debt_quantiles_eth)}")
    print(f"  non-dust accounts with c < 1 (Compound HF < 1): {b.share_liquidatable:.4f}")
    top = lambda d: ", ".join(f"{k} {v:.3f}" for k, v in sorted(d.items(), key=lambda x: -x[1])[:6])  # noqa: E731
    print(f"COMPOUND_V2_COLLATERAL_SHARE (CF-weighted): {top(b.collateral_share)}")
    print(f"COMPOUND_V2_DEBT_SHARE: {top(b.debt_share)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--section", action="append", choices=SECTIONS)
    a = ap.parse_args(argv)
    if not a.data.is_dir():
        print(f"error: {a.data}: data folder not found", file=sys.stderr)
        return 2
    for s in a.section or SECTIONS:
        globals()[s](a.data.resolve())
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
