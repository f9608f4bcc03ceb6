"""Replay ensembles: N input sets drawn from the stated priors, run on the Monte Carlo executors.

``liqcascade replay EVENT --ensemble N`` plans ``N`` members (Latin-hypercube draws of the event's
priors, :func:`liqcascade.replay.priors.latin_hypercube`; ``--set`` fixes a prior for every
member), groups them into chunks of ``chunk_members`` and runs the chunks on an executor of
:mod:`liqcascade.montecarlo.executors` (in this process, a local process pool, a Dask
LocalCluster or a Dask scheduler). Each chunk writes one immutable Parquet file — one row per
member: its index and seed, the drawn inputs and every outcome — atomically, with the writer of
the Monte Carlo chunks (:func:`liqcascade.montecarlo.chunk.write_parquet_atomic`).

Store layout (``--store``, default ``liqcascade-runs``)::

    <store>/replay/<run id>/plan.json                 what was planned (event, N, seed, priors, …)
    <store>/replay/<run id>/members_c<k>.parquet      chunk k

The run id is a hash of the event, N, the seed, the settings, the fixed values, the priors, the
data files' SHA-256 and the code version, so running the same command again finds the same run
and runs only the chunks whose file is missing (an interrupted ensemble resumes; a changed prior,
file or engine starts a new run). Each member row also records its wall and CPU seconds. Files are the truth: a chunk counts as done when its file is
there and holds its members.

:func:`summarize` turns the member table into the report: for every headline outcome the median
and the 5–95 % band (linear-interpolated quantiles over the members), the record where one is
published and where it falls (its percentile among the members), and a tornado: Spearman rank
correlation of each drawn prior with the outcome (ties get average ranks; a constant column gives
no correlation). With N members a rank correlation below about ``2/sqrt(N)`` in size is not
distinguishable from zero; the report prints that threshold.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import SCHEMA_VERSION, ReplayEvent, ReplayOptions, get_event, member_seed
from .priors import Draws, latin_hypercube

DEFAULT_CHUNK_MEMBERS = 4


@dataclass(frozen=True)
class MemberChunk:
    """Plain data for a worker: which members to run and where to write them."""

    event: str
    data_dir: str
    settings: dict
    run_id: str
    index: int
    members: tuple  # ((k, seed, draw dict), ...)
    file: str  # absolute path of the chunk file
    numba_threads: int = 1
    numba_cache_dir: str | None = None
    point_id: str = "members"  # what the Dask executor names tasks by (run, point, index)


@dataclass
class EnsemblePlan:
    event: str
    n: int
    seed: int
    data_dir: str
    settings: dict
    fixed: dict
    draws: Draws
    run_id: str
    chunk_members: int
    folder: Path
    code_version: str
    data_digests: dict

    def chunks(self, numba_threads: int = 1, cache_dir: str | None = None) -> list[MemberChunk]:
        out = []
        for c, a in enumerate(range(0, self.n, self.chunk_members)):
            mem = tuple((k, member_seed(self.seed, k + 1), {**self.draws.member(k), **self.fixed})
                        for k in range(a, min(a + self.chunk_members, self.n)))
            out.append(MemberChunk(self.event, self.data_dir, dict(self.settings), self.run_id, c, mem,
                                   str(self.folder / chunk_name(c)), numba_threads, cache_dir))
        return out

    def as_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "event": self.event, "members": self.n, "seed": self.seed,
                "data_dir": self.data_dir, "settings": self.settings, "fixed": self.fixed,
                "priors": [p.as_dict() for p in self.draws.priors], "run_id": self.run_id,
                "chunk_members": self.chunk_members, "code_version": self.code_version,
                "data_digests": self.data_digests}


def chunk_name(k: int) -> str:
    return f"members_c{k:06d}.parquet"


def _sha_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_digests(ev: ReplayEvent, data_dir: Path) -> dict:
    out = {}
    for rel in ev.needs:
        p = Path(data_dir) / rel
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                out[str(f.relative_to(data_dir))] = _sha_file(f)
        elif p.is_file():
            out[rel] = _sha_file(p)
    return out


def replay_code_version() -> str:
    """The Monte Carlo code version plus a hash of the replay modules."""
    from ..montecarlo.chunk import code_version

    h = hashlib.sha1()
    root = Path(__file__).resolve().parent
    for f in sorted(root.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return f"{code_version()}+r{h.hexdigest()[:8]}"


def plan_ensemble(ev: ReplayEvent, options: ReplayOptions, n: int, store, chunk_members: int = DEFAULT_CHUNK_MEMBERS
                  ) -> EnsemblePlan:
    if n < 2:
        raise InputError(None, "--ensemble", f"needs at least 2 members, got {n}")
    if n > 100_000:
        raise InputError(None, "--ensemble", "at most 100,000 members")
    if chunk_members < 1:
        raise InputError(None, "--chunk-members", "must be >= 1")
    settings, fixed = ev.split_overrides(options.overrides, options.quick)
    drawn = [p for p in ev.priors if p.name not in fixed]
    draws = latin_hypercube(drawn, n, options.seed)
    data_dir = Path(options.data_dir).resolve()
    digests = data_digests(ev, data_dir)
    cv = replay_code_version()
    ident = json.dumps({"event": ev.name, "n": n, "seed": int(options.seed), "settings": settings, "fixed": fixed,
                        "priors": [p.as_dict() for p in drawn], "outcomes": [o.name for o in ev.outcomes],
                        "data": digests, "code": cv, "chunk_members": chunk_members}, sort_keys=True, default=str)
    run_id = hashlib.sha256(ident.encode()).hexdigest()[:12]
    folder = Path(store).resolve() / "replay" / run_id
    return EnsemblePlan(ev.name, n, int(options.seed), str(data_dir), settings, fixed, draws, run_id,
                        int(chunk_members), folder, cv, digests)


# ------------------------------------------------------------------------------------------
# worker side

_CTX: dict = {}


def _context(chunk: MemberChunk):
    key = (chunk.event, chunk.data_dir, json.dumps(chunk.settings, sort_keys=True, default=str))
    ctx = _CTX.get(key)
    if ctx is None:
        ev = get_event(chunk.event)
        ctx = ev.prepare(Path(chunk.data_dir), dict(chunk.settings))
        _CTX.clear()  # one event at a time per worker
        _CTX[key] = ctx
    return ctx


def run_member_chunk(chunk: MemberChunk) -> dict:
    """Run the members of ``chunk`` and write their Parquet file (skipped when it exists)."""
    import os

    t0 = time.perf_counter()
    final = Path(chunk.file)
    if final.exists():
        return {"index": chunk.index, "wall_s": 0.0, "existed": True, "worker": os.getpid()}
    from ..montecarlo.chunk import prepare_worker, write_parquet_atomic

    prepare_worker(chunk.numba_cache_dir, chunk.numba_threads)

    ev = get_event(chunk.event)
    ctx = _context(chunk)
    rows = []
    for k, seed, draw in chunk.members:
        t1, c1 = time.perf_counter(), time.process_time()
        res = ev.member(ctx, dict(draw), int(seed), keep=False)
        rows.append((k, seed, draw, res.outcomes, time.perf_counter() - t1, time.process_time() - c1))
    cols: dict = {"member": np.array([r[0] for r in rows], np.int64),
                  "seed": np.array([r[1] for r in rows], np.int64),
                  "wall_s": np.array([r[4] for r in rows], np.float64),
                  "cpu_s": np.array([r[5] for r in rows], np.float64)}
    for name in rows[0][2]:
        cols[f"in.{name}"] = np.array([float(r[2][name]) for r in rows], np.float64)
    for name in rows[0][3]:
        cols[f"out.{name}"] = np.array([float(r[3].get(name, math.nan)) for r in rows], np.float64)
    write_parquet_atomic(final, cols, {"liqcascade.run_id": chunk.run_id, "liqcascade.replay": chunk.event,
                                       "liqcascade.chunk": chunk.index})
    return {"index": chunk.index, "wall_s": time.perf_counter() - t0, "existed": False, "worker": os.getpid()}


# ------------------------------------------------------------------------------------------
# coordinator


@dataclass
class EnsembleRun:
    plan: EnsemblePlan
    members: dict  # column -> array (sorted by member)
    executor: str
    workers: int
    chunks: dict
    timings: dict
    notes: list = field(default_factory=list)


def _stored(plan: EnsemblePlan) -> set[int]:
    import pyarrow.parquet as pq

    out = set()
    if not plan.folder.is_dir():
        return out
    for f in plan.folder.iterdir():
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            f.unlink(missing_ok=True)  # a write cut short
    n_chunks = -(-plan.n // plan.chunk_members)
    for c in range(n_chunks):
        f = plan.folder / chunk_name(c)
        if f.is_file():
            want = min(plan.chunk_members, plan.n - c * plan.chunk_members)
            try:
                ok = pq.ParquetFile(f).metadata.num_rows == want
            except Exception:
                ok = False
            if ok:
                out.add(c)
            else:
                f.unlink(missing_ok=True)
    return out


def execute_ensemble(plan: EnsemblePlan, *, workers: int | None = None, dask: str | None = None,
                     scheduler: str | None = None, progress=None, warm: bool = True) -> EnsembleRun:
    """Run the missing chunks of ``plan`` and read every member back."""
    from ..montecarlo.chunk import parent_cache_dir
    from ..montecarlo.executors import DaskExecutor, InProcessExecutor, ProcessPoolExecutor, make_executor
    from ..atomic import write_text_atomic

    t0 = time.perf_counter()
    executor = make_executor(workers=workers, dask=dask, scheduler=scheduler)
    pre = getattr(executor, "preflight", None)
    if pre is not None:
        pre()
    plan.folder.mkdir(parents=True, exist_ok=True)
    plan_file = plan.folder / "plan.json"
    if not plan_file.exists():
        write_text_atomic(plan_file, json.dumps(plan.as_dict(), indent=1, default=str) + "\n")
    present = _stored(plan)
    all_chunks = plan.chunks()
    todo_idx = [c.index for c in all_chunks if c.index not in present]
    cache_dir = None
    local = isinstance(executor, ProcessPoolExecutor) or (isinstance(executor, DaskExecutor) and executor.address is None)
    if todo_idx and not isinstance(executor, InProcessExecutor):
        if warm:
            from ..engine.warmup import warm as _warm

            _warm()
        if local:
            cache_dir = parent_cache_dir()
            if isinstance(executor, ProcessPoolExecutor):
                executor.cache_dir = cache_dir
                executor.workers = max(1, min(executor.workers, len(todo_idx)))
    chunks = plan.chunks(numba_threads=getattr(executor, "numba_threads", 0) or 0, cache_dir=cache_dir)
    todo = [chunks[i] for i in todo_idx]
    total, done = len(chunks), len(chunks) - len(todo)
    if progress:
        progress(done, total)
    t_sim = time.perf_counter()
    compute = 0.0
    if todo:
        with executor as ex:
            for out in ex.imap_unordered(run_member_chunk, todo):
                compute += float(out["wall_s"])
                done += 1
                if progress:
                    progress(done, total)
    t_read = time.perf_counter()
    members = read_members(plan)
    timings = {"plan_s": t_sim - t0, "simulate_s": t_read - t_sim, "read_s": time.perf_counter() - t_read,
               "wall_s": time.perf_counter() - t0, "compute_s": compute,
               "member_cpu_s": float(np.sum(members["cpu_s"])) if "cpu_s" in members else None}
    return EnsembleRun(plan, members, executor.name, int(executor.workers), {"total": total, "ran": len(todo),
                       "already_stored": total - len(todo)}, timings)


def read_members(plan: EnsemblePlan) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = [plan.folder / chunk_name(c) for c in range(-(-plan.n // plan.chunk_members))]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise RuntimeError(f"ensemble {plan.run_id}: chunk files missing after the run: {', '.join(missing[:5])}")
    t = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
    cols = {name: t.column(name).to_numpy() for name in t.column_names}
    order = np.argsort(cols["member"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    if not np.array_equal(cols["member"], np.arange(plan.n)):
        raise RuntimeError(f"ensemble {plan.run_id}: members stored are not 0..{plan.n - 1} exactly once")
    return cols


# ------------------------------------------------------------------------------------------
# summary


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    x = np.asarray(x, float)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(x.size)
    xs = x[order]
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and xs[j + 1] == xs[i]:
            j += 1
        r[order[i:j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return r


def spearman(x, y) -> float:
    """Spearman rank correlation (NaN when either column is constant or has NaN)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size < 3 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return math.nan
    rx, ry = rankdata(x), rankdata(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return math.nan
    return float(np.mean((rx - rx.mean()) * (ry - ry.mean())) / (sx * sy))


def band(values) -> dict:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0}
    q = np.quantile(v, [0.05, 0.5, 0.95])
    return {"n": int(v.size), "p5": float(q[0]), "median": float(q[1]), "p95": float(q[2]),
            "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean())}


def place_record(values, record: float) -> dict:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {}
    pct = float(np.mean(v < record) + 0.5 * np.mean(v == record))
    b = band(v)
    where = "inside" if b["p5"] <= record <= b["p95"] else ("below" if record < b["p5"] else "above")
    return {"percentile": pct, "where": where}


def summarize(ev: ReplayEvent, run: EnsembleRun) -> dict:
    """Bands, records and tornado for every headline outcome (see the module docstring)."""
    m = run.members
    drawn = [p for p in run.plan.draws.priors]
    n = run.plan.n
    outcomes = []
    for o in ev.outcomes:
        col = m.get(f"out.{o.name}")
        if col is None:
            continue
        entry = {"name": o.name, "label": o.label, "kind": o.kind, "definition": o.definition,
                 "band": band(col)}
        if o.record is not None:
            entry["record"] = {"value": o.record.value, "source": o.record.source, "note": o.record.note,
                               **place_record(col, o.record.value)}
        tor = []
        for p in drawn:
            rho = spearman(m[f"in.{p.name}"], col)
            tor.append({"prior": p.name, "label": p.label, "rho": rho})
        tor.sort(key=lambda r: -abs(r["rho"]) if math.isfinite(r["rho"]) else 1.0)
        entry["tornado"] = tor
        outcomes.append(entry)
    detail = {}
    for k in m:
        if k.startswith("out.") and k[4:] not in {o.name for o in ev.outcomes}:
            detail[k[4:]] = band(m[k])
    return {
        "schema_version": SCHEMA_VERSION, "liqcascade_version": run.plan.code_version.split("+")[0],
        "event": ev.name, "title": ev.title, "members": n, "seed": run.plan.seed, "run_id": run.plan.run_id,
        "store": str(run.plan.folder), "settings": run.plan.settings, "fixed": run.plan.fixed,
        "priors": [p.as_dict() for p in drawn],
        "outcomes": outcomes, "detail": detail,
        "rank_correlation_noise": 2.0 / math.sqrt(n),
        "execution": {"executor": run.executor, "workers": run.workers, "chunks": run.chunks, "timings": run.timings,
                      "code_version": run.plan.code_version},
        "inputs": [i.as_dict() for i in ev.inputs()],
        "member_table": {k: [float(x) for x in v] for k, v in m.items()},
    }
