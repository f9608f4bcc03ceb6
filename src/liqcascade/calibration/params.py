"""Fitted market and protocol constants, each with the file and columns it came from.

Produced by ``scripts/calibrate_market.py`` (run on 2026-11-23 against ``../shared/data``; re-run
it to reproduce — it prints every number below under the same name). The data files are NOT in
this repository (see ``../shared/data/README.md`` for their provenance and licences); only these
estimated numbers are. The synthetic position-book constants live in
:mod:`liqcascade.positions.synth` (``scripts/calibrate_synth.py``).
"""

from __future__ import annotations

# =============================================================================================
# Order-book depth — Binance USDⓈ-M BTCUSDT, 2025-10-10 (the 21:00-21:20 UTC crash)
#   file     binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv (aaronwu2017/TheGlory @ 929fd9c)
#   columns  timestamp, percentage (+1..+5 only: the bid bands are frozen after ~15:00 UTC, a
#            known defect of the file), notional (cumulative quote within the band, USDT)
#   2,879 snapshots (~30 s apart, 00:00:07-23:59:30 UTC)
# =============================================================================================
BTC_ASK_DEPTH_FRACTIONS = (0.01, 0.02, 0.03, 0.04, 0.05)
# median cumulative ask notional (USD) over the whole day
BTC_ASK_DEPTH_MEDIAN_USD = (2.44319e8, 3.80450e8, 4.68260e8, 5.94916e8, 7.07901e8)
# median over 00:00-20:00 UTC (before the crash)
BTC_ASK_DEPTH_CALM_USD = (2.44507e8, 3.83173e8, 4.74678e8, 6.03970e8, 7.16108e8)
# median over 21:00-22:00 UTC (the crash hour)
BTC_ASK_DEPTH_CRASH_USD = (1.61886e8, 1.77252e8, 1.94353e8, 2.09960e8, 2.30159e8)
# minimum over the day (all bands bottom out at ~21:20 UTC)
BTC_ASK_DEPTH_MIN_USD = (5.67745e7, 6.71838e7, 7.91109e7, 9.69152e7, 1.06631e8)

# Depth vs realized volatility: log D_k = a_k + b_k log σ, σ = sqrt(mean r²) of 1-minute index
# log returns over the last DEPTH_VOL_WINDOW_MIN minutes before each snapshot; written as
# D_k(σ) = DEPTH_VOL_DEPTH_REF_USD[k] · (σ / DEPTH_VOL_SIGMA_REF) ** DEPTH_VOL_SLOPE[k]
# (calibration.depth.depth_at). Least squares over all 2,879 snapshots.
#   σ from   binance_2025-10-10/BTCUSD_PERP-1m-2025-10-09.zip and -10.zip (index klines,
#            volume 0), column close
#   fit      calibration.depth.depth_vol_fit(window=15). Windows of 5 and 60 minutes give
#            slopes within ±0.03 of these. The +1 % band barely co-moves with σ over the whole
#            day (R² 0.08: its calm-hours variation is unrelated to volatility); restricted to
#            18:00-24:00 UTC every band, +1 % included, has slope ≈ -0.30 with R² ≈ 0.78.
DEPTH_VOL_WINDOW_MIN = 15
DEPTH_VOL_SIGMA_REF = 4.3876e-4  # per-minute σ, median over the day
DEPTH_VOL_SIGMA_RANGE = (1.785e-4, 1.396e-2)  # 1 % and 99 % quantiles of σ in the fit
DEPTH_VOL_DEPTH_REF_USD = (2.56088e8, 3.79230e8, 4.55322e8, 5.57130e8, 6.49266e8)
DEPTH_VOL_SLOPE = (-0.06693, -0.2207, -0.2532, -0.3065, -0.3328)
DEPTH_VOL_R2 = (0.0841, 0.719, 0.764, 0.781, 0.752)
# the same fit on 18:00-24:00 UTC only (720 snapshots around the crash)
DEPTH_VOL_SLOPE_CRASH = (-0.3041, -0.2939, -0.2950, -0.3109, -0.3072)
DEPTH_VOL_R2_CRASH = (0.777, 0.773, 0.786, 0.793, 0.765)
DEPTH_VOL_SIGMA_REF_CRASH = 1.3888e-3
DEPTH_VOL_DEPTH_REF_CRASH_USD = (2.66510e8, 2.92058e8, 3.19722e8, 3.54275e8, 3.82763e8)

# =============================================================================================
# Constant-product pool — Uniswap v2 DAI/WETH reserves on crash days
#   files    stablesims/eth_dai_liquidity/<MM-DD-YYYY>.json (BerkeleyBlockchain/stablesims
#            @ 29556c7), fields WETH, DAI; 144 snapshots per day, 10 minutes apart
#   fit      calibration.cpmm.pool_summary: median reserves over the day (WETH, DAI). The bid
#            depth to -k % of a fee-less pool is DAI · (1 - sqrt(1 - k)) (market.venues.
#            depth_from_cpmm): 05-19-2021 ≈ US$0.31M at 1 %, 1.58M at 5 % — about 1/700 of the
#            Binance BTC ask book above.
#   timing   the snapshots carry no time. Matching the pool's spot DAI/WETH to the stablesims
#            ETH bars (calibration.cpmm.align_to_bars) puts snapshot i at bar i+47 on the
#            January/February days and i+39..41 on the May-September ones (mean |log diff|
#            0.2-1.6 %): the files start at US Pacific midnight (08:00 / 07:00 UTC), not 00:00 UTC.
# =============================================================================================
UNISWAP_V2_ETH_DAI_MEDIAN_RESERVES = {
    "01-11-2021": (94648.7, 100897509.0),
    "01-21-2021": (80633.0, 94134970.0),
    "02-22-2021": (42687.0, 76128594.0),
    "05-19-2021": (23993.4, 62558989.0),
    "06-21-2021": (18618.5, 36249022.0),
    "09-05-2020": (206790.0, 66642267.0),
}
# min / max of the pool liquidity sqrt(x·y) over each day (1 = no liquidity withdrawn)
UNISWAP_V2_ETH_DAI_LIQUIDITY_MIN_OVER_MAX = {
    "01-11-2021": 0.994, "01-21-2021": 0.909, "02-22-2021": 0.803,
    "05-19-2021": 0.938, "06-21-2021": 0.990, "09-05-2020": 0.611,
}

# =============================================================================================
# Crash-day returns
#   files    stablesims/eth/<MM-DD-YYYY>.json (CoinAPI ETH/USD 10-minute bars), columns
#            price_open, price_low, price_close (09-05-2020 has its first bar three times:
#            the two repeats are dropped)
#   values   (max drawdown = 1 - min low / first open,
#             max 1-hour drop = max_t 1 - min(low of the bars starting in (t, t+1h]) / close_t,
#             max 1-hour close-to-close drop) — calibration.returns.crash_day_stats
# =============================================================================================
ETH_CRASH_DAYS = {
    "01-11-2021": (0.2813, 0.1595, 0.1355),
    "01-21-2021": (0.2136, 0.0959, 0.0893),
    "02-22-2021": (0.2213, 0.1495, 0.1148),
    "03-12-2020": (0.4826, 0.2624, 0.2002),
    "05-19-2021": (0.4484, 0.3172, 0.2918),
    "06-21-2021": (0.1686, 0.0720, 0.0559),
    "09-05-2020": (0.2485, 0.1226, 0.0580),
}
# pooled 10-minute close-to-close log returns of the seven days (n = 999)
ETH_CRASH_10M_QUANTILE_LEVELS = (0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999)
ETH_CRASH_10M_LOGRET_QUANTILES = (-0.1464, -0.04208, -0.02292, -0.001275, 0.01988, 0.03749, 0.08586)
ETH_CRASH_10M_LOGRET_STD = 0.01646
# BTC index, 2025-10-10 (binance_2025-10-10/BTCUSD_PERP-1m-2025-10-10.zip, open/low/close):
# (max drawdown, max 1-hour drop, max 1-hour close-to-close drop); worst 11 minutes: 0.1042
BTC_INDEX_2025_10_10 = (0.1575, 0.1247, 0.1042)
BTC_INDEX_2025_10_10_1M_LOGRET_STD = 0.00205

# =============================================================================================
# Oracle deviation and lag — Compound v3 on-chain WETH price vs CoinGecko WETH/USD
#   files    hourly_prices_2021_2024/compound_v3_oracle/WETH_usd.csv (timestamp s, USD_price)
#            hourly_prices_2021_2024/coingecko/WETH_usd.csv (timestamp ms, USD_price)
#   overlap  2022-08-13 06:42 .. 2023-02-25 23:04 UTC, 4,715 oracle points (~hourly)
#   fit      calibration.oracle.oracle_lag: deviation = log(oracle_t / market_t), market
#            interpolated in log at the oracle's timestamps.
#   finding  at this (hourly) sampling no oracle lag is detectable: the RMS deviation is
#            smallest with the market shifted 7 minutes *later* (τ* = -420 s), and return
#            cross-correlation peaks at 0 with more weight at -1 h (0.33) than +1 h (0.21) —
#            CoinGecko's hourly points are themselves delayed. The deviation spread (90.6 %
#            within ±0.5 %) is what a 0.5 % deviation-threshold feed (Chainlink ETH/USD) sampled
#            hourly against a noisy aggregate gives; it bounds, not measures, the lag.
# =============================================================================================
ORACLE_DEV_QUANTILE_LEVELS = (0.01, 0.05, 0.5, 0.95, 0.99)
ORACLE_DEV_QUANTILES = (-0.01184, -0.005275, -0.0003938, 0.004241, 0.008801)
ORACLE_DEV_MEAN_ABS = 0.00216
ORACLE_DEV_RMS = 0.00364
ORACLE_DEV_SHARE_WITHIN = {0.0025: 0.727, 0.005: 0.906, 0.01: 0.980}
ORACLE_BEST_LAG_S = -420.0
ORACLE_XCORR_HOURLY = {-3: -0.0456, -2: 0.0134, -1: 0.3264, 0: 0.7924, 1: 0.2118, 2: -0.0495, 3: -0.0600}

# =============================================================================================
# Aave v2 liquidation thresholds (Ethereum market)
#   files    aave_v2_borrowers_2021/aave_user_details_v2/*_details_v2.csv (bhemen/aave-data
#            @ bb4b9c9), columns totalCollateral, totalDebt, healthFactor, <S>_collateral,
#            <S>_USD_price
#   fit      calibration.aave.lt_intervals: single-collateral rows give LT = HF·debt/collateral
#            within the 2-decimal rounding of HF; the intervals (rows) are
#            WETH [0.8249, 0.8250] (364), DAI [0.7999, 0.8000] (197), LINK [0.7499, 0.7501] (89),
#            WBTC [0.7493, 0.7506] (13), USDC [0.8497, 0.8503] (22) before block 14,000,000 and
#            USDC [0.8786, 0.8807] (12) at blocks 14.74M-14.80M (May 2022).
#            UNI, AAVE, MKR, ZRX, TUSD appear only beside other collateral: least squares
#            (calibration.aave.lt_residual_fit) gives 0.680, 0.616, 0.664, 0.659, 0.803 — within
#            ±0.04 of Aave's published 0.65 / 0.65 / 0.65 / 0.65 / 0.80, which are used.
#            BAT 0.75, ENJ 0.60, MANA 0.65 are Aave's published values (no rows to check);
#            USDT, GUSD, BUSD, sUSD, UST were not collateral in Aave v2 (LT 0).
#   check    with these values the engine's formula reproduces the recorded HF of the 10 files
#            (1,278 rows with collateral and debt whose per-asset columns cover >= 90 % of the
#            total) to the rounding: max |Δ| 0.0050 on single-collateral rows, 0.0058 on
#            multi-collateral rows (tests/data/test_data_aave_hf.py).
# =============================================================================================
AAVE_V2_LT = {
    "WETH": 0.825, "WBTC": 0.75, "DAI": 0.80, "USDC": 0.85, "LINK": 0.75, "TUSD": 0.80,
    "UNI": 0.65, "AAVE": 0.65, "MKR": 0.65, "ZRX": 0.65, "BAT": 0.75, "ENJ": 0.60, "MANA": 0.65,
    "USDT": 0.0, "GUSD": 0.0, "BUSD": 0.0, "sUSD": 0.0, "UST": 0.0,
}
# changes seen in the files, {first block seen: {asset: LT}}
AAVE_V2_LT_CHANGES = {14_000_000: {"USDC": 0.88}}


def aave_v2_lt(block: int) -> dict[str, float]:
    """Aave v2 liquidation thresholds in force at ``block`` (as far as the files show)."""
    out = dict(AAVE_V2_LT)
    for b, ch in sorted(AAVE_V2_LT_CHANGES.items()):
        if block >= b:
            out.update(ch)
    return out


# =============================================================================================
# Compound v2 snapshot (~May 2023)
#   files    compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv
#            (totalBorrowValueInEth, totalCollateralValueInEth) and
#            compound_v2_account_ctoken_positions.csv (symbol, cTokenBalance,
#            storedBorrowBalance) — rtuchman/compound-risk-optimization @ f7b808a, Apache-2.0
#   fit      data.compound.implied_values: weighted ETH per cToken = median of
#            totalCollateralValueInEth / cTokenBalance over single-collateral accounts (exact to
#            ~1e-9 for every cToken but cWBTC, where the legacy and the new market share the
#            symbol); underlying price in ETH = min of totalBorrowValueInEth / storedBorrowBalance
#            over single-debt accounts (stored balances lack accrued interest).
#   finding  0.0165691 ETH per cETH is 0.825 × the cETH exchange rate (~0.02008): the
#            collateral total is weighted by the collateral factor (Compound's borrowing power),
#            so the accounts file's ratio is Compound's health factor. positions.synth reads it
#            as a raw collateral/debt ratio and multiplies by the scenario's LT — see
#            docs/calibration.md.
#   book     (calibration.positions.book_shape) the synth filter keeps 1,798 accounts, c
#            p10/p50/p90 1.158 / 1.820 / 3.948 (synth mixture 1.162 / 1.812 / 4.186); 9.5 % of
#            non-dust accounts have c < 1. CF-weighted collateral: ETH 37.9 %, WBTC 25.3 %,
#            DAI 17.0 %, USDC 16.6 %; debt: USDC 42.0 %, DAI 31.4 %, USDT 21.0 %, ETH 4.2 %.
# =============================================================================================
COMPOUND_V2_ETH_USD = 1841.61  # 1 / implied USDC price (Compound v2 prices USDC at US$1)
COMPOUND_V2_WEIGHTED_ETH_PER_CTOKEN = {
    "cETH": 1.656905e-02, "cWBTC": 2.107815e-01, "cDAI": 1.008862e-05, "cUSDC": 1.060490e-05,
    "cBAT": 1.611767e-06, "cUNI": 4.114650e-05, "cCOMP": 2.449534e-04, "cZRX": 1.631913e-06,
    "cLINK": 5.687357e-05, "cSUSHI": 6.999132e-06, "cAAVE": 5.263540e-04, "cYFI": 7.426945e-02,
}
COMPOUND_V2_COLLATERAL_SHARE = {"ETH": 0.379, "WBTC": 0.253, "DAI": 0.170, "USDC": 0.166}
COMPOUND_V2_DEBT_SHARE = {"USDC": 0.420, "DAI": 0.314, "USDT": 0.210, "ETH": 0.042}
