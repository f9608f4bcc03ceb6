"""The result of an external-flow run (:func:`liqcascade.engine.flow.run_flow`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

#: per-step columns of ``steps`` (``steps.parquet``), in order
STEP_COLUMNS = (
    "time", "reference", "spot_pre", "spot_low", "spot_end", "no_flow_spot", "drop", "sell_in", "absorbed", "sold",
    "sell_unfilled", "buy_in", "bought", "buy_unfilled", "proceeds", "spent", "backstop_paid",
    "backstop_balance", "withdrawn", "refilled",
)


@dataclass
class FlowResult:
    scenario: str
    venue: str
    asset: str
    summary: dict
    steps: dict  # column -> numpy array (STEP_COLUMNS)
    notes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def max_drop(self) -> float:
        return float(self.summary["max_drop"])

    def as_dict(self) -> dict:
        return {"kind": "flow", "scenario": self.scenario, "venue": self.venue, "asset": self.asset,
                "summary": dict(self.summary), "notes": list(self.notes), "meta": dict(self.meta)}

    def conservation(self) -> dict:
        """Per direction: flow in, absorbed, filled and unfilled (asset) and the residual
        ``in - absorbed - filled - unfilled`` (zero up to rounding)."""
        s = self.steps
        sells = {k: float(np.sum(s[c])) for k, c in (("in", "sell_in"), ("absorbed", "absorbed"),
                                                      ("filled", "sold"), ("unfilled", "sell_unfilled"))}
        sells["residual"] = sells["in"] - sells["absorbed"] - sells["filled"] - sells["unfilled"]
        buys = {k: float(np.sum(s[c])) for k, c in (("in", "buy_in"), ("filled", "bought"),
                                                     ("unfilled", "buy_unfilled"))}
        buys["residual"] = buys["in"] - buys["filled"] - buys["unfilled"]
        return {"sells": sells, "buys": buys}


def iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def write_flow_run(out, res: FlowResult) -> None:
    """``steps.parquet`` (one row per step, :data:`STEP_COLUMNS`) and ``summary.json`` in ``out``,
    written in a temporary folder beside it and moved in at the end (nothing half-written)."""
    import json
    import shutil
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..provenance import clean

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        pq.write_table(pa.table({k: np.asarray(v) for k, v in res.steps.items()}), tmp / "steps.parquet")
        (tmp / "summary.json").write_text(json.dumps(clean(res.as_dict()), indent=2))
        out.mkdir(exist_ok=True)
        for f in ("steps.parquet", "summary.json"):
            (tmp / f).replace(out / f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
