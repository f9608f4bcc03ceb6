"""Market participants and adversaries: one folder per agent, and the registry that maps a
scenario's ``[agents.<name>]`` table to it.

An agent folder holds ``model.py`` (its pydantic configuration, ``CONFIG``), ``pack.py``
(configuration → its slots of the agents' pack), ``kernel.py`` (its compiled functions),
``twin.py`` (their deliberately naive plain-Python twins) and ``README.md`` (rules, sources,
simplifications). What the loop's agents share is at this level: ``kernel.py`` (the pack
layout and the routing helpers), ``hooks.py`` (the hooks the time loop calls, each calling the
agents' functions in order), ``twin.py``, ``pack.py`` (:func:`~.pack.agent_pack`, the notes)
and ``model.py`` (the scenario's ``Agents`` table, built from this registry). The flash-loan
attacker acts through the engine's bundle solver (``engine/flash.py``), not the loop's pack.

The scenario's ``[agents]`` table and ``liqcascade mechanisms`` are built from :data:`AGENTS`:
adding an agent is one new folder plus one line here (and its calls from the hooks).

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

import importlib

#: ``[agents.<name>]`` table name -> folder, in table order
AGENTS: dict[str, str] = {
    "gas_auction": "gas_auction",
    "hunter": "hunter",
    "front_runner": "front_runner",
    "hedger": "hedger",
    "borrowers": "borrowers",
    "flash_attacker": "flash_attacker",
}

#: agents that act through the engine's bundle solver (``engine/flash.py``), not the loop's pack
BUNDLE_AGENTS: tuple[str, ...] = ("flash_attacker",)


def module(name: str, part: str):
    """The ``part`` module (``"model"``, ``"pack"``, ``"kernel"``, ``"twin"``) of agent ``name``."""
    if name not in AGENTS:
        raise KeyError(f"unknown agent {name!r} (known: {', '.join(AGENTS)})")
    return importlib.import_module(f"liqcascade.agents.{AGENTS[name]}.{part}")


def config_class(name: str):
    """The pydantic model of the ``[agents.<name>]`` table (``CONFIG`` in its ``model.py``)."""
    return module(name, "model").CONFIG
