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

import numpy as np

from liqcascade.prices import KINDS, model
from liqcascade.prices.common import (
    YEAR_SECONDS,
    PathRequest,
    as_int,
    correlation_cholesky,
    finite_float,
    input_error,
    p0_array,
)
from liqcascade.prices.seeding import path_seed_sequences

__all__ = ["KINDS", "generate_paths", "price_notes", "spec_from_scenario"]

_COMMON_KEYS = {"kind", "correlation"}


def spec_from_scenario(price, assets: list[str], *, unknown_assets: str = "raise") -> dict:
    """The ``[price]`` table of a validated scenario (``scenario.models.PriceProcess``) as the
    ``spec`` dict :func:`generate_paths` takes: ``kind`` and the keys its model reads (``KEYS``,
    plus ``correlation`` when ``CORRELATION``), unset ones left out; file tables keyed by asset
    name are keyed by asset index (``unknown_assets="drop"`` leaves out names not in ``assets``)."""
    spec = {"kind": price.kind}
    mod = model(price.kind)
    for k in type(price).model_fields:
        if k not in mod.KEYS and not (k == "correlation" and mod.CORRELATION):
            continue
        v = getattr(price, k)
        if v is None:
            continue
        if k in ("file", "returns_file") and isinstance(v, dict):
            if unknown_assets == "drop":
                v = {assets.index(n): f for n, f in v.items() if n in assets}
            else:
                v = {assets.index(n): f for n, f in v.items()}
        spec[k] = v
    return spec


def price_notes(spec: Mapping, p0, dt_seconds: float, base_dir=None) -> list[str]:
    """Notes for a run's report on how its price paths were made (empty for the models that need
    none): the model's ``notes`` (``prices/<kind>/paths.py``), e.g. fitted GARCH parameters, the
    files and sampling interval behind a bootstrap, and the time scaling used. Raises
    :class:`InputError` like :func:`generate_paths`."""
    if not isinstance(spec, Mapping):
        return []
    kind = spec.get("kind")
    p0_array(p0)
    if kind not in KINDS:
        return []
    notes = getattr(model(kind), "notes", None)
    return notes(spec, p0, dt_seconds, base_dir) if notes is not None else []


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

    ``spec["kind"]`` selects the model, a folder ``prices/<kind>/`` registered in
    :data:`liqcascade.prices.KINDS`, whose ``paths.py`` declares the keys it reads (``KEYS``)
    and makes the paths (``generate``). Keys per kind (per-asset values may be a float or a list
    with one number per asset):

    * ``crash``: ``shock`` (fraction, per-asset), ``start_seconds`` (default: the first step),
      ``over_seconds`` (default: one step), ``recovery`` (0.0), ``recovery_seconds`` (0) --
      converted to whole steps of ``dt_seconds`` (:func:`liqcascade.timebase.whole_steps`); see
      :func:`~liqcascade.prices.crash.paths.crash_path`.
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
      :func:`returns_on_grid`; assets without a file stay flat), ``block_seconds`` (block
      length; default one day, ``round(86400 / dt_seconds)`` steps) -- see :func:`bootstrap_step_returns`. ``correlation`` is
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
    mod = model(kind)
    unknown = set(spec) - mod.KEYS - _COMMON_KEYS
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

    req = PathRequest(spec=spec, p0=p0, steps=steps, n_paths=n_paths, dt_seconds=dt_seconds, dt_years=dt_years,
                      seeds=seeds, chol=chol, base_dir=base_dir)
    out = mod.generate(req)

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
        raise input_error("price", "the price model produced NaN prices (parameters out of range)")
    lo = p0 * PATH_REL_MIN
    hi = p0 * PATH_REL_MAX
    n = int(np.count_nonzero((paths < lo) | (paths > hi)))
    if n:
        np.clip(paths, lo, hi, out=paths)
    return n


def path_bound_notes(paths: np.ndarray, p0, assets) -> list[str]:
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
