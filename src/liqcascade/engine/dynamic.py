"""Dynamic simulation: scenario → price paths → compiled time loop → :class:`RunResult`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..kernels import dynamic as K
from ..prices.generate import generate_paths, price_notes, spec_from_scenario
from ..results.run import EVENT_DTYPE, RunResult
from .compile import Compiled
from .mechanisms import MechSetup, mechanism_setup


def price_spec(c: Compiled) -> dict:
    """The scenario's price section as the dict :func:`generate_paths` takes."""
    return spec_from_scenario(c.scenario.price, c.assets)


def make_paths(c: Compiled, n_paths: int | None = None, path_offset: int = 0, steps: int | None = None) -> np.ndarray:
    sim = c.scenario.simulation
    return generate_paths(
        price_spec(c), c.p0, steps or sim.steps, sim.dt_seconds, n_paths or sim.paths, sim.seed,
        path_offset=path_offset, stable=c.stable, base_dir=c.base_dir,
    )


def unit_args(c: Compiled, packs=None):
    """Trailing kernel arguments for the protocol units: (dt, liq, umeta, five packs or None)."""
    from ..protocols import kernel as KU
    from .units import FAMILY_ORDER

    sc = c.scenario
    lq = sc.liquidators
    liq = np.zeros(KU.NLIQ)
    liq[KU.LQ_MODE] = 1.0 if lq.mode == "rational" else 0.0
    liq[KU.LQ_GAS] = lq.gas_cost
    liq[KU.LQ_CAPITAL] = lq.capital if math.isfinite(lq.capital) else 1e300
    liq[KU.LQ_MAX] = lq.max_per_step
    umeta = np.full((K.NUNIT, 3), -1, dtype=np.int64)
    slot = {"comet": K.U_COMET, "liquity": K.U_LIQUITY, "perp": K.U_PERP, "maker": K.U_MAKER, "llamma": K.U_LLAMMA}
    out = [None] * K.NUNIT
    offset = c.book.n + c.book.n_multi
    by_kind = {u.kind: u for u in c.units}
    for kind in FAMILY_ORDER:
        u = by_kind.get(kind)
        if u is None:
            continue
        j = slot[kind]
        umeta[j, 0] = u.proto_id
        umeta[j, 1] = offset
        oname = sc.protocols[u.proto_id].oracles
        # the oracle of the unit's first priced asset, for Maker's OSM peep
        o = -1
        for a in range(c.n_assets):
            if c.oracle_of[u.proto_id, a] >= 0 and not c.stable[a]:
                o = int(c.oracle_of[u.proto_id, a])
                break
        umeta[j, 2] = o
        offset += u.n
        out[j] = u.pack if packs is None else packs[kind]
    return (float(sc.simulation.dt_seconds), liq, umeta, *out)


def agent_args(c: Compiled):
    """The agents' float pack (``kernels.agents``), or ``None`` when no ``[agents.*]`` is on."""
    if not c.scenario.agents.active():
        return None
    from .agents import agent_pack

    return agent_pack(c)


def kernel_args(c: Compiled, setup: MechSetup | None = None):
    """Leading arguments of ``simulate_many`` / ``simulate_path`` (up to ``max_per_step``). With a
    mechanism ``setup`` the book and rules are the ones it runs on (partial, size tiers)."""
    sc = c.scenario
    b = c.book if setup is None else setup.book
    rules = c.rules if setup is None else setup.rules
    lq = sc.liquidators
    return (
        c.vs0, c.vdk, c.vdq, c.venue_asset, c.av_ptr, c.av_idx,
        bool(sc.arbitrage.enabled), float(sc.arbitrage.threshold), bool(sc.arbitrage.to_reference),
        c.o_kind, c.o_params, c.o_src_ptr, c.o_src,
        c.lt_pa, c.bonus_pa, c.pfee_pa, rules, c.oracle_of, c.stable, c.p0.copy(),
        b.coll, b.debt, b.key, b.seg_ptr, b.seg_asset, b.seg_proto, b.seg_debt_asset,
        *b.multi_args(),
        K.MODE_RATIONAL if lq.mode == "rational" else K.MODE_MECHANICAL,
        float(lq.gas_cost), float(lq.capital) if math.isfinite(lq.capital) else 1e300, int(lq.max_per_step),
    )


def run_dynamic(c: Compiled, paths: np.ndarray | None = None, record_paths: int | None = None,
                progress=None, ev_cap: int | None = None, path_offset: int = 0) -> RunResult:
    """Simulate every path; record events and steps for the first ``record_paths`` paths
    (at most ``ev_cap`` events per path; default 4 per position + 1024). ``paths[p]`` is global
    path ``path_offset + p`` (what random execution hashes, so a Monte Carlo chunk draws the same
    delays as a single run)."""
    sim = c.scenario.simulation
    if paths is None:
        paths = make_paths(c)
    paths = np.ascontiguousarray(paths, dtype=np.float64)
    n_paths, T1, A = paths.shape
    T = T1 - 1
    rec = min(sim.record_paths if record_paths is None else record_paths, n_paths)
    setup = mechanism_setup(c)
    c0 = c
    if setup.book is not c.book or setup.rules is not c.rules:
        c = dataclasses.replace(c, book=setup.book, rules=setup.rules)
    args = kernel_args(c)
    margs = setup.args()
    ag = agent_args(c)
    b = c.book
    summary = np.zeros((n_paths, K.NSUM))
    min_spot = np.zeros((n_paths, A))
    final_spot = np.zeros((n_paths, A))
    steps_asset = np.zeros((rec, T + 1, A, K.NST))
    steps_scalar = np.zeros((rec, T + 1, K.NSS))
    ev_parts = []
    final_coll = final_debt = final_mcoll = final_mdebt = None
    unit_totals = {}
    for p in range(rec):
        cap = ev_cap if ev_cap is not None else 4 * (b.n + sum(u.n for u in c.units)) + 1024
        ev = _event_buffers(cap)
        oc = b.coll.copy()
        od = b.debt.copy()
        omc = b.m_coll.copy()
        omd = b.m_debt.copy()
        packs = {u.kind: u.fresh_pack() for u in c.units}
        n_ev = K.simulate_path(paths[p], *args, summary[p], steps_asset[p], steps_scalar[p], True,
                               *ev, oc, od, omc, omd, *unit_args(c, packs), *margs, path_offset + p, ag)
        if p == 0:
            unit_totals = {c.protocols[u.proto_id]: u.totals(packs[u.kind]) for u in c.units}
        ev_parts.append((p, n_ev, ev))
        sp = steps_asset[p, :, :, K.ST_SPOT]
        min_spot[p] = sp.min(axis=0)
        final_spot[p] = sp[-1]
        if p == 0:
            final_coll, final_debt = oc, od
            final_mcoll, final_mdebt = omc, omd
        if progress:
            progress(1)
    rest = n_paths - rec
    if rest > 0 and c.units:
        _run_unit_paths(c, paths, rec, args, summary, min_spot, final_spot, progress, margs, ag, path_offset)
    elif rest > 0:
        chunk = 64
        for start in range(rec, n_paths, chunk):
            stop = min(start + chunk, n_paths)
            s_, m_, f_ = K.simulate_many(paths[start:stop], *args, *margs, path_offset + start, ag)
            summary[start:stop] = s_
            min_spot[start:stop] = m_
            final_spot[start:stop] = f_
            if progress:
                progress(stop - start)
    events = _events_table(c, ev_parts)
    if setup.perm is not None and final_coll is not None:
        # back to the compiled book's order
        fc = np.empty_like(final_coll)
        fd = np.empty_like(final_debt)
        fc[setup.perm] = final_coll
        fd[setup.perm] = final_debt
        final_coll, final_debt = fc, fd
    notes = list(c.notes) + [
        "each step: exogenous flow, arbitrage/recovery, oracle update, liquidations at oracle prices, routed sales",
        "debt assets marked stable keep their fixed price",
    ] + setup.notes
    notes += price_notes(price_spec(c), c.p0, sim.dt_seconds, base_dir=c.base_dir)  # garch/bootstrap: fit, scaling
    if ag is not None:
        from .agents import agent_notes

        notes += agent_notes(c)
    c = c0
    return RunResult(
        scenario=c.scenario.name, assets=c.assets, protocols=c.protocols, n_positions=b.n + b.idle_coll.shape[0] + b.n_multi + sum(u.n for u in c.units),
        paths=n_paths, steps=T, dt_seconds=sim.dt_seconds, summary=summary, min_spot=min_spot,
        final_spot=final_spot, p0=c.p0, stable=c.stable.copy(), events=events, steps_asset=steps_asset, steps_scalar=steps_scalar,
        final_coll=final_coll, final_debt=final_debt, final_mcoll=final_mcoll, final_mdebt=final_mdebt,
        notes=notes, unit_totals=unit_totals,
    )


def _run_unit_paths(c: Compiled, paths, start, args, summary, min_spot, final_spot, progress, margs=(), ag=None,
                    path_offset: int = 0):
    """Paths of a scenario with protocol units: each path needs fresh unit state, so they run
    one kernel call per path, on two threads (the kernel releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    T1, A = paths.shape[1], paths.shape[2]
    e_i = np.zeros(0, np.int64)
    e_f = np.zeros(0)

    def one(p):
        packs = {u.kind: u.fresh_pack() for u in c.units}
        st = np.zeros((T1, A, K.NST))
        ss = np.zeros((T1, K.NSS))
        K.simulate_path(paths[p], *args, summary[p], st, ss, True,
                        e_i, e_i, e_i, e_i, e_f, e_f, e_f, e_f, e_f, e_f, e_f,
                        e_f, e_f, e_f, e_f, *unit_args(c, packs), *margs, path_offset + p, ag)
        sp = st[:, :, K.ST_SPOT]
        min_spot[p] = sp.min(axis=0)
        final_spot[p] = sp[-1]
        return p

    import numba

    with ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS)) as pool:
        for _ in pool.map(one, range(start, paths.shape[0])):
            if progress:
                progress(1)


def _event_buffers(cap: int):
    i = lambda: np.zeros(cap, np.int64)  # noqa: E731
    f = lambda: np.zeros(cap, np.float64)  # noqa: E731
    return (i(), i(), i(), i(), f(), f(), f(), f(), f(), f(), f())


def _events_table(c: Compiled, parts) -> np.ndarray:
    total = sum(n for _, n, _ in parts)
    out = np.zeros(total, dtype=EVENT_DTYPE)
    k = 0
    from ..positions.ids import PositionIds
    from .units import FAMILY_ORDER

    unit_ids = [u.ids for kind in FAMILY_ORDER for u in c.units if u.kind == kind]
    # lazy: only the ids of positions that appear in events become text
    all_ids = PositionIds.concat([c.book.ids, c.book.m_ids, *unit_ids, np.array(["(protocol)"], dtype=object)])
    for p, n, ev in parts:
        st, pos, pr, asset, seized, repaid, price, exe, bonus, bad, fee = (x[:n] for x in ev)
        sl = slice(k, k + n)
        out["path"][sl] = p
        out["step"][sl] = st
        out["position"][sl] = all_ids[pos].to_numpy() if n else []
        out["protocol"][sl] = np.array(c.protocols, dtype=object)[pr] if n else []
        out["asset"][sl] = np.array(c.assets, dtype=object)[asset] if n else []
        out["collateral_seized"][sl] = seized
        out["debt_repaid"][sl] = repaid
        out["oracle_price"][sl] = price
        out["execution_price"][sl] = exe
        out["bonus_paid"][sl] = bonus
        out["bad_debt"][sl] = bad
        out["protocol_fee"][sl] = fee
        k += n
    return out
