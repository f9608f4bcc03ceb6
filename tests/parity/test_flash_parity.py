"""Parity: the flash-loan kernels against their naive plain-Python twins.

* each flash-loan source's fee kernel (``flashloans/<source>/kernel.py``) against its twin;
* the split of one loan over several sources (``flashloans/dispatch.py: borrow``);
* the whole atomic bundle (``agents/flash_attacker/kernel.py: bundle``) against
  ``agents/flash_attacker/twin.py: bundle_py`` on pools and books, every oracle kind, random
  books of positions and loan sizes (ledger to 1e-9 relative, the same liquidation calls).
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.agents.flash_attacker import kernel as KF
from liqcascade.agents.flash_attacker.twin import bundle_py
from liqcascade.engine.flash import LEDGER
from liqcascade.flashloans import SOURCES
from liqcascade.flashloans.dispatch import borrow, source_fee
from liqcascade.flashloans.kernel import NFP
from liqcascade.flashloans.twin import borrow_py
from liqcascade.oracles import KINDS as ORACLE_KINDS
from liqcascade.oracles.dispatch import oracle_init, oracle_step
from liqcascade.oracles.kernel import NSTATE
from liqcascade.oracles.pack import oracle_params
from liqcascade.protocols.aave import kernel as KA
from liqcascade.venues.dispatch import venue_spot
from liqcascade.venues.pack import make_venue_state

REL = 1e-9


def close(a, b, rel=REL, abs_=1e-7):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


@pytest.mark.parametrize("name", SOURCES)
@given(fee=st.sampled_from([0.0, 0.0001, 0.0005, 0.003, 0.01]), amount=st.floats(0.0, 1e9))
@settings(max_examples=60, deadline=None)
def test_source_fee_matches_twin(name, fee, amount):
    k = importlib.import_module(f"liqcascade.flashloans.{name}.kernel")
    tw = importlib.import_module(f"liqcascade.flashloans.{name}.twin")
    p = np.zeros(NFP)
    p[0] = fee
    assert close(k.fee(p, amount), tw.fee_py(fee, amount), rel=1e-12, abs_=1e-9)
    assert close(source_fee(SOURCES.index(name), p, amount), tw.fee_py(fee, amount), rel=1e-12, abs_=1e-9)


@given(n=st.integers(1, 4), data=st.data())
@settings(max_examples=80, deadline=None)
def test_borrow_split_matches_twin(n, data):
    kinds = np.array([data.draw(st.integers(0, len(SOURCES) - 1)) for _ in range(n)], dtype=np.int64)
    params = np.array([[data.draw(st.sampled_from([0.0, 0.0005, 0.003])), data.draw(st.floats(0.0, 1e4)),
                        data.draw(st.floats(0.0, 1e7))] for _ in range(n)])
    side = data.draw(st.integers(0, 1))
    amount = data.draw(st.floats(0.0, 3e4 if side == 0 else 3e7))
    taken = np.zeros(n)
    fee = borrow(kinds, params, amount, side, taken)
    fee_py, taken_py = borrow_py(kinds, params, amount, side)
    assert close(fee, fee_py, abs_=1e-9)
    if fee >= 0:
        assert np.allclose(taken, taken_py, rtol=1e-12, atol=1e-9)
        assert abs(taken.sum() - amount) <= 1e-9 * max(1.0, amount)
        assert np.all(taken <= params[:, 1 + side] + 1e-9)
    else:
        assert amount > params[:, 1 + side].sum() * (1 - 1e-12)


# ---------------------------------------------------------------------------------------------
# the bundle
# ---------------------------------------------------------------------------------------------

def _rules(rule):
    r = np.zeros(KA.NRULE)
    r[KA.R_RULE] = rule
    r[KA.R_CF] = 0.5
    r[KA.R_HF_CF] = 0.95
    r[KA.R_MIN_BASE] = 2000.0
    r[KA.R_MIN_LEFTOVER] = 1000.0
    return r


@st.composite
def bundles(draw):
    p0 = 2000.0
    venue = draw(st.sampled_from(["cpmm", "book"]))
    if venue == "cpmm":
        x = draw(st.sampled_from([300.0, 2000.0, 20000.0]))
        spec = dict(kind="cpmm", asset=0, reserve_asset=x, reserve_quote=x * p0, fee=draw(st.sampled_from([0.0, 0.003])))
    else:
        q = draw(st.sampled_from([2e5, 2e6]))
        spec = dict(kind="book", asset=0, mid=p0, depth=[(0.01, q), (0.05, 5 * q), (0.2, 20 * q)], half_life_steps=10)
    other = dict(kind="cpmm", asset=0, reserve_asset=5000.0, reserve_quote=5000.0 * p0, fee=0.003)
    vs, vdk, vdq = make_venue_state([spec, other])
    kind = draw(st.sampled_from(ORACLE_KINDS))
    dt = 12.0
    params = oracle_params(kind, dt_seconds=dt, window_s=draw(st.sampled_from([12.0, 120.0, 600.0])),
                           hop_s=draw(st.sampled_from([60.0, 600.0])), heartbeat_s=600.0,
                           halflife_s=draw(st.sampled_from([12.0, 120.0])),
                           lag_s=draw(st.sampled_from([0.0, 0.0, 24.0])), max_jump=draw(st.sampled_from([0.0, 0.0, 0.05])))
    src = np.array([0] if draw(st.booleans()) else [0, 1], dtype=np.int64)
    t = draw(st.integers(1, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    hist = np.empty((2, t + 1))
    for r in range(2):
        hist[r] = p0 * np.exp(np.cumsum(np.r_[0.0, rng.normal(0, 0.002, t)]))
    hist[0, t] = venue_spot(vs, 0)  # the pushed venue's column t is its current spot
    hist[1, t] = venue_spot(vs, 1)
    n = draw(st.integers(0, 25))
    lt = 0.86
    hf = rng.uniform(0.97, 1.4, n)
    coll = rng.lognormal(np.log(30.0), 1.0, n)
    debt = coll * p0 * lt / hf
    nsrc = draw(st.integers(1, 3))
    s_kind = np.array([draw(st.integers(0, len(SOURCES) - 1)) for _ in range(nsrc)], dtype=np.int64)
    s_params = np.array([[draw(st.sampled_from([0.0, 0.0005, 0.003])), draw(st.sampled_from([200.0, 5000.0])),
                          draw(st.sampled_from([0.0, 1e6, 1e8]))] for _ in range(nsrc)])
    ap = np.array([draw(st.sampled_from([0.0, 15.0])), draw(st.sampled_from([0.0, 12.0])),
                   float(draw(st.integers(1, 30))), 0.0])
    loan = draw(st.sampled_from([0.0, 1.0, 30.0, 150.0, 600.0, 3000.0, 12000.0]))
    rules = _rules(draw(st.sampled_from([KA.RULE_V32, KA.RULE_V33, KA.RULE_FIXED])))
    return dict(loan=loan, vs=vs, vdk=vdk, vdq=vdq, kind=ORACLE_KINDS.index(kind), params=params, src=src, hist=hist, t=t,
                p0=p0, coll=coll, debt=debt, lt=lt, bonus=0.05, pfee=0.1, rules=rules, s_kind=s_kind, s_params=s_params,
                ap=ap)


def _state_before(b):
    st_ = np.zeros(NSTATE)
    oracle_init(b["kind"], b["params"], st_, b["p0"])
    for u in range(b["t"]):
        oracle_step(b["kind"], b["params"], b["src"], b["hist"], u, st_)
    return st_


def _kernel(b, apply=False):
    led = np.zeros(KF.NLEDGER)
    cap = max(1, len(b["coll"]))
    ev = (np.zeros(cap, np.int64), np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap))
    n = KF.bundle(b["loan"], b["vs"], b["vdk"], b["vdq"], 0, b["kind"], b["params"], b["src"], b["hist"], b["t"],
                  _state_before(b), b["coll"], b["debt"], b["lt"], b["bonus"], b["pfee"], 1.0, b["rules"], b["s_kind"],
                  b["s_params"], b["ap"], apply, led, *ev)
    return led, [(int(ev[0][j]), ev[1][j], ev[2][j], ev[3][j], ev[4][j]) for j in range(n)]


TWIN_KEYS = {"loan": "loan", "fee_asset": "fee_asset", "push_quote": "push_quote", "spot_pre": "spot_pre",
             "spot_pushed": "spot_pushed", "p_pre": "p_pre", "p_post": "p_post", "liquidations": "nliq",
             "repaid": "repaid", "seized": "seized", "treasury_fee": "treasury", "bad_debt": "bad",
             "buy_quote": "buy_quote", "buy_asset": "buy_asset", "sell_asset": "sell_asset", "sell_quote": "sell_quote",
             "gas": "gas", "spot_end": "spot_end", "pnl": "pnl", "feasible": "feasible", "quote_loan": "quote_loan",
             "fee_quote": "fee_quote", "pre_liquidatable": "pre_liquidatable"}


@given(b=bundles())
@settings(max_examples=120, deadline=None)
def test_bundle_matches_twin(b):
    hist0, vs0, coll0, debt0 = b["hist"].copy(), b["vs"].copy(), b["coll"].copy(), b["debt"].copy()
    led, ev = _kernel(b)
    # evaluating changes nothing
    assert np.array_equal(b["hist"], hist0) and np.array_equal(b["vs"], vs0)
    assert np.array_equal(b["coll"], coll0) and np.array_equal(b["debt"], debt0)
    out, ev_py = bundle_py(b["loan"], b["vs"], b["vdk"], b["vdq"], 0, b["kind"], b["params"], b["src"], b["hist"], b["t"],
                           b["p0"], b["coll"], b["debt"], b["lt"], b["bonus"], b["pfee"], 1.0, b["rules"], b["s_kind"],
                           b["s_params"], b["ap"])
    for name, key in TWIN_KEYS.items():
        if key in out:
            k = led[LEDGER.index(name)]
            if name == "pnl" and out["feasible"] != 1.0:
                continue
            assert close(float(k), float(out[key])), (name, k, out[key])
    if out["feasible"] != 0.0:
        assert [e[0] for e in ev] == [e[0] for e in ev_py]
        for a, c in zip(ev, ev_py):
            assert all(close(float(x), float(y)) for x, y in zip(a[1:], c[1:]))
