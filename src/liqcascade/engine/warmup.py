"""Compile (and cache on disk) every kernel the commands use, and know when that is needed.

numba compiles a kernel the first time it is called and keeps the result in an on-disk cache
(``kernels/_jit.py``: the cache folder is keyed on the kernel sources, so an edit starts a clean
cache). The kernels come in *groups*, each compiled by one tiny run (:data:`GROUPS`):

* ``loop`` — the lean time loop (``simulate_path_lean``): no mechanism, no agent in the loop, no
  interest rate, no multi-asset position, no protocol unit, venues and oracles of the core kinds
  only (the flagship; ``liqcascade demo``);
* ``many`` — the same for many paths (``simulate_many_lean``, Monte Carlo and unrecorded paths);
* ``loop_full`` / ``many_full`` — the full time loop without protocol units (``simulate_path``,
  ``simulate_many``): mechanisms, agents, interest rates, multi-asset positions;
* ``loop_units`` / ``many_units`` — the full loop with the protocol units;
* ``static`` — the static solver's per-position kernel (rational mode, and mechanical mode where
  the aggregated one does not apply; the flagship's), lean variant: core venue kinds (cpmm,
  book), no multi-asset positions (:func:`liqcascade.engine.static.static_extras`);
* ``static_full`` — the same kernel with every venue kind and the multi-asset round;
* ``static_agg`` — its aggregated kernel (mechanical mode);
* ``flow`` — the external-flow loop on both venue kinds, with its backstop (``engine/flow.py``).

**Cold cache.** After a group compiles, a stamp ``warm-<group>.json`` goes into the cache folder
(with the numba version and the compile time). Which time-loop groups a scenario needs is
decided in one place, :func:`liqcascade.engine.dynamic.loop_groups` (every caller of
:func:`ensure` takes them from there). A group without its stamp is *cold*: the next
call of :func:`ensure` compiles it with a progress report (the CLI shows ``compiling kernels
(first run only, ~N s)`` and a progress bar) instead of stalling inside the first kernel call.
The stamp lives next to the compiled code, so a kernel edit (a new cache folder), a new numba
version or a deleted cache is cold again.

**In parallel.** When several groups are cold, :func:`compile_groups` compiles them in worker
processes (one per CPU, up to the number of groups and helpers) that share the cache folder; the calling
process then loads them from the cache. A cold ``loop`` gets a helper on another worker
(:func:`lanes`): the same kernels compiled from the last stage backwards
(:func:`liqcascade.kernels.dynamic.run_path_backwards`), so the two workers meet in the middle of
the loop's call tree instead of one compiling all of it; a kernel both need is compiled once
(:func:`liqcascade.kernels._jit.claim_compiles`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

#: group -> (what it is, estimated CPU seconds to compile on an empty cache, functions numba
#: compiles for it; ``loop`` and ``many`` with their helper beside them, :func:`lanes`); the
#: estimates seed the progress bar and are replaced by the measured time once a group has
#: compiled on this machine
GROUPS: dict[str, tuple[str, float, int]] = {
    "loop": ("time loop", 21.0, 250),
    "many": ("time loop, many paths", 23.0, 245),
    "loop_full": ("time loop with mechanisms, agents, rates", 90.0, 455),
    "many_full": ("time loop with mechanisms, agents, rates, many paths", 100.0, 480),
    "loop_units": ("time loop with protocol units", 75.0, 320),
    "many_units": ("time loop with protocol units, many paths", 75.0, 320),
    "static": ("static solver, per-position kernel (core venue kinds)", 7.5, 72),
    "static_full": ("static solver, per-position kernel, every venue kind and multi-asset positions", 18.0, 90),
    "static_agg": ("static solver, aggregated kernel", 10.0, 60),
    "flow": ("external-flow loop", 8.0, 55),
}
ALL = tuple(GROUPS)

#: called with progress events while kernels compile (the CLI installs a progress bar):
#: ``("start", groups, estimated seconds, estimated functions)``, ``("tick", functions done)``,
#: ``("group", name)`` when a group is ready, ``("done", seconds)``
REPORTER = None


# ---- tiny inputs --------------------------------------------------------------------------------


#: the venues of every kind that the tiny scenario leaves out unless asked for (``every_kind``)
_EXTRA_KIND_VENUES = [
    # the pool kinds whose packs call their kernels from Python (quote balance, ticks)
    {"name": "ss", "asset": "A", "kind": "stableswap", "reserve_asset": 1000.0, "amp": 50.0, "fee": 0.0004},
    {"name": "cl", "asset": "A", "kind": "concentrated", "fee": 0.003,
     "synthetic": {"tvl": 1e5, "sigma": 0.15, "cut": 2.5, "full_range_share": 0.0}},
]


def tiny_scenario(extra: dict | None = None, every_kind: bool = False):
    """A three-position scenario on a cpmm pool and a book (the core venue kinds, what the lean
    kernels compile), with ``every_kind`` also on a StableSwap and a concentrated-liquidity
    pool; ``extra``: more top-level keys."""
    from ..scenario.models import Scenario

    return Scenario.model_validate({
        "name": "warmup",
        "simulation": {"steps": 3},
        "assets": [{"name": "A", "price": 100.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "crash", "shock": 0.2},
        "venues": [
            {"name": "pool", "asset": "A", "kind": "cpmm", "reserve_asset": 1000.0, "fee": 0.003},
            {"name": "book", "asset": "A", "kind": "book", "depth": [[0.01, 1e4], [0.05, 1e5]], "half_life_seconds": 120.0},
            *(_EXTRA_KIND_VENUES if every_kind else []),
        ],
        "oracles": [{"name": "o", "asset": "A", "kind": "spot"}],
        "protocols": [{"name": "p", "positions": "-", "collateral": "A", "debt": "Q",
                       "params": {"A": {"liquidation_threshold": 0.8, "liquidation_bonus": 0.05}}}],
        **(extra or {}),
    })


#: the tiny scenario's extra keys that make the full time loop run it (a circuit breaker,
#: :func:`liqcascade.engine.dynamic.loop_variant`)
_FULL = {"mechanisms": {"circuit_breaker": {}}}


def _tiny_compiled(extra: dict | None = None, every_kind: bool = False):
    """The tiny scenario (with ``extra`` top-level keys, on every venue kind with
    ``every_kind``) compiled on a three-position book; as it is, the lean loop and the lean
    static kernel run it."""
    from .compile import book_from_arrays, compile_scenario

    book = book_from_arrays(np.array([1.0, 2.0, 3.0]), np.array([85.0, 100.0, 200.0]), 0.8)
    return compile_scenario(tiny_scenario(extra, every_kind), Path("."), book=book)


#: the five protocol units in one scenario (their presets), for the ``*_units`` groups
_UNITS_FILES = {
    "comet.csv": "id,collateral,debt\nc0,10.0,15000.0\nc1,5.0,9000.0\n",
    "liquity.csv": "id,collateral,debt\nl0,10.0,15000.0\nl1,5.0,9000.0\n",
    "maker.csv": "id,collateral,debt\nm0,10.0,12000.0\nm1,5.0,7000.0\n",
    "llamma.csv": "id,collateral,debt\nv0,10.0,12000.0\nv1,5.0,7000.0\n",
    "perp.csv": "id,side,size,entry,margin,account\np0,long,1.0,2000.0,200.0,-1\np1,short,1.0,2000.0,200.0,-1\n",
}


def tiny_units_scenario(folder: Path):
    from ..scenario.models import Scenario

    for name, text in _UNITS_FILES.items():
        (folder / name).write_text(text)
    stable = [{"name": n, "price": p, "stable": True} for n, p in
              (("USDC", 1.0), ("WBTC", 40000.0), ("COMP", 50.0), ("UNI", 6.0), ("LINK", 7.0))]
    unit = lambda name, kind, preset, file: {  # noqa: E731
        "name": name, "kind": kind, "preset": preset, "positions": file, "collateral": "WETH", "debt": "USDC",
        "oracles": {"WETH": "o"}}
    return Scenario.model_validate({
        "name": "warmup-units",
        "simulation": {"steps": 3},
        "assets": [{"name": "WETH", "price": 2000.0}, *stable],
        "price": {"kind": "crash", "shock": 0.3},
        "venues": [{"name": "book", "asset": "WETH", "kind": "book", "depth": [[0.01, 1e6], [0.05, 5e6]],
                    "half_life_seconds": 300.0},
                   {"name": "pool", "asset": "WETH", "kind": "cpmm", "reserve_asset": 1000.0, "fee": 0.003}],
        "oracles": [{"name": "o", "asset": "WETH", "kind": "spot"}],
        "protocols": [unit("comet", "comet", "cUSDCv3-launch", "comet.csv"),
                      unit("liquity", "liquity", "v1-mainnet", "liquity.csv"),
                      unit("perp", "perp", "binance_btcusdt_2021", "perp.csv"),
                      unit("maker", "maker", "ETH-B", "maker.csv"),
                      unit("llamma", "llamma", "crvusd_launch", "llamma.csv")],
    })


# ---- what each group runs -------------------------------------------------------------------------


def _warm_loop():
    from .dynamic import run_dynamic

    run_dynamic(_tiny_compiled(), record_paths=1)


def _warm_many():
    from .dynamic import make_paths, run_dynamic

    c = _tiny_compiled()
    run_dynamic(c, paths=make_paths(c, n_paths=2), record_paths=0)


def _warm_loop_full():
    from .dynamic import run_dynamic

    run_dynamic(_tiny_compiled(_FULL, every_kind=True), record_paths=1)


def _warm_many_full():
    from .dynamic import make_paths, run_dynamic

    c = _tiny_compiled(_FULL, every_kind=True)
    run_dynamic(c, paths=make_paths(c, n_paths=2), record_paths=0)


def _units_compiled():
    from .compile import compile_scenario

    folder = Path(tempfile.mkdtemp(prefix="liqcascade-warmup-"))
    return compile_scenario(tiny_units_scenario(folder), folder)


def _warm_loop_units():
    from .dynamic import run_dynamic

    run_dynamic(_units_compiled(), record_paths=1)


def _warm_many_units():
    from .dynamic import make_paths, run_dynamic

    c = _units_compiled()
    run_dynamic(c, paths=make_paths(c, n_paths=2), record_paths=0)


def _warm_static():
    from .static import solve_static, static_extras

    c = _tiny_compiled()
    assert static_extras(c) is None  # the lean variant (core venue kinds only)
    solve_static(c, np.array([0.1]), mode="rational")  # per-position kernel


def _warm_static_full():
    from .static import solve_static, static_extras

    c = _tiny_compiled({"curve": {"venue": {"A": "ss"}}}, every_kind=True)  # a StableSwap pool: every venue kind compiled
    assert static_extras(c) is True
    solve_static(c, np.array([0.1]), mode="rational")


def _warm_static_agg():
    from .static import solve_static

    solve_static(_tiny_compiled(), np.array([0.0, 0.1]))  # aggregated kernel (mechanical)


def _warm_flow():
    from .flow import warm_kernels

    warm_kernels()


def _warm_loop_backwards():
    """The lean loop's stages compiled from the last to the first (typed, never run):
    :func:`liqcascade.kernels.dynamic.run_path_backwards`, called the way the engine calls the
    loop (it stands in for ``simulate_path_lean`` for one tiny run, in a worker process)."""
    from ..kernels import _jit
    from ..kernels import dynamic as K
    from .dynamic import run_dynamic

    loop = K.simulate_path_lean
    K.simulate_path_lean = K.simulate_path_lean_backwards
    try:
        run_dynamic(_tiny_compiled(), record_paths=1)
    except _jit.TypedOnly:
        pass  # typed: every callee compiled
    finally:
        K.simulate_path_lean = loop


def _run_helper(job: str, tick=None) -> None:
    """Run the helper job ``job`` (:data:`_BACKWARDS`), calling ``tick()`` after each function
    numba compiles."""
    _ticking(_HELPERS[job], tick)


#: group -> its helper job, run first in another worker while the group compiles: the group's
#: kernels compiled from the other end of its call tree (the many-path lean kernel calls the
#: same stages as the recorded one; one helper serves both)
_BACKWARDS = {"loop": "loop_backwards", "many": "loop_backwards"}
_HELPERS = {"loop_backwards": _warm_loop_backwards}


_RUN = {"loop": _warm_loop, "many": _warm_many, "loop_full": _warm_loop_full, "many_full": _warm_many_full,
        "loop_units": _warm_loop_units,
        "many_units": _warm_many_units, "static": _warm_static, "static_full": _warm_static_full, "static_agg": _warm_static_agg,
        "flow": _warm_flow}


# ---- stamps ----------------------------------------------------------------------------------------


def _stamp(group: str) -> Path | None:
    from ..kernels import _jit

    if _jit.CACHE_DIR is None:
        return None
    return Path(_jit.CACHE_DIR) / f"warm-{group}.json"


def _numba_version() -> str:
    import numba

    return numba.__version__


def is_warm(group: str) -> bool:
    """True when ``group`` compiled into the cache folder in use (its stamp is there, written by
    the same numba version); always True with the JIT disabled."""
    p = _stamp(group)
    if p is None:
        return True
    try:
        return json.loads(p.read_text()).get("numba") == _numba_version()
    except (OSError, ValueError):
        return False


def cold_groups(groups=ALL) -> list[str]:
    return [g for g in groups if not is_warm(g)]


def estimate_seconds(groups) -> float:
    """CPU seconds the groups took to compile here before (stamps), else the built-in estimate."""
    total = 0.0
    for g in groups:
        p = _stamp(g)
        est = GROUPS[g][1]
        try:
            est = float(json.loads(p.read_text())["seconds"]) if p is not None and p.exists() else est
        except (OSError, ValueError, KeyError):
            pass
        total += est
    return total


def _write_stamp(group: str, seconds: float) -> None:
    p = _stamp(group)
    if p is None:
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"group": group, "numba": _numba_version(), "seconds": round(seconds, 1),
                               "date": time.strftime("%Y-%m-%dT%H:%M:%S")}))
    os.replace(tmp, p)


# ---- compiling ---------------------------------------------------------------------------------------


def _report(*event) -> None:
    if REPORTER is not None:
        REPORTER(*event)


def _ticking(run, tick=None) -> None:
    """``run()`` with the engine's own warm-up calls switched off (:data:`_COMPILING`), calling
    ``tick()`` after each function numba compiles."""
    from numba.core import event as nev

    class _Listener(nev.Listener):
        def on_start(self, event):
            pass

        def on_end(self, event):
            if tick is not None:
                tick()

    global _COMPILING
    listener = _Listener()
    nev.register("numba:compile", listener)
    was, _COMPILING = _COMPILING, True
    try:
        run()
    finally:
        _COMPILING = was
        nev.unregister("numba:compile", listener)


def _compile_here(group: str, tick=None) -> float:
    """Run ``group``'s tiny workload in this process, calling ``tick()`` after each function numba
    compiles. Returns the CPU seconds it took and writes the group's stamp."""
    c0 = time.process_time()
    _ticking(_RUN[group], tick)
    seconds = time.process_time() - c0
    _write_stamp(group, seconds)
    return seconds


def _worker(lane: int, jobs: list[str], queue) -> None:
    """A worker process: run ``jobs`` in order (groups compiled into the shared cache, and
    helper jobs :data:`_BACKWARDS`), reporting each function, each finished group and, last,
    that lane ``lane`` is done. A helper that fails costs time only (its group compiles what the
    helper did not), so its error is not fatal."""
    try:
        for job in jobs:
            if job in GROUPS:
                _compile_here(job, tick=lambda: queue.put(("tick", job)))
                queue.put(("group", job))
            else:
                try:
                    _run_helper(job, tick=lambda: queue.put(("tick", job)))
                except Exception:  # noqa: BLE001 - see the docstring
                    pass
        queue.put(("lane", lane))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        queue.put(("error", f"{jobs}: {exc!r}"))


def lanes(cold, n_workers: int) -> list[list[str]]:
    """The jobs of each worker process for the ``cold`` groups: the groups spread greedily by
    estimated time (longest first, each to the least loaded worker); then, for a cold group
    with a helper job (:data:`_BACKWARDS`: its kernels compiled from the other end of the call
    tree), the helper goes first on the least loaded other worker (the groups after it there
    then find the kernels they share with the loop compiled)."""
    out: list[list[str]] = [[] for _ in range(n_workers)]
    load = [0.0] * n_workers
    for g in sorted(cold, key=lambda g: -estimate_seconds([g])):
        i = load.index(min(load))
        out[i].append(g)
        load[i] += estimate_seconds([g])
    if n_workers > 1:
        for g, helper in _BACKWARDS.items():
            if g in cold and not any(helper in lane for lane in out):
                here = next(i for i, lane in enumerate(out) if g in lane)
                other = min((i for i in range(n_workers) if i != here), key=lambda i: load[i])
                out[other].insert(0, helper)
    return [lane for lane in out if lane]


def compile_groups(groups, workers: int | None = None) -> None:
    """Compile ``groups`` (the cold ones among them), in parallel worker processes when more than
    one is cold and more than one CPU is available (:func:`lanes`; a lone cold time loop gets a
    second worker compiling it from the other end); then load every group in this process.
    Progress goes to :data:`REPORTER`."""
    from ..kernels import _jit

    groups = [g for g in groups if g in GROUPS]
    cold = cold_groups(groups)
    if _jit.DISABLED or not cold:
        return
    t0 = time.perf_counter()
    cpus = workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else (os.cpu_count() or 1))
    import multiprocessing as mp

    if mp.current_process().daemon:  # a pool's worker (Monte Carlo chunks) may start no process
        cpus = 1
    n_workers = min(len(cold) + len({h for g, h in _BACKWARDS.items() if g in cold}), cpus)
    total_functions = sum(GROUPS[g][2] for g in cold)
    if "loop" in cold and "many" in cold:  # one call tree below both: compiled once (claims)
        total_functions -= GROUPS["loop"][2] - 15
    plan = lanes(cold, n_workers)
    # the longest lane of the plan, plus loading (a group's estimate is its time with its helper
    # beside it; the helper's about 40 % of that)
    est = [sum(estimate_seconds([j]) if j in GROUPS else
               0.4 * max(estimate_seconds([g]) for g, h in _BACKWARDS.items() if h == j and g in cold)
               for j in lane) for lane in plan]
    wall_est = max(est) + (2.0 if len(plan) > 1 else 0.0)
    _report("start", cold, wall_est, total_functions)
    done = 0

    def tick():
        nonlocal done
        done += 1
        _report("tick", done)

    if len(plan) > 1:
        import queue as queues

        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        env_before = os.environ.get("NUMBA_CACHE_DIR")
        os.environ["NUMBA_CACHE_DIR"] = _jit.CACHE_BASE  # workers key it the same way
        procs = []
        try:
            for i, lane in enumerate(plan):
                p = ctx.Process(target=_worker, args=(i, lane, queue), daemon=True)
                p.start()
                procs.append(p)
            finished: set[int] = set()
            while len(finished) < len(plan):
                try:
                    kind, what = queue.get(timeout=1.0)
                except queues.Empty:  # a worker killed (out of memory, a crash) says nothing
                    dead = [i for i, p in enumerate(procs) if i not in finished and p.exitcode is not None]
                    if dead and queue.empty():
                        raise RuntimeError(f"compiling kernels failed: worker process for {plan[dead[0]]} exited "
                                           f"with status {procs[dead[0]].exitcode}") from None
                    continue
                if kind == "tick":
                    tick()
                elif kind == "group":
                    _report("group", what)
                elif kind == "lane":
                    finished.add(what)
                else:
                    raise RuntimeError(f"compiling kernels failed in a worker: {what}")
        finally:
            if env_before is None:
                os.environ.pop("NUMBA_CACHE_DIR", None)
            else:
                os.environ["NUMBA_CACHE_DIR"] = env_before
            for p in procs:
                p.join(timeout=60)
        _load(groups)
    else:
        for g in cold:
            _compile_here(g, tick)
            _report("group", g)
    _report("done", time.perf_counter() - t0)


_COMPILING = False  # a group's tiny run is compiling: the engine calls inside it must not recurse


def ensure(groups) -> None:
    """Make sure ``groups`` are compiled before the engine calls into them: compiles the cold
    ones with progress reports (nothing happens when they are warm)."""
    if _COMPILING or not cold_groups(groups):
        return
    compile_groups(groups)


def _load(groups) -> None:
    """Run the groups' tiny workloads in this process (loads their kernels from the cache)."""
    global _COMPILING
    was, _COMPILING = _COMPILING, True
    try:
        for g in groups:
            _RUN[g]()
    finally:
        _COMPILING = was


def warm(groups=ALL, workers: int | None = None) -> None:
    """Compile every group (``liqcascade warmup``); warm groups are loaded, cold ones compiled
    (in parallel where possible)."""
    compile_groups(groups, workers)
    _load(groups)
    from ..positions.fastread import warm as warm_loader

    warm_loader()  # the position-file reader's id kernels (every command reading a file; <1 s to compile)
