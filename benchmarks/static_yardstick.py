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
