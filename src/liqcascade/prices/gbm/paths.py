"""``gbm``: geometric Brownian motion with correlated Brownian motions across assets."""

from __future__ import annotations

import math

import numpy as np

from liqcascade.prices.common import (
    PathRequest,
    as_int,
    check_chol,
    check_dt,
    p0_array,
    paths_from_log_increments,
    per_asset,
)

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"mu", "sigma"}
#: whether the scenario's ``price.correlation`` is passed to it (it correlates the Brownian motions)
CORRELATION = True


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
    n_paths = as_int(n_paths, "n_paths", lo=0)
    steps = as_int(steps, "steps", lo=0)
    n_assets = as_int(n_assets, "n_assets", lo=1)
    mu = per_asset(mu, n_assets, "price.mu")
    sigma = per_asset(sigma, n_assets, "price.sigma", lo=0.0)
    dt = check_dt(dt_years)
    chol = check_chol(chol, n_assets)
    z = rng.standard_normal((n_paths, steps, n_assets))
    if chol is not None:
        z = z @ chol.T
    return (mu - 0.5 * sigma**2) * dt + sigma * math.sqrt(dt) * z


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
    p0 = p0_array(p0)
    inc = gbm_increments(rng, n_paths, steps, p0.size, mu, sigma, dt_years, chol)
    return paths_from_log_increments(p0, inc)


def generate(req: PathRequest) -> np.ndarray:
    """Path ``j`` from ``default_rng(seeds[j])``."""
    n_assets = req.n_assets
    mu = per_asset(req.spec.get("mu", 0.0), n_assets, "price.mu")
    sigma = per_asset(req.required("sigma"), n_assets, "price.sigma", lo=0.0)
    out = req.empty()
    for j, ss in enumerate(req.seeds):
        rng = np.random.default_rng(ss)
        inc = gbm_increments(rng, 1, req.steps, n_assets, mu, sigma, req.dt_years, req.chol)
        out[j] = paths_from_log_increments(req.p0, inc)[0]
    return out
