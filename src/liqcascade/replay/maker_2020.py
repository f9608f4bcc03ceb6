"""Replay of 2020-03-12 ("Black Thursday"): MakerDAO's 2020 flip English auctions on the real
ETH path, with keepers priced out by the real gas percentiles.

What is real (files under the data folder, ``stablesims/``):

* the ETH/USD path, 10-minute CoinAPI bars (``eth/03-12-2020.json``), bridged to one-minute
  steps through each bar's high and low (:mod:`liqcascade.replay.bridge`) and divided by the
  DAI/USD bars of the day (``dai_black_thursday_10min.json``, linear between closes) so the
  collateral is priced in DAI, the system's unit;
* Ethereum gas-price percentiles per minute (``gas/gas_black_thursday_1min.json``; the minutes
  without transactions take the 10-minute file's value, ``gas/03-12-2020.json``);
* the Compound v2 borrower sample (``compound_v2_borrowers_2023/``): the *shape* of the vaults'
  health factors and debt sizes (:mod:`liqcascade.replay.books`).

Published aggregates (fixed values; citations in :func:`inputs`): the flip parameters reported
for March 2020 (``tau`` 6 h, ``beg`` 3 %, ``lump`` 50 ETH, ``chop`` 13 %, ``mat`` 150 %; the
reported 10-minute ``ttl`` is the mode of a prior, the reference marks it unverified), the
one-hour OSM.

Everything else is an assumption with a stated prior (:data:`PRIORS`): the size of the ETH-A book
(total debt and ETH locked, from the nearest published figures before the crash), the number of
vaults and their concentration, the largest vault, the keepers (count, capital, gas budgets, the
gas percentile they pay, gas per bid, required margin), the ETH/DAI venue (depth, recovery) and
the share of owners who topped up in time, the bid lifetime. **The priors were fixed before any ensemble was
compared with the record** (5.67M DAI bad debt, 36 % zero-bid auctions, US$8.32M of ETH won at
zero bids); the record is placed on the band afterwards and nothing is tuned to it.

The data end at 24:00 UTC; the run goes on ``extra_hours`` with the last price and gas held, so
that auctions kicked late can end. Bad debt is reported inside the data window and in that
extension separately (most late bites come from the OSM publishing the late-evening fall one to
two hours late).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import MemberResult, ReplayEvent, Setting
from .books import compound_sample, draw_book, scale_to, tilt, tilt_to_ratio
from .priors import Input, Outcome, Prior, Record

NAME = "2020-03-12"
ETH_FILE = "stablesims/eth/03-12-2020.json"
GAS_10MIN = "stablesims/gas/03-12-2020.json"
GAS_1MIN = "stablesims/gas/gas_black_thursday_1min.json"
DAI_FILE = "stablesims/dai_black_thursday_10min.json"
COMPOUND = "compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv"
PROTOCOL = "maker-eth-a-2020"

DT = 60.0  # one-minute steps: shorter than ttl, so a standing zero bid can be outbid
BAR = 600.0

# published flip / OSM parameters for March 2020 (see inputs())
TAU, BEG, LUMP, CHOP, MAT, OSM_HOP = 21_600.0, 0.03, 50.0, 0.13, 1.5, 3600.0
LOWBALL = 1e-18  # the near-zero bid (DAI)
NEAR_ZERO_DAI = 1.0  # a settled auction that paid less than this counts as won at a near-zero bid

# shape of the synthetic ETH/DAI book, as multiples of the depth within 1 % of mid
_DEPTH_SHAPE = ((0.005, 0.5), (0.01, 1.0), (0.02, 1.8), (0.05, 3.5), (0.10, 5.0), (0.20, 7.0))

# ---------------------------------------------------------------------------------------------
# Priors. Fixed before any ensemble was compared with the record (bad debt, zero-bid share,
# zero-bid collateral); the record is only placed on the band. Do not tune these to it.
PRIORS = [
    Prior("total_debt", "ETH-A debt before the crash", "uniform", 80e6, 130e6,
          "DAI supply hit its 100M ceiling in Nov 2019 and the ceiling was raised to 110-120M "
          "(twooxen.com 2019-11-07, defi.win); most DAI was drawn against ETH in March 2020", "DAI"),
    Prior("eth_locked", "ETH locked in ETH-A before the crash", "uniform", 1.6e6, 2.4e6,
          "1.65M ETH locked in Maker in June 2019 (Alethio, 2019-06-13); 'most of its collateral is in "
          "ETH' (Dragonfly Research, 2020-03-24)", "ETH"),
    Prior("n_vaults", "ETH-A vaults", "int_loguniform", 2000, 8000,
          "SCD had > 3,000 CDPs after 9 months (McDonald, medium 2018); MCD vaults from Nov 2019 "
          "(Alethio 2020-01-31); range assumed"),
    Prior("size_power", "debt-size concentration exponent (debt^γ of the sampled sizes)", "uniform", 0.5, 1.0,
          "γ = 1 keeps the Compound v2 sample's concentration (top 10 of 1,798 hold 50 %); lower γ "
          "spreads debt; assumption", min=0.05, max=2.0),
    Prior("whale_eth", "ETH in the largest vault", "uniform", 30_000, 60_000,
          "one vault lost ~35,000 ETH that day (WhiteRabbit, 2020-03-14): a vault at least that large existed "
          "before the crash", "ETH"),
    Prior("topup_share", "share of owners who top up in time", "uniform", 0.0, 0.3,
          "assumption: owners who added collateral before their bite (not recorded per vault)", min=0.0, max=1.0),
    Prior("n_keepers", "keepers bidding", "int_loguniform", 2, 32,
          "'a handful' of keepers ran auction bots (Black Thursday Response Thread, forum.makerdao.com, "
          "2020-03-12; Dragonfly 2020-03-24); range assumed", min=0, max=10_000),
    Prior("keeper_capital", "DAI a keeper can bid per minute", "loguniform", 5e3, 1e5,
          "assumption: DAI on hand per keeper (DAI traded at a premium that day: it was scarce)", "DAI"),
    Prior("gas_budget", "median keeper gas-price budget", "loguniform", 20.0, 500.0,
          "spans the day's 60th-percentile gas price (real file: 3-300 gwei); keepers used fixed or "
          "node-estimated gas prices (assumption)", "gwei"),
    Prior("budget_spread", "log-sd of budgets across keepers", "uniform", 0.2, 1.0, "assumption", min=0.0),
    Prior("gas_percentile", "gas percentile a bid must pay to be mined in its minute", "uniform", 30.0, 90.0,
          "the file's percentiles 30-90 (interpolated); assumption", min=30.0, max=100.0),
    Prior("gas_units", "gas per keeper bid", "uniform", 100e3, 300e3,
          "a flip tend/dent call costs 1-2e5 gas (assumption)", "gas"),
    Prior("ttl", "flip bid lifetime (ttl)", "triangular", 300.0, 1800.0,
          "reported as 10 minutes for March 2020 (protocol-mechanics.md §3.8, 'not verified'; the code default is "
          "3 h and governance raised it after the crash — Black Thursday Response Thread); range assumed", "s",
          mode=600.0, min=1.0),
    Prior("margin", "profit keepers require over the venue proceeds", "uniform", 0.0, 0.10, "assumption",
          min=0.0, max=0.99),
    Prior("depth_1pct", "ETH/DAI book depth within 1 % of mid", "loguniform", 0.5e6, 5e6,
          "assumption: no 2020 ETH/DAI depth in the data folder", "DAI"),
    Prior("half_life_min", "venue impact half-life", "uniform", 10.0, 60.0, "assumption", "min", min=0.0),
]

OUTCOMES = [
    Outcome("bad_debt", "bad debt", "money",
            Record(5.67e6, "WhiteRabbit, medium 2020-03-14 (protocol-mechanics.md §3.8)",
                   "the record covers 12-13 March; the replay's book is synthetic"),
            "DAI of debt left on the vow when auctions settled, data window and extension"),
    Outcome("bad_debt_in_window", "bad debt booked by 24:00 UTC", "money", None,
            "bad debt of auctions that settled inside the data window (12 March, 00:00-24:00 UTC)"),
    Outcome("bad_debt_extension", "bad debt booked in the extension", "money", None,
            "bad debt of auctions that settled after 24:00 UTC, at the held last price and gas"),
    Outcome("zero_bid_share", "share of settled auctions won at a near-zero bid", "share",
            Record(0.36, "WhiteRabbit, medium 2020-03-14 (§3.8)", "share of liquidations won with 0 bids"),
            "auctions that paid < 1 DAI over all settled auctions"),
    Outcome("zero_bid_collateral_usd", "ETH won at near-zero bids (US$ when settled)", "money",
            Record(8.32e6, "WhiteRabbit, medium 2020-03-14 (§3.8)", "ETH withdrawn through zero-bid auctions"),
            "ETH of near-zero-bid auctions at the ETH/USD price of their settlement minute"),
    Outcome("auctions", "auctions kicked", "count", None, "Cat.bite calls (each at most lump = 50 ETH)"),
    Outcome("collateral_liquidated_usd", "collateral won by bidders (US$ when settled)", "money", None,
            "ETH won by any bidder at the ETH/USD price of the settlement minute"),
    Outcome("debt_repaid", "debt repaid through auctions", "money", None, "DAI raised by auctions"),
]

SETTINGS = [
    Setting("extra_hours", 6.0, 6.0, 0.0, 72.0, "hours simulated after the data end (last price and gas held)"),
    Setting("vault_fraction", 1.0, 0.25, 0.01, 1.0, "fraction of the n_vaults prior to build (--quick: 0.25)"),
]


def inputs() -> list[Input]:
    out = [
        Input("eth_usd", "real file", "ETH/USD 10-minute bars, bridged to 1-minute steps through each bar's high/low",
              ETH_FILE),
        Input("dai_usd", "real file", "DAI/USD 10-minute bars: ETH is priced in DAI (linear between closes)", DAI_FILE),
        Input("gas_1min", "real file", "gas-price percentiles per minute: keeper participation and bid cost", GAS_1MIN),
        Input("gas_10min", "real file", "gas percentiles per 10 minutes: fills the minutes the 1-minute file lacks",
              GAS_10MIN),
        Input("hf_shape", "real file", "Compound v2 borrowers (~May 2023): shape of vault health factors and debt sizes "
              "(resampled, tilted to the aggregates)", COMPOUND),
        Input("flip", "published aggregate", "flip tau 21,600 s, beg 3 %, lump 50 ETH, chop 13 %, mat 150 % (ttl: a prior)",
              "governance values reported for March 2020 (protocol-mechanics.md §3.8; 'not verified' there)",
              value={"tau": TAU, "beg": BEG, "lump": LUMP, "chop": CHOP, "mat": MAT}),
        Input("osm", "published aggregate", "one-hour OSM delay on the ETH price", "protocol-mechanics.md §3.7",
              value=OSM_HOP),
        Input("lowball", "published aggregate", "a bidder sending ~0 DAI bids on every auction still without a bid",
              "WhiteRabbit 2020-03-14; cryptoscoop (four addresses won ~62,890 ETH at zero bids)", value=LOWBALL),
        Input("owners", "assumption", "owners who do not top up never repay or add collateral during the day",
              "no per-vault record of top-ups"),
        Input("extension", "assumption", "after 24:00 UTC the last price and gas are held (no data for 13 March)",
              "the data end at 24:00 UTC"),
    ]
    for p in PRIORS:
        out.append(Input(p.name, "assumption", p.label, p.source, prior=p))
    return out


# ---------------------------------------------------------------------------------------------
# data


def prepare(data_dir: Path, settings: dict) -> dict:
    from ..data.bars import load_ohlcv_json
    from ..data.gas import load_gas_json

    data_dir = Path(data_dir)
    eth = load_ohlcv_json(data_dir / ETH_FILE)
    dai = load_ohlcv_json(data_dir / DAI_FILE)
    g10 = load_gas_json(data_dir / GAS_10MIN)
    g1 = load_gas_json(data_dir / GAS_1MIN)
    if not (len(eth) >= 2 and abs(eth.dt_seconds - BAR) < 1e-6):
        raise InputError(str(data_dir / ETH_FILE), None, f"expected 10-minute bars, found a {eth.dt_seconds:g} s spacing")
    d = np.diff(eth.time_s)
    if not np.allclose(d, BAR):
        i = int(np.flatnonzero(~np.isclose(d, BAR))[0]) + 1
        raise InputError(str(data_dir / ETH_FILE), f"record {i}", "bars are not 10 minutes apart")
    t0 = float(eth.time_s[0])
    t_end = float(eth.time_s[-1] + BAR)
    dai_t = np.concatenate([[dai.time_s[0]], dai.time_s + dai.dt_seconds])
    for f, lo, hi in ((DAI_FILE, dai_t[0], dai_t[-1]), (GAS_10MIN, g10.time_s[0], g10.time_s[-1]),
                      (GAS_1MIN, g1.time_s[0], g1.time_s[-1])):
        if lo > t0 + BAR or hi < t_end - 2 * 3600.0:
            raise InputError(str(data_dir / f), "time", f"does not cover the ETH bars' window ({t0:.0f} to {t_end:.0f} "
                             f"Unix s; the file spans {lo:.0f} to {hi:.0f})")
    m = int(BAR / DT)
    n_data = len(eth) * m  # minutes of data
    n_steps = n_data + int(round(settings["extra_hours"] * 3600.0 / DT))
    tm = t0 + DT * np.arange(n_steps + 1)
    dai_usd = np.interp(np.minimum(tm, t_end), dai_t, np.concatenate([[dai.open[0]], dai.close]))
    gas = {q: _gas_per_minute(g1, g10, q, tm) for q in (30.0, 60.0, 90.0, 100.0)}
    shape = compound_sample(data_dir)
    return {"eth": eth, "t0": t0, "n_data": n_data, "n_steps": n_steps, "dai_usd": dai_usd, "gas": gas,
            "shape": shape, "settings": dict(settings),
            "eth_close_min": float(np.min(eth.close)), "eth_low_min": float(np.min(eth.low))}


def _gas_per_minute(g1, g10, q: float, tm: np.ndarray) -> np.ndarray:
    """Gas (gwei) at percentile ``q`` at the minute starts ``tm``: the 1-minute file, its empty
    minutes from the 10-minute file, the last valid value held past the end."""
    v1, v10 = g1.gwei(q), g10.gwei(q)
    i1 = np.searchsorted(g1.time_s, tm, side="right") - 1
    i10 = np.searchsorted(g10.time_s, tm, side="right") - 1
    out = np.where(i1 >= 0, v1[np.clip(i1, 0, None)], np.nan)
    fill = np.where(i10 >= 0, v10[np.clip(i10, 0, None)], np.nan)
    out = np.where(np.isfinite(out), out, fill)
    last = v1[np.isfinite(v1)][-1] if np.isfinite(v1).any() else np.nanmax(v10)
    out = np.where(tm > g1.time_s[-1] + DT, last, out)
    return np.where(np.isfinite(out), out, last)


def gas_at_percentile(ctx: dict, q: float) -> np.ndarray:
    """Gas per minute at percentile ``q`` in [30, 100], linear between the file's percentiles."""
    qs = (30.0, 60.0, 90.0, 100.0)
    q = min(max(float(q), qs[0]), qs[-1])
    for a, b in zip(qs, qs[1:]):
        if q <= b:
            w = (q - a) / (b - a)
            return (1.0 - w) * ctx["gas"][a] + w * ctx["gas"][b]
    return ctx["gas"][qs[-1]]


def keeper_budgets(n: int, median: float, spread: float) -> np.ndarray:
    """Gas budgets (gwei) of ``n`` keepers: ``median·exp(spread·z_j)``, ``z_j`` the standard
    normal quantiles at ``(j + ½)/n`` (deterministic)."""
    if n == 0:
        return np.zeros(0)
    nd = statistics.NormalDist()
    z = np.array([nd.inv_cdf((j + 0.5) / n) for j in range(n)])
    return median * np.exp(spread * z)


def keeper_schedule(gas_gwei: np.ndarray, price_dai: np.ndarray, d: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(gas cost per bid in DAI, participation)`` per step ``0 … T`` (step ``t`` uses minute
    ``t − 1``): the share of keepers whose budget covers that minute's gas price."""
    T1 = price_dai.shape[0]
    g = np.empty(T1)
    g[0] = gas_gwei[0]
    g[1:] = gas_gwei[: T1 - 1]
    b = keeper_budgets(int(d["n_keepers"]), d["gas_budget"], d["budget_spread"])
    part = (b[None, :] >= g[:, None]).mean(axis=1) if b.size else np.zeros(T1)
    cost = d["gas_units"] * g * 1e-9 * price_dai
    return cost, part


# ---------------------------------------------------------------------------------------------
# book and scenario


def synth_vaults(ctx: dict, d: dict, p0: float, p_low: float, rng) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(ink ETH, debt DAI, info)`` of the ETH-A book consistent with the aggregates: ``n``
    vaults plus the largest one, health factors and sizes from the Compound sample, the debts
    scaled to ``total_debt`` and the health factors tilted so the book locks ``eth_locked``."""
    n = max(2, int(round(int(d["n_vaults"]) * ctx["settings"]["vault_fraction"])))
    hf, size = draw_book(rng, n, ctx["shape"], None, 0.0)
    size = size ** float(d["size_power"])
    # the largest vault: its own collateral, an HF from the same sample
    frac = ctx["settings"]["vault_fraction"]
    debt = scale_to(size, 1.0)
    whale_hf = float(hf[0])
    cr = MAT * hf  # collateralisation of each vault under the sample's health factor
    # total debt split: the whale's debt is its ETH (at p0) over its CR; the rest is scaled
    whale_eth = float(d["whale_eth"]) * frac
    total_debt = float(d["total_debt"]) * frac
    eth_locked = float(d["eth_locked"]) * frac
    whale_debt = min(whale_eth * p0 / (MAT * whale_hf), 0.5 * total_debt)
    rest_debt = scale_to(debt[1:], total_debt - whale_debt)
    # tilt the rest so that Σ ink = eth_locked − whale_eth: Σ debt·MAT·HF'/p0 = eth_rest
    eth_rest = max(eth_locked - whale_debt * MAT * whale_hf / p0, 1e-9)
    target = eth_rest * p0 / (MAT * float(np.sum(rest_debt)))
    if target <= 1.0:
        raise InputError(f"replay {NAME}", "eth_locked/total_debt",
                         f"the book would start under the liquidation ratio (HF {target:.3f})")
    s = tilt_to_ratio(hf[1:], rest_debt, target)
    hf_rest = tilt(hf[1:], s)
    ink = np.concatenate([[whale_debt * MAT * whale_hf / p0], rest_debt * MAT * hf_rest / p0])
    dbt = np.concatenate([[whale_debt], rest_debt])
    # owners who top up in time: collateral raised so the vault stays safe at the day's low
    top = rng.random(ink.size) < float(d["topup_share"])
    need = dbt * MAT * 1.05 / p_low
    ink = np.where(top & (ink < need), need, ink)
    info = {"vaults": int(ink.size), "tilt": float(s), "topped_up": int(np.sum(top & (ink == need))),
            "system_cr": float(np.sum(ink) * p0 / np.sum(dbt)), "whale_eth": float(ink[0])}
    return ink, dbt, info


def _scenario_dict(d: dict, p0: float, steps: int, seed: int) -> dict:
    depth = [[k, m * d["depth_1pct"]] for k, m in _DEPTH_SHAPE]
    from ._build import half_life

    return {
        "name": f"replay {NAME}",
        "description": "Black Thursday: MakerDAO ETH-A flip auctions on the real ETH/DAI path (book from aggregates)",
        "simulation": {"steps": steps, "dt_seconds": DT, "paths": 1, "seed": int(seed) % (2**62)},
        "assets": [{"name": "ETH", "price": p0}, {"name": "DAI", "price": 1.0, "stable": True}],
        "price": {"kind": "historical", "file": "eth_dai_2020-03-12.csv"},
        "venues": [{"name": "eth-dai", "asset": "ETH", "kind": "book", "depth": depth,
                    **half_life(d["half_life_min"] * 60.0, DT)}],
        "oracles": [{"name": "eth-osm", "asset": "ETH", "kind": "osm", "hop_seconds": OSM_HOP}],
        "protocols": [{
            "name": PROTOCOL, "kind": "maker", "preset": "ETH-A-flip-2020", "positions": "vaults.csv",
            "collateral": "ETH", "debt": "DAI", "oracles": {"ETH": "eth-osm"},
            "config": {"mat": MAT, "chop": CHOP, "osm_hop": OSM_HOP,
                       "flip": {"beg": BEG, "ttl": float(d["ttl"]), "tau": TAU, "lump": LUMP}},
        }],
        "liquidators": {"mode": "rational", "gas_cost": 0.0,
                        "capital": max(int(d["n_keepers"]) * d["keeper_capital"], 1e-9)},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": True},
    }


def member(ctx: dict, d: dict, seed: int, keep: bool = False) -> MemberResult:
    from ..engine.compile import compile_scenario
    from ..engine.dynamic import make_paths, run_dynamic
    from ..protocols.maker.pack import with_schedule
    from ..scenario.load import validate_dict
    from ._build import write_price_csv, write_wide_csv
    from .bridge import bridge_bars

    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20200312]))
    eth = ctx["eth"]
    eth_usd = bridge_bars(eth.open, eth.high, eth.low, eth.close, BAR, DT, rng, where=ETH_FILE)
    n_steps, n_data = ctx["n_steps"], ctx["n_data"]
    eth_usd = np.concatenate([eth_usd, np.full(n_steps - n_data, eth_usd[-1])])
    eth_dai = eth_usd / ctx["dai_usd"]
    p0 = float(eth_dai[0])
    ink, debt, info = synth_vaults(ctx, d, p0, float(np.min(eth_dai)), rng)
    with tempfile.TemporaryDirectory(prefix="liqcascade-replay-") as tmp:
        base = Path(tmp)
        write_price_csv(base / "eth_dai_2020-03-12.csv", DT * np.arange(n_steps + 1), eth_dai)
        write_wide_csv(base / "vaults.csv", "v", ink, debt)
        sc = validate_dict(_scenario_dict(d, p0, n_steps, seed), f"replay {NAME}")
        c = compile_scenario(sc, base)
        paths = make_paths(c)
    price = paths[0, :, 0]
    gas = gas_at_percentile(ctx, d["gas_percentile"])[: n_steps + 1]
    cost, part = keeper_schedule(gas, price, d)
    u = c.units[0]
    u.pack = with_schedule(u.pack, cost, part, lowball=LOWBALL, margin=d["margin"])
    n_auctions_max = int(np.sum(np.ceil(ink / LUMP))) + ink.shape[0]
    res = run_dynamic(c, paths=paths, ev_cap=2 * n_auctions_max + 1024)
    out = _metrics(res, eth_usd, n_data)
    out.update({"system_cr_start": info["system_cr"], "vaults": float(info["vaults"]), "tilt": info["tilt"],
                "vaults_topped_up": float(info["topped_up"]),
                "hours_less_than_half_keepers": float((part[1:n_data + 1] < 0.5).sum()) * DT / 3600.0,
                "mean_gas_cost_per_bid_dai": float(np.mean(cost[1:])),
                "eth_dai_low": float(np.min(eth_dai)), "eth_usd_low_path": float(np.min(eth_usd))})
    res.scenario = f"replay {NAME}"
    notes = [f"ETH-A book: {info['vaults']:,} vaults, system CR {info['system_cr']:.0%}, largest vault "
             f"{info['whale_eth']:,.0f} ETH, health factors of the Compound v2 sample tilted by {info['tilt']:.3f}"]
    return MemberResult(out, {"maker": (c, res)} if keep else {}, notes,
                        {"keepers": {"budgets_gwei": keeper_budgets(int(d["n_keepers"]), d["gas_budget"],
                                                                    d["budget_spread"]).tolist()}} if keep else {})


def _metrics(res, eth_usd: np.ndarray, n_data: int) -> dict:
    tot = res.unit_totals[PROTOCOL]
    ev = res.events
    deals = ev[ev["collateral_seized"] > 0]
    low = deals[deals["debt_repaid"] < NEAR_ZERO_DAI]
    usd = lambda e: float(np.sum(e["collateral_seized"] * eth_usd[np.clip(e["step"], 0, eth_usd.size - 1)]))  # noqa: E731
    settled = ev[ev["bad_debt"] > 0]
    in_win = float(np.sum(settled["bad_debt"][settled["step"] <= n_data]))
    n_deal = tot["n_deal"]
    totals = res.totals()
    bad = float(tot["bad_debt"])
    return {
        "bad_debt": bad,
        "bad_debt_in_window": in_win,
        "bad_debt_extension": bad - in_win,
        "zero_bid_share": (tot["n_deal_lowball"] / n_deal) if n_deal else 0.0,
        "zero_bid_collateral_usd": usd(low),
        "auctions": float(tot["n_kick"]),
        "collateral_liquidated_usd": usd(deals),
        "debt_repaid": float(tot["repaid"]),
        # detail
        "zero_bid_eth": float(tot["lot_lowball"]),
        "collateral_liquidated_eth": float(np.sum(tot["bought"])),
        "auctions_settled": float(n_deal),
        "auctions_running_at_end": float(tot["n_active"]),
        "auctions_kicked_after_data_end": float(np.sum((ev["collateral_seized"] == 0) & (ev["step"] > n_data))),
        "debt_in_running_auctions": float(tot["due"]),
        "collateral_returned_eth": float(np.sum(tot["returned"])),
        "penalty_paid": float(tot["penalty"]),
        "vault_debt_start": float(tot["debt0"]),
        "events_not_recorded": float(totals["events_not_recorded"]),
    }


def assumptions(d: dict, settings: dict, res: MemberResult) -> list[str]:
    o = res.outcomes
    return [
        f"real: ETH/USD 10-minute bars ({ETH_FILE}) bridged to 1-minute steps through each bar's high and low, "
        f"÷ DAI/USD ({DAI_FILE}); lowest ETH/DAI {o['eth_dai_low']:.2f}; after 24:00 UTC the last price is held "
        f"{settings['extra_hours']:g} h so late auctions can end (bad debt reported inside and after the data window)",
        f"real: gas-price percentiles per minute ({GAS_1MIN}, gaps from {GAS_10MIN}); keepers pay the "
        f"{d['gas_percentile']:.0f}th percentile; fewer than half of them could bid during "
        f"{o['hours_less_than_half_keepers']:.1f} h of the day",
        f"book from aggregates: {int(o['vaults']):,} ETH-A vaults, {d['total_debt'] * settings['vault_fraction'] / 1e6:,.1f}M DAI, "
        f"{d['eth_locked'] * settings['vault_fraction'] / 1e6:,.2f}M ETH (system CR {o['system_cr_start']:.0%}); health factors "
        f"and sizes resampled from the Compound v2 sample, sizes^{d['size_power']:.2f}, largest vault "
        f"{d['whale_eth'] * settings['vault_fraction']:,.0f} ETH; {int(o['vaults_topped_up'])} owners top up in time",
        f"keepers: {int(d['n_keepers'])} × {d['keeper_capital']:,.0f} DAI per minute, gas budgets median "
        f"{d['gas_budget']:.0f} gwei (log-sd {d['budget_spread']:.2f}), {d['gas_units']:,.0f} gas per bid, "
        f"{d['margin']:.1%} margin; a low-baller bids ~0 DAI on every auction without a bid",
        f"flip ttl {d['ttl']:.0f} s, tau {TAU:g} s, beg {BEG:.0%}, lump {LUMP:g} ETH, chop {CHOP:.0%}, mat {MAT:g}; one-hour OSM",
        f"venue: ETH/DAI book {d['depth_1pct'] / 1e6:.2f}M DAI within 1 %, impact half-life {d['half_life_min']:.0f} min, "
        "arbitraged back to the real path",
        "simplified: bites are free and immediate once a vault is unsafe at the OSM price; keeper capital is a "
        "per-minute flow; no mempool (a bid sent in a minute is mined in it); no Hole/dust (none in the 2020 Cat)",
    ]


EVENT = ReplayEvent(
    name=NAME,
    title="Black Thursday — MakerDAO flip auctions, zero bids and bad debt",
    summary=("ETH fell ~48 % on 12 March 2020 while gas prices spiked; Maker's English (flip) auctions, "
             "priced off the one-hour OSM, drew few keeper bids and many were won at 0 DAI, leaving ~5.67M DAI "
             "of bad debt. The replay runs the Maker unit's 2020 flip auction on the real ETH/DAI path, with "
             "keepers who bid only while the real gas price is under their budget and a zero bidder, on an "
             "ETH-A book sampled to match the published size of Maker before the crash."),
    needs=[ETH_FILE, GAS_10MIN, GAS_1MIN, DAI_FILE, COMPOUND],
    priors=PRIORS, outcomes=OUTCOMES, inputs=inputs, prepare=prepare, member=member, settings=SETTINGS,
    sensitivity=("gas_budget", "n_keepers", "depth_1pct"), assumptions=assumptions, main_run="maker",
)
