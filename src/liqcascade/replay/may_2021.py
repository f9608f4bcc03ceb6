"""Replay of 2021-05-19: three ETH lending protocols on the real ETH path of the May 2021 crash.

Real inputs (files under the data folder):

* ``stablesims/eth/05-19-2021.json`` — CoinAPI ETH/USD 10-minute bars of the day, bridged to
  one-minute steps through each bar's high and low (:mod:`liqcascade.replay.bridge`), so the
  intrabar low (1,862) is on the path;
* ``stablesims/eth_dai_liquidity/05-19-2021.json`` — Uniswap v2 DAI/WETH reserves: the pool's
  median liquidity ``sqrt(x·y)`` of the day, placed at the start price, is a constant-product
  venue (0.3 % fee);
* ``stablesims/gas/05-19-2021.json`` — gas-price percentiles: the gas price around the ETH low
  (median over ±1 h at the drawn percentile) prices every liquidation call;
* ``compound_v2_borrowers_2023/`` and ``aave_v2_borrowers_2021/`` — the *shape* of borrowers'
  health factors and debt sizes (:mod:`liqcascade.replay.books`).

Published aggregates (:func:`inputs`, citations there): Liquity's 1,054 troves at the start of
the day and the largest trove's ~606,000 ETH; LUSD ~US$1.2B with 91 % of it in the Stability
Pool and a TVL of ~US$2.3B a month before; Aave v2's WETH parameters; Compound v2's cETH
parameters; Liquity v1's constants and the gas of its batch liquidations (the liquity/dev gas
tests).

Model (a scenario built in code, :mod:`liqcascade.replay._build`): assets WETH, USDC, LUSD
(stablecoins fixed at 1); two WETH venues — the Uniswap pool and an order book standing for the
centralised exchanges (the shape of the calm 2025 Binance BTC ask curve scaled to the drawn depth
within 1 %) — arbitraged toward the recorded path; one Chainlink-style ETH/USD feed (0.5 %
deviation, 1 h heartbeat, §7.1) on the book, read by all three protocols; rational liquidators
(a liquidation happens only when it pays after gas).

* ``aave`` (Aave rules) with Aave v2's WETH parameters (LT 0.825 as calibrated on the Aave v2
  user files, 5 % bonus, no protocol fee) and v2's fixed 50 % close factor; USDC debt;
* ``compound`` (Aave-rule engine with Compound v2's rules for cETH: liquidation when borrow > 75 %
  of the ETH value, incentive 8 %, close factor 50 %): the CF plays the LT;
* ``liquity`` (the Liquity unit, v1 mainnet: MCR 110 %, CCR 150 %, recovery mode, Stability
  Pool, redistribution), its keeper paying the batch gas rule: a fixed part per
  ``batchLiquidateTroves`` call plus a part per trove.

Books: the health factors and sizes are resampled from the real samples and scaled to the
aggregates: Liquity's 1,054 troves hold the drawn LUSD debt and ETH (so the starting TCR is the
aggregates' ratio and recovery mode is reached whenever the path takes the TCR under 150 %), its
largest trove the published 606,000 ETH at a drawn ICR; Aave's and Compound's books hold the
drawn debt at health factors tilted by a drawn factor. **The priors were fixed before any
ensemble was compared with the records**; nothing is tuned to them.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import MemberResult, ReplayEvent, Setting
from ._build import finite, half_life, run_scenario, write_price_csv, write_wide_csv
from .books import aave_tail, compound_sample, draw_book, scale_to, tilt, tilt_to_ratio
from .priors import Input, Outcome, Prior, Record

NAME = "2021-05-19"
ETH = "stablesims/eth/05-19-2021.json"
POOL = "stablesims/eth_dai_liquidity/05-19-2021.json"
GAS = "stablesims/gas/05-19-2021.json"
COMPOUND = "compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv"
AAVE = "aave_v2_borrowers_2021/aave_user_details_v2"

DT = 60.0
BAR = 600.0
GAS_WINDOW_S = 3600.0  # ± around the bar of the ETH low
POOL_FEE = 0.003
ORACLE_DEVIATION = 0.005
ORACLE_HEARTBEAT_S = 3600.0
LIQUITY_TROVES = 1054
LIQUITY_WHALE_ETH = 606_000.0
LIQUITY_MIN_DEBT = 2000.0  # MIN_NET_DEBT + the gas reserve
AAVE_LT, AAVE_BONUS = 0.825, 0.05
COMP_CF, COMP_LI = 0.75, 0.08
PROTOCOLS = ("aave", "compound", "liquity")

# ---------------------------------------------------------------------------------------------
# Priors. Fixed before any ensemble was compared with the records (Aave US$170M and Compound
# US$147M of collateral liquidated, Liquity's 310 troves, 93.5M LUSD offset, recovery mode
# entered twice); the records are only placed on the bands. Do not tune these to them.
PRIORS = [
    Prior("aave_debt", "Aave v2 stablecoin debt against ETH", "loguniform", 0.5e9, 2.0e9,
          "no per-asset pre-crash figure found; Aave and Compound held > 100x their March 2020 assets "
          "(Gauntlet, 2021-06-04); order of magnitude assumed", "USD"),
    Prior("compound_debt", "Compound v2 stablecoin debt against ETH", "loguniform", 0.5e9, 2.0e9,
          "as aave_debt (no per-asset pre-crash figure found); assumption", "USD"),
    Prior("hf_tilt", "tilt of the sample health factors, HF' = 1 + s(HF − 1) (Aave, Compound)", "uniform", 0.6, 1.4,
          "the Compound v2 sample is of May 2023; the May 2021 spread may differ either way (assumption)",
          min=0.05, max=5.0),
    Prior("tail_weight", "share of positions drawn from the Aave v2 at-risk records", "uniform", 0.0, 0.3,
          "the 10 Aave v2 users of 2021 (later liquidated) give the shape under HF 2; their weight is assumed",
          min=0.0, max=1.0),
    Prior("size_power", "debt-size concentration exponent (debt^γ)", "uniform", 0.5, 1.0,
          "γ = 1 keeps the Compound v2 sample's concentration; assumption", min=0.05, max=2.0),
    Prior("liquity_debt", "LUSD debt at the start of the day", "uniform", 0.8e9, 1.3e9,
          "LUSD ~US$1.2B on 2021-04-20 (mStable forum, 'Liquity LUSD/mUSD fPool', citing CoinGecko)", "LUSD"),
    Prior("liquity_eth", "ETH in Liquity's troves at the start of the day", "uniform", 0.75e6, 1.05e6,
          "TVL US$2.3B on 2021-04-20 (mStable forum) ≈ 1.0M ETH at the day's ~2,300 USD; ~US$2.5B "
          "(Compound forum 'Add Market: LUSD', spring 2021)", "ETH"),
    Prior("whale_icr", "ICR of the largest trove (606,000 ETH)", "uniform", 1.8, 3.2,
          "the trove was 'nearly liquidated' (IOSG, ChainCatcher 2021): near 150 % at the day's low, i.e. "
          "~2.6 at the open; range assumed around it", min=1.1, max=100.0),
    Prior("sp_share", "share of LUSD in the Stability Pool", "uniform", 0.5, 0.95,
          "91 % on 2021-04-20 (mStable forum); a month later assumed lower or similar", min=0.0, max=1.0),
    Prior("sp_sells", "share of their ETH gains depositors sell at once", "uniform", 0.2, 0.8, "assumption",
          min=0.0, max=0.99),
    Prior("gas_percentile", "gas-price percentile paid by liquidators", "uniform", 60.0, 100.0,
          "the file's 60-100th percentiles around the low (interpolated); assumption", min=30.0, max=100.0),
    Prior("gas_units_call", "gas per Aave/Compound liquidation call", "uniform", 250e3, 500e3,
          "liquidationCall / liquidateBorrow with a DEX sale: 2.5-5e5 gas (assumption)", "gas"),
    Prior("liquity_gas_base", "gas of a batchLiquidateTroves call's fixed part", "uniform", 150e3, 250e3,
          "liquity/dev gasTest/liquidateCDPsGasData.csv: 270k gas for 1 trove, 8.17M for 100 (offset, no pending "
          "rewards) → ~190k base", "gas"),
    Prior("liquity_gas_trove", "gas per trove in a batch", "uniform", 60e3, 120e3,
          "same file: ~80k per trove (offset), ~114k with pending rewards", "gas"),
    Prior("depth_1pct", "CEX ETH book depth within 1 %", "loguniform", 20e6, 150e6,
          "assumption: no 2021 ETH depth data (the 2025 BTC curve's shape is scaled)", "USD"),
    Prior("half_life_min", "venue impact half-life", "uniform", 10.0, 60.0, "assumption", "min", min=0.0),
    Prior("react_share", "share of Aave/Compound borrowers who top up", "uniform", 0.0, 0.3,
          "assumption: owners watching their health factor (agents.borrowers)", min=0.0, max=1.0),
    Prior("react_delay_min", "their reaction delay", "uniform", 5.0, 60.0, "assumption", "min", min=0.0),
]

OUTCOMES = [
    Outcome("aave_liquidated_collateral_usd", "Aave: collateral liquidated", "money",
            Record(170e6, "Cointelegraph Consulting with Covalent, 2021-06 ('DeFi hit by a tsunami of liquidations')",
                   "the record counts every collateral and debt asset of Aave; the replay's book is ETH vs "
                   "stablecoins only"), "WETH seized, at the oracle price of each liquidation"),
    Outcome("compound_liquidated_collateral_usd", "Compound: collateral liquidated", "money",
            Record(147e6, "Cointelegraph Consulting with Covalent, 2021-06",
                   "every collateral asset of Compound; the replay's book is ETH vs stablecoins only"),
            "WETH seized, at the oracle price"),
    Outcome("liquity_liquidations", "Liquity: troves liquidated", "count",
            Record(310.0, "Liquity blog 'How Liquity Handled its First Big Stress Test', 2021-05-19 (Dune): "
                   "121 in normal mode + 189 in recovery mode", "same book size: 1,054 troves at the start"),
            "troves closed by liquidation (normal and recovery mode)"),
    Outcome("liquity_debt_offset", "Liquity: debt offset by the Stability Pool", "money",
            Record(93.5e6, "Liquity blog, 2021-05-19", "LUSD"), "LUSD burned from the Stability Pool"),
    Outcome("liquity_sp_eth", "Liquity: ETH to Stability Pool depositors", "count",
            Record(48_668.0, "Liquity blog, 2021-05-19", "ETH"), "collateral sent to the pool, ETH"),
    Outcome("liquity_recovery_entries", "Liquity: entries into recovery mode", "count",
            Record(2.0, "Liquity blog, 2021-05-19 ('briefly entered twice')",
                   "counted at step starts (1 minute): a shorter visit is missed"),
            "times the TCR went under 150 % at the start of a step"),
    Outcome("liquity_tcr_min", "Liquity: lowest TCR", "ratio", None, "at the start of a step, at the oracle price"),
    Outcome("bad_debt_usd", "bad debt (Aave + Compound) and Liquity redistribution", "money", None,
            "Aave/Compound debt left without collateral plus debt Liquity redistributed"),
    Outcome("price_min_venues", "lowest venue price", "price", None, "mean of the WETH venues' spot"),
]

SETTINGS = [
    Setting("positions", 2000, 300, 10, 200_000, "positions per Aave/Compound book", int),
    Setting("liquity_troves", LIQUITY_TROVES, 150, 10, 200_000,
            "Liquity troves (published: 1,054; --quick: 150 with the aggregates scaled down)", int),
]


def inputs() -> list[Input]:
    out = [
        Input("eth_usd", "real file", "ETH/USD 10-minute bars bridged to 1-minute steps through each bar's high/low", ETH),
        Input("pool", "real file", "Uniswap v2 DAI/WETH reserves: median liquidity, a constant-product venue", POOL),
        Input("gas", "real file", "gas-price percentiles: the liquidators' cost per call around the ETH low", GAS),
        Input("hf_shape", "real file", "Compound v2 borrowers: health factors and debt sizes (resampled)", COMPOUND),
        Input("hf_tail", "real file", "Aave v2 users of 2021: health-factor records between 1 and 2 (the at-risk tail)",
              AAVE),
        Input("liquity_troves", "published aggregate", "troves at the start of 2021-05-19",
              "Liquity blog 'How Liquity Handled its First Big Stress Test', 2021-05-19 (Dune Analytics)",
              value=LIQUITY_TROVES),
        Input("liquity_whale", "published aggregate", "the largest trove's collateral (Justin Sun's), ETH",
              "IOSG Ventures via ChainCatcher, 2021 ('the near liquidation of 606,000 ETH')", value=LIQUITY_WHALE_ETH),
        Input("liquity_rules", "published aggregate", "Liquity v1: MCR 110 %, CCR 150 %, 200 LUSD gas reserve, 0.5 % "
              "collateral gas compensation", "protocol-mechanics.md §4.1"),
        Input("aave_params", "published aggregate", "Aave v2 WETH: LT 0.825, bonus 5 %, close factor 50 %",
              "LT calibrated on the Aave v2 user files (calibration.params.aave_v2_lt); bonus and close factor: "
              "Aave v2 docs", value={"lt": AAVE_LT, "bonus": AAVE_BONUS}),
        Input("compound_params", "published aggregate", "Compound v2 cETH: collateral factor 75 %, incentive 8 %, "
              "close factor 50 %", "Compound v2 governance values in 2021 (not in the reference)",
              value={"cf": COMP_CF, "incentive": COMP_LI}),
        Input("oracle", "published aggregate", "Chainlink ETH/USD: 0.5 % deviation, 1 h heartbeat",
              "protocol-mechanics.md §7.1", value={"deviation": ORACLE_DEVIATION, "heartbeat_s": ORACLE_HEARTBEAT_S}),
        Input("stables", "assumption", "USDC and LUSD at exactly 1 USD", "stablecoins held their pegs that day"),
        Input("path_impact", "assumption", "the venues' impact comes on top of a path that already holds the day's "
              "selling (amplification = venue drawdown / path drawdown)", "the path is the recorded market"),
    ]
    for p in PRIORS:
        out.append(Input(p.name, "assumption", p.label, p.source, prior=p))
    return out


# ---------------------------------------------------------------------------------------------
# data


def prepare(data_dir: Path, settings: dict) -> dict:
    from ..data.bars import load_ohlcv_json
    from ..data.gas import load_gas_json
    from ..data.uniswap import load_uniswap_reserves

    data_dir = Path(data_dir)
    bars = load_ohlcv_json(data_dir / ETH)
    if len(bars) < 24:
        raise InputError(str(data_dir / ETH), None, f"expected a day of 10-minute bars, found {len(bars)}")
    d = np.diff(bars.time_s)
    if not np.allclose(d, BAR):
        i = int(np.flatnonzero(~np.isclose(d, BAR))[0]) + 1
        raise InputError(str(data_dir / ETH), f"record {i}, field 'time_period_start'", "bars are not 10 minutes apart")
    res = load_uniswap_reserves(data_dir / POOL, asset="WETH", quote="DAI")
    gas = load_gas_json(data_dir / GAS)
    j = int(np.argmin(bars.low))
    t_low = float(bars.time_s[j])
    win = np.abs(gas.time_s - t_low) <= GAS_WINDOW_S
    gwei = {}
    for q in gas.percentiles:
        g = gas.gwei(q)
        if not win.any() or not np.isfinite(g[win]).any():
            raise InputError(str(data_dir / GAS), "timestamp", "no gas record within an hour of the ETH low")
        gwei[float(q)] = float(np.nanmedian(g[win]))
    return {"bars": bars, "liquidity": float(np.median(res.invariant)), "n_pool": len(res), "gwei": gwei,
            "eth_at_low": float(bars.close[j]), "t_low": t_low, "low_intrabar": float(bars.low.min()),
            "low_close": float(bars.close.min()), "shape": compound_sample(data_dir), "tail": aave_tail(data_dir),
            "settings": dict(settings)}


def gas_gwei(ctx: dict, q: float) -> float:
    qs = sorted(ctx["gwei"])
    q = min(max(float(q), qs[0]), qs[-1])
    for a, b in zip(qs, qs[1:]):
        if q <= b:
            w = (q - a) / (b - a)
            return (1.0 - w) * ctx["gwei"][a] + w * ctx["gwei"][b]
    return ctx["gwei"][qs[-1]]


# ---------------------------------------------------------------------------------------------
# books


def lending_book(ctx: dict, d: dict, n: int, total_debt: float, lt: float, p0: float, rng):
    """``(collateral WETH, debt)``: health factors (under ``lt``) and sizes from the samples,
    tilted by ``hf_tilt``, debt scaled to ``total_debt``."""
    hf, size = draw_book(rng, n, ctx["shape"], ctx["tail"], d["tail_weight"])
    hf = tilt(hf, d["hf_tilt"])
    hf = np.maximum(hf, 1.0005)  # nobody starts liquidatable (a tilt < 1 can push a few under 1)
    debt = scale_to(size ** d["size_power"], total_debt)
    coll = debt * hf / (lt * p0)
    return coll, debt


def liquity_book(ctx: dict, d: dict, n: int, p0: float, rng) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(coll ETH, composite debt LUSD, info)``: ``n`` troves holding the drawn LUSD and ETH,
    the first being the largest trove (606,000 ETH at ``whale_icr``); the others' ICRs from
    the samples, tilted so the book holds the drawn ETH (module docstring)."""
    frac = n / LIQUITY_TROVES
    total_debt = d["liquity_debt"] * frac
    total_eth = d["liquity_eth"] * frac
    whale_eth = LIQUITY_WHALE_ETH * frac
    n_rest = n - 1
    whale_debt = whale_eth * p0 / d["whale_icr"]
    cut = False
    floor = n_rest * 5 * LIQUITY_MIN_DEBT
    if total_debt - whale_debt < floor:
        whale_debt = total_debt - floor
        cut = True
    hf, size = draw_book(rng, n_rest, ctx["shape"], ctx["tail"], d["tail_weight"])
    # every trove at least the minimum debt, the rest shared by the sampled sizes
    debt = LIQUITY_MIN_DEBT + scale_to(size ** d["size_power"], total_debt - whale_debt - n_rest * LIQUITY_MIN_DEBT)
    icr = 1.1 * hf  # Liquity's MCR in the role of the sample's threshold
    rest_eth = total_eth - whale_eth
    target = rest_eth * p0 / float(np.sum(debt))
    floor_target = 1.3
    if target < floor_target:
        target = floor_target  # the aggregates leave too little ETH: keep the rest above MCR
    s = tilt_to_ratio(icr / 1.1, debt, target / 1.1)
    icr = 1.1 * tilt(icr / 1.1, s)
    icr = np.maximum(icr, 1.1 * 1.0005)
    coll = np.concatenate([[whale_eth], debt * icr / p0])
    debt = np.concatenate([[whale_debt], debt])
    tcr = float(np.sum(coll) * p0 / np.sum(debt))
    return coll, debt, {"whale_debt": float(whale_debt), "whale_cut": cut, "tcr0": tcr, "tilt": float(s),
                        "eth": float(np.sum(coll)), "eth_gap": float(np.sum(coll) - total_eth)}


def _book_depth(depth_1pct: float) -> list:
    from ..calibration.params import BTC_ASK_DEPTH_CALM_USD, BTC_ASK_DEPTH_FRACTIONS

    scale = depth_1pct / BTC_ASK_DEPTH_CALM_USD[0]
    return [[float(k), float(q * scale)] for k, q in zip(BTC_ASK_DEPTH_FRACTIONS, BTC_ASK_DEPTH_CALM_USD)]


def scenario_doc(ctx: dict, d: dict, p0: float, steps: int, seed: int, gas_usd: float, gas_base: float,
                 gas_trove: float, sp: float) -> dict:
    doc = {
        "name": "replay-2021-05-19",
        "description": "Aave v2-, Compound v2- and Liquity-rule books on the ETH path of 2021-05-19, Uniswap v2 pool + CEX book",
        "simulation": {"steps": steps, "dt_seconds": DT, "paths": 1, "seed": int(seed) % (2**62)},
        "assets": [{"name": "WETH", "price": p0}, {"name": "USDC", "price": 1.0, "stable": True},
                   {"name": "LUSD", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": {"WETH": "eth.csv"}},
        "venues": [
            {"name": "cex-book", "asset": "WETH", "kind": "book", "depth": _book_depth(d["depth_1pct"]),
             **half_life(d["half_life_min"] * 60.0, DT)},
            {"name": "uniswap-v2-dai-weth", "asset": "WETH", "kind": "cpmm",
             "reserve_asset": ctx["liquidity"] / math.sqrt(p0), "fee": POOL_FEE},
        ],
        "oracles": [{"name": "eth-usd", "asset": "WETH", "kind": "heartbeat", "sources": ["cex-book"],
                     "deviation": ORACLE_DEVIATION, "heartbeat_seconds": ORACLE_HEARTBEAT_S}],
        "protocols": [
            {"name": "aave", "kind": "aave_v3", "positions": "aave.csv", "collateral": "WETH", "debt": "USDC",
             "close_factor_rule": "fixed", "close_factor": 0.5, "oracles": {"WETH": "eth-usd"},
             "params": {"WETH": {"ltv": 0.80, "liquidation_threshold": AAVE_LT, "liquidation_bonus": AAVE_BONUS,
                                 "protocol_fee": 0.0}}},
            {"name": "compound", "kind": "aave_v3", "positions": "compound.csv", "collateral": "WETH", "debt": "USDC",
             "close_factor_rule": "fixed", "close_factor": 0.5, "oracles": {"WETH": "eth-usd"},
             "params": {"WETH": {"ltv": COMP_CF, "liquidation_threshold": COMP_CF, "liquidation_bonus": COMP_LI,
                                 "protocol_fee": 0.0}}},
            {"name": "liquity", "kind": "liquity", "preset": "v1-mainnet", "positions": "liquity.csv",
             "collateral": "WETH", "debt": "LUSD", "oracles": {"WETH": "eth-usd"},
             "config": {"depositors": [0.5 * sp, 0.3 * sp, 0.2 * sp], "sp_sells": float(d["sp_sells"]),
                        "sequences_per_step": 2, "batch_gas_base": float(gas_base),
                        "batch_gas_per_trove": float(gas_trove)}},
        ],
        "liquidators": {"mode": "rational", "gas_cost": float(gas_usd)},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": True},
    }
    if d["react_share"] > 0:
        doc["agents"] = {"borrowers": {"share": float(d["react_share"]), "react_hf": 1.05, "target_hf": 1.3,
                                       "delay_seconds": DT * int(round(d["react_delay_min"] * 60.0 / DT)),
                                       "action": "topup"}}
    return doc


def member(ctx: dict, d: dict, seed: int, keep: bool = False) -> MemberResult:
    from .bridge import bridge_bars

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20210519]))
    bars = ctx["bars"]
    path = bridge_bars(bars.open, bars.high, bars.low, bars.close, BAR, DT, rng, where=ETH)
    p0 = float(path[0])
    steps = path.size - 1
    st = ctx["settings"]
    coll_a, debt_a = lending_book(ctx, d, st["positions"], d["aave_debt"], AAVE_LT, p0, rng)
    coll_c, debt_c = lending_book(ctx, d, st["positions"], d["compound_debt"], COMP_CF, p0, rng)
    coll_l, debt_l, linfo = liquity_book(ctx, d, st["liquity_troves"], p0, rng)
    gwei = gas_gwei(ctx, d["gas_percentile"])
    eth_gas = gwei * 1e-9 * ctx["eth_at_low"]
    gas_usd = eth_gas * d["gas_units_call"]
    sp = d["sp_share"] * float(np.sum(debt_l))
    files = {"eth.csv": partial(write_price_csv, times_s=DT * np.arange(path.size), prices=path),
             "aave.csv": partial(write_wide_csv, prefix="aave-", coll=coll_a, debt=debt_a),
             "compound.csv": partial(write_wide_csv, prefix="compound-", coll=coll_c, debt=debt_c),
             "liquity.csv": partial(write_wide_csv, prefix="liquity-", coll=coll_l, debt=debt_l)}
    doc = scenario_doc(ctx, d, p0, steps, seed, gas_usd, eth_gas * d["liquity_gas_base"],
                       eth_gas * d["liquity_gas_trove"], sp)
    c, res = run_scenario(doc, files, f"replay {NAME}")
    out = metrics(res, path)
    out.update({"gas_cost_usd": gas_usd, "gas_gwei": gwei, "liquity_tcr_start": linfo["tcr0"],
                "liquity_whale_debt": linfo["whale_debt"], "liquity_whale_cut": float(linfo["whale_cut"]),
                "liquity_eth_gap": linfo["eth_gap"], "path_low": float(np.min(path))})
    notes = [f"Liquity book: {len(coll_l):,} troves, TCR {linfo['tcr0']:.2f} at the open, largest trove "
             f"{coll_l[0]:,.0f} ETH with {linfo['whale_debt'] / 1e6:,.0f}M LUSD"
             + (" (its debt cut to leave the other troves their minimum)" if linfo["whale_cut"] else "")]
    return MemberResult(out, {"lending": (c, res)} if keep else {}, notes)


def per_protocol(res) -> dict:
    ev = res.events
    out = {}
    for name in PROTOCOLS:
        m = (ev["protocol"] == name) & (ev["position"] != "(protocol)")
        out[name] = {
            "liquidations": float(np.count_nonzero(m)),
            "liquidated_collateral_usd": float(np.sum(ev["collateral_seized"][m] * ev["oracle_price"][m])),
            "bad_debt_usd": float(np.sum(ev["bad_debt"][m])),
        }
    return out


def metrics(res, path) -> dict:
    from ..kernels import dynamic as K

    pp = per_protocol(res)
    q = res.unit_totals.get("liquity", {})
    spot = res.steps_asset[0, :, 0, K.ST_SPOT]
    oracle = res.steps_asset[0, :, 0, K.ST_ORACLE]
    dd_ref = 1.0 - float(np.min(path)) / float(path[0])
    dd_spot = 1.0 - float(np.min(spot)) / float(path[0])
    out = {
        "aave_liquidated_collateral_usd": pp["aave"]["liquidated_collateral_usd"],
        "compound_liquidated_collateral_usd": pp["compound"]["liquidated_collateral_usd"],
        "liquity_liquidations": pp["liquity"]["liquidations"],
        "liquity_debt_offset": float(q.get("debt_offset", 0.0)),
        "liquity_sp_eth": float(q.get("coll_sp_received", 0.0)),
        "liquity_recovery_entries": float(q.get("recovery_mode_entries", 0)),
        "liquity_tcr_min": finite(q.get("tcr_min", math.nan)),
        "bad_debt_usd": pp["aave"]["bad_debt_usd"] + pp["compound"]["bad_debt_usd"]
        + float(q.get("redistributed_debt", 0.0)),
        "price_min_venues": finite(np.min(spot)),
        # detail
        "aave_liquidations": pp["aave"]["liquidations"],
        "compound_liquidations": pp["compound"]["liquidations"],
        "liquity_liquidated_collateral_usd": pp["liquity"]["liquidated_collateral_usd"],
        "liquity_recovery_mode_steps": float(q.get("recovery_mode_steps", 0)),
        "liquity_batches_not_sent": float(q.get("batches_not_sent", 0)),
        "liquity_redistributed_debt": float(q.get("redistributed_debt", 0.0)),
        "aave_bad_debt_usd": pp["aave"]["bad_debt_usd"],
        "compound_bad_debt_usd": pp["compound"]["bad_debt_usd"],
        "price_min_oracle": finite(np.min(oracle)),
        "amplification": finite(dd_spot / dd_ref) if dd_ref > 0 else math.nan,
        "borrower_topups": float(res.totals()["borrower_topups"]),
    }
    return out


def assumptions(d: dict, settings: dict, res: MemberResult) -> list[str]:
    o = res.outcomes
    return [
        f"real: ETH/USD 10-minute bars ({ETH}) bridged to 1-minute steps through each bar's high/low "
        f"(lowest point {o['path_low']:,.0f})",
        f"real: Uniswap v2 DAI/WETH reserves ({POOL}); gas ({GAS}) at the {d['gas_percentile']:.0f}th percentile around "
        f"the low, {o['gas_gwei']:,.0f} gwei: US${o['gas_cost_usd']:,.0f} per Aave/Compound call "
        f"({d['gas_units_call']:,.0f} gas); Liquity batches {d['liquity_gas_base']:,.0f} gas + {d['liquity_gas_trove']:,.0f} "
        "per trove",
        f"books from aggregates: Aave {d['aave_debt'] / 1e9:.2f}B and Compound {d['compound_debt'] / 1e9:.2f}B USDC "
        f"against WETH ({settings['positions']:,} positions each, health factors of the Compound v2 / Aave v2 samples "
        f"tilted by {d['hf_tilt']:.2f}); Liquity {settings['liquity_troves']:,} troves, "
        f"{d['liquity_debt'] / 1e9:.2f}B LUSD, TCR {o['liquity_tcr_start']:.2f} at the open, the largest trove "
        f"(606,000 ETH, scaled with the trove count) at ICR {d['whale_icr']:.2f}",
        f"Stability Pool {d['sp_share']:.0%} of LUSD, depositors sell {d['sp_sells']:.0%} of their ETH at once",
        f"venues: CEX book {d['depth_1pct'] / 1e6:,.0f}M USD within 1 % (2025 BTC curve shape), Uniswap v2 pool; "
        f"impact half-life {d['half_life_min']:.0f} min; arbitraged toward the path",
        "oracle: Chainlink-style ETH/USD, 0.5 % deviation, 1 h heartbeat, read by all three protocols",
        "aave: v2 WETH (LT 0.825, bonus 5 %, close factor 50 %); compound: v2 cETH (CF 75 %, incentive 8 %, close "
        "factor 50 %) on the Aave-rule engine; liquity: v1 mainnet; liquidators rational (pay after gas)",
        f"borrowers: {d['react_share']:.0%} of Aave/Compound owners top up (HF < 1.05 → 1.3) after "
        f"{d['react_delay_min']:.0f} min",
        "simplified: the venues' impact adds to a path that already holds the day's selling",
    ]


EVENT = ReplayEvent(
    name=NAME,
    title="ETH lending on 2021-05-19: Aave v2-, Compound v2- and Liquity-rule books on the real crash path",
    summary=(
        "On 2021-05-19 ETH fell from about 3,380 to under 1,900 within the day while gas spiked to ~2,000 gwei. "
        "The replay runs Aave v2 and Compound v2 rules and the Liquity v1 unit on books sampled to match the "
        "published pre-crash aggregates, on the recorded ETH path bridged to one-minute steps, selling into the "
        "day's Uniswap v2 pool and a CEX book, with rational liquidators paying the day's gas."
    ),
    needs=[ETH, POOL, GAS, COMPOUND, AAVE],
    priors=PRIORS, outcomes=OUTCOMES, inputs=inputs, prepare=prepare, member=member, settings=SETTINGS,
    sensitivity=("liquity_debt", "gas_percentile", "depth_1pct"), assumptions=assumptions, main_run="lending",
)
