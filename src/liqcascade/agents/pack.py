"""Scenario ``[agents.*]`` → the float64 pack the time loop's agent hooks read
(:mod:`liqcascade.agents.kernel`), and the agents' lines in the run's notes.

:func:`agent_pack` lays out the pack (the header, the gas auction's congestion ring, the
front-runner's per-asset slots, the reactive borrowers' per-position slots) and lets each agent
in the scenario write its slots: ``pack(ag, x, c, seed)`` in its folder's ``pack.py``, in
registry order. Each folder's ``note(x, c)`` gives its line in the run's notes.

What is simplified (also in ``docs/agents.md`` and the run's notes): agents pay no gas and trade
only on the scenario's venues; the hunter's ladder covers the Aave-rule book's single-collateral
positions only (``agents/hunter/pack.py``).
"""

from __future__ import annotations

import numpy as np

from ..kernels import layouts as KL
from . import AGENTS, BUNDLE_AGENTS, module
from . import kernel as KA


#: the agents that act inside the time loop through the pack, in registry order
LOOP_AGENTS: tuple[str, ...] = tuple(n for n in AGENTS if n not in BUNDLE_AGENTS)


def asset_index(c, name: str | None) -> int:
    """Index of the named asset, or of the first risky asset when ``name`` is None."""
    if name is not None:
        return c.assets.index(name)
    for a in range(c.n_assets):
        if not c.stable[a]:
            return a
    return 0


def _col(name: str) -> float:
    return float(getattr(KL, name, -1))


def agent_pack(c, hunter=None, seed: int | None = None) -> np.ndarray | None:
    """The pack of the scenario's agents (``None`` when it has none).

    ``hunter`` (a :class:`~liqcascade.agents.hunter.model.Hunter`) replaces the scenario's
    ``[agents.hunter]`` — :mod:`liqcascade.engine.attack` uses it to vary the capital.
    """
    ags = c.scenario.agents
    hu = hunter if hunter is not None else ags.hunter
    if not [a for a in ags.active() if a not in BUNDLE_AGENTS] and hu is None:
        return None
    A = c.n_assets
    n_pos = c.book.n + c.book.n_multi
    ga, bo = ags.gas_auction, ags.borrowers
    win = c.time.of(ga, "congestion_window_seconds", "agents.gas_auction") if ga is not None else 0
    nb = n_pos if bo is not None else 0
    ring = KA.NHEAD
    fro = ring + 2 * win
    bfirst = fro + A
    bseen = bfirst + nb
    ag = np.zeros(bseen + nb)
    ag[KA.AG_A] = A
    ag[KA.AG_COL_PNL] = _col("SUM_ATTACKER_PNL")
    ag[KA.AG_COL_PRIORITY] = _col("SUM_PRIORITY")
    ag[KA.AG_COL_TOPUP] = _col("SUM_TOPUP")
    ag[KA.AG_COL_FRONTRUN] = _col("SUM_FRONTRUN_PNL")
    ag[KA.GA_RING] = ring
    ag[KA.FR_OWED] = fro
    ag[KA.BO_FIRST] = bfirst
    ag[KA.BO_SEEN] = bseen
    ag[KA.HU_LAST] = -1.0
    for name in LOOP_AGENTS:
        x = hu if name == "hunter" else getattr(ags, name)
        if x is not None:
            module(name, "pack").pack(ag, x, c, seed)
    return ag


def agent_notes(c, hunter=None) -> list[str]:
    """Lines for the run's ``notes`` describing the active agents and their simplifications."""
    ags = c.scenario.agents
    out = []
    for name in LOOP_AGENTS:
        x = (hunter if hunter is not None else ags.hunter) if name == "hunter" else getattr(ags, name)
        if x is not None:
            out.append(module(name, "pack").note(x, c))
    return out
