"""Conservation of the atomic flash-loan bundle (``agents/flash_attacker/kernel.py``), on
generated markets, books and loan sizes, with the bundle executed in place (``apply``).

Valuing the pushed asset at any price ``P`` and the debt asset at ``p_debt``::

    pnl(P) + Δborrowers + Δprotocol + Δvenue + lender_fees + gas = 0

with each term measured independently of the attacker's own ledger where the state allows it:
``Δborrowers`` from the positions before and after, ``Δvenue`` from a pool's reserves before and
after (a book holds no inventory, so its side is the attacker's trade flows), ``Δprotocol`` the
treasury's share of the seized collateral less the debt written off. Units are conserved too:
collateral seized = collateral the positions lost; debt repaid + written off = debt they lost.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcascade.agents.flash_attacker import kernel as KF
from liqcascade.flashloans import SOURCES
from liqcascade.oracles import KINDS as ORACLE_KINDS
from liqcascade.oracles.dispatch import oracle_init, oracle_step
from liqcascade.oracles.kernel import NSTATE
from liqcascade.oracles.pack import oracle_params
from liqcascade.protocols.aave import kernel as KA
from liqcascade.venues.dispatch import venue_spot
from liqcascade.venues.kernel import VENUE_CPMM, X, Y
from liqcascade.venues.pack import make_venue_state


@st.composite
def markets(draw):
    p0 = draw(st.sampled_from([1.0, 150.0, 2000.0]))
    if draw(st.booleans()):
        x = draw(st.floats(50.0, 1e5))
        spec = dict(kind="cpmm", asset=0, reserve_asset=x, reserve_quote=x * p0, fee=draw(st.sampled_from([0.0, 0.0005, 0.003, 0.01])))
    else:
        q = draw(st.floats(1e4, 1e8))
        spec = dict(kind="book", asset=0, mid=p0, depth=[(0.01, q), (0.1, 8 * q), (0.5, 40 * q)], half_life_steps=0)
    vs, vdk, vdq = make_venue_state([spec])
    kind = draw(st.sampled_from(ORACLE_KINDS))
    params = oracle_params(kind, dt_seconds=12.0, window_s=draw(st.sampled_from([12.0, 60.0, 1800.0])), hop_s=120.0,
                           heartbeat_s=600.0, halflife_s=24.0)
    t = draw(st.integers(1, 40))
    hist = np.full((1, t + 1), venue_spot(vs, 0))
    ost = np.zeros(NSTATE)
    oracle_init(ORACLE_KINDS.index(kind), params, ost, hist[0, 0])
    for u in range(t):
        oracle_step(ORACLE_KINDS.index(kind), params, np.array([0]), hist, u, ost)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    n = draw(st.integers(0, 40))
    lt = draw(st.sampled_from([0.5, 0.8, 0.86, 0.95]))
    coll = rng.lognormal(np.log(draw(st.floats(0.01, 1e4))), 1.0, n)
    debt = coll * p0 * lt / rng.uniform(0.9, 1.5, n)
    p_debt = draw(st.sampled_from([1.0, 0.999]))
    rules = np.zeros(KA.NRULE)
    rules[KA.R_RULE] = draw(st.sampled_from([KA.RULE_FIXED, KA.RULE_V32, KA.RULE_V33]))
    rules[KA.R_CF] = 0.5
    rules[KA.R_HF_CF] = 0.95
    rules[KA.R_MIN_BASE] = 2000.0
    rules[KA.R_MIN_LEFTOVER] = 1000.0
    nsrc = draw(st.integers(1, 3))
    s_kind = np.array([draw(st.integers(0, len(SOURCES) - 1)) for _ in range(nsrc)], dtype=np.int64)
    s_params = np.array([[draw(st.sampled_from([0.0, 0.0005, 0.003])), draw(st.floats(1.0, 1e6)),
                          draw(st.sampled_from([0.0, 1e5, 1e9]))] for _ in range(nsrc)])
    ap = np.array([draw(st.floats(0.0, 100.0)), draw(st.floats(0.0, 50.0)), float(draw(st.integers(1, 50))), 0.0])
    loan = draw(st.floats(0.0, 2.0)) * float(s_params[:, 1].sum())
    return dict(vs=vs, vdk=vdk, vdq=vdq, kind=ORACLE_KINDS.index(kind), params=params, hist=hist, t=t, ost=ost,
                coll=coll, debt=debt, lt=lt, bonus=draw(st.sampled_from([0.0, 0.05, 0.1])), pfee=draw(st.sampled_from([0.0, 0.1, 0.5])),
                p_debt=p_debt, rules=rules, s_kind=s_kind, s_params=s_params, ap=ap, loan=loan,
                P=draw(st.floats(0.01, 2.0)) * p0)


@given(m=markets())
@settings(max_examples=300, deadline=None)
def test_bundle_conserves_value_and_units(m):
    vs0 = m["vs"].copy()
    coll0, debt0 = m["coll"].copy(), m["debt"].copy()
    led = np.zeros(KF.NLEDGER)
    cap = max(1, len(coll0))
    ev = (np.zeros(cap, np.int64), np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap))
    # decide on a copy, then execute (what BundleSolver.step does)
    KF.bundle(m["loan"], m["vs"], m["vdk"], m["vdq"], 0, m["kind"], m["params"], np.array([0]), m["hist"], m["t"],
              m["ost"], m["coll"], m["debt"], m["lt"], m["bonus"], m["pfee"], m["p_debt"], m["rules"], m["s_kind"],
              m["s_params"], m["ap"], False, led, *ev)
    if led[KF.L_FEASIBLE] != 1.0:  # the transaction would revert: nothing to conserve
        assert np.array_equal(m["vs"], vs0)
        return
    n = KF.bundle(m["loan"], m["vs"], m["vdk"], m["vdq"], 0, m["kind"], m["params"], np.array([0]), m["hist"], m["t"],
                  m["ost"], m["coll"], m["debt"], m["lt"], m["bonus"], m["pfee"], m["p_debt"], m["rules"], m["s_kind"],
                  m["s_params"], m["ap"], True, led, *ev)
    assert led[KF.L_FEASIBLE] == 1.0 and n == led[KF.L_NLIQ]
    P, pd = m["P"], m["p_debt"]
    seized, repaid, bad, fee = led[KF.L_SEIZED], led[KF.L_REPAID], led[KF.L_BAD], led[KF.L_TREASURY]
    # units
    scale_c = max(1.0, coll0.sum())
    scale_d = max(1.0, debt0.sum())
    assert abs((coll0.sum() - m["coll"].sum()) - seized) <= 1e-9 * scale_c
    assert abs((debt0.sum() - m["debt"].sum()) - (repaid + bad)) <= 1e-9 * scale_d
    assert np.all(m["coll"] >= 0) and np.all(m["debt"] >= 0)
    assert led[KF.L_LEFT_ASSET] >= -1e-12 * max(1.0, led[KF.L_LOAN] + seized)  # the buy-back covers what is owed
    # the venue's side: flows of the attacker's trades; for a pool also its reserves
    asset_in = led[KF.L_LOAN] + led[KF.L_SELL_ASSET] - led[KF.L_BUY_ASSET]
    quote_out = led[KF.L_PUSH_QUOTE] + led[KF.L_SELL_QUOTE] - led[KF.L_BUY_QUOTE]
    if int(vs0[0, 0]) == VENUE_CPMM:
        sx = max(1.0, vs0[0, X] + led[KF.L_LOAN])
        sy = max(1.0, vs0[0, Y])
        assert abs((m["vs"][0, X] - vs0[0, X]) - asset_in) <= 1e-9 * sx
        assert abs((vs0[0, Y] - m["vs"][0, Y]) - quote_out) <= 1e-9 * sy
        d_venue = (m["vs"][0, X] - vs0[0, X]) * P + (m["vs"][0, Y] - vs0[0, Y])
    else:
        d_venue = asset_in * P - quote_out
    d_borrowers = (m["coll"].sum() - coll0.sum()) * P + (debt0.sum() - m["debt"].sum()) * pd
    d_protocol = fee * P - bad * pd
    lenders = led[KF.L_FEE_ASSET] * P + led[KF.L_FEE_QUOTE]
    pnl_P = led[KF.L_PNL] - led[KF.L_LEFT_ASSET] * led[KF.L_SPOT_END] + led[KF.L_LEFT_ASSET] * P
    total = pnl_P + d_borrowers + d_protocol + d_venue + lenders + led[KF.L_GAS]
    scale = max(1.0, (led[KF.L_LOAN] + seized) * P + led[KF.L_PUSH_QUOTE] + led[KF.L_BUY_QUOTE] + (repaid + bad) * pd)
    assert abs(total) <= 1e-9 * scale, (total, scale)
