"""``[agents.front_runner]`` → its slots of the agents' pack (:mod:`liqcascade.agents.kernel`)."""

from __future__ import annotations

from .. import kernel as KA
from ..pack import asset_index


def pack(ag, x, c, seed=None) -> None:
    """Write the configuration ``x`` into the pack ``ag``."""
    ag[KA.FR_ON] = 1.0
    ag[KA.FR_ASSET] = asset_index(c, x.asset) if x.asset is not None else -1
    ag[KA.FR_CAPITAL] = x.capital
    ag[KA.FR_SHARE] = x.share


def note(x, c) -> str:
    return "front-runner: sells share × the step's queued liquidation sales first and buys them back after (no gas)"
