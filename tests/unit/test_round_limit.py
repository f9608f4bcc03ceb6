"""The static solver's round limit, reached exactly: a chain of positions built so that each
round's sale pushes the pool just under the next position's liquidation price needs exactly R
rounds. With ``max_rounds`` R − 1, R and R + 1, on the per-position and the aggregated kernel
(and the brute-force twin for the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from liqcascade.engine.static import final_state, solve_static, static_arrays
from liqcascade.venues.cpmm import kernel as KV
from liqcascade.kernels.cascade_py import solve_shock_py

R = 12
LT, BONUS, RESERVE = 0.8, 0.05, 1000.0


def chain(kit, n=R):
    """Collateral and debt of ``n`` positions liquidated one per round, in order, each at the
    price the previous round's sale left (full close factor: one event per position)."""
    x, y = RESERVE, RESERVE * kit.P0
    p = kit.P0
    coll, debt = [], []
    for _ in range(n):
        key = p * (1.0 + 1e-6)  # crosses at p, not at the price before it
        c = 12.0
        d = key * c * LT
        coll.append(c)
        debt.append(d)
        seize = d * (1.0 + BONUS) / p
        x, y, _ = KV.cpmm_sell(x, y, 0.0, seize)
        assert y / x < p / (1.0 + 1e-5)  # the sale moves the price past the next key's margin
        p = y / x
    return np.array(coll), np.array(debt)


def compiled(kit, max_rounds):
    coll, debt = chain(kit)
    sc = kit.scenario(protocols=({"lt": LT, "bonus": BONUS, "pfee": 0.0, "rule": "fixed", "cf": 1.0},),
                      reserve=RESERVE, max_rounds=max_rounds)
    return kit.build(sc, coll, debt)


def test_the_chain_needs_exactly_r_rounds(kit):
    c = compiled(kit, 10_000)
    vs, vdk, vdq, mask = static_arrays(c)
    b = c.book
    r = solve_shock_py(0.0, b.coll, b.debt, np.zeros(b.n, int), np.zeros(b.n, int), np.ones(b.n), c.lt_pa,
                       c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0, mask, 0, 0.0, 10_000)
    assert r["rounds"] == R and r["liquidations"] == R and r["converged"]


@pytest.mark.parametrize("engine", ["per-position", "aggregated"])
@pytest.mark.parametrize("max_rounds, rounds, converged", [(R - 1, R - 1, False), (R, R, False), (R + 1, R, True),
                                                           (1, 1, False)])
def test_round_limit_exactly(kit, engine, max_rounds, rounds, converged):
    c = compiled(kit, max_rounds)
    full = final_state(compiled(kit, 10_000), 0.0, engine=engine)[2]
    oc, od, s = final_state(c, 0.0, engine=engine)
    assert s["rounds"] == rounds and s["liquidations"] == rounds
    assert bool(s["converged"]) == converged
    # the rounds that ran are the unlimited run's first rounds: positions past the cap are untouched
    assert int(np.count_nonzero(od == 0.0)) == rounds
    if rounds == R:
        assert s["final_price"][0] == pytest.approx(full["final_price"][0], rel=1e-12)
        assert s["repaid"] == pytest.approx(full["repaid"], rel=1e-12)
    else:
        assert s["final_price"][0] > full["final_price"][0]
    # the curve reports the same and says that the cap was hit
    res = solve_static(c, np.array([0.0]))
    assert res.points[0].rounds == rounds and res.points[0].converged == converged
    assert any("max_rounds" in n for n in res.notes) == (not converged)
