"""Peak memory of the public path: positions file → ``liqcascade curve`` (``make bench``).

Each measurement is one fresh ``liqcascade curve S.toml --shocks 0:0.4995:0.0005 --json``
process (1,000 shocks); its peak resident set size is its ``VmHWM`` when it exits.
The figure per position is

    (peak RSS on an N-row book − peak RSS of the same command on a 1,000-row book) / N

so the interpreter, the libraries, the compiled kernels and the thread pool cancel out and what
is left is what the book costs on its way from the file to the curve. The book is the
synthetic one of ``liqcascade positions synth`` (ids ``0 .. N-1``, written by the package's own
writer) or ``positions = "synth:N:SEED"`` in the scenario; the market is the benchmark's (a CPMM
holding as much collateral as the book, Aave v3.3 rules), so the cascade does the same work at
every N. Nothing here sets allocator options: the command runs as a user would run it.

Run alone::

    python benchmarks/public_memory.py --n 2000000 --fmt csv --fmt parquet --fmt synth
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ETH_PRICE = 1800.0
LT = 0.86
BONUS = 0.05
PFEE = 0.10
SEED = 20240601
SHOCKS = "0:0.4995:0.0005"  # 1,000 shocks
BASELINE_N = 1000
FORMATS = ("csv", "parquet", "synth")

SCENARIO = """\
name = "memory-{n}"
[simulation]
steps = 10
dt_seconds = 60
seed = {seed}
max_rounds = 10000

[[assets]]
name = "ETH"
price = {price}

[[assets]]
name = "USDC"
price = 1.0
stable = true

[price]
kind = "gbm"
sigma = 0.8

[[venues]]
name = "pool"
asset = "ETH"
kind = "cpmm"
reserve_asset = {reserve!r}
fee = 0.003

[[oracles]]
name = "chainlink"
asset = "ETH"
kind = "heartbeat"
heartbeat_seconds = 3600
deviation = 0.005

[[protocols]]
name = "aave"
kind = "aave_v3"
positions = "{positions}"
collateral = "ETH"
debt = "USDC"
close_factor_rule = "v3.3"

[protocols.params.ETH]
liquidation_threshold = {lt}
liquidation_bonus = {bonus}
protocol_fee = {pfee}

[liquidators]
mode = "mechanical"
"""


def cli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("liqcascade")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from liqcascade.cli import main; main()"]


# The command run in-process by a wrapper that writes its own peak RSS (VmHWM of the process's
# memory after exec) when it exits. wait4's ru_maxrss would not do: Linux carries the parent's
# high-water mark over fork and exec, so a child of a large benchmark process reports at least
# the parent's size.
_WRAP = """
import atexit, os, sys
def _hwm():
    with open("/proc/self/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    with open(os.environ["LIQCASCADE_HWM_FILE"], "w") as f:
        f.write(str(kb * 1024))
atexit.register(_hwm)
sys.argv = ["liqcascade"] + sys.argv[1:]
from liqcascade.cli import main
main()
"""


def total_collateral(n: int) -> float:
    from liqcascade.positions.synth import iter_synth_book

    return float(sum(c.sum() for c, _ in iter_synth_book(n, SEED, ETH_PRICE, LT)))


def prepare(folder: Path, n: int, fmt: str) -> tuple[Path, float]:
    """Write the positions file (through ``liqcascade positions synth``) and the scenario;
    returns ``(scenario path, seconds spent writing the positions)``."""
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if fmt == "synth":
        positions = f"synth:{n}:{SEED}"
    else:
        positions = f"positions_{n}.{fmt}"
        r = subprocess.run(cli_cmd() + ["positions", "synth", "--n", str(n), "--seed", str(SEED),
                                        "--price", str(ETH_PRICE), "--lt", str(LT),
                                        "--out", str(folder / positions)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"positions synth failed: {r.stderr[-2000:]}")
    wrote = time.perf_counter() - t
    sc = folder / f"scenario_{fmt}_{n}.toml"
    sc.write_text(SCENARIO.format(n=n, seed=SEED, price=ETH_PRICE, reserve=total_collateral(n),
                                  positions=positions, lt=LT, bonus=BONUS, pfee=PFEE))
    return sc, wrote


def peak_rss(cli_args: list[str], cwd: Path) -> dict:
    """Run ``liqcascade *cli_args`` in a fresh interpreter; its peak RSS (bytes) and wall time."""
    fd, hwm_file = tempfile.mkstemp(prefix="liqcascade-hwm-", dir="/tmp")
    os.close(fd)
    try:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", _WRAP, *cli_args], cwd=cwd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=dict(os.environ, LIQCASCADE_HWM_FILE=hwm_file))
        wall = time.perf_counter() - t
        if r.returncode != 0:
            raise RuntimeError(f"liqcascade {' '.join(cli_args)} exited {r.returncode}: {r.stderr.decode()[-2000:]}")
        return {"peak_rss": int(Path(hwm_file).read_text()), "wall_s": wall}
    finally:
        os.unlink(hwm_file)


def curve_peak(scenario: Path) -> dict:
    return peak_rss(["curve", str(scenario), "--shocks", SHOCKS, "--json"], scenario.parent)


def measure(ns, formats=FORMATS, folder: Path | None = None, repeats: int = 1, log=print) -> dict:
    """Peak RSS per position above the 1,000-row baseline, for each ``n`` and format."""
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="liqcascade-mem-", dir="/tmp")) if own else folder
    out: dict = {"shocks": SHOCKS, "n_shocks": 1000, "baseline_n": BASELINE_N, "runs": []}
    try:
        for fmt in formats:
            sc0, _ = prepare(folder, BASELINE_N, fmt)
            base = min((curve_peak(sc0) for _ in range(max(1, repeats))), key=lambda r: r["peak_rss"])
            for n in ns:
                sc, wrote = prepare(folder, n, fmt)
                size = None
                if fmt != "synth":
                    size = (folder / f"positions_{n}.{fmt}").stat().st_size
                run = min((curve_peak(sc) for _ in range(max(1, repeats))), key=lambda r: r["peak_rss"])
                row = {"format": fmt, "n": n, "file_bytes": size, "write_s": wrote,
                       "baseline_peak_rss": base["peak_rss"], "peak_rss": run["peak_rss"],
                       "wall_s": run["wall_s"], "baseline_wall_s": base["wall_s"],
                       "bytes_per_position": (run["peak_rss"] - base["peak_rss"]) / n}
                out["runs"].append(row)
                log(f"  {fmt:8s} {n:>11,} positions: peak {run['peak_rss'] / 2**20:,.0f} MiB, baseline "
                    f"{base['peak_rss'] / 2**20:,.0f} MiB → {row['bytes_per_position']:.1f} B/position "
                    f"(curve command {run['wall_s']:.1f} s)")
                for f in folder.glob(f"*_{n}.*"):
                    f.unlink()
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="book sizes (default 2M and 10M)")
    ap.add_argument("--fmt", action="append", choices=FORMATS, help="formats (default all)")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    res = measure(args.n or [2_000_000, 10_000_000], tuple(args.fmt or FORMATS), repeats=args.repeats)
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
