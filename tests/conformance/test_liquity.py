"""Liquity v1 conformance (protocol-mechanics.md §4): recovery-mode table rows (§4.4), normal
mode (§4.3), Stability Pool pro rata (§4.5), redistribution and its cascade (§4.6), the sequence
order and mode switch, the 2021/2025 variants, the unit step contract, and the compiled kernel
against its plain-Python twin. Every test checks conservation of collateral and debt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from liqcascade.errors import InputError
from liqcascade.protocols.liquity import kernel as K
from liqcascade.venues import kernel as V_layout
from liqcascade.protocols.liquity.twin import LiquityPy
from liqcascade.protocols.kernel import (
    ACC_BONUS,
    ACC_GAS,
    ACC_LIQ_VALUE,
    ACC_NLIQ,
    ACC_REPAID,
    LQ_GAS,
    LQ_MAX,
    LQ_MODE,
    NACC,
    NLIQ,
)
from liqcascade.protocols.liquity import model as L_model
from liqcascade.protocols.liquity import pack as L

P = 1000.0  # ETH price in every hand-computed case
TOL = 1e-9


def cfg(**kw):
    kw.setdefault("check_min_debt", False)
    return L_model.LiquityConfig(**kw)


def make(coll, debt, sp, **kw):
    return L.build_pack(cfg(**kw), coll, debt, sp)


def cpmm(x, y, fee=0.0):
    vs = np.zeros((1, V_layout.NCOL))
    vs[0, V_layout.KIND] = V_layout.VENUE_CPMM
    vs[0, V_layout.X] = x
    vs[0, V_layout.Y] = y
    vs[0, V_layout.FEE] = fee
    return vs, np.zeros((1, 1)), np.zeros((1, 1)), np.array([0, 1], np.int64), np.array([0], np.int64)


NO_VENUE = (np.zeros((0, V_layout.NCOL)), np.zeros((0, 1)), np.zeros((0, 1)),
            np.array([0, 0], np.int64), np.zeros(0, np.int64))


def step(pack, price, *, nmax=0, mode=0, gas=0.0, venue=NO_VENUE, sold0=0.0, t=1, cap=64):
    """One unit step; returns (events as list of dicts, sold[0], acc)."""
    vs, vdk, vdq, av_ptr, av_idx = venue
    liq = np.zeros(NLIQ)
    liq[LQ_MODE] = mode
    liq[LQ_GAS] = gas
    liq[LQ_MAX] = nmax
    sold = np.array([sold0])
    acc = np.zeros(NACC)
    ev = [np.zeros(cap, np.int64) for _ in range(4)] + [np.zeros(cap) for _ in range(7)]
    n = K.liquity_step(pack, t, 60.0, np.array([price]), vs, vdk, vdq, av_ptr, av_idx, sold, acc,
                       liq, *ev, 0, 7, 100)
    names = ["step", "pos", "proto", "asset", "seized", "repaid", "price", "exec", "bonus", "bad", "fee"]
    events = [{k: ev[j][i] for j, k in enumerate(names)} for i in range(n)]
    return events, sold[0] - sold0, acc


def conserved(pack):
    """Collateral: troves + default pool + SP (held + sold) + surplus pool + gas comp; debt:
    troves + default pool (redistributed, pending) + SP loss; GasPool + paid = 200 · N."""
    tt = L.totals(pack)
    c0, d0 = tt["coll_initial"], tt["debt_initial"]
    assert tt["coll_total"] == pytest.approx(c0, rel=TOL, abs=TOL)
    assert tt["debt_total"] == pytest.approx(d0, rel=TOL, abs=TOL)
    assert tt["coll_troves"] + tt["coll_default_pool"] == pytest.approx(tt["coll_troves_entire"], rel=TOL, abs=TOL * c0)
    assert tt["debt_troves"] + tt["debt_default_pool"] == pytest.approx(tt["debt_troves_entire"], rel=TOL, abs=TOL * d0)
    assert tt["sp_loss"] == pytest.approx(tt["debt_offset"], rel=TOL, abs=TOL * max(1.0, tt["sp_initial"]))
    assert tt["sp_lusd"] + tt["debt_offset"] == pytest.approx(tt["sp_initial"], rel=TOL, abs=TOL * max(1.0, tt["sp_initial"]))
    assert tt["coll_sp_held"] + tt["coll_sp_sold"] == pytest.approx(tt["coll_sp_received"], rel=TOL, abs=TOL * c0)
    assert tt["gas_pool"] + tt["gas_comp_lusd"] == pytest.approx(tt["gas_reserve_initial"], rel=TOL)
    assert tt["n_active"] + tt["n_liquidated"] == len(pack[K.PK_COLL])
    return tt


def liquidated(pack):
    return [int(i) for i in np.flatnonzero(pack[K.PK_STATUS] == K.ST_LIQUIDATED)]


# --- constants and ratios -----------------------------------------------------------------


def test_presets_are_v1_constants():
    for name in ("v1-mainnet", "v1-2025"):
        c = L_model.PRESETS[name]
        assert (c.mcr, c.ccr, c.gas_compensation, c.min_net_debt, c.percent_divisor) == (1.10, 1.50, 200.0, 1800.0, 200.0)
        assert c.min_lusd_in_sp == 1.0
    assert L_model.PRESETS["v1-mainnet"].variant == "2021"
    assert L_model.PRESETS["v1-2025"].variant == "2025"
    d = L_model.describe()
    assert d["family"] == "liquity" and "§4" in d["reference"]


def test_config_and_build_validation():
    with pytest.raises(ValidationError):
        L_model.LiquityConfig(unknown=1)
    with pytest.raises(ValidationError):
        L_model.LiquityConfig(mcr=1.6, ccr=1.5)
    with pytest.raises(ValidationError):
        L_model.LiquityConfig(stability_pool=1.0, depositors=[1.0])
    with pytest.raises(ValidationError):
        L_model.LiquityConfig(variant="2023")
    with pytest.raises(InputError, match="MIN_NET_DEBT"):
        L.build_pack(L_model.PRESETS["v1-mainnet"], [10.0], [1500.0], 0.0)
    with pytest.raises(InputError, match="gas compensation"):
        L.build_pack(cfg(), [10.0], [150.0], 0.0)
    pack = L.build_pack(L_model.PRESETS["v1-mainnet"], [10.0, 5.0], [2000.0, 3000.0], [10.0, 20.0])
    assert len(pack) == K.NPACK
    assert pack[K.PK_STAKE].tolist() == [10.0, 5.0]
    assert pack[K.PK_SYS][K.S_GAS_POOL] == 400.0
    conserved(pack)


def test_icr_tcr_and_recovery_flag():
    pack = make([10.0, 20.0], [8000.0, 10000.0], 0.0)
    np.testing.assert_allclose(L.icr(pack, P), [1.25, 2.0])
    assert L.tcr(pack, P) == pytest.approx(30000.0 / 18000.0)
    assert not L.tcr(pack, P) < 1.5
    assert L.tcr(pack, 850.0) < 1.5  # 25500 / 18000 = 1.4167: recovery mode
    assert K.compute_cr(1.0, 0.0, P) == math.inf


# --- normal mode (§4.3) --------------------------------------------------------------------


def test_normal_mode_full_offset():
    # trove 0: ICR 1.05 < MCR; system TCR = 60000/40000 = 1.5 (not < CCR: normal mode)
    pack = make([10.5, 49.5], [10000.0, 30000.0], 20000.0)
    assert L.tcr(pack, P) == pytest.approx(1.5)
    ev, sold, acc = step(pack, P)
    assert liquidated(pack) == [0]
    gc = 10.5 / 200
    tt = conserved(pack)
    assert tt["coll_gas_comp"] == pytest.approx(gc)
    assert tt["gas_comp_lusd"] == 200.0
    assert tt["debt_offset"] == pytest.approx(10000.0)
    assert tt["coll_sp_held"] == pytest.approx(10.5 - gc)
    assert tt["sp_lusd"] == pytest.approx(10000.0)
    assert tt["redistributed_debt"] == 0.0 and tt["debt_default_pool"] == 0.0
    assert sold == pytest.approx(gc)  # the liquidator sells its collateral gas compensation
    (e,) = ev
    assert (e["step"], e["pos"], e["proto"], e["asset"]) == (1, 100, 7, 0)
    assert e["seized"] == pytest.approx(10.5) and e["repaid"] == pytest.approx(10000.0)
    assert e["bonus"] == pytest.approx(10.5 * P - 10000.0 + 200.0)
    assert math.isnan(e["exec"]) and e["bad"] == 0.0 and e["fee"] == 0.0
    assert acc[ACC_NLIQ] == 1.0 and acc[ACC_REPAID] == pytest.approx(10000.0)
    assert acc[ACC_LIQ_VALUE] == pytest.approx(10500.0) and acc[ACC_BONUS] == pytest.approx(e["bonus"])


def test_normal_mode_partial_offset_then_redistribution():
    # SP 4000 < debt 10000: offset 40 %, the rest goes to troves 1 and 2 by stake (20 : 30)
    pack = make([10.5, 20.0, 30.0], [10000.0, 10000.0, 10000.0], 4000.0)
    ev, sold, _ = step(pack, P)
    assert liquidated(pack) == [0]
    gc = 10.5 / 200
    net = 10.5 - gc
    tt = conserved(pack)
    assert tt["debt_offset"] == pytest.approx(4000.0)
    assert tt["coll_sp_held"] == pytest.approx(net * 0.4)
    assert tt["sp_lusd"] == 0.0  # 2021: pool emptied
    assert tt["redistributed_debt"] == pytest.approx(6000.0)
    assert tt["redistributed_coll"] == pytest.approx(net * 0.6)
    assert tt["L_ETH"] == pytest.approx(net * 0.6 / 50.0)
    assert tt["L_LUSDDebt"] == pytest.approx(6000.0 / 50.0)
    ec, ed = L.entire(pack)
    np.testing.assert_allclose(ed, [0.0, 10000.0 + 6000.0 * 0.4, 10000.0 + 6000.0 * 0.6])
    np.testing.assert_allclose(ec, [0.0, 20.0 + net * 0.6 * 0.4, 30.0 + net * 0.6 * 0.6])
    # pending rewards are not applied to the recorded amounts (lazy, as in Liquity)
    np.testing.assert_allclose(pack[K.PK_DEBT], [0.0, 10000.0, 10000.0])


def test_normal_mode_empty_pool_redistributes_everything():
    pack = make([10.5, 20.0, 30.0], [10000.0, 10000.0, 10000.0], 0.0)
    step(pack, P)
    tt = conserved(pack)
    assert tt["debt_offset"] == 0.0
    assert tt["redistributed_debt"] == pytest.approx(10000.0)
    assert tt["redistributed_coll"] == pytest.approx(10.5 * (1 - 1 / 200))


def test_stability_pool_losses_and_gains_pro_rata():
    # trove 0 at ICR 1.0 in normal mode: 5000 LUSD offset against three deposits
    pack = make([5.0, 100.0], [5000.0, 10000.0], [1000.0, 3000.0, 6000.0])
    step(pack, P)
    net = 5.0 * (1 - 1 / 200)
    np.testing.assert_allclose(pack[K.PK_DEP], [500.0, 1500.0, 3000.0])
    np.testing.assert_allclose(pack[K.PK_DEP_COLL], [0.1 * net, 0.3 * net, 0.6 * net])
    np.testing.assert_allclose(pack[K.PK_DEP_SOLD], 0.0)
    tt = conserved(pack)
    assert tt["sp_loss"] == pytest.approx(5000.0)


def test_sp_sells_fraction_goes_to_sold():
    pack = make([5.0, 100.0], [5000.0, 10000.0], [2500.0, 7500.0], sp_sells=0.25)
    _, sold, _ = step(pack, P)
    net = 5.0 * (1 - 1 / 200)
    np.testing.assert_allclose(pack[K.PK_DEP_SOLD], [0.25 * 0.25 * net, 0.75 * 0.25 * net])
    np.testing.assert_allclose(pack[K.PK_DEP_COLL], [0.25 * 0.75 * net, 0.75 * 0.75 * net])
    assert sold == pytest.approx(0.25 * net + 5.0 / 200)
    conserved(pack)


# --- recovery mode (§4.4): one test per table row ------------------------------------------

# three troves at P: A (the one examined), B = 10 ETH / 9000 (ICR 1.111), C = 20 ETH / 15000
# (ICR 1.333, the head). LQ_MAX = 1 isolates A.


def test_recovery_icr_at_most_100pct_redistributes_without_pool():
    pack = make([9.0, 10.0, 20.0], [10000.0, 9000.0, 15000.0], 50000.0)
    assert L.tcr(pack, P) < 1.5
    ev, sold, _ = step(pack, P, nmax=1)
    assert liquidated(pack) == [0]
    gc = 9.0 / 200
    tt = conserved(pack)
    assert tt["sp_lusd"] == 50000.0 and tt["debt_offset"] == 0.0  # pool not used
    assert tt["redistributed_debt"] == pytest.approx(10000.0)
    assert tt["redistributed_coll"] == pytest.approx(9.0 - gc)
    assert tt["L_LUSDDebt"] == pytest.approx(10000.0 / 30.0)
    assert sold == pytest.approx(gc)
    assert ev[0]["repaid"] == 0.0


def test_recovery_100_to_110pct_offsets_then_redistributes():
    pack = make([10.5, 10.0, 20.0], [10000.0, 9000.0, 15000.0], 4000.0)
    assert L.tcr(pack, P) < 1.5
    step(pack, P, nmax=1)
    assert liquidated(pack) == [0]
    net = 10.5 * (1 - 1 / 200)
    tt = conserved(pack)
    assert tt["debt_offset"] == pytest.approx(4000.0)
    assert tt["coll_sp_held"] == pytest.approx(net * 0.4)
    assert tt["redistributed_debt"] == pytest.approx(6000.0)
    assert tt["redistributed_coll"] == pytest.approx(net * 0.6)
    assert tt["coll_surplus_pool"] == 0.0


def test_recovery_mcr_to_tcr_with_enough_pool_is_capped_offset():
    # A: ICR 1.2; TCR = 45000/35000 = 1.2857; SP 30000 >= debt
    pack = make([12.0, 13.0, 20.0], [10000.0, 10000.0, 15000.0], 30000.0)
    ev, sold, _ = step(pack, P, nmax=1)
    assert liquidated(pack) == [0]
    capped = 10000.0 * 1.1 / P
    gc = capped / 200
    tt = conserved(pack)
    assert tt["debt_offset"] == pytest.approx(10000.0)
    assert tt["coll_sp_held"] == pytest.approx(capped - gc)
    assert tt["coll_gas_comp"] == pytest.approx(gc)
    assert tt["coll_surplus_pool"] == pytest.approx(12.0 - capped)
    assert pack[K.PK_SURPLUS][0] == pytest.approx(1.0)  # claimable by the borrower
    assert tt["redistributed_debt"] == 0.0
    assert sold == pytest.approx(gc)
    assert ev[0]["seized"] == pytest.approx(capped)


def test_recovery_mcr_to_tcr_with_too_small_pool_is_not_liquidated():
    pack = make([12.0, 13.0, 20.0], [10000.0, 10000.0, 15000.0], 9999.0)
    ev, sold, acc = step(pack, P)
    assert liquidated(pack) == [] and ev == [] and sold == 0.0 and acc[ACC_NLIQ] == 0.0
    conserved(pack)


def test_recovery_icr_above_tcr_is_not_liquidated():
    # L: ICR 1.2 but debt 50000 > SP; M: ICR 1.3 >= TCR = 87000/70000 = 1.243; H: head
    pack = make([60.0, 13.0, 14.0], [50000.0, 10000.0, 10000.0], 20000.0)
    assert 1.2 < L.tcr(pack, P) < 1.3
    ev, _, _ = step(pack, P)
    assert liquidated(pack) == [] and ev == []
    conserved(pack)


def test_last_trove_is_never_liquidated():
    # A: ICR 0.9 redistributed onto B (ICR 1.05); B is the head: never liquidated
    pack = make([9.0, 10.5], [10000.0, 10000.0], 50000.0)
    step(pack, P)
    assert liquidated(pack) == [0]
    for _ in range(3):
        ev, _, _ = step(pack, P / 2)
        assert ev == []
    assert L.totals(pack)["n_active"] == 1
    conserved(pack)
    single = make([5.0], [10000.0], 50000.0)
    assert step(single, P)[0] == []
    conserved(single)


def test_mode_switch_mid_sequence():
    # A: ICR 1.053 (offset); B: ICR 1.25; C: head. TCR0 = 41000/29500 = 1.39 (recovery).
    # After A: (41 − 10)·1000 / 20000 = 1.55 ≥ CCR: normal rules, B (ICR ≥ MCR) stops the loop.
    pack = make([10.0, 10.0, 21.0], [9500.0, 8000.0, 12000.0], 20000.0)
    assert L.tcr(pack, P) < 1.5
    step(pack, P)
    assert liquidated(pack) == [0]
    conserved(pack)
    # the same book with C at 19 ETH stays in recovery after A (29000/20000 = 1.45): B is
    # under TCR with debt ≤ the pool left (10500) and goes at the capped rate
    pack = make([10.0, 10.0, 19.0], [9500.0, 8000.0, 12000.0], 20000.0)
    step(pack, P)
    assert liquidated(pack) == [0, 1]
    tt = conserved(pack)
    assert tt["coll_surplus_pool"] == pytest.approx(10.0 - 8.8)
    assert tt["debt_offset"] == pytest.approx(17500.0)


def test_tcr_recomputed_after_each_trove():
    # A: ICR 1.2, B: ICR 1.3, C: ICR 1.333 (head). TCR0 = 45/35 = 1.2857 < B's ICR, but after
    # A's capped offset TCR = 33/25 = 1.32 > 1.3, so B goes too.
    pack = make([12.0, 13.0, 20.0], [10000.0, 10000.0, 15000.0], 30000.0)
    assert L.icr(pack, P)[1] > L.tcr(pack, P)
    ev, _, _ = step(pack, P)
    assert liquidated(pack) == [0, 1]
    assert [e["pos"] - 100 for e in ev] == [0, 1]
    tt = conserved(pack)
    assert tt["coll_surplus_pool"] == pytest.approx(1.0 + 2.0)


def test_recovery_stops_when_pool_empty_and_icr_at_least_mcr():
    # SP empty: A (ICR 1.05) is redistributed, then B (ICR 1.2 ≥ MCR) stops the loop
    pack = make([10.5, 12.0, 20.0], [10000.0, 10000.0, 15000.0], 0.0)
    assert L.tcr(pack, P) < 1.5
    step(pack, P)
    assert liquidated(pack) == [0]
    conserved(pack)


# --- sequence order, limits, redistribution cascade ----------------------------------------


def test_icr_order_and_per_call_limit():
    # ICRs at P: 1.08, 1.02, 1.06, 1.04, 3.0 (healthy head); normal mode (TCR ≥ 1.5)
    coll = [10.8, 10.2, 10.6, 10.4, 150.0]
    debt = [10000.0] * 4 + [50000.0]
    pack = make(coll, debt, 100000.0)
    assert L.tcr(pack, P) >= 1.5
    ev, _, acc = step(pack, P, nmax=2)
    assert [e["pos"] - 100 for e in ev] == [1, 3]
    assert acc[ACC_NLIQ] == 2.0
    ev, _, _ = step(pack, P, nmax=0)
    assert [e["pos"] - 100 for e in ev] == [2, 0]
    conserved(pack)


def test_redistribution_cascade_second_liquidation():
    # empty pool, normal mode. A (ICR 0.95) is redistributed onto B (ICR 1.111) and C (ICR 5):
    # B gets debt 95.69 per ETH of stake but only 0.0905 ETH: its ICR falls under 110 %
    book = ([10.0, 10.0, 100.0], [1000.0 * 10.0 / 0.95, 9000.0, 20000.0])
    pack = make(*book, 0.0)
    icr0 = L.icr(pack, P)
    step(pack, P)
    assert liquidated(pack) == [0]
    icr1 = L.icr(pack, P)
    assert icr1[1] < 1.1 <= icr0[1]  # redistribution lowered B's ICR below MCR
    assert icr1[2] < icr0[2]
    ec, ed = L.entire(pack)
    assert ed[1] - 9000.0 == pytest.approx(10000.0 / 0.95 * 10.0 / 110.0)
    conserved(pack)
    ev, _, _ = step(pack, P, t=2)  # the next call liquidates B
    assert [e["pos"] - 100 for e in ev] == [1]
    conserved(pack)
    # with two liquidateTroves calls per step both go in one step
    pack = make(*book, 0.0, sequences_per_step=2)
    ev, _, _ = step(pack, P)
    assert [e["pos"] - 100 for e in ev] == [0, 1]
    conserved(pack)


def test_2021_vs_2025_pool_floor():
    book = ([6.3, 100.0], [6000.0, 10000.0])  # ICR 1.05 and 10
    p21 = make(*book, 5000.0)
    step(p21, P)
    t21 = conserved(p21)
    assert t21["debt_offset"] == pytest.approx(5000.0) and t21["sp_lusd"] == 0.0
    assert t21["redistributed_debt"] == pytest.approx(1000.0)
    p25 = make(*book, 5000.0, variant="2025")
    step(p25, P)
    t25 = conserved(p25)
    assert t25["debt_offset"] == pytest.approx(4999.0) and t25["sp_lusd"] == pytest.approx(1.0)
    assert t25["redistributed_debt"] == pytest.approx(1001.0)
    # capped case needs debt ≤ LUSD usable: exactly the pool (2021) but not pool − 1 (2025)
    cap = ([12.0, 13.0, 20.0], [10000.0, 10000.0, 15000.0])
    p21 = make(*cap, 10000.0)
    step(p21, P, nmax=1)
    assert liquidated(p21) == [0]
    conserved(p21)
    p25 = make(*cap, 10000.0, variant="2025")
    step(p25, P, nmax=1)
    assert liquidated(p25) == []
    conserved(p25)


def test_rational_liquidator_weighs_gas_compensation():
    # trove 0 (ICR 1.05): 0.0525 ETH + 200 LUSD of compensation
    book = ([10.5, 49.5], [10000.0, 30000.0])
    pack = make(*book, 20000.0)
    assert step(pack, P, mode=1, gas=260.0)[0] == []  # 52.5 + 200 < 260
    assert step(pack, P, mode=1, gas=250.0)[0] != []
    conserved(pack)
    # with a venue: a shallow pool pays far less than 52.5 for the 0.0525 ETH
    deep = cpmm(1e6, 1e9)
    shallow = cpmm(0.01, 10.0)
    pack = make(*book, 20000.0)
    assert step(pack, P, mode=1, gas=240.0, venue=shallow)[0] == []
    ev, _, acc = step(pack, P, mode=1, gas=240.0, venue=deep)
    assert len(ev) == 1 and acc[ACC_GAS] == 240.0
    conserved(pack)


def test_price_nan_or_zero_does_nothing():
    pack = make([10.5, 49.5], [10000.0, 30000.0], 20000.0)
    assert step(pack, float("nan"))[0] == []
    assert step(pack, 0.0)[0] == []
    conserved(pack)


def test_run_unit_routes_sales_and_fills_exec():
    vs, vdk, vdq, av_ptr, av_idx = cpmm(1000.0, 1000.0 * P)
    cfgm = cfg(stability_pool=30000.0, sp_sells=0.5)
    rng = np.random.default_rng(1)
    coll = rng.uniform(5, 20, 30)
    debt = coll * P / rng.uniform(1.1, 2.0, 30)
    pack = L.build_pack(cfgm, coll, debt)
    path = np.linspace(P, 0.7 * P, 11)[:, None]
    liq = np.zeros(NLIQ)
    r = L.run_unit(pack, path, vs, vdk, vdq, av_ptr, av_idx, liq, 60.0)
    assert r["n_ev"] > 0
    ev = r["events"]
    assert np.all(np.isfinite(ev["exec"])) and np.all((ev["exec"] > 0) & (ev["exec"] <= P))
    assert vs[0, V_layout.X] == pytest.approx(1000.0 + r["sold"].sum())
    assert r["acc"][ACC_NLIQ] == r["n_ev"] == L.totals(pack)["n_liquidated"]
    tt = conserved(pack)
    assert r["sold"].sum() == pytest.approx(tt["coll_gas_comp"] + tt["coll_sp_sold"])
    assert np.all(np.diff(r["n_active"]) <= 0)


# --- kernel vs plain-Python twin -----------------------------------------------------------


@st.composite
def books(draw):
    n = draw(st.integers(2, 9))
    coll = draw(st.lists(st.floats(1.0, 50.0), min_size=n, max_size=n))
    icr = draw(st.lists(st.floats(0.8, 2.6), min_size=n, max_size=n))
    debt = [c * P / r for c, r in zip(coll, icr)]
    k = draw(st.integers(1, 3))
    deps = draw(st.lists(st.sampled_from([0.0, 500.0, 3000.0, 12000.0, 40000.0]), min_size=k, max_size=k))
    prices = draw(st.lists(st.floats(700.0, 1150.0), min_size=1, max_size=4))
    opts = {
        "variant": draw(st.sampled_from(["2021", "2025"])),
        "sp_sells": draw(st.sampled_from([0.0, 0.3])),
        "sequences_per_step": draw(st.sampled_from([1, 2])),
    }
    nmax = draw(st.sampled_from([0, 1, 3]))
    rational = draw(st.booleans())
    gas = draw(st.sampled_from([0.0, 150.0, 215.0, 400.0]))
    batch = draw(st.sampled_from([None, (300.0, 120.0), (2000.0, 5.0)]))
    return coll, debt, deps, prices, opts, nmax, rational, gas, batch


@settings(deadline=None, max_examples=40)
@given(books())
def test_kernel_matches_twin(case):
    coll, debt, deps, prices, opts, nmax, rational, gas, batch = case
    bkw = {} if batch is None else {"batch_gas_base": batch[0], "batch_gas_per_trove": batch[1]}
    pack = L.build_pack(cfg(**opts, **bkw), coll, debt, deps)
    twin = LiquityPy(coll, debt, deps, variant=opts["variant"], sp_sells=opts["sp_sells"],
                     sequences_per_step=opts["sequences_per_step"], batch_gas=batch)
    k_events = []
    for t, p in enumerate(prices, start=1):
        ev, sold_k, _ = step(pack, p, nmax=nmax, mode=int(rational), gas=gas, t=t)
        k_events += ev
        sold_t = twin.step(p, nmax, rational=rational, gas_cost=gas, t=t)
        assert sold_k == pytest.approx(sold_t, rel=TOL, abs=1e-12)
        conserved(pack)
    assert [e["pos"] - 100 for e in k_events] == [e.trove for e in twin.events]
    for a, b in zip(k_events, twin.events):
        assert a["seized"] == pytest.approx(b.seized, rel=TOL)
        assert a["repaid"] == pytest.approx(b.repaid, rel=TOL, abs=1e-9)
        assert a["bonus"] == pytest.approx(b.bonus, rel=TOL, abs=1e-6)
    tk = L.totals(pack)
    tp = twin.totals()
    for key, val in tp.items():
        assert tk[key] == pytest.approx(val, rel=TOL, abs=1e-9 * max(1.0, abs(tk[key]))), key
    ec, ed = L.entire(pack)
    for i, tr in enumerate(twin.troves):
        if tr.status == "active":
            c, d = twin.entire(tr)
            assert ec[i] == pytest.approx(c, rel=TOL) and ed[i] == pytest.approx(d, rel=TOL)
    np.testing.assert_allclose(pack[K.PK_DEP], [d.deposit for d in twin.depositors], rtol=TOL, atol=1e-9)
    np.testing.assert_allclose(pack[K.PK_DEP_COLL], [d.eth_held for d in twin.depositors], rtol=TOL, atol=1e-12)
    np.testing.assert_allclose(pack[K.PK_SURPLUS], [tr.surplus for tr in twin.troves], rtol=TOL, atol=1e-12)


def test_rational_keeper_leaves_out_a_small_trove_and_takes_the_larger_one():
    # normal mode (TCR ≈ 8.5). Trove 0 (ICR 1.02, small): compensation 200 LUSD + 0.5 % of
    # 0.3 ETH = 201.5 < gas 260; trove 1 (ICR 1.05, large): 200 + 0.5 % of 105 ETH · P = 725
    # > 260; trove 2 is the head. Stopping at trove 0 would save trove 1 from liquidation.
    book = ([0.3, 105.0, 1000.0], [0.3 * P / 1.02, 105.0 * P / 1.05, 30000.0])
    pack = make(*book, 1e7)
    ev, _, _ = step(pack, P, mode=1, gas=260.0)
    assert liquidated(pack) == [1]
    conserved(pack)


def test_batch_rule_per_trove_gas_and_the_fixed_part():
    # normal mode, two small troves (compensation 200 LUSD + 0.5 % of 0.3 ETH = 201.5 each):
    # one whole call per trove at 260 leaves both out; the batch rule (per trove 120) takes both
    # when the batch pays its fixed part (403 - 2·120 = 163 > 150) and sends nothing when it
    # does not (fixed part 200).
    book = ([0.3, 0.3, 1000.0], [0.3 * P / 1.02, 0.3 * P / 1.03, 30000.0])
    pack = make(*book, 1e7)
    step(pack, P, mode=1, gas=260.0)
    assert liquidated(pack) == []
    pack = make(*book, 1e7, batch_gas_base=150.0, batch_gas_per_trove=120.0)
    _, _, acc = step(pack, P, mode=1, gas=260.0)
    assert liquidated(pack) == [0, 1]
    assert acc[ACC_GAS] == pytest.approx(150.0 + 2 * 120.0)
    conserved(pack)
    pack = make(*book, 1e7, batch_gas_base=200.0, batch_gas_per_trove=120.0)
    before = [a.copy() for a in pack]
    ev, sold, acc = step(pack, P, mode=1, gas=260.0)
    assert liquidated(pack) == [] and ev == [] and sold == 0.0 and acc[ACC_GAS] == 0.0
    assert L.totals(pack)["batches_not_sent"] == 1
    for a, b in zip(before[2:], pack[2:]):
        np.testing.assert_array_equal(a, b)
    conserved(pack)
    with pytest.raises(ValidationError):
        cfg(batch_gas_base=1.0)


def test_recovery_mode_record():
    # TCR = (10 + 10) · P / (5,000 + 9,000) = 1.43 at P: recovery mode; at 2P it is 2.86
    pack = make([10.0, 10.0], [5000.0, 9000.0], 0.0)
    step(pack, 2 * P)
    step(pack, P)
    step(pack, P)
    step(pack, 2 * P)
    step(pack, P)
    t = L.totals(pack)
    assert t["recovery_mode_steps"] == 3 and t["recovery_mode_entries"] == 2
    assert t["tcr_min"] == pytest.approx(20 * P / 14000.0)
