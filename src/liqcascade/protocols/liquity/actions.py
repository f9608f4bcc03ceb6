"""Liquity v1 as callable actions: troves, the Stability Pool between liquidations, and
``liquidate`` / ``batchLiquidateTroves`` / ``liquidateTroves`` in normal and recovery mode, the
way liquity/dev's own tests call them (``lc.protocols.liquity``).

Per trove, the rules are the compiled ones of :mod:`.kernel` that the engine's Liquity unit
uses (:func:`~.kernel.compute_cr`, :func:`~.kernel.liquidation_values`,
:func:`~.kernel.offset_and_redistribution`); this module holds the state of the contracts
(``TroveManager``, ``ActivePool``/``DefaultPool``, ``StabilityPool``, ``CollSurplusPool``,
``GasPool``) and the orchestration of ``BorrowerOperations.openTrove`` and the liquidation
sequences. The Stability Pool tracks depositors with the contract's **product-sum scheme**: a
running product ``P`` (each liquidation multiplies it by ``1 − debt/deposits``), a sum ``S`` per
epoch and scale (each liquidation adds ``coll/deposits · P``), per-deposit snapshots, a new
*scale* when ``P`` would fall below ``1e-9`` (``P`` is multiplied by ``1e9``) and a new *epoch*
when a liquidation empties the pool; a deposit compounds to ``d0 · P / P0`` (÷ 1e9 across one
scale, 0 across two or an epoch) and has earned ``d0 · (S − S0 + S_next / 1e9) / P0`` of
collateral. (The engine's unit keeps per-depositor arrays updated pro rata instead — the same
numbers without rounding; a conformance test checks the two agree.)

Sources: liquity/dev ``packages/contracts/contracts/`` — ``BorrowerOperations.sol``
(``openTrove``), ``TroveManager.sol`` (``liquidate``, ``batchLiquidateTroves``,
``liquidateTroves``, ``_liquidateNormalMode``, ``_liquidateRecoveryMode``,
``_getCappedOffsetVals``, ``_redistributeDebtAndColl``, ``_computeNewStake``,
``_updateSystemSnapshots_excludeCollRemainder``), ``StabilityPool.sol`` (``provideToSP``,
``withdrawFromSP``, ``offset``, ``_updateRewardSumAndProduct``,
``_getCompoundedStakeFromSnapshots``, ``_getETHGainFromSnapshots``) at the 2021 mainnet-era
commit ``b9dcdbd3`` (variant ``"2021"``) and HEAD ``39f1f7f8`` (variant ``"2025"``: at least
``MIN_LUSD_IN_SP`` stays in the pool, no epochs, two scale steps at most per liquidation, and
recovery-mode sequences track the system collateral after gas compensation and pool offsets);
``shared/reference/protocol-mechanics.md`` §4.

Simplified (also in ``README.md``): real numbers (no 1e18 fixed point and none of the error
feedback of ``L_ETH``/``L_LUSDDebt``); ``P`` and ``S`` are kept as exact rationals (the
contract's 36-digit integers make ``S − S0`` exact; float64 would lose it to cancellation); ``baseRate`` is a field (no decay with time,
no redemptions); LQTY rewards and front ends are not modelled; the price is the system's
``price`` field (no PriceFeed logic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import ProtocolError
from . import kernel as K

__all__ = [
    "Deposit", "ICRBelowCCR", "ICRBelowMCR", "Liquidation", "LiquityError", "NetDebtBelowMinimum",
    "NothingToLiquidate", "OnlyOneTroveInSystem", "System", "TCRBelowCCR", "Trove", "TroveIsActive",
    "TroveNotActive", "batch_liquidate", "liquidate", "liquidate_troves", "open_trove", "provide", "withdraw",
]

SCALE_FACTOR = 1e9
SCALE = Fraction(10**9)


class LiquityError(ProtocolError):
    """A Liquity revert; ``revert`` is the contract's ``require`` message."""


def _err(name: str, message: str, doc: str = "") -> type:
    return type(name, (LiquityError,), {"revert": message, "__doc__": doc or message, "__module__": __name__})


NothingToLiquidate = _err("NothingToLiquidate", "TroveManager: nothing to liquidate")
EmptyTroveArray = _err("EmptyTroveArray", "TroveManager: Calldata address array must not be empty")
OnlyOneTroveInSystem = _err("OnlyOneTroveInSystem", "TroveManager: Only one trove in the system")
TroveNotActive = _err("TroveNotActive", "TroveManager: Trove does not exist or is closed")
TroveIsActive = _err("TroveIsActive", "BorrowerOps: Trove is active")
NetDebtBelowMinimum = _err("NetDebtBelowMinimum", "BorrowerOps: Trove's net debt must be greater than minimum")
ICRBelowMCR = _err("ICRBelowMCR", "BorrowerOps: An operation that would result in ICR < MCR is not permitted")
TCRBelowCCR = _err("TCRBelowCCR", "BorrowerOps: An operation that would result in TCR < CCR is not permitted")
ICRBelowCCR = _err("ICRBelowCCR", "BorrowerOps: Operation must leave trove with ICR >= CCR")
FeeExceededMaximum = _err("FeeExceededMaximum", "Fee exceeded provided maximum")
MaxFeeInvalid = _err("MaxFeeInvalid", "Max fee percentage must be between 0.5% and 100%")
WithdrawalBlocked = _err("WithdrawalBlocked", "StabilityPool: Cannot withdraw while there are troves with ICR < MCR")
NoDeposit = _err("NoDeposit", "StabilityPool: User must have a non-zero deposit")
ZeroAmount = _err("ZeroAmount", "StabilityPool: Amount must be non-zero")
__all__ += ["EmptyTroveArray", "FeeExceededMaximum", "MaxFeeInvalid", "NoDeposit", "WithdrawalBlocked", "ZeroAmount"]


@dataclass
class Trove:
    """A trove as ``TroveManager.Troves`` records it: collateral and composite debt (gas
    reserve included) without pending rewards, its stake and its ``L_*`` snapshots."""

    coll: float
    debt: float
    stake: float
    snap_eth: float = 0.0
    snap_debt: float = 0.0
    status: str = "active"  # or "closedByLiquidation"


@dataclass
class Deposit:
    """A Stability Pool deposit: its initial value and the snapshots of ``P``, ``S``, scale, epoch."""

    initial: float
    P: Fraction = Fraction(1)
    S: Fraction = Fraction(0)
    scale: int = 0
    epoch: int = 0


class System:
    """The contracts' state. ``price``: the collateral price (quote per unit) every call uses;
    ``variant``: ``"2021"`` (mainnet) or ``"2025"`` (repository HEAD); constants as in
    ``LiquityBase`` (MCR 110 %, CCR 150 %, gas compensation 200 LUSD, minimum net debt 1,800,
    0.5 % collateral to the liquidator, borrowing fee 0.5 % + ``base_rate`` capped at 5 %)."""

    def __init__(self, price: float, *, variant: str = "2021", mcr: float = 1.1, ccr: float = 1.5,
                 gas_compensation: float = 200.0, min_net_debt: float = 1800.0, percent_divisor: float = 200.0,
                 borrowing_fee_floor: float = 0.005, max_borrowing_fee: float = 0.05, base_rate: float = 0.0,
                 min_lusd_in_sp: float = 1.0):
        if variant not in ("2021", "2025"):
            raise ValueError(f"variant must be '2021' or '2025', got {variant!r}")
        self.price = float(price)
        self.variant = variant
        self.mcr, self.ccr = float(mcr), float(ccr)
        self.gas_compensation = float(gas_compensation)
        self.min_net_debt = float(min_net_debt)
        self.percent_divisor = float(percent_divisor)
        self.borrowing_fee_floor = float(borrowing_fee_floor)
        self.max_borrowing_fee = float(max_borrowing_fee)
        self.base_rate = float(base_rate)
        self.min_lusd_in_sp = float(min_lusd_in_sp)
        self.troves: dict[str, Trove] = {}
        # pools
        self.active_coll = self.active_debt = 0.0
        self.default_coll = self.default_debt = 0.0
        self.gas_pool = 0.0
        self.coll_surplus: dict[str, float] = {}
        # redistribution
        self.L_ETH = self.L_debt = 0.0
        self.total_stakes = self.total_stakes_snapshot = self.total_coll_snapshot = 0.0
        # Stability Pool
        self.sp_deposits = 0.0  # totalLUSDDeposits
        self.sp_eth = 0.0  # collateral held by the pool
        self.P = Fraction(1)  # exact rationals: see the module docstring
        self.scale = 0
        self.epoch = 0
        self.S: dict[tuple[int, int], Fraction] = {}
        self.deposits: dict[str, Deposit] = {}
        #: LUSD minted to each borrower (``_LUSDAmount``) and borrowing fees paid to LQTY stakers
        self.fees_paid = 0.0

    # --- views -------------------------------------------------------------------------------
    def entire(self, owner: str) -> tuple[float, float]:
        """``getEntireDebtAndColl``: recorded collateral and debt plus pending rewards."""
        t = self.troves[owner]
        return (t.coll + t.stake * (self.L_ETH - t.snap_eth), t.debt + t.stake * (self.L_debt - t.snap_debt))

    def icr(self, owner: str) -> float:
        c, d = self.entire(owner)
        return float(K.compute_cr(c, d, self.price))

    def tcr(self) -> float:
        return float(K.compute_cr(self.active_coll + self.default_coll, self.active_debt + self.default_debt,
                                  self.price))

    @property
    def recovery_mode(self) -> bool:
        return self.tcr() < self.ccr

    def active_troves(self) -> list[str]:
        return [k for k, t in self.troves.items() if t.status == "active"]

    def borrowing_rate(self) -> float:
        return min(self.borrowing_fee_floor + self.base_rate, self.max_borrowing_fee)

    def deposit_of(self, depositor: str) -> float:
        """``getCompoundedLUSDDeposit``."""
        d = self.deposits.get(depositor)
        return 0.0 if d is None else self._compounded(d)

    def eth_gain_of(self, depositor: str) -> float:
        """``getDepositorETHGain``."""
        d = self.deposits.get(depositor)
        return 0.0 if d is None else self._eth_gain(d)

    # --- Stability Pool arithmetic (product-sum) --------------------------------------------
    def _compounded(self, d: Deposit) -> float:
        if d.initial == 0.0 or d.epoch < self.epoch:
            return 0.0
        diff = self.scale - d.scale
        if diff == 0:
            v = float(d.initial * self.P / d.P)
        elif diff == 1:
            v = float(d.initial * self.P / d.P / SCALE)
        else:
            v = 0.0
        return 0.0 if v < d.initial / 1e9 else v

    def _eth_gain(self, d: Deposit) -> float:
        if d.initial == 0.0:
            return 0.0
        first = self.S.get((d.epoch, d.scale), Fraction(0)) - d.S
        second = self.S.get((d.epoch, d.scale + 1), Fraction(0)) / SCALE
        return float(d.initial * (first + second) / d.P)

    def _snapshot(self, depositor: str, value: float) -> None:
        if value == 0.0:
            self.deposits.pop(depositor, None)
            return
        self.deposits[depositor] = Deposit(value, self.P, self.S.get((self.epoch, self.scale), Fraction(0)),
                                           self.scale, self.epoch)

    def _offset(self, debt: float, coll: float) -> None:
        """``StabilityPool.offset``: ``S`` then ``P`` (``_updateRewardSumAndProduct``)."""
        total = self.sp_deposits
        if total == 0.0 or debt == 0.0:
            return
        gain_per_unit = Fraction(coll) / Fraction(total)
        emptied = debt >= total
        loss_per_unit = Fraction(1) if emptied else Fraction(debt) / Fraction(total)
        key = (self.epoch, self.scale)
        self.S[key] = self.S.get(key, Fraction(0)) + gain_per_unit * self.P
        factor = 1 - loss_per_unit
        if factor == 0 and self.variant == "2021":
            self.epoch += 1
            self.scale = 0
            self.P = Fraction(1)
        else:
            p = self.P * factor
            if p < 1 / SCALE:
                p *= SCALE
                self.scale += 1
                if self.variant == "2025" and p < 1 / SCALE:
                    p *= SCALE
                    self.scale += 1
            if not p > 0.0:
                raise AssertionError("P reached 0: the 2025 variant never empties the pool")
            self.P = p
        self.sp_deposits = 0.0 if emptied else total - debt
        self.active_debt -= debt
        self.active_coll -= coll
        self.sp_eth += coll

    def _max_offset(self) -> float:
        """LUSD a sequence may offset (``getMaxAmountToOffset`` on HEAD)."""
        total = self.sp_deposits
        if self.variant == "2025":
            return total - min(self.min_lusd_in_sp, total)
        return total


# --- borrowers ----------------------------------------------------------------------------------


def open_trove(system: System, owner: str, coll: float, net_debt: float, *, max_fee: float = 1.0) -> Trove:
    """``BorrowerOperations.openTrove(_maxFeePercentage, _LUSDAmount)`` with ``coll`` collateral:
    the borrower receives ``net_debt`` LUSD; the trove's debt is ``net_debt`` + the borrowing fee
    (``borrowing_rate() · net_debt``; none in recovery mode) + the 200 LUSD gas compensation.
    Reverts as the contract does (minimum net debt, ICR ≥ MCR and new TCR ≥ CCR, or ICR ≥ CCR in
    recovery mode)."""
    s = system
    recovery = s.recovery_mode if (s.active_debt + s.default_debt) > 0 else False
    if recovery:
        if not max_fee <= 1.0:
            raise MaxFeeInvalid(max_fee=max_fee)
    elif not (s.borrowing_fee_floor <= max_fee <= 1.0):
        raise MaxFeeInvalid(max_fee=max_fee)
    t = s.troves.get(owner)
    if t is not None and t.status == "active":
        raise TroveIsActive(owner=owner)
    fee = 0.0
    if not recovery:
        fee = s.borrowing_rate() * net_debt
        if fee > max_fee * net_debt:
            raise FeeExceededMaximum(fee=fee, max_fee=max_fee * net_debt)
    total_net = net_debt + fee
    if total_net < s.min_net_debt:
        raise NetDebtBelowMinimum(net_debt=total_net, min_net_debt=s.min_net_debt)
    composite = total_net + s.gas_compensation
    icr = float(K.compute_cr(coll, composite, s.price))
    if recovery:
        if icr < s.ccr:
            raise ICRBelowCCR(icr=icr, ccr=s.ccr)
    else:
        if icr < s.mcr:
            raise ICRBelowMCR(icr=icr, mcr=s.mcr)
        new_tcr = float(K.compute_cr(s.active_coll + s.default_coll + coll,
                                     s.active_debt + s.default_debt + composite, s.price))
        if new_tcr < s.ccr:
            raise TCRBelowCCR(tcr=new_tcr, ccr=s.ccr)
    stake = coll if s.total_coll_snapshot == 0.0 else coll * s.total_stakes_snapshot / s.total_coll_snapshot
    trove = Trove(float(coll), float(composite), float(stake), s.L_ETH, s.L_debt)
    s.troves[owner] = trove
    s.total_stakes += stake
    s.active_coll += coll
    s.active_debt += composite
    s.gas_pool += s.gas_compensation
    s.fees_paid += fee
    return trove


def provide(system: System, depositor: str, amount: float) -> float:
    """``StabilityPool.provideToSP``: pays out the collateral gain so far (returned), then the
    deposit becomes its compounded value + ``amount`` with fresh snapshots."""
    s = system
    if not amount > 0:
        raise ZeroAmount(amount=amount)
    d = s.deposits.get(depositor)
    gain = s._eth_gain(d) if d else 0.0
    comp = s._compounded(d) if d else 0.0
    s.sp_eth -= gain
    s.sp_deposits += amount
    s._snapshot(depositor, comp + amount)
    return gain


def withdraw(system: System, depositor: str, amount: float = math.inf) -> tuple[float, float]:
    """``StabilityPool.withdrawFromSP``: withdraws ``min(amount, compounded deposit)`` and the
    whole collateral gain; returns ``(lusd, collateral)``. Refused while a trove is under MCR
    (unless ``amount == 0``, which only claims the gain)."""
    s = system
    if amount != 0:
        lowest = min((s.icr(o) for o in s.active_troves()), default=math.inf)
        if lowest < s.mcr:
            raise WithdrawalBlocked(lowest_icr=lowest, mcr=s.mcr)
    d = s.deposits.get(depositor)
    if d is None or d.initial == 0.0:
        raise NoDeposit(depositor=depositor)
    gain = s._eth_gain(d)
    comp = s._compounded(d)
    out = min(float(amount), comp)
    if s.variant == "2025" and s.sp_deposits - out < s.min_lusd_in_sp and out > 0:
        raise _err("MinLUSDInSP", "Withdrawal must leave totalBoldDeposits >= MIN_LUSD_IN_SP")(
            left=s.sp_deposits - out)
    s.sp_deposits -= out
    s.sp_eth -= gain
    s._snapshot(depositor, comp - out)
    return out, gain


# --- liquidations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiquidatedTrove:
    owner: str
    kind: str  # "offset", "redistribute" (recovery, ICR <= 100 %), "capped" (recovery, MCR <= ICR < TCR)
    icr: float
    coll: float
    debt: float
    debt_offset: float
    coll_to_sp: float
    debt_redistributed: float
    coll_redistributed: float
    coll_gas_compensation: float
    coll_surplus: float
    lusd_gas_compensation: float


@dataclass(frozen=True)
class Liquidation:
    """One liquidation transaction (the ``Liquidation`` event's totals and each trove)."""

    recovery_mode_at_start: bool
    troves: tuple[LiquidatedTrove, ...] = field(default_factory=tuple)

    def _sum(self, name):
        return sum(getattr(t, name) for t in self.troves)

    @property
    def liquidated_debt(self) -> float:
        return self._sum("debt")

    @property
    def liquidated_coll(self) -> float:
        """The event's ``_liquidatedColl``: collateral less gas compensation and surplus."""
        return self._sum("coll") - self._sum("coll_gas_compensation") - self._sum("coll_surplus")

    @property
    def coll_gas_compensation(self) -> float:
        return self._sum("coll_gas_compensation")

    @property
    def lusd_gas_compensation(self) -> float:
        return self._sum("lusd_gas_compensation")

    @property
    def debt_offset(self) -> float:
        return self._sum("debt_offset")

    @property
    def debt_redistributed(self) -> float:
        return self._sum("debt_redistributed")


_KIND = {K.K_OFFSET: "offset", K.K_REDIST: "redistribute", K.K_CAPPED: "capped"}


def _one(s: System, owner: str, icr: float, lusd_left: float, tcr: float, recovery: bool) -> LiquidatedTrove | None:
    c, d = s.entire(owner)
    kind, gc, off, csp, dr, cr, sur = K.liquidation_values(c, d, icr, lusd_left, tcr, s.price, recovery, s.mcr,
                                                           s.percent_divisor)
    if kind == K.K_NONE:
        return None
    return LiquidatedTrove(owner, _KIND[int(kind)], icr, c, d, float(off), float(csp), float(dr), float(cr),
                           float(gc), float(sur), s.gas_compensation)


def _tally(s: System, owners: list[str], batch: bool) -> tuple[bool, list[LiquidatedTrove]]:
    """The contract's ``_getTotalsFrom…`` loops: values per trove, nothing applied yet except
    that each liquidated trove leaves the owner list (its stake is removed at once)."""
    recovery = s.recovery_mode
    left = s._max_offset()
    out: list[LiquidatedTrove] = []
    n_active = len(s.active_troves())
    sys_coll = s.active_coll + s.default_coll
    sys_debt = s.active_debt + s.default_debt
    normal = not recovery
    for owner in owners:
        t = s.troves.get(owner)
        if t is None or t.status != "active" or any(x.owner == owner for x in out):
            continue
        icr = s.icr(owner)
        if not normal:
            if icr >= s.mcr and left == 0.0:
                if batch:
                    continue
                break
            if n_active <= 1:  # _liquidateRecoveryMode: never the last trove
                if batch:
                    continue
                break
            tcr = float(K.compute_cr(sys_coll, sys_debt, s.price))
            lt = _one(s, owner, icr, left, tcr, True)
            if lt is None:
                if batch:
                    continue
                break
            left -= lt.debt_offset
            sys_debt -= lt.debt_offset
            if s.variant == "2021":  # collToOffset: set only by _getCappedOffsetVals
                sys_coll -= (lt.coll_to_sp + lt.coll_gas_compensation if lt.kind == "capped" else 0.0) + lt.coll_surplus
            else:
                sys_coll -= lt.coll_to_sp + lt.coll_gas_compensation + lt.coll_surplus
            normal = not (float(K.compute_cr(sys_coll, sys_debt, s.price)) < s.ccr)
        else:
            if not icr < s.mcr:
                if batch:
                    continue
                break
            if n_active <= 1:
                raise OnlyOneTroveInSystem(owner=owner)
            lt = _one(s, owner, icr, left, math.inf, False)
            left -= lt.debt_offset
        out.append(lt)
        n_active -= 1
    return recovery, out


def _apply(s: System, recovery: bool, troves: list[LiquidatedTrove]) -> Liquidation:
    if not troves or not sum(t.debt for t in troves) > 0:
        raise NothingToLiquidate(price=s.price)
    for lt in troves:
        t = s.troves[lt.owner]
        pc, pd = lt.coll - t.coll, lt.debt - t.debt  # pending rewards: DefaultPool -> ActivePool
        s.default_coll -= pc
        s.default_debt -= pd
        s.active_coll += pc
        s.active_debt += pd
        s.total_stakes -= t.stake
        t.status = "closedByLiquidation"
        t.stake = t.coll = t.debt = 0.0
        if lt.coll_surplus > 0:
            s.coll_surplus[lt.owner] = s.coll_surplus.get(lt.owner, 0.0) + lt.coll_surplus
    off = sum(t.debt_offset for t in troves)
    csp = sum(t.coll_to_sp for t in troves)
    dr = sum(t.debt_redistributed for t in troves)
    cr = sum(t.coll_redistributed for t in troves)
    sur = sum(t.coll_surplus for t in troves)
    gc = sum(t.coll_gas_compensation for t in troves)
    s._offset(off, csp)
    if dr > 0:  # _redistributeDebtAndColl over the remaining stakes
        s.L_ETH += cr / s.total_stakes
        s.L_debt += dr / s.total_stakes
        s.active_coll -= cr
        s.active_debt -= dr
        s.default_coll += cr
        s.default_debt += dr
    s.active_coll -= sur
    s.total_stakes_snapshot = s.total_stakes
    s.total_coll_snapshot = s.active_coll - gc + s.default_coll
    s.active_coll -= gc  # _sendGasCompensation
    s.gas_pool -= s.gas_compensation * len(troves)
    return Liquidation(recovery, tuple(troves))


def liquidate(system: System, owner: str) -> Liquidation:
    """``TroveManager.liquidate(_borrower)``: a batch of one (reverts ``TroveNotActive``,
    ``NothingToLiquidate``)."""
    t = system.troves.get(owner)
    if t is None or t.status != "active":
        raise TroveNotActive(owner=owner)
    return batch_liquidate(system, [owner])


def batch_liquidate(system: System, owners) -> Liquidation:
    """``TroveManager.batchLiquidateTroves``: the listed troves in order, skipping those that
    cannot be liquidated; in recovery mode TCR is recomputed after each, and once the system is
    back in normal mode only troves under MCR go."""
    owners = list(owners)
    if not owners:
        raise EmptyTroveArray()
    recovery, troves = _tally(system, owners, batch=True)
    return _apply(system, recovery, troves)


def liquidate_troves(system: System, n: int) -> Liquidation:
    """``TroveManager.liquidateTroves(n)``: up to ``n`` troves from the lowest ICR upward,
    stopping at the first that cannot be liquidated."""
    order = sorted(system.active_troves(), key=lambda o: (system.icr(o), list(system.troves).index(o)))
    recovery, troves = _tally(system, order[: int(n)], batch=False)
    return _apply(system, recovery, troves)
