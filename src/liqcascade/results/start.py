"""The start state of a result (:mod:`liqcascade.engine.start`) when nothing was recorded."""

from __future__ import annotations


def empty_state() -> dict:
    """No debt without collateral and nothing liquidatable at t = 0."""
    return {"pre_existing_bad_debt": {"positions": 0, "value": 0.0, "by_protocol": {}},
            "liquidatable_at_start": {"positions": 0, "by_protocol": {}}}
