"""Multi-asset positions (several collateral or debt assets) in the static solver: both
kernels against the brute-force twin, and conservation in the time loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import book_from_arrays, compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import final_state, static_arrays
from liqcascade.engine.warmup import tiny_scenario
from liqcascade.kernels.cascade_py import solve_shock_py


def _compiled():
    sc = tiny_scenario()
    sc.venues = sc.venues[:1]
    book = book_from_arrays(np.array([1.0, 2.0, 3.0]), np.array([85.0, 100.0, 200.0]), 0.8)
    # two multi-asset positions: collateral in A (asset 0), debt in Q (asset 1) spread over rows
    book.m_ptr = np.array([0, 2, 5])
    book.m_asset = np.array([0, 1, 0, 1, 1])
    book.m_coll = np.array([1.5, 0.0, 2.0, 0.0, 0.0])
    book.m_debt = np.array([0.0, 110.0, 0.0, 100.0, 50.0])
    book.m_proto = np.array([0, 0])
    book.m_ids = np.array(["m0", "m1"], dtype=object)
    return compile_scenario(sc, Path("."), book=book)


@pytest.mark.parametrize("shock", [0.0, 0.05, 0.1, 0.2, 0.3])
@pytest.mark.parametrize("engine", ["per-position", "aggregated"])
def test_multi_asset_positions_match_the_twin(shock, engine):
    c = _compiled()
    b = c.book
    oc, _, s = final_state(c, shock, engine=engine)
    vs, vdk, vdq, mask = static_arrays(c)
    multi = [(0, [(0, 1.5, 0.0), (1, 0.0, 110.0)]), (0, [(0, 2.0, 0.0), (1, 0.0, 100.0), (1, 0.0, 50.0)])]
    r = solve_shock_py(shock, b.coll, b.debt, np.zeros(b.n, int), np.zeros(b.n, int), np.ones(b.n),
                       c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0, mask, 0, 0.0, 1000, multi=multi)
    assert s["rounds"] == r["rounds"] and s["liquidations"] == r["liquidations"]
    assert s["final_price"][0] == pytest.approx(r["final_price"][0], rel=1e-12)
    flat_c = [e[1] for _, ents in r["multi"] for e in ents]
    flat_d = [e[2] for _, ents in r["multi"] for e in ents]
    np.testing.assert_allclose(s["multi_coll"], flat_c, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s["multi_debt"], flat_d, rtol=1e-12, atol=1e-12)
    # conservation over the whole book: collateral seized + left = before
    assert s["units"][0] + oc.sum() + s["multi_coll"].sum() == pytest.approx(b.coll.sum() + b.m_coll.sum(), rel=1e-12)


def test_multi_asset_conservation_in_the_time_loop():
    c = _compiled()
    c.scenario.simulation.steps = 20
    res = run_dynamic(c)
    ev = res.events
    multi = np.isin(ev["position"], ["m0", "m1"])
    assert multi.any()
    seized = ev["collateral_seized"][multi].sum()
    assert seized + res.final_mcoll.sum() == pytest.approx(c.book.m_coll.sum(), rel=1e-12)
    repaid = ev["debt_repaid"][multi].sum()
    bad = ev["bad_debt"][multi].sum()  # quote value; the debt asset is worth 1
    assert repaid + bad + res.final_mdebt.sum() == pytest.approx(c.book.m_debt.sum(), rel=1e-12)
