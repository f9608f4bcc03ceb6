"""Historical replays: real crash days on real data (``liqcascade replay EVENT``).

Each event lives in its own module here and defines ``EVENT = ReplayEvent(...)``; a new event is
one new module plus its name in :data:`_MODULES`. A replay reads the public files it names
(``needs``, relative to the data folder the user gives — by default ``../shared/data`` or
``$LIQCASCADE_DATA``) and builds its scenarios from them: real price paths, gas and depth, books
sampled to match published pre-crash aggregates where no real snapshot exists.

What an event module provides (:class:`ReplayEvent`):

* ``priors`` — every input that is not real data and not a published number, as a
  :class:`~liqcascade.replay.priors.Prior` (distribution, range, a one-line source for the range);
* ``inputs()`` — the provenance table (real file / published aggregate with citation /
  assumption with prior), printed by ``replay EVENT --inputs`` and opening every report;
* ``outcomes`` — the headline outcomes, each with its definition and, where one is published,
  the record (:class:`~liqcascade.replay.priors.Record`);
* ``settings`` — resolution knobs that are not uncertain inputs (number of synthetic positions,
  step length, window), with a ``--quick`` value;
* ``prepare(data_dir, settings)`` — read and check the data once (a worker caches it);
* ``member(ctx, draw, seed, keep)`` — one replay for one input set: a :class:`MemberResult`
  with the outcomes (and the runs themselves when ``keep``).

``replay EVENT`` runs one member at the priors' medians (plus one-at-a-time tables);
``replay EVENT --ensemble N`` draws N input sets (:mod:`liqcascade.replay.ensemble`).
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import InputError
from .priors import Input, Outcome, Prior, Record, apply_overrides, central_draw

__all__ = ["ReplayOptions", "ReplayEvent", "ReplayResult", "MemberResult", "Sensitivity", "Setting",
           "Prior", "Input", "Outcome", "Record", "events", "get_event", "run_event", "default_data_dir",
           "member_seed"]

SCHEMA_VERSION = 2  # replay.json and ensemble.json (2: priors, inputs, records, ensembles)

# modules defining EVENT, in the order ``replay --list`` shows them
_MODULES = ("maker_2020", "may_2021", "steth_2022", "perp_2025")


@dataclass
class ReplayOptions:
    data_dir: Path
    seed: int = 0
    quick: bool = False  # smaller books and fewer table rows, for tests and a first look
    overrides: dict[str, Any] = field(default_factory=dict)  # --set key=value (priors or settings)


@dataclass(frozen=True)
class Setting:
    """A resolution knob (not an uncertain input): default, ``--quick`` value and limits."""

    name: str
    default: Any
    quick: Any
    lo: float
    hi: float
    help: str
    kind: type = float

    def parse(self, raw, event: str):
        try:
            v = self.kind(float(raw)) if self.kind is int else self.kind(raw)
        except (TypeError, ValueError):
            raise InputError(None, f"--set {self.name}", f"not a number: {raw!r}") from None
        if self.kind is int and float(raw) != int(float(raw)):
            raise InputError(None, f"--set {self.name}", f"must be a whole number, got {raw!r}")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and self.lo <= v <= self.hi):
            raise InputError(None, f"--set {self.name}", f"must be in [{self.lo:g}, {self.hi:g}] for replay {event}, got {raw!r}")
        return v


@dataclass
class Sensitivity:
    parameter: str  # what varies, e.g. "keeper gas budget (gwei)"
    columns: list[str]  # result columns
    rows: list[dict]  # one dict per value: {"value": v, column: number, ...}


@dataclass
class MemberResult:
    """One replay of one input set."""

    outcomes: dict[str, float]  # every headline outcome (and detail numbers after them)
    runs: dict[str, tuple] = field(default_factory=dict)  # name -> (Compiled, RunResult) when kept
    notes: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)


@dataclass
class ReplayResult:
    event: str
    title: str
    headline: dict[str, float]  # the numbers the event is known for (bad debt, …)
    assumptions: list[str]  # what is real, what is synthetic, what is simplified
    sensitivity: list[Sensitivity]
    run: Any = None  # the main run's RunResult (for --report / --out)
    compiled: Any = None  # its Compiled scenario
    extra: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)  # every run of the member: name -> (Compiled, RunResult)
    inputs: list = field(default_factory=list)  # provenance rows (Input.as_dict())

    def as_dict(self) -> dict:
        from .. import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "liqcascade_version": __version__,
            "event": self.event,
            "title": self.title,
            "headline": self.headline,
            "assumptions": self.assumptions,
            "sensitivity": [
                {"parameter": s.parameter, "columns": s.columns, "rows": s.rows} for s in self.sensitivity
            ],
            "inputs": self.inputs,
            "extra": self.extra,
        }


@dataclass
class ReplayEvent:
    name: str  # the CLI name, e.g. "2020-03-12"
    title: str
    summary: str  # one paragraph: what happened, what the replay models
    needs: list[str]  # files (or folders) relative to the data folder
    priors: list[Prior]
    outcomes: list[Outcome]
    inputs: Callable[[], list[Input]]
    prepare: Callable[[Path, dict], Any]
    member: Callable[..., MemberResult]
    settings: list[Setting] = field(default_factory=list)
    sensitivity: tuple[str, ...] = ()  # priors tabled one at a time around the point run
    assumptions: Callable[[dict, dict, MemberResult], list[str]] | None = None  # (draw, settings, result)
    main_run: str | None = None  # name of the run --out/--report write as "the" run

    def missing(self, data_dir: Path) -> list[str]:
        return [n for n in self.needs if not (Path(data_dir) / n).exists()]

    def prior(self, name: str) -> Prior:
        for p in self.priors:
            if p.name == name:
                return p
        raise KeyError(name)

    def split_overrides(self, overrides: dict, quick: bool) -> tuple[dict, dict]:
        """``--set`` values → ``(settings, fixed prior values)``; unknown keys are refused."""
        known = [s.name for s in self.settings] + [p.name for p in self.priors]
        for k in (overrides or {}):
            if k not in known:
                raise InputError(f"replay {self.name}", f"--set {k}", f"unknown knob (known: {', '.join(known)})")
        settings = {s.name: (s.quick if quick else s.default) for s in self.settings}
        for s in self.settings:
            if s.name in (overrides or {}):
                settings[s.name] = s.parse(overrides[s.name], self.name)
        _, fixed = apply_overrides(self.priors, {k: v for k, v in (overrides or {}).items()
                                                 if k not in settings}, f"replay {self.name}")
        return settings, fixed

    def run(self, options: ReplayOptions) -> ReplayResult:
        """The point run: one member at the priors' medians (``--set`` fixes any of them), and
        one-at-a-time tables over ``sensitivity`` (prior low / median / high; ``--quick``: low
        and high)."""
        settings, fixed = self.split_overrides(options.overrides, options.quick)
        ctx = self.prepare(Path(options.data_dir), settings)
        draw = {**central_draw(self.priors), **fixed}
        seed = member_seed(options.seed, 0)
        res = self.member(ctx, draw, seed, keep=True)
        head_names = [o.name for o in self.outcomes]
        headline = {k: float(res.outcomes[k]) for k in head_names}
        sens = []
        for name in self.sensitivity:
            if name in fixed:
                continue
            p = self.prior(name)
            vals = [p.lo, p.hi] if options.quick else [p.lo, draw[name], p.hi]
            rows = []
            for v in vals:
                v = int(v) if p.integer else float(v)
                m = res.outcomes if v == draw[name] else self.member(ctx, {**draw, name: v}, seed, keep=False).outcomes
                rows.append({"value": v, **{c: float(m[c]) for c in head_names}})
            # the table shows the outcomes this prior moves (all of them if it moves none)
            cols = [c for c in head_names if len({r[c] for r in rows}) > 1] or list(head_names)
            rows = [{"value": r["value"], **{c: r[c] for c in cols}} for r in rows]
            sens.append(Sensitivity(f"{p.label} ({p.name})", cols, rows))
        assumptions = self.assumptions(draw, settings, res) if self.assumptions else []
        runs = res.runs
        main = runs.get(self.main_run) if self.main_run else (next(iter(runs.values())) if runs else None)
        compiled, run = (main if main is not None else (None, None))
        if run is not None:
            run.notes = [*assumptions, *res.notes, *run.notes]
            run.scenario = f"replay {self.name}"
        extra = {"draw": draw, "fixed": fixed, "settings": settings, "seed": int(options.seed),
                 "member_seed": seed, "detail": {k: v for k, v in res.outcomes.items() if k not in headline},
                 "records": {o.name: {"value": o.record.value, "source": o.record.source, "note": o.record.note}
                             for o in self.outcomes if o.record is not None},
                 "definitions": {o.name: o.definition for o in self.outcomes if o.definition},
                 "notes": res.notes, **res.detail}
        return ReplayResult(event=self.name, title=self.title, headline=headline, assumptions=assumptions,
                            sensitivity=sens, run=run, compiled=compiled, extra=extra, runs=runs,
                            inputs=[i.as_dict() for i in self.inputs()])


def member_seed(seed: int, k: int) -> int:
    """The seed of member ``k`` of an ensemble with root ``seed`` (the point run is member 0's
    seed); 63-bit, from ``SeedSequence([seed, k, 0x5EED])``."""
    s = np.random.SeedSequence([int(seed), int(k), 0x5EED]).generate_state(2, dtype=np.uint32)
    return int((int(s[0]) << 31) ^ int(s[1])) & ((1 << 62) - 1)


def default_data_dir() -> Path:
    env = os.environ.get("LIQCASCADE_DATA")
    return Path(env) if env else Path("..") / "shared" / "data"


def events() -> dict[str, ReplayEvent]:
    """Every event, in ``_MODULES`` order."""
    out = {}
    for m in _MODULES:
        ev = importlib.import_module(f"{__name__}.{m}").EVENT
        out[ev.name] = ev
    return out


def get_event(name: str) -> ReplayEvent:
    evs = events()
    if name not in evs:
        raise InputError("replay", "EVENT", f"unknown event {name!r}; known: {', '.join(evs)}")
    return evs[name]


def run_event(name: str, options: ReplayOptions) -> ReplayResult:
    ev = get_event(name)
    missing = ev.missing(options.data_dir)
    if missing:
        raise InputError(str(options.data_dir), None,
                         f"replay {name} needs {', '.join(missing)} (give the folder with --data)")
    return ev.run(options)


class _CallableModule(type(importlib)):
    """``liqcascade.replay`` is both this package and the API's ``lc.replay(event, ...)``: calling
    the module runs :func:`liqcascade.api.studies.replay` (a package attribute named ``replay``
    would be replaced by the subpackage as soon as it is imported)."""

    def __call__(self, event: str, **kwargs):
        from ..api.studies import replay

        return replay(event, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
