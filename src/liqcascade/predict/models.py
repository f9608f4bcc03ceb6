"""Early-warning models: logistic regression and histogram gradient boosting, isotonic calibration.

Both models follow the same recipe:

1. **inputs** — the features in a fixed order; a linear model sees heavy-tailed features through
   ``log10(1 + x)`` (:func:`liqcascade.predict.features.transform`), missing values replaced by
   the training median, then standardized; gradient boosting takes the features as they are,
   missing values included (it learns where to send them);
2. **fit** — scikit-learn's ``LogisticRegression`` (L2, ``C`` = 1) or
   ``HistGradientBoostingClassifier`` (150 trees of at most 15 leaves, at least 40 samples per
   leaf, learning rate 0.05, L2 1.0, no early stopping so the fit is deterministic);
3. **isotonic calibration** — an ``IsotonicRegression`` from the model's raw probability to the
   observed frequency, fitted on *out-of-fold* raw probabilities of the training set (3 folds
   grouped by scenario, so a fold never scores samples of a path it was trained on); the final
   model is then refitted on the whole training set. The calibrated probability is what the
   alarm threshold, the Brier score and the reliability plot use.

**Persistence.** A logistic model is plain JSON (coefficients, standardization, medians and the
isotonic map as two arrays) and is applied with NumPy only — no scikit-learn needed to score.
A gradient-boosting model is saved with skops (scikit-learn's safe persistence format); loading
trusts exactly the skops types this module writes and refuses any file that needs more. Pickle
and joblib files are never loaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .features import FEATURES, transform

__all__ = ["LogisticModel", "HGBModel", "fit_logistic", "fit_hgb", "fit_model", "load_model", "SCHEMA_VERSION",
           "SKOPS_TRUSTED"]

SCHEMA_VERSION = 1
SKOPS_TRUSTED = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
N_FOLDS = 3


def _transformed(X: np.ndarray, features: list[str]) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    out = np.empty_like(X)
    for j, n in enumerate(features):
        out[:, j] = transform(n, X[:, j])
    return out


def single_thread():
    """Fits and predictions run on one thread: scikit-learn's OpenMP threads spin-wait, and on a
    machine whose cores are busy with other work a 2-thread gradient-boosting fit was measured 20×
    slower than a 1-thread one."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _median(Z: np.ndarray) -> np.ndarray:
    """Column medians over finite values; 0 for a column without any."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.nanmedian(np.where(np.isfinite(Z), Z, np.nan), axis=0) if Z.shape[0] else np.zeros(Z.shape[1])
    return np.where(np.isfinite(m), m, 0.0)


def _folds(groups: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Fold index arrays with whole groups per fold (groups shuffled with ``seed``); at most one
    fold per group. With a single group there are no folds: calibration is then in-sample."""
    u = np.unique(groups)
    k = min(k, u.size)
    if k < 2:
        return []
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    rng.shuffle(u)
    fold_of = {g: i % k for i, g in enumerate(u)}
    f = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(f == i) for i in range(k)]


def _isotonic(raw: np.ndarray, y: np.ndarray):
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(raw, y)
    return iso


def _iso_points(iso) -> tuple[list[float], list[float]]:
    return [float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_]


def _apply_iso(x, y, raw):
    raw = np.asarray(raw, dtype=np.float64)
    if len(x) == 0:
        return raw
    if len(x) == 1:
        return np.full(raw.shape, y[0])
    return np.interp(raw, x, y)


# --------------------------------------------------------------------------------------------
# logistic regression


@dataclass
class LogisticModel:
    features: list[str]
    median: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    iso_x: list[float]
    iso_y: list[float]
    meta: dict = field(default_factory=dict)
    kind: str = "logistic"
    oof_raw: np.ndarray | None = field(default=None, repr=False)  # training out-of-fold raw scores (not saved)

    def _z(self, X) -> np.ndarray:
        Z = _transformed(X, self.features)
        Z = np.where(np.isnan(Z), self.median[None, :], Z)
        return (Z - self.mean[None, :]) / self.scale[None, :]

    def raw(self, X) -> np.ndarray:
        """The uncalibrated probability ``σ(b + w·z)``."""
        s = self._z(X) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(s, -700, 700)))

    def predict_proba(self, X) -> np.ndarray:
        return _apply_iso(self.iso_x, self.iso_y, self.raw(X))

    def contributions(self, x) -> dict[str, float]:
        """Per feature ``w_j · z_j`` (log-odds) of one sample."""
        z = self._z(np.asarray(x, dtype=np.float64).reshape(1, -1))[0]
        return {n: float(w * v) for n, w, v in zip(self.features, self.coef, z)}

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "kind": self.kind, "features": self.features,
                "median": self.median.tolist(), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept,
                "isotonic": {"x": self.iso_x, "y": self.iso_y}, "meta": self.meta}

    def save(self, path) -> Path:
        from ..atomic import write_text_atomic

        return write_text_atomic(Path(path), json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")

    @staticmethod
    def from_dict(d: dict, file: str | None = None) -> "LogisticModel":
        def bad(where, why):
            return InputError(file, where, why)

        if not isinstance(d, dict):
            raise bad(None, "expected a JSON object")
        if d.get("kind") != "logistic":
            raise bad("kind", f"expected 'logistic', got {d.get('kind')!r}")
        if d.get("schema_version") != SCHEMA_VERSION:
            raise bad("schema_version", f"expected {SCHEMA_VERSION}, got {d.get('schema_version')!r}")
        feats = d.get("features")
        if not isinstance(feats, list) or not feats or not all(isinstance(f, str) for f in feats):
            raise bad("features", "expected a non-empty list of feature names")
        unknown = [f for f in feats if f not in FEATURES]
        if unknown:
            raise bad("features", f"unknown feature(s) {', '.join(unknown)}")
        n = len(feats)

        def vec(key, positive=False):
            v = d.get(key)
            try:
                a = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise bad(key, "expected a list of numbers") from None
            if a.shape != (n,) or not np.all(np.isfinite(a)) or (positive and not np.all(a > 0)):
                raise bad(key, f"expected {n} finite numbers" + (" > 0" if positive else ""))
            return a

        iso = d.get("isotonic") or {}
        try:
            ix = [float(v) for v in iso.get("x", [])]
            iy = [float(v) for v in iso.get("y", [])]
        except (TypeError, ValueError, AttributeError):
            raise bad("isotonic", "expected {x: [...], y: [...]}") from None
        if len(ix) != len(iy) or any(b < a for a, b in zip(ix, ix[1:])) or not all(0 <= v <= 1 for v in iy):
            raise bad("isotonic", "x must be non-decreasing and as long as y; y in [0, 1]")
        b = d.get("intercept")
        if not isinstance(b, (int, float)) or not math.isfinite(b):
            raise bad("intercept", "expected a finite number")
        return LogisticModel(feats, vec("median"), vec("mean"), vec("scale", True), vec("coef"), float(b), ix, iy,
                             dict(d.get("meta") or {}))


def fit_logistic(X, y, features: list[str], groups, *, C: float = 1.0, seed: int = 0, meta: dict | None = None,
                 calibrate: bool = True) -> LogisticModel:
    with single_thread():
        return _fit_logistic(X, y, features, groups, C=C, seed=seed, meta=meta, calibrate=calibrate)


def _fit_logistic(X, y, features, groups, *, C, seed, meta, calibrate) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    Z = _transformed(X, features)
    Z = np.where(np.isfinite(Z), Z, np.nan)

    def prep(Zs, med_, mean_=None, sd_=None):
        Zi = np.where(np.isnan(Zs), med_[None, :], Zs)
        if mean_ is None:
            mean_ = Zi.mean(axis=0)
            sd_ = Zi.std(axis=0)
            sd_ = np.where(sd_ > 0, sd_, 1.0)
        return (Zi - mean_) / sd_, mean_, sd_

    def one(Zs, ys):
        m_ = _median(Zs)
        Zp, mu, sd = prep(Zs, m_)
        if len(np.unique(ys)) < 2:
            return None, m_, mu, sd
        clf = LogisticRegression(C=C, max_iter=2000)
        clf.fit(Zp, ys)
        return clf, m_, mu, sd

    ix, iy = [], []
    oof = None
    if calibrate:
        oof = np.full(y.shape, np.nan)
        for idx in _folds(np.asarray(groups), N_FOLDS, seed):
            tr = np.setdiff1d(np.arange(y.size), idx)
            clf, m_, mu, sd = one(Z[tr], y[tr])
            if clf is None:
                oof[idx] = y[tr].mean()
            else:
                oof[idx] = clf.predict_proba(prep(Z[idx], m_, mu, sd)[0])[:, 1]
    clf, med, mu, sd = one(Z, y)
    if clf is None:
        coef, b = np.zeros(len(features)), float(np.log(max(y.mean(), 1e-9) / max(1 - y.mean(), 1e-9)))
    else:
        coef, b = clf.coef_[0].astype(np.float64), float(clf.intercept_[0])
    if calibrate:
        if np.isnan(oof).any():  # a single group: no folds, calibrate in-sample
            s = prep(Z, med, mu, sd)[0] @ coef + b
            oof = 1.0 / (1.0 + np.exp(-np.clip(s, -700, 700)))
        ix, iy = _iso_points(_isotonic(oof, y))
    return LogisticModel(list(features), med, mu, sd, coef, b, ix, iy, dict(meta or {}), oof_raw=oof)


# --------------------------------------------------------------------------------------------
# histogram gradient boosting


HGB_PARAMS = {"max_iter": 150, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40,
              "l2_regularization": 1.0, "early_stopping": False}


@dataclass
class HGBModel:
    features: list[str]
    estimator: object
    iso_x: list[float]
    iso_y: list[float]
    median: np.ndarray
    meta: dict = field(default_factory=dict)
    kind: str = "hgb"
    oof_raw: np.ndarray | None = field(default=None, repr=False)

    def raw(self, X) -> np.ndarray:
        with single_thread():
            return self.estimator.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]

    def predict_proba(self, X) -> np.ndarray:
        return _apply_iso(self.iso_x, self.iso_y, self.raw(X))

    def contributions(self, x) -> dict[str, float]:
        """Occlusion: for each feature, the change of the raw log-odds when the feature is
        replaced by its training median (a local attribution, not additive)."""
        x = np.asarray(x, dtype=np.float64).reshape(1, -1)
        base = self.raw(x)[0]
        rows = np.repeat(x, len(self.features), axis=0)
        rows[np.arange(len(self.features)), np.arange(len(self.features))] = self.median
        alt = self.raw(rows)

        def lo(p):
            p = np.clip(p, 1e-9, 1 - 1e-9)
            return np.log(p / (1 - p))
        return {n: float(lo(base) - lo(a)) for n, a in zip(self.features, alt)}

    def save(self, path) -> Path:
        import skops.io as sio

        from ..atomic import atomic_path

        obj = {"schema_version": SCHEMA_VERSION, "kind": "hgb", "features": list(self.features),
               "estimator": self.estimator, "isotonic_x": list(self.iso_x), "isotonic_y": list(self.iso_y),
               "median": [float(v) for v in self.median], "meta": json.dumps(self.meta, allow_nan=False)}
        return atomic_path(Path(path), lambda tmp: sio.dump(obj, tmp))


def fit_hgb(X, y, features: list[str], groups, *, seed: int = 0, meta: dict | None = None,
            calibrate: bool = True) -> HGBModel:
    with single_thread():
        return _fit_hgb(X, y, features, groups, seed=seed, meta=meta, calibrate=calibrate)


def _fit_hgb(X, y, features, groups, *, seed, meta, calibrate) -> HGBModel:
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = np.asarray(X, dtype=np.float64).copy()
    y = np.asarray(y, dtype=np.float64)
    # a column without any value in training carries no information; scikit-learn's binning
    # fails on it, so it is held constant (never split on; missing values at prediction follow
    # the larger child)
    X[:, ~np.isfinite(X).any(axis=0)] = 0.0

    def one(Xs, ys):
        if len(np.unique(ys)) < 2:
            return None
        return HistGradientBoostingClassifier(random_state=seed, **HGB_PARAMS).fit(Xs, ys)

    ix, iy = [], []
    oof = None
    if calibrate:
        oof = np.full(y.shape, np.nan)
        for idx in _folds(np.asarray(groups), N_FOLDS, seed):
            tr = np.setdiff1d(np.arange(y.size), idx)
            est = one(X[tr], y[tr])
            oof[idx] = y[tr].mean() if est is None else est.predict_proba(X[idx])[:, 1]
    est = one(X, y)
    if est is None:
        raise InputError(None, "training data", "the training labels are all equal: nothing to learn")
    if calibrate:
        if np.isnan(oof).any():  # a single group: no folds, calibrate in-sample
            oof = est.predict_proba(X)[:, 1]
        ix, iy = _iso_points(_isotonic(oof, y))
    med = _median(X)
    return HGBModel(list(features), est, ix, iy, med, dict(meta or {}), oof_raw=oof)


def fit_model(kind: str, X, y, features, groups, *, seed: int = 0, meta: dict | None = None):
    if kind not in ("logistic", "hgb"):
        raise InputError(None, "--model", f"unknown model {kind!r}; use logistic or hgb")
    if kind == "logistic":
        return fit_logistic(X, y, features, groups, seed=seed, meta=meta)
    return fit_hgb(X, y, features, groups, seed=seed, meta=meta)


# --------------------------------------------------------------------------------------------
# loading


def load_model(path):
    """A model file: ``.json`` (logistic) or ``.skops`` (gradient boosting). Anything else —
    pickle, joblib — is refused: those formats run code when loaded."""
    p = Path(path)
    if not p.is_file():
        raise InputError(str(p), None, "model file not found")
    suf = p.suffix.lower()
    if suf == ".json":
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(str(p), None, f"not valid JSON: {e}") from None
        return LogisticModel.from_dict(d, str(p))
    if suf == ".skops":
        try:
            import skops.io as sio
        except ImportError:
            raise InputError(str(p), None, "reading a .skops model needs the optional package skops "
                                           "(pip install 'liqcascade[predict]')") from None
        try:
            untrusted = sio.get_untrusted_types(file=str(p))
        except Exception as e:  # noqa: BLE001 — any parse failure is bad input
            raise InputError(str(p), None, f"not a readable skops file: {e}") from None
        extra = sorted(set(untrusted) - set(SKOPS_TRUSTED))
        if extra:
            raise InputError(str(p), None, f"refusing to load: the file needs types this program does not trust "
                                           f"({', '.join(extra)})")
        try:
            obj = sio.load(str(p), trusted=list(untrusted))
        except Exception as e:  # noqa: BLE001
            raise InputError(str(p), None, f"cannot load: {e}") from None
        if not isinstance(obj, dict) or obj.get("kind") != "hgb" or obj.get("schema_version") != SCHEMA_VERSION:
            raise InputError(str(p), "kind", "not a liqcascade gradient-boosting model (schema 1)")
        feats = obj.get("features")
        from sklearn.ensemble import HistGradientBoostingClassifier

        if not isinstance(obj.get("estimator"), HistGradientBoostingClassifier):
            raise InputError(str(p), "estimator", "expected a HistGradientBoostingClassifier")
        if not isinstance(feats, list) or any(f not in FEATURES for f in feats):
            raise InputError(str(p), "features", "unknown or missing feature names")
        meta = json.loads(obj.get("meta") or "{}")
        return HGBModel(feats, obj["estimator"], list(obj["isotonic_x"]), list(obj["isotonic_y"]),
                        np.asarray(obj["median"], dtype=np.float64), meta)
    raise InputError(str(p), None, f"unsupported model format {suf or '(no extension)'!r}: use .json (logistic) or "
                                   ".skops (gradient boosting); pickle/joblib files are never loaded")
