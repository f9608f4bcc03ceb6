"""Helpers shared by the 2021-05-19 and 2025-10-10 replays: build a scenario in code, write its
position and price files into a temporary folder, compile and run it.

A replay builds its scenario as a plain dict (the same tables as a TOML file), validates it with
:func:`liqcascade.scenario.load.validate_dict` (so every rule of a hand-written scenario holds),
writes the synthetic books and the real price path as CSV files beside it, compiles it and runs
the dynamic engine. Floats are written with ``repr`` (exact round trip), so a replay is a pure
function of its data files and seed.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError


def write_price_csv(path: Path, times_s, prices) -> None:
    """``time,price`` rows (numeric seconds), the format of ``price.kind = "historical"``."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("time,price\n")
        for t, p in zip(np.asarray(times_s, float), np.asarray(prices, float)):
            fh.write(f"{float(t)!r},{float(p)!r}\n")


def write_wide_csv(path: Path, prefix: str, coll, debt) -> None:
    """``id,collateral,debt`` (the wide position format)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,collateral,debt\n")
        for i, (c, d) in enumerate(zip(np.asarray(coll, float), np.asarray(debt, float))):
            fh.write(f"{prefix}{i:05d},{float(c)!r},{float(d)!r}\n")


def write_perp_csv(path: Path, side, size, entry, margin) -> None:
    """``id,side,size,entry,margin,account`` (isolated positions: account -1)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,side,size,entry,margin,account\n")
        for i, (s, q, e, m) in enumerate(zip(side, size, entry, margin)):
            fh.write(f"perp{i:05d},{'long' if s > 0 else 'short'},{float(q)!r},{float(e)!r},{float(m)!r},-1\n")


def run_scenario(doc: dict, files: dict, source: str, ev_per_position: int = 16):
    """Validate ``doc``, write ``files`` (name -> callable(path)) into a temporary folder, compile
    and run once. Returns ``(compiled, run_result)``. ``source`` names the replay in messages.
    The event buffer holds ``ev_per_position`` events per position (sliced perp orders at 1-s
    steps make many per position); what does not fit is counted in ``events_not_recorded``."""
    from ..engine.compile import compile_scenario
    from ..engine.dynamic import make_paths, run_dynamic
    from ..scenario.load import validate_dict

    sc = validate_dict(doc, source)
    with tempfile.TemporaryDirectory(prefix="liqcascade-replay-") as tmp:
        base = Path(tmp)
        for name, writer in files.items():
            writer(base / name)
        c = compile_scenario(sc, base, source=source)
        paths = make_paths(c)
        n_pos = c.book.n + c.book.n_multi + sum(u.n for u in c.units)
        res = run_dynamic(c, paths=paths, ev_cap=ev_per_position * n_pos + 1024)
    return c, res


def finite(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else float("nan")


def window_index(time_s: np.ndarray, t0: float, t1: float, dt: float, fname: str, what: str) -> tuple[int, int]:
    """Rows ``i0 .. i1`` (exclusive) of the bars starting in ``[t0, t1)``; an :class:`InputError`
    naming the file when fewer than 90 % of the window's ``dt`` bars are there."""
    i0 = int(np.searchsorted(time_s, t0, side="left"))
    i1 = int(np.searchsorted(time_s, t1, side="left"))
    want = (t1 - t0) / dt
    if i1 - i0 < max(2.0, 0.9 * want):
        raise InputError(fname, "time", f"does not cover the replay window {what} "
                                        f"({i1 - i0} of {want:.0f} bars)")
    return i0, i1


def half_life(seconds: float, dt_seconds: float) -> dict:
    """A venue's impact half-life as the scenario key that holds it (``half_life_seconds``; the
    engine takes ``seconds / dt_seconds`` steps, :mod:`liqcascade.timebase`)."""
    return {"half_life_seconds": float(seconds)}
