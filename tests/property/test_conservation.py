"""Properties of the static solver and the dynamic engine on generated books: conservation of
collateral and debt, monotone cascade curve where it must be, reproducibility."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import choose_engine, final_state, solve_static
from liqcascade.kernels import dynamic as KD

RTOL = 1e-9


@st.composite
def protocol(draw, rules=("v3.3", "v3.2", "fixed"), cfs=(0.5, 1.0, 0.3)):
    lt = draw(st.sampled_from([0.6, 0.75, 0.8, 0.825, 0.86, 0.9]))
    bonus = draw(st.sampled_from([0.02, 0.05, 0.075, 0.1]).filter(lambda b: lt * (1 + b) <= 1.0))
    return {"lt": lt, "bonus": bonus, "rule": draw(st.sampled_from(rules)), "cf": draw(st.sampled_from(cfs)),
            "pfee": draw(st.sampled_from([0.0, 0.1]))}


@st.composite
def market(draw, **proto_kw):
    """Scenario keyword arguments for a venue and 1–2 protocols, plus a seed for the book."""
    protos = tuple(draw(st.lists(protocol(**proto_kw), min_size=1, max_size=2)))
    kw = {"protocols": protos, "max_rounds": 300}
    depth = draw(st.sampled_from([0.3, 1.0, 3.0, 30.0]))
    if draw(st.booleans()):
        kw.update(venue="cpmm", reserve=depth, fee=draw(st.sampled_from([0.0, 0.003])))
    else:
        kw.update(venue="book", book_quote=depth, half_life=draw(st.sampled_from([0.0, 0.0, 2.0, 10.0])))
    return kw, draw(st.integers(0, 2**32 - 1)), draw(st.integers(10, 200))


def realise(kit, m, **extra):
    kw, seed, n = m
    coll, debt, proto = kit.random_book(np.random.default_rng(seed), n, [p["lt"] for p in kw["protocols"]])
    kw = {**kw, **extra}
    total = float(coll.sum())  # venue sizes are relative to the book's collateral
    if kw["venue"] == "cpmm":
        kw["reserve"] = kw["reserve"] * total
    else:
        kw["book_quote"] = kw["book_quote"] * total * kit.P0 / 10.0
    return kit.build(kit.scenario(**kw), coll, debt, proto), coll, debt, proto


def rel_close(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * scale)


# ---------------------------------------------------------------------------------------------
# static solver


ENGINES = ("per-position", "aggregated")


@contextmanager
def forced_engine(engine):
    """``solve_static`` on the given kernel (a context manager, not a fixture: hypothesis tests
    take no function-scoped fixtures)."""
    import liqcascade.engine.static as S

    with mock.patch.object(S, "choose_engine", lambda c, mode: (engine, "forced by the test")):
        yield


@pytest.mark.parametrize("engine", ENGINES)
@settings(deadline=None, max_examples=40)
@given(m=market(), shock=st.floats(0.0, 0.6, exclude_max=True))
def test_static_conservation(kit, engine, m, shock):
    c, coll, debt, proto = realise(kit, m)
    b = c.book
    if engine == "aggregated" and choose_engine(c, "mechanical")[0] != "aggregated":
        engine = "per-position"  # a v3.3 segment outside the binned regime
    oc, od, s = final_state(c, shock, engine=engine)
    assert np.all(oc >= 0.0) and np.all(oc <= b.coll) and np.all(od >= 0.0) and np.all(od <= b.debt)
    # nothing is left on a position with no collateral; running out of it records bad debt
    assert not np.any((oc <= 0.0) & (od > 0.0))
    if np.any(oc <= 0.0) and s["repaid"] + od.sum() < b.debt.sum() * (1 - 1e-9):
        assert s["bad_debt"] > 0.0
    # collateral seized + left = before; debt repaid + bad + left = before (debt price 1)
    rel_close(s["units"][0] + oc.sum(), b.coll.sum(), b.coll.sum())
    rel_close(s["repaid"] + s["bad_debt"] + od.sum(), b.debt.sum(), b.debt.sum())
    # per position: a position either keeps its state or lost collateral and debt together
    touched = (oc != b.coll) | (od != b.debt)
    assert np.all(oc[touched] < b.coll[touched]) and np.all(od[touched] < b.debt[touched])
    # liquidations only sell: never above the shocked price
    assert s["final_price"][0] <= kit.P0 * (1.0 - shock) * (1 + 1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@settings(deadline=None, max_examples=30)
@given(m=market(rules=("fixed",), cfs=(1.0,)), key=st.floats(40.0, 99.0))
def test_monotone_curve_when_one_round(kit, engine, m, key):
    """Mechanical, full close factor, every position with the same liquidation price: all of
    them go in one round at the shocked price, so a bigger shock seizes more and ends lower.
    (With several liquidation prices the curve need not be monotone: see
    tests/unit/test_static.py::test_bigger_shock_can_end_higher_round_timing.)"""
    kw, seed, n = m
    rng = np.random.default_rng(seed)
    proto = rng.integers(0, len(kw["protocols"]), n)
    coll = 10.0 ** rng.uniform(2.0, 6.0, n) / kit.P0
    lts = np.array([p["lt"] for p in kw["protocols"]])
    debt = coll * lts[proto] * key
    total = float(coll.sum())
    kw = dict(kw, reserve=kw.get("reserve", 1) * total, book_quote=kw.get("book_quote", 1) * total * 10.0)
    c = kit.build(kit.scenario(**kw), coll, debt, proto)
    grid = np.linspace(0.0, 0.59, 40)
    assume(np.all(np.abs(kit.P0 * (1.0 - grid) / key - 1.0) > 1e-9))  # no price exactly at the key
    with forced_engine(engine):
        res = solve_static(c, grid)
    final = np.array([p.final_price for p in res.points])
    assert np.all(np.diff(final) <= 1e-12 * final[:-1])
    assert all(p.rounds <= 1 for p in res.points)


# ---------------------------------------------------------------------------------------------
# dynamic engine


@st.composite
def dynamics(draw):
    price = draw(st.sampled_from(["crash", "gbm"]))
    if price == "crash":
        pp = {"kind": "crash", "shock": draw(st.floats(0.05, 0.6)), "start_seconds": 60.0 * draw(st.integers(1, 5)),
              "over_seconds": 60.0 * draw(st.integers(1, 10)), "recovery": draw(st.sampled_from([0.0, 0.5])),
              "recovery_seconds": 600.0}
    else:
        pp = {"kind": "gbm", "sigma": draw(st.sampled_from([0.5, 2.0, 5.0])), "mu": -1.0}
    oracle = draw(st.sampled_from([
        None, {"kind": "spot", "lag_seconds": 120.0}, {"kind": "heartbeat", "deviation": 0.01, "heartbeat_seconds": 600},
        {"kind": "twap", "window_seconds": 300.0},
    ]))
    liq = {
        "mode": draw(st.sampled_from(["mechanical", "rational"])),
        "gas_cost": draw(st.sampled_from([0.0, 5.0])),
        "max_per_step": draw(st.sampled_from([0, 0, 3])),
    }
    capital = draw(st.sampled_from([None, 2e4, 3e5]))  # None: the default (unlimited)
    if capital is not None:
        liq["capital"] = capital
    return {"price": pp, "oracle": oracle, "liquidators": liq, "arbitrage": draw(st.booleans()),
            "steps": 60, "seed": draw(st.integers(0, 1000))}


@settings(deadline=None, max_examples=40)
@given(m=market(), dyn=dynamics())
def test_dynamic_conservation(kit, m, dyn):
    c, coll, debt, proto = realise(kit, m, **dyn)
    b = c.book
    r = run_dynamic(c)
    ev = r.events
    s = r.summary[0]
    assert s[KD.SUM_EV_LOST] == 0
    assert len(ev) == s[KD.SUM_NLIQ] == r.steps_scalar[0, :, KD.SS_NLIQ].sum()
    fc, fd = r.final_coll, r.final_debt
    assert np.all(fc >= 0.0) and np.all(fd >= 0.0)
    # per position: Σ seized = before − after, Σ (repaid + bad) = before − after
    where = {int(i): k for k, i in enumerate(b.ids)}
    idx = np.array([where[int(p)] for p in ev["position"]], dtype=np.int64)
    seized = np.bincount(idx, weights=ev["collateral_seized"], minlength=b.n)
    paid = np.bincount(idx, weights=ev["debt_repaid"] + ev["bad_debt"], minlength=b.n)
    np.testing.assert_allclose(seized + fc, b.coll, rtol=RTOL, atol=0.0)
    np.testing.assert_allclose(paid + fd, b.debt, rtol=RTOL, atol=0.0)
    # totals
    rel_close(seized.sum() + fc.sum(), b.coll.sum(), b.coll.sum())
    rel_close(s[KD.SUM_REPAID] + s[KD.SUM_BAD] + fd.sum(), b.debt.sum(), b.debt.sum())
    rel_close(r.steps_asset[0, :, 0, KD.ST_SEIZED].sum(), seized.sum(), b.coll.sum())
    # every event is a liquidation at a price that makes the position liquidatable, seized <= balance
    assert np.all(ev["collateral_seized"] >= 0.0) and np.all(ev["debt_repaid"] >= 0.0)
    # nothing is left on a position with no collateral; running out of it records its bad debt
    assert not np.any((fc <= 0.0) & (fd > 0.0))
    repaid = np.bincount(idx, weights=ev["debt_repaid"], minlength=b.n)
    bad = np.bincount(idx, weights=ev["bad_debt"], minlength=b.n)
    out = (fc <= 0.0) & (repaid < b.debt * (1 - 1e-9))
    assert np.all(bad[out] > 0.0)


def _gbm(kit, seed, paths=3, record_paths=3, **kw):
    m = ({"protocols": ({"lt": 0.8, "bonus": 0.05}, {"lt": 0.86, "bonus": 0.075, "rule": "v3.2"}),
          "venue": "cpmm", "reserve": 2.0, "fee": 0.003}, 11, 150)
    return realise(kit, m, price={"kind": "gbm", "sigma": 3.0, "mu": -2.0}, steps=80, paths=paths,
                   seed=seed, record_paths=record_paths, arbitrage=True, **kw)[0]


def _same_run(a, b):
    for f in ("summary", "min_spot", "final_spot", "steps_asset", "steps_scalar", "final_coll", "final_debt"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.events.shape == b.events.shape
    for f in a.events.dtype.names:
        assert list(a.events[f]) == list(b.events[f]), f


def test_same_seed_is_bit_identical_and_seed_matters(kit):
    c = _gbm(kit, seed=7, oracle={"kind": "spot", "lag_seconds": 60.0})
    r1, r2 = run_dynamic(c), run_dynamic(_gbm(kit, seed=7, oracle={"kind": "spot", "lag_seconds": 60.0}))
    assert r1.summary[:, KD.SUM_NLIQ].sum() > 0 and len(r1.events) > 0
    _same_run(r1, r2)
    r3 = run_dynamic(_gbm(kit, seed=8, oracle={"kind": "spot", "lag_seconds": 60.0}))
    assert not np.array_equal(r1.final_spot, r3.final_spot)
    assert not np.array_equal(r1.summary, r3.summary)


def test_recording_does_not_change_results(kit):
    rec = run_dynamic(_gbm(kit, seed=3, paths=6, record_paths=6))
    norec = run_dynamic(_gbm(kit, seed=3, paths=6, record_paths=0))
    assert len(norec.events) == 0 and len(rec.events) > 0
    assert len(np.unique(rec.final_spot[:, 0])) == 6  # six different paths
    np.testing.assert_array_equal(rec.summary, norec.summary)
    np.testing.assert_array_equal(rec.min_spot, norec.min_spot)
    np.testing.assert_array_equal(rec.final_spot, norec.final_spot)
    part = run_dynamic(_gbm(kit, seed=3, paths=6, record_paths=2))
    np.testing.assert_array_equal(rec.summary, part.summary)
    # regression: unrecorded paths (simulate_many, 0-length event buffers) used to count every
    # liquidation as an event lost to a full buffer
    assert norec.summary[:, KD.SUM_NLIQ].sum() > 0
    assert norec.summary[:, KD.SUM_EV_LOST].sum() == 0
    assert norec.totals()["events_not_recorded"] == 0


@pytest.mark.parametrize("record_paths", [0, 1])
def test_run_dynamic_argument_overrides_scenario(kit, record_paths):
    c = _gbm(kit, seed=3, paths=2, record_paths=2)
    assert run_dynamic(c, record_paths=record_paths).steps_asset.shape[0] == record_paths
