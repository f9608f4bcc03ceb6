"""Dynamic simulation: scenario → price paths → compiled time loop → :class:`RunResult`."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..kernels import dynamic as K
from ..prices.generate import generate_paths, path_bound_notes, price_notes, spec_from_scenario
from ..results.run import EVENT_DTYPE, RunResult
from .compile import Compiled
from .extremes import check_status, floor_notes, kernel_errors


def price_spec(c: Compiled) -> dict:
    """The scenario's price section as the dict :func:`generate_paths` takes."""
    return spec_from_scenario(c.scenario.price, c.assets)


def make_paths(c: Compiled, n_paths: int | None = None, path_offset: int = 0, steps: int | None = None) -> np.ndarray:
    sim = c.scenario.simulation
    paths = generate_paths(
        price_spec(c), c.p0, steps or sim.steps, sim.dt_seconds, n_paths or sim.paths, sim.seed,
        path_offset=path_offset, stable=c.stable, base_dir=c.base_dir,
    )
    if c.peg_paths:  # pegged assets with a recorded ratio follow it on every path
        from ..pegs.series import peg_path

        T = paths.shape[1] - 1
        for a, pp in c.peg_paths.items():
            if pp.shape[0] != T + 1:
                g = next(g for g in c.scenario.pegs if g.asset == c.assets[a])
                pp = peg_path(g, float(c.p0[a]), c.base_dir, T, sim.dt_seconds, f"pegs[{c.assets[a]}]")
            paths[:, :, a] = pp
    return paths


#: the time loop's compiled variants (kernels/dynamic.py): (recorded-path kernel, many-path kernel)
VARIANTS = {"lean": ("simulate_path_lean", "simulate_many_lean"), "full": ("simulate_path", "simulate_many"),
            "units": ("simulate_path_units", "simulate_many_units")}
#: the warm-up groups of each variant (engine/warmup.py): (recorded path, many paths)
VARIANT_GROUPS = {"lean": ("loop", "many"), "full": ("loop_full", "many_full"),
                  "units": ("loop_units", "many_units")}


def loop_variant(ki) -> str:
    """Which compiled time loop runs the kernel inputs ``ki``
    (:class:`~liqcascade.engine.compile.KernelInputs`): ``"units"`` with protocol units, else
    ``"lean"`` when no mechanism is on, no agent acts inside the loop, no interest rate is
    modelled, no position is multi-asset, every venue is a core kind
    (:data:`liqcascade.venues.CORE_KINDS`: cpmm, book) and every oracle too
    (:data:`liqcascade.oracles.CORE_KINDS`: spot, heartbeat) — the kernel without the code of the
    rest, much quicker to compile — else ``"full"``. The three give the same results wherever
    the lean one applies."""
    from ..mechanisms.kernel import M_ON
    from ..oracles import CORE_KINDS as ORACLE_CORE
    from ..venues import CORE_KINDS as VENUE_CORE
    from ..venues.kernel import KIND

    if ki.units_list:
        return "units"
    lean = (ki.mechanisms.p[M_ON] == 0.0 and ki.agents.pack.shape[0] == 0 and not ki.rates.on
            and ki.book.m_proto.shape[0] == 0 and bool(np.all(ki.market.vs0[:, KIND] < len(VENUE_CORE)))
            and bool(np.all(ki.oracles.kind < len(ORACLE_CORE))))
    return "lean" if lean else "full"


def loop_groups(c, recorded: bool = True, many: bool = False) -> list[str]:
    """The warm-up groups (:mod:`liqcascade.engine.warmup`) a run of ``c`` needs: the variant's
    recorded-path group when ``recorded``, its many-path group when ``many``. ``c`` is a
    :class:`Compiled` scenario (its kernel inputs are built to decide, once) or the
    :class:`~liqcascade.engine.compile.KernelInputs` of one. Every caller that asks
    :func:`~liqcascade.engine.warmup.ensure` for a time-loop group takes it from here."""
    from .compile import KernelInputs, kernel_inputs

    ki = c if isinstance(c, KernelInputs) else kernel_inputs(c)
    loop, many_g = VARIANT_GROUPS[loop_variant(ki)]
    return ([loop] if recorded else []) + ([many_g] if many else [])


def variant_args(ki, variant: str, rates=None) -> tuple:
    """``ki.args(rates)`` as the variant's kernels take them: the lean one gets None for the
    mechanisms, the agents and the rates (their code is not compiled in), the others every
    layout."""
    args = ki.args(rates)
    return args[:5] + (None, None, None) if variant == "lean" else args


def run_dynamic(c: Compiled, paths: np.ndarray | None = None, record_paths: int | None = None,
                progress=None, ev_cap: int | None = None, path_offset: int = 0,
                max_events: int | None = None, sink=()) -> RunResult:
    """Simulate every path; record events and steps for the first ``record_paths`` paths.

    Events: each recorded path starts with a buffer of ``ev_cap`` rows (default 4 per position
    + 1,024) that grows as needed up to ``max_events`` rows (default
    ``simulation.max_events``). Events beyond that limit are counted in
    ``events_not_recorded`` and reported as an :class:`~liqcascade.errors.EngineWarning` and a
    note. ``paths[p]`` is global path ``path_offset + p`` (what random execution hashes, so a
    Monte Carlo chunk draws the same delays as a single run).

    The layouts are built once (:func:`~liqcascade.engine.compile.kernel_inputs`); recorded paths
    run one kernel call each, the others in parallel chunks of up to 64 (:func:`run_many`).

    Recorded paths also keep the sales ledger (:mod:`liqcascade.kernels.sales`; the same start
    size and limit as the events): ``RunResult.sales``. ``sink``: names of protocols whose sales
    an infinite-depth buyer absorbs at the mean venue spot before they reach a venue (the
    counterfactual runs of :mod:`liqcascade.engine.contagion`).

    An error raised inside the compiled loop, or a path whose summary or spots are not finite,
    is a :class:`~liqcascade.errors.KernelError` (:mod:`liqcascade.engine.extremes`), never a
    result."""
    with kernel_errors("dynamic run"):
        return _run_dynamic(c, paths, record_paths, progress, ev_cap, path_offset, max_events, sink)


def _run_dynamic(c: Compiled, paths, record_paths, progress, ev_cap, path_offset, max_events, sink) -> RunResult:
    from ..kernels import events as KE
    from ..kernels import layouts as KL
    from .compile import kernel_inputs

    sim = c.scenario.simulation
    if paths is None:
        paths = make_paths(c)
    paths = np.ascontiguousarray(paths, dtype=np.float64)
    if paths.size and not (np.all(np.isfinite(paths)) and paths.min() > 0.0):
        raise InputError(None, "paths", "price paths must be finite and > 0")
    n_paths, T1, A = paths.shape
    T = T1 - 1
    rec = min(sim.record_paths if record_paths is None else record_paths, n_paths)
    limit = int(sim.max_events if max_events is None else max_events)
    ki = kernel_inputs(c)
    if sink:
        unknown = [p for p in sink if p not in c.protocols]
        if unknown:
            raise ValueError(f"sink: unknown protocol(s) {unknown}; the scenario has {list(c.protocols)}")
        mask = np.array([p in sink for p in c.protocols], dtype=np.bool_)
        ki.market = ki.market._replace(sink=mask)
    from .warmup import ensure

    variant = loop_variant(ki)
    ensure(loop_groups(ki, recorded=rec > 0, many=n_paths > rec))
    path_kernel = getattr(K, VARIANTS[variant][0])
    setup = ki.setup
    b = ki.engine_book
    summary = np.zeros((n_paths, K.NSUM))
    min_spot = np.zeros((n_paths, A))
    final_spot = np.zeros((n_paths, A))
    steps_asset = np.zeros((rec, T + 1, A, K.NST))
    steps_scalar = np.zeros((rec, T + 1, K.NSS))
    ev_parts = []
    sale_parts = []
    unit_acc = []
    from ..kernels import sales as KS

    unit_mask = np.zeros(len(c.protocols), dtype=np.bool_)
    for u in ki.units_list:
        unit_mask[u.proto_id] = True
    final_coll = final_debt = final_mcoll = final_mdebt = None
    unit_totals = {}
    start_cap = ev_cap if ev_cap is not None else 4 * ki.n_positions + 1024
    reruns = 0
    sales_lost = 0
    from .rates import for_record, totals_dict

    rates_rec = None
    rates_tot = {}
    for p in range(rec):
        cap = start_cap
        while True:
            oc, od = b.coll.copy(), b.debt.copy()
            omc, omd = b.m_coll.copy(), b.m_debt.copy()
            units = ki.fresh_units()
            out = KL.Out(summary[p], steps_asset[p], steps_scalar[p], True, oc, od, omc, omd)
            rl = for_record(ki.rates, T)
            pargs = variant_args(ki, variant, rl)
            sl = KS.sales_new(cap, limit, unit_mask, A)
            ev, sl = path_kernel(paths[p], path_offset + p, *pargs, units if variant == "units" else None, out,
                                 KE.events_new(cap, limit), sl)
            n_ev, lost = int(ev.n[KE.EV_N]), int(summary[p, K.SUM_EV_LOST])
            # a unit that outgrew its reserved rows lost events the limit had room for: run the path
            # again (the kernel is deterministic) with every row it needs from the start
            if lost == 0 or n_ev + lost > limit or cap >= n_ev + lost:
                break
            cap = n_ev + lost
            reruns += 1
        if p == 0:
            unit_totals = {c.protocols[u.proto_id]: u.totals(pk) for u, pk in
                           zip(ki.units_list, [units[_SLOT[u.kind]] for u in ki.units_list])}
        ev_parts.append((p, ev.buf[:n_ev]))
        sale_parts.append((p, sl.buf[:int(sl.n[KE.EV_N])].copy()))
        unit_acc.append(sl.acc.copy())
        sales_lost += int(sl.n[KE.EV_LOST])
        sp = steps_asset[p, :, :, K.ST_SPOT]
        min_spot[p] = sp.min(axis=0)
        final_spot[p] = sp[-1]
        if ki.rates.on:
            if rates_rec is None:
                rates_rec = np.zeros((rec,) + rl.rec.shape)
            rates_rec[p] = rl.rec
            _debt_now(b, ki.rates, rl.tot, od)
        if p == 0:
            final_coll, final_debt = oc, od
            final_mcoll, final_mdebt = omc, omd
            if ki.rates.on:
                rates_tot = totals_dict(c, ki.rates, rl.tot)
                _shortfall(b, ki.rates, oc, od, steps_asset[0, -1, :, K.ST_ORACLE], c, rates_tot)
        if progress:
            progress(1)
    if n_paths > rec:
        run_many(paths, path_offset, np.arange(rec, n_paths, dtype=np.int64), ki, summary, min_spot, final_spot,
                 progress)
    finite = np.isfinite(summary).all(axis=1) & np.isfinite(min_spot).all(axis=1) & np.isfinite(final_spot).all(axis=1)
    check_status(np.where(finite, 0, 2), "dynamic run", lambda i: f"path {path_offset + i}")
    clearing = clearing_result(c, ki, summary, unit_acc)
    events = _events_table(c, ki, ev_parts)
    sales = _sales_table(c, ki, sale_parts)
    protocol_paths = _protocol_paths(c, ev_parts, unit_acc, unit_mask)
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
    notes += path_bound_notes(paths, c.p0, c.assets) + floor_notes(c, min_spot)
    if c.scenario.agents.active():
        from ..agents.pack import agent_notes

        notes += agent_notes(c)
        if c.scenario.agents.borrowers is not None:
            from ..agents.borrowers.pack import borrowers_note

            notes += borrowers_note(c, summary)
    _not_recorded(notes, int(summary[:rec, K.SUM_EV_LOST].sum()), "liquidation events", limit, "events", "them")
    _not_recorded(notes, sales_lost, "sales-ledger rows", limit, "rows", "the sales")
    if rec > 0:
        notes.append(f"sales ledger: each step's move of each venue is split over the protocols that sold into it by "
                     f"their Shapley value (exact up to {KS.SHAPLEY_MAX} sellers of one asset in one step, in "
                     f"proportion to amounts beyond)")
    if sink:
        notes.append(f"counterfactual: the sales of {', '.join(sink)} are absorbed by an infinite-depth sink at the "
                     f"mean venue spot and never reach a venue")
    return RunResult(
        scenario=c.scenario.name, assets=c.assets, protocols=c.protocols,
        n_positions=b.n + b.idle_coll.shape[0] + b.n_multi + sum(u.n for u in c.units),
        paths=n_paths, steps=T, dt_seconds=sim.dt_seconds, summary=summary, min_spot=min_spot,
        final_spot=final_spot, p0=c.p0, stable=c.stable.copy(), events=events, steps_asset=steps_asset,
        steps_scalar=steps_scalar, final_coll=final_coll, final_debt=final_debt, final_mcoll=final_mcoll,
        final_mdebt=final_mdebt, notes=notes, unit_totals=unit_totals, sales=sales,
        protocol_paths=protocol_paths, start=c.start, seed=int(sim.seed),
        source=(c.scenario, c.base_dir), rates=rates_tot, rates_steps=rates_rec,
        rates_rows=[f"{pn}/{an}" for pn, an in _rows(c, ki.rates)], clearing=clearing,
    )


def _not_recorded(notes: list, lost: int, what: str, limit: int, unit: str, counted: str) -> None:
    """Note and warn that ``lost`` rows of a record buffer (events, sales ledger) did not fit under
    its limit; nothing when none was lost."""
    import warnings

    from ..errors import EngineWarning

    if lost:
        msg = (f"{lost:,} {what} not recorded: a recorded path reached the limit of {limit:,} {unit} "
               f"(raise it with --max-events or simulation.max_events); totals still count {counted}")
        notes.append(msg)
        warnings.warn(msg, EngineWarning, stacklevel=3)  # the same frame as from _run_dynamic itself


#: the clearinghouse's per-protocol columns (after the ledger's base columns, kernels.sales.NPA)
CLEARING_KEYS = ("units_in", "netted", "sold", "backstop", "held", "value_in", "quote", "held_value", "price_risk",
                 "shortfall")
#: relative tolerance of the clearinghouse's unit conservation (in = netted + sold + backstop + held)
CLEARING_TOL = 1e-9


def clearing_result(c: Compiled, ki, summary: np.ndarray, unit_acc) -> dict:
    """The clearinghouse's results (empty when it is off), after checking its conservation on
    every path (the kernel's largest step error, ``SUM_CH_CONS``) and per protocol on the
    recorded paths; a violation is a :class:`~liqcascade.errors.KernelError`."""
    from ..errors import KernelError
    from ..mechanisms import kernel as KM
    from ..kernels import sales as KS

    mech = ki.setup.mech
    if not (mech[KM.M_ON] > 0 and mech[KM.M_CH_ON] > 0):
        return {}
    from ..kernels import layouts as KL

    scale = np.maximum(1.0, summary[:, KL.SUM_CH_IN])
    bad = np.flatnonzero(summary[:, KL.SUM_CH_CONS] > CLEARING_TOL * scale)
    if bad.size:
        raise KernelError("dynamic run", f"clearinghouse conservation broken on path {int(bad[0])}: |in − netted − sold "
                                         f"− backstop − held| = {summary[bad[0], KL.SUM_CH_CONS]:.3g} units")
    part = [c.protocols[k] for k in np.flatnonzero(ki.setup.mmask[KM.MK_CH])]
    per_path = {key: {p: [] for p in part} for key in CLEARING_KEYS}
    for acc in unit_acc:
        for p in part:
            row = acc[c.protocols.index(p), KS.NPA:]
            for j, key in enumerate(CLEARING_KEYS):
                per_path[key][p].append(float(row[j]))
            err = abs(row[0] - row[1] - row[2] - row[3] - row[4])
            if err > CLEARING_TOL * max(1.0, row[0]):
                raise KernelError("dynamic run", f"clearinghouse conservation broken for {p}: in {row[0]:.6g} ≠ "
                                                 f"netted + sold + backstop + held ({row[1] + row[2] + row[3] + row[4]:.6g})")
    cols = (("units_in", KL.SUM_CH_IN), ("netted", KL.SUM_CH_NET), ("sold", KL.SUM_CH_SOLD),
            ("backstop", KL.SUM_CH_BS), ("held", KL.SUM_CH_HELD), ("held_value", KL.SUM_CH_HELD_VALUE),
            ("price_risk", KL.SUM_CH_RISK), ("shortfall", KL.SUM_CH_SHORTFALL), ("backstop_pnl", KL.SUM_CH_BS_PNL),
            ("conservation_error", KL.SUM_CH_CONS))
    totals = {k: float(summary[:, col].mean()) for k, col in cols}
    per_protocol = {p: {key: float(np.mean(per_path[key][p])) for key in CLEARING_KEYS} for p in part} \
        if unit_acc else {}
    return {"participants": part, "totals": totals, "per_protocol": per_protocol, "per_path": per_path,
            "units": "asset units summed over assets; quote in the quote unit",
            "loss_bearer": "each protocol bears the price risk and shortfall of the units it put in"}


def _rows(c, rates):
    from .rates import row_names

    return row_names(c, rates) if rates.on else []


def _shortfall(b, rates, oc, od, px, c, out):
    """Per rate row: open debt above its collateral's value at the last step's prices (protocol
    0's; the fixed price of a stable asset), quote — bad debt no liquidation has written off."""
    for s in range(b.seg_asset.shape[0]):
        k, a, da = int(b.seg_proto[s]), int(b.seg_asset[s]), int(b.seg_debt_asset[s])
        r = rates.row_of[k, da]
        if r < 0:
            continue
        pc = c.p0[a] if c.stable[a] else px[a]
        pd = c.p0[da] if c.stable[da] else px[da]
        sl = slice(b.seg_ptr[s], b.seg_ptr[s + 1])
        gap = np.maximum(od[sl] * pd - oc[sl] * pc, 0.0)
        key = f"{c.protocols[k]}/{c.assets[da]}"
        out[key]["underwater_debt_end"] = out[key].get("underwater_debt_end", 0.0) + float(gap.sum())


def _debt_now(b, rates, tot, od):
    """The final book's debt in units of debt: the kernel keeps it scaled (× the row's factor)."""
    from ..kernels.accrual import RT_FACTOR

    for s in range(b.seg_asset.shape[0]):
        r = rates.row_of[int(b.seg_proto[s]), int(b.seg_debt_asset[s])]
        if r >= 0:
            od[b.seg_ptr[s]:b.seg_ptr[s + 1]] *= tot[r, RT_FACTOR]


def run_many(paths, path_offset, rows, ki, summary, min_spot, final_spot, progress=None, threads=None,
             variant=None):
    """Paths ``rows`` of ``paths`` (summaries only) on ``threads`` threads (default numba's thread
    count): chunks of paths go to whichever thread is free (the kernel releases the GIL).
    ``variant``: the compiled loop to use (default :func:`loop_variant`; ``"full"`` runs a lean
    scenario on the full kernel, for benchmarks and tests)."""
    from concurrent.futures import ThreadPoolExecutor

    import numba

    if rows.shape[0] == 0:
        return
    n_threads = max(1, int(threads or numba.get_num_threads()))
    size = max(1, min(64, -(-rows.shape[0] // (4 * n_threads))))
    chunks = [rows[i:i + size] for i in range(0, rows.shape[0], size)]
    variant = variant or loop_variant(ki)
    args = variant_args(ki, variant) + (ki.units if variant == "units" else None,)
    kernel = getattr(K, VARIANTS[variant][1])

    def one(chunk):
        try:
            kernel(paths, path_offset, chunk, *args, summary, min_spot, final_spot)
        except kernel_errors.TYPES as exc:  # name the paths: the threads run several chunks at once
            from ..errors import KernelError

            first, last = path_offset + int(chunk[0]), path_offset + int(chunk[-1])
            where = f"path {first}" if first == last else f"paths {first}-{last}"
            raise KernelError("dynamic run", f"{where} stopped with an error inside the compiled loop: "
                                             f"{type(exc).__name__}: {exc}") from exc
        return chunk.shape[0]

    if n_threads == 1 or len(chunks) == 1:
        for ch in chunks:
            k = one(ch)
            if progress:
                progress(k)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for k in pool.map(one, chunks):
            if progress:
                progress(k)


#: position of each family's pack in the Units layout
_SLOT = {"comet": 0, "liquity": 1, "perp": 2, "maker": 3, "llamma": 4}


def _events_table(c: Compiled, ki, parts) -> np.ndarray:
    """The recorded paths' events with names: position ids, protocol and asset names."""
    total = sum(ev.shape[0] for _, ev in parts)
    out = np.zeros(total, dtype=EVENT_DTYPE)
    from ..positions.ids import PositionIds

    b = ki.engine_book  # the order the kernel ran on (size tiers re-sort the book)
    # lazy: only the ids of positions that appear in events become text
    all_ids = PositionIds.concat([b.ids, b.m_ids, *(u.ids for u in ki.units_list),
                                  np.array(["(protocol)"], dtype=object)])
    protos = np.array(c.protocols, dtype=object)
    assets = np.array(c.assets, dtype=object)
    k = 0
    for p, ev in parts:
        n = ev.shape[0]
        sl = slice(k, k + n)
        out["path"][sl] = p
        out["step"][sl] = ev["step"]
        out["position"][sl] = all_ids[ev["position"]].to_numpy() if n else []
        out["protocol"][sl] = protos[ev["protocol"]] if n else []
        out["asset"][sl] = assets[ev["asset"]] if n else []
        for name in ("collateral_seized", "debt_repaid", "oracle_price", "execution_price", "bonus_paid",
                     "bad_debt", "protocol_fee"):
            out[name][sl] = ev[name]
        k += n
    return out


def _sales_table(c: Compiled, ki, parts) -> np.ndarray:
    """The recorded paths' sales-ledger rows with names: venue, asset, protocol, position, source."""
    from ..kernels import sales as KS
    from ..results.run import SALE_DTYPE

    total = sum(sl.shape[0] for _, sl in parts)
    out = np.zeros(total, dtype=SALE_DTYPE)
    unit_ids = [np.asarray(u.ids, dtype=object) for u in ki.units_list]
    b = ki.engine_book
    all_ids = np.concatenate([np.asarray(b.ids, dtype=object), np.asarray(b.m_ids, dtype=object), *unit_ids,
                              np.array([""], dtype=object)])  # position -1: not tied to one position
    protos = np.array(list(c.protocols) + [""], dtype=object)  # protocol -1: other
    # -4 .. -1: the clearinghouse's backstop and internal cross, the counterfactual sink, a fixed price
    venues = np.array(list(c.venue_names) + ["(backstop)", "(clearinghouse)", "(sink)", "(fixed price)"], dtype=object)
    assets = np.array(c.assets, dtype=object)
    sources = np.array(KS.SOURCES, dtype=object)
    k = 0
    for p, sl in parts:
        n = sl.shape[0]
        if n == 0:
            continue
        s = slice(k, k + n)
        out["path"][s] = p
        out["step"][s] = sl["step"]
        out["time_s"][s] = sl["step"] * c.scenario.simulation.dt_seconds
        out["venue"][s] = venues[sl["venue"]]
        out["asset"][s] = assets[sl["asset"]]
        out["protocol"][s] = protos[sl["protocol"]]
        out["position"][s] = all_ids[sl["position"]]
        out["source"][s] = sources[sl["source"]]
        for name in ("amount", "proceeds", "price_pre", "price_post", "impact"):
            out[name][s] = sl[name]
        k += n
    return out


def _protocol_paths(c: Compiled, ev_parts, unit_acc, unit_mask) -> np.ndarray:
    """``[recorded path, protocol, (liquidations, liquidated value, bad debt)]``: a protocol
    unit's from its accumulators (``Sales.acc``), an Aave-rule protocol's from its events (one
    per liquidation; value = collateral seized at the oracle price, bad debt in quote)."""
    from ..kernels import sales as KS

    P = len(c.protocols)
    out = np.zeros((len(ev_parts), P, KS.NPA))
    for k, ((_, ev), acc) in enumerate(zip(ev_parts, unit_acc)):
        out[k] = acc[:, :KS.NPA]
        for pr in np.flatnonzero(~unit_mask):
            m = ev["protocol"] == pr
            out[k, pr, KS.PA_NLIQ] = float(m.sum())
            out[k, pr, KS.PA_VALUE] = float((ev["collateral_seized"][m] * ev["oracle_price"][m]).sum())
            out[k, pr, KS.PA_BAD] = float(ev["bad_debt"][m].sum())
    return out
