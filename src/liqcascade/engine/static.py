"""Static cascade curve: shocks in, fixed points out (see :mod:`liqcascade.kernels.cascade`)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..kernels import cascade as K
from ..kernels import cascade_agg as KA
from ..protocols.aave import kernel as K_aave
from ..protocols.aave.kernel import RULE_V33
from ..results.curve import CurvePoint, CurveResult
from ..venues import CORE_KINDS
from ..venues import kernel as K_v
from .compile import Compiled
from .extremes import check_status, curve_floor_notes, parallel_call


def static_arrays(c: Compiled):
    """One venue row per asset (the venue the static solver sells into) and the shock mask."""
    sc = c.scenario
    A = c.n_assets
    vs = np.zeros((A, K_v.NCOL))
    vs[:, K_v.KIND] = -1.0
    K = max(c.vdk.shape[1], 1)
    vdk = np.zeros((A, K))
    vdq = np.zeros((A, K))
    vname = {n: j for j, n in enumerate(c.venue_names)}
    for a in range(A):
        if c.stable[a]:
            continue
        name = sc.curve.venue.get(c.assets[a])
        j = vname[name] if name else int(c.av_idx[c.av_ptr[a]])
        vs[a] = c.vs0[j]
        vdk[a, : c.vdk.shape[1]] = c.vdk[j]
        vdq[a, : c.vdq.shape[1]] = c.vdq[j]
    if sc.curve.shock_assets:
        mask = np.array([n in sc.curve.shock_assets for n in c.assets], dtype=np.bool_)
    else:
        mask = ~c.stable
    return vs, vdk, vdq, mask


def choose_engine(c: Compiled, mode: str) -> tuple[str, str]:
    """Which static kernel runs, and why: the aggregated one needs mechanical mode and, for
    Aave v3.3 segments, parameters under which the close factor depends only on HF and the
    debt-size bin (:func:`liqcascade.kernels.cascade_agg.v33_aggregable`)."""
    if mode != "mechanical":
        return "per-position", "rational mode judges every lot on its own sale"
    for pr in range(c.rules.shape[0]):
        if int(c.rules[pr, K_aave.R_INC]) == K_aave.INC_EULER:
            return "per-position", f"protocol {c.protocols[pr]!r}: Euler's discount depends on each position's HF"
    b = _agg_view(c)[0]
    for s in range(b.seg_asset.shape[0]):
        pr, a = int(b.seg_proto[s]), int(b.seg_asset[s])
        if int(c.rules[pr, 0]) != RULE_V33:
            continue
        if b.seg_bin is None or b.seg_bin[s] == KA.BIN_NONE:
            return "per-position", "v3.3 segment without debt-size bins"
        if not KA.v33_aggregable(float(c.lt_pa[pr, a]), float(c.bonus_pa[pr, a]), c.rules[pr]):
            return "per-position", (f"protocol {c.protocols[pr]!r} asset {c.assets[a]!r}: v3.3 close factor "
                                    "depends on position size beyond the debt bins (LT above the 0.95 "
                                    "threshold or dust rule binding)")
    return "aggregated", "mechanical mode, close factor a function of HF and debt bin"


def static_extras(c: Compiled, vs: np.ndarray | None = None):
    """The per-position kernel's variant for ``c`` (its ``extras`` argument,
    :mod:`liqcascade.kernels.cascade`): ``None`` (lean) when every venue the static solver sells
    into is a core kind (:data:`liqcascade.venues.CORE_KINDS`: cpmm, book) and the book has no
    multi-asset positions, else ``True`` (every venue kind and the multi-asset round compiled)."""
    if vs is None:
        vs = static_arrays(c)[0]
    kinds = vs[:, K_v.KIND]
    core = bool(np.all(kinds < len(CORE_KINDS)))  # (-1: no venue, a fixed price)
    return None if core and c.book.m_proto.shape[0] == 0 else True


def static_group(engine: str, extras=None) -> str:
    """The warm-up group (:mod:`liqcascade.engine.warmup`) that compiles ``engine``'s kernel
    (per-position: its lean variant for ``extras=None``, see :func:`static_extras`)."""
    if engine == "aggregated":
        return "static_agg"
    return "static" if extras is None else "static_full"


def run_rows(shocks: np.ndarray, args: tuple, extras, threads: int | None = None):
    """:func:`liqcascade.kernels.cascade.solve_rows` over every shock of ``shocks`` on
    ``threads`` Python threads (default numba's thread count; the kernel releases the GIL): thread
    ``t`` runs the shocks ``t, t + threads, …`` (interleaved, since deeper shocks cost more).
    ``args`` are the kernel's arguments between ``shocks`` and ``extras``. Returns the outputs
    indexed by shock, as the kernel fills them (status 1 for a shock not run)."""
    import numba

    S = shocks.shape[0]
    A = args[11].shape[0]  # vs: one venue row per asset (args[12] is vdk)
    out = (np.empty((S, A)), np.empty((S, A)), np.empty(S, np.int64), np.empty(S, np.int64), np.empty(S),
           np.empty(S), np.empty(S), np.empty(S), np.empty(S), np.empty(S, np.bool_), np.full(S, 1, np.int64))
    n = max(1, min(S, int(threads or numba.get_num_threads())))

    def run(t):
        K.solve_rows(np.arange(t, S, n, dtype=np.int64), shocks, *args, extras, *out)

    if n == 1:
        run(0)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=n) as pool:
            for f in [pool.submit(run, t) for t in range(n)]:
                f.result()  # an error inside the kernel reaches the caller (parallel_call)
    return out


def _prefix(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape[0] + 1)
    np.cumsum(x, out=out[1:])
    return out


def _quote_keys(c: Compiled, book, idx, invert: bool = False, chunk: int = 1 << 16) -> np.ndarray:
    """Quote-unit keys ``key · p_debt`` in ``book``'s order (``1.0 / (key · p_debt)`` with
    ``invert``), where position ``j`` of ``book`` is ``idx[j]`` of ``c.book`` (``idx`` None: same
    order). Built in chunks through one small buffer, so no temporary spans the whole book."""
    b0 = c.book
    n = int(book.seg_ptr[-1]) if book.seg_ptr.shape[0] else 0
    key = np.empty(n)
    buf = np.empty(min(chunk, max(n, 1)))
    for s in range(book.seg_asset.shape[0]):
        lo, hi = int(book.seg_ptr[s]), int(book.seg_ptr[s + 1])
        pd = float(c.p0[book.seg_debt_asset[s]])
        for a in range(lo, hi, chunk):
            e = min(a + chunk, hi)
            t = buf[: e - a]
            # the book's key, read or derived (c.book need not hold it)
            b0.derive_key(a, e, idx=idx[a:e] if idx is not None else None, out=t)
            np.multiply(t, pd, out=key[a:e])
            if invert:
                with np.errstate(divide="ignore"):
                    np.divide(1.0, key[a:e], out=key[a:e])
    return key


def _prefix_sums(c: Compiled, book, idx, chunk: int = 1 << 16) -> np.ndarray:
    """Exclusive prefix sums of collateral (column 0) and debt (column 1) in ``book``'s order,
    N+1 rows; chunked like :func:`_quote_keys`."""
    b0 = c.book
    n = int(book.seg_ptr[-1]) if book.seg_ptr.shape[0] else 0
    cs = np.zeros((n + 1, 2))
    buf = np.empty(min(chunk, max(n, 1)))
    acc = np.empty(min(chunk, max(n, 1)))
    for s in range(book.seg_asset.shape[0]):
        lo, hi = int(book.seg_ptr[s]), int(book.seg_ptr[s + 1])
        for col, src in enumerate((b0.coll, b0.debt)):
            for a in range(lo, hi, chunk):
                e = min(a + chunk, hi)
                t = buf[: e - a]
                np.take(src, idx[a:e], out=t) if idx is not None else np.copyto(t, src[a:e])
                r = acc[: e - a]
                np.cumsum(t, out=r)
                r += cs[a, col]
                cs[a + 1:e + 1, col] = r
    return cs


def _cache(c: Compiled) -> dict:
    cache = c.__dict__.setdefault("_static_cache", {})
    tag = (id(c.book), c.p0.tobytes())
    if cache.get("tag") != tag:
        cache.clear()
        cache["tag"] = tag
    return cache


def _agg_view(c: Compiled):
    """What the aggregated kernel reads, built once: ``(segments, idx, u, cs)``: inverse quote
    keys and the interleaved prefix sums of collateral and debt (24 B per position).

    ``segments`` is a :class:`Book` holding only the segment arrays — v3.3 segments split into
    debt-size bins, the others as they are — and ``idx`` maps its positions to ``c.book`` (None:
    same order). The kernel needs no per-position collateral or debt for a curve, only the
    prefix sums, so the book is never copied."""
    from .compile import split_bins

    cache = _cache(c)
    if "agg" not in cache:
        b0 = c.book
        if any(int(c.rules[int(p), 0]) == RULE_V33 for p in b0.seg_proto):
            seg, idx = split_bins(b0, c.scenario, c.p0, arrays=False)
        else:
            import dataclasses

            seg = dataclasses.replace(b0, seg_bin=np.full(b0.seg_asset.shape[0], KA.BIN_NONE, dtype=np.int64),
                                      key=b0.__dict__.get("key"))  # (a derived key stays underived)
            idx = None
        cache["agg"] = (seg, idx, _quote_keys(c, seg, idx, invert=True), _prefix_sums(c, seg, idx))
    return cache["agg"]


def _pp_key(c: Compiled) -> np.ndarray:
    """Quote-unit keys of ``c.book`` for the per-position kernel, built once."""
    cache = _cache(c)
    if "pp" not in cache:
        cache["pp"] = _quote_keys(c, c.book, None)
    return cache["pp"]


def _pdebt(c: Compiled) -> np.ndarray:
    return c.p0[c.book.seg_debt_asset].astype(np.float64)


def solve_static(c: Compiled, shocks, mode: str = "mechanical", asset: str | None = None,
                 progress=None) -> CurveResult:
    """Cascade curve over ``shocks``. ``progress(k)`` is called as chunks of shocks finish."""
    shocks = np.ascontiguousarray(np.asarray(shocks, dtype=np.float64))
    if shocks.ndim != 1 or shocks.size == 0:
        raise InputError(None, "--shocks", "need at least one shock")
    if np.any(shocks < 0) or np.any(shocks >= 1) or not np.all(np.isfinite(shocks)):
        raise InputError(None, "--shocks", "shocks must be fractions in [0, 1)")
    vs, vdk, vdq, mask = static_arrays(c)
    mcode = K.MODE_RATIONAL if mode == "rational" else K.MODE_MECHANICAL
    engine, why = choose_engine(c, mode)
    extras = static_extras(c, vs)
    from .warmup import ensure

    ensure([static_group(engine, extras)])
    if engine == "aggregated":
        b, _, u, cs = _agg_view(c)
        pd = c.p0[b.seg_debt_asset].astype(np.float64)
        solver = KA.solve_curve_agg
        none = np.zeros(0)
        args = (none, none, u, cs, b.seg_ptr, b.seg_asset, b.seg_proto,
                pd, b.seg_bin, c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
                int(c.scenario.simulation.max_rounds), *b.multi_args())
        import numba

        threads = numba.get_num_threads()
    else:
        b = c.book
        key = _pp_key(c)
        pd = c.p0[b.seg_debt_asset].astype(np.float64)
        args = (b.coll, b.debt, key, b.seg_ptr, b.seg_asset, b.seg_proto, pd,
                c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
                mcode, float(c.scenario.liquidators.gas_cost), int(c.scenario.simulation.max_rounds),
                *b.multi_args())
    def call(sh):
        if engine == "aggregated":
            run = lambda: solver(sh, *args, KA.interleaved_order(sh.shape[0], threads))  # noqa: E731
        else:
            run = lambda: run_rows(sh, args, extras)  # noqa: E731
        return parallel_call(run, "static solver", sh.shape[0], lambda i: f"shock {sh[i]:g}",
                             lambda i: final_state(c, float(sh[i]), mode=mode, engine=engine))

    if progress is None:
        out = call(shocks)
    else:
        # chunks of shocks so a progress bar can move; each chunk still runs in parallel
        step = max(1, -(-shocks.shape[0] // 20))
        parts = []
        for i in range(0, shocks.shape[0], step):
            parts.append(call(np.ascontiguousarray(shocks[i:i + step])))
            progress(min(step, shocks.shape[0] - i))
        out = tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
    final_price, units, rounds, n_liq, liq_value, repaid, bad, fees, bonus, conv, status = out
    check_status(status, "static solver", lambda i: f"shock {shocks[i]:g}",
                 lambda i: final_state(c, float(shocks[i]), mode=mode, engine=engine))
    name = asset or c.scenario.curve.asset or next(n for n, s in zip(c.assets, c.stable) if not s)
    a = c.assets.index(name)
    p0 = float(c.p0[a])
    points = []
    for s in range(shocks.shape[0]):
        shocked = p0 * (1.0 - shocks[s]) if mask[a] else p0
        exo = p0 - shocked
        endo = shocked - float(final_price[s, a])
        amp = endo / exo if exo > 0 else None
        points.append(CurvePoint(
            shock=float(shocks[s]), final_price=float(final_price[s, a]), rounds=int(rounds[s]),
            liquidations=int(n_liq[s]), liquidated_collateral=float(liq_value[s]),
            repaid_debt=float(repaid[s]), bad_debt=float(bad[s]), amplification=amp,
            shocked_price=shocked, protocol_fees=float(fees[s]), liquidator_bonus=float(bonus[s]),
            converged=bool(conv[s]),
        ))
    crit, jump = critical_shock(points, p0)
    notes = list(c.notes) + [
        f"static solver ({engine} kernel: {why}): one venue per asset, rounds at the round-start price, "
        "no oracle lag, no recovery",
        "liquidated_collateral, repaid_debt and bad_debt are quote values at the liquidation prices",
    ]
    if c.units:
        notes.append("the static curve covers Aave-rule protocols only; protocol units ("
                     + ", ".join(f"{c.protocols[u.proto_id]} [{u.kind}]" for u in c.units)
                     + ") take part in `run` but not here")
    if not all(p.converged for p in points):
        notes.append("some shocks hit simulation.max_rounds before reaching a fixed point")
    notes += curve_floor_notes(c.assets, c.stable, vs[:, K_v.FLOOR], shocks, final_price)
    return CurveResult(asset=name, p0=p0, points=points, critical_shock=crit, critical_jump=jump,
                       mode=mode, notes=notes, start=c.start, source=(c.scenario, c.base_dir))


def _seg_of(b) -> np.ndarray:
    return np.repeat(np.arange(b.seg_asset.shape[0]), np.diff(b.seg_ptr))


def critical_shock(points: list[CurvePoint], p0: float, min_jump: float = 0.01) -> tuple[float | None, float]:
    """Shock at which the curve jumps: the largest step in endogenous drop between neighbours.

    The endogenous drop at a shock is ``(shocked price − final price) / p0``. The critical shock
    is the grid point ending the largest increase of it, provided the increase is at least
    ``min_jump`` (1 % of the initial price); otherwise ``None`` (no cascade on this grid).
    """
    if len(points) < 2:
        return None, 0.0
    pts = sorted(points, key=lambda p: p.shock)
    endo = np.array([(p.shocked_price - p.final_price) / p0 for p in pts])
    jumps = np.diff(endo)
    k = int(np.argmax(jumps))
    if jumps[k] < min_jump:
        return None, float(max(jumps[k], 0.0))
    return float(pts[k + 1].shock), float(jumps[k])


def final_state(c: Compiled, shock: float, mode: str = "mechanical", engine: str | None = None):
    """Run one shock and return ``(coll, debt, summary)`` of every booked position (tests).

    ``engine`` forces ``"per-position"`` or ``"aggregated"``; by default the one
    :func:`choose_engine` picks."""
    engine = engine or choose_engine(c, mode)[0]
    vs, vdk, vdq, mask = static_arrays(c)
    b0 = c.book
    price = np.empty(c.n_assets)
    units = np.empty(c.n_assets)
    omc = b0.m_coll.copy()
    omd = b0.m_debt.copy()
    idx = None
    if engine == "aggregated":
        seg, idx, u, cs = _agg_view(c)
        coll = b0.coll if idx is None else b0.coll[idx]
        debt = b0.debt if idx is None else b0.debt[idx]
        oc = coll.copy()
        od = debt.copy()
        pd = c.p0[seg.seg_debt_asset].astype(np.float64)
        r = KA.solve_shock_agg(
            float(shock), coll, debt, u, cs, seg.seg_ptr, seg.seg_asset,
            seg.seg_proto, pd, seg.seg_bin, c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
            int(c.scenario.simulation.max_rounds), oc, od, price, units, *b0.multi_args(), omc, omd,
        )
    else:
        oc = b0.coll.copy()
        od = b0.debt.copy()
        pd = c.p0[b0.seg_debt_asset].astype(np.float64)
        r = K.solve_shock(
            float(shock), b0.coll, b0.debt, _pp_key(c), b0.seg_ptr, b0.seg_asset, b0.seg_proto, pd,
            c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
            K.MODE_RATIONAL if mode == "rational" else K.MODE_MECHANICAL,
            float(c.scenario.liquidators.gas_cost), int(c.scenario.simulation.max_rounds),
            oc, od, price, units, *b0.multi_args(), omc, omd, static_extras(c, vs),
        )
    keys = ("rounds", "liquidations", "liquidated_value", "repaid", "bad_debt", "fees", "bonus", "converged")
    summary = dict(zip(keys, r))
    summary["final_price"] = price
    summary["units"] = units
    summary["multi_coll"] = omc
    summary["multi_debt"] = omd
    if idx is None:
        return oc, od, summary
    # back to the order of c.book
    out_c = np.empty_like(oc)
    out_d = np.empty_like(od)
    out_c[idx] = oc
    out_d[idx] = od
    return out_c, out_d, summary
