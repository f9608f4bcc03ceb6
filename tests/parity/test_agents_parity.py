"""Parity: the compiled agent hooks against their naive plain-Python twin, on generated venues,
paths and hook-call sequences (the full per-step order of the dynamic loop)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.agents import hooks as KH
from liqcascade.agents import hooks_twin as PH
from liqcascade.agents import kernel as K
from liqcascade.agents import twin as P
from liqcascade.agents.borrowers import kernel as KBO
from liqcascade.agents.borrowers import twin as PBO
from liqcascade.agents.gas_auction import kernel as KGA
from liqcascade.agents.gas_auction import twin as PGA
from liqcascade.venues import dispatch as KV
from liqcascade.venues.pack import make_venue_state

SETTINGS = settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
RTOL = 1e-8


def make_pack(A=1, n_pos=0, *, gas=None, hunter=None, front=None, hedger=None, borrowers=None,
              cols=(0, 1, 2, 3)):
    """A pack in the layout of :func:`liqcascade.agents.pack.agent_pack`, from plain dicts."""
    win = gas["window"] if gas else 0
    nb = n_pos if borrowers else 0
    ring = K.NHEAD
    fro = ring + 2 * win
    bf = fro + A
    bs = bf + nb
    ag = np.zeros(bs + nb)
    ag[K.AG_A] = A
    ag[[K.AG_COL_PNL, K.AG_COL_PRIORITY, K.AG_COL_TOPUP, K.AG_COL_FRONTRUN]] = cols
    ag[K.GA_RING], ag[K.FR_OWED], ag[K.BO_FIRST], ag[K.BO_SEEN] = ring, fro, bf, bs
    ag[K.HU_LAST] = -1
    if gas:
        ag[[K.GA_ON, K.GA_COMP, K.GA_SHARE, K.GA_LAT, K.GA_K, K.GA_WIN, K.GA_MAX]] = (
            1, gas["competitors"], gas["share"], gas.get("latency", 0), gas["k"], win, gas["max"])
        ag[ring + win:ring + 2 * win] = -1
    if hunter:
        ag[[K.HU_ON, K.HU_ASSET, K.HU_CAPITAL, K.HU_START, K.HU_SELL, K.HU_HOLD, K.HU_TARGET, K.HU_BUYDISC]] = (
            1, hunter.get("asset", 0), hunter["capital"], hunter["start"], hunter["sell"], hunter["hold"],
            hunter["target"], float(hunter.get("buy_discounted", True)))
    if front:
        ag[[K.FR_ON, K.FR_ASSET, K.FR_CAPITAL, K.FR_SHARE]] = 1, front.get("asset", -1), front["capital"], front["share"]
    if hedger:
        ag[[K.HE_ON, K.HE_ASSET, K.HE_GAMMA]] = 1, hedger.get("asset", 0), hedger["gamma"]
    if borrowers:
        ag[[K.BO_ON, K.BO_SHARE, K.BO_REACT, K.BO_TARGET, K.BO_DELAY, K.BO_ACTION, K.BO_SEED, K.BO_N]] = (
            1, borrowers["share"], borrowers["react"], borrowers["target"], borrowers["delay"],
            borrowers.get("action", 0), borrowers["seed"], n_pos)
        ag[bs:bs + nb] = -2
    return ag


def _venues(draw, n):
    specs = []
    for _ in range(n):
        if draw(st.booleans()):
            specs.append({"kind": "cpmm", "reserve_asset": draw(st.floats(50.0, 5e4)),
                          "reserve_quote": None, "fee": draw(st.sampled_from([0.0, 0.003]))})
        else:
            k = np.cumsum(draw(st.lists(st.floats(0.003, 0.05), min_size=1, max_size=4)))
            q = draw(st.floats(1e4, 1e7)) * np.cumsum(draw(st.lists(st.floats(0.1, 1.0), min_size=k.size, max_size=k.size)))
            specs.append({"kind": "book", "mid": None, "depth": list(zip(k, q)),
                          "half_life_steps": draw(st.sampled_from([0.0, 5.0]))})
    return specs


@st.composite
def worlds(draw):
    p0 = draw(st.sampled_from([1.0, 2000.0]))
    nv = draw(st.integers(1, 3))
    specs = _venues(draw, nv)
    for s in specs:
        if s["kind"] == "cpmm":
            s["reserve_quote"] = s["reserve_asset"] * p0 * draw(st.floats(0.98, 1.02))
        else:
            s["mid"] = p0 * draw(st.floats(0.98, 1.02))
        s["asset"] = 0
    vs, vdk, vdq = make_venue_state(specs)
    T = draw(st.integers(3, 15))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    path = p0 * np.exp(np.concatenate([[0.0], np.cumsum(rng.normal(-0.01, 0.02, T))]))[:, None]
    return vs, vdk, vdq, path, seed


@given(worlds(), st.floats(0.0, 0.5), st.floats(1e3, 5e6), st.integers(1, 3), st.integers(1, 6),
       st.booleans(), st.floats(1e3, 1e6), st.sampled_from([0, 1]))
@SETTINGS
def test_hooks_match_twin(world, drop, capital, sell, hold, buy_disc, gamma, action):
    vs0, vdk, vdq, path, seed = world
    T = path.shape[0] - 1
    spot0 = float(np.mean([KV.venue_spot(vs0, v) for v in range(vs0.shape[0])]))
    n_pos = 12
    kw = dict(
        gas={"window": 3, "competitors": 4, "share": 0.5, "latency": 2, "k": 0.3, "max": 3.0},
        hunter={"capital": capital, "start": 1, "sell": sell, "hold": hold, "target": spot0 * (1 - drop),
                "buy_discounted": buy_disc},
        front={"capital": capital / 3, "share": 0.7},
        hedger={"gamma": gamma},
        borrowers={"share": 0.6, "react": 1.05, "target": 1.3, "delay": 1, "seed": seed % 1000, "action": action},
    )
    ag_k, ag_p = make_pack(1, n_pos, **kw), make_pack(1, n_pos, **kw)
    vs_k, vs_p = vs0.copy(), vs0.copy()
    sum_k, sum_p = np.zeros(6), np.zeros(6)
    av_ptr = np.array([0, vs0.shape[0]], np.int64)
    av_idx = np.arange(vs0.shape[0], dtype=np.int64)
    rng = np.random.default_rng(seed + 1)
    for t in range(1, T + 1):
        for vs in (vs_k, vs_p):
            for v in range(vs.shape[0]):
                KV.venue_apply_return(vs, vdk, vdq, v, path[t, 0] / path[t - 1, 0])
                KV.venue_decay(vs, v)
        KH.agents_flow(ag_k, t, path, vs_k, vdk, vdq, av_ptr, av_idx, sum_k)
        PH.agents_flow(ag_p, t, path, vs_p, vdk, vdq, av_ptr, av_idx, sum_p)
        assert KGA.agents_latency(ag_k) == PGA.agents_latency(ag_p) == 2
        for _ in range(int(rng.integers(0, 4))):
            KGA.agents_note_liquidation(ag_k, t)
            PGA.agents_note_liquidation(ag_p, t)
            assert KGA.agents_gas_multiple(ag_k, t) == pytest.approx(PGA.agents_gas_multiple(ag_p, t), rel=1e-12)
            profit = float(rng.normal(100.0, 200.0))
            assert KGA.agents_priority(ag_k, profit) == pytest.approx(PGA.agents_priority(ag_p, profit), rel=1e-12)
        sold = np.array([float(rng.uniform(0, 3)) * capital / spot0 / 10])
        KH.agents_pre_sales(ag_k, sold, vs_k, vdk, vdq, av_ptr, av_idx, sum_k)
        PH.agents_pre_sales(ag_p, sold, vs_p, vdk, vdq, av_ptr, av_idx, sum_p)
        KV.route_sell(vs_k, vdk, vdq, av_idx, sold[0])
        KV.route_sell(vs_p, vdk, vdq, av_idx, sold[0])
        KH.agents_post_sales(ag_k, sold, vs_k, vdk, vdq, av_ptr, av_idx, sum_k)
        PH.agents_post_sales(ag_p, sold, vs_p, vdk, vdq, av_ptr, av_idx, sum_p)
        for i in range(n_pos):
            hf = float(rng.uniform(0.9, 1.2))
            assert KBO.agents_borrower(ag_k, i, t, hf) == pytest.approx(PBO.agents_borrower(ag_p, i, t, hf), rel=1e-12)
        np.testing.assert_allclose(vs_k, vs_p, rtol=RTOL)
        np.testing.assert_allclose(ag_k, ag_p, rtol=RTOL, atol=1e-9 * (1 + capital))
        np.testing.assert_allclose(sum_k, sum_p, rtol=RTOL, atol=1e-9 * (1 + capital))
    KH.agents_finish(ag_k, vs_k, vdk, vdq, av_ptr, av_idx, sum_k)
    PH.agents_finish(ag_p, vs_p, vdk, vdq, av_ptr, av_idx, sum_p)
    np.testing.assert_allclose(sum_k, sum_p, rtol=RTOL, atol=1e-9 * (1 + capital))
    # the hunter has closed its short by the last step
    assert ag_k[K.HU_OWED] == 0.0 or ag_k[K.HU_SOLD] == 0.0


@given(st.integers(0, 2**40), st.integers(0, 2**32 - 1))
@settings(deadline=None, max_examples=200)
def test_position_draw_matches(i, seed):
    u = KBO.position_draw(i, seed)
    assert u == PBO.position_draw(i, seed)
    assert 0.0 <= u < 1.0


@given(worlds(), st.floats(1.0, 1e6))
@SETTINGS
def test_route_buy_matches_and_equalises(world, dy):
    vs0, vdk, vdq, _, _ = world
    ids = np.arange(vs0.shape[0], dtype=np.int64)
    a, b = vs0.copy(), vs0.copy()
    got_k = KV.route_buy(a, vdk, vdq, ids, dy)
    got_p = P.route_buy(b, vdk, vdq, ids, dy)
    assert got_k == pytest.approx(got_p, rel=1e-9)
    np.testing.assert_allclose(a, b, rtol=1e-9)
    assert 0 < got_k <= dy / min(KV.venue_spot(vs0, v) for v in ids) * (1 + 1e-12)
    # exact-amount buy returns the amount asked for
    c = vs0.copy()
    cost, got = K.route_buy_amount(c, vdk, vdq, ids, got_k)
    assert got == pytest.approx(got_k, rel=1e-9)
    assert cost == pytest.approx(dy, rel=1e-8)
