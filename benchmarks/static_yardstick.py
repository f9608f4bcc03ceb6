"""The static curve's yardstick: a numba-compiled ``np.sort`` of 1M float64 (``make bench``).

NumPy's own ``np.sort`` dispatches to SIMD sorting networks (AVX-512 / AVX2, x86-simd-sort or
Highway) whose speed differs several-fold between CPUs, so a ratio to it says as much about the
CPU as about the engine. The yardstick here is ``np.sort`` compiled by numba — the compiler the
engine's kernels go through, with its own (quicksort) implementation and no SIMD special path —
on the same 1M uniform float64 every time. NumPy's sort is still reported, for reference.

Timings of the yardstick and of the timed workload alternate (yardstick, workload, yardstick,
…), so a change in machine load hits both; each is summarised by its minimum (the run least
disturbed by other processes) and the median, and the ratio is of the minima.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np

YARDSTICK_N = 1_000_000
ROUNDS = 3


def numba_sort():
    """``np.sort`` compiled by numba (compiled on first use, outside any timing)."""
    import numba

    @numba.njit(nogil=True)
    def sort(a):
        return np.sort(a)

    sort(np.random.default_rng(0).random(16))
    return sort


def yardstick_data(n: int = YARDSTICK_N) -> np.ndarray:
    return np.random.default_rng(1).random(n)


def alternate(fns: dict, rounds: int = ROUNDS) -> dict:
    """Time each callable of ``fns`` once per round, in turn; ``{name: {times_s, cpu_s, min_s,
    median_s}}`` plus the load average before and after."""
    out = {name: {"times_s": [], "cpu_s": []} for name in fns}
    load0 = os.getloadavg()
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            c0 = time.process_time()
            t = time.perf_counter()
            fn()
            out[name]["times_s"].append(time.perf_counter() - t)
            out[name]["cpu_s"].append(time.process_time() - c0)
    for name in fns:
        ts = out[name]["times_s"]
        out[name]["min_s"] = float(min(ts))
        out[name]["median_s"] = float(np.median(ts))
    out["loadavg"] = {"before": load0, "after": os.getloadavg()}
    return out


class _StderrConsole:
    @staticmethod
    def print(*a):
        import sys

        print(*a, file=sys.stderr)


def main(argv=None) -> int:
    """Only the static figures (``python benchmarks/static_yardstick.py``): correctness checks,
    then the 1M and 10M curves alternated with the yardstick; prints one JSON object."""
    import argparse
    import json
    import sys

    import numba

    import run as B
    from liqcascade.engine.static import solve_static
    from liqcascade.engine.warmup import warm

    ap = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, action="append", help="book sizes (default 1M and 10M)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    warm()
    sort_fn, ref = numba_sort(), yardstick_data()
    shocks = B.shock_grid(1000)
    coll, debt, _ = B.make_book_arrays(2000)
    B.check_parity(coll, debt, 2000, np.array([0.0, 0.05, 0.15, 0.3, 0.45]))
    out = {"cpu_model": B.machine_info(args.threads)["cpu_model"], "threads": args.threads, "runs": []}
    for n in args.n or [1_000_000, 10_000_000]:
        r = B.run_static_large(n, shocks, sort_fn, ref, _StderrConsole())
        r.pop("times_s", None)
        out["runs"].append(r)
    out["np_sort_min_s"] = min(alternate({"np_sort": lambda: np.sort(ref)})["np_sort"]["times_s"])
    json.dump(out, sys.stdout, indent=1, default=float)
    print()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
