"""``historical``: a recorded price series per asset, resampled onto the grid and rescaled to ``p0``."""

from __future__ import annotations

import numpy as np

from liqcascade.prices.common import PathRequest, as_int, finite_float, input_error
from liqcascade.prices.loading import asset_files, load_price_csv, resolve_file

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"file", "method"}
#: whether the scenario's ``price.correlation`` is passed to it (the files carry their own)
CORRELATION = False


def historical_paths(
    times,
    prices,
    p0: float,
    steps: int,
    dt_seconds: float,
    method: str = "linear",
) -> np.ndarray:
    """Resample a recorded series onto the simulation grid, rescaled to start at ``p0``.

    Grid: ``g_k = times[0] + k * dt_seconds`` for ``k = 0..steps``. ``method="linear"``
    interpolates linearly in time between rows; ``method="hold"`` uses the last row at or before
    ``g_k`` (step-wise hold, like a price feed). Past the last row the last price is held.
    Only relative moves are kept: ``path[k] = p0 * r(g_k) / prices[0]``; ``path[0] == p0``.
    Returns float64[steps + 1].
    """
    t = np.asarray(times, dtype=np.float64)
    pr = np.asarray(prices, dtype=np.float64)
    if t.ndim != 1 or pr.ndim != 1 or t.size != pr.size or t.size == 0:
        raise input_error("price.file", "times and prices must be non-empty 1-D arrays of equal length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(pr))) or np.any(pr <= 0):
        raise input_error("price.file", "times must be finite and prices finite and > 0")
    if np.any(np.diff(t) <= 0):
        raise input_error("price.file", "times must be strictly increasing")
    p0 = finite_float(p0, "p0")
    if p0 <= 0:
        raise input_error("p0", f"must be > 0, got {p0}")
    steps = as_int(steps, "steps", lo=0)
    dt = finite_float(dt_seconds, "dt_seconds")
    if dt <= 0:
        raise input_error("dt_seconds", f"must be > 0, got {dt}")
    grid = t[0] + dt * np.arange(steps + 1, dtype=np.float64)
    if method == "linear":
        r = np.interp(grid, t, pr)  # holds pr[-1] beyond t[-1]
    elif method == "hold":
        idx = np.searchsorted(t, grid, side="right") - 1
        r = pr[np.clip(idx, 0, t.size - 1)]
    else:
        raise input_error("price.method", f"must be 'linear' or 'hold', got {method!r}")
    path = p0 * (r / pr[0])
    path[0] = p0
    return path


def generate(req: PathRequest) -> np.ndarray:
    """Every path is the recorded series of each asset's file (assets without one stay flat)."""
    spec, n_assets, steps = req.spec, req.n_assets, req.steps
    files = asset_files(req.required("file"), n_assets)
    method = spec.get("method", "linear")
    if method not in ("linear", "hold"):
        raise input_error("price.method", f"must be 'linear' or 'hold', got {method!r}")
    base = np.empty((steps + 1, n_assets))
    base[:] = req.p0
    for a, f in files.items():
        fp = resolve_file(f, req.base_dir, "price.file")
        times, prices = load_price_csv(fp)
        base[:, a] = historical_paths(times, prices, req.p0[a], steps, req.dt_seconds, method=method)
    out = req.empty()
    out[:] = base
    return out
