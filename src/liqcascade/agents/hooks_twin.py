"""Plain-Python twins of the agents' hooks (:mod:`liqcascade.agents.hooks`), calling the
agents' own twins in the same order (naive; ``tests/parity``)."""

from __future__ import annotations

from .front_runner.twin import front_run_post_sales, front_run_pre_sales
from .hedger.twin import hedger_flow
from .hunter.twin import hunter_flow, hunter_post_sales
from .kernel import (
    AG_COL_FRONTRUN, AG_COL_PNL, AG_COL_PRIORITY, AG_COL_TOPUP, AG_T, FR_ON, FR_PNL, HU_ASSET, HU_CASH,
    HU_ON, HU_OWED, TOT_PRIORITY, TOT_TOPUP,
)
from .twin import _ids, _mean_spot, _put


def _write_totals(ag, vs, av_ptr, av_idx, summary):
    if ag[HU_ON] > 0 or ag[FR_ON] > 0:
        pnl = 0.0
        if ag[HU_ON] > 0:
            ids = _ids(av_ptr, av_idx, int(ag[HU_ASSET]))
            owed = ag[HU_OWED]
            pnl = ag[HU_CASH] - (owed * _mean_spot(vs, ids) if (owed != 0 and ids) else 0.0)
        _put(summary, ag[AG_COL_PNL], pnl + ag[FR_PNL])
    _put(summary, ag[AG_COL_PRIORITY], ag[TOT_PRIORITY])
    _put(summary, ag[AG_COL_TOPUP], ag[TOT_TOPUP])
    _put(summary, ag[AG_COL_FRONTRUN], ag[FR_PNL])


def agents_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx, summary):
    ag[AG_T] = t
    hedger_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx)
    hunter_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx)
    _write_totals(ag, vs, av_ptr, av_idx, summary)


def agents_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    front_run_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)


def agents_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    front_run_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)
    hunter_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)
    _write_totals(ag, vs, av_ptr, av_idx, summary)


def agents_finish(ag, vs, vdk, vdq, av_ptr, av_idx, summary):
    _write_totals(ag, vs, av_ptr, av_idx, summary)
