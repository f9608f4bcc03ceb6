"""Plan and execute a Monte Carlo run (one point: ``mc``; many: ``sweep``) with resume.

:func:`plan_run` turns a scenario, ``--param`` specs and options into a :class:`Plan`: the
parameter points (each validated with the pydantic models — an invalid point is *reported and
skipped*, never run; if no point is valid the plan is refused with :class:`InputError`), the
chunks of every valid point and a deterministic run id (a hash of the scenario's content and
files, the points, seed, paths, chunk size and code version). Running the same command again
therefore finds the same run and skips the chunks already stored.

:func:`execute` coordinates: it records the run in the catalog, reconciles the catalog with the
chunk files on disk (files are the truth: a file without a catalog row is recorded, a row
without a file is dropped and rerun, stray temporary files are removed), runs the missing
chunks on an executor, records finished chunks in batches (only this process writes the
catalog), then reads each point's Parquet files back, checks that every path ``0 … N-1`` is
there exactly once, and stores the metrics.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import metrics as M
from .chunk import (
    Chunk,
    ChunkOutcome,
    chunk_ranges,
    chunk_rel_path,
    code_version,
    parent_cache_dir,
    point_dir,
    run_chunk,
)
from .params import (
    ParamSpec,
    apply_point,
    canonical_json,
    grid_points,
    parse_param,
    point_id,
    random_points,
    validate_point,
)

DEFAULT_CHUNK_PATHS = 256
FLUSH_EVERY_S = 0.5
FINAL_WAIT_S = 120.0  # how long the coordinator waits for readers to let go of the catalog


@dataclass
class Point:
    index: int
    point_id: str
    params: dict
    status: str  # "ok" | "invalid"
    reason: str | None = None
    scenario: dict | None = None
    scenario_hash: str | None = None


@dataclass
class Plan:
    kind: str  # "mc" | "sweep"
    run_id: str
    scenario_name: str
    scenario_file: str | None
    base_dir: str
    base_hash: str
    seed: int
    paths: int
    chunk_paths: int
    specs: list[ParamSpec]
    random_k: int | None
    points: list[Point]
    code_version: str
    #: notes on the base scenario's book at the initial prices (engine.start): pre-existing bad
    #: debt, positions liquidatable at t = 0 (constant over paths, so not in the per-path metrics)
    start_notes: list = field(default_factory=list)

    @property
    def valid_points(self) -> list[Point]:
        return [p for p in self.points if p.status == "ok"]

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return chunk_ranges(self.paths, self.chunk_paths)

    @property
    def n_chunks(self) -> int:
        return len(self.valid_points) * len(self.ranges)

    def parameters(self) -> dict:
        return {"specs": [s.as_dict() for s in self.specs], "random": self.random_k,
                "mode": "random" if self.random_k else ("grid" if self.specs else "none")}

    def chunks(self, store, numba_threads: int = 0, numba_cache_dir: str | None = None) -> list[Chunk]:
        store = str(Path(store).resolve())
        out = []
        for pt in self.valid_points:
            for k, (a, b) in enumerate(self.ranges):
                out.append(Chunk(self.run_id, pt.point_id, k, a, b, pt.scenario, pt.scenario_hash,
                                 self.base_dir, store, numba_threads, numba_cache_dir))
        return out


@dataclass
class RunReport:
    run_id: str
    kind: str
    status: str
    store: str
    scenario: str
    seed: int
    paths: int
    chunk_paths: int
    executor: str
    workers: int
    points: list[dict]
    chunks: dict
    timings: dict
    code_version: str
    notes: list[str] = field(default_factory=list)
    scenario_hash: str | None = None

    def as_dict(self) -> dict:
        from ..provenance import SCHEMA_VERSION, package_version

        prov = {"kind": self.kind, "scenario": self.scenario, "scenario_hash": self.scenario_hash,
                "seed": self.seed, "package_version": package_version(), "schema_version": SCHEMA_VERSION,
                "code_version": self.code_version, "run_id": self.run_id}
        return {"provenance": prov, **self.__dict__}


# ------------------------------------------------------------------------------------------
# planning


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digests(sc, base_dir: Path) -> dict:
    """SHA-256 of every file the scenario reads (position files, historical price files, the
    return files of ``garch``/``bootstrap``); see :func:`liqcascade.provenance.file_digests`."""
    from ..provenance import file_digests

    return file_digests(sc, base_dir)


def plan_run(scenario, params: Sequence[str | ParamSpec] = (), *, paths: int | None = None,
             seed: int | None = None, random: int | None = None, chunk_paths: int = DEFAULT_CHUNK_PATHS,
             kind: str | None = None, base_dir=None, check_compile: bool = True) -> Plan:
    """Validate everything up front and return the :class:`Plan` (no simulation, no I/O but reads).

    ``scenario``: a TOML path or a :class:`~liqcascade.scenario.models.Scenario` (then
    ``base_dir`` is where its relative files resolve, default the current folder).
    ``params``: ``"PATH=start:stop:step"`` strings (or parsed :class:`ParamSpec`).
    ``random``: draw that many points uniformly in the box of the specs instead of the grid.
    """
    from ..scenario.load import load_scenario
    from ..scenario.models import Scenario

    if isinstance(scenario, Scenario):
        sc, base = scenario, Path(base_dir or ".").resolve()
        file = None
    else:
        sc, base = load_scenario(scenario)
        file = str(scenario)
    if chunk_paths is None or chunk_paths < 1:
        raise InputError(None, "--chunk-paths", "must be >= 1")
    if paths is not None and paths < 1:
        raise InputError(None, "--paths", "must be >= 1")
    if seed is not None and seed < 0:
        raise InputError(None, "--seed", "must be >= 0")
    flow = getattr(sc, "flow", None) is not None
    if flow and paths is not None and paths != 1:
        raise InputError(None, "--paths", f"a [flow] scenario is deterministic (the series is the path): "
                         f"one path per point, got {paths}")
    n_paths = 1 if flow else int(paths if paths is not None else sc.simulation.paths)
    root_seed = int(seed if seed is not None else sc.simulation.seed)
    base_dict = sc.model_dump(mode="python")
    base_dict["simulation"]["paths"] = n_paths
    base_dict["simulation"]["seed"] = root_seed
    sc = _validated(base_dict, file)

    start_notes: list[str] = []
    if check_compile and flow:  # the series file and the venue, as `liqcascade run` reads them
        from ..engine.flow import compile_flow

        try:
            compile_flow(sc, base)
        except InputError as exc:
            if exc.file is None:
                raise InputError(file, exc.where, exc.reason) from None
            raise
    elif check_compile:  # the base scenario's files and price process, as `liqcascade run` checks them
        from ..engine.compile import compile_scenario
        from ..engine.dynamic import make_paths
        from ..engine.start import start_notes as _start_notes

        try:
            c = compile_scenario(sc, base)
            make_paths(c, n_paths=1)
            start_notes = [f"base scenario: {n}" for n in _start_notes(c.start)]
        except InputError as exc:
            if exc.file is None:
                raise InputError(file, exc.where, exc.reason) from None
            raise

    specs = [p if isinstance(p, ParamSpec) else parse_param(p, base_dict) for p in params]
    paths_seen = set()
    for s in specs:
        if s.path in paths_seen:
            raise InputError(None, "--param", f"{s.path}: given twice")
        paths_seen.add(s.path)
    if random is not None:
        raw = random_points(specs, int(random), root_seed)
    else:
        raw = grid_points(specs)
    kind = kind or ("sweep" if specs else "mc")

    digests = _file_digests(sc, base)
    base_hash = _sha(canonical_json({"scenario": base_dict, "files": digests}))
    points, seen = [], set()
    for pt in raw:
        pid = point_id(pt)
        if pid in seen:  # a random draw that repeats a point (integer boxes)
            continue
        seen.add(pid)
        d = apply_point(base_dict, pt)
        try:
            validate_point(d, file)
        except InputError as exc:
            points.append(Point(len(points), pid, pt, "invalid", f"{exc.where}: {exc.reason}" if exc.where else exc.reason))
            continue
        h = _sha(canonical_json({"scenario": d, "files": digests}))
        points.append(Point(len(points), pid, pt, "ok", None, d, h))
    if not any(p.status == "ok" for p in points):
        bad = points[0]
        raise InputError(file, "--param", f"no valid parameter point ({len(points)} invalid; first: "
                         f"{canonical_json(bad.params)}: {bad.reason})")
    cv = code_version()
    run_id = _sha(canonical_json({
        "kind": kind, "base": base_hash, "specs": [s.as_dict() for s in specs], "random": random,
        "points": [p.point_id for p in points], "seed": root_seed, "paths": n_paths,
        "chunk_paths": int(chunk_paths), "code": cv,
    }))[:12]
    return Plan(kind=kind, run_id=run_id, scenario_name=sc.name, scenario_file=file, base_dir=str(base),
                base_hash=base_hash, seed=root_seed, paths=n_paths, chunk_paths=int(chunk_paths), specs=specs,
                random_k=random, points=points, code_version=cv, start_notes=start_notes)


def _validated(d: dict, file):
    from ..scenario.load import validate_dict

    return validate_dict(d, file)


# ------------------------------------------------------------------------------------------
# reading chunk files back


def _chunk_index(name: str) -> int | None:
    if not name.endswith(".parquet") or name.startswith("."):
        return None
    stem = name[: -len(".parquet")]
    _, _, k = stem.rpartition("_c")
    return int(k) if k.isdigit() else None


def stored_chunks(store, run_id: str, point_id_: str) -> dict[int, Path]:
    d = point_dir(store, run_id, point_id_)
    out = {}
    if d.is_dir():
        for f in d.iterdir():
            k = _chunk_index(f.name)
            if k is not None and f.name == Path(chunk_rel_path(run_id, point_id_, k)).name:
                out[k] = f
    return out


def load_point(store, run_id: str, point_id_: str, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every stored path of a point, in path order, as NumPy columns (empty dict if none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = [f for _, f in sorted(stored_chunks(store, run_id, point_id_).items())]
    if not files:
        return {}
    cols = None if columns is None else list(dict.fromkeys([*columns, "path"]))
    tables = [pq.read_table(f, columns=cols) for f in files]
    t = pa.concat_tables(tables, promote_options="default")
    out = {}
    for name in t.column_names:
        if name in ("run_id", "point_id"):
            continue
        out[name] = t.column(name).to_numpy()
    order = np.argsort(out["path"], kind="stable")
    if not np.all(order == np.arange(order.size)):
        out = {k: v[order] for k, v in out.items()}
    return out


def point_metrics(store, run_id: str, point_id_: str, n_paths: int | None = None) -> dict:
    cols = load_point(store, run_id, point_id_)
    if not cols:
        return {"paths": 0}
    if n_paths is not None:
        p = cols["path"]
        if p.size != n_paths or not np.array_equal(p, np.arange(n_paths)):
            uniq = np.unique(p).size
            raise RuntimeError(f"point {point_id_}: {p.size} path rows stored ({uniq} distinct), expected "
                               f"paths 0..{n_paths - 1} exactly once")
    return M.compute(cols)


# ------------------------------------------------------------------------------------------
# execution


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _outcome_row(o: ChunkOutcome) -> dict:
    return {"run_id": o.run_id, "point_id": o.point_id, "chunk": o.index, "path_start": o.p0, "path_stop": o.p1,
            "file": o.file, "rows": o.rows, "wall_s": o.wall_s, "worker": o.worker, "recorded": _now()}


def _reconcile(plan: Plan, store: Path, recorded: set) -> tuple[set, list[dict], list[tuple[str, int]]]:
    """Stored chunk keys; rows to add for files the catalog misses; rows to drop (no file)."""
    import pyarrow.parquet as pq

    present: set = set()
    add: list[dict] = []
    for pt in plan.valid_points:
        d = point_dir(store, plan.run_id, pt.point_id)
        if d.is_dir():
            for f in d.iterdir():
                if f.name.startswith(".") and f.name.endswith(".tmp"):
                    f.unlink(missing_ok=True)  # a write cut short by a crash
        for k, f in stored_chunks(store, plan.run_id, pt.point_id).items():
            if k >= len(plan.ranges):
                continue
            present.add((pt.point_id, k))
            if (pt.point_id, k) not in recorded:
                a, b = plan.ranges[k]
                try:
                    rows = pq.ParquetFile(f).metadata.num_rows
                except Exception:  # unreadable: remove and rerun
                    f.unlink(missing_ok=True)
                    present.discard((pt.point_id, k))
                    continue
                add.append({"run_id": plan.run_id, "point_id": pt.point_id, "chunk": k, "path_start": a,
                            "path_stop": b, "file": chunk_rel_path(plan.run_id, pt.point_id, k), "rows": rows,
                            "wall_s": None, "worker": "recovered", "recorded": _now()})
    drop = sorted(recorded - present)
    return present, add, drop


def execute(plan: Plan, store=None, *, workers: int | None = None, dask: str | None = None,
            scheduler: str | None = None, executor=None, progress: Callable[[int, int], None] | None = None,
            warm: bool = True, command: str | None = None) -> RunReport:
    """Run (or resume) ``plan`` into ``store``; return the report with every point's metrics.

    ``executor``: an executor object (see :mod:`.executors`), or chosen from ``workers`` /
    ``dask`` / ``scheduler`` (``workers=0``: in this process). ``progress(done, total)`` is
    called after every finished chunk (and once at the start)."""
    from ..results.catalog import DEFAULT_STORE, Catalog
    from .executors import DaskExecutor, InProcessExecutor, ProcessPoolExecutor, make_executor

    t0 = time.perf_counter()
    store = Path(store or DEFAULT_STORE).resolve()
    if store.exists() and not store.is_dir():
        raise InputError(str(store), "--store", "exists and is not a directory")
    if executor is None:
        executor = make_executor(workers=workers, dask=dask, scheduler=scheduler)
    preflight = getattr(executor, "preflight", None)
    if preflight is not None:
        preflight()  # e.g. an unreachable --scheduler: fail before the store or catalog exists

    # one process computes a run at a time: a second one refuses instead of repeating chunks,
    # and a run marked running whose lock nobody holds shows as interrupted (results.lock)
    from ..results.lock import RunLock

    lock = RunLock(store, plan.run_id).acquire()
    try:
        return _execute_locked(plan, store, executor, progress, warm, t0)
    finally:
        lock.release()


def _execute_locked(plan: Plan, store: Path, executor, progress, warm: bool, t0: float) -> RunReport:
    from ..results.catalog import Catalog
    from .executors import DaskExecutor, InProcessExecutor, ProcessPoolExecutor

    with Catalog(store, wait_s=FINAL_WAIT_S) as cat:
        row = cat.get_run(plan.run_id)
        base_row = {
            "run_id": plan.run_id, "kind": plan.kind, "scenario_name": plan.scenario_name,
            "scenario_file": plan.scenario_file, "scenario_hash": plan.base_hash,
            "parameters": json.dumps(plan.parameters()), "seed": plan.seed, "paths": plan.paths,
            "chunk_paths": plan.chunk_paths, "n_points": len(plan.valid_points), "n_chunks": plan.n_chunks,
            "code_version": plan.code_version, "status": "running", "error": None,
            "executor": executor.name, "workers": executor.workers,
        }
        if row is None:
            cat.put_run({**base_row, "created": _now(), "started": _now(), "attempts": 1})
        else:
            cat.update_run(plan.run_id, status="running", error=None, started=_now(), finished=None,
                           attempts=int(row.get("attempts") or 0) + 1, executor=executor.name,
                           workers=executor.workers)
        cat.put_points([{"run_id": plan.run_id, "point_id": p.point_id, "point_index": p.index,
                         "params": canonical_json(p.params), "status": p.status, "reason": p.reason,
                         "scenario_hash": p.scenario_hash} for p in plan.points])
        recorded = {(r["point_id"], int(r["chunk"])) for r in cat.chunks(plan.run_id)}
        present, add, drop = _reconcile(plan, store, recorded)
        cat.add_chunks(add)
        cat.delete_chunks(plan.run_id, drop)

    t_warm = time.perf_counter()
    local = isinstance(executor, ProcessPoolExecutor) or (
        isinstance(executor, DaskExecutor) and executor.address is None)
    n_todo = plan.n_chunks - len(present)
    cache_dir = None
    if n_todo and not isinstance(executor, InProcessExecutor):
        if warm:
            from ..engine.warmup import warm as _warm

            _warm()  # compile/load the numba cache here once, so workers start from a warm cache
        if local:
            cache_dir = parent_cache_dir()
            if isinstance(executor, ProcessPoolExecutor):
                executor.cache_dir = cache_dir
    timings = {"plan_and_reconcile_s": t_warm - t0, "warm_s": time.perf_counter() - t_warm}
    all_chunks = plan.chunks(store, numba_threads=executor.numba_threads, numba_cache_dir=cache_dir)
    todo = [c for c in all_chunks if (c.point_id, c.index) not in present]
    total = len(all_chunks)
    done = total - len(todo)
    if progress:
        progress(done, total)
    status, error = "complete", None
    ran = 0
    if isinstance(executor, ProcessPoolExecutor):
        executor.workers = max(1, min(executor.workers, len(todo)))
    t_sim = time.perf_counter()
    buf: list[dict] = []
    last_flush = time.monotonic()

    def flush(wait_s: float = 0.5):
        """Record finished chunks; if a reader holds the catalog, keep them for the next try
        (the files are written already, and a later run would recover them anyway)."""
        nonlocal buf, last_flush
        if buf:
            try:
                with Catalog(store, wait_s=wait_s) as cat:
                    cat.add_chunks(buf)
                buf = []
            except InputError:
                if wait_s >= FINAL_WAIT_S:
                    raise
        last_flush = time.monotonic()

    try:
        if todo:
            with executor as ex:
                for outcome in ex.imap_unordered(run_chunk, todo):
                    buf.append(_outcome_row(outcome))
                    ran += 1
                    done += 1
                    if progress:
                        progress(done, total)
                    if time.monotonic() - last_flush >= FLUSH_EVERY_S:
                        flush()
        flush(FINAL_WAIT_S)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        try:
            flush(FINAL_WAIT_S)
            with Catalog(store, wait_s=FINAL_WAIT_S) as cat:
                cat.update_run(plan.run_id, status=status, error=f"{type(exc).__name__}: {exc}"[:2000],
                               finished=_now(), wall_s=time.perf_counter() - t0)
        except Exception:  # pragma: no cover - best effort
            pass
        raise
    timings["simulate_s"] = time.perf_counter() - t_sim
    sim_paths = sum(c.p1 - c.p0 for c in todo)
    timings["paths_simulated"] = sim_paths
    timings["paths_per_s"] = sim_paths / timings["simulate_s"] if sim_paths and timings["simulate_s"] > 0 else None

    t_m = time.perf_counter()
    point_rows = []
    mets = {}
    try:
        for pt in plan.valid_points:
            mets[pt.point_id] = point_metrics(store, plan.run_id, pt.point_id, plan.paths)
    except RuntimeError as exc:
        status, error = "failed", str(exc)
    timings["metrics_s"] = time.perf_counter() - t_m
    timings["wall_s"] = time.perf_counter() - t0
    with Catalog(store, wait_s=FINAL_WAIT_S) as cat:
        for pid, m in mets.items():
            cat.put_metrics(plan.run_id, pid, m)
        stats = cat.chunk_stats(plan.run_id)
        cat.update_run(plan.run_id, status=status, error=error, finished=_now(), wall_s=timings["wall_s"],
                       compute_s=stats["compute_s"], timings=json.dumps(timings))
    if error:
        raise RuntimeError(error)
    for pt in plan.points:
        point_rows.append({"point_id": pt.point_id, "index": pt.index, "params": pt.params, "status": pt.status,
                           "reason": pt.reason, "metrics": mets.get(pt.point_id)})
    flow = bool(plan.valid_points) and plan.valid_points[0].scenario.get("flow") is not None
    if flow:
        notes = ["external flow: each point is one deterministic run over the series; max_drop = the largest "
                 "drop of the venue's price right after a step's forced sells below the same run without the "
                 "flow (docs/external-flow.md)"]
    else:
        notes = ["every parameter point uses the same seed (common random numbers): path p draws from "
                 "SeedSequence(seed) child p at every point"] if len(plan.valid_points) > 1 else []
    notes += _price_notes(plan)
    same = identical_paths_note(plan)
    if same:
        notes.append(same)
    notes += plan.start_notes
    invalid = [p for p in plan.points if p.status != "ok"]
    if invalid:
        notes.append(f"{len(invalid)} invalid parameter point(s) reported and skipped (validated before any work)")
    return RunReport(
        run_id=plan.run_id, kind=plan.kind, status=status, store=str(store), scenario=plan.scenario_name,
        seed=plan.seed, paths=plan.paths, chunk_paths=plan.chunk_paths, executor=executor.name,
        workers=executor.workers, points=point_rows,
        chunks={"total": total, "ran": ran, "skipped": total - ran, "recovered_from_files": len(add),
                "dropped_without_file": len(drop), "stored": stats["chunks"]},
        timings=timings, code_version=plan.code_version, notes=notes, scenario_hash=plan.base_hash,
    )


#: price kinds that draw nothing: every path is the same path
DETERMINISTIC_PRICES = ("crash", "historical")


def identical_paths_note(plan: Plan) -> str | None:
    """A warning when every path of every point is the same path: a deterministic price process
    (``crash``, ``historical``) and nothing else random (random execution hashes the path
    number), so statistics over paths are one path's numbers repeated."""
    pts = [p for p in plan.valid_points if p.scenario is not None]
    if plan.paths <= 1 or not pts:
        return None
    kinds = {p.scenario["price"]["kind"] for p in pts}
    if not kinds <= set(DETERMINISTIC_PRICES):
        return None
    if any((p.scenario.get("mechanisms") or {}).get("random_execution") for p in pts):
        return None
    k = ", ".join(sorted(kinds))
    return (f"price.kind = {k} is deterministic: all {plan.paths:,} paths of each point are identical, so VaR, "
            "ES and the probabilities are those of one path; use --paths 1, or a random price process "
            "(gbm, jump, garch, bootstrap)")


def _price_notes(plan: Plan) -> list[str]:
    """How the first valid point's price paths are made (fitted GARCH parameters, bootstrap
    files and time scaling; empty for the other kinds)."""
    from ..prices import model
    from ..prices.generate import price_notes, spec_from_scenario

    if not plan.valid_points:
        return []
    sc = _validated(plan.valid_points[0].scenario, plan.scenario_file)
    pp = sc.price
    if not hasattr(model(pp.kind), "notes"):
        return []
    spec = spec_from_scenario(pp, [a.name for a in sc.assets], unknown_assets="drop")
    try:
        return price_notes(spec, [a.price for a in sc.assets], sc.simulation.dt_seconds, base_dir=plan.base_dir)
    except InputError as exc:  # cannot happen after a complete run; never fail a report on a note
        return [f"price process: {exc}"]


def sweep(scenario, params: Sequence[str] = (), *, paths: int | None = None, seed: int | None = None,
          random: int | None = None, chunk_paths: int = DEFAULT_CHUNK_PATHS, store=None,
          workers: int | None = None, dask: str | None = None, scheduler: str | None = None,
          progress=None, base_dir=None) -> RunReport:
    """Plan and execute a sweep (``mc`` when ``params`` is empty) — the Python entry point."""
    plan = plan_run(scenario, params, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths,
                    base_dir=base_dir)
    return execute(plan, store, workers=workers, dask=dask, scheduler=scheduler, progress=progress)


def run_report_from_catalog(store, run_id_prefix: str) -> dict:
    """Everything ``runs show`` prints: the run row, its points with metrics (computed from the
    stored files for points the catalog has no metrics for yet) and chunk counts."""
    from ..results.catalog import Catalog

    with Catalog(store, read_only=True) as cat:
        run = cat.find_run(run_id_prefix)
        pts = cat.points(run["run_id"])
        mets = cat.metrics(run["run_id"])
        stats = cat.chunk_stats(run["run_id"])
    out_pts = []
    for p in pts:
        m = mets.get(p["point_id"])
        partial = False
        if m is None and p["status"] == "ok":
            m = point_metrics(store, run["run_id"], p["point_id"])
            partial = True
        out_pts.append({"point_id": p["point_id"], "index": p["point_index"], "params": json.loads(p["params"]),
                        "status": p["status"], "reason": p["reason"], "metrics": m, "partial": partial})
    run = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in run.items()}
    for k in ("parameters", "timings"):
        if run.get(k):
            run[k] = json.loads(run[k])
    from ..provenance import SCHEMA_VERSION, package_version

    prov = {"kind": run.get("kind"), "scenario": run.get("scenario_name"), "scenario_hash": run.get("scenario_hash"),
            "seed": run.get("seed"), "package_version": package_version(), "schema_version": SCHEMA_VERSION,
            "code_version": run.get("code_version"), "run_id": run.get("run_id")}
    return {"provenance": prov, "run": run, "points": out_pts, "chunks": stats}
