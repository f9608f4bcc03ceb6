"""Exogenous price processes: the reference price of every asset, before endogenous impact.

The simulator drives each venue's *reference* price from a path produced here; liquidation
selling then pushes venue prices away from it. Six models, one folder each
(``prices/<kind>/``; the ``price.kind`` of a scenario):

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

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from liqcascade.prices.bootstrap.paths import bootstrap_setup, bootstrap_step_returns
from liqcascade.prices.common import (
    YEAR_SECONDS,
    as_int,
    correlation_cholesky,
    finite_float,
    input_error,
    p0_array,
    paths_from_log_increments,
    per_asset,
    sub_grid,
)
from liqcascade.prices.crash.paths import crash_path
from liqcascade.prices.garch.paths import garch_setup, garch_step_returns
from liqcascade.prices.gbm.paths import gbm_increments
from liqcascade.prices.historical.paths import historical_paths
from liqcascade.prices.jump.paths import jump_increments
from liqcascade.prices.loading import asset_files, grid_note, load_price_csv
from liqcascade.prices.seeding import path_seed_sequences

__all__ = ["KINDS", "generate_paths", "price_notes"]

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


def price_notes(spec: Mapping, p0, dt_seconds: float, base_dir=None) -> list[str]:
    """Notes for a run's report on how its price paths were made (empty for the kinds that need
    none): fitted GARCH parameters, the files and sampling interval behind a bootstrap, and the
    time scaling used. Raises :class:`InputError` like :func:`generate_paths`."""
    if not isinstance(spec, Mapping):
        return []
    kind = spec.get("kind")
    n_assets = p0_array(p0).size
    if kind == "garch":
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
    if kind == "bootstrap":
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
    return []


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
        raise input_error("price", f"expected a table, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise input_error("price.kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    unknown = set(spec) - _SPEC_KEYS[kind] - _COMMON_KEYS
    if unknown:
        raise input_error("price", f"unknown key(s) for kind {kind!r}: {', '.join(sorted(map(str, unknown)))}")

    p0 = p0_array(p0)
    n_assets = p0.size
    steps = as_int(steps, "steps", lo=0)
    n_paths = as_int(n_paths, "n_paths", lo=0)
    path_offset = as_int(path_offset, "path_offset", lo=0)
    dt_seconds = finite_float(dt_seconds, "dt_seconds")
    if dt_seconds <= 0:
        raise input_error("dt_seconds", f"must be > 0, got {dt_seconds}")
    dt_years = dt_seconds / YEAR_SECONDS
    if stable is None:
        stable_mask = np.zeros(n_assets, dtype=bool)
    else:
        stable_mask = np.asarray(stable)
        if stable_mask.shape != (n_assets,) or stable_mask.dtype != np.bool_:
            raise input_error("stable", f"expected bool[{n_assets}], got {stable_mask.dtype}{list(stable_mask.shape)}")
    chol = correlation_cholesky(spec.get("correlation"), n_assets)
    seeds = path_seed_sequences(seed, path_offset, n_paths)  # validates seed for every kind

    def required(key):
        if key not in spec:
            raise input_error(f"price.{key}", f"required for kind {kind!r}")
        return spec[key]

    out = np.empty((n_paths, steps + 1, n_assets), dtype=np.float64)

    if kind == "crash":
        shock = per_asset(required("shock"), n_assets, "price.shock", lo=0.0, hi=1.0, hi_open=True)
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
        files = asset_files(required("file"), n_assets)
        method = spec.get("method", "linear")
        if method not in ("linear", "hold"):
            raise input_error("price.method", f"must be 'linear' or 'hold', got {method!r}")
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
        mu = per_asset(spec.get("mu", 0.0), n_assets, "price.mu")
        sigma = per_asset(required("sigma"), n_assets, "price.sigma", lo=0.0)
        for j, ss in enumerate(seeds):
            rng = np.random.default_rng(ss)
            inc = gbm_increments(rng, 1, steps, n_assets, mu, sigma, dt_years, chol)
            out[j] = paths_from_log_increments(p0, inc)[0]
    elif kind == "garch":
        g = garch_setup(spec, n_assets, dt_seconds, base_dir, read_files=n_paths > 0)
        if n_paths:
            inc = garch_step_returns(seeds, steps, dt_seconds, g["interval"], g["mu"], g["omega"], g["alpha"],
                                     g["beta"], chol if spec.get("correlation") is not None else None)
            out[:] = paths_from_log_increments(p0, inc)
    elif kind == "bootstrap":
        b = bootstrap_setup(spec, n_assets, base_dir, read_files=n_paths > 0, dt_seconds=dt_seconds)
        if n_paths:
            inc = bootstrap_step_returns(seeds, steps, dt_seconds, b["R"], b["interval"], b["block_steps"],
                                         ", ".join(b["names"]))
            out[:] = paths_from_log_increments(p0, inc)
    else:  # jump
        mu = per_asset(spec.get("mu", 0.0), n_assets, "price.mu")
        sigma = per_asset(required("sigma"), n_assets, "price.sigma", lo=0.0)
        lam = per_asset(required("lam"), n_assets, "price.lam", lo=0.0)
        jump_mean = per_asset(required("jump_mean"), n_assets, "price.jump_mean")
        jump_std = per_asset(required("jump_std"), n_assets, "price.jump_std", lo=0.0)
        for j, ss in enumerate(seeds):
            rng = np.random.default_rng(ss)
            inc = jump_increments(
                rng, 1, steps, n_assets, mu, sigma, lam, jump_mean, jump_std, dt_years, chol
            )
            out[j] = paths_from_log_increments(p0, inc)[0]

    out[:, 0, :] = p0
    if stable_mask.any():
        out[:, :, stable_mask] = p0[stable_mask]
    return out
