"""``[agents.hedger]`` → its slots of the agents' pack (:mod:`liqcascade.agents.kernel`)."""

from __future__ import annotations

from .. import kernel as KA
from ..pack import asset_index


def pack(ag, x, c, seed=None) -> None:
    """Write the configuration ``x`` into the pack ``ag``."""
    ag[KA.HE_ON] = 1.0
    ag[KA.HE_ASSET] = asset_index(c, x.asset)
    ag[KA.HE_GAMMA] = x.gamma_notional


def note(x, c) -> str:
    return "hedger: option market makers trade gamma·Δp/p of the reference return (short gamma)"
