"""crvUSD LLAMMA protocol unit: configuration, state pack, accounting and a small driver.

Source of truth: ``protocol-mechanics.md`` §5 (``curvefi/curve-stablecoin`` tag ``v1``); the
mechanics and every simplification are described in :mod:`liqcascade.protocols.llamma.kernel` and
``protocols/llamma/README.md``.

* :class:`LlammaConfig` — validated parameters, with the limits of ``ControllerFactory.add_market``
  (§5.5): ``A ∈ [2, 10000]``, ``fee ∈ [1e-12, 10 %]`` and below the Controller's
  ``MAX_FEE = min(MIN_TICKS / A, 10 %)``, ``loan_discount ≤ 50 %``,
  ``liquidation_discount ≥ 1 %``, ``loan_discount > liquidation_discount``, ``admin_fee ≤ 100 %``,
  ``4 ≤ N ≤ 50`` (``MIN_TICKS``/``MAX_TICKS``, §5.3).
* :data:`PRESETS` — ``crvusd_launch``: A = 100, loan_discount 9 %, liquidation_discount 6 %,
  fee 0.6 % (§5.5).
* :func:`build_pack` — opens the loans: each user's band range is placed as
  ``Controller._calculate_debt_n1`` does and its collateral deposited equally over its bands
  (``AMM.deposit_range``).
* :func:`totals` — conservation of collateral, stablecoin and debt (by name).
* :func:`run_unit` — runs the unit alone over a price path (tests, notebooks).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from liqcascade.errors import InputError
from liqcascade.protocols.kernel import NACC
from liqcascade.protocols.llamma import kernel as K
from liqcascade.protocols.llamma.model import LlammaConfig
from liqcascade.venues.dispatch import route_sell, venue_apply_return, venue_decay
from liqcascade.venues.kernel import ASSET

__all__ = ["build_pack", "totals", "run_unit", "max_borrowable", "y_effective", "band_of_price", "liq_vector"]


# -------------------------------------------------------------------------------------------
# band placement (Controller._calculate_debt_n1, get_y_effective, max_borrowable)
# -------------------------------------------------------------------------------------------


def _log_ratio(A: int) -> float:
    return math.log(A / (A - 1.0))


def band_of_price(config: LlammaConfig, p: float, p_base: float) -> int:
    """The band ``n`` with ``p_oracle_down(n) < p <= p_oracle_up(n)``."""
    n = math.floor(math.log(p_base / p) / _log_ratio(config.A) + 1e-9)
    while K.p_oracle_up(p_base, float(config.A), n) < p:
        n -= 1
    while K.p_oracle_down(p_base, float(config.A), n) >= p:
        n += 1
    return n


def y_effective(config: LlammaConfig, collateral: float, n_bands: int, discount: float | None = None) -> float:
    """``Controller.get_y_effective``: ``y (1 − discount) / N · sqrt((A−1)/A) · Σ_k ((A−1)/A)^k``,
    so that ``y_effective · p_oracle_up(n1)`` is the stablecoin the collateral yields when walked
    down through ``n1 .. n1 + N − 1`` (discounted)."""
    A = float(config.A)
    d = config.loan_discount if discount is None else discount
    r = (A - 1.0) / A
    return collateral * (1.0 - d) / n_bands * math.sqrt(r) * sum(r**k for k in range(n_bands))


def max_borrowable(config: LlammaConfig, collateral: float, n_bands: int, p0: float) -> float:
    """``Controller.max_borrowable`` on an AMM without stablecoin in its bands:
    ``y_effective · p_o · (A − 1)/A``, less 0.01 % ("make it a bit smaller")."""
    A = float(config.A)
    return y_effective(config, collateral, n_bands) * p0 * (A - 1.0) / A * (1.0 - 1e-4)


def _calculate_n1(config: LlammaConfig, collateral: float, debt: float, n_bands: int,
                  p0: float, p_base: float, n0: int, where: str) -> int:
    A = float(config.A)
    ratio = y_effective(config, collateral, n_bands) * K.p_oracle_up(p_base, A, n0) / debt
    if not ratio > 0:
        raise InputError(None, where, "collateral too low")
    n1 = math.floor(math.log(ratio) / _log_ratio(config.A))
    n1 = min(n1, K.MAX_SKIP_TICKS - n_bands) + n0
    if not K.p_oracle_up(p_base, A, n1) < p0:
        mx = max_borrowable(config, collateral, n_bands, p0)
        raise InputError(None, where, f"Debt too high: {debt:g} > about {mx:g} (max borrowable)")
    return n1


# -------------------------------------------------------------------------------------------
# pack
# -------------------------------------------------------------------------------------------


def build_pack(config: LlammaConfig, collateral, debt, n_bands, p0: float, *, asset: int = 0):
    """Open one loan per entry of ``collateral``/``debt`` (``n_bands``: scalar or per user;
    ``None``: ``config.n_bands``) at oracle price ``p0``. Returns the pack tuple (layout in
    :mod:`liqcascade.protocols.llamma.kernel`)."""
    coll = np.atleast_1d(np.asarray(collateral, dtype=float))
    dbt = np.atleast_1d(np.asarray(debt, dtype=float))
    if coll.shape != dbt.shape or coll.ndim != 1:
        raise InputError(None, "positions", "collateral and debt must be 1-D arrays of one length")
    U = coll.shape[0]
    if n_bands is None:
        n_bands = config.n_bands
    nbs = np.broadcast_to(np.asarray(n_bands, dtype=np.int64), (U,)).copy()
    if not (math.isfinite(p0) and p0 > 0):
        raise InputError(None, "p0", f"must be a finite price > 0, got {p0!r}")
    A = float(config.A)
    p_base = float(config.base_price) if config.base_price is not None else float(p0)
    n0 = band_of_price(config, p0, p_base)
    n1s = np.zeros(U, np.int64)
    for u in range(U):
        w = f"positions[{u}]"
        if not (math.isfinite(coll[u]) and coll[u] > 0):
            raise InputError(None, f"{w}.collateral", "must be > 0")
        if not (math.isfinite(dbt[u]) and dbt[u] > 0):
            raise InputError(None, f"{w}.debt", "must be > 0")
        if not K.MIN_TICKS <= nbs[u] <= K.MAX_TICKS:
            raise InputError(None, f"{w}.n_bands", f"must be in [{K.MIN_TICKS}, {K.MAX_TICKS}]")
        n1s[u] = _calculate_n1(config, coll[u], dbt[u], int(nbs[u]), p0, p_base, n0, w)
    nlo = int(min(n0, n1s.min())) if U else n0
    nhi = int(max((n1s + nbs - 1).max(), n0)) if U else n0
    NB = nhi - nlo + 1
    bx = np.zeros(NB)
    by = np.zeros(NB)
    bs = np.zeros(NB)
    u_sh = np.zeros((U, K.MAX_TICKS))
    for u in range(U):
        N = int(nbs[u])
        per = coll[u] / N
        for k in range(N):
            i = int(n1s[u]) + k - nlo
            y = per if k > 0 else coll[u] - per * (N - 1)
            ds = y if bs[i] == 0.0 else bs[i] * y / by[i]
            u_sh[u, k] = ds
            bs[i] += ds
            by[i] += y
    par = np.zeros(K.NPAR)
    par[K.P_A] = A
    par[K.P_BASE] = p_base
    par[K.P_FEE] = config.fee
    par[K.P_ADMIN_FEE] = config.admin_fee
    par[K.P_LOAN_DISC] = config.loan_discount
    par[K.P_LIQ_DISC] = config.liquidation_discount
    par[K.P_LIMITER] = 1.0 if config.oracle_limiter else 0.0
    par[K.P_DYNFEE] = 1.0 if config.dynamic_fee else 0.0
    par[K.P_ASSET] = asset
    par[K.P_NLO] = nlo
    par[K.P_ARB_THR] = config.arb_threshold
    st = np.zeros(K.NST)
    st[K.S_ACTIVE] = n0
    st[K.S_PO] = p0
    st[K.S_OLD_PO] = p0
    st[K.S_PREV_TIME] = 0.0  # the oracle was written at t = 0 with p0
    st[K.S_COLL0] = float(coll.sum())
    st[K.S_DEBT0] = float(dbt.sum())
    return (
        par, st, bx, by, bs, n1s, nbs, u_sh, dbt.copy(),
        np.full(U, config.liquidation_discount), coll.copy(), np.ones(U, np.bool_),
    )


def totals(pack) -> dict:
    """Holdings and flows by name, with the three conservation residuals (≈ 0):

    * collateral: ``bands + admin fees + liquidated + withdrawn + arb inventory
      + (sold − bought by the arbitrageur on the market) − deposited``;
    * stablecoin: ``bands + admin fees + liquidated + withdrawn + arb P&L
      − net quote the arbitrageur took from the market`` (no stablecoin enters the bands except
      through the arbitrageur);
    * debt: ``open + repaid + bad − initial``.
    """
    par, st, bx, by, bs, u_n1, u_nb, u_sh, u_debt, u_ld, u_coll0, u_open = pack
    S = K
    out = {
        "coll_bands": float(by.sum()),
        "coll_admin_fees": float(st[S.S_ADMIN_Y]),
        "coll_liquidated": float(st[S.S_LIQ_Y]),
        "coll_withdrawn": float(st[S.S_WD_Y]),
        "arb_inventory": float(st[S.S_ARB_INV]),
        "coll_to_market": float(st[S.S_ARB_SOLD_Y] - st[S.S_ARB_BOUGHT_Y]),
        "coll_initial": float(st[S.S_COLL0]),
        "x_bands": float(bx.sum()),
        "x_admin_fees": float(st[S.S_ADMIN_X]),
        "x_liquidated": float(st[S.S_LIQ_X]),
        "x_withdrawn": float(st[S.S_WD_X]),
        "arb_pnl": float(st[S.S_ARB_CASH]),
        "quote_from_market": float(st[S.S_ARB_Q_IN] - st[S.S_ARB_Q_OUT]),
        "debt_open": float(u_debt[u_open].sum()),
        "debt_repaid": float(st[S.S_REPAID]),
        "debt_bad": float(st[S.S_BAD]),
        "debt_initial": float(st[S.S_DEBT0]),
        "liquidator_cash": float(st[S.S_LIQR_CASH]),
        "fees_x": float(st[S.S_FEE_X]),
        "fees_y": float(st[S.S_FEE_Y]),
        "n_hard": int(st[S.S_N_HARD]),
        "n_arb": int(st[S.S_N_ARB]),
        "n_open": int(u_open.sum()),
        "active_band": int(st[S.S_ACTIVE]),
        "p_o": float(st[S.S_PO]),
    }
    out["coll_residual"] = (
        out["coll_bands"] + out["coll_admin_fees"] + out["coll_liquidated"] + out["coll_withdrawn"]
        + out["arb_inventory"] + out["coll_to_market"] - out["coll_initial"]
    )
    out["x_residual"] = (
        out["x_bands"] + out["x_admin_fees"] + out["x_liquidated"] + out["x_withdrawn"]
        + out["arb_pnl"] - out["quote_from_market"]
    )
    out["debt_residual"] = out["debt_open"] + out["debt_repaid"] + out["debt_bad"] - out["debt_initial"]
    return out


# -------------------------------------------------------------------------------------------
# driver
# -------------------------------------------------------------------------------------------


def run_unit(pack, prices_path, vs, vdk, vdq, av_ptr, av_idx, liq, dt_seconds, *,
             proto_id: int = 0, pos_offset: int = 0, max_events: int | None = None,
             move_venues: bool = True, record: bool = False) -> dict:
    """Run the unit alone over ``prices_path[T + 1, A]`` (row 0 = start), mutating ``pack`` and
    the venues.

    Each step ``t = 1..T``, in the engine's order: every venue moves by its asset's return
    ``prices_path[t] / prices_path[t − 1]`` and recovers impact (``venue_apply_return``,
    ``venue_decay``; skipped with ``move_venues=False``); the unit runs with oracle prices
    ``prices_path[t]``; the collateral in ``sold`` is routed over the asset's venues
    (``route_sell``; valued at the oracle price when the asset has none) and fills ``exec``.

    Returns ``{"acc", "n_ev", "events" (dict of arrays), "proceeds"}`` and, with
    ``record=True``, ``"bands_x"``, ``"bands_y"`` ``[T + 1, NB]`` snapshots.
    """
    path = np.ascontiguousarray(prices_path, dtype=float)
    T = path.shape[0] - 1
    n_assets = path.shape[1]
    U = pack[8].shape[0]
    cap = (U + 16) if max_events is None else int(max_events)
    ev = {
        "step": np.zeros(cap, np.int64), "pos": np.zeros(cap, np.int64),
        "proto": np.zeros(cap, np.int64), "asset": np.zeros(cap, np.int64),
        "seized": np.zeros(cap), "repaid": np.zeros(cap), "price": np.zeros(cap),
        "exec": np.zeros(cap), "bonus": np.zeros(cap), "bad": np.zeros(cap), "fee": np.zeros(cap),
    }
    acc = np.zeros(NACC)
    sold = np.zeros(n_assets)
    proceeds = 0.0
    av_ptr = np.asarray(av_ptr, np.int64)
    av_idx = np.asarray(av_idx, np.int64)
    liq = np.asarray(liq, dtype=float)
    snaps_x = [pack[2].copy()] if record else None
    snaps_y = [pack[3].copy()] if record else None
    n_ev = 0
    for t in range(1, T + 1):
        if move_venues:
            for v in range(vs.shape[0]):
                a = int(vs[v, ASSET])
                venue_apply_return(vs, vdk, vdq, v, path[t, a] / path[t - 1, a])
                venue_decay(vs, v)
        sold[:] = 0.0
        first = n_ev
        n_ev = K.llamma_step(
            pack, t, float(dt_seconds), path[t], vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
            ev["step"], ev["pos"], ev["proto"], ev["asset"], ev["seized"], ev["repaid"],
            ev["price"], ev["exec"], ev["bonus"], ev["bad"], ev["fee"], n_ev, proto_id, pos_offset,
        )
        for a in range(n_assets):
            if sold[a] > 0.0:
                ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
                if ids.shape[0] > 0:
                    got, _ = route_sell(vs, vdk, vdq, ids, sold[a])
                else:
                    got = sold[a] * path[t, a]
                proceeds += got
                for j in range(first, n_ev):
                    if ev["asset"][j] == a:
                        ev["exec"][j] = got / sold[a]
        if record:
            snaps_x.append(pack[2].copy())
            snaps_y.append(pack[3].copy())
    out = {"acc": acc, "n_ev": n_ev, "events": {k: v[:n_ev] for k, v in ev.items()}, "proceeds": proceeds}
    if record:
        out["bands_x"] = np.array(snaps_x)
        out["bands_y"] = np.array(snaps_y)
    return out


def liq_vector(mode: Literal["mechanical", "rational"] = "mechanical", gas: float = 0.0,
               capital: float = 1e300, max_per_step: int = 0) -> np.ndarray:
    """The liquidator settings vector ``liq[NLIQ]`` (protocols/kernel.py ``LQ_*``)."""
    from liqcascade.protocols.kernel import LQ_CAPITAL, LQ_GAS, LQ_MAX, LQ_MODE, NLIQ

    v = np.zeros(NLIQ)
    v[LQ_MODE] = 0.0 if mode == "mechanical" else 1.0
    v[LQ_GAS] = gas
    v[LQ_CAPITAL] = capital
    v[LQ_MAX] = max_per_step
    return v
