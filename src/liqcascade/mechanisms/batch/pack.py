"""``[mechanisms.batch]`` → its slots of the mechanism pack ``mech`` (:mod:`liqcascade.mechanisms.kernel`)."""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_BA

#: its line in the run's notes
NOTE = (
    'batch: seized collateral is collected over window_seconds and cleared in one uniform-price '
    'batch auction (price = what the bundle fetches sold at once, less keeper_margin); keepers '
    'resell it over the next window under the depth budget (their resale is not in liquidator '
    "profit); liquidators' profitability test (rational) still prices an immediate sale"
)


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`)."""
    mmask = s.mmask
    both = [k for k in np.flatnonzero(mmask[KM.MK_BA]) if mmask[KM.MK_BP, k] or mmask[KM.MK_TW, k]]
    if both:
        raise InputError(None, "mechanisms.batch", f"protocol {c.scenario.protocols[both[0]].name!r} is also under "
                         "buffer_pool or twap_exit: each decides how its seized collateral is sold; narrow "
                         "one with applies_to")
    s.mech[[KM.M_BA_ON, KM.M_BA_WIN, KM.M_BA_SLIP, KM.M_BA_MARGIN]] = (
        1.0, c.time.of(x, "window_seconds", "mechanisms.batch"), x.depth_slippage, x.keeper_margin)
