"""``[mechanisms.buffer_pool]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_BP

#: its line in the run's notes
NOTE = (
    'buffer pool: buys seized collateral at oracle·(1−discount) before the venues and holds it '
    '(held_value at the final spot)'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_BP_ON, KM.M_BP_CAP, KM.M_BP_DISC]] = (1.0, x.capital, x.discount)
