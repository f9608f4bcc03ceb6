"""Buffer pool — compiled functions the time loop calls (``kernels.stages``).

* **buffer_pool** — before the venues, it buys the collateral seized by the protocols it applies
  to at ``oracle · (1 − discount)`` while its capital lasts (:func:`pool_buy`); it holds what it
  buys (valued at the final mean spot). The liquidators receive its quote as sale proceeds.

Twin: ``twin.py`` next to this file; layout of the pack and the mask: :mod:`liqcascade.mechanisms.kernel`.
"""

from __future__ import annotations

from ...kernels._jit import internal, njit


@njit
def pool_buy(q, value, capital, discount):
    """The buffer pool buys from ``q`` units worth ``value`` at the oracle, paying
    ``(1 − discount)`` of that, within ``capital``. Returns ``(units bought, quote paid)``."""
    if q <= 0.0 or value <= 0.0 or capital <= 0.0:
        return 0.0, 0.0
    cost = value * (1.0 - discount)
    if cost <= capital:
        return q, cost
    s = capital / cost
    return q * s, capital


@internal
def pool_take(bp_q, bp_v, a):
    """The buffer pool's purchase of asset ``a`` this step, ``(units, quote)``, cleared."""
    pq = bp_q[a]
    pquote = bp_v[a]
    bp_q[a] = 0.0
    bp_v[a] = 0.0
    return pq, pquote
