"""Cold start: ``liqcascade demo`` on an empty numba cache, split into compile and run.

Each run points ``NUMBA_CACHE_DIR`` at a fresh temporary folder (the shared cache under
``~/.cache/liqcascade/numba`` is never touched), runs the demo once cold and once more warm on
that folder, and records for both the wall time and the CPU time of the process and its
workers (``getrusage`` of the children), the load average before and after, and for the cold
run the compile time the CLI prints (``kernels compiled in … s``) and each warm-up group's CPU
seconds from its stamp (``warm-<group>.json``, :mod:`liqcascade.engine.warmup`). The machine is
shared: read CPU seconds next to wall seconds, and the load average with both.

    python benchmarks/cold_start.py [--src SRC] [--before OTHER_SRC] [--runs N] [--out FILE]

``--before`` times another source tree (e.g. ``/work/main/src``) in the same call, the two
trees alternating. Results go to the ``cold_start`` key of ``benchmarks/results.json``
(read-modify-write: the other keys are left as they are).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model, write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def demo(src: Path, cache: Path, out: Path) -> dict:
    """One ``liqcascade demo`` from ``src`` with ``NUMBA_CACHE_DIR=cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(src))
    load0 = os.getloadavg()
    c0, t0 = _children_cpu(), time.perf_counter()
    r = subprocess.run([sys.executable, "-c", "from liqcascade.cli import app; app()", "demo", "--out", str(out)],
                       env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if r.returncode != 0:
        raise SystemExit(f"demo failed ({src}):\n{r.stdout}\n{r.stderr}")
    text = r.stdout + r.stderr
    m = re.search(r"kernels compiled in ([0-9.]+) s", text)
    crit = re.search(r"critical shock on the cascade curve: (\S+)", text)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "compile_wall_s": float(m.group(1)) if m else None,
            "critical_shock": crit.group(1) if crit else None,
            "loadavg_start": [round(x, 2) for x in load0], "loadavg_end": [round(x, 2) for x in os.getloadavg()]}


def groups(cache: Path) -> dict:
    """CPU seconds each warm-up group took to compile (its stamp)."""
    out = {}
    for f in sorted(cache.glob("*/warm-*.json")):
        d = json.loads(f.read_text())
        out[d["group"]] = d["seconds"]
    return out


def one(src: Path, tag: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="liqcascade-cold-") as tmp:
        tmp = Path(tmp)
        cold = demo(src, tmp / "numba", tmp / "out-cold")
        cold["groups_cpu_s"] = groups(tmp / "numba")
        warm = demo(src, tmp / "numba", tmp / "out-warm")
    rec = {"tree": tag, "src": str(src), "cold": cold, "warm": warm,
           "compile_cpu_s": round(cold["cpu_s"] - warm["cpu_s"], 1),
           "compile_wall_s": round(cold["wall_s"] - warm["wall_s"], 1)}
    print(f"{tag:>7}: cold {cold['wall_s']:.1f} s wall / {cold['cpu_s']:.1f} s CPU "
          f"(groups {cold['groups_cpu_s']}), warm {warm['wall_s']:.1f} s wall / {warm['cpu_s']:.1f} s CPU; "
          f"load {cold['loadavg_start'][0]:.1f}->{warm['loadavg_end'][0]:.1f}", flush=True)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=REPO / "src", help="source tree to time (default: this checkout)")
    ap.add_argument("--before", type=Path, default=None, help="another source tree, timed alternately")
    ap.add_argument("--runs", type=int, default=1, help="cold/warm pairs per tree")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    a = ap.parse_args()
    trees = [("before", a.before)] if a.before else []
    trees.append(("this", a.src))
    runs = []
    for _ in range(a.runs):
        for tag, src in trees:
            runs.append(one(src.resolve(), tag))
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
              "command": "liqcascade demo --out DIR (flagship), empty NUMBA_CACHE_DIR, then again warm",
              "runs": runs}
    write_section(a.out, "cold_start", result)


if __name__ == "__main__":
    main()
