"""Parity: the compiled static solver (sorted segments, pointers, cohorts) against the naive
plain-Python twin ``solve_shock_py`` (every round scans every position, unsorted book)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.engine.static import final_state, solve_static, static_arrays
from liqcascade.kernels import cascade as K
from liqcascade.kernels.cascade_py import solve_shock_py

RTOL = 1e-9


@st.composite
def protocol(draw):
    lt = draw(st.sampled_from([0.6, 0.75, 0.8, 0.825, 0.86, 0.9]))
    bonus = draw(st.sampled_from([0.02, 0.05, 0.075, 0.1]).filter(lambda b: lt * (1 + b) <= 1.0))
    return {
        "lt": lt, "bonus": bonus,
        "rule": draw(st.sampled_from(["v3.3", "v3.2", "fixed"])),
        "cf": draw(st.sampled_from([0.5, 1.0, 0.3])),
        "pfee": draw(st.sampled_from([0.0, 0.1, 0.2])),
    }


@st.composite
def market(draw):
    """A generated book and venue: realise with :func:`realise`."""
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "n": draw(st.integers(10, 200)),
        "protos": tuple(draw(st.lists(protocol(), min_size=1, max_size=2))),
        "depth": draw(st.sampled_from([0.3, 1.0, 3.0, 30.0])),  # venue depth / book collateral value
        "venue": draw(st.sampled_from(["cpmm", "book"])),
        "fee": draw(st.sampled_from([0.0, 0.003, 0.01])),
    }


def realise(kit, m, **extra):
    """(compiled, coll, debt, proto) of a :func:`market` draw."""
    rng = np.random.default_rng(m["seed"])
    coll, debt, proto = kit.random_book(rng, m["n"], [p["lt"] for p in m["protos"]])
    total = float(coll.sum()) * kit.P0
    kw = {"protocols": m["protos"], "max_rounds": 300, **extra}
    if m["venue"] == "cpmm":
        kw.update(venue="cpmm", reserve=total * m["depth"] / kit.P0, fee=m["fee"])
    else:
        kw.update(venue="book", book_quote=total * m["depth"] / 10.0)
    return kit.build(kit.scenario(**kw), coll, debt, proto), coll, debt, proto


def brute(c, shock, coll, debt, proto, mode=K.MODE_MECHANICAL):
    vs, vdk, vdq, mask = static_arrays(c)
    n = len(coll)
    return solve_shock_py(
        shock, coll, debt, np.zeros(n, np.int64), proto, np.ones(n), c.lt_pa, c.bonus_pa, c.pfee_pa,
        c.rules, vs, vdk, vdq, c.p0.copy(), mask, mode, float(c.scenario.liquidators.gas_cost),
        int(c.scenario.simulation.max_rounds),
    )


def close(a, b, scale=0.0):
    assert abs(a - b) <= RTOL * max(abs(a), abs(b), scale), (a, b)


def check_parity(kit, c, shock, coll, debt, proto, mode="mechanical"):
    oc, od, s = final_state(c, shock, mode=mode)
    py = brute(c, shock, coll, debt, proto, K.MODE_RATIONAL if mode == "rational" else K.MODE_MECHANICAL)
    assert s["rounds"] == py["rounds"]
    assert s["liquidations"] == py["liquidations"]
    assert bool(s["converged"]) == py["converged"]
    close(s["final_price"][0], py["final_price"][0])
    for k in ("repaid", "bad_debt", "liquidated_value", "fees"):
        close(s[k], py[k])
    close(s["bonus"], py["bonus"], scale=py["liquidated_value"])  # a difference: cancellation
    close(s["units"][0], py["units"][0])
    fc, fd = kit.unsort(c, oc), kit.unsort(c, od)
    np.testing.assert_allclose(fc, py["coll"], rtol=RTOL, atol=RTOL * coll.max())
    np.testing.assert_allclose(fd, py["debt"], rtol=RTOL, atol=RTOL * debt.max())
    return s


@settings(deadline=None, max_examples=50)
@given(m=market(), shocks=st.lists(st.floats(0.0, 0.6, exclude_max=True), min_size=1, max_size=3))
def test_static_solver_matches_brute_force(kit, m, shocks):
    c, coll, debt, proto = realise(kit, m)
    pts = []
    for shock in shocks:
        pts.append(check_parity(kit, c, shock, coll, debt, proto))
    # the parallel grid solver gives the same points as final_state per shock
    res = solve_static(c, shocks)
    for p, s in zip(res.points, pts):
        assert p.rounds == s["rounds"] and p.liquidations == s["liquidations"]
        assert p.converged == bool(s["converged"])
        assert p.final_price == s["final_price"][0]
        assert p.repaid_debt == s["repaid"] and p.bad_debt == s["bad_debt"]
        assert p.liquidated_collateral == s["liquidated_value"]
        assert p.protocol_fees == s["fees"] and p.liquidator_bonus == s["bonus"]


def chain_book(shock, n=8, lt=0.8, bonus=0.05, x0=1000.0, p0=100.0):
    """Positions of 5 A whose liquidation prices are spaced so that each round's sale pushes the
    pool (fee-less, k = x0² p0) through exactly the next one: one liquidation per round."""
    k = x0 * x0 * p0
    p = p0 * (1.0 - shock)
    x = (k / p) ** 0.5
    keys = [p * 1.01]
    for _ in range(n - 1):
        q = 5.0 * keys[-1] * lt * (1.0 + bonus) / p  # full liquidation of the last position at p
        x += min(q, 5.0)
        p_next = k / (x * x)
        keys.append(p_next + 0.3 * (p - p_next))
        p = p_next
    keys = np.array(keys)
    return np.full(n, 5.0), 5.0 * lt * keys


@pytest.mark.parametrize("gas", [0.0, 5.0, 40.0])
def test_rational_parity_with_gas_one_liquidation_per_round(kit, gas):
    """Rational mode, gas > 0, on a chain where each round has a single liquidation (so the
    scan order inside a round cannot matter)."""
    coll, debt = chain_book(0.1)
    proto = np.zeros(len(coll), np.int64)
    sc = kit.scenario(protocols=({"lt": 0.8, "bonus": 0.05, "rule": "fixed", "cf": 1.0},),
                      liquidators={"mode": "rational", "gas_cost": gas})
    c = kit.build(sc, coll, debt, proto)
    mech = final_state(c, 0.1)[2]
    assert mech["rounds"] == mech["liquidations"] == len(coll)
    s = check_parity(kit, c, 0.1, coll, debt, proto, mode="rational")
    assert s["rounds"] == s["liquidations"] >= (3 if gas < 40 else 0)
    if gas == 40.0:
        assert s["liquidations"] < len(coll)  # the chain breaks where a liquidation stops paying
    assert solve_static(c, [0.1], mode="rational").points[0].final_price == s["final_price"][0]


# Rational mode prices each lot alone at the round-start venue state, so the outcome does not
# depend on the scan order and the brute-force twin must agree exactly.
def test_rational_parity_with_gas(kit):
    protos = ({"lt": 0.8, "bonus": 0.05, "rule": "v3.3"}, {"lt": 0.86, "bonus": 0.075, "rule": "v3.2"})
    for seed in range(4):
        coll, debt, proto = kit.random_book(np.random.default_rng(1000 + seed), 150, [p["lt"] for p in protos])
        for gas in (5.0, 50.0):
            sc = kit.scenario(protocols=protos, reserve=float(coll.sum()) * 2.0, fee=0.003, max_rounds=300,
                              liquidators={"mode": "rational", "gas_cost": gas})
            c = kit.build(sc, coll, debt, proto)
            for shock in (0.05, 0.2, 0.35, 0.5):
                check_parity(kit, c, shock, coll, debt, proto, mode="rational")
