"""The result of a dynamic run (``liqcascade run``): per-path summaries, recorded events and steps.

:class:`RunResult` is what :func:`liqcascade.engine.dynamic.run_dynamic` returns; the events of
the recorded paths are rows of :data:`EVENT_DTYPE`. Summary and step columns are the constants
of :mod:`liqcascade.kernels.dynamic` (``SUM_*``, ``ST_*``, ``SS_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kernels import dynamic as K
from .start import empty_state

EVENT_DTYPE = np.dtype([
    ("path", np.int64), ("step", np.int64), ("position", "O"), ("protocol", "O"), ("asset", "O"),
    ("collateral_seized", np.float64), ("debt_repaid", np.float64), ("oracle_price", np.float64),
    ("execution_price", np.float64), ("bonus_paid", np.float64), ("bad_debt", np.float64),  # bad_debt: quote value
    ("protocol_fee", np.float64),
])

#: one row of the sales ledger (``RunResult.sales``, ``sales.parquet``; kernels.sales): a forced
#: sale into one venue in one step, who it belonged to and its share of the venue's price move
SALE_DTYPE = np.dtype([
    ("path", np.int64), ("step", np.int64), ("time_s", np.float64), ("venue", "O"), ("asset", "O"),
    ("protocol", "O"), ("position", "O"), ("source", "O"), ("amount", np.float64), ("proceeds", np.float64),
    ("price_pre", np.float64), ("price_post", np.float64), ("impact", np.float64),
])


@dataclass
class RunResult:
    scenario: str
    assets: list[str]
    protocols: list[str]
    n_positions: int
    paths: int
    steps: int
    dt_seconds: float
    summary: np.ndarray  # [paths, NSUM]
    min_spot: np.ndarray  # [paths, A]
    final_spot: np.ndarray  # [paths, A]
    p0: np.ndarray
    events: np.ndarray  # EVENT_DTYPE, recorded paths only
    steps_asset: np.ndarray  # [recorded, T+1, A, NST]
    steps_scalar: np.ndarray  # [recorded, T+1, NSS]
    stable: np.ndarray | None = None  # bool[A], assets held at a fixed price
    final_coll: np.ndarray | None = None  # path 0 final book state (sorted order)
    final_debt: np.ndarray | None = None
    final_mcoll: np.ndarray | None = None  # path 0 final multi-asset entries (CSR as in the book)
    final_mdebt: np.ndarray | None = None
    unit_totals: dict = field(default_factory=dict)  # path 0: protocol name -> unit totals()
    notes: list[str] = field(default_factory=list)
    sales: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=SALE_DTYPE))  # SALE_DTYPE, recorded paths
    # [recorded path, protocol, (liquidations, liquidated value, bad debt)] (engine.dynamic._protocol_paths)
    protocol_paths: np.ndarray | None = None
    #: interest rates (``[protocols.rates.ASSET]``; empty without): path 0's totals per
    #: "protocol/asset" (kernels.accrual.TOTAL_NAMES), the recorded paths' per-step pool state
    #: ``[recorded, T+1, R, NRR]`` (kernels.accrual.STEP_NAMES) and the row names
    rates: dict = field(default_factory=dict)
    rates_steps: np.ndarray | None = None
    rates_rows: list[str] = field(default_factory=list)
    #: the clearinghouse ([mechanisms.clearinghouse]; empty without): ``totals`` (means over paths of
    #: the SUM_CH_* columns), ``per_protocol`` (means over the recorded paths) and ``per_path``
    #: (``{key: {protocol: [recorded paths]}}``) — engine.dynamic.clearing_result
    clearing: dict = field(default_factory=dict)

    #: engine.start: debt without collateral before the run, positions liquidatable at t = 0
    start: dict = field(default_factory=dict)
    seed: int | None = None
    #: (validated scenario, base folder) the run came from, for :meth:`provenance`
    source: tuple | None = field(default=None, repr=False)

    def rates_table(self) -> dict:
        """The recorded paths' per-step pool state as columns (path, step, pool, one column per
        :data:`liqcascade.kernels.accrual.STEP_NAMES`); empty without rates."""
        from ..kernels.accrual import STEP_NAMES as RC

        if self.rates_steps is None:
            return {}
        rec, T1, R, _ = self.rates_steps.shape
        pp, tt, rr = np.meshgrid(np.arange(rec), np.arange(T1), np.arange(R), indexing="ij")
        out = {"path": pp.ravel(), "step": tt.ravel(),
               "pool": np.asarray(self.rates_rows, dtype=object)[rr.ravel()]}
        for j, name in enumerate(RC):
            out[name] = self.rates_steps[:, :, :, j].ravel()
        return out

    def provenance(self) -> dict:
        """Seed, package and schema version, scenario hash (:mod:`liqcascade.provenance`)."""
        if self.source is None:
            return {}
        from ..provenance import of_scenario

        sc, base = self.source
        return of_scenario("run", sc, base, seed=self.seed, paths=self.paths, steps=self.steps)

    def attribution(self) -> list[dict]:
        """Per protocol and venue: units sold, proceeds and the price move its forced sales caused
        (sum of the sales ledger's Shapley shares), means per recorded path, and its share of the
        venue's forced-sale move (:mod:`liqcascade.results.attribution`)."""
        from .attribution import attribution_rows

        rows = attribution_rows(self)
        keys = list(rows)
        return [{k: (rows[k][i].item() if hasattr(rows[k][i], "item") else rows[k][i]) for k in keys}
                for i in range(len(rows["protocol"]))]

    def totals(self) -> dict:
        s = self.summary
        risky = [i for i, _ in enumerate(self.assets) if self.stable is None or not self.stable[i]]
        dd = {self.assets[a]: float(np.max(1.0 - self.min_spot[:, a] / self.p0[a])) for a in risky}
        out = {
            "liquidations": float(s[:, K.SUM_NLIQ].mean()),
            "liquidated_collateral": float(s[:, K.SUM_LIQ_VALUE].mean()),
            "repaid_debt": float(s[:, K.SUM_REPAID].mean()),
            "bad_debt": float(s[:, K.SUM_BAD].mean()),
            "protocol_fees": float(s[:, K.SUM_FEES].mean()),
            "liquidator_bonus": float(s[:, K.SUM_BONUS].mean()),
            "sale_proceeds": float(s[:, K.SUM_PROCEEDS].mean()),
            "gas_spent": float(s[:, K.SUM_GAS].mean()),
            "liquidator_profit": float((s[:, K.SUM_PROCEEDS] - s[:, K.SUM_REPAID] - s[:, K.SUM_GAS]
                                        - treasury_share(self) - s[:, K.SUM_PRIORITY]).mean()),
            "max_drawdown": dd,
            "final_price": {self.assets[a]: float(self.final_spot[:, a].mean()) for a in risky},
            "events_not_recorded": int(s[:, K.SUM_EV_LOST].sum()),
            # prevention-mechanism metrics (Aave-rule positions; see kernels.dynamic SUM_*)
            "socialized_loss": float(s[:, K.SUM_SOCIALIZED].mean()),
            "insurance_fund_draw": float(s[:, K.SUM_FUND_DRAW].mean()),
            "positions_liquidated": float(s[:, K.SUM_NPOS_LIQ].mean()),
            "dislocation_steps": float(s[:, K.SUM_DISLOCATION].mean()),
            "paused_steps": float(s[:, K.SUM_PAUSED].mean()),
            "held_value": float(s[:, K.SUM_HELD_VALUE].mean()),
            "borrower_loss": float(s[:, K.SUM_BORROWER_LOSS].mean()),
            # agents (agents/)
            "attacker_pnl": float(s[:, K.SUM_ATTACKER_PNL].mean()),
            "priority_fees": float(s[:, K.SUM_PRIORITY].mean()),
            "borrower_topups": float(s[:, K.SUM_TOPUP].mean()),
            # engine.start: debt that had no collateral behind it before the run (not in bad_debt)
            "pre_existing_bad_debt": float((self.start or {}).get("pre_existing_bad_debt", {}).get("value", 0.0)),
        }
        if self.paths == 1:  # counts of one path are whole numbers; over paths they are means
            for k in ("liquidations", "positions_liquidated", "dislocation_steps", "paused_steps"):
                out[k] = int(round(out[k]))
        if self.unit_totals:
            out["fund_draw"] = float(s[:, K.SUM_FUND_DRAW].mean())
            # proceeds − repaid − gas is the Aave liquidator's account; units repay from stability
            # pools, reserves or bands, so the figure would mean nothing there
            out["liquidator_profit"] = None
        if self.paths > 1:
            bad = s[:, K.SUM_BAD]
            out["bad_debt_p95"] = float(np.quantile(bad, 0.95))
            out["probability_bad_debt"] = float((bad > 0).mean())
        return out

    def as_dict(self) -> dict:
        st = self.start or empty_state()
        return {
            "provenance": self.provenance(),
            "scenario": self.scenario,
            "paths": self.paths,
            "steps": self.steps,
            "dt_seconds": self.dt_seconds,
            "positions": self.n_positions,
            "protocols": self.protocols,
            "assets": self.assets,
            "totals": self.totals(),
            "per_path": {
                "liquidations": self.summary[:, K.SUM_NLIQ].astype(np.int64).tolist(),
                "bad_debt": self.summary[:, K.SUM_BAD].tolist(),
                "liquidated_collateral": self.summary[:, K.SUM_LIQ_VALUE].tolist(),
            } if self.paths <= 1000 else None,
            "protocol_units": plain(self.unit_totals) if self.unit_totals else None,
            "attribution": self.attribution(),
            "pre_existing_bad_debt": st["pre_existing_bad_debt"],
            "liquidatable_at_start": st["liquidatable_at_start"],
            **({"rates": plain(self.rates)} if self.rates else {}),
            **({"clearinghouse": plain({k: v for k, v in self.clearing.items() if k != "per_path"})}
               if self.clearing else {}),
            "notes": self.notes,
        }


def plain(x):
    """Unit totals as JSON-friendly values."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def treasury_share(r: RunResult) -> np.ndarray:
    # the treasury's protocol-fee collateral is sold with the rest; its proceeds are not the
    # liquidators'. Approximate its share of proceeds by its share of seized value.
    s = r.summary
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(s[:, K.SUM_LIQ_VALUE] > 0, s[:, K.SUM_FEES] / s[:, K.SUM_LIQ_VALUE], 0.0)
    return share * s[:, K.SUM_PROCEEDS]
