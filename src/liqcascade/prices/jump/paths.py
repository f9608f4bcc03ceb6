"""``jump``: Merton jump diffusion (GBM plus compound-Poisson jumps in log price, drift compensated)."""

from __future__ import annotations

import numpy as np

from liqcascade.prices.common import (
    PathRequest,
    as_int,
    check_dt,
    p0_array,
    paths_from_log_increments,
    per_asset,
)
from liqcascade.prices.gbm.paths import gbm_increments

#: the ``[price]`` keys this model reads (besides ``kind``)
KEYS = {"mu", "sigma", "lam", "jump_mean", "jump_std"}
#: whether the scenario's ``price.correlation`` is passed to it (it correlates the Brownian parts)
CORRELATION = True


def jump_compensator(jump_mean, jump_std):
    """``k = E[e^J] - 1 = exp(jump_mean + jump_std^2 / 2) - 1`` for ``J ~ N(jump_mean, jump_std^2)``."""
    return np.expm1(np.asarray(jump_mean, dtype=np.float64) + 0.5 * np.asarray(jump_std, dtype=np.float64) ** 2)


def jump_increments(rng, n_paths, steps, n_assets, mu, sigma, lam, jump_mean, jump_std, dt_years, chol):
    mu = per_asset(mu, n_assets, "price.mu")
    sigma = per_asset(sigma, n_assets, "price.sigma", lo=0.0)
    lam = per_asset(lam, n_assets, "price.lam", lo=0.0)
    jump_mean = per_asset(jump_mean, n_assets, "price.jump_mean")
    jump_std = per_asset(jump_std, n_assets, "price.jump_std", lo=0.0)
    dt = check_dt(dt_years)
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
    p0 = p0_array(p0)
    n_paths = as_int(n_paths, "n_paths", lo=0)
    steps = as_int(steps, "steps", lo=0)
    inc = jump_increments(
        rng, n_paths, steps, p0.size, mu, sigma, lam, jump_mean, jump_std, dt_years, chol
    )
    return paths_from_log_increments(p0, inc)


def generate(req: PathRequest) -> np.ndarray:
    """Path ``j`` from ``default_rng(seeds[j])``."""
    n_assets = req.n_assets
    mu = per_asset(req.spec.get("mu", 0.0), n_assets, "price.mu")
    sigma = per_asset(req.required("sigma"), n_assets, "price.sigma", lo=0.0)
    lam = per_asset(req.required("lam"), n_assets, "price.lam", lo=0.0)
    jump_mean = per_asset(req.required("jump_mean"), n_assets, "price.jump_mean")
    jump_std = per_asset(req.required("jump_std"), n_assets, "price.jump_std", lo=0.0)
    out = req.empty()
    for j, ss in enumerate(req.seeds):
        rng = np.random.default_rng(ss)
        inc = jump_increments(
            rng, 1, req.steps, n_assets, mu, sigma, lam, jump_mean, jump_std, req.dt_years, req.chol
        )
        out[j] = paths_from_log_increments(req.p0, inc)[0]
    return out
