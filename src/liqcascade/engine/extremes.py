"""What the engines say at the extremes: venues that ran out of bids, and compiled loops that
stopped with an error.

* A venue's floor price (``Venue.min_price``; :mod:`liqcascade.venues.dispatch`) is where its bids
  end: a sale that reaches it fills the rest at the floor price. :func:`floor_notes` and
  :func:`curve_floor_notes` turn "a venue sat at its floor" into a run's or a curve's notes.
* The static solver's curve kernels (the aggregated one a ``prange`` over shocks, the
  per-position one on Python threads) return a status code per
  iteration, ``0`` when it finished with finite results; numba does not pass an exception
  raised inside a parallel loop on, so an iteration that raised keeps its initial code and its
  outputs are garbage. :func:`check_status` raises :class:`liqcascade.errors.KernelError` for
  any such iteration, after re-running the first one serially to name the error.
* The time loop runs paths on Python threads (no ``prange``), so an error inside it reaches the
  engine as an exception (:class:`kernel_errors` turns it into a :class:`KernelError`); the
  engine then checks every path's summary and spots for non-finite values in one vectorised
  pass (:func:`check_status` with ``ST_NONFINITE``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import KernelError
from ..venues.kernel import FLOOR

# per-iteration status codes of the parallel kernels
ST_OK = 0
ST_UNFINISHED = 1  # the iteration stopped early (an exception inside the parallel loop)
ST_NONFINITE = 2  # it finished, but a result is NaN or infinite

_WHAT = {ST_UNFINISHED: "stopped with an error inside the compiled loop",
         ST_NONFINITE: "produced a NaN or infinite result"}


def check_status(status: np.ndarray, label: str, labels: Callable[[int], str],
                 rerun: Callable[[int], object] | None = None) -> None:
    """Raise :class:`KernelError` if any entry of ``status`` is not ``ST_OK``.

    ``label`` names the computation ("static solver", "dynamic run"), ``labels(i)`` the
    iteration ("shock 0.35", "path 7"). ``rerun(i)``, when given, runs iteration ``i`` outside
    the parallel loop so that its exception (if any) can be quoted."""
    bad = np.flatnonzero(np.asarray(status) != ST_OK)
    if bad.size == 0:
        return
    i = int(bad[0])
    code = int(status[i])
    why = _WHAT.get(code, f"returned status {code}")
    detail = ""
    if rerun is not None and code == ST_UNFINISHED:
        try:
            rerun(i)
        except Exception as exc:  # noqa: BLE001 - quoted in the message, then re-raised as ours
            detail = f": {type(exc).__name__}: {exc}"
    more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
    raise KernelError(label, f"{labels(i)}{more} {why}{detail}")


def _floors_by_asset(vs0: np.ndarray, venue_asset: np.ndarray, n_assets: int) -> np.ndarray:
    """The highest venue floor of each asset (0 without venues)."""
    out = np.zeros(n_assets)
    for v in range(vs0.shape[0]):
        a = int(venue_asset[v])
        out[a] = max(out[a], float(vs0[v, FLOOR]))
    return out


def floor_notes(c, min_spot: np.ndarray) -> list[str]:
    """Notes for the assets whose mean venue price reached a venue floor on some path."""
    floors = _floors_by_asset(c.vs0, c.venue_asset, c.n_assets)
    notes = []
    for a, name in enumerate(c.assets):
        if c.stable[a] or floors[a] <= 0.0:
            continue
        hit = int(np.count_nonzero(min_spot[:, a] <= floors[a] * (1.0 + 1e-9)))
        if hit:
            notes.append(f"{name}: the venues ran out of bids (price down to the floor {floors[a]:.6g}, venue "
                         f"min_price) on {hit} of {min_spot.shape[0]} path(s); what they could not take filled at "
                         "the floor price, and positions were liquidated at it")
    return notes


def curve_floor_notes(assets, stable, floors: np.ndarray, shocks: np.ndarray, final_price: np.ndarray) -> list[str]:
    """Notes for the assets whose static-solver venue ended at its floor for some shocks."""
    notes = []
    for a, name in enumerate(assets):
        if stable[a] or floors[a] <= 0.0:
            continue
        hit = final_price[:, a] <= floors[a] * (1.0 + 1e-9)
        if hit.any():
            notes.append(f"{name}: the venue ran out of bids (price down to its floor {floors[a]:.6g}, venue "
                         f"min_price) from shock {float(shocks[hit].min()):.4g}; what it could not take filled at "
                         "the floor price")
    return notes


class kernel_errors:
    """Context manager: an arithmetic or domain error raised by a compiled kernel (numba raises
    ``ZeroDivisionError``, ``ValueError: math domain error`` …) becomes a :class:`KernelError`
    naming ``label``."""

    #: what numba raises from compiled code for an arithmetic or domain error
    TYPES = (ArithmeticError, ValueError, IndexError, AssertionError, SystemError)

    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        from ..errors import InputError

        if exc is not None and isinstance(exc, self.TYPES) and not isinstance(exc, InputError):
            raise KernelError(self.label, f"{type(exc).__name__}: {exc}") from exc
        return False


def parallel_call(fn: Callable[[], object], label: str, n: int, labels: Callable[[int], str],
                  rerun: Callable[[int], object]):
    """``fn()``, a call of a parallel kernel over ``n`` iterations. An exception inside numba's
    parallel loop sometimes reaches the caller (as ``SystemError: … returned a result with an
    exception set`` when the main thread ran the failing chunk) instead of being dropped; then
    the iterations are re-run serially until one raises, and its error is reported as a
    :class:`KernelError`."""
    try:
        return fn()
    except (ArithmeticError, ValueError, IndexError, AssertionError, SystemError) as exc:
        for i in range(n):
            try:
                rerun(i)
            except Exception as inner:  # noqa: BLE001 - quoted in the message
                if isinstance(inner, KernelError):
                    inner = inner.__cause__ or inner
                raise KernelError(label, f"{labels(i)} stopped with an error inside the compiled loop: "
                                         f"{type(inner).__name__}: {inner}") from exc
        raise KernelError(label, f"stopped with an error inside the compiled loop: {type(exc).__name__}: {exc}") from exc
