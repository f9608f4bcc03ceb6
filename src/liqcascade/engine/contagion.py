"""Counterfactual contagion: whose forced sales caused whose liquidations and bad debt.

Definition (``docs/contagion.md``). Run the scenario on ``N`` seeded price paths (the baseline)
and, for every protocol ``A``, again on the *same* paths with ``A``'s sales absorbed by an
infinite-depth sink: they leave ``A``'s books exactly as before (its liquidations and auctions
run by their own rules), but an outside buyer takes them at the asset's mean venue spot, so they
never move a venue (kernels.sales: ``sales_open`` for the sales the loop routes,
``note_direct_trades`` for a unit that trades its venue itself). For a metric ``m`` (number of
liquidations, liquidated value at the oracle price, bad debt in quote) of protocol ``B`` on
path ``p``::

    C_m[A, B](p) = m_B(baseline, p) − m_B(A's sales sunk, p)

the part of ``B``'s outcome that ``A``'s sales caused on that path. The diagonal ``C[A, A]`` is
what ``A``'s own sales did to ``A`` (self-inflicted cascade). The matrix reported is the mean
over paths with a 95 % confidence interval ``mean ± 1.96 · s/√N`` (normal approximation, the
sample standard deviation of the paired differences; none for one path).

What it is not: the effects are not additive (``Σ_A C[A, B]`` need not equal ``B``'s outcome:
two protocols' sales together can push a price through a threshold that neither reaches alone),
and a negative entry is possible (with ``A``'s sales gone, ``B``'s liquidators may sell at
better prices and so liquidate more positions later, or ``B``'s positions survive to a worse
moment). Each entry answers "what if only ``A``'s selling pressure were gone".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compile import Compiled

METRICS = ("liquidations", "liquidated_value", "bad_debt")
METRIC_LABEL = {"liquidations": "liquidations", "liquidated_value": "liquidated value",
                "bad_debt": "bad debt"}


@dataclass
class ContagionResult:
    scenario: str
    protocols: list[str]
    assets: list[str]
    paths: int
    steps: int
    dt_seconds: float
    seed: int
    base: np.ndarray  # [paths, B, metric]
    without: np.ndarray  # [A, paths, B, metric]: A's sales sunk
    sales: np.ndarray  # the baseline's sales ledger (SALE_DTYPE), every path
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    complete: bool = True  # False when a run lost events or ledger rows at its limit

    @property
    def effect(self) -> np.ndarray:
        """``C[A, path, B, metric]`` = baseline − counterfactual without ``A``'s sales."""
        return self.base[None] - self.without

    def matrix(self, metric: str) -> dict:
        """``{"mean", "ci_lo", "ci_hi"}``: arrays ``[A, B]`` of the metric's effect over paths."""
        from .compare import mean_ci

        k = METRICS.index(metric)
        e = self.effect[:, :, :, k]
        P = len(self.protocols)
        out = {key: np.full((P, P), np.nan) for key in ("mean", "ci_lo", "ci_hi")}
        for a in range(P):
            for b in range(P):
                s = mean_ci(e[a, :, b])
                for key in out:
                    out[key][a, b] = s[key]
        return out

    def baseline(self, metric: str) -> np.ndarray:
        """Mean over paths of each protocol's metric in the baseline."""
        return self.base[:, :, METRICS.index(metric)].mean(axis=0)

    def timeline(self, path: int = 0) -> dict:
        """The baseline's path ``path``: per venue, per protocol, the price move its sales caused
        in each step (sum of the ledger's Shapley shares; zero where it did not sell)."""
        sl = self.sales[(self.sales["path"] == path) & (self.sales["venue"] != "(sink)")]
        venues = sorted({str(v) for v in sl["venue"]})
        out = {}
        for v in venues:
            mv = sl[sl["venue"] == v]
            per = {}
            for p in sorted({str(x) for x in mv["protocol"]}):
                move = np.zeros(self.steps + 1)
                m = mv["protocol"] == p
                np.add.at(move, mv["step"][m].astype(np.int64), mv["impact"][m])
                per[p or "(other)"] = move
            out[v] = per
        return out

    def as_dict(self) -> dict:
        from ..provenance import clean

        mats = {}
        for m in METRICS:
            mt = self.matrix(m)
            mats[m] = {k: mt[k].tolist() for k in mt}
        att = {}
        for v, per in self.timeline().items():
            att[v] = {p: float(mv.sum()) for p, mv in per.items()}
        return clean({
            "scenario": self.scenario,
            "provenance": self.provenance,
            "seed": self.seed,
            "paths": self.paths,
            "steps": self.steps,
            "dt_seconds": self.dt_seconds,
            "protocols": self.protocols,
            "definition": "C[A][B] = metric of B in the baseline minus metric of B with A's sales absorbed by an "
                          "infinite-depth sink, on the same seeded paths; rows A (whose sales), columns B (who is hit)",
            "ci": "95% CI: mean ± 1.96·s/√n over paths (normal approximation, sample std of the paired differences); "
                  "null for one path",
            "metrics": list(METRICS),
            "matrix": mats,
            "baseline": {m: self.baseline(m).tolist() for m in METRICS},
            "price_move_by_protocol": att,
            "complete": self.complete,
            "notes": self.notes,
        })


def _metrics(res) -> np.ndarray:
    """``[paths, protocol, metric]`` of a run whose every path was recorded."""
    return np.asarray(res.protocol_paths, dtype=np.float64)


def run_contagion(c: Compiled, n_paths: int | None = None, progress=None, max_events: int | None = None
                  ) -> ContagionResult:
    """The baseline and one counterfactual per protocol on the same ``n_paths`` seeded paths
    (default ``simulation.paths``), every path recorded. ``progress(k)`` is called after each
    path of each run (``(P + 1) · N`` in all)."""
    import warnings

    from ..errors import EngineWarning
    from ..kernels import dynamic as K
    from ..provenance import of_scenario
    from .dynamic import make_paths, run_dynamic

    sim = c.scenario.simulation
    n = int(n_paths or sim.paths)
    paths = make_paths(c, n_paths=n)
    complete = True
    notes: list[str] = []

    def one(sink=()):
        nonlocal complete
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", EngineWarning)
            r = run_dynamic(c, paths=paths, record_paths=n, progress=progress, max_events=max_events, sink=sink)
        if int(r.summary[:, K.SUM_EV_LOST].sum()) or any("sales-ledger rows not recorded" in str(w.message)
                                                         for w in caught):
            complete = False
        return r

    base = one()
    without = np.stack([_metrics(one((p,))) for p in c.protocols])
    notes += [n_ for n_ in base.notes if not n_.startswith("counterfactual")]
    notes.append("contagion: each protocol's sales in turn are absorbed by an infinite-depth sink at the mean venue "
                 "spot (they leave its books but never reach a venue); C[A][B] = B's outcome in the baseline minus "
                 "B's outcome without A's sales, on the same seeded paths")
    if not complete:
        msg = ("some run reached the event or ledger limit: the per-protocol Aave-rule totals miss the events it did "
               "not record; raise --max-events")
        notes.append(msg)
        warnings.warn(msg, EngineWarning, stacklevel=2)
    return ContagionResult(
        scenario=c.scenario.name, protocols=list(c.protocols), assets=list(c.assets), paths=n, steps=int(sim.steps),
        dt_seconds=float(sim.dt_seconds), seed=int(sim.seed), base=_metrics(base), without=without,
        sales=base.sales, notes=notes, complete=complete,
        provenance=of_scenario("contagion", c.scenario, c.base_dir, seed=int(sim.seed), paths=n,
                               steps=int(sim.steps)),
    )
