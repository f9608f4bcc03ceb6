"""``[agents.borrowers]`` → its slots of the agents' pack (:mod:`liqcascade.agents.kernel`), and the
note a run carries when the borrowers never acted."""

from __future__ import annotations

from ...kernels import layouts as K
from .. import kernel as KA


def pack(ag, x, c, seed=None) -> None:
    """Write the configuration ``x`` into the pack ``ag`` (its per-position slots at ``ag[BO_FIRST]``
    and ``ag[BO_SEEN]``); ``seed`` replaces the scenario's seed."""
    n_pos = c.book.n + c.book.n_multi
    bseen = int(ag[KA.BO_SEEN])
    ag[KA.BO_ON] = 1.0
    ag[KA.BO_SHARE] = x.share
    ag[KA.BO_REACT] = x.react_hf
    ag[KA.BO_TARGET] = x.target_hf
    ag[KA.BO_DELAY] = c.time.of(x, "delay_seconds", "agents.borrowers")
    ag[KA.BO_ACTION] = KA.ACTION_DELEVERAGE if x.action == "deleverage" else KA.ACTION_TOPUP
    s = c.scenario.simulation.seed if seed is None else seed
    ag[KA.BO_SEED] = float(int(s) % (1 << 32))
    ag[KA.BO_N] = n_pos
    ag[bseen:bseen + n_pos] = -2.0


def note(x, c) -> str:
    return "reactive borrowers: top-ups/repayments come from outside the system (summary column borrower_topups)"


#: the start of the note a run carries when reactive borrowers never acted (compare lifts it)
BORROWERS_IDLE = "agents.borrowers: 0 top-ups"


def borrowers_note(c, summary) -> list[str]:
    """A line when reactive borrowers made no top-up although positions were liquidated: on a
    fast crash the liquidators take a position before the borrowers' reaction delay runs out."""
    bo = c.scenario.agents.borrowers
    if summary[:, K.SUM_TOPUP].sum() > 0.0 or summary[:, K.SUM_NLIQ].sum() == 0.0:
        return []
    dt = float(c.scenario.simulation.dt_seconds)
    steps = max(0, round(bo.delay_seconds / dt))
    return [f"{BORROWERS_IDLE} while {int(summary[:, K.SUM_NLIQ].sum()):,} liquidations happened: a borrower acts "
            f"after its position has stayed below HF {bo.react_hf:g} for delay_seconds = {bo.delay_seconds:g} "
            f"({steps} steps), and the crash outran that delay — every such position was liquidated (or recovered) "
            "first. delay_seconds = 0 models automated top-ups; [agents.gas_auction] latency_seconds or a "
            "slower liquidator gives borrowers time"]
