"""``[mechanisms.throttle]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_TH

#: its line in the run's notes
NOTE = (
    "throttle: a liquidation that does not fit the window's debt room or the step's depth room is"
    ' scaled down to the room (multi-asset positions wait instead)'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_TH_ON, KM.M_TH_DEBT, KM.M_TH_WIN, KM.M_TH_SLIP]] = (
        1.0, x.max_debt_per_window, c.time.of(x, "window_seconds", "mechanisms.throttle"), x.depth_slippage)
