"""Oracle kinds: the price a protocol acts on. One folder per kind, and the registry.

A kind's folder holds ``kernel.py`` (numba: its ``step``), ``twin.py`` (a naive plain-Python
twin) and ``README.md``. What every kind shares lives beside them: ``kernel.py`` (parameter and
state layouts, source readers, the publication guard), ``dispatch.py`` (one step of any oracle,
dispatched on its kind code), ``twin.py`` and ``pack.py`` (settings in seconds → the kernel's
parameter vector).

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

#: oracle kinds; a kind's code in the kernels is its position here
KINDS: tuple[str, ...] = ("spot", "heartbeat", "twap", "median", "osm", "ema", "fundamental")
#: the kinds the lean time loop compiles (the first of :data:`KINDS`): a scenario with an oracle of
#: another kind runs on the full loop (:func:`liqcascade.engine.dynamic.loop_variant`)
CORE_KINDS: tuple[str, ...] = KINDS[:2]
