"""The hooks the time loop calls for its agents (compiled), each calling the agents' own
functions (``agents/<name>/kernel.py``) in a fixed order.

Hooks, in the order the time loop calls them in one step ``t``:

The hooks (2), (3) and (5) are single agents' functions, called from the stages directly:
``gas_auction/kernel.py`` and ``borrowers/kernel.py``.

1. :func:`agents_flow` — after the exogenous flow, before arbitrage. Records ``t`` in the pack;
   the **hedger** (option market makers short gamma) trades ``gamma · (path[t]/path[t-1] - 1)``
   quote of the asset (sells on a fall, buys on a rise) routed over the asset's venues; the
   **hunter** sells from step ``HU_START`` over ``HU_SELL`` steps what brings the venues of its
   asset down to its target price (the cluster of liquidation prices chosen by the engine),
   capped by its capital, and buys back what it owes ``HU_HOLD`` steps after its last sale (or at
   the last step).
2. :func:`agents_gas_multiple` — ``min(1 + k · n, cap)`` with ``n`` the liquidations noted in
   the last ``window`` steps (this one included); :func:`agents_latency` — steps a position must
   have been liquidatable before a liquidator acts on it.
3. :func:`agents_priority` — the priority fee the winning liquidator pays out of a positive
   profit: ``share · (1 - 1/competitors) · profit``; :func:`agents_note_liquidation` — feeds the
   congestion window.
4. :func:`agents_pre_sales` — the **front-runner** sees the liquidation sales queued in the step
   (``sold[a]``, units) and sells ``share · sold[a]`` (capped at ``capital`` quote) first;
   :func:`agents_post_sales` — it buys the same amount back after them; the **hunter** with
   ``buy_discounted`` also buys what the liquidators dumped (up to what it owes) when the price
   after the dump is below its average sale price.
5. :func:`agents_borrower` — reactive borrowers (see the function); :func:`agents_note_topup`
   records the quote value they bring in.
6. :func:`agents_finish` — after the last step: marks what the hunter still owes at the final
   spot and writes the totals.

Simplifications (also in ``docs/agents.md`` and the run's notes): agents trade at the venues of
the model only and pay no gas; the hunter's capital is asset it borrows (``capital / spot`` units
at step ``HU_START``) and its PnL is ``cash − owed · final mean spot`` (a short sale: the exogenous
drift of units it did not sell is not counted); borrowers' top-ups and repayments come from
outside the system.
"""

from __future__ import annotations

from ..kernels._jit import njit
from .front_runner.kernel import front_run_post_sales, front_run_pre_sales
from .hedger.kernel import hedger_flow
from .hunter.kernel import hunter_flow, hunter_pnl, hunter_post_sales
from .kernel import (
    AG_COL_FRONTRUN, AG_COL_PNL, AG_COL_PRIORITY, AG_COL_TOPUP, AG_T, FR_ON, FR_PNL, HU_ON, TOT_PRIORITY, TOT_TOPUP, _put,
)


@njit
def _write_totals(ag, vs, av_ptr, av_idx, summary):
    # SUM_ATTACKER_PNL: hunter + front-runner (the front-runner's alone too, where a column exists)
    if ag[HU_ON] > 0.0 or ag[FR_ON] > 0.0:
        _put(summary, ag[AG_COL_PNL], hunter_pnl(ag, vs, av_ptr, av_idx) + ag[FR_PNL])
    _put(summary, ag[AG_COL_PRIORITY], ag[TOT_PRIORITY])
    _put(summary, ag[AG_COL_TOPUP], ag[TOT_TOPUP])
    _put(summary, ag[AG_COL_FRONTRUN], ag[FR_PNL])


@njit
def agents_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (1): after the exogenous flow of step ``t``, before arbitrage (hedger, hunter)."""
    ag[AG_T] = t
    hedger_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx)
    hunter_flow(ag, t, path, vs, vdk, vdq, av_ptr, av_idx)
    _write_totals(ag, vs, av_ptr, av_idx, summary)


@njit
def agents_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (4): just before the step's liquidation sales (``sold[a]`` units) are routed, the
    front-runner sells ``share · sold[a]``, capped at ``capital / spot`` units
    (:func:`~liqcascade.agents.front_runner.kernel.front_run_pre_sales`)."""
    front_run_pre_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)


@njit
def agents_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx, summary):
    """Hook (4): just after the step's liquidation sales: the front-runner buys back what it sold
    in :func:`agents_pre_sales`; the hunter (``buy_discounted``, after its sale phase) buys up to
    ``sold[a]`` of what it owes when the spot is below its average sale price. Writes totals."""
    front_run_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)
    hunter_post_sales(ag, sold, vs, vdk, vdq, av_ptr, av_idx)
    _write_totals(ag, vs, av_ptr, av_idx, summary)


@njit
def agents_finish(ag, vs, vdk, vdq, av_ptr, av_idx, summary):
    """After the last step: write the totals (the hunter's PnL marks what it still owes at the
    final mean spot of its asset)."""
    _write_totals(ag, vs, av_ptr, av_idx, summary)
