"""Overhead per run of the batch entry point (:func:`liqcascade.engine.batch.run_batch`).

Workload: the crvUSD example (``examples/llamma.toml``: 150 loans in a LLAMMA market, an EMA
oracle, a pool) over windows of one synthetic minute series (GBM, 80 % annualised).

* **overhead per run**: windows of one step — the loop does one step, so the time per window is
  what a run costs besides its steps (fresh unit state, per-path arrays, the summary row); the
  target is at most 1 ms;
* **one-day windows** (1,440 steps): time per window, and the projection to 500,000 windows;
* for comparison, one :func:`~liqcascade.engine.dynamic.run_dynamic` call per one-step window
  (what a Python loop over windows would pay).

Timings: minimum of 3, alternating; numba threads as given (default 2). Results go to the
``batch`` section of ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

from _machine import write_section

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None):
    import numba

    from liqcascade.engine.batch import run_batch, windows
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100_000, help="one-step windows for the overhead")
    ap.add_argument("--day-runs", type=int, default=1_000, help="one-day windows")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args(argv)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    rng = np.random.default_rng(7)
    n_series = max(args.runs, args.day_runs) + 1441
    sigma = 0.8 * np.sqrt(60.0 / (365 * 86400))
    series = 2000.0 * np.exp(np.cumsum(rng.normal(-0.5 * sigma * sigma, sigma, n_series)))
    sc, base = load_scenario(HERE.parent / "examples" / "llamma.toml")

    def compiled(steps):
        sc.simulation.steps = steps
        return compile_scenario(sc, base)

    c1, cday = compiled(1), compiled(1440)
    w1 = windows(series, 1)[: args.runs]
    wday = windows(series, 1440, stride=1)[: args.day_runs]
    run_batch(c1, w1[:8], threads=args.threads)  # compile / load first
    run_batch(cday, wday[:2], threads=args.threads)
    gc.collect()
    gc.disable()
    best = {"one_step": np.inf, "one_day": np.inf, "run_dynamic": np.inf}
    n_py = 200
    for _ in range(3):
        t = time.perf_counter()
        r1 = run_batch(c1, w1, threads=args.threads)
        best["one_step"] = min(best["one_step"], time.perf_counter() - t)
        t = time.perf_counter()
        rd = run_batch(cday, wday, threads=args.threads)
        best["one_day"] = min(best["one_day"], time.perf_counter() - t)
        t = time.perf_counter()
        for j in range(n_py):
            p = np.tile(c1.p0, (2, 1))
            p[:, 0] = w1[j] / w1[j, 0] * c1.p0[0]
            run_dynamic(c1, paths=p[None], record_paths=0)
        best["run_dynamic"] = min(best["run_dynamic"], time.perf_counter() - t)
    gc.enable()
    per_run = best["one_step"] / args.runs
    per_day = best["one_day"] / args.day_runs
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    res = {
        "scenario": "examples/llamma.toml (150 loans)", "threads": args.threads,
        "one_step_runs": args.runs, "one_step_s": best["one_step"], "overhead_ms_per_run": 1e3 * per_run,
        "target_ms_per_run": 1.0,
        "one_day_runs": args.day_runs, "one_day_s": best["one_day"], "ms_per_one_day_run": 1e3 * per_day,
        "projected_500k_one_day_runs_s": 5e5 * per_day,
        "run_dynamic_per_window_ms": 1e3 * best["run_dynamic"] / n_py,
        "liquidations_one_day": float(rd.column("nliq").sum()),
        "cpu_model": cpu, "loadavg": list(os.getloadavg()), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(f"overhead per run (one-step windows, {args.runs:,} runs, {args.threads} threads): "
          f"{res['overhead_ms_per_run']:.3f} ms (target <= 1 ms); one-day windows: {res['ms_per_one_day_run']:.2f} ms "
          f"each, 500k projected {res['projected_500k_one_day_runs_s']:.0f} s; run_dynamic per window: "
          f"{res['run_dynamic_per_window_ms']:.2f} ms")
    write_section(args.out, "batch", res)


if __name__ == "__main__":
    main()
