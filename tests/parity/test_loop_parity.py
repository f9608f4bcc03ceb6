"""Parity of the whole time loop: the compiled loop (``kernels.dynamic.simulate_path`` /
``simulate_path_units``, called directly with the layouts of ``engine.compile.kernel_inputs``)
against the naive plain-Python twin ``kernels.dynamic_py.simulate_loop_py`` on scenarios that
hypothesis draws: book size and HF distribution, venues (constant-product pool, re-centred
pool, order book with or without impact decay), oracle kinds (mean venue spot, spot with lag,
heartbeat, TWAP, EMA), liquidator mode / gas / capital / ``max_per_step``, a random subset of
every mechanism (the oracle guard included; the clearinghouse with drawn budgets, window,
allocation, netting and backstop, over all protocols or a drawn subset, next to a perp unit so
that netting happens) and of the loop's agents, a rate table (Aave v3,
Compound v3 or fixed, with withdrawals, reacting borrowers and pool sourcing, on 10-minute
steps), multi-asset positions, and a protocol unit (Compound v3, Maker, perps, Liquity, crvUSD,
from the example files) next to the Aave-rule books.

Checked: every summary column both compute (the agents' included), the rate rows' totals, every event (step, position, protocol, asset and
the seven amounts) in the same order, the mean venue spot of every step. Tolerance: 1e-9
relative (to the book's total debt for sums that can cancel). The arithmetic is the same on both
sides, but not always in the same order (the kernel compares liquidation keys ``d / (c·LT)`` to
``pc / pd`` where the twin computes ``HF = c·pc·LT / (d·pd)``; sums are accumulated in another
order), so bit equality is not expected; a rule difference shows as a missing or extra event,
far above it. An event's execution price is compared as the proceeds it stands for (price ×
seized, to the book's total debt): a dust sale's price is the difference of two venue reserves
over a tiny amount, so its relative rounding is ``1e-16 · reserve / amount`` (a pool of 20,000
units selling 3e-4 units: 1e-8).

Rational liquidators, and scenarios with a unit, get a single venue: with two venues of one asset moved to the same spot the
rational check picks "the venue with the highest spot" on a last-bit difference (see
``test_dynamic_parity.py``); Compound v3's buyers pick their venue the same way.

The kernel signatures are the run's own (``kernel_inputs`` builds the same layout types for every
scenario), so the examples do not recompile anything."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.engine.compile import compile_scenario, kernel_inputs
from liqcascade.engine.dynamic import VARIANTS, loop_variant, make_paths, variant_args
from liqcascade.kernels import dynamic as KD
from liqcascade.kernels import events as KE
from liqcascade.kernels import layouts as KL
from liqcascade.kernels import sales as KSL
from liqcascade.kernels.dynamic_py import simulate_loop_py
from liqcascade.scenario.models import Scenario

RTOL = 1e-9
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

COLUMNS = {
    KD.SUM_NLIQ: "liquidations", KD.SUM_LIQ_VALUE: "liquidated_value", KD.SUM_REPAID: "repaid",
    KD.SUM_BAD: "bad_debt", KD.SUM_FEES: "fees", KD.SUM_BONUS: "bonus", KD.SUM_PROCEEDS: "proceeds",
    KD.SUM_GAS: "gas", KD.SUM_SKIPPED: "skipped", KD.SUM_NPOS_LIQ: "positions_liquidated",
    KD.SUM_SOCIALIZED: "socialized", KD.SUM_BORROWER_LOSS: "borrower_loss",
    KD.SUM_DISLOCATION: "dislocation_steps", KD.SUM_FUND_DRAW: "fund_draw", KD.SUM_PAUSED: "paused",
    KD.SUM_HELD_VALUE: "held_value", KD.SUM_ATTACKER_PNL: "attacker_pnl", KD.SUM_PRIORITY: "priority",
    KD.SUM_TOPUP: "topup", KL.SUM_MAX_MOVE: "max_move", KL.SUM_DISL_FIRST: "disl_first",
    KL.SUM_DISL_LAST: "disl_last",
    KL.SUM_CH_IN: "ch_in", KL.SUM_CH_NET: "ch_net", KL.SUM_CH_SOLD: "ch_sold", KL.SUM_CH_BS: "ch_bs",
    KL.SUM_CH_HELD: "ch_held", KL.SUM_CH_HELD_VALUE: "ch_held_value", KL.SUM_CH_RISK: "ch_risk",
    KL.SUM_CH_SHORTFALL: "ch_shortfall", KL.SUM_CH_BS_PNL: "ch_bs_pnl", KL.SUM_CH_CONS: "ch_cons",
}
EVENT_FLOATS = ("collateral_seized", "debt_repaid", "oracle_price", "execution_price", "bonus_paid", "bad_debt",
                "protocol_fee")
ORACLES = {
    "none": None,
    "spot": {"kind": "spot", "lag_seconds": 2.0},
    "heartbeat": {"kind": "heartbeat", "heartbeat_seconds": 10.0, "deviation": 0.01, "lag_seconds": 1.0},
    "twap": {"kind": "twap", "window_seconds": 4.0},
    "ema": {"kind": "ema", "half_life_seconds": 3.0},
}
RULES = (("v3.3", 0.5), ("v3.2", 0.5), ("fixed", 0.5), ("fixed", 1.0))
MECHANISMS = {
    "random_execution": lambda rng: {"window_seconds": float(rng.integers(1, 6))},
    "dutch_auction": lambda rng: {"start_bonus": 0.01, "max_bonus": float(rng.uniform(0.05, 0.15)),
                                  "rise_seconds": float(rng.integers(1, 8))},
    "partial": lambda rng: {"close_factor": float(rng.uniform(0.1, 0.6)), "cooldown_seconds": float(rng.integers(0, 4))},
    "insurance_fund": lambda rng: {"size": float(rng.choice([0.0, 1e3, 1e5])), "fee_share": float(rng.uniform(0, 1))},
}
MECHANISMS.update({
    "circuit_breaker": lambda rng: {"threshold": float(rng.uniform(0.02, 0.2)), "window_seconds": float(rng.integers(1, 6)),
                                    "pause_seconds": float(rng.integers(1, 6)), "grace_seconds": float(rng.integers(0, 4)),
                                    "exempt_hf": float(rng.choice([0.0, 0.9, 0.97, 1.2]))},
    "throttle": lambda rng: {**[{"max_debt_per_window": 1e3}, {"max_debt_per_window": 3e4},
                                {"depth_slippage": 0.002}, {"depth_slippage": 0.02},
                                {"max_debt_per_window": 1e4, "depth_slippage": 0.01}][int(rng.integers(5))],
                             "window_seconds": float(rng.integers(1, 6))},
    "twap_exit": lambda rng: {"slices": int(rng.integers(1, 6))},
    # applies_to is drawn in scenario() (it needs the protocols' names)
    "clearinghouse": lambda rng: {
        "max_step_move": float(rng.choice([0.002, 0.01, 0.05])), "max_window_move": float(rng.choice([0.02, 0.1, 0.3])),
        "window_seconds": float(rng.integers(1, 6)), "allocation": str(rng.choice(["urgency", "pro_rata"])),
        "netting": bool(rng.integers(4) > 0),
        **({"backstop": {"capital": float(rng.choice([1e3, 1e5, 1e7])), "discount": float(rng.uniform(0, 0.1))}}
           if rng.integers(2) else {})},
    "buffer_pool": lambda rng: {"capital": float(rng.choice([1e3, 1e5, 1e7])), "discount": float(rng.uniform(0, 0.1))},
})
# volatilities here are annualized from 1-second steps (a crash step is several hundred): the
# references and slopes are drawn on that scale, so that some draws bind and some saturate
MECHANISMS.update({
    "dynamic_margin": lambda rng: {
        "apply": str(rng.choice(["ramp", "at_once"])), "ramp_seconds": float(rng.integers(1, 8)),
        "vol_window_seconds": float(rng.integers(2, 6)), "vol_ref": float(rng.choice([0.8, 50.0, 300.0])),
        "lt_per_vol": float(rng.choice([1e-4, 1e-3])), "haircut_k": float(rng.choice([0.0, 0.5])),
        "buffer": float(rng.uniform(0, 0.05)), "min_multiplier": 0.7,
        "size_tiers": [[], [[3e3, 0.95], [3e4, 0.85]]][int(rng.integers(2))]},
    "batch": lambda rng: {"window_seconds": float(rng.integers(1, 6)), "depth_slippage": float(rng.choice([0.0, 0.002, 0.02])),
                          "keeper_margin": float(rng.uniform(0, 0.05))},
    "volatility_fee": lambda rng: {"k": float(rng.choice([0.01, 0.5])), "vol_ref": float(rng.choice([0.8, 50.0, 300.0])),
                                   "vol_window_seconds": float(rng.integers(2, 6)), "max_rate": float(rng.choice([5.0, 500.0]))},
    "oracle_guard": lambda rng: {"kind": str(rng.choice(["twap", "ema", "median"])),
                                 "window_seconds": float(rng.integers(1, 5)), "half_life_seconds": float(rng.integers(1, 5)),
                                 "max_jump": float(rng.choice([0.0, 0.05]))},
    "volatility_bonus": lambda rng: {"k": float(rng.choice([1e-3, 1e-2])), "vol_ref": float(rng.choice([0.8, 50.0, 300.0])),
                                     "vol_window_seconds": float(rng.integers(2, 6)),
                                     "max_bonus": float(rng.uniform(0.1, 0.3))},
})


#: units whose drawn venue is as deep as the example's: a venue sized to the Aave-rule book is
#: emptied by a Liquity or crvUSD book's sales, the price collapses by three orders of magnitude,
#: and Liquity's redistribution then makes troves' ICRs equal to the last bit (the twin and the
#: kernel would order such ties by a last-bit difference of the oracle price, not by a rule)
DEEP = ("liquity", "llamma")
#: the loop's agents (``[agents.*]``), sized to the book's value ``total``
AGENTS = {
    "gas_auction": lambda rng, total: {
        "competitors": int(rng.integers(1, 6)), "priority_share": float(rng.uniform(0, 1)),
        "latency_seconds": float(rng.integers(0, 3)), "congestion_k": float(rng.choice([0.0, 0.2, 1.0])),
        "congestion_window_seconds": float(rng.integers(1, 5)), "max_gas_multiple": float(rng.choice([3.0, 50.0]))},
    "hunter": lambda rng, total: {
        "capital": total * float(rng.choice([0.01, 0.1])), "start_seconds": 2.0, "sell_seconds": float(rng.integers(1, 4)),
        "hold_seconds": float(rng.integers(1, 5)), "reach": 0.3, "buy_discounted": bool(rng.integers(2))},
    "front_runner": lambda rng, total: {"capital": total * float(rng.choice([0.01, 0.1])),
                                        "share": float(rng.uniform(0.1, 1.0))},
    "hedger": lambda rng, total: {"gamma_notional": total * float(rng.choice([0.1, 1.0]))},
    "borrowers": lambda rng, total: {
        "share": float(rng.uniform(0.2, 0.8)), "react_hf": float(rng.choice([1.02, 1.1])), "target_hf": 1.3,
        "delay_seconds": float(rng.integers(0, 3)), "action": str(rng.choice(["topup", "deleverage"]))},
}
#: rate tables drawn for the last Aave-rule protocol (steep, so that a run of a few hours moves
#: health factors; 10-minute steps when rates are drawn)
RATES = {
    "aave_v3": lambda rng: {"kind": "aave_v3", "optimal_usage": 0.8, "slope1": 0.05,
                            "slope2": float(rng.choice([3.0, 9.0])), "utilization": float(rng.uniform(0.85, 0.99))},
    "comet": lambda rng: {"kind": "comet", "borrow_slope_high": float(rng.choice([5.0, 50.0])),
                          "utilization": float(rng.uniform(0.85, 0.99))},
    "fixed": lambda rng: {"kind": "fixed", "annual": float(rng.choice([2.0, 20.0]))},
}
#: mechanisms that decide how a protocol's seized collateral is sold, like the clearinghouse (one
#: per protocol; dropped here when the clearinghouse is drawn)
CH_EXCLUSIVE = ("twap_exit", "buffer_pool", "batch")
UNITS = {"comet": "comet.toml", "maker": "maker.toml", "perp": "perp.toml", "liquity": "liquity.toml",
         "llamma": "llamma.toml"}


def scenario(cfg: dict):
    """A compiled scenario from the drawn configuration (one step = 1 s, so durations are steps)."""
    rng = np.random.default_rng(cfg["seed"])
    unit = cfg["unit"]
    if unit is None:
        assets = [{"name": "A", "price": 100.0}, {"name": "Q", "price": 1.0, "stable": True}]
        unit_protocols, unit_oracles, unit_venues = [], [], []
    else:
        ex = tomllib.loads((EXAMPLES / UNITS[unit]).read_text())
        assets = ex["assets"]
        unit_protocols = [ex["protocols"][0]]
        unit_oracles = ex.get("oracles", [])
        unit_venues = ex["venues"][:1]
        for o in unit_oracles:  # the examples' durations are minutes; the draws here are steps of 1 s
            for k in list(o):
                if k.endswith("_seconds"):
                    o[k] = max(1.0, o[k] / 600.0)
        unit_protocols[0]["config"] = {k: v for k, v in unit_protocols[0].get("config", {}).items()
                                       if not k.endswith("_hop")}
    ca, qa = assets[0]["name"], assets[1]["name"]
    price0 = float(assets[0]["price"])
    n, n_proto = cfg["n"], cfg["n_proto"]
    protos = []
    for _ in range(n_proto):
        rule, cf = RULES[int(rng.integers(len(RULES)))]
        protos.append({"rule": rule, "cf": cf, "lt": float(rng.uniform(0.7, 0.86)),
                       "bonus": float(rng.uniform(0.03, 0.1))})
    proto = rng.integers(0, max(n_proto, 1), n)
    value = 10.0 ** rng.uniform(2.5, 5.5, n)
    lo, hi = cfg["hf"]
    hf = rng.uniform(lo, hi, n)
    lts = np.array([p["lt"] for p in protos] or [0.8])[proto]
    coll, debt = value / price0, value * lts / hf
    total = float(value.sum()) + 1e5
    if unit in DEEP:  # a venue of the example's depth: see DEEP
        total = max(total, float(unit_venues[0]["reserve_asset"]) * price0)
    venues = []
    for j, kind in enumerate(cfg["venues"]):
        if kind.startswith("pool"):
            v = {"name": f"v{j}", "asset": ca, "kind": "cpmm", "reserve_asset": total * rng.uniform(0.3, 1.0) / price0,
                 "fee": 0.003}
            if kind == "pool_recentred":
                v["half_life_seconds"] = float(rng.integers(2, 8))
        else:
            v = {"name": f"v{j}", "asset": ca, "kind": "book",
                 "depth": [[0.01, 0.02 * total], [0.05, 0.1 * total], [0.2, 0.3 * total]]}
            if kind == "book_decay":
                v["half_life_seconds"] = float(rng.integers(2, 8))
        venues.append(v)
    if unit is None or not venues or unit == "perp":
        venues = unit_venues + venues  # a perp fills on its own book, the first venue of its asset
    oracle = ORACLES[cfg["oracle"]]
    oracles = list(unit_oracles) + ([{"name": "o", "asset": ca, **oracle}] if oracle else [])
    liq = {"mode": cfg["mode"], "gas_cost": cfg["gas"] if cfg["mode"] == "rational" else 0.0}
    if cfg["capital"]:
        liq["capital"] = float(total * cfg["capital"])
    if cfg["max_per_step"]:
        liq["max_per_step"] = cfg["max_per_step"]
    sc = {
        "name": "loop-parity",
        "simulation": {"steps": cfg["steps"], "dt_seconds": 1.0, "paths": 1, "seed": cfg["seed"], "record_paths": 1},
        "assets": assets,
        "price": {"kind": "crash", "shock": cfg["shock"], "start_seconds": 3.0, "over_seconds": float(cfg["over"]),
                  "recovery": 0.5, "recovery_seconds": 10.0} if cfg["price"] == "crash" else
                 {"kind": "gbm", "sigma": 60.0},
        "venues": venues,
        "oracles": oracles,
        "protocols": [{
            "name": f"p{j}", "positions": "-", "collateral": ca, "debt": qa,
            "close_factor_rule": p["rule"], "close_factor": p["cf"],
            "oracles": {ca: "o"} if oracle else {},
            "params": {ca: {"liquidation_threshold": p["lt"], "liquidation_bonus": p["bonus"], "protocol_fee": 0.1}},
        } for j, p in enumerate(protos)] + unit_protocols,
        "liquidators": liq,
        "arbitrage": {"enabled": cfg["arb"], "to_reference": cfg["arb"], "threshold": 0.002},
        "mechanisms": {name: MECHANISMS[name](rng) for name in cfg["mechanisms"]
                       if (name not in ("buffer_pool", "twap_exit") or "batch" not in cfg["mechanisms"])
                       and (name not in CH_EXCLUSIVE or "clearinghouse" not in cfg["mechanisms"])},
    }
    if cfg.get("ch") is not None:  # a fixed clearinghouse (the grid below)
        sc["mechanisms"]["clearinghouse"] = dict(cfg["ch"])
    chm = sc["mechanisms"].get("clearinghouse")
    if chm is not None and cfg.get("ch") is None and rng.integers(2):  # a drawn subset of the protocols clears through it
        names = [p["name"] for p in sc["protocols"]]
        chm["applies_to"] = [nm for nm in names if rng.integers(2)] or names[-1:]
    if cfg.get("agents"):
        sc["agents"] = {name: AGENTS[name](rng, total) for name in cfg["agents"]}
    rk = cfg.get("rates")
    if rk and n_proto:  # a lending pool (or a fixed fee) for the last Aave-rule protocol's debt asset
        k = n_proto - 1
        d0 = float(debt[proto == k].sum()) + 1.0
        bits = cfg.get("rates_opts", 0)
        rt = RATES[rk](rng)
        if rk != "fixed":
            rt["supply"] = d0 * 1.05
            rt["utilization"] = max(rt["utilization"], d0 / rt["supply"])
            if bits & 1:
                rt.update(withdraw_per_step=0.1, withdraw_start_seconds=3.0, withdraw_for_seconds=6.0)
            if bits & 4:
                liq["debt_source"] = "pool"
        if bits & 2:
            rt.update(react_rate=0.5, react_repay=0.05)
        sc["protocols"][k]["rates"] = {qa: rt}
    dt = float(cfg.get("dt", 1.0))
    if dt != 1.0:  # the durations above are in steps
        _scale_seconds(sc, dt)
        sc["simulation"]["dt_seconds"] = dt
        if sc["price"]["kind"] == "gbm":
            sc["price"]["sigma"] = 60.0 / dt ** 0.5
    join_books = _JOIN_BOOKS

    book = None
    if n_proto:
        book = join_books(coll, debt, proto, [p["lt"] for p in protos])
        if cfg["multi"] and not (rk and n_proto == 1):  # rates run on single-pair books only
            book.m_ptr = np.array([0, 2, 5, 7])
            book.m_asset = np.array([0, 1, 0, 1, 1, 0, 1])
            s = price0 / 100.0
            book.m_coll = np.array([10.0 / s, 0.0, 25.0 / s, 0.0, 0.0, 4.0 / s, 0.0])
            book.m_debt = np.array([0.0, 700.0, 0.0, 1200.0, 500.0, 0.0, 300.0])
            book.m_proto = np.zeros(3, np.int64)
            book.m_ids = np.array(["m0", "m1", "m2"], dtype=object)
    return compile_scenario(Scenario.model_validate(sc), EXAMPLES, book=book)


def _scale_seconds(x, dt):
    """Every ``*_seconds`` value in the scenario dict ``x`` times ``dt`` (in place)."""
    if isinstance(x, dict):
        for k, v in x.items():
            if k.endswith("_seconds") and isinstance(v, (int, float)):
                x[k] = float(v) * dt
            else:
                _scale_seconds(v, dt)
    elif isinstance(x, list):
        for v in x:
            _scale_seconds(v, dt)


def _root_conftest():
    """tests/conftest.py as pytest loaded it (a plain ``import conftest`` can name another
    folder's conftest.py when one worker runs several folders)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if f and Path(f).resolve() == path:
            return m
    spec = importlib.util.spec_from_file_location("_tests_root_conftest", path)
    m = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = m  # (dataclasses look their module up while it executes)
    spec.loader.exec_module(m)
    return m


# loaded at import: executing tests/conftest.py inside a test would register its hypothesis
# profiles under a test's @settings, which hypothesis warns about
_JOIN_BOOKS = _root_conftest().join_books

def run_kernel(c, path):
    """The compiled loop on one path, called as the engine calls it: (summary, events, spots)."""
    ki = kernel_inputs(c)
    T, A = path.shape[0] - 1, path.shape[1]
    b = ki.book
    summary = np.zeros(KD.NSUM)
    sa = np.zeros((T + 1, A, KD.NST))
    ss = np.zeros((T + 1, KD.NSS))
    out = KL.Out(summary, sa, ss, True, b.coll.copy(), b.debt.copy(), b.m_coll.copy(), b.m_debt.copy())
    ev = KE.events_new(4 * ki.n_positions + 1024, 10**7)
    path = np.ascontiguousarray(path)
    unit_mask = np.zeros(len(c.protocols), dtype=np.bool_)
    for u in ki.units_list:
        unit_mask[u.proto_id] = True
    sl = KSL.sales_new(4 * ki.n_positions + 1024, 10**7, unit_mask, A)
    variant = loop_variant(ki)  # the kernel the engine picks for this scenario
    kernel = getattr(KD, VARIANTS[variant][0])
    ev, sl = kernel(path, 0, *variant_args(ki, variant), ki.fresh_units() if variant == "units" else None, out, ev,
                    sl)
    run_kernel.sa = sa
    return ki, summary, ev.buf[:int(ev.n[KE.EV_N])], sa[:, :, KD.ST_SPOT]


def _close(a, b, scale):
    return np.isclose(a, b, rtol=RTOL, atol=RTOL * scale) or (np.isnan(a) and np.isnan(b))


def check_parity(c):
    """Kernel and twin agree on path 0 of ``c``; returns the number of events."""
    path = make_paths(c)[0]
    ki, summary, ev, spot = run_kernel(c, path)
    tw = simulate_loop_py(path, 0, ki)
    b = ki.book
    scale = max(float(b.debt.sum() + b.m_debt.sum()), 1.0)
    assert int(summary[KD.SUM_EV_LOST]) == 0
    assert len(ev) == len(tw["events"]), f"{len(ev)} events (kernel) vs {len(tw['events'])} (twin)"
    for k, (e, t) in enumerate(zip(ev, tw["events"])):
        assert (int(e["step"]), int(e["position"]), int(e["protocol"]), int(e["asset"])) == tuple(t[:4]), \
            f"event {k}: kernel {e} twin {t}"
        for name, v in zip(EVENT_FLOATS, t[4:]):
            if name == "execution_price":  # see the module docstring: compared as proceeds
                ok = _close(float(e[name]) * float(e["collateral_seized"]), v * t[4], scale)
            else:
                ok = _close(float(e[name]), v, 1.0)
            assert ok, f"event {k} {name}: kernel {e[name]!r} twin {v!r}"
    # a step whose mean venue spot sits on the dislocation line (to rounding) may count on one
    # side only: allow one step of difference per such step
    risky = ~np.asarray(ki.market.stable, dtype=bool)
    on_line = np.abs(spot[1:] - (1.0 - KD.DISLOCATION) * path[1:]) <= 1e-12 * np.abs(path[1:])
    ties = int(np.any(on_line[:, risky], axis=1).sum()) if risky.any() else 0
    for col, key in COLUMNS.items():
        if col in (KL.SUM_DISL_FIRST, KL.SUM_DISL_LAST) and ties:
            continue  # which step is first or last depends on the steps on the line
        if col == KD.SUM_DISLOCATION:
            assert abs(summary[col] - tw["summary"][key]) <= ties, \
                f"{key}: kernel {summary[col]!r} twin {tw['summary'][key]!r} ({ties} steps on the line)"
            continue
        assert _close(summary[col], tw["summary"][key], scale), \
            f"{key}: kernel {summary[col]!r} twin {tw['summary'][key]!r}"
    np.testing.assert_allclose(spot, tw["spot"], rtol=RTOL)
    if ki.rates.on:  # the pools' totals (debt-asset units)
        from liqcascade.kernels import accrual as KA

        for r, pool in enumerate(tw["rates"]):
            for col, key in ((KA.RT_INTEREST, "interest"), (KA.RT_REPAID, "repaid"), (KA.RT_BAD, "bad"),
                             (KA.RT_BORROWER_REPAID, "borrower_repaid"), (KA.RT_LEFT, "left"),
                             (KA.RT_WITHDRAWN, "withdrawn"), (KA.RT_LOCKED_END, "locked_end")):
                assert _close(ki.rates.tot[r, col], pool[key], scale), \
                    f"rates row {r} {key}: kernel {ki.rates.tot[r, col]!r} twin {pool[key]!r}"
    return len(ev)


@st.composite
def configs(draw, unit=None, force=()):
    mode = draw(st.sampled_from(["mechanical", "rational"]))
    kinds = ["pool", "pool_recentred", "book", "book_decay"]
    if unit is not None:
        # one venue: the example's, or (not for a perp, which fills on its own book) a drawn kind
        venues = [] if unit == "perp" else draw(st.sampled_from([[], ["pool"], ["pool_recentred"], ["book_decay"]]))
    elif mode == "rational":
        venues = [draw(st.sampled_from(kinds))]
    else:
        venues = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
    n_proto = draw(st.integers(0 if unit else 1, 2))
    lo = draw(st.floats(0.9, 1.1))
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "unit": unit,
        "n": draw(st.integers(1, 40)),
        "n_proto": n_proto,
        "hf": (lo, lo + draw(st.floats(0.05, 1.5))),
        "venues": venues,
        "oracle": draw(st.sampled_from(sorted(ORACLES))) if unit is None else draw(st.sampled_from(["none", "spot"])),
        "mode": mode,
        "gas": draw(st.sampled_from([0.0, 5.0, 50.0])),
        "capital": draw(st.sampled_from([0.0, 0.0, 0.01, 0.05])),
        "max_per_step": draw(st.sampled_from([0, 0, 1, 3])),
        "arb": draw(st.booleans()),
        "price": draw(st.sampled_from(["crash", "crash", "gbm"])),
        "shock": draw(st.floats(0.1, 0.5)),
        "over": draw(st.integers(1, 8)),
        "steps": draw(st.integers(10, 30)),
        "mechanisms": sorted(set(force) | set(draw(st.lists(st.sampled_from(sorted(MECHANISMS)), unique=True,
                                                             max_size=5)))),
        "multi": n_proto > 0 and draw(st.booleans()),
        **_draw_rates(draw, n_proto),
        "agents": draw(st.lists(st.sampled_from(sorted(AGENTS)), unique=True, max_size=3)),
    }


def _draw_rates(draw, n_proto):
    """Interest rates for the last Aave-rule protocol, on 10-minute steps (or none)."""
    rk = draw(st.sampled_from([None, None, None, *sorted(RATES)])) if n_proto else None
    if rk is None:
        return {}
    return {"rates": rk, "rates_opts": draw(st.integers(0, 7)), "dt": 600.0}


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_loop_matches_twin_on_random_aave_scenarios(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="comet"))
def test_loop_matches_twin_with_a_comet_unit(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="maker"))
def test_loop_matches_twin_with_a_maker_unit(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="perp"))
def test_loop_matches_twin_with_a_perp_unit(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="liquity"))
def test_loop_matches_twin_with_a_liquity_unit(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="llamma"))
def test_loop_matches_twin_with_a_crvusd_unit(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(force=("clearinghouse",)))
def test_loop_matches_twin_with_the_clearinghouse(cfg):
    check_parity(scenario(cfg))


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(unit="perp", force=("clearinghouse",)))
def test_loop_matches_twin_with_the_clearinghouse_and_a_perp_unit(cfg):
    check_parity(scenario(cfg))


def base_config(seed: int, unit=None, **kw) -> dict:
    """A fixed configuration of the kind :func:`configs` draws (crash, HF around 1)."""
    cfg = {"seed": seed, "unit": unit, "n": 30, "n_proto": 1, "hf": (0.95, 1.3), "venues": ["pool"], "oracle": "spot",
           "mode": "mechanical", "gas": 0.0, "capital": 0.0, "max_per_step": 0, "arb": True, "price": "crash",
           "shock": 0.4, "over": 3, "steps": 20, "mechanisms": [], "multi": False}
    if unit is not None:
        cfg.update(venues=[], oracle="none")
    cfg.update(kw)
    return cfg


@pytest.mark.parametrize("unit", [None, "comet", "maker", "perp", "liquity", "llamma"])
def test_every_mechanism_liquidates_in_parity(unit):
    """Each covered mechanism, on a fixed crash next to each unit, liquidates (the random
    comparisons above would pass vacuously on scenarios where nothing happens) and agrees."""
    for mech in MECHANISMS:
        assert check_parity(scenario(base_config(3, unit, mechanisms=[mech]))) > 0, mech




@pytest.mark.parametrize("unit", [None, "maker"])
def test_every_agent_in_parity(unit):
    """Each agent on the fixed crash (mechanical and rational liquidators, next to a unit) agrees,
    its summary columns included."""
    for name in AGENTS:
        for mode in ("mechanical", "rational"):
            cfg = base_config(4, unit, agents=[name], mode=mode, gas=5.0, n_proto=2 if unit is None else 1,
                              multi=unit is None)
            assert check_parity(scenario(cfg)) > 0, (name, mode)


@pytest.mark.parametrize("rk", sorted(RATES))
def test_interest_rates_in_parity(rk):
    """Each rate kind on the fixed crash (10-minute steps), with withdrawals, reacting
    borrowers and liquidators sourcing the pool in turn, next to a protocol without rates and
    multi-asset positions; the pools' totals agree too."""
    for bits in (1, 2, 5, 6):
        cfg = base_config(bits, rates=rk, rates_opts=bits, dt=600.0, n_proto=2, multi=True)
        assert check_parity(scenario(cfg)) > 0, bits


def test_nothing_is_left_uncovered():
    """Every mechanism and agent of the scenario tables is drawn here, or listed in NOT_COVERED
    (and then refused by name, never run partially)."""
    from liqcascade.agents import BUNDLE_AGENTS
    from liqcascade.agents.model import Agents
    from liqcascade.kernels.dynamic_py import NOT_COVERED
    from liqcascade.mechanisms.model import Mechanisms

    assert set(MECHANISMS) | set(NOT_COVERED) == set(Mechanisms.model_fields)
    assert not set(MECHANISMS) & set(NOT_COVERED)
    assert set(AGENTS) == set(Agents.model_fields) - set(BUNDLE_AGENTS)  # (the flash attacker is not in the loop)


@pytest.mark.parametrize("seed", range(12))
def test_loop_twin_on_the_fixed_seed_grid(kit, seed):
    """The whole-loop twin also agrees on the fixed-seed grid of ``test_dynamic_parity.py``
    (pools and books, oracles, close-factor rules, liquidator limits, multi-asset positions)."""
    from test_dynamic_parity import _compiled

    check_parity(_compiled(kit, seed, multi=seed % 3 == 0))


#: fixed clearinghouse settings: (unit, extra config, its table, what must happen)
CH_GRID = [
    ("perp", {}, {"allocation": "urgency", "max_step_move": 0.01, "max_window_move": 0.1, "window_seconds": 3.0},
     "netted"),
    ("perp", {"n_proto": 2}, {"allocation": "pro_rata", "max_step_move": 0.002, "window_seconds": 2.0,
                              "backstop": {"capital": 1e5, "discount": 0.05}}, "netted"),
    (None, {"n_proto": 2, "multi": True}, {"allocation": "urgency", "max_step_move": 0.002, "max_window_move": 0.05,
                                            "window_seconds": 5.0}, "held"),
    (None, {"seed": 5}, {"allocation": "pro_rata", "max_step_move": 0.002, "window_seconds": 4.0,
                         "backstop": {"capital": 1e5, "discount": 0.05}}, "backstop"),
    ("maker", {}, {"allocation": "urgency", "max_step_move": 0.005, "netting": False}, "sold"),
]


@pytest.mark.parametrize("unit,extra,ch,what", CH_GRID)
def test_clearinghouse_on_the_fixed_grid(unit, extra, ch, what):
    """The clearinghouse on fixed crashes (urgency and pro rata, netting against a perp unit's
    forced buys, a backstop, a queue left at the end, multi-asset positions, a Maker unit) agrees
    with the twin, and what each case is for happens (not a vacuous comparison)."""
    extra = dict(extra)
    cfg = base_config(extra.pop("seed", 3), unit, mechanisms=[], ch=ch, **extra)
    c = scenario(cfg)
    assert check_parity(c) > 0
    _, summary, _, _ = run_kernel(c, make_paths(c)[0])
    col = {"netted": KL.SUM_CH_NET, "held": KL.SUM_CH_HELD, "backstop": KL.SUM_CH_BS, "sold": KL.SUM_CH_SOLD}[what]
    assert summary[col] > 0.0, what
    assert summary[KL.SUM_CH_CONS] <= 1e-9 * max(1.0, summary[KL.SUM_CH_IN])
