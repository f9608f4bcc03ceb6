"""Agents with a folder of their own (``agents/<name>/``: ``model.py``, ``kernel.py``,
``twin.py``, ``README.md``), and their registry. The older agents (gas auction, hunter,
front-runner, hedger, borrowers) still live in ``kernels/agents.py`` and
``scenario/mechanisms.py``.

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

#: agents with a folder, by their ``[agents.<name>]`` table name
NAMES: tuple[str, ...] = ("flash_attacker",)
