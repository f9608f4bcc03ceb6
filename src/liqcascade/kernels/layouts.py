"""Named layouts of the time loop: what the compiled kernels take instead of argument lists.

Every layout is a :class:`typing.NamedTuple` of NumPy arrays and Python scalars, which numba
compiles as a heterogeneous tuple (and caches with ``cache=True`` like any argument). The engine
builds the constant layouts once per run (:func:`liqcascade.engine.compile.kernel_inputs`); the
time loop builds the per-path mutable ones (:class:`State`, :class:`MechState`, the store of
:mod:`liqcascade.kernels.store`, the event buffer of :mod:`liqcascade.kernels.events`).

**One compiled signature.** A part of a scenario that is absent (no multi-asset positions, no
mechanism, no agent, no protocol unit, no oracle) is an *empty value of the same type* — zero-
length arrays of the same dtype and number of dimensions, scalars of the same Python type — so
each kernel compiles once whatever the scenario. The constructors below (``*_empty``) give those
values; the engine must build every layout with exactly the dtypes and scalar types listed here
(``bool``, ``float`` and ``int`` scalars, C-contiguous arrays).

Sizes: ``A`` assets, ``V`` venues, ``K`` depth points, ``O`` oracles, ``P`` protocols (Aave-rule
protocols and units alike; index = order in the scenario), ``N`` single-pair positions in ``S``
segments, ``M`` multi-asset positions with ``E`` entries, ``T`` steps.

Constant layouts (never written by a kernel):

* :class:`Market` — venues and assets: the venue state at ``t = 0`` ``vs0[V, NCOL]`` (columns in
  :mod:`liqcascade.venues.kernel`), book depth ``vdk/vdq[V, K]``, ``venue_asset[V]``, the
  venues of each asset in CSR form ``av_ptr[A+1]``/``av_idx[V]``, ``stable[A]``, ``p_fixed[A]``
  (the price of a stable asset on every step, and every asset's price at ``t = 0``), the
  arbitrage switches ``arb_on``/``arb_thr``/``ref_on``, ``dt_seconds`` and ``sink[P]`` (bool;
  empty: none): the protocols whose sales an infinite-depth buyer absorbs at the mean venue
  spot before they reach a venue (the counterfactual runs of ``liqcascade contagion``,
  :mod:`liqcascade.kernels.sales`).
* :class:`Oracles` — ``kind[O]``, ``params[O, NPARAM]``, their sources in CSR form
  ``src_ptr[O+1]``/``src[.]`` (venue indices), and ``of[P, A]``: the oracle protocol ``p`` reads
  for asset ``a`` (-1: the mean venue spot; stable assets always read ``p_fixed``).
* :class:`Rules` — Aave-rule parameters per protocol and asset: ``lt``, ``bonus``, ``pfee``
  ``[P, A]`` and the rule vector ``rules[P, NRULE]`` (:mod:`liqcascade.protocols.aave.kernel`).
* :class:`Book` — single-pair positions sorted into segments (``coll``, ``debt``, ``key`` with
  ``key = debt / (coll · LT · ltm)`` descending inside each segment; ``seg_ptr[S+1]``,
  ``seg_asset``, ``seg_proto``, ``seg_debt_asset[S]``); multi-asset positions in CSR form
  (``m_ptr[M+1]``, ``m_asset[E]``, ``m_coll[E]``, ``m_debt[E]``, ``m_proto[M]``); ``ltm[N+M]``,
  the size-tier LT multiplier of each position (empty: 1 for all).
* :class:`Liquidators` — ``mode`` (0 mechanical, 1 rational), ``gas`` (quote per liquidation),
  ``capital`` (quote per step; 1e300 = unlimited), ``max_per_step`` (0 = unlimited) and the same
  as the float vector ``liq[NLIQ]`` the protocol units read.
* :class:`Mechanisms` — ``p[NMECH_PARAMS]`` and ``mask[NMECH, max(P, 1)]``
  (:mod:`liqcascade.mechanisms.kernel`); ``p[M_ON] = 0`` switches them all off.
* :class:`Agents` — ``pack``, the float pack of :mod:`liqcascade.agents.kernel` (parameters
  and initial state; the loop works on a copy per path). Empty = no agents.
* :class:`Units` — the protocol units' packs ``comet``, ``liquity``, ``perp``, ``maker``,
  ``llamma`` (tuples of arrays, layouts in each family's kernel module; an absent family has
  zero-length arrays) and ``meta[NUNIT, NUM]``: per family ``(protocol index, position offset in
  the events, oracle Maker's OSM peep reads, event rows reserved per step)``, ``-1`` when absent. Units are the one input a
  path *mutates*: the caller passes fresh packs per path.

Output layout :class:`Out` (written by the loop): ``summary[NSUM]``, per-step records
``steps_asset[T+1, A, NST]`` and ``steps_scalar[T+1, NSS]`` (filled when ``record``), and the
final book of the path ``out_coll/out_debt[N]``, ``out_mcoll/out_mdebt[E]`` (empty: skipped).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# ---- per-path summary columns (Out.summary) ---------------------------------------------------
# The first six columns are the liquidation ledger (kernels.store.L_*), in the same order as the
# protocol units' accumulators (protocols.kernel.ACC_*).
SUM_NLIQ = 0
SUM_LIQ_VALUE = 1  # collateral seized, valued at the protocol (oracle) price
SUM_REPAID = 2
SUM_BAD = 3
SUM_FEES = 4
SUM_BONUS = 5  # liquidators' bonus at oracle prices
SUM_PROCEEDS = 6  # quote received from selling seized collateral
SUM_GAS = 7
SUM_SKIPPED = 8  # liquidatable-but-skipped position-steps
SUM_EV_LOST = 9  # events not recorded (buffer at its limit)
SUM_FUND_DRAW = 10  # insurance fund / reserves / stability pool drawn ([mechanisms.insurance_fund], units)
SUM_SOCIALIZED = 11  # Aave-rule bad debt socialized to lenders (not covered by an insurance fund), quote
SUM_NPOS_LIQ = 12  # distinct Aave-rule positions liquidated at least once
SUM_DISLOCATION = 13  # steps with the mean venue spot of a risky asset > 1 % below the reference path
SUM_PAUSED = 14  # steps with liquidations paused by the circuit breaker (pause, not grace)
SUM_HELD_VALUE = 15  # collateral held unsold (TWAP exit queue, buffer pool holdings) at the final spot
SUM_BORROWER_LOSS = 16  # Aave-rule: collateral seized at the oracle price − debt repaid, quote
SUM_ATTACKER_PNL = 17  # agents (agents/): hunter and front-runner PnL
SUM_PRIORITY = 18  # agents: priority fees paid by liquidators
SUM_TOPUP = 19  # agents: collateral added / debt repaid by reacting borrowers
SUM_MAX_MOVE = 20  # largest one-step fall of a risky asset's mean venue spot, relative to the step before
SUM_DISL_FIRST = 21  # first step with SUM_DISLOCATION's condition (0: never)
SUM_DISL_LAST = 22  # last such step (0: never)
# the clearinghouse ([mechanisms.clearinghouse], mechanisms/clearinghouse/kernel.py); units summed over assets
SUM_CH_IN = 23  # units its protocols put in
SUM_CH_NET = 24  # units crossed against a perp venue's forced buys (never touched a venue)
SUM_CH_SOLD = 25  # units it sold into the venues
SUM_CH_BS = 26  # units its backstop bought
SUM_CH_HELD = 27  # units still queued at the end
SUM_CH_HELD_VALUE = 28  # their value at the final mean venue spot
SUM_CH_RISK = 29  # price risk: value the queued units lost (or gained, < 0) while they waited, quote
SUM_CH_SHORTFALL = 30  # queue's bad debt: what the units still queued were worth when they came in − end value
SUM_CH_BS_PNL = 31  # backstop: value of its holdings at the final spot − what it paid
SUM_CH_CONS = 32  # largest |in − netted − sold − backstop − held| over steps and (protocol, asset), units
NSUM = 33
DISLOCATION = 0.01  # SUM_DISLOCATION threshold

# ---- per-step records (Out.steps_asset[t, a, ST_*], Out.steps_scalar[t, SS_*]) ---------------
ST_REF = 0  # reference path
ST_SPOT = 1  # mean venue spot after the step's sales
ST_ORACLE = 2  # price protocol 0 acts on
ST_SEIZED = 3  # units seized in the step
ST_PROCEEDS = 4  # quote from sales
NST = 5
SS_NLIQ = 0
SS_REPAID = 1
SS_BAD = 2
NSS = 3

# ---- liquidator modes ------------------------------------------------------------------------
MODE_MECHANICAL = 0
MODE_RATIONAL = 1

# ---- protocol unit families: row of Units.meta ------------------------------------------------
U_COMET = 0
U_LIQUITY = 1
U_PERP = 2
U_MAKER = 3
U_LLAMMA = 4
NUNIT = 5
UM_PROTO = 0  # Units.meta columns: protocol index (-1: family absent)
UM_OFFSET = 1  # index of the unit's first position in the run's events
UM_PEEP = 2  # oracle Maker's OSM peep reads (-1: none)
UM_ROOM = 3  # event rows reserved for the unit before each step
NUM = 4

# ---- step scalars (State.sc[SC_*]): values that several stages of one step share -------------
SC_N = 0  # liquidations this step (all protocols; max_per_step counts these)
SC_REPAID = 1  # debt repaid this step, quote
SC_BAD = 2  # bad debt this step, quote
SC_CAP_LEFT = 3  # liquidator capital left this step, quote
SC_GAS = 4  # gas per liquidation this step (agents' gas auction multiplies it)
SC_LAT = 5  # steps a position must have been liquidatable before a liquidator acts (agents)
SC_EV_FIRST = 6  # first event of this step (execution prices are filled from here)
SC_FULL = 7  # 1.0 when max_per_step stopped this step's scan
SC_PATH = 8  # the path's index in the run (random execution hashes it)
SC_BO_REPAID = 9  # debt reactive borrowers (agents) repaid this step, quote (a rate row takes it back)
NSC = 10

# ---- mechanism scalars (MechState.ms[MS_*]) --------------------------------------------------
MS_TH_USED = 0  # throttle: debt repaid in the rolling window
MS_FUND = 1  # insurance fund left
MS_BP_CAP = 2  # buffer pool capital left
NMS = 3

# ---- clearinghouse accounting (MechState.ch_acc[P, A, CA_*]) ---------------------------------
CA_IN = 0  # units put in
CA_NET = 1  # units crossed (netted) against a perp venue's forced buys
CA_SOLD = 2  # units sold into the venues
CA_BS = 3  # units the backstop bought
CA_VIN = 4  # value put in: units × the mean venue spot of the step they came in
CA_QUOTE = 5  # quote received (netted + sold + backstop)
CA_HELD_VIN = 6  # value-in of the units still queued (reduced pro rata as they leave)
CA_RISK = 7  # price risk: Σ over steps of units queued across the step × the fall of the mark
NCA = 8


class Market(NamedTuple):
    vs0: np.ndarray
    vdk: np.ndarray
    vdq: np.ndarray
    venue_asset: np.ndarray
    av_ptr: np.ndarray
    av_idx: np.ndarray
    stable: np.ndarray
    p_fixed: np.ndarray
    arb_on: bool
    arb_thr: float
    ref_on: bool
    dt_seconds: float
    sink: np.ndarray


class Oracles(NamedTuple):
    kind: np.ndarray
    params: np.ndarray
    src_ptr: np.ndarray
    src: np.ndarray
    of: np.ndarray


class Rules(NamedTuple):
    lt: np.ndarray
    bonus: np.ndarray
    pfee: np.ndarray
    rules: np.ndarray


class Book(NamedTuple):
    coll: np.ndarray
    debt: np.ndarray
    key: np.ndarray
    seg_ptr: np.ndarray
    seg_asset: np.ndarray
    seg_proto: np.ndarray
    seg_debt_asset: np.ndarray
    m_ptr: np.ndarray
    m_asset: np.ndarray
    m_coll: np.ndarray
    m_debt: np.ndarray
    m_proto: np.ndarray
    ltm: np.ndarray


class Liquidators(NamedTuple):
    mode: int
    gas: float
    capital: float
    max_per_step: int
    liq: np.ndarray


class Mechanisms(NamedTuple):
    p: np.ndarray
    mask: np.ndarray


class Agents(NamedTuple):
    pack: np.ndarray


class Units(NamedTuple):
    comet: tuple
    liquity: tuple
    perp: tuple
    maker: tuple
    llamma: tuple
    meta: np.ndarray


class Out(NamedTuple):
    summary: np.ndarray
    steps_asset: np.ndarray
    steps_scalar: np.ndarray
    record: bool
    out_coll: np.ndarray
    out_debt: np.ndarray
    out_mcoll: np.ndarray
    out_mdebt: np.ndarray


class State(NamedTuple):
    """Per-path mutable state of the loop (built by :func:`liqcascade.kernels.dynamic.new_state`).

    ``vs[V, NCOL]`` venue state; ``hist[V, T+1]`` venue spots per step (the oracles' sources);
    ``ostate[O, NSTATE]`` oracle states and ``oprice[O]`` their prices; ``mean_spot[A]`` mean
    venue spot (fixed price for stable assets); ``pprice[P, A]`` the price each protocol acts on
    this step; ``sold[A]`` units queued for sale this step; ``seized[A]`` units seized this step
    (recorded); ``ptr[S]`` first untouched position of each segment; ``mc/md[E]`` multi-asset
    entries and ``m_open[M]``; ``pos_last[N+M]`` the last step each Aave-rule position was
    liquidated (-1 never); ``pos_first[N+M]`` (or empty) the first step it was seen
    liquidatable (-1 never); ``ag`` the agents' pack for this path; ``acc[NACC]`` the units'
    accumulators; ``sc[NSC]`` step scalars; ``lt_row/bn_row/ones_a[A]`` scratch rows; ``sold_by[P, A]`` the
    units each protocol queued for sale this step (the sales ledger's owners,
    :mod:`liqcascade.kernels.sales`)."""

    vs: np.ndarray
    hist: np.ndarray
    ostate: np.ndarray
    oprice: np.ndarray
    mean_spot: np.ndarray
    pprice: np.ndarray
    sold: np.ndarray
    seized: np.ndarray
    ptr: np.ndarray
    mc: np.ndarray
    md: np.ndarray
    m_open: np.ndarray
    pos_last: np.ndarray
    pos_first: np.ndarray
    ag: np.ndarray
    acc: np.ndarray
    sc: np.ndarray
    lt_row: np.ndarray
    bn_row: np.ndarray
    ones_a: np.ndarray
    sold_by: np.ndarray


class MechState(NamedTuple):
    """Per-path state of the prevention mechanisms (built by
    :func:`liqcascade.mechanisms.kernel.mech_state_new`; arrays of size 1 when a mechanism is
    off). ``phist[T+1, P, A]`` prices the protocols acted on (breaker, dynamic margin, volatility
    fee); ``mmult[P, A]`` dynamic-margin LT multiplier; ``volvf[P, A]`` volatility-fee realized
    vol; ``bon[P, A]`` bonus in force; ``cb_state[P, 2]`` breaker (pause end, grace end);
    ``restricted[P]`` breaker active this step; ``ba[A + 1, NBA]`` batch auction (units of the
    step, of the window, the keepers' inventory and slice per asset; run length, first event of
    the window and batches cleared in row ``A``; ``[1, NBA]`` when off);
    ``th_ring[W]`` throttle window; ``th_sold[A]`` / ``depth_cap[A]`` throttle's per-step sales
    and depth room; ``tw_ring[slices, A]`` TWAP exit queue; ``tw_q``, ``bp_q``, ``tb_q``,
    ``bp_q_step``, ``bp_v``, ``bp_units``, ``depth0`` ``[A]`` queue and pool amounts;
    ``ms[NMS]`` scalars (throttle window used, fund left, pool capital left); ``dm_ramp[P, A, 3]``
    dynamic-margin ramp (from, target, end step; ``[0, A, 3]`` when off); ``lev_ix[P]`` the
    leverage fee's index (debt owed = scaled debt × index; 1 when off). The clearinghouse
    (``[1, 1]``-sized when off; :mod:`liqcascade.mechanisms.clearinghouse.kernel`): ``ch_q[P, A]``
    units queued per protocol and asset, ``ch_key[P, A]`` their urgency (lowest HF), ``ch_acc[P, A,
    NCA]`` its accounting, ``ch_ring[W + 1, A]`` the window's pre-sale spots and the last mark,
    ``ch_bs[A + 1, 2]`` the backstop (units held and quote paid per asset; capital left and the
    largest conservation error in row ``A``), ``ch_hf[P, A]`` the lowest HF liquidated this step."""

    phist: np.ndarray
    mmult: np.ndarray
    volvf: np.ndarray
    bon: np.ndarray
    cb_state: np.ndarray
    restricted: np.ndarray
    ba: np.ndarray
    th_ring: np.ndarray
    th_sold: np.ndarray
    depth_cap: np.ndarray
    tw_ring: np.ndarray
    tw_q: np.ndarray
    bp_q: np.ndarray
    tb_q: np.ndarray
    bp_q_step: np.ndarray
    bp_v: np.ndarray
    bp_units: np.ndarray
    depth0: np.ndarray
    ms: np.ndarray
    dm_ramp: np.ndarray
    lev_ix: np.ndarray
    ch_q: np.ndarray
    ch_key: np.ndarray
    ch_acc: np.ndarray
    ch_ring: np.ndarray
    ch_bs: np.ndarray
    ch_hf: np.ndarray


# ---- empty values (absent parts keep the compiled signature) -----------------------------------


def f64(*shape) -> np.ndarray:
    return np.zeros(shape, dtype=np.float64)


def i64(*shape) -> np.ndarray:
    return np.zeros(shape, dtype=np.int64)


def agents_empty() -> Agents:
    return Agents(pack=f64(0))


def out_summary_only(summary: np.ndarray, steps_asset: np.ndarray, steps_scalar: np.ndarray) -> Out:
    """An :class:`Out` that records the per-step market (for min/final spots) but no book."""
    e = f64(0)
    return Out(summary, steps_asset, steps_scalar, True, e, e, e, e)
