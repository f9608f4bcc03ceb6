"""Replay of 2021-05-19: three ETH lending protocols on the real ETH path of the May 2021 crash.

Real inputs (``stablesims/`` in the data folder):

* ``eth/05-19-2021.json`` — CoinAPI ETH/USD 10-minute bars of the day (00:00-24:00 UTC); the
  path is the first bar's open, then every bar's close (one step per bar): 3,376 -> 1,945 at
  the 13:00 UTC close (the intrabar low of 1,862 is not on the path);
* ``eth_dai_liquidity/05-19-2021.json`` — Uniswap v2 DAI/WETH reserves every 10 minutes: the
  pool's median liquidity ``sqrt(x·y)`` of the day, placed at the start price, is a
  constant-product venue (0.3 % fee);
* ``gas/05-19-2021.json`` — gas-price percentiles: the liquidators' cost per call is the
  90th-percentile gas price (median over the two hours around the ETH low) × 400,000 gas × the
  ETH price then (one cost for every protocol's call; a stated assumption).

Model (a scenario built in code, :mod:`liqcascade.replay._build`): assets WETH, USDC, LUSD
(stablecoins fixed at 1); two WETH venues sharing the sales — the Uniswap pool above and an
order book standing for the centralised exchanges (the *shape* of the calm 2025 Binance BTC ask
curve, ``calibration.params.BTC_ASK_DEPTH_CALM_USD``, scaled to US$60M within 1 %: no 2021 ETH
depth file exists, so the level is an assumption; 30-minute impact half-life), arbitraged
toward the recorded path; one Chainlink-style ETH/USD feed (0.5 % deviation, 1 h heartbeat) on
the book, read by all three protocols; liquidators rational (a liquidation happens only when it
pays after gas).

* ``aave`` (kind ``aave_v3``) with Aave v2's WETH parameters (LT 0.825 as calibrated on the
  Aave v2 user files, 5 % bonus, no protocol fee) and v2's fixed 50 % close factor
  (``close_factor_rule = "fixed"``); USDC debt;
* ``compound`` (kind ``comet``): a Compound v3 unit with cUSDCv3's launch WETH factors (borrowCF
  0.825, liquidateCF 0.895, LF 0.95; store-front factor 0.5, target reserves US$5M, no reserves at
  the start) — Compound v3 did not exist in 2021: this is the v3 rule set on a May 2021 book;
* ``liquity`` (kind ``liquity``): Liquity v1 mainnet (MCR 110 %, CCR 150 %, recovery mode,
  Stability Pool holding 60 % of the LUSD debt over three depositors who sell half of their ETH
  gains at once, redistribution when it is empty).

**Books are synthetic and scaled**: each is drawn with :func:`liqcascade.positions.synth.synth_book`
(debt sizes and health factors fitted on the Compound v2 borrower snapshot) and scaled so the
total debts are US$1.2B (Aave, USDC), US$0.8B (Compound, USDC) and US$0.8B (Liquity, LUSD) — the
order of magnitude of ETH-collateralised stablecoin debt in each protocol in May 2021, not a
measurement. The drawn health factor is taken under LT (Aave), borrowCF (Compound: accounts were
opened within their borrowing power) and MCR·1.3/1.1 (Liquity: ICR = 1.3·HF, so the median
trove starts near 240 %); Liquity troves under 2,000 LUSD (min net debt + gas reserve) are left out.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from . import ReplayEvent, ReplayOptions, ReplayResult, Sensitivity
from ._build import finite, run_scenario, write_price_csv, write_wide_csv

ETH = "stablesims/eth/05-19-2021.json"
POOL = "stablesims/eth_dai_liquidity/05-19-2021.json"
GAS = "stablesims/gas/05-19-2021.json"

DEBT_USD = {"aave": 1.2e9, "compound": 0.8e9, "liquity": 0.8e9}
N_POSITIONS = 3000
N_POSITIONS_QUICK = 400
GAS_UNITS = 400_000.0
GAS_PERCENTILE = 90.0
GAS_WINDOW_S = 3600.0  # ± around the bar of the ETH low
BOOK_DEPTH_1PCT = 60e6
BOOK_HALF_LIFE_SECONDS = 1800.0  # 30 minutes (3 steps of 10 minutes)
POOL_FEE = 0.003
ORACLE_DEVIATION = 0.005
ORACLE_HEARTBEAT_S = 3600.0
SP_SHARE = 0.60
LIQUITY_ICR_PER_HF = 1.3
LIQUITY_MIN_DEBT = 2000.0

GAS_ROWS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
GAS_ROWS_QUICK = (0.0, 4.0)
DEV_ROWS = (0.005, 0.01, 0.02, 0.05)
DEV_ROWS_QUICK = (0.005, 0.02)
DEPTH_ROWS = (0.5, 1.0, 2.0, 4.0)
DEPTH_ROWS_QUICK = (0.5, 2.0)

PROTOCOLS = ("aave", "compound", "liquity")
OVERRIDES = {"positions": int, "gas_multiplier": float, "oracle_deviation": float, "depth_multiplier": float,
             "liquidators": str}


def _options(options: ReplayOptions) -> dict:
    from ..errors import InputError

    out = {"positions": N_POSITIONS_QUICK if options.quick else N_POSITIONS, "gas_multiplier": 1.0,
           "oracle_deviation": ORACLE_DEVIATION, "depth_multiplier": 1.0, "liquidators": "rational"}
    for k, v in (options.overrides or {}).items():
        if k not in OVERRIDES:
            raise InputError("replay 2021-05-19", f"--set {k}", f"unknown knob (known: {', '.join(OVERRIDES)})")
        if k == "liquidators":
            if v not in ("rational", "mechanical"):
                raise InputError("replay 2021-05-19", "--set liquidators", f"must be rational or mechanical, got {v!r}")
            out[k] = v
            continue
        try:
            x = OVERRIDES[k](v)
        except (TypeError, ValueError):
            raise InputError("replay 2021-05-19", f"--set {k}", f"not a number: {v!r}") from None
        ok = math.isfinite(x) and (x >= 0 if k == "gas_multiplier" else x > 0)
        if k == "positions":
            ok = 10 <= x <= 200_000
        if k == "oracle_deviation":
            ok = ok and x < 1
        if not ok:
            raise InputError("replay 2021-05-19", f"--set {k}", f"out of range: {v!r}")
        out[k] = x
    return out


def load_inputs(data_dir: Path) -> dict:
    """ETH path, pool liquidity and gas cost (InputError naming the file on bad data)."""
    from ..data.bars import load_ohlcv_json
    from ..data.gas import load_gas_json
    from ..data.uniswap import load_uniswap_reserves
    from ..errors import InputError

    bars = load_ohlcv_json(data_dir / ETH)
    if len(bars) < 24:
        raise InputError(str(data_dir / ETH), None, f"expected a day of 10-minute bars, found {len(bars)}")
    d = np.diff(bars.time_s)
    if not np.allclose(d, 600.0):
        i = int(np.flatnonzero(~np.isclose(d, 600.0))[0]) + 1
        raise InputError(str(data_dir / ETH), f"record {i}, field 'time_period_start'", "bars are not 10 minutes apart")
    times = np.concatenate([[bars.time_s[0]], bars.time_s + 600.0])
    prices = np.concatenate([[bars.open[0]], bars.close])
    res = load_uniswap_reserves(data_dir / POOL, asset="WETH", quote="DAI")
    liquidity = float(np.median(res.invariant))
    gas = load_gas_json(data_dir / GAS)
    try:
        g = gas.gwei(GAS_PERCENTILE)
    except KeyError:
        raise InputError(str(data_dir / GAS), f"'{GAS_PERCENTILE} Perc'", "percentile field missing") from None
    j = int(np.argmin(bars.close))
    t_low = float(bars.time_s[j])
    win = np.abs(gas.time_s - t_low) <= GAS_WINDOW_S
    if not win.any() or not np.isfinite(g[win]).any():
        raise InputError(str(data_dir / GAS), "timestamp", "no gas record within an hour of the ETH low")
    gwei = float(np.nanmedian(g[win]))
    eth_then = float(bars.close[j])
    return {"times": times, "prices": prices, "t_low": t_low, "low_close": float(bars.close[j]),
            "low_intrabar": float(bars.low.min()), "liquidity": liquidity, "pool_fee": POOL_FEE,
            "gas_gwei": gwei, "gas_usd": gwei * 1e-9 * GAS_UNITS * eth_then, "n_pool_snapshots": len(res)}


def synth_books(n: int, seed: int, p0: float) -> dict:
    """Synthetic, scaled books: {protocol: (collateral WETH, debt)}."""
    from ..positions.synth import synth_book

    out = {}
    lts = {"aave": 0.825, "compound": 0.825, "liquity": 1.0 / LIQUITY_ICR_PER_HF}
    for k, name in enumerate(PROTOCOLS):
        coll, debt = synth_book(n, np.random.SeedSequence([int(seed), 20210519, k]), p0, lts[name])
        s = DEBT_USD[name] / float(debt.sum())
        coll, debt = coll * s, debt * s
        if name == "liquity":
            keep = debt >= LIQUITY_MIN_DEBT
            coll, debt = coll[keep], debt[keep]
            s2 = DEBT_USD[name] / float(debt.sum())  # rescale after dropping small troves (>= 1)
            coll, debt = coll * s2, debt * s2
        out[name] = (coll, debt)
    return out


def _book_depth(mult: float) -> list:
    from ..calibration.params import BTC_ASK_DEPTH_CALM_USD, BTC_ASK_DEPTH_FRACTIONS

    scale = BOOK_DEPTH_1PCT * mult / BTC_ASK_DEPTH_CALM_USD[0]
    return [[float(k), float(q * scale)] for k, q in zip(BTC_ASK_DEPTH_FRACTIONS, BTC_ASK_DEPTH_CALM_USD)]


def scenario_doc(inp: dict, o: dict, seed: int) -> dict:
    p0 = float(inp["prices"][0])
    steps = int(inp["prices"].size - 1)
    debt_lusd = DEBT_USD["liquity"]
    sp = SP_SHARE * debt_lusd
    return {
        "name": "replay-2021-05-19",
        "description": "Aave-, Compound v3- and Liquity-rule books on the ETH path of 2021-05-19, Uniswap v2 pool + CEX book",
        "simulation": {"steps": steps, "dt_seconds": 600.0, "paths": 1, "seed": int(seed)},
        "assets": [{"name": "WETH", "price": p0}, {"name": "USDC", "price": 1.0, "stable": True},
                   {"name": "LUSD", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": {"WETH": "eth.csv"}},
        "venues": [
            {"name": "cex-book", "asset": "WETH", "kind": "book", "depth": _book_depth(o["depth_multiplier"]),
             "half_life_seconds": BOOK_HALF_LIFE_SECONDS},
            {"name": "uniswap-v2-dai-weth", "asset": "WETH", "kind": "cpmm",
             "reserve_asset": inp["liquidity"] / math.sqrt(p0), "fee": inp["pool_fee"]},
        ],
        "oracles": [{"name": "eth-usd", "asset": "WETH", "kind": "heartbeat", "sources": ["cex-book"],
                     "deviation": float(o["oracle_deviation"]), "heartbeat_seconds": ORACLE_HEARTBEAT_S}],
        "protocols": [
            {"name": "aave", "kind": "aave_v3", "positions": "aave.csv", "collateral": "WETH", "debt": "USDC",
             "close_factor_rule": "fixed", "close_factor": 0.5, "oracles": {"WETH": "eth-usd"},
             "params": {"WETH": {"ltv": 0.80, "liquidation_threshold": 0.825, "liquidation_bonus": 0.05,
                                 "protocol_fee": 0.0}}},
            {"name": "compound", "kind": "comet", "positions": "compound.csv", "collateral": "WETH", "debt": "USDC",
             "oracles": {"WETH": "eth-usd"},
             "config": {"base": "USDC", "store_front_price_factor": 0.5, "target_reserves": 5e6,
                        "borrow_min": 100.0, "initial_reserves": 0.0,
                        "assets": {"WETH": {"borrow_collateral_factor": 0.825, "liquidate_collateral_factor": 0.895,
                                            "liquidation_factor": 0.95}}}},
            {"name": "liquity", "kind": "liquity", "preset": "v1-mainnet", "positions": "liquity.csv",
             "collateral": "WETH", "debt": "LUSD", "oracles": {"WETH": "eth-usd"},
             "config": {"depositors": [0.5 * sp, 0.3 * sp, 0.2 * sp], "sp_sells": 0.5, "sequences_per_step": 2}},
        ],
        "liquidators": {"mode": o["liquidators"], "gas_cost": float(inp["gas_usd"] * o["gas_multiplier"])},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": True},
    }


def run_once(inp: dict, o: dict, seed: int):
    books = synth_books(int(o["positions"]), seed, float(inp["prices"][0]))
    files = {"eth.csv": partial(_write_path, inp)}
    for name, (c, d) in books.items():
        files[f"{name}.csv"] = partial(write_wide_csv, prefix=f"{name}-", coll=c, debt=d)
    c, res = run_scenario(scenario_doc(inp, o, seed), files, "replay 2021-05-19")
    return c, res, books


def _write_path(inp, path):
    write_price_csv(path, inp["times"] - inp["times"][0], inp["prices"])


def per_protocol(res, books) -> dict:
    """Liquidations, liquidated collateral (USD at the oracle), bad debt per protocol (path 0)."""
    ev = res.events
    out = {}
    for name in PROTOCOLS:
        m = (ev["protocol"] == name) & (ev["position"] != "(protocol)")
        out[name] = {
            "liquidations": float(np.count_nonzero(m)),
            "liquidated_collateral_usd": float(np.sum(ev["collateral_seized"][m] * ev["oracle_price"][m])),
            "bad_debt_usd": float(np.sum(ev["bad_debt"][m])),
            "debt_usd": float(np.sum(books[name][1])),
        }
    u = res.unit_totals.get("liquity", {})
    out["liquity"]["redistributed_debt_lusd"] = float(u.get("redistributed_debt", 0.0))
    c = res.unit_totals.get("compound", {})
    out["compound"]["bad_debt_usd"] = float(c.get("shortfall", out["compound"]["bad_debt_usd"]))
    return out


def metrics(res, books, inp) -> dict:
    from ..kernels import dynamic as K

    pp = per_protocol(res, books)
    spot = res.steps_asset[0, :, 0, K.ST_SPOT]
    oracle = res.steps_asset[0, :, 0, K.ST_ORACLE]
    ref = inp["prices"]
    dd_ref = 1.0 - float(np.min(ref)) / float(ref[0])
    dd_spot = 1.0 - float(np.min(spot)) / float(ref[0])
    head = {}
    for name in PROTOCOLS:
        for k, v in pp[name].items():
            head[f"{name}_{k}"] = finite(v)
    head["liquidations"] = finite(sum(pp[n]["liquidations"] for n in PROTOCOLS))
    head["liquidated_collateral_usd"] = finite(sum(pp[n]["liquidated_collateral_usd"] for n in PROTOCOLS))
    head["bad_debt_usd"] = finite(sum(pp[n]["bad_debt_usd"] for n in PROTOCOLS))
    head["price_min_path"] = finite(np.min(ref))
    head["price_min_venues"] = finite(np.min(spot))
    head["price_min_oracle"] = finite(np.min(oracle))
    head["drawdown_path"] = finite(dd_ref)
    head["drawdown_venues"] = finite(dd_spot)
    head["amplification"] = finite(dd_spot / dd_ref) if dd_ref > 0 else float("nan")
    return head


def run(options: ReplayOptions) -> ReplayResult:
    data_dir = Path(options.data_dir)
    o = _options(options)
    inp = load_inputs(data_dir)
    seed = int(options.seed)
    c, res, books = run_once(inp, o, seed)
    head = metrics(res, books, inp)
    head["gas_cost_usd"] = float(inp["gas_usd"] * o["gas_multiplier"])
    head["gas_gwei_p90"] = float(inp["gas_gwei"])

    cols = ["liquidations", "aave_liquidations", "compound_liquidations", "liquity_liquidations",
            "liquidated_collateral_usd", "bad_debt_usd", "aave_bad_debt_usd", "compound_bad_debt_usd",
            "liquity_redistributed_debt_lusd", "price_min_venues"]

    def table(key, values, param):
        rows = []
        for v in values:
            if v == o[key]:
                m = head
            else:
                m = metrics(*run_once(inp, {**o, key: v}, seed)[1:], inp)
            rows.append({"value": float(v), **{k: m[k] for k in cols}})
        return Sensitivity(param, cols, rows)

    q = options.quick
    sens = [
        table("gas_multiplier", GAS_ROWS_QUICK if q else GAS_ROWS,
              f"gas cost multiplier (1 = ${inp['gas_usd']:,.0f} per call)"),
        table("oracle_deviation", DEV_ROWS_QUICK if q else DEV_ROWS, "oracle deviation threshold"),
    ]
    if not q:
        sens.append(table("depth_multiplier", DEPTH_ROWS, f"CEX book depth multiplier (1 = ${BOOK_DEPTH_1PCT / 1e6:,.0f}M within 1 %)"))

    n_liq = len(books["liquity"][1])
    from datetime import datetime, timezone

    t_low = datetime.fromtimestamp(inp["t_low"], timezone.utc).strftime("%H:%M")
    assumptions = [
        f"real: ETH/USD 10-minute bars of 2021-05-19 ({ETH}): open {inp['prices'][0]:,.0f}, lowest close "
        f"{inp['low_close']:,.0f} at {t_low} UTC (intrabar low {inp['low_intrabar']:,.0f}, not on the path)",
        f"real: Uniswap v2 DAI/WETH reserves ({POOL}, {inp['n_pool_snapshots']} snapshots): median liquidity "
        f"sqrt(x·y) = {inp['liquidity']:,.0f} placed at the start price, 0.3 % fee",
        f"real: gas ({GAS}): {GAS_PERCENTILE:g}th-percentile {inp['gas_gwei']:,.0f} gwei (median within 1 h of the low) "
        f"x {GAS_UNITS:,.0f} gas (assumed per call, all protocols) = ${inp['gas_usd']:,.0f} per liquidation",
        f"assumed: a CEX order book with the calm 2025 Binance BTC ask-curve shape scaled to "
        f"${BOOK_DEPTH_1PCT * o['depth_multiplier'] / 1e6:,.0f}M within 1 % (no 2021 ETH depth data), "
        f"{BOOK_HALF_LIFE_SECONDS / 60:g}-minute impact half-life; both venues arbitraged toward the recorded path",
        f"oracle: Chainlink-style ETH/USD on the book, {o['oracle_deviation']:.2%} deviation, 1 h heartbeat, "
        "read by all three protocols",
        f"synthetic, scaled books ({int(o['positions'])} positions each before filters, positions.synth shape fitted on "
        f"Compound v2 borrowers): debt $1.2B Aave (USDC), $0.8B Compound (USDC), $0.8B Liquity (LUSD, {n_liq} troves "
        f">= {LIQUITY_MIN_DEBT:,.0f}) — orders of magnitude for May 2021, not measured",
        "aave: Aave v2 WETH parameters (LT 0.825, 5 % bonus, no protocol fee) with v2's fixed 50 % close factor",
        "compound: Compound v3 (Comet) rules with cUSDCv3 launch WETH factors (0.825 / 0.895 / LF 0.95) — v3 did not "
        "exist in May 2021",
        f"liquity: v1 mainnet rules, Stability Pool = {SP_SHARE:.0%} of LUSD debt (3 depositors selling half their "
        f"ETH gains), ICR = {LIQUITY_ICR_PER_HF:g} x the drawn health factor; its losses are redistributed, not bad debt; "
        "a rational keeper calls batchLiquidateTroves with the troves whose gas compensation "
        "(200 LUSD + 0.5 % of the collateral) covers the gas and leaves the others out",
        f"liquidators: {o['liquidators']} (a liquidation happens only when it pays after gas)"
        if o["liquidators"] == "rational" else "liquidators: mechanical (every liquidatable position, gas paid)",
        "simplified: the venues' sales add impact on top of a path that already contains the real day's selling "
        "(amplification = venue drawdown / path drawdown)",
    ]
    res.notes.extend([
        "replay 2021-05-19: books are synthetic and scaled (positions.synth shape), not snapshots",
        "replay 2021-05-19: the CEX book's depth level is assumed (2025 BTC curve shape scaled to 2021 ETH)",
        "replay 2021-05-19: one gas cost per call for every protocol (90th-percentile gas x 400,000 gas)",
        "replay 2021-05-19: Compound is run with Compound v3 (Comet) rules; Aave with v2 parameters and close factor",
    ])
    return ReplayResult(
        event=EVENT.name, title=EVENT.title, headline=head, assumptions=assumptions, sensitivity=sens,
        run=res, compiled=c,
        extra={"steps": int(inp["prices"].size - 1), "dt_seconds": 600.0, "seed": seed, "quick": bool(q),
               "debt_usd": dict(DEBT_USD), "book_depth_1pct_usd": BOOK_DEPTH_1PCT * o["depth_multiplier"]},
    )


EVENT = ReplayEvent(
    name="2021-05-19",
    title="ETH lending on 2021-05-19: Aave-, Compound- and Liquity-rule books on the real crash path",
    summary=(
        "On 2021-05-19 ETH fell from about 3,380 to under 1,900 within the day (a 32 % one-hour drop) while gas "
        "spiked to ~2,000 gwei. The replay runs an Aave-rule market (v2 WETH parameters), a Compound v3 unit "
        "and a Liquity v1 unit with synthetic, scaled books on the recorded 10-minute ETH path, selling into the "
        "day's Uniswap v2 DAI/WETH pool and a CEX order book, with rational liquidators paying the day's gas, "
        "and tables gas, oracle deviation and depth against liquidations and bad debt."
    ),
    needs=[ETH, POOL, GAS],
    run=run,
)
