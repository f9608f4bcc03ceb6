"""The unit of work of a Monte Carlo run: one chunk of paths of one parameter point.

A :class:`Chunk` is plain data (picklable, small): the scenario as a dict *after* the point's
overrides, the folder relative file names resolve against, and the path range ``[p0, p1)``.
:func:`run_chunk` — what workers execute — compiles the scenario (cached per process), draws
paths ``p0 … p1-1`` (path ``p`` from ``SeedSequence(seed)`` child ``p``, so the result does not
depend on the chunking), runs the compiled many-path kernel and writes one immutable Parquet
file, atomically (temporary name in the same folder, then ``os.replace``). Workers write only
that file; the coordinating process records it in the catalog.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: per-path columns of a chunk file, in order (then ``max_drawdown_<ASSET>``, ``final_price_<ASSET>``)
BASE_COLUMNS = (
    "run_id", "point_id", "chunk", "path", "liquidations", "liquidated_value", "repaid", "bad_debt",
    "fees", "bonus", "proceeds", "gas",
)
CHUNKS_DIR = "chunks"


@dataclass(frozen=True)
class Chunk:
    run_id: str
    point_id: str
    index: int
    p0: int  # first path (inclusive)
    p1: int  # last path (exclusive)
    scenario: dict  # scenario dict after the point's overrides (validated by the coordinator)
    scenario_hash: str
    base_dir: str  # folder the scenario's relative file names resolve against
    store: str  # absolute store folder
    numba_threads: int = 0  # 0: leave numba's setting alone
    numba_cache_dir: str | None = None  # the coordinator's numba cache (local workers start warm)

    @property
    def rel_file(self) -> str:
        return chunk_rel_path(self.run_id, self.point_id, self.index)


@dataclass(frozen=True)
class ChunkOutcome:
    run_id: str
    point_id: str
    index: int
    p0: int
    p1: int
    file: str  # relative to the store
    rows: int
    wall_s: float
    worker: str
    existed: bool = False


def chunk_rel_path(run_id: str, point_id: str, index: int) -> str:
    """``chunks/<run>/<point>/<run>_<point>_c<index>.parquet`` (relative to the store)."""
    return f"{CHUNKS_DIR}/{run_id}/{point_id}/{run_id}_{point_id}_c{index:06d}.parquet"


def point_dir(store, run_id: str, point_id: str) -> Path:
    return Path(store) / CHUNKS_DIR / run_id / point_id


def chunk_ranges(n_paths: int, chunk_paths: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_paths, n_paths)) for s in range(0, n_paths, chunk_paths)]


# ------------------------------------------------------------------------------------------
def code_version() -> str:
    """``<package version>+<hash of the simulation sources>`` (:func:`liqcascade.provenance.compute_code_version`);
    part of a run's identity, so a changed engine starts a new run instead of mixing results.
    ``LIQCASCADE_CODE_VERSION`` pins it (to resume a run across a change known not to affect
    results)."""
    from ..provenance import compute_code_version

    return compute_code_version()


# ------------------------------------------------------------------------------------------
# worker side

_CACHE: dict[str, object] = {}
_CACHE_MAX = 4


def parent_cache_dir() -> str | None:
    """The base of this process's numba cache (``kernels._jit.CACHE_BASE``; None when the JIT is
    disabled). Workers given it as ``NUMBA_CACHE_DIR`` key it on the same kernel sources, so they
    read the cache this process compiled."""
    from ..kernels import _jit

    return None if _jit.DISABLED else _jit.CACHE_BASE


def _compiled(chunk: Chunk):
    c = _CACHE.get(chunk.scenario_hash)
    if c is None:
        from ..engine.compile import compile_scenario
        from ..scenario.load import validate_dict

        sc = validate_dict(chunk.scenario)
        if sc.flow is not None:
            from ..engine.flow import compile_flow

            c = compile_flow(sc, Path(chunk.base_dir))
        else:
            c = compile_scenario(sc, Path(chunk.base_dir))
        while len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[chunk.scenario_hash] = c
    return c


def simulate_range(c, p0: int, p1: int):
    """Per-path summaries of paths ``[p0, p1)``: ``(summary[P, NSUM], min_spot[P, A], final_spot[P, A])``.

    Goes through :func:`liqcascade.engine.dynamic.run_dynamic` (nothing recorded), so whatever
    the engine runs per path, a chunk runs the same."""
    from ..engine.dynamic import make_paths, run_dynamic

    paths = make_paths(c, n_paths=p1 - p0, path_offset=p0)
    res = run_dynamic(c, paths=paths, record_paths=0, path_offset=p0)
    return res.summary, res.min_spot, res.final_spot


def chunk_columns(c, run_id: str, point_id: str, index: int, p0: int, summary, min_spot, final_spot) -> dict:
    from ..kernels import dynamic as K

    n = summary.shape[0]
    cols = {
        "run_id": np.full(n, run_id, dtype=object),
        "point_id": np.full(n, point_id, dtype=object),
        "chunk": np.full(n, index, dtype=np.int64),
        "path": np.arange(p0, p0 + n, dtype=np.int64),
        "liquidations": summary[:, K.SUM_NLIQ].astype(np.int64),
        "liquidated_value": summary[:, K.SUM_LIQ_VALUE],
        "repaid": summary[:, K.SUM_REPAID],
        "bad_debt": summary[:, K.SUM_BAD],
        "fees": summary[:, K.SUM_FEES],
        "bonus": summary[:, K.SUM_BONUS],
        "proceeds": summary[:, K.SUM_PROCEEDS],
        "gas": summary[:, K.SUM_GAS],
    }
    risky = [a for a in range(len(c.assets)) if not c.stable[a]]
    for a in risky:
        cols[f"max_drawdown_{c.assets[a]}"] = np.maximum(0.0, 1.0 - min_spot[:, a] / c.p0[a])
    for a in risky:
        cols[f"final_price_{c.assets[a]}"] = final_spot[:, a].copy()
    return cols


def flow_chunk_columns(fc, run_id: str, point_id: str, index: int, p0: int, p1: int) -> dict:
    """Per-path columns of an external-flow point: the run is deterministic, so every path of the
    range holds the same values (a flow scenario is planned with one path)."""
    from ..engine.flow import run_flow

    s = run_flow(fc).summary
    b = s.get("backstop") or {}
    n = p1 - p0
    vals = {k: s[k] for k in ("max_drop", "mean_drop", "sell_in", "absorbed", "sold", "sell_unfilled", "buy_in",
                              "bought", "buy_unfilled", "proceeds")}
    vals["backstop_end"] = b.get("balance_end", 0.0)
    vals["backstop_min"] = b.get("min_balance", 0.0)
    vals["backstop_paid"] = b.get("paid", 0.0)
    cols = {
        "run_id": np.full(n, run_id, dtype=object),
        "point_id": np.full(n, point_id, dtype=object),
        "chunk": np.full(n, index, dtype=np.int64),
        "path": np.arange(p0, p1, dtype=np.int64),
        "flow_asset": np.full(n, fc.asset, dtype=object),
    }
    for k, v in vals.items():
        cols[k] = np.full(n, float(v))
    return cols


def write_parquet_atomic(final: Path, cols: dict, metadata: dict | None = None) -> None:
    """Write ``cols`` to ``final`` via a unique temporary name in the same folder + rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(cols)
    if metadata:
        table = table.replace_schema_metadata({k: str(v) for k, v in metadata.items()})
    tmp = final.parent / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def prepare_worker(numba_cache_dir: str | None, numba_threads: int) -> None:
    """In a worker process, before any kernel is imported: share the parent's numba cache folder
    (``NUMBA_CACHE_DIR``; without effect once the kernels are imported) and use
    ``numba_threads`` threads (> 0)."""
    if numba_cache_dir and "liqcascade.kernels._jit" not in sys.modules:
        os.environ.setdefault("NUMBA_CACHE_DIR", numba_cache_dir)
    if numba_threads > 0:
        try:
            import numba

            numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
        except ImportError:  # pragma: no cover
            pass


def run_chunk(chunk: Chunk) -> ChunkOutcome:
    """Simulate one chunk and write its Parquet file (skipped when the file already exists)."""
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    final = Path(chunk.store) / chunk.rel_file
    if final.exists():
        return ChunkOutcome(chunk.run_id, chunk.point_id, chunk.index, chunk.p0, chunk.p1, chunk.rel_file,
                            chunk.p1 - chunk.p0, 0.0, worker, existed=True)
    prepare_worker(chunk.numba_cache_dir, chunk.numba_threads)
    c = _compiled(chunk)
    if hasattr(c, "series"):  # an external-flow point (engine.flow.FlowCompiled)
        cols = flow_chunk_columns(c, chunk.run_id, chunk.point_id, chunk.index, chunk.p0, chunk.p1)
    else:
        summary, min_spot, final_spot = simulate_range(c, chunk.p0, chunk.p1)
        cols = chunk_columns(c, chunk.run_id, chunk.point_id, chunk.index, chunk.p0, summary, min_spot, final_spot)
    write_parquet_atomic(final, cols, {
        "liqcascade.run_id": chunk.run_id, "liqcascade.point_id": chunk.point_id,
        "liqcascade.chunk": chunk.index, "liqcascade.paths": f"{chunk.p0}:{chunk.p1}",
    })
    return ChunkOutcome(chunk.run_id, chunk.point_id, chunk.index, chunk.p0, chunk.p1, chunk.rel_file,
                        chunk.p1 - chunk.p0, time.perf_counter() - t0, worker)
