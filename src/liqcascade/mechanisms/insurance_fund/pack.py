"""``[mechanisms.insurance_fund]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_IF

#: its line in the run's notes
NOTE = (
    'insurance fund: fed by fee_share of protocol fees, absorbs Aave-rule bad debt; the rest is '
    'socialized'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_IF_ON, KM.M_IF_SIZE, KM.M_IF_SHARE]] = (1.0, x.size, x.fee_share)
