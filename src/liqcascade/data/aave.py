"""Aave v2 per-user history files (``aave_user_details_v2/<user>_details_v2.csv``) and the
Aave health factor.

File format (one file per user, one row per sampled block, bhemen/aave-data)
    ``block,timestamp,user,totalCollateral,totalDebt,healthFactor`` then, per asset ``S`` the
    user ever held, ``S_collateral`` / ``S_debt`` (token base units, i.e. integers scaled by the
    token's decimals), ``S_USD_price`` and ``S_collateral (in USD)`` / ``S_debt (in USD)``, and
    ``totalCollateral (in USD)``, ``totalDebt (in USD)``. ``totalCollateral`` / ``totalDebt``
    are Aave's ``getUserAccountData`` totals in ETH-wei (Aave v2's oracle quotes in ETH);
    ``healthFactor`` is rounded to 2 decimals; ``WETH_USD_price`` converts ETH to USD
    (``totalCollateral (in USD) = totalCollateral / 1e18 · WETH_USD_price``). Other columns
    (``tokenAddress``) are ignored. Token decimals are not in the file: they are inferred from
    ``S_collateral · S_USD_price / S_collateral (in USD)`` (a power of ten), falling back to
    :data:`KNOWN_DECIMALS` for assets never held.

Known quirks of the 2021 files (measured): the *first* row of every file has all per-asset
debt columns 0 although ``totalDebt`` > 0; some rows have per-asset collateral columns that do
not add up to ``totalCollateral`` (an asset missing). The per-asset USD prices come from an
outside source, not Aave's oracle, and differ from it by up to ~1 %.

Health factor (Aave v2 and v3, see ``protocols/aave/README.md`` §1.1)::

    HF = Σ_i collateral_i · price_i · LT_i / Σ_j debt_j · price_j

:func:`aave_health_factor` is :func:`liqcascade.protocols.aave.health.health_factors` (the formula
lives beside the Aave kernel; collateral counts only where its LT and value are > 0). The file carries no liquidation
thresholds; pass them per asset (``liqcascade.calibration.params.AAVE_V2_LT`` holds the values
that reproduce the recorded health factors).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..protocols.aave.health import health_factors as aave_health_factor
from ._util import float_column, read_csv

__all__ = ["AaveUserHistory", "load_aave_details", "load_aave_details_dir", "aave_health_factor",
           "oracle_health_factor", "KNOWN_DECIMALS", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = ("block", "timestamp", "user", "totalCollateral", "totalDebt", "healthFactor")
KNOWN_DECIMALS = {"USDC": 6, "USDT": 6, "WBTC": 8, "GUSD": 2, "renBTC": 8, "EURS": 2}
_ASSET_COL = re.compile(r"^(?P<sym>.+)_(?P<kind>collateral|debt)$")
WEI = 1e18


@dataclass(frozen=True, eq=False)
class AaveUserHistory:
    """One user's Aave v2 account over time (rows in block order)."""

    user: str
    block: np.ndarray  # int64[T]
    time_s: np.ndarray  # float64[T]
    total_collateral_eth: np.ndarray  # float64[T] (Aave oracle, ETH)
    total_debt_eth: np.ndarray
    health_factor: np.ndarray  # as recorded (2 decimals; 0 when the account has no collateral)
    eth_usd: np.ndarray  # WETH_USD_price (NaN when absent)
    assets: tuple[str, ...]
    decimals: tuple[int, ...]
    collateral: np.ndarray  # float64[T, A] token units
    debt: np.ndarray  # float64[T, A] token units
    price_usd: np.ndarray  # float64[T, A] (NaN when the file has no price column for the asset)
    collateral_usd: np.ndarray  # float64[T, A] as recorded (0 where absent)
    debt_usd: np.ndarray
    source: str | None = None

    def __len__(self) -> int:
        return int(self.block.shape[0])


def load_aave_details(path) -> AaveUserHistory:
    """Read one ``*_details_v2.csv`` (see the module docstring)."""
    t = read_csv(path, what="Aave v2 user details", required=REQUIRED_COLUMNS)
    fname = t.fname
    users = {u.strip() for u in t.column("user")}
    if len(users) != 1:
        raise InputError(fname, "column 'user'", f"expected one user per file, found {len(users)}")
    assets: list[str] = []
    for h in t.norm:
        m = _ASSET_COL.match(h)
        if m and not h.startswith("total") and m["sym"] not in assets:
            assets.append(m["sym"])
    T, A = len(t), len(assets)
    block = float_column(t, "block", min_value=0.0)
    if not np.all(block == np.floor(block)):
        i = int(np.flatnonzero(block != np.floor(block))[0])
        raise InputError(fname, t.where(i, "block"), "block must be an integer")
    ts = float_column(t, "timestamp", min_value=0.0)
    tc = float_column(t, "totalCollateral", min_value=0.0) / WEI
    td = float_column(t, "totalDebt", min_value=0.0) / WEI
    hf = float_column(t, "healthFactor", min_value=0.0)
    bad = np.flatnonzero(np.diff(block) <= 0)
    if bad.size:
        raise InputError(fname, t.where(int(bad[0]) + 1, "block"), "blocks must increase")
    eth_usd = float_column(t, "WETH_USD_price", positive=True) if t.has("WETH_USD_price") else np.full(T, np.nan)

    def col(name, **kw):
        return float_column(t, name, **kw) if t.has(name) else None

    raw_c = np.zeros((T, A))
    raw_d = np.zeros((T, A))
    px = np.full((T, A), np.nan)
    cu = np.zeros((T, A))
    du = np.zeros((T, A))
    decimals = []
    for a, s in enumerate(assets):
        for arr, kind in ((raw_c, "collateral"), (raw_d, "debt")):
            v = col(f"{s}_{kind}", min_value=0.0)
            if v is not None:
                arr[:, a] = v
        p = col(f"{s}_USD_price", min_value=0.0)
        if p is not None:
            px[:, a] = p
        for arr, kind in ((cu, "collateral"), (du, "debt")):
            v = col(f"{s}_{kind} (in USD)", min_value=0.0)
            if v is not None:
                arr[:, a] = v
        decimals.append(_decimals(fname, t, s, raw_c[:, a], raw_d[:, a], px[:, a], cu[:, a], du[:, a]))
    scale = 10.0 ** -np.asarray(decimals, dtype=np.float64) if A else np.zeros(0)
    return AaveUserHistory(
        user=users.pop(), block=block.astype(np.int64), time_s=ts, total_collateral_eth=tc, total_debt_eth=td,
        health_factor=hf, eth_usd=eth_usd, assets=tuple(assets), decimals=tuple(decimals),
        collateral=raw_c * scale, debt=raw_d * scale, price_usd=px, collateral_usd=cu, debt_usd=du, source=fname,
    )


def _decimals(fname, t, sym, rc, rd, px, cu, du) -> int:
    """Token decimals from ``raw · price / usd`` (a power of ten); KNOWN_DECIMALS or 18 if unseen."""
    est = []
    for raw, usd, kind in ((rc, cu, "collateral"), (rd, du, "debt")):
        m = (raw > 0) & (usd > 0) & (px > 0)
        with np.errstate(divide="ignore"):
            e = np.log10(raw[m] * px[m] / usd[m])
        # tiny amounts are rounded in the USD columns; use rows worth at least 1 cent
        e = e[usd[m] >= 0.01]
        est.append((kind, e))
    allv = np.concatenate([e for _, e in est])
    if allv.size == 0:
        return KNOWN_DECIMALS.get(sym, 18)
    d = int(round(float(np.median(allv))))
    off = np.abs(allv - d)
    if d < 0 or d > 36 or np.quantile(off, 0.9) > 0.05:
        raise InputError(fname, f"column '{sym}_collateral'",
                         f"cannot infer the token decimals of {sym}: amount × price / USD value is not a "
                         f"power of ten (median 10^{np.median(allv):.3f})")
    return d


def load_aave_details_dir(path) -> list[AaveUserHistory]:
    """Every ``*_details_v2.csv`` (else every ``*.csv``) in a folder, sorted by file name."""
    p = Path(path)
    if not p.is_dir():
        raise InputError(str(path), None, "not a folder")
    files = sorted(p.glob("*_details_v2.csv")) or sorted(p.glob("*.csv"))
    if not files:
        raise InputError(str(path), None, "no *_details_v2.csv files in the folder")
    return [load_aave_details(f) for f in files]


def oracle_health_factor(hist: AaveUserHistory, lt: dict[str, float], *, min_coverage: float = 0.9) -> np.ndarray:
    """The health factor the engine's formula gives with Aave's own valuation, per row.

    Collateral: the per-asset token amounts with the file's USD prices rescaled by one factor
    per row so that they add up to Aave's ``totalCollateral`` (the file's prices are not Aave's
    oracle; the rescaling keeps their ratios). Debt: Aave's ``totalDebt`` (the per-asset debt
    columns are empty on the first row). Then :func:`aave_health_factor`. NaN where the account
    has no collateral or no debt, where an asset's LT is unknown, or where the per-asset
    collateral columns cover less than ``min_coverage`` of ``totalCollateral (in USD)`` (an
    asset missing from the file).
    """
    T, A = hist.collateral.shape
    lt_vec = np.array([lt.get(s, math.nan) for s in hist.assets], dtype=np.float64)
    out = np.full(T, math.nan)
    value_usd = hist.collateral * np.nan_to_num(hist.price_usd)
    held = hist.collateral > 0
    tc_usd = hist.total_collateral_eth * hist.eth_usd
    for i in range(T):
        if not (hist.total_collateral_eth[i] > 0 and hist.total_debt_eth[i] > 0):
            continue
        if np.isnan(lt_vec[held[i]]).any():
            continue
        s = value_usd[i].sum()
        if not s > 0:
            continue
        if math.isfinite(tc_usd[i]) and s < min_coverage * tc_usd[i]:
            continue
        k = hist.total_collateral_eth[i] / s  # ETH per (file) USD
        prices = np.append(np.nan_to_num(hist.price_usd[i]) * k, 1.0)  # last "asset": ETH, for the debt
        coll = np.append(hist.collateral[i], 0.0)
        debt = np.append(np.zeros(A), hist.total_debt_eth[i])
        out[i] = aave_health_factor(coll, debt, prices, np.append(np.nan_to_num(lt_vec), 0.0))
    return out
