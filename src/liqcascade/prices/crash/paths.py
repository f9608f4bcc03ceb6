"""``crash``: a deterministic fall, an optional partial recovery, then flat (see ``README.md``)."""

from __future__ import annotations

import math

import numpy as np

from liqcascade.prices.common import PathRequest, as_int, finite_float, input_error, per_asset
from liqcascade.timebase import whole_steps

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"shock", "start_seconds", "over_seconds", "recovery", "recovery_seconds"}
#: whether the scenario's ``price.correlation`` is passed to it (a crash path is deterministic)
CORRELATION = False


def crash_path(
    p0: float,
    shock: float,
    steps: int,
    start: int = 1,
    over_steps: int = 1,
    recovery: float = 0.0,
    recovery_steps: int = 0,
) -> np.ndarray:
    """Deterministic crash path, float64[steps + 1].

    Model (``t`` = step index, ``b = start + over_steps - 1`` the bottom step,
    ``p_b = p0 (1 - shock)``):

    * ``t < start``: ``p0`` (``start >= 1`` so index 0 is always ``p0``);
    * ``start <= t <= b``: falls linearly in *log* price,
      ``p0 (1 - shock) ** ((t - start + 1) / over_steps)`` -- ``start`` is the first step that
      shows the shock, ``b`` is exactly ``p0 (1 - shock)``;
    * ``b < t <= b + recovery_steps``: rises linearly in log price to
      ``p_r = p_b + recovery (p0 - p_b)`` (``recovery`` is the fraction of the *price* drop won
      back), reached exactly at ``t = b + recovery_steps``;
    * afterwards: flat at the last level (``p_b`` or ``p_r``).

    Steps beyond ``steps`` are simply cut off. ``shock`` is a fraction in [0, 1);
    ``recovery`` in [0, 1] and needs ``recovery_steps >= 1`` when > 0.
    """
    p0 = finite_float(p0, "p0")
    if p0 <= 0:
        raise input_error("p0", f"must be > 0, got {p0}")
    shock = finite_float(shock, "price.shock")
    if not 0.0 <= shock < 1.0:
        raise input_error("price.shock", f"must be a fraction in [0, 1), got {shock}")
    steps = as_int(steps, "steps", lo=0)
    start = as_int(start, "price.start", lo=1)
    over_steps = as_int(over_steps, "price.over_steps", lo=1)
    recovery = finite_float(recovery, "price.recovery")
    if not 0.0 <= recovery <= 1.0:
        raise input_error("price.recovery", f"must be a fraction in [0, 1], got {recovery}")
    recovery_steps = as_int(recovery_steps, "price.recovery_steps", lo=0)
    if recovery > 0 and recovery_steps == 0:
        raise input_error("price.recovery_steps", "must be >= 1 when price.recovery > 0")

    t = np.arange(steps + 1, dtype=np.int64)
    log_drop = math.log1p(-shock)  # <= 0
    bottom = start + over_steps - 1
    p_bottom = p0 * (1.0 - shock)

    log_rel = np.zeros(steps + 1)
    falling = (t >= start) & (t <= bottom)
    log_rel[falling] = log_drop * (t[falling] - start + 1) / over_steps
    log_rel[t > bottom] = log_drop

    p_rec = p_bottom
    if recovery > 0:
        p_rec = p_bottom + recovery * (p0 - p_bottom)
        log_up = math.log(p_rec / p_bottom)
        end = bottom + recovery_steps
        rising = (t > bottom) & (t <= end)
        log_rel[rising] = log_drop + log_up * (t[rising] - bottom) / recovery_steps
        log_rel[t > end] = log_drop + log_up

    path = p0 * np.exp(log_rel)
    # exact anchors (no exp/log round-off at the documented points)
    path[t < start] = p0
    if bottom <= steps:
        path[bottom] = p_bottom
    if recovery > 0:
        path[t >= bottom + recovery_steps] = p_rec
    elif bottom <= steps:
        path[t >= bottom] = p_bottom
    return path


def generate(req: PathRequest) -> np.ndarray:
    """Every path is the same deterministic crash path (per-asset ``shock``)."""
    spec, n_assets, steps = req.spec, req.n_assets, req.steps
    shock = per_asset(req.required("shock"), n_assets, "price.shock", lo=0.0, hi=1.0, hi_open=True)
    start = _steps(spec, "start_seconds", req.dt_seconds, default=1, minimum=1)
    over = _steps(spec, "over_seconds", req.dt_seconds, default=1, minimum=1)
    recovery_steps = _steps(spec, "recovery_seconds", req.dt_seconds, default=0, minimum=0)
    base = np.empty((steps + 1, n_assets))
    for a in range(n_assets):
        base[:, a] = crash_path(
            req.p0[a],
            shock[a],
            steps,
            start=start,
            over_steps=over,
            recovery=spec.get("recovery", 0.0),
            recovery_steps=recovery_steps,
        )
    out = req.empty()
    out[:] = base
    return out


def _steps(spec, key: str, dt_seconds: float, *, default: int, minimum: int) -> int:
    """``spec[key]`` (seconds) in whole steps (:func:`liqcascade.timebase.whole_steps`)."""
    value = spec.get(key)
    if value is None:
        return default
    seconds = finite_float(value, f"price.{key}")
    if seconds < 0:
        raise input_error(f"price.{key}", f"must be >= 0 seconds, got {seconds:g}")
    return whole_steps(seconds, dt_seconds, minimum)
