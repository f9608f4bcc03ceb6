"""``[mechanisms.dutch_auction]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_DA

#: its line in the run's notes
NOTE = (
    'dutch auction: bonus rises linearly from first-seen-liquidatable (not reset if the position '
    'recovers)'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_DA_ON, KM.M_DA_START, KM.M_DA_MAX, KM.M_DA_STEPS]] = (
        1.0, x.start_bonus, x.max_bonus, c.time.of(x, "rise_seconds", "mechanisms.dutch_auction"))
