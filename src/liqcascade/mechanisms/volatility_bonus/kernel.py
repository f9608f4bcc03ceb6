"""Volatility bonus — compiled functions the time loop calls (``kernels.stages``).

* **volatility_bonus** (``M_VF_*``) — bonus ``min(max(max_bonus, b), b · (1 + k · max(0, σ − σ_ref)))``
  (:func:`vol_fee_bonus`; never below the base bonus ``b``, which is the Dutch bonus when both
  are on).

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal, njit
from ..kernel import MK_VF, M_DT, M_VF_K, M_VF_MAX, M_VF_VREF, M_VF_WIN, realized_vol


@njit
def vol_fee_bonus(bonus, vol, k, vol_ref, max_bonus):
    """``min(max(max_bonus, bonus), bonus · (1 + k · max(0, vol − vol_ref)))``."""
    x = vol - vol_ref
    if x < 0.0:
        x = 0.0
    b = bonus * (1.0 + k * x)
    cap = max_bonus if max_bonus > bonus else bonus
    return b if b < cap else cap


@internal
def volatility_fee_before(mp, mk, t, stable, phist, bonus, volvf, bon):
    """Volatility fee at step ``t``: realized vol ``volvf[pr, a]`` and the bonus in force
    ``bon[pr, a]`` of every protocol under it and risky asset."""
    for pr in range(bon.shape[0]):
        if mk[MK_VF, pr] == 0:
            continue
        for a in range(stable.shape[0]):
            if not stable[a]:
                volvf[pr, a] = realized_vol(phist, t, pr, a, int(mp[M_VF_WIN]), mp[M_DT])
                bon[pr, a] = vol_fee_bonus(bonus[pr, a], volvf[pr, a], mp[M_VF_K], mp[M_VF_VREF], mp[M_VF_MAX])
