"""Read a run folder written by ``liqcascade run --out DIR`` / ``liqcascade demo``.

A run folder holds ``summary.json`` (:meth:`RunResult.as_dict`), ``events.parquet`` (one row per
liquidation), ``steps.parquet`` (per recorded path, step and asset) — see
:mod:`liqcascade.results.store` — and, from ``demo``, ``curve.json`` (:meth:`CurveResult.as_dict`).

:func:`read_run_dir` returns a :class:`RunView` with the attributes the report's figure
functions read from a :class:`~liqcascade.results.run.RunResult` (``events``,
``steps_asset``, ``steps_scalar``, ``assets``, ``p0``, ``paths``, ``steps``, ``dt_seconds``,
``scenario``, ``n_positions``, ``notes`` and ``totals()``), and the curve as a
:class:`~liqcascade.results.curve.CurveResult`, so that
``report.html.write_report(path, run=view, curve=curve)`` rebuilds the report. ``totals()``
returns the totals stored in ``summary.json`` (the per-path summary matrix is not stored).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..kernels import dynamic as K

__all__ = ["RunView", "RunDir", "read_run_dir", "read_curve_json", "STEP_COLUMNS"]

STEP_COLUMNS = ("path", "step", "asset", "reference_price", "venue_price", "oracle_price", "collateral_sold",
                "sale_proceeds", "liquidations", "debt_repaid", "bad_debt")
_SUMMARY_KEYS = ("scenario", "paths", "steps", "dt_seconds", "positions", "assets", "totals")


@dataclass(eq=False)
class RunView:
    """What a :class:`~liqcascade.results.run.RunResult` shows the report, read back from disk."""

    scenario: str
    assets: list[str]
    protocols: list[str]
    n_positions: int
    paths: int
    steps: int
    dt_seconds: float
    p0: np.ndarray
    events: np.ndarray  # EVENT_DTYPE
    steps_asset: np.ndarray  # [recorded, T+1, A, NST]
    steps_scalar: np.ndarray  # [recorded, T+1, NSS]
    summary: dict
    stable: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict:
        return dict(self.summary["totals"])

    def as_dict(self) -> dict:
        return dict(self.summary)

    def provenance(self) -> dict:
        """The run's provenance as ``summary.json`` recorded it."""
        return dict(self.summary.get("provenance") or {})

    @property
    def start(self) -> dict:
        return {k: self.summary[k] for k in ("pre_existing_bad_debt", "liquidatable_at_start") if k in self.summary}

    @property
    def unit_totals(self) -> dict:
        return dict(self.summary.get("protocol_units") or {})


@dataclass(eq=False)
class RunDir:
    path: Path
    run: RunView | None
    curve: object | None  # CurveResult


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"line {e.lineno}, column {e.colno}", f"invalid JSON: {e.msg}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(str(path), None, f"cannot read: {e}") from None


def _read_table(path: Path, required) -> dict:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(str(path), None, "reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        t = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise InputError(str(path), None, f"not a readable Parquet file: {e}") from None
    missing = [c for c in required if c not in t.column_names]
    if missing:
        raise InputError(str(path), "schema", f"missing column(s) {','.join(missing)}; found {','.join(t.column_names)}")
    out = {}
    for c in t.column_names:
        col = t.column(c)
        if col.null_count:
            raise InputError(str(path), f"column '{c}'", f"{col.null_count} missing value(s)")
        out[c] = col.to_numpy(zero_copy_only=False)
    return out


def read_curve_json(path) -> object:
    """A :class:`~liqcascade.results.curve.CurveResult` from ``curve.json``."""
    from .curve import CurvePoint, CurveResult

    path = Path(path)
    d = _load_json(path)
    if not isinstance(d, dict):
        raise InputError(str(path), None, "expected a JSON object")
    for k in ("asset", "initial_price", "mode", "points", "critical_jump"):
        if k not in d:
            raise InputError(str(path), k, "missing")
    fields = list(CurvePoint.__dataclass_fields__)
    pts = []
    for i, p in enumerate(d["points"]):
        if not isinstance(p, dict):
            raise InputError(str(path), f"points[{i}]", "expected an object")
        miss = [f for f in fields if f not in p]
        if miss:
            raise InputError(str(path), f"points[{i}]", f"missing {','.join(miss)}")
        pts.append(CurvePoint(**{f: p[f] for f in fields}))
    cs = d.get("critical_shock")
    return CurveResult(asset=str(d["asset"]), p0=float(d["initial_price"]), points=pts,
                       critical_shock=None if cs is None else float(cs), critical_jump=float(d["critical_jump"]),
                       mode=str(d["mode"]), notes=list(d.get("notes") or []),
                       start={k: d[k] for k in ("pre_existing_bad_debt", "liquidatable_at_start") if k in d},
                       recorded=dict(d.get("provenance") or {}))


def read_run_dir(path) -> RunDir:
    """Read a run folder (see the module docstring). ``summary.json``, ``events.parquet`` and
    ``steps.parquet`` go together (all or none); ``curve.json`` is optional; at least one of
    the two must be present."""
    from .run import EVENT_DTYPE

    d = Path(path)
    if not d.exists():
        raise InputError(str(path), None, "run folder not found")
    if not d.is_dir():
        raise InputError(str(path), None, "is not a folder (expected a run folder from `liqcascade run --out`)")
    have = {f: (d / f).is_file() for f in ("summary.json", "events.parquet", "steps.parquet", "curve.json")}
    run_files = ("summary.json", "events.parquet", "steps.parquet")
    curve = read_curve_json(d / "curve.json") if have["curve.json"] else None
    if not any(have[f] for f in run_files):
        if curve is None:
            raise InputError(str(path), None, "no run files (summary.json, events.parquet, steps.parquet) "
                                              "and no curve.json")
        return RunDir(d, None, curve)
    missing = [f for f in run_files if not have[f]]
    if missing and have["summary.json"] and not have["events.parquet"] and _is_flow_summary(d / "summary.json"):
        raise InputError(str(d), None, "a flow run folder (`liqcascade run --out` of a [flow] scenario): HTML "
                                       "reports are not available for flow runs; read summary.json and steps.parquet")
    if missing:
        raise InputError(str(d / missing[0]), None, "missing (a run folder has summary.json, events.parquet and "
                                                    "steps.parquet)")
    sp = d / "summary.json"
    s = _load_json(sp)
    if not isinstance(s, dict):
        raise InputError(str(sp), None, "expected a JSON object")
    for k in _SUMMARY_KEYS:
        if k not in s:
            raise InputError(str(sp), k, "missing")
    assets = [str(a) for a in s["assets"]]
    A = len(assets)
    if A == 0:
        raise InputError(str(sp), "assets", "empty")
    aidx = {a: i for i, a in enumerate(assets)}

    ep = d / "events.parquet"
    ev_cols = _read_table(ep, EVENT_DTYPE.names)
    n = len(ev_cols["path"])
    events = np.zeros(n, dtype=EVENT_DTYPE)
    for c in EVENT_DTYPE.names:
        v = ev_cols[c]
        events[c] = v.astype(object) if EVENT_DTYPE[c] == object else v
    unknown = sorted(set(events["asset"].tolist()) - set(assets))
    if unknown:
        raise InputError(str(ep), "column 'asset'", f"asset(s) {unknown} not in summary.json's assets")

    tp = d / "steps.parquet"
    st = _read_table(tp, STEP_COLUMNS)
    m = len(st["path"])
    if m:
        R = int(st["path"].max()) + 1
        T1 = int(st["step"].max()) + 1
        if m != R * T1 * A or st["path"].min() < 0 or st["step"].min() < 0:
            raise InputError(str(tp), None, f"{m} rows do not cover {R} path(s) × {T1} steps × {A} assets")
        a_i = np.array([aidx.get(str(x), -1) for x in st["asset"]])
        if (a_i < 0).any():
            bad = str(st["asset"][int(np.flatnonzero(a_i < 0)[0])])
            raise InputError(str(tp), "column 'asset'", f"asset {bad!r} not in summary.json's assets")
        p_i = st["path"].astype(np.int64)
        t_i = st["step"].astype(np.int64)
        seen = np.zeros((R, T1, A), dtype=bool)
        seen[p_i, t_i, a_i] = True
        if not seen.all():
            raise InputError(str(tp), None, "some (path, step, asset) rows are missing or repeated")
        sa = np.zeros((R, T1, A, K.NST))
        for col, k in (("reference_price", K.ST_REF), ("venue_price", K.ST_SPOT), ("oracle_price", K.ST_ORACLE),
                       ("collateral_sold", K.ST_SEIZED), ("sale_proceeds", K.ST_PROCEEDS)):
            sa[p_i, t_i, a_i, k] = st[col]
        ss = np.zeros((R, T1, K.NSS))
        for col, k in (("liquidations", K.SS_NLIQ), ("debt_repaid", K.SS_REPAID), ("bad_debt", K.SS_BAD)):
            ss[p_i, t_i, k] = st[col]
        p0 = sa[0, 0, :, K.ST_REF].copy()
    else:
        sa = np.zeros((0, int(s["steps"]) + 1, A, K.NST))
        ss = np.zeros((0, int(s["steps"]) + 1, K.NSS))
        p0 = np.full(A, math.nan)
    run = RunView(
        scenario=str(s["scenario"]), assets=assets, protocols=[str(x) for x in s.get("protocols", [])],
        n_positions=int(s["positions"]), paths=int(s["paths"]), steps=int(s["steps"]),
        dt_seconds=float(s["dt_seconds"]), p0=p0, events=events, steps_asset=sa, steps_scalar=ss, summary=s,
        notes=[str(x) for x in s.get("notes") or []],
    )
    return RunDir(d, run, curve)


def _is_flow_summary(path: Path) -> bool:
    """Whether ``summary.json`` is an external-flow run's (``"kind": "flow"``)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("kind") == "flow"
    except (OSError, ValueError, AttributeError):
        return False
