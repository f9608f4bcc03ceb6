"""Dynamic engine: equivalence with the static solver in the limit where they must agree, and
the effect of each friction (oracle lag, rational gas, per-step caps, capital, thin venues,
book recovery)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import final_state
from liqcascade.kernels import dynamic as KD

PROTOS = (
    {"lt": 0.8, "bonus": 0.05, "rule": "v3.3", "pfee": 0.1},
    {"lt": 0.86, "bonus": 0.075, "rule": "v3.2", "pfee": 0.0},
)
NO_LAG = [None, {"kind": "spot", "lag_seconds": 0}]


def crash(shock):
    return {"kind": "crash", "shock": shock, "start_seconds": 60, "over_seconds": 60}


def liq_steps(r, path=0):
    return np.flatnonzero(r.steps_scalar[path, :, KD.SS_NLIQ] > 0)


def market(kit, seed, n=120, *, venue="cpmm", depth=2.0, fee=0.0, protos=PROTOS, **kw):
    rng = np.random.default_rng(seed)
    coll, debt, proto = kit.random_book(rng, n, [p["lt"] for p in protos])
    total = float(coll.sum())
    if venue == "cpmm":
        kw.update(venue="cpmm", reserve=total * depth, fee=fee)
    else:
        kw.update(venue="book", book_quote=total * kit.P0 * depth / 10.0)
    return kw, coll, debt, proto


# ---------------------------------------------------------------------------------------------
# THE acceptance test: no lag, mechanical, no arbitrage, no recovery, one-step crash


@pytest.mark.parametrize("oracle", NO_LAG, ids=["no-oracle", "spot-lag0"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shock", [0.05, 0.12, 0.25, 0.4])
def test_dynamic_equals_static_without_frictions(kit, seed, shock, oracle):
    kw, coll, debt, proto = market(kit, seed, fee=0.003 if seed == 3 else 0.0)
    c_static = kit.build(kit.scenario(**kw), coll, debt, proto)
    _, _, s = final_state(c_static, shock)
    assert s["converged"]
    steps = int(s["rounds"]) + 4
    sc = kit.scenario(**kw, oracle=oracle, price=crash(shock), steps=steps)
    c = kit.build(sc, coll, debt, proto)
    r = run_dynamic(c)
    assert r.final_spot[0, 0] == pytest.approx(s["final_price"][0], rel=1e-9)
    assert len(liq_steps(r)) == s["rounds"]
    if s["rounds"]:
        np.testing.assert_array_equal(liq_steps(r), np.arange(1, s["rounds"] + 1))
    assert r.summary[0, KD.SUM_NLIQ] == s["liquidations"]
    assert r.summary[0, KD.SUM_REPAID] == pytest.approx(s["repaid"], rel=1e-9)
    assert r.summary[0, KD.SUM_BAD] == pytest.approx(s["bad_debt"], rel=1e-9, abs=1e-9 * debt.sum())
    oc, od, _ = final_state(c_static, shock)
    np.testing.assert_allclose(r.final_coll, oc, rtol=1e-9, atol=1e-9 * coll.max())
    np.testing.assert_allclose(r.final_debt, od, rtol=1e-9, atol=1e-9 * debt.max())


@pytest.mark.parametrize("shock", [0.1, 0.3])
def test_dynamic_equals_static_on_a_book_without_recovery(kit, shock):
    # a book's exogenous move scales its mid exactly like the static shock's sale does
    kw, coll, debt, proto = market(kit, 4, venue="book", depth=1.0)
    _, _, s = final_state(kit.build(kit.scenario(**kw), coll, debt, proto), shock)
    r = run_dynamic(kit.build(kit.scenario(**kw, price=crash(shock), steps=int(s["rounds"]) + 3), coll, debt, proto))
    assert s["rounds"] >= 2
    assert r.final_spot[0, 0] == pytest.approx(s["final_price"][0], rel=1e-9)
    assert len(liq_steps(r)) == s["rounds"]


def test_acceptance_cases_do_cascade(kit):
    """The books above are not trivial: some shocks take several rounds."""
    kw, coll, debt, proto = market(kit, 1)
    c = kit.build(kit.scenario(**kw), coll, debt, proto)
    assert max(final_state(c, s)[2]["rounds"] for s in (0.05, 0.12, 0.25, 0.4)) >= 3


# ---------------------------------------------------------------------------------------------
# frictions


@pytest.mark.parametrize("lag", [1, 3, 7])
def test_oracle_lag_delays_first_liquidation(kit, lag):
    kw, coll, debt, proto = market(kit, 5)
    healthy = debt / (coll * kit.P0 * np.where(proto == 0, PROTOS[0]["lt"], PROTOS[1]["lt"])) < 1.0
    coll, debt, proto = coll[healthy], debt[healthy], proto[healthy]  # nothing liquidatable at p0

    def first(oracle):
        r = run_dynamic(kit.build(kit.scenario(**kw, oracle=oracle, price=crash(0.25), steps=40), coll, debt, proto))
        return liq_steps(r)[0], r

    t0, r0 = first({"kind": "spot", "lag_seconds": 0})
    t1, r1 = first({"kind": "spot", "lag_seconds": 60.0 * lag})
    assert t0 == 1
    assert t1 == t0 + lag
    # the first lagged step liquidates at the crashed spot (flat afterwards, nothing sold yet)
    assert r1.steps_asset[0, t1, 0, KD.ST_ORACLE] == pytest.approx(75.0, rel=1e-12)
    assert r1.steps_scalar[0, t1, KD.SS_NLIQ] == r0.steps_scalar[0, t0, KD.SS_NLIQ]


def test_rational_with_huge_gas_liquidates_nothing(kit):
    kw, coll, debt, proto = market(kit, 6)
    sc = kit.scenario(**kw, price=crash(0.3), steps=20, liquidators={"mode": "rational", "gas_cost": 1e12})
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    assert r.summary[0, KD.SUM_NLIQ] == 0
    assert r.summary[0, KD.SUM_SKIPPED] > 0
    assert len(r.events) == 0
    assert r.final_spot[0, 0] == pytest.approx(70.0, rel=1e-12)
    np.testing.assert_array_equal(r.final_coll, kit.build(sc, coll, debt, proto).book.coll)


def test_max_per_step_caps_liquidations(kit):
    kw, coll, debt, proto = market(kit, 7)
    free = run_dynamic(kit.build(kit.scenario(**kw, price=crash(0.3), steps=200), coll, debt, proto))
    assert free.steps_scalar[0, :, KD.SS_NLIQ].max() > 3
    sc = kit.scenario(**kw, price=crash(0.3), steps=200, liquidators={"max_per_step": 3})
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    per_step = r.steps_scalar[0, :, KD.SS_NLIQ]
    assert per_step.max() == 3
    assert np.all(np.bincount(r.events["step"], minlength=201) <= 3)
    assert r.summary[0, KD.SUM_NLIQ] == per_step.sum() == len(r.events)


def test_capital_limits_repaid_per_step(kit):
    kw, coll, debt, proto = market(kit, 8)
    cap = 20_000.0
    free = run_dynamic(kit.build(kit.scenario(**kw, price=crash(0.3), steps=100), coll, debt, proto))
    assert free.steps_scalar[0, :, KD.SS_REPAID].max() > cap
    sc = kit.scenario(**kw, price=crash(0.3), steps=100, liquidators={"capital": cap})
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    rep = r.steps_scalar[0, :, KD.SS_REPAID]
    assert rep.max() <= cap * (1 + 1e-12)
    assert rep.sum() > 0
    # per step, from the events: Σ debt_repaid · P_debt (= 1) <= capital
    ev = r.events
    for t in np.unique(ev["step"]):
        assert ev["debt_repaid"][ev["step"] == t].sum() <= cap * (1 + 1e-12)


@pytest.mark.parametrize("fee", [0.0, 0.003])
def test_execution_price_below_oracle_on_thin_pool(kit, fee):
    kw, coll, debt, proto = market(kit, 9, depth=0.5, fee=fee)
    sc = kit.scenario(**kw, oracle={"kind": "spot"}, price=crash(0.3), steps=30)
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    ev = r.events
    assert len(ev) > 0
    assert np.all(np.isfinite(ev["execution_price"]))
    assert np.all(ev["execution_price"] < ev["oracle_price"])
    # the step's proceeds over units sold is the events' execution price
    for t in np.unique(ev["step"]):
        sa = r.steps_asset[0, t, 0]
        np.testing.assert_allclose(ev["execution_price"][ev["step"] == t], sa[KD.ST_PROCEEDS] / sa[KD.ST_SEIZED],
                                   rtol=1e-12)


def test_book_venue_recovers_with_half_life(kit):
    half = 3.0
    kw, coll, debt, proto = market(kit, 10, venue="book", depth=1.0)
    sc = kit.scenario(**kw, half_life=half, price=crash(0.25), steps=60)
    r = run_dynamic(kit.build(sc, coll, debt, proto))
    steps = liq_steps(r)
    assert len(steps) > 0
    last = steps[-1]
    spot = r.steps_asset[0, :, 0, KD.ST_SPOT]
    ref = r.steps_asset[0, :, 0, KD.ST_REF]
    assert spot[last] < 75.0 * (1 - 1e-3)  # liquidation sales pushed the mid below the reference
    impact = 1.0 - spot / ref
    decay = 0.5 ** (1.0 / half)
    for t in range(last + 1, 61):
        assert impact[t] == pytest.approx(impact[t - 1] * decay, rel=1e-9, abs=1e-15)
    assert spot[-1] == pytest.approx(75.0, rel=1e-5)
    # without a half-life the impact stays
    sc0 = kit.scenario(**kw, half_life=0.0, price=crash(0.25), steps=60)
    r0 = run_dynamic(kit.build(sc0, coll, debt, proto))
    s0 = r0.steps_asset[0, :, 0, KD.ST_SPOT]
    assert s0[-1] == s0[liq_steps(r0)[-1]] < 75.0 * (1 - 1e-3)


def test_explicit_unlimited_capital_is_accepted(kit):
    # regression: capital = inf (the default, "unlimited") used to be refused when written out
    sc = kit.scenario(liquidators={"capital": math.inf})
    assert math.isinf(sc.liquidators.capital)


