"""Compound v2 borrower snapshots: an accounts file and a per-cToken positions file.

Accounts CSV (``compound_v2_accounts_with_borrows.csv``)
    ``account,totalBorrowValueInEth,totalCollateralValueInEth`` (+ optional
    ``ratio_coll_over_borrow``): one row per account, values in ETH.

Positions CSV (``compound_v2_account_ctoken_positions.csv``)
    ``account,symbol,cTokenBalance,storedBorrowBalance``: one row per (account, cToken);
    ``cTokenBalance`` in cToken units (supplied, possibly used as collateral), and
    ``storedBorrowBalance`` in underlying units *as last stored* (interest accrued since the
    account's last interaction is not included, so it is at most the current debt).
    An (account, symbol) pair may appear twice: two markets can share a symbol (the legacy
    cWBTC and cWBTC2 are both ``cWBTC``; 147 such pairs in the 2023 snapshot, cDAI and cWBTC),
    and the file does not carry the market address. Such rows are kept as separate positions.

What the totals mean — measured on the May 2023 snapshot (``../shared/data/
compound_v2_borrowers_2023``, see :func:`implied_values`): for every account whose collateral
is a single cToken, ``totalCollateralValueInEth / cTokenBalance`` is the same number to 1e-9
(0.0165691 ETH per cETH, 1.00886e-5 ETH per cDAI …); for cETH that is 0.825 × the cETH
exchange rate (~0.02008), i.e. **the collateral total is weighted by the collateral factor**
(Compound's "borrowing power" / ``getAccountLiquidity`` view), not raw value. An account is
liquidatable when ``totalCollateralValueInEth < totalBorrowValueInEth``. ``totalBorrowValueInEth``
includes accrued interest (it is >= ``Σ storedBorrowBalance × price``).

Every problem raises :class:`~liqcascade.errors.InputError` with the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._util import float_column, read_csv

__all__ = ["ACCOUNT_COLUMNS", "POSITION_COLUMNS", "CompoundV2Snapshot", "load_compound_v2",
           "ImpliedValues", "implied_values", "underlying_symbol"]

ACCOUNT_COLUMNS = ("account", "totalBorrowValueInEth", "totalCollateralValueInEth")
POSITION_COLUMNS = ("account", "symbol", "cTokenBalance", "storedBorrowBalance")


def underlying_symbol(ctoken: str) -> str:
    """``cETH`` → ``ETH``, ``cWBTC2`` → ``WBTC2``; other names unchanged."""
    return ctoken[1:] if len(ctoken) > 1 and ctoken[0] == "c" and ctoken[1].isupper() else ctoken


@dataclass(frozen=True, eq=False)
class CompoundV2Snapshot:
    """Accounts (totals in ETH) and their per-cToken positions (CSR by account)."""

    accounts: np.ndarray  # str[A]
    total_borrow_eth: np.ndarray  # float64[A] (NaN when only the positions file was read)
    total_collateral_eth: np.ndarray  # float64[A], weighted by collateral factor (see module doc)
    symbols: tuple[str, ...]  # cToken symbols, in order of first appearance
    pos_account: np.ndarray  # int64[N] index into accounts
    pos_symbol: np.ndarray  # int64[N] index into symbols
    ctoken_balance: np.ndarray  # float64[N] cToken units
    stored_borrow: np.ndarray  # float64[N] underlying units (stale: no accrued interest)
    sources: tuple[str, ...] = ()

    @property
    def n_accounts(self) -> int:
        return int(self.accounts.shape[0])

    @property
    def n_positions(self) -> int:
        return int(self.pos_account.shape[0])

    @property
    def underlyings(self) -> tuple[str, ...]:
        return tuple(underlying_symbol(s) for s in self.symbols)


def _read_accounts(path):
    t = read_csv(path, what="Compound v2 accounts", required=ACCOUNT_COLUMNS)
    ids = [a.strip() for a in t.column("account")]
    seen: dict[str, int] = {}
    for i, a in enumerate(ids):
        if not a:
            raise InputError(t.fname, t.where(i, "account"), "empty account")
        if a in seen:
            raise InputError(t.fname, t.where(i, "account"), f"account {a} repeated (first at {t.where(seen[a])})")
        seen[a] = i
    b = float_column(t, "totalBorrowValueInEth", min_value=0.0)
    c = float_column(t, "totalCollateralValueInEth", min_value=0.0)
    return t.fname, np.array(ids, dtype=object), b, c, seen


def _read_positions(path, known: dict[str, int] | None):
    t = read_csv(path, what="Compound v2 positions", required=POSITION_COLUMNS)
    acc = [a.strip() for a in t.column("account")]
    sym = [s.strip() for s in t.column("symbol")]
    bal = float_column(t, "cTokenBalance", min_value=0.0)
    brw = float_column(t, "storedBorrowBalance", min_value=0.0)
    idx: dict[str, int] = dict(known) if known is not None else {}
    order: list[str] = [] if known is None else sorted(known, key=known.get)
    sidx: dict[str, int] = {}
    pa = np.empty(len(t), dtype=np.int64)
    ps = np.empty(len(t), dtype=np.int64)
    for i, (a, s) in enumerate(zip(acc, sym)):
        if not a:
            raise InputError(t.fname, t.where(i, "account"), "empty account")
        if not s:
            raise InputError(t.fname, t.where(i, "symbol"), "empty symbol")
        j = idx.get(a)
        if j is None:
            if known is not None:
                raise InputError(t.fname, t.where(i, "account"), f"account {a} is not in the accounts file")
            j = idx[a] = len(order)
            order.append(a)
        k = sidx.setdefault(s, len(sidx))
        pa[i], ps[i] = j, k
    return t.fname, np.array(order, dtype=object), tuple(sidx), pa, ps, bal, brw


def load_compound_v2(accounts=None, positions=None) -> CompoundV2Snapshot:
    """Read the accounts file, the positions file, or both (then every position's account must
    be in the accounts file). Positions are returned grouped by account (stable order)."""
    if accounts is None and positions is None:
        raise ValueError("give accounts=, positions= or both")
    sources = []
    known = None
    if accounts is not None:
        fa, ids, tb, tc, known = _read_accounts(accounts)
        sources.append(fa)
    if positions is not None:
        fp, ids_p, syms, pa, ps, bal, brw = _read_positions(positions, known)
        sources.append(fp)
        if accounts is None:
            ids = ids_p
            tb = np.full(ids.shape[0], np.nan)
            tc = np.full(ids.shape[0], np.nan)
        order = np.argsort(pa, kind="stable")
        pa, ps, bal, brw = pa[order], ps[order], bal[order], brw[order]
    else:
        syms, pa, ps = (), np.zeros(0, np.int64), np.zeros(0, np.int64)
        bal = brw = np.zeros(0)
    return CompoundV2Snapshot(ids, tb, tc, tuple(syms), pa, ps, bal, brw, tuple(sources))


@dataclass(frozen=True)
class ImpliedValues:
    """Per-cToken values implied by a snapshot (see :func:`implied_values`).

    ``weighted_eth_per_ctoken[j]``: CF-weighted collateral value of one cToken in ETH (NaN when
    no account holds that cToken as its only collateral). ``price_eth[j]``: price of one unit
    of the underlying in ETH (NaN when nobody borrows it alone). ``eth_usd``: USD per ETH
    (``1 / price_eth`` of USDC, which Compound v2 prices at exactly US$1), or NaN.
    """

    symbols: tuple[str, ...]
    weighted_eth_per_ctoken: np.ndarray
    weighted_rel_spread: np.ndarray  # (max - min) / median over the accounts used
    n_weighted: np.ndarray
    price_eth: np.ndarray
    n_price: np.ndarray
    eth_usd: float


def implied_values(snap: CompoundV2Snapshot, *, min_debt_eth: float = 1e-6) -> ImpliedValues:
    """Recover per-cToken values from accounts with a single collateral / a single debt.

    Collateral: ``totalCollateralValueInEth / cTokenBalance`` over accounts whose only non-zero
    cToken balance is that cToken (median; the spread shows how exact it is). Debt:
    ``totalBorrowValueInEth / storedBorrowBalance`` over accounts borrowing only that asset;
    stored balances lack accrued interest so every ratio is >= the price, and the *minimum*
    over accounts with debt >= ``min_debt_eth`` is taken (the freshest balance). ETH's price
    is 1 by definition.
    """
    if np.isnan(snap.total_borrow_eth).all():
        raise ValueError("implied_values needs the accounts file (totals)")
    S = len(snap.symbols)
    A = snap.n_accounts
    pa = snap.pos_account
    ncol = np.bincount(pa[snap.ctoken_balance > 0], minlength=A)
    ndebt = np.bincount(pa[snap.stored_borrow > 0], minlength=A)
    wv = np.full(S, np.nan)
    spread = np.full(S, np.nan)
    nw = np.zeros(S, np.int64)
    pe = np.full(S, np.nan)
    npr = np.zeros(S, np.int64)
    for j in range(S):
        m = (snap.pos_symbol == j) & (snap.ctoken_balance > 0) & (ncol[pa] == 1)
        tc = snap.total_collateral_eth[pa[m]]
        m2 = tc > 0
        r = tc[m2] / snap.ctoken_balance[m][m2]
        if r.size:
            wv[j] = float(np.median(r))
            spread[j] = float((r.max() - r.min()) / wv[j])
            nw[j] = r.size
        m = (snap.pos_symbol == j) & (snap.stored_borrow > 0) & (ndebt[pa] == 1)
        tb = snap.total_borrow_eth[pa[m]]
        m2 = tb >= min_debt_eth
        r = tb[m2] / snap.stored_borrow[m][m2]
        if r.size:
            pe[j] = float(r.min())
            npr[j] = r.size
    und = snap.underlyings
    eth_usd = float(1.0 / pe[und.index("USDC")]) if "USDC" in und and pe[und.index("USDC")] > 0 else float("nan")
    if "ETH" in und:  # the numeraire (stale balances would put it a hair above 1)
        pe[und.index("ETH")] = 1.0
    return ImpliedValues(snap.symbols, wv, spread, nw, pe, npr, eth_usd)
