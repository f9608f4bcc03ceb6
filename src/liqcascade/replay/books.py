"""Position books for the replays, shaped by real borrower samples and scaled to published
pre-crash aggregates (never to the outcomes).

Shape (what the real samples give):

* :func:`compound_sample` — the Compound v2 borrower snapshot in the data folder
  (``compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv``, ~May 2023): per account
  the health factor ``c = CF-weighted collateral / debt`` and the debt in ETH, with the filter of
  :mod:`liqcascade.positions.synth` (debt ≥ 0.1 ETH, ``c > 1``): 1,798 borrowers;
* :func:`aave_tail` — the Aave v2 user histories (``aave_v2_borrowers_2021/aave_user_details_v2/``,
  10 borrowers of 2021 followed until their liquidation): every recorded health factor in
  (1, 2) — the shape of the at-risk tail just above the threshold.

A book draws ``n`` health factors by resampling: with probability ``tail_weight`` from the
Aave tail, otherwise from the Compound sample; debts are resampled from the Compound sample
(independently of the health factor: Spearman 0.09 in the data). Then

* the **tilt** ``HF' = 1 + s·(HF − 1)`` moves the whole distribution toward or away from the
  threshold while keeping its shape; :func:`tilt_to_ratio` solves ``s`` in closed form so the
  debt-weighted mean of ``HF'`` hits a target (a published collateral total over a published debt
  total), which is how a book is made *consistent with* an aggregate;
* the debts are scaled to the published total.

The samples are real data but not of the replayed protocols or dates; the replay modules state
the tilt or target they use as a prior or an aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

COMPOUND_ACCOUNTS = "compound_v2_borrowers_2023/compound_v2_accounts_with_borrows.csv"
AAVE_DETAILS = "aave_v2_borrowers_2021/aave_user_details_v2"
DEBT_MIN_ETH = 0.1  # the synth fit's dust filter


@dataclass(frozen=True)
class Sample:
    hf: np.ndarray  # health factors of the sample
    debt: np.ndarray  # debt sizes (relative; ETH for the Compound sample)
    source: str


def compound_sample(data_dir: Path) -> Sample:
    from ..data.compound import load_compound_v2

    path = Path(data_dir) / COMPOUND_ACCOUNTS
    snap = load_compound_v2(accounts=path)
    d, c = np.asarray(snap.total_borrow_eth, float), np.asarray(snap.total_collateral_eth, float)
    ok = np.isfinite(d) & np.isfinite(c) & (d >= DEBT_MIN_ETH)
    hf = np.where(ok, c / np.where(d > 0, d, 1.0), np.nan)
    keep = ok & (hf > 1.0)
    if keep.sum() < 100:
        raise InputError(str(path), None, f"only {int(keep.sum())} borrowers with debt >= {DEBT_MIN_ETH} ETH "
                                          "and health factor > 1 (expected ~1,800)")
    return Sample(hf[keep], d[keep], f"{COMPOUND_ACCOUNTS} ({int(keep.sum()):,} borrowers, debt >= 0.1 ETH, HF > 1)")


def aave_tail(data_dir: Path, hi: float = 2.0) -> Sample:
    from ..data.aave import load_aave_details_dir

    path = Path(data_dir) / AAVE_DETAILS
    hists = load_aave_details_dir(path)
    vals = []
    for h in hists:
        x = np.asarray(h.health_factor, float)
        x = x[np.isfinite(x) & (x > 1.0) & (x < hi)]
        vals.append(x)
    hf = np.concatenate(vals) if vals else np.zeros(0)
    if hf.size < 10:
        raise InputError(str(path), "healthFactor", f"only {hf.size} records with 1 < HF < {hi:g}")
    return Sample(hf, np.ones(hf.size), f"{AAVE_DETAILS} ({len(hists)} borrowers, {hf.size} records with 1 < HF < {hi:g})")


def draw_book(rng, n: int, shape: Sample, tail: Sample | None, tail_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """``(hf, debt)`` of ``n`` positions resampled from the samples (module docstring)."""
    hf = shape.hf[rng.integers(0, shape.hf.size, n)]
    if tail is not None and tail_weight > 0:
        from_tail = rng.random(n) < tail_weight
        k = int(from_tail.sum())
        if k:
            hf = hf.copy()
            hf[from_tail] = tail.hf[rng.integers(0, tail.hf.size, k)]
    debt = shape.debt[rng.integers(0, shape.debt.size, n)].astype(float)
    return hf, debt


def tilt(hf: np.ndarray, s: float) -> np.ndarray:
    return 1.0 + s * (np.asarray(hf, float) - 1.0)


def tilt_to_ratio(hf: np.ndarray, weights: np.ndarray, target: float) -> float:
    """``s`` with ``Σ w·(1 + s·(hf − 1)) / Σ w = target`` (``target > 1``)."""
    w = np.asarray(weights, float)
    m = float(np.sum(w * (np.asarray(hf, float) - 1.0)) / np.sum(w))
    if m <= 0 or target <= 1:
        raise ValueError("tilt_to_ratio needs a mean health factor > 1 and a target > 1")
    return (target - 1.0) / m


def scale_to(x: np.ndarray, total: float) -> np.ndarray:
    x = np.asarray(x, float)
    return x * (total / float(np.sum(x)))
