"""The Aave health factor over many accounts at once (numpy, vectorised over rows).

:func:`health_factors` is the formula of :func:`liqcascade.protocols.aave.kernel.health_factor`
(§1.1) on ``[..., A]`` arrays; the Aave v2 history loaders (``liqcascade.data.aave``) and the
calibration use it. One account: :func:`liqcascade.protocols.aave.actions.health_factor`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["health_factors"]


def health_factors(collateral, debt, prices, lt) -> np.ndarray:
    """``Σ c·p·LT / Σ d·p`` over the last axis (assets); ``inf`` where there is no debt.

    ``collateral``, ``debt``: ``[..., A]`` asset units; ``prices``: ``[..., A]`` or ``[A]``;
    ``lt``: ``[A]`` liquidation thresholds. Collateral counts only where ``LT > 0`` and its value
    is > 0, as in :func:`liqcascade.protocols.aave.kernel.liquidate_position`.
    """
    c = np.asarray(collateral, dtype=np.float64)
    d = np.asarray(debt, dtype=np.float64)
    p = np.asarray(prices, dtype=np.float64)
    lt = np.asarray(lt, dtype=np.float64)
    v = c * p
    wv = np.where((v > 0) & (lt > 0), v * lt, 0.0).sum(axis=-1)
    dv = np.where(d * p > 0, d * p, 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dv > 0, wv / np.where(dv > 0, dv, 1.0), math.inf)
