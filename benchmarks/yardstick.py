"""Yardstick for the dynamic engine: a bare compiled loop for a stress workload.

The workload (identical on both sides):

* 100,000 positions of one protocol, collateral A against a stable debt asset Q, health factor
  ``1.02 + Gamma(shape 2, scale 0.2)`` at the start price (collateral lognormal, debt from the HF);
  liquidation threshold 0.8, bonus 5 %, no protocol fee, a fixed close factor of 0.5; mechanical
  liquidators (every position under HF 1 is liquidated at the oracle price, and liquidated again
  on a later step when it falls back under HF 1);
* the reference price follows a GBM at 270 % annualised volatility (no drift), 1-minute steps,
  1,440 steps;
* one constant-product pool (no fee) with an asset reserve equal to the book's collateral,
  re-centred on the reference with an impact half-life of 30 steps;
* the oracle is the pool's spot lagged 3 steps; each step's seized collateral is sold into the
  pool after the liquidations.

:func:`bare_path` is the bare loop: no engine code, no layouts, no mechanisms, no events — the
pool as two floats, the book sorted by liquidation key with a pointer, and the positions that
stay open after a liquidation in runs that keep the key order (read up to the first one that
does not cross). It visits positions in the same order as the engine, so its sums are the
engine's to the last bit. :func:`engine_scenario` expresses the same workload as a scenario
(``half_life_seconds = 1800`` on the cpmm venue, a ``spot`` oracle with ``lag_seconds = 180``,
``close_factor_rule = "fixed"``).

``python benchmarks/yardstick.py`` checks that both give the same liquidations, repaid debt and
bad debt on a few paths, then times them (alternating, minimum of 3): per path on one thread,
and the full 100k × 1,000 paths × 1,440 steps on 2 threads. The engine runs the workload on the
kernel it picks (the lean one: no mechanism, agent, rate, multi-asset position or unit, venues
and oracles of the core kinds; recorded
as ``kernel``); the per-path timing also runs the full kernel on it (``ratio_cpu_full``). ``--quick`` shrinks everything.
Results go to the ``yardstick`` section of ``benchmarks/results.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import time
from pathlib import Path

from _machine import write_section

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent

WORKLOAD = {
    "positions": 100_000,
    "hf_min": 1.02,
    "hf_gamma_shape": 2.0,
    "hf_gamma_scale": 0.2,
    "sigma": 2.7,
    "dt_seconds": 60.0,
    "steps": 1440,
    "price": 2000.0,
    "lt": 0.8,
    "bonus": 0.05,
    "close_factor": 0.5,
    "reserve_frac": 1.0,
    "half_life_steps": 30.0,
    "oracle_lag_steps": 3,
    "seed": 20260601,
}

# bare-loop output columns
B_NLIQ, B_REPAID, B_BAD, B_SEIZED, B_MIN_SPOT, B_FINAL_SPOT = range(6)
NB = 6


# ---- inputs (plain NumPy) ----------------------------------------------------------------------


def make_book(n: int, seed: int, w=WORKLOAD):
    """``(coll, debt)`` of ``n`` positions: HF ``hf_min + Gamma(shape, scale)`` at the start price."""
    rng = np.random.default_rng(seed)
    coll = rng.lognormal(math.log(10.0), 1.0, n)
    hf = w["hf_min"] + rng.gamma(w["hf_gamma_shape"], w["hf_gamma_scale"], n)
    debt = coll * w["price"] * w["lt"] / hf
    return coll, debt


def make_paths(n_paths: int, steps: int, seed: int, w=WORKLOAD) -> np.ndarray:
    """GBM reference paths ``[n_paths, steps + 1]`` (no drift: ``E[S_T] = S_0``)."""
    rng = np.random.default_rng(seed + 1)
    dt = w["dt_seconds"] / (365.0 * 86400.0)
    s = w["sigma"]
    z = rng.standard_normal((n_paths, steps))
    logs = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(-0.5 * s * s * dt + s * math.sqrt(dt) * z, axis=1)],
                          axis=1)
    return w["price"] * np.exp(logs)


def sorted_book(coll, debt, lt):
    """The book sorted by liquidation key ``debt / (coll · LT)``, highest first."""
    key = debt / (coll * lt)
    order = np.argsort(-key, kind="stable")
    return coll[order].copy(), debt[order].copy(), key[order].copy()


# ---- the bare loop --------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _recentre(x, y, spot):
    k = x * y
    return math.sqrt(k / spot), math.sqrt(k * spot)


@numba.njit(cache=True, nogil=True)
def _read(h, e, p, src_c, src_d, src_k, cf, lb, lt, sc, sd, sk, n_t, run_h, run_e, n_runs, sold, out):
    """Liquidate entries ``h …`` of one run (or of the untouched book) while their key crosses
    ``p``; append the ones that stay open to the store (``sc``, ``sd``, ``sk`` from ``n_t``) as
    new runs (a run ends where an appended key rises). Returns ``(h, n_t, n_runs, sold)``."""
    start = n_t
    last = np.inf
    while h < e:
        k = src_k[h]
        if not (k > p):
            break
        c = src_c[h]
        d = src_d[h]
        h += 1
        repay = cf * d
        seize = repay * lb / p
        bad = 0.0
        closed = False
        if seize >= c:
            seize = c
            repay = c * p / lb
            if repay > d:
                repay = d
            bad = d - repay
            closed = True
        elif repay >= d:
            repay = d
            closed = True
        c = c - seize
        d = d - repay - bad
        sold += seize
        out[B_NLIQ] += 1.0
        out[B_REPAID] += repay
        out[B_BAD] += bad
        if closed or d <= 0.0:
            continue
        nk = d / (c * lt) if c > 0.0 else np.inf
        if nk > last and n_t > start:
            run_h[n_runs] = start
            run_e[n_runs] = n_t
            n_runs += 1
            start = n_t
        sc[n_t] = c
        sd[n_t] = d
        sk[n_t] = nk
        last = nk
        n_t += 1
    if n_t > start:
        run_h[n_runs] = start
        run_e[n_runs] = n_t
        n_runs += 1
    return h, n_t, n_runs, sold


@numba.njit(cache=True, nogil=True)
def bare_path(path, coll, debt, key, x0, y0, half, lag, cf, lb, lt, out):
    """One path of the workload; ``out[NB]`` receives liquidations, repaid, bad debt, units seized,
    min and final pool spot. ``coll/debt/key`` sorted by key, highest first."""
    T = path.shape[0] - 1
    n = coll.shape[0]
    cap = 4 * n + 1024
    sc = np.empty(cap)
    sd = np.empty(cap)
    sk = np.empty(cap)
    run_h = np.empty(cap, np.int64)  # runs of the store: entries [run_h, run_e) still to read
    run_e = np.empty(cap, np.int64)
    n_runs = 0
    n_t = 0
    ptr = 0
    x = x0
    y = y0
    ref = y0 / x0
    hist = np.empty(T + 1)
    hist[0] = y / x
    decay = 0.5 ** (1.0 / half)
    for j in range(NB):
        out[j] = 0.0
    out[B_MIN_SPOT] = y / x
    p = y / x
    for t in range(1, T + 1):
        r = path[t] / path[t - 1]
        if r > 0.0 and r != 1.0:
            ref *= r
            x, y = _recentre(x, y, (y / x) * r)
        impact = (1.0 - (y / x) / ref) * decay
        x, y = _recentre(x, y, ref * (1.0 - impact))
        hist[t] = y / x
        cand = hist[t - lag] if t >= lag else hist[0]
        if cand > 0.0 and np.isfinite(cand):
            p = cand
        # room: each open position is appended at most once per step
        if n_t + n + 1 > cap:
            cap2 = 2 * cap
            sc = _grow_f(sc, n_t, cap2)
            sd = _grow_f(sd, n_t, cap2)
            sk = _grow_f(sk, n_t, cap2)
            run_h = _grow_i(run_h, n_runs, cap2)
            run_e = _grow_i(run_e, n_runs, cap2)
            cap = cap2
        w = 0  # drop the runs read to their end
        for j in range(n_runs):
            if run_h[j] < run_e[j]:
                run_h[w] = run_h[j]
                run_e[w] = run_e[j]
                w += 1
        n_runs0 = w
        n_runs = w
        sold = 0.0
        for j in range(n_runs0):
            h = run_h[j]
            if sk[h] > p:
                h, n_t, n_runs, sold = _read(h, run_e[j], p, sc, sd, sk, cf, lb, lt, sc, sd, sk, n_t, run_h, run_e,
                                             n_runs, sold, out)
                run_h[j] = h
        ptr, n_t, n_runs, sold = _read(ptr, n, p, coll, debt, key, cf, lb, lt, sc, sd, sk, n_t, run_h, run_e,
                                       n_runs, sold, out)
        if sold > 0.0:
            out[B_SEIZED] += sold
            den = x + sold
            y = y * (x / den)
            x = x + sold
        spot = y / x
        if spot < out[B_MIN_SPOT]:
            out[B_MIN_SPOT] = spot
    out[B_FINAL_SPOT] = y / x


@numba.njit(cache=True, nogil=True)
def _grow_f(a, n, cap):
    b = np.empty(cap)
    b[:n] = a[:n]
    return b


@numba.njit(cache=True, nogil=True)
def _grow_i(a, n, cap):
    b = np.empty(cap, np.int64)
    b[:n] = a[:n]
    return b


@numba.njit(cache=True, nogil=True)
def bare_many(paths, rows, coll, debt, key, x0, y0, half, lag, cf, lb, lt, out):
    for j in range(rows.shape[0]):
        p = rows[j]
        bare_path(paths[p], coll, debt, key, x0, y0, half, lag, cf, lb, lt, out[p])


def run_bare(paths, book, w=WORKLOAD, threads=1) -> np.ndarray:
    """Every path of ``paths`` through :func:`bare_path` on ``threads`` threads (chunks of paths)."""
    from concurrent.futures import ThreadPoolExecutor

    coll, debt, key = book
    x0 = w["reserve_frac"] * float(coll.sum())
    y0 = x0 * w["price"]
    out = np.zeros((paths.shape[0], NB))
    args = (coll, debt, key, x0, y0, float(w["half_life_steps"]), int(w["oracle_lag_steps"]),
            float(w["close_factor"]), 1.0 + float(w["bonus"]), float(w["lt"]), out)
    rows = np.arange(paths.shape[0], dtype=np.int64)
    size = max(1, min(64, -(-rows.shape[0] // (4 * threads))))
    chunks = [rows[i:i + size] for i in range(0, rows.shape[0], size)]
    if threads == 1:
        for ch in chunks:
            bare_many(paths, ch, *args)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda ch: bare_many(paths, ch, *args), chunks))
    return out


# ---- the engine side -------------------------------------------------------------------------------


def engine_scenario(coll, w=WORKLOAD) -> dict:
    """The workload as a scenario dict (positions come as a book; paths are given to the run)."""
    return {
        "name": "yardstick",
        "simulation": {"steps": w["steps"], "dt_seconds": w["dt_seconds"], "paths": 1, "record_paths": 0,
                       "seed": w["seed"]},
        "assets": [{"name": "A", "price": w["price"]}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "gbm", "sigma": w["sigma"]},
        "venues": [{"name": "pool", "asset": "A", "kind": "cpmm", "fee": 0.0,
                    "reserve_asset": w["reserve_frac"] * float(np.sum(coll)),
                    "half_life_seconds": w["half_life_steps"] * w["dt_seconds"]}],
        "oracles": [{"name": "o", "asset": "A", "kind": "spot",
                     "lag_seconds": w["oracle_lag_steps"] * w["dt_seconds"]}],
        "protocols": [{"name": "p", "positions": "-", "collateral": "A", "debt": "Q",
                       "close_factor_rule": "fixed", "close_factor": w["close_factor"], "oracles": {"A": "o"},
                       "params": {"A": {"liquidation_threshold": w["lt"], "liquidation_bonus": w["bonus"],
                                        "protocol_fee": 0.0}}}],
        "liquidators": {"mode": "mechanical"},
        "arbitrage": {"enabled": False, "to_reference": False},
    }


def engine_compiled(coll, debt, w=WORKLOAD):
    from liqcascade.engine.compile import book_from_arrays, compile_scenario
    from liqcascade.scenario.models import Scenario

    sc = Scenario.model_validate(engine_scenario(coll, w))
    return compile_scenario(sc, Path("."), book=book_from_arrays(coll, debt, w["lt"]))


def engine_paths(paths) -> np.ndarray:
    """The reference paths as the engine takes them: ``[paths, steps + 1, assets]`` with the
    stable debt asset at 1."""
    p = paths[:, :, None]
    return np.ascontiguousarray(np.concatenate([p, np.ones_like(p)], axis=2))


def run_engine(ki, paths, threads=1, variant=None) -> np.ndarray:
    """Summaries of every path (:func:`engine_paths`) through the engine's loop, nothing recorded,
    on ``threads`` threads (the engine's own thread pool); ``ki`` the scenario's kernel inputs
    (:func:`liqcascade.engine.compile.kernel_inputs`, built once like a run does). Columns as
    :func:`bare_path`'s. ``variant``: the compiled loop (default the one the engine picks, the
    lean one for this workload; ``"full"``: the kernel with every mechanism's code)."""
    from liqcascade.engine.dynamic import run_many
    from liqcascade.kernels import dynamic as K

    n = paths.shape[0]
    summary = np.zeros((n, K.NSUM))
    mn = np.zeros((n, 2))
    fin = np.zeros((n, 2))
    run_many(paths, 0, np.arange(n, dtype=np.int64), ki, summary, mn, fin, threads=threads, variant=variant)
    out = np.zeros((n, NB))
    out[:, B_NLIQ] = summary[:, K.SUM_NLIQ]
    out[:, B_REPAID] = summary[:, K.SUM_REPAID]
    out[:, B_BAD] = summary[:, K.SUM_BAD]
    out[:, B_MIN_SPOT] = mn[:, 0]
    out[:, B_FINAL_SPOT] = fin[:, 0]
    return out


# ---- check, time, record ------------------------------------------------------------------------------


def check(bare, eng):
    """Same liquidations (exactly) and the same repaid and bad debt, pool spots (to 1e-12)."""
    problems = []
    if not np.array_equal(bare[:, B_NLIQ], eng[:, B_NLIQ]):
        problems.append(f"liquidations differ: bare {bare[:, B_NLIQ].tolist()} engine {eng[:, B_NLIQ].tolist()}")
    for col, name in ((B_REPAID, "repaid"), (B_BAD, "bad debt"), (B_MIN_SPOT, "min spot"),
                      (B_FINAL_SPOT, "final spot")):
        if not np.allclose(bare[:, col], eng[:, col], rtol=1e-12, atol=1e-9):
            problems.append(f"{name} differs: bare {bare[:, col].tolist()} engine {eng[:, col].tolist()}")
    return problems


def _time(fn, repeats=3):
    """Minimum over ``repeats`` of (wall, process CPU) seconds."""
    best = (math.inf, math.inf)
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        w, c = time.perf_counter() - t0, time.process_time() - c0
        if w < best[0]:
            best = (w, c)
    return best


def alternate(fns: dict, repeats=3):
    """Time each function ``repeats`` times, alternating between them; minimum per function."""
    best = {k: (math.inf, math.inf) for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            w, c = time.perf_counter() - t0, time.process_time() - c0
            if w < best[k][0]:
                best[k] = (w, c)
    return best


def machine() -> dict:
    import platform

    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return {"cpu_model": cpu, "cpu_count": os.cpu_count(), "loadavg": list(os.getloadavg()),
            "numba": numba.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k positions, 64 paths (smoke test)")
    ap.add_argument("--paths", type=int, default=None, help="paths of the full run (default 1,000)")
    ap.add_argument("--per-path", type=int, default=16, help="paths timed for the per-path ratio")
    ap.add_argument("--threads", type=int, default=2, help="threads for the full run")
    ap.add_argument("--skip-full", action="store_true", help="only the check and the per-path ratio")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args(argv)
    w = dict(WORKLOAD)
    n_full = args.paths or (64 if args.quick else 1000)
    if args.quick:
        w["positions"] = 10_000
    coll, debt = make_book(w["positions"], w["seed"], w)
    book = sorted_book(coll, debt, w["lt"])
    from liqcascade.engine.compile import kernel_inputs

    ki = kernel_inputs(engine_compiled(coll, debt, w))
    # correctness first (also compiles both sides)
    check_paths = make_paths(4, w["steps"], w["seed"] + 7, w)
    bare = run_bare(check_paths, book, w)
    eng = run_engine(ki, engine_paths(check_paths))
    problems = check(bare, eng) + [f"full kernel: {x}" for x in check(bare, run_engine(ki, engine_paths(check_paths),
                                                                                          variant="full"))]
    if problems:
        raise SystemExit("YARDSTICK ABORTED — bare loop and engine disagree:\n" + "\n".join(problems))
    print(f"check: {int(bare[:, B_NLIQ].sum()):,} liquidations on 4 paths, bare loop and engine agree")
    from liqcascade.engine.dynamic import loop_variant

    res = {"workload": w, "machine": machine(), "check_paths": 4, "kernel": loop_variant(ki),
           "check_liquidations": bare[:, B_NLIQ].tolist()}
    # per path, one thread, alternating
    pp = make_paths(args.per_path, w["steps"], w["seed"] + 11, w)
    pe = engine_paths(pp)
    numba.set_num_threads(1)
    gc.collect()
    gc.disable()  # nothing timed allocates Python objects; keep the collector out of the timings
    best = alternate({"bare": lambda: run_bare(pp, book, w, 1), "engine": lambda: run_engine(ki, pe, 1),
                      "engine_full": lambda: run_engine(ki, pe, 1, variant="full")})
    events = float(run_bare(pp, book, w)[:, B_NLIQ].sum())
    ratio = best["engine"][1] / best["bare"][1]
    res["per_path"] = {
        "paths": args.per_path, "liquidations": events,
        "bare_s": best["bare"][0], "bare_cpu_s": best["bare"][1],
        "engine_s": best["engine"][0], "engine_cpu_s": best["engine"][1],
        "bare_ns_per_event": 1e9 * best["bare"][1] / events if events else None,
        "engine_ns_per_event": 1e9 * best["engine"][1] / events if events else None,
        "ratio_cpu": ratio, "target_ratio": 3.0,
        # the same workload on the full kernel (every mechanism's code compiled in, switched off)
        "engine_full_cpu_s": best["engine_full"][1], "ratio_cpu_full": best["engine_full"][1] / best["bare"][1],
    }
    print(f"per path (1 thread, min of 3, CPU): bare {best['bare'][1] / args.per_path * 1e3:.1f} ms, "
          f"engine {best['engine'][1] / args.per_path * 1e3:.1f} ms -> engine/bare = {ratio:.2f} (target <= 3; "
          f"{res['kernel']} kernel; the full kernel: {res['per_path']['ratio_cpu_full']:.2f})")
    if not args.skip_full:
        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
        full = make_paths(n_full, w["steps"], w["seed"] + 13, w)
        fe = engine_paths(full)
        best = alternate({"bare": lambda: run_bare(full, book, w, args.threads),
                          "engine": lambda: run_engine(ki, fe, args.threads)})
        res["full"] = {"paths": n_full, "threads": args.threads, "bare_s": best["bare"][0],
                       "bare_cpu_s": best["bare"][1], "engine_s": best["engine"][0],
                       "engine_cpu_s": best["engine"][1], "target_s": 30.0}
        print(f"full {w['positions']:,} x {n_full:,} paths x {w['steps']:,} steps on {args.threads} threads: "
              f"engine {best['engine'][0]:.1f} s (CPU {best['engine'][1]:.1f} s), bare {best['bare'][0]:.1f} s "
              f"(target <= 30 s)")
    gc.enable()
    res["machine"]["loadavg_end"] = list(os.getloadavg())
    write_section(args.out, "loop_yardstick", res)  # "yardstick" is the static sort of run.py


if __name__ == "__main__":
    main()
