"""Partial liquidation — compiled functions the time loop calls (``kernels.stages``).

* **partial** — the engine sets the protocols' close-factor rule to ``fixed`` with
  ``close_factor`` (no dust rule; ``pack.py``); a position is liquidated at most once per
  ``cooldown + 1`` steps (``M_PA_COOL``: ``cooldown_seconds`` in steps; :func:`cooldown_holds`).

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal
from ..kernel import M_PA_COOL, MK_PA


@internal
def cooldown_holds(mp, mk, pr, last, t):
    """The partial-liquidation cooldown holds back a position of protocol ``pr`` last liquidated
    at step ``last`` (< 0: never) at step ``t``: ``t − last ≤ cooldown`` steps."""
    return mk[MK_PA, pr] != 0 and last >= 0 and t - last <= int(mp[M_PA_COOL])
