"""Plain-Python twin of :mod:`liqcascade.agents.borrowers.kernel` (naive; ``tests/parity``)."""

from __future__ import annotations

from ..kernel import (
    ACTION_DELEVERAGE, BO_ACTION, BO_DELAY, BO_FIRST, BO_N, BO_ON, BO_REACT, BO_SEED, BO_SEEN, BO_SHARE,
    BO_TARGET, TOT_REACTED, TOT_TOPUP,
)


_M64 = (1 << 64) - 1


def position_draw(i, seed):
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)

    z = (i * 0x9E3779B97F4A7C15 + seed) & _M64
    return (mix(mix(z)) >> 11) / float(1 << 53)


def agents_borrower(ag, i, t, hf):
    if ag[BO_ON] <= 0 or not 0 <= i < int(ag[BO_N]) or not hf > 0:
        return 1.0, 1.0
    if hf >= ag[BO_REACT] or position_draw(i, int(ag[BO_SEED])) >= ag[BO_SHARE]:
        return 1.0, 1.0
    fo, so = int(ag[BO_FIRST]) + i, int(ag[BO_SEEN]) + i
    if ag[so] not in (t - 1, t):
        ag[fo] = t
    ag[so] = t
    if t - ag[fo] < ag[BO_DELAY]:
        return 1.0, 1.0
    ag[TOT_REACTED] += 1
    ag[so] = -2.0
    if int(ag[BO_ACTION]) == ACTION_DELEVERAGE:
        return 1.0, hf / ag[BO_TARGET]
    return ag[BO_TARGET] / hf, 1.0


def agents_note_topup(ag, value):
    ag[TOT_TOPUP] += value
