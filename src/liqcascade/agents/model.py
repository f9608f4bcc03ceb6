"""The scenario's ``[agents]`` table, built from the registry (:data:`liqcascade.agents.AGENTS`):
one optional field per agent, its model the ``CONFIG`` of the agent's ``model.py``. A
sub-table's presence switches the agent on. Every field has a description: ``liqcascade
mechanisms`` prints them.
"""

from __future__ import annotations

from pydantic import create_model

from ..strict import Strict
from . import AGENTS, config_class


class _Table(Strict):
    def active(self) -> list[str]:
        """The names of the agents that are on, in table order."""
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


Agents = create_model(
    "Agents", __base__=_Table, __module__=__name__,
    **{name: (config_class(name) | None, None) for name in AGENTS})
Agents.__doc__ = "The ``[agents]`` table: one optional sub-table per registered agent."
