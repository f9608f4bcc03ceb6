"""Position-book shape from the Compound v2 snapshot, cross-referenced with ``positions.synth``.

The synthetic-book constants (lognormal debt size, 3-normal mixture of ``log(c − 1)``) are
fitted by ``scripts/calibrate_synth.py`` and live in :mod:`liqcascade.positions.synth`; this
module does not refit them. It reproduces the data side of that fit (same filter) so the two can
be compared, and adds what the per-cToken file shows:

* the accounts file's collateral is **CF-weighted** (see :mod:`liqcascade.data.compound`), so
  ``c = collateral / borrow`` is Compound's own health factor (liquidatable below 1), not a
  raw collateralisation ratio;
* the composition of collateral (CF-weighted) and debt by underlying asset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BookShape", "book_shape"]


@dataclass(frozen=True)
class BookShape:
    n_accounts: int
    n_kept: int  # debt >= debt_min_eth and c > c_floor (the synth fit's filter)
    c_quantiles_data: np.ndarray  # p10/p50/p90 of c on the kept accounts
    c_quantiles_synth: np.ndarray  # the same quantiles under positions.synth's mixture
    debt_quantiles_eth: np.ndarray  # p10/p50/p90 of debt (ETH) on the kept accounts
    share_liquidatable: float  # non-dust accounts with c < 1 (Compound HF < 1)
    collateral_share: dict  # underlying -> share of CF-weighted collateral value (all accounts)
    debt_share: dict  # underlying -> share of debt value


def book_shape(snap, iv=None, *, debt_min_eth: float = 0.1, c_floor: float = 1.0) -> BookShape:
    """Measure the snapshot (see the module docstring)."""
    from ..data.compound import implied_values
    from ..positions import synth

    if iv is None:
        iv = implied_values(snap)
    d, c = snap.total_borrow_eth, snap.total_collateral_eth
    ok = d > 0
    ratio = np.full(d.shape, np.nan)
    ratio[ok] = c[ok] / d[ok]
    nondust = ok & (d >= debt_min_eth)
    keep = nondust & (ratio > c_floor)
    q = (0.1, 0.5, 0.9)
    und = snap.underlyings
    names = list(dict.fromkeys(und))
    wv = np.nan_to_num(iv.weighted_eth_per_ctoken)[snap.pos_symbol] * snap.ctoken_balance
    dv = np.nan_to_num(iv.price_eth)[snap.pos_symbol] * snap.stored_borrow
    amap = np.array([names.index(u) for u in und], dtype=np.int64)[snap.pos_symbol]
    cw = np.bincount(amap, weights=wv, minlength=len(names))
    dw = np.bincount(amap, weights=dv, minlength=len(names))
    return BookShape(
        n_accounts=snap.n_accounts, n_kept=int(keep.sum()),
        c_quantiles_data=np.quantile(ratio[keep], q), c_quantiles_synth=synth.ratio_quantile(q),
        debt_quantiles_eth=np.quantile(d[keep], q),
        share_liquidatable=float((ratio[nondust] < 1.0).mean()),
        collateral_share={n: float(x / cw.sum()) for n, x in zip(names, cw) if x > 0},
        debt_share={n: float(x / dw.sum()) for n, x in zip(names, dw) if x > 0},
    )
