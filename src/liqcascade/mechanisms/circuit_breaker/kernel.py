"""Circuit breaker — compiled functions the time loop calls (``kernels.stages``).

* **circuit breaker** — per protocol: at step ``t`` when neither paused nor in grace, it trips if
  for one of its risky collateral assets (LT > 0) ``p_t < (1 − threshold) · max(p_{t−W} … p_t)``
  (:func:`window_fall`). Steps ``t … t+pause−1`` are *paused*, the next ``grace`` steps are the
  grace period; in both only positions with ``HF < exempt_hf`` are liquidated, HF being
  ``ratio / key`` for a pair (``1/(key/ratio)``) and the full HF for a multi-asset position.
  Others wait in the store.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal, njit
from ..kernel import MK_CB, M_CB_GRACE, M_CB_PAUSE, M_CB_THR, M_CB_WIN


@njit
def window_fall(phist, t, pr, a, window):
    """``1 − p_t / max(p_{t−window} … p_t)`` (0 when the price did not fall)."""
    lo = t - window
    if lo < 0:
        lo = 0
    mx = 0.0
    for k in range(lo, t + 1):
        if phist[k, pr, a] > mx:
            mx = phist[k, pr, a]
    if mx <= 0.0:
        return 0.0
    f = 1.0 - phist[t, pr, a] / mx
    return f if f > 0.0 else 0.0


@njit
def breaker_step(state, pr, t, fall, threshold, pause, grace):
    """Update protocol ``pr``'s breaker at step ``t``; ``state[pr] = (pause_end, grace_end)``.

    Trips (pause from this step) when ``fall > threshold`` and the protocol is neither paused
    nor in grace. Returns ``(paused, restricted)``: paused now; paused or in grace now."""
    if t >= state[pr, 1] and fall > threshold:
        state[pr, 0] = t + pause
        state[pr, 1] = t + pause + grace
    return t < state[pr, 0], t < state[pr, 1]


@internal
def breaker_before(mp, mk, t, lt, stable, phist, cb_state, restricted):
    """Circuit breaker at step ``t``: per protocol under it, the largest window fall of its risky
    collateral assets (LT > 0) trips or keeps the breaker (:func:`breaker_step`); sets
    ``restricted[pr]``. Returns True when some protocol is paused (not in grace) now."""
    any_paused = False
    for pr in range(lt.shape[0]):
        if mk[MK_CB, pr] == 0:
            continue
        fall = 0.0
        for a in range(lt.shape[1]):
            if not stable[a] and lt[pr, a] > 0.0:
                f = window_fall(phist, t, pr, a, int(mp[M_CB_WIN]))
                if f > fall:
                    fall = f
        paused, restr = breaker_step(cb_state, pr, t, fall, mp[M_CB_THR], int(mp[M_CB_PAUSE]), int(mp[M_CB_GRACE]))
        restricted[pr] = restr
        if paused:
            any_paused = True
    return any_paused
