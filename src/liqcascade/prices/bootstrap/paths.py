"""``bootstrap``: moving-block bootstrap of the log returns of real price files."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from liqcascade.errors import InputError
from liqcascade.prices.common import (
    PathRequest,
    finite_float,
    input_error,
    p0_array,
    paths_from_log_increments,
    sub_grid,
)
from liqcascade.prices.loading import asset_files, grid_note, load_returns, resolve_file
from liqcascade.timebase import whole_steps

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"returns_file", "block_seconds"}
#: whether the scenario's ``price.correlation`` is passed to it (passed so that it can refuse it:
#: the files' own cross-correlation is kept)
CORRELATION = True


#: Fewest distinct block positions a block bootstrap accepts (fewer: paths repeat each other).
BOOTSTRAP_MIN_STARTS = 10


#: Fewest log returns a block bootstrap accepts.
BOOTSTRAP_MIN_RETURNS = 2


def bootstrap_step_returns(seeds: Sequence[np.random.SeedSequence], steps: int, dt_seconds: float,
                           R: np.ndarray, interval_seconds: float, block_steps: int,
                           where_file: str | None = None) -> np.ndarray:
    """Moving-block bootstrap of log returns, float64[len(seeds), steps, n_assets].

    ``R`` float64[L, n_assets]: the recorded returns, one row per ``interval_seconds`` (assets
    aligned in time). A path is built from blocks of ``b`` consecutive rows, each starting at a
    uniform random row in ``0 .. L - b`` (moving blocks, no wrap-around); **one block start is
    used for every asset**, so the joint moves -- the empirical cross-correlation and the
    co-crashes -- are kept. Path ``j`` draws only from ``default_rng(seeds[j])``.

    Time scaling (``n``, ``m``, ``h`` as in :func:`garch_step_returns`):

    * ``dt >= interval``: a block is ``b = block_steps * n`` rows and a step's return is the sum
      of ``n`` consecutive rows times ``sqrt(h)``;
    * ``dt < interval``: a block is ``b = max(1, round(block_steps / m))`` rows and each row is
      spread evenly over ``m`` steps (``row * sqrt(h) / m`` each: a straight line in log price
      between recorded samples, so variance over less than one file interval is understated).

    With ``dt == interval`` every step return is exactly one recorded return.
    """
    L, A = R.shape
    n, m, h = sub_grid(dt_seconds, interval_seconds)
    if m == 1:
        U, b = steps * n, block_steps * n
    else:
        U, b = -(-steps // m), max(1, int(round(block_steps / m)))
    if b > L:
        raise InputError(where_file, "price.block_seconds",
                         f"a block of {block_steps} steps needs {b} consecutive returns, but the file(s) hold {L}")
    if L - b + 1 < BOOTSTRAP_MIN_STARTS:
        raise InputError(where_file, "price.block_seconds",
                         f"blocks of {b} returns fit at only {L - b + 1} position(s) in {L} returns, so the paths "
                         f"would repeat; give a shorter block_seconds or a longer file (need at least "
                         f"{BOOTSTRAP_MIN_STARTS} block positions)")
    scale = math.sqrt(h)
    out = np.empty((len(seeds), steps, A))
    offs = np.arange(b)
    for j, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        starts = rng.integers(0, L - b + 1, size=-(-U // b)) if U else np.zeros(0, dtype=np.int64)
        u = R[(starts[:, None] + offs).ravel()[:U]]
        if m == 1:
            r = u.reshape(steps, n, A).sum(axis=1) if n > 1 else u
            out[j] = r * scale if scale != 1.0 else r
        else:
            out[j] = np.repeat(u, m, axis=0)[:steps] * (scale / m)
    return out


def bootstrap_setup(spec: Mapping, n_assets: int, base_dir, read_files: bool, dt_seconds: float = 60.0) -> dict:
    if spec.get("correlation") is not None:
        raise input_error("price.correlation", "not used by kind 'bootstrap' (its cross-correlation is the files'; "
                                        "remove it)")
    bs = spec.get("block_seconds")
    seconds = 86400.0 if bs is None else finite_float(bs, "price.block_seconds")  # default: one day
    if seconds <= 0:
        raise input_error("price.block_seconds", f"must be > 0 seconds, got {seconds:g}")
    block_steps = whole_steps(seconds, dt_seconds, 1)
    rf = spec.get("returns_file")
    if rf is None or rf == [] or rf == {}:
        raise input_error("price.returns_file", "required for kind 'bootstrap' (the price file(s) whose returns are resampled)")
    if not read_files:  # keys only (a sweep's points may still name assets, not indices)
        return {"block_steps": block_steps}
    files = {a: resolve_file(f, base_dir, "price.returns_file")
             for a, f in asset_files(rf, n_assets, "price.returns_file").items()}
    if not files:
        raise input_error("price.returns_file", "no file given")
    R, interval, info, names = load_returns(files, n_assets, BOOTSTRAP_MIN_RETURNS)
    return {"block_steps": block_steps, "files": files, "R": R, "interval": interval, "grid": info,
            "names": names}


def generate(req: PathRequest) -> np.ndarray:
    """With ``n_paths == 0`` the returns files are not read (only the keys are checked)."""
    b = bootstrap_setup(req.spec, req.n_assets, req.base_dir, read_files=req.n_paths > 0, dt_seconds=req.dt_seconds)
    out = req.empty()
    if req.n_paths:
        inc = bootstrap_step_returns(req.seeds, req.steps, req.dt_seconds, b["R"], b["interval"], b["block_steps"],
                                     ", ".join(b["names"]))
        out[:] = paths_from_log_increments(req.p0, inc)
    return out


def notes(spec: Mapping, p0, dt_seconds: float, base_dir=None) -> list[str]:
    """The files, the block length and the time scaling, for a run's notes."""
    n_assets = p0_array(p0).size
    b = bootstrap_setup(spec, n_assets, base_dir, read_files=True, dt_seconds=float(dt_seconds))
    n, m, h = sub_grid(float(dt_seconds), b["interval"])
    rows = b["block_steps"] * n if m == 1 else max(1, int(round(b["block_steps"] / m)))
    return [
        f"block bootstrap of {b['R'].shape[0]} log returns every {b['interval']:g} s from "
        f"{', '.join(b['names'])}{grid_note(b['grid'])}; "
        f"moving blocks of {rows} returns ({max(b['R'].shape[0] - rows + 1, 0)} possible positions), the same "
        "block positions for every asset (keeps their cross-correlation)",
        "bootstrap time scaling: " + (
            f"{n} file return(s) summed per step" if m == 1 else f"each file return spread evenly over {m} steps "
            "(log-linear between samples: variance within one file interval is understated)")
        + (f", times sqrt({h:.6g}) (variance proportional to time)" if h != 1.0 else ""),
    ]
