"""Cost of one venue call: the StableSwap and concentrated-liquidity kernels against the CPMM and
depth-book kernels the engine already uses (the yardstick).

For each venue kind: ``sell`` (the quote a sale pays, the state left unchanged) and
``sell_to_price`` (the amount that moves the spot 2 % down; the router and ``depth_units`` call it
in their root searches). Every call gets a slightly different amount, so that the compiler cannot
hoist a call out of its timing loop. Correctness is checked first (every sell-to-price amount,
sold, lands on its target). Timings are the median of 7 rounds of 20,000 calls each, the kinds alternating within a
round; compilation is excluded. Reported in ns per call and as a ratio to the CPMM.

Usage:  .venv/bin/python benchmarks/venue_kernels.py [--calls N] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from _machine import cpu_model

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from liqcascade.venues.book import kernel as VB  # noqa: E402
from liqcascade.venues.cpmm import kernel as VC  # noqa: E402
from liqcascade.kernels._jit import njit  # noqa: E402
from liqcascade.venues.concentrated import kernel as C  # noqa: E402
from liqcascade.venues.concentrated.model import ConcentratedVenue  # noqa: E402
from liqcascade.venues.stableswap import kernel as S  # noqa: E402


# --- loops (compiled, so that the timing is the kernel and not Python's call overhead) -----------


@njit
def loop_cpmm_sell(n, x, y, fee, dq):
    s = 0.0
    for i in range(n):
        s += VC.cpmm_sell(x, y, fee, dq * (1.0 + i * 1e-12))[2]
    return s


@njit
def loop_cpmm_stp(n, x, y, fee, p):
    s = 0.0
    for i in range(n):
        s += VC.cpmm_sell_to_price(x, y, fee, p * (1.0 - i * 1e-12))
    return s


@njit
def loop_book_sell(n, mid, dk, dq_, nk, dq):
    s = 0.0
    for i in range(n):
        s += VB.book_sell(mid, dk, dq_, nk, dq * (1.0 + i * 1e-12))[1]
    return s


@njit
def loop_book_stp(n, mid, dk, dq_, nk, p):
    s = 0.0
    for i in range(n):
        s += VB.book_sell_to_price(mid, dk, dq_, nk, p * (1.0 - i * 1e-12))
    return s


@njit
def loop_ss_sell(n, bal, rates, par, dq):
    s = 0.0
    for i in range(n):
        s += S.ss_get_dy(bal, rates, par, 0, 1, dq * (1.0 + i * 1e-12))[0]
    return s


@njit
def loop_ss_stp(n, bal, rates, par, p):
    s = 0.0
    for i in range(n):
        s += S.ss_sell_to_price(bal, rates, par, 0, 1, p * (1.0 - i * 1e-12))
    return s


@njit
def loop_cl_sell(n, cs, tk, net, dq):
    s = 0.0
    for i in range(n):
        s += C.cl_quote_sell(cs, tk, net, dq * (1.0 + i * 1e-12))[0]
    return s


@njit
def loop_cl_stp(n, cs, tk, net, p):
    s = 0.0
    for i in range(n):
        s += C.cl_sell_to_price(cs, tk, net, p * (1.0 - i * 1e-12))
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    n = args.calls

    # venues of comparable depth around a price of 1 (2 % depth ~ 1e5-5e5 units)
    x, y, fee = 1e7, 1e7, 0.003
    dk = np.array([0.01, 0.05, 0.2])
    dqv = np.array([1e5, 1e6, 2e6])
    bal2, r2, par = np.array([1e6, 1e6]), np.ones(2), np.array([100.0, 0.0004, 2.0, 0.5])
    bal3, r3 = np.array([1e6, 1.2e6, 0.9e6]), np.ones(3)
    cl = ConcentratedVenue(name="u", asset="A", quote="Q", price=1.0, fee=0.0005,
                           synthetic={"tvl": 2e6, "sigma": 0.05, "full_range_share": 0.1})
    cs, tk, net, _ = cl.pack()
    target = 0.98

    # --- correctness first ------------------------------------------------------------------
    q = VC.cpmm_sell_to_price(x, y, fee, target)
    x1, y1, _ = VC.cpmm_sell(x, y, fee, q)
    assert abs(y1 / x1 / target - 1) < 1e-12
    for bal, rates in ((bal2, r2), (bal3, r3)):
        s0 = S.ss_spot(bal, rates, par, 0, 1)
        q = S.ss_sell_to_price(bal, rates, par, 0, 1, s0 * target)
        b = bal.copy()
        S.ss_sell(b, rates, par, 0, 1, q)
        assert abs(S.ss_spot(b, rates, par, 0, 1) / (s0 * target) - 1) < 1e-11
    q = C.cl_sell_to_price(cs, tk, net, target)
    c = cs.copy()
    C.cl_sell(c, tk, net, q)
    assert abs(C.cl_spot(c) / target - 1) < 1e-11
    ticks_crossed = int(cs[C.CS_BELOW] - c[C.CS_BELOW])

    cases = {
        "cpmm sell": lambda: loop_cpmm_sell(n, x, y, fee, 5e4),
        "cpmm sell_to_price": lambda: loop_cpmm_stp(n, x, y, fee, target),
        "book sell": lambda: loop_book_sell(n, 1.0, dk, dqv, 3, 5e4),
        "book sell_to_price": lambda: loop_book_stp(n, 1.0, dk, dqv, 3, target),
        "stableswap n=2 sell": lambda: loop_ss_sell(n, bal2, r2, par, 5e4),
        "stableswap n=2 sell_to_price": lambda: loop_ss_stp(n, bal2, r2, par, target),
        "stableswap n=3 sell": lambda: loop_ss_sell(n, bal3, r3, par, 5e4),
        "stableswap n=3 sell_to_price": lambda: loop_ss_stp(n, bal3, r3, par, target),
        f"concentrated sell ({len(tk)} ticks)": lambda: loop_cl_sell(n, cs, tk, net, 5e3),
        f"concentrated sell_to_price (crosses {ticks_crossed} ticks)": lambda: loop_cl_stp(n, cs, tk, net, target),
    }
    for f in cases.values():  # compile
        f()
    times = {k: [] for k in cases}
    for _ in range(7):
        for k, f in cases.items():
            t0 = time.perf_counter()
            f()
            times[k].append((time.perf_counter() - t0) / n * 1e9)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = {"sell": med["cpmm sell"], "sell_to_price": med["cpmm sell_to_price"]}
    print(f"CPU: {cpu_model()}; {n} calls x 7 rounds, median ns per call")
    rows = []
    for k, v in med.items():
        kind = "sell_to_price" if "sell_to_price" in k else "sell"
        rows.append({"case": k, "ns_per_call": v, "x_cpmm": v / base[kind]})
        print(f"  {k:<58} {v:10.1f} ns   {v / base[kind]:8.1f} x cpmm {kind}")
    if args.out:
        args.out.write_text(json.dumps({"cpu": cpu_model(), "calls": n, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
