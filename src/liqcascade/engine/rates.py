"""``[protocols.rates.ASSET]`` → the :class:`~liqcascade.kernels.accrual.Rates` layout, its checks
and notes, and the run's rate outputs (per-step table and per-row totals).

No ``rates`` table anywhere: :func:`build_rates` gives the empty layout and the loop runs exactly
as before (no accrual).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..kernels import accrual as KA
from ..timebase import whole_steps

KIND_CODE = {"aave_v3": KA.RK_AAVE, "comet": KA.RK_COMET, "fixed": KA.RK_FIXED, "liquity": KA.RK_LIQUITY}

#: per-step columns of the rates table (``RunResult.rates_steps``) and per-row totals
#: (``RunResult.rates``), in the kernel's column order (``kernels.accrual`` RR_* / RT_*)
STEP_COLUMNS = KA.STEP_NAMES
TOTAL_COLUMNS = KA.TOTAL_NAMES


def has_rates(sc) -> bool:
    return any(getattr(p, "rates", None) for p in sc.protocols)


def rate_rows(c) -> list[tuple[int, int, object]]:
    """``(protocol index, asset index, RatePool)`` in scenario order."""
    aidx = {n: i for i, n in enumerate(c.assets)}
    rows = []
    for k, pr in enumerate(c.scenario.protocols):
        for asset, cfg in (getattr(pr, "rates", None) or {}).items():
            rows.append((k, aidx[asset], cfg))
    return rows


def book_debt(b, k: int, a: int) -> float:
    """The Aave-rule book's single-pair debt of protocol ``k`` in asset ``a`` (units)."""
    tot = 0.0
    for s in range(b.seg_asset.shape[0]):
        if int(b.seg_proto[s]) == k and int(b.seg_debt_asset[s]) == a:
            tot += float(np.sum(b.debt[b.seg_ptr[s]:b.seg_ptr[s + 1]]))
    return tot


def check_rates(c, source: str | None = None) -> list[str]:
    """Refuse what the rate model cannot run, and say how it simplifies (returned notes)."""
    sc = c.scenario
    rows = rate_rows(c)
    if not rows:
        if sc.liquidators.debt_source == "pool":
            raise InputError(source, "liquidators.debt_source",
                             "'pool' needs a lending pool: add [protocols.rates.ASSET] with kind aave_v3 or comet")
        return []
    b = c.book
    notes = []
    for k, a, cfg in rows:
        pname = sc.protocols[k].name
        where = f"protocols.{pname}.rates.{c.assets[a]}"
        if b.n_multi and np.any(np.asarray(b.m_proto) == k):
            raise InputError(source, where, "interest accrual runs on single-pair positions only; this protocol has "
                             "multi-asset positions (not supported with rates in this version)")
        if hasattr(cfg, "supply"):
            d0 = book_debt(b, k, a)
            borrows = cfg.supply * cfg.utilization if cfg.utilization is not None else d0
            if borrows > cfg.supply:
                raise InputError(source, f"{where}.supply",
                                 f"the book borrows {d0:,.6g} {c.assets[a]}, more than the pool's supply {cfg.supply:,.6g}")
            if d0 > borrows * (1 + 1e-12):
                raise InputError(source, f"{where}.utilization",
                                 f"utilization {cfg.utilization} gives borrows of {borrows:,.6g}, below the book's debt "
                                 f"{d0:,.6g} (the book's positions borrow from this pool)")
    kinds = sorted({cfg.kind for _, _, cfg in rows})
    notes.append("interest accrues per step into debt through a borrow index (positions hold scaled debt); "
                 "interest is created debt: debt before + interest accrued = repaid + repaid by borrowers + "
                 "bad debt + left")
    if any(cfg.kind == "aave_v3" for _, _, cfg in rows):
        notes.append("aave_v3 rates: the strategy's rates are recomputed after each step's accrual (as the next "
                     "action on a busy reserve does); bad debt becomes the reserve's deficit")
    if any(cfg.kind == "liquity" for _, _, cfg in rows):
        notes.append("liquity: no interest (a one-off borrowing fee on new debt, which the loop does not open); "
                     "its debt does not grow")
    if any(cfg.kind == "fixed" for _, _, cfg in rows):
        notes.append("fixed: a stability fee compounded per second; no lending pool (nothing to withdraw or cap)")
    if any(getattr(cfg, "withdraw_per_step", 0) > 0 for _, _, cfg in rows):
        notes.append("lenders withdraw before the step's liquidations; unserved withdrawals stay queued "
                     "(locked out) until liquidity returns")
    if sc.liquidators.debt_source == "pool":
        notes.append("liquidators source the debt asset from its pool: each step they may repay no more than the "
                     "pool's available liquidity after the lenders' withdrawals (repayments return it next step)")
    if any(getattr(cfg, "react_rate", 0) > 0 for _, _, cfg in rows):
        notes.append("reacting borrowers repay a uniform fraction of every position's debt while the borrow rate is "
                     "above react_rate (repay only; no deleveraging of collateral)")
    notes.append(f"rate models in the loop: {', '.join(kinds)}; new borrowing, supply caps and flash-loan premiums "
                 "are not modelled")
    return notes


def build_rates(c, book) -> KA.Rates:
    """The layout for the engine book ``book`` (after the mechanisms' re-keying)."""
    P, A = len(c.protocols), c.n_assets
    rows = rate_rows(c)
    if not rows:
        return KA.rates_empty(P, A)
    sc = c.scenario
    dt = float(sc.simulation.dt_seconds)
    R = len(rows)
    kind = np.zeros(R, np.int64)
    proto = np.zeros(R, np.int64)
    asset = np.zeros(R, np.int64)
    row_of = np.full((P, A), -1, np.int64)
    par = np.zeros((R, KA.NRP))
    st0 = np.zeros((R, KA.NRS))
    cfgs = np.zeros((R, KA.NRW))
    book0 = np.zeros(R)
    for r, (k, a, cfg) in enumerate(rows):
        kind[r] = KIND_CODE[cfg.kind]
        proto[r] = k
        asset[r] = a
        row_of[k, a] = r
        d0 = book_debt(book, k, a)
        book0[r] = d0
        m = cfg.model()
        if cfg.kind in ("aave_v3", "comet"):
            borrows = cfg.supply * cfg.utilization if cfg.utilization is not None else d0
            p = m.pack()
            s = m.initial_state(cfg.supply, min(borrows, cfg.supply))
            cfgs[r, KA.RW_FRAC] = cfg.withdraw_per_step
            cfgs[r, KA.RW_START] = whole_steps(cfg.withdraw_start_seconds, dt)
            cfgs[r, KA.RW_END] = (whole_steps(cfg.withdraw_start_seconds + cfg.withdraw_for_seconds, dt) - 1
                                  if cfg.withdraw_for_seconds is not None else 1e18)
        elif cfg.kind == "fixed":
            p = m.pack()
            s = m.initial_state()
        else:
            p = np.zeros(0)
            s = np.zeros(0)
        par[r, :p.shape[0]] = p
        st0[r, :s.shape[0]] = s
        cfgs[r, KA.RW_REACT] = getattr(cfg, "react_rate", 0.0)
        cfgs[r, KA.RW_REPAY] = getattr(cfg, "react_repay", 0.0)
    return KA.Rates(True, sc.liquidators.debt_source == "pool", kind, proto, asset, row_of, par, st0, cfgs, book0,
                    np.zeros((0, R, KA.NRR)), np.zeros((R, KA.NRT)))


def for_record(rates: KA.Rates, T: int) -> KA.Rates:
    """The layout with fresh outputs that record ``T + 1`` steps."""
    R = rates.kind.shape[0]
    return rates._replace(rec=np.zeros((T + 1 if rates.on else 0, R, KA.NRR)), tot=np.zeros((R, KA.NRT)))


def row_names(c, rates: KA.Rates) -> list[tuple[str, str]]:
    return [(c.protocols[int(rates.proto[r])], c.assets[int(rates.asset[r])]) for r in range(rates.kind.shape[0])]


def totals_dict(c, rates: KA.Rates, tot: np.ndarray) -> dict:
    """``{"protocol/asset": {column: value}}`` of a recorded path's totals, with the kind and
    the book's debt at the start."""
    out = {}
    for r, (pn, an) in enumerate(row_names(c, rates)):
        d = {"kind": [k for k, v in KIND_CODE.items() if v == int(rates.kind[r])][0],
             "debt_before": float(rates.book0[r])}
        for j, name in enumerate(TOTAL_COLUMNS):
            v = float(tot[r, j])
            d[name] = v if math.isfinite(v) else None
        out[f"{pn}/{an}"] = d
    return out
