"""Reactive borrowers — compiled functions of the agents' hooks (:mod:`liqcascade.agents.hooks`).

A share of borrowers top up collateral or repay debt once their HF has stayed below ``react_hf``
for the reaction delay.

Pack slots: :mod:`liqcascade.agents.kernel`; twin: ``twin.py`` next to this file.
"""

from __future__ import annotations

import numpy as np

from ...kernels._jit import njit
from ..kernel import (
    ACTION_DELEVERAGE, BO_ACTION, BO_DELAY, BO_FIRST, BO_N, BO_ON, BO_REACT, BO_SEED, BO_SEEN, BO_SHARE,
    BO_TARGET, TOT_REACTED, TOT_TOPUP,
)


@njit
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit
def position_draw(i, seed):
    """A uniform number in [0, 1) fixed by position ``i`` and ``seed`` (splitmix64)."""
    z = np.uint64(i) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
    z = _mix(_mix(z))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def agents_borrower(ag, i, t, hf):
    """Hook (5): ``(coll_scale, debt_scale)`` for position ``i`` with health factor ``hf`` at
    step ``t``.

    Position ``i`` is reactive iff ``position_draw(i, seed) < share``. A reactive position seen
    with ``hf < react_hf`` at consecutive steps (the caller calls this every step for each
    position with ``hf < react_hf``; a step without a call counts as recovered) acts once it has
    been below for ``BO_DELAY`` steps: it tops up collateral by ``target_hf / hf`` or repays
    debt down to ``hf / target_hf``, so its HF becomes ``target_hf``. Every other case returns
    ``(1, 1)``. The caller applies the scales and reports the quote value brought in with
    :func:`agents_note_topup`. Top-ups and repayments come from outside the system."""
    if ag[BO_ON] <= 0.0 or i < 0 or i >= int(ag[BO_N]) or not hf > 0.0:
        return 1.0, 1.0
    if hf >= ag[BO_REACT]:
        return 1.0, 1.0
    if position_draw(i, int(ag[BO_SEED])) >= ag[BO_SHARE]:
        return 1.0, 1.0
    fo = int(ag[BO_FIRST]) + i
    so = int(ag[BO_SEEN]) + i
    if ag[so] != t - 1 and ag[so] != t:
        ag[fo] = t
    ag[so] = t
    if t - ag[fo] < ag[BO_DELAY]:
        return 1.0, 1.0
    ag[TOT_REACTED] += 1.0
    ag[so] = -2.0
    if int(ag[BO_ACTION]) == ACTION_DELEVERAGE:
        return 1.0, hf / ag[BO_TARGET]
    return ag[BO_TARGET] / hf, 1.0


@njit
def agents_note_topup(ag, value):
    """Record the quote value a reactive borrower brought in (collateral added or debt repaid)."""
    ag[TOT_TOPUP] += value
