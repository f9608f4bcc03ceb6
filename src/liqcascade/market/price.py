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
]

#: Seconds in a (365-day) year; crypto trades every day, so no trading-day calendar is used.
YEAR_SECONDS = 365.0 * 86400.0

#: Price-process kinds understood by :func:`generate_paths`.
KINDS = ("crash", "gbm", "jump", "historical")

_SPEC_KEYS = {
    "crash": {"shock", "start", "over_steps", "recovery", "recovery_steps"},
    "gbm": {"mu", "sigma"},
    "jump": {"mu", "sigma", "lam", "jump_mean", "jump_std"},
    "historical": {"file", "method"},
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


def _historical_files(spec_file, n_assets: int) -> dict[int, str]:
    where = "price.file"
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
    * any kind: ``correlation`` (``n_assets x n_assets`` matrix), validated always, used by
      ``gbm`` and ``jump`` (the other kinds are deterministic).

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
        files = _historical_files(required("file"), n_assets)
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
    return out
