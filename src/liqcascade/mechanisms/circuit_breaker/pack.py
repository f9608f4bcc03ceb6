"""``[mechanisms.circuit_breaker]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_CB

#: its line in the run's notes
NOTE = (
    "circuit breaker: per protocol, trips on the oracle's fall from its window high; paused and "
    'grace steps liquidate only HF < exempt_hf'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    w = "mechanisms.circuit_breaker"
    tb = c.time
    s.mech[[KM.M_CB_ON, KM.M_CB_THR, KM.M_CB_WIN, KM.M_CB_PAUSE, KM.M_CB_GRACE, KM.M_CB_EXEMPT]] = (
        1.0, x.threshold, tb.of(x, "window_seconds", w), tb.of(x, "pause_seconds", w),
        tb.of(x, "grace_seconds", w), x.exempt_hf)
