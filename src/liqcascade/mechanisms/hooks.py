"""Mechanism hooks that touch several mechanisms at once (compiled; called by
:mod:`liqcascade.kernels.stages`): one liquidation booked into the throttle's window, the
buffer pool's and TWAP exit's queues and the insurance fund (:func:`account_liquidation`); the
step's sales through the buffer pool and then the TWAP exit (:func:`queue_sales`); what they
hold unsold (:func:`held_units`). Twins: :mod:`liqcascade.mechanisms.twin`.
"""

from __future__ import annotations

from ..kernels._jit import internal, njit
from ..kernels.layouts import MS_BP_CAP
from .buffer_pool.kernel import pool_buy
from .insurance_fund.kernel import fund_absorb
from .kernel import M_BP_DISC, M_BP_ON, M_TW_ON, MK_BP, MK_IF, MK_TH, MK_TW
from .twap_exit.kernel import twap_left, twap_pop, twap_push


@njit
def account_liquidation(mk, pr, a, t, seize, repaid_value, bad_value, fee_value, seized_value,
                        th_on, bp_on, tw_on, if_on, if_share, th_ring, th_sold, bp_q, bp_v, tw_q, tb_q, fund):
    """Book one liquidation of protocol ``pr`` (asset ``a``) into the mechanisms it is under: the
    throttle's window and per-step sales, the buffer pool's and the TWAP exit's queues (``tb_q``:
    units under both), and the insurance fund (fed by ``if_share`` of the fee, drawing the bad
    debt). Returns ``(throttle debt added, fund left, fund drawn, socialized)``; without the
    fund the whole bad debt is socialized."""
    th_add = 0.0
    if th_on and mk[MK_TH, pr] != 0:
        th_ring[t % th_ring.shape[0]] += repaid_value
        th_add = repaid_value
        th_sold[a] += seize
    pool = bp_on and mk[MK_BP, pr] != 0
    if pool:
        bp_q[a] += seize
        bp_v[a] += seized_value
    if tw_on and mk[MK_TW, pr] != 0:
        tw_q[a] += seize
        if pool:
            tb_q[a] += seize
    if if_on and mk[MK_IF, pr] != 0:
        fund += if_share * fee_value
        fund, drawn, soc = fund_absorb(fund, bad_value)
        return th_add, fund, drawn, soc
    return th_add, fund, 0.0, bad_value


@internal
def queue_sales(mp, t, sold, bp_q, bp_v, bp_q_step, bp_units, tw_q, tb_q, tw_ring, ms):
    """Before the step's sales reach the venues: the buffer pool buys what it can of the
    collateral seized by its protocols (``bp_q`` units worth ``bp_v`` at the oracle; afterwards
    ``bp_q``/``bp_v`` hold the units it bought and the quote it paid this step), then the TWAP
    exit queues what its protocols seized (less the pool's purchases from them) and releases
    what is due this step. ``sold[a]`` becomes the units the venues receive."""
    tw_on = mp[M_TW_ON] > 0.0
    bp_on = mp[M_BP_ON] > 0.0
    tw_slices = tw_ring.shape[0]
    for a in range(sold.shape[0]):
        q_pool = 0.0
        bp_q_step[a] = bp_q[a]
        if bp_on and bp_q[a] > 0.0:
            q_pool, paid = pool_buy(bp_q[a], bp_v[a], ms[MS_BP_CAP], mp[M_BP_DISC])
            ms[MS_BP_CAP] -= paid
            bp_units[a] += q_pool
            bp_v[a] = paid  # quote the pool paid this step
            sold[a] = sold[a] - q_pool if sold[a] > q_pool else 0.0
        else:
            bp_v[a] = 0.0
        bp_q[a] = q_pool  # units the pool bought this step
        if tw_on:
            # the pool buys pro rata from what its protocols seized; only its purchases
            # from protocols that also exit by TWAP leave the TWAP queue
            from_tw = 0.0
            if q_pool > 0.0 and tb_q[a] > 0.0:
                from_tw = q_pool * (tb_q[a] / bp_q_step[a])
            tin = tw_q[a] - from_tw
            if tin > sold[a]:
                tin = sold[a]
            if tin > 0.0:
                sold[a] -= tin
                twap_push(tw_ring, t, a, tin, tw_slices)
            sold[a] += twap_pop(tw_ring, t, a)
            tw_q[a] = 0.0
            tb_q[a] = 0.0


@internal
def held_units(bp_units, tw_ring, a):
    """Units of asset ``a`` the mechanisms hold unsold (buffer pool, TWAP exit queue)."""
    return bp_units[a] + twap_left(tw_ring, a)
