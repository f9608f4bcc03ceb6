"""Prevention mechanisms (``[mechanisms.*]``) → the dynamic kernel's trailing arguments.

:func:`mechanism_setup` turns a compiled scenario's mechanisms into

* ``mech`` — float64[NMECH_PARAMS], the parameter pack of :mod:`liqcascade.kernels.mechanisms`
  (``mech[M_ON] = 0`` when none is on: the time loop then skips every mechanism branch);
* ``mmask`` — int64[NMECH, P], 1 where a mechanism applies to protocol ``p`` (``applies_to``,
  default every Aave-rule protocol);
* ``pos_ltm`` — float64[N + n_multi], the size-tier LT multiplier of each position (empty when
  no tiers);
* the book and rules the kernel runs on: ``partial`` sets the close-factor rule of the
  protocols it applies to to ``fixed`` with its ``close_factor``; size tiers re-key (and
  re-sort, per segment) the positions so that ``key = debt / (coll · LT · tier)``.

``oracle_guard`` is not here: it rewrites the protocols' oracles at compile time
(:func:`liqcascade.engine.compile.apply_oracle_guard`).

The mechanisms act on the Aave-rule positions (segments and multi-asset positions) only; the
protocol units keep their own versions (Maker's Hole and ClipperMom, Liquity's stability pool,
the perp venue's insurance fund).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..protocols.aave import kernel as K_aave
from ..kernels import mechanisms as KM
from ..mechanisms.clearinghouse import pack as ch_pack

#: mechanism field -> row of the applicability mask
MASK_ROW = {
    "circuit_breaker": KM.MK_CB, "throttle": KM.MK_TH, "twap_exit": KM.MK_TW, "buffer_pool": KM.MK_BP,
    "insurance_fund": KM.MK_IF, "dutch_auction": KM.MK_DA, "partial": KM.MK_PA, "dynamic_margin": KM.MK_DM,
    "random_execution": KM.MK_RE, "batch": KM.MK_BA, "volatility_fee": KM.MK_LF, "volatility_bonus": KM.MK_VF,
    "clearinghouse": KM.MK_CH,
}

#: mechanisms that act on protocol units too (the others act on Aave-rule protocols only)
UNITS_TOO = ("oracle_guard", "clearinghouse")

NOTES = {
    "circuit_breaker": "circuit breaker: per protocol, trips on the oracle's fall from its window high; "
                       "paused and grace steps liquidate only HF < exempt_hf",
    "throttle": "throttle: a liquidation that does not fit the window's debt room or the step's depth room is "
                "scaled down to the room (multi-asset positions wait instead)",
    "twap_exit": "twap exit: each step's seized collateral is sold in equal slices over the next steps; the unsold "
                 "rest at the end is valued at the final spot (held_value); event execution prices are the step's "
                 "average sale price",
    "buffer_pool": "buffer pool: buys seized collateral at oracle·(1−discount) before the venues and holds it "
                   "(held_value at the final spot)",
    "insurance_fund": "insurance fund: fed by fee_share of protocol fees, absorbs Aave-rule bad debt; the rest is "
                      "socialized",
    "dutch_auction": "dutch auction: bonus rises linearly from first-seen-liquidatable (not reset if the "
                     "position recovers)",
    "partial": "partial: fixed close factor (no v3.3 dust rule) and a per-position cooldown",
    "dynamic_margin": "dynamic margin: LT × multiplier from realized oracle volatility, buffer, gas multiple and "
                      "venue depth lost (within haircut_band below the protocol's price, any venue kind); size tiers by collateral value at the initial prices; with "
                      "apply = ramp a tighter multiplier (and the tiers, from the start) reaches the book linearly "
                      "over ramp_seconds (Euler v2's LTV ramp; each step whose target changes is a new setting)",
    "random_execution": "random execution: delay uniform in 0…window steps from a hash of (seed, path, position)",
    "batch": "batch: seized collateral is collected over window_seconds and cleared in one uniform-price batch "
             "auction (price = what the bundle fetches sold at once, less keeper_margin); keepers resell it over "
             "the next window under the depth budget (their resale is not in liquidator profit); liquidators' "
             "profitability test (rational) still prices an immediate sale",
    "volatility_fee": "volatility fee (leverage fee): a borrow-rate add-on k·max(0, σ − σ_ref) a year (capped) accrues "
                      "into the debt of single-collateral positions as a fee index (its own accrual term, not a "
                      "protocol rate model); debts in events and the final book are scaled amounts (× the index "
                      "to get what is owed); multi-asset positions are not charged; borrowers do not react to it",
    "volatility_bonus": "volatility bonus: bonus × (1 + k·max(0, σ − σ_ref)), capped, never below the base bonus",
    "oracle_guard": "oracle guard: the protocols it applies to read a TWAP/EMA/median of all venues of each "
                    "asset instead of their own oracles",
    "clearinghouse": ch_pack.NOTE,
}


#: printed (and in the run's notes) when the dynamic margin tightens the existing book at once
AT_ONCE_WARNING = ("warning: dynamic_margin.apply = at_once tightens the thresholds of the existing book at once: "
                   "it liquidates the book immediately when they move (use apply = \"ramp\", the default)")


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


def applicable(c, name: str) -> list[int]:
    """Protocol indices mechanism ``name`` applies to (Aave-rule protocols only)."""
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


def size_tier_multiplier(value: np.ndarray, tiers) -> np.ndarray:
    """LT multiplier of each position by collateral value: the multiplier of the tier with the
    largest threshold below the value (1 below every threshold)."""
    out = np.ones(value.shape[0])
    for thr, m in sorted(tiers, key=lambda x: x[0]):
        out = np.where(value > thr, m, out)
    return out


def mechanism_setup(c) -> MechSetup:
    sc = c.scenario
    M = sc.mechanisms
    P = len(sc.protocols)
    mech = np.zeros(KM.NMECH_PARAMS)
    mech[KM.M_DT] = float(sc.simulation.dt_seconds)
    mech[KM.M_SEED] = float(sc.simulation.seed % (1 << 52))
    mmask = np.zeros((KM.NMECH, max(P, 1)), np.int64)
    rules = c.rules
    book = c.book
    perm = None
    pos_ltm = np.zeros(0)
    notes = []
    active = M.active()
    for name in active:
        notes.append("mechanism " + NOTES[name])
        if name == "oracle_guard":
            continue
        on = applicable(c, name)
        for k in on:
            mmask[MASK_ROW[name], k] = 1
        if name == "clearinghouse":
            continue  # its pack.py writes its notes
        if not on:
            notes.append(f"mechanism {name}: no Aave-rule protocol in this scenario, so it has no effect here "
                         "(protocol units keep their own built-in versions; see docs/mechanisms.md)")
        elif len(on) < len(sc.protocols):
            notes.append(f"mechanism {name} acts on: " + ", ".join(sc.protocols[k].name for k in on))
    if not any(n != "oracle_guard" for n in active):
        return MechSetup(mech, mmask, pos_ltm, book, rules, perm, notes)
    mech[KM.M_ON] = 1.0
    tb = c.time  # durations in steps (the one conversion, liqcascade.timebase)
    if (x := M.circuit_breaker) is not None:
        w = "mechanisms.circuit_breaker"
        mech[[KM.M_CB_ON, KM.M_CB_THR, KM.M_CB_WIN, KM.M_CB_PAUSE, KM.M_CB_GRACE, KM.M_CB_EXEMPT]] = (
            1.0, x.threshold, tb.of(x, "window_seconds", w), tb.of(x, "pause_seconds", w),
            tb.of(x, "grace_seconds", w), x.exempt_hf)
    if (x := M.throttle) is not None:
        mech[[KM.M_TH_ON, KM.M_TH_DEBT, KM.M_TH_WIN, KM.M_TH_SLIP]] = (
            1.0, x.max_debt_per_window, tb.of(x, "window_seconds", "mechanisms.throttle"), x.depth_slippage)
    if (x := M.twap_exit) is not None:
        mech[[KM.M_TW_ON, KM.M_TW_SLICES]] = (1.0, x.slices)
    if (x := M.buffer_pool) is not None:
        mech[[KM.M_BP_ON, KM.M_BP_CAP, KM.M_BP_DISC]] = (1.0, x.capital, x.discount)
    if (x := M.insurance_fund) is not None:
        mech[[KM.M_IF_ON, KM.M_IF_SIZE, KM.M_IF_SHARE]] = (1.0, x.size, x.fee_share)
    if (x := M.dutch_auction) is not None:
        mech[[KM.M_DA_ON, KM.M_DA_START, KM.M_DA_MAX, KM.M_DA_STEPS]] = (
            1.0, x.start_bonus, x.max_bonus, tb.of(x, "rise_seconds", "mechanisms.dutch_auction"))
    if (x := M.partial) is not None:
        mech[[KM.M_PA_ON, KM.M_PA_CF, KM.M_PA_COOL]] = (
            1.0, x.close_factor, tb.of(x, "cooldown_seconds", "mechanisms.partial"))
        rules = c.rules.copy()
        for k in np.flatnonzero(mmask[KM.MK_PA]):
            rules[k, K_aave.R_RULE] = K_aave.RULE_FIXED
            rules[k, K_aave.R_CF] = x.close_factor
    if (x := M.dynamic_margin) is not None and x.apply == "new_positions":
        notes.append("mechanism dynamic_margin: apply = new_positions — the thresholds bind new or increased "
                     "positions only; the simulated book opens none, so it does not act in this run")
    elif (x := M.dynamic_margin) is not None:
        if x.apply == "ramp":
            mech[KM.M_DM_RAMP] = max(x.ramp_seconds / float(sc.simulation.dt_seconds), 1.0)
        else:
            notes.append(AT_ONCE_WARNING)
        mech[KM.M_DM_BAND] = x.haircut_band
        mech[[KM.M_DM_ON, KM.M_DM_WIN, KM.M_DM_VREF, KM.M_DM_K, KM.M_DM_CONG, KM.M_DM_HAIR, KM.M_DM_BUF,
              KM.M_DM_MIN]] = (1.0, tb.of(x, "vol_window_seconds", "mechanisms.dynamic_margin"), x.vol_ref, x.lt_per_vol, x.congestion_k, x.haircut_k,
                               x.buffer, x.min_multiplier)
        if x.size_tiers:
            book, perm, pos_ltm = _tiered_book(c, np.flatnonzero(mmask[KM.MK_DM]), x.size_tiers)
    if (x := M.random_execution) is not None:
        mech[[KM.M_RE_ON, KM.M_RE_WIN]] = (1.0, tb.of(x, "window_seconds", "mechanisms.random_execution"))
    if (x := M.batch) is not None:
        both = [k for k in np.flatnonzero(mmask[KM.MK_BA]) if mmask[KM.MK_BP, k] or mmask[KM.MK_TW, k]]
        if both:
            raise InputError(None, "mechanisms.batch", f"protocol {sc.protocols[both[0]].name!r} is also under "
                             "buffer_pool or twap_exit: each decides how its seized collateral is sold; narrow "
                             "one with applies_to")
        mech[[KM.M_BA_ON, KM.M_BA_WIN, KM.M_BA_SLIP, KM.M_BA_MARGIN]] = (
            1.0, tb.of(x, "window_seconds", "mechanisms.batch"), x.depth_slippage, x.keeper_margin)
    if (x := M.volatility_fee) is not None:
        mech[[KM.M_LF_ON, KM.M_LF_K, KM.M_LF_VREF, KM.M_LF_WIN, KM.M_LF_MAX]] = (
            1.0, x.k, x.vol_ref, tb.of(x, "vol_window_seconds", "mechanisms.volatility_fee"), x.max_rate)
    if (x := M.clearinghouse) is not None:
        ch_pack.pack(x, c, mech, mmask, notes)
    if (x := M.volatility_bonus) is not None:
        mech[[KM.M_VF_ON, KM.M_VF_K, KM.M_VF_VREF, KM.M_VF_WIN, KM.M_VF_MAX]] = (
            1.0, x.k, x.vol_ref, tb.of(x, "vol_window_seconds", "mechanisms.volatility_bonus"), x.max_bonus)
    return MechSetup(mech, mmask, pos_ltm, book, rules, perm, notes)


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
