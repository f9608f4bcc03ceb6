"""Perpetual-futures venues as a protocol unit (family ``perp``).

Rules and parameter values: ``shared/reference/protocol-mechanics.md`` §6 (Hyperliquid §6.1,
Binance §6.2, Bybit §6.3, dYdX v4 §6.4, mark price §6.5; summary in §8.8 and §9). The kernel is
:mod:`liqcascade.protocols.perp.kernel` (twin :mod:`liqcascade.protocols.perp.twin`); its docstring lists
what is modelled and what is simplified, ``protocols/perp/README.md`` explains it.

* :class:`PerpConfig` — validated rules of one venue (tiers, fees, fund, backstop, slicing,
  order limit, ADL variant, mark-price method).
* :data:`PRESETS` — Binance BTCUSDT (2021 tiers), Hyperliquid, Bybit BTCUSDT (the tiers the
  reference lists in full), dYdX v4 Large-Cap.
* :func:`build_pack` — positions and accounts → the kernel's pack tuple.
* :func:`totals` — holders, open interest and the conserved cash total.
* :func:`run_unit` — drive the step along an index path (tests, examples).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from liqcascade.errors import InputError
from liqcascade.protocols.kernel import NACC, NLIQ
from liqcascade.protocols.perp import kernel as K
from liqcascade.protocols.perp.model import PerpConfig, Tier

__all__ = ["build_pack", "pack_dict", "copy_pack", "totals", "run_unit"]


# ===========================================================================================
# Pack
# ===========================================================================================


def _tier_rows(tiers: Sequence[Tier]) -> np.ndarray:
    lb = np.array([t.lower_bound for t in tiers], float)
    mmr = np.array([t.mmr for t in tiers], float)
    out = np.zeros((len(tiers), K.NTIER))
    out[:, K.T_LB] = lb
    out[:, K.T_MMR] = mmr
    out[:, K.T_DED] = K.tier_deductions(lb, mmr)
    out[:, K.T_IMR] = [t.initial_rate() for t in tiers]
    return out


def _vec(name, values, n, dtype=float):
    try:
        arr = np.asarray(values, dtype=dtype).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(None, f"perp.{name}", "expected numbers") from None
    if arr.shape[0] != n:
        raise InputError(None, f"perp.{name}", f"expected {n} values, got {arr.shape[0]}")
    return arr


def build_pack(config: PerpConfig, sides, sizes, entries, margins, accounts=None, *,
               markets=None, assets=None, book_venues=None, tiers=None, adl_uniforms=None,
               marks=None):
    """The kernel's pack for ``N`` positions.

    * ``sides``: +1 long / −1 short (or ``"long"``/``"short"``); ``sizes`` (> 0, asset units);
      ``entries`` (> 0); ``margins`` (≥ 0, quote): an isolated position's margin, or the
      position's contribution to its cross account's margin.
    * ``accounts``: per position, a cross-account label (≥ 0; positions with the same label
      share one margin) or −1 for an isolated position (its own account). Default: all
      isolated. Accounts are ordered by first appearance of their label.
    * ``markets``: market index per position (default 0); ``M = max + 1``. ``assets``: asset
      index of each market (default ``0 … M−1``); ``book_venues``: venue index of each market's
      order book in the venue state (default ``0 … M−1``; :func:`run_unit` can set it).
    * ``tiers``: ``None`` (``config.tiers`` everywhere) or one tier list per market.
    * ``adl_uniforms``: uniforms in [0, 1) for ``adl_ranking = "random"`` (draw them with a
      seeded ``numpy.random.Generator``; consumed cyclically, one per ADL'd position).
    * ``marks``: initial mark per market (default NaN: set by :func:`run_unit` / the first
      step).

    The book's holders start with the opposite of the traders' net position in each market,
    at the traders' entries; the fund with ``insurance_fund`` and the vault with
    ``backstop_capital``.
    """
    raw_sides = list(sides) if not isinstance(sides, np.ndarray) else sides.tolist()
    n = len(raw_sides)
    if n == 0:
        raise InputError(None, "perp.sides", "at least one position is needed")
    side = np.empty(n)
    for i, s in enumerate(raw_sides):
        if s in ("long", 1, 1.0):
            side[i] = 1.0
        elif s in ("short", -1, -1.0):
            side[i] = -1.0
        else:
            raise InputError(None, f"perp.sides[{i}]", f"must be +1/'long' or -1/'short', got {s!r}")
    size = _vec("sizes", sizes, n)
    entry = _vec("entries", entries, n)
    marg = _vec("margins", margins, n)
    for name, arr, strict in (("sizes", size, True), ("entries", entry, True), ("margins", marg, False)):
        bad = ~np.isfinite(arr) | ((arr <= 0) if strict else (arr < 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(None, f"perp.{name}[{i}]",
                             f"must be a finite number {'> 0' if strict else '>= 0'}, got {arr[i]!r}")
    acct_lbl = np.full(n, -1, np.int64) if accounts is None else _vec("accounts", accounts, n, np.int64)
    mkt_of = np.zeros(n, np.int64) if markets is None else _vec("markets", markets, n, np.int64)
    if (mkt_of < 0).any():
        raise InputError(None, "perp.markets", "market indices must be >= 0")
    m_count = int(mkt_of.max()) + 1
    asset_of = np.arange(m_count) if assets is None else _vec("assets", assets, m_count, np.int64)
    venue_of = np.arange(m_count) if book_venues is None else _vec("book_venues", book_venues, m_count, np.int64)

    # accounts: cross labels by first appearance, isolated positions on their own
    pos_acct = np.empty(n, np.int64)
    label_to: dict[int, int] = {}
    acct_margin: list[float] = []
    acct_kind: list[int] = []
    for i in range(n):
        lbl = int(acct_lbl[i])
        if lbl < 0:
            pos_acct[i] = len(acct_margin)
            acct_margin.append(float(marg[i]))
            acct_kind.append(1)
        else:
            if lbl not in label_to:
                label_to[lbl] = len(acct_margin)
                acct_margin.append(0.0)
                acct_kind.append(0)
            pos_acct[i] = label_to[lbl]
            acct_margin[label_to[lbl]] += float(marg[i])
    na = len(acct_margin)
    order = np.argsort(pos_acct, kind="stable")
    acct_ptr = np.zeros(na + 1, np.int64)
    np.add.at(acct_ptr, pos_acct + 1, 1)
    acct_ptr = np.cumsum(acct_ptr).astype(np.int64)

    # tiers
    tables = [config.tiers] * m_count if tiers is None else list(tiers)
    if len(tables) != m_count:
        raise InputError(None, "perp.tiers", f"expected one tier table per market ({m_count})")
    rows = []
    for j, tab in enumerate(tables):
        try:
            tab = [t if isinstance(t, Tier) else Tier.model_validate(t) for t in tab]
            PerpConfig(tiers=tab)  # same checks as the config
        except ValueError as exc:
            errs = getattr(exc, "errors", None)
            reason = errs()[0]["msg"] if callable(errs) else str(exc)
            raise InputError(None, f"perp.tiers[{j}]", reason) from None
        rows.append(_tier_rows(tab))
    kmax = max(r.shape[0] for r in rows)
    tier_arr = np.zeros((m_count, kmax, K.NTIER))
    mkt = np.zeros((m_count, K.NMKT))
    for m in range(m_count):
        tier_arr[m, : rows[m].shape[0]] = rows[m]
        mkt[m, K.M_NTIER] = rows[m].shape[0]
        mkt[m, K.M_ASSET] = asset_of[m]
        mkt[m, K.M_VENUE] = venue_of[m]
        sel = mkt_of == m
        net = float(np.sum(side[sel] * size[sel]))
        mkt[m, K.M_BOOK_POS] = -net
        mkt[m, K.M_BOOK_CASH] = float(np.sum(side[sel] * size[sel] * entry[sel]))
    fill_funding(mkt, config.funding, config.premium_coefficients())
    mark0 = np.full(m_count, np.nan) if marks is None else _vec("marks", marks, m_count)
    mkt[:, K.M_MARK] = mark0
    mkt[:, K.M_MARK_PREV] = mark0

    hold = np.zeros(K.NHOLD)
    hold[K.H_FUND_CASH] = config.insurance_fund or 0.0
    hold[K.H_BS_CASH] = config.backstop_capital
    adl_u = np.zeros(0) if adl_uniforms is None else np.asarray(adl_uniforms, float).reshape(-1)
    if adl_u.size and ((adl_u < 0) | (adl_u >= 1) | ~np.isfinite(adl_u)).any():
        raise InputError(None, "perp.adl_uniforms", "uniforms must be in [0, 1)")
    pack = (
        config.params(), side, size.copy(), entry.copy(), pos_acct, mkt_of.copy(),
        np.asarray(acct_margin, float), np.full(na, K._NEVER), np.asarray(acct_kind, np.int64),
        acct_ptr, order.astype(np.int64), mkt, tier_arr, hold, adl_u,
    )
    hold[K.H_CASH0] = _cash_total(pack)
    return pack


def copy_pack(pack) -> tuple:
    """A deep copy of the pack (every array copied)."""
    return tuple(a.copy() for a in pack)


def pack_dict(pack) -> dict:
    """The pack's arrays by name (views, not copies)."""
    return dict(zip(K.PACK_FIELDS, pack))


def _cash_total(pack) -> float:
    d = pack_dict(pack)
    mkt, hold = d["mkt"], d["hold"]
    trader_cash = float(np.sum(d["margin"])) - float(np.sum(d["side"] * d["size"] * d["entry"]))
    return (trader_cash + hold[K.H_FUND_CASH] + hold[K.H_BS_CASH] + float(np.sum(mkt[:, K.M_BOOK_CASH]))
            + hold[K.H_TREASURY])


def totals(pack) -> dict:
    """Holders and conservation checks.

    * ``net_position[m]``: Σ signed positions of traders, book, fund and vault (0: open interest
      long = short); ``oi_long[m]``/``oi_short[m]`` count every holder.
    * ``cash_total − socialized`` equals ``cash_initial`` (quote conservation: traders' margin
      and PnL, fund, vault, book holders, treasury; ``socialized`` is the value created by
      writing off negative balances). ``value_total`` is the same sum at mark (equal to
      ``cash_total`` because the net position is 0).
    """
    d = pack_dict(pack)
    side, size, entry, pmkt = d["side"], d["size"], d["entry"], d["pos_mkt"]
    mkt, hold = d["mkt"], d["hold"]
    m_count = mkt.shape[0]
    marks = mkt[:, K.M_MARK]
    signed = side * size
    trader_net = np.array([float(np.sum(signed[pmkt == m])) for m in range(m_count)])
    net = trader_net + mkt[:, K.M_BOOK_POS] + mkt[:, K.M_FUND_POS] + mkt[:, K.M_BS_POS]
    oi_long = np.array([float(np.sum(size[(pmkt == m) & (side > 0)])) for m in range(m_count)])
    oi_short = np.array([float(np.sum(size[(pmkt == m) & (side < 0)])) for m in range(m_count)])
    trader_long, trader_short = oi_long.copy(), oi_short.copy()
    for col in (K.M_BOOK_POS, K.M_FUND_POS, K.M_BS_POS):
        oi_long += np.maximum(mkt[:, col], 0.0)
        oi_short += np.maximum(-mkt[:, col], 0.0)
    pnl = float(np.sum(signed * (marks[pmkt] - entry)))
    margin = float(np.sum(d["margin"]))
    fund_value = hold[K.H_FUND_CASH] + float(np.sum(mkt[:, K.M_FUND_POS] * marks))
    bs_value = hold[K.H_BS_CASH] + float(np.sum(mkt[:, K.M_BS_POS] * marks))
    book_value = float(np.sum(mkt[:, K.M_BOOK_CASH] + mkt[:, K.M_BOOK_POS] * marks))
    cash = _cash_total(pack)
    return {
        "positions_open": int(np.sum(size > 0)),
        "trader_long": trader_long,
        "trader_short": trader_short,
        "oi_long": oi_long,
        "oi_short": oi_short,
        "net_position": net,
        "book_position": mkt[:, K.M_BOOK_POS].copy(),
        "fund_position": mkt[:, K.M_FUND_POS].copy(),
        "backstop_position": mkt[:, K.M_BS_POS].copy(),
        "trader_margin": margin,
        "trader_pnl": pnl,
        "trader_equity": margin + pnl,
        "fund_cash": float(hold[K.H_FUND_CASH]),
        "fund_value": fund_value,
        "backstop_cash": float(hold[K.H_BS_CASH]),
        "backstop_value": bs_value,
        "book_cash": mkt[:, K.M_BOOK_CASH].copy(),
        "book_value": book_value,
        "treasury": float(hold[K.H_TREASURY]),
        "fees": float(hold[K.H_FEES]),
        "fund_drawn": float(hold[K.H_FUND_DRAWN]),
        "socialized": float(hold[K.H_SOCIAL]),
        "funding_paid_by_longs": mkt[:, K.M_FD_PAID].copy(),
        "adl_fills": int(hold[K.H_ADL_FILLS]),
        "adl_quantity": float(hold[K.H_ADL_QTY]),
        "adl_notional": float(hold[K.H_ADL_NOTIONAL]),
        # what closed positions, counted and sized separately (position-level; see kernels.perp)
        "book_liquidations": int(hold[K.H_N_BOOK]),
        "backstop_takeovers": int(hold[K.H_N_BACKSTOP]),
        "fund_takeovers": int(hold[K.H_N_FUND]),
        "adl_closes": int(hold[K.H_N_ADL_CLOSE]),
        "bankrupt_closes": int(hold[K.H_N_BANKRUPT]),
        "writeoffs": int(hold[K.H_N_WRITEOFF]),
        "book_liquidated_notional": float(hold[K.H_NOT_BOOK]),
        "backstop_notional": float(hold[K.H_NOT_BACKSTOP]),
        "fund_takeover_notional": float(hold[K.H_NOT_FUND]),
        "adl_closed_notional": float(hold[K.H_NOT_ADL_CLOSE]),
        "long_closed_notional": float(hold[K.H_NOT_LONG]),
        "cash_total": cash,
        "cash_initial": float(hold[K.H_CASH0]),
        "value_total": margin + pnl + fund_value + bs_value + book_value + float(hold[K.H_TREASURY]),
        "marks": marks.copy(),
    }


# ===========================================================================================
# Driving the unit
# ===========================================================================================


def run_unit(pack, index_path, vs, vdk, vdq, book_venue, liq=None, dt_seconds: float = 1.0, *,
             proto_id: int = 0, pos_offset: int = 0, max_events: int = 100_000,
             follow_index: bool = True, twin: bool = False) -> dict:
    """Run ``perp_step`` for ``t = 1 … T`` along ``index_path`` (``[T+1]`` for one asset, or
    ``[T+1, A]``), in place on ``pack`` and the venue arrays.

    ``book_venue``: the order-book venue of each market (int or one per market; written into
    the pack). Before each step every book venue decays its transient impact and, with
    ``follow_index``, moves by the index return (its market makers re-quote around the
    index). Marks start at the index of ``t = 0`` unless already set. ``twin=True`` runs the
    plain-Python twin instead. Returns the trimmed events, ``acc``, ``n_ev`` and per-step
    ``marks``/``mids`` ``[T+1, M]``.
    """
    if twin:
        from liqcascade.protocols.perp import twin as step_mod
        from liqcascade.venues import twin as V

        step = step_mod.perp_step_py
        init = step_mod.perp_mark_init_py
    else:
        from liqcascade.venues import dispatch as V

        step = K.perp_step
        init = K.perp_mark_init
    idx = np.asarray(index_path, float)
    if idx.ndim == 1:
        idx = idx[:, None]
    if idx.ndim != 2 or idx.shape[0] < 1:
        raise InputError(None, "perp.index_path", "expected [T+1] or [T+1, A] prices")
    d = pack_dict(pack)
    mkt = d["mkt"]
    m_count = mkt.shape[0]
    mkt[:, K.M_VENUE] = np.broadcast_to(np.asarray(book_venue, np.int64), (m_count,))
    liq = np.zeros(NLIQ) if liq is None else np.asarray(liq, float)
    acc = np.zeros(NACC)
    ev_step = np.zeros(max_events, np.int64)
    ev_pos = np.zeros(max_events, np.int64)
    ev_proto = np.zeros(max_events, np.int64)
    ev_asset = np.zeros(max_events, np.int64)
    evf = [np.zeros(max_events) for _ in range(7)]
    T = idx.shape[0] - 1
    venues = [int(v) for v in mkt[:, K.M_VENUE]]
    assets = [int(a) for a in mkt[:, K.M_ASSET]]
    if np.isnan(mkt[:, K.M_MARK]).any():
        init(pack, idx[0].copy(), vs)
    marks = np.full((T + 1, m_count), np.nan)
    mids = np.full((T + 1, m_count), np.nan)
    marks[0] = mkt[:, K.M_MARK]
    mids[0] = [V.venue_spot(vs, v) for v in venues]
    empty_i = np.zeros(1, np.int64)
    sold = np.zeros(max(1, idx.shape[1]))
    n_ev = 0
    for t in range(1, T + 1):
        for m in range(m_count):
            V.venue_decay(vs, venues[m])
            if follow_index:
                V.venue_apply_return(vs, vdk, vdq, venues[m], idx[t, assets[m]] / idx[t - 1, assets[m]])
        n_ev = step(pack, t, float(dt_seconds), idx[t].copy(), vs, vdk, vdq, empty_i, empty_i,
                    sold, acc, liq, ev_step, ev_pos, ev_proto, ev_asset, evf[0], evf[1], evf[2],
                    evf[3], evf[4], evf[5], evf[6], n_ev, proto_id, pos_offset)
        marks[t] = mkt[:, K.M_MARK]
        mids[t] = [V.venue_spot(vs, v) for v in venues]
    names = ("seized", "repaid", "price", "exec", "bonus", "bad", "fee")
    events = {"step": ev_step[:n_ev], "pos": ev_pos[:n_ev], "proto": ev_proto[:n_ev],
              "asset": ev_asset[:n_ev]}
    events.update({k: a[:n_ev] for k, a in zip(names, evf)})
    return {"events": events, "acc": acc, "n_ev": n_ev, "marks": marks, "mids": mids}


def fill_funding(mkt: np.ndarray, funding, premium=None) -> None:
    """Write a funding rule (``BinanceFunding``/``HyperliquidFunding``, or None) into every
    market's funding columns (``funding/kernel.py``); each interval starts at t = 0.
    ``premium``: ``(a, phi, beta)`` of a fitted premium response, or None (the book's premium)."""
    from liqcascade.funding.kernel import (
        FD_A, FD_BETA, FD_BINANCE, FD_HYPERLIQUID, FD_NONE, FD_PHI, FD_SRC, SRC_CALIBRATED,
    )

    mkt[:, K.M_FD_KIND] = FD_NONE
    if funding is None:
        return
    par = funding.pack()
    st = funding.initial_state()
    mkt[:, K.M_FD_KIND] = FD_BINANCE if funding.kind == "binance" else FD_HYPERLIQUID
    mkt[:, K.M_FD_IMPACT] = funding.impact_notional
    mkt[:, K.M_FD_PAR:K.M_FD_PAR + par.shape[0]] = par
    mkt[:, K.M_FD_ST:K.M_FD_ST + st.shape[0]] = st
    if premium is not None:
        mkt[:, K.M_FD + FD_SRC] = SRC_CALIBRATED
        mkt[:, K.M_FD + FD_A], mkt[:, K.M_FD + FD_PHI], mkt[:, K.M_FD + FD_BETA] = premium
