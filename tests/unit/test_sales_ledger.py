"""The sales ledger (kernels/sales.py): conservation against the per-asset sales the loop already
reports, the Shapley split of each venue's move (sums to the move, symmetric, order-free), and
the ledger on protocol units and on mechanisms that queue sales."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from liqcascade.commands._common import load_compiled
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.kernels import dynamic as KD
from liqcascade.kernels import sales as KS
from liqcascade.kernels._jit import njit
from liqcascade.kernels.events import EV_N, EVENT
from liqcascade.venues import twin as VT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _run(name: str, **kw):
    return run_dynamic(load_compiled(EXAMPLES / name), **kw)


def _by_step_asset(res, values, field):
    """Sum of a ledger column per (path, step, asset index), as an array like steps_asset[..., 0]."""
    R, T1, A, _ = res.steps_asset.shape
    out = np.zeros((R, T1, A))
    sl = res.sales[res.sales["source"] != "direct"]
    for p, t, a, x in zip(sl["path"], sl["step"], sl["asset"], sl[field]):
        out[p, t, res.assets.index(a)] += x
    return out


def _check_efficiency(res):
    """Every (path, step, venue) routed sale: the rows share one price before and after, and
    their Shapley shares sum to the move (a unit's own trades on a venue are a group each)."""
    sl = res.sales
    groups = {}
    for k, r in enumerate(sl):
        direct = r["source"] == "direct"
        groups.setdefault((int(r["path"]), int(r["step"]), str(r["venue"]), direct, r["protocol"] if direct else ""),
                          []).append(k)
    moved = 0
    for rows in groups.values():
        pre = sl["price_pre"][rows]
        post = sl["price_post"][rows]
        assert np.all(pre == pre[0]) and np.all(post == post[0])
        move = post[0] - pre[0]
        assert sl["impact"][rows].sum() == pytest.approx(move, rel=1e-9, abs=1e-9 * pre[0])
        moved += move != 0.0
    return moved


@pytest.mark.parametrize("name", ["two_protocols.toml", "maker.toml", "perp.toml", "comet.toml", "liquity.toml"])
def test_ledger_conserves_the_sales_per_asset(name):
    """Without a mechanism that queues sales, the ledger's amounts per (path, step, asset) are the
    collateral the loop sold (steps' collateral_sold) and its proceeds the step's sale proceeds."""
    res = _run(name)
    assert len(res.sales) > 0
    if name == "perp.toml":  # the perp venue sells through its own book: direct rows only
        assert set(res.sales["source"]) == {"direct"}
    sold = res.steps_asset[..., KD.ST_SEIZED]
    proceeds = res.steps_asset[..., KD.ST_PROCEEDS]
    scale = max(float(sold.max()), 1.0)
    np.testing.assert_allclose(_by_step_asset(res, None, "amount"), sold, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(_by_step_asset(res, None, "proceeds"), proceeds, rtol=1e-9,
                               atol=1e-12 * max(float(proceeds.max()), 1.0))
    assert _check_efficiency(res) > 0
    # totals of the summary: proceeds of every sale the loop routed
    routed = res.sales["source"] != "direct"
    assert res.sales["proceeds"][routed].sum() == pytest.approx(res.summary[0, KD.SUM_PROCEEDS], rel=1e-9)


def test_ledger_rows_of_aave_rule_protocols_are_their_liquidations():
    """An Aave-rule protocol's rows split its sale over the step's liquidation events: per
    position and step, the ledger holds exactly the collateral that liquidation seized."""
    res = _run("two_protocols.toml")
    ev = res.events
    sl = res.sales
    assert set(sl["source"]) == {"liquidation"}
    seized = {}
    for e in ev:
        k = (int(e["path"]), int(e["step"]), str(e["position"]))
        seized[k] = seized.get(k, 0.0) + float(e["collateral_seized"])
    ledger = {}
    for r in sl:
        k = (int(r["path"]), int(r["step"]), str(r["position"]))
        ledger[k] = ledger.get(k, 0.0) + float(r["amount"])
    assert ledger.keys() == {k for k, v in seized.items() if v > 0.0}
    for k, v in ledger.items():
        assert v == pytest.approx(seized[k], rel=1e-9)


def test_units_rows_name_their_protocol():
    res = _run("maker.toml")
    assert set(res.sales["source"]) == {"unit"}
    assert set(res.sales["protocol"]) == set(res.protocols)
    assert set(res.sales["position"]) == {""}


def test_ledger_with_a_twap_exit_releases_queued_units():
    """With the TWAP exit on, what reaches the venue later is released from the queue: rows are
    'queue' rows, the moves are still split exactly, and no more is sold than was seized."""
    res = _run("mechanisms.toml")
    if not len(res.sales):
        pytest.skip("the mechanisms example sells nothing")
    _check_efficiency(res)
    assert res.sales["amount"].sum() <= res.steps_asset[..., KD.ST_SEIZED].sum() * (1 + 1e-9)


def test_ledger_is_deterministic():
    a = _run("two_protocols.toml")
    b = _run("two_protocols.toml")
    assert a.sales.tolist() == b.sales.tolist()


def test_ledger_limit_counts_lost_rows_and_warns():
    from liqcascade.errors import EngineWarning

    with pytest.warns(EngineWarning, match="sales-ledger rows not recorded"):
        res = _run("two_protocols.toml", max_events=50, ev_cap=16)
    assert len(res.sales) == 50
    assert any("sales-ledger rows not recorded" in n for n in res.notes)


# ---- the Shapley split on one venue, directly ------------------------------------------------


@njit
def _sell_recorded(t, a, ids, x, vs, vdk, vdq, p_fixed, sl, queued, evbuf, ev_first, ev_n):
    """The kernel helper has no Python entry point (it is compiled into the loop)."""
    return KS.sell_recorded(t, a, ids, x, vs, vdk, vdq, p_fixed, sl, queued, evbuf, ev_first, ev_n)


def _pool():
    """The constant-product pool of the minimal example (10,000 WETH / 20M USDC)."""
    c = load_compiled(EXAMPLES / "minimal.toml")
    vs = c.vs0.copy()
    return vs, c.vdk, c.vdq


def _sell(amounts, P=None):
    vs, vdk, vdq = _pool()
    P = P or len(amounts)
    sl = KS.sales_new(64, 1000, np.zeros(P, dtype=bool), 1)
    for p, x in enumerate(amounts):
        sl.q[p, 0] = x
    ev = np.zeros(0, dtype=EVENT)
    x = float(sum(amounts))
    pre = VT.venue_spot(vs, 0)
    proceeds = _sell_recorded(1, 0, np.array([0], dtype=np.int64), x, vs, vdk, vdq, np.ones(1), sl, False, ev,
                              0, 0)
    rows = sl.buf[:int(sl.n[EV_N])]
    return rows, pre, VT.venue_spot(vs, 0), proceeds, vdk, vdq


def _move(amount):
    vs, vdk, vdq = _pool()
    pre = VT.venue_spot(vs, 0)
    if amount > 0:
        VT.venue_sell(vs, vdk, vdq, 0, amount)
    return VT.venue_spot(vs, 0) - pre


@pytest.mark.parametrize("amounts", [(30.0, 70.0), (10.0, 10.0, 80.0), (5.0, 50.0, 20.0, 1.0)])
def test_shapley_split_sums_to_the_move_and_matches_every_order(amounts):
    rows, pre, post, _, _, _ = _sell(list(amounts))
    assert len(rows) == len(amounts)
    assert rows["impact"].sum() == pytest.approx(post - pre, rel=1e-12)
    # the Shapley value written as the average over all orders of the marginal move
    n = len(amounts)
    phi = np.zeros(n)
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        done = 0.0
        for i in order:
            phi[i] += (_move(done + amounts[i]) - _move(done)) / len(orders)
            done += amounts[i]
    np.testing.assert_allclose(rows["impact"], phi, rtol=1e-9)


def test_shapley_is_symmetric_and_sequential_is_not():
    """Two equal sellers get equal shares; sequential attribution would charge whoever comes
    second more on a constant-product pool (the curve is convex), which is why the ledger does
    not use it."""
    rows, pre, post, _, _, _ = _sell([40.0, 40.0])
    assert rows["impact"][0] == pytest.approx(rows["impact"][1], rel=1e-12)
    first = _move(40.0)
    second = _move(80.0) - first
    assert first != pytest.approx(second, rel=1e-6)


def test_beyond_the_shapley_limit_the_split_is_by_amount():
    amounts = [float(k + 1) for k in range(KS.SHAPLEY_MAX + 2)]
    rows, pre, post, _, _, _ = _sell(amounts)
    x = sum(amounts)
    np.testing.assert_allclose(rows["impact"], [(post - pre) * a / x for a in amounts], rtol=1e-12)
    assert rows["impact"].sum() == pytest.approx(post - pre, rel=1e-12)
