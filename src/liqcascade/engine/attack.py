"""Cascade-hunter economics: per level of attacker capital, the cascade it triggers and its
net profit, and the least capital that triggers a cascade of a given size.

Every level reruns the scenario's dynamic simulation on the *same* seeded price paths with the
hunter (``[agents.hunter]``, or defaults with the given capital) at that capital; everything else
in the scenario (other agents, mechanisms) stays as it is. The baseline is the same run without a
hunter. The hunter model and its simplifications are in :mod:`liqcascade.agents.hunter.kernel`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from ..errors import InputError
from ..kernels import dynamic as KD
from ..agents.hunter.model import Hunter
from ..agents.hunter.pack import hunter_target
from ..agents.pack import asset_index
from .compile import Compiled
from .dynamic import make_paths, run_dynamic


def base_hunter(c: Compiled, capital: float = 0.0) -> Hunter:
    """The scenario's hunter, or a default one (every field at its default) with ``capital``."""
    h = c.scenario.agents.hunter
    return h if h is not None else Hunter(capital=capital)


def with_hunter(c: Compiled, hunter: Hunter | None) -> Compiled:
    """A shallow copy of ``c`` whose scenario has ``hunter`` as ``[agents.hunter]`` (None: none)."""
    sc = c.scenario
    agents = sc.agents.model_copy(update={"hunter": hunter})
    return dataclasses.replace(c, scenario=sc.model_copy(update={"agents": agents}))


def _metrics(c: Compiled, res, asset: int) -> dict:
    s = res.summary
    dd = 1.0 - res.min_spot[:, asset] / c.p0[asset]
    return {
        "liquidations": float(s[:, KD.SUM_NLIQ].mean()),
        "liquidated_value": float(s[:, KD.SUM_LIQ_VALUE].mean()),
        "bad_debt": float(s[:, KD.SUM_BAD].mean()),
        "max_drawdown": float(dd.max()),
        "attacker_pnl": float(s[:, KD.SUM_ATTACKER_PNL].mean()),
        "attacker_pnl_min": float(s[:, KD.SUM_ATTACKER_PNL].min()),
        "attacker_pnl_max": float(s[:, KD.SUM_ATTACKER_PNL].max()),
    }


@dataclasses.dataclass
class AttackSetup:
    compiled: Compiled
    hunter: Hunter
    asset: int
    paths: np.ndarray
    target: dict
    baseline: dict


def prepare(c: Compiled, n_paths: int | None = None, hunter: Hunter | None = None) -> AttackSetup:
    """Paths (seeded, shared by every level), the hunter template and the no-attack baseline."""
    h = hunter if hunter is not None else base_hunter(c)
    a = asset_index(c, h.asset)
    if c.stable[a]:
        raise InputError(None, "agents.hunter.asset", f"{c.assets[a]!r} is a stable asset")
    paths = make_paths(c, n_paths)
    start = c.time.of(h, "start_seconds", "agents.hunter")
    if paths.shape[1] - 1 < start:
        raise InputError(None, "agents.hunter.start_seconds",
                         f"{h.start_seconds:g} s is step {start}, after the last step ({paths.shape[1] - 1})")
    _, info = hunter_target(c, a, h.reach)
    base = _metrics(c, run_dynamic(with_hunter(c, None), paths=paths, record_paths=0), a)
    base["attacker_pnl"] = base["attacker_pnl_min"] = base["attacker_pnl_max"] = 0.0
    return AttackSetup(c, h, a, paths, info, base)


def run_level(setup: AttackSetup, capital: float) -> dict:
    """Metrics of one capital level (means over paths), with the cascade it *triggers*: the
    liquidations and liquidated value above the no-attack baseline."""
    h = setup.hunter.model_copy(update={"capital": float(capital)})
    res = run_dynamic(with_hunter(setup.compiled, h), paths=setup.paths, record_paths=0)
    m = _metrics(setup.compiled, res, setup.asset)
    m["capital"] = float(capital)
    m["triggered_liquidations"] = m["liquidations"] - setup.baseline["liquidations"]
    m["triggered_value"] = m["liquidated_value"] - setup.baseline["liquidated_value"]
    return m


def attack_curve(c: Compiled, capitals, n_paths: int | None = None, hunter: Hunter | None = None,
                 progress: Callable[[int], None] | None = None, setup: AttackSetup | None = None) -> dict:
    """Per level of attacker capital: liquidations, liquidated value, bad debt, max drawdown and
    the attacker's PnL (means over the same seeded paths), plus the no-attack baseline."""
    caps = [float(x) for x in capitals]
    if not caps or any(not math.isfinite(x) or x < 0 for x in caps):
        raise InputError(None, "--capital", "capital levels must be finite and ≥ 0")
    st = setup if setup is not None else prepare(c, n_paths, hunter)
    levels = []
    for cap in caps:
        levels.append(run_level(st, cap))
        if progress:
            progress(1)
    return {
        "scenario": c.scenario.name,
        "asset": c.assets[st.asset],
        "paths": int(st.paths.shape[0]),
        "steps": int(st.paths.shape[1] - 1),
        "seed": int(c.scenario.simulation.seed),
        "hunter": st.hunter.model_dump(exclude={"capital"}),
        "cluster": st.target,
        "baseline": st.baseline,
        "levels": levels,
    }


def min_capital(c: Compiled, target_liquidated_value: float, n_paths: int | None = None,
                hunter: Hunter | None = None, rtol: float = 0.01, max_capital: float = 1e11,
                setup: AttackSetup | None = None, progress: Callable[[int], None] | None = None) -> dict:
    """The least capital whose attack liquidates at least ``target_liquidated_value`` (mean over
    paths, collateral at the oracle price, baseline included), by doubling then bisection to
    ``rtol``. Bisection assumes the liquidated value does not fall as capital grows; that holds
    while more capital only lets the hunter get closer to (or through) its fixed target price,
    but is not guaranteed on every path. ``capital`` is None when even ``max_capital`` does not
    reach the target."""
    if not (math.isfinite(target_liquidated_value) and target_liquidated_value > 0):
        raise InputError(None, "--target", "must be a finite liquidated value > 0")
    st = setup if setup is not None else prepare(c, n_paths, hunter)
    runs = 0

    def value(cap):
        nonlocal runs
        runs += 1
        if progress:
            progress(1)
        return run_level(st, cap)

    out = {"target_liquidated_value": float(target_liquidated_value), "capital": None, "level": None}
    if st.baseline["liquidated_value"] >= target_liquidated_value:
        out.update(capital=0.0, level=None, runs=0, note="reached without an attack")
        return out
    lo = 0.0
    hi = max(st.hunter.capital, 1e5)
    m_hi = value(hi)
    while m_hi["liquidated_value"] < target_liquidated_value:
        lo = hi
        hi *= 2.0
        if hi > max_capital:
            out.update(runs=runs, note=f"not reached with capital ≤ {max_capital:g}")
            return out
        m_hi = value(hi)
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        m = value(mid)
        if m["liquidated_value"] >= target_liquidated_value:
            hi, m_hi = mid, m
        else:
            lo = mid
    out.update(capital=hi, level=m_hi, runs=runs)
    return out
