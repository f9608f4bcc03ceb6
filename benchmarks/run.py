"""Performance benchmark of the liqcascade engine (``make bench``).

Measures, in one process and on the same machine, the three targets of the performance issue
and reports them as *ratios* (never as pass/fail tests):

1. **static curve** — ``solve_static`` on a 1M-position synthetic book × 1,000 shocks
   (grid 0 … 0.5), against a numba-compiled ``np.sort`` of 1M float64, the timings alternated,
   min of 3 (target ≤ 3×; :mod:`static_yardstick`), and on a 10M-position book (target ≤ 5 s);
2. **dynamic run** — ``run_dynamic`` on 100k positions × 1,440 steps × 100 paths (GBM, sigma 0.8
   annualised, dt 60 s, times a deterministic crash), a CPMM and a depth-book venue and a
   heartbeat oracle, on 2 threads (target < 10 s); reports position-steps per second;
3. **memory** — on the public path, peak RSS of ``liqcascade curve`` (1,000 shocks) from a
   positions file (CSV, Parquet) or ``synth:N:SEED`` at 2M and 10M positions, above the same
   command on a 1,000-row book, per position (target ≤ 64 B; :mod:`public_memory`, fresh
   subprocesses); and the array path: peak extra resident memory of the static curve run per
   booked position in a fresh subprocess (book arrays + solver scratch).

4. **Monte Carlo** (``--part mc`` alone) — 100k positions × 1,000 paths × 1,440 steps through
   the chunked Monte Carlo runner (``plan_run``/``execute``, Parquet store) on 2 cores (target
   < 60 s), paths/s at 125 … 1,000 paths (linearity), and a Dask LocalCluster sweep with 2
   workers against 1 (target ≥ 1.8 ×).

Correctness is checked before anything is timed (parity against the brute-force Python twin on
a 2,000-position slice, conservation on the full book, consistency of the dynamic totals); the
script aborts with a clear message if a check fails. Numba compilation is excluded from every
timing (kernels are warmed first).

Usage::

    .venv/bin/python benchmarks/run.py            # full sizes (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # 10x smaller sizes (smoke test)
    .venv/bin/python benchmarks/run.py --part mc  # only the Monte Carlo targets (a few minutes)

Results go to ``benchmarks/results.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

# one BLAS thread: numpy's OpenBLAS workers would otherwise spin next to numba's threads on a
# small machine (nothing timed here uses BLAS)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import public_memory as PM  # noqa: E402
import static_yardstick as SY  # noqa: E402

# --- benchmark setup ---------------------------------------------------------------------------

ETH_PRICE = 1800.0
LT = 0.86
BONUS = 0.05
PFEE = 0.10
SEED = 20240601

FULL = {
    "static_n": 1_000_000,
    "static_large_n": 10_000_000,
    "static_shocks": 1000,
    "dyn_n": 100_000,
    "dyn_steps": 1440,
    "dyn_paths": 100,
}
QUICK = {k: max(1, v // 10) for k, v in FULL.items()}
MEMORY_PUBLIC_N = (2_000_000, 10_000_000)  # books of the public-path memory figure
MEMORY_PUBLIC_N_QUICK = (200_000, 1_000_000)

# Venue sizes are set relative to the book's total collateral so that the cascade (and therefore
# the work) does not depend on N: CPMM asset reserve = POOL_FRAC × total collateral units; the
# depth book holds BOOK_DEPTH (fraction from mid, fraction of total collateral value) of quote.
POOL_FRAC = 1.0
BOOK_DEPTH = ((0.005, 0.01), (0.02, 0.05), (0.05, 0.12), (0.2, 0.3))
# dynamic price process: GBM (sigma annualised) times a crash of CRASH over CRASH_OVER of the
# horizon, starting at CRASH_START of the horizon, half of the drop recovered afterwards
GBM_SIGMA = 0.8
DT_SECONDS = 60.0
CRASH = 0.30
CRASH_START = 0.5
CRASH_OVER = 0.02
CRASH_RECOVERY = 0.5
CRASH_RECOVERY_OVER = 0.1

STATIC_ROUNDS = 3  # alternated timings of the static curve and its yardstick
STATIC_TARGET_RATIO = 3.0  # 1M positions × 1,000 shocks ≤ 3 × numba-compiled np.sort of 1M float64
STATIC_LARGE_TARGET_S = 5.0  # 10M positions × 1,000 shocks (2 cores)
MEMORY_TARGET_B = 64.0  # peak RSS per position, positions file → curve, above a 1,000-row book


class BenchError(RuntimeError):
    """A correctness check failed: the timings would be meaningless."""


def check(cond: bool, what: str) -> None:
    if not cond:
        raise BenchError(what)


# --- building blocks ---------------------------------------------------------------------------


def make_book_arrays(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, str]:
    """(collateral ETH units, debt USDC units, generator name) for ``n`` positions."""
    try:
        from liqcascade.positions.synth import synth_book
    except Exception as e:  # noqa: BLE001 - the synth module is being written concurrently
        rng = np.random.default_rng(seed)
        debt = np.exp(rng.normal(np.log(3000.0), 2.0, n))
        hf = 1.0 + np.exp(rng.normal(-0.5, 1.0, n))
        coll = hf * debt / (ETH_PRICE * LT)
        return coll, debt, f"fallback lognormal/HF generator (synth_book not importable: {e!r})"
    coll, debt = synth_book(n, seed, ETH_PRICE, LT)
    return coll, debt, "liqcascade.positions.synth.synth_book"


def make_scenario(total_coll: float, steps: int = 10, paths: int = 1):
    from liqcascade.scenario.models import Scenario

    value = total_coll * ETH_PRICE
    return Scenario.model_validate({
        "name": "bench",
        "simulation": {"steps": steps, "dt_seconds": DT_SECONDS, "paths": paths, "seed": SEED,
                       "record_paths": 0, "max_rounds": 10_000},
        "assets": [{"name": "ETH", "price": ETH_PRICE}, {"name": "USDC", "price": 1.0, "stable": True}],
        "price": {"kind": "gbm", "sigma": GBM_SIGMA},
        "venues": [
            {"name": "pool", "asset": "ETH", "kind": "cpmm", "reserve_asset": POOL_FRAC * total_coll,
             "fee": 0.003},
            {"name": "book", "asset": "ETH", "kind": "book",
             "depth": [[k, f * value] for k, f in BOOK_DEPTH], "half_life_seconds": 30 * DT_SECONDS},
        ],
        "oracles": [{"name": "chainlink", "asset": "ETH", "kind": "heartbeat",
                     "heartbeat_seconds": 3600, "deviation": 0.005}],
        "protocols": [{"name": "aave", "positions": "-", "collateral": "ETH", "debt": "USDC",
                       "close_factor_rule": "v3.3",
                       "params": {"ETH": {"liquidation_threshold": LT, "liquidation_bonus": BONUS,
                                          "protocol_fee": PFEE}}}],
        "liquidators": {"mode": "mechanical"},
        "arbitrage": {"enabled": True, "threshold": 0.003, "to_reference": True},
        "curve": {"asset": "ETH", "venue": {"ETH": "pool"}},
    })


def compile_bench(coll: np.ndarray, debt: np.ndarray, steps: int = 10, paths: int = 1):
    from liqcascade.engine.compile import book_from_arrays, compile_scenario

    book = book_from_arrays(coll, debt, LT)
    sc = make_scenario(float(book.coll.sum()), steps, paths)
    return compile_scenario(sc, HERE, book=book)


def make_dyn_paths(c, steps: int, n_paths: int) -> np.ndarray:
    """GBM (sigma 0.8, dt 60 s) times a deterministic crash with partial recovery."""
    from liqcascade.prices.crash.paths import crash_path
    from liqcascade.prices.generate import generate_paths

    gbm = generate_paths({"kind": "gbm", "sigma": GBM_SIGMA}, c.p0, steps, DT_SECONDS, n_paths, SEED,
                         stable=c.stable)
    crash = crash_path(1.0, CRASH, steps, start=max(1, int(CRASH_START * steps)),
                       over_steps=max(1, int(CRASH_OVER * steps)), recovery=CRASH_RECOVERY,
                       recovery_steps=max(1, int(CRASH_RECOVERY_OVER * steps)))
    out = gbm.copy()
    for a in range(c.n_assets):
        if not c.stable[a]:
            out[:, :, a] *= crash[None, :]
    return np.ascontiguousarray(out)


def shock_grid(n: int) -> np.ndarray:
    return np.linspace(0.0, 0.5, n)


def median_time(fn, repeats: int, budget_s: float = 60.0, cpu: list | None = None) -> tuple[float, list[float], object]:
    """Median wall time of ``fn()`` over ``repeats`` runs (fewer once ``budget_s`` is spent).

    ``cpu``, when given, receives the process CPU time (all threads) of each run, so that a
    reader can tell a slow kernel from a machine busy with other work.
    """
    times, out = [], None
    for _ in range(repeats):
        gc.collect()
        c0 = time.process_time()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
        if sum(times) > budget_s:
            break
    return float(np.median(times)), times, out


def proc_status() -> dict[str, int]:
    """VmRSS / VmHWM of this process in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) * 1024
    return out


def reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --- correctness checks ------------------------------------------------------------------------


def check_parity(coll_all, debt_all, n_slice: int, shocks) -> dict:
    """Compiled solver (solve_static + final_state) vs the brute-force twin on a slice.

    Mechanical mode (the mode that is timed) must match exactly, or the benchmark aborts.
    Rational mode is compared too; a mismatch there is reported as a warning (it does not
    affect the timed workload).
    """
    from liqcascade.engine.static import final_state, solve_static, static_arrays
    from liqcascade.kernels.cascade_py import solve_shock_py

    c = compile_bench(coll_all[:n_slice], debt_all[:n_slice])
    b = c.book
    vs, vdk, vdq, mask = static_arrays(c)
    n = b.n
    compared, warnings = [], []
    for mode in ("mechanical", "rational"):
        curve = solve_static(c, shocks, mode=mode)
        for k, s in enumerate(shocks):
            oc, od, summ = final_state(c, s, mode=mode)
            ref = solve_shock_py(
                float(s), b.coll, b.debt, np.zeros(n, np.int64), np.zeros(n, np.int64), np.ones(n),
                c.lt_pa, c.bonus_pa, c.pfee_pa, c.rules, vs, vdk, vdq, c.p0.copy(), mask,
                1 if mode == "rational" else 0, 0.0, 10_000,
            )
            try:
                _compare_shock(f"parity {mode} shock={s:.3f}", curve.points[k], oc, od, summ, ref)
            except BenchError as e:
                if mode == "mechanical":
                    raise
                warnings.append(str(e))
            compared.append({"mode": mode, "shock": float(s),
                             "liquidations": [int(summ["liquidations"]), int(ref["liquidations"])],
                             "rounds": [int(summ["rounds"]), int(ref["rounds"])],
                             "final_price": [float(summ["final_price"][0]), float(ref["final_price"][0])]})
    check(any(x["liquidations"][1] > 0 for x in compared), "parity slice: no liquidation at any checked shock")
    return {"positions": n, "shocks": [float(s) for s in shocks], "cases": compared,
            "note": "liquidations/rounds/final_price are [numba, twin]", "warnings": warnings}


def _compare_shock(tag, pt, oc, od, summ, ref) -> None:
    check(summ["liquidations"] == ref["liquidations"],
          f"{tag}: liquidations {summ['liquidations']} (numba) != {ref['liquidations']} (twin)")
    check(summ["rounds"] == ref["rounds"], f"{tag}: rounds {summ['rounds']} (numba) != {ref['rounds']} (twin)")
    for key in ("repaid", "bad_debt", "liquidated_value", "fees", "bonus"):
        check(np.isclose(summ[key], ref[key], rtol=1e-9, atol=1e-6),
              f"{tag}: {key} {summ[key]!r} (numba) != {ref[key]!r} (twin)")
    check(np.allclose(summ["final_price"], ref["final_price"], rtol=1e-12),
          f"{tag}: final price {summ['final_price']} (numba) != {ref['final_price']} (twin)")
    check(np.allclose(oc, ref["coll"], rtol=1e-9, atol=1e-9),
          f"{tag}: per-position collateral differs (max |diff| {np.max(np.abs(oc - ref['coll'])):.3g})")
    check(np.allclose(od, ref["debt"], rtol=1e-9, atol=1e-6),
          f"{tag}: per-position debt differs (max |diff| {np.max(np.abs(od - ref['debt'])):.3g})")
    # the curve kernel (all shocks at once) must agree with the single-shock entry point
    check(pt.liquidations == summ["liquidations"] and np.isclose(pt.repaid_debt, summ["repaid"], rtol=1e-12)
          and np.isclose(pt.final_price, summ["final_price"][0], rtol=1e-12),
          f"{tag}: solve_static disagrees with final_state")


def check_conservation(c, shock: float) -> dict:
    from liqcascade.engine.static import final_state

    b = c.book
    oc, od, s = final_state(c, shock)
    coll0, debt0 = float(b.coll.sum()), float(b.debt.sum())
    seized = float(s["units"][0])
    coll_err = abs(coll0 - (float(oc.sum()) + seized)) / coll0
    # debt asset is a stablecoin at 1: repaid/bad (quote values) are debt units
    debt_err = abs(debt0 - (float(od.sum()) + s["repaid"] + s["bad_debt"])) / debt0
    check(s["liquidations"] > 0, f"conservation: no liquidation at shock {shock}")
    check(bool(np.all(oc >= 0)) and bool(np.all(od >= 0)), "conservation: negative collateral or debt left")
    check(coll_err < 1e-9, f"conservation: collateral seized + left != before (rel. err {coll_err:.3g})")
    check(debt_err < 1e-9, f"conservation: debt repaid + bad + left != before (rel. err {debt_err:.3g})")
    return {"shock": shock, "liquidations": int(s["liquidations"]), "rounds": int(s["rounds"]),
            "collateral_rel_err": coll_err, "debt_rel_err": debt_err}


def check_dynamic_consistency(c, paths: np.ndarray) -> dict:
    """Recorded path (simulate_path) vs summaries (simulate_many) and per-path conservation."""
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.kernels import dynamic as KD

    k = min(2, paths.shape[0])
    rec = run_dynamic(c, paths=paths[:k], record_paths=k)
    many = run_dynamic(c, paths=paths[:k], record_paths=0)
    cols = [j for j in range(KD.NSUM) if j != KD.SUM_EV_LOST]  # simulate_many records no events
    check(np.allclose(rec.summary[:, cols], many.summary[:, cols], rtol=1e-12, atol=1e-9),
          "dynamic: recorded path (simulate_path) and simulate_many summaries differ")
    b = c.book
    s0 = rec.summary[0]
    debt_err = abs(b.debt.sum() - rec.final_debt.sum() - s0[KD.SUM_REPAID] - s0[KD.SUM_BAD]) / b.debt.sum()
    seized = rec.steps_asset[0, :, 0, KD.ST_SEIZED].sum()
    coll_err = abs(b.coll.sum() - rec.final_coll.sum() - seized) / b.coll.sum()
    check(debt_err < 1e-9, f"dynamic: debt repaid + bad + left != before on path 0 (rel. err {debt_err:.3g})")
    check(coll_err < 1e-9, f"dynamic: collateral seized + left != before on path 0 (rel. err {coll_err:.3g})")
    return {"paths": k, "liquidations_path0": float(s0[KD.SUM_NLIQ]),
            "debt_rel_err": float(debt_err), "collateral_rel_err": float(coll_err)}


def check_dynamic_totals(res, debt0: float) -> dict:
    from liqcascade.kernels import dynamic as KD

    s = res.summary
    check(bool(np.all(np.isfinite(s))), "dynamic: non-finite values in the per-path summary")
    check(bool(np.all(np.isfinite(res.min_spot))) and bool(np.all(np.isfinite(res.final_spot))),
          "dynamic: non-finite spot prices")
    lost = s[:, KD.SUM_REPAID] + s[:, KD.SUM_BAD]
    check(bool(np.all(lost <= debt0 * (1 + 1e-9))), "dynamic: repaid + bad debt exceeds the initial debt")
    check(bool(np.all(s[:, KD.SUM_NLIQ] >= 0)) and bool(np.all(s[:, KD.SUM_BAD] >= 0)),
          "dynamic: negative counts or bad debt")
    check(float(s[:, KD.SUM_NLIQ].sum()) > 0, "dynamic: no liquidation happened on any path")
    return {"paths_with_liquidations": int((s[:, KD.SUM_NLIQ] > 0).sum()),
            "paths_with_bad_debt": int((s[:, KD.SUM_BAD] > 0).sum()),
            "max_repaid_plus_bad_over_debt": float(lost.max() / debt0)}


# --- Monte Carlo at scale (issue #5) ----------------------------------------------------------

MC_FULL = {"positions": 100_000, "paths": 1000, "steps": 1440, "chunk_paths": 125,
           "linear_paths": (125, 250, 500, 1000), "dask_param": "price.sigma=0.6:1.3:0.1", "dask_paths": 1500}
MC_QUICK = {"positions": 10_000, "paths": 100, "steps": 144, "chunk_paths": 25,
            "linear_paths": (25, 50, 100), "dask_param": "price.sigma=0.6:0.9:0.1", "dask_paths": 50}
# jump diffusion: GBM sigma 0.8 plus on average two downward-biased jumps a day (mean -4 %,
# sd 4 %), so every path has liquidations and some have cascades
MC_PRICE = {"kind": "jump", "sigma": GBM_SIGMA, "lam": 2 * 365.0, "jump_mean": -0.04, "jump_std": 0.04}
MC_TARGET_S = 60.0
DASK_TARGET = 1.8


def mc_scenario(n: int, steps: int, paths: int):
    """The benchmark scenario with ``positions = "synth:N:SEED"`` (each worker builds the same
    book) and the jump-diffusion price process; venues sized on the book as in ``make_scenario``."""
    from liqcascade.positions.synth import synth_book
    from liqcascade.scenario.models import Scenario

    coll, _ = synth_book(n, SEED, ETH_PRICE, LT)
    d = make_scenario(float(coll.sum()), steps, paths).model_dump(mode="python")
    d["name"] = "bench-mc"
    d["protocols"][0]["positions"] = f"synth:{n}:{SEED}"
    d["price"] = dict(MC_PRICE)
    d.pop("curve", None)
    return Scenario.model_validate(d)


def _mc_execute(plan, executor) -> tuple[dict, dict]:
    """Run ``plan`` into a fresh temporary store; ``(timing row, per-path columns)``."""
    import tempfile

    from liqcascade.montecarlo.runner import execute, load_point

    with tempfile.TemporaryDirectory(prefix="liqcascade-bench-mc-") as store:
        gc.collect()
        c0 = time.process_time()
        t = time.perf_counter()
        rep = execute(plan, store, executor=executor, warm=False)
        wall = time.perf_counter() - t
        cols = {pt.point_id: load_point(store, plan.run_id, pt.point_id) for pt in plan.valid_points}
    n = plan.paths * len(plan.valid_points)
    check(rep.status == "complete", f"mc: run ended {rep.status}")
    return ({"executor": rep.executor, "workers": rep.workers, "paths": n, "wall_s": wall,
             "simulate_s": rep.timings["simulate_s"], "paths_per_s": n / wall,
             "coordinator_cpu_s": time.process_time() - c0}, cols)


def _mc_check_cols(cols: dict, n_paths: int, debt0: float) -> dict:
    p = cols["path"]
    check(p.size == n_paths and bool(np.all(p == np.arange(n_paths))), "mc: paths missing or repeated in the store")
    for k in ("liquidations", "repaid", "bad_debt", "liquidated_value"):
        check(bool(np.all(np.isfinite(cols[k]))) and bool(np.all(cols[k] >= 0)), f"mc: {k} not finite or negative")
    lost = cols["repaid"] + cols["bad_debt"]
    check(bool(np.all(lost <= debt0 * (1 + 1e-9))), "mc: repaid + bad debt exceeds the initial debt on some path")
    check(float(cols["liquidations"].sum()) > 0, "mc: no liquidation on any path")
    return {"paths_with_liquidations": int((cols["liquidations"] > 0).sum()),
            "paths_with_bad_debt": int((cols["bad_debt"] > 0).sum()),
            "liquidations_mean": float(cols["liquidations"].mean()),
            "max_repaid_plus_bad_over_debt": float(lost.max() / debt0)}


def run_mc(args, con, threads: int) -> dict:
    """Correctness first, then the 100k × 1,000 × 1,440 timing (in-process on ``threads`` numba
    threads, and a 2-process pool), throughput against paths, and the Dask 1-vs-2-worker sweep."""
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import make_paths, run_dynamic
    from liqcascade.engine.warmup import warm
    from liqcascade.kernels import dynamic as KD
    from liqcascade.montecarlo.bench import throughput
    from liqcascade.montecarlo.executors import make_executor
    from liqcascade.montecarlo.runner import plan_run

    z = MC_QUICK if args.quick else MC_FULL
    out: dict = {"sizes": {k: list(v) if isinstance(v, tuple) else v for k, v in z.items()},
                 "price": MC_PRICE, "loadavg_start": os.getloadavg()}
    warm()
    n, steps, P = z["positions"], z["steps"], z["paths"]
    sc = mc_scenario(n, steps, P)
    c = compile_scenario(sc, HERE)
    debt0 = float(c.book.debt.sum())

    # 1. correctness: chunked MC run == one direct run_dynamic call on the same paths; conservation
    con.print("mc: checking correctness ...")
    t = time.perf_counter()
    small = plan_run(sc, paths=8, chunk_paths=3, base_dir=HERE)
    _, cols = _mc_execute(small, make_executor(workers=0))
    got = cols[small.valid_points[0].point_id]
    ref = run_dynamic(c, paths=make_paths(c, n_paths=8), record_paths=0).summary
    for k, j in (("liquidations", KD.SUM_NLIQ), ("repaid", KD.SUM_REPAID), ("bad_debt", KD.SUM_BAD),
                 ("liquidated_value", KD.SUM_LIQ_VALUE)):
        check(np.array_equal(got[k].astype(np.float64), ref[:, j]),
              f"mc: chunked store column {k} differs from a direct run_dynamic on paths 0..7")
    out["checks"] = {"chunked_equals_direct_paths": 8,
                     "dynamic_consistency": check_dynamic_consistency(c, make_paths(c, n_paths=2))}
    con.print(f"  chunked run (chunks of 3) == direct run on 8 paths; conservation on path 0: ok "
              f"[{time.perf_counter() - t:.1f} s]")

    # 2. the headline: N positions × P paths × steps, two executors on `threads` cores
    plan = plan_run(sc, paths=P, chunk_paths=z["chunk_paths"], base_dir=HERE)
    rows = []
    r, cols = _mc_execute(plan, make_executor(workers=0))
    r["numba_threads"] = threads
    out["checks"]["full_run"] = _mc_check_cols(cols[plan.valid_points[0].point_id], P, debt0)
    rows.append(r)
    con.print(f"  {n:,} × {P:,} × {steps:,} in-process ({threads} numba threads): {r['wall_s']:.1f} s")
    r, _ = _mc_execute(plan, make_executor(workers=threads))
    r["numba_threads"] = 1
    rows.append(r)
    con.print(f"  same, process pool of {threads}: {r['wall_s']:.1f} s")
    out["full"] = rows
    best = min(rows, key=lambda x: x["wall_s"])
    out["full_best_s"] = best["wall_s"]
    out["full_ratio_to_target"] = best["wall_s"] / MC_TARGET_S

    # 3. throughput against paths (in-process, same chunk size): linear if paths/s is flat
    lin = []
    for k in z["linear_paths"]:
        if k == P:
            row = dict(rows[0])
        else:
            row, _ = _mc_execute(plan_run(sc, paths=k, chunk_paths=z["chunk_paths"], base_dir=HERE),
                                 make_executor(workers=0))
        lin.append({"paths": k, "wall_s": row["wall_s"], "paths_per_s": row["paths_per_s"]})
    top = lin[-1]["paths_per_s"]
    for x in lin:
        x["relative_to_largest"] = x["paths_per_s"] / top
    out["linearity"] = lin
    # wall = fixed + paths / marginal rate: the fixed part (compiling the scenario and its synthetic
    # book, creating the store and catalog, reading back the metrics) is why small runs look slower
    xs = np.array([x["paths"] for x in lin], dtype=np.float64)
    ys = np.array([x["wall_s"] for x in lin])
    slope, fixed = np.polyfit(xs, ys, 1)
    pred = fixed + slope * xs
    out["linear_fit"] = {"fixed_s": float(fixed), "marginal_paths_per_s": float(1.0 / slope),
                         "max_rel_residual": float(np.max(np.abs(ys - pred) / ys))}
    con.print("  paths/s by paths: " + ", ".join(f"{x['paths']}: {x['paths_per_s']:.1f}" for x in lin)
              + f"; wall = {fixed:.2f} s + paths / {1.0 / slope:.1f} per s (max residual "
              f"{out['linear_fit']['max_rel_residual']:.1%})")

    # 4. Dask LocalCluster, 1 vs 2 workers, on a sweep (points × paths)
    if not args.no_dask:
        spec = z["dask_param"]
        try:
            d = throughput(sc, paths=z["dask_paths"], workers=(1, 2), executor="dask", params=[spec],
                           chunk_paths=z["chunk_paths"])
            out["dask"] = {**d, "param": spec, "speedup_2_vs_1": d["results"][1]["speedup"],
                           "ratio_to_target": DASK_TARGET / d["results"][1]["speedup"]}
            con.print(f"  dask sweep {d['points']} points × {d['paths']} paths: 1 worker "
                      f"{d['results'][0]['wall_s']:.1f} s, 2 workers {d['results'][1]['wall_s']:.1f} s "
                      f"(× {d['results'][1]['speedup']:.2f})")
        except ImportError as e:  # pragma: no cover
            out["dask"] = {"skipped": f"dask not importable: {e}"}
    out["loadavg_end"] = os.getloadavg()
    return out


def mc_rows(row, mc: dict, quick: bool, threads: int) -> None:
    z = mc["sizes"]
    head = f"MC {z['positions']:,} pos × {z['paths']:,} paths × {z['steps']:,} steps"
    for r in mc["full"]:
        tgt = f"< {MC_TARGET_S:.0f} s ({threads} cores)" if not quick else "(full size only)"
        row(f"{head}, {r['executor']}" + (f" ×{r['workers']}" if r["workers"] else f", {r['numba_threads']} thr"),
            f"{r['wall_s']:.1f} s", tgt, None if quick else r["wall_s"] / MC_TARGET_S,
            None if quick else r["wall_s"] < MC_TARGET_S)
    for x in mc["linearity"]:
        row(f"  {x['paths']:,} paths (in-process)", f"{x['paths_per_s']:.1f} paths/s",
            "flat = linear", x["relative_to_largest"], None)
    f = mc.get("linear_fit")
    if f:
        row("  fit: wall = fixed + paths / rate", f"{f['fixed_s']:.2f} s + 1/{f['marginal_paths_per_s']:.1f}",
            f"max residual {f['max_rel_residual']:.1%}", None, None)
    d = mc.get("dask")
    if d and "results" in d:
        r1, r2 = d["results"]
        row(f"dask sweep {d['points']} pts × {d['paths']} paths, 1 worker", f"{r1['paths_per_s']:.1f} paths/s", "",
            None, None)
        row("  2 workers", f"{r2['paths_per_s']:.1f} paths/s", f"≥ {DASK_TARGET} × 1 worker",
            d["ratio_to_target"], r2["speedup"] >= DASK_TARGET)


# --- memory child ------------------------------------------------------------------------------


def memory_child(n: int, n_shocks: int, threads: int) -> dict:
    """Run in a fresh interpreter: peak extra RSS of building the book and solving the curve."""
    import numba

    from liqcascade.engine.static import solve_static
    from liqcascade.engine.warmup import warm

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    warm()
    # start the thread pool and touch every code path of solve_static on a tiny book
    tc, td, _ = make_book_arrays(2000)
    solve_static(compile_bench(tc, td), shock_grid(8))
    del tc, td
    gc.collect()
    base = proc_status()
    coll, debt, gen = make_book_arrays(n)
    c = compile_bench(coll, debt)
    del coll, debt
    gc.collect()
    after_book = proc_status()
    b = c.book
    book_nbytes = b.nbytes()
    book_all = sum(a.nbytes for a in (b.coll, b.debt, b.key, b.seg_ptr, b.seg_asset, b.seg_proto,
                                     b.seg_debt_asset, b.idle_coll, b.idle_debt)) + b.ids.nbytes()
    # the wrapper's per-call temporaries alone (key × debt price, gathered per segment)
    from liqcascade.engine import static as static_mod

    ok = reset_hwm()
    tmp = b.key * static_mod._pdebt(c)[static_mod._seg_of(b)]
    del tmp
    prep = proc_status()
    ok = ok and reset_hwm()
    shocks = shock_grid(n_shocks)
    t = time.perf_counter()
    solve_static(c, shocks)
    elapsed = time.perf_counter() - t
    end = proc_status()
    return {
        "n": b.n,
        "generator": gen,
        "hwm_reset": ok,
        "rss_base": base["VmRSS"],
        "rss_after_book": after_book["VmRSS"],
        "hwm_build": after_book["VmHWM"],
        "hwm_prep": prep["VmHWM"],
        "hwm_solve": end["VmHWM"],
        "rss_end": end["VmRSS"],
        "solve_s": elapsed,
        "book_nbytes": book_nbytes,
        "book_all_arrays_nbytes": book_all,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def measure_memory(n: int, n_shocks: int, threads: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_memory-child", str(n), str(n_shocks), str(threads)]
    # a fixed glibc mmap threshold: every large array is its own mapping and goes back to the OS
    # when freed, so RSS reflects the arrays alive (glibc's dynamic threshold would otherwise keep
    # freed temporaries of a few MB resident on the heap and inflate the figure)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise BenchError(f"memory subprocess failed (rc {r.returncode}):\n{r.stderr[-4000:]}")
    m = json.loads(r.stdout.strip().splitlines()[-1])
    n = m["n"]
    m["book_bytes_per_pos"] = m["book_nbytes"] / n
    m["book_all_arrays_bytes_per_pos"] = m["book_all_arrays_nbytes"] / n
    m["book_resident_bytes_per_pos"] = (m["rss_after_book"] - m["rss_base"]) / n
    # headline: peak resident memory while solving, above the process before the book existed
    # (book arrays + solver scratch); construction temporaries are excluded when the HWM reset works
    peak = m["hwm_solve"] if m["hwm_reset"] else max(m["hwm_solve"], m["hwm_build"])
    m["peak_extra_bytes_per_pos"] = (peak - m["rss_base"]) / n
    m["solver_scratch_bytes_per_pos"] = (m["hwm_solve"] - m["rss_after_book"]) / n if m["hwm_reset"] else None
    m["build_peak_extra_bytes_per_pos"] = (m["hwm_build"] - m["rss_base"]) / n
    m["key_prep_peak_bytes_per_pos"] = (m["hwm_prep"] - m["rss_after_book"]) / n if m["hwm_reset"] else None
    return m


def run_static_large(n: int, shocks, sort_fn, ref, con) -> dict:
    """The static curve on ``n`` positions: conservation checked first, then the first call
    (which builds the solver's view of the book) and warm calls alternated with the yardstick."""
    from liqcascade.engine.static import solve_static

    coll, debt, gen = make_book_arrays(n)
    t = time.perf_counter()
    c = compile_bench(coll, debt)
    build = time.perf_counter() - t
    del coll, debt
    gc.collect()
    t = time.perf_counter()
    first = solve_static(c, shocks)
    first_s = time.perf_counter() - t
    pts = first.points
    check(all(p.converged for p in pts), f"static {n:,}: some shocks did not converge")
    check(all(np.isfinite(p.final_price) and p.bad_debt >= 0 for p in pts), f"static {n:,}: non-finite curve")
    conservation = check_conservation(c, 0.25)
    box: dict = {}
    alt = SY.alternate({"numba_sort": lambda: sort_fn(ref),
                        "static_curve": lambda: box.__setitem__("curve", solve_static(c, shocks))}, STATIC_ROUNDS)
    check([p.as_dict() for p in box["curve"].points] == [p.as_dict() for p in pts],
          f"static {n:,}: repeated solve_static calls disagree")
    out = {
        "positions": c.book.n, "shocks": int(shocks.size), "generator": gen, "book_build_s": build,
        "first_call_s": first_s, "first_call_note": "includes building the solver's view (bins, keys, prefix sums)",
        "times_s": alt["static_curve"]["times_s"], "cpu_s": alt["static_curve"]["cpu_s"],
        "min_s": alt["static_curve"]["min_s"], "median_s": alt["static_curve"]["median_s"],
        "numba_sort_min_s": alt["numba_sort"]["min_s"],
        "ratio_to_numba_sort": alt["static_curve"]["min_s"] / alt["numba_sort"]["min_s"],
        "liquidation_events_total": int(sum(p.liquidations for p in pts)), "conservation": conservation,
        "loadavg": alt["loadavg"],
    }
    con.print(f"  {c.book.n:,} positions: first call {first_s:.2f} s, warm min {out['min_s']:.3f} s "
              f"({out['ratio_to_numba_sort']:.2f} × numba sort); book build {build:.2f} s; conservation ok")
    return out


def measure_public_memory(ns, con) -> dict:
    """Peak RSS per position of `liqcascade curve` from a positions file (CSV, Parquet) and from
    ``synth:N:SEED``, above the same command on a 1,000-row book (:mod:`public_memory`)."""
    out = PM.measure(ns, PM.FORMATS, log=con.print)
    out["target_bytes_per_position"] = MEMORY_TARGET_B
    return out


# --- main --------------------------------------------------------------------------------------


def cpu_simd() -> list[str]:
    try:
        flags = next((ln.split(":", 1)[1].split() for ln in open("/proc/cpuinfo") if ln.startswith("flags")), [])
    except OSError:
        return []
    return [f for f in ("sse4_2", "avx2", "avx512f", "avx512vl", "avx512_bf16") if f in flags]


def machine_info(threads: int) -> dict:
    import numba

    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu,
        "cpu_simd": cpu_simd(),  # NumPy's np.sort speed depends on these; the numba yardstick does not
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_max_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer": None,
        "threads_used": threads,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller sizes (smoke test)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ap.add_argument("--threads", type=int, default=2, help="numba threads for the timed runs (default 2)")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocess")
    ap.add_argument("--part", choices=("all", "engine", "mc"), default="all",
                    help="engine = static/dynamic/memory, mc = the Monte Carlo targets (default: all); a partial "
                         "run updates its part of --out and keeps the rest")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask 1-vs-2-worker sweep")
    ap.add_argument("--_memory-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._memory_child:
        print(json.dumps(memory_child(*args._memory_child)))
        return 0
    try:
        return run(args)
    except BenchError as e:
        print(f"\nBENCHMARK ABORTED — correctness check failed: {e}", file=sys.stderr)
        return 1


def run(args) -> int:
    import numba
    from rich.console import Console
    from rich.table import Table

    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.engine.static import solve_static
    from liqcascade.engine.warmup import warm
    from liqcascade.kernels import dynamic as KD

    con = Console() if sys.stdout.isatty() else Console(width=132)
    sizes = QUICK if args.quick else FULL
    threads = min(args.threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    info = machine_info(threads)
    results: dict = {"mode": "quick" if args.quick else "full", "sizes": sizes, "machine": info,
                     "setup": {"eth_price": ETH_PRICE, "lt": LT, "bonus": BONUS, "protocol_fee": PFEE,
                               "pool_reserve_frac_of_collateral": POOL_FRAC, "book_depth_frac": BOOK_DEPTH,
                               "gbm_sigma": GBM_SIGMA, "dt_seconds": DT_SECONDS, "crash": CRASH,
                               "crash_start_frac": CRASH_START, "crash_over_frac": CRASH_OVER,
                               "crash_recovery": CRASH_RECOVERY, "seed": SEED}}
    con.rule(f"liqcascade benchmark ({results['mode']}) — {threads} numba threads, "
             f"{info['cpu_count']} CPUs, numpy {info['numpy']}, numba {info['numba']}")

    # 0. warm the numba cache (compile time excluded from every timing)
    t = time.perf_counter()
    warm()
    results["warmup_s"] = time.perf_counter() - t
    try:
        info["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        pass
    con.print(f"warm-up (compile or load cache): {results['warmup_s']:.2f} s")
    info["loadavg_start"] = os.getloadavg()
    if info["loadavg_start"][0] > 0.5:
        con.print(f"[yellow]note: load average {info['loadavg_start'][0]:.2f} before the run — other processes "
                  "share the CPUs; compare the reported CPU utilisation with the thread count[/]")

    if args.part == "mc":
        return run_mc_only(args, con, threads, results)

    # 1. books
    N = sizes["static_n"]
    t = time.perf_counter()
    coll, debt, gen = make_book_arrays(N)
    results["book_generator"] = gen
    results["book_generate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    c_static = compile_bench(coll, debt)
    results["book_build_s"] = time.perf_counter() - t
    con.print(f"book: {c_static.book.n:,} positions from {gen} "
              f"(generate {results['book_generate_s']:.2f} s, sort/build {results['book_build_s']:.2f} s)")

    # 2. correctness first
    con.print("checking correctness ...")
    t = time.perf_counter()
    checks = {"parity": check_parity(coll, debt, 2000, np.array([0.0, 0.05, 0.15, 0.3, 0.45]))}
    checks["conservation"] = check_conservation(c_static, 0.25)
    Nd = sizes["dyn_n"]
    c_dyn = compile_bench(coll[:Nd], debt[:Nd], sizes["dyn_steps"], sizes["dyn_paths"])
    t_p = time.perf_counter()
    dpaths = make_dyn_paths(c_dyn, sizes["dyn_steps"], sizes["dyn_paths"])
    results["dyn_paths_generate_s"] = time.perf_counter() - t_p
    checks["dynamic_consistency"] = check_dynamic_consistency(c_dyn, dpaths)
    results["checks"] = checks
    for w in checks["parity"]["warnings"]:
        con.print(f"[red]warning (not fatal, rational mode is not timed):[/] {w}")
    con.print(f"  parity vs brute-force twin on {checks['parity']['positions']} positions "
              f"({len(checks['parity']['cases'])} cases), conservation at shock 0.25 "
              f"({checks['conservation']['liquidations']:,} liquidations), dynamic consistency: ok "
              f"[{time.perf_counter() - t:.1f} s]")
    del coll, debt

    # 3-4. static curve against its yardstick, a numba-compiled np.sort of 1M float64, the
    # timings alternated (yardstick, curve, NumPy's sort, …), min of STATIC_ROUNDS
    shocks = shock_grid(sizes["static_shocks"])
    sort_fn = SY.numba_sort()
    ref = SY.yardstick_data()
    solve_static(c_static, shocks[:2])  # the solver's view of the book is built once per book: not timed
    box: dict = {}
    alt = SY.alternate({"numba_sort": lambda: sort_fn(ref),
                        "static_curve": lambda: box.__setitem__("curve", solve_static(c_static, shocks)),
                        "np_sort": lambda: np.sort(ref)}, STATIC_ROUNDS)
    curve = box["curve"]
    sort_min = alt["numba_sort"]["min_s"]
    st_all, st_cpu = alt["static_curve"]["times_s"], alt["static_curve"]["cpu_s"]
    st_min, st_med = alt["static_curve"]["min_s"], alt["static_curve"]["median_s"]
    np_sort_min = alt["np_sort"]["min_s"]
    results["yardstick"] = {"what": "numba-compiled np.sort of 1M uniform float64 (numba's quicksort, no SIMD path)",
                            "n": SY.YARDSTICK_N, "rounds": STATIC_ROUNDS, "numba_sort": alt["numba_sort"],
                            "np_sort": alt["np_sort"], "loadavg": alt["loadavg"]}
    pts = curve.points
    n_liq = np.array([p.liquidations for p in pts])
    rounds = np.array([p.rounds for p in pts])
    check(all(p.converged for p in pts), "static: some shocks did not converge")
    check(all(np.isfinite(p.final_price) and p.bad_debt >= 0 for p in pts), "static: non-finite curve")
    results["static"] = {
        "positions": c_static.book.n, "shocks": int(shocks.size), "min_s": st_min, "median_s": st_med,
        "times_s": st_all,
        "cpu_s": st_cpu, "cpu_utilisation": float(np.median(np.array(st_cpu) / np.array(st_all))),
        "ratio_to_numba_sort": st_min / sort_min, "target_ratio": STATIC_TARGET_RATIO,
        "ratio_to_np_sort": st_min / np_sort_min, "loadavg": alt["loadavg"],
        "liquidation_events_total": int(n_liq.sum()), "rounds_total": int(rounds.sum()),
        "rounds_max": int(rounds.max()), "liquidations_max": int(n_liq.max()),
        "ns_per_liquidation_event": st_med * threads / max(1, n_liq.sum()) * 1e9,
        "critical_shock": curve.critical_shock,
        "final_price_at": {f"{s:.2f}": float(pts[int(np.argmin(np.abs(shocks - s)))].final_price)
                           for s in (0.1, 0.2, 0.3, 0.4, 0.5)},
    }
    con.print(f"static curve: min {st_min:.3f} s over {len(st_all)} run(s), numba sort {sort_min * 1e3:.1f} ms "
              f"→ {st_min / sort_min:.2f} × ({n_liq.sum():,} liquidation events, {rounds.sum():,} rounds)")

    # 4b. where the static time goes: call the kernel with exactly the arguments solve_static
    # passes (captured once, so this keeps working when the kernel signature changes)
    from liqcascade.engine import static as static_mod

    b = c_static.book
    kernels = {"per-position": (static_mod, "run_rows"), "aggregated": (static_mod.KA, "solve_curve_agg")}
    engine_used = static_mod.choose_engine(c_static, "mechanical")[0]
    mod_k, name_k = kernels[engine_used]
    kernel_fn = getattr(mod_k, name_k)
    captured = {}

    def spy(*a):
        captured["args"] = a
        return kernel_fn(*a)

    setattr(mod_k, name_k, spy)
    try:
        t = time.perf_counter()
        solve_static(c_static, shocks[:1])
        prep_and_one = time.perf_counter() - t
    finally:
        setattr(mod_k, name_k, kernel_fn)
    # the aggregated kernel takes a shock order last (interleaved across threads)
    kargs = captured["args"][1:-1] if engine_used == "aggregated" else captured["args"][1:]
    t = time.perf_counter()
    _ = b.key * static_mod._pdebt(c_static)[static_mod._seg_of(b)]
    prep = time.perf_counter() - t
    del _

    def kernel(sh):
        if engine_used == "aggregated":
            return kernel_fn(sh, *kargs, static_mod.KA.interleaved_order(sh.shape[0], numba.get_num_threads()))
        return kernel_fn(sh, *kargs)

    # thread scaling on a subgrid (every 10th shock of the grid, same range) to keep the run short
    # (contiguous copies: a strided view would make numba compile a new specialisation)
    sub = np.ascontiguousarray(shocks[::10]) if shocks.size >= 20 else shocks
    scaling, cpu = {}, {}
    for th in sorted({1, threads}):
        numba.set_num_threads(th)
        scaling[str(th)], _, _ = median_time(lambda: kernel(sub), 2)
    # prange splits the shocks into equal contiguous blocks, one per thread: time each block
    # alone on one thread to see the imbalance (deep shocks cost more than shallow ones)
    numba.set_num_threads(1)
    blocks = [np.ascontiguousarray(x) for x in np.array_split(sub, threads)]
    block_1t = [median_time(lambda bl=bl: kernel(bl), 1)[0] for bl in blocks]
    # cost of one deep shock on one thread, in CPU time (robust to other load on the machine)
    t0 = time.thread_time()
    one = kernel(shocks[-1:])
    cpu["deep_shock_cpu_s"] = time.thread_time() - t0
    numba.set_num_threads(threads)
    chunk = None
    if hasattr(numba, "set_parallel_chunksize") and threads > 1:
        old = numba.set_parallel_chunksize(1)
        chunk, _, _ = median_time(lambda: kernel(sub), 2)
        numba.set_parallel_chunksize(old)
    del one
    n_deep = int(n_liq[-1])
    results["static_profile"] = {
        "engine": engine_used,
        "wrapper_key_prep_s": prep,
        "solve_static_one_shock_s": prep_and_one,
        "subgrid_shocks": int(sub.size),
        "kernel_subgrid_s_by_threads": scaling,
        "thread_speedup": scaling["1"] / scaling[str(threads)] if str(threads) in scaling else 1.0,
        "kernel_subgrid_block_s_1thread": block_1t,
        "kernel_subgrid_chunksize1_s": chunk,
        "deep_shock": float(shocks[-1]),
        "deep_shock_cpu_s": cpu["deep_shock_cpu_s"],
        "deep_shock_liquidations": n_deep,
        "deep_shock_ns_per_liquidation": cpu["deep_shock_cpu_s"] / max(1, n_deep) * 1e9,
    }

    # 4c. the static curve on a 10x larger book (correctness first, then the first call — which
    # builds the solver's view of the book — and warm calls alternated with the yardstick)
    con.print(f"static curve on {sizes['static_large_n']:,} positions ...")
    results["static_large"] = run_static_large(sizes["static_large_n"], shocks, sort_fn, ref, con)
    del ref

    # 5. dynamic
    steps, P = sizes["dyn_steps"], sizes["dyn_paths"]
    dyn_rep = 2
    d_cpu: list = []
    d_med, d_all, res = median_time(lambda: run_dynamic(c_dyn, paths=dpaths, record_paths=0), dyn_rep, cpu=d_cpu)
    totals_check = check_dynamic_totals(res, float(c_dyn.book.debt.sum()))
    s = res.summary
    pos_steps = c_dyn.book.n * steps * P
    # fixed per-step cost (venues, arbitrage, oracle) with a one-position book
    c_tiny = compile_bench(c_dyn.book.coll[-1:], c_dyn.book.debt[-1:], steps, P)
    c_tiny.vs0[:], c_tiny.vdk[:], c_tiny.vdq[:] = c_dyn.vs0, c_dyn.vdk, c_dyn.vdq
    t_fixed, _, _ = median_time(lambda: run_dynamic(c_tiny, paths=dpaths, record_paths=0), 1)
    numba.set_num_threads(1)
    d1, _, _ = median_time(lambda: run_dynamic(c_dyn, paths=dpaths, record_paths=0), 1)
    numba.set_num_threads(threads)
    results["dynamic"] = {
        "positions": c_dyn.book.n, "steps": steps, "paths": P, "median_s": d_med, "times_s": d_all,
        "cpu_s": d_cpu, "cpu_utilisation": float(np.median(np.array(d_cpu) / np.array(d_all))),
        "position_steps_per_s": pos_steps / d_med,
        "paths_generate_s": results["dyn_paths_generate_s"],
        "liquidations_mean_per_path": float(s[:, KD.SUM_NLIQ].mean()),
        "liquidations_total": float(s[:, KD.SUM_NLIQ].sum()),
        "skipped_total": float(s[:, KD.SUM_SKIPPED].sum()),
        "bad_debt_mean": float(s[:, KD.SUM_BAD].mean()),
        "repaid_mean": float(s[:, KD.SUM_REPAID].mean()),
        "max_drawdown": float(np.max(1 - res.min_spot[:, 0] / c_dyn.p0[0])),
        "initial_debt": float(c_dyn.book.debt.sum()),
        "checks": totals_check,
        "fixed_cost_one_position_s": t_fixed,
        "one_thread_s": d1,
        "thread_speedup": d1 / d_med,
    }

    # 6. memory (fresh subprocesses so the numbers are not polluted by this process' history):
    # the public path (positions file -> `liqcascade curve`, peak RSS above a 1,000-row book) and
    # the array path (a book built from arrays in-process, the solver's scratch)
    if not args.no_memory:
        con.print("measuring memory on the public path (positions file → liqcascade curve) ...")
        results["memory_public"] = measure_public_memory(MEMORY_PUBLIC_N_QUICK if args.quick else MEMORY_PUBLIC_N, con)
        con.print("measuring memory of the array path in a subprocess ...")
        results["memory"] = measure_memory(N, sizes["static_shocks"], threads)

    # 6b. Monte Carlo at scale
    if args.part == "all":
        results["montecarlo"] = run_mc(args, con, threads)

    info["loadavg_end"] = os.getloadavg()

    # 7. report
    tab = Table(title=f"liqcascade benchmark ({results['mode']})", show_lines=False)
    for col in ("metric", "measured", "target", "ratio", "ok?"):
        tab.add_column(col, justify="left" if col == "metric" else "right")

    def row(metric, measured, target, ratio, ok):
        okstr = "" if ok is None else ("[green]yes[/]" if ok else "[red]no[/]")
        tab.add_row(metric, measured, target, "" if ratio is None else f"{ratio:.2f}", okstr)

    st = results["static"]
    yd = results["yardstick"]
    row(f"yardstick: numba np.sort {SY.YARDSTICK_N:,} float64 (min of {STATIC_ROUNDS}, alternated)",
        f"{sort_min * 1e3:.1f} ms", "", None, None)
    row(f"static curve {st['positions']:,} pos × {st['shocks']:,} shocks (min of {STATIC_ROUNDS})", f"{st_min:.3f} s",
        f"≤ {STATIC_TARGET_RATIO:g} × yardstick = {STATIC_TARGET_RATIO * sort_min:.3f} s",
        st["ratio_to_numba_sort"] / STATIC_TARGET_RATIO, st["ratio_to_numba_sort"] <= STATIC_TARGET_RATIO)
    row("  static / numba np.sort", f"{st['ratio_to_numba_sort']:.2f} ×", f"≤ {STATIC_TARGET_RATIO:g} ×", None, None)
    row(f"  (NumPy np.sort, SIMD: {yd['np_sort']['min_s'] * 1e3:.1f} ms)", f"{st['ratio_to_np_sort']:.1f} ×",
        "reference only", None, None)
    sl = results["static_large"]
    row(f"static curve {sl['positions']:,} pos × {sl['shocks']:,} shocks, first call (view built)",
        f"{sl['first_call_s']:.3f} s", f"≤ {STATIC_LARGE_TARGET_S:g} s ({threads} threads)" if not args.quick
        else "(full size only)", sl["first_call_s"] / STATIC_LARGE_TARGET_S if not args.quick else None,
        sl["first_call_s"] <= STATIC_LARGE_TARGET_S if not args.quick else None)
    row(f"  warm (min of {STATIC_ROUNDS}, alternated)", f"{sl['min_s']:.3f} s",
        f"{sl['ratio_to_numba_sort']:.2f} × yardstick", None, None)
    row("  book build from arrays (sort)", f"{sl['book_build_s']:.2f} s", "", None, None)
    sp = results["static_profile"]
    sub_n = sp["subgrid_shocks"]
    row(f"  solve_curve, {sub_n} shocks, 1 thread", f"{sp['kernel_subgrid_s_by_threads']['1']:.3f} s", "", None, None)
    if threads > 1:
        row(f"  solve_curve, {sub_n} shocks, {threads} threads", f"{sp['kernel_subgrid_s_by_threads'][str(threads)]:.3f} s",
            f"speed-up {sp['thread_speedup']:.2f} ×", None, None)
        row("  per-thread blocks alone (1 thread)", " / ".join(f"{x:.2f}" for x in sp["kernel_subgrid_block_s_1thread"]) + " s",
            "", None, None)
        if sp["kernel_subgrid_chunksize1_s"] is not None:
            row(f"  same, numba chunksize 1 ({threads} threads)", f"{sp['kernel_subgrid_chunksize1_s']:.3f} s", "", None, None)
    row(f"  shock {sp['deep_shock']:.2f}: CPU per liquidation", f"{sp['deep_shock_ns_per_liquidation']:.0f} ns",
        f"{sp['deep_shock_liquidations']:,} events", None, None)
    row("  liquidation events (all shocks)", f"{st['liquidation_events_total']:,}", "", None, None)
    dy = results["dynamic"]
    row(f"dynamic {dy['positions']:,} pos × {steps:,} steps × {P} paths", f"{d_med:.3f} s",
        f"< 10 s ({threads} threads)" if not args.quick else "< 10 s (full size)",
        d_med / 10 if not args.quick else None, d_med < 10 if not args.quick else None)
    row("  position-steps / s", f"{dy['position_steps_per_s']:.3g}", "", None, None)
    row("  liquidations / path (mean)", f"{dy['liquidations_mean_per_path']:,.0f}", "", None, None)
    row("  fixed cost (1-position book)", f"{t_fixed:.3f} s", "", None, None)
    row("  1 thread", f"{d1:.3f} s", f"speed-up {dy['thread_speedup']:.2f} ×", None, None)
    if "memory_public" in results:
        for r in results["memory_public"]["runs"]:
            b = r["bytes_per_position"]
            what = {"csv": "CSV", "parquet": "Parquet", "synth": "synth:N:SEED"}[r["format"]]
            full = r["n"] in MEMORY_PUBLIC_N  # the target is set at 2M and 10M (fixed costs weigh more below)
            row(f"memory, public path: {what} {r['n']:,} → curve (1,000 shocks)", f"{b:.1f} B / position",
                f"≤ {MEMORY_TARGET_B:g} B" if full else "(at 2M, 10M)", b / MEMORY_TARGET_B if full else None,
                b <= MEMORY_TARGET_B if full else None)
    if "memory" in results:
        m = results["memory"]
        row("memory, array path: peak extra RSS / position (static)", f"{m['peak_extra_bytes_per_pos']:.1f} B", "",
            None, None)
        row("  book resident / position", f"{m['book_resident_bytes_per_pos']:.1f} B", "", None, None)
        row("  Book.nbytes() / position", f"{m['book_bytes_per_pos']:.1f} B", "", None, None)
        row("  all book arrays (incl. ids) / position", f"{m['book_all_arrays_bytes_per_pos']:.1f} B", "", None, None)
        if m["solver_scratch_bytes_per_pos"] is not None:
            row("  solver peak scratch / position", f"{m['solver_scratch_bytes_per_pos']:.1f} B", "", None, None)
        if m["key_prep_peak_bytes_per_pos"] is not None:
            row("    of which solve_static key prep", f"{m['key_prep_peak_bytes_per_pos']:.1f} B", "", None, None)
        row("  static curve time in that subprocess", f"{m['solve_s']:.3f} s", "", None, None)
        row("  book build peak extra / position", f"{m['build_peak_extra_bytes_per_pos']:.1f} B", "", None, None)
    if "montecarlo" in results:
        mc_rows(row, results["montecarlo"], args.quick, threads)
    con.print(tab)

    if args.part == "engine" and args.out.exists():
        # a partial run keeps the other part's figures (same mode only)
        try:
            old = json.loads(args.out.read_text())
        except ValueError:
            old = {}
        if old.get("mode") == results["mode"] and "montecarlo" in old:
            results["montecarlo"] = old["montecarlo"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")
    con.print(f"results written to {args.out}")
    return 0


def run_mc_only(args, con, threads: int, results: dict) -> int:
    """``--part mc``: the Monte Carlo targets only; updates ``montecarlo`` in ``--out``."""
    from rich.table import Table

    mc = run_mc(args, con, threads)
    tab = Table(title=f"liqcascade Monte Carlo benchmark ({results['mode']})")
    for col in ("metric", "measured", "target", "ratio", "ok?"):
        tab.add_column(col, justify="left" if col == "metric" else "right")

    def row(metric, measured, target, ratio, ok):
        okstr = "" if ok is None else ("[green]yes[/]" if ok else "[red]no[/]")
        tab.add_row(metric, measured, target, "" if ratio is None else f"{ratio:.2f}", okstr)

    mc_rows(row, mc, args.quick, threads)
    con.print(tab)
    old = {}
    if args.out.exists():
        try:
            old = json.loads(args.out.read_text())
        except ValueError:
            old = {}
    if old.get("mode") not in (None, results["mode"]):
        old = {}  # do not mix quick and full figures in one file
    old.setdefault("mode", results["mode"])
    old["montecarlo"] = {**mc, "machine": results["machine"], "date": _dt.datetime.now(_dt.timezone.utc).isoformat()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(old, indent=2, default=float) + "\n")
    con.print(f"results written to {args.out} (montecarlo)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
