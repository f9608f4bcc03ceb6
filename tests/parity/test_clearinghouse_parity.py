"""The clearinghouse's compiled step functions against their plain-Python twin
(:mod:`liqcascade.mechanisms.clearinghouse.twin`) on hypothesis-drawn queues and venues: the
impact budget from venue depth, the allocation (urgency and pro rata) and the queue's
accounting when units leave it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.kernels import layouts as KL
from liqcascade.mechanisms import kernel as KM
from liqcascade.mechanisms.clearinghouse import kernel as CK
from liqcascade.mechanisms.clearinghouse import twin as CT
from liqcascade.venues import kernel as VK

queues = st.lists(st.floats(0.0, 500.0), min_size=1, max_size=6)


def _keys(n, draw_keys):
    return [draw_keys[k % len(draw_keys)] for k in range(n)]


@settings(max_examples=200, deadline=None)
@given(q=queues, keys=st.lists(st.floats(0.5, 1.2), min_size=1, max_size=6), frac=st.floats(0.0, 1.5),
       urgency=st.booleans())
def test_allocation(q, keys, frac, urgency):
    P = len(q)
    k = _keys(P, keys)
    qa = np.array(q, dtype=np.float64).reshape(P, 1)
    ka = np.array(k, dtype=np.float64).reshape(P, 1)
    cap = frac * float(sum(q))
    take = np.zeros(P)
    got = CK.ch_allocate(qa, ka, 0, cap, urgency, take)
    want = CT.allocate_py({p: q[p] for p in range(P)}, {p: k[p] for p in range(P)}, cap, urgency)
    np.testing.assert_allclose(take, [want[p] for p in range(P)], rtol=1e-12, atol=1e-12)
    assert abs(got - sum(want.values())) <= 1e-9 * max(1.0, cap)
    assert got <= cap * (1 + 1e-12) + 1e-12


@settings(max_examples=100, deadline=None)
@given(reserves=st.lists(st.floats(50.0, 5000.0), min_size=1, max_size=3), step=st.floats(0.001, 0.3),
       win=st.floats(0.01, 0.5), drift=st.lists(st.floats(0.85, 1.15), min_size=3, max_size=3),
       t=st.integers(1, 20))
def test_budget(reserves, step, win, drift, t):
    """Constant-product pools at the same spot; a window of earlier spots around it."""
    V = len(reserves)
    vs = np.zeros((V, VK.NCOL))
    for v, x in enumerate(reserves):
        vs[v, VK.KIND] = VK.VENUE_CPMM
        vs[v, VK.X] = x
        vs[v, VK.Y] = x * 2000.0
        vs[v, VK.FEE] = 0.003
    vdk = np.zeros((V, 1))
    vdq = np.zeros((V, 1))
    av_ptr = np.array([0, V], np.int64)
    av_idx = np.arange(V, dtype=np.int64)
    W = len(drift)
    ring = np.zeros((W + 1, 1))
    mp = np.zeros(KM.NMECH_PARAMS)
    mp[KM.M_CH_STEP] = step
    mp[KM.M_CH_WMOVE] = win
    p0 = 2000.0 * drift[0]
    # the kernel fills the ring with p0 on first use; the twin's ring starts the same
    spot = 2000.0
    got = CK.ch_budget(mp, t, 0, vs.copy(), vdk, vdq, av_ptr, av_idx, p0, ring, spot)
    ring_py = [p0] * W
    ring_py[t % W] = spot
    want = CT.budget_py(vs.copy(), vdk, vdq, list(range(V)), spot, ring_py, step, win)
    assert abs(got - want) <= 1e-9 * max(1.0, want)
    np.testing.assert_allclose(ring[:W, 0], ring_py, rtol=0, atol=0)


@settings(max_examples=150, deadline=None)
@given(q=queues, takes=st.lists(st.floats(0.0, 1.2), min_size=1, max_size=6), quote=st.floats(0.0, 1e6))
def test_units_leaving_the_queue(q, takes, quote):
    P = len(q)
    tk = [min(q[p], q[p] * takes[p % len(takes)]) for p in range(P)]
    qa = np.array(q, dtype=np.float64).reshape(P, 1)
    ka = np.full((P, 1), 0.9)
    acc = np.zeros((P, 1, KL.NCA))
    for p in range(P):
        acc[p, 0, KL.CA_IN] = q[p]
        acc[p, 0, KL.CA_HELD_VIN] = q[p] * 2000.0
    take = np.array(tk)
    CK.ch_take(qa, ka, acc, 0, take, KL.CA_SOLD, quote)
    twin = CT.ClearinghousePy(P, 0.01, 0.1, 3, True)
    for p in range(P):
        twin.queue[p] = q[p]
        twin.keys[p] = 0.9
        twin.book[p]["inp"] = q[p]
        twin.book[p]["held_vin"] = q[p] * 2000.0
    twin._leave({p: tk[p] for p in range(P)}, "sold", quote)
    for p in range(P):
        assert abs(qa[p, 0] - twin.queue[p]) <= 1e-12 * max(1.0, q[p])
        assert abs(acc[p, 0, KL.CA_SOLD] - twin.book[p]["sold"]) <= 1e-12 * max(1.0, q[p])
        assert abs(acc[p, 0, KL.CA_QUOTE] - twin.book[p]["quote"]) <= 1e-9 * max(1.0, quote)
        assert abs(acc[p, 0, KL.CA_HELD_VIN] - twin.book[p]["held_vin"]) <= 1e-9 * max(1.0, q[p] * 2000.0)
    assert twin.conservation_error() <= 1e-9 * max(1.0, max(q))
