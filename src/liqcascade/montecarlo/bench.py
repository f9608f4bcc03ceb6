"""Throughput of the Monte Carlo machinery: paths per second for several worker counts.

Each measurement runs the same plan into a fresh temporary store (nothing skipped), after the
numba cache is warm, and reports the wall time of the execution phase (worker start-up
included) and the paths per second that gives.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence

from .executors import make_executor
from .runner import DEFAULT_CHUNK_PATHS, execute, plan_run


def throughput(scenario, paths: int = 2048, workers: Sequence[int] = (1, 2), *, executor: str = "process",
               params: Sequence[str] = (), chunk_paths: int = DEFAULT_CHUNK_PATHS, repeat: int = 1,
               scheduler: str | None = None) -> dict:
    """``{"executor", "paths", "points", "chunks", "results": [{"workers", "wall_s", "paths_per_s"}…]}``.

    ``executor``: ``"process"`` (local pool), ``"dask"`` (LocalCluster of ``workers``),
    ``"scheduler"`` (an existing cluster at ``scheduler``; ``workers`` ignored) or
    ``"in-process"``. The best of ``repeat`` runs is kept. Process and Dask executors start
    workers with ``spawn``: call this from a script guarded by ``if __name__ == "__main__":``."""
    from ..engine.warmup import warm

    plan = plan_run(scenario, params, paths=paths, chunk_paths=chunk_paths)
    total_paths = plan.paths * len(plan.valid_points)
    warm()
    results = []
    for w in workers:
        best = None
        for _ in range(repeat):
            if executor == "process":
                ex = make_executor(workers=w)
            elif executor == "dask":
                ex = make_executor(workers=w, dask="local")
            elif executor == "scheduler":
                ex = make_executor(scheduler=scheduler)
            elif executor == "in-process":
                ex = make_executor(workers=0)
            else:
                raise ValueError(f"unknown executor {executor!r}")
            with tempfile.TemporaryDirectory(prefix="liqcascade-bench-") as store:
                t = time.perf_counter()
                rep = execute(plan, store, executor=ex, warm=False)
                wall = time.perf_counter() - t
            r = {"workers": w, "wall_s": wall, "simulate_s": rep.timings["simulate_s"],
                 "paths_per_s": total_paths / wall}
            if best is None or r["wall_s"] < best["wall_s"]:
                best = r
        results.append(best)
    base = results[0]["paths_per_s"] if results else None
    for r in results:
        r["speedup"] = r["paths_per_s"] / base if base else None
    return {"executor": executor, "paths": plan.paths, "points": len(plan.valid_points), "chunks": plan.n_chunks,
            "chunk_paths": plan.chunk_paths, "total_paths": total_paths, "results": results}
