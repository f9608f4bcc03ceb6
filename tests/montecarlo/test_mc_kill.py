"""A sweep killed with SIGKILL mid-way resumes with no lost and no duplicated chunk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import duckdb
import numpy as np
import pytest

from liqcascade.montecarlo import execute, load_point, plan_run

from mc_helpers import cli_cmd, write_scenario

PARAMS = ["price.sigma=0.8,1.6"]
PATHS, CHUNK = 600, 10  # 2 points × 60 chunks


def _sweep_args(scen, store, workers):
    return [*cli_cmd(), "sweep", str(scen), *sum((["--param", p] for p in PARAMS), []), "--paths", str(PATHS),
            "--chunk-paths", str(CHUNK), "--workers", str(workers), "--store", str(store), "--json", "--no-progress"]


def _n_files(store):
    d = store / "chunks"
    return len(list(d.rglob("*.parquet"))) if d.is_dir() else 0


@pytest.mark.parametrize("workers", [0, 2])
def test_sigkill_then_resume(tmp_path, workers):
    scen = write_scenario(tmp_path / "scen", steps=200)
    store = tmp_path / "store"
    plan = plan_run(scen, PARAMS, paths=PATHS, chunk_paths=CHUNK)
    total = plan.n_chunks

    # 1. start the sweep in its own process group; SIGKILL it (and its workers) mid-way
    proc = subprocess.Popen(_sweep_args(scen, store, workers), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while _n_files(store) < 8:
            assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no chunk written in time"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    n_killed = _n_files(store)
    assert 8 <= n_killed < total, n_killed

    # 2. the same command again resumes
    out = subprocess.run(_sweep_args(scen, store, workers), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["run_id"] == plan.run_id and d["status"] == "complete"
    assert 0 < d["chunks"]["ran"] < total and d["chunks"]["skipped"] == total - d["chunks"]["ran"]
    assert d["chunks"]["skipped"] >= n_killed - 2 * workers  # at most the chunks in flight are redone

    # 3. each (point, chunk) exactly once, in the catalog and on disk; no temporary files left
    files = sorted(p.name for p in (store / "chunks").rglob("*.parquet"))
    assert len(files) == total == len(set(files))
    assert not [p for p in (store / "chunks").rglob("*") if p.is_file() and p.suffix != ".parquet"]
    con = duckdb.connect(str(store / "runs.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT point_id, chunk, count(*) FROM chunks WHERE run_id = ? GROUP BY 1, 2",
                           [plan.run_id]).fetchall()
        assert len(rows) == total and all(n == 1 for *_, n in rows)
        assert con.execute("SELECT status, attempts FROM runs WHERE run_id = ?", [plan.run_id]).fetchone() == ("complete", 2)
        dup = con.execute(f"SELECT count(*), count(DISTINCT (point_id, path)) FROM read_parquet("
                          f"'{store.as_posix()}/chunks/*/*/*.parquet')").fetchone()
        assert dup == (2 * PATHS, 2 * PATHS)
    finally:
        con.close()

    # 4. the totals equal an uninterrupted run (in this process, another store)
    ref = execute(plan, tmp_path / "ref", workers=0)
    assert [p["metrics"] for p in d["points"]] == [p["metrics"] for p in ref.points]
    for pt in plan.valid_points:
        a = load_point(store, plan.run_id, pt.point_id)
        b = load_point(tmp_path / "ref", plan.run_id, pt.point_id)
        for col in a:
            assert np.array_equal(a[col], b[col]), col
