"""Write a run to a folder: ``events.parquet`` (liquidations), ``sales.parquet`` (the sales
ledger: one row per forced sale into one venue, with its share of the venue's move),
``steps.parquet`` and ``summary.json``. Parquet holds one table per file, so the ledger sits
beside the liquidations as its own file.

Files are first written into a temporary folder beside the target and moved in only when all
of them are complete, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..kernels import dynamic as K
from .. import jsonout


def steps_columns(res) -> dict:
    """Per (recorded path, step, asset) market state as flat columns."""
    R, T1, A, _ = res.steps_asset.shape
    path = np.repeat(np.arange(R), T1 * A)
    step = np.tile(np.repeat(np.arange(T1), A), R)
    asset = np.tile(np.array(res.assets, dtype=object), R * T1)
    sa = res.steps_asset.reshape(R * T1 * A, K.NST)
    ss = np.repeat(res.steps_scalar.reshape(R * T1, K.NSS), A, axis=0)
    return {
        "path": path, "step": step, "time_s": step * res.dt_seconds, "asset": asset,
        "reference_price": sa[:, K.ST_REF], "venue_price": sa[:, K.ST_SPOT], "oracle_price": sa[:, K.ST_ORACLE],
        "collateral_sold": sa[:, K.ST_SEIZED], "sale_proceeds": sa[:, K.ST_PROCEEDS],
        "liquidations": ss[:, K.SS_NLIQ].astype(np.int64), "debt_repaid": ss[:, K.SS_REPAID],
        "bad_debt": ss[:, K.SS_BAD],
    }


def events_columns(res) -> dict:
    ev = res.events
    cols = {}
    for name in ev.dtype.names:
        col = ev[name]
        cols[name] = col.astype(str) if col.dtype == object else col
    return cols


def sales_columns(res) -> dict:
    """The sales ledger (``RunResult.sales``) as flat columns."""
    sl = res.sales
    cols = {}
    for name in sl.dtype.names:
        col = sl[name]
        cols[name] = col.astype(str) if col.dtype == object else col
    return cols


def write_run(out: Path, res) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        summary = res.as_dict()
        meta = jsonout.dumps(summary.get("provenance") or {}).encode()
        for name, cols in (("events", events_columns(res)), ("sales", sales_columns(res)),
                           ("steps", steps_columns(res))):
            t = pa.table(cols)
            # the run's provenance (seed, versions, scenario hash) in the schema metadata, as the API's tables
            t = t.replace_schema_metadata({**(t.schema.metadata or {}), b"liqcascade": meta})
            pq.write_table(t, tmp / f"{name}.parquet")
        (tmp / "summary.json").write_text(jsonout.dumps(summary, indent=2))
        files = ["events.parquet", "sales.parquet", "steps.parquet", "summary.json"]
        rt = res.rates_table() if hasattr(res, "rates_table") else {}
        if rt:
            # a value a pool kind does not have (a fixed fee's utilization, an uncapped liquidator) is null
            cols = {k: (pa.array(v, mask=~np.isfinite(v)) if v.dtype.kind == "f" else pa.array(v))
                    for k, v in rt.items()}
            t = pa.table(cols)
            t = t.replace_schema_metadata({**(t.schema.metadata or {}), b"liqcascade": meta})
            pq.write_table(t, tmp / "rates.parquet")
            files.append("rates.parquet")
        out.mkdir(exist_ok=True)
        for f in files:
            (tmp / f).replace(out / f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
