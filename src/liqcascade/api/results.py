"""Result objects of the Python API. They wrap the engine's results (``.raw``) without changing
them and share one set of conventions:

- ``.meta`` — provenance: kind, scenario name and hash, seed, package, schema and code version
  (:mod:`liqcascade.provenance`), plus what identifies the run (paths, shocks, run id …);
- ``.summary()`` — a :class:`~liqcascade.api.tables.Summary` (rich table; plain text in a notebook);
- ``.table()`` and ``.to_arrow()`` / ``.to_polars()`` / ``.to_pandas()`` — the result's main table
  (:class:`~liqcascade.api.tables.Table`, Arrow-backed);
- ``.plot()`` — a plotly figure (``liqcascade[plot]``);
- ``.to_dict()`` / ``.to_json()`` — everything as JSON-friendly data, ``meta`` included;
- ``.notes`` — the modelling notes the engine attached (simplifications, what was skipped).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .tables import Summary, Table

ENGINE_NOTE_LIMIT = 12  # notes printed under a summary (all are in .notes and .to_dict())


def _money(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:,.2f}"


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.2%}"


class Result:
    """Base of every API result (see the module docstring for the conventions)."""

    kind = "result"

    def __init__(self, meta: dict, notes: list[str] | None = None):
        self.meta = dict(meta)
        self.notes = list(notes or [])

    # the main table ------------------------------------------------------------------------
    def table(self) -> Table:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def to_arrow(self):
        return self.table().to_arrow()

    def to_polars(self):
        return self.table().to_polars()

    def to_pandas(self):
        return self.table().to_pandas()

    # text ----------------------------------------------------------------------------------
    def summary(self, notes: bool = True) -> Summary:  # pragma: no cover
        raise NotImplementedError

    def _footer(self, notes: bool = True) -> list[str]:
        """The engine's notes and a provenance line under a summary (``notes=False``: neither)."""
        if not notes:
            return []
        shown = self.notes[:ENGINE_NOTE_LIMIT]
        out = [f"note: {n}" for n in shown]
        if len(self.notes) > len(shown):
            out.append(f"({len(self.notes) - len(shown)} more note(s) in .notes)")
        m = self.meta
        out.append(f"seed {m.get('seed')}, liqcascade {m.get('package_version')} (schema {m.get('schema_version')}), "
                   f"scenario {str(m.get('scenario_hash'))[:12]}")
        return out

    def to_dict(self) -> dict:  # pragma: no cover
        raise NotImplementedError

    def to_json(self, indent: int | None = None) -> str:
        from ..provenance import clean

        return json.dumps(clean(self.to_dict()), indent=indent)

    def _repr_pretty_(self, p, cycle):
        p.text(str(self.summary()))

    def __rich__(self):
        return self.summary().__rich__()


# ---- curve ------------------------------------------------------------------------------------


class CurveResult(Result):
    """The static cascade curve (``lc.curve``): one row per shock.

    ``critical_shock`` is the shock ending the largest jump of the endogenous price drop (at
    least 1 % of the initial price), ``None`` when the grid shows no jump; ``critical_jump`` its
    size as a fraction of ``p0``."""

    kind = "curve"

    def __init__(self, raw, meta: dict, compiled=None):
        super().__init__(meta, raw.notes)
        self.raw = raw
        self._compiled = compiled

    critical_shock = property(lambda self: self.raw.critical_shock)
    critical_jump = property(lambda self: self.raw.critical_jump)
    asset = property(lambda self: self.raw.asset)
    p0 = property(lambda self: self.raw.p0)
    mode = property(lambda self: self.raw.mode)

    def table(self) -> Table:
        import numpy as np

        pts = self.raw.points
        cols = {
            "shock": [p.shock for p in pts],
            "shocked_price": [p.shocked_price for p in pts],
            "final_price": [p.final_price for p in pts],
            "rounds": np.array([p.rounds for p in pts], dtype=np.int64),
            "liquidations": np.array([p.liquidations for p in pts], dtype=np.int64),
            "liquidated_collateral": [p.liquidated_collateral for p in pts],
            "repaid_debt": [p.repaid_debt for p in pts],
            "bad_debt": [p.bad_debt for p in pts],
            "amplification": [math.nan if p.amplification is None else p.amplification for p in pts],
            "protocol_fees": [p.protocol_fees for p in pts],
            "liquidator_bonus": [p.liquidator_bonus for p in pts],
            "converged": np.array([p.converged for p in pts], dtype=bool),
        }
        units = {"shock": "fraction", "shocked_price": "quote", "final_price": "quote",
                 "liquidated_collateral": "quote", "repaid_debt": "quote", "bad_debt": "quote",
                 "protocol_fees": "quote", "liquidator_bonus": "quote"}
        return Table({k: np.asarray(v) for k, v in cols.items()}, "curve", self.meta, units)

    points = property(table)

    def summary(self, notes: bool = True) -> Summary:
        r = self.raw
        rows = []
        for p in r.points:
            rows.append([f"{p.shock:.3f}", f"{p.final_price:,.2f}", str(p.rounds), f"{p.liquidations:,}",
                         f"{p.liquidated_collateral:,.0f}", f"{p.repaid_debt:,.0f}", f"{p.bad_debt:,.0f}",
                         "-" if p.amplification is None else f"{p.amplification:.3f}"])
        if r.critical_shock is None:
            crit = "critical shock: none on this grid (no jump of 1% of the price or more)"
        else:
            crit = f"critical shock: {r.critical_shock:.3f} (endogenous drop jumps by {r.critical_jump:.1%} of p0)"
        head = [crit]
        pb = r.as_dict()["pre_existing_bad_debt"]
        if pb["positions"]:
            head.append(f"pre-existing bad debt: {_money(pb['value'])} ({pb['positions']:,} position(s) with debt "
                        "and no collateral; not in the bad debt column)")
        return Summary(f"cascade curve — {self.meta['scenario']} ({r.asset}, p0 = {r.p0:,.2f}, {r.mode})",
                       ["shock", "final price", "rounds", "liquidations", "liquidated coll.", "repaid debt",
                        "bad debt", "amplif."], rows, head + self._footer(notes))

    def plot(self):
        """Final price against the shock, the no-cascade line, bad debt and the critical shock."""
        from ..report.figures import curve_figure

        return curve_figure(self.raw)

    def heatmap(self):
        """Liquidation-price clusters of the scenario's book (debt liquidatable per price bucket)."""
        from ..report.figures import heatmap_figure

        if self._compiled is None:
            raise ValueError("this curve was made without its compiled scenario")
        return heatmap_figure(self._compiled)

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}

    def __repr__(self) -> str:
        cs = "none" if self.critical_shock is None else f"{self.critical_shock:.3f}"
        return (f"<CurveResult {self.meta['scenario']!r}: {len(self.raw.points)} shocks, {self.asset}, "
                f"critical shock {cs}>")


# ---- run --------------------------------------------------------------------------------------


def run_rows(tot: dict, paths: int) -> list[list[str]]:
    """The rows of ``liqcascade run``'s table from :meth:`RunResult.totals`."""
    per = " (mean over paths)" if paths > 1 else ""
    rows = [
        ["liquidations" + per, f"{tot['liquidations']:,.0f}"],
        ["collateral liquidated (oracle value)", _money(tot["liquidated_collateral"])],
        ["debt repaid", _money(tot["repaid_debt"])],
        ["bad debt", _money(tot["bad_debt"])],
    ]
    if tot.get("pre_existing_bad_debt"):
        rows.append(["pre-existing bad debt (debt without collateral)", _money(tot["pre_existing_bad_debt"])])
    rows += [
        ["liquidator bonus (oracle value)", _money(tot["liquidator_bonus"])],
        ["protocol fees", _money(tot["protocol_fees"])],
        ["sale proceeds", _money(tot["sale_proceeds"])],
        ["liquidator profit after slippage and gas",
         "n/a (protocol units)" if tot["liquidator_profit"] is None else _money(tot["liquidator_profit"])],
    ]
    for a, v in tot["max_drawdown"].items():
        if v > 0:
            rows.append([f"max drawdown {a}", f"{v:.2%}"])
    for a, v in tot["final_price"].items():
        rows.append([f"final price {a}", _money(v)])
    if "bad_debt_p95" in tot:
        rows.append(["bad debt, 95th percentile", _money(tot["bad_debt_p95"])])
        rows.append(["probability of bad debt", _pct(tot["probability_bad_debt"])])
    return rows


class RunResult(Result):
    """A dynamic simulation (``lc.run``).

    ``events``: one row per liquidation event of the recorded paths; ``steps``: market state per
    (recorded path, step, asset); ``per_path()`` (the main table): one row per path;
    ``per_protocol()``: one row per protocol, from the recorded paths' events. ``raw`` is the
    engine's :class:`~liqcascade.results.run.RunResult`.

    ``sales``: the sales ledger (one row per forced sale into one venue, with the row's Shapley
    share of the venue's price move); ``attribution()``: per protocol and venue, what its sales
    moved.
    """

    kind = "run"

    def __init__(self, raw, meta: dict, compiled=None, kinds: dict | None = None):
        super().__init__(meta, raw.notes)
        self.raw = raw
        self._compiled = compiled
        self._kinds = dict(kinds or {})
        self._events = self._steps = self._per_path = self._sales = None

    paths = property(lambda self: self.raw.paths)
    n_steps = property(lambda self: self.raw.steps)
    dt_seconds = property(lambda self: self.raw.dt_seconds)
    assets = property(lambda self: list(self.raw.assets))
    protocols = property(lambda self: list(self.raw.protocols))
    n_positions = property(lambda self: self.raw.n_positions)

    def totals(self) -> dict:
        """The headline numbers (means over paths), as ``liqcascade run --json`` prints them."""
        return self.raw.totals()

    @property
    def recorded_paths(self) -> int:
        return int(self.raw.steps_asset.shape[0])

    @property
    def events(self) -> Table:
        if self._events is None:
            from ..results.store import events_columns

            units = {"collateral_seized": "collateral asset", "debt_repaid": "debt asset",
                     "oracle_price": "quote", "execution_price": "quote", "bonus_paid": "quote",
                     "bad_debt": "quote", "protocol_fee": "collateral asset"}
            self._events = Table(events_columns(self.raw), "events", self.meta, units)
        return self._events

    @property
    def steps(self) -> Table:
        if self._steps is None:
            from ..results.store import steps_columns

            self._steps = Table(steps_columns(self.raw), "steps", self.meta,
                                {"time_s": "seconds", "reference_price": "quote", "venue_price": "quote",
                                 "oracle_price": "quote", "collateral_sold": "asset", "sale_proceeds": "quote",
                                 "bad_debt": "quote"})
        return self._steps

    @property
    def sales(self) -> Table:
        """The sales ledger of the recorded paths: one row per forced sale into one venue in one
        step (protocol, source position, amount, proceeds, venue price before and after, and
        ``impact``, the row's Shapley share of the venue's move; :mod:`liqcascade.kernels.sales`)."""
        if self._sales is None:
            from ..results.store import sales_columns

            self._sales = Table(sales_columns(self.raw), "sales", self.meta,
                                {"time_s": "seconds", "amount": "asset", "proceeds": "quote", "price_pre": "quote",
                                 "price_post": "quote", "impact": "quote"})
        return self._sales

    def attribution(self) -> Table:
        """Per protocol and venue: units sold, proceeds and the price move its sales caused (sum of
        the ledger's Shapley shares), means per recorded path."""
        from ..results.attribution import attribution_rows

        rows = attribution_rows(self.raw)
        return Table(rows, "attribution", {**self.meta, "note": "means per recorded path, from the sales ledger"},
                     {"amount": "asset", "proceeds": "quote", "price_move": "quote"})

    @property
    def rates(self) -> Table:
        """Lending pools per (recorded path, step, pool) — utilization, borrow and supply rate,
        borrow index, debt factor, liquidity, withdrawals locked out (empty without a
        ``[protocols.rates.ASSET]`` table; ``raw.rates`` has path 0's totals per pool)."""
        return Table(self.raw.rates_table() or {"path": [], "step": [], "pool": []}, "rates", self.meta,
                     {"borrow_rate": "per year", "supply_rate": "per year", "available": "debt asset",
                      "supplied": "debt asset", "borrowed": "debt asset", "withdrawn": "debt asset",
                      "locked_out": "debt asset", "interest": "debt asset", "liquidator_liquidity": "debt asset"})

    def per_path(self) -> Table:
        """One row per path: the summary counters and, per risky asset, the max drawdown and the
        final venue price."""
        if self._per_path is None:
            import numpy as np

            from ..kernels import dynamic as K

            r = self.raw
            s = r.summary
            cols = {
                "path": np.arange(r.paths, dtype=np.int64),
                "liquidations": s[:, K.SUM_NLIQ].astype(np.int64),
                "liquidated_collateral": s[:, K.SUM_LIQ_VALUE],
                "repaid_debt": s[:, K.SUM_REPAID],
                "bad_debt": s[:, K.SUM_BAD],
                "protocol_fees": s[:, K.SUM_FEES],
                "liquidator_bonus": s[:, K.SUM_BONUS],
                "sale_proceeds": s[:, K.SUM_PROCEEDS],
                "gas_spent": s[:, K.SUM_GAS],
            }
            for a, name in enumerate(r.assets):
                if r.stable is not None and r.stable[a]:
                    continue
                cols[f"max_drawdown_{name}"] = np.maximum(0.0, 1.0 - r.min_spot[:, a] / r.p0[a])
                cols[f"final_price_{name}"] = r.final_spot[:, a].copy()
            self._per_path = Table(cols, "per_path", self.meta)
        return self._per_path

    def table(self) -> Table:
        return self.per_path()

    def per_protocol(self) -> Table:
        """One row per protocol, from the events of the recorded paths (means per recorded path):
        events, distinct positions liquidated, collateral seized and protocol fee at the oracle
        price, debt repaid (in the protocol's debt asset), liquidator bonus and bad debt."""
        import numpy as np

        ev = self.raw.events
        rec = max(self.recorded_paths, 1)
        names = list(self.raw.protocols)
        out = {k: [] for k in ("protocol", "kind", "recorded_paths", "events", "positions_liquidated",
                               "collateral_seized_value", "debt_repaid", "liquidator_bonus", "protocol_fee_value",
                               "bad_debt")}
        for name in names:
            m = ev["protocol"] == name if len(ev) else np.zeros(0, dtype=bool)
            e = ev[m]
            pos = {(int(p), str(i)) for p, i in zip(e["path"], e["position"])}
            out["protocol"].append(name)
            out["kind"].append(self._kinds.get(name, ""))
            out["recorded_paths"].append(self.recorded_paths)
            out["events"].append(len(e) / rec)
            out["positions_liquidated"].append(len(pos) / rec)
            out["collateral_seized_value"].append(float(np.sum(e["collateral_seized"] * e["oracle_price"])) / rec)
            out["debt_repaid"].append(float(np.sum(e["debt_repaid"])) / rec)
            out["liquidator_bonus"].append(float(np.sum(e["bonus_paid"])) / rec)
            out["protocol_fee_value"].append(float(np.sum(e["protocol_fee"] * e["oracle_price"])) / rec)
            out["bad_debt"].append(float(np.sum(e["bad_debt"])) / rec)
        meta = {**self.meta, "note": "means per recorded path, from the liquidation events"}
        return Table({k: np.asarray(v) for k, v in out.items()}, "per_protocol", meta,
                     {"collateral_seized_value": "quote", "debt_repaid": "debt asset", "liquidator_bonus": "quote",
                      "protocol_fee_value": "quote", "bad_debt": "quote"})

    def summary(self, notes: bool = True) -> Summary:
        r = self.raw
        title = f"run — {self.meta['scenario']}: {r.n_positions:,} positions, {r.paths} path(s) × {r.steps} steps"
        return Summary(title, ["metric", "value"], run_rows(r.totals(), r.paths), self._footer(notes))

    def plot(self, kind: str = "prices", path: int = 0):
        """``"prices"``: reference, venue and oracle price per risky asset with liquidation
        markers (recorded path ``path``); ``"liquidations"``: liquidations, collateral sold,
        cumulative debt repaid and bad debt per step; ``"heatmap"``: liquidation-price clusters
        of the book."""
        from ..report import figures as F

        if kind == "prices":
            return F.price_figure(self.raw, path, stable=self.raw.stable)
        if kind == "liquidations":
            return F.liquidations_figure(self.raw, path, stable=self.raw.stable)
        if kind == "heatmap":
            if self._compiled is None:
                raise ValueError("this run was made without its compiled scenario")
            return F.heatmap_figure(self._compiled)
        raise ValueError(f"unknown plot kind {kind!r}: use 'prices', 'liquidations' or 'heatmap'")

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}

    def __repr__(self) -> str:
        t = self.raw.totals()
        return (f"<RunResult {self.meta['scenario']!r}: {self.paths} path(s) × {self.n_steps} steps, "
                f"{t['liquidations']:,.0f} liquidations, bad debt {t['bad_debt']:,.2f}>")


# ---- compare ----------------------------------------------------------------------------------

SUMMARY_COMPARE = (("bad_debt", "bad debt"), ("liquidated_value", "liquidated"), ("max_drawdown", "drawdown"),
                   ("liquidator_profit", "liquidator profit"), ("borrower_loss", "borrower loss"),
                   ("positions_saved", "positions saved"))


class CompareResult(Result):
    """Mechanism configurations on the same seeded price paths (``lc.compare``).

    The main table has one row per (configuration, metric): mean and 95 % CI, and the paired
    difference to ``none`` with its CI. ``runs[label]`` is each configuration's
    :class:`RunResult`; ``per_path()`` one row per (configuration, path)."""

    kind = "compare"

    def __init__(self, raw, meta: dict, kinds: dict | None = None):
        super().__init__(meta, raw.notes)
        self.raw = raw
        self.runs = {c.label: RunResult(c.run, {**meta, "kind": "run", "configuration": c.label}, kinds=kinds)
                     for c in raw.configs}

    labels = property(lambda self: [c.label for c in self.raw.configs])

    def table(self) -> Table:
        from ..engine.compare import METRICS

        cols = {k: [] for k in ("configuration", "metric", "unit", "mean", "ci_lo", "ci_hi",
                                "diff_mean", "diff_ci_lo", "diff_ci_hi", "n")}
        for c in self.raw.configs:
            for key, _, unit in METRICS:
                st, d = c.stats[key], c.diff[key]
                cols["configuration"].append(c.label)
                cols["metric"].append(key)
                cols["unit"].append(unit)
                for k in ("mean", "ci_lo", "ci_hi"):
                    cols[k].append(float(st[k]))
                    cols["diff_" + k].append(float(d[k]))
                cols["n"].append(int(st["n"]))
        return Table(cols, "compare", self.meta)

    def per_path(self) -> Table:
        import numpy as np

        cols: dict[str, list] = {"configuration": [], "path": []}
        first = self.raw.configs[0].per_path
        for k in first:
            cols[k] = []
        for c in self.raw.configs:
            n = len(next(iter(c.per_path.values())))
            cols["configuration"] += [c.label] * n
            cols["path"] += list(range(n))
            for k in first:
                cols[k] += list(np.asarray(c.per_path[k], dtype=float))
        return Table(cols, "compare_per_path", self.meta)

    def summary(self, notes: bool = True) -> Summary:
        from ..engine.compare import METRICS
        from ..report.compare import compact_ci

        units = {k: u for k, _, u in METRICS}
        rows = []
        for c in self.raw.configs:
            rows.append([c.label] + [compact_ci(c.stats[k], units[k], sep=" ") for k, _ in SUMMARY_COMPARE])
        r = self.raw
        head = (f"compare — {r.scenario}: {r.paths} path(s) × {r.steps} steps, seed {r.seed}, the same paths "
                f"for every configuration (mean ± 95% CI half-width)")
        foot = [f"max drawdown: {r.asset}; every metric and the paired differences to none: .table()"]
        return Summary(head, ["configuration"] + [lab for _, lab in SUMMARY_COMPARE], rows, foot + self._footer(notes))

    def plot(self):
        """Mean of each metric per configuration with 95 % CI error bars."""
        from ..report.compare import compare_figure

        return compare_figure(self.raw)

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}

    def __repr__(self) -> str:
        return f"<CompareResult {self.meta['scenario']!r}: {', '.join(self.labels)} on {self.raw.paths} path(s)>"


# ---- contagion ------------------------------------------------------------------------------------


class ContagionResult(Result):
    """Counterfactual contagion (``lc.contagion``): ``C[A, B]`` = protocol B's liquidations,
    liquidated value and bad debt in the baseline minus the same with A's sales absorbed by an
    infinite-depth sink, on the same seeded paths (``docs/contagion.md``).

    The main table has one row per (metric, A, B): mean and 95 % CI over paths; ``matrix(metric)``
    gives ``{"mean", "ci_lo", "ci_hi"}`` as ``[A, B]`` arrays; ``effect`` the per-path effects
    ``[A, path, B, metric]``; ``sales`` the baseline's sales ledger; ``timeline()`` the price
    move each protocol's sales caused on each venue per step; ``plot(kind)`` the report's figures
    (``"network"``, ``"heatmap"``, ``"timeline"``)."""

    kind = "contagion"

    def __init__(self, raw, meta: dict):
        super().__init__(meta, raw.notes)
        self.raw = raw

    protocols = property(lambda self: list(self.raw.protocols))
    paths = property(lambda self: self.raw.paths)
    effect = property(lambda self: self.raw.effect)

    def matrix(self, metric: str = "bad_debt") -> dict:
        from ..engine.contagion import METRICS

        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        return self.raw.matrix(metric)

    def timeline(self, path: int = 0) -> dict:
        return self.raw.timeline(path)

    @property
    def sales(self) -> Table:
        from ..results.store import sales_columns

        return Table(sales_columns(self.raw), "sales", self.meta,
                     {"time_s": "seconds", "amount": "asset", "proceeds": "quote", "price_pre": "quote",
                      "price_post": "quote", "impact": "quote"})

    def table(self) -> Table:
        from ..engine.contagion import METRICS

        cols = {k: [] for k in ("metric", "sales_of", "hit", "mean", "ci_lo", "ci_hi", "baseline", "n")}
        for m in METRICS:
            mt = self.raw.matrix(m)
            base = self.raw.baseline(m)
            for a, na in enumerate(self.protocols):
                for b, nb in enumerate(self.protocols):
                    cols["metric"].append(m)
                    cols["sales_of"].append(na)
                    cols["hit"].append(nb)
                    for k in ("mean", "ci_lo", "ci_hi"):
                        cols[k].append(float(mt[k][a, b]))
                    cols["baseline"].append(float(base[b]))
                    cols["n"].append(self.paths)
        return Table(cols, "contagion", self.meta)

    def summary(self, notes: bool = True) -> Summary:
        mt = self.raw.matrix("bad_debt")
        rows = []
        for a, na in enumerate(self.protocols):
            row = [na]
            for b in range(len(self.protocols)):
                m, lo, hi = mt["mean"][a, b], mt["ci_lo"][a, b], mt["ci_hi"][a, b]
                row.append(_money(m) if not math.isfinite(lo) else f"{_money(m)} [{_money(lo)}, {_money(hi)}]")
            rows.append(row)
        head = (f"contagion — {self.raw.scenario}: bad debt in B caused by A's sales, {self.paths} path(s), "
                f"mean [95% CI]")
        foot = ["liquidations and liquidated value: .matrix(metric), .table()"]
        return Summary(head, ["sales of A / hit B"] + self.protocols, rows, foot + self._footer(notes))

    def plot(self, kind: str = "network"):
        from ..report import contagion as R

        figs = {"network": R.network_figure, "heatmap": R.heatmap_figure, "timeline": R.timeline_figure}
        if kind not in figs:
            raise ValueError(f"kind must be one of {', '.join(figs)}, got {kind!r}")
        return figs[kind](self.raw)

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}

    def __repr__(self) -> str:
        return f"<ContagionResult {self.meta['scenario']!r}: {', '.join(self.protocols)} on {self.paths} path(s)>"


# ---- Monte Carlo and sweeps ---------------------------------------------------------------------

MC_ROWS = (("var95", "VaR95 (95th percentile of bad debt)"), ("es95", "ES95 (mean of the worst 5%)"),
           ("lar95", "LaR95 (95th percentile of liquidated value)"))


def _ci_text(m: dict, mean: str, lo: str, hi: str, fmt=_money) -> str:
    if m.get(mean) is None:
        return "-"
    if m.get(lo) is None or m.get(hi) is None:
        return fmt(m[mean])
    return f"{fmt(m[mean])} [{fmt(m[lo])}, {fmt(m[hi])}]"


class _StoredRun(Result):
    """Shared by :class:`MonteCarloResult` and :class:`SweepResult`: a run in the run store."""

    def __init__(self, report, plan, meta: dict):
        super().__init__(meta, report.notes)
        self.raw = report
        self._plan = plan

    run_id = property(lambda self: self.raw.run_id)
    store = property(lambda self: self.raw.store)
    paths = property(lambda self: self.raw.paths)

    def per_path(self, point: int = 0) -> Table:
        """One row per simulated path of valid point ``point`` (its index in the run), read back
        from the run store's Parquet chunks."""
        from ..montecarlo.runner import load_point

        pts = [p for p in self.raw.points if p["index"] == point]
        if not pts or pts[0]["status"] != "ok":
            raise ValueError(f"no valid point {point} in run {self.run_id}")
        cols = load_point(self.store, self.run_id, pts[0]["point_id"])
        return Table(cols, "paths", {**self.meta, "point_id": pts[0]["point_id"]})

    def _execution(self) -> str:
        ch, tm = self.raw.chunks, self.raw.timings
        return (f"run {self.run_id} in {self.store}: {ch['total']} chunk(s), {ch['ran']} run, {ch['skipped']} already "
                f"stored, {self.raw.executor}; {tm.get('wall_s', 0):.1f} s")

    def plot(self):
        """Histograms of bad debt and liquidated value per path (95th percentiles dashed)."""
        from ..montecarlo.plot import distribution_figure

        return distribution_figure(self.store, self.run_id, self.raw.points,
                                   title=f"{self.meta['scenario']} — run {self.run_id}", scenario=self.meta["scenario"])

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}


class MonteCarloResult(_StoredRun):
    """A Monte Carlo run of one scenario (``lc.mc``): risk metrics over paths, stored in the run
    store (``run_id``, ``store``). ``metrics`` is the dict of :mod:`liqcascade.montecarlo.metrics`;
    the main table has one row per path."""

    kind = "mc"

    @property
    def metrics(self) -> dict:
        return dict(self.raw.points[0]["metrics"] or {})

    var95 = property(lambda self: self.metrics.get("var95"))
    es95 = property(lambda self: self.metrics.get("es95"))
    lar95 = property(lambda self: self.metrics.get("lar95"))
    p_insolvency = property(lambda self: self.metrics.get("p_insolvency"))

    def table(self) -> Table:
        return self.per_path(0)

    def summary(self, notes: bool = True) -> Summary:
        m = self.metrics
        rows = [[lab, _money(m.get(k))] for k, lab in MC_ROWS]
        rows += [
            ["P(insolvent) [Wilson 95% CI]", _ci_text(m, "p_insolvency", "p_insolvency_lo", "p_insolvency_hi", _pct)],
            ["mean bad debt [95% CI]", _ci_text(m, "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi")],
            ["max bad debt", _money(m.get("bad_debt_max"))],
            ["mean liquidated value [95% CI]", _ci_text(m, "liquidated_mean", "liquidated_ci_lo", "liquidated_ci_hi")],
            ["mean liquidations", "-" if m.get("liquidations_mean") is None else f"{m['liquidations_mean']:,.1f}"],
        ]
        title = f"mc — {self.meta['scenario']}: {self.paths:,} paths, seed {self.raw.seed}"
        return Summary(title, ["metric", "value"], rows, ([self._execution()] if notes else []) + self._footer(notes))

    def __repr__(self) -> str:
        return f"<MonteCarloResult {self.meta['scenario']!r}: run {self.run_id}, {self.paths:,} paths, VaR95 {_money(self.var95)}>"


class SweepResult(_StoredRun):
    """A parameter sweep (``lc.sweep``): Monte Carlo metrics per parameter point, stored in the
    run store. The main table has one row per point: its parameters, status (invalid points are
    reported, never run) and metrics."""

    kind = "sweep"

    params = property(lambda self: [s.path for s in self._plan.specs])

    def table(self) -> Table:
        from ..montecarlo.metrics import KEYS

        cols: dict[str, list] = {"point": [], "point_id": []}
        for p in self.params:
            cols[p] = []
        cols["status"], cols["reason"] = [], []
        for k in KEYS:
            cols[k] = []
        for pt in self.raw.points:
            cols["point"].append(pt["index"])
            cols["point_id"].append(pt["point_id"])
            for p in self.params:
                cols[p].append(float(pt["params"].get(p, math.nan)))
            cols["status"].append(pt["status"])
            cols["reason"].append(pt.get("reason") or "")
            m = pt.get("metrics") or {}
            for k in KEYS:
                v = m.get(k)
                cols[k].append(math.nan if v is None else float(v))
        return Table(cols, "sweep", self.meta)

    def summary(self, notes: bool = True) -> Summary:
        from ..montecarlo.params import param_labels

        labels = param_labels(self.params)
        rows = []
        for pt in self.raw.points:
            vals = [f"{pt['params'].get(p):g}" for p in self.params]
            m = pt.get("metrics") or {}
            if pt["status"] != "ok":
                rows.append([str(pt["index"]), *vals, "invalid", "-", "-", "-"])
                continue
            rows.append([str(pt["index"]), *vals, _pct(m.get("p_insolvency")), _money(m.get("var95")),
                         _money(m.get("es95")), _ci_text(m, "bad_debt_mean", "bad_debt_ci_lo", "bad_debt_ci_hi")])
        cols = ["#", *labels, "P(insolvent)", "VaR95", "ES95", "mean bad debt [95% CI]"]
        title = f"sweep — {self.meta['scenario']}: {self.paths:,} paths per point, seed {self.raw.seed}"
        invalid = [f"invalid point {pt['index']}: {pt.get('reason')} — skipped" for pt in self.raw.points
                   if pt["status"] != "ok"]
        return Summary(title, cols, rows, invalid + ([self._execution()] if notes else []) + self._footer(notes))

    def plot(self, metric: str = "var95"):
        """``metric`` against the first parameter (one line per value of the second, if any);
        ``plot("distribution")`` gives the per-path histograms."""
        if metric == "distribution":
            return super().plot()
        import plotly.graph_objects as go

        t = self.table()
        if metric not in t:
            raise ValueError(f"unknown metric {metric!r} (have: {', '.join(t.columns)})")
        ok = t["status"] == "ok"
        x = self.params[0]
        fig = go.Figure()
        if len(self.params) >= 2:
            y2 = self.params[1]
            for v in sorted(set(t[y2][ok].tolist())):
                sel = ok & (t[y2] == v)
                order = sorted(range(int(sel.sum())), key=lambda i: t[x][sel][i])
                fig.add_trace(go.Scatter(x=t[x][sel][order], y=t[metric][sel][order], mode="lines+markers",
                                         name=f"{y2.rsplit('.', 1)[-1]} = {v:g}"))
        else:
            fig.add_trace(go.Scatter(x=t[x][ok], y=t[metric][ok], mode="lines+markers", name=metric))
        fig.update_layout(template="plotly_white", title=f"{self.meta['scenario']}: {metric} per point",
                          xaxis_title=x, yaxis_title=metric)
        return fig

    def __repr__(self) -> str:
        ok = sum(p["status"] == "ok" for p in self.raw.points)
        return (f"<SweepResult {self.meta['scenario']!r}: run {self.run_id}, {ok} valid point(s) of "
                f"{len(self.raw.points)} over {', '.join(self.params)}>")


# ---- replay ---------------------------------------------------------------------------------


def _headline(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return "-"
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}"


class ReplayResult(Result):
    """A historical replay (``lc.replay``): headline numbers, assumptions, sensitivity tables and
    the base run (``run``, a :class:`RunResult`)."""

    kind = "replay"

    def __init__(self, raw, meta: dict, run: RunResult | None):
        super().__init__(meta, list(raw.assumptions))
        self.raw = raw
        self.run = run

    event = property(lambda self: self.raw.event)
    title = property(lambda self: self.raw.title)
    headline = property(lambda self: dict(self.raw.headline))

    @property
    def sensitivity(self) -> list[Table]:
        out = []
        for s in self.raw.sensitivity:
            cols = {"value": [r.get("value") for r in s.rows]}
            for c in s.columns:
                cols[c] = [r.get(c) for r in s.rows]
            out.append(Table({k: [math.nan if v is None else v for v in vals] for k, vals in cols.items()},
                             s.parameter, self.meta))
        return out

    def table(self) -> Table:
        items = list(self.raw.headline.items())
        return Table({"metric": [k for k, _ in items], "value": [float(v) for _, v in items]}, "headline", self.meta)

    def summary(self, notes: bool = True) -> Summary:
        rows = [[k.replace("_", " "), _headline(v)] for k, v in self.raw.headline.items()]
        foot = [f"sensitivity tables: {', '.join(s.parameter for s in self.raw.sensitivity) or 'none'} (.sensitivity)"]
        if notes:
            foot += [f"assumption: {a}" for a in self.raw.assumptions]
            m = self.meta
            foot.append(f"seed {m.get('seed')}, liqcascade {m.get('package_version')} (schema {m.get('schema_version')}), "
                        f"scenario {str(m.get('scenario_hash'))[:12]}")
        return Summary(f"replay {self.raw.event} — {self.raw.title}", ["headline", "value"], rows, foot)

    def plot(self, kind: str = "prices"):
        if self.run is None:
            raise ValueError(f"replay {self.event} kept no base run to plot")
        return self.run.plot(kind)

    def to_dict(self) -> dict:
        return {"meta": self.meta, **self.raw.as_dict()}

    def __repr__(self) -> str:
        return f"<ReplayResult {self.event}: {self.title}>"


# ---- batches ----------------------------------------------------------------------------------

BATCH_METRICS = ("liquidations", "liquidated_collateral", "repaid_debt", "bad_debt", "protocol_fees",
                 "liquidator_bonus", "sale_proceeds")


class BatchResult(Result):
    """Many small runs (``lc.run_many``): ``results[i]`` is item ``i``'s :class:`RunResult`
    (``None`` for an invalid grid point, with its reason in the table). The main table has one
    row per item: its label or grid values, status, seed, scenario hash and headline totals."""

    kind = "batch"

    def __init__(self, items: list[dict], results: list[RunResult | None], params: list[str], meta: dict,
                 notes: list[str] | None = None):
        super().__init__(meta, notes)
        self.items = items
        self.results = results
        self.params = params

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i) -> RunResult | None:
        return self.results[i]

    def __iter__(self):
        return iter(self.results)

    def table(self) -> Table:
        cols: dict[str, list[Any]] = {"item": [], "scenario": []}
        for p in self.params:
            cols[p] = []
        cols.update({"status": [], "reason": [], "seed": [], "paths": [], "scenario_hash": []})
        for k in BATCH_METRICS:
            cols[k] = []
        for i, (it, r) in enumerate(zip(self.items, self.results)):
            cols["item"].append(i)
            cols["scenario"].append(it["scenario"])
            for p in self.params:
                v = it["params"].get(p)
                cols[p].append(v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
                               if v is None else v)
            cols["status"].append("ok" if r is not None else "invalid")
            cols["reason"].append(it.get("reason") or "")
            cols["seed"].append(-1 if r is None else int(r.meta["seed"]))
            cols["paths"].append(0 if r is None else int(r.paths))
            cols["scenario_hash"].append("" if r is None else r.meta["scenario_hash"])
            tot = None if r is None else r.totals()
            for k in BATCH_METRICS:
                cols[k].append(math.nan if tot is None else float(tot[k]))
        for p in self.params:  # mixed columns (numbers and text) as text
            if any(isinstance(v, str) for v in cols[p]) and not all(isinstance(v, str) for v in cols[p]):
                cols[p] = [str(v) for v in cols[p]]
        return Table(cols, "batch", self.meta)

    def summary(self, notes: bool = True) -> Summary:
        rows = []
        for i, (it, r) in enumerate(zip(self.items, self.results)):
            vals = [str(it["params"].get(p)) for p in self.params] if self.params else [it["scenario"]]
            if r is None:
                rows.append([str(i), *vals, "invalid", "-", "-"])
                continue
            t = r.totals()
            rows.append([str(i), *vals, f"{t['liquidations']:,.0f}", _money(t["liquidated_collateral"]),
                         _money(t["bad_debt"])])
        from ..montecarlo.params import param_labels

        heads = param_labels(self.params) if self.params else ["scenario"]
        title = f"run_many — {len(self.results)} run(s)" + (f" of {self.meta['scenario']}" if self.params else "")
        foot = [f"invalid item {i}: {it['reason']} — not run" for i, it in enumerate(self.items) if it.get("reason")]
        if notes:
            foot += [f"note: {n}" for n in self.notes]
        return Summary(title, ["#", *heads, "liquidations", "liquidated (oracle value)", "bad debt"], rows, foot)

    def plot(self, metric: str = "bad_debt"):
        """``metric`` per item (against the first grid parameter when there is one)."""
        import plotly.graph_objects as go

        t = self.table()
        ok = t["status"] == "ok"
        x = t[self.params[0]][ok] if self.params else t["scenario"][ok]
        fig = go.Figure(go.Scatter(x=x, y=t[metric][ok], mode="lines+markers" if self.params else "markers",
                                   name=metric))
        fig.update_layout(template="plotly_white", title=f"run_many: {metric}",
                          xaxis_title=self.params[0] if self.params else "scenario", yaxis_title=metric)
        return fig

    def to_dict(self) -> dict:
        return {"meta": self.meta, "params": self.params, "notes": self.notes,
                "items": [{**it, "result": None if r is None else r.to_dict()} for it, r in zip(self.items, self.results)]}

    def __repr__(self) -> str:
        ok = sum(r is not None for r in self.results)
        return f"<BatchResult {ok} run(s) of {len(self.results)}>"
