"""``[mechanisms.volatility_bonus]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_VF

#: its line in the run's notes
NOTE = (
    'volatility bonus: bonus × (1 + k·max(0, σ − σ_ref)), capped, never below the base bonus'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_VF_ON, KM.M_VF_K, KM.M_VF_VREF, KM.M_VF_WIN, KM.M_VF_MAX]] = (
        1.0, x.k, x.vol_ref, c.time.of(x, "vol_window_seconds", "mechanisms.volatility_bonus"), x.max_bonus)
