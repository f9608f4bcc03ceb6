"""Durations: seconds in scenario files, steps in the kernels. This module is the one conversion.

Every duration a scenario gives (oracle lags, windows, half-lives, heartbeats and hops, venue
impact half-lives, crash timing, mechanism windows, pauses and cooldowns, agent delays …) is in
seconds, under a key ending in ``_seconds``; the engine turns it into steps of
``simulation.dt_seconds`` here and nowhere else:

* :meth:`Timebase.steps` — a whole number of steps, the nearest one (a duration that is an exact
  multiple of the step converts exactly), at least ``minimum``; when the duration is not a whole
  number of steps the rounding is recorded in :attr:`Timebase.notes` so that the run reports it;
* :meth:`Timebase.fractional` — fractional steps (half-lives), ``seconds / dt`` exactly.

A leaf module (standard library only), imported by the engine and by the units' packers.
"""

from __future__ import annotations

import math


#: the fewest steps a duration field converts to (by field name; default 0)
MIN_STEPS: dict[str, int] = {
    "window_seconds": 1, "pause_seconds": 1, "hop_seconds": 1, "rise_seconds": 1, "hold_seconds": 1,
    "congestion_window_seconds": 1, "vol_window_seconds": 2, "start_seconds": 1, "over_seconds": 1,
    "sell_seconds": 1, "block_seconds": 1,
}
#: duration fields that stay fractional steps (no rounding)
FRACTIONAL: frozenset[str] = frozenset({"half_life_seconds"})
#: what an unset (None) duration means: a number of steps, or seconds (``block_seconds``: a day)
DEFAULT_STEPS: dict[str, int] = {"start_seconds": 1, "over_seconds": 1, "sell_seconds": 1}
DEFAULT_SECONDS: dict[str, float] = {"block_seconds": 86400.0}
#: fields ending in ``_seconds`` that are not durations counted in steps
NOT_STEPS: frozenset[str] = frozenset({"dt_seconds", "interval_seconds"})


def whole_steps(seconds: float, dt_seconds: float, minimum: int = 0) -> int:
    """``max(minimum, round(seconds / dt_seconds))``: the nearest whole number of steps."""
    return max(int(minimum), int(round(float(seconds) / float(dt_seconds))))


class Timebase:
    """Converts durations of one scenario (step length ``dt_seconds``) into steps."""

    def __init__(self, dt_seconds: float):
        if not (math.isfinite(dt_seconds) and dt_seconds > 0):
            raise ValueError(f"dt_seconds must be > 0, got {dt_seconds!r}")
        self.dt = float(dt_seconds)
        #: one line per duration that was not a whole number of steps
        self.notes: list[str] = []

    def steps(self, seconds: float, where: str, minimum: int = 0) -> int:
        """``seconds`` as whole steps (nearest, at least ``minimum``); rounding is noted."""
        n = whole_steps(seconds, self.dt, minimum)
        exact = float(seconds) / self.dt
        if exact != n:
            note = (f"{where} = {float(seconds):g} s is {exact:g} steps of {self.dt:g} s; "
                    f"the engine uses {n} step{'s' if n != 1 else ''}")
            if note not in self.notes:
                self.notes.append(note)
        return n

    def fractional(self, seconds: float) -> float:
        """``seconds`` in (fractional) steps."""
        return float(seconds) / self.dt

    def of(self, model, name: str, where: str):
        """Field ``name`` of a scenario table ``model`` in steps, by the field's rules above
        (``MIN_STEPS``, ``FRACTIONAL``, ``DEFAULT_*``); ``where`` names the table for notes."""
        value = getattr(model, name)
        if value is None:
            if name in DEFAULT_STEPS:
                return DEFAULT_STEPS[name]
            value = DEFAULT_SECONDS[name]
        if name in FRACTIONAL:
            return self.fractional(value)
        return self.steps(value, f"{where}.{name}" if where else name, MIN_STEPS.get(name, 0))

    def walk(self, model, where: str = "") -> None:
        """Convert every duration of a scenario (tables, lists of tables) once, so that
        :attr:`notes` lists every rounding before anything runs. Unit ``config`` tables keep
        their own units (they are plain dicts here and are not walked)."""
        fields = getattr(type(model), "model_fields", None)
        if fields is None:
            return
        for name in fields:
            value = getattr(model, name)
            here = f"{where}.{name}" if where else name
            if name.endswith("_seconds") and name not in NOT_STEPS:
                if value is not None or name in DEFAULT_STEPS or name in DEFAULT_SECONDS:
                    self.of(model, name, where)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    self.walk(item, f"{here}[{i}]")
            else:
                self.walk(value, here)


__all__ = ["DEFAULT_SECONDS", "DEFAULT_STEPS", "FRACTIONAL", "MIN_STEPS", "NOT_STEPS", "Timebase", "whole_steps"]
