"""Dynamic simulation — the compiled time loop.

:func:`run_path` runs one path as a short loop of named stages
(:mod:`liqcascade.kernels.stages`, each with the exact rules in its docstring) over the named
layouts of :mod:`liqcascade.kernels.layouts`::

    for t in 1 … T:
        move_market            exogenous flow, impact decay, agents' flow, arbitrage
        read_oracles           venue spots → oracles → the price each protocol acts on
        mechanisms_before      agents' gas and latency; breaker, dynamic margin, volatility fee, throttle
        open_step              the step's sales and counters start at zero
        rates_before           (only with interest rates) accrual, borrowers' repayments, withdrawals
        liquidate_books        Aave-rule single-pair positions (store cohorts, then segment heads)
        liquidate_multi_asset  Aave-rule multi-asset positions
        step_units             protocol units (Compound v3, Liquity, perps, Maker, crvUSD)
        route_sales            buffer pool, TWAP exit, front-runner, routed sales, execution prices
        record                 the step's records

Consequences of the order: the liquidations of step ``t`` act on prices that do not yet contain
their own sales; those sales reach the oracles at ``t + 1`` at the earliest.

Positions use the store and segments of :mod:`liqcascade.kernels.store`, shared with the static
solver: the liquidation key ``debt / (coll · LT)`` is compared to ``p_coll / p_debt``.
Liquidatable positions that the liquidators skip stay in the store and are re-examined every
step. :func:`run_many` runs many paths (summaries only, no events), copying the protocol units'
packs for each path.

Variants
--------
The two bodies are compiled into one kernel per *variant*, each with one signature (absent
parts of a scenario are empty layouts of the same types, :mod:`liqcascade.kernels.layouts`):

=========  ===========================================  ========================================
variant    kernels (recorded path, many paths)          arguments passed as None
=========  ===========================================  ========================================
lean       :data:`simulate_path_lean`,                  ``mechs``, ``agents``, ``rates``, ``units``
           :data:`simulate_many_lean`
full       :data:`simulate_path`, :data:`simulate_many`  ``units``
units      :data:`simulate_path_units`,                 none
           :data:`simulate_many_units`
=========  ===========================================  ========================================

numba removes a branch on ``x is None`` / ``x is not None`` (also through one alias such as
``full = mechs is not None``) when ``x`` is a None-typed argument, before typing: the code in
the removed branch is never typed or compiled, nor is anything it calls. ``mechs`` None is the
lean switch: every stage keeps the code of the mechanisms, the loop's agents, interest rates and
multi-asset positions (and the :class:`~liqcascade.kernels.layouts.MechState` reads, None in
the lean variant) under ``mechs is not None``; the units' code sits under ``units is not None``.
An inlined stage tests the loop's own ``mechs`` argument (the test cannot see through the
borrowed copy); a separately compiled one (``@internal``) tests its own argument. The engine
runs the lean variant when no mechanism is on, the agents' pack is empty, no interest rate is
modelled, no position is multi-asset and there is no unit
(:func:`liqcascade.engine.dynamic.loop_variant`); its results are the full variant's, bit for
bit (``tests/parity/test_lean_variant.py``). The lean kernels also dispatch over the core venue
and oracle kinds alone (cpmm and book; spot and heartbeat): their copies of the stages, the sales
ledger, routing, arbitrage and the oracle step are the ``_core`` family :data:`CORE`
(:class:`~liqcascade.kernels._jit.Rebound`), and the engine picks them only when every venue and
oracle is of a core kind.

Each kernel is its own copy of the body (:func:`~liqcascade.kernels._jit.variant`): the entry
kernels compile the loop directly (a wrapper kernel around an ``@internal`` one would re-link,
re-optimize and re-emit the whole loop once more), and each has a cache index of its own (numba
keys a function's cache by module and qualified name, its entries by signature only).
"""

from __future__ import annotations

import numpy as np

from ._jit import DISABLED, Rebound, internal, njit, typing_only, variant
from .events import EV_LOST, EV_N, events_new_k, events_reserve  # noqa: F401
from .layouts import (  # noqa: F401  (the engine reads these through this module)
    DISLOCATION, MODE_MECHANICAL, MODE_RATIONAL, NSC, NSS, NST, NSUM, NUM, NUNIT, SC_GAS, SC_PATH, SS_BAD,
    SS_NLIQ, SS_REPAID, ST_ORACLE, ST_PROCEEDS, ST_REF, ST_SEIZED, ST_SPOT, SUM_ATTACKER_PNL, SUM_BAD,
    SUM_BONUS, SUM_BORROWER_LOSS, SUM_DISLOCATION, SUM_EV_LOST, SUM_FEES, SUM_FUND_DRAW, SUM_GAS,
    SUM_HELD_VALUE, SUM_LIQ_VALUE, SUM_NLIQ, SUM_NPOS_LIQ, SUM_PAUSED, SUM_PRIORITY, SUM_PROCEEDS,
    SUM_REPAID, SUM_SKIPPED, SUM_SOCIALIZED, SUM_TOPUP, U_COMET, U_LIQUITY, U_LLAMMA, U_MAKER, U_PERP,
    SC_EV_FIRST, UM_PEEP, UM_PROTO, UM_ROOM, Out, State, Units,
)
from ..mechanisms.kernel import M_DM_BAND, M_DM_HAIR, M_ON, depth_units, mech_state_new, mechanisms_on
from ..oracles.dispatch import CORE_BIND as ORACLES_CORE, oracle_init
from ..oracles.kernel import NSTATE
from ..protocols.perp.kernel import perp_mark_init
from .stages import (
    finish_path, liquidate_books, liquidate_multi_asset, mean_venue_spot, mechanisms_before, move_market,
    open_step, protocol_price, read_oracles, record, record_start, route_sales, step_units,
)
from .borrow import borrow, keep
from .accrual import rates_before, rates_finish, rates_fresh, rates_record, rates_start, rates_state_new
from .store import store_new
from .sales import sale_room, sales_off_k, sales_reserve
from ..protocols.kernel import NACC
from ..venues.dispatch import CORE_BIND as VENUES_CORE, venue_spot

# ---- copying a unit pack (a tuple of arrays) per path ------------------------------------------

if DISABLED:  # pragma: no cover - plain-Python mode

    def tuple_copy(t):
        return tuple(x.copy() for x in t)

else:
    from numba.extending import overload

    def tuple_copy(t):
        """A tuple of copies of the arrays in ``t`` (compiled per tuple length)."""
        return tuple(x.copy() for x in t)

    @overload(tuple_copy)
    def _tuple_copy_impl(t):
        n = len(t)
        src = "def impl(t):\n    return (" + "".join(f"t[{i}].copy(), " for i in range(n)) + ")\n"
        ns: dict = {}
        exec(src, ns)  # noqa: S102 - generated from the tuple's length only
        return ns["impl"]


@internal
def units_fresh(units):
    """The units layout with copies of every pack (a path mutates its packs)."""
    return Units(tuple_copy(units.comet), tuple_copy(units.liquity), tuple_copy(units.perp),
                 tuple_copy(units.maker), tuple_copy(units.llamma), units.meta)


# ---- the loop -------------------------------------------------------------------------------------


@internal
def new_state(path, path_id, mkt, orc, rules, book, liqs, mechs, agents):
    """The path's :class:`~liqcascade.kernels.layouts.State` at ``t = 0``.

    Venues start at ``mkt.vs0`` (copied); ``hist[v, 0]`` is each venue's spot; each oracle
    starts at the mean of its sources' spots (1.0 without sources); the mean spots start at
    ``p_fixed``; the agents' pack is copied (empty in the lean loop, ``mechs`` None)."""
    T = path.shape[0] - 1
    A = path.shape[1]
    V = mkt.vs0.shape[0]
    O = orc.kind.shape[0]
    P = rules.lt.shape[0]
    n_pos = book.coll.shape[0] + book.m_proto.shape[0]
    vs = mkt.vs0.copy()
    hist = np.zeros((max(V, 1), T + 1))
    ostate = np.zeros((max(O, 1), NSTATE))
    oprice = np.zeros(max(O, 1))
    for v in range(V):
        hist[v, 0] = venue_spot(vs, v)
    for o in range(O):
        src = orc.src[orc.src_ptr[o]:orc.src_ptr[o + 1]]
        s = 0.0
        for j in range(src.shape[0]):
            s += hist[src[j], 0]
        p0 = s / src.shape[0] if src.shape[0] > 0 else 1.0
        oracle_init(orc.kind[o], orc.params[o], ostate[o], p0)
        oprice[o] = p0
    need_first = False
    if mechs is not None:
        mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mechs.p)
        ag = agents.pack.copy()
        need_first = da_on or re_on or ag.shape[0] > 0
    else:
        ag = np.zeros(0)
    sc = np.zeros(NSC)
    sc[SC_GAS] = liqs.gas
    sc[SC_PATH] = path_id
    return State(vs, hist, ostate, oprice, mkt.p_fixed.copy(), np.zeros((P, A)), np.zeros(A), np.zeros(A),
                 book.seg_ptr[:-1].copy(), book.m_coll.copy(), book.m_debt.copy(),
                 np.ones(book.m_proto.shape[0], np.bool_), np.full(n_pos, -1, np.int64),
                 np.full(n_pos if need_first else 0, -1, np.int64), ag, np.zeros(NACC), sc,
                 np.zeros(A), np.zeros(A), np.ones(A), np.zeros((P, A)))


@internal
def mech_state_start(path, mkt, orc, rules, mechs, st, units):
    """The path's :class:`~liqcascade.kernels.layouts.MechState` at ``t = 0`` (``st`` the path's
    new state). When the breaker, the dynamic margin or the volatility fee is on,
    ``mst.phist[0]`` holds the protocols' prices at ``t = 0`` (oracle, or the mean venue spot);
    when the dynamic margin has a depth haircut, ``mst.depth0[a]`` holds each risky asset's
    venue depth within 2 % in quote. A perp unit's marks start at its protocol's prices."""
    T = path.shape[0] - 1
    A = path.shape[1]
    P = rules.lt.shape[0]
    vs = st.vs
    mp = mechs.p
    mon, cb_on, th_on, tw_on, bp_on, if_on, da_on, pa_on, dm_on, re_on, ba_on, vf_on = mechanisms_on(mp)
    mst = mech_state_new(mp, T, P, A, rules.bonus)
    ms0 = np.empty(A)
    for a in range(A):
        ms0[a] = mkt.p_fixed[a] if mkt.stable[a] else mean_venue_spot(vs, mkt.av_ptr, mkt.av_idx, a)
    if mst.phist.shape[0] > 1:  # a mechanism reads the price history
        for pr in range(P):
            for a in range(A):
                mst.phist[0, pr, a] = protocol_price(pr, a, mkt.stable, mkt.p_fixed, orc.of, st.oprice, ms0)
    if dm_on and mp[M_DM_HAIR] > 0.0:
        for a in range(A):
            if not mkt.stable[a]:
                mst.depth0[a] = depth_units(vs, mkt.vdk, mkt.vdq, mkt.av_ptr, mkt.av_idx, a,
                                            mp[M_DM_BAND]) * mean_venue_spot(vs, mkt.av_ptr, mkt.av_idx, a)
    if units is not None and units.meta[U_PERP, UM_PROTO] >= 0:
        p0row = np.empty(A)
        for a in range(A):
            p0row[a] = protocol_price(units.meta[U_PERP, UM_PROTO], a, mkt.stable, mkt.p_fixed, orc.of, st.oprice,
                                      ms0)
        perp_mark_init(units.perp, p0row, vs)
    return mst


def mech_state_or_none(path, mkt, orc, rules, mechs, st, units):
    """:func:`mech_state_start`, or None in the lean loop (``mechs`` None). Chosen while typing
    (an overload), not by a branch: the full loop must never see a None here, or numba would type
    the MechState as optional and check it on every access."""
    return None if mechs is None else mech_state_start(path, mkt, orc, rules, mechs, st, units)


if not DISABLED:
    from numba.core import types as _types

    @overload(mech_state_or_none)
    def _mech_state_or_none_impl(path, mkt, orc, rules, mechs, st, units):
        if isinstance(mechs, _types.NoneType):
            return lambda path, mkt, orc, rules, mechs, st, units: None
        return lambda path, mkt, orc, rules, mechs, st, units: mech_state_start(path, mkt, orc, rules, mechs, st,
                                                                               units)


def run_path(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out, ev, sl):
    """One path ``path[T+1, A]`` (global index ``path_id``): the body of every path kernel
    (:data:`simulate_path_lean`, :data:`simulate_path`, :data:`simulate_path_units` and the
    many-path kernels' per-path calls), compiled once per variant (see the module docstring).

    Inputs are the constant layouts (``mkt`` :class:`Market`, ``orc`` :class:`Oracles`,
    ``rules`` :class:`Rules`, ``book`` :class:`Book`, ``liqs`` :class:`Liquidators`, ``mechs``
    :class:`Mechanisms`, ``agents`` :class:`Agents`, ``rates``
    :class:`~liqcascade.kernels.accrual.Rates`: interest and pools, whose ``rec``/``tot`` the
    path writes; ``units`` :class:`Units` with fresh packs, the path mutates them), the outputs
    ``out`` (:class:`Out`; ``summary`` is zeroed first) and the event buffer ``ev``
    (:class:`~liqcascade.kernels.events.Events`). Events of single-pair position ``i`` carry
    ``position = i``, of multi-asset position ``m`` ``N + m``, of a unit's position ``offset +
    local index``. ``mechs``, ``agents``, ``rates`` None (all three: the lean variant) and
    ``units`` None leave their code out of the compiled kernel.

    ``sl`` is the path's sales ledger (:class:`~liqcascade.kernels.sales.Sales`; a limit ``< 0``
    records nothing), given room before each step's sales the same way.

    Returns the event buffer and the ledger (grown copies when the path needed more rows; their
    ``n`` say how many were written and lost). Before each step the buffer is given room for one
    event per Aave-rule position (each is liquidated at most once per step) and the units'
    reserved rows, so the stages never reallocate it; events past its limit are counted in
    ``SUM_EV_LOST``."""
    T = path.shape[0] - 1
    full = mechs is not None  # the variant switch (pruned at compile time: module docstring)
    out.summary[:] = 0.0
    st_own = new_state(path, path_id, mkt, orc, rules, book, liqs, mechs, agents)
    mst_own = mech_state_or_none(path, mkt, orc, rules, mechs, st_own, units)
    # the loop works on ownerless views (kernels.borrow): no atomic reference counting per
    # stage call; the owners (the arguments, st_own, mst_own) stay alive to the end
    st = borrow(st_own)
    mst = borrow(mst_own)
    mk = borrow(mkt)
    oc = borrow(orc)
    ru = borrow(rules)
    bk = borrow(book)
    lq = borrow(liqs)
    me = borrow(mechs)
    ou = borrow(out)
    store = store_new(1024, 64)
    record_start(path, mk, oc, st, ou)
    rs = rates_state_new(rates)  # lean (rates None): an empty state of the same type
    rates_on = False
    before = False
    multi = False
    if full:
        rates_on = rates.on
        if rates_on:
            rates_start(rates, rs)
        before = mechs.p[M_ON] > 0.0 or agents.pack.shape[0] > 0
        multi = book.m_proto.shape[0] > 0
    room = bk.coll.shape[0] + bk.m_proto.shape[0]
    if units is not None:
        un = borrow(units)
        for u in range(NUNIT):
            if un.meta[u, UM_PROTO] >= 0:
                room += un.meta[u, UM_ROOM]
    for t in range(1, T + 1):
        move_market(t, path, mk, mechs, st, ou)
        read_oracles(t, mk, oc, st)
        if full and before:
            mechanisms_before(t, mk, ru, lq, me, mst, st, ou)
        open_step(lq, st, ev)
        if full and rates_on:
            rates_before(t, mk.dt_seconds, rates, rs, mst.lev_ix)
        ev = events_reserve(ev, room)
        store = liquidate_books(t, mk, ru, bk, lq, mechs, mst, st, store, ev, ou, rates, rs)
        if full and multi:
            liquidate_multi_asset(t, mk, ru, bk, lq, me, mst, st, ev, ou)
        if units is not None:
            sl = sales_reserve(sl, NUNIT * mk.vs0.shape[0])
            step_units(t, mk, oc, un, lq, me, mst, st, ev, sl, ou)
        sl = sales_reserve(sl, sale_room(sl, mk.vs0.shape[0], ev.n[EV_N] - int(st.sc[SC_EV_FIRST]),
                                         ru.lt.shape[0]))
        route_sales(t, mk, mechs, mst, st, ev, sl, ou)
        record(t, path, mk, st, ou)
        if full and rates_on:
            rates_record(t, rates, rs)
    finish_path(mk, bk, me, mst, st, store, ou, sl)
    if full and rates_on:
        rates_finish(rates, rs, mst.lev_ix)
    ou.summary[SUM_EV_LOST] += ev.n[EV_LOST]
    keep(st_own, mst_own, mkt, orc, rules, book, liqs, mechs, out, units, rates, rs)
    return ev, sl


def run_many(paths, path0, rows, mkt, orc, rules, book, liqs, mechs, agents, rates, units, summary, min_spot,
             final_spot):
    """Paths ``rows`` of ``paths``, summaries only (no events, no final book): the Monte Carlo
    workhorse, the body of every many-path kernel (:data:`simulate_many_lean`,
    :data:`simulate_many`, :data:`simulate_many_units`). Row ``p`` is path ``path0 + p`` of the
    run. Writes ``summary[p, NSUM]``, ``min_spot[p, A]`` and ``final_spot[p, A]`` (mean venue
    spot; the fixed price for stable assets) for every ``p`` in ``rows``; each path gets fresh
    copies of the units' packs.

    It runs the rows one after another and releases the GIL: the engine runs disjoint rows on
    several threads (a ``prange`` cannot carry the layouts into its parallel region). ``one_path``
    is the variant's per-path call (bound in each kernel's copy of this function)."""
    T = paths.shape[1] - 1
    A = paths.shape[2]
    empty = np.zeros(0)
    steps_asset = np.zeros((T + 1, A, NST))
    steps_scalar = np.zeros((T + 1, NSS))
    P = rules.lt.shape[0]
    for j in range(rows.shape[0]):
        p = rows[j]
        out = Out(summary[p], steps_asset, steps_scalar, True, empty, empty, empty, empty)
        one_path(paths[p], path0 + p, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out,
                 events_new_k(0, -1), sales_off_k(P, A))
        for a in range(A):
            m = np.inf
            for t in range(T + 1):
                if steps_asset[t, a, ST_SPOT] < m:
                    m = steps_asset[t, a, ST_SPOT]
            min_spot[p, a] = m
            final_spot[p, a] = steps_asset[T, a, ST_SPOT]


def run_path_backwards(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out, ev, sl):
    """The lean :func:`run_path`'s stages in reverse order, typed and never run: the warm-up's
    second worker compiles this while the first compiles the loop itself
    (:func:`liqcascade.engine.warmup.compile_groups`). numba compiles a kernel's callees in the
    order it meets them, so the two start at opposite ends of the loop's call tree and meet in
    the middle; a callee one of them is compiling the other waits for and loads from the cache
    (:func:`liqcascade.kernels._jit.claim_compiles`). Same arguments and same stage calls as the
    loop (so the same callee signatures). Compiled by :func:`~liqcascade.kernels._jit.typing_only`:
    numba types it, which compiles every callee, and stops; its own code is never generated, and
    calling it raises :class:`~liqcascade.kernels._jit.TypedOnly`."""
    T = path.shape[0] - 1
    # first what needs no state: the loop meets these late, and new_state (its first callee) is
    # then compiled by the loop's worker while this one is busy
    if T < 0:  # (T, not a constant: the loop passes variables, and a constant is a signature of its own)
        ev = events_reserve(ev, T)
        sl = sales_reserve(sl, T)
    # (the loop passes ownerless views of the layouts: the same types as the layouts themselves)
    st = new_state(path, path_id, mkt, orc, rules, book, liqs, mechs, agents)
    mst = mech_state_or_none(path, mkt, orc, rules, mechs, st, units)
    store = store_new(1024, 64)
    rs = rates_state_new(rates)
    if T < 0:  # never: a path has a first row
        finish_path(mkt, book, mechs, mst, st, store, out, sl)
        record(T, path, mkt, st, out)
        route_sales(T, mkt, mechs, mst, st, ev, sl, out)
        sl = sales_reserve(sl, sale_room(sl, mkt.vs0.shape[0], T, rules.lt.shape[0]))
        store = liquidate_books(T, mkt, rules, book, liqs, mechs, mst, st, store, ev, out, rates, rs)
        open_step(liqs, st, ev)
        read_oracles(T, mkt, orc, st)
    return ev, sl


#: inlined into the many-path kernels (IR level: no call, no compile of its own)
inlined = njit(inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)


@inlined
def _one_lean(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out, ev, sl):
    return _path_lean(path, path_id, mkt, orc, rules, book, liqs, None, None, None, None, out, ev, sl)


@inlined
def _one_full(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out, ev, sl):
    return _path_full(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates_fresh(rates, False), None,
                      out, ev, sl)


@inlined
def _one_units(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units, out, ev, sl):
    return _path_units(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates_fresh(rates, False),
                       units_fresh(units), out, ev, sl)


# ---- the kernels: one dispatcher per variant, each compiling its body directly ----------------

#: the lean kernels run scenarios whose venues and oracles are all core kinds (cpmm and book; spot
#: and heartbeat): their stages, sales ledger, routing, arbitrage and oracle step are ``_core``
#: copies that dispatch over those kinds alone
CORE = Rebound((run_path, run_many), VENUES_CORE + ORACLES_CORE, "_core")

#: the per-path calls of the many-path kernels (no Python wrapper)
_path_lean = internal(CORE.variant(run_path, "_path_lean"))
_path_full = internal(variant(run_path, "_path_full"))
_path_units = internal(variant(run_path, "_path_units"))

#: one recorded path: ``(path, path_id, mkt, orc, rules, book, liqs, mechs, agents, rates, units,
#: out, ev, sl) -> (ev, sl)`` (:func:`run_path`); lean: ``mechs``, ``agents``, ``rates``,
#: ``units`` None; full: ``units`` None; units: every layout
simulate_path_lean = njit(CORE.variant(run_path, "simulate_path_lean"))
#: the warm-up's other end of the lean loop (:func:`run_path_backwards`): typed, never compiled
#: itself (calling it compiles its callees and raises ``_jit.TypedOnly``)
simulate_path_lean_backwards = typing_only(CORE.variant(run_path_backwards, "simulate_path_lean_backwards"))
simulate_path = njit(variant(run_path, "simulate_path"))
simulate_path_units = njit(variant(run_path, "simulate_path_units"))

#: many paths, summaries only: ``(paths, path0, rows, mkt, orc, rules, book, liqs, mechs, agents,
#: rates, units, summary, min_spot, final_spot)`` (:func:`run_many`), the same None pattern;
#: each path gets rates outputs and unit packs of its own. ``one_path`` is bound per kernel rather
#: than chosen by a branch: a branch on ``mechs is None`` is removed only where ``mechs`` *is*
#: None, so the full kernels would compile the lean loop beside their own
simulate_many_lean = njit(CORE.variant(run_many, "simulate_many_lean", one_path=_one_lean))
simulate_many = njit(variant(run_many, "simulate_many", one_path=_one_full))
simulate_many_units = njit(variant(run_many, "simulate_many_units", one_path=_one_units))
