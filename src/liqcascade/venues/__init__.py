"""Venue kinds: where liquidated collateral is sold. One folder per kind, and the registry.

A kind's folder holds ``kernel.py`` (numba: its scalar trade rules), ``twin.py`` (a naive
plain-Python twin) and ``README.md``. What every kind shares lives beside them:
``kernel.py`` (the venue state layout), ``dispatch.py`` (per-venue dispatch on the kind,
routing, arbitrage, best venue), ``twin.py`` (their twin) and ``pack.py`` (scenario venues →
state arrays).

This module imports nothing heavy: kernels may import it.
"""

from __future__ import annotations

#: venue kinds; a kind's code in the state array (``vs[v, KIND]``) is its position here
KINDS: tuple[str, ...] = ("cpmm", "book", "stableswap", "concentrated")

#: the kinds a *lean* compile covers (the first codes of :data:`KINDS`): a kernel that knows its
#: venues are all of these compiles only their branches of the dispatch (``extras=None`` in
#: :mod:`liqcascade.venues.dispatch`, and the lean time loop's ``_core`` copies), about a third
#: of the code of all four; a scenario with a venue of another kind runs the full time loop
CORE_KINDS: tuple[str, ...] = KINDS[:2]
