"""Prevention mechanisms (``[mechanisms.*]``) → the time loop's mechanism layout.

:func:`mechanism_setup` turns a compiled scenario's mechanisms into

* ``mech`` — float64[NMECH_PARAMS], the parameter pack of :mod:`liqcascade.mechanisms.kernel`
  (``mech[M_ON] = 0`` when none is on: the time loop then skips every mechanism branch);
* ``mmask`` — int64[NMECH, P], 1 where a mechanism applies to protocol ``p`` (``applies_to``,
  default every Aave-rule protocol);
* ``pos_ltm`` — float64[N + n_multi], the size-tier LT multiplier of each position (empty when
  no tiers);
* the book and rules the kernel runs on: ``partial`` sets the close-factor rule of the
  protocols it applies to to ``fixed`` with its ``close_factor``; size tiers re-key (and
  re-sort, per segment) the positions so that ``key = debt / (coll · LT · tier)``.

Each mechanism's own part is its folder's ``pack.py``: ``MASK_ROW`` (its row of the mask, None
for none), ``NOTE`` (its line in the run's notes) and ``pack(x, c, s)``, which writes its slots
of ``s.mech`` (and may change ``s.rules``, ``s.book``, ``s.notes``) from its configuration ``x``;
they run in registry order. ``oracle_guard`` has no slots: it rewrites the protocols' oracles at
compile time (:func:`liqcascade.mechanisms.oracle_guard.pack.apply_oracle_guard`).

The mechanisms act on the Aave-rule positions (segments and multi-asset positions) only; the
protocol units keep their own versions (Maker's Hole and ClipperMom, Liquity's stability pool,
the perp venue's insurance fund).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from . import module
from . import kernel as KM


@dataclass
class MechSetup:
    mech: np.ndarray
    mmask: np.ndarray
    pos_ltm: np.ndarray
    book: object  # engine.compile.Book the kernel runs on
    rules: np.ndarray
    perm: np.ndarray | None  # position j of ``book`` is position perm[j] of the compiled book
    notes: list

    def args(self):
        return self.mech, self.mmask, self.pos_ltm


#: mechanisms that act on protocol units too (the others act on Aave-rule protocols only)
UNITS_TOO = ("oracle_guard", "clearinghouse")


def applicable(c, name: str) -> list[int]:
    """Protocol indices mechanism ``name`` applies to (Aave-rule protocols only, but for the
    mechanisms of :data:`UNITS_TOO`)."""
    sc = c.scenario
    m = getattr(sc.mechanisms, name)
    names = m.applies_to
    out = []
    for k, pr in enumerate(sc.protocols):
        if names is not None and pr.name not in names:
            continue
        if name in UNITS_TOO:
            out.append(k)
            continue
        if pr.kind != "aave_v3":
            if names is not None:
                raise InputError(None, f"mechanisms.{name}.applies_to",
                                 f"protocol {pr.name!r} is a {pr.kind} unit; this mechanism acts on Aave-rule "
                                 "protocols only (units keep their own mechanisms)")
            continue
        out.append(k)
    return out


def check_mechanisms(sc) -> None:
    """Raise :class:`InputError` for a mechanism that names a protocol unit in ``applies_to``
    (``oracle_guard`` excepted: it applies to units too)."""
    for name in sc.mechanisms.active():
        if name in UNITS_TOO:
            continue
        m = getattr(sc.mechanisms, name)
        for k, pr in enumerate(sc.protocols):
            if m.applies_to is not None and pr.name in m.applies_to and pr.kind != "aave_v3":
                raise InputError(None, f"mechanisms.{name}.applies_to",
                                 f"protocol {pr.name!r} is a {pr.kind} unit; this mechanism acts on Aave-rule "
                                 "protocols only (units keep their own mechanisms)")


def mechanism_setup(c) -> MechSetup:
    sc = c.scenario
    M = sc.mechanisms
    P = len(sc.protocols)
    mech = np.zeros(KM.NMECH_PARAMS)
    mech[KM.M_DT] = float(sc.simulation.dt_seconds)
    mech[KM.M_SEED] = float(sc.simulation.seed % (1 << 52))
    mmask = np.zeros((KM.NMECH, max(P, 1)), np.int64)
    s = MechSetup(mech, mmask, np.zeros(0), c.book, c.rules, None, [])
    active = M.active()
    packs = {name: module(name, "pack") for name in active}
    for name in active:
        pk = packs[name]
        s.notes.append("mechanism " + pk.NOTE)
        if pk.MASK_ROW is None:
            continue
        on = applicable(c, name)
        for k in on:
            mmask[pk.MASK_ROW, k] = 1
        if name in UNITS_TOO:
            continue  # its pack.py writes its notes
        if not on:
            s.notes.append(f"mechanism {name}: no Aave-rule protocol in this scenario, so it has no effect here "
                           "(protocol units keep their own built-in versions; see docs/mechanisms.md)")
        elif len(on) < len(sc.protocols):
            s.notes.append(f"mechanism {name} acts on: " + ", ".join(sc.protocols[k].name for k in on))
    if not any(packs[n].MASK_ROW is not None for n in active):
        return s
    mech[KM.M_ON] = 1.0
    for name in active:  # registry order
        fill = getattr(packs[name], "pack", None)  # oracle_guard has no slots
        if fill is not None:
            fill(getattr(M, name), c, s)
    return s
