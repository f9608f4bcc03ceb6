"""Liquidation thresholds implied by Aave v2 user histories.

Aave's health factor is ``HF = totalCollateral · LT_avg / totalDebt`` with ``LT_avg`` the
collateral-weighted average LT. For a row whose collateral is a single asset, ``LT = HF ·
totalDebt / totalCollateral``; the recorded HF is rounded to 2 decimals, so each such row gives
an interval ``[(HF − 0.005) · D / C, (HF + 0.005) · D / C]`` and the rows of one asset (and one
governance period) intersect to a narrow interval. :func:`lt_intervals` computes them;
:func:`lt_residual_fit` fits the LTs of assets that only appear next to others by least
squares on ``HF · D / C = Σ_j w_j LT_j`` (``w_j`` the collateral shares), holding the assets with
intervals fixed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lt_intervals", "lt_residual_fit"]


def lt_intervals(histories, *, split_block: int | None = None) -> dict:
    """``{(asset, period): (lo, hi, n_rows)}`` from single-collateral rows with debt and HF > 0.

    ``period`` is 0, or 1 for rows at or after ``split_block`` when given (LTs change by
    governance vote). An empty interval (lo > hi) means the rows disagree.
    """
    out: dict = {}
    for h in histories:
        held = h.collateral > 0
        single = held.sum(axis=1) == 1
        for i in np.flatnonzero(single & (h.total_debt_eth > 0) & (h.total_collateral_eth > 0) & (h.health_factor > 0)):
            a = h.assets[int(np.flatnonzero(held[i])[0])]
            per = int(split_block is not None and h.block[i] >= split_block)
            r = h.total_debt_eth[i] / h.total_collateral_eth[i]
            lo, hi = (h.health_factor[i] - 0.005) * r, (h.health_factor[i] + 0.005) * r
            L = out.get((a, per), (-np.inf, np.inf, 0))
            out[(a, per)] = (max(L[0], lo), min(L[1], hi), L[2] + 1)
    return out


def lt_residual_fit(histories, known: dict[str, float], *, min_share: float = 0.01) -> dict:
    """Least-squares LTs of the collateral assets not in ``known``: ``{asset: (lt, n_rows)}``.

    Rows: collateral and debt > 0, HF > 0, at least one unknown asset with a collateral share
    >= ``min_share`` (shares from the per-asset USD columns).
    """
    rows, ys = [], []
    names: list[str] = []
    for h in histories:
        for i in range(len(h)):
            if not (h.total_debt_eth[i] > 0 and h.total_collateral_eth[i] > 0 and h.health_factor[i] > 0):
                continue
            v = h.collateral[i] * np.nan_to_num(h.price_usd[i])
            if not v.sum() > 0:
                continue
            w = v / v.sum()
            unk = [a for a, s in enumerate(h.assets) if w[a] >= min_share and s not in known]
            if not unk:
                continue
            y = h.health_factor[i] * h.total_debt_eth[i] / h.total_collateral_eth[i]
            y -= sum(w[a] * known[s] for a, s in enumerate(h.assets) if s in known)
            row = {}
            for a, s in enumerate(h.assets):
                if s not in known and w[a] > 0:
                    row[s] = row.get(s, 0.0) + w[a]
                    if s not in names:
                        names.append(s)
            rows.append(row)
            ys.append(y)
    if not rows:
        return {}
    X = np.array([[r.get(s, 0.0) for s in names] for r in rows])
    coef = np.linalg.lstsq(X, np.array(ys), rcond=None)[0]
    cnt = (X >= min_share).sum(axis=0)
    return {s: (float(c), int(n)) for s, c, n in zip(names, coef, cnt)}
