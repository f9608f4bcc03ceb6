"""Synthetic position books calibrated on real Compound v2 borrowers.

A synthetic book is ``n`` simple positions (one collateral asset, one debt asset). Each position
gets a debt size and a collateralisation ratio ``c = collateral value / debt value``, drawn
independently:

* debt value in ETH ~ lognormal(``DEBT_LOG_MU_ETH``, ``DEBT_LOG_SIGMA``) truncated to
  [``DEBT_MIN_ETH``, ``DEBT_MAX_ETH``], converted to USD at ``ETH_USD``;
* ``log(c - 1)`` ~ Gaussian mixture (``RATIO_W``, ``RATIO_MU``, ``RATIO_SD``), so ``c > 1``,
  further conditioned on ``c > min_hf`` so that no position starts liquidatable.

The file's collateral column turned out to be weighted by collateral factor (for accounts with
a single cToken, collateral value / cToken balance is the same number to 1e-9: 0.825 × the cETH
exchange rate; see docs/calibration.md), so ``c`` is Compound's own health factor. A synthetic
position therefore gets ``HF = c`` under the scenario's liquidation threshold ``lt``: its raw
collateral value is ``c · debt value / lt``.

Origin of the constants (fitted by ``scripts/calibrate_synth.py`` on 2026-11-23; re-run it to
reproduce):
    file     ../shared/data/compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv
             (8,851 Compound v2 borrowers, snapshot ~May 2023, rtuchman/compound-risk-optimization
             @ f7b808a, Apache-2.0; the data is NOT in this repository)
    columns  totalBorrowValueInEth, totalCollateralValueInEth (c = collateral / borrow, equal to
             the file's ratio_coll_over_borrow column to 1e-9). The collateral column is CF-weighted (checked
             in docs/calibration.md), so c is the account's health factor.
    filter   debt >= 0.1 ETH (drops 6,865 dust accounts) and c > 1 (drops 188 more whose
             recorded collateral does not cover the debt, mostly zero collateral): 1,798 kept.
    fits     debt: truncated-lognormal maximum likelihood on [0.1 ETH, largest kept debt];
             ratio: 3-component EM on log(c - 1) (BIC 5775 vs 5807 for 2 components).
    check    data p10/p50/p90 of c: 1.158 / 1.820 / 3.949; mixture: 1.162 / 1.812 / 4.187.
             data p10/p50/p90 of debt (ETH): 0.148 / 1.70 / 93.8; model: 0.163 / 1.51 / 93.1.
             Spearman(debt, c) = 0.09 in the data; the sampler ignores this weak dependence.
    ETH/USD  ETH_USD = 1,800 is a round ETH price for the ~May 2023 snapshot (ETH traded about
             1,750-1,950 USD then; the hourly ETH series in the same folder, 2023-02-24 ..
             2023-03-27, averages 1,646.5 and ends at 1,762.2). It only scales sizes.

Randomness: ``np.random.SeedSequence(seed)`` is the root; positions are made in blocks of
``BLOCK`` with block ``k`` drawn from the child ``SeedSequence(seed, spawn_key=(k,))`` (what
``SeedSequence(seed).spawn`` gives), so a book is a pure function of the seed and the other
arguments, and the first ``m`` positions of a book of size ``n >= m`` are the book of size
``m``. :func:`iter_synth_book` yields the same positions in chunks.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

__all__ = [
    "ETH_USD",
    "DEBT_MIN_ETH",
    "DEBT_MAX_ETH",
    "DEBT_LOG_MU_ETH",
    "DEBT_LOG_SIGMA",
    "C_FLOOR",
    "RATIO_W",
    "RATIO_MU",
    "RATIO_SD",
    "BLOCK",
    "synth_book",
    "iter_synth_book",
    "ratio_cdf",
    "ratio_quantile",
    "debt_quantile_usd",
]

# --- fitted constants (see the module docstring for their origin) ------------------------------
ETH_USD = 1800.0  # USD per ETH used to convert debt sizes (stated assumption, not fitted)
DEBT_MIN_ETH = 0.1  # truncation (dust filter of the fit)
DEBT_MAX_ETH = 40547.36  # truncation (largest kept debt in the data)
DEBT_LOG_MU_ETH = -3.2678  # mean of ln(debt in ETH) before truncation
DEBT_LOG_SIGMA = 4.5308  # sd of ln(debt in ETH) before truncation
C_FLOOR = 1.0  # the ratio model covers c > C_FLOOR (it models log(c - C_FLOOR))
RATIO_W = (0.0687, 0.7981, 0.1332)  # mixture weights for log(c - 1)
RATIO_MU = (-0.6382, -0.3067, -0.0660)  # component means
RATIO_SD = (2.5029, 1.1689, 0.2273)  # component standard deviations

BLOCK = 16384  # positions per seeded block (fixed: changing it changes every book)

_SQRT2 = math.sqrt(2.0)


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _mix_cdf_y(y: float) -> float:
    """CDF of the mixture at y = log(c - 1)."""
    if y == -math.inf:
        return 0.0
    w = np.asarray(RATIO_W) / sum(RATIO_W)
    return float(sum(wk * _norm_cdf((y - m) / s) for wk, m, s in zip(w, RATIO_MU, RATIO_SD)))


def ratio_cdf(c, floor: float = C_FLOOR) -> np.ndarray:
    """CDF of the collateralisation ratio ``c`` under the model, conditioned on ``c > floor``."""
    c = np.atleast_1d(np.asarray(c, dtype=np.float64))
    f0 = _mix_cdf_y(_y_of(floor))
    out = np.empty(c.shape)
    for i, ci in enumerate(c.flat):
        out.flat[i] = 0.0 if ci <= floor else (_mix_cdf_y(_y_of(ci)) - f0) / (1.0 - f0)
    return out


def ratio_quantile(q, floor: float = C_FLOOR) -> np.ndarray:
    """Quantiles of ``c`` under the model, conditioned on ``c > floor`` (bisection on y)."""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    f0 = _mix_cdf_y(_y_of(floor))
    lo0 = max(_y_of(floor), min(RATIO_MU) - 40 * max(RATIO_SD))
    hi0 = max(RATIO_MU) + 40 * max(RATIO_SD)
    out = np.empty(q.shape)
    for i, qi in enumerate(q.flat):
        target = f0 + qi * (1.0 - f0)
        lo, hi = lo0, hi0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _mix_cdf_y(mid) < target:
                lo = mid
            else:
                hi = mid
        out.flat[i] = C_FLOOR + math.exp(0.5 * (lo + hi))
    return out


def debt_quantile_usd(q) -> np.ndarray:
    """Quantiles of the debt value in USD under the truncated lognormal."""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    a, b = math.log(DEBT_MIN_ETH), math.log(DEBT_MAX_ETH)
    fa = _norm_cdf((a - DEBT_LOG_MU_ETH) / DEBT_LOG_SIGMA)
    fb = _norm_cdf((b - DEBT_LOG_MU_ETH) / DEBT_LOG_SIGMA)
    out = np.empty(q.shape)
    for i, qi in enumerate(q.flat):
        target = fa + qi * (fb - fa)
        lo, hi = a, b
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if _norm_cdf((mid - DEBT_LOG_MU_ETH) / DEBT_LOG_SIGMA) < target:
                lo = mid
            else:
                hi = mid
        out.flat[i] = math.exp(0.5 * (lo + hi)) * ETH_USD
    return out


def _y_of(c: float) -> float:
    return math.log(c - C_FLOOR) if c > C_FLOOR else -math.inf


# --- sampling ------------------------------------------------------------------------------------


def _check(n, price, lt, debt_price, min_hf) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    for name, v in (("price", price), ("debt_price", debt_price)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    if not (0.0 < lt <= 1.0):
        raise ValueError(f"lt must be in (0, 1], got {lt!r}")
    if not (math.isfinite(min_hf) and min_hf >= 0.0):
        raise ValueError(f"min_hf must be finite and >= 0, got {min_hf!r}")
    return int(n)


class _Sampler:
    """Per-book constants; ``block(k)`` draws the k-th block of ``BLOCK`` positions."""

    def __init__(self, seed, price, lt, debt_price, min_hf):
        self.ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.coll_scale = ETH_USD / (price * lt)  # collateral units per (HF · debt ETH)
        self.debt_scale = ETH_USD / debt_price  # debt units per debt ETH
        self.c_min = max(C_FLOOR, min_hf)
        p_c = 1.0 - _mix_cdf_y(_y_of(self.c_min))
        if p_c < 1e-9:
            raise ValueError(f"min_hf = {min_hf:.4g} leaves no mass in the ratio model")
        self.p_c = p_c
        self.cw = np.cumsum(np.asarray(RATIO_W) / sum(RATIO_W))
        self.cw[-1] = 1.0
        self.mu = np.asarray(RATIO_MU, dtype=np.float64)
        self.sd = np.asarray(RATIO_SD, dtype=np.float64)
        self.la, self.lb = math.log(DEBT_MIN_ETH), math.log(DEBT_MAX_ETH)
        self.p_d = _norm_cdf((self.lb - DEBT_LOG_MU_ETH) / DEBT_LOG_SIGMA) - _norm_cdf(
            (self.la - DEBT_LOG_MU_ETH) / DEBT_LOG_SIGMA
        )

    def block(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        ss = np.random.SeedSequence(self.ss.entropy, spawn_key=self.ss.spawn_key + (k,),
                                    pool_size=self.ss.pool_size)
        rng = np.random.default_rng(ss)
        # debt (ln ETH), truncated to [la, lb] by rejection
        parts, got = [], 0
        while got < BLOCK:
            m = int((BLOCK - got) / self.p_d * 1.05) + 64
            y = DEBT_LOG_MU_ETH + DEBT_LOG_SIGMA * rng.standard_normal(m)
            y = y[(y >= self.la) & (y <= self.lb)]
            parts.append(y)
            got += y.size
        debt_eth = np.exp(np.concatenate(parts)[:BLOCK])
        # ratio c = 1 + exp(y), y from the mixture, conditioned on c > c_min by rejection
        parts, got = [], 0
        while got < BLOCK:
            m = int((BLOCK - got) / self.p_c * 1.05) + 64
            comp = np.searchsorted(self.cw, rng.random(m), side="right")
            c = C_FLOOR + np.exp(self.mu[comp] + self.sd[comp] * rng.standard_normal(m))
            c = c[c > self.c_min]
            parts.append(c)
            got += c.size
        c = np.concatenate(parts)[:BLOCK]
        return c * debt_eth * self.coll_scale, debt_eth * self.debt_scale


def iter_synth_book(
    n: int,
    seed,
    price: float,
    lt: float,
    debt_price: float = 1.0,
    *,
    min_hf: float = 1.0,
    chunk: int = 1 << 20,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the book of :func:`synth_book` as ``(collateral_units, debt_units)`` chunks.

    Every chunk has ``chunk`` positions except the last; concatenated they equal
    ``synth_book(n, seed, ...)`` exactly, whatever ``chunk`` is.
    """
    n = _check(n, price, lt, debt_price, min_hf)
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    chunk = int(chunk)
    s = _Sampler(seed, float(price), float(lt), float(debt_price), float(min_hf))
    buf_c: list[np.ndarray] = []
    buf_d: list[np.ndarray] = []
    have = 0
    done = 0
    k = 0
    while done < n:
        want = min(chunk, n - done)
        while have < want:
            c, d = s.block(k)
            k += 1
            buf_c.append(c)
            buf_d.append(d)
            have += BLOCK
        allc = buf_c[0] if len(buf_c) == 1 else np.concatenate(buf_c)
        alld = buf_d[0] if len(buf_d) == 1 else np.concatenate(buf_d)
        yield allc[:want].copy(), alld[:want].copy()
        buf_c, buf_d = [allc[want:]], [alld[want:]]
        have -= want
        done += want


def synth_book(
    n: int,
    seed,
    price: float,
    lt: float,
    debt_price: float = 1.0,
    *,
    min_hf: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a synthetic book of ``n`` simple positions.

    Parameters
    ----------
    n : number of positions.
    seed : int (or a ``numpy.random.SeedSequence``); the book is a pure function of it.
    price : USD price of the collateral asset (used to turn collateral value into units).
    lt : liquidation threshold in (0, 1]; the drawn ratio is the health factor under it.
    debt_price : USD price of the debt asset (1 for a stablecoin).
    min_hf : every position has ``HF > min_hf`` (up to rounding): ``HF`` is drawn from the
        fitted mixture conditioned on ``HF > max(1, min_hf)``. 0 keeps the bare fit.

    Returns
    -------
    (collateral_units, debt_units) : float64 arrays of shape (n,), asset units.
    """
    n = _check(n, price, lt, debt_price, min_hf)
    coll = np.empty(n)
    debt = np.empty(n)
    i = 0
    # in chunks: the book's 16 B per position plus one chunk's draws are all that is alive
    for c, d in iter_synth_book(n, seed, price, lt, debt_price, min_hf=min_hf, chunk=BLOCK * 16):
        coll[i:i + c.size] = c
        debt[i:i + d.size] = d
        i += c.size
    return coll, debt
