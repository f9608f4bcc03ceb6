"""``[mechanisms.random_execution]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_RE

#: its line in the run's notes
NOTE = (
    'random execution: delay uniform in 0…window steps from a hash of (seed, path, position)'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_RE_ON, KM.M_RE_WIN]] = (1.0, c.time.of(x, "window_seconds", "mechanisms.random_execution"))
