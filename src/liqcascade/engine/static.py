"""Static cascade curve: shocks in, fixed points out (see :mod:`liqcascade.kernels.cascade`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..kernels import cascade as K
from ..kernels import venues as K_v
from .compile import Compiled


@dataclass
class CurvePoint:
    shock: float
    final_price: float
    rounds: int
    liquidations: int
    liquidated_collateral: float
    repaid_debt: float
    bad_debt: float
    amplification: float | None
    shocked_price: float
    protocol_fees: float
    liquidator_bonus: float
    converged: bool

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CurveResult:
    asset: str
    p0: float
    points: list[CurvePoint]
    critical_shock: float | None
    critical_jump: float
    mode: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "asset": self.asset,
            "initial_price": self.p0,
            "mode": self.mode,
            "points": [p.as_dict() for p in self.points],
            "critical_shock": self.critical_shock,
            "critical_jump": self.critical_jump,
            "notes": self.notes,
        }


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
    b = c.book
    vs, vdk, vdq, mask = static_arrays(c)
    pd = _pdebt(c)
    key = b.key * pd[_seg_of(b)] if b.n else b.key
    mcode = K.MODE_RATIONAL if mode == "rational" else K.MODE_MECHANICAL
    args = (b.coll, b.debt, key, b.seg_ptr, b.seg_asset, b.seg_proto, pd,
            c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
            mcode, float(c.scenario.liquidators.gas_cost), int(c.scenario.simulation.max_rounds),
            *b.multi_args())
    if progress is None:
        out = K.solve_curve(shocks, *args)
    else:
        # chunks of shocks so a progress bar can move; each chunk still runs in parallel
        step = max(1, -(-shocks.shape[0] // 20))
        parts = []
        for i in range(0, shocks.shape[0], step):
            parts.append(K.solve_curve(np.ascontiguousarray(shocks[i:i + step]), *args))
            progress(min(step, shocks.shape[0] - i))
        out = tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
    final_price, units, rounds, n_liq, liq_value, repaid, bad, fees, bonus, conv = out
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
        "static solver: one venue per asset, rounds at the round-start price, no oracle lag, no recovery",
        "liquidated_collateral, repaid_debt and bad_debt are quote values at the liquidation prices",
    ]
    if not all(p.converged for p in points):
        notes.append("some shocks hit simulation.max_rounds before reaching a fixed point")
    return CurveResult(asset=name, p0=p0, points=points, critical_shock=crit, critical_jump=jump,
                       mode=mode, notes=notes)


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


def final_state(c: Compiled, shock: float, mode: str = "mechanical"):
    """Run one shock and return ``(coll, debt, summary)`` of every booked position (tests)."""
    b = c.book
    vs, vdk, vdq, mask = static_arrays(c)
    pd = _pdebt(c)
    key = b.key * pd[_seg_of(b)] if b.n else b.key
    oc = b.coll.copy()
    od = b.debt.copy()
    price = np.empty(c.n_assets)
    units = np.empty(c.n_assets)
    omc = b.m_coll.copy()
    omd = b.m_debt.copy()
    r = K.solve_shock(
        float(shock), b.coll, b.debt, key, b.seg_ptr, b.seg_asset, b.seg_proto, pd,
        c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
        K.MODE_RATIONAL if mode == "rational" else K.MODE_MECHANICAL,
        float(c.scenario.liquidators.gas_cost), int(c.scenario.simulation.max_rounds),
        oc, od, price, units, *b.multi_args(), omc, omd,
    )
    keys = ("rounds", "liquidations", "liquidated_value", "repaid", "bad_debt", "fees", "bonus", "converged")
    summary = dict(zip(keys, r))
    summary["final_price"] = price
    summary["units"] = units
    summary["multi_coll"] = omc
    summary["multi_debt"] = omd
    return oc, od, summary
