"""Interest rates and lending pools in the time loop (``[protocols.rates.ASSET]``,
``kernels.accrual``): the default is no accrual, conservation with interest as created debt,
direction on seeded paths, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.kernels import dynamic as KD
from liqcascade.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[2]
LT = 0.8


def scenario(rates=None, *, steps=48, dt=3600.0, price=None, liq=None, seed=3, paths=1, name="r"):
    p = {"name": "p0", "positions": "-", "collateral": "A", "debt": "Q",
         "params": {"A": {"liquidation_threshold": LT, "liquidation_bonus": 0.05}}}
    if rates is not None:
        p["rates"] = {"Q": rates}
    return Scenario.model_validate({
        "name": name,
        "simulation": {"steps": steps, "dt_seconds": dt, "paths": paths, "seed": seed, "record_paths": paths},
        "assets": [{"name": "A", "price": 100.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": price or {"kind": "crash", "shock": 0.0},
        "venues": [{"name": "v", "asset": "A", "kind": "cpmm", "reserve_asset": 2e5, "fee": 0.003}],
        "protocols": [p],
        "liquidators": liq or {},
        "arbitrage": {"enabled": True, "to_reference": True},
    })


def book(kit, seed, n=60, hf_lo=1.0, hf_hi=1.08):
    rng = np.random.default_rng(seed)
    value = 10.0 ** rng.uniform(3.0, 5.0, n)
    hf = np.where(rng.random(n) < 0.6, rng.uniform(hf_lo, hf_hi, n), rng.uniform(hf_hi, 2.0, n))
    return value / 100.0, value * LT / hf


def run(kit, sc, coll, debt, paths=None):
    c = compile_scenario(sc, Path("."), book=kit.join_books(coll, debt, np.zeros(len(coll), np.int64), [LT]))
    ps = make_paths(c) if paths is None else paths
    return c, run_dynamic(c, paths=ps), ps


def shortfall(c, res):
    """Debt still open above its collateral's value at the final oracle price (quote): bad debt
    that no liquidation has written off yet."""
    px = res.steps_asset[0, -1, 0, KD.ST_ORACLE]
    return float(np.maximum(res.final_debt - res.final_coll * px, 0.0).sum())


def test_no_rates_table_and_a_zero_rate_give_identical_results(kit):
    """A pool whose rates are all zero (no withdrawals, own capital) changes nothing, to the bit:
    the scaled debt is priced at an index of exactly 1."""
    coll, debt = book(kit, 1)
    crash = {"kind": "crash", "shock": 0.25, "start_seconds": 7200.0, "over_seconds": 7200.0}
    zero = {"kind": "aave_v3", "base": 0.0, "slope1": 0.0, "slope2": 0.0, "supply": float(debt.sum()) * 1.2}
    _, a, ps = run(kit, scenario(None, price=crash), coll, debt)
    _, b, _ = run(kit, scenario(zero, price=crash), coll, debt, ps)
    assert a.summary[0, KD.SUM_NLIQ] > 0
    assert np.array_equal(a.summary, b.summary)
    assert np.array_equal(a.events, b.events)
    assert np.array_equal(a.final_debt, b.final_debt) and np.array_equal(a.final_coll, b.final_coll)
    assert not a.rates and b.rates["p0/Q"]["interest_accrued"] == 0.0


def test_accrual_alone_liquidates_on_a_flat_price(kit):
    """Thirty days above the kink at a flat price: without rates nothing happens; with them the
    debt grows by the borrow index and the closest positions are liquidated."""
    coll, debt = book(kit, 2, hf_lo=1.0, hf_hi=1.03)
    rt = {"kind": "aave_v3", "supply": float(debt.sum()) / 0.95, "utilization": 0.95}
    _, a, ps = run(kit, scenario(None, steps=720), coll, debt)
    _, b, _ = run(kit, scenario(rt, steps=720), coll, debt, ps)
    assert a.summary[0, KD.SUM_NLIQ] == 0
    assert b.summary[0, KD.SUM_NLIQ] > 0
    tot = b.rates["p0/Q"]
    # 95 % utilization: 4 % + 60 % · (0.95 − 0.9)/0.1 = 34 % a year at the start
    assert b.rates_steps[0, 0, 0, 1] == pytest.approx(0.34, rel=1e-12)
    # no reacting borrowers: the book's debt factor is the pool's borrow index; liquidations
    # repay the pool, so utilization and the rate fall back below the kink
    idx = b.rates_steps[0, :, 0, 3]
    assert tot["debt_factor"] == idx[-1] > 1.0 and np.all(np.diff(idx) > 0)
    assert b.rates_steps[0, -1, 0, 0] < 0.9


@st.composite
def rate_cases(draw):
    kind = draw(st.sampled_from(["aave_v3", "comet", "fixed", "liquity"]))
    if kind == "aave_v3":
        rt = {"kind": kind, "slope2": draw(st.sampled_from([0.6, 3.0])), "utilization": draw(st.floats(0.8, 0.99))}
    elif kind == "comet":
        rt = {"kind": kind, "borrow_slope_high": draw(st.sampled_from([0.25, 4.0])),
              "utilization": draw(st.floats(0.8, 0.99))}
    elif kind == "fixed":
        rt = {"kind": kind, "annual": draw(st.sampled_from([0.05, 1.0]))}
    else:
        rt = {"kind": kind}
    if kind in ("aave_v3", "comet"):
        if draw(st.booleans()):
            rt.update(withdraw_per_step=draw(st.sampled_from([0.02, 0.2])), withdraw_start_seconds=3 * 3600.0,
                      withdraw_for_seconds=5 * 3600.0)
    if kind != "liquity" and draw(st.booleans()):
        rt.update(react_rate=draw(st.sampled_from([0.1, 0.5])), react_repay=0.05)
    liq = {"debt_source": "pool"} if kind in ("aave_v3", "comet") and draw(st.booleans()) else {}
    if draw(st.booleans()):
        liq["mode"] = "rational"
    shock = draw(st.sampled_from([0.0, 0.2, 0.45]))
    return rt, liq, shock, draw(st.integers(0, 2**31))


@settings(deadline=None, max_examples=25)
@given(case=rate_cases())
def test_conservation_with_interest_as_created_debt(kit, case):
    """Per pool, in units of the debt asset: debt before + interest accrued = repaid by
    liquidations + repaid by borrowers + bad debt + left; the events and the final book say the
    same; collateral seized + left = before; pools never lend what they do not have."""
    rt, liq, shock, seed = case
    coll, debt = book(kit, seed)
    if "utilization" in rt:
        rt["supply"] = float(debt.sum()) / rt["utilization"]
    price = {"kind": "crash", "shock": shock, "start_seconds": 6 * 3600.0, "over_seconds": 4 * 3600.0}
    c, res, _ = run(kit, scenario(rt, price=price, liq=liq, seed=seed % 1000), coll, debt)
    t = res.rates["p0/Q"]
    before = float(debt.sum())
    rhs = t["repaid_by_liquidations"] + t["repaid_by_borrowers"] + t["bad_debt"] + t["debt_left"]
    assert before + t["interest_accrued"] == pytest.approx(rhs, rel=1e-9)
    assert res.events["debt_repaid"].sum() == pytest.approx(t["repaid_by_liquidations"], rel=1e-9, abs=1e-6)
    assert res.final_debt.sum() == pytest.approx(t["debt_left"], rel=1e-9, abs=1e-6)
    assert res.summary[0, KD.SUM_REPAID] == pytest.approx(t["repaid_by_liquidations"], rel=1e-9, abs=1e-6)
    assert res.events["collateral_seized"].sum() + res.final_coll.sum() == pytest.approx(coll.sum(), rel=1e-12)
    if rt["kind"] in ("aave_v3", "comet"):
        steps = res.rates_steps[0]
        assert np.all(steps[:, 0, 5] >= -1e-9 * before)  # available
        assert np.all(steps[:, 0, 9] >= 0.0)  # locked out
    if rt["kind"] == "liquity":
        assert t["interest_accrued"] == 0.0


def test_leverage_fee_on_a_rate_row_is_debt_owed_everywhere(kit):
    """With the leverage fee on top of a rate row the debt owed is the scaled debt × the pool's
    factor × the fee's index: the events' debt_repaid, the final book, the pool's repaid and
    debt left and the summary's repaid all say the same, interest accrues on the debt owed (more
    than without the fee), and the fee is created debt beyond the interest."""
    from liqcascade.mechanisms.model import Mechanisms

    coll, debt = book(kit, 7)
    price = {"kind": "crash", "shock": 0.3, "start_seconds": 6 * 3600.0, "over_seconds": 4 * 3600.0}
    out = {}
    for fee in (False, True):
        sc = scenario({"kind": "fixed", "annual": 2.0}, price=price)
        if fee:
            sc.mechanisms = Mechanisms.model_validate(
                {"volatility_fee": {"k": 0.5, "vol_ref": 0.5, "vol_window_seconds": 4 * 3600.0}})
        c, res, _ = run(kit, sc, coll, debt)
        t = res.rates["p0/Q"]
        assert res.summary[0, KD.SUM_NLIQ] > 0
        assert res.events["debt_repaid"].sum() == pytest.approx(t["repaid_by_liquidations"], rel=1e-9)
        assert res.summary[0, KD.SUM_REPAID] == pytest.approx(t["repaid_by_liquidations"], rel=1e-9)
        assert res.final_debt.sum() == pytest.approx(t["debt_left"], rel=1e-9)
        out[fee] = t
    assert out[True]["interest_accrued"] > out[False]["interest_accrued"]
    t = out[True]
    rhs = t["repaid_by_liquidations"] + t["repaid_by_borrowers"] + t["bad_debt"] + t["debt_left"]
    assert rhs > float(debt.sum()) + t["interest_accrued"] * (1 + 1e-9)


def test_reactive_borrowers_repay_the_pool_and_the_identity_holds(kit):
    """Borrowers of the loop's agents who deleverage repay debt from outside: it goes back to the
    pool and counts as repaid by borrowers, so the row's identity (debt before + interest =
    repaid + repaid by borrowers + bad + left) still holds and the final book agrees with debt
    left (before, the pool's book kept the repaid debt: interest on it, and in debt left)."""
    from liqcascade.agents.model import Agents

    coll, debt = book(kit, 11)
    price = {"kind": "crash", "shock": 0.2, "start_seconds": 6 * 3600.0, "over_seconds": 4 * 3600.0}
    sc = scenario({"kind": "aave_v3", "slope2": 3.0, "utilization": 0.95, "supply": float(debt.sum()) / 0.95},
                  price=price)
    sc.agents = Agents.model_validate({"borrowers": {"share": 0.6, "react_hf": 1.1, "target_hf": 1.3,
                                                     "delay_seconds": 0.0, "action": "deleverage"}})
    c, res, _ = run(kit, sc, coll, debt)
    t = res.rates["p0/Q"]
    assert res.summary[0, KD.SUM_TOPUP] > 0.0 and t["repaid_by_borrowers"] > 0.0
    rhs = t["repaid_by_liquidations"] + t["repaid_by_borrowers"] + t["bad_debt"] + t["debt_left"]
    assert float(debt.sum()) + t["interest_accrued"] == pytest.approx(rhs, rel=1e-9)
    assert res.final_debt.sum() == pytest.approx(t["debt_left"], rel=1e-9)
    assert t["repaid_by_borrowers"] == pytest.approx(res.summary[0, KD.SUM_TOPUP], rel=1e-9)  # the debt asset is at 1


def _horizon(kit, slope2, seed):
    coll, debt = book(kit, seed, n=80, hf_lo=1.0, hf_hi=1.1)
    rt = {"kind": "aave_v3", "slope2": slope2, "supply": float(debt.sum()) / 0.96, "utilization": 0.96}
    gbm = {"kind": "gbm", "sigma": 0.3}
    return run(kit, scenario(rt, steps=30 * 24, price=gbm, seed=seed), coll, debt)


def test_steeper_slope2_liquidates_more_over_a_horizon(kit):
    """Same seeded paths, same book: a steeper slope above the kink never liquidates fewer
    positions over 30 days (and does liquidate more on these seeds)."""
    more = 0
    for seed in range(4):
        _, lo, _ = _horizon(kit, 0.6, seed)
        _, hi, _ = _horizon(kit, 3.0, seed)
        n_lo, n_hi = lo.summary[0, KD.SUM_NPOS_LIQ], hi.summary[0, KD.SUM_NPOS_LIQ]
        assert n_hi >= n_lo, f"seed {seed}: slope2 3.0 liquidated {n_hi} positions, 0.6 {n_lo}"
        more += n_hi > n_lo
    assert more > 0


def test_liquidators_limited_to_the_pool_never_lower_bad_debt(kit):
    """A crash day on which lenders run: liquidators who must source the debt asset from the pool
    are locked out with the lenders. Bad debt (written off, plus open debt above its collateral
    at the end) is never lower than with liquidators using their own capital."""
    worse = 0
    for seed in range(4):
        coll, debt = book(kit, 10 + seed, n=80, hf_lo=1.0, hf_hi=1.15)
        rt = {"kind": "aave_v3", "supply": float(debt.sum()) / 0.9, "utilization": 0.9,
              "withdraw_per_step": 0.05, "withdraw_start_seconds": 3600.0}
        crash = {"kind": "crash", "shock": 0.35, "start_seconds": 4 * 3600.0, "over_seconds": 6 * 3600.0}
        c1, own, ps = run(kit, scenario(rt, steps=24, price=crash, seed=seed), coll, debt)
        c2, pool, _ = run(kit, scenario(rt, steps=24, price=crash, seed=seed, liq={"debt_source": "pool"}),
                          coll, debt, ps)
        b_own = own.summary[0, KD.SUM_BAD] + shortfall(c1, own)
        b_pool = pool.summary[0, KD.SUM_BAD] + shortfall(c2, pool)
        assert b_pool >= b_own * (1 - 1e-12), f"seed {seed}: pool-sourced {b_pool} < own capital {b_own}"
        assert pool.rates["p0/Q"]["steps_at_full_utilization"] > 0
        worse += b_pool > b_own
    assert worse > 0


def test_same_seed_same_rates_output(kit):
    coll, debt = book(kit, 5)
    rt = {"kind": "comet", "supply": float(debt.sum()) / 0.9, "utilization": 0.9, "withdraw_per_step": 0.1}
    gbm = {"kind": "gbm", "sigma": 1.0}
    _, a, _ = run(kit, scenario(rt, price=gbm, seed=9), coll, debt)
    _, b, _ = run(kit, scenario(rt, price=gbm, seed=9), coll, debt)
    assert np.array_equal(a.rates_steps, b.rates_steps) and a.rates == b.rates


def _cli(tmp_path, body):
    f = tmp_path / "s.toml"
    f.write_text(body)
    return subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(f)], capture_output=True, text=True,
                          cwd=ROOT)


BASE = """
name = "bad"
[simulation]
steps = 5
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 10000
[[protocols]]
name = "aave"
positions = "{pos}"
collateral = "WETH"
debt = "USDC"
[protocols.params.WETH]
liquidation_threshold = 0.86
liquidation_bonus = 0.052
"""


@pytest.mark.parametrize("extra, where", [
    ("[protocols.rates.USDC]\nkind = \"aave_v3\"\nsupply = 1e6\n", "supply"),
    ("[protocols.rates.USDC]\nkind = \"aave_v3\"\nsupply = 1e8\nutilization = 0.01\n", "utilization"),
    ("[protocols.rates.USDC]\nkind = \"aave_v3\"\nsupply = 1e8\nslope1 = 0.9\nslope2 = 0.5\n", "rates"),
    ("[protocols.rates.DAI]\nkind = \"fixed\"\nannual = 0.02\n", "rates"),
    ("[liquidators]\ndebt_source = \"pool\"\n", "debt_source"),
])
def test_bad_rates_input_is_one_line_and_exit_2(tmp_path, extra, where):
    pos = (ROOT / "examples" / "minimal_positions.csv").as_posix()
    r = _cli(tmp_path, BASE.format(pos=pos) + extra)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_run_output_has_the_pools(tmp_path):
    """``run --out`` writes rates.parquet (per step and pool) and the totals in summary.json."""
    import pyarrow.parquet as pq

    pos = (ROOT / "examples" / "minimal_positions.csv").as_posix()
    f = tmp_path / "s.toml"
    f.write_text(BASE.format(pos=pos) + "[protocols.rates.USDC]\nkind = \"aave_v3\"\nsupply = 6e6\n"
                 "utilization = 0.9\nwithdraw_per_step = 0.5\n")
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(f), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    t = pq.read_table(out / "rates.parquet").to_pydict()
    assert t["pool"][0] == "aave/USDC" and len(t["step"]) == 6
    assert max(t["utilization"]) == 1.0 and t["locked_out"][-1] > 0
    s = json.loads((out / "summary.json").read_text())
    assert s["rates"]["aave/USDC"]["steps_at_full_utilization"] > 0
    assert "withdrawals locked out" in r.stdout


def test_rates_example_accrual_liquidates_then_the_crash_day_pins_utilization():
    """``examples/rates.toml``: before the crash (day 20) the reference price is flat and only
    interest moves health factors — and positions are liquidated, which the same file without
    its rates table does not do; on the crash day lenders run, utilization reaches 100 % and
    withdrawals are locked out. With liquidators sourcing USDC from the pool they are locked
    out too: fewer liquidations and more debt left above its collateral."""
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(ROOT / "examples" / "rates.toml")
    crash = int(sc.price.start_seconds / sc.simulation.dt_seconds)
    c = compile_scenario(sc, base)
    paths = make_paths(c)
    assert np.all(paths[0, :crash, 0] == paths[0, 0, 0])
    res = run_dynamic(c, paths=paths)
    pre = res.events[res.events["step"] < crash]
    assert len(pre) > 0
    rs = res.rates_steps[0, :, 0]
    assert rs[:crash, 0].max() < 1.0 and rs[crash:, 0].max() == 1.0
    tot = res.rates["aave/USDC"]
    assert tot["steps_at_full_utilization"] > 0 and tot["locked_out_max"] > 0
    assert tot["borrow_rate_max"] == pytest.approx(0.64)  # base + slope1 + slope2

    bare = sc.model_copy(deep=True)
    bare.protocols[0].rates = {}
    r0 = run_dynamic(compile_scenario(bare, base), paths=paths)
    assert len(r0.events[r0.events["step"] < crash]) == 0

    pool = sc.model_copy(deep=True)
    pool.liquidators.debt_source = "pool"
    rp = run_dynamic(compile_scenario(pool, base), paths=paths)
    assert rp.summary[0, KD.SUM_NLIQ] < res.summary[0, KD.SUM_NLIQ]
    assert rp.rates["aave/USDC"]["underwater_debt_end"] > tot.get("underwater_debt_end", 0.0)


def test_api_run_has_the_rates_table():
    import liqcascade as lc

    s = lc.load(ROOT / "examples" / "rates.toml").set("simulation.steps", 30)
    r = lc.run(s)
    t = r.rates
    assert len(t) == 31 and set(t["pool"]) == {"aave/USDC"}
    assert t["borrow_rate"][0] == pytest.approx(0.40)
    assert len(lc.run(lc.load(ROOT / "examples" / "minimal.toml")).rates) == 0
