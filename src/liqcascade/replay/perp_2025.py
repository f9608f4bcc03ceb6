"""Replay of 2025-10-10: a Binance-style BTC perpetual on the real index path and the measured
collapse of the order book.

Real inputs (``binance_2025-10-10/`` in the data folder):

* ``BTCUSD_PERP-1m-2025-10-10.zip`` — Binance 1-minute index-price klines (volume 0). Their
  closes from 20:00 to 23:00 UTC are the index path (one step per minute); the index fell from
  about 116.7k to a low of 102.5k at 21:20 UTC.
* ``BTCUSDT-bookDepth-2025-10-10.csv`` — cumulative depth in the ±1..5 % bands, ~30 s apart.
  Only the **ask** side is used (the bid bands are frozen after ~15:00 UTC, a known defect of
  the file); the depth curve of the perp's book is mirrored from it.

Model (a scenario built in code; :mod:`liqcascade.replay._build`):

* assets BTC and USDT (fixed at 1); the index is a *reference-only* venue nobody trades (read by
  a spot oracle), so the index is the recorded one; the perp's own book is a depth-curve venue
  that starts at the index, moves with it and takes the liquidation orders (impact decays with a
  5-minute half-life); no arbitrage between the two (the book is pulled back only by its
  recovery);
* the ``perp`` unit with the ``binance_btcusdt_2021`` preset (10 margin tiers from 0.4 % MMR,
  IOC liquidation orders limited at the bankruptcy price, 0.5 % clearance fee to the insurance
  fund, fund position cap 100 % of its value, ADL by PnL × leverage, Binance mark price
  median(index, index + 2.5-minute basis EMA, book));
* **depth**: the engine's book venues have a fixed depth curve, so the run uses the depth
  *measured at the crash minute* (band-wise median of the ask snapshots taken in the minute of
  the index low, 21:20 UTC) for the whole window; the sensitivity table varies a depth multiplier, and multiplier
  ``calm / crash`` (the 19:00-20:00 UTC median over the crash depth) shows the same run with the
  pre-crash book;
* **book of positions: synthetic** (no position snapshot is public): isolated positions, long
  heavy — 70 % of them long, US$3.0B of trader long notional against US$1.8B short (the market
  makers resting on the book hold the difference), lognormal sizes, leverage lognormal around
  12× for longs and 6× for shorts (capped by the tier's maximum), entries within about 1 % of the
  index at 20:00 UTC. Sizes are an order of magnitude, not a measurement.

Simplified: no funding, no trading fees, no new positions; one perp book, no other venues;
the real index already contains the real liquidations' impact, so the run's extra impact on the
book is on top of it (amplification is measured against the recorded index).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from . import ReplayEvent, ReplayOptions, ReplayResult, Sensitivity
from ._build import finite, run_scenario, window_index, write_perp_csv, write_price_csv

KLINES = "binance_2025-10-10/BTCUSD_PERP-1m-2025-10-10.zip"
DEPTH = "binance_2025-10-10/BTCUSDT-bookDepth-2025-10-10.csv"

DAY0 = 1760054400.0  # 2025-10-10 00:00 UTC
WINDOW = (20 * 3600.0, 23 * 3600.0)  # seconds after DAY0: 20:00-23:00 UTC
CALM = (19 * 3600.0, 20 * 3600.0)  # the pre-crash hour whose median depth is "calm"

N_POSITIONS = 3000
N_POSITIONS_QUICK = 400
LONG_SHARE_COUNT = 0.70
LONG_NOTIONAL = 3.0e9
SHORT_NOTIONAL = 1.8e9
LEV_LONG = (12.0, 0.55)  # lognormal median, sigma
LEV_SHORT = (6.0, 0.55)
SIZE_MEDIAN, SIZE_SIGMA = 40e3, 1.6  # notional lognormal before scaling
ENTRY_SD = 0.01
INSURANCE_FUND = 50e6
HALF_LIFE_STEPS = 5.0

FUND_ROWS = (0.0, 5e6, 20e6, 50e6, 200e6, 1e9)
FUND_ROWS_QUICK = (0.0, 50e6, 1e9)
DEPTH_ROWS = (0.25, 0.5, 1.0, 2.0)  # plus calm/crash
DEPTH_ROWS_QUICK = (0.5, 1.0)

OVERRIDES = {"insurance_fund": float, "depth_multiplier": float, "positions": int,
             "long_notional": float, "short_notional": float}


def _options(options: ReplayOptions) -> dict:
    from ..errors import InputError

    out = {"insurance_fund": INSURANCE_FUND, "depth_multiplier": 1.0,
           "positions": N_POSITIONS_QUICK if options.quick else N_POSITIONS,
           "long_notional": LONG_NOTIONAL, "short_notional": SHORT_NOTIONAL}
    for k, v in (options.overrides or {}).items():
        if k not in OVERRIDES:
            raise InputError("replay 2025-10-10", f"--set {k}", f"unknown knob (known: {', '.join(OVERRIDES)})")
        try:
            x = OVERRIDES[k](v)
        except (TypeError, ValueError):
            raise InputError("replay 2025-10-10", f"--set {k}", f"not a number: {v!r}") from None
        if not (math.isfinite(x) and x >= 0) or (k != "insurance_fund" and x <= 0) or (
                k == "positions" and not 10 <= x <= 200_000):
            raise InputError("replay 2025-10-10", f"--set {k}", f"out of range: {v!r}")
        out[k] = x
    return out


def load_inputs(data_dir) -> dict:
    """Index path of the window, crash and calm ask-depth curves (InputError on bad files)."""
    from ..data.binance import load_binance_klines, load_book_depth
    from ..errors import InputError

    kpath = str(data_dir / KLINES)
    bars = load_binance_klines(data_dir / KLINES)
    t0, t1 = DAY0 + WINDOW[0], DAY0 + WINDOW[1]
    i0, i1 = window_index(bars.time_s, t0, t1, 60.0, kpath, "20:00-23:00 UTC")
    # path: the open of the first bar, then each bar's close at its end
    times = np.concatenate([[bars.time_s[i0]], bars.time_s[i0:i1] + 60.0])
    prices = np.concatenate([[bars.open[i0]], bars.close[i0:i1]])
    j = i0 + int(np.argmin(bars.low[i0:i1]))
    t_low = float(bars.time_s[j])
    depth = load_book_depth(data_dir / DEPTH)
    k, q = depth.side("ask")
    if k.size < 2:
        raise InputError(str(data_dir / DEPTH), "percentage", "needs at least two ask bands (1..5 %)")
    crash = (depth.time_s >= t_low) & (depth.time_s < t_low + 60.0)  # the crash minute
    calm = (depth.time_s >= DAY0 + CALM[0]) & (depth.time_s < DAY0 + CALM[1])
    if not crash.any() or not calm.any():
        raise InputError(str(data_dir / DEPTH), "timestamp", "no snapshot near the 21:20 UTC crash or in 19:00-20:00 UTC")
    with np.errstate(all="ignore"):
        q_crash = np.nanmedian(q[crash], axis=0)
        q_calm = np.nanmedian(q[calm], axis=0)
    for name, arr in (("crash", q_crash), ("calm", q_calm)):
        if not (np.isfinite(arr).all() and (arr > 0).all() and (np.diff(arr) >= 0).all()):
            raise InputError(str(data_dir / DEPTH), "notional", f"{name} ask depth is not a positive cumulative curve")
    return {"times": times, "prices": prices, "t_low": t_low, "index_low": float(bars.low[j]),
            "fractions": k, "depth_crash": q_crash, "depth_calm": q_calm,
            "n_crash_snapshots": int(crash.sum())}


def synth_perp_book(n: int, seed: int, index0: float, long_notional: float, short_notional: float):
    """Synthetic isolated positions (see the module docstring). Returns side, size, entry, margin."""
    from ..protocols.perp.model import PRESETS

    tiers = PRESETS["binance_btcusdt_2021"].tiers
    lb = np.array([t.lower_bound for t in tiers])
    mmr = np.array([t.mmr for t in tiers])
    imr = np.array([t.initial_rate() for t in tiers])
    ded = np.zeros(lb.size)
    for i in range(1, lb.size):
        ded[i] = ded[i - 1] + lb[i] * (mmr[i] - mmr[i - 1])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20251010]))
    n_long = max(1, min(n - 1, int(round(n * LONG_SHARE_COUNT))))
    side = np.concatenate([np.ones(n_long), -np.ones(n - n_long)])
    notional = SIZE_MEDIAN * np.exp(SIZE_SIGMA * rng.standard_normal(n))
    long = side > 0
    notional[long] *= long_notional / notional[long].sum()
    notional[~long] *= short_notional / notional[~long].sum()
    med = np.where(long, LEV_LONG[0], LEV_SHORT[0])
    sig = np.where(long, LEV_LONG[1], LEV_SHORT[1])
    lev = np.clip(med * np.exp(sig * rng.standard_normal(n)), 1.5, 100.0)
    entry = index0 * np.exp(ENTRY_SD * rng.standard_normal(n))
    size = notional / entry
    tier = np.searchsorted(lb, notional, side="left") - 1
    tier = np.clip(tier, 0, lb.size - 1)
    lev = np.minimum(lev, 1.0 / imr[tier])  # the tier's maximum leverage
    margin = notional / lev
    # every position starts safe at the index: equity >= 1.5 x maintenance margin
    n0 = size * index0
    t0 = np.clip(np.searchsorted(lb, n0, side="left") - 1, 0, lb.size - 1)
    mm0 = n0 * mmr[t0] - ded[t0]
    eq0 = margin + side * size * (index0 - entry)
    margin = margin + np.maximum(0.0, 1.5 * mm0 - eq0)
    return side, size, entry, margin


def scenario_doc(inp: dict, o: dict, seed: int) -> dict:
    k = inp["fractions"]
    q = inp["depth_crash"] * o["depth_multiplier"]
    steps = int(inp["prices"].size - 1)
    p0 = float(inp["prices"][0])
    return {
        "name": "replay-2025-10-10",
        "description": "BTC perp on the Binance index path of 2025-10-10 20:00-23:00 UTC, crash-time ask depth, synthetic long-heavy book",
        "simulation": {"steps": steps, "dt_seconds": 60.0, "paths": 1, "seed": int(seed)},
        "assets": [{"name": "BTC", "price": p0}, {"name": "USDT", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": {"BTC": "index.csv"}},
        "venues": [
            {"name": "btcusdt-perp-book", "asset": "BTC", "kind": "book",
             "depth": [[float(a), float(b)] for a, b in zip(k, q)], "half_life_steps": HALF_LIFE_STEPS},
            # the index: a reference-only venue nobody trades (no arbitrage), read by the oracle
            {"name": "index-composite", "asset": "BTC", "kind": "book",
             "depth": [[float(a), float(b)] for a, b in zip(k, inp["depth_calm"])], "half_life_steps": 0.0},
        ],
        "oracles": [{"name": "btc-index", "asset": "BTC", "kind": "spot", "sources": ["index-composite"]}],
        "protocols": [{
            "name": "binance-btcusdt", "kind": "perp", "preset": "binance_btcusdt_2021",
            "positions": "perp_positions.csv", "collateral": "BTC", "debt": "USDT",
            "oracles": {"BTC": "btc-index"},
            "config": {"insurance_fund": float(o["insurance_fund"])},
        }],
        "liquidators": {"mode": "mechanical", "max_per_step": 0},
        "arbitrage": {"enabled": False, "threshold": 0.003, "to_reference": True},
    }


def run_once(inp: dict, o: dict, seed: int):
    p0 = float(inp["prices"][0])
    side, size, entry, margin = synth_perp_book(int(o["positions"]), seed, p0, o["long_notional"], o["short_notional"])
    files = {
        "index.csv": partial(_write_index, inp),
        "perp_positions.csv": partial(_write_book, side, size, entry, margin),
    }
    c, res = run_scenario(scenario_doc(inp, o, seed), files, "replay 2025-10-10")
    return c, res, {"side": side, "size": size, "entry": entry, "margin": margin}


def _write_index(inp, path):
    write_price_csv(path, inp["times"] - inp["times"][0], inp["prices"])


def _write_book(side, size, entry, margin, path):
    write_perp_csv(path, side, size, entry, margin)


def metrics(res, inp: dict) -> dict:
    from ..kernels import dynamic as K

    tot = res.totals()
    u = res.unit_totals["binance-btcusdt"]
    book_mid = res.steps_asset[0, :, 0, K.ST_SPOT]  # mean of the BTC venues' spots
    # the perp book alone: mean spot = (book + index) / 2, the index venue is untouched
    index = inp["prices"]
    book = 2.0 * book_mid - res.steps_asset[0, :, 0, K.ST_REF]
    return {
        "liquidations": finite(tot["liquidations"]),
        "liquidated_notional_usd": finite(tot["liquidated_collateral"]),
        "insurance_fund_draw_usd": finite(u["fund_drawn"]),
        "adl_events": finite(u["adl_fills"]),
        "adl_notional_usd": finite(u["adl_notional"]),
        "bad_debt_usd": finite(tot["bad_debt"]),
        "socialized_usd": finite(u["socialized"]),
        "index_min": finite(np.min(index)),
        "index_drawdown": finite(1.0 - np.min(index) / index[0]),
        "book_min": finite(np.min(book)),
        "book_drawdown": finite(1.0 - np.min(book) / index[0]),
        "amplification": finite((1.0 - np.min(book) / index[0]) / (1.0 - np.min(index) / index[0])),
        "mark_final": finite(float(np.asarray(u["marks"])[0])),
        "positions_open_end": finite(u["positions_open"]),
    }


def run(options: ReplayOptions) -> ReplayResult:
    from pathlib import Path

    data_dir = Path(options.data_dir)
    o = _options(options)
    inp = load_inputs(data_dir)
    seed = int(options.seed)
    c, res, book = run_once(inp, o, seed)
    head = metrics(res, inp)
    head["depth_1pct_crash_usd"] = float(inp["depth_crash"][0] * o["depth_multiplier"])
    head["depth_1pct_calm_usd"] = float(inp["depth_calm"][0])
    head["trader_long_notional_usd"] = float(np.sum((book["size"] * book["entry"])[book["side"] > 0]))
    head["trader_short_notional_usd"] = float(np.sum((book["size"] * book["entry"])[book["side"] < 0]))
    head["insurance_fund_usd"] = float(o["insurance_fund"])

    calm_ratio = float(inp["depth_calm"][0] / inp["depth_crash"][0])
    cols = ["liquidations", "liquidated_notional_usd", "insurance_fund_draw_usd", "adl_events",
            "adl_notional_usd", "bad_debt_usd"]
    fund_rows = []
    for f in (FUND_ROWS_QUICK if options.quick else FUND_ROWS):
        if f == o["insurance_fund"]:
            m = head
        else:
            m = metrics(run_once(inp, {**o, "insurance_fund": f}, seed)[1], inp)
        fund_rows.append({"value": float(f), **{k: m[k] for k in cols}})
    depth_rows = []
    mults = list(DEPTH_ROWS_QUICK if options.quick else DEPTH_ROWS) + [round(calm_ratio, 4)]
    for d in mults:
        if d == o["depth_multiplier"]:
            m = head
        else:
            m = metrics(run_once(inp, {**o, "depth_multiplier": d}, seed)[1], inp)
        depth_rows.append({"value": float(d), **{k: m[k] for k in cols + ["book_drawdown"]}})

    from datetime import datetime, timezone

    t_low = datetime.fromtimestamp(inp["t_low"], timezone.utc).strftime("%H:%M")
    assumptions = [
        f"real: Binance BTCUSD_PERP 1-minute index klines, 20:00-23:00 UTC ({KLINES}); index "
        f"{inp['prices'][0]:,.0f} -> low {inp['index_low']:,.0f} at {t_low} UTC",
        f"real: ask-side depth of {DEPTH} (the bid bands are frozen after ~15:00 UTC and are not used), "
        f"mirrored for the bid side of the perp book",
        f"simplified: the engine's book depth is fixed in time, so the whole window uses the depth measured at the "
        f"crash (median of the {inp['n_crash_snapshots']} snapshots of the minute of the index low, {t_low} UTC: "
        f"${inp['depth_crash'][0] / 1e6:,.0f}M within 1 %, ${inp['depth_crash'][-1] / 1e6:,.0f}M within 5 %); "
        f"the calm book of 19:00-20:00 UTC held ${inp['depth_calm'][0] / 1e6:,.0f}M within 1 % "
        f"(x{calm_ratio:.2f}, the last depth row)"
        + (f"; this run scales the crash depth by x{o['depth_multiplier']:g} (--set depth_multiplier); the depth "
           "table's rows are absolute multiples of the measured crash depth" if o["depth_multiplier"] != 1.0 else ""),
        f"synthetic: {int(o['positions'])} isolated positions, {LONG_SHARE_COUNT:.0%} long by count, "
        f"${head['trader_long_notional_usd'] / 1e9:,.2f}B long vs ${head['trader_short_notional_usd'] / 1e9:,.2f}B short "
        f"trader notional (market makers hold the difference), leverage lognormal ~{LEV_LONG[0]:g}x long / "
        f"~{LEV_SHORT[0]:g}x short capped by the tier maximum; an order of magnitude, not a snapshot",
        f"rules: binance_btcusdt_2021 preset (2021 BTCUSDT tiers, IOC at the bankruptcy price, 0.5 % fee to the "
        f"fund, fund position cap 100 %, ADL by PnL x leverage, Binance mark); insurance fund "
        f"${o['insurance_fund'] / 1e6:,.0f}M at the start",
        "the index is the recorded one (a reference-only venue no one trades); liquidation orders move only the perp "
        f"book, whose impact decays with a {HALF_LIFE_STEPS:g}-minute half-life",
        "not modelled: funding, trading fees, new positions, other venues' liquidations (already in the real index)",
    ]
    res.notes.extend([
        "replay 2025-10-10: the book venue's depth is fixed at the depth measured in the crash minute "
        "(the engine has no time-varying depth); the depth table varies it",
        "replay 2025-10-10: the position book is synthetic (long-heavy, isolated), not a snapshot",
        "replay 2025-10-10: no funding or trading fees; the index is the recorded one",
    ])
    return ReplayResult(
        event=EVENT.name, title=EVENT.title, headline=head, assumptions=assumptions,
        sensitivity=[
            Sensitivity("insurance fund at the start (USD)", cols, fund_rows),
            Sensitivity("depth multiplier (x crash-time ask depth)", cols + ["book_drawdown"], depth_rows),
        ],
        run=res, compiled=c,
        extra={"window_utc": "2025-10-10 20:00-23:00", "steps": int(inp["prices"].size - 1),
               "depth_fractions": [float(x) for x in inp["fractions"]],
               "depth_crash_usd": [float(x) for x in inp["depth_crash"]],
               "depth_calm_usd": [float(x) for x in inp["depth_calm"]],
               "seed": seed, "quick": bool(options.quick)},
    )


EVENT = ReplayEvent(
    name="2025-10-10",
    title="BTC perpetual through the 2025-10-10 crash: depth collapse, insurance fund and ADL",
    summary=(
        "On 2025-10-10 the BTC index fell from about 116.7k to 102.5k between 20:50 and 21:20 UTC while "
        "Binance's BTCUSDT ask depth within 1 % fell from about $340M to under $60M. The replay runs a "
        "Binance-rule perp (2021 BTCUSDT tiers, IOC at the bankruptcy price, insurance fund, ADL by PnL x "
        "leverage) with a synthetic long-heavy book on the recorded index, its order book at the measured "
        "crash depth, and tables the insurance fund and the depth against ADL and bad debt."
    ),
    needs=[KLINES, DEPTH],
    run=run,
)
