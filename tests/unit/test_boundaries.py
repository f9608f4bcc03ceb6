"""Threshold boundaries, each tested exactly on the threshold and one float step to either side,
with numbers that are exact in binary floating point (so ``>=`` against ``>`` cannot hide
behind rounding): the oracle deviation, heartbeat and jump guard; HF exactly 1; HF exactly at
the close-factor switch; a circuit breaker exactly at its trip level. Each runs on the compiled
kernel and, where one exists, on its plain-Python twin; the HF boundaries run through both static
kernels and the time loop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.engine.dynamic import run_dynamic
from liqcascade.engine.static import final_state
from liqcascade.mechanisms.circuit_breaker import kernel as KM
from liqcascade.oracles import dispatch as ok_run
from liqcascade.oracles import kernel as ok
from liqcascade.oracles import twin as op
from liqcascade.protocols.aave import kernel as KA
from liqcascade.protocols.aave import twin as PA
from liqcascade.kernels.cascade_py import solve_shock_py
from liqcascade.engine.static import static_arrays

UP = math.nextafter
ENGINES = ("per-position", "aggregated")


def oracle_params(**kw):
    p = np.zeros(ok.NPARAM)
    names = {"heartbeat": ok.P_HEARTBEAT, "deviation": ok.P_DEVIATION, "max_jump": ok.P_MAXJUMP}
    p[ok.P_WINDOW] = 1
    p[ok.P_HOP] = 1
    for k, v in kw.items():
        p[names[k]] = v
    return p


def both_oracles(kind, p, series, p0):
    """Published prices of the kernel and of the twin over ``series`` (step 0 included)."""
    hist = np.ascontiguousarray(np.atleast_2d(series), dtype=np.float64)
    got = ok_run.run_oracle(kind, p, np.array([0], np.int64), hist, p0)
    twin = op.run_oracle_py(kind, p, hist, p0)
    np.testing.assert_array_equal(got, twin)
    return got


# --- oracles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("move, publishes", [
    (5.0, True), (3.0, True),  # |5/4 − 1| = |3/4 − 1| = 0.25 exactly: at the threshold, publish
    (UP(5.0, 0.0), False), (UP(3.0, 4.0), False),  # one float inside: hold
    (UP(5.0, 9.0), True), (UP(3.0, 0.0), True),  # one float outside: publish
])
def test_heartbeat_deviation_exactly_at_threshold(move, publishes):
    p = oracle_params(deviation=0.25, heartbeat=1000)
    got = both_oracles(ok.ORACLE_HEARTBEAT, p, [4.0, move], 4.0)
    assert got[1] == (move if publishes else 4.0)


@pytest.mark.parametrize("steps, publishes", [(8, True), (7, False)])
def test_heartbeat_due_exactly_at_the_heartbeat(steps, publishes):
    p = oracle_params(deviation=0.5, heartbeat=8)
    series = [4.0] + [4.5] * steps  # a 12.5 % move, under the deviation: only the heartbeat publishes
    got = both_oracles(ok.ORACLE_HEARTBEAT, p, series, 4.0)
    assert got[steps] == (4.5 if publishes else 4.0)
    assert np.all(got[1:steps] == 4.0)


def first_beyond(x, toward, f, at):
    """The float nearest ``x`` in the direction of ``toward`` at which ``f`` (the kernel's own
    formula) no longer gives ``at``: one representable step past the threshold."""
    y = UP(x, toward)
    while f(y) == at:
        y = UP(y, toward)
    return y


_DEV4 = lambda m: abs(m / 4.0 - 1.0)  # noqa: E731 - the guard's formula against a published 4


@pytest.mark.parametrize("move, accepted", [
    (6.0, True), (2.0, True),  # |6/4 − 1| = |2/4 − 1| = 0.5 exactly: at the guard, accepted
    (first_beyond(6.0, 9.0, _DEV4, 0.5), False), (first_beyond(2.0, 0.0, _DEV4, 0.5), False),  # beyond: rejected
])
@pytest.mark.parametrize("kind", [ok.ORACLE_SPOT, ok.ORACLE_HEARTBEAT])
def test_max_jump_exactly_at_threshold(kind, move, accepted):
    p = oracle_params(max_jump=0.5, deviation=0.0, heartbeat=1)
    got = both_oracles(kind, p, [4.0, move], 4.0)
    assert got[1] == (move if accepted else 4.0)


# --- Aave sizing: HF exactly 1 and exactly at the close-factor switch --------------------------
# HF = c·p·LT/d. With c = 1, p = 64, LT = 0.375 (3/8) and d = 32 every product is exact: HF = 0.75.


def rules(rule, cf=0.5, hf_cf=0.75, base=0.0, left=0.0):
    r = np.zeros(KA.NRULE)
    r[KA.R_RULE] = rule
    r[KA.R_CF] = cf
    r[KA.R_HF_CF] = hf_cf
    r[KA.R_MIN_BASE] = base
    r[KA.R_MIN_LEFTOVER] = left
    return r


@pytest.mark.parametrize("rule", [KA.RULE_V32, KA.RULE_V33])
@pytest.mark.parametrize("debt, full", [
    (32.0, True),  # HF = 0.75 exactly: at the switch, 100 % close factor (HF <= threshold)
    (UP(32.0, 0.0), False),  # HF one float above 0.75: 50 %
    (UP(32.0, 64.0), True),  # one float below
])
def test_close_factor_switch_exactly_at_threshold(rule, debt, full):
    r = rules(rule)
    hf = 1.0 * 64.0 * 0.375 / debt
    assert (hf == 0.75) == (debt == 32.0)
    for f in (KA.close_factor, ):
        assert f(r, hf, 64.0, debt) == (1.0 if full else 0.5)
    seize, repay, bad, fee, closed = KA.liquidate_pair(1.0, debt, 64.0, 1.0, 0.375, 0.05, 0.0, r)
    twin = PA.liquidate_pair_py(1.0, debt, 64.0, 1.0, 0.375, 0.05, 0.0, r)
    assert (seize, repay, bad, fee, closed) == pytest.approx(twin, rel=1e-15)
    assert repay == (debt if full else 0.5 * debt) and bad == 0.0


@pytest.mark.parametrize("coll, liquidatable", [
    (2.0, False),  # c·p·LT/d = 2·64·0.5/64 = 1 exactly: HF = 1 is not liquidatable
    (UP(2.0, 0.0), True),  # HF one float under 1
    (UP(2.0, 4.0), False),
])
def test_hf_exactly_one_in_the_multi_asset_sizing(coll, liquidatable):
    cs = np.array([coll, 0.0])
    ds = np.array([0.0, 64.0])
    out = KA.liquidate_position(cs, ds, np.array([0, 1]), np.array([64.0, 1.0]), np.array([0.5, 0.0]),
                                np.array([0.05, 0.0]), np.array([0.0, 0.0]), rules(KA.RULE_FIXED, cf=0.5))
    assert (out[0] >= 0) == liquidatable


def _book(kit, coll, debt, lt, rule, cf=0.5, hf_cf=0.95, **kw):
    """A pool priced at exactly 64 (P0 = 64 is a power of two) holding one position."""
    protos = ({"lt": lt, "bonus": 0.05, "pfee": 0.0, "rule": rule, "cf": cf},)
    sc = kit.scenario(protocols=protos, reserve=1e6, **kw)
    sc.assets[0].price = 64.0
    pr = sc.protocols[0]
    pr.hf_close_factor_threshold = hf_cf
    pr.min_base_close_factor = 0.0
    pr.min_leftover = 0.0
    return kit.build(sc, np.array([coll]), np.array([debt]))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("debt, liquidated", [(64.0, False), (UP(64.0, 99.0), True), (UP(64.0, 0.0), False)])
def test_static_hf_exactly_one(kit, engine, debt, liquidated):
    """Collateral 2 at 64 with LT 0.5 against debt 64: HF = 1 exactly, not liquidated."""
    c = _book(kit, 2.0, debt, 0.5, "fixed")
    oc, od, s = final_state(c, 0.0, engine=engine)
    assert (s["liquidations"] > 0) == liquidated
    assert (s["final_price"][0] == 64.0) == (not liquidated)  # the round ran at exactly 64
    assert (_twin(c)["liquidations"] > 0) == liquidated


@pytest.mark.parametrize("debt, liquidated", [(64.0, False), (UP(64.0, 99.0), True)])
def test_dynamic_hf_exactly_one(kit, debt, liquidated):
    c = _book(kit, 2.0, debt, 0.5, "fixed", oracle={"kind": "spot"}, steps=3)
    r = run_dynamic(c)
    assert (r.summary[0, 0] > 0) == liquidated


# the aggregated kernel compares u = 1/key (key = d/(c·LT)) with hf_cf/p: with c = 1, LT = 0.25,
# p = 64 and d = 32 both are 1/128 exactly (HF = 0.5 = the switch); one step of u to either side
_U = lambda d: 1.0 / ((d / (1.0 * 0.25)) * 1.0)  # noqa: E731 - as engine.static builds it


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", ["v3.2", "v3.3"])
@pytest.mark.parametrize("debt, full", [(32.0, True), (first_beyond(32.0, 0.0, _U, 1 / 128), False),
                                        (first_beyond(32.0, 64.0, _U, 1 / 128), True)])
def test_static_close_factor_switch(kit, engine, rule, debt, full):
    """HF 0.5 exactly with the switch at 0.5: the whole debt is repaid (HF <= threshold); just
    above it, half of it. Both kernels (the aggregated one finds the switch by a binary search
    on 1/key, so "just above" is one step of 1/key)."""
    c = _book(kit, 1.0, debt, 0.25, rule, hf_cf=0.5)
    oc, od, s = final_state(c, 0.0, engine=engine, mode="mechanical")
    r = _twin(c)
    assert s["liquidations"] == r["liquidations"] and s["rounds"] == r["rounds"]
    assert s["repaid"] == pytest.approx(r["repaid"], rel=1e-12)
    # a full close factor repays everything at once; half leaves HF 0.74 < 1 for another round
    assert (s["liquidations"] == 1) == full
    if full:
        assert s["repaid"] == debt


def _twin(c):
    vs, vdk, vdq, mask = static_arrays(c)
    b = c.book
    return solve_shock_py(0.0, b.coll, b.debt, np.zeros(b.n, int), np.zeros(b.n, int), np.ones(b.n), c.lt_pa,
                          c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0, mask, 0, 0.0, 100)


@pytest.mark.parametrize("debt, full", [(32.0, True), (UP(32.0, 0.0), False), (UP(32.0, 64.0), True)])
def test_dynamic_close_factor_switch(kit, debt, full):
    c = _book(kit, 1.0, debt, 0.25, "v3.2", hf_cf=0.5, oracle={"kind": "spot"}, steps=1)
    r = run_dynamic(c)
    assert r.events["debt_repaid"][0] == pytest.approx(debt if full else 0.5 * debt, rel=1e-12)


# --- circuit breaker --------------------------------------------------------------------------


@pytest.mark.parametrize("now, trips", [(48.0, False), (UP(48.0, 0.0), True), (UP(48.0, 64.0), False)])
def test_breaker_exactly_at_trip_level(now, trips):
    """A fall of exactly 25 % (64 → 48) does not trip a breaker at 0.25 (it trips on a larger
    fall); one float lower does."""
    phist = np.zeros((2, 1, 1))
    phist[0, 0, 0] = 64.0
    phist[1, 0, 0] = now
    fall = KM.window_fall(phist, 1, 0, 0, 5)
    assert (fall == 0.25) == (now == 48.0)
    state = np.zeros((1, 2), np.int64)
    paused, restricted = KM.breaker_step(state, 0, 1, fall, 0.25, 3, 2)
    assert paused == trips and restricted == trips
    assert (state[0, 0] == 4) == trips


# --- the twins' publication rule and state, step by step against the kernel --------------------


KINDS = (ok.ORACLE_SPOT, ok.ORACLE_HEARTBEAT, ok.ORACLE_TWAP, ok.ORACLE_MEDIAN, ok.ORACLE_OSM, ok.ORACLE_EMA)


def lockstep(kind, p, series, p0):
    """Kernel and twin one step at a time: published price and the step of the last accepted
    publication (``S_LAST``, which the heartbeat rule reads) must agree at every step."""
    hist = np.ascontiguousarray(np.atleast_2d(series), dtype=np.float64)
    idx = np.arange(hist.shape[0], dtype=np.int64)
    state = np.zeros(ok.NSTATE)
    ok_run.oracle_init(kind, p, state, p0)
    twin = op.make_oracle_py(kind, p, p0)
    rows = [list(map(float, r)) for r in hist]
    out = []
    for t in range(hist.shape[1]):
        got = ok_run.oracle_step(kind, p, idx, hist, t, state)
        want = twin.step(t, rows)
        assert got == pytest.approx(want, rel=1e-15), (kind, t)
        assert int(state[ok.S_LAST]) == twin.last_update, (kind, t)
        out.append(got)
    return np.array(out)


def full_params(window=3, hop=2, halflife=2.0, max_jump=0.0, heartbeat=4, deviation=0.25):
    p = oracle_params(heartbeat=heartbeat, deviation=deviation, max_jump=max_jump)
    p[ok.P_WINDOW] = window
    p[ok.P_HOP] = hop
    p[ok.P_HALFLIFE] = halflife
    return p


@pytest.mark.parametrize("kind", KINDS)
def test_twins_track_the_last_publication_step(kind):
    series = [4.0, 5.0, 5.0, 6.0, 3.0, 3.0, 3.0, 8.0, 8.0, 2.0]
    lockstep(kind, full_params(), [series, [4.0, 4.5, 5.5, 6.0, 3.5, 3.0, 2.5, 8.0, 7.0, 2.5],
                                   [4.0] * 10], 4.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0.0, -4.0, math.inf, math.nan])
def test_twins_reject_non_positive_and_non_finite_candidates(kind, bad):
    """A candidate of exactly 0 is rejected (``<= 0``), as are negative and non-finite ones; the
    EMA skips a non-finite source value. Kernel and twin in lockstep."""
    got = lockstep(kind, full_params(window=1, hop=1, halflife=0.0), [4.0, bad, 5.0], 4.0)
    assert got[1] == 4.0 and got[2] in (4.0, 5.0)


@pytest.mark.parametrize("window", [0, 1])
def test_twap_of_one_step_and_ema_without_smoothing_are_spot(window):
    series = [4.0, 5.0, 6.0, 2.0]
    for kind, p in ((ok.ORACLE_TWAP, full_params(window=window)), (ok.ORACLE_EMA, full_params(halflife=0.0)),
                    (ok.ORACLE_EMA, full_params(halflife=-1.0))):
        np.testing.assert_array_equal(lockstep(kind, p, series, 4.0), series)


# --- Aave v3.3 dust rule, exactly at MIN_LEFTOVER on the collateral side ---------------------------
# collateral 512 at 4 (value 2048), debt 1024 at 2 (value 2048), LT 0.75 (HF 0.75 > the 0.5 switch:
# close factor 50 %), no bonus: the 50 % repay (1024 of value) leaves exactly 1024 of collateral
# value = MIN_LEFTOVER, which is allowed; one float less collateral leaves dust, and the repay
# shrinks to leave exactly MIN_LEFTOVER of collateral. Prices 4 and 2 make * and / differ.


@pytest.mark.parametrize("step, dust", [(0, False), (-1, True), (1, False)])
@pytest.mark.parametrize("bonus, coll0", [(0.0, 512.0), (1.0, 768.0)])  # a 100 % bonus seizes twice as much
def test_dust_rule_exactly_at_min_leftover(step, dust, bonus, coll0):
    r = rules(KA.RULE_V33, cf=0.5, hf_cf=0.5, base=0.0, left=1024.0)
    debt = 1024.0
    coll = coll0 if step == 0 else UP(coll0, coll0 + step)
    args = (coll, debt, 4.0, 2.0, 0.75, bonus, 0.5, r)
    for got in (KA.liquidate_pair(*args), PA.liquidate_pair_py(*args)):  # a 1-ulp repay change matters here
        seize, repay, bad, fee, closed = got
        if dust:
            assert repay < 0.5 * debt and (coll - seize) * 4.0 == pytest.approx(1024.0, rel=1e-12)
        else:
            assert repay == 0.5 * debt and (coll - seize) * 4.0 >= 1024.0
        assert bad == 0.0 and not closed
        assert fee == pytest.approx((seize - seize / (1.0 + bonus)) * 0.5, rel=1e-15)


def test_dust_rule_never_repays_a_negative_amount():
    """MIN_LEFTOVER above the whole collateral value: the largest non-reverting repay is 0."""
    r = rules(KA.RULE_V33, cf=0.5, hf_cf=0.5, base=0.0, left=4096.0)
    args = (512.0, 1024.0, 4.0, 2.0, 0.75, 0.0, 0.0, r)
    for got in (KA.liquidate_pair(*args), PA.liquidate_pair_py(*args)):
        assert got[0] == 0.0 and got[1] == 0.0 and not got[4]


def test_twin_accepts_the_five_entry_rule_vector():
    """Rule vectors from before the incentive entries (5 entries) mean the fixed bonus."""
    r5 = rules(KA.RULE_FIXED, cf=0.5)[:5]
    got = PA.liquidate_pair_py(1.0, 32.0, 64.0, 1.0, 0.25, 0.05, 0.0, r5)
    assert got == PA.liquidate_pair_py(1.0, 32.0, 64.0, 1.0, 0.25, 0.05, 0.0, rules(KA.RULE_FIXED, cf=0.5))
    assert PA.incentive_lb_py(r5, 0.5, 0.05) == 1.05


@pytest.mark.parametrize("n", [3, 5, 4, 6])
def test_median_of_several_feeds_kernel_and_twin(n):
    """The median of 3, 5 (odd: the middle one) and 4, 6 feeds (even: the mean of the middle two)."""
    feeds = [[4.0, 4.0 + 0.5 * k] for k in range(n)][::-1]
    got = lockstep(ok.ORACLE_MEDIAN, full_params(window=1, hop=1), feeds, 4.0)
    mid = sorted(4.0 + 0.5 * k for k in range(n))
    want = mid[n // 2] if n % 2 else 0.5 * (mid[n // 2 - 1] + mid[n // 2])
    assert got[1] == want


@pytest.mark.parametrize("debt, dust", [(4096.0, False), (UP(4096.0, 0.0), True)])
def test_dust_rule_on_the_debt_side(debt, dust):
    """MIN_LEFTOVER above half of MIN_BASE (custom parameters): a 50 % repay of debt 4096 at 2
    leaves exactly 4096 of debt value = MIN_LEFTOVER (allowed); a float less leaves dust, and the
    repay shrinks so that exactly MIN_LEFTOVER of debt stays, as the multi-asset sizing does.
    Collateral 2500 at 4: HF 0.92 < 1, and the collateral side does not bind."""
    r = rules(KA.RULE_V33, cf=0.5, hf_cf=0.5, base=0.0, left=4096.0)
    args = (2500.0, debt, 4.0, 2.0, 0.75, 0.05, 0.0, r)
    for seize, repay, bad, fee, closed in (KA.liquidate_pair(*args), PA.liquidate_pair_py(*args)):
        left = (debt - repay) * 2.0
        if dust:
            assert repay < 0.5 * debt and left == pytest.approx(4096.0, rel=1e-12)
        else:
            assert repay == 0.5 * debt and left == 4096.0
        assert seize == pytest.approx(repay * 2.0 * 1.05 / 4.0, rel=1e-15) and not closed
    cs, ds = np.array([2500.0, 0.0]), np.array([0.0, debt])
    out = KA.liquidate_position(cs, ds, np.array([0, 1]), np.array([4.0, 2.0]), np.array([0.75, 0.0]),
                                np.array([0.05, 0.0]), np.array([0.0, 0.0]), r)
    assert out[3] == pytest.approx(KA.liquidate_pair(*args)[1], rel=1e-12)  # the same repay as the pair sizing
