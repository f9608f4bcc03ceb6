"""Plain-Python twin of :mod:`liqcascade.agents.gas_auction.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations

from ..kernel import GA_COMP, GA_K, GA_LAT, GA_MAX, GA_ON, GA_RING, GA_SHARE, GA_WIN, TOT_NOTED, TOT_PRIORITY


def agents_gas_multiple(ag, t):
    if ag[GA_ON] <= 0:
        return 1.0
    w, r = int(ag[GA_WIN]), int(ag[GA_RING])
    n = sum(ag[r + j] for j in range(w) if t - w < ag[r + w + j] <= t)
    return min(1.0 + ag[GA_K] * n, ag[GA_MAX])


def agents_latency(ag):
    return int(ag[GA_LAT]) if ag[GA_ON] > 0 else 0


def agents_priority(ag, profit):
    if ag[GA_ON] <= 0 or not profit > 0:
        return 0.0
    fee = ag[GA_SHARE] * (1.0 - 1.0 / ag[GA_COMP]) * profit
    ag[TOT_PRIORITY] += fee
    return fee


def agents_note_liquidation(ag, t):
    ag[TOT_NOTED] += 1
    if ag[GA_ON] <= 0:
        return
    w, r = int(ag[GA_WIN]), int(ag[GA_RING])
    slot = t % w
    if ag[r + w + slot] != t:
        ag[r + w + slot] = t
        ag[r + slot] = 0.0
    ag[r + slot] += 1.0
