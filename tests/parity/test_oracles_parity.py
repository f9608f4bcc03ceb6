"""Parity: the numba oracle kernels against their naive plain-Python twin, on random walks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.oracles import dispatch as ok
from liqcascade.oracles import kernel as ok_layout
from liqcascade.oracles.twin import make_oracle_py, run_oracle_py

KINDS = [
    ok_layout.ORACLE_SPOT,
    ok_layout.ORACLE_HEARTBEAT,
    ok_layout.ORACLE_TWAP,
    ok_layout.ORACLE_MEDIAN,
    ok_layout.ORACLE_OSM,
    ok_layout.ORACLE_EMA,
]


@st.composite
def random_walks(draw):
    """float64[n_rows, T + 1]: log random walks with flat stretches and occasional big jumps."""
    n_rows = draw(st.integers(1, 5))
    n_t = draw(st.integers(1, 80))
    seed = draw(st.integers(0, 2**32 - 1))
    vol = draw(st.sampled_from([0.0, 0.001, 0.004, 0.02, 0.1]))
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, vol, (n_rows, n_t))
    steps[rng.random((n_rows, n_t)) < 0.3] = 0.0  # flat stretches (heartbeat, guard)
    jumps = rng.random((n_rows, n_t)) < 0.03
    steps[jumps] += rng.choice([-0.7, -0.4, 0.5], size=int(jumps.sum()))
    steps[:, 0] = 0.0
    p0 = draw(st.sampled_from([1.0, 100.0, 3000.0]))
    return p0 * np.exp(np.cumsum(steps, axis=1))


@st.composite
def oracle_params(draw):
    p = np.zeros(ok_layout.NPARAM)
    p[ok_layout.P_LAG] = draw(st.integers(0, 6))
    p[ok_layout.P_HEARTBEAT] = draw(st.integers(0, 12))
    p[ok_layout.P_DEVIATION] = draw(st.sampled_from([0.0, 0.001, 0.005, 0.01, 0.05]))
    p[ok_layout.P_WINDOW] = draw(st.integers(0, 12))
    p[ok_layout.P_HOP] = draw(st.integers(0, 9))
    p[ok_layout.P_HALFLIFE] = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5, 7.0, 30.0]))
    p[ok_layout.P_MAXJUMP] = draw(st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.3, 0.5]))
    return p


def _p0(kind, x):
    col = x[:, 0]
    return float(np.median(col)) if kind == ok_layout.ORACLE_MEDIAN else float(col.mean())


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0.0)


@settings(deadline=None, max_examples=40)
@given(x=random_walks(), p=oracle_params(), kind=st.sampled_from(KINDS))
def test_run_oracle_matches_twin(x, p, kind):
    idx = np.arange(x.shape[0], dtype=np.int64)
    p0 = _p0(kind, x)
    got = ok.run_oracle(kind, p, idx, x, p0)
    want = run_oracle_py(kind, p, x, p0)
    _close(got, want)


@settings(deadline=None, max_examples=40)
@given(x=random_walks(), p=oracle_params())
def test_osm_peek_and_peep_match_twin(x, p):
    idx = np.arange(x.shape[0], dtype=np.int64)
    p0 = float(x[:, 0].mean())
    state = np.zeros(ok_layout.NSTATE)
    ok.oracle_init(ok_layout.ORACLE_OSM, p, state, p0)
    twin = make_oracle_py(ok_layout.ORACLE_OSM, p, p0)
    rows = [list(r) for r in x]
    for t in range(x.shape[1]):
        _close(ok.oracle_step(ok_layout.ORACLE_OSM, p, idx, x, t, state), twin.step(t, rows))
        _close(ok.oracle_peep(state), twin.peep())


@settings(deadline=None, max_examples=40)
@given(
    x=random_walks(),
    specs=st.lists(
        st.tuples(st.sampled_from(KINDS), oracle_params(), st.lists(st.integers(0, 4), min_size=1, max_size=4)),
        min_size=1,
        max_size=6,
    ),
)
def test_step_all_matches_twin(x, specs):
    n_rows = x.shape[0]
    kinds = np.array([k for k, _, _ in specs], dtype=np.int64)
    p2d = np.vstack([p for _, p, _ in specs])
    srcs = [[r % n_rows for r in rows] for _, _, rows in specs]  # repeats allowed
    ptr = np.zeros(len(specs) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(s) for s in srcs])
    flat = np.array([r for s in srcs for r in s], dtype=np.int64)
    p0s = np.array([_p0(k, x[s]) for k, s in zip(kinds, srcs)])
    states = np.zeros((len(specs), ok_layout.NSTATE))
    ok.oracles_init_all(kinds, p2d, states, p0s)
    out = np.zeros(len(specs))
    got = np.zeros((x.shape[1], len(specs)))
    for t in range(x.shape[1]):
        ok.oracles_step_all(kinds, p2d, ptr, flat, x, t, states, out)
        got[t] = out
    for i in range(len(specs)):
        _close(got[:, i], run_oracle_py(kinds[i], p2d[i], x[srcs[i]], p0s[i]))
