"""The API's entry points: ``curve``, ``run``, ``compare``, ``mc``, ``sweep``, ``replay`` and
``run_many``. Each takes a scenario (a :class:`~liqcascade.api.scenario.Scenario`, a TOML path
or a dict), calls the engine's public functions and wraps what they return (:mod:`.results`).

``progress`` (every entry point): ``None``; ``True`` for a progress bar on stderr; or a callable
``progress(done, total)`` called as work finishes. An exception raised by the callable stops
the work at that point and propagates (the dashboard cancels runs this way): between chunks of
shocks, between paths, between Monte Carlo chunks, between runs of a batch.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from .results import (
    BatchResult, CompareResult, ContagionResult, CurveResult, MonteCarloResult, ReplayResult, RunResult, SweepResult,
)
from .scenario import Scenario

ScenarioLike = Scenario | str | os.PathLike | Mapping
Progress = Callable[[int, int], None] | bool | None

DEFAULT_SHOCKS = "0:0.5:0.01"  # as `liqcascade curve`
DEFAULT_STORE = "liqcascade-runs"  # as `liqcascade mc / sweep`


def as_scenario(s: ScenarioLike) -> Scenario:
    """A :class:`Scenario` from a Scenario, a TOML path or a dict of tables."""
    if isinstance(s, Scenario):
        return s
    if isinstance(s, (str, os.PathLike)):
        return Scenario.load(s)
    if isinstance(s, Mapping):
        return Scenario.from_dict(s)
    raise TypeError(f"expected a Scenario, a scenario file or a dict, got {type(s).__name__}")


@contextlib.contextmanager
def _progress(progress: Progress, total: int | None, label: str):
    """Yield ``cb(done, total)``: the user's callable, a rich bar, or a no-op."""
    if progress is None or progress is False:
        yield lambda done, tot=None: None
        return
    if callable(progress):
        yield lambda done, tot=None: progress(int(done), int(tot if tot is not None else total or 0))
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as RProgress, TextColumn, TimeElapsedColumn

    with RProgress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def cb(done, tot=None):
            bar.update(task, completed=done, total=tot if tot is not None else total)

        yield cb


class _Counter:
    """Turns the engine's ``progress(k)`` increments into ``cb(done, total)``."""

    def __init__(self, cb, total: int):
        self.cb, self.total, self.done = cb, total, 0

    def __call__(self, k: int = 1):
        self.done += int(k)
        self.cb(self.done, self.total)


def parse_shocks(shocks) -> list[float]:
    """``"start:stop:step"`` (stop included when on the grid), ``"a,b,c"`` or a sequence of fractions."""
    import numpy as np

    from ..results.curve import check_shocks, parse_shock_grid

    where = "shocks"
    if isinstance(shocks, str):
        vals = parse_shock_grid(shocks, where)
    else:
        try:
            vals = np.asarray(shocks, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(None, where, "expected fractions in [0, 1)") from None
        check_shocks(vals, where)
    return [float(v) for v in vals]


def _kinds(s: Scenario) -> dict:
    return {p.name: p.kind for p in s.model.protocols}


def _with_sim(s: Scenario, paths: int | None, seed: int | None, record_paths: int | None = None) -> Scenario:
    edits = {}
    for key, v, lo in (("paths", paths, 1), ("seed", seed, 0), ("record_paths", record_paths, 0)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
            raise InputError(s.source, key, f"must be an integer, got {v!r}")
        if int(v) < lo:
            raise InputError(s.source, key, f"must be >= {lo}, got {v}")
        edits[f"simulation.{key}"] = int(v)
    return s.set(edits) if edits else s


# ---- curve and run ------------------------------------------------------------------------------


def curve(scenario: ScenarioLike, shocks=DEFAULT_SHOCKS, *, mode: str = "mechanical", asset: str | None = None,
          progress: Progress = None) -> CurveResult:
    """The static cascade curve over ``shocks`` (as ``liqcascade curve``): for each exogenous
    shock δ, the fixed point of liquidation rounds and sales; ``mode`` ``"mechanical"`` (every
    HF < 1 position liquidated) or ``"rational"`` (only liquidations that pay)."""
    from ..engine.static import solve_static
    from ..provenance import record

    s = as_scenario(scenario)
    if mode not in ("mechanical", "rational"):
        raise InputError(None, "mode", "must be mechanical or rational")
    grid = parse_shocks(shocks)
    model = s.model
    if all(p.kind != "aave_v3" for p in model.protocols):
        raise InputError(s.source, "protocols", "the static cascade curve covers Aave-rule protocols "
                         "(kind = \"aave_v3\"); this scenario has only protocol units — use run()")
    c = s.compile()
    if asset is not None and asset not in c.assets:
        raise InputError(None, "asset", f"unknown asset {asset!r}")
    with _progress(progress, len(grid), "shocks") as cb:
        counter = _Counter(cb, len(grid))
        try:
            res = solve_static(c, grid, mode=mode, asset=asset, progress=counter if progress else None)
        except InputError as exc:
            raise _with_file(exc, s) from None
    meta = record("curve", model, s.base_dir, seed=model.simulation.seed, scenario_hash_=s.hash,
                  mode=mode, shocks=len(grid), asset=res.asset)
    return CurveResult(res, meta, compiled=c)


def _with_file(exc: InputError, s: Scenario) -> InputError:
    if exc.file is None and not (exc.where or "").startswith("--"):
        return InputError(s.source, exc.where, exc.reason)
    return exc


def run(scenario: ScenarioLike, *, paths: int | None = None, seed: int | None = None,
        record_paths: int | None = None, progress: Progress = None) -> RunResult:
    """The dynamic simulation (as ``liqcascade run``); ``paths``, ``seed`` and ``record_paths``
    override ``[simulation]``."""
    from ..engine.dynamic import run_dynamic
    from ..provenance import record

    s = _with_sim(as_scenario(scenario), paths, seed, record_paths)
    model = s.model
    if model.flow is not None:
        raise _with_file(InputError(None, "flow", "a flow study ([flow]) runs with lc.run_flow(scenario)"), s)
    c = s.compile()
    n = model.simulation.paths
    with _progress(progress, n, "paths") as cb:
        counter = _Counter(cb, n)
        try:
            res = run_dynamic(c, progress=counter if progress else None)
        except InputError as exc:
            raise _with_file(exc, s) from None
    meta = record("run", model, s.base_dir, seed=model.simulation.seed, scenario_hash_=s.hash,
                  paths=n, steps=model.simulation.steps, record_paths=min(model.simulation.record_paths, n))
    return RunResult(res, meta, compiled=c, kinds=_kinds(s))


# ---- external flow ----------------------------------------------------------------------------------


def run_flow(scenario: ScenarioLike):
    """The external-flow run of a scenario with a ``[flow]`` table (as ``liqcascade run`` on it):
    the flow and the no-flow runs over the series. Returns the engine's
    :class:`~liqcascade.results.flow.FlowResult` (``.max_drop``, ``.summary``, ``.steps`` as NumPy
    columns, ``.conservation()``, ``.notes``, ``.meta``); docs/external-flow.md."""
    from ..engine import flow as F

    s = as_scenario(scenario)
    try:
        return F.run_flow(F.compile_flow(s.model, s.base_dir))
    except InputError as exc:
        raise _with_file(exc, s) from None


# ---- compare --------------------------------------------------------------------------------------


def compare(scenario: ScenarioLike, mechanisms: str | Sequence[str] = "all", *, paths: int | None = None,
            seed: int | None = None, set: Mapping[str, Any] | Sequence[str] | None = None,
            record_paths: int = 1, progress: Progress = None) -> CompareResult:
    """Mechanism configurations on the same seeded price paths (as ``liqcascade compare``).

    ``mechanisms``: ``"all"`` (none and every mechanism alone) or configurations such as
    ``["none", "circuit-breaker", "throttle+twap-exit", "scenario"]``; ``set``: overrides
    ``{"throttle.max_debt_per_window": 1e6}`` (or ``"NAME.FIELD=VALUE"`` strings) applied in every
    configuration that switches the mechanism on."""
    from ..engine.compare import MECHANISMS, cli_name, parse_names, parse_sets, run_compare
    from ..provenance import record

    s = as_scenario(scenario)
    if isinstance(mechanisms, str):
        names = mechanisms
    else:
        names = ",".join(mechanisms)
    if names.strip() == "all":
        names = ",".join(["none", *(cli_name(m) for m in MECHANISMS)])
    if set is None:
        sets: list[str] = []
    elif isinstance(set, Mapping):
        sets = [f"{k}={_toml_value(v)}" for k, v in set.items()]
    else:
        sets = list(set)
    parsed = parse_names(names)
    parse_sets(sets)
    model = s.model
    n_paths = paths if paths is not None else model.simulation.paths
    n_cfg = len(parsed) + (0 if any(f == [] for _, f in parsed) else 1)
    total = n_cfg * n_paths
    with _progress(progress, total, "configurations × paths") as cb:
        counter = _Counter(cb, total)
        try:
            res = run_compare(model, s.base_dir, names, sets, paths=paths, seed=seed, record_paths=record_paths,
                              source=s.source, progress=counter if progress else None)
        except InputError as exc:
            raise _with_file(exc, s) from None
    sim = model.model_copy(deep=True)
    sim.simulation.paths, sim.simulation.seed = res.paths, res.seed
    meta = record("compare", sim, s.base_dir, seed=res.seed, paths=res.paths, steps=res.steps,
                  configurations=[c.label for c in res.configs])
    return CompareResult(res, meta, kinds=_kinds(s))


# ---- contagion ------------------------------------------------------------------------------------


def contagion(scenario: ScenarioLike, *, paths: int | None = None, seed: int | None = None,
              progress: Progress = None) -> ContagionResult:
    """Counterfactual contagion (as ``liqcascade contagion``): the baseline and, for every
    protocol A, the same seeded paths with A's forced sales absorbed by an infinite-depth sink;
    ``C[A, B]`` is B's outcome in the baseline minus B's outcome without A's sales."""
    from ..engine.contagion import run_contagion
    from ..provenance import record

    s = _with_sim(as_scenario(scenario), paths, seed)
    model = s.model
    c = s.compile()
    n = int(model.simulation.paths)
    total = (len(c.protocols) + 1) * n
    with _progress(progress, total, "baseline + counterfactual runs × paths") as cb:
        counter = _Counter(cb, total)
        try:
            res = run_contagion(c, n, progress=counter if progress else None)
        except InputError as exc:
            raise _with_file(exc, s) from None
    meta = record("contagion", model, s.base_dir, seed=model.simulation.seed, scenario_hash_=s.hash, paths=n,
                  steps=model.simulation.steps)
    return ContagionResult(res, meta)


def _toml_value(v) -> str:
    from .toml import _inline

    return _inline(v)


# ---- Monte Carlo and sweeps -------------------------------------------------------------------------


def _canonical_param(path: str) -> str:
    parts = path.split(".")
    if len(parts) > 3 and parts[0] == "protocols" and parts[2] == "assets":
        parts[2] = "params"
    return ".".join(parts)


def _param_spec(path: str, values) -> str:
    if isinstance(values, str):
        return f"{_canonical_param(path)}={values}"
    try:
        vals = [v.item() if hasattr(v, "item") else v for v in values]
    except TypeError:
        vals = [values]
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(None, "params", f"{path}: sweeps take numbers, got {v!r}")
    return f"{_canonical_param(path)}=" + ",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in vals)


def _execute(kind: str, s: Scenario, params: Sequence[str], *, paths, seed, random, store, workers, chunk_paths,
             progress):
    from ..montecarlo.runner import execute, plan_run

    try:
        plan = plan_run(s.model, params, paths=paths, seed=seed, random=random, chunk_paths=chunk_paths,
                        kind=kind, base_dir=s.base_dir)
    except InputError as exc:
        raise _with_file(exc, s) from None
    with _progress(progress, None, "chunks") as cb:
        rep = execute(plan, store if store is not None else DEFAULT_STORE, workers=workers,
                      progress=(lambda done, total: cb(done, total)) if progress else None)
    return plan, rep


def mc(scenario: ScenarioLike, *, paths: int | None = None, seed: int | None = None,
       store: str | os.PathLike | None = DEFAULT_STORE, workers: int | None = None,
       chunk_paths: int = 256, progress: Progress = None) -> MonteCarloResult:
    """A Monte Carlo run (as ``liqcascade mc``): VaR95, ES95, LaR95 and P(insolvent) over
    ``paths`` paths. Chunks are stored in ``store`` (the run store the CLI uses, by default
    ``./liqcascade-runs``) and a run already there is resumed, not redone. ``workers``: worker
    processes (``0`` = in this process; default one per CPU)."""
    from ..provenance import record

    s = as_scenario(scenario)
    plan, rep = _execute("mc", s, [], paths=paths, seed=seed, random=None, store=store, workers=workers,
                         chunk_paths=chunk_paths, progress=progress)
    meta = record("mc", s.model, s.base_dir, seed=plan.seed, scenario_hash_=plan.base_hash, paths=plan.paths,
                  run_id=rep.run_id, store=rep.store)
    return MonteCarloResult(rep, plan, meta)


def sweep(scenario: ScenarioLike, params: Mapping[str, Any], *, paths: int | None = None, seed: int | None = None,
          random: int | None = None, store: str | os.PathLike | None = DEFAULT_STORE, workers: int | None = None,
          chunk_paths: int = 256, progress: Progress = None) -> SweepResult:
    """Monte Carlo over a grid of parameters (as ``liqcascade sweep``): ``params`` maps a dotted
    path to its values — a list of numbers or ``"start:stop:step"``. ``random=K`` draws K points
    uniformly in the box instead. Every point runs the same seeded paths. Invalid points are
    reported in the table and skipped."""
    from ..provenance import record

    s = as_scenario(scenario)
    if not params:
        raise InputError(None, "params", "give at least one {path: values} (or use mc())")
    specs = [_param_spec(p, v) for p, v in params.items()]
    plan, rep = _execute("sweep", s, specs, paths=paths, seed=seed, random=random, store=store, workers=workers,
                         chunk_paths=chunk_paths, progress=progress)
    meta = record("sweep", s.model, s.base_dir, seed=plan.seed, scenario_hash_=plan.base_hash, paths=plan.paths,
                  run_id=rep.run_id, store=rep.store, params=[sp.path for sp in plan.specs])
    return SweepResult(rep, plan, meta)


# ---- replay -------------------------------------------------------------------------------------------


def replay(event: str, *, data_dir: str | os.PathLike | None = None, seed: int = 0, quick: bool = False,
           overrides: Mapping[str, Any] | None = None) -> ReplayResult:
    """Replay a historical crash day on real data (as ``liqcascade replay EVENT``). ``data_dir``:
    the folder with the public data files (default ``$LIQCASCADE_DATA`` or ``../shared/data``);
    ``quick``: fewer sensitivity rows. ``liqcascade.replay.events()`` lists the events."""
    import hashlib

    from ..provenance import canonical_json, record, scenario_hash
    from ..replay import ReplayOptions, default_data_dir, get_event, run_event

    opts = ReplayOptions(data_dir=Path(data_dir) if data_dir is not None else default_data_dir(), seed=int(seed),
                         quick=bool(quick), overrides={k: str(v) for k, v in (overrides or {}).items()})
    raw = run_event(event, opts)
    run_res = None
    if raw.compiled is not None:
        model = raw.compiled.scenario
        # the replay builds its books from the seed and its data files: both go into the hash
        data = {}
        for name in get_event(event).needs:
            try:
                data[name] = hashlib.sha256((Path(opts.data_dir) / name).read_bytes()).hexdigest()
            except OSError:
                data[name] = None
        h = hashlib.sha256(canonical_json({"scenario": scenario_hash(model, raw.compiled.base_dir), "data": data,
                                           "options": {"seed": opts.seed, "quick": opts.quick,
                                                       "overrides": opts.overrides}}).encode()).hexdigest()
        meta = record("replay", model, raw.compiled.base_dir, seed=opts.seed, scenario_hash_=h,
                      event=raw.event, data_dir=str(opts.data_dir), quick=opts.quick,
                      scenario_hash_covers="the replay's scenario, its data files and options")
        if raw.run is not None:
            run_meta = {**meta, "kind": "run", "paths": raw.run.paths, "steps": raw.run.steps}
            run_res = RunResult(raw.run, run_meta, compiled=raw.compiled,
                                kinds={p.name: p.kind for p in model.protocols})
    else:
        from ..provenance import SCHEMA_VERSION, code_version, package_version

        meta = {"kind": "replay", "scenario": raw.event, "scenario_hash": None, "seed": int(seed),
                "package_version": package_version(), "schema_version": SCHEMA_VERSION,
                "code_version": code_version(), "event": raw.event, "data_dir": str(opts.data_dir)}
    return ReplayResult(raw, meta, run_res)


# ---- batches -------------------------------------------------------------------------------------------


def grid_points(grid: Mapping[str, Iterable]) -> list[dict]:
    """Cartesian product of ``{path: values}`` (the first path varies slowest)."""
    keys = list(grid)
    vals = []
    for k in keys:
        v = grid[k]
        if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
            v = [v]
        vals.append([x.item() if hasattr(x, "item") else x for x in v])
    return [dict(zip(keys, combo)) for combo in itertools.product(*vals)]


def run_many(scenarios: ScenarioLike | Sequence[ScenarioLike], grid: Mapping[str, Iterable] | None = None, *,
             paths: int | None = None, seed: int | None = None, record_paths: int | None = None,
             workers: int = 1, progress: Progress = None) -> BatchResult:
    """Many small dynamic runs: a list of scenarios, or one scenario and a ``grid`` of
    ``{path: values}`` (every combination; values may be numbers, strings or booleans).

    Grid points are validated before anything runs; an invalid point is reported in the table
    (with the validation message) and not run. ``workers`` threads run items side by side (the
    compiled loop releases the GIL)."""
    from ..provenance import record

    params: list[str] = []
    items: list[dict] = []
    todo: list[tuple[int, Scenario]] = []
    if grid is not None:
        base = as_scenario(scenarios)
        params = list(grid)
        for i, pt in enumerate(grid_points(grid)):
            it = {"scenario": base.name, "params": pt, "reason": None}
            try:
                todo.append((i, base.set(pt)))
            except InputError as exc:
                it["reason"] = exc.message()
            items.append(it)
        meta_sc = base
    else:
        if isinstance(scenarios, (Scenario, str, os.PathLike, Mapping)):
            scenarios = [scenarios]
        for i, sc in enumerate(scenarios):
            s = as_scenario(sc)
            items.append({"scenario": s.name, "params": {}, "reason": None})
            todo.append((i, s))
        if not todo:
            raise InputError(None, "scenarios", "no scenario to run")
        meta_sc = None
    results: list[RunResult | None] = [None] * len(items)
    with _progress(progress, len(todo), "runs") as cb:
        done = 0
        if workers <= 1 or len(todo) <= 1:
            for i, s in todo:
                results[i] = run(s, paths=paths, seed=seed, record_paths=record_paths)
                done += 1
                cb(done, len(todo))
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=int(workers)) as pool:
                futs = {pool.submit(run, s, paths=paths, seed=seed, record_paths=record_paths): i for i, s in todo}
                try:
                    from concurrent.futures import as_completed

                    for f in as_completed(futs):
                        results[futs[f]] = f.result()
                        done += 1
                        cb(done, len(todo))
                except BaseException:
                    for f in futs:
                        f.cancel()
                    raise
    notes = []
    invalid = [it for it in items if it["reason"]]
    if invalid:
        notes.append(f"{len(invalid)} invalid grid point(s) reported and not run")
    if meta_sc is not None:  # one scenario over a grid: its provenance
        m = meta_sc.model
        meta = record("batch", m, meta_sc.base_dir, seed=seed if seed is not None else m.simulation.seed,
                      scenario_hash_=meta_sc.hash, items=len(items), params=params)
    else:  # a list of scenarios: each row of the table has its own seed and hash
        import hashlib

        from ..provenance import SCHEMA_VERSION, code_version, package_version

        joined = ",".join(s.hash for _, s in todo)
        meta = {"kind": "batch", "scenario": f"{len(todo)} scenario(s)",
                "scenario_hash": hashlib.sha256(joined.encode()).hexdigest(), "seed": seed,
                "package_version": package_version(), "schema_version": SCHEMA_VERSION,
                "code_version": code_version(), "items": len(items), "params": params,
                "hash_of": "the items' scenario hashes, in order"}
    return BatchResult(items, results, params, meta, notes)
