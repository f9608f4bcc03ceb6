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
    # the catalog still says "running"; nobody holds the run's lock: `runs list` shows it interrupted
    listed = subprocess.run([*cli_cmd(), "runs", "list", "--store", str(store), "--json"], capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [r["status"] for r in json.loads(listed.stdout)["runs"]] == ["interrupted"]

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


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc to find the worker processes")
def test_workers_exit_when_the_coordinator_is_killed(tmp_path):
    """``kill -9`` on the coordinator of ``mc --workers 2``: its workers (and the multiprocessing
    resource tracker) stop within seconds, and no chunk is written after that."""
    scen = write_scenario(tmp_path / "scen", steps=400)
    store = tmp_path / "store"
    args = [*cli_cmd(), "mc", str(scen), "--paths", "4000", "--chunk-paths", "10", "--workers", "2",
            "--store", str(store), "--json", "--no-progress"]
    # output to files, not pipes: orphaned workers would hold a pipe open
    log = open(tmp_path / "mc.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 600
    kids: set[int] = set()
    try:
        while _n_files(store) < 4:
            assert proc.poll() is None, f"the run ended before it could be killed: {(tmp_path / 'mc.log').read_text()}"
            assert time.monotonic() < deadline, "no chunk written in time"
            time.sleep(0.02)
        kids = _children(proc.pid)
        assert len(kids) >= 2, kids  # two workers (and the resource tracker)
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator only, not its process group
        proc.wait()
        stop = time.monotonic() + 20
        while any(_alive(k) for k in kids) and time.monotonic() < stop:
            time.sleep(0.1)
        left = [k for k in kids if _alive(k)]
        assert not left, f"processes still running after the coordinator died: {left}"
        n = _n_files(store)
        time.sleep(2.0)
        assert _n_files(store) == n  # nobody writes chunks any more
    finally:
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        log.close()


def test_a_second_process_does_not_run_the_same_run(tmp_path):
    """Two processes asked to run one run into one store: the second refuses with one line
    naming the first (the lock of results.lock) and computes nothing; once the first is
    killed the run reads as interrupted."""
    scen = write_scenario(tmp_path / "scen", steps=300)
    store = tmp_path / "store"
    args = [*cli_cmd(), "mc", str(scen), "--paths", "20000", "--chunk-paths", "10", "--workers", "0",
            "--store", str(store), "--json", "--no-progress"]
    log = open(tmp_path / "first.log", "wb")
    first = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while _n_files(store) < 2:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stdout + second.stderr
        line = second.stderr.strip()
        assert line.startswith("error: ") and "is being computed by process" in line and "\n" not in line
        assert "Traceback" not in second.stderr
        status = subprocess.run([*cli_cmd(), "runs", "list", "--store", str(store), "--json"],
                                capture_output=True, text=True, timeout=120)
        assert [r["status"] for r in json.loads(status.stdout)["runs"]] == ["running"]
        assert first.poll() is None, "the first run ended before the check"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        log.close()
    status = subprocess.run([*cli_cmd(), "runs", "list", "--store", str(store), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert [r["status"] for r in json.loads(status.stdout)["runs"]] == ["interrupted"]
    con = duckdb.connect(str(store / "runs.duckdb"), read_only=True)
    try:  # the refused process recorded nothing: one attempt, chunks only from the first
        assert con.execute("SELECT attempts FROM runs").fetchall() == [(1,)]
        n, distinct = con.execute("SELECT count(*), count(DISTINCT chunk) FROM chunks").fetchone()
        assert n == distinct
    finally:
        con.close()


def test_effective_status_without_a_holder(tmp_path):
    from liqcascade.results.lock import RunLock, effective_status, is_held

    row = {"run_id": "r1", "status": "running"}
    assert effective_status(tmp_path, row) == "interrupted"  # no lock file at all
    with RunLock(tmp_path, "r1"):
        assert is_held(tmp_path, "r1") and effective_status(tmp_path, row) == "running"
    assert not is_held(tmp_path, "r1") and effective_status(tmp_path, row) == "interrupted"
    assert effective_status(tmp_path, {"run_id": "r1", "status": "complete"}) == "complete"
