"""Unit tests of the oracle kernels (liqcascade.oracles.dispatch) and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from liqcascade.oracles import dispatch as ok
from liqcascade.oracles import kernel as ok_layout
from liqcascade.oracles.pack import ORACLE_DEFAULTS, ORACLE_KINDS, oracle_kind, oracle_params

ROW0 = np.array([0], dtype=np.int64)


def params(**kw):
    p = np.zeros(ok_layout.NPARAM)
    names = {
        "lag": ok_layout.P_LAG,
        "heartbeat": ok_layout.P_HEARTBEAT,
        "deviation": ok_layout.P_DEVIATION,
        "window": ok_layout.P_WINDOW,
        "hop": ok_layout.P_HOP,
        "halflife": ok_layout.P_HALFLIFE,
        "max_jump": ok_layout.P_MAXJUMP,
    }
    p[ok_layout.P_WINDOW] = 1
    p[ok_layout.P_HOP] = 1
    for k, v in kw.items():
        p[names[k]] = v
    return p


def walk(n=50, seed=0, p0=100.0):
    rng = np.random.default_rng(seed)
    return p0 * np.exp(np.concatenate([[0.0], np.cumsum(rng.normal(0, 0.01, n - 1))]))


def run1(kind, p, x, p0=None):
    hist = np.ascontiguousarray(np.atleast_2d(x), dtype=np.float64)
    idx = np.arange(hist.shape[0], dtype=np.int64)
    return ok.run_oracle(kind, p, idx, hist, float(hist[:, 0].mean() if p0 is None else p0))


# --- init / layout ----------------------------------------------------------------------------


def test_init_sets_state():
    st = np.full(ok_layout.NSTATE, 7.0)
    ok.oracle_init(ok_layout.ORACLE_OSM, params(hop=3), st, 123.0)
    assert st[ok_layout.S_PRICE] == 123.0 and st[ok_layout.S_NXT] == 123.0 and st[ok_layout.S_EMA] == 123.0
    assert st[ok_layout.S_ZZZ] == 0.0 and st[ok_layout.S_LAST] == 0.0 and st[ok_layout.S_SPARE] == 0.0
    assert ok.oracle_peep(st) == 123.0


# --- spot / lag -------------------------------------------------------------------------------


@pytest.mark.parametrize("lag", [0, 1, 3, 7])
def test_spot_lag_shifts_exactly(lag):
    x = walk(40, seed=lag)
    out = run1(ok_layout.ORACLE_SPOT, params(lag=lag), x)
    expect = x[np.maximum(0, np.arange(len(x)) - lag)]
    assert np.array_equal(out, expect)


def test_spot_mean_of_several_sources():
    x = np.vstack([walk(20, 1), walk(20, 2)])
    out = run1(ok_layout.ORACLE_SPOT, params(), x)
    np.testing.assert_allclose(out, x.mean(axis=0), rtol=1e-15)


def test_lag_shifts_twap_median_ema_exactly():
    x = np.vstack([walk(40, seed=5), walk(40, seed=6), walk(40, seed=7)])
    for kind, p in [
        (ok_layout.ORACLE_TWAP, params(window=4)),
        (ok_layout.ORACLE_EMA, params(halflife=3.0)),
        (ok_layout.ORACLE_MEDIAN, params()),
    ]:
        p0 = float(np.median(x[:, 0])) if kind == ok_layout.ORACLE_MEDIAN else float(x[:, 0].mean())
        base = run1(kind, p, x, p0=p0)
        p2 = p.copy()
        p2[ok_layout.P_LAG] = 2
        lagged = run1(kind, p2, x, p0=p0)
        # steps 0 and 1 read step 0, which leaves the price at p0 (EMA: a no-op update)
        assert np.array_equal(lagged[2:], base[:-2]), kind
        assert np.all(lagged[:2] == base[0])


# --- heartbeat --------------------------------------------------------------------------------


def test_heartbeat_publishes_on_deviation_and_on_heartbeat_only():
    n = 40
    x = np.full(n, 100.0)
    x[3:] = 100.3  # +0.3 %: below 0.5 %, no update
    x[5:] = 100.6  # +0.6 % from 100: deviation update at t = 5
    x[6:] = 100.7  # +0.1 % from 100.6: no update until the heartbeat
    x[30:] = 99.9  # -0.80 % from 100.7: deviation update at t = 30
    p = params(heartbeat=10, deviation=0.005)
    hist = x[None, :].copy()
    st = np.zeros(ok_layout.NSTATE)
    ok.oracle_init(ok_layout.ORACLE_HEARTBEAT, p, st, 100.0)
    out, last = [], []
    for t in range(n):
        out.append(ok.oracle_step(ok_layout.ORACLE_HEARTBEAT, p, ROW0, hist, t, st))
        last.append(st[ok_layout.S_LAST])
    out = np.array(out)
    assert np.all(out[:5] == 100.0)
    assert np.all(out[5:15] == 100.6)  # published at 5, heartbeat 10 -> next at 15
    assert np.all(out[15:30] == 100.7)  # heartbeat update at 15 (then 25, same value)
    assert np.all(out[30:] == 99.9)
    # update steps: 5 (deviation), 10 is *not* an update (last was 5), 15 and 25 heartbeats,
    # 30 deviation, 40 would be the next heartbeat
    updates = [t for t in range(n) if last[t] == t and t > 0]
    assert updates == [5, 15, 25, 30]


def test_heartbeat_first_update_from_init_after_heartbeat_steps():
    x = np.full(30, 100.0)
    x[1:] = 100.1
    out = run1(ok_layout.ORACLE_HEARTBEAT, params(heartbeat=8, deviation=0.005), x, p0=100.0)
    assert np.all(out[:8] == 100.0) and np.all(out[8:] == 100.1)


def test_heartbeat_zero_deviation_is_spot():
    x = walk(30, 3)
    out = run1(ok_layout.ORACLE_HEARTBEAT, params(heartbeat=1000, deviation=0.0), x)
    assert np.array_equal(out, x)


# --- TWAP -------------------------------------------------------------------------------------


def test_twap_of_a_step_function():
    x = np.where(np.arange(20) < 10, 100.0, 200.0)
    out = run1(ok_layout.ORACLE_TWAP, params(window=4), x)
    assert np.all(out[:10] == 100.0)  # includes the short windows at t < 3
    assert out[10] == 125.0 and out[11] == 150.0 and out[12] == 175.0
    assert np.all(out[13:] == 200.0)
    lagged = run1(ok_layout.ORACLE_TWAP, params(window=4, lag=2), x)
    assert lagged[12] == 125.0 and lagged[15] == 200.0 and lagged[11] == 100.0


def test_twap_short_history_averages_available_steps():
    x = np.array([100.0, 110.0, 120.0, 130.0, 140.0])
    out = run1(ok_layout.ORACLE_TWAP, params(window=3), x)
    np.testing.assert_allclose(out, [100.0, 105.0, 110.0, 120.0, 130.0], rtol=1e-15)


# --- median -----------------------------------------------------------------------------------


def test_median_of_three_ignores_one_outlier():
    n = 10
    x = np.vstack([np.full(n, 100.0), np.full(n, 101.0), np.full(n, 1000.0)])
    x[2, 5:] = 1.0  # the outlier flips to the low side
    out = run1(ok_layout.ORACLE_MEDIAN, params(), x, p0=100.0)
    assert np.all(out[:5] == 101.0) and np.all(out[5:] == 100.0)
    spot = run1(ok_layout.ORACLE_SPOT, params(), x, p0=100.0)
    assert spot[0] == pytest.approx(1201.0 / 3)


def test_median_even_count_is_mean_of_middle_two():
    x = np.array([[100.0], [104.0], [90.0], [500.0]])
    out = run1(ok_layout.ORACLE_MEDIAN, params(), x, p0=100.0)
    assert out[0] == 102.0


def test_median_uses_only_listed_rows():
    hist = np.array([[1.0, 1.0], [100.0, 100.0], [102.0, 102.0], [104.0, 104.0]])
    idx = np.array([1, 2, 3], dtype=np.int64)
    out = ok.run_oracle(ok_layout.ORACLE_MEDIAN, params(), idx, hist, 100.0)
    assert np.all(out == 102.0)


# --- OSM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("hop", [1, 2, 4, 5])
def test_osm_price_is_one_to_two_hops_old_and_peep_gives_next(hop):
    n = 40
    x = np.arange(1.0, n + 1.0)  # x[t] = t + 1 identifies the step it was read at
    hist = x[None, :].copy()
    p = params(hop=hop)
    st = np.zeros(ok_layout.NSTATE)
    ok.oracle_init(ok_layout.ORACLE_OSM, p, st, 0.5)
    for t in range(n):
        cur = ok.oracle_step(ok_layout.ORACLE_OSM, p, ROW0, hist, t, st)
        nxt = ok.oracle_peep(st)
        last_poke = (t // hop) * hop
        if t < hop:  # no poke yet
            assert cur == 0.5 and nxt == 0.5
            continue
        assert st[ok_layout.S_ZZZ] == last_poke
        assert nxt == x[last_poke]  # read at the last poke
        if t < 2 * hop:
            assert cur == 0.5  # the initial nxt
        else:
            age = t - (cur - 1.0)
            assert hop <= age < 2 * hop
            assert cur == x[last_poke - hop]


def test_osm_default_hop_reads_lagged_source():
    x = np.arange(1.0, 21.0)
    out = run1(ok_layout.ORACLE_OSM, params(hop=5, lag=2), x, p0=1.0)
    # poke at 10 sets cur <- value read at 5, which is x[5 - 2]
    assert out[10] == x[3] and out[14] == x[3] and out[15] == x[8]


# --- EMA --------------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [1.0, 4.0, 10.0, 2.5])
def test_ema_half_life(h):
    n = 40
    x = np.full(n, 100.0)
    x[1:] = 200.0
    out = run1(ok_layout.ORACLE_EMA, params(halflife=h), x, p0=100.0)
    # after k steps at 200 the gap has shrunk by 0.5 ** (k / h)
    k = np.arange(n)
    np.testing.assert_allclose(out, 200.0 - 100.0 * 0.5 ** (k / h), rtol=1e-12)
    if float(h).is_integer():
        assert out[int(h)] == pytest.approx(150.0, rel=1e-12)


def test_ema_zero_half_life_is_spot():
    x = walk(30, 9)
    assert np.array_equal(run1(ok_layout.ORACLE_EMA, params(halflife=0.0), x), x)


# --- guards -----------------------------------------------------------------------------------


def test_max_jump_guard_rejects_large_moves_keeps_old_price():
    x = np.array([100.0, 40.0, 45.0, 60.0, 61.0, 200.0])
    out = run1(ok_layout.ORACLE_SPOT, params(max_jump=0.5), x, p0=100.0)
    # -60 %, -55 %: rejected; -40 %: accepted; then +1.7 %; +228 % rejected
    assert out.tolist() == [100.0, 100.0, 100.0, 60.0, 61.0, 61.0]
    off = run1(ok_layout.ORACLE_SPOT, params(max_jump=0.0), x, p0=100.0)
    assert np.array_equal(off, x)


def test_max_jump_guard_heartbeat_does_not_count_as_update():
    x = np.array([100.0, 10.0, 10.0, 10.0, 80.0, 80.0])
    p = params(heartbeat=2, deviation=0.005, max_jump=0.5)
    hist = x[None, :].copy()
    st = np.zeros(ok_layout.NSTATE)
    ok.oracle_init(ok_layout.ORACLE_HEARTBEAT, p, st, 100.0)
    out = [ok.oracle_step(ok_layout.ORACLE_HEARTBEAT, p, ROW0, hist, t, st) for t in range(len(x))]
    assert out == [100.0, 100.0, 100.0, 100.0, 80.0, 80.0]
    assert st[ok_layout.S_LAST] == 4


def test_max_jump_guard_osm_and_twap_and_ema():
    x = np.array([100.0] * 4 + [10.0] * 12)
    osm = run1(ok_layout.ORACLE_OSM, params(hop=2, max_jump=0.5), x, p0=100.0)
    assert np.all(osm == 100.0)  # cur <- nxt = 10 rejected at every poke
    twap = run1(ok_layout.ORACLE_TWAP, params(window=2, max_jump=0.5), x, p0=100.0)
    assert twap[4] == 55.0 and np.all(twap[5:] == 55.0)  # 55 is -45 %; 10 is -82 %
    # EMA: 55 (-45 %) is rejected by a 30 % guard; the internal EMA keeps tracking the source
    p = params(halflife=1.0, max_jump=0.3)
    hist = x[None, :].copy()
    st = np.zeros(ok_layout.NSTATE)
    ok.oracle_init(ok_layout.ORACLE_EMA, p, st, 100.0)
    out = [ok.oracle_step(ok_layout.ORACLE_EMA, p, ROW0, hist, t, st) for t in range(len(x))]
    assert np.all(np.array(out) == 100.0)
    assert st[ok_layout.S_EMA] == pytest.approx(10.0 + 90.0 * 0.5**12, rel=1e-12)


def test_non_positive_or_nan_candidate_is_rejected():
    x = np.array([100.0, 0.0, -5.0, np.nan, 90.0])
    out = run1(ok_layout.ORACLE_SPOT, params(), x, p0=100.0)
    assert out.tolist() == [100.0, 100.0, 100.0, 100.0, 90.0]
    ema = run1(ok_layout.ORACLE_EMA, params(halflife=0.0), x, p0=100.0)
    assert ema[3] == 100.0 and ema[4] == 90.0  # 0 and -5 rejected; NaN skipped


# --- all oracles at once ----------------------------------------------------------------------


def test_step_all_matches_single_runs():
    rng = np.random.default_rng(11)
    hist = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (4, 60)), axis=1))
    kinds = np.arange(6, dtype=np.int64)
    p2d = np.vstack(
        [
            params(lag=2),
            params(heartbeat=7, deviation=0.01),
            params(window=5),
            params(),
            params(hop=6, max_jump=0.05),
            params(halflife=3.0),
        ]
    )
    srcs = [[0], [1, 2], [3], [0, 1, 2, 3], [2], [0, 3]]
    ptr = np.zeros(len(srcs) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(s) for s in srcs])
    flat = np.array([r for s in srcs for r in s], dtype=np.int64)
    p0s = np.array([hist[s, 0].mean() if k != 3 else np.median(hist[s, 0]) for k, s in zip(kinds, srcs)])
    states = np.zeros((6, ok_layout.NSTATE))
    ok.oracles_init_all(kinds, p2d, states, p0s)
    got = np.zeros((60, 6))
    out = np.zeros(6)
    for t in range(60):
        ok.oracles_step_all(kinds, p2d, ptr, flat, hist, t, states, out)
        got[t] = out
    for i in range(6):
        want = ok.run_oracle(kinds[i], p2d[i], np.array(srcs[i], dtype=np.int64), hist, p0s[i])
        assert np.array_equal(got[:, i], want)


# --- registry ---------------------------------------------------------------------------------


def test_registry_codes():
    assert ORACLE_KINDS == {"spot": 0, "heartbeat": 1, "twap": 2, "median": 3, "osm": 4, "ema": 5, "fundamental": 6}
    assert oracle_kind("OSM") == ok_layout.ORACLE_OSM and oracle_kind(1) == 1
    with pytest.raises(ValueError):
        oracle_kind("pyth")
    with pytest.raises(ValueError):
        oracle_kind(9)


def test_oracle_params_defaults_are_chainlink_eth_usd_and_maker_osm():
    p = oracle_params("heartbeat", dt_seconds=12.0)
    assert p.shape == (ok_layout.NPARAM,) and p.dtype == np.float64
    assert p[ok_layout.P_HEARTBEAT] == 300 and p[ok_layout.P_DEVIATION] == 0.005
    assert p[ok_layout.P_HOP] == 300 and p[ok_layout.P_LAG] == 0 and p[ok_layout.P_MAXJUMP] == 0.0
    assert p[ok_layout.P_WINDOW] == 150 and p[ok_layout.P_HALFLIFE] == 50.0
    assert ORACLE_DEFAULTS["heartbeat_s"] == 3600.0
    q = oracle_params("osm", dt_seconds=60.0, hop_s=1800, lag_s=90, max_jump=0.5)
    assert q[ok_layout.P_HOP] == 30 and q[ok_layout.P_LAG] == 2 and q[ok_layout.P_MAXJUMP] == 0.5
    assert oracle_params("twap", dt_seconds=3600.0, window_s=60)[ok_layout.P_WINDOW] == 1


@pytest.mark.parametrize(
    "kw",
    [
        {"dt_seconds": 0.0},
        {"dt_seconds": 1.0, "deviation": 1.5},
        {"dt_seconds": 1.0, "max_jump": -0.1},
        {"dt_seconds": 1.0, "lag_s": -1},
        {"dt_seconds": 1.0, "halflife_s": float("nan")},
        {"dt_seconds": 1.0, "heartbeat": 3600},  # must be heartbeat_s
    ],
)
def test_oracle_params_rejects_bad_values(kw):
    with pytest.raises(ValueError):
        oracle_params("spot", **kw)


def test_oracle_params_drive_the_kernel():
    x = np.full(200, 100.0)
    x[1:] = 100.2
    p = oracle_params("heartbeat", dt_seconds=30.0)  # heartbeat 120 steps
    out = run1(ok_layout.ORACLE_HEARTBEAT, p, x, p0=100.0)
    assert np.all(out[:120] == 100.0) and np.all(out[120:] == 100.2)
