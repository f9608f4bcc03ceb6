"""``[mechanisms.twap_exit]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_TW

#: its line in the run's notes
NOTE = (
    "twap exit: each step's seized collateral is sold in equal slices over the next steps; the "
    'unsold rest at the end is valued at the final spot (held_value); event execution prices are '
    "the step's average sale price"
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_TW_ON, KM.M_TW_SLICES]] = (1.0, x.slices)
