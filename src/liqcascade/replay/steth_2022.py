"""Replay of the June 2022 stETH discount: E-mode loops on the recorded stETH/ETH path.

In June 2022 stETH traded down to about 0.93 ETH (Celsius and 3AC unwinding, no withdrawals
from the beacon chain before the Shapella upgrade of April 2023). The replay drives a Curve-style
StableSwap stETH/ETH pool along the recorded ratio (CoinGecko hourly stETH and WETH in USD; the
flow that moved the real pool) and lets a book of Aave v3 E-mode wstETH/WETH loops (LT 95 %,
bonus 1 %) sell into it. Everything is priced in ETH. The loops are *today's* rules on June
2022's market (E-mode did not exist on Aave v2, where the 2022 loops were): the replay asks what
that discount does to such a book, and the oracle switch (``--set fundamental_oracle=1``: Aave's
exchange-rate pricing) shows that the answer is decided by the oracle. No published count of
liquidations exists for such a book, so no record is placed on the bands.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import Input, MemberResult, Outcome, Prior, ReplayEvent, Setting
from ._build import finite, run_scenario, write_price_csv, write_wide_csv

NAME = "2022-06-18"
STETH = "hourly_prices_2021_2024/coingecko/stETH_usd.csv"
WETH = "hourly_prices_2021_2024/coingecko/WETH_usd.csv"
START = 1654041600.0  # 2022-06-01T00:00:00Z
DT = 3600.0
STEPS = 600  # 25 days: the low (06-18) and the partial recovery after it
LT = 0.95  # Aave v3 "ETH correlated" E-mode (protocol-mechanics.md §1.10)
BONUS = 0.01
LTV = 0.93
ORACLE_DEVIATION = 0.005  # stETH/ETH market feed: the planned 0.5 % (protocol-mechanics.md §7.1 table)
ORACLE_HEARTBEAT_S = 86400.0
FEE = 0.0004  # the stETH/ETH pool's 4 bp

# Priors. Fixed before any ensemble was run; there is no record to compare with (E-mode loops did
# not exist in June 2022), so nothing can have been tuned to one.
PRIORS = [
    Prior("pool_steth", "stETH in the pool at the start", "loguniform", 3e5, 9e5,
          "assumption: the Curve stETH/ETH pool held several hundred thousand stETH in June 2022 "
          "(no pre-event snapshot in the data); a factor-3 range", "stETH"),
    Prior("amp", "the pool's amplification A", "uniform", 30.0, 100.0,
          "assumption: a two-coin LST pool's A of tens to a hundred (the pool's own history is not in the data)",
          min=1.0, max=5000.0),
    Prior("loops_wsteth", "wstETH held by the E-mode loops", "loguniform", 3e4, 3e5,
          "assumption: 5-50 % of the pool's stETH; Aave v2 held more stETH than that in loops in 2022, "
          "not in E-mode", "wstETH"),
    Prior("tight_share", "share of loops at HF 1.02-1.10 (8-15x leverage)", "uniform", 0.3, 0.8,
          "assumption: looping positions cluster just above the threshold", min=0.0, max=1.0),
    Prior("exchange_rate", "wstETH exchange rate (stETH per wstETH)", "uniform", 1.05, 1.08,
          "assumption: ~4 %/year of staking rewards from 1.0 at the wstETH launch (Feb 2021)", min=1.0, max=2.0),
    Prior("gas_eth", "gas per liquidation", "loguniform", 0.003, 0.03,
          "assumption: 300k gas at 10-100 gwei", "ETH", min=0.0),
]

OUTCOMES = [
    Outcome("loops_liquidated", "loops liquidated", "count", None, "positions with at least one liquidation"),
    Outcome("collateral_liquidated_eth", "collateral liquidated (ETH)", "count", None,
            "wstETH seized, at the oracle price of each liquidation"),
    Outcome("bad_debt_eth", "bad debt (ETH)", "count", None, "WETH debt left without collateral"),
    Outcome("pool_discount_max", "deepest pool discount to the exchange rate", "share", None,
            "1 − pool price / fundamental at the worst step"),
    Outcome("end_gap", "pool below the recorded path at the end", "share", None,
            "1 − pool price / the recorded path's price after 25 days (the liquidation sales left in the pool)"),
]

SETTINGS = [
    Setting("positions", 400, 100, 10, 100_000, "loops in the book", int),
    Setting("fundamental_oracle", 0, 0, 0, 1, "1: the protocol prices wstETH by its exchange rate (Aave v3)", int),
]


def inputs() -> list[Input]:
    out = [
        Input("steth_usd", "real file", "stETH in USD, hourly: the numerator of the stETH/ETH ratio", STETH),
        Input("weth_usd", "real file", "WETH in USD, hourly: the denominator", WETH),
        Input("emode", "published aggregate", "Aave v3 ETH-correlated E-mode: LTV 93 %, LT 95 %, bonus 1 %",
              "protocol-mechanics.md §1.10 (governance values 2023-24)", value={"lt": LT, "bonus": BONUS}),
        Input("oracle", "published aggregate", "stETH/ETH market feed: 0.5 % deviation, 24 h heartbeat",
              "protocol-mechanics.md §7.1 (stETH/ETH: 2 %, later planned 0.5 %; 24 h)",
              value={"deviation": ORACLE_DEVIATION, "heartbeat_s": ORACLE_HEARTBEAT_S}),
        Input("pool_fee", "published aggregate", "Curve stETH/ETH fee 4 bp, half to the DAO",
              "the legacy pools' 0.04 % fee and 50 % admin share (venues/stableswap/README.md)", value=FEE),
        Input("no_redemption", "assumption", "no arbitrage pulls the pool back to 1",
              "stETH could not be redeemed before the Shapella upgrade (April 2023)"),
        Input("numeraire", "assumption", "everything priced in ETH (WETH at 1)", "the loops' debt is WETH"),
        Input("hf_shape", "assumption", "health factors uniform in 1.02-1.10 (tight share) and 1.10-1.60; sizes "
              "lognormal (σ 1.6)", "no pre-event snapshot of such a book"),
    ]
    for p in PRIORS:
        out.append(Input(p.name, "assumption", p.label, p.source, prior=p))
    return out


def prepare(data_dir: Path, settings: dict) -> dict:
    from ..pegs.series import read_prices

    data_dir = Path(data_dir)
    t_s, p_s = read_prices(data_dir / STETH)
    t_e, p_e = read_prices(data_dir / WETH)
    end = START + STEPS * DT
    for f, t in ((STETH, t_s), (WETH, t_e)):
        if t[0] > START or t[-1] < end:
            raise InputError(str(data_dir / f), "timestamp", "does not cover 2022-06-01 .. 2022-06-26")
    grid = START + DT * np.arange(STEPS + 1)
    ratio = np.interp(grid, t_s, p_s) / np.interp(grid, t_e, p_e)
    return {"grid": grid, "ratio": ratio, "settings": dict(settings)}


def book(d: dict, n: int, price: float, rng) -> tuple[np.ndarray, np.ndarray]:
    size = np.exp(1.6 * rng.standard_normal(n))
    coll = d["loops_wsteth"] * size / size.sum()
    tight = rng.random(n) < d["tight_share"]
    hf = np.where(tight, rng.uniform(1.02, 1.10, n), rng.uniform(1.10, 1.60, n))
    return coll, coll * price * LT / hf


def scenario_doc(d: dict, p0: float, seed: int, fundamental: bool) -> dict:
    return {
        "name": f"replay-{NAME}",
        "simulation": {"steps": STEPS, "dt_seconds": DT, "paths": 1, "seed": int(seed) % (2**63)},
        "assets": [{"name": "wstETH", "price": p0}, {"name": "WETH", "price": 1.0, "stable": True}],
        "pegs": [{"asset": "wstETH", "fundamental": d["exchange_rate"], "drift_per_year": 0.04,
                  "series": {"numerator": "ratio.csv", "start": repr(START)}}],
        "venues": [{"name": "curve-steth", "asset": "wstETH", "kind": "stableswap",
                    "reserve_asset": d["pool_steth"] / d["exchange_rate"], "rate": d["exchange_rate"],
                    "amp": d["amp"], "fee": FEE, "admin_fee": 0.5}],
        "oracles": [{"name": "wsteth-eth", "asset": "wstETH", "kind": "heartbeat", "deviation": ORACLE_DEVIATION,
                     "heartbeat_seconds": ORACLE_HEARTBEAT_S, "reads": "fundamental" if fundamental else "market"}],
        "protocols": [{"name": "aave-emode", "kind": "aave_v3", "positions": "loops.csv", "collateral": "wstETH",
                       "debt": "WETH", "close_factor_rule": "v3.3", "oracles": {"wstETH": "wsteth-eth"},
                       "params": {"wstETH": {"ltv": LTV, "liquidation_threshold": LT, "liquidation_bonus": BONUS,
                                             "protocol_fee": 0.10}}}],
        "liquidators": {"mode": "rational", "gas_cost": d["gas_eth"]},
        "arbitrage": {"enabled": False, "to_reference": False},
    }


def member(ctx: dict, d: dict, seed: int, keep: bool = False) -> MemberResult:
    from ..kernels import dynamic as K

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20220618]))
    ratio = ctx["ratio"]
    st = ctx["settings"]
    p0 = d["exchange_rate"] * float(ratio[0])
    coll, debt = book(d, st["positions"], p0, rng)
    files = {"ratio.csv": partial(write_price_csv, times_s=ctx["grid"], prices=ratio),
             "loops.csv": partial(write_wide_csv, prefix="loop-", coll=coll, debt=debt)}
    c, res = run_scenario(scenario_doc(d, p0, seed, bool(st["fundamental_oracle"])), files, f"replay {NAME}")
    ev = res.events
    m = ev["position"] != "(protocol)"
    spot = res.steps_asset[0, :, 0, K.ST_SPOT]
    t = DT * np.arange(spot.size)
    fund = d["exchange_rate"] * np.exp(0.04 * t / (365.0 * 86400.0))
    path = p0 * fund * ratio[: spot.size] / (fund[0] * ratio[0])
    out = {
        "loops_liquidated": float(np.unique(ev["position"][m]).size),
        "collateral_liquidated_eth": float(np.sum(ev["collateral_seized"][m] * ev["oracle_price"][m])),
        "bad_debt_eth": float(np.sum(ev["bad_debt"][m])),
        "pool_discount_max": finite(np.max(1.0 - spot / fund)),
        "end_gap": finite(1.0 - spot[-1] / path[-1]),
        # detail
        "recorded_discount_max": finite(np.max(1.0 - ratio)),
        "book_wsteth": float(coll.sum()),
        "start_price": p0,
    }
    notes = [f"{coll.size:,} loops, {coll.sum():,.0f} wstETH; pool {d['pool_steth']:,.0f} stETH at A = {d['amp']:.0f}; "
             f"oracle: {'exchange rate (fundamental)' if st['fundamental_oracle'] else 'stETH/ETH market feed'}"]
    return MemberResult(out, {"loops": (c, res)} if keep else {}, notes)


def assumptions(d: dict, settings: dict, res: MemberResult) -> list[str]:
    o = res.outcomes
    return [
        f"real: CoinGecko hourly stETH and WETH in USD ({STETH}, {WETH}); their ratio from 2022-06-01 for 25 days "
        f"(deepest recorded discount {o['recorded_discount_max']:.1%}) drives the pool: each hour an outside "
        "trader moves it along the recorded ratio",
        f"pool: a two-coin StableSwap of {d['pool_steth']:,.0f} stETH and the ETH that prices it at the start "
        f"discount, A = {d['amp']:.0f}, 4 bp fee; no redemption arbitrage (before Shapella)",
        f"book: {settings['positions']:,} Aave v3 E-mode loops (LT 95 %, bonus 1 %), {o['book_wsteth']:,.0f} wstETH, "
        f"{d['tight_share']:.0%} of them at HF 1.02-1.10; exchange rate {d['exchange_rate']:.3f} growing 4 %/year",
        ("oracle: the exchange rate (Aave v3's wstETH adapter)" if settings["fundamental_oracle"] else
         "oracle: a stETH/ETH market feed over the pool (0.5 % deviation, 24 h heartbeat)"),
        f"liquidators rational, {d['gas_eth']:.3f} ETH of gas per liquidation",
        "simplified: today's E-mode rules on June 2022's market (there was no E-mode then); the recorded ratio "
        "already holds the real liquidations of 2022, and the book's sales come on top of it",
    ]


EVENT = ReplayEvent(
    name=NAME,
    title="stETH discount of June 2022: Aave E-mode wstETH loops on the recorded stETH/ETH path",
    summary=(
        "In June 2022 stETH traded down to about 0.93 ETH while it could not be redeemed. The replay drives a "
        "Curve-style StableSwap stETH/ETH pool along the recorded hourly ratio and lets Aave v3 E-mode "
        "wstETH/WETH loops (LT 95 %) sell into it, with a stETH/ETH market oracle (or, with "
        "--set fundamental_oracle=1, Aave's exchange-rate pricing). E-mode did not exist in 2022: no record "
        "of such a book's liquidations exists, so none is placed on the bands."
    ),
    needs=[STETH, WETH],
    priors=PRIORS, outcomes=OUTCOMES, inputs=inputs, prepare=prepare, member=member, settings=SETTINGS,
    sensitivity=("loops_wsteth", "pool_steth", "tight_share"), assumptions=assumptions, main_run="loops",
)
