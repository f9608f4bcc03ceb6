"""Parity of the StableSwap and concentrated-liquidity venue kinds *in the loop*: the compiled
time loop (``run_dynamic``) against its plain-Python twin (``simulate_path_py``), which reaches
the kinds through their twins (exact-integer StableSwap, 50-digit concentrated liquidity), on the
seeded scenarios of ``test_dynamic_parity`` with the venue replaced by a pool of the new kind.

Also the venue-kind interface itself (sell, buy, previews, to-price, exogenous move, arbitrage
to the reference, two-venue routing and arbitrage) against the twins on the state arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.scenario.models import Scenario
from liqcascade.venues import dispatch as K
from liqcascade.venues import twin as P
from liqcascade.venues.kernel import UNSOLD
from liqcascade.venues.pack import make_venue_state

from test_dynamic_parity import _case, _check, _twin

SS = {"name": "pool", "asset": "A", "kind": "stableswap", "amp": 50.0, "fee": 0.0004, "admin_fee": 0.5}
CL = {"name": "pool", "asset": "A", "kind": "concentrated", "fee": 0.003,
      "synthetic": {"tvl": 0.0, "sigma": 0.15, "cut": 2.5, "full_range_share": 0.0}}


def _with_kind(seed: int, kind: str):
    sc, coll, debt, proto, lts = _case(seed)
    total = float((coll * 100.0).sum())
    if kind == "stableswap":
        v = dict(SS, reserve_asset=total * 0.5 / 100.0, rate=100.0)
    else:
        v = dict(CL, synthetic=dict(CL["synthetic"], tvl=total * 0.8))
    sc["venues"] = [v]
    sc["simulation"].update(steps=12, paths=1, record_paths=1)
    return sc, coll, debt, proto, lts


@pytest.mark.parametrize("kind", ["stableswap", "concentrated"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_loop_with_new_venue_kind_matches_twin(kit, kind, seed):
    sc, coll, debt, proto, lts = _with_kind(seed, kind)
    c = compile_scenario(Scenario.model_validate(sc), Path("."), book=kit.join_books(coll, debt, proto, lts))
    paths = make_paths(c)
    res = run_dynamic(c, paths=paths, record_paths=1)
    tw = _twin(c, paths[0])
    _check(c, res, 0, tw)
    assert len(tw["events"]) > 0  # the comparison above must not pass vacuously


def _pair_state():
    """A StableSwap pool (A, near par), a concentrated pool and a cpmm of the same asset."""
    return make_venue_state([
        {"kind": "stableswap", "asset": 0, "reserve_asset": 5000.0, "price": 0.98, "rate": 1.0, "amp": 100.0,
         "fee": 0.0004, "admin_fee": 0.5},
        {"kind": "concentrated", "asset": 0, "price": 0.99, "fee": 0.0005,
         "synthetic": {"tvl": 8000.0, "sigma": 0.05}},
        {"kind": "cpmm", "asset": 0, "reserve_asset": 3000.0, "reserve_quote": 2985.0, "fee": 0.003},
    ])


@pytest.mark.parametrize("v", [0, 1])
def test_interface_matches_twin(v):
    vs, vdk, vdq = _pair_state()
    a, b = vs.copy(), vs.copy()
    rel = 1e-9
    assert K.venue_spot(a, v) == pytest.approx(P.venue_spot(b, v), rel=1e-12)
    assert K.venue_sell_to_price(a, vdk, vdq, v, K.venue_spot(a, v) * 0.97) == pytest.approx(
        P.venue_sell_to_price(b, vdk, vdq, v, P.venue_spot(b, v) * 0.97), rel=rel)
    assert K.venue_buy_to_price(a, vdk, vdq, v, K.venue_spot(a, v) * 1.01) == pytest.approx(
        P.venue_buy_to_price(b, vdk, vdq, v, P.venue_spot(b, v) * 1.01), rel=rel)
    assert K.venue_sell(a, vdk, vdq, v, 700.0) == pytest.approx(P.venue_sell(b, vdk, vdq, v, 700.0), rel=rel)
    assert K.venue_spot(a, v) == pytest.approx(P.venue_spot(b, v), rel=rel)
    assert K.venue_buy(a, vdk, vdq, v, 300.0) == pytest.approx(P.venue_buy(b, vdk, vdq, v, 300.0), rel=rel)
    K.venue_apply_return(a, vdk, vdq, v, 0.96)
    P.venue_apply_return(b, vdk, vdq, v, 0.96)
    assert K.venue_spot(a, v) == pytest.approx(P.venue_spot(b, v), rel=rel)
    assert K.arbitrage_to_reference(a, vdk, vdq, v, 1.0, 0.001) == pytest.approx(
        P.arbitrage_to_reference(b, vdk, vdq, v, 1.0, 0.001), rel=1e-7, abs=1e-9)
    assert K.venue_spot(a, v) == pytest.approx(P.venue_spot(b, v), rel=rel)
    q, _ = K.venue_preview_sell(a, vdk, vdq, v, 50.0)
    assert q == pytest.approx(P._load(b, vdk, vdq, v).sell(50.0), rel=rel)


def test_routing_and_arbitrage_across_the_three_kinds_match_twin():
    vs, vdk, vdq = _pair_state()
    a, b = vs.copy(), vs.copy()
    ids = np.array([0, 1, 2])
    pk = K.arbitrage(a, vdk, vdq, ids, 0.0005)
    pp = P.arbitrage(b, vdk, vdq, ids, 0.0005)
    assert pk >= -1e-9 and pk == pytest.approx(pp, rel=1e-6, abs=1e-7)
    for v in range(3):
        assert K.venue_spot(a, v) == pytest.approx(P.venue_spot(b, v), rel=1e-8)
    qk, mk = K.route_sell(a, vdk, vdq, ids, 2500.0)
    qp, mp = P.route_sell(b, vdk, vdq, ids, 2500.0)
    assert qk == pytest.approx(qp, rel=1e-8)
    assert mk == pytest.approx(mp, rel=1e-8)
    spots = [K.venue_spot(a, v) for v in range(3)]
    assert max(spots) == pytest.approx(min(spots), rel=1e-9)  # routing leaves one common spot


def test_sale_past_the_last_liquidity_is_counted_unsold():
    """A concentrated pool with all its liquidity within a few percent: selling far more than it
    holds stops at the lowest range; the rest pays nothing and is counted in ``UNSOLD``."""
    vs, vdk, vdq = make_venue_state([{"kind": "concentrated", "asset": 0, "price": 100.0, "fee": 0.003,
                                      "synthetic": {"tvl": 1e5, "sigma": 0.01, "cut": 2.0}}])
    cap = K.venue_sell_to_price(vs, vdk, vdq, 0, 0.0)
    assert 0 < cap < np.inf
    out = K.venue_sell(vs, vdk, vdq, 0, 3 * cap)
    assert vs[0, UNSOLD] == pytest.approx(2 * cap, rel=1e-9)
    assert out < 1e5
