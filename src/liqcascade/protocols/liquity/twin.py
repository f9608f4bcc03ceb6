"""Plain-Python twin of :mod:`liqcascade.protocols.liquity.kernel`, written from the reference text.

Deliberately naive and close to the Solidity structure (``protocol-mechanics.md`` §4,
``liquity/dev`` ``TroveManager.sol`` / ``StabilityPool.sol``): a :class:`Trove` object per
borrower, pool objects, a sorted list rebuilt for every ``liquidateTroves`` call and walked from
its tail (lowest ICR) with the contract's loop, the ``firstUser`` stop and the per-call
``LiquidationTotals`` applied at the end. Same simplifications as the kernel (real numbers,
per-depositor pro-rata pool instead of ``P``/``S``, LUSD = 1, stakes = collateral at start).
Used only by the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Trove:
    coll: float
    debt: float  # composite debt: the gas reserve is included
    stake: float
    l_eth_snapshot: float = 0.0
    l_debt_snapshot: float = 0.0
    status: str = "active"
    surplus: float = 0.0


@dataclass
class Depositor:
    initial: float
    deposit: float
    eth_held: float = 0.0
    eth_sold: float = 0.0


@dataclass
class Event:
    trove: int
    kind: str
    seized: float
    repaid: float
    price: float
    bonus: float


@dataclass
class Totals:
    coll_gas: float = 0.0
    lusd_gas: float = 0.0
    debt_offset: float = 0.0
    coll_to_sp: float = 0.0
    debt_redist: float = 0.0
    coll_redist: float = 0.0
    surplus: float = 0.0
    n: int = 0


@dataclass
class LiquityPy:
    coll: list
    debt: list
    deposits: list
    mcr: float = 1.10
    ccr: float = 1.50
    gas_compensation: float = 200.0
    percent_divisor: float = 200.0
    variant: str = "2021"
    min_lusd_in_sp: float = 1.0
    sp_sells: float = 0.0
    sequences_per_step: int = 1
    batch_gas: tuple | None = None  # (base, per trove): the batch rule, else gas_cost per trove
    troves: list = field(default_factory=list)
    depositors: list = field(default_factory=list)

    def __post_init__(self):
        self.troves = [Trove(float(c), float(d), float(c)) for c, d in zip(self.coll, self.debt)]
        self.depositors = [Depositor(float(x), float(x)) for x in self.deposits]
        # exactly rounded sums (math.fsum): the result does not depend on the order
        self.active_coll = math.fsum(t.coll for t in self.troves)
        self.active_debt = math.fsum(t.debt for t in self.troves)
        self.default_coll = 0.0
        self.default_debt = 0.0
        self.L_ETH = 0.0
        self.L_LUSDDebt = 0.0
        self.total_stakes = math.fsum(t.stake for t in self.troves)
        self.total_lusd = math.fsum(d.deposit for d in self.depositors)
        self.coll_surplus_pool = 0.0
        self.gas_pool = self.gas_compensation * len(self.troves)
        self.paid_coll_gas = 0.0
        self.paid_lusd_gas = 0.0
        self.sp_eth_in = 0.0
        self.sp_loss = 0.0
        self.redistributed_coll = 0.0
        self.redistributed_debt = 0.0
        self.coll0 = self.active_coll
        self.debt0 = self.active_debt
        self.events: list[Event] = []
        self.tcr_min = math.inf
        self.rm_steps = 0
        self.rm_entries = 0
        self.in_rm = False
        self.batches_not_sent = 0

    # --- views ---------------------------------------------------------------------------
    def pending(self, t: Trove):
        return t.stake * (self.L_ETH - t.l_eth_snapshot), t.stake * (self.L_LUSDDebt - t.l_debt_snapshot)

    def entire(self, t: Trove):
        pc, pd = self.pending(t)
        return t.coll + pc, t.debt + pd

    @staticmethod
    def cr(coll, debt, price):
        return coll * price / debt if debt > 0 else math.inf

    def icr(self, i, price):
        c, d = self.entire(self.troves[i])
        return self.cr(c, d, price)

    def tcr(self, price):
        return self.cr(self.active_coll + self.default_coll, self.active_debt + self.default_debt, price)

    def active(self):
        return [i for i, t in enumerate(self.troves) if t.status == "active"]

    def lusd_in_sp_for_offset(self):
        if self.total_lusd <= 0:
            return 0.0
        if self.variant == "2025":
            return self.total_lusd - min(self.min_lusd_in_sp, self.total_lusd)
        return self.total_lusd

    # --- one trove --------------------------------------------------------------------------
    def _close(self, i, surplus=0.0):
        t = self.troves[i]
        pc, pd = self.pending(t)
        # _movePendingTroveRewardsToActivePool
        self.default_coll -= pc
        self.default_debt -= pd
        self.active_coll += pc
        self.active_debt += pd
        ec, ed = t.coll + pc, t.debt + pd
        # _removeStake, _closeTrove: the trove's whole balance leaves the ActivePool
        self.total_stakes -= t.stake
        t.stake = 0.0
        self.active_coll -= ec
        self.active_debt -= ed
        t.coll = 0.0
        t.debt = 0.0
        t.status = "liquidated"
        t.surplus += surplus

    def _split(self, debt, coll, lusd):
        if lusd > 0:
            off = min(debt, lusd)
            to_sp = coll * off / debt
            return off, to_sp, debt - off, coll - to_sp
        return 0.0, 0.0, debt, coll

    def _values_normal(self, i, lusd):
        c, d = self.entire(self.troves[i])
        gas = c / self.percent_divisor
        off, to_sp, dr, cr = self._split(d, c - gas, lusd)
        return dict(kind="offset", c=c, d=d, gas=gas, off=off, to_sp=to_sp, dr=dr, cr=cr, surplus=0.0)

    def _values_recovery(self, i, icr, lusd, tcr, price):
        c, d = self.entire(self.troves[i])
        if icr <= 1.0:
            gas = c / self.percent_divisor
            return dict(kind="redistribute", c=c, d=d, gas=gas, off=0.0, to_sp=0.0, dr=d, cr=c - gas, surplus=0.0)
        if 1.0 < icr < self.mcr:
            return self._values_normal(i, lusd)
        if self.mcr <= icr < tcr and d <= lusd:
            capped = d * self.mcr / price
            gas = capped / self.percent_divisor
            return dict(kind="capped", c=c, d=d, gas=gas, off=d, to_sp=capped - gas, dr=0.0, cr=0.0,
                        surplus=c - capped)
        return None

    # --- liquidateTroves(n) ---------------------------------------------------------------
    def liquidate_troves(self, price, n=0, *, rational=False, gas_cost=0.0, quote=None, queued=0.0, step=0):
        """One call. ``quote(queued, q)``: marginal quote for selling ``q`` after ``queued``
        (default ``q · price``). Returns (troves liquidated, collateral sold).

        With ``batch_gas = (base, per_trove)`` each trove must be worth ``per_trove`` and a
        rational keeper sends the batch only when the troves' compensation covers
        ``base + per_trove · troves`` (tried on a copy first)."""
        if self.batch_gas is None:
            return self._liquidate_troves(price, n, rational=rational, gas_cost=gas_cost, quote=quote,
                                          queued=queued, step=step)[:2]
        import copy

        base, per = self.batch_gas
        trial = copy.deepcopy(self)
        k, sold, comp = trial._liquidate_troves(price, n, rational=rational, gas_cost=per, quote=quote,
                                                queued=queued, step=step)
        if k > 0 and rational and comp - base - per * k <= 0:
            self.batches_not_sent += 1
            return 0, 0.0
        self.__dict__.update(trial.__dict__)
        return k, sold

    def _liquidate_troves(self, price, n=0, *, rational=False, gas_cost=0.0, quote=None, queued=0.0, step=0):
        if quote is None:
            def quote(_queued, q):
                return q * price
        n = n if n > 0 else 10**12
        ids = self.active()
        # SortedTroves: head = highest ICR; ties ordered by index
        lst = sorted(ids, key=lambda i: (self.icr(i, price), i))
        if len(lst) <= 1:
            return 0, 0.0, 0.0
        first = lst[-1]
        lusd = self.lusd_in_sp_for_offset()
        T = Totals()
        recovery_at_start = self.tcr(price) < self.ccr
        comp = [0.0]

        def take(i, v):
            got = quote(queued + T.coll_gas, v["gas"])
            if rational and got + self.gas_compensation - gas_cost <= 0:
                return False
            comp[0] += got + self.gas_compensation
            self._close(i, v["surplus"])
            T.coll_gas += v["gas"]
            T.lusd_gas += self.gas_compensation
            T.debt_offset += v["off"]
            T.coll_to_sp += v["to_sp"]
            T.debt_redist += v["dr"]
            T.coll_redist += v["cr"]
            T.surplus += v["surplus"]
            T.n += 1
            self.events.append(Event(i, v["kind"], v["c"] - v["surplus"], v["off"], price,
                                     (v["to_sp"] + v["gas"]) * price - v["off"] + self.gas_compensation))
            return True

        if recovery_at_start:
            remaining = lusd
            back_to_normal = False
            sys_coll = self.active_coll + self.default_coll
            sys_debt = self.active_debt + self.default_debt
            pos = 0
            user = lst[pos]
            i = 0
            while i < n and user != first:
                icr = self.icr(user, price)
                if not back_to_normal:
                    if icr >= self.mcr and remaining == 0:
                        break
                    tcr = self.cr(sys_coll, sys_debt, price)
                    v = self._values_recovery(user, icr, remaining, tcr, price)
                    if v is not None:
                        if not take(user, v):  # not worth its gas: left out of the batch
                            pos += 1
                            user = lst[pos]
                            continue
                        remaining = max(remaining - v["off"], 0.0)
                        sys_debt -= v["off"]
                        sys_coll -= v["to_sp"] + v["gas"] + v["surplus"]
                    back_to_normal = not (self.cr(sys_coll, sys_debt, price) < self.ccr)
                elif icr < self.mcr:
                    v = self._values_normal(user, remaining)
                    if not take(user, v):
                        pos += 1
                        user = lst[pos]
                        continue
                    remaining = max(remaining - v["off"], 0.0)
                else:
                    break
                pos += 1
                user = lst[pos]
                i += 1
        else:
            remaining = lusd
            pos = 0
            count = 0
            while count < n and pos < len(lst):
                user = lst[pos]
                if user == first:  # closing the last trove reverts
                    break
                icr = self.icr(user, price)
                if icr < self.mcr:
                    v = self._values_normal(user, remaining)
                    if not take(user, v):  # not worth its gas: left out of the batch
                        pos += 1
                        continue
                    remaining = max(remaining - v["off"], 0.0)
                else:
                    break
                pos += 1
                count += 1
        if T.n == 0:
            return 0, 0.0, 0.0
        sold = self._offset(T.debt_offset, T.coll_to_sp, emptied=(remaining <= 0 and self.variant == "2021"))
        if T.debt_redist != 0:
            self.L_ETH += T.coll_redist / self.total_stakes
            self.L_LUSDDebt += T.debt_redist / self.total_stakes
            self.default_coll += T.coll_redist
            self.default_debt += T.debt_redist
            self.redistributed_coll += T.coll_redist
            self.redistributed_debt += T.debt_redist
        self.coll_surplus_pool += T.surplus
        self.paid_coll_gas += T.coll_gas
        self.paid_lusd_gas += T.lusd_gas
        self.gas_pool -= T.lusd_gas
        return T.n, sold + T.coll_gas, comp[0]

    def _offset(self, debt, coll, emptied):
        total = self.total_lusd
        if debt <= 0 or total <= 0:
            return 0.0
        emptied = emptied or debt >= total
        sold = 0.0
        for dep in self.depositors:
            share = dep.deposit / total
            dep.deposit = 0.0 if emptied else dep.deposit - debt * share
            gain = coll * share
            dep.eth_held += gain * (1 - self.sp_sells)
            dep.eth_sold += gain * self.sp_sells
        sold = coll * self.sp_sells
        self.total_lusd = 0.0 if emptied else total - debt
        self.sp_loss += debt
        self.sp_eth_in += coll
        return sold

    def step(self, price, n=0, *, rational=False, gas_cost=0.0, quote=None, queued=0.0, t=0):
        """Up to ``sequences_per_step`` calls; returns the collateral put up for sale."""
        if not (price > 0) or not math.isfinite(price):
            return 0.0
        tcr = self.tcr(price)
        self.tcr_min = min(self.tcr_min, tcr)
        if tcr < self.ccr:
            self.rm_steps += 1
            if not self.in_rm:
                self.rm_entries += 1
            self.in_rm = True
        else:
            self.in_rm = False
        total_sold = 0.0
        for _ in range(self.sequences_per_step):
            k, s = self.liquidate_troves(price, n, rational=rational, gas_cost=gas_cost, quote=quote,
                                         queued=queued + total_sold, step=t)
            total_sold += s
            if k == 0:
                break
        return total_sold

    # --- conservation ----------------------------------------------------------------------
    def totals(self):
        act = [t for t in self.troves if t.status == "active"]
        ent = [self.entire(t) for t in act]
        return {
            "coll_troves": sum(t.coll for t in act),
            "coll_troves_entire": sum(c for c, _ in ent),
            "coll_default_pool": self.default_coll,
            "coll_sp_held": sum(d.eth_held for d in self.depositors),
            "coll_sp_sold": sum(d.eth_sold for d in self.depositors),
            "coll_surplus_pool": self.coll_surplus_pool,
            "coll_gas_comp": self.paid_coll_gas,
            "debt_troves": sum(t.debt for t in act),
            "debt_troves_entire": sum(d for _, d in ent),
            "debt_default_pool": self.default_debt,
            "debt_offset": self.sp_loss,
            "sp_lusd": self.total_lusd,
            "gas_pool": self.gas_pool,
            "gas_comp_lusd": self.paid_lusd_gas,
            "n_active": len(act),
            "n_liquidated": sum(1 for t in self.troves if t.status == "liquidated"),
            "tcr_min": self.tcr_min,
            "recovery_mode_steps": self.rm_steps,
            "recovery_mode_entries": self.rm_entries,
            "batches_not_sent": self.batches_not_sent,
        }
