"""Parity: interest accrual and lending pools in the compiled time loop (index-based: positions
hold scaled debt, ``kernels.accrual``) against the plain-Python twin (``kernels.dynamic_py``,
which multiplies every position's debt by the growth each step and runs the pools on the rate
kinds' own twins).

A seeded grid: Aave v3, Compound v3 and fixed-rate rows; high utilization and steep slopes so
that accrual moves health factors within the run; lenders' withdrawals that pin utilization at
100 %; reacting borrowers; liquidators sourcing the debt asset from the pool; capital limits.
Summaries, every event, the final book and the pools' totals and per-step records agree to
1e-9 relative."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.engine.rates import TOTAL_COLUMNS, book_debt
from liqcascade.kernels import dynamic as KD
from liqcascade.kernels.dynamic_py import Pool, simulate_path_py
from liqcascade.scenario.models import Scenario

RTOL = 1e-9
COLUMNS = {
    KD.SUM_NLIQ: "liquidations", KD.SUM_LIQ_VALUE: "liquidated_value", KD.SUM_REPAID: "repaid",
    KD.SUM_BAD: "bad_debt", KD.SUM_FEES: "fees", KD.SUM_BONUS: "bonus", KD.SUM_PROCEEDS: "proceeds",
    KD.SUM_SKIPPED: "skipped", KD.SUM_NPOS_LIQ: "positions_liquidated",
}
EVENT_FLOATS = ("collateral_seized", "debt_repaid", "oracle_price", "execution_price", "bonus_paid", "bad_debt",
                "protocol_fee")
KINDS = ("aave_v3", "comet", "fixed")


def rate_table(kind, rng, seed):
    if kind == "aave_v3":
        t = {"kind": "aave_v3", "optimal_usage": 0.8, "slope1": 0.05, "slope2": float(rng.choice([1.0, 3.0])),
             "utilization": float(rng.uniform(0.85, 0.99))}
    elif kind == "comet":
        t = {"kind": "comet", "borrow_slope_high": float(rng.choice([2.0, 5.0])),
             "utilization": float(rng.uniform(0.85, 0.99))}
    else:
        return {"kind": "fixed", "annual": float(rng.choice([0.5, 2.0])),
                **({"react_rate": 0.4, "react_repay": 0.02} if seed % 2 else {})}
    if seed % 2:
        t.update(withdraw_per_step=0.05, withdraw_start_seconds=10 * 3600.0, withdraw_for_seconds=6 * 3600.0)
    if seed % 3 == 1:
        t.update(react_rate=0.8, react_repay=0.02)
    return t


def case(kit, seed):
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % 3]
    n = int(rng.integers(25, 45))
    lt = 0.8
    value = 10.0 ** rng.uniform(3.0, 5.5, n)
    hf = np.where(rng.random(n) < 0.7, rng.uniform(1.0, 1.04, n), rng.uniform(1.04, 2.0, n))
    coll, debt = value / 100.0, value * lt / hf
    supply = float(debt.sum()) * 1.05
    rt = rate_table(kind, rng, seed)
    if "utilization" in rt:
        rt["supply"] = supply
        rt["utilization"] = max(rt["utilization"], float(debt.sum()) / supply)
    liq = {"mode": "mechanical"}
    if seed % 4 in (1, 2) and kind != "fixed":
        liq["debt_source"] = "pool"
    if seed % 5 == 3:
        liq["capital"] = float(debt.sum()) * 0.02
    price = ({"kind": "crash", "shock": float(rng.uniform(0.02, 0.12)), "start_seconds": 20 * 3600.0,
              "over_seconds": 3 * 3600.0} if seed % 4 != 3 else {"kind": "gbm", "sigma": 0.6})
    sc = {
        "name": f"rates{seed}",
        "simulation": {"steps": 40, "dt_seconds": 3600.0, "paths": 2, "seed": seed, "record_paths": 2},
        "assets": [{"name": "A", "price": 100.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": price,
        "venues": [{"name": "pool", "asset": "A", "kind": "cpmm", "reserve_asset": float(coll.sum()) * 2.0,
                    "fee": 0.003}],
        "protocols": [{"name": "p0", "positions": "-", "collateral": "A", "debt": "Q",
                       "params": {"A": {"liquidation_threshold": lt, "liquidation_bonus": 0.05}},
                       "rates": {"Q": rt}}],
        "liquidators": liq,
        "arbitrage": {"enabled": True, "to_reference": True},
    }
    book = kit.join_books(coll, debt, np.zeros(n, np.int64), [lt])
    return compile_scenario(Scenario.model_validate(sc), Path("."), book=book)


def twin_pools(c):
    out = []
    dt = c.scenario.simulation.dt_seconds
    for k, pr in enumerate(c.scenario.protocols):
        for asset, cfg in pr.rates.items():
            a = c.assets.index(asset)
            par = cfg.model().pack() if cfg.kind != "liquity" else np.zeros(0)
            kw = {}
            if cfg.kind in ("aave_v3", "comet"):
                d0 = book_debt(c.book, k, a)
                borrowed = cfg.supply * cfg.utilization if cfg.utilization is not None else d0
                start = round(cfg.withdraw_start_seconds / dt)
                end = round((cfg.withdraw_start_seconds + cfg.withdraw_for_seconds) / dt) - 1 \
                    if cfg.withdraw_for_seconds is not None else 10**18
                kw = dict(supplied=cfg.supply, borrowed=borrowed, withdraw=(cfg.withdraw_per_step, start, end))
            out.append(Pool(k, a, cfg.kind, par, react=(getattr(cfg, "react_rate", 0.0),
                                                         getattr(cfg, "react_repay", 0.0)), **kw))
    return out


def twin(c, path):
    b = c.book
    seg = np.repeat(np.arange(b.seg_asset.shape[0]), np.diff(b.seg_ptr))
    lq = c.scenario.liquidators
    return simulate_path_py(
        path, c.vs0, c.vdk, c.vdq, c.venue_asset, c.av_ptr, c.av_idx, c.scenario.arbitrage.enabled,
        c.scenario.arbitrage.threshold, c.scenario.arbitrage.to_reference, c.o_kind, c.o_params, c.o_src_ptr,
        c.o_src, c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, c.oracle_of, c.stable, c.p0,
        b.coll, b.debt, b.seg_proto[seg], b.seg_asset[seg], b.seg_debt_asset[seg], [],
        1 if lq.mode == "rational" else 0, lq.gas_cost, lq.capital if np.isfinite(lq.capital) else 1e300,
        lq.max_per_step, rates=twin_pools(c), pool_cap=lq.debt_source == "pool",
        dt_seconds=c.scenario.simulation.dt_seconds)


def close(a, b, scale):
    return np.isclose(a, b, rtol=RTOL, atol=RTOL * scale) or (np.isnan(a) and np.isnan(b))


@pytest.mark.parametrize("seed", range(12))
def test_accrual_and_pools_match_the_twin(kit, seed):
    c = case(kit, seed)
    paths = make_paths(c)
    res = run_dynamic(c, paths=paths, record_paths=paths.shape[0])
    scale = float(c.book.debt.sum())
    ids = np.asarray(c.book.ids, dtype=object)
    for p in range(paths.shape[0]):
        tw = twin(c, paths[p])
        for col, key in COLUMNS.items():
            assert close(res.summary[p, col], tw["summary"][key], scale), \
                f"path {p} {key}: kernel {res.summary[p, col]!r} twin {tw['summary'][key]!r}"
        ev = res.events[res.events["path"] == p]
        assert len(ev) == len(tw["events"])
        for e, t in zip(ev, tw["events"]):
            assert (e["step"], e["position"]) == (t[0], ids[t[1]])
            for name, v in zip(EVENT_FLOATS, t[4:]):
                assert close(e[name], v, scale), f"path {p} {name}: kernel {e[name]!r} twin {v!r}"
        util = res.rates_steps[p, 1:, 0, 0]
        rate = res.rates_steps[p, 1:, 0, 1]
        locked = res.rates_steps[p, 1:, 0, 9]
        rec = tw["rates"][0]["records"]
        np.testing.assert_allclose(util, [r[1] for r in rec], rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(rate, [r[2] for r in rec], rtol=1e-7)  # fixed: the twin's naive power
        np.testing.assert_allclose(locked, [r[3] for r in rec], rtol=RTOL, atol=RTOL * scale)
        if p == 0:
            np.testing.assert_allclose(res.final_debt, tw["debt"], rtol=RTOL, atol=RTOL * float(c.book.debt.max()))
            tot = res.rates["p0/Q"]
            t0 = tw["rates"][0]
            for mine, theirs in (("interest_accrued", "interest"), ("repaid_by_liquidations", "repaid"),
                                 ("bad_debt", "bad"), ("repaid_by_borrowers", "borrower_repaid"),
                                 ("debt_left", "left"), ("withdrawn", "withdrawn"), ("locked_out_end", "locked_end")):
                assert close(tot[mine] or 0.0, t0[theirs], scale), f"{mine}: kernel {tot[mine]!r} twin {t0[theirs]!r}"
    assert set(TOTAL_COLUMNS) <= set(res.rates["p0/Q"])


def test_grid_exercises_accrual_locks_and_caps(kit):
    """The grid is not vacuous: accrual alone liquidates somewhere, a pool pins at 100 %
    utilization with withdrawals locked out, and the pool cap makes liquidators skip."""
    accrual_liq = locked = capped = 0
    for seed in range(12):
        c = case(kit, seed)
        paths = make_paths(c)
        tw = twin(c, paths[0])
        crash_start = 20
        accrual_liq += sum(1 for e in tw["events"] if e[0] < crash_start) if c.scenario.price.kind == "crash" else 0
        locked += sum(1 for r in tw["rates"][0]["records"] if r[3] > 0)
        if c.scenario.liquidators.debt_source == "pool":
            capped += tw["summary"]["skipped"]
    assert accrual_liq > 0 and locked > 0 and capped > 0
