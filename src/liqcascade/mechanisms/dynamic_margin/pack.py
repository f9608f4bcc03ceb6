"""``[mechanisms.dynamic_margin]`` → its slots of the mechanism pack ``mech``
(:mod:`liqcascade.mechanisms.kernel`), and the size tiers: a per-position LT multiplier folded
into the book's keys (the book re-sorted per segment)."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import kernel as KM

#: its row of the applicability mask
MASK_ROW = KM.MK_DM

#: its line in the run's notes
NOTE = (
    'dynamic margin: LT × multiplier from realized oracle volatility, buffer, gas multiple and '
    "venue depth lost (within haircut_band below the protocol's price, any venue kind); size "
    'tiers by collateral value at the initial prices; with apply = ramp a tighter multiplier (and'
    " the tiers, from the start) reaches the book linearly over ramp_seconds (Euler v2's LTV "
    'ramp; each step whose target changes is a new setting)'
)

#: printed (and in the run's notes) when the dynamic margin tightens the existing book at once
AT_ONCE_WARNING = ("warning: dynamic_margin.apply = at_once tightens the thresholds of the existing book at once: "
                   "it liquidates the book immediately when they move (use apply = \"ramp\", the default)")


def pack(x, c, s) -> None:
    """Write the configuration ``x`` into the setup ``s`` (:class:`liqcascade.mechanisms.pack.MechSetup`);
    size tiers replace ``s.book`` by the tiered book (``s.perm``, ``s.pos_ltm``)."""
    sc = c.scenario
    if x.apply == "new_positions":
        s.notes.append("mechanism dynamic_margin: apply = new_positions — the thresholds bind new or increased "
                       "positions only; the simulated book opens none, so it does not act in this run")
        return
    mech = s.mech
    if x.apply == "ramp":
        mech[KM.M_DM_RAMP] = max(x.ramp_seconds / float(sc.simulation.dt_seconds), 1.0)
    else:
        s.notes.append(AT_ONCE_WARNING)
    mech[KM.M_DM_BAND] = x.haircut_band
    mech[[KM.M_DM_ON, KM.M_DM_WIN, KM.M_DM_VREF, KM.M_DM_K, KM.M_DM_CONG, KM.M_DM_HAIR, KM.M_DM_BUF,
          KM.M_DM_MIN]] = (1.0, c.time.of(x, "vol_window_seconds", "mechanisms.dynamic_margin"), x.vol_ref,
                           x.lt_per_vol, x.congestion_k, x.haircut_k, x.buffer, x.min_multiplier)
    if x.size_tiers:
        s.book, s.perm, s.pos_ltm = _tiered_book(c, np.flatnonzero(s.mmask[KM.MK_DM]), x.size_tiers)


def size_tier_multiplier(value: np.ndarray, tiers) -> np.ndarray:
    """LT multiplier of each position by collateral value: the multiplier of the tier with the
    largest threshold below the value (1 below every threshold)."""
    out = np.ones(value.shape[0])
    for thr, m in sorted(tiers, key=lambda x: x[0]):
        out = np.where(value > thr, m, out)
    return out


def _tiered_book(c, protos, tiers):
    """The book with size-tier multipliers folded into the keys, re-sorted per segment."""
    b = c.book
    n = b.n
    ltm = np.ones(n + b.n_multi)
    perm = np.arange(n)
    key = b.key.copy()
    sel = np.isin(b.seg_proto, protos)
    for s in np.flatnonzero(sel):
        lo, hi = int(b.seg_ptr[s]), int(b.seg_ptr[s + 1])
        a, k = int(b.seg_asset[s]), int(b.seg_proto[s])
        m = size_tier_multiplier(b.coll[lo:hi] * float(c.p0[a]), tiers)
        lt = float(c.lt_pa[k, a])
        kk = b.debt[lo:hi] / (b.coll[lo:hi] * (lt * m))
        order = np.argsort(-kk, kind="stable")
        perm[lo:hi] = lo + order
        key[lo:hi] = kk[order]
        ltm[lo:hi] = m[order]
    for j in range(b.n_multi):
        if b.m_proto[j] in protos:
            s0, s1 = b.m_ptr[j], b.m_ptr[j + 1]
            value = float((b.m_coll[s0:s1] * c.p0[b.m_asset[s0:s1]]).sum())
            ltm[n + j] = size_tier_multiplier(np.array([value]), tiers)[0]
    nb = dataclasses.replace(b, coll=b.coll[perm], debt=b.debt[perm], key=key, ids=b.ids[perm])
    return nb, perm, ltm
