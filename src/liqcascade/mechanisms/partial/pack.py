"""``[mechanisms.partial]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

import numpy as np

from ...protocols.aave import kernel as K_aave
from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_PA

#: its line in the run's notes
NOTE = (
    'partial: fixed close factor (no v3.3 dust rule) and a per-position cooldown'
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    s.mech[[KM.M_PA_ON, KM.M_PA_CF, KM.M_PA_COOL]] = (
        1.0, x.close_factor, c.time.of(x, "cooldown_seconds", "mechanisms.partial"))
    s.rules = c.rules.copy()
    for k in np.flatnonzero(s.mmask[KM.MK_PA]):
        s.rules[k, K_aave.R_RULE] = K_aave.RULE_FIXED
        s.rules[k, K_aave.R_CF] = x.close_factor
