"""Replay of 2025-10-10: BTC perpetuals on Binance and Hyperliquid rules and an Aave v3-rule
lending market through the evening crash, on the real paths.

Real inputs (files under the data folder):

* ``binance_2025-10-10/BTCUSD_PERP-1m-2025-10-10.zip`` — Binance's 1-minute BTC *index* klines:
  the fast path. The window 20:00–23:00 UTC is bridged to **1-second steps** through each
  minute's high and low (:mod:`liqcascade.replay.bridge`), so the 21:20 UTC low of 102,497 is on
  the path; both perp venues read it as their index / oracle;
* ``binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv`` — Binance's cumulative ask depth in the
  ±1..5 % bands: the Binance book's depth curve, measured in the crash minute (the bid bands are
  frozen after ~15:00 UTC, a known defect of the file);
* ``perp_venues_2025/candles.parquet`` — hourly BTC and ETH candles of Binance, Bybit and Lighter:
  the ETH path of the lending side (median of the venues' open/high/low/close, bridged to minutes
  with the BTC index giving the time of each hour's low and high) and the Binance perp wick;
* ``perp_venues_2025/funding_rates.parquet`` — Hyperliquid's hourly BTC funding: the payments of
  the window are charged to the Hyperliquid positions (longs pay shorts when the rate is > 0);
* ``perp_venues_2025/orderbook_depth.parquet`` — one calm Hyperliquid BTC bid-depth snapshot (its
  top levels only: a lower bound beside the depth prior). No Hyperliquid candle in the data
  covers 2025-10-10 (its candles end in April 2025), so Hyperliquid's book follows the Binance
  index;
* ``compound_v2_borrowers_2023/`` and ``aave_v2_borrowers_2021/`` — the shape of the lending
  book's health factors and sizes (:mod:`liqcascade.replay.books`).

Three sides, each its own run per member:

* **Binance** — the ``perp`` unit with the ``binance_btcusdt_2021`` preset (tiers, IOC at the
  bankruptcy price, 0.5 % clearance fee, insurance fund capped at 100 % of its value, ADL by
  PnL × leverage, Binance mark), 1-second steps;
* **Hyperliquid** — the ``hyperliquid`` preset (20 % slices over 100k with a 30 s cooldown, no
  clearance fee, backstop vault below ⅔ MM, no insurance fund, ADL at the previous mark,
  Hyperliquid mark), 1-second steps, the real funding of the window;
* **Aave v3 lending** — WETH, WBTC and wstETH collateral against stablecoin debt (Aave-rule
  positions, v3.3 close factor), plus E-mode loops (wstETH against WETH, LT 95 %, bonus 1 %), on
  one-minute steps. Its oracle is a Chainlink-style feed (0.5 % deviation, 1 h heartbeat) on
  venues that follow the *index-like* path (BTC: the Binance index; ETH: the cross-venue candles
  with a drawn share of their hourly wick), and liquidators sell into those venues. A second run
  of the same book puts the oracle on the Binance perp candles instead — **the oracle-versus-venue
  gap**: Binance's wick never reached on-chain oracles, and the difference between the two runs is
  what it would have liquidated. wstETH is priced as ETH × its exchange rate (Aave's CAPO
  adapter), so wstETH collateral is held in ETH units (with wstETH's LT and bonus, sold into the
  ETH venue — the wstETH/ETH secondary market is not modelled) and the E-mode loops' collateral
  and debt are both ETH: the day's ETH path cannot move their health factor (their count is
  reported; it is 0 by construction — as on Aave, where wstETH's market discount did not reach
  the oracle).

Perp books are a *sample* of each venue's traders at their own position sizes (so each position
falls in the margin tier a real position of its size would), standing for the drawn open
interest: the book depth and the insurance fund are scaled by the sample's share ``f`` of the
open interest — a depth curve's impact is homogeneous, so the sample's orders move the book as
the whole population's would — and the notional outcomes are divided by ``f``. (A book scaled
the other way, a few hundred positions holding the whole open interest, puts every position in
a high tier and its result depends on how many positions it has.) Counts are the sample's.

Counts (every perp count is position-level; a sliced order counts once per slice):
``*_liquidations`` positions (or slices) closed by liquidation orders on the book;
``*_backstop`` positions handed to the backstop vault; ``*_fund_takeovers`` positions taken by the
insurance fund at the bankruptcy price; ``*_adl_closes`` bankrupt positions closed by ADL;
``*_bankrupt_closes`` fund takeovers and ADL closes of a position with negative equity;
``*_adl_fills`` opposite positions reduced by ADL.

**The priors were fixed before any ensemble was compared with the records** (the market-wide BTC
open interest fell from ~US$67B to ~US$33B; 91 % of Hyperliquid's liquidations were longs; Aave
liquidated ~US$180M); nothing is tuned to them.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import MemberResult, ReplayEvent, Setting
from ._build import finite, half_life, run_scenario, window_index, write_perp_csv, write_price_csv
from .books import aave_tail, compound_sample, draw_book, scale_to, tilt
from .priors import Input, Outcome, Prior, Record

NAME = "2025-10-10"
KLINES = "binance_2025-10-10/BTCUSD_PERP-1m-2025-10-10.zip"
DEPTH = "binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv"
CANDLES = "perp_venues_2025/candles.parquet"
FUNDING = "perp_venues_2025/funding_rates.parquet"
HL_DEPTH = "perp_venues_2025/orderbook_depth.parquet"
COMPOUND = "compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv"
AAVE = "aave_v2_borrowers_2021/aave_user_details_v2"

DAY0 = 1760054400.0  # 2025-10-10 00:00 UTC
CALM = (19 * 3600.0, 20 * 3600.0)  # the pre-crash hour whose median depth is "calm"
CANDLE_VENUES = ("binance", "bybit", "lighter")
WSTETH_RATE = 1.21  # wstETH per ETH exchange rate, autumn 2025 (fixed within the day)
LEND_DT = 60.0
ORACLE_DEVIATION, ORACLE_HEARTBEAT_S = 0.005, 3600.0
# Aave v3 Ethereum (2025, approximate): LT, bonus per collateral; E-mode ETH-correlated
AAVE_PARAMS = {"WETH": (0.83, 0.05), "WBTC": (0.78, 0.05), "wstETH": (0.81, 0.06)}
EMODE_LT, EMODE_BONUS = 0.95, 0.01

# ---------------------------------------------------------------------------------------------
# Priors. Fixed before any ensemble was compared with the records (BTC open interest -51 %
# market-wide, 91 % of Hyperliquid's liquidations long, ~US$180M liquidated on Aave); the
# records are only placed on the bands. Do not tune these to them.
PRIORS = [
    # -- perp books
    Prior("binance_oi", "Binance BTCUSDT open interest (long side, all holders)", "loguniform", 5e9, 15e9,
          "market-wide BTC OI ~US$67B before the crash (PANews / ARK Invest, Oct 2025); Binance's share "
          "assumed 8-22 %", "USD"),
    Prior("hl_oi", "Hyperliquid BTC open interest (long side, all holders)", "loguniform", 2e9, 8e9,
          "assumption: Hyperliquid held a few billion USD of BTC OI in autumn 2025 (3-12 % of the market's 67B)", "USD"),
    Prior("short_ratio", "traders' short notional / long notional", "uniform", 0.5, 0.9,
          "funding was positive before the crash (real files: Binance +0.001 %/8 h, Hyperliquid +0.001 %/h): traders "
          "net long; market makers hold the rest of the short side (ratio assumed)", min=0.01, max=1.0),
    Prior("lev_long", "median leverage of longs", "uniform", 5.0, 20.0, "assumption", "x", min=1.0, max=125.0),
    Prior("lev_short", "median leverage of shorts", "uniform", 3.0, 10.0, "assumption", "x", min=1.0, max=125.0),
    Prior("size_median", "median notional of a trader's position", "loguniform", 10e3, 300e3,
          "assumption: retail-heavy books (Binance's first margin tier ends at 50k); the synthetic positions are "
          "a sample of traders at their own sizes, so each falls in its real margin tier", "USD"),
    Prior("size_sigma", "log-sd of position sizes", "uniform", 1.0, 2.5, "assumption", min=0.0, max=5.0),
    Prior("margin_buffer", "starting equity over maintenance margin, at least", "uniform", 1.2, 2.0,
          "assumption: nobody is liquidatable at 20:00 UTC", min=1.0, max=100.0),
    Prior("binance_fund", "Binance insurance fund available to BTCUSDT", "loguniform", 5e7, 1e9,
          "assumption: Binance's futures insurance fund is ~US$1B in all (per-symbol share unknown)", "USD"),
    Prior("binance_depth_mult", "Binance book depth, × the depth measured in the crash minute", "loguniform", 0.5, 2.0,
          "the crash-minute depth is real (US$71M within 1 %); the engine's depth is fixed over the window, "
          "the calm hour held 4.8x", min=0.01, max=100.0),
    Prior("hl_depth_1pct", "Hyperliquid BTC book depth within 1 % during the crash", "loguniform", 5e6, 60e6,
          "the data's calm Hyperliquid snapshot holds US$4.2M in its top levels only (a lower bound); Binance's "
          "crash-minute book held US$71M within 1 % (real file); range assumed below it", "USD"),
    Prior("perp_half_life_s", "perp book impact half-life", "loguniform", 60.0, 600.0, "assumption", "s", min=0.0),
    # -- lending side
    Prior("aave_debt", "Aave v3 stablecoin debt against WETH, WBTC and wstETH", "loguniform", 1.5e9, 5e9,
          "USDT borrowed on Aave v3 Ethereum 5.40B on 2025-10-01 (aavescan.com), USDC 3.88B in Aug 2025 (Chaos Labs "
          "2025-08-14), much of it against PTs/sUSDe (same post): the ETH/BTC-backed part assumed", "USD"),
    Prior("weth_share", "WETH share of that collateral", "uniform", 0.35, 0.65, "assumption", min=0.0, max=1.0),
    Prior("wbtc_share", "WBTC share of that collateral", "uniform", 0.15, 0.40, "assumption (wstETH holds the rest)",
          min=0.0, max=1.0),
    Prior("hf_tilt", "tilt of the sample health factors (Aave book)", "uniform", 0.7, 1.3,
          "the samples are of 2021/2023; the 2025 spread may differ either way (assumption)", min=0.05, max=5.0),
    Prior("tail_weight", "share of positions drawn from the Aave v2 at-risk records", "uniform", 0.0, 0.3,
          "assumption", min=0.0, max=1.0),
    Prior("size_power", "debt-size concentration exponent (debt^γ)", "uniform", 0.5, 1.0, "assumption",
          min=0.05, max=2.0),
    Prior("emode_debt", "WETH debt of wstETH/WETH E-mode loops", "loguniform", 1e9, 4e9,
          "1.04M wstETH supplied on Aave v3 Ethereum, its largest users borrowing WETH (Chaos Labs, "
          "2024-11-25); size in Oct 2025 assumed", "USD"),
    Prior("eth_wick_capture", "share of the ETH candles' hourly wick on the index-like path", "uniform", 0.8, 1.0,
          "for BTC the Binance index reached 92 % of the Binance perp candle's 21:00 UTC wick (real files)",
          min=0.0, max=1.0),
    Prior("lend_depth_eth", "ETH sell-side depth within 1 % (DEX + CEX) for liquidators", "loguniform", 2e7, 2e8,
          "assumption", "USD"),
    Prior("lend_depth_btc", "BTC sell-side depth within 1 % for liquidators", "loguniform", 2e7, 2e8,
          "assumption", "USD"),
    Prior("lend_half_life_min", "lending venues' impact half-life", "uniform", 1.0, 30.0, "assumption", "min", min=0.0),
    Prior("gas_usd", "gas cost per Aave liquidation", "loguniform", 5.0, 600.0,
          "fees rose from a couple of dollars to over ~US$600 per transaction that evening (ARK Invest, "
          "2025-10-20)", "USD"),
    Prior("react_share", "share of Aave borrowers who top up", "uniform", 0.0, 0.3, "assumption (agents.borrowers)",
          min=0.0, max=1.0),
    Prior("react_delay_min", "their reaction delay", "uniform", 1.0, 30.0, "assumption", "min", min=0.0),
]

OI_RECORD = Record(0.51, "PANews / ARK Invest, Oct 2025: market-wide BTC open interest fell from ~US$67B to ~US$33B",
                   "includes voluntary closes, every venue and the next day: an upper bound for the share closed "
                   "by liquidation and ADL")
OUTCOMES = [
    Outcome("binance_liquidated_notional", "Binance: notional closed by liquidation", "money", None,
            "book orders + fund takeovers + ADL closes, size × mark"),
    Outcome("binance_adl_notional", "Binance: ADL fill notional", "money", None,
            "opposite positions reduced by ADL, size × fill price"),
    Outcome("binance_bad_debt", "Binance: loss beyond zero equity", "money", None,
            "negative equity passed to the fund, ADL counterparties or the write-off"),
    Outcome("binance_closed_share", "Binance: share of traders' notional closed", "share", OI_RECORD,
            "(liquidation + ADL fills) notional / traders' long + short notional at 20:00 UTC"),
    Outcome("hl_liquidated_notional", "Hyperliquid: notional closed by liquidation", "money", None,
            "book orders + backstop takeovers + ADL closes, size × mark"),
    Outcome("hl_adl_notional", "Hyperliquid: ADL fill notional", "money", None, "opposite positions reduced by ADL"),
    Outcome("hl_long_share", "Hyperliquid: long share of liquidated notional", "share",
            Record(0.9109, "CoinGlass via Binance Square, 2025-10-11: 91.09 % of Hyperliquid's liquidated positions "
                   "were long ($9.3B in 4 h)", "all coins on Hyperliquid; the replay is BTC only"),
            "long notional closed by liquidation routes / all of it"),
    Outcome("hl_closed_share", "Hyperliquid: share of traders' notional closed", "share", OI_RECORD,
            "(liquidation + ADL fills) notional / traders' long + short notional at 20:00 UTC"),
    Outcome("aave_liquidated_collateral_usd", "Aave: collateral liquidated", "money",
            Record(180e6, "Chaos Labs, 'Risk Report: Insights from Recent Market Events - 10/11/25', "
                   "governance.aave.com", "every Aave instance and collateral, mostly BTC, ETH and wstETH"),
            "collateral seized at the oracle price"),
    Outcome("aave_bad_debt", "Aave: bad debt (WETH/WBTC/wstETH book)", "money", None,
            "debt left without collateral (the ~US$0.4M of deficits recorded came mostly from CRV and ENS)"),
    Outcome("aave_liquidated_if_oracle_saw_wick", "Aave: collateral liquidated had the oracle followed Binance's wick",
            "money", None, "the same book with the oracle on the Binance perp candles (the counterfactual)"),
]

SETTINGS = [
    Setting("positions", 600, 150, 10, 200_000, "synthetic positions per perp venue", int),
    Setting("lend_positions", 1000, 200, 10, 200_000, "Aave-rule positions (plus a fifth as many E-mode loops)", int),
    Setting("perp_dt", 1.0, 1.0, 1.0, 60.0, "perp step length, seconds (a whole divisor of 60)"),
    Setting("window_start_h", 20.0, 20.0, 0.0, 23.0, "window start, hours UTC on 2025-10-10"),
    Setting("window_end_h", 23.0, 23.0, 1.0, 24.0, "window end, hours UTC"),
]


def inputs() -> list[Input]:
    out = [
        Input("index", "real file", "Binance BTC index, 1-minute klines, bridged to the perp step (1 s) through each "
              "minute's high/low: the fast path and both venues' index", KLINES),
        Input("binance_depth", "real file", "Binance BTCUSDT ask depth ±1..5 %: the book at the crash minute, mirrored "
              "for bids (bid bands frozen after 15:00 UTC)", DEPTH),
        Input("candles", "real file", "hourly BTC/ETH candles of Binance, Bybit, Lighter: the ETH path and the Binance "
              "wick (no Hyperliquid candle covers the day)", CANDLES),
        Input("hl_funding", "real file", "Hyperliquid BTC funding, hourly: the window's payments charged to positions",
              FUNDING),
        Input("hl_depth", "real file", "one calm Hyperliquid BTC bid-depth snapshot (top levels): a lower bound for "
              "the depth prior, reported beside it", HL_DEPTH),
        Input("hf_shape", "real file", "Compound v2 borrowers: health factors and sizes of the Aave book", COMPOUND),
        Input("hf_tail", "real file", "Aave v2 users of 2021: the at-risk tail", AAVE),
        Input("binance_rules", "published aggregate", "binance_btcusdt_2021 preset: 2021 tiers, IOC at the bankruptcy "
              "price, 0.5 % fee, fund cap 100 %, ADL by PnL × leverage", "protocol-mechanics.md §6.2"),
        Input("hl_rules", "published aggregate", "hyperliquid preset: 20 % slices over 100k, 30 s cooldown, backstop "
              "below ⅔ MM, ADL at the previous mark", "protocol-mechanics.md §6.1"),
        Input("aave_rules", "published aggregate", "Aave v3.3 close factor; WETH LT 83 %; E-mode ETH-correlated LT 95 %, "
              "bonus 1 %", "protocol-mechanics.md §1.3, §1.10 (WBTC LT 78 %, wstETH LT 81 % and the bonuses are "
              "approximate 2025 values, not in the reference)",
              value={k: {"lt": v[0], "bonus": v[1]} for k, v in AAVE_PARAMS.items()}),
        Input("oracle", "published aggregate", "Chainlink-style BTC/USD and ETH/USD: 0.5 % deviation, 1 h heartbeat",
              "protocol-mechanics.md §7.1"),
        Input("wsteth_rate", "assumption", "wstETH = ETH × 1.21 (Aave's exchange-rate adapter), fixed within the day",
              "the exchange rate moves ~0.01 % a day", value=WSTETH_RATE),
        Input("no_new_positions", "assumption", "no new positions, no trading fees; other venues' liquidations are in the "
              "real index", "the index is the recorded one"),
    ]
    for p in PRIORS:
        out.append(Input(p.name, "assumption", p.label, p.source, prior=p))
    return out


# ---------------------------------------------------------------------------------------------
# data


def _read_parquet(path: Path, what: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover
        raise InputError(str(path), None, f"reading {what} needs pyarrow (pip install 'liqcascade[store]')") from None
    try:
        return pq.read_table(path).to_pydict()
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets one line
        raise InputError(str(path), None, f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None


def _epoch(ts) -> np.ndarray:
    return np.array([t.timestamp() for t in ts], dtype=np.float64)


def prepare(data_dir: Path, settings: dict) -> dict:
    from ..data.binance import load_binance_klines, load_book_depth

    data_dir = Path(data_dir)
    h0, h1 = float(settings["window_start_h"]), float(settings["window_end_h"])
    if not h1 > h0:
        raise InputError(f"replay {NAME}", "--set window_end_h", "must be after window_start_h")
    dt = float(settings["perp_dt"])
    if abs(60.0 / dt - round(60.0 / dt)) > 1e-9:
        raise InputError(f"replay {NAME}", "--set perp_dt", "must divide 60 s")
    t0, t1 = DAY0 + h0 * 3600.0, DAY0 + h1 * 3600.0
    bars = load_binance_klines(data_dir / KLINES)
    i0, i1 = window_index(bars.time_s, t0, t1, 60.0, str(data_dir / KLINES), f"{h0:g}:00-{h1:g}:00 UTC")
    idx = {"open": bars.open[i0:i1], "high": bars.high[i0:i1], "low": bars.low[i0:i1], "close": bars.close[i0:i1]}
    j = i0 + int(np.argmin(bars.low[i0:i1]))
    t_low = float(bars.time_s[j])
    # depth: crash minute and calm hour (ask side)
    depth = load_book_depth(data_dir / DEPTH)
    k, q = depth.side("ask")
    crash = (depth.time_s >= t_low) & (depth.time_s < t_low + 60.0)
    calm = (depth.time_s >= DAY0 + CALM[0]) & (depth.time_s < DAY0 + CALM[1])
    if not crash.any() or not calm.any():
        raise InputError(str(data_dir / DEPTH), "timestamp", "no snapshot in the minute of the index low or in 19:00-20:00 UTC")
    with np.errstate(all="ignore"):
        q_crash = np.nanmedian(q[crash], axis=0)
        q_calm = np.nanmedian(q[calm], axis=0)
    for nm, arr in (("crash", q_crash), ("calm", q_calm)):
        if not (np.isfinite(arr).all() and (arr > 0).all() and (np.diff(arr) >= 0).all()):
            raise InputError(str(data_dir / DEPTH), "notional", f"{nm} ask depth is not a positive cumulative curve")
    # hourly candles: per coin, per hour of the window, the venues' O/H/L/C
    cd = _read_parquet(data_dir / CANDLES, "hourly candles")
    for col in ("timestamp", "venue", "coin", "o", "h", "l", "c"):
        if col not in cd:
            raise InputError(str(data_dir / CANDLES), col, "column missing")
    ts = _epoch(cd["timestamp"])
    hours = t0 + 3600.0 * np.arange(int(round(h1 - h0)))
    candles = {}
    for coin in ("BTC", "ETH"):
        per = {}
        for v in CANDLE_VENUES:
            rows = {}
            for i in np.flatnonzero((np.asarray(cd["coin"]) == coin) & (np.asarray(cd["venue"]) == v)
                                    & (ts >= t0 - 1) & (ts < t1)):
                rows[ts[i]] = (cd["o"][i], cd["h"][i], cd["l"][i], cd["c"][i])
            if len(rows) == hours.size:
                per[v] = np.array([rows[h] for h in hours], float)
        if "binance" not in per or len(per) < 2:
            raise InputError(str(data_dir / CANDLES), "timestamp", f"{coin}: fewer than two venues (Binance among them) "
                             f"cover every hour of {h0:g}:00-{h1:g}:00 UTC on 2025-10-10")
        candles[coin] = per
    # Hyperliquid funding over the window and its calm depth
    fd = _read_parquet(data_dir / FUNDING, "funding rates")
    fts = _epoch(fd["timestamp"])
    sel = (np.asarray(fd["venue"]) == "hyperliquid") & (np.asarray(fd["coin"]) == "BTC") & (fts > t0) & (fts <= t1)
    funding = np.asarray(fd["funding_rate"], float)[sel]
    if funding.size < int(round(h1 - h0)):
        raise InputError(str(data_dir / FUNDING), "timestamp", "Hyperliquid BTC funding does not cover the window hourly")
    dd = _read_parquet(data_dir / HL_DEPTH, "order-book depth")
    sel = [i for i, (c, v) in enumerate(zip(dd["coin"], dd["venue"])) if c == "BTC" and v == "hyperliquid"]
    if not sel:
        raise InputError(str(data_dir / HL_DEPTH), "venue", "no Hyperliquid BTC snapshot")
    hl_depth = float(dd["bid_depth_usd"][sel[0]])
    st = dict(settings)
    lend = {}
    if st.get("lend_positions", 0):
        lend = {"shape": compound_sample(data_dir), "tail": aave_tail(data_dir)}
    return {"idx": idx, "t0": t0, "t1": t1, "t_low": t_low, "index_low": float(bars.low[j]),
            "fractions": np.asarray(k, float), "depth_crash": q_crash, "depth_calm": q_calm,
            "n_crash_snapshots": int(crash.sum()), "candles": candles, "hours": hours,
            "hl_funding": funding, "hl_depth_calm": hl_depth, "settings": st, **lend}


# ---------------------------------------------------------------------------------------------
# paths


def index_path(ctx: dict, dt: float, rng) -> np.ndarray:
    """The Binance index bridged to ``dt`` steps over the window."""
    from .bridge import bridge_bars

    i = ctx["idx"]
    return bridge_bars(i["open"], i["high"], i["low"], i["close"], 60.0, dt, rng, where=KLINES)


def candle_path(ctx: dict, coin: str, fast_min: np.ndarray, rng, *, venue: str | None = None,
                capture: float = 1.0) -> np.ndarray:
    """One-minute path of ``coin`` from the hourly candles: the median over the venues (or one
    ``venue``) of open/high/low/close, the wick below min(open, close) and above max(open, close)
    scaled by ``capture``, bridged with ``fast_min`` (the 1-minute BTC index) timing the extremes."""
    from .bridge import bridge_bars

    per = ctx["candles"][coin]
    arr = per[venue] if venue else np.median(np.stack(list(per.values())), axis=0)
    o, h, lo, c = arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]
    body_lo, body_hi = np.minimum(o, c), np.maximum(o, c)
    lo = body_lo - capture * (body_lo - lo)
    h = body_hi + capture * (h - body_hi)
    # continuity: each hour opens where the previous closed (venues' medians need not chain)
    o = np.concatenate([[o[0]], c[:-1]])
    lo = np.minimum(lo, np.minimum(o, c))
    h = np.maximum(h, np.maximum(o, c))
    return bridge_bars(o, h, lo, c, 3600.0, 60.0, rng, fast=fast_min, where=CANDLES)


# ---------------------------------------------------------------------------------------------
# perp books and runs


def synth_perp_book(rng, n: int, index0: float, short_ratio: float, preset: str, d: dict):
    """A *sample* of a venue's traders: ``n`` isolated positions whose notionals are per-trader
    sizes (lognormal, median ``size_median``, log-sd ``size_sigma``), so each falls in the margin
    tier a real position of its size would; longs by count ``1 / (1 + short_ratio)`` and the
    shorts' sizes scaled to ``short_ratio`` of the longs' notional. Leverage lognormal around the
    drawn medians, capped by the tier's maximum; every position starts at ≥ ``margin_buffer`` ×
    its maintenance margin. Returns side, size, entry, margin and the sample's long notional."""
    from ..protocols.perp.model import PRESETS

    tiers = PRESETS[preset].tiers
    lb = np.array([t.lower_bound for t in tiers])
    mmr = np.array([t.mmr for t in tiers])
    imr = np.array([t.initial_rate() for t in tiers])
    ded = np.zeros(lb.size)
    for i in range(1, lb.size):
        ded[i] = ded[i - 1] + lb[i] * (mmr[i] - mmr[i - 1])
    n_long = max(1, min(n - 1, int(round(n / (1.0 + short_ratio)))))
    side = np.concatenate([np.ones(n_long), -np.ones(n - n_long)])
    notional = d["size_median"] * np.exp(d["size_sigma"] * rng.standard_normal(n))
    long = side > 0
    notional[~long] *= short_ratio * notional[long].sum() / notional[~long].sum()
    med = np.where(long, d["lev_long"], d["lev_short"])
    lev = np.clip(med * np.exp(0.55 * rng.standard_normal(n)), 1.2, 125.0)
    entry = index0 * np.exp(0.01 * rng.standard_normal(n))
    size = notional / entry
    tier = np.clip(np.searchsorted(lb, notional, side="left") - 1, 0, lb.size - 1)
    lev = np.minimum(lev, 1.0 / imr[tier])
    margin = notional / lev
    n0 = size * index0
    t0 = np.clip(np.searchsorted(lb, n0, side="left") - 1, 0, lb.size - 1)
    mm0 = n0 * mmr[t0] - ded[t0]
    eq0 = margin + side * size * (index0 - entry)
    margin = margin + np.maximum(0.0, d["margin_buffer"] * mm0 - eq0)
    return side, size, entry, margin, float(np.sum(n0[long]))


def _perp_doc(name: str, preset: str, p0: float, steps: int, dt: float, depth_k, depth_q, calm_q, seed: int,
              d: dict, fund: float | None) -> dict:
    cfg = {} if fund is None else {"insurance_fund": float(fund)}
    return {
        "name": f"replay-{NAME}-{name}",
        "description": f"BTC perp on {preset} rules on the Binance index of 2025-10-10, synthetic long-heavy book",
        "simulation": {"steps": steps, "dt_seconds": dt, "paths": 1, "seed": int(seed) % (2**62)},
        "assets": [{"name": "BTC", "price": p0}, {"name": "USDT", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": {"BTC": "index.csv"}},
        "venues": [
            {"name": f"{name}-book", "asset": "BTC", "kind": "book",
             "depth": [[float(a), float(b)] for a, b in zip(depth_k, depth_q)],
             **half_life(d["perp_half_life_s"], dt)},
            # the index: a reference-only venue nobody trades (no arbitrage), read by the oracle
            {"name": "index", "asset": "BTC", "kind": "book",
             "depth": [[float(a), float(b)] for a, b in zip(depth_k, calm_q)], "half_life_seconds": 0.0},
        ],
        "oracles": [{"name": "btc-index", "asset": "BTC", "kind": "spot", "sources": ["index"]}],
        "protocols": [{"name": name, "kind": "perp", "preset": preset, "positions": "perp.csv",
                       "collateral": "BTC", "debt": "USDT", "oracles": {"BTC": "btc-index"}, "config": cfg}],
        "liquidators": {"mode": "mechanical", "max_per_step": 0},
        "arbitrage": {"enabled": False, "threshold": 0.003, "to_reference": True},
    }


def run_perp(ctx: dict, d: dict, seed: int, side_name: str, path: np.ndarray, dt: float, rng) -> tuple:
    st = ctx["settings"]
    p0 = float(path[0])
    k = ctx["fractions"]
    if side_name == "binance":
        preset, oi, fund = "binance_btcusdt_2021", d["binance_oi"], d["binance_fund"]
        q = ctx["depth_crash"] * d["binance_depth_mult"]
    else:
        preset, oi, fund = "hyperliquid", d["hl_oi"], None
        q = ctx["depth_calm"] / ctx["depth_calm"][0] * d["hl_depth_1pct"]
    side, size, entry, margin, long_sample = synth_perp_book(rng, int(st["positions"]), p0, d["short_ratio"], preset, d)
    # the book is a sample of the venue's traders: the venue's depth (and fund) scale with its
    # share f of the open interest, so the sample's orders move the book as the whole would (a
    # depth curve's price impact is homogeneous: f·Q into f·D gives the same move); notional
    # outcomes are divided by f
    f = long_sample / oi
    q = q * f
    if fund is not None:
        fund = fund * f
    funding_paid = 0.0
    if side_name == "hyperliquid":
        # the window's hourly payments, charged up front (longs pay shorts when the rate is > 0)
        rate = float(np.sum(ctx["hl_funding"]))
        pay = side * size * p0 * rate
        margin = np.maximum(margin - pay, 0.0)
        funding_paid = float(np.sum(np.abs(pay)))
    files = {"index.csv": partial(write_price_csv, times_s=dt * np.arange(path.size), prices=path),
             "perp.csv": partial(write_perp_csv, side=side, size=size, entry=entry, margin=margin)}
    doc = _perp_doc(side_name, preset, p0, path.size - 1, dt, k, q, ctx["depth_calm"], seed, d, fund)
    c, res = run_scenario(doc, files, f"replay {NAME}")
    trader_n = float(np.sum(size * entry))
    return c, res, {"trader_notional": trader_n, "funding_paid": funding_paid, "sample_fraction": f,
                    "long_notional": float(np.sum((size * entry)[side > 0])), "depth_1pct": float(q[0])}


def perp_metrics(res, side_name: str, path: np.ndarray, info: dict) -> dict:
    from ..kernels import dynamic as K

    u = res.unit_totals[side_name]
    f = info["sample_fraction"]  # notional outcomes are for the whole venue: divided by the sample's share
    liq_not = u["book_liquidated_notional"] + u["backstop_notional"] + u["fund_takeover_notional"] + u["adl_closed_notional"]
    mid = res.steps_asset[0, :, 0, K.ST_SPOT]
    book = 2.0 * mid - res.steps_asset[0, :, 0, K.ST_REF]  # the mean spot over book and the untouched index
    p = f"{side_name if side_name == 'binance' else 'hl'}_"
    return {
        f"{p}liquidated_notional": liq_not / f,
        f"{p}adl_notional": float(u["adl_notional"]) / f,
        f"{p}bad_debt": float(res.totals()["bad_debt"]) / f,
        f"{p}closed_share": (liq_not + float(u["adl_notional"])) / info["trader_notional"],
        f"{p}long_share": (u["long_closed_notional"] / liq_not) if liq_not > 0 else math.nan,
        f"{p}liquidations": float(u["book_liquidations"]),
        f"{p}backstop": float(u["backstop_takeovers"]),
        f"{p}fund_takeovers": float(u["fund_takeovers"]),
        f"{p}adl_closes": float(u["adl_closes"]),
        f"{p}bankrupt_closes": float(u["bankrupt_closes"]),
        f"{p}adl_fills": float(u["adl_fills"]),
        f"{p}writeoffs": float(u["writeoffs"]),
        f"{p}book_notional": float(u["book_liquidated_notional"]) / f,
        f"{p}backstop_notional": float(u["backstop_notional"]) / f,
        f"{p}fund_notional": float(u["fund_takeover_notional"]) / f,
        f"{p}fund_drawn": float(u["fund_drawn"]) / f,
        f"{p}sample_fraction": f,
        f"{p}book_low": finite(np.min(book)),
        f"{p}book_drawdown": finite(1.0 - np.min(book) / path[0]),
        f"{p}positions_open_end": float(u["positions_open"]),
        f"{p}trader_notional": info["trader_notional"] / f,
        f"{p}funding_paid": info["funding_paid"] / f,
    }


# ---------------------------------------------------------------------------------------------
# lending side


def lending_book(ctx: dict, d: dict, prices0: dict, rng):
    """Rows ``(id, asset, collateral, debt)`` of the three lending books (long format): the Aave
    book against USDC (WETH and WBTC collateral; wstETH collateral held in ETH units, see the
    module docstring) and the E-mode loops (wstETH in ETH units against WETH)."""
    n = int(ctx["settings"]["lend_positions"])
    wsh = max(0.05, 1.0 - d["weth_share"] - d["wbtc_share"])
    shares = np.array([d["weth_share"], d["wbtc_share"], wsh])
    shares = shares / shares.sum()
    which = rng.choice(3, size=n, p=shares)
    hf, size = draw_book(rng, n, ctx["shape"], ctx["tail"], d["tail_weight"])
    hf = np.maximum(tilt(hf, d["hf_tilt"]), 1.0005)
    debt = scale_to(size ** d["size_power"], d["aave_debt"])
    books = {"aave": [], "aave-wsteth": [], "aave-emode": []}
    for i in range(n):
        a = ("WETH", "WBTC", "wstETH")[which[i]]
        lt = AAVE_PARAMS[a][0]
        asset = "WBTC" if a == "WBTC" else "WETH"  # wstETH in ETH units (× the exchange rate)
        coll = debt[i] * hf[i] / (lt * prices0[asset])
        rows = books["aave-wsteth" if a == "wstETH" else "aave"]
        rows.append((f"a{i:05d}", asset, coll, 0.0))
        rows.append((f"a{i:05d}", "USDC", 0.0, debt[i]))
    ne = max(2, n // 5)
    hf_e, size_e = draw_book(rng, ne, ctx["shape"], None, 0.0)
    hf_e = np.maximum(tilt(hf_e, 0.1), 1.0005)  # loops run close to their threshold
    debt_e = scale_to(size_e ** d["size_power"], d["emode_debt"]) / prices0["WETH"]  # WETH
    for i in range(ne):
        books["aave-emode"].append((f"e{i:05d}", "WETH", debt_e[i] * hf_e[i] / EMODE_LT, debt_e[i]))
    return books


def _write_long(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,asset,collateral,debt\n")
        for i, a, c, dbt in rows:
            fh.write(f"{i},{a},{float(c)!r},{float(dbt)!r}\n")


def _lending_doc(d: dict, prices0: dict, steps: int, seed: int) -> dict:
    from ..calibration.params import BTC_ASK_DEPTH_CALM_USD, BTC_ASK_DEPTH_FRACTIONS

    def depth(level):
        return [[float(k), float(q * level / BTC_ASK_DEPTH_CALM_USD[0])]
                for k, q in zip(BTC_ASK_DEPTH_FRACTIONS, BTC_ASK_DEPTH_CALM_USD)]

    hl = half_life(d["lend_half_life_min"] * 60.0, LEND_DT)
    usdc = {"USDC": {"liquidation_threshold": 0.0, "liquidation_bonus": 0.0}}
    orc = {"WETH": "eth-usd", "WBTC": "btc-usd"}
    doc = {
        "name": f"replay-{NAME}-aave",
        "description": "Aave v3-rule WETH/WBTC/wstETH vs USDC books and wstETH/WETH E-mode loops, 2025-10-10",
        "simulation": {"steps": steps, "dt_seconds": LEND_DT, "paths": 1, "seed": int(seed) % (2**62)},
        "assets": [{"name": "WETH", "price": prices0["WETH"]}, {"name": "WBTC", "price": prices0["WBTC"]},
                   {"name": "USDC", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": {"WETH": "eth.csv", "WBTC": "btc.csv"}},
        "venues": [
            {"name": "eth-venue", "asset": "WETH", "kind": "book", "depth": depth(d["lend_depth_eth"]), **hl},
            {"name": "btc-venue", "asset": "WBTC", "kind": "book", "depth": depth(d["lend_depth_btc"]), **hl},
        ],
        "oracles": [
            {"name": "eth-usd", "asset": "WETH", "kind": "heartbeat", "deviation": ORACLE_DEVIATION,
             "heartbeat_seconds": ORACLE_HEARTBEAT_S},
            {"name": "btc-usd", "asset": "WBTC", "kind": "heartbeat", "deviation": ORACLE_DEVIATION,
             "heartbeat_seconds": ORACLE_HEARTBEAT_S},
        ],
        "protocols": [
            {"name": "aave", "kind": "aave_v3", "positions": "aave.csv", "debt": "USDC", "oracles": orc,
             "params": {"WETH": {"liquidation_threshold": AAVE_PARAMS["WETH"][0],
                                 "liquidation_bonus": AAVE_PARAMS["WETH"][1], "protocol_fee": 0.10},
                        "WBTC": {"liquidation_threshold": AAVE_PARAMS["WBTC"][0],
                                 "liquidation_bonus": AAVE_PARAMS["WBTC"][1], "protocol_fee": 0.10}} | usdc},
            {"name": "aave-wsteth", "kind": "aave_v3", "positions": "aave_wsteth.csv", "debt": "USDC", "oracles": orc,
             "params": {"WETH": {"liquidation_threshold": AAVE_PARAMS["wstETH"][0],
                                 "liquidation_bonus": AAVE_PARAMS["wstETH"][1], "protocol_fee": 0.10}} | usdc},
            {"name": "aave-emode", "kind": "aave_v3", "positions": "emode.csv", "debt": "WETH", "oracles": orc,
             "params": {"WETH": {"liquidation_threshold": EMODE_LT, "liquidation_bonus": EMODE_BONUS,
                                 "protocol_fee": 0.10}}},
        ],
        "liquidators": {"mode": "rational", "gas_cost": float(d["gas_usd"])},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": True},
    }
    if d["react_share"] > 0:
        doc["agents"] = {"borrowers": {"share": float(d["react_share"]), "react_hf": 1.05, "target_hf": 1.3,
                                       "delay_seconds": LEND_DT * int(round(d["react_delay_min"] * 60.0 / LEND_DT)),
                                       "action": "topup"}}
    return doc


def run_lending(ctx: dict, d: dict, seed: int, paths: dict, rng_book) -> tuple:
    prices0 = {a: float(p[0]) for a, p in paths.items()}
    books = lending_book(ctx, d, prices0, rng_book)
    n = paths["WETH"].size
    files = {f"{k}.csv": partial(write_price_csv, times_s=LEND_DT * np.arange(n), prices=paths[a])
             for k, a in (("eth", "WETH"), ("btc", "WBTC"))}
    for name, fname in (("aave", "aave.csv"), ("aave-wsteth", "aave_wsteth.csv"), ("aave-emode", "emode.csv")):
        files[fname] = partial(_write_long, rows=books[name])
    return run_scenario(_lending_doc(d, prices0, n - 1, seed), files, f"replay {NAME}")


def lending_metrics(res) -> dict:
    ev = res.events
    out = {}
    for names, key in ((("aave", "aave-wsteth"), "aave"), (("aave-emode",), "emode")):
        m = np.isin(ev["protocol"], names) & (ev["position"] != "(protocol)")
        out[f"{key}_liquidations"] = float(np.count_nonzero(m))
        out[f"{key}_liquidated_collateral_usd"] = float(np.sum(ev["collateral_seized"][m] * ev["oracle_price"][m]))
        out[f"{key}_bad_debt"] = float(np.sum(ev["bad_debt"][m]))
    return out


# ---------------------------------------------------------------------------------------------
# one member


def member(ctx: dict, d: dict, seed: int, keep: bool = False) -> MemberResult:
    st = ctx["settings"]
    dt = float(st["perp_dt"])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20251010]))
    idx_path = index_path(ctx, dt, rng)
    runs = {}
    out: dict = {}
    for side_name in ("binance", "hyperliquid"):
        c, res, info = run_perp(ctx, d, seed, side_name, idx_path, dt, np.random.default_rng(
            np.random.SeedSequence([int(seed), 20251010, 1 if side_name == "binance" else 2])))
        out.update(perp_metrics(res, side_name, idx_path, info))
        if keep:
            runs[side_name] = (c, res)
    # lending side on minutes: BTC = the index at the minute marks, ETH from the candles
    per_min = int(round(60.0 / dt))
    btc_min = idx_path[::per_min]
    eth_idx = candle_path(ctx, "ETH", btc_min, rng, capture=d["eth_wick_capture"])
    btc_wick = candle_path(ctx, "BTC", btc_min, rng, venue="binance")
    eth_wick = candle_path(ctx, "ETH", btc_min, rng, venue="binance")
    book_seed = np.random.SeedSequence([int(seed), 20251010, 3])
    base_paths = {"WETH": eth_idx, "WBTC": btc_min}
    c, res = run_lending(ctx, d, seed, base_paths, np.random.default_rng(book_seed))
    lm = lending_metrics(res)
    out.update({"aave_liquidated_collateral_usd": lm["aave_liquidated_collateral_usd"],
                "aave_bad_debt": lm["aave_bad_debt"], "aave_liquidations": lm["aave_liquidations"],
                "emode_liquidations": lm["emode_liquidations"], "emode_bad_debt": lm["emode_bad_debt"]})
    if keep:
        runs["aave"] = (c, res)
    wick_paths = {"WETH": eth_wick, "WBTC": btc_wick}
    c2, res2 = run_lending(ctx, d, seed, wick_paths, np.random.default_rng(book_seed))
    lw = lending_metrics(res2)
    out.update({"aave_liquidated_if_oracle_saw_wick": lw["aave_liquidated_collateral_usd"],
                "aave_bad_debt_if_oracle_saw_wick": lw["aave_bad_debt"],
                "emode_liquidations_if_oracle_saw_wick": lw["emode_liquidations"],
                "index_low": float(np.min(idx_path)), "hl_depth_snapshot": ctx["hl_depth_calm"], "eth_low_index_like": float(np.min(eth_idx)),
                "eth_low_binance": float(np.min(eth_wick)), "btc_low_binance": float(np.min(btc_wick))})
    if keep:
        runs["aave-wick"] = (c2, res2)
    # the headline order first
    head = [o.name for o in OUTCOMES]
    ordered = {k: out[k] for k in head}
    ordered.update({k: v for k, v in out.items() if k not in ordered})
    notes = [f"perp steps {dt:g} s over {st['window_start_h']:g}:00-{st['window_end_h']:g}:00 UTC "
             f"({idx_path.size - 1:,} steps); lending steps 60 s"]
    return MemberResult(ordered, runs, notes)


def assumptions(d: dict, settings: dict, res: MemberResult) -> list[str]:
    o = res.outcomes
    return [
        f"real: Binance BTC index 1-minute klines ({KLINES}) bridged to {settings['perp_dt']:g}-second steps through each "
        f"minute's high/low (lowest {o['index_low']:,.0f}); the index of both perp venues",
        f"real: Binance ask depth ({DEPTH}) at the crash minute × {d['binance_depth_mult']:.2f} for the Binance book; "
        f"Hyperliquid's book US${d['hl_depth_1pct'] / 1e6:,.0f}M within 1 % (its calm snapshot in {HL_DEPTH} holds "
        f"US${o['hl_depth_snapshot'] / 1e6:.1f}M in its top levels), the same curve shape",
        f"real: Hyperliquid funding over the window ({FUNDING}) charged up front: US${o['hl_funding_paid']:,.0f} in all",
        f"synthetic perp books: a sample of {settings['positions']:,} isolated positions per venue at traders' own sizes "
        f"(median US${d['size_median'] / 1e3:,.0f}k, log-sd {d['size_sigma']:.2f}) standing for long open interest of "
        f"US${d['binance_oi'] / 1e9:.1f}B (Binance; the sample is {o['binance_sample_fraction']:.2%} of it) and "
        f"US${d['hl_oi'] / 1e9:.1f}B (Hyperliquid, {o['hl_sample_fraction']:.2%}); book depth and fund scaled by "
        f"that share, notional outcomes divided by it; traders' shorts {d['short_ratio']:.0%} of their longs, median "
        f"leverage {d['lev_long']:.0f}x long / {d['lev_short']:.0f}x short, equity ≥ {d['margin_buffer']:.2f} × MM at "
        f"20:00 UTC; Binance insurance fund US${d['binance_fund'] / 1e6:,.0f}M",
        f"lending: Aave v3 rules, US${d['aave_debt'] / 1e9:.2f}B USDC against WETH/WBTC/wstETH "
        f"({d['weth_share']:.0%}/{d['wbtc_share']:.0%}/rest), health factors of the samples tilted by {d['hf_tilt']:.2f}; "
        f"E-mode loops US${d['emode_debt'] / 1e9:.2f}B of WETH debt against wstETH (LT 95 %); ETH path from the hourly "
        f"candles with {d['eth_wick_capture']:.0%} of their wick (lowest {o['eth_low_index_like']:,.0f}; Binance "
        f"{o['eth_low_binance']:,.0f}); gas US${d['gas_usd']:,.0f} per liquidation",
        "oracle-versus-venue gap: the lending book is run twice, with its oracle on the index-like paths (what "
        "on-chain feeds saw) and on the Binance perp candles (the wick they did not see)",
        "counts: liquidations = book orders filled; backstop = positions handed to the vault; fund takeovers; ADL "
        "closes = bankrupt positions closed by ADL; bankrupt closes = fund takeovers and ADL closes with negative "
        "equity; ADL fills = opposite positions reduced",
        "not modelled: new positions, trading fees, Binance funding (none falls due in the window), cross margin; "
        "the book depth is fixed over the window",
    ]


EVENT = ReplayEvent(
    name=NAME,
    title="2025-10-10: BTC perps on Binance and Hyperliquid rules and an Aave v3 book through the evening crash",
    summary=(
        "On 2025-10-10 the BTC index fell from about 116.6k to 102.5k between 20:50 and 21:20 UTC while Binance's "
        "BTCUSDT depth within 1 % fell from ~US$340M to under US$70M; ~US$19B was liquidated across venues. The replay "
        "runs a Binance-rule and a Hyperliquid-rule perp on the index bridged to 1-second steps, and an Aave v3-rule "
        "lending book (with E-mode loops) whose oracle did not see the Binance wick, on books sampled to match the "
        "published pre-crash sizes."
    ),
    needs=[KLINES, DEPTH, CANDLES, FUNDING, HL_DEPTH, COMPOUND, AAVE],
    priors=PRIORS, outcomes=OUTCOMES, inputs=inputs, prepare=prepare, member=member, settings=SETTINGS,
    sensitivity=("binance_depth_mult", "binance_fund", "aave_debt"), assumptions=assumptions, main_run="binance",
)
