"""The venue state layout every venue kind and the venue dispatch share.

All venues of a simulation live in ``vs[V, NCOL]`` (float64) with the column constants below,
plus padded depth rows ``vdk[V, K]``, ``vdq[V, K]`` (only the first ``int(vs[v, NK])`` entries
of a book's row are read; pool rows are unused). ``ASSET`` is the asset index a venue trades
against the quote; ``KIND`` holds the venue kind code; ``FLOOR`` the floor price, where the
venue's bids end (:mod:`liqcascade.venues.dispatch`). ``UNSOLD`` counts the asset a pool could not
take itself (a StableSwap pool at its balance floor, a concentrated pool below its lowest range),
which went to the stub bid at the floor price. ``AUX`` … ``AUX + NAUX - 1`` hold a kind's own
scalars (a StableSwap pool's rates and parameters, a concentrated pool's ``cs`` vector), read as
a slice.
"""

from __future__ import annotations

from liqcascade.venues import KINDS

# --- venue state columns -----------------------------------------------------------------
KIND = 0
X = 1
Y = 2
FEE = 3
MID = 4
REF = 5
HALF = 6
NK = 7
ASSET = 8
FLOOR = 9  # the venue's floor price: no bids below it, a stub bid at it (0: none; see venues.dispatch)
UNSOLD = 10
AUX = 11
NAUX = 7
NCOL = AUX + NAUX

# --- venue kind codes (a kind's position in the registry) ---------------------------------
VENUE_CPMM = KINDS.index("cpmm")
VENUE_BOOK = KINDS.index("book")
VENUE_STABLESWAP = KINDS.index("stableswap")
VENUE_CONCENTRATED = KINDS.index("concentrated")
