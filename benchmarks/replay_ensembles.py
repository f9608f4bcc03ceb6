"""Wall time of ``liqcascade replay EVENT --ensemble N`` on a worker pool, per event.

For each event: plan the ensemble into a fresh temporary store (so every chunk runs), run it on
``--workers`` processes, check the result (every member stored once, every headline band finite),
and record the wall time, the compute time summed over members (the same members run one after
another would take about that long: the yardstick for the pool's speed-up), the parallel
efficiency ``compute / (wall × workers)``, the CPU seconds the members used (``process_time``,
which a busy machine does not inflate the way it inflates wall time), the CPU seconds of the
whole pool (``getrusage`` of the finished worker processes: start-up, imports, the numba cache,
the data, the members) and of this process, the estimate they give for a machine running nothing
else (this process's CPU + the pool's CPU / workers), and the machine's load
average sampled every second during the run (the machine is shared: a wall time is only
comparable with its load). Nothing here
is a pass/fail test; the target of the issue (under 5 minutes for 64 members on 2 cores) is
reported as the ratio wall / 300 s.

    python benchmarks/replay_ensembles.py                    # all events, 64 members, 2 workers
    python benchmarks/replay_ensembles.py --events 2020-03-12 --members 16
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import tempfile
import threading
import time
from pathlib import Path

from _machine import cpu_model

HERE = Path(__file__).resolve().parent


def _load() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def main(argv=None) -> int:
    from liqcascade.replay import ReplayOptions, default_data_dir, get_event
    from liqcascade.replay.ensemble import execute_ensemble, plan_ensemble, summarize

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", nargs="*", default=["2020-03-12", "2021-05-19", "2025-10-10"])
    ap.add_argument("--members", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "replay_results.json")
    ap.add_argument("--save", type=Path, default=None, help="also write each event's ensemble.json here")
    args = ap.parse_args(argv)
    data = args.data or default_data_dir()
    rows = []
    for name in args.events:
        ev = get_event(name)
        if ev.missing(data):
            print(f"{name}: data missing ({', '.join(ev.missing(data))}), skipped")
            continue
        with tempfile.TemporaryDirectory(prefix="liqcascade-replay-bench-") as tmp:
            plan = plan_ensemble(ev, ReplayOptions(data_dir=data, seed=args.seed), args.members, tmp)
            loads, stop = [], threading.Event()

            def sample():
                while not stop.is_set():
                    loads.append(_load())
                    stop.wait(1.0)

            th = threading.Thread(target=sample, daemon=True)
            th.start()
            r0s, r0c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            run = execute_ensemble(plan, workers=args.workers)
            wall = time.perf_counter() - t0
            r1s, r1c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_self = (r1s.ru_utime + r1s.ru_stime) - (r0s.ru_utime + r0s.ru_stime)
            cpu_children = (r1c.ru_utime + r1c.ru_stime) - (r0c.ru_utime + r0c.ru_stime)
            stop.set()
            th.join()
            s = summarize(ev, run)
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{name}.json").write_text(json.dumps(s, indent=1, default=str) + "\n")
        n_ok = len(run.members["member"]) == args.members
        finite = all(math.isfinite(o["band"].get("median", math.nan)) for o in s["outcomes"])
        cpu = run.timings["member_cpu_s"]
        row = {"event": name, "members": args.members, "workers": args.workers, "wall_s": wall,
               "compute_s": run.timings["compute_s"], "simulate_s": run.timings["simulate_s"],
               "member_cpu_s": cpu, "cpu_per_member_s": cpu / args.members,
               "cpu_coordinator_s": cpu_self, "cpu_workers_s": cpu_children,
               # on a machine with nothing else running: the coordinator's CPU (planning, warm-up,
               # reading back) plus the workers' CPU (start-up, imports, numba cache, data, members)
               # shared by the workers
               "quiet_estimate_s": cpu_self + cpu_children / max(args.workers, 1),
               "efficiency": run.timings["compute_s"] / (wall * max(args.workers, 1)),
               "target_ratio": wall / 300.0, "members_ok": n_ok, "bands_finite": finite,
               "load_avg_mean": sum(loads) / len(loads) if loads else None,
               "load_avg_max": max(loads) if loads else None, "run_id": s["run_id"],
               "settings": s["settings"]}
        rows.append(row)
        print(f"{name}: {args.members} members on {args.workers} workers: {wall:.1f} s wall "
              f"({row['target_ratio']:.2f} × 300 s), {row['compute_s']:.1f} s compute, efficiency "
              f"{row['efficiency']:.2f}; CPU: members {cpu:.1f} s ({cpu / args.members:.2f} s each), workers in all "
              f"{cpu_children:.1f} s, coordinator {cpu_self:.1f} s → quiet estimate {row['quiet_estimate_s']:.0f} s; "
              f"load average {row['load_avg_mean']:.1f} (max {row['load_avg_max']:.1f}); "
              f"checks {'ok' if n_ok and finite else 'FAILED'}")
    doc = {"machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version()},
           "measured": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "rows": rows}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(r["members_ok"] and r["bands_finite"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
