"""``garch``: GARCH(1,1) log returns with normal innovations, given or fitted with ``arch``."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from liqcascade.errors import InputError
from liqcascade.prices.common import (
    PathRequest,
    finite_float,
    input_error,
    p0_array,
    paths_from_log_increments,
    per_asset,
    sub_grid,
)
from liqcascade.prices.loading import asset_files, file_key, grid_note, load_returns, resolve_file

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"mu", "omega", "alpha", "beta", "interval_seconds", "returns_file"}
#: whether the scenario's ``price.correlation`` is passed to it (it correlates the innovations)
CORRELATION = True


#: Fewest log returns a GARCH(1,1) fit accepts.
GARCH_MIN_RETURNS = 100
_FIT_CACHE: dict = {}


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


def garch_step_returns(seeds: Sequence[np.random.SeedSequence], steps: int, dt_seconds: float,
                       interval_seconds: float, mu, omega, alpha, beta, chol=None) -> np.ndarray:
    """GARCH(1,1) log returns per simulation step, float64[len(seeds), steps, n_assets].

    Parameters (float64[n_assets] each) are per ``interval_seconds`` in log-return units:
    ``r = mu + e``, ``e = s z``, ``s^2 = omega + alpha e_prev^2 + beta s_prev^2``; each path
    starts at the unconditional variance ``omega / (1 - alpha - beta)`` (an asset with
    ``omega = 0`` stays flat). ``z`` are standard normals, correlated across assets by ``chol``
    (the lower Cholesky factor of the correlation matrix, applied to the standardized innovations).

    Time scaling (see :func:`sub_grid`): the recursion runs every ``R`` seconds, ``R`` being
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
    n, m, h = sub_grid(dt_seconds, interval_seconds)
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


def garch_setup(spec: Mapping, n_assets: int, dt_seconds: float, base_dir, read_files: bool) -> dict:
    """Validated GARCH parameters (float64[n_assets] each) plus how they were obtained."""
    direct = [k for k in ("omega", "alpha", "beta") if spec.get(k) is not None]
    rf = spec.get("returns_file")
    mu = per_asset(spec.get("mu", 0.0) if spec.get("mu") is not None else 0.0, n_assets, "price.mu")
    if rf is not None and rf != [] and rf != {}:
        if direct:
            raise input_error(f"price.{direct[0]}", "give either omega, alpha and beta, or returns_file to fit them, not both")
        if spec.get("interval_seconds") is not None:
            raise input_error("price.interval_seconds", "is taken from returns_file (its sampling interval) when fitting")
        zeros = np.zeros(n_assets)
        if not read_files:  # keys only (a sweep's points may still name assets, not indices)
            return {"mu": mu, "omega": zeros + 1.0, "alpha": zeros, "beta": zeros, "interval": dt_seconds,
                    "fitted": None}
        files = {a: resolve_file(f, base_dir, "price.returns_file")
             for a, f in asset_files(rf, n_assets, "price.returns_file").items()}
        if not files:
            raise input_error("price.returns_file", "no file given")
        R, interval, info, names = load_returns(files, n_assets, GARCH_MIN_RETURNS)
        omega, alpha, beta, fits = zeros.copy(), zeros.copy(), zeros.copy(), {}
        for a, f in sorted(files.items()):
            fit = _fit_cached(R[:, a], (file_key(f), tuple(sorted((k, file_key(v)) for k, v in files.items()))),
                              os.fspath(f))
            omega[a], alpha[a], beta[a] = fit["omega"], fit["alpha"], fit["beta"]
            fits[a] = {**fit, "file": os.fspath(f)}
        mu = np.where(np.isin(np.arange(n_assets), list(files)), mu, 0.0)
        return {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta, "interval": interval,
                "fitted": fits, "grid": info}
    if len(direct) < 3:
        missing = [k for k in ("omega", "alpha", "beta") if k not in direct]
        raise input_error(f"price.{missing[0]}", "required for kind 'garch' (give omega, alpha and beta, or returns_file "
                                          "to fit them)")
    omega = per_asset(spec["omega"], n_assets, "price.omega", lo=0.0, lo_open=True)
    alpha = per_asset(spec["alpha"], n_assets, "price.alpha", lo=0.0)
    beta = per_asset(spec["beta"], n_assets, "price.beta", lo=0.0)
    for a in range(n_assets):
        if alpha[a] + beta[a] >= 1.0:
            w = "price.beta" if np.ndim(spec["beta"]) == 0 else f"price.beta[{a}]"
            raise input_error(w, f"alpha + beta must be < 1 for a stationary GARCH(1,1), got "
                          f"{alpha[a]:g} + {beta[a]:g} = {alpha[a] + beta[a]:g}")
    interval = spec.get("interval_seconds")
    if interval is None:
        interval = dt_seconds
    interval = finite_float(interval, "price.interval_seconds")
    if interval <= 0:
        raise input_error("price.interval_seconds", f"must be > 0, got {interval}")
    return {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta, "interval": interval, "fitted": None}


def generate(req: PathRequest) -> np.ndarray:
    """With ``n_paths == 0`` the returns files are not read (only the keys are checked)."""
    spec = req.spec
    g = garch_setup(spec, req.n_assets, req.dt_seconds, req.base_dir, read_files=req.n_paths > 0)
    out = req.empty()
    if req.n_paths:
        inc = garch_step_returns(req.seeds, req.steps, req.dt_seconds, g["interval"], g["mu"], g["omega"],
                                 g["alpha"], g["beta"], req.chol if spec.get("correlation") is not None else None)
        out[:] = paths_from_log_increments(req.p0, inc)
    return out


def notes(spec: Mapping, p0, dt_seconds: float, base_dir=None) -> list[str]:
    """Fitted or given parameters and the time scaling, for a run's notes."""
    n_assets = p0_array(p0).size
    g = garch_setup(spec, n_assets, float(dt_seconds), base_dir, read_files=True)
    n, m, h = sub_grid(float(dt_seconds), g["interval"])
    out = []
    if g["fitted"]:
        for a, f in sorted(g["fitted"].items()):
            out.append(
                f"asset {a}: GARCH(1,1) fitted with arch on {f['n']} log returns of {f['file']} every "
                f"{g['interval']:g} s{grid_note(g['grid'])}: "
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
