"""Liquidation prices of multi-asset accounts, per collateral asset.

An :class:`AccountBook` is a set of accounts at one moment, each holding collateral and debt
in several assets (CSR entries), with a liquidation threshold per entry and a reference
price per asset. It is built from a real snapshot (Compound v2, Aave v2 user files) or from
our own position files / a compiled scenario.

For an account and one of its collateral assets ``j``, the *liquidation price* of ``j`` is
the price at which the account's health factor reaches 1 when only ``j``'s price moves
(every other price held)::

    HF(s) = (W_other + s·W_j) / (D_other + s·D_j) = 1
    s* = (D_other − W_other) / (W_j − D_j),      liquidation price = s* · p_j

with ``W`` the LT-weighted collateral value and ``D`` the debt value (``j``'s own debt moves with
it). Only ``W_j > D_j`` and ``s* > 0`` give a liquidation price below which the account is
liquidatable (else a fall of ``j`` alone never makes it liquidatable); ``s* >= 1`` means it is
liquidatable already. For a simple position (one collateral, stable debt) this is the
engine's ``key · p_debt = debt / (collateral · LT)`` (:class:`liqcascade.engine.compile.Book`).

An account with several risky collateral assets appears once per asset (each view moves one
price), so debt summed over assets double-counts such accounts; per asset it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["AccountBook", "LiqPoints", "liquidation_points", "book_from_positions", "book_from_compiled",
           "book_from_compound", "book_from_aave", "compiled_view"]


@dataclass(frozen=True, eq=False)
class AccountBook:
    """Accounts as CSR entries; amounts in asset units, prices in the quote unit (USD)."""

    assets: tuple[str, ...]
    prices: np.ndarray  # float64[n_assets] reference price of each asset
    stable: np.ndarray  # bool[n_assets] assets held at their price (never plotted)
    ids: np.ndarray  # object[n_accounts]
    ptr: np.ndarray  # int64[n_accounts + 1]
    asset: np.ndarray  # int64[nnz]
    coll: np.ndarray  # float64[nnz]
    debt: np.ndarray  # float64[nnz]
    lt: np.ndarray  # float64[nnz] liquidation threshold of the entry's collateral
    entry_price: np.ndarray | None = None  # float64[nnz] price each entry is valued at (default: prices[asset])
    label: str = ""
    coll_weighted: bool = False  # collateral amounts are already LT-weighted (Compound's totals)
    notes: list[str] = field(default_factory=list)

    @property
    def n_accounts(self) -> int:
        return int(self.ids.shape[0])

    def account_of(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_accounts), np.diff(self.ptr))

    def values(self):
        """``(weighted collateral, debt value)`` per entry at the entry prices."""
        p = self.entry_price if self.entry_price is not None else self.prices[self.asset]
        return self.coll * p * self.lt, self.debt * p

    def health_factors(self) -> np.ndarray:
        """Health factor per account at the reference prices (inf without debt)."""
        w, d = self.values()
        acc = self.account_of()
        W = np.bincount(acc, weights=w, minlength=self.n_accounts)
        D = np.bincount(acc, weights=d, minlength=self.n_accounts)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(D > 0, W / np.where(D > 0, D, 1.0), math.inf)


@dataclass(frozen=True, eq=False)
class LiqPoints:
    """One row per (account, risky collateral asset) that a fall of that asset can liquidate."""

    assets: tuple[str, ...]
    p0: np.ndarray  # float64[n_assets] reference prices
    asset: np.ndarray  # int64[n]
    account: np.ndarray  # int64[n]
    ratio: np.ndarray  # s*: liquidation price / reference price (>= 1: liquidatable now)
    price: np.ndarray  # liquidation price (quote)
    debt_value: np.ndarray  # account debt value when it becomes liquidatable (quote)
    coll_units: np.ndarray  # the account's collateral in this asset (units; LT-weighted if the book's is)
    coll_value: np.ndarray  # that collateral's value at the liquidation price (quote)

    def __len__(self) -> int:
        return int(self.asset.shape[0])

    def of(self, a: int) -> np.ndarray:
        return np.flatnonzero(self.asset == a)


def liquidation_points(book: AccountBook) -> LiqPoints:
    """Liquidation price of every (account, risky collateral asset) pair (see the module doc)."""
    A = len(book.assets)
    n = book.n_accounts
    acc = book.account_of()
    p = book.entry_price if book.entry_price is not None else book.prices[book.asset]
    cv = book.coll * p
    w = np.where((cv > 0) & (book.lt > 0), cv * book.lt, 0.0)
    d = book.debt * p
    W = np.bincount(acc, weights=w, minlength=n)
    D = np.bincount(acc, weights=d, minlength=n)
    key = acc * A + book.asset
    m = n * A
    Wj = np.bincount(key, weights=w, minlength=m)
    Dj = np.bincount(key, weights=d, minlength=m)
    Cj = np.bincount(key, weights=book.coll, minlength=m)
    CVj = np.bincount(key, weights=cv, minlength=m)
    cand = np.flatnonzero((Cj > 0) & (Wj > 0))
    a_of = cand // A
    j_of = cand % A
    keep = ~book.stable[j_of] & (D[a_of] > 0)
    cand, a_of, j_of = cand[keep], a_of[keep], j_of[keep]
    denom = Wj[cand] - Dj[cand]
    num = (D[a_of] - Dj[cand]) - (W[a_of] - Wj[cand])
    ok = denom > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(ok, num / np.where(ok, denom, 1.0), -1.0)
    ok &= s > 0
    cand, a_of, j_of, s = cand[ok], a_of[ok], j_of[ok], s[ok]
    debt_at = (D[a_of] - Dj[cand]) + s * Dj[cand]
    return LiqPoints(
        assets=book.assets, p0=np.asarray(book.prices, dtype=np.float64), asset=j_of.astype(np.int64),
        account=a_of.astype(np.int64), ratio=s, price=s * book.prices[j_of], debt_value=debt_at,
        coll_units=Cj[cand], coll_value=s * CVj[cand],
    )


# --- bucketing through report.figures.liquidation_buckets ---------------------------------------


class _View:
    """The attributes of :class:`~liqcascade.engine.compile.Compiled` that
    :func:`liqcascade.report.figures.liquidation_buckets` and ``heatmap_figure`` read."""

    def __init__(self, assets, p0, stable, book):
        self.assets = list(assets)
        self.p0 = p0
        self.stable = stable
        self.book = book

    @property
    def n_assets(self) -> int:
        return len(self.assets)


class _BookView:
    def __init__(self, key, debt, seg_ptr, seg_asset, seg_debt_asset):
        self.key, self.debt = key, debt
        self.seg_ptr, self.seg_asset, self.seg_debt_asset = seg_ptr, seg_asset, seg_debt_asset

    @property
    def n(self) -> int:
        return int(self.key.shape[0])


def compiled_view(pts: LiqPoints, weight: str = "debt", *, max_drop: float | None = 0.95, only=None):
    """A Compiled-like object whose book holds the points as one segment per asset, so that
    ``report.figures.liquidation_buckets`` / ``heatmap_figure`` bucket them.

    ``weight``: ``"debt"`` (debt value at liquidation) or ``"collateral"`` (collateral value at
    the liquidation price). Liquidation prices are in the quote unit against a virtual stable
    quote asset at price 1. Points already liquidatable (ratio >= 1) are placed at the
    reference price; points more than ``max_drop`` below it are left out. ``only``: indices of
    the assets to include (default all).
    """
    A = len(pts.assets)
    price = np.minimum(pts.price, pts.p0[pts.asset])
    sel = np.ones(len(pts), dtype=bool)
    if max_drop is not None:
        sel &= pts.ratio >= 1.0 - max_drop
    vals = {"debt": pts.debt_value, "collateral": pts.coll_value}[weight]
    keys, ws, segs = [], [], []
    for a in (range(A) if only is None else sorted(set(int(x) for x in only))):
        idx = np.flatnonzero(sel & (pts.asset == a))
        if idx.size == 0:
            continue
        keys.append(price[idx])
        ws.append(vals[idx])
        segs.append(a)
    seg_ptr = np.concatenate([[0], np.cumsum([k.size for k in keys])]).astype(np.int64)
    book = _BookView(np.concatenate(keys) if keys else np.zeros(0), np.concatenate(ws) if ws else np.zeros(0),
                     seg_ptr, np.array(segs, dtype=np.int64), np.full(len(segs), A, dtype=np.int64))
    stable = np.zeros(A + 1, dtype=bool)
    stable[A] = True
    return _View(list(pts.assets) + ["quote"], np.append(pts.p0, 1.0), stable, book)


# --- builders ---------------------------------------------------------------------------------------


def _csr_from_simple(coll, debt, coll_asset, debt_asset, lt):
    n = coll.shape[0]
    asset = np.empty(2 * n, dtype=np.int64)
    asset[0::2] = coll_asset
    asset[1::2] = debt_asset
    c = np.zeros(2 * n)
    d = np.zeros(2 * n)
    c[0::2] = coll
    d[1::2] = debt
    l = np.zeros(2 * n)
    l[0::2] = lt
    return np.arange(0, 2 * n + 1, 2, dtype=np.int64), asset, c, d, l


def book_from_positions(table, prices: dict[str, float], lt: dict[str, float] | float,
                        stable=("USD", "USDC", "USDT", "DAI", "debt"), label: str = "") -> AccountBook:
    """An :class:`AccountBook` from a :class:`~liqcascade.positions.io.PositionTable`.

    ``prices``: price of every asset the table names (wide: ``table.assets`` = (collateral, debt));
    ``lt``: one LT for every collateral, or a dict per asset; ``stable``: assets whose price is
    held (long tables; in a wide table the collateral is risky and the debt stable).
    """
    assets = tuple(table.assets)
    for a in assets:
        if a not in prices:
            raise KeyError(f"no price for asset {a!r}")
    p = np.array([float(prices[a]) for a in assets])
    lt_a = np.array([float(lt if not isinstance(lt, dict) else lt.get(a, 0.0)) for a in assets])
    st = np.array([a in stable for a in assets], dtype=bool)
    if table.wide:  # the collateral is the risky asset, the debt is held at its price
        st[0], st[1] = False, True
        ptr, asset, c, d, l = _csr_from_simple(table.collateral, table.debt, 0, 1, lt_a[0])
    else:
        ptr, asset, c, d = table.ptr, table.asset, table.collateral, table.debt
        l = lt_a[asset]
    return AccountBook(assets, p, st, np.asarray(table.ids, dtype=object), ptr, asset, c, d, l,
                       label=label or (table.source or "positions"))


def book_from_compiled(c, label: str = "") -> AccountBook:
    """The positions of a compiled scenario (sorted books and multi-asset positions; positions
    without debt or collateral are left out, as in the engine), at the scenario's initial prices."""
    b = c.book
    seg = np.repeat(np.arange(b.seg_asset.shape[0]), np.diff(b.seg_ptr))
    ca = b.seg_asset[seg]
    da = b.seg_debt_asset[seg]
    lt = c.lt_pa[b.seg_proto[seg], ca]
    ptr, asset, coll, debt, l = _csr_from_simple(b.coll, b.debt, ca, da, lt)
    ids = list(np.asarray(b.ids, dtype=object))
    if b.n_multi:
        counts = np.diff(b.m_ptr)
        mproto = np.repeat(b.m_proto, counts)
        ptr = np.concatenate([ptr, ptr[-1] + b.m_ptr[1:]])
        asset = np.concatenate([asset, b.m_asset])
        coll = np.concatenate([coll, b.m_coll])
        debt = np.concatenate([debt, b.m_debt])
        l = np.concatenate([l, c.lt_pa[mproto, b.m_asset]])
        ids += list(np.asarray(b.m_ids, dtype=object))
    return AccountBook(tuple(c.assets), np.asarray(c.p0, dtype=np.float64), np.asarray(c.stable, dtype=bool),
                       np.array(ids, dtype=object), ptr.astype(np.int64), asset.astype(np.int64), coll, debt, l,
                       label=label or c.scenario.name)


def book_from_compound(snap, iv=None, *, eth_usd: float | None = None) -> AccountBook:
    """A Compound v2 snapshot as an :class:`AccountBook` in USD.

    Collateral is CF-weighted (the snapshot's totals are; see :mod:`liqcascade.data.compound`):
    per cToken, ``cTokenBalance × weighted ETH value per cToken`` from :func:`implied_values`,
    rescaled per account to add up to ``totalCollateralValueInEth``; ``lt`` is 1 on it, so the
    health factor is Compound's ``collateral / borrow``. Debt: ``storedBorrowBalance ×
    implied price``, rescaled per account to ``totalBorrowValueInEth`` (which includes accrued
    interest). Amounts are expressed in underlying units (collateral: CF-weighted units);
    prices in USD at ``eth_usd`` (default: the snapshot's own, from USDC). Assets priced at
    about US$1 (stablecoins) are held fixed.
    """
    from .compound import implied_values

    if iv is None:
        iv = implied_values(snap)
    eth_usd = float(iv.eth_usd if eth_usd is None else eth_usd)
    if not math.isfinite(eth_usd) or eth_usd <= 0:
        raise ValueError("no ETH/USD price: the snapshot has no USDC borrowers; pass eth_usd=")
    und = list(snap.underlyings)
    # group cTokens by underlying (two markets may share one)
    names = list(dict.fromkeys(und))
    amap = np.array([names.index(u) for u in und], dtype=np.int64)
    pe = np.array([iv.price_eth[und.index(u)] for u in names])
    if np.isnan(pe).any():
        missing = [u for u, x in zip(names, pe) if np.isnan(x)]
        raise ValueError(f"no implied price for {missing}")
    pa = snap.pos_account
    n = snap.n_accounts
    wv = np.nan_to_num(iv.weighted_eth_per_ctoken)[snap.pos_symbol] * snap.ctoken_balance  # ETH
    dv = iv.price_eth[snap.pos_symbol] * snap.stored_borrow  # ETH
    sw = np.bincount(pa, weights=wv, minlength=n)
    sd = np.bincount(pa, weights=dv, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        kc = np.where(sw > 0, snap.total_collateral_eth / np.where(sw > 0, sw, 1.0), 0.0)
        kd = np.where(sd > 0, snap.total_borrow_eth / np.where(sd > 0, sd, 1.0), 0.0)
    wv = wv * kc[pa]
    dv = dv * kd[pa]
    asset = amap[snap.pos_symbol]
    p_usd = pe * eth_usd
    coll = wv * eth_usd / p_usd[asset]
    debt = dv * eth_usd / p_usd[asset]
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(pa, minlength=n))
    stable = np.abs(p_usd - 1.0) < 0.05
    notes = [f"ETH/USD {eth_usd:,.2f} (the snapshot's USDC price)",
             "collateral is CF-weighted (Compound v2 borrowing power); LT = 1 on it"]
    return AccountBook(tuple(names), p_usd, stable, snap.accounts, ptr, asset, coll, debt, np.ones(asset.size),
                       label="Compound v2 snapshot", coll_weighted=True, notes=notes)


def book_from_aave(histories, lt, *, block: int | None = None, min_coverage: float = 0.9) -> AccountBook:
    """Aave v2 users (from :func:`liqcascade.data.aave.load_aave_details`) as an :class:`AccountBook`.

    Each user contributes one row: the last at or before ``block`` with collateral and debt
    (default: the user's last such row whose recorded health factor is >= 1 — its state
    before it became liquidatable; the files follow users until their liquidation). Values follow :func:`~liqcascade.data.aave.oracle_health_factor`:
    collateral at the file's USD prices rescaled to Aave's ``totalCollateral``, debt at Aave's
    ``totalDebt`` (split over the debt assets by their USD columns when they add up, else one
    stable "debt" entry). Reference prices: each asset's USD price at the latest row used;
    every user's entries are valued at its own row's prices (``entry_price``), so its
    liquidation *ratio* is its own and its liquidation price is that ratio times the reference.
    ``lt``: liquidation threshold per asset symbol — a dict, or a function ``block -> dict``
    (Aave governance changes them; see ``calibration.params.aave_v2_lt``).
    """
    rows = []
    for h in histories:
        has = (h.total_collateral_eth > 0) & (h.total_debt_eth > 0)
        if block is not None:
            has &= h.block <= block
        else:
            has &= h.health_factor >= 1.0
        idx = np.flatnonzero(has)
        if idx.size:
            rows.append((h, int(idx[-1])))
    names: list[str] = []
    for h, _ in rows:
        for s in h.assets:
            if s not in names:
                names.append(s)
    names.append("debt")
    A = len(names)
    ref = np.full(A, np.nan)
    ref_t = np.full(A, -np.inf)
    ids, ptr, asset, coll, debt, lts, eprice = [], [0], [], [], [], [], []
    notes = []
    for h, i in rows:
        tc_usd = h.total_collateral_eth[i] * h.eth_usd[i]
        td_usd = h.total_debt_eth[i] * h.eth_usd[i]
        px = np.nan_to_num(h.price_usd[i])
        cval = h.collateral[i] * px
        if not cval.sum() >= min_coverage * tc_usd:
            notes.append(f"{h.user}: per-asset collateral covers {cval.sum() / tc_usd:.0%} of the total at block "
                         f"{h.block[i]}; left out")
            continue
        kc = tc_usd / cval.sum()
        dval = h.debt[i] * px
        kd = td_usd / dval.sum() if dval.sum() > 0 else math.nan
        use_split = math.isfinite(kd) and 0.9 < kd < 1.1
        lt_row = lt(int(h.block[i])) if callable(lt) else lt
        ids.append(h.user)
        for a, s in enumerate(h.assets):
            c_ = h.collateral[i, a]
            d_ = h.debt[i, a] if use_split else 0.0
            if c_ <= 0 and d_ <= 0:
                continue
            j = names.index(s)
            for cc, dd, k in ((c_, 0.0, kc), (0.0, d_, kd)):
                if cc > 0 or dd > 0:
                    asset.append(j)
                    coll.append(cc)
                    debt.append(dd)
                    lts.append(float(lt_row.get(s, 0.0)))
                    eprice.append(px[a] * k)
            if h.time_s[i] > ref_t[j] and px[a] > 0:
                ref[j], ref_t[j] = px[a], h.time_s[i]
            if c_ > 0 and s not in lt_row:
                notes.append(f"no liquidation threshold for {s}: counted as 0 (not collateral)")
        if not use_split:
            asset.append(A - 1)
            coll.append(0.0)
            debt.append(td_usd)
            lts.append(0.0)
            eprice.append(1.0)
        ptr.append(len(asset))
    ref[A - 1] = 1.0
    ref = np.where(np.isnan(ref), 1.0, ref)
    stable = np.array([s in ("USDC", "USDT", "DAI", "TUSD", "BUSD", "GUSD", "sUSD", "USDP", "UST", "debt")
                       for s in names], dtype=bool)
    return AccountBook(tuple(names), ref, stable, np.array(ids, dtype=object), np.array(ptr, dtype=np.int64),
                       np.array(asset, dtype=np.int64), np.array(coll), np.array(debt), np.array(lts),
                       entry_price=np.array(eprice), label="Aave v2 users", notes=list(dict.fromkeys(notes)))
