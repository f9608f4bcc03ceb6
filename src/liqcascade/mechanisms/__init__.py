"""Prevention mechanisms with a folder of their own (``mechanisms/<name>/``: ``model.py``,
``kernel.py``, ``twin.py``, ``README.md``), and their registry. The older mechanisms still live
in ``kernels/mechanisms.py`` and ``scenario/mechanisms.py``.

This module imports nothing: kernels may import it.
"""

from __future__ import annotations

#: mechanisms with a folder, by their ``[mechanisms.<name>]`` table name
NAMES: tuple[str, ...] = ("clearinghouse",)
