"""Historical replays: real crash days on real data (``liqcascade replay EVENT``).

Each event lives in its own module here and defines ``EVENT = ReplayEvent(...)``. A replay reads
the public files it names (``needs``, relative to the data folder the user gives — by default
``../shared/data`` or ``$LIQCASCADE_DATA``), builds a scenario from them (real price paths, gas and
depth; synthetic books where no real snapshot exists — each replay says which), runs the dynamic
engine and reports headline numbers, its assumptions and a sensitivity table.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError

# modules defining EVENT, in the order ``replay --list`` shows them
_MODULES = ("maker_2020", "may_2021", "perp_2025")


@dataclass
class ReplayOptions:
    data_dir: Path
    seed: int = 0
    quick: bool = False  # fewer sensitivity rows / coarser steps, for tests
    overrides: dict[str, Any] = field(default_factory=dict)  # event-specific knobs (--set key=value)


@dataclass
class Sensitivity:
    parameter: str  # what varies, e.g. "keeper gas budget (gwei)"
    columns: list[str]  # result columns, e.g. ["bad_debt", "zero_bid_share"]
    rows: list[dict]  # one dict per value: {"value": v, column: number, ...}


@dataclass
class ReplayResult:
    event: str
    title: str
    headline: dict[str, float]  # the numbers the event is known for (bad debt, …)
    assumptions: list[str]  # what is real, what is synthetic, what is simplified
    sensitivity: list[Sensitivity]
    run: Any = None  # the base run's RunResult (for --report / --out)
    compiled: Any = None  # its Compiled scenario
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "event": self.event,
            "title": self.title,
            "headline": self.headline,
            "assumptions": self.assumptions,
            "sensitivity": [
                {"parameter": s.parameter, "columns": s.columns, "rows": s.rows} for s in self.sensitivity
            ],
            "extra": self.extra,
        }


@dataclass
class ReplayEvent:
    name: str  # the CLI name, e.g. "2020-03-12"
    title: str
    summary: str  # one paragraph: what happened, what the replay models
    needs: list[str]  # files relative to the data folder
    run: Callable[[ReplayOptions], ReplayResult]

    def missing(self, data_dir: Path) -> list[str]:
        return [n for n in self.needs if not (Path(data_dir) / n).exists()]


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
