"""What every price model shares: input checks, correlation, time scaling, paths from log returns.

Bad input raises :class:`liqcascade.errors.InputError` naming the field (``price.<key>``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from liqcascade.errors import InputError


#: Seconds in a (365-day) year; crypto trades every day, so no trading-day calendar is used.
YEAR_SECONDS = 365.0 * 86400.0


def input_error(where: str, reason: str, file: str | None = None) -> InputError:
    return InputError(file, where, reason)


def finite_float(value, where: str) -> float:
    if isinstance(value, bool):
        raise input_error(where, f"expected a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise input_error(where, f"expected a number, got {value!r}") from None
    if not math.isfinite(x):
        raise input_error(where, f"must be finite, got {value!r}")
    return x


def as_int(value, where: str, lo: int | None = None) -> int:
    if isinstance(value, bool):
        raise input_error(where, f"expected an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        i = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        i = int(value)
    else:
        raise input_error(where, f"expected an integer, got {value!r}")
    if lo is not None and i < lo:
        raise input_error(where, f"must be >= {lo}, got {i}")
    return i


def per_asset(value, n_assets: int, where: str, lo=None, hi=None, lo_open=False, hi_open=False):
    """A float or a list of ``n_assets`` floats -> float64[n_assets], range-checked."""
    if isinstance(value, (str, bytes, Mapping)):
        raise input_error(where, f"expected a number or a list of {n_assets} numbers, got {value!r}")
    if np.ndim(value) == 0:
        arr = np.full(n_assets, finite_float(value, where))
    else:
        vals = list(value) if np.ndim(value) == 1 else []
        if np.ndim(value) != 1 or len(vals) != n_assets:
            raise input_error(
                where, f"expected a number or a list of {n_assets} numbers (one per asset), "
                f"got shape {np.shape(value)}"
            )
        arr = np.array([finite_float(v, f"{where}[{i}]") for i, v in enumerate(vals)])
    for i, x in enumerate(arr):
        w = where if np.ndim(value) == 0 else f"{where}[{i}]"
        if lo is not None and (x <= lo if lo_open else x < lo):
            raise input_error(w, f"must be {'>' if lo_open else '>='} {lo}, got {x}")
        if hi is not None and (x >= hi if hi_open else x > hi):
            raise input_error(w, f"must be {'<' if hi_open else '<='} {hi}, got {x}")
    return arr.astype(np.float64)


def p0_array(p0, where: str = "p0") -> np.ndarray:
    try:
        arr = np.asarray(p0, dtype=np.float64)
    except (TypeError, ValueError):
        raise input_error(where, f"expected numbers, got {p0!r}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise input_error(where, f"expected a 1-D array of start prices, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise input_error(where, f"start prices must be finite and > 0, got {arr.tolist()}")
    return arr


def correlation_cholesky(corr, n_assets: int, where: str = "price.correlation") -> np.ndarray:
    """Validate a correlation matrix and return its lower Cholesky factor ``L`` (``L L^T = C``).

    ``None`` means independent assets (identity). The matrix must be ``n_assets x n_assets``,
    finite, symmetric (to 1e-10), with unit diagonal and positive definite; otherwise
    :class:`InputError` naming ``where``.
    """
    if corr is None:
        return np.eye(n_assets)
    try:
        c = np.asarray(corr, dtype=np.float64)
    except (TypeError, ValueError):
        raise input_error(where, "must be a square matrix of numbers") from None
    if c.shape != (n_assets, n_assets):
        raise input_error(where, f"must be {n_assets}x{n_assets} (one row per asset), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise input_error(where, "entries must be finite")
    if not np.allclose(c, c.T, rtol=0.0, atol=1e-10):
        raise input_error(where, "must be symmetric")
    if not np.allclose(np.diag(c), 1.0, rtol=0.0, atol=1e-10):
        raise input_error(where, f"diagonal must be all 1, got {np.diag(c).tolist()}")
    c = 0.5 * (c + c.T)
    np.fill_diagonal(c, 1.0)
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise input_error(where, "must be positive definite") from None
    if not np.all(np.isfinite(chol)) or np.any(np.diag(chol) <= 1e-12):
        raise input_error(where, "must be positive definite")
    return chol


def check_chol(chol, n_assets: int) -> np.ndarray | None:
    if chol is None:
        return None
    chol = np.asarray(chol, dtype=np.float64)
    if chol.shape != (n_assets, n_assets):
        raise input_error("price.correlation", f"Cholesky factor must be {n_assets}x{n_assets}, got {chol.shape}")
    return chol


def check_dt(dt_years) -> float:
    dt = finite_float(dt_years, "dt_years")
    if dt <= 0:
        raise input_error("dt_years", f"must be > 0, got {dt}")
    return dt


def paths_from_log_increments(p0: np.ndarray, inc: np.ndarray) -> np.ndarray:
    n_paths, steps, n_assets = inc.shape
    out = np.empty((n_paths, steps + 1, n_assets))
    out[:, 0, :] = p0
    if steps:
        out[:, 1:, :] = p0 * np.exp(np.cumsum(inc, axis=1))
    return out


#: Cap on sub-steps per simulation step (a step much longer than the GARCH interval).
MAX_SUBSTEPS = 10_000


def sub_grid(dt_seconds: float, interval_seconds: float) -> tuple[int, int, float]:
    """How a step of ``dt_seconds`` maps onto a process defined every ``interval_seconds``.

    ``(n, m, h)``: each step is ``n`` recursion sub-steps (``dt >= interval``), or ``m`` steps
    share one recursion step (``dt < interval``); the recursion step is ``R = dt / n`` or
    ``m dt`` -- the multiple or divisor of ``dt`` nearest ``interval`` -- and ``h = R /
    interval`` (1 when one length is an integer multiple of the other)."""
    ratio = dt_seconds / interval_seconds
    if ratio >= 1.0:
        n = max(1, int(round(ratio)))
        if n > MAX_SUBSTEPS:
            raise input_error("dt_seconds", f"a step of {dt_seconds:g} s is more than {MAX_SUBSTEPS} intervals of "
                                     f"{interval_seconds:g} s (the price process's sampling interval)")
        return n, 1, (dt_seconds / n) / interval_seconds
    m = max(1, int(round(1.0 / ratio)))
    return 1, m, (m * dt_seconds) / interval_seconds


@dataclass(frozen=True)
class PathRequest:
    """What :func:`liqcascade.prices.generate.generate_paths` hands a price model's ``generate``
    (every field validated): the ``[price]`` table ``spec``, start prices ``p0`` (float64[A]),
    ``steps``, ``n_paths``, the step length in seconds and in 365-day years, one seed sequence
    per path (path ``j`` draws only from ``seeds[j]``), the lower Cholesky factor ``chol`` of
    ``spec["correlation"]`` (identity when absent) and the folder relative files resolve against."""

    spec: Mapping
    p0: object
    steps: int
    n_paths: int
    dt_seconds: float
    dt_years: float
    seeds: Sequence
    chol: object
    base_dir: object = None

    @property
    def n_assets(self) -> int:
        return int(self.p0.size)

    def required(self, key: str):
        """``spec[key]``, or an error naming ``price.<key>`` when it is missing."""
        if key not in self.spec:
            raise input_error(f"price.{key}", f"required for kind {self.spec.get('kind')!r}")
        return self.spec[key]

    def empty(self):
        return np.empty((self.n_paths, self.steps + 1, self.n_assets), dtype=np.float64)
