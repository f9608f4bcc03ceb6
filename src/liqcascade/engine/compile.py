"""Turn a validated :class:`Scenario` into the plain arrays the kernels take.

Nothing here runs a simulation; it resolves names to indices, loads position files, builds the
venue and oracle state arrays, and sorts positions into *segments* (one protocol × one
collateral asset) ordered by liquidation price, descending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..protocols.aave import kernel as K_aave
from ..venues import kernel as K_v
from ..kernels.cascade_agg import BIN_NONE, BIN_SMALL
from ..protocols.aave.incentives.kernel import morpho_lif as morpho_lif_value
from ..oracles.kernel import NPARAM, ORACLE_OSM
from ..pegs.model import YEAR_SECONDS
from ..venues.pack import make_venue_state
from ..oracles.pack import ORACLE_KINDS, oracle_params
from ..positions.ids import PositionIds
from ..positions.io import load_positions
from ..scenario.models import Scenario
from ..timebase import Timebase

RULE_CODES = {"fixed": K_aave.RULE_FIXED, "v3.2": K_aave.RULE_V32, "v3.3": K_aave.RULE_V33}


@dataclass
class Book:
    """Simple positions (one collateral asset, one debt asset) sorted into segments.

    ``key`` may be passed as None together with ``key_lt`` (the LT of each segment): it is then
    derived data, ``debt / (coll · LT)`` — the same expression, element by element, that sorted
    the book, so the same bits — computed when first read. The cascade curve never reads it
    (it derives what it needs in chunks), which saves 8 B per position there."""

    coll: np.ndarray  # float64[N] collateral units, sorted
    debt: np.ndarray  # float64[N] debt units, sorted
    key: np.ndarray | None  # float64[N] liquidation ratio debt/(coll·LT) (price of coll in debt units)
    seg_ptr: np.ndarray  # int64[S+1]
    seg_asset: np.ndarray  # int64[S] collateral asset
    seg_proto: np.ndarray  # int64[S]
    seg_debt_asset: np.ndarray  # int64[S]
    ids: PositionIds  # original ids, in sorted order (lazy; absent when compiled with ids=False)
    seg_bin: np.ndarray | None = None  # int64[S] debt-size bin (v3.3 segments), see kernels.cascade_agg
    # positions left out of the books (never liquidatable): no debt, or no collateral
    idle_coll: np.ndarray = field(default_factory=lambda: np.zeros(0))
    idle_debt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    idle_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    idle_proto: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    idle_debt_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # multi-asset positions (several collateral or debt assets), CSR; scanned every step/round
    m_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    m_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    m_coll: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m_debt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m_proto: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    m_ids: PositionIds = field(default_factory=lambda: PositionIds.from_values(np.zeros(0, dtype=object)))
    key_lt: np.ndarray | None = None  # float64[S] LT of each segment, when ``key`` is derived

    def __post_init__(self) -> None:
        if not isinstance(self.ids, PositionIds):
            self.ids = PositionIds.from_values(self.ids)
        if not isinstance(self.m_ids, PositionIds):
            self.m_ids = PositionIds.from_values(self.m_ids)
        if self.key is None:
            if self.key_lt is None or self.key_lt.shape[0] != self.seg_asset.shape[0]:
                raise ValueError("a book without keys needs key_lt, one LT per segment")
            del self.key  # read through __getattr__, computed once

    def __getattr__(self, name):
        # only reached for attributes not set on the instance: the derived key
        if name != "key" or "coll" not in self.__dict__:
            raise AttributeError(name)
        key = self.derive_key(0, self.coll.shape[0])
        self.__dict__["key"] = key
        return key

    @property
    def has_key(self) -> bool:
        """True when ``key`` is held (given, or derived and kept)."""
        return self.__dict__.get("key") is not None

    def derive_key(self, lo: int, hi: int, idx: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """``key[lo:hi]``, or ``key[idx]`` for positions ``idx`` of one segment, without
        building the whole array: read when held, computed when derived."""
        n = idx.shape[0] if idx is not None else hi - lo
        out = np.empty(n) if out is None else out
        if n == 0:
            return out
        if self.has_key:
            src = self.__dict__["key"]
            if idx is not None:
                np.take(src, idx, out=out)
            else:
                np.copyto(out, src[lo:hi])
            return out
        if idx is not None:
            seg = int(np.searchsorted(self.seg_ptr, idx[0], side="right")) - 1
            np.take(self.coll, idx, out=out)
            out *= self.key_lt[seg]
            return np.divide(np.take(self.debt, idx), out, out=out)
        for s in range(self.seg_asset.shape[0]):
            a, b = max(lo, int(self.seg_ptr[s])), min(hi, int(self.seg_ptr[s + 1]))
            if a < b:
                o = out[a - lo:b - lo]
                np.multiply(self.coll[a:b], self.key_lt[s], out=o)
                np.divide(self.debt[a:b], o, out=o)
        return out

    @property
    def n_multi(self) -> int:
        return int(self.m_proto.shape[0])

    def multi_args(self):
        return self.m_ptr, self.m_asset, self.m_coll, self.m_debt, self.m_proto

    @property
    def n(self) -> int:
        return int(self.coll.shape[0])

    def nbytes(self) -> int:
        held = (self.coll, self.debt, self.__dict__.get("key"), self.seg_ptr)
        return sum(a.nbytes for a in held if a is not None)


@dataclass
class Compiled:
    scenario: Scenario
    base_dir: Path
    assets: list[str]
    p0: np.ndarray
    stable: np.ndarray
    venue_names: list[str]
    vs0: np.ndarray
    vdk: np.ndarray
    vdq: np.ndarray
    venue_asset: np.ndarray
    av_ptr: np.ndarray  # venues of each asset, CSR
    av_idx: np.ndarray
    oracle_names: list[str]
    o_kind: np.ndarray
    o_params: np.ndarray
    o_src_ptr: np.ndarray
    o_src: np.ndarray
    o_asset: np.ndarray
    protocols: list[str]
    lt_pa: np.ndarray
    bonus_pa: np.ndarray
    pfee_pa: np.ndarray
    rules: np.ndarray
    oracle_of: np.ndarray  # int64[P, A]: oracle index, -1 = mean venue spot (risky) / fixed (stable)
    book: Book
    notes: list[str] = field(default_factory=list)
    #: asset index -> its reference path from a peg's recorded ratio (``simulation.steps + 1``)
    peg_paths: dict = field(default_factory=dict)
    units: list = field(default_factory=list)  # engine.units.Unit, one per non-Aave protocol
    #: the book at the initial prices (engine.start): pre-existing bad debt, liquidatable at t = 0
    start: dict = field(default_factory=dict)
    timebase: Timebase | None = None  # the scenario's durations in steps (timebase.Timebase.of)

    @property
    def time(self) -> Timebase:
        """Durations of this scenario in steps (the one conversion, :mod:`liqcascade.timebase`)."""
        if self.timebase is None:
            self.timebase = Timebase(self.scenario.simulation.dt_seconds)
        return self.timebase

    @property
    def n_assets(self) -> int:
        return len(self.assets)


def compile_scenario(sc: Scenario, base_dir: Path, source: str | None = None, book: Book | None = None,
                     ids: bool = True) -> Compiled:
    """``ids=False`` checks the position files' ids but does not keep them (``book.ids`` is
    absent): for callers that name no position in their output, such as the cascade curve."""
    if sc.flow is not None:
        raise InputError(None, "flow", "a flow study ([flow]) has no position book to compile: run it with "
                         "`liqcascade run` or `liqcascade sweep` (see docs/external-flow.md)")
    assets = [a.name for a in sc.assets]
    aidx = {n: i for i, n in enumerate(assets)}
    p0 = np.array([a.price for a in sc.assets], dtype=np.float64)
    stable = np.array([a.stable for a in sc.assets], dtype=np.bool_)
    tb = Timebase(sc.simulation.dt_seconds)
    tb.walk(sc)  # every duration once: roundings become notes before anything runs

    vlist = []
    for j, v in enumerate(sc.venues):
        d = {"kind": v.kind, "asset": aidx[v.asset], "fee": v.fee, "min_price": v.min_price}
        price = p0[aidx[v.asset]]
        if v.kind == "cpmm":
            d["reserve_asset"] = v.reserve_asset
            with np.errstate(over="ignore", invalid="ignore"):
                d["reserve_quote"] = v.reserve_asset * price
            if not np.isfinite(d["reserve_quote"]):  # reported against what the user wrote
                raise InputError(source, f"assets[{aidx[v.asset]}].price",
                                 f"{float(price):g} × venues[{j}].reserve_asset {v.reserve_asset:g} is beyond "
                                 "float64: the pool's quote reserve would be infinite")
        elif v.kind == "stableswap":
            d.update(reserve_asset=v.reserve_asset, price=price, rate=v.rate, amp=v.amp,
                     offpeg_fee_multiplier=v.offpeg_fee_multiplier, admin_fee=v.admin_fee)
        elif v.kind == "concentrated":
            d.update(price=price, tick_spacing=v.tick_spacing, asset_is_token0=v.asset_is_token0,
                     decimals0=v.decimals0, decimals1=v.decimals1,
                     ticks_file=str(Path(base_dir) / v.ticks_file) if v.ticks_file else None,
                     synthetic=v.synthetic.model_dump() if v.synthetic else None)
        else:
            d["mid"] = price
            d["depth"] = [tuple(x) for x in v.depth]
        d["half_life_steps"] = tb.of(v, "half_life_seconds", f"venues[{len(vlist)}]")
        vlist.append(d)
    if vlist:
        vs0, vdk, vdq = make_venue_state(vlist)
    else:
        vs0, vdk, vdq = np.zeros((0, K_v.NCOL)), np.zeros((0, 1)), np.zeros((0, 1))
    venue_asset = np.array([aidx[v.asset] for v in sc.venues], dtype=np.int64)
    av_ptr, av_idx = _csr([[j for j, v in enumerate(sc.venues) if v.asset == a] for a in assets])
    vname = {v.name: j for j, v in enumerate(sc.venues)}

    dt = sc.simulation.dt_seconds
    o_kind, o_params, srcs, o_asset = [], [], [], []
    peg_of = {g.asset: g for g in sc.pegs}
    for o in sc.oracles:
        okind = "fundamental" if o.reads == "fundamental" else o.kind
        peg = peg_of.get(o.asset)
        o_kind.append(ORACLE_KINDS[okind])
        o_params.append(
            oracle_params(
                okind,
                fundamental=peg.fundamental if peg is not None and okind == "fundamental" else 0.0,
                fundamental_growth_per_s=peg.drift_per_year / YEAR_SECONDS if peg is not None else 0.0,
                dt_seconds=dt,
                lag_s=o.lag_seconds,
                heartbeat_s=o.heartbeat_seconds,
                deviation=o.deviation,
                window_s=o.window_seconds,
                hop_s=o.hop_seconds,
                halflife_s=o.half_life_seconds,
                max_jump=o.max_jump,
            )
        )
        src = [vname[s] for s in o.sources] if o.sources else [j for j, v in enumerate(sc.venues) if v.asset == o.asset]
        srcs.append(src)
        o_asset.append(aidx[o.asset])
    o_src_ptr, o_src = _csr(srcs)
    oname = {o.name: k for k, o in enumerate(sc.oracles)}

    P, A = len(sc.protocols), len(assets)
    lt_pa = np.zeros((P, A))
    bonus_pa = np.zeros((P, A))
    pfee_pa = np.zeros((P, A))
    rules = np.zeros((P, K_aave.NRULE))
    oracle_of = np.full((P, A), -1, dtype=np.int64)
    for k, pr in enumerate(sc.protocols):
        for a, prm in getattr(pr, "params", {}).items():
            lt_pa[k, aidx[a]] = prm.liquidation_threshold
            bonus_pa[k, aidx[a]] = prm.liquidation_bonus or 0.0
            if getattr(pr, "incentive", "fixed") == "morpho":
                bonus_pa[k, aidx[a]] = morpho_lif_value(prm.liquidation_threshold, pr.morpho_cursor, pr.morpho_max_lif) - 1.0
            pfee_pa[k, aidx[a]] = prm.protocol_fee
        if pr.kind == "aave_v3":
            rules[k, K_aave.R_RULE] = RULE_CODES[pr.close_factor_rule]
            rules[k, K_aave.R_CF] = pr.close_factor
            rules[k, K_aave.R_HF_CF] = pr.hf_close_factor_threshold
            rules[k, K_aave.R_MIN_BASE] = pr.min_base_close_factor
            rules[k, K_aave.R_MIN_LEFTOVER] = pr.min_leftover
            if pr.incentive != "fixed":  # Morpho Blue and Euler v2 have no close factor
                rules[k, K_aave.R_RULE] = K_aave.RULE_FIXED
                rules[k, K_aave.R_CF] = 1.0
            if pr.incentive == "euler":
                rules[k, K_aave.R_INC] = K_aave.INC_EULER
                rules[k, K_aave.R_INC_MAXD] = pr.euler_max_discount
        for a, on in pr.oracles.items():
            oracle_of[k, aidx[a]] = oname[on]
        # an asset without an explicit oracle uses the first oracle declared for it, if any
        for a in range(A):
            if oracle_of[k, a] < 0:
                for j, o in enumerate(sc.oracles):
                    if o_asset[j] == a:
                        oracle_of[k, a] = j
                        break

    guard_names = []
    if sc.mechanisms.oracle_guard is not None:
        from ..mechanisms.oracle_guard.pack import apply_oracle_guard

        guard_names = apply_oracle_guard(sc, assets, stable, venue_asset, oracle_of, o_kind, o_params, srcs, o_asset)
        o_src_ptr, o_src = _csr(srcs)
    if sc.mechanisms.active():
        from ..mechanisms.pack import check_mechanisms

        check_mechanisms(sc)

    if book is None:
        book = build_book(sc, base_dir, assets, p0, lt_pa, ids=ids)
    from .units import build_unit

    units = []
    for k, pr in enumerate(sc.protocols):
        if pr.kind != "aave_v3":
            if any(u.kind == pr.kind for u in units):
                raise InputError(source, f"protocols[{k}].kind",
                                 f"one {pr.kind} protocol per scenario in this version")
            if pr.kind == "llamma" and any(v.kind in ("stableswap", "concentrated") for v in sc.venues):
                raise InputError(source, f"protocols[{k}].kind",
                                 "the llamma unit's arbitrageur trades cpmm and book venues only in this "
                                 "version (not stableswap or concentrated)")
            units.append(build_unit(pr, k, aidx, p0, [v.name for v in sc.venues], venue_asset, base_dir))
    notes = [
        "amounts are real numbers, not fixed-point integers (Aave's floor/ceil rounding is not reproduced)",
        "all collateral seized in a step or round is sold into the venues (liquidator and treasury shares alike)",
    ]
    peg_paths = {}
    for i, g in enumerate(sc.pegs):
        a = aidx[g.asset]
        reads = sorted({o.name + ": " + ("fundamental" if (o.reads == "fundamental" or o.kind == "fundamental")
                                          else "market") for o in sc.oracles if o.asset == g.asset})
        notes.append(f"peg {g.asset}: fundamental {g.fundamental:g} growing {g.drift_per_year:g}/year; oracles "
                     f"{', '.join(reads) or 'none (protocols read the mean venue spot: market)'}")
        for o in sc.oracles:
            if o.asset == g.asset and o.reads == "fundamental" and o.kind not in ("spot", "fundamental"):
                notes.append(f"oracle {o.name} reads the fundamental: published every step (lag and max_jump "
                             f"apply); its kind {o.kind!r} and that kind's update rule are not used")
        if g.series is not None:
            from ..pegs.series import peg_path

            peg_paths[a] = peg_path(g, float(p0[a]), base_dir, sc.simulation.steps, sc.simulation.dt_seconds,
                                    f"pegs[{i}]")
            notes.append(f"peg {g.asset}: its venues follow fundamental × the recorded ratio "
                         f"{g.series.numerator}{' / ' + g.series.denominator if g.series.denominator else ''} from "
                         f"{g.series.start} (an outside trader moves each pool there every step: the exogenous flow); "
                         "the [price] model's path for it is replaced")
    for v in sc.venues:
        if v.kind == "stableswap":
            notes.append(f"{v.name}: StableSwap pool of two coins ({v.asset} and the scenario's quote unit, amp "
                         f"{v.amp:g}, fee {v.fee:g}); what a sale cannot place in the pool (its balance floor) goes to the "
                         "venue's stub bid at its floor price (min_price)")
        elif v.kind == "concentrated":
            notes.append(f"{v.name}: concentrated-liquidity pool (Uniswap v3 ticks); what a sale cannot place "
                         "above its lowest range goes to the venue's stub bid at its floor price (min_price)")
    if sc.agents.flash_attacker is not None:
        notes.append("agents.flash_attacker is not a step of the time loop yet: `liqcascade attack S.toml --flash` "
                     "evaluates its one-block bundle on the start state (engine.flash.BundleSolver.step is the per-step entry point)")
    for pr in sc.protocols:
        inc = getattr(pr, "incentive", "fixed")
        if inc == "morpho":
            notes.append(f"{pr.name}: Morpho Blue incentive LIF = min({pr.morpho_max_lif}, 1/(1 − {pr.morpho_cursor}·(1 − LLTV))) "
                         "with LLTV = the liquidation threshold; no close factor (Aave-style sizing otherwise)")
        elif inc == "euler":
            notes.append(f"{pr.name}: Euler v2 discount 1 − HF capped at {pr.euler_max_discount}; no close factor; "
                         "cool-off, LLTV ramp and the liquidator taking on the debt are not modelled")
    from .start import start_notes, start_state

    start = start_state(book, p0, lt_pa, [p.name for p in sc.protocols])
    notes += start_notes(start)
    c = Compiled(
        scenario=sc, base_dir=base_dir, assets=assets, p0=p0, stable=stable,
        venue_names=[v.name for v in sc.venues], vs0=vs0, vdk=vdk, vdq=vdq, venue_asset=venue_asset,
        av_ptr=av_ptr, av_idx=av_idx,
        oracle_names=[o.name for o in sc.oracles] + guard_names, o_kind=np.array(o_kind, dtype=np.int64),
        o_params=np.array(o_params, dtype=np.float64).reshape(len(o_kind), NPARAM),
        o_src_ptr=o_src_ptr, o_src=o_src, o_asset=np.array(o_asset, dtype=np.int64),
        protocols=[p.name for p in sc.protocols], lt_pa=lt_pa, bonus_pa=bonus_pa, pfee_pa=pfee_pa,
        rules=rules, oracle_of=oracle_of, book=book, notes=notes + tb.notes, units=units, start=start,
        timebase=tb, peg_paths=peg_paths,
    )
    from .rates import check_rates

    c.notes += check_rates(c, source)
    for pr in sc.protocols:
        fd = pr.config.get("funding") if pr.kind == "perp" else None
        if isinstance(fd, dict):
            notes_f = (f"{pr.name}: {fd.get('kind')} funding — premium from the perp's own book (impact prices) against "
                       "the index (the protocol's oracle), paid per interval by every holder at the start of a step; "
                       "it moves margin and cash only between holders")
            c.notes.append(notes_f)
    return c


def _csr(lists):
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    for i, l in enumerate(lists):
        ptr[i + 1] = ptr[i] + len(l)
    flat = np.array([x for l in lists for x in l], dtype=np.int64)
    return ptr, flat


def build_book(sc: Scenario, base_dir: Path, assets, p0, lt_pa, ids: bool = True) -> Book:
    """Load every protocol's positions and sort them into segments.

    Memory: a loaded file costs its 16 B of amounts per position; each part is sorted with one
    index array and one gathered copy alive at a time (at most ~40 B per position next to the
    other parts), and no loaded array outlives the part built from it. ``ids=False`` keeps no
    ids (see :func:`compile_scenario`)."""
    aidx = {n: i for i, n in enumerate(assets)}
    parts = []  # [proto, coll_asset, debt_asset, coll, debt, ids]
    multi = []  # (proto, table, entry asset, mask of multi positions)
    for k, pr in enumerate(sc.protocols):
        if pr.kind != "aave_v3":
            continue  # protocol units load their own positions (engine.units)
        debt_a = aidx[pr.debt]
        if pr.positions.startswith("synth:"):
            parts.append(_synth_part(pr, k, aidx, p0, lt_pa, ids))
            continue
        path = Path(pr.positions)
        if not path.is_absolute():
            path = base_dir / path
        table = _book_file(load_positions, path, k, assets=None, keep_ids=ids)
        if table.wide:
            if pr.collateral is None:
                raise InputError(str(path), "protocols." + pr.name + ".collateral",
                                 "a wide position file (id,collateral,debt) needs `collateral` set in the protocol")
            parts.append([k, aidx[pr.collateral], debt_a, table.collateral, table.debt, table.ids])
            del table  # the part holds the arrays now; sorting it frees them
            continue
        # long format: one row per (position, asset). A position with one collateral asset and
        # one debt asset joins a sorted segment; one with several goes to the multi-asset list.
        names = table.assets
        for nm in names:
            if nm not in aidx:
                raise InputError(str(path), "asset", f"unknown asset {nm!r} (scenario assets: {', '.join(assets)})")
        amap = np.array([aidx[nm] for nm in names], dtype=np.int64)
        ent_asset = amap[table.asset]
        for a in np.unique(ent_asset[table.collateral > 0]):
            if assets[a] not in pr.params:
                raise InputError(str(path), f"asset {assets[a]}",
                                 f"no parameters for collateral {assets[a]!r} in protocol {pr.name!r}")
        n = table.n
        pos_of = np.repeat(np.arange(n), np.diff(table.ptr))
        ncoll = np.bincount(pos_of[table.collateral > 0], minlength=n)
        ndebt = np.bincount(pos_of[table.debt > 0], minlength=n)
        simple = (ncoll <= 1) & (ndebt <= 1)
        coll = np.bincount(pos_of, weights=table.collateral, minlength=n)
        debt = np.bincount(pos_of, weights=table.debt, minlength=n)
        casset = np.full(n, debt_a, dtype=np.int64)
        dasset = np.full(n, debt_a, dtype=np.int64)
        has_c = table.collateral > 0
        has_d = table.debt > 0
        casset[pos_of[has_c]] = ent_asset[has_c]
        dasset[pos_of[has_d]] = ent_asset[has_d]
        for a in np.unique(casset[simple]):
            for da in np.unique(dasset[simple & (casset == a)]):
                sel = simple & (casset == a) & (dasset == da)
                parts.append([k, int(a), int(da), coll[sel], debt[sel], table.ids[sel]])
        if (~simple).any():
            multi.append((k, table, ent_asset, ~simple))
        del table, coll, debt

    segs = []  # [proto, asset, debt asset, coll, debt, key, ids]
    idle = []
    parts.reverse()
    while parts:
        k, a, da, c, d, pids = parts.pop()  # the list lets go of the part: sorting frees its arrays
        c = np.asarray(c, dtype=np.float64)
        d = np.asarray(d, dtype=np.float64)
        live = (c > 0) & (d > 0) & (lt_pa[k, a] > 0)
        if not live.all():
            dead = ~live
            idle.append((k, a, da, c[dead], d[dead]))
            c, d, pids = c[live], d[live], pids[live]
            del dead
        del live
        # key = d / (c·LT); sorted by -key, stable (one segment per part: the static solver
        # splits v3.3 segments into debt-size bins itself, in engine.static, since more
        # segments only slow the time loop down)
        # the key is not kept: the book derives it from the sorted arrays, the same bits
        key = np.multiply(c, lt_pa[k, a])
        np.divide(d, key, out=key)
        np.negative(key, out=key)
        order = stable_argsort(key)
        del key
        c = c[order]
        d = d[order]
        pids = pids[order]
        del order
        segs.append([k, a, da, c, d, float(lt_pa[k, a]), pids])
    if len(segs) == 1:
        coll, debt = segs[0][3], segs[0][4]
    elif segs:
        # one array at a time, letting go of the pieces: at most one extra array alive
        out = []
        for j in (3, 4):
            out.append(np.concatenate([s[j] for s in segs]))
            for s in segs:
                s[j] = None
        coll, debt = out
        del out
    else:
        coll = debt = np.zeros(0)
    book_ids = PositionIds.concat([s[6] for s in segs]) if segs else PositionIds.from_values(np.zeros(0, dtype=object))
    seg_ptr = np.zeros(len(segs) + 1, dtype=np.int64)
    for j, s in enumerate(segs):
        seg_ptr[j + 1] = seg_ptr[j] + len(s[6])
    book = Book(
        coll=coll, debt=debt, key=None, key_lt=np.array([s[5] for s in segs], dtype=np.float64), seg_ptr=seg_ptr,
        seg_asset=np.array([s[1] for s in segs], dtype=np.int64),
        seg_proto=np.array([s[0] for s in segs], dtype=np.int64),
        seg_debt_asset=np.array([s[2] for s in segs], dtype=np.int64),
        ids=book_ids, seg_bin=np.full(len(segs), BIN_NONE, dtype=np.int64),
    )
    del segs, coll, debt
    if idle:
        book.idle_coll = np.concatenate([x[3] for x in idle])
        book.idle_debt = np.concatenate([x[4] for x in idle])
        book.idle_asset = np.concatenate([np.full(x[3].shape[0], x[1], dtype=np.int64) for x in idle])
        book.idle_proto = np.concatenate([np.full(x[3].shape[0], x[0], dtype=np.int64) for x in idle])
        book.idle_debt_asset = np.concatenate([np.full(x[3].shape[0], x[2], dtype=np.int64) for x in idle])
    if multi:
        ptr = [0]
        ea, ec, ed, ep, eids = [], [], [], [], []
        for k, table, ent_asset, mask in multi:
            sel = np.flatnonzero(mask)
            for i in sel:
                s0, s1 = table.ptr[i], table.ptr[i + 1]
                ea.append(ent_asset[s0:s1])
                ec.append(table.collateral[s0:s1])
                ed.append(table.debt[s0:s1])
                ptr.append(ptr[-1] + (s1 - s0))
                ep.append(k)
            eids.append(table.ids[sel])
        book.m_ptr = np.array(ptr, dtype=np.int64)
        book.m_asset = np.concatenate(ea).astype(np.int64)
        book.m_coll = np.concatenate(ec).astype(np.float64)
        book.m_debt = np.concatenate(ed).astype(np.float64)
        book.m_proto = np.array(ep, dtype=np.int64)
        book.m_ids = PositionIds.concat(eids)
    return book


def stable_argsort(x: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """``np.argsort(x, kind="stable")``, the same permutation, usually 2–3 x faster.

    NumPy's default argsort uses SIMD sorting networks but is not stable; equal values are then
    put back in index order, which is what a stable sort gives. Ties are found in chunks (no
    temporary spans the array); with many of them (over 1 %) the stable sort runs instead. ``x``
    must hold no NaN."""
    n = x.shape[0]
    order = np.argsort(x)
    runs = []
    count = 0
    for a in range(0, n - 1, chunk):
        k = x[order[a:min(a + chunk + 1, n)]]
        eq = np.flatnonzero(k[1:] == k[:-1])
        if eq.size:
            runs.append(eq + a)
            count += eq.size
            if count > n // 100:
                return np.argsort(x, kind="stable")
    if not runs:
        return order
    eq = np.concatenate(runs)  # i such that sorted values i and i + 1 are equal
    cut = np.flatnonzero(np.diff(eq) != 1)
    starts = eq[np.concatenate(([0], cut + 1))]
    ends = eq[np.concatenate((cut, [eq.size - 1]))] + 2
    for s, e in zip(starts.tolist(), ends.tolist()):
        order[s:e].sort()
    return order


def _book_file(load, path: Path, k: int, **kw):
    """``load(path, **kw)`` for ``protocols[k].positions``: a file that is missing, a folder or of
    the wrong type is reported against that key (with the path), and a file with a header and
    no rows is refused."""
    where = f"protocols[{k}].positions"
    if path.is_dir():
        raise InputError(None, where, f"{path}: is a directory, expected a .csv or .parquet file")
    try:
        table = load(path, **kw)
    except InputError as exc:
        if exc.where is None:
            raise InputError(None, where, f"{path}: {exc.reason}") from None
        raise
    if getattr(table, "n", None) == 0:
        raise InputError(None, where, f"{path}: no positions (the file has a header and no rows)")
    return table


def _synth_part(pr, k, aidx, p0, lt_pa, ids: bool = True):
    """``positions = "synth:N:SEED"``: a synthetic book calibrated on real borrowers. Its ids
    (``<protocol>-<i>``) are a rule, generated only for the positions an output names."""
    from ..positions.synth import synth_book

    where = f"protocols.{pr.name}.positions"
    bits = pr.positions.split(":")
    try:
        if len(bits) != 3:
            raise ValueError
        n, seed = int(bits[1]), int(bits[2])
    except ValueError:
        raise InputError(None, where, f"{pr.positions!r}: expected synth:N:SEED") from None
    if not (1 <= n <= 50_000_000) or seed < 0:
        raise InputError(None, where, "synth:N:SEED needs 1 <= N <= 50,000,000 and SEED >= 0")
    if pr.collateral is None:
        raise InputError(None, f"protocols.{pr.name}.collateral", "a synthetic book needs `collateral` set")
    a = aidx[pr.collateral]
    da = aidx[pr.debt]
    coll, debt = synth_book(n, seed, float(p0[a]), float(lt_pa[k, a]), debt_price=float(p0[da]))
    pids = PositionIds.synthetic(f"{pr.name}-", n) if ids else PositionIds.absent(n)
    return [k, a, da, coll, debt, pids]


def split_bins(b: Book, sc: Scenario, p0, with_ids: bool = True, arrays: bool = True) -> tuple[Book, np.ndarray]:
    """Split a book's v3.3 segments into debt-size bins (for the aggregated static solver).

    Returns the split book and ``idx`` (int32 when it fits): position ``j`` of the split book is
    ``idx[j]`` of ``b``. Within a bin the sorted order is kept. With ``arrays=False`` only the
    segment arrays are filled (the per-position arrays stay empty). Bins are computed in chunks,
    so temporaries stay small next to the book."""
    n = b.coll.shape[0]
    idx = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    seg_rows = []  # (proto, asset, debt asset, count, bin, segment of b)
    chunk = 1 << 16
    for s in range(b.seg_asset.shape[0]):
        lo, hi = int(b.seg_ptr[s]), int(b.seg_ptr[s + 1])
        k, a, da = int(b.seg_proto[s]), int(b.seg_asset[s]), int(b.seg_debt_asset[s])
        pr = sc.protocols[k] if k < len(sc.protocols) else None
        if pr is None or getattr(pr, "close_factor_rule", None) != "v3.3":
            idx[lo:hi] = np.arange(lo, hi)
            seg_rows.append((k, a, da, hi - lo, BIN_NONE, s))
            continue
        bins = np.empty(hi - lo, dtype=np.int16)
        for c0 in range(lo, hi, chunk):
            c1 = min(c0 + chunk, hi)
            bins[c0 - lo:c1 - lo] = debt_size_bins(b.debt[c0:c1] * float(p0[da]), pr.min_base_close_factor)
        order = np.argsort(bins, kind="stable")  # keeps the key order within each bin
        idx[lo:hi] = order + lo
        vals, counts = np.unique(bins, return_counts=True)
        for v, cnt in zip(vals, counts):
            seg_rows.append((k, a, da, int(cnt), int(v), s))
        del order, bins
    seg_ptr = np.zeros(len(seg_rows) + 1, dtype=np.int64)
    for j, r in enumerate(seg_rows):
        seg_ptr[j + 1] = seg_ptr[j] + r[3]
    import dataclasses

    return dataclasses.replace(
        b, coll=b.coll[idx] if arrays else np.zeros(0), debt=b.debt[idx] if arrays else np.zeros(0),
        key=(b.key[idx] if b.has_key else None) if arrays else np.zeros(0),
        key_lt=None if b.key_lt is None else np.array([b.key_lt[r[5]] for r in seg_rows], dtype=np.float64),
        ids=b.ids[idx] if (with_ids and arrays) else PositionIds.absent(0), seg_ptr=seg_ptr,
        seg_asset=np.array([r[1] for r in seg_rows], dtype=np.int64),
        seg_proto=np.array([r[0] for r in seg_rows], dtype=np.int64),
        seg_debt_asset=np.array([r[2] for r in seg_rows], dtype=np.int64),
        seg_bin=np.array([r[4] for r in seg_rows], dtype=np.int64),
    ), idx


def debt_size_bins(debt_value: np.ndarray, min_base: float) -> np.ndarray:
    """Aave v3.3 debt-size bin of each position: -1 below ``min_base``, else the largest ``m``
    with ``debt_value >= min_base · 2^m`` (after ``k`` halvings a position is still eligible for
    the 50 % close factor iff ``k <= m``; powers of two keep the comparison exact)."""
    dv = np.asarray(debt_value, dtype=np.float64)
    out = np.full(dv.shape[0], BIN_SMALL, dtype=np.int64)
    big = dv >= min_base
    if min_base > 0 and big.any():
        m = np.floor(np.log2(dv[big] / min_base)).astype(np.int64)
        m = np.maximum(m, 0)
        # correct the log's rounding with the exact comparison
        m -= (dv[big] < min_base * np.exp2(m)).astype(np.int64)
        m += (dv[big] >= min_base * np.exp2(m + 1)).astype(np.int64)
        out[big] = m
    elif min_base <= 0:
        out[:] = 10_000
    return out


def book_from_arrays(coll, debt, lt, proto=0, asset=0, debt_asset=1, ids=None) -> Book:
    """A one-segment book from arrays (tests, benchmarks, synthetic books)."""
    coll = np.asarray(coll, dtype=np.float64)
    debt = np.asarray(debt, dtype=np.float64)
    ids = PositionIds.arange(coll.shape[0]) if ids is None else PositionIds.from_values(ids)
    live = (coll > 0) & (debt > 0)
    key = debt[live] / (coll[live] * lt)
    order = stable_argsort(-key)
    b = Book(
        coll=np.ascontiguousarray(coll[live][order]), debt=np.ascontiguousarray(debt[live][order]),
        key=np.ascontiguousarray(key[order]),
        seg_ptr=np.array([0, int(live.sum())], dtype=np.int64),
        seg_asset=np.array([asset], dtype=np.int64), seg_proto=np.array([proto], dtype=np.int64),
        seg_debt_asset=np.array([debt_asset], dtype=np.int64), ids=ids[live][order],
    )
    if (~live).any():
        b.idle_coll = coll[~live]
        b.idle_debt = debt[~live]
        m = int((~live).sum())
        b.idle_asset = np.full(m, asset, dtype=np.int64)
        b.idle_proto = np.full(m, proto, dtype=np.int64)
        b.idle_debt_asset = np.full(m, debt_asset, dtype=np.int64)
    return b


# ================================================================================================
# Kernel inputs: every layout the time loop takes, built once per run
# ================================================================================================


@dataclass
class KernelInputs:
    """The named layouts of :mod:`liqcascade.kernels.layouts` for one compiled scenario.

    ``setup`` is the mechanism setup they were built from (its notes, and ``perm``/``book``:
    the order of the engine book the kernel runs on); ``units_list`` the protocol units in the
    loop's family order (their ids and ``totals``)."""

    market: object
    oracles: object
    rules: object
    book: object
    liquidators: object
    mechanisms: object
    agents: object
    units: object
    rates: object
    setup: object
    units_list: list
    engine_book: Book

    def args(self, rates=None) -> tuple:
        """``(market, oracles, rules, book, liquidators, mechanisms, agents, rates)`` (``rates``:
        a layout with outputs of its own, default the shared one)."""
        return (self.market, self.oracles, self.rules, self.book, self.liquidators, self.mechanisms, self.agents,
                self.rates if rates is None else rates)

    def fresh_units(self):
        """The units layout with copies of every pack (a path mutates its packs)."""
        u = self.units
        return type(u)(*(tuple(a.copy() for a in pk) for pk in u[:5]), u.meta)

    @property
    def n_positions(self) -> int:
        """Positions whose events the loop can write: single-pair, multi-asset, then units."""
        return self.engine_book.n + self.engine_book.n_multi + sum(u.n for u in self.units_list)


def _f64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _i64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


#: event rows reserved per step for each protocol unit: 4 per position + 64 (a unit that needs
#: more in one step has the rest counted as lost, and the engine runs the path again with room)
UNIT_EVENT_ROOM = (4, 64)


def kernel_inputs(c: Compiled) -> KernelInputs:
    """Build every layout the time loop takes from a compiled scenario (once per run): the
    market, oracles, rules, book (after the mechanisms' re-keying), liquidators, mechanisms,
    agents and units. Absent parts are empty values of the same types, so the kernels compile
    once (:mod:`liqcascade.kernels.layouts`)."""
    from ..kernels import layouts as KL
    from ..protocols import kernel as KU
    from ..mechanisms.pack import mechanism_setup
    from .units import FAMILY_ORDER, empty_pack, kernel_pack

    sc = c.scenario
    setup = mechanism_setup(c)
    b = setup.book
    market = KL.Market(
        _f64(c.vs0), _f64(c.vdk), _f64(c.vdq), _i64(c.venue_asset), _i64(c.av_ptr), _i64(c.av_idx),
        np.ascontiguousarray(c.stable, dtype=np.bool_), _f64(c.p0).copy(), bool(sc.arbitrage.enabled),
        float(sc.arbitrage.threshold), bool(sc.arbitrage.to_reference), float(sc.simulation.dt_seconds),
        np.zeros(0, dtype=np.bool_))
    oracles = KL.Oracles(_i64(c.o_kind), _f64(c.o_params).reshape(-1, NPARAM), _i64(c.o_src_ptr), _i64(c.o_src),
                         _i64(c.oracle_of))
    rules = KL.Rules(_f64(c.lt_pa), _f64(c.bonus_pa), _f64(c.pfee_pa), _f64(setup.rules))
    book = KL.Book(_f64(b.coll), _f64(b.debt), _f64(b.key), _i64(b.seg_ptr), _i64(b.seg_asset), _i64(b.seg_proto),
                   _i64(b.seg_debt_asset), _i64(b.m_ptr), _i64(b.m_asset), _f64(b.m_coll), _f64(b.m_debt),
                   _i64(b.m_proto), _f64(setup.pos_ltm))
    lq = sc.liquidators
    liq = np.zeros(KU.NLIQ)
    liq[KU.LQ_MODE] = 1.0 if lq.mode == "rational" else 0.0
    liq[KU.LQ_GAS] = lq.gas_cost
    liq[KU.LQ_CAPITAL] = lq.capital if np.isfinite(lq.capital) else 1e300
    liq[KU.LQ_MAX] = lq.max_per_step
    liquidators = KL.Liquidators(
        KL.MODE_RATIONAL if lq.mode == "rational" else KL.MODE_MECHANICAL, float(lq.gas_cost),
        float(lq.capital) if np.isfinite(lq.capital) else 1e300, int(lq.max_per_step), liq)
    mechanisms = KL.Mechanisms(_f64(setup.mech), _i64(setup.mmask))
    ag = None
    if sc.agents.active():
        from ..agents.pack import agent_pack

        ag = agent_pack(c)  # None when only agents outside the loop (the flash attacker) are on
    agents = KL.Agents(_f64(ag)) if ag is not None else KL.agents_empty()
    meta = np.full((KL.NUNIT, KL.NUM), -1, dtype=np.int64)
    slot = {"comet": KL.U_COMET, "liquity": KL.U_LIQUITY, "perp": KL.U_PERP, "maker": KL.U_MAKER,
            "llamma": KL.U_LLAMMA}
    packs = {kind: empty_pack(kind) for kind in FAMILY_ORDER}
    offset = c.book.n + c.book.n_multi
    by_kind = {u.kind: u for u in c.units}
    ordered = []
    for kind in FAMILY_ORDER:
        u = by_kind.get(kind)
        if u is None:
            continue
        j = slot[kind]
        meta[j, KL.UM_PROTO] = u.proto_id
        meta[j, KL.UM_OFFSET] = offset
        o = -1  # the oracle of the unit's first priced asset, for Maker's OSM peep
        for a in range(c.n_assets):
            if c.oracle_of[u.proto_id, a] >= 0 and not c.stable[a]:
                o = int(c.oracle_of[u.proto_id, a])
                break
        if o >= 0 and int(c.o_kind[o]) != ORACLE_OSM:
            o = -1  # only an OSM has a next price; any other oracle's peep slot holds its start price
        meta[j, KL.UM_PEEP] = o
        meta[j, KL.UM_ROOM] = UNIT_EVENT_ROOM[0] * u.n + UNIT_EVENT_ROOM[1]
        offset += u.n
        packs[kind] = kernel_pack(u.pack)
        ordered.append(u)
    units = KL.Units(packs["comet"], packs["liquity"], packs["perp"], packs["maker"], packs["llamma"], meta)
    from .rates import build_rates

    rates = build_rates(c, b)
    return KernelInputs(market, oracles, rules, book, liquidators, mechanisms, agents, units, rates, setup, ordered,
                        b)
