"""Conformance: ``lc.protocols.liquity`` against liquity/dev's own tests at the 2021 mainnet-era
commit ``b9dcdbd3`` (``packages/contracts/test/``):

* ``StabilityPool_SPWithdrawalTest.js`` (``SPW:<line>``),
* ``TroveManager_RecoveryModeTest.js`` (``RM:<line>``),
* ``TroveManager_LiquidationRewardsTest.js`` (``LR:<line>``),
* ``BorrowerOperationsTest.js`` (``BO:<line>``),
* the helpers of ``packages/contracts/utils/testHelpers.js`` (``openTrove`` L665-705:
  ``lusdAmount = MIN_NET_DEBT / (1 + fee) + extraLUSDAmount``, collateral ``ICR · totalDebt /
  price``; ``getOpenTroveLUSDAmount(totalDebt)``), and the test deployment's price 200.

Every test also checks conservation: collateral (active + default pools + Stability Pool +
surplus + gas compensation paid + depositors' withdrawn gains) and debt.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import liqcascade as lc

L = lc.protocols.liquity
FEE = 0.005  # BORROWING_FEE_FLOOR with baseRate 0


def lusd_for_total(total_debt):
    """``getOpenTroveLUSDAmount``: the LUSD to draw for a trove whose total debt is ``total_debt``."""
    return (total_debt - 200.0) / (1 + FEE)


class Book:
    """A system plus what left it, for the conservation checks."""

    def __init__(self, price=200.0, **kw):
        self.s = L.System(price, **kw)
        self.coll_in = 0.0
        self.gains_out = 0.0
        self.coll_gas = 0.0

    def open(self, owner, *, icr=1.5, extra=0.0, coll=None, lusd=None):
        if lusd is None:
            lusd = 1800.0 / (1 + FEE) + 1e-18 + extra
        total = lusd * (1 + FEE) + 200.0
        if coll is None:
            coll = icr * total / self.s.price
        L.open_trove(self.s, owner, coll, lusd)
        self.coll_in += coll
        return coll, total

    def liquidate(self, *owners):
        r = L.batch_liquidate(self.s, owners) if len(owners) > 1 else L.liquidate(self.s, owners[0])
        self.coll_gas += r.coll_gas_compensation
        self.check()
        return r

    def withdraw(self, who, amount=math.inf):
        lusd, gain = L.withdraw(self.s, who, amount)
        self.gains_out += gain
        self.check()
        return lusd, gain

    def check(self):
        s = self.s
        held = s.active_coll + s.default_coll + s.sp_eth + sum(s.coll_surplus.values())
        assert held + self.coll_gas + self.gains_out == pytest.approx(self.coll_in, rel=1e-12)
        troves = sum(s.entire(o)[0] for o in s.active_troves())
        assert troves == pytest.approx(s.active_coll + s.default_coll, rel=1e-12)
        debts = sum(s.entire(o)[1] for o in s.active_troves())
        assert debts == pytest.approx(s.active_debt + s.default_debt, rel=1e-12)
        deposits = sum(s.deposit_of(d) for d in s.deposits)
        assert deposits == pytest.approx(s.sp_deposits, rel=1e-9, abs=1e-9)
        gains = sum(s.eth_gain_of(d) for d in s.deposits)
        assert gains == pytest.approx(s.sp_eth, rel=1e-9, abs=1e-9)


# --- BorrowerOperations.openTrove ---------------------------------------------------------------


def test_open_trove_fee_gas_compensation_and_reverts():
    b = Book()
    s = b.s
    t = L.open_trove(s, "alice", 30.0, 1_000.0 + 1_800.0)
    assert t.debt == pytest.approx(2_800 * 1.005 + 200)  # composite debt: amount + fee + gas reserve
    assert s.fees_paid == pytest.approx(2_800 * 0.005) and s.gas_pool == 200.0
    assert t.stake == 30.0  # first trove: stake = coll
    with pytest.raises(L.TroveIsActive):
        L.open_trove(s, "alice", 30.0, 2_000.0)
    with pytest.raises(L.NetDebtBelowMinimum) as e:  # BO: net debt (amount + fee) >= 1,800
        L.open_trove(s, "bob", 100.0, 1_790.0)
    assert e.value.revert == "BorrowerOps: Trove's net debt must be greater than minimum"
    assert L.open_trove(s, "bob", 100.0, 1_800 / 1.005 + 1e-9).debt == pytest.approx(2_000.0)
    with pytest.raises(L.ICRBelowMCR):  # 2,000 debt needs 11 ETH at 200
        L.open_trove(s, "carol", 10.9, 1_800 / 1.005 + 1e-9)
    with pytest.raises(L.TCRBelowCCR):  # ICR 117.5 % that would take TCR to 129 %
        L.open_trove(s, "dennis", 1_000.0, 170_000.0 / 1.005)
    s2 = L.System(200.0, base_rate=0.01)  # borrowing rate 1.5 %
    with pytest.raises(L.FeeExceededMaximum):
        L.open_trove(s2, "erin", 100.0, 2_000.0, max_fee=0.01)
    with pytest.raises(L.MaxFeeInvalid):
        L.open_trove(s2, "erin", 100.0, 2_000.0, max_fee=0.001)


def test_open_trove_in_recovery_mode_needs_ccr_and_pays_no_fee():
    b = Book()
    b.open("whale", icr=1.6, extra=10_000.0)
    b.s.price = 180.0  # TCR 144 %
    assert b.s.recovery_mode
    with pytest.raises(L.ICRBelowCCR):
        L.open_trove(b.s, "bob", 16.0, 2_000.0)  # 16 · 180 / 2,200 = 131 %
    L.open_trove(b.s, "alice", 20.0, 2_000.0)  # 20 · 180 / 2,200 = 164 %
    assert b.s.troves["alice"].debt == 2_200.0  # recovery mode: no borrowing fee


# --- Stability Pool (SPW) -----------------------------------------------------------------------


def _spw_setup(n_defaulters=1, deposits=(10_000.0, 10_000.0, 10_000.0), defaulter_debts=None):
    """Whale opens with 100k ETH and 100k total debt; A, B, C deposit; defaulters open at 200 %
    (100 ETH, 10k total debt) unless ``defaulter_debts`` says otherwise."""
    b = Book()
    L.open_trove(b.s, "whale", 100_000.0, lusd_for_total(100_000.0))
    b.coll_in += 100_000.0
    for who, amt in zip("ABCD", deposits):
        L.provide(b.s, who, amt)
    debts = defaulter_debts or [10_000.0] * n_defaulters
    for i, d in enumerate(debts):
        L.open_trove(b.s, f"d{i}", d / 100.0, lusd_for_total(d))  # ICR 200 % at 200
        b.coll_in += d / 100.0
    b.s.price = 100.0  # ICR 100 %
    return b


def test_sp_one_liquidation():
    # SPW:85: deposits 6,666.67 LUSD and ETH gain 33.1667 each
    b = _spw_setup()
    r = b.liquidate("d0")
    assert r.troves[0].kind == "offset" and r.coll_gas_compensation == pytest.approx(0.5)
    assert r.lusd_gas_compensation == 200.0
    for who in "ABC":
        lusd, gain = b.withdraw(who, 10_000.0)
        assert lusd == pytest.approx(6_666.666666666666666666, rel=1e-12)
        assert gain == pytest.approx(33.166666666666666667, rel=1e-12)


@pytest.mark.parametrize("n, deposit, gain", [
    (2, 3_333.333333333333333333, 66.333333333333333333),  # SPW:124 two identical liquidations
    (3, 0.0, 99.5),  # SPW:164 three: the pool is emptied
])
def test_sp_identical_liquidations(n, deposit, gain):
    b = _spw_setup(n)
    for i in range(n):
        b.liquidate(f"d{i}")
    for who in "ABC":
        lusd, g = (L.withdraw(b.s, who, 10_000.0) if deposit else (0.0, b.s.eth_gain_of(who)))
        assert lusd == pytest.approx(deposit, rel=1e-12, abs=1e-9)
        assert g == pytest.approx(gain, rel=1e-12)
    if not deposit:  # pool emptied: a new epoch, P back to 1
        assert b.s.epoch == 1 and b.s.P == 1.0 and b.s.scale == 0


def test_sp_varying_deposits_and_liquidations():
    # SPW:382: whale 1M ETH; deposits 2,000 / 456,000 / 13,100 LUSD; defaulters of 207,000 LUSD &
    # 2,160 ETH, 5,000 & 50, 46,700 & 500; price 100; all three liquidated, everyone withdraws
    b = Book()
    L.open_trove(b.s, "whale", 1_000_000.0, lusd_for_total(1_000_000.0))
    b.coll_in += 1_000_000.0
    for who, amt in zip("ABC", (2_000.0, 456_000.0, 13_100.0)):
        L.provide(b.s, who, amt)
    for i, (d, c) in enumerate(((207_000.0, 2_160.0), (5_000.0, 50.0), (46_700.0, 500.0))):
        L.open_trove(b.s, f"d{i}", c, lusd_for_total(d))
        b.coll_in += c
    b.s.price = 100.0
    for i in range(3):
        b.liquidate(f"d{i}")
    expected = {"A": (901.719380174061, 11.4474633835703665), "B": (205_592.018679686, 2_610.021651454043834),
                "C": (5_906.2619401401, 74.9808851623859129)}
    for who, (lusd, gain) in expected.items():
        got_lusd, got_gain = b.withdraw(who, 500_000.0)
        assert got_lusd == pytest.approx(lusd, rel=1e-11)  # the test allows 1e-8 LUSD
        assert got_gain == pytest.approx(gain, rel=1e-11)


def test_sp_deposit_between_liquidations():
    # SPW:439: A, B, C deposit 10,000; 2 liquidations (10k each); D deposits 10,000; 1 more.
    # A, B, C: 10k·(2/3)·(1 - 10k/30k)... D enters after the first two
    b = _spw_setup(3)
    b.liquidate("d0")
    b.liquidate("d1")
    L.provide(b.s, "D", 10_000.0)
    b.liquidate("d2")
    abc = 10_000.0 / 3 * (1 - 10_000.0 / (10_000.0 + 10_000.0))
    for who in "ABC":
        assert b.s.deposit_of(who) == pytest.approx(abc, rel=1e-12)
        assert b.s.eth_gain_of(who) == pytest.approx(2 * 33.166666666666666667 + 99.5 * (10_000 / 3) / 20_000, rel=1e-12)
    assert b.s.deposit_of("D") == pytest.approx(5_000.0, rel=1e-12)
    assert b.s.eth_gain_of("D") == pytest.approx(99.5 / 2, rel=1e-12)
    for who in "ABCD":
        b.withdraw(who)


def test_sp_scale_change():
    # SPW:1189: A deposits 10,000; a defaulter with 9,999.99991 LUSD total debt (100 ETH) is
    # liquidated: P = 9e-9 (9e9 in 1e18 units); A withdraws; B deposits 10,000; a defaulter of
    # 9,900 (60 ETH) is liquidated: P · 0.01 crosses 1e-9, scale 1; B gets 100 LUSD and 59.7 ETH
    b = Book()
    L.open_trove(b.s, "whale", 100_000.0, lusd_for_total(100_000.0))
    b.coll_in += 100_000.0
    L.provide(b.s, "A", 10_000.0)
    L.open_trove(b.s, "d1", 100.0, lusd_for_total(9_999.99991))
    L.open_trove(b.s, "d2", 60.0, lusd_for_total(9_900.0))
    b.coll_in += 160.0
    assert b.s.scale == 0
    b.s.price = 100.0
    b.liquidate("d1")
    assert b.s.P == pytest.approx(9e-9, rel=1e-6)
    b.s.price = 200.0  # "increasing the price for a moment to avoid pending liquidations to block withdrawal"
    lusd, gain = b.withdraw("A", 10_000.0)
    assert lusd == pytest.approx(0.00009, rel=1e-6) and gain == pytest.approx(99.5, rel=1e-12)
    b.s.price = 100.0
    L.provide(b.s, "B", 10_000.0)
    b.liquidate("d2")
    assert b.s.scale == 1
    lusd, gain = b.withdraw("B", 10_000.0)
    assert lusd == pytest.approx(100.0, rel=1e-9)
    assert gain == pytest.approx(59.7, rel=1e-12)


def test_sp_withdrawal_blocked_while_a_trove_is_under_mcr():
    b = _spw_setup()
    with pytest.raises(L.WithdrawalBlocked):
        L.withdraw(b.s, "A", 1.0)
    assert L.withdraw(b.s, "A", 0.0) == (0.0, 0.0)  # claiming gains only is allowed
    with pytest.raises(L.NoDeposit):
        L.withdraw(b.s, "nobody", 0.0)


# --- liquidations ---------------------------------------------------------------------------------


def test_redistribution_with_an_empty_pool():
    # LR:66: A (400 %), B (210 %) open at minimum debt; price 100; B liquidated and redistributed
    # to A; then C (400 %), D (210 %) open at 200; price 100; D liquidated, shared by A and C by stake
    b = Book()
    a_coll, _ = b.open("A", icr=4.0)
    b_coll, _ = b.open("B", icr=2.1)
    b.s.price = 100.0
    assert not b.s.recovery_mode
    r = b.liquidate("B")
    assert r.troves[0].debt_offset == 0.0 and r.troves[0].coll_redistributed == pytest.approx(b_coll * 0.995)
    b.s.price = 200.0
    c_coll, _ = b.open("C", icr=4.0)
    d_coll, _ = b.open("D", icr=2.1)
    b.s.price = 100.0
    b.liquidate("D")
    a_after_l1 = a_coll + b_coll * 0.995
    # expected entire collateral of A and C (LR:104-111)
    assert b.s.entire("A")[0] == pytest.approx(a_after_l1 + a_after_l1 * d_coll * 0.995 / (a_after_l1 + c_coll), rel=1e-12)
    assert b.s.entire("C")[0] == pytest.approx(c_coll + c_coll * d_coll * 0.995 / (a_after_l1 + c_coll), rel=1e-12)
    # C's stake is scaled by the snapshots: stake = coll · totalStakesSnapshot / totalCollateralSnapshot
    assert b.s.troves["C"].stake == pytest.approx(c_coll * a_coll / a_after_l1, rel=1e-12)
    assert b.s.active_coll + b.s.default_coll == pytest.approx(a_coll + c_coll + (b_coll + d_coll) * 0.995)


def _rm_setup(bob_icr):
    # RM:577: Bob 240 % (+250 LUSD), Alice 266 % (+Bob's total debt), Dennis 266 % (+2,000);
    # Alice deposits Bob's total debt + 1 wei; price 200 -> 100
    b = Book()
    b_coll, b_debt = b.open("bob", icr=bob_icr, extra=250.0)
    b.open("alice", icr=2.66, extra=b_debt)
    b.open("dennis", icr=2.66, extra=2_000.0)
    L.provide(b.s, "alice", b_debt + 1e-18)
    b.s.price = 100.0
    return b, b_coll, b_debt


def test_recovery_mode_capped_offset_and_surplus():
    # RM:577: 110 % < ICR(bob) = 120 % < TCR: the whole debt is offset, collateral capped at
    # 1.1 · debt / price, the rest claimable by Bob
    b, b_coll, b_debt = _rm_setup(2.40)
    assert b.s.recovery_mode and 1.1 < b.s.icr("bob") < b.s.tcr()
    r = b.liquidate("bob")
    assert r.recovery_mode_at_start and r.troves[0].kind == "capped"
    capped = b_debt * 1.1 / 100.0
    assert b.s.deposit_of("alice") == pytest.approx(1e-18, abs=1e-9)
    assert b.s.eth_gain_of("alice") == pytest.approx(capped * 0.995, rel=1e-12)  # applyLiquidationFee
    assert b.s.coll_surplus["bob"] == pytest.approx(b_coll - capped, rel=1e-12)


def test_recovery_mode_icr_110_leaves_no_surplus():
    # RM:628: ICR = 110 % exactly: capped offset, no collateral surplus
    b, b_coll, b_debt = _rm_setup(2.20)
    assert b.s.icr("bob") == pytest.approx(1.1)
    r = b.liquidate("bob")
    assert r.troves[0].kind in ("capped", "offset")
    assert b.s.coll_surplus.get("bob", 0.0) == pytest.approx(0.0, abs=1e-9)


def test_recovery_mode_below_100_percent_redistributes():
    # §4.4 (_liquidateRecoveryMode): ICR <= 100 % in recovery mode: everything redistributed,
    # the Stability Pool untouched
    b, b_coll, b_debt = _rm_setup(1.9)
    b.s.price = 200.0 * 0.95 / 1.9  # ICR(bob) = 95 %
    assert b.s.icr("bob") == pytest.approx(0.95) and b.s.recovery_mode
    sp0 = b.s.sp_deposits
    r = b.liquidate("bob")
    assert r.troves[0].kind == "redistribute" and b.s.sp_deposits == sp0
    assert r.debt_redistributed == pytest.approx(b_debt)


def test_nothing_to_liquidate_and_last_trove():
    b = Book()
    b.open("A", icr=2.0)
    b.open("B", icr=2.0)
    with pytest.raises(L.NothingToLiquidate) as e:
        L.liquidate(b.s, "A")
    assert e.value.revert == "TroveManager: nothing to liquidate"
    with pytest.raises(L.TroveNotActive):
        L.liquidate(b.s, "nobody")
    with pytest.raises(L.EmptyTroveArray):
        L.batch_liquidate(b.s, [])
    # one trove under MCR in normal mode: closing the last trove reverts (_removeTroveOwner)
    s1 = L.System(200.0)
    L.open_trove(s1, "only", 20.0, 2_000.0)
    s1.price = 110.0
    assert s1.icr("only") < 1.1
    with pytest.raises((L.OnlyOneTroveInSystem, L.NothingToLiquidate)):
        L.liquidate(s1, "only")
    assert s1.troves["only"].status == "active"


def _batch_setup(icr_a, icr_b, icr_whale):
    # TroveManager_RecoveryMode_Batch_Liqudation_Test.js L46-80 (``setup``): A, B at ICR
    # ``icr_a``/``icr_b``, C at 150 % (minimum debt); the whale at ``icr_whale`` with
    # the three debts extra, deposited in the Stability Pool; price 200 -> 100
    b = Book()
    ta = b.open("A", icr=icr_a)[1]
    tb = b.open("B", icr=icr_b)[1]
    tc = b.open("C", icr=1.5)[1]
    b.open("whale", icr=icr_whale, extra=ta + tb + tc)
    L.provide(b.s, "whale", ta + tb + tc)
    b.s.price = 100.0
    assert b.s.recovery_mode and b.s.icr("C") < 1.0
    return b


def test_recovery_mode_batch_first_trove_only():
    # L82 "First trove only doesn't get out of Recovery Mode"
    b = _batch_setup(2.96, 2.80, 3.40)
    assert 1.1 < b.s.icr("A") < b.s.tcr() and 1.1 < b.s.icr("B") < b.s.tcr()
    r = b.liquidate("A")
    assert r.troves[0].kind == "capped" and b.s.recovery_mode


def test_recovery_mode_batch_liquidates_all_three():
    # L90 "Two troves over MCR are liquidated": A and B capped, C (under 100 %) redistributed
    b = _batch_setup(2.96, 2.80, 3.40)
    r = b.liquidate("A", "B", "C")
    assert [t.owner for t in r.troves] == ["A", "B", "C"]
    # A and B capped; the two take the system back to normal mode, so C (under 100 %) is offset
    # against what is left in the pool (normal-mode rules for the rest of the batch)
    assert [t.kind for t in r.troves] == ["capped", "capped", "offset"]
    assert all(b.s.troves[o].status == "closedByLiquidation" for o in "ABC")


def test_recovery_mode_batch_stability_pool_profit():
    # L108 "Stability Pool profit matches": batch [A, C]; the pool gets A's capped collateral
    # less gas compensation and loses A's debt; C (under 100 %, still recovery mode) is
    # redistributed
    b = _batch_setup(2.96, 2.80, 3.40)
    a_debt = b.s.entire("A")[1]
    eth0, lusd0 = b.s.sp_eth, b.s.sp_deposits
    r = b.liquidate("A", "C")
    assert [t.kind for t in r.troves] == ["capped", "redistribute"]
    assert b.s.sp_eth - eth0 == pytest.approx(a_debt * 1.1 / 100.0 * 0.995, rel=1e-12)
    assert lusd0 - b.s.sp_deposits == pytest.approx(a_debt, rel=1e-12)


def test_recovery_mode_batch_skips_a_trove_over_tcr():
    # L144 "A trove over TCR is not liquidated": batch [B, A] with A above TCR: only B goes
    b = _batch_setup(2.80, 2.76, 3.10)
    assert b.s.icr("A") > b.s.tcr() and 1.1 < b.s.icr("B") < b.s.tcr()
    r = b.liquidate("B", "A")
    assert [t.owner for t in r.troves] == ["B"]
    assert b.s.troves["A"].status == "active" and b.s.troves["C"].status == "active"


def test_liquidate_troves_sequence_stops_at_the_first_healthy_trove():
    b = Book()
    b.open("whale", icr=5.0, extra=50_000.0)
    b.open("A", icr=2.05)
    b.open("B", icr=2.1)
    b.open("C", icr=3.0)
    b.s.price = 100.0
    r = L.liquidate_troves(b.s, 10)
    assert [t.owner for t in r.troves] == ["A", "B"]  # C at 150 % and the whale stay
    b.coll_gas += r.coll_gas_compensation
    b.check()


def test_product_sum_matches_the_engine_pro_rata_offset():
    """The engine's unit updates each deposit pro rata (``kernel.sp_offset``); the product-sum
    scheme gives the same deposits and gains (without the contract's integer rounding)."""
    from liqcascade.protocols.liquity import kernel as K

    deps = np.array([3_000.0, 7_000.0, 11_000.0])
    par = np.zeros(K.NPAR)
    sysv = np.zeros(K.NSYS)
    sysv[K.S_SP_LUSD] = deps.sum()
    dep, dep_coll, dep_sold = deps.copy(), np.zeros(3), np.zeros(3)
    s = L.System(100.0)
    for who, d in zip("abc", deps):
        L.provide(s, who, d)
    s.active_debt = s.active_coll = 1e9  # offsets draw on the active pool
    for debt, coll in ((4_000.0, 44.0), (9_000.0, 95.0), (7_999.0, 80.0)):
        K.sp_offset(par, sysv, dep, dep_coll, dep_sold, debt, coll, False)
        s._offset(debt, coll)
    for k, who in enumerate("abc"):
        assert s.deposit_of(who) == pytest.approx(dep[k], rel=1e-9)
        assert s.eth_gain_of(who) == pytest.approx(dep_coll[k], rel=1e-12)
