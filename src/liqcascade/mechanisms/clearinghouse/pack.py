"""``[mechanisms.clearinghouse]`` → its slots of the mechanism pack ``mech`` (``M_CH_*``) and its
row of the applicability mask (``MK_CH``)."""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_CH

#: its line in the run's notes
NOTE = ("clearinghouse: the participants' forced sales are pooled per asset; a participating perp venue's forced buys "
        "are crossed against them at the venue's spot before its step; the rest is sold under one impact budget "
        "(max_step_move per step, max_window_move below the window's high, from venue depth), scarce room by "
        "urgency (lowest HF at liquidation; protocol units count as HF 1, the unit interface gives none) or pro "
        "rata; what does not fit waits in a queue (held value marked each step at the pre-sale mean spot; the "
        "queue's price risk and end shortfall stay with the protocol that put the units in); the optional backstop "
        "buys queued units at spot·(1−discount) and holds them")

#: mechanisms that decide how a protocol's seized collateral is sold: a protocol is under one of them at most
EXCLUSIVE = (("twap_exit", KM.MK_TW), ("buffer_pool", KM.MK_BP), ("batch", KM.MK_BA))


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`;
    durations through the compiled scenario's timebase ``c.time``). A protocol may not be under both the clearinghouse and a mechanism of
    :data:`EXCLUSIVE`: :class:`InputError` naming both."""
    sc = c.scenario
    mech, mmask, notes = s.mech, s.mmask, s.notes
    w = "mechanisms.clearinghouse"
    for other, row in EXCLUSIVE:
        both = [k for k in np.flatnonzero(mmask[MASK_ROW]) if mmask[row, k]]
        if both:
            raise InputError(None, f"{w}.applies_to", f"protocol {sc.protocols[both[0]].name!r} is also under "
                             f"{other}: each decides how its seized collateral is sold; narrow one with applies_to")
    bs = x.backstop
    mech[[KM.M_CH_ON, KM.M_CH_STEP, KM.M_CH_WMOVE, KM.M_CH_WIN, KM.M_CH_ALLOC, KM.M_CH_NET, KM.M_CH_BS_CAP,
          KM.M_CH_BS_DISC]] = (
        1.0, x.max_step_move, x.max_window_move, c.time.of(x, "window_seconds", w),
        0.0 if x.allocation == "urgency" else 1.0, 1.0 if x.netting else 0.0,
        bs.capital if bs is not None else 0.0, bs.discount if bs is not None else 0.0)
    part = np.flatnonzero(mmask[MASK_ROW])
    notes.append("mechanism clearinghouse acts on: " + ", ".join(sc.protocols[k].name for k in part))
    if x.netting and not any(sc.protocols[k].kind == "perp" for k in part):
        notes.append("mechanism clearinghouse: netting is on but no perp venue participates, so there are no forced "
                     "buys to net (lending protocols only sell)")
