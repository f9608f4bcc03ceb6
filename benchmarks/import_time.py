"""How long ``import liqcascade`` and the first uses of the Python API take, in fresh processes.

Each case is a ``python -c`` command run ``--runs`` times, cases alternating (so a busy machine
slows every case alike); the yardstick is ``python -c pass`` (interpreter start-up). With
``--before SRC`` the same cases also run against another checkout's ``src`` folder (e.g. the
main branch), interleaved with this one. Prints a table and writes JSON (``--out``); nothing here
is a pass/fail test.

    python benchmarks/import_time.py --runs 15 --before /work/main/src
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _machine import cpu_model

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "python -c pass (yardstick)": "pass",
    "import liqcascade": "import liqcascade",
    "lc.load (API loaded: pydantic)": "import liqcascade as lc; lc.load",
    "lc.load('examples/minimal.toml')": "import liqcascade as lc; lc.load('examples/minimal.toml')",
    "load_scenario (the CLI's loader)": "from liqcascade.scenario.load import load_scenario as f; "
                                        "f('examples/minimal.toml')",
    "engine imported (numpy, numba)": "import liqcascade.engine.static, liqcascade.engine.dynamic",
}


def once(code: str, src: str) -> float | None:
    """Seconds of one fresh process, or None when the case does not exist in that checkout."""
    env = dict(os.environ, PYTHONPATH=src)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - t if r.returncode == 0 else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--before", help="another checkout's src folder to compare with")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = ap.parse_args(argv)
    srcs = {"this checkout": str(REPO / "src")}
    if args.before:
        srcs = {"before": str(Path(args.before).resolve()), **srcs}
    runnable = {s: {c for c, code in CASES.items() if once(code, src) is not None}  # also warms the caches
                for s, src in srcs.items()}
    times: dict[str, dict[str, list[float]]] = {s: {c: [] for c in CASES} for s in srcs}
    for _ in range(args.runs):
        for c, code in CASES.items():
            for s, src in srcs.items():
                if c in runnable[s]:
                    times[s][c].append(once(code, src))
    out = {"cpu": cpu_model(), "python": platform.python_version(), "runs": args.runs,
           "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None, "cases": {}}
    base = {s: statistics.median(times[s]["python -c pass (yardstick)"]) for s in srcs}
    print(f"{'case':40s}" + "".join(f"{s:>28s}" for s in srcs))
    for c in CASES:
        row = f"{c:40s}"
        out["cases"][c] = {}
        for s in srcs:
            if not times[s][c]:
                out["cases"][c][s] = None
                row += f"{'n/a':>28s}"
                continue
            med = statistics.median(times[s][c])
            extra = med - base[s]
            out["cases"][c][s] = {"median_s": med, "over_yardstick_s": extra, "all_s": times[s][c]}
            row += f"{med * 1e3:14.1f} ms (+{extra * 1e3:7.1f})"
        print(row)
    print(f"cpu: {out['cpu']}; median of {args.runs} runs each, cases alternating; "
          f"(+x) = over `python -c pass`; load average {out['load_average']}")
    if args.out:
        args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
