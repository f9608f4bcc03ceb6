"""Liquity v1 protocol unit: configuration, presets, pack builder, totals and a unit runner.

Rules: ``shared/reference/protocol-mechanics.md`` §4 (constants §4.1, ratios and recovery mode
§4.2, normal-mode liquidation §4.3, recovery-mode cases §4.4, Stability Pool §4.5,
redistribution §4.6). The compiled step is :func:`liqcascade.protocols.liquity.kernel.liquity_step`;
its plain-Python twin is :mod:`liqcascade.protocols.liquity.twin`. What is exact and what is
simplified: ``protocols/liquity/README.md``. In short: real-number amounts (no 18-decimal
rounding), per-depositor pro-rata Stability Pool accounting instead of ``P``/``S``, LUSD worth
exactly 1, borrowers and depositors passive (no new troves, adjustments, redemptions,
deposits or withdrawals), stakes equal to the collateral when the pack is built.

Pack layout (``build_pack``), a tuple of float64 arrays indexed by ``kernels.liquity.PK_*``:

``par[NPAR]`` parameters (``P_*``), ``sys[NSYS]`` pools and running totals (``S_*``), then per
trove ``coll``, ``debt`` (recorded, gas reserve included), ``stake``, ``snap_eth``,
``snap_debt``, ``status`` (1 active, 3 closed by liquidation), ``surplus`` (CollSurplusPool
balance), then per depositor ``dep`` (current deposit), ``dep0`` (initial), ``dep_coll``
(collateral gain held), ``dep_sold`` (collateral gain sold).
"""

from __future__ import annotations

import math

import numpy as np

from liqcascade.errors import InputError
from liqcascade.protocols.kernel import NACC
from liqcascade.protocols.liquity import kernel as K
from liqcascade.protocols.liquity.model import LiquityConfig
from liqcascade.venues.dispatch import route_sell


def _err(where: str, reason: str) -> InputError:
    return InputError(None, f"liquity.{where}", reason)


def build_pack(config: LiquityConfig, coll, debt, sp_deposits=None, *, asset: int = 0) -> tuple:
    """Pack for :func:`~liqcascade.protocols.liquity.kernel.liquity_step`.

    ``coll``/``debt``: each trove's collateral (asset units) and *composite* debt in LUSD, the
    gas reserve included (as Liquity records it). ``sp_deposits``: depositors' LUSD (scalar or
    array); default: ``config.depositors`` or ``config.stability_pool``. ``asset``: index of the
    collateral in ``prices``/``sold``. Stakes are the collateral (a fresh system, §4.6).
    """
    coll = np.array(coll, dtype=np.float64, ndmin=1)
    debt = np.array(debt, dtype=np.float64, ndmin=1)
    if coll.ndim != 1 or coll.shape != debt.shape:
        raise _err("build_pack", f"coll and debt must be 1-D of equal length, got {coll.shape} and {debt.shape}")
    n = coll.shape[0]
    if n == 0:
        raise _err("build_pack", "no troves")
    if not (np.all(np.isfinite(coll)) and np.all(np.isfinite(debt))):
        raise _err("build_pack", "coll and debt must be finite")
    if np.any(coll <= 0):
        raise _err("coll", f"trove {int(np.argmax(coll <= 0))}: collateral must be > 0")
    if np.any(debt <= config.gas_compensation) or np.any(debt <= 0):
        i = int(np.argmax((debt <= config.gas_compensation) | (debt <= 0)))
        raise _err("debt", f"trove {i}: debt {debt[i]} must exceed the gas compensation "
                           f"{config.gas_compensation} (debt is composite: the reserve is included)")
    if config.check_min_debt:
        short = debt - config.gas_compensation < config.min_net_debt * (1 - 1e-12)
        if np.any(short):
            i = int(np.argmax(short))
            raise _err("debt", f"trove {i}: net debt {debt[i] - config.gas_compensation} below "
                               f"MIN_NET_DEBT {config.min_net_debt} (set check_min_debt = false to allow)")
    if sp_deposits is None:
        dep = config.deposits()
    else:
        dep = np.array(sp_deposits, dtype=np.float64, ndmin=1)
    if dep.ndim != 1 or dep.shape[0] == 0 or not np.all(np.isfinite(dep)) or np.any(dep < 0):
        raise _err("sp_deposits", "deposits must be a non-empty list of finite amounts >= 0")
    if asset < 0:
        raise _err("asset", "asset index must be >= 0")

    # exactly rounded sums, so the totals do not depend on the summation order
    coll_sum = math.fsum(coll.tolist())
    debt_sum = math.fsum(debt.tolist())
    dep_sum = math.fsum(dep.tolist())
    par = np.zeros(K.NPAR)
    par[K.P_MCR] = config.mcr
    par[K.P_CCR] = config.ccr
    par[K.P_GAS_COMP] = config.gas_compensation
    par[K.P_MIN_NET_DEBT] = config.min_net_debt
    par[K.P_PCT_DIV] = config.percent_divisor
    par[K.P_VARIANT] = K.VARIANT_2025 if config.variant == "2025" else K.VARIANT_2021
    par[K.P_MIN_SP] = config.min_lusd_in_sp
    par[K.P_SP_SELLS] = config.sp_sells
    par[K.P_ASSET] = asset
    par[K.P_SEQS] = config.sequences_per_step
    par[K.P_COLL0] = coll_sum
    par[K.P_DEBT0] = debt_sum
    par[K.P_SP0] = dep_sum
    par[K.P_N0] = n
    if config.batch_gas_base is not None:
        par[K.P_BATCH] = 1.0
        par[K.P_GAS_BASE] = config.batch_gas_base
        par[K.P_GAS_TROVE] = config.batch_gas_per_trove

    sysv = np.zeros(K.NSYS)
    sysv[K.S_AC] = coll_sum
    sysv[K.S_AD] = debt_sum
    sysv[K.S_STAKES] = coll_sum
    sysv[K.S_SP_LUSD] = dep_sum
    sysv[K.S_GAS_POOL] = config.gas_compensation * n
    sysv[K.S_TCR_MIN] = math.inf

    return (
        par, sysv, coll.copy(), debt.copy(), coll.copy(), np.zeros(n), np.zeros(n),
        np.full(n, K.ST_ACTIVE), np.zeros(n),
        dep.copy(), dep.copy(), np.zeros(dep.shape[0]), np.zeros(dep.shape[0]),
    )


def entire(pack) -> tuple[np.ndarray, np.ndarray]:
    """Each trove's entire collateral and debt (recorded + pending rewards; 0 when closed)."""
    sysv = pack[K.PK_SYS]
    stake = pack[K.PK_STAKE]
    act = pack[K.PK_STATUS] == K.ST_ACTIVE
    ec = pack[K.PK_COLL] + stake * (sysv[K.S_L_ETH] - pack[K.PK_SNAP_ETH])
    ed = pack[K.PK_DEBT] + stake * (sysv[K.S_L_DEBT] - pack[K.PK_SNAP_DEBT])
    return np.where(act, ec, 0.0), np.where(act, ed, 0.0)


def icr(pack, price: float) -> np.ndarray:
    """Current ICR of every trove (inf for closed troves)."""
    ec, ed = entire(pack)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ec * price / ed
    return np.where(pack[K.PK_STATUS] == K.ST_ACTIVE, r, np.inf)


def tcr(pack, price: float) -> float:
    return float(K.system_tcr(pack[K.PK_SYS], float(price)))


def totals(pack) -> dict:
    """Conservation view. Collateral: ``coll_troves + coll_default_pool + coll_sp_held +
    coll_sp_sold + coll_surplus_pool + coll_gas_comp == coll_initial``. Debt (composite, gas
    reserve included): ``debt_troves + debt_default_pool + debt_offset == debt_initial``, where
    ``debt_offset`` is the depositors' LUSD loss (``sp_initial − sp_lusd``). Gas reserve:
    ``gas_pool + gas_comp_lusd == gas_reserve_initial``. ``*_entire`` include pending rewards
    (``coll_troves_entire ≈ coll_troves + coll_default_pool`` up to rounding)."""
    par = pack[K.PK_PAR]
    s = pack[K.PK_SYS]
    act = pack[K.PK_STATUS] == K.ST_ACTIVE
    ec, ed = entire(pack)
    coll_tr = float(pack[K.PK_COLL][act].sum())
    debt_tr = float(pack[K.PK_DEBT][act].sum())
    out = {
        "coll_initial": float(par[K.P_COLL0]),
        "coll_troves": coll_tr,
        "coll_troves_entire": float(ec.sum()),
        "coll_default_pool": float(s[K.S_DC]),
        "coll_sp_held": float(pack[K.PK_DEP_COLL].sum()),
        "coll_sp_sold": float(pack[K.PK_DEP_SOLD].sum()),
        "coll_sp_received": float(s[K.S_SP_COLL_IN]),
        "coll_surplus_pool": float(s[K.S_SURPLUS]),
        "coll_gas_comp": float(s[K.S_GC_COLL]),
        "debt_initial": float(par[K.P_DEBT0]),
        "debt_troves": debt_tr,
        "debt_troves_entire": float(ed.sum()),
        "debt_default_pool": float(s[K.S_DD]),
        "debt_offset": float(s[K.S_SP_OFFSET]),
        "sp_initial": float(par[K.P_SP0]),
        "sp_lusd": float(s[K.S_SP_LUSD]),
        "sp_loss": float((pack[K.PK_DEP0] - pack[K.PK_DEP]).sum()),
        "gas_reserve_initial": float(par[K.P_GAS_COMP] * par[K.P_N0]),
        "gas_pool": float(s[K.S_GAS_POOL]),
        "gas_comp_lusd": float(s[K.S_GC_LUSD]),
        "redistributed_coll": float(s[K.S_RED_COLL]),
        "redistributed_debt": float(s[K.S_RED_DEBT]),
        "n_active": int(act.sum()),
        "n_liquidated": int(s[K.S_NLIQ]),
        "tcr_min": float(s[K.S_TCR_MIN]),
        "recovery_mode_steps": int(s[K.S_RM_STEPS]),
        "recovery_mode_entries": int(s[K.S_RM_ENTRIES]),
        "batches_not_sent": int(s[K.S_BATCH_SKIP]),
        "total_stakes": float(s[K.S_STAKES]),
        "L_ETH": float(s[K.S_L_ETH]),
        "L_LUSDDebt": float(s[K.S_L_DEBT]),
    }
    out["coll_total"] = (coll_tr + out["coll_default_pool"] + out["coll_sp_held"] + out["coll_sp_sold"]
                         + out["coll_surplus_pool"] + out["coll_gas_comp"])
    out["debt_total"] = debt_tr + out["debt_default_pool"] + out["debt_offset"]
    return out


def run_unit(pack, prices_path, vs, vdk, vdq, av_ptr, av_idx, liq, dt_seconds, *,
             ev_cap: int = 100_000, proto_id: int = 0, pos_offset: int = 0) -> dict:
    """Run the unit alone over ``prices_path[T+1, A]`` (row ``t`` is the oracle price at step
    ``t``; row 0 is the start and is not acted on). After each step the collateral in ``sold``
    is routed into the asset's venues with :func:`~liqcascade.venues.dispatch.route_sell` (a
    fixed price when the asset has no venue) and the step's events get the execution price.
    The venues move only through these sales; ``pack`` and ``vs`` are mutated in place.

    Returns ``acc`` (float64[NACC]), ``events`` (dict of arrays, length ``n_ev``), ``n_ev``,
    per step ``sold[T+1, A]``, ``proceeds[T+1, A]``, ``tcr[T+1]`` (after the step's
    liquidations, at its price), ``n_active[T+1]``.
    """
    prices_path = np.asarray(prices_path, dtype=np.float64)
    if prices_path.ndim != 2:
        raise _err("run_unit", "prices_path must be [T+1, A]")
    T = prices_path.shape[0] - 1
    A = prices_path.shape[1]
    a = int(pack[K.PK_PAR][K.P_ASSET])
    if a >= A:
        raise _err("run_unit", f"collateral asset index {a} outside prices_path with {A} assets")
    av_ptr = np.asarray(av_ptr, dtype=np.int64)
    av_idx = np.asarray(av_idx, dtype=np.int64)
    liq = np.asarray(liq, dtype=np.float64)
    acc = np.zeros(NACC)
    ev = {
        "step": np.zeros(ev_cap, np.int64), "pos": np.zeros(ev_cap, np.int64),
        "proto": np.zeros(ev_cap, np.int64), "asset": np.zeros(ev_cap, np.int64),
        "seized": np.zeros(ev_cap), "repaid": np.zeros(ev_cap), "price": np.zeros(ev_cap),
        "exec": np.zeros(ev_cap), "bonus": np.zeros(ev_cap), "bad": np.zeros(ev_cap),
        "fee": np.zeros(ev_cap),
    }
    sold_path = np.zeros((T + 1, A))
    proceeds = np.zeros((T + 1, A))
    tcr_path = np.full(T + 1, np.nan)
    n_active = np.zeros(T + 1, np.int64)
    tcr_path[0] = tcr(pack, prices_path[0, a])
    n_active[0] = int((pack[K.PK_STATUS] == K.ST_ACTIVE).sum())
    n_ev = 0
    for t in range(1, T + 1):
        prices = np.ascontiguousarray(prices_path[t])
        sold = np.zeros(A)
        first = n_ev
        n_ev = K.liquity_step(
            pack, t, float(dt_seconds), prices, vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
            ev["step"], ev["pos"], ev["proto"], ev["asset"], ev["seized"], ev["repaid"],
            ev["price"], ev["exec"], ev["bonus"], ev["bad"], ev["fee"], n_ev, proto_id, pos_offset)
        for b in range(A):
            if sold[b] <= 0.0:
                continue
            ids = av_idx[av_ptr[b]:av_ptr[b + 1]] if b + 1 < av_ptr.shape[0] else av_idx[:0]
            if ids.shape[0] > 0:
                q, _ = route_sell(vs, vdk, vdq, np.ascontiguousarray(ids), sold[b])
            else:
                q = sold[b] * prices[b]
            sold_path[t, b] = sold[b]
            proceeds[t, b] = q
            px = q / sold[b]
            for j in range(first, n_ev):
                if ev["asset"][j] == b:
                    ev["exec"][j] = px
        tcr_path[t] = tcr(pack, prices[a])
        n_active[t] = int((pack[K.PK_STATUS] == K.ST_ACTIVE).sum())
    return {
        "acc": acc,
        "n_ev": n_ev,
        "events": {k: v[:n_ev].copy() for k, v in ev.items()},
        "sold": sold_path,
        "proceeds": proceeds,
        "tcr": tcr_path,
        "n_active": n_active,
    }
