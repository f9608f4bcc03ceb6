"""Exogenous price processes: the reference price of every asset, before endogenous impact.

The simulator drives each venue's *reference* price from a path produced here; liquidation
selling then pushes venue prices away from it. Four models:

``crash``
    Deterministic: flat at ``p0``, a log-linear fall to ``p0 (1 - shock)``, an optional partial
    log-linear recovery, then flat.
``gbm``
    Geometric Brownian motion ``dS/S = mu dt + sigma dW`` with correlated ``W`` across assets.
``jump``
    Merton jump diffusion: GBM plus compound-Poisson jumps in log price, drift compensated so
    that ``E[S_T] = S_0 e^{mu T}``.
``historical``
    A recorded price series per asset (CSV), resampled onto the simulation grid and rescaled so
    that it starts at ``p0`` (only the relative moves of the file are used).
``garch``
    GARCH(1,1) log returns with normal innovations, parameters given directly or fitted with the
    optional package ``arch`` on the returns of a price file; correlated innovations across assets.
``bootstrap``
    Moving-block bootstrap of the log returns of real price files (one per asset, aligned in
    time): every path is a random concatenation of blocks of consecutive recorded returns, the
    same block positions for every asset, so the files' cross-correlation is kept.

Conventions
-----------
* All arrays are float64. A path set has shape ``[n_paths, steps + 1, n_assets]``; index 0 of
  the step axis is the start price ``p0`` *exactly* (it is assigned, not computed).
* ``mu`` and ``sigma`` are annualised. Crypto markets trade continuously, so a year is
  ``365 * 86400`` seconds (no 252-trading-day convention): ``dt_years = dt_seconds / YEAR_SECONDS``.
* Randomness comes only from ``numpy.random.Generator`` objects passed in (or, in
  :func:`generate_paths`, built from a ``SeedSequence``); no global random state is touched.
* Reproducibility: in :func:`generate_paths`, path ``p`` is drawn from its own generator built on
  ``SeedSequence(seed).spawn(...)[p]``, so a path depends only on ``(seed, p)`` and results are
  identical however the path range is chunked (``path_offset``).
* Bad input raises :class:`liqcascade.errors.InputError` naming the field (``price.<key>``) or
  the file and line.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liqcascade.errors import InputError

__all__ = [
    "YEAR_SECONDS",
    "KINDS",
    "crash_path",
    "correlation_cholesky",
    "gbm_increments",
    "gbm_paths",
    "jump_compensator",
    "jump_diffusion_paths",
    "load_price_csv",
    "historical_paths",
    "path_seed_sequences",
    "generate_paths",
    "load_returns_series",
    "returns_on_grid",
    "fit_garch",
    "garch_step_returns",
    "price_notes",
]

#: Seconds in a (365-day) year; crypto trades every day, so no trading-day calendar is used.
YEAR_SECONDS = 365.0 * 86400.0

#: Price-process kinds understood by :func:`generate_paths`.
KINDS = ("crash", "gbm", "jump", "historical", "garch", "bootstrap")

_SPEC_KEYS = {
    "crash": {"shock", "start", "over_steps", "recovery", "recovery_steps"},
    "gbm": {"mu", "sigma"},
    "jump": {"mu", "sigma", "lam", "jump_mean", "jump_std"},
    "historical": {"file", "method"},
    "garch": {"mu", "omega", "alpha", "beta", "interval_seconds", "returns_file"},
    "bootstrap": {"returns_file", "block_steps"},
}
_COMMON_KEYS = {"kind", "correlation"}


# --------------------------------------------------------------------------------------------
# small validation helpers


def _err(where: str, reason: str, file: str | None = None) -> InputError:
    return InputError(file, where, reason)


def _finite_float(value, where: str) -> float:
    if isinstance(value, bool):
        raise _err(where, f"expected a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _err(where, f"expected a number, got {value!r}") from None
    if not math.isfinite(x):
        raise _err(where, f"must be finite, got {value!r}")
    return x


def _int(value, where: str, lo: int | None = None) -> int:
    if isinstance(value, bool):
        raise _err(where, f"expected an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        i = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        i = int(value)
    else:
        raise _err(where, f"expected an integer, got {value!r}")
    if lo is not None and i < lo:
        raise _err(where, f"must be >= {lo}, got {i}")
    return i


def _per_asset(value, n_assets: int, where: str, lo=None, hi=None, lo_open=False, hi_open=False):
    """A float or a list of ``n_assets`` floats -> float64[n_assets], range-checked."""
    if isinstance(value, (str, bytes, Mapping)):
        raise _err(where, f"expected a number or a list of {n_assets} numbers, got {value!r}")
    if np.ndim(value) == 0:
        arr = np.full(n_assets, _finite_float(value, where))
    else:
        vals = list(value) if np.ndim(value) == 1 else []
        if np.ndim(value) != 1 or len(vals) != n_assets:
            raise _err(
                where, f"expected a number or a list of {n_assets} numbers (one per asset), "
                f"got shape {np.shape(value)}"
            )
        arr = np.array([_finite_float(v, f"{where}[{i}]") for i, v in enumerate(vals)])
    for i, x in enumerate(arr):
        w = where if np.ndim(value) == 0 else f"{where}[{i}]"
        if lo is not None and (x <= lo if lo_open else x < lo):
            raise _err(w, f"must be {'>' if lo_open else '>='} {lo}, got {x}")
        if hi is not None and (x >= hi if hi_open else x > hi):
            raise _err(w, f"must be {'<' if hi_open else '<='} {hi}, got {x}")
    return arr.astype(np.float64)


def _p0_array(p0, where: str = "p0") -> np.ndarray:
    try:
        arr = np.asarray(p0, dtype=np.float64)
    except (TypeError, ValueError):
        raise _err(where, f"expected numbers, got {p0!r}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise _err(where, f"expected a 1-D array of start prices, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise _err(where, f"start prices must be finite and > 0, got {arr.tolist()}")
    return arr


# --------------------------------------------------------------------------------------------
# crash


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
    p0 = _finite_float(p0, "p0")
    if p0 <= 0:
        raise _err("p0", f"must be > 0, got {p0}")
    shock = _finite_float(shock, "price.shock")
    if not 0.0 <= shock < 1.0:
        raise _err("price.shock", f"must be a fraction in [0, 1), got {shock}")
    steps = _int(steps, "steps", lo=0)
    start = _int(start, "price.start", lo=1)
    over_steps = _int(over_steps, "price.over_steps", lo=1)
    recovery = _finite_float(recovery, "price.recovery")
    if not 0.0 <= recovery <= 1.0:
        raise _err("price.recovery", f"must be a fraction in [0, 1], got {recovery}")
    recovery_steps = _int(recovery_steps, "price.recovery_steps", lo=0)
    if recovery > 0 and recovery_steps == 0:
        raise _err("price.recovery_steps", "must be >= 1 when price.recovery > 0")

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


# --------------------------------------------------------------------------------------------
# correlation


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
        raise _err(where, "must be a square matrix of numbers") from None
    if c.shape != (n_assets, n_assets):
        raise _err(where, f"must be {n_assets}x{n_assets} (one row per asset), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise _err(where, "entries must be finite")
    if not np.allclose(c, c.T, rtol=0.0, atol=1e-10):
        raise _err(where, "must be symmetric")
    if not np.allclose(np.diag(c), 1.0, rtol=0.0, atol=1e-10):
        raise _err(where, f"diagonal must be all 1, got {np.diag(c).tolist()}")
    c = 0.5 * (c + c.T)
    np.fill_diagonal(c, 1.0)
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise _err(where, "must be positive definite") from None
    if not np.all(np.isfinite(chol)) or np.any(np.diag(chol) <= 1e-12):
        raise _err(where, "must be positive definite")
    return chol


# --------------------------------------------------------------------------------------------
# GBM and jump diffusion


def _check_chol(chol, n_assets: int) -> np.ndarray | None:
    if chol is None:
        return None
    chol = np.asarray(chol, dtype=np.float64)
    if chol.shape != (n_assets, n_assets):
        raise _err("price.correlation", f"Cholesky factor must be {n_assets}x{n_assets}, got {chol.shape}")
    return chol


def _check_dt(dt_years) -> float:
    dt = _finite_float(dt_years, "dt_years")
    if dt <= 0:
        raise _err("dt_years", f"must be > 0, got {dt}")
    return dt


def gbm_increments(
    rng: np.random.Generator,
    n_paths: int,
    steps: int,
    n_assets: int,
    mu,
    sigma,
    dt_years: float,
    chol=None,
) -> np.ndarray:
    """Log-price increments of correlated GBM, float64[n_paths, steps, n_assets].

    ``dlog S = (mu - sigma^2 / 2) dt + sigma sqrt(dt) (L Z)`` with ``Z`` iid standard normal and
    ``L`` the lower Cholesky factor of the asset correlation matrix (``None`` = independent).
    ``mu``/``sigma`` are annualised (scalars or per-asset arrays), ``dt_years`` is the step
    length in 365-day years. Draws ``n_paths * steps * n_assets`` normals from ``rng`` in C order.
    """
    n_paths = _int(n_paths, "n_paths", lo=0)
    steps = _int(steps, "steps", lo=0)
    n_assets = _int(n_assets, "n_assets", lo=1)
    mu = _per_asset(mu, n_assets, "price.mu")
    sigma = _per_asset(sigma, n_assets, "price.sigma", lo=0.0)
    dt = _check_dt(dt_years)
    chol = _check_chol(chol, n_assets)
    z = rng.standard_normal((n_paths, steps, n_assets))
    if chol is not None:
        z = z @ chol.T
    return (mu - 0.5 * sigma**2) * dt + sigma * math.sqrt(dt) * z


def _paths_from_log_increments(p0: np.ndarray, inc: np.ndarray) -> np.ndarray:
    n_paths, steps, n_assets = inc.shape
    out = np.empty((n_paths, steps + 1, n_assets))
    out[:, 0, :] = p0
    if steps:
        out[:, 1:, :] = p0 * np.exp(np.cumsum(inc, axis=1))
    return out


def gbm_paths(
    rng: np.random.Generator,
    p0,
    n_paths: int,
    steps: int,
    mu,
    sigma,
    dt_years: float,
    chol=None,
) -> np.ndarray:
    """Correlated GBM price paths, float64[n_paths, steps + 1, n_assets] with ``n_assets = len(p0)``.

    ``S_t = S_0 exp(sum of gbm_increments)``; ``E[S_T] = S_0 e^{mu T}``,
    ``log(S_T / S_0) ~ N((mu - sigma^2/2) T, sigma^2 T)``. Index 0 is ``p0`` exactly.
    """
    p0 = _p0_array(p0)
    inc = gbm_increments(rng, n_paths, steps, p0.size, mu, sigma, dt_years, chol)
    return _paths_from_log_increments(p0, inc)


def jump_compensator(jump_mean, jump_std):
    """``k = E[e^J] - 1 = exp(jump_mean + jump_std^2 / 2) - 1`` for ``J ~ N(jump_mean, jump_std^2)``."""
    return np.expm1(np.asarray(jump_mean, dtype=np.float64) + 0.5 * np.asarray(jump_std, dtype=np.float64) ** 2)


def _jump_increments(rng, n_paths, steps, n_assets, mu, sigma, lam, jump_mean, jump_std, dt_years, chol):
    mu = _per_asset(mu, n_assets, "price.mu")
    sigma = _per_asset(sigma, n_assets, "price.sigma", lo=0.0)
    lam = _per_asset(lam, n_assets, "price.lam", lo=0.0)
    jump_mean = _per_asset(jump_mean, n_assets, "price.jump_mean")
    jump_std = _per_asset(jump_std, n_assets, "price.jump_std", lo=0.0)
    dt = _check_dt(dt_years)
    k = jump_compensator(jump_mean, jump_std)
    # diffusion part with the compensated drift mu - lam k
    inc = gbm_increments(rng, n_paths, steps, n_assets, mu - lam * k, sigma, dt, chol)
    shape = inc.shape
    counts = rng.poisson(lam * dt, size=shape).astype(np.float64)
    zj = rng.standard_normal(shape)
    # sum of N iid N(m, s^2) jumps is N(N m, N s^2)
    inc += counts * jump_mean + np.sqrt(counts) * jump_std * zj
    return inc


def jump_diffusion_paths(
    rng: np.random.Generator,
    p0,
    n_paths: int,
    steps: int,
    mu,
    sigma,
    lam,
    jump_mean,
    jump_std,
    dt_years: float,
    chol=None,
) -> np.ndarray:
    """Merton jump-diffusion price paths, float64[n_paths, steps + 1, n_assets].

    ``dS/S = (mu - lam k) dt + sigma dW + (e^J - 1) dN`` with ``N`` a Poisson process of
    intensity ``lam`` per (365-day) year, log-jumps ``J ~ N(jump_mean, jump_std^2)`` and
    ``k = E[e^J] - 1``; the ``- lam k`` compensation makes ``E[S_T] = S_0 e^{mu T}``. Per step the
    log increment is ``(mu - lam k - sigma^2/2) dt + sigma sqrt(dt) (L Z) + sum_{i<=N_dt} J_i``.

    Assumptions: the Brownian parts are correlated across assets through ``chol``; jump counts
    and sizes are independent across assets and steps (use a ``crash`` path for a common shock).
    All parameters are scalars or per-asset arrays; index 0 is ``p0`` exactly.
    """
    p0 = _p0_array(p0)
    n_paths = _int(n_paths, "n_paths", lo=0)
    steps = _int(steps, "steps", lo=0)
    inc = _jump_increments(
        rng, n_paths, steps, p0.size, mu, sigma, lam, jump_mean, jump_std, dt_years, chol
    )
    return _paths_from_log_increments(p0, inc)


# --------------------------------------------------------------------------------------------
# historical


def _parse_time(text: str):
    """Return (seconds, is_iso) or raise ValueError."""
    try:
        x = float(text)
    except ValueError:
        pass
    else:
        return x, False
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)  # ValueError if not ISO-8601
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp(), True


def load_price_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a price series: ``(times, prices)``, both float64[n], ``n >= 1``.

    Format: a header line ``time,price`` (case and surrounding spaces ignored), then one
    ``time,price`` row per line; blank lines are skipped. ``time`` is either a number of seconds
    (any origin) or an ISO-8601 timestamp (naive ones are taken as UTC; returned as Unix
    seconds); one file must use one kind. ``price`` must be a finite number > 0, and times must
    be strictly increasing. Any violation raises :class:`InputError` naming the file and the
    1-based line.
    """
    fname = os.fspath(path)
    p = Path(fname)
    if not p.exists():
        raise InputError(fname, None, "file not found")
    if not p.is_file():
        raise InputError(fname, None, "not a regular file")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(fname, None, "not UTF-8 text") from None
    except OSError as e:
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    if not text.strip():
        raise InputError(fname, "line 1", "empty file (expected header 'time,price')")

    times: list[float] = []
    prices: list[float] = []
    header_seen = False
    iso_kind: bool | None = None
    reader = csv.reader(text.splitlines())
    for lineno, row in enumerate(reader, start=1):
        where = f"line {lineno}"
        if not row or all(not c.strip() for c in row):
            continue
        cells = [c.strip() for c in row]
        if not header_seen:
            if [c.lower() for c in cells] != ["time", "price"]:
                raise InputError(fname, where, f"expected header 'time,price', got {','.join(row)!r}")
            header_seen = True
            continue
        if len(cells) != 2:
            raise InputError(fname, where, f"expected 2 columns 'time,price', got {len(cells)}")
        t_txt, p_txt = cells
        try:
            t, is_iso = _parse_time(t_txt)
        except ValueError:
            raise InputError(
                fname, where, f"time {t_txt!r} is neither a number of seconds nor an ISO-8601 timestamp"
            ) from None
        if not math.isfinite(t):
            raise InputError(fname, where, f"time must be finite, got {t_txt!r}")
        if iso_kind is None:
            iso_kind = is_iso
        elif iso_kind != is_iso:
            raise InputError(fname, where, "mixes numeric seconds and ISO-8601 timestamps in one file")
        try:
            price = float(p_txt)
        except ValueError:
            raise InputError(fname, where, f"price {p_txt!r} is not a number") from None
        if not math.isfinite(price):
            raise InputError(fname, where, f"price must be finite, got {p_txt!r}")
        if price <= 0:
            raise InputError(fname, where, f"price must be > 0, got {p_txt!r}")
        if times and t <= times[-1]:
            raise InputError(fname, where, f"time {t_txt!r} is not after the previous row's time")
        times.append(t)
        prices.append(price)
    if not times:
        raise InputError(fname, "line 2", "no data rows after the header")
    return np.asarray(times, dtype=np.float64), np.asarray(prices, dtype=np.float64)


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
        raise _err("price.file", "times and prices must be non-empty 1-D arrays of equal length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(pr))) or np.any(pr <= 0):
        raise _err("price.file", "times must be finite and prices finite and > 0")
    if np.any(np.diff(t) <= 0):
        raise _err("price.file", "times must be strictly increasing")
    p0 = _finite_float(p0, "p0")
    if p0 <= 0:
        raise _err("p0", f"must be > 0, got {p0}")
    steps = _int(steps, "steps", lo=0)
    dt = _finite_float(dt_seconds, "dt_seconds")
    if dt <= 0:
        raise _err("dt_seconds", f"must be > 0, got {dt}")
    grid = t[0] + dt * np.arange(steps + 1, dtype=np.float64)
    if method == "linear":
        r = np.interp(grid, t, pr)  # holds pr[-1] beyond t[-1]
    elif method == "hold":
        idx = np.searchsorted(t, grid, side="right") - 1
        r = pr[np.clip(idx, 0, t.size - 1)]
    else:
        raise _err("price.method", f"must be 'linear' or 'hold', got {method!r}")
    path = p0 * (r / pr[0])
    path[0] = p0
    return path


# --------------------------------------------------------------------------------------------
# returns of real price files (GARCH fitting, block bootstrap)

#: Fewest log returns a GARCH(1,1) fit accepts.
GARCH_MIN_RETURNS = 100
#: Fewest distinct block positions a block bootstrap accepts (fewer: paths repeat each other).
BOOTSTRAP_MIN_STARTS = 10
#: Fewest log returns a block bootstrap accepts.
BOOTSTRAP_MIN_RETURNS = 2
#: Cap on sub-steps per simulation step (a step much longer than the GARCH interval).
_MAX_SUBSTEPS = 10_000


def load_returns_series(path) -> tuple[np.ndarray, np.ndarray]:
    """``(times, prices)`` of a price file, float64[n] each, times in seconds, prices > 0.

    A ``time,price`` CSV (header as in :func:`load_price_csv`). Other downloaded formats
    (price-series CSVs, OHLCV bars, klines, bid/ask quotes) are read by the data loaders, a
    surface layer this engine module does not import: ``liqcascade data series FILE --out
    prices.csv`` converts them. Anything else raises :class:`InputError` naming the file.
    """
    fname = os.fspath(path)
    p = Path(fname)
    if not p.exists():
        raise InputError(fname, None, "file not found")
    if not p.is_file():
        raise InputError(fname, None, "not a regular file")
    try:
        with p.open("r", encoding="utf-8-sig", errors="replace") as fh:
            first = next((line for line in fh if line.strip()), "")
    except OSError as e:
        raise InputError(fname, None, f"cannot read file: {e.strerror or e}") from None
    if [c.strip().lower() for c in first.strip().split(",")] == ["time", "price"]:
        return load_price_csv(p)
    raise InputError(fname, None, "not a 'time,price' CSV; convert a price-series, OHLCV, kline or quote file "
                                  "with `liqcascade data series FILE --out prices.csv`")


#: Sampling intervals a file's median spacing is rounded to when within 2 % (seconds).
_NICE_INTERVALS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)


def _nice_interval(x: float) -> float:
    for v in _NICE_INTERVALS:
        if abs(x - v) <= 0.02 * v:
            return float(v)
    return float(x)


def returns_on_grid(series: Sequence[tuple[np.ndarray, np.ndarray]], names: Sequence[str],
                    min_returns: int = BOOTSTRAP_MIN_RETURNS) -> tuple[np.ndarray, float, dict]:
    """Log returns of one or more price series on one regular time grid.

    Returns ``(R, interval_s, info)``: ``R`` float64[L, k] (column ``i`` for ``series[i]``), the
    grid spacing, and ``info`` (``{"snapped", "filled", "duplicates"}``: whether any time was
    moved, how many grid slots were interpolated, how many rows dropped, summed over files).

    * ``interval``: the largest median spacing of the files, rounded to the nearest common
      interval (1 s, 5 s, ... 1 min, ... 1 h, ... 1 day) when within 2 % of it -- recorded
      series are rarely exactly regular (the CoinGecko hourly files jitter by +-20 min).
    * Grid: ``T0 + k interval`` over the span every file covers (``T0`` the latest first time).
      Each row is *snapped* to its nearest grid slot (of several rows in one slot, the one
      nearest the slot time is kept); a slot no row fell in (a gap) is filled by linear interpolation of the log
      price, so a gap's move is kept, spread evenly over it. Snapping keeps every recorded
      move as one return, where interpolating onto an off-phase grid would average
      neighbouring returns (and bias a GARCH fit towards alpha + beta = 1).
    * Files with the same regular times give exactly their own ``diff(log price)``.

    Too few prices or returns, or no common span, raise :class:`InputError` naming the file.
    """
    if not series:
        raise _err("price.returns_file", "no file given")
    for (t, _), name in zip(series, names):
        if t.size < min_returns + 1:
            raise InputError(name, None, f"too few prices: {t.size} (need at least {min_returns + 1} for "
                                         f"{min_returns} returns)")
    interval = _nice_interval(max(float(np.median(np.diff(t))) for t, _ in series))
    start = max(float(t[0]) for t, _ in series)
    stop = min(float(t[-1]) for t, _ in series)
    n_slots = int(math.floor((stop - start) / interval + 0.5)) + 1 if stop >= start else 0
    if n_slots - 1 < min_returns:
        raise InputError(", ".join(names), None,
                         f"too few returns on a common {interval:g} s grid: {max(n_slots - 1, 0)} (need at least "
                         f"{min_returns}; do the files overlap in time?)")
    info = {"snapped": False, "filled": 0, "duplicates": 0}
    cols = []
    for t, p in series:
        x = (t - start) / interval
        slot = np.floor(x + 0.5).astype(np.int64)  # half-way rows go up, consistently
        keep = (slot >= 0) & (slot < n_slots)
        slot, x, lp = slot[keep], x[keep], np.log(p[keep])
        # several rows in one slot (a finer file on a coarser grid): keep the row nearest the
        # slot time, so every file is sampled at the same instants
        order = np.lexsort((np.abs(x - slot), slot))
        slot, x, lp = slot[order], x[order], lp[order]
        first = np.ones(slot.size, dtype=bool)
        first[1:] = slot[1:] != slot[:-1]
        info["duplicates"] += int((~first).sum())
        slot, x, lp = slot[first], x[first], lp[first]
        if np.any(np.abs(x - slot) > 1e-6):
            info["snapped"] = True
        full = np.empty(n_slots)
        full[slot] = lp
        missing = np.ones(n_slots, dtype=bool)
        missing[slot] = False
        if missing.any():
            info["filled"] += int(missing.sum())
            idx = np.flatnonzero(missing)
            full[idx] = np.interp(idx.astype(np.float64), slot.astype(np.float64), lp)
        cols.append(np.diff(full))
    return np.stack(cols, axis=1), interval, info


def _grid_note(info: dict) -> str:
    parts = []
    if info.get("snapped"):
        parts.append("times snapped to the nearest grid slot")
    if info.get("filled"):
        parts.append(f"{info['filled']} empty slot(s) filled by log-linear interpolation")
    if info.get("duplicates"):
        parts.append(f"{info['duplicates']} row(s) sharing a slot dropped")
    return f" ({'; '.join(parts)})" if parts else ""


_RETURNS_CACHE: dict = {}
_FIT_CACHE: dict = {}


def _file_key(path: Path):
    try:
        st = path.stat()
    except OSError:
        return (str(path), None, None)
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _load_returns(files: Mapping[int, Path], n_assets: int, min_returns: int):
    """``(R[L, n_assets], interval_s, info, names)``; assets without a file get zeros. Cached
    on the files' paths, modification times and sizes (chunks of a run reuse it)."""
    key = (tuple((a, _file_key(f)) for a, f in sorted(files.items())), n_assets, min_returns)
    hit = _RETURNS_CACHE.get(key)
    if hit is not None:
        return hit
    order = sorted(files)
    names = [os.fspath(files[a]) for a in order]
    series = [load_returns_series(files[a]) for a in order]
    R, interval, info = returns_on_grid(series, names, min_returns)
    full = np.zeros((R.shape[0], n_assets))
    full[:, order] = R
    full.setflags(write=False)
    out = (full, interval, info, names)
    if len(_RETURNS_CACHE) > 16:
        _RETURNS_CACHE.clear()
    _RETURNS_CACHE[key] = out
    return out


def fit_garch(returns, file: str | None = None, where: str = "price.returns_file") -> dict:
    """Fit a GARCH(1,1) with normal innovations to a log-return series (float64[n]).

    Model: ``r_t = mean + e_t``, ``e_t = s_t z_t``, ``s_t^2 = omega + alpha e_{t-1}^2 + beta
    s_{t-1}^2``, ``z_t ~ N(0, 1)``. The series is demeaned and divided by its standard deviation
    before the maximum-likelihood fit (``arch.arch_model(mean="Zero", vol="GARCH", p=1, q=1)``,
    imported lazily: ``arch`` is an optional dependency), then ``omega`` is scaled back.
    Returns ``{"mean", "omega", "alpha", "beta", "n"}`` in the series' units (per sampling
    interval). Raises :class:`InputError` (naming ``file``/``where``) for too few returns
    (< :data:`GARCH_MIN_RETURNS`), a constant series, a failed fit or a non-stationary result
    (``alpha + beta >= 1``), or when ``arch`` is not installed.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size < GARCH_MIN_RETURNS:
        raise InputError(file, where, f"too few returns for a GARCH fit: {r.size} (need at least {GARCH_MIN_RETURNS})")
    if not np.all(np.isfinite(r)):
        raise InputError(file, where, "returns must be finite")
    sd = float(r.std())
    if not sd > 0:
        raise InputError(file, where, "the returns are all equal (zero variance): nothing to fit")
    try:
        from arch import arch_model
    except ImportError:
        raise InputError(file, where, "fitting a GARCH needs the optional package arch "
                                      "(pip install 'liqcascade[garch]'), or give omega, alpha and beta") from None
    import warnings

    mean = float(r.mean())
    x = (r - mean) / sd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = arch_model(x, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(
            disp="off", show_warning=False)
    if res.convergence_flag != 0:
        raise InputError(file, where, f"the GARCH(1,1) fit did not converge (optimizer flag {res.convergence_flag})")
    prm = res.params
    omega, alpha, beta = float(prm["omega"]) * sd * sd, float(prm["alpha[1]"]), float(prm["beta[1]"])
    if not (omega > 0 and alpha >= 0 and beta >= 0):
        raise InputError(file, where, f"the GARCH(1,1) fit gave invalid parameters omega={omega:g}, "
                                      f"alpha={alpha:g}, beta={beta:g}")
    if alpha + beta >= 1 - 1e-9:
        raise InputError(file, where, f"the fitted GARCH(1,1) is not stationary: alpha + beta = {alpha + beta:.6f} "
                                      ">= 1 (give omega, alpha and beta directly)")
    return {"mean": mean, "omega": omega, "alpha": alpha, "beta": beta, "n": int(r.size)}


def _fit_cached(R_col: np.ndarray, key, file: str) -> dict:
    hit = _FIT_CACHE.get(key)
    if hit is None:
        hit = fit_garch(R_col, file=file)
        if len(_FIT_CACHE) > 32:
            _FIT_CACHE.clear()
        _FIT_CACHE[key] = hit
    return hit


def _sub_grid(dt_seconds: float, interval_seconds: float) -> tuple[int, int, float]:
    """How a step of ``dt_seconds`` maps onto a process defined every ``interval_seconds``.

    ``(n, m, h)``: each step is ``n`` recursion sub-steps (``dt >= interval``), or ``m`` steps
    share one recursion step (``dt < interval``); the recursion step is ``R = dt / n`` or
    ``m dt`` -- the multiple or divisor of ``dt`` nearest ``interval`` -- and ``h = R /
    interval`` (1 when one length is an integer multiple of the other)."""
    ratio = dt_seconds / interval_seconds
    if ratio >= 1.0:
        n = max(1, int(round(ratio)))
        if n > _MAX_SUBSTEPS:
            raise _err("dt_seconds", f"a step of {dt_seconds:g} s is more than {_MAX_SUBSTEPS} intervals of "
                                     f"{interval_seconds:g} s (the price process's sampling interval)")
        return n, 1, (dt_seconds / n) / interval_seconds
    m = max(1, int(round(1.0 / ratio)))
    return 1, m, (m * dt_seconds) / interval_seconds


def garch_step_returns(seeds: Sequence[np.random.SeedSequence], steps: int, dt_seconds: float,
                       interval_seconds: float, mu, omega, alpha, beta, chol=None) -> np.ndarray:
    """GARCH(1,1) log returns per simulation step, float64[len(seeds), steps, n_assets].

    Parameters (float64[n_assets] each) are per ``interval_seconds`` in log-return units:
    ``r = mu + e``, ``e = s z``, ``s^2 = omega + alpha e_prev^2 + beta s_prev^2``; each path
    starts at the unconditional variance ``omega / (1 - alpha - beta)`` (an asset with
    ``omega = 0`` stays flat). ``z`` are standard normals, correlated across assets by ``chol``
    (the lower Cholesky factor of the correlation matrix, applied to the standardized innovations).

    Time scaling (see :func:`_sub_grid`): the recursion runs every ``R`` seconds, ``R`` being
    the multiple or divisor of ``dt_seconds`` nearest ``interval_seconds``; ``mu`` and
    ``omega`` are multiplied by ``h = R / interval_seconds`` (variance proportional to time;
    ``alpha``, ``beta`` unchanged), which is exact (``h = 1``) when one length is an integer
    multiple of the other.

    * ``dt >= interval``: ``n`` recursion steps per simulation step, their returns summed (the
      exact temporal aggregate of the process at ``R``).
    * ``dt < interval``: ``m`` simulation steps share one recursion step of variance ``s^2``;
      step ``i`` of the ``m`` gets ``mu/m + s z_i / sqrt(m)`` and the recursion's ``e`` is the
      sum of the ``m`` -- so sampled every ``R`` the path *is* the GARCH process; within ``R``
      the volatility is constant (a simplification).

    Path ``j`` draws only from ``default_rng(seeds[j])`` (``(J m) x n_assets`` normals in C
    order), so it does not depend on which other paths are generated alongside it.
    """
    P = len(seeds)
    mu, omega, alpha, beta = (np.asarray(x, dtype=np.float64) for x in (mu, omega, alpha, beta))
    A = omega.size
    n, m, h = _sub_grid(dt_seconds, interval_seconds)
    J = steps * n if m == 1 else -(-steps // m)
    U = J * m
    z = np.empty((P, U, A))
    for j, ss in enumerate(seeds):
        zj = np.random.default_rng(ss).standard_normal((U, A))
        z[j] = zj @ chol.T if chol is not None else zj
    mu_r, om = mu * h, omega * h
    var = np.empty((P, A))
    var[:] = om / (1.0 - alpha - beta)
    sub = np.empty((P, U, A))
    if m == 1:
        for k in range(J):
            e = np.sqrt(var) * z[:, k, :]
            sub[:, k, :] = mu_r + e
            var = om + alpha * (e * e) + beta * var
        return sub.reshape(P, steps, n, A).sum(axis=2) if n > 1 else sub
    sq = math.sqrt(m)
    for k in range(J):
        zk = z[:, k * m:(k + 1) * m, :]
        s = np.sqrt(var)
        sub[:, k * m:(k + 1) * m, :] = mu_r / m + (s / sq)[:, None, :] * zk
        e = s * zk.sum(axis=1) / sq
        var = om + alpha * (e * e) + beta * var
    return sub[:, :steps, :]


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
    n, m, h = _sub_grid(dt_seconds, interval_seconds)
    if m == 1:
        U, b = steps * n, block_steps * n
    else:
        U, b = -(-steps // m), max(1, int(round(block_steps / m)))
    if b > L:
        raise InputError(where_file, "price.block_steps",
                         f"a block of {block_steps} steps needs {b} consecutive returns, but the file(s) hold {L}")
    if L - b + 1 < BOOTSTRAP_MIN_STARTS:
        raise InputError(where_file, "price.block_steps",
                         f"blocks of {b} returns fit at only {L - b + 1} position(s) in {L} returns, so the paths "
                         f"would repeat; give a shorter block_steps or a longer file (need at least "
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


def _resolve(f, base_dir) -> Path:
    fp = Path(f)
    if base_dir is not None and not fp.is_absolute():
        fp = Path(base_dir) / fp
    return fp


def _garch_setup(spec: Mapping, n_assets: int, dt_seconds: float, base_dir, read_files: bool) -> dict:
    """Validated GARCH parameters (float64[n_assets] each) plus how they were obtained."""
    direct = [k for k in ("omega", "alpha", "beta") if spec.get(k) is not None]
    rf = spec.get("returns_file")
    mu = _per_asset(spec.get("mu", 0.0) if spec.get("mu") is not None else 0.0, n_assets, "price.mu")
    if rf is not None and rf != [] and rf != {}:
        if direct:
            raise _err(f"price.{direct[0]}", "give either omega, alpha and beta, or returns_file to fit them, not both")
        if spec.get("interval_seconds") is not None:
            raise _err("price.interval_seconds", "is taken from returns_file (its sampling interval) when fitting")
        zeros = np.zeros(n_assets)
        if not read_files:  # keys only (a sweep's points may still name assets, not indices)
            return {"mu": mu, "omega": zeros + 1.0, "alpha": zeros, "beta": zeros, "interval": dt_seconds,
                    "fitted": None}
        files = {a: _resolve(f, base_dir) for a, f in _asset_files(rf, n_assets, "price.returns_file").items()}
        if not files:
            raise _err("price.returns_file", "no file given")
        R, interval, info, names = _load_returns(files, n_assets, GARCH_MIN_RETURNS)
        omega, alpha, beta, fits = zeros.copy(), zeros.copy(), zeros.copy(), {}
        for a, f in sorted(files.items()):
            fit = _fit_cached(R[:, a], (_file_key(f), tuple(sorted((k, _file_key(v)) for k, v in files.items()))),
                              os.fspath(f))
            omega[a], alpha[a], beta[a] = fit["omega"], fit["alpha"], fit["beta"]
            fits[a] = {**fit, "file": os.fspath(f)}
        mu = np.where(np.isin(np.arange(n_assets), list(files)), mu, 0.0)
        return {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta, "interval": interval,
                "fitted": fits, "grid": info}
    if len(direct) < 3:
        missing = [k for k in ("omega", "alpha", "beta") if k not in direct]
        raise _err(f"price.{missing[0]}", "required for kind 'garch' (give omega, alpha and beta, or returns_file "
                                          "to fit them)")
    omega = _per_asset(spec["omega"], n_assets, "price.omega", lo=0.0, lo_open=True)
    alpha = _per_asset(spec["alpha"], n_assets, "price.alpha", lo=0.0)
    beta = _per_asset(spec["beta"], n_assets, "price.beta", lo=0.0)
    for a in range(n_assets):
        if alpha[a] + beta[a] >= 1.0:
            w = "price.beta" if np.ndim(spec["beta"]) == 0 else f"price.beta[{a}]"
            raise _err(w, f"alpha + beta must be < 1 for a stationary GARCH(1,1), got "
                          f"{alpha[a]:g} + {beta[a]:g} = {alpha[a] + beta[a]:g}")
    interval = spec.get("interval_seconds")
    if interval is None:
        interval = dt_seconds
    interval = _finite_float(interval, "price.interval_seconds")
    if interval <= 0:
        raise _err("price.interval_seconds", f"must be > 0, got {interval}")
    return {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta, "interval": interval, "fitted": None}


def _bootstrap_setup(spec: Mapping, n_assets: int, base_dir, read_files: bool, dt_seconds: float = 60.0) -> dict:
    if spec.get("correlation") is not None:
        raise _err("price.correlation", "not used by kind 'bootstrap' (its cross-correlation is the files'; "
                                        "remove it)")
    bs = spec.get("block_steps")
    if bs is None:  # default: one day of steps
        bs = max(1, int(round(86400.0 / dt_seconds)))
    block_steps = _int(bs, "price.block_steps", lo=1)
    rf = spec.get("returns_file")
    if rf is None or rf == [] or rf == {}:
        raise _err("price.returns_file", "required for kind 'bootstrap' (the price file(s) whose returns are resampled)")
    if not read_files:  # keys only (a sweep's points may still name assets, not indices)
        return {"block_steps": block_steps}
    files = {a: _resolve(f, base_dir) for a, f in _asset_files(rf, n_assets, "price.returns_file").items()}
    if not files:
        raise _err("price.returns_file", "no file given")
    R, interval, info, names = _load_returns(files, n_assets, BOOTSTRAP_MIN_RETURNS)
    return {"block_steps": block_steps, "files": files, "R": R, "interval": interval, "grid": info,
            "names": names}


def price_notes(spec: Mapping, p0, dt_seconds: float, base_dir=None) -> list[str]:
    """Notes for a run's report on how its price paths were made (empty for the kinds that need
    none): fitted GARCH parameters, the files and sampling interval behind a bootstrap, and the
    time scaling used. Raises :class:`InputError` like :func:`generate_paths`."""
    if not isinstance(spec, Mapping):
        return []
    kind = spec.get("kind")
    n_assets = _p0_array(p0).size
    if kind == "garch":
        g = _garch_setup(spec, n_assets, float(dt_seconds), base_dir, read_files=True)
        n, m, h = _sub_grid(float(dt_seconds), g["interval"])
        out = []
        if g["fitted"]:
            for a, f in sorted(g["fitted"].items()):
                out.append(
                    f"asset {a}: GARCH(1,1) fitted with arch on {f['n']} log returns of {f['file']} every "
                    f"{g['interval']:g} s{_grid_note(g['grid'])}: "
                    f"omega={f['omega']:.6g}, alpha={f['alpha']:.6g}, beta={f['beta']:.6g} (persistence "
                    f"{f['alpha'] + f['beta']:.4f}); the sample mean {f['mean']:.3g} per interval is reported, not "
                    f"simulated (drift = price.mu, {g['mu'][a]:g})")
        else:
            out.append(f"GARCH(1,1) with given omega={g['omega'].tolist()}, alpha={g['alpha'].tolist()}, "
                       f"beta={g['beta'].tolist()}, mu={g['mu'].tolist()} per {g['interval']:g} s")
        out.append(
            f"GARCH: normal innovations, correlated across assets by price.correlation "
            f"({'given' if spec.get('correlation') is not None else 'none: independent'}); each path starts at the "
            f"unconditional variance; recursion every {g['interval'] * h:g} s "
            + (f"({n} per step, returns summed)" if m == 1 else f"(shared by {m} steps, volatility constant within it)")
            + (f", mu and omega scaled by {h:.6g} (variance proportional to time)" if h != 1.0 else ""))
        return out
    if kind == "bootstrap":
        b = _bootstrap_setup(spec, n_assets, base_dir, read_files=True, dt_seconds=float(dt_seconds))
        n, m, h = _sub_grid(float(dt_seconds), b["interval"])
        rows = b["block_steps"] * n if m == 1 else max(1, int(round(b["block_steps"] / m)))
        return [
            f"block bootstrap of {b['R'].shape[0]} log returns every {b['interval']:g} s from "
            f"{', '.join(b['names'])}{_grid_note(b['grid'])}; "
            f"moving blocks of {rows} returns ({max(b['R'].shape[0] - rows + 1, 0)} possible positions), the same "
            "block positions for every asset (keeps their cross-correlation)",
            "bootstrap time scaling: " + (
                f"{n} file return(s) summed per step" if m == 1 else f"each file return spread evenly over {m} steps "
                "(log-linear between samples: variance within one file interval is understated)")
            + (f", times sqrt({h:.6g}) (variance proportional to time)" if h != 1.0 else ""),
        ]
    return []


# --------------------------------------------------------------------------------------------
# dispatcher


def _root_seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise _err("seed", f"expected a non-negative integer or a numpy SeedSequence, got {seed!r}")
    if int(seed) < 0:
        raise _err("seed", f"must be >= 0, got {int(seed)}")
    return np.random.SeedSequence(int(seed))


def path_seed_sequences(seed, path_offset: int, n_paths: int) -> list[np.random.SeedSequence]:
    """Per-path seed sequences for paths ``path_offset .. path_offset + n_paths - 1``.

    Path ``p`` gets exactly ``SeedSequence(seed).spawn(p + 1)[p]`` (same entropy, spawn key
    ``root.spawn_key + (p,)``), built directly so neither the offset's size nor any earlier
    ``spawn()`` call on a passed-in ``SeedSequence`` changes the result (children are indexed
    from 0, whatever ``n_children_spawned`` says).
    """
    root = _root_seed_sequence(seed)
    return [
        np.random.SeedSequence(
            entropy=root.entropy, spawn_key=tuple(root.spawn_key) + (p,), pool_size=root.pool_size
        )
        for p in range(path_offset, path_offset + n_paths)
    ]


def _asset_files(spec_file, n_assets: int, where: str = "price.file") -> dict[int, str]:
    files: dict[int, str] = {}
    if isinstance(spec_file, (str, os.PathLike)):
        spec_file = [spec_file]
    if isinstance(spec_file, Mapping):
        for key, f in spec_file.items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise _err(where, f"asset index {key!r} is not an integer") from None
            if isinstance(key, bool) or not 0 <= i < n_assets:
                raise _err(where, f"asset index {key!r} out of range 0..{n_assets - 1}")
            if i in files:
                raise _err(where, f"asset index {i} given twice")
            if f is not None and f != "":
                files[i] = f
    elif isinstance(spec_file, Sequence):
        if len(spec_file) > n_assets:
            raise _err(where, f"{len(spec_file)} files for {n_assets} assets")
        for i, f in enumerate(spec_file):
            if f is not None and f != "":
                files[i] = f
    else:
        raise _err(where, "expected a file path, a list of paths (one per asset) or a table index->path")
    for i, f in files.items():
        if not isinstance(f, (str, os.PathLike)):
            raise _err(f"{where}[{i}]", f"expected a file path, got {f!r}")
    return files


def generate_paths(
    spec: Mapping,
    p0,
    steps: int,
    dt_seconds: float,
    n_paths: int,
    seed,
    *,
    path_offset: int = 0,
    stable=None,
    base_dir=None,
) -> np.ndarray:
    """Exogenous price paths for every asset, float64[n_paths, steps + 1, n_assets].

    ``spec["kind"]`` selects the model (see the module docstring); keys per kind
    (per-asset values may be a float or a list with one number per asset):

    * ``crash``: ``shock`` (fraction, per-asset), ``start`` (1), ``over_steps`` (1),
      ``recovery`` (0.0), ``recovery_steps`` (0) -- see :func:`crash_path`.
    * ``gbm``: ``mu`` (0.0, per-asset, annualised), ``sigma`` (required, per-asset, annualised).
    * ``jump``: ``mu`` (0.0), ``sigma``, ``lam`` (jumps per year), ``jump_mean``, ``jump_std``
      (all per-asset; all but ``mu`` required) -- see :func:`jump_diffusion_paths`.
    * ``historical``: ``file`` -- a path, a list of paths (entry ``i`` for asset ``i``; ``None``
      or missing entries leave the asset constant) or a table ``{asset_index: path}``; relative
      paths resolve against ``base_dir`` when given; ``method`` ``"linear"`` (default) or
      ``"hold"`` -- see :func:`historical_paths`.
    * ``garch``: either ``omega`` (> 0), ``alpha``, ``beta`` (>= 0, ``alpha + beta < 1``) and
      optionally ``mu`` (0.0), all per-asset, in log-return units per ``interval_seconds``
      (default: the step ``dt_seconds``) -- *not* annualised; or ``returns_file`` (same forms
      as ``file``; read by :func:`load_returns_series`) to fit ``omega``, ``alpha``, ``beta``
      per asset with ``arch`` on the file's returns at its own sampling interval (assets
      without a file stay flat; ``mu`` is still the simulated drift per interval, the fitted
      mean is only reported) -- see :func:`garch_step_returns` for the time scaling and
      :func:`fit_garch`.
    * ``bootstrap``: ``returns_file`` (required; one file per asset, aligned in time -- see
      :func:`returns_on_grid`; assets without a file stay flat), ``block_steps`` (block length
      in simulation steps; default one day, ``round(86400 / dt_seconds)``) -- see :func:`bootstrap_step_returns`. ``correlation`` is
      refused (the files' own cross-correlation is kept).
    * any kind: ``correlation`` (``n_assets x n_assets`` matrix), validated always, used by
      ``gbm``, ``jump`` (Brownian parts) and ``garch`` (standardized innovations).

    With ``n_paths == 0`` the ``garch``/``bootstrap`` files are not read (only the keys are
    checked); :func:`price_notes` describes fitted parameters and scaling for a run's notes.

    ``p0``: float64[n_assets] start prices (> 0); index 0 of the step axis equals it exactly.
    ``dt_seconds``: step length; annualised parameters use ``dt / (365 * 86400)``.
    ``seed``: int >= 0 or ``numpy.random.SeedSequence``. The returned row ``j`` is path
    ``p = path_offset + j``, drawn with ``default_rng(SeedSequence(seed).spawn(..)[p])``
    (see :func:`path_seed_sequences`), so it depends only on ``(seed, p)``: generating paths
    0..9 at once equals generating 0..4 and 5..9 with ``path_offset=5``.
    ``stable``: optional bool[n_assets]; flagged assets stay at ``p0`` on every step (their
    random draws are still made, so other assets are unaffected by the flag).
    Deterministic kinds ignore the seed and repeat the same path in every row.
    """
    if not isinstance(spec, Mapping):
        raise _err("price", f"expected a table, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise _err("price.kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    unknown = set(spec) - _SPEC_KEYS[kind] - _COMMON_KEYS
    if unknown:
        raise _err("price", f"unknown key(s) for kind {kind!r}: {', '.join(sorted(map(str, unknown)))}")

    p0 = _p0_array(p0)
    n_assets = p0.size
    steps = _int(steps, "steps", lo=0)
    n_paths = _int(n_paths, "n_paths", lo=0)
    path_offset = _int(path_offset, "path_offset", lo=0)
    dt_seconds = _finite_float(dt_seconds, "dt_seconds")
    if dt_seconds <= 0:
        raise _err("dt_seconds", f"must be > 0, got {dt_seconds}")
    dt_years = dt_seconds / YEAR_SECONDS
    if stable is None:
        stable_mask = np.zeros(n_assets, dtype=bool)
    else:
        stable_mask = np.asarray(stable)
        if stable_mask.shape != (n_assets,) or stable_mask.dtype != np.bool_:
            raise _err("stable", f"expected bool[{n_assets}], got {stable_mask.dtype}{list(stable_mask.shape)}")
    chol = correlation_cholesky(spec.get("correlation"), n_assets)
    seeds = path_seed_sequences(seed, path_offset, n_paths)  # validates seed for every kind

    def required(key):
        if key not in spec:
            raise _err(f"price.{key}", f"required for kind {kind!r}")
        return spec[key]

    out = np.empty((n_paths, steps + 1, n_assets), dtype=np.float64)

    if kind == "crash":
        shock = _per_asset(required("shock"), n_assets, "price.shock", lo=0.0, hi=1.0, hi_open=True)
        base = np.empty((steps + 1, n_assets))
        for a in range(n_assets):
            base[:, a] = crash_path(
                p0[a],
                shock[a],
                steps,
                start=spec.get("start", 1),
                over_steps=spec.get("over_steps", 1),
                recovery=spec.get("recovery", 0.0),
                recovery_steps=spec.get("recovery_steps", 0),
            )
        out[:] = base
    elif kind == "historical":
        files = _asset_files(required("file"), n_assets)
        method = spec.get("method", "linear")
        if method not in ("linear", "hold"):
            raise _err("price.method", f"must be 'linear' or 'hold', got {method!r}")
        base = np.empty((steps + 1, n_assets))
        base[:] = p0
        for a, f in files.items():
            fp = Path(f)
            if base_dir is not None and not fp.is_absolute():
                fp = Path(base_dir) / fp
            times, prices = load_price_csv(fp)
            base[:, a] = historical_paths(times, prices, p0[a], steps, dt_seconds, method=method)
        out[:] = base
    elif kind == "gbm":
        mu = _per_asset(spec.get("mu", 0.0), n_assets, "price.mu")
        sigma = _per_asset(required("sigma"), n_assets, "price.sigma", lo=0.0)
        for j, ss in enumerate(seeds):
            rng = np.random.default_rng(ss)
            inc = gbm_increments(rng, 1, steps, n_assets, mu, sigma, dt_years, chol)
            out[j] = _paths_from_log_increments(p0, inc)[0]
    elif kind == "garch":
        g = _garch_setup(spec, n_assets, dt_seconds, base_dir, read_files=n_paths > 0)
        if n_paths:
            inc = garch_step_returns(seeds, steps, dt_seconds, g["interval"], g["mu"], g["omega"], g["alpha"],
                                     g["beta"], chol if spec.get("correlation") is not None else None)
            out[:] = _paths_from_log_increments(p0, inc)
    elif kind == "bootstrap":
        b = _bootstrap_setup(spec, n_assets, base_dir, read_files=n_paths > 0, dt_seconds=dt_seconds)
        if n_paths:
            inc = bootstrap_step_returns(seeds, steps, dt_seconds, b["R"], b["interval"], b["block_steps"],
                                         ", ".join(b["names"]))
            out[:] = _paths_from_log_increments(p0, inc)
    else:  # jump
        mu = _per_asset(spec.get("mu", 0.0), n_assets, "price.mu")
        sigma = _per_asset(required("sigma"), n_assets, "price.sigma", lo=0.0)
        lam = _per_asset(required("lam"), n_assets, "price.lam", lo=0.0)
        jump_mean = _per_asset(required("jump_mean"), n_assets, "price.jump_mean")
        jump_std = _per_asset(required("jump_std"), n_assets, "price.jump_std", lo=0.0)
        for j, ss in enumerate(seeds):
            rng = np.random.default_rng(ss)
            inc = _jump_increments(
                rng, 1, steps, n_assets, mu, sigma, lam, jump_mean, jump_std, dt_years, chol
            )
            out[j] = _paths_from_log_increments(p0, inc)[0]

    out[:, 0, :] = p0
    if stable_mask.any():
        out[:, :, stable_mask] = p0[stable_mask]
    clamp_paths(out, p0)
    return out


def clamp_paths(paths: np.ndarray, p0) -> int:
    """Clamp price paths in place to ``[PATH_REL_MIN, PATH_REL_MAX] × p0`` (per asset), the
    range the engine's float64 arithmetic carries (:mod:`liqcascade.bounds`; a GBM with a
    large sigma over a long horizon can otherwise underflow to 0 or overflow). Returns how many
    entries were moved; NaN raises."""
    from liqcascade.bounds import PATH_REL_MAX, PATH_REL_MIN

    p0 = np.asarray(p0, dtype=np.float64)
    if np.isnan(paths).any():
        raise _err("price", "the price model produced NaN prices (parameters out of range)")
    lo = p0 * PATH_REL_MIN
    hi = p0 * PATH_REL_MAX
    n = int(np.count_nonzero((paths < lo) | (paths > hi)))
    if n:
        np.clip(paths, lo, hi, out=paths)
    return n


def path_bound_notes(paths: np.ndarray, p0, assets: Sequence[str]) -> list[str]:
    """A note for every asset whose reference path touches the clamp of :func:`clamp_paths`."""
    from liqcascade.bounds import PATH_REL_MAX, PATH_REL_MIN

    out = []
    p0 = np.asarray(p0, dtype=np.float64)
    for a, name in enumerate(assets):
        col = paths[:, :, a]
        lo = bool((col <= p0[a] * PATH_REL_MIN).any())
        hi = bool((col >= p0[a] * PATH_REL_MAX).any())
        if lo or hi:
            out.append(f"{name}: the reference price path reached the engine's bound "
                       f"({'1e-9' if lo else '1e9'} × the initial price) and was held there")
    return out
