"""Gas auction — compiled functions of the agents' hooks (:mod:`liqcascade.agents.hooks`).

Gas multiplier from congestion (liquidations in the window), liquidators' latency, the priority
fee the winner bids away.

Pack slots: :mod:`liqcascade.agents.kernel`; twin: ``twin.py`` next to this file.
"""

from __future__ import annotations

from ...kernels._jit import njit
from ..kernel import GA_COMP, GA_K, GA_LAT, GA_MAX, GA_ON, GA_RING, GA_SHARE, GA_WIN, TOT_NOTED, TOT_PRIORITY


@njit
def agents_gas_multiple(ag, t):
    """Hook (2): gas multiplier at step ``t``: ``min(1 + k · n, max_gas_multiple)`` with ``n``
    the liquidations noted in steps ``(t - window, t]``; 1 without a gas auction."""
    if ag[GA_ON] <= 0.0:
        return 1.0
    w = int(ag[GA_WIN])
    r = int(ag[GA_RING])
    n = 0.0
    for j in range(w):
        tag = ag[r + w + j]
        if tag > t - w and tag <= t:
            n += ag[r + j]
    m = 1.0 + ag[GA_K] * n
    if m > ag[GA_MAX]:
        m = ag[GA_MAX]
    return m


@njit
def agents_latency(ag):
    """Hook (2): steps a position must have been liquidatable before a liquidator acts on it."""
    if ag[GA_ON] <= 0.0:
        return 0
    return int(ag[GA_LAT])


@njit
def agents_priority(ag, profit):
    """Hook (3): priority fee the winning liquidator pays out of ``profit`` (quote):
    ``share · (1 − 1/competitors) · profit`` for a positive profit (with one competitor nothing
    is bid away), 0 otherwise. Added to the pack's running total."""
    if ag[GA_ON] <= 0.0 or not profit > 0.0:
        return 0.0
    fee = ag[GA_SHARE] * (1.0 - 1.0 / ag[GA_COMP]) * profit
    ag[TOT_PRIORITY] += fee
    return fee


@njit
def agents_note_liquidation(ag, t):
    """Hook (3): one liquidation happened at step ``t`` (feeds the congestion window)."""
    ag[TOT_NOTED] += 1.0
    if ag[GA_ON] <= 0.0:
        return
    w = int(ag[GA_WIN])
    r = int(ag[GA_RING])
    slot = t % w
    if ag[r + w + slot] != t:
        ag[r + w + slot] = t
        ag[r + slot] = 0.0
    ag[r + slot] += 1.0
