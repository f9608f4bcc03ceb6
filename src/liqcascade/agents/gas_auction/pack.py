"""``[agents.gas_auction]`` → its slots of the agents' pack (:mod:`liqcascade.agents.kernel`)."""

from __future__ import annotations

from .. import kernel as KA


def pack(ag, x, c, seed=None) -> None:
    """Write the configuration ``x`` into the pack ``ag`` (its congestion ring at ``ag[GA_RING]``)."""
    tb = c.time  # durations in steps (the one conversion, liqcascade.timebase)
    win = tb.of(x, "congestion_window_seconds", "agents.gas_auction")
    ring = int(ag[KA.GA_RING])
    ag[KA.GA_ON] = 1.0
    ag[KA.GA_COMP] = x.competitors
    ag[KA.GA_SHARE] = x.priority_share
    ag[KA.GA_LAT] = tb.of(x, "latency_seconds", "agents.gas_auction")
    ag[KA.GA_K] = x.congestion_k
    ag[KA.GA_WIN] = win
    ag[KA.GA_MAX] = x.max_gas_multiple
    ag[ring + win:ring + 2 * win] = -1.0  # step tags: none yet


def note(x, c) -> str:
    return ("gas auction: winner pays share·(1−1/competitors) of a positive profit as priority fee; "
            "gas ×(1 + k·liquidations in the window), capped; latency delays the first attempt")
