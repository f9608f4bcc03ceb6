"""Evaluation: splits that keep paths and books apart, AUC and Brier with bootstrap CIs,
reliability, alarm threshold, lead times and false alarms.

**Splits** (:func:`sim_splits`): every sample carries its scenario (one book, one venue, one
seed) and its path; a split assigns whole scenarios to one side, so no path and no book is in
both training and test:

* ``scenario`` — 30 % of the scenarios of every family, drawn with the evaluation seed, are the
  test set;
* ``venue`` — train on the constant-product-pool families, test on the order-book families (a
  venue kind never seen in training);
* ``book shape`` — train on the ``synth`` and ``uniform`` books, test on the ``clustered`` ones
  (a book shape never seen in training).

**Metrics** on the test side: ROC AUC (the probability that a positive sample scores above a
negative one, ties counted half) of the model's *uncalibrated* score — isotonic calibration is
monotone but piecewise constant, and the ties it creates would understate how well the model
ranks — and the Brier score ``mean (p − y)²`` of the calibrated probability, each with a 95 % percentile bootstrap interval that resamples *paths* (samples of
one path are correlated; resampling them one by one would give intervals that are too narrow);
the base rate and the Brier score of always predicting it, for reference; a reliability table
(equal-count bins of the predicted probability: mean prediction against observed frequency).

**Alarm.** The threshold is set on the *training* side only: the smallest calibrated probability
at which at most 5 % of the training negatives alarm (out-of-fold predictions). On the test side
we report the false-alarm rate at that threshold (share of negative samples that alarm), the hit
rate (share of positive samples that alarm), the share of cascade-free paths with at least one
alarm, and the **lead time** of every cascade: onset (:mod:`liqcascade.predict.labels`) minus
the first alarm within the ``2 H`` before it (a cascade with no alarm in that window is missed).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["auc", "brier", "bootstrap_ci", "reliability", "alarm_threshold", "lead_times", "sim_splits",
           "score_block", "FAR_TARGET", "N_BOOT"]

FAR_TARGET = 0.05
N_BOOT = 200


def auc(y, p) -> float:
    """ROC AUC by ranks (Mann–Whitney), ties as half: ``NaN`` without both classes."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n1 = float((y == 1).sum())
    n0 = float((y == 0).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    ranks = np.empty(p.size)
    # average ranks over ties
    _, first, counts = np.unique(ps, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def brier(y, p) -> float:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return float(np.mean((p - y) ** 2)) if y.size else math.nan


def bootstrap_ci(y, p, clusters, n_boot: int = N_BOOT, seed: int = 0, raw=None) -> dict:
    """95 % percentile intervals of AUC (of ``raw``, default ``p``) and Brier (of ``p``),
    resampling whole clusters (paths, days)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    r = p if raw is None else np.asarray(raw, dtype=np.float64)
    cl = np.asarray(clusters)
    u, inv = np.unique(cl, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=u.size))])
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
    a, b = [], []
    for _ in range(int(n_boot)):
        pick = rng.integers(0, u.size, u.size)
        idx = np.concatenate([order[ptr[i]:ptr[i + 1]] for i in pick]) if u.size else np.zeros(0, np.int64)
        a.append(auc(y[idx], r[idx]))
        b.append(brier(y[idx], p[idx]))
    a = np.array(a)
    a = a[np.isfinite(a)]
    q = lambda x: [float(v) for v in np.quantile(x, [0.025, 0.975])] if x.size else [math.nan, math.nan]  # noqa: E731
    return {"auc_ci": q(a), "brier_ci": q(np.array(b))}


def reliability(y, p, bins: int = 10) -> list[dict]:
    """Equal-count bins of ``p``: ``{p_lo, p_hi, mean_p, freq, n}`` each."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.size == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    out = []
    for chunk in np.array_split(order, min(bins, y.size)):
        if chunk.size == 0:
            continue
        out.append({"p_lo": float(p[chunk].min()), "p_hi": float(p[chunk].max()), "mean_p": float(p[chunk].mean()),
                    "freq": float(y[chunk].mean()), "n": int(chunk.size)})
    return out


def alarm_threshold(p_neg, far: float = FAR_TARGET) -> float:
    """The smallest threshold ``t`` among the predicted values such that the share of
    ``p_neg ≥ t`` is at most ``far`` (``inf`` when even the top value alarms too often)."""
    p = np.sort(np.asarray(p_neg, dtype=np.float64))
    if p.size == 0:
        return math.inf
    cand = np.unique(p)
    # share of negatives at or above each candidate
    ge = 1.0 - np.searchsorted(p, cand, side="left") / p.size
    ok = np.flatnonzero(ge <= far + 1e-12)
    if ok.size == 0:
        return math.inf
    return float(cand[ok[0]])


def lead_times(path, step, p, onset: dict, threshold: float, lookback_steps: int, dt_seconds: float) -> dict:
    """Lead times (seconds) of the cascades whose path is in ``path``; see the module docstring."""
    path = np.asarray(path)
    step = np.asarray(step)
    p = np.asarray(p)
    leads, missed = [], 0
    alarm_free, clean = 0, 0
    for g in np.unique(path):
        m = path == g
        o = onset.get(int(g), -1)
        st, pp = step[m], p[m]
        if o is None or o < 0:
            clean += 1
            if not (pp >= threshold).any():
                alarm_free += 1
            continue
        w = (st < o) & (st >= o - lookback_steps) & (pp >= threshold)
        if w.any():
            leads.append(float((o - st[w].min()) * dt_seconds))
        else:
            missed += 1
    lt = np.array(leads)
    return {
        "cascades": int(lt.size + missed), "detected": int(lt.size), "missed": int(missed),
        "lead_s": [float(x) for x in lt],
        "lead_median_s": float(np.median(lt)) if lt.size else math.nan,
        "lead_q25_s": float(np.quantile(lt, 0.25)) if lt.size else math.nan,
        "lead_q75_s": float(np.quantile(lt, 0.75)) if lt.size else math.nan,
        "clean_paths": int(clean),
        "clean_paths_with_alarm": int(clean - alarm_free),
    }


def score_block(y_test, p_test, clusters, threshold: float, *, raw=None, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """AUC (of the uncalibrated score ``raw``), Brier (of the calibrated ``p_test``), both with
    CIs, base rate, reliability and alarm rates of one model on a test set."""
    y = np.asarray(y_test, dtype=np.float64)
    p = np.asarray(p_test, dtype=np.float64)
    r = p if raw is None else np.asarray(raw, dtype=np.float64)
    base = float(y.mean()) if y.size else math.nan
    out = {"n": int(y.size), "positives": int((y == 1).sum()), "base_rate": base,
           "auc": auc(y, r), "brier": brier(y, p), "brier_base_rate": brier(y, np.full(y.shape, base)),
           "threshold": threshold,
           "false_alarm_rate": float((p[y == 0] >= threshold).mean()) if (y == 0).any() else math.nan,
           "hit_rate": float((p[y == 1] >= threshold).mean()) if (y == 1).any() else math.nan,
           "reliability": reliability(y, p)}
    out.update(bootstrap_ci(y, p, clusters, n_boot, seed, raw=r) if n_boot else {"auc_ci": [math.nan] * 2,
                                                                           "brier_ci": [math.nan] * 2})
    return out


def sim_splits(ds, seed: int = 0, test_share: float = 0.3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (train_mask, test_mask)}`` for the simulation dataset (module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 3]))
    test_sc = set()
    for fam in sorted(set(ds.family.tolist())):
        sc = np.unique(ds.scenario[ds.family == fam])
        k = max(1, int(round(test_share * sc.size))) if sc.size > 1 else 0
        test_sc |= set(rng.choice(sc, size=k, replace=False).tolist()) if k else set()
    te = np.isin(ds.scenario, list(test_sc))
    out = {"scenario": (~te, te)}
    venue_test = ds.venue == "book"
    if venue_test.any() and (~venue_test).any():
        out["venue"] = (~venue_test, venue_test)
    shape_test = ds.book_shape == "clustered"
    if shape_test.any() and (~shape_test).any():
        out["book shape"] = (~shape_test, shape_test)
    return out


# --------------------------------------------------------------------------------------------
# the simulation experiment


def sim_models() -> dict[str, tuple[str, list[str]]]:
    """The models compared on simulation: name → (kind, features)."""
    from .features import MARKET
    from .simulate import SIM_FEATURES

    return {
        "logistic": ("logistic", list(SIM_FEATURES)),
        "gradient boosting": ("hgb", list(SIM_FEATURES)),
        "logistic, market only": ("logistic", list(MARKET)),
        "volatility only": ("logistic", ["rv_short"]),
        "cluster distance only": ("logistic", ["cluster_dist"]),
    }


def finite_or_none(x):
    """``x`` as a float, or ``None`` when it is not finite (no threshold reaches the target)."""
    return float(x) if x is not None and math.isfinite(x) else None


def threshold_of(model, y_train) -> float:
    """The alarm threshold from the model's out-of-fold training predictions."""
    from .models import _apply_iso

    p = _apply_iso(model.iso_x, model.iso_y, model.oof_raw)
    return alarm_threshold(p[np.asarray(y_train) == 0])


def evaluate_simulation(ds, *, seed: int = 0, n_boot: int = N_BOOT, models=None, progress=None) -> dict:
    """Every split × every model: the metrics of :func:`score_block` and lead times."""
    from .models import fit_model

    specs = models or sim_models()
    dt = float(ds.meta.get("dt_seconds", 60.0))
    H = int(round(ds.meta["label"]["horizon_s"] / dt))
    out = {"splits": {}, "models": {k: {"kind": v[0], "features": v[1]} for k, v in specs.items()}}
    for sname, (tr, te) in sim_splits(ds, seed).items():
        dtr, dte = ds.subset(tr), ds.subset(te)
        if len(np.unique(dtr.y)) < 2 or len(dte) == 0:
            out["splits"][sname] = {"skipped": "the training side has only one class" if len(dte) else "empty test side"}
            continue
        rows = {}
        for mname, (kind, feats) in specs.items():
            m = fit_model(kind, dtr.columns(feats), dtr.y, feats, dtr.scenario, seed=seed)
            thr = threshold_of(m, dtr.y)
            Xte = dte.columns(feats)
            p = m.predict_proba(Xte)
            r = score_block(dte.y, p, dte.path, thr, raw=m.raw(Xte), n_boot=n_boot, seed=seed)
            r["lead"] = lead_times(dte.path, dte.step, p, dte.onset, thr, 2 * H, dt)
            rows[mname] = r
            if progress:
                progress(1)
        out["splits"][sname] = {
            "train": {"n": len(dtr), "scenarios": int(np.unique(dtr.scenario).size), "paths": int(np.unique(dtr.path).size),
                      "positives": int((dtr.y == 1).sum()), "families": sorted(set(dtr.family.tolist()))},
            "test": {"n": len(dte), "scenarios": int(np.unique(dte.scenario).size), "paths": int(np.unique(dte.path).size),
                     "positives": int((dte.y == 1).sum()), "families": sorted(set(dte.family.tolist()))},
            "models": rows,
        }
    return out
