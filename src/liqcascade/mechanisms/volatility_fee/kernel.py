"""Volatility fee (leverage fee) — compiled functions the time loop calls (``kernels.stages``).

* **volatility_fee** (leverage fee, ``M_LF_*``) — per protocol under it, a borrow-rate add-on
  ``r = min(max_rate, k · max(0, σ − σ_ref))`` a year with ``σ`` the largest realized volatility
  of its risky collateral assets (LT > 0); a fee index ``lev_ix[pr]`` (1 at the start) grows
  ``× (1 + r · dt / year)`` each step (:func:`leverage_fee_before`). The single-pair positions'
  debts are scaled amounts (as Aave's scaled balances): the debt owed is ``d · lev_ix`` and the
  liquidation stage values the debt asset at ``pd · lev_ix``. Multi-asset positions are not
  charged (*simplification*).

No function twin of its own (see ``README.md``); layout of the pack and the mask:
:mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal, njit
from ..kernel import (
    MK_LF, M_DT, M_LF_K, M_LF_MAX, M_LF_ON, M_LF_VREF, M_LF_WIN, M_ON, SECONDS_PER_YEAR, realized_vol,
)


@internal
def leverage_fee_on(mp):
    """The leverage fee (``volatility_fee``) is on."""
    return mp[M_ON] > 0.0 and mp[M_LF_ON] > 0.0


@njit
def leverage_rate(vol, k, vol_ref, max_rate):
    """Borrow-rate add-on a year: ``min(max_rate, k · max(0, vol − vol_ref))``."""
    x = vol - vol_ref
    if x <= 0.0:
        return 0.0
    r = k * x
    return r if r < max_rate else max_rate


@internal
def leverage_fee_before(mp, mk, t, lt, stable, phist, lev_ix):
    """Leverage fee at step ``t``: each protocol under it accrues ``lev_ix[pr] *= 1 + r · dt/year``
    with ``r`` from the largest realized volatility of its risky collateral assets (LT > 0)."""
    for pr in range(lev_ix.shape[0]):
        if mk[MK_LF, pr] == 0:
            continue
        vol = 0.0
        for a in range(stable.shape[0]):
            if not stable[a] and lt[pr, a] > 0.0:
                v = realized_vol(phist, t, pr, a, int(mp[M_LF_WIN]), mp[M_DT])
                if v > vol:
                    vol = v
        r = leverage_rate(vol, mp[M_LF_K], mp[M_LF_VREF], mp[M_LF_MAX])
        lev_ix[pr] *= 1.0 + r * mp[M_DT] / SECONDS_PER_YEAR
