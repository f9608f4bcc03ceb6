"""Compound v3 (Comet) — configuration, presets, pack building and a stand-alone runner.

Rules as in ``protocol-mechanics.md`` §2 (Comet ``absorb`` / ``buyCollateral``) and §8.3 (pause
flags); the compiled step is :func:`liqcascade.protocols.comet.kernel.comet_step` (twin
:mod:`liqcascade.protocols.comet.twin`). See ``protocols/comet/README.md`` for what is exact and what
is simplified.

Validation mirrors Comet's constructor (``getPackedAssetInternal``, §2.1):
``borrowCF < liquidateCF`` (``BorrowCFTooLarge``), ``liquidateCF <= 1`` (``LiquidateCFTooLarge``),
``storeFrontPriceFactor <= 1`` (``BadDiscount``), at most ``MAX_ASSETS = 15`` collateral assets
(``TooManyAssets``); factors are truncated to 4 decimals as Comet stores them, and
``borrowCF < liquidateCF`` must still hold after truncation ("be nice" check). ``LF <= 1`` is
the later Comet check (``LiqPenaltyTooHigh``). The base token cannot be a collateral asset.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from liqcascade.errors import InputError
from liqcascade.protocols.comet import kernel as K
from liqcascade.protocols.comet.model import CometConfig, truncate_factor
from liqcascade.protocols.kernel import NACC
from liqcascade.venues.dispatch import route_sell, venue_apply_return

__all__ = ["build_pack", "totals", "run_unit"]


def build_pack(config: CometConfig, principal, collateral, asset_index: Mapping[str, int],
               *, prices0=None, check_borrows: bool = False) -> tuple:
    """The unit's state tuple (layout in :mod:`liqcascade.protocols.comet.kernel`).

    ``principal[N]``: base balance per account (negative = borrow), base units.
    ``collateral[N, K]``: collateral per account, one column per ``config.assets`` entry in its
    order (asset units, ``>= 0``). ``asset_index`` maps the base and every collateral name to the
    simulation's asset index. With ``check_borrows`` (needs ``prices0``, indexed by asset), every
    borrower must be one that Comet would have let borrow: debt ``>= borrow_min`` and
    ``isBorrowCollateralized`` at ``prices0``. Raises :class:`InputError`.
    """
    names = list(config.assets)
    k_n = len(names)
    p = np.array(principal, dtype=np.float64).reshape(-1)
    c = np.array(collateral, dtype=np.float64)
    if c.ndim == 1 and k_n == 1:
        c = c.reshape(-1, 1)
    if c.ndim != 2 or c.shape != (p.shape[0], k_n):
        raise InputError(None, "collateral", f"expected shape ({p.shape[0]}, {k_n}), got {c.shape}")
    if not np.all(np.isfinite(p)):
        raise InputError(None, "principal", "must be finite")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise InputError(None, "collateral", "must be finite and >= 0")
    for name in [config.base, *names]:
        if name not in asset_index:
            raise InputError(None, "asset_index", f"no asset index for {name!r}")
        idx = asset_index[name]
        if isinstance(idx, bool) or int(idx) != idx or idx < 0:
            raise InputError(None, f"asset_index.{name}", f"must be an integer >= 0, got {idx!r}")
    par = np.zeros(K.NPAR)
    par[K.P_BASE] = asset_index[config.base]
    par[K.P_SFPF] = config.store_front_price_factor
    par[K.P_TARGET] = config.target_reserves
    par[K.P_BORROW_MIN] = config.borrow_min
    par[K.P_ABSORB_PAUSED] = float(config.absorb_paused)
    par[K.P_BUY_PAUSED] = float(config.buy_paused)
    par[K.P_BUY_EVENTS] = float(config.record_buys)
    asset = np.array([int(asset_index[n]) for n in names], dtype=np.int64)
    fac = np.zeros((k_n, K.NFAC))
    for j, n in enumerate(names):
        a = config.assets[n]
        fac[j, K.F_BORROW_CF] = truncate_factor(a.borrow_collateral_factor)
        fac[j, K.F_LIQ_CF] = truncate_factor(a.liquidate_collateral_factor)
        fac[j, K.F_LF] = truncate_factor(a.liquidation_factor)
    if check_borrows:
        if prices0 is None:
            raise InputError(None, "prices0", "check_borrows needs the initial prices")
        px = np.array([float(prices0[i]) for i in asset])
        pb = float(prices0[int(par[K.P_BASE])])
        for i in np.flatnonzero(p < 0):
            if -p[i] < config.borrow_min:
                raise InputError(None, f"principal[{i}]",
                                 f"borrow {-p[i]:g} < borrow_min {config.borrow_min:g} (Comet: BorrowTooSmall)")
            if not K.is_borrow_collateralized(p[i], c[i], px, fac[:, K.F_BORROW_CF].copy(), pb):
                raise InputError(None, f"principal[{i}]",
                                 "borrow not collateralized at borrowCF (Comet: NotCollateralized)")
    st = np.zeros(K.NST)
    st[K.S_RESERVES] = config.initial_reserves
    return (
        par, asset, fac, p, np.ascontiguousarray(c), st,
        np.zeros(k_n), np.zeros(k_n), np.zeros(k_n), np.full(k_n + 1, np.nan),
    )


def copy_pack(pack: tuple) -> tuple:
    """A deep copy of a pack."""
    return tuple(x.copy() for x in pack)


def totals(pack: tuple) -> dict:
    """Conservation view of a pack (amounts per collateral slot are arrays in Comet's order).

    * collateral: ``collateral_held + collateral_seized`` is constant per slot, and
      ``collateral_reserves = seized − bought`` (plus any reserves the pack started with);
    * base: ``debt + debt_absorbed`` and ``supply − supply_credited`` are constant;
      ``reserves = initial − debt_absorbed − supply_credited + base_from_buyers``, i.e.
      ``base_cash = reserves + supply − debt`` changes only by what buyers pay in;
    * ``debt_absorbed = repaid_by_credit + shortfall`` (the shortfall is the bad debt the
      reserves absorb);
    * ``collateral_reserves_value``: the unsold collateral marked to the last protocol prices
      the step saw (NaN before the first step); ``protocol_equity`` adds the reserves.
    """
    par, asset, fac, principal, coll, st, cres, seized, bought, last_px = pack
    k_n = asset.shape[0]
    debt = float(np.sum(np.where(principal < 0, -principal, 0.0)))
    supply = float(np.sum(np.where(principal > 0, principal, 0.0)))
    reserves = float(st[K.S_RESERVES])
    mtm = float(np.sum(cres * last_px[:k_n])) if k_n else 0.0
    pb = float(last_px[k_n])
    return {
        "collateral_assets": asset.copy(),
        "collateral_held": coll.sum(axis=0) if coll.shape[0] else np.zeros(k_n),
        "collateral_reserves": cres.copy(),
        "collateral_seized": seized.copy(),
        "collateral_bought": bought.copy(),
        "debt": debt,
        "supply": supply,
        "reserves": reserves,
        "base_cash": reserves + supply - debt,
        "debt_absorbed": float(st[K.S_DEBT_ABSORBED]),
        "supply_credited": float(st[K.S_SUPPLY_CREDITED]),
        "shortfall": float(st[K.S_SHORTFALL]),
        "repaid_by_credit": float(st[K.S_DEBT_ABSORBED] - st[K.S_SHORTFALL]),
        "base_from_buyers": float(st[K.S_BUY_BASE]),
        "num_absorbs": float(st[K.S_NUM_ABSORBS]),
        "num_absorbed": float(st[K.S_NUM_ABSORBED]),
        "approx_spend": float(st[K.S_APPROX_SPEND]),
        "num_buys": float(st[K.S_NUM_BUYS]),
        "buy_gas": float(st[K.S_BUY_GAS]),
        "collateral_reserves_value": mtm,
        "protocol_equity": reserves * pb + mtm,
    }


def _event_buffers(cap: int):
    i = lambda: np.zeros(cap, np.int64)  # noqa: E731
    f = lambda: np.zeros(cap, np.float64)  # noqa: E731
    return [i(), i(), i(), i(), f(), f(), f(), f(), f(), f(), f()]


EVENT_FIELDS = ("step", "position", "protocol", "asset", "collateral_seized", "debt_repaid",
                "oracle_price", "execution_price", "bonus_paid", "bad_debt", "protocol_fee")


def run_unit(pack, prices_path, vs, vdk, vdq, av_ptr, av_idx, liq, dt_seconds, *,
             move_venues: bool = True, twin: bool = False, proto_id: int = 0, pos_offset: int = 0,
             ev_capacity: int | None = None) -> dict:
    """Run the Comet unit alone over a price path (``prices_path[T+1, A]``, row 0 the start).

    Each step ``t``: with ``move_venues``, every venue of asset ``a`` first moves by the
    exogenous return ``prices_path[t, a] / prices_path[t-1, a]`` (as the engine's step 1);
    then the unit steps at prices ``prices_path[t]``, and what its buyers queued in ``sold`` is
    routed over the asset's venues with :func:`route_sell`; the quote received fills
    ``execution_price`` of that step's buy events. ``pack`` and ``vs`` are updated in place.
    ``twin=True`` runs the plain-Python twin step and venue routines instead (parity tests).

    Returns ``{"acc", "events" (dict of arrays), "reserves"[T+1], "collateral_reserves"[T+1, K],
    "bought"[T+1, K], "proceeds"[T+1, A], "sold"[T+1, A], "n_absorbed"[T+1], "totals"}``.
    """
    if twin:
        from liqcascade.protocols.comet import twin as step_mod
        from liqcascade.venues import twin as venue_mod
        step = step_mod.comet_step
        route, move = venue_mod.route_sell, venue_mod.venue_apply_return
    else:
        step = K.comet_step
        route, move = route_sell, venue_apply_return
    path = np.ascontiguousarray(prices_path, dtype=np.float64)
    T = path.shape[0] - 1
    A = path.shape[1]
    k_n = pack[K.PK_ASSET].shape[0]
    n = pack[K.PK_PRINCIPAL].shape[0]
    cap = ev_capacity if ev_capacity is not None else max(1024, 4 * (n * (k_n + 1) + T * k_n))
    ev = _event_buffers(cap)
    acc = np.zeros(NACC)
    liq = np.asarray(liq, dtype=np.float64)
    av_ptr = np.asarray(av_ptr, dtype=np.int64)
    av_idx = np.asarray(av_idx, dtype=np.int64)
    out_res = np.zeros(T + 1)
    out_cres = np.zeros((T + 1, k_n))
    out_bought = np.zeros((T + 1, k_n))
    out_proc = np.zeros((T + 1, A))
    out_sold = np.zeros((T + 1, A))
    out_nabs = np.zeros(T + 1)
    st = pack[K.PK_ST]
    out_res[0] = st[K.S_RESERVES]
    out_cres[0] = pack[K.PK_CRES]
    out_bought[0] = pack[K.PK_BOUGHT]
    out_nabs[0] = st[K.S_NUM_ABSORBED]
    n_ev = 0
    sold = np.zeros(A)
    for t in range(1, T + 1):
        if move_venues:
            for a in range(A):
                for v in av_idx[av_ptr[a]:av_ptr[a + 1]]:
                    move(vs, vdk, vdq, int(v), path[t, a] / path[t - 1, a])
        sold[:] = 0.0
        first = n_ev
        n_ev = step(pack, t, float(dt_seconds), path[t], vs, vdk, vdq, av_ptr, av_idx, sold, acc, liq,
                    *ev, n_ev, proto_id, pos_offset)
        for a in range(A):
            if sold[a] <= 0.0:
                continue
            ids = av_idx[av_ptr[a]:av_ptr[a + 1]]
            quote = route(vs, vdk, vdq, ids, sold[a])[0]
            out_proc[t, a] = quote
            out_sold[t, a] = sold[a]
            for j in range(first, n_ev):
                if ev[1][j] == -1 and ev[3][j] == a:
                    ev[7][j] = quote / sold[a]
        out_res[t] = st[K.S_RESERVES]
        out_cres[t] = pack[K.PK_CRES]
        out_bought[t] = pack[K.PK_BOUGHT]
        out_nabs[t] = st[K.S_NUM_ABSORBED]
    events = {name: buf[:n_ev].copy() for name, buf in zip(EVENT_FIELDS, ev)}
    return {
        "acc": acc, "events": events, "reserves": out_res, "collateral_reserves": out_cres,
        "bought": out_bought, "proceeds": out_proc, "sold": out_sold, "n_absorbed": out_nabs,
        "totals": totals(pack),
    }
