"""Atomic flash-loan attacks: the bundle solver, callable per step, and ``attack --flash``.

:class:`BundleSolver` resolves ``[agents.flash_attacker]`` against a compiled scenario once
(asset, venue pushed, protocol and its positions in that collateral/debt pair, the oracle the
protocol reads, the flash-loan sources cheapest first) and then evaluates or executes the
compiled bundle (:func:`liqcascade.agents.flash_attacker.kernel.bundle`) on *any* market state:
venue arrays, the source history up to step ``t``, the oracle's state after ``t − 1``, the
positions. That is what a time loop calls each step (:meth:`BundleSolver.step`: search the loan
sizes, act only when the best bundle is feasible and earns more than ``min_profit``).

:func:`snapshot` builds that market state from the scenario's start (venues at their initial
state, a flat source history long enough for every oracle window, the oracle stepped through
it), and :func:`flash_report` runs the loan-size grid on it under the scenario's oracle, under
each registered oracle kind on the same book, and under ``oracle_guard`` variants.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..agents.flash_attacker import kernel as KF
from ..agents.flash_attacker.model import FlashAttacker
from ..errors import InputError
from ..flashloans import SOURCES
from ..flashloans.kernel import FP_AVAIL_ASSET, FP_AVAIL_QUOTE, FP_FEE, NFP
from ..oracles import KINDS as ORACLE_KIND_NAMES
from ..oracles.dispatch import oracle_init, oracle_step
from ..oracles.kernel import NSTATE, P_HEARTBEAT, P_HOP, P_LAG, P_WINDOW, P_HALFLIFE
from ..oracles.pack import ORACLE_KINDS, oracle_params
from ..venues.dispatch import venue_sell_to_price, venue_spot
from .compile import Compiled

#: ledger names, in the kernel's order
LEDGER = ("loan", "fee_asset", "quote_loan", "fee_quote", "push_quote", "spot_pre", "spot_pushed", "p_pre",
          "p_post", "liquidations", "repaid", "seized", "treasury_fee", "bad_debt", "buy_quote", "buy_asset",
          "sell_asset", "sell_quote", "gas", "left_asset", "spot_end", "pnl", "feasible", "pre_liquidatable")
assert len(LEDGER) == KF.NLEDGER

#: the default loan grid: this many sizes from 0 to the sources' asset liquidity
DEFAULT_POINTS = 41
#: refinement of the most profitable size: rounds, and sizes per round between grid neighbours
REFINE_ROUNDS = 2
REFINE_POINTS = 21


def ledger_dict(led: np.ndarray) -> dict:
    out = {k: float(led[i]) for i, k in enumerate(LEDGER)}
    out["liquidations"] = int(led[KF.L_NLIQ])
    out["pre_liquidatable"] = int(led[KF.L_PRE_LIQUIDATABLE])
    out["feasible"] = int(led[KF.L_FEASIBLE])
    out["oracle_move"] = (out["p_post"] / out["p_pre"] - 1.0) if out["p_pre"] > 0 else math.nan
    out["push"] = (out["spot_pushed"] / out["spot_pre"] - 1.0) if out["spot_pre"] > 0 else math.nan
    return out


@dataclasses.dataclass
class OracleSpec:
    """The oracle the protocol reads for the pushed asset: kind code, parameter vector, source
    venue rows, and a label for reports."""

    kind: int
    params: np.ndarray
    src: np.ndarray
    label: str

    @property
    def kind_name(self) -> str:
        return ORACLE_KIND_NAMES[self.kind]


@dataclasses.dataclass
class BundleResult:
    ledger: dict
    events: list[tuple[int, float, float, float, float]]  # (book position, seized, repaid, bad, treasury fee)
    acted: bool


class BundleSolver:
    """``[agents.flash_attacker]`` resolved on a compiled scenario (see the module docstring)."""

    def __init__(self, c: Compiled, attacker: FlashAttacker | None = None, oracle: OracleSpec | None = None):
        fa = attacker if attacker is not None else c.scenario.agents.flash_attacker
        if fa is None:
            raise InputError(None, "agents.flash_attacker", "the scenario has no [agents.flash_attacker] table")
        self.c, self.fa = c, fa
        self.notes: list[str] = []
        self.asset = _asset(c, fa)
        self.protocol = _protocol(c, fa)
        self.oracle = oracle if oracle is not None else scenario_oracle(c, self.protocol, self.asset)
        self.venue = _venue(c, fa, self.asset, self.oracle)
        if not np.any(self.oracle.src == self.venue):
            self.notes.append(f"venue {c.venue_names[self.venue]!r} is not a source of the oracle "
                              f"({self.oracle.label}): pushing it cannot move the price the protocol reads")
        self.debt_asset, self.pos = _positions(c, self.protocol, self.asset, self.notes)
        k, a = self.protocol, self.asset
        self.lt, self.bonus, self.pfee = float(c.lt_pa[k, a]), float(c.bonus_pa[k, a]), float(c.pfee_pa[k, a])
        self.p_debt = float(c.p0[self.debt_asset])
        self.rules = np.ascontiguousarray(c.rules[k], dtype=np.float64)
        order = sorted(range(len(fa.sources)), key=lambda j: fa.sources[j].fee)  # cheapest first (stable)
        self.s_kind = np.array([SOURCES.index(fa.sources[j].kind) for j in order], dtype=np.int64)
        self.s_params = np.zeros((len(order), NFP))
        for r, j in enumerate(order):
            s = fa.sources[j]
            self.s_params[r, FP_FEE] = s.fee
            self.s_params[r, FP_AVAIL_ASSET] = s.liquidity
            self.s_params[r, FP_AVAIL_QUOTE] = s.quote_liquidity
        self.ap = np.zeros(KF.NA)
        self.ap[KF.A_GAS_BUNDLE] = fa.gas_bundle
        self.ap[KF.A_GAS_LIQ] = fa.gas_per_liquidation
        self.ap[KF.A_MAX_LIQ] = fa.max_liquidations
        self.ap[KF.A_MIN_PROFIT] = fa.min_profit
        cap = min(fa.max_liquidations, max(1, len(self.pos)))
        self._ev = tuple(np.zeros(cap, dtype=np.int64 if i == 0 else np.float64) for i in range(5))

    # -- the positions the bundle sees --------------------------------------------------------
    def book_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the collateral and debt of the bundle's positions, from the compiled book."""
        b = self.c.book
        return b.coll[self.pos].copy(), b.debt[self.pos].copy()

    @property
    def liquidity(self) -> float:
        """What the sources together can lend of the pushed asset."""
        return float(self.s_params[:, FP_AVAIL_ASSET].sum())

    # -- one bundle ---------------------------------------------------------------------------
    def bundle(self, loan: float, vs, vdk, vdq, hist, t: int, ostate_prev, coll, debt,
               apply: bool = False) -> BundleResult:
        """Evaluate (``apply=False``: nothing changes) or execute one bundle of ``loan`` asset units.
        ``apply=True`` changes ``vs``, ``coll`` and ``debt`` in place whatever the bundle's profit:
        call it only for a bundle :meth:`step` chose."""
        if not (math.isfinite(loan) and loan >= 0):
            raise InputError(None, "--loans", f"loan sizes must be finite and ≥ 0, got {loan!r}")
        led = np.zeros(KF.NLEDGER)
        ev = self._ev
        o = self.oracle
        n = KF.bundle(float(loan), vs, self.c.vdk if vdk is None else vdk, self.c.vdq if vdq is None else vdq,
                      int(self.venue), int(o.kind), o.params, o.src, hist, int(t), ostate_prev,
                      coll, debt, self.lt, self.bonus, self.pfee, self.p_debt, self.rules,
                      self.s_kind, self.s_params, self.ap, bool(apply), led, *ev)
        events = [(int(self.pos[ev[0][j]]), float(ev[1][j]), float(ev[2][j]), float(ev[3][j]), float(ev[4][j]))
                  for j in range(n)]
        d = ledger_dict(led)
        return BundleResult(d, events, acted=bool(apply))

    def profitable(self, d: dict) -> bool:
        return d["feasible"] == 1 and math.isfinite(d["pnl"]) and d["pnl"] > self.fa.min_profit

    def default_loans(self, points: int = DEFAULT_POINTS) -> np.ndarray:
        return np.linspace(0.0, self.liquidity, points)

    def step(self, vs, vdk, vdq, hist, t: int, ostate_prev, coll, debt, loans=None) -> BundleResult | None:
        """What the attacker does in step ``t``: the most profitable bundle over ``loans``
        (default :meth:`default_loans`, then refined around the best; the compiled
        :func:`~liqcascade.agents.flash_attacker.kernel.search`, which a compiled loop can call
        itself), executed in place when it is feasible and earns more than ``min_profit``;
        ``None`` when it does not act.

        The state is the one the step's oracle update has not seen yet: ``hist`` filled up to
        column ``t`` with the venues' spots before the bundle, ``ostate_prev`` the oracle's state
        after step ``t − 1`` (left unchanged: stepping it to ``t`` afterwards is the loop's)."""
        grid = self.default_loans() if loans is None else np.asarray(loans, dtype=np.float64)
        grid = np.ascontiguousarray(grid, dtype=np.float64)
        if not grid.size or not np.all(np.isfinite(grid)) or np.any(grid < 0):
            raise InputError(None, "--loans", "loan sizes must be finite numbers ≥ 0")
        o = self.oracle
        led = np.zeros(KF.NLEDGER)
        L, _p = KF.search(grid, vs, self.c.vdk if vdk is None else vdk, self.c.vdq if vdq is None else vdq,
                          int(self.venue), int(o.kind), o.params, o.src, hist, int(t), ostate_prev, coll, debt,
                          self.lt, self.bonus, self.pfee, self.p_debt, self.rules, self.s_kind, self.s_params,
                          self.ap, REFINE_ROUNDS, REFINE_POINTS, led, *self._ev)
        if L < 0:
            return None
        return self.bundle(float(L), vs, vdk, vdq, hist, t, ostate_prev, coll, debt, apply=True)

    # -- searches -----------------------------------------------------------------------------
    def _refine_max(self, L, grid, *state, rounds: int = 2, points: int = 21) -> dict:
        """The most profitable bundle: ``rounds`` refinements of ``points`` sizes between the grid
        neighbours of the best size so far (the same search as the compiled
        :func:`~liqcascade.agents.flash_attacker.kernel.search`)."""
        g = np.unique(np.asarray(grid, dtype=np.float64))
        best = self.bundle(L, *state).ledger
        for _ in range(rounds):
            i = int(np.searchsorted(g, best["loan"]))
            lo = g[max(0, i - 1)]
            hi = g[min(len(g) - 1, i + 1)]
            if hi <= lo:
                break
            g = np.linspace(lo, hi, points)
            for x in g:
                d = self.bundle(float(x), *state).ledger
                if self.profitable(d) and d["pnl"] > best["pnl"]:
                    best = d
        return best

    def _refine_min(self, lo: float, hi: float, *state, rtol: float = 1e-3) -> dict:
        """Bisect between an unprofitable ``lo`` and a profitable ``hi`` (adjacent grid sizes)."""
        d_hi = self.bundle(hi, *state).ledger
        for _ in range(60):
            if hi - lo <= rtol * hi:
                break
            mid = 0.5 * (lo + hi)
            d = self.bundle(mid, *state).ledger
            if self.profitable(d):
                hi, d_hi = mid, d
            else:
                lo = mid
        return d_hi

    def curve(self, loans, state) -> dict:
        """PnL over the loan grid on one market ``state`` (``snapshot``), with the least and the
        most profitable loan sizes (refined between grid points)."""
        grid = [float(x) for x in loans]
        rows = [self.bundle(L, *state).ledger for L in grid]
        prof = [self.profitable(r) for r in rows]
        out = {"oracle": self.oracle.label, "oracle_kind": self.oracle.kind_name, "levels": rows,
               "exploitable": any(prof), "min_profitable": None, "max_profitable": None}
        if any(prof):
            i = prof.index(True)
            out["min_profitable"] = (rows[i] if i == 0 or grid[i - 1] >= grid[i]
                                     else self._refine_min(grid[i - 1], grid[i], *state))
            j = max((k for k in range(len(rows)) if prof[k]), key=lambda k: rows[k]["pnl"])
            out["max_profitable"] = self._refine_max(grid[j], grid, *state, rounds=REFINE_ROUNDS, points=REFINE_POINTS)
        finite = [r for r in rows if r["feasible"] == 1 and math.isfinite(r["pnl"])]
        out["largest_oracle_move"] = min((r["oracle_move"] for r in finite), default=0.0)
        out.update(self.reach(state))
        return out

    def reach(self, state) -> dict:
        """What no loan size can exceed: the oracle's in-block move if the pushed venue's price
        went to (almost) zero in this block, and the positions (and their debt) that would then be
        liquidatable at all — 0 means the oracle cannot be attacked in one block at any size."""
        vs, _vdk, _vdq, hist, t, ost, coll, debt = state
        o = self.oracle
        spot = venue_spot(vs, self.venue)
        p_pre, p_post = KF.oracle_in_block(int(o.kind), o.params, o.src, hist, int(t), ost, int(self.venue),
                                           spot * 1e-12)
        liq = (coll * p_post * self.lt < debt * self.p_debt) & (debt > 0)
        pre = (coll * p_pre * self.lt < debt * self.p_debt) & (debt > 0)
        return {"move_bound": float(p_post / p_pre - 1.0) if p_pre > 0 else math.nan,
                "reachable_positions": int((liq & ~pre).sum()),
                "reachable_debt": float((debt[liq & ~pre]).sum() * self.p_debt)}


# =============================================================================================
# Resolving the attacker against the scenario
# =============================================================================================


def _asset(c: Compiled, fa: FlashAttacker) -> int:
    if fa.asset is not None:
        return c.assets.index(fa.asset)
    for a in range(c.n_assets):
        if not c.stable[a]:
            return a
    raise InputError(None, "agents.flash_attacker.asset", "the scenario has no risky asset")


def _protocol(c: Compiled, fa: FlashAttacker) -> int:
    sc = c.scenario
    if fa.protocol is not None:
        return [p.name for p in sc.protocols].index(fa.protocol)
    for k, p in enumerate(sc.protocols):
        if p.kind == "aave_v3":
            return k
    raise InputError(None, "agents.flash_attacker.protocol", "the scenario has no Aave-rule protocol")


def scenario_oracle(c: Compiled, k: int, a: int) -> OracleSpec:
    """The oracle protocol ``k`` reads for asset ``a`` (an ``oracle_guard`` replacement included);
    a protocol without one reads the mean spot of the asset's venues (a lag-free spot oracle)."""
    o = int(c.oracle_of[k, a])
    if o >= 0:
        return OracleSpec(int(c.o_kind[o]), c.o_params[o].copy(), c.o_src[c.o_src_ptr[o]:c.o_src_ptr[o + 1]].copy(),
                          c.oracle_names[o])
    src = c.av_idx[c.av_ptr[a]:c.av_ptr[a + 1]].copy()
    return OracleSpec(ORACLE_KINDS["spot"], oracle_params("spot", dt_seconds=c.scenario.simulation.dt_seconds), src,
                      "mean venue spot")


def _venue(c: Compiled, fa: FlashAttacker, a: int, oracle: OracleSpec) -> int:
    if fa.venue is not None:
        return c.venue_names.index(fa.venue)
    cands = [int(v) for v in oracle.src if int(c.venue_asset[v]) == a] or \
            [int(v) for v in c.av_idx[c.av_ptr[a]:c.av_ptr[a + 1]]]
    if not cands:
        raise InputError(None, "agents.flash_attacker.venue", f"asset {c.assets[a]!r} has no venue")
    vs = c.vs0.copy()

    def depth(v):  # asset it takes to push the venue 5 % down: the smallest is the shallowest
        return venue_sell_to_price(vs, c.vdk, c.vdq, v, 0.95 * venue_spot(vs, v))

    return min(cands, key=depth)


def _positions(c: Compiled, k: int, a: int, notes: list[str]) -> tuple[int, np.ndarray]:
    """The debt asset with the most debt among protocol ``k``'s single-collateral positions on
    ``a``, and the book indices of those positions."""
    b = c.book
    by_debt: dict[int, list[int]] = {}
    for s in range(len(b.seg_asset)):
        if int(b.seg_proto[s]) == k and int(b.seg_asset[s]) == a:
            by_debt.setdefault(int(b.seg_debt_asset[s]), []).extend(range(int(b.seg_ptr[s]), int(b.seg_ptr[s + 1])))
    if not by_debt:
        raise InputError(None, "agents.flash_attacker",
                         f"protocol {c.protocols[k]!r} has no single-collateral position on {c.assets[a]!r}")
    value = {d: float((b.debt[idx] * c.p0[d]).sum()) for d, idx in by_debt.items()}
    d = max(value, key=value.get)
    if not c.stable[d]:
        raise InputError(None, "agents.flash_attacker",
                         f"the positions on {c.assets[a]!r} owe {c.assets[d]!r}, a risky asset: the bundle repays in a stable")
    for other in sorted(set(by_debt) - {d}):
        notes.append(f"positions on {c.assets[a]} owing {c.assets[other]} ({value[other]:,.0f}) are not in the bundle "
                     f"(it repays {c.assets[d]} only)")
    if b.n_multi:
        notes.append(f"{b.n_multi} multi-asset positions are not in the bundle (single-collateral books only)")
    return d, np.array(sorted(by_debt[d]), dtype=np.int64)


# =============================================================================================
# The start state, and the report
# =============================================================================================


def snapshot(solver: BundleSolver) -> tuple:
    """The market state at the scenario's start, as ``(vs, vdk, vdq, hist, t, ostate_prev, coll,
    debt)`` for :meth:`BundleSolver.bundle`: venues as compiled, a source history of flat start
    spots long enough that every window, hop and heartbeat of the oracle is full, and the oracle
    stepped through it up to ``t − 1``."""
    c, o = solver.c, solver.oracle
    vs = c.vs0.copy()
    p = o.params
    t = int(max(p[P_WINDOW], p[P_HOP], p[P_HEARTBEAT], p[P_LAG], 4.0 * p[P_HALFLIFE], 1.0)) + 2
    V = vs.shape[0]
    hist = np.empty((V, t + 1))
    for v in range(V):
        hist[v, :] = venue_spot(vs, v)
    state = np.zeros(NSTATE)
    p0 = float(np.mean([hist[int(r), 0] for r in o.src])) if len(o.src) else 0.0
    oracle_init(o.kind, p, state, p0)
    for u in range(t):
        oracle_step(o.kind, p, o.src, hist, u, state)
    coll, debt = solver.book_arrays()
    return (vs, None, None, hist, t, state, coll, debt)


def kind_variant(c: Compiled, base: OracleSpec, kind: str, settings: dict | None = None, label: str | None = None,
                 src=None) -> OracleSpec:
    """An oracle of ``kind`` on ``base``'s sources (or ``src``), with the scenario's settings of an
    oracle of that kind on the same asset when it has one, else the defaults of
    :data:`liqcascade.oracles.pack.ORACLE_DEFAULTS`."""
    sc = c.scenario
    asset = c.assets[int(c.venue_asset[int(base.src[0])])] if len(base.src) else None
    kw = {}
    for o in sc.oracles:
        if o.kind == kind and o.asset == asset:
            kw = dict(lag_s=o.lag_seconds, heartbeat_s=o.heartbeat_seconds, deviation=o.deviation,
                      window_s=o.window_seconds, hop_s=o.hop_seconds, halflife_s=o.half_life_seconds,
                      max_jump=o.max_jump)
            kw = {k: v for k, v in kw.items() if v is not None}
            break
    kw.update(settings or {})
    params = oracle_params(kind, dt_seconds=sc.simulation.dt_seconds, **kw)
    return OracleSpec(ORACLE_KINDS[kind], params, (base.src if src is None else src).copy(), label or kind)


def _describe(o: OracleSpec, dt: float) -> str:
    p = o.params
    k = o.kind_name
    extra = {"twap": f"window {p[P_WINDOW] * dt:g} s", "osm": f"hop {p[P_HOP] * dt:g} s",
             "heartbeat": f"{p[P_HEARTBEAT] * dt:g} s, {p[2]:.2%}",
             "ema": f"half-life {p[P_HALFLIFE] * dt:g} s", "median": f"{len(o.src)} source(s)"}.get(k, "")
    parts = [x for x in (extra, f"lag {p[P_LAG] * dt:g} s" if p[P_LAG] > 0 else "",
                         f"max jump {p[6]:.2%}" if p[6] > 0 else "") if x]
    return k + (f" ({', '.join(parts)})" if parts else "")


def n_variants(c: Compiled, kinds=None, guards: bool = True) -> int:
    """How many oracle rows :func:`flash_report` computes (for a progress bar)."""
    k = len(kinds) if kinds is not None else len(ORACLE_KIND_NAMES)
    g = (1 if c.scenario.mechanisms.oracle_guard is not None else 2) if guards else 0
    return 1 + k + g


def flash_report(c: Compiled, loans=None, attacker: FlashAttacker | None = None, kinds=None,
                 guards: bool = True, progress=None) -> dict:
    """``attack --flash``: the loan-size grid on the start state under the scenario's oracle, under
    every oracle kind in ``kinds`` (default: every registered kind) on the same sources and book
    (a median: over every venue of the asset),
    and under ``oracle_guard`` variants (the scenario's own guard when it has one, else a 30-minute
    TWAP guard, and a median guard with a 1 % max jump) over every venue of the asset."""
    base = BundleSolver(c, attacker)
    dt = float(c.scenario.simulation.dt_seconds)
    grid = [float(x) for x in (base.default_loans() if loans is None else loans)]
    if not grid or any(not (math.isfinite(x) and x >= 0) for x in grid):
        raise InputError(None, "--loans", "loan sizes must be finite numbers ≥ 0")
    variants: list[tuple[str, OracleSpec]] = [("scenario", base.oracle)]
    a = base.asset
    allv = c.av_idx[c.av_ptr[a]:c.av_ptr[a + 1]]
    for k in (kinds if kinds is not None else ORACLE_KIND_NAMES):
        # a median is over several feeds: every venue of the asset; the other kinds read the scenario oracle's sources
        variants.append(("kind", kind_variant(c, base.oracle, k, src=allv if k == "median" else None)))
    if guards:
        g = c.scenario.mechanisms.oracle_guard
        if g is not None:
            variants.append(("oracle_guard", kind_variant(c, base.oracle, g.kind, dict(
                window_s=g.window_seconds, halflife_s=g.half_life_seconds, max_jump=g.max_jump, lag_s=0.0),
                src=allv)))
        else:
            variants.append(("oracle_guard", kind_variant(c, base.oracle, "twap", dict(window_s=1800.0, lag_s=0.0, max_jump=0.0),
                                                          src=allv)))
            variants.append(("oracle_guard", kind_variant(c, base.oracle, "median", dict(max_jump=0.01, lag_s=0.0),
                                                          src=allv)))
    rows = []
    for role, spec in variants:
        spec.label = _describe(spec, dt) if role != "scenario" else f"{spec.label}: {_describe(spec, dt)}"
        s = base if role == "scenario" else BundleSolver(c, base.fa, oracle=spec)
        cur = s.curve(grid, snapshot(s))
        cur["role"] = role
        cur["venue"] = c.venue_names[s.venue]
        rows.append(cur)
        if progress:
            progress(1)
    notes = list(base.notes) + [
        "one block: borrow → sell into the venue → the oracle's price in the same block → liquidationCall (close factor, "
        "bonus, protocol fee, bad debt as the protocol's rule) → buy back / sell the surplus → repay loan + fee; gas per bundle "
        "and per call; the attacker acts only when the bundle is feasible and its PnL > min_profit",
        "start state: venues as compiled, a flat source history as long as the oracle's window/hop/heartbeat, positions as loaded",
        "in-block oracle: each kind's own kernel stepped once with the pushed spot in the current column; a Chainlink-style "
        "feed (heartbeat) publishes only in its network's own transaction, so it does not move inside the bundle; "
        "a lagged oracle reads an earlier column",
        "TWAP in-block weight = one sample of its window (one step): with steps longer than a block this overstates the move; "
        "Uniswap v3's oracle records the pre-swap price, so on-chain the same-block move is 0",
        "other mechanisms than oracle_guard are not applied inside the bundle",
        "an OSM poked in the attack block takes the pushed value as its next price, published one hop later: a delayed "
        "effect a one-block bundle does not use (Maker's OSM reads the median of off-chain feeds, not a pool)",
        "the bundle liquidates others' positions; opening and self-liquidating a position of its own is not modelled",
    ]
    if dt > 12.0:
        notes.append(f"a step is {dt:g} s, longer than an Ethereum block (12 s): the TWAP/EMA weight of the pushed sample is "
                     "that of a whole step")
    return {
        "scenario": c.scenario.name,
        "asset": c.assets[base.asset],
        "venue": c.venue_names[base.venue],
        "protocol": c.protocols[base.protocol],
        "debt_asset": c.assets[base.debt_asset],
        "positions": int(len(base.pos)),
        "debt_value": float(c.book.debt[base.pos].sum() * base.p_debt),
        "sources": [dict(kind=SOURCES[int(k)], fee=float(p[FP_FEE]), liquidity=float(p[FP_AVAIL_ASSET]),
                         quote_liquidity=float(p[FP_AVAIL_QUOTE])) for k, p in zip(base.s_kind, base.s_params)],
        "attacker": base.fa.model_dump(exclude={"sources"}),
        "dt_seconds": dt,
        "loans": grid,
        "oracles": rows,
        "exploitable": {r["oracle"]: bool(r["exploitable"]) for r in rows},
        "notes": notes,
    }
