"""Labels, onset, metrics, splits and the models' fit / calibration / persistence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.predict import evaluate as E
from liqcascade.predict.labels import (LabelSpec, cascade_labels, exceedance_labels, forward_endo_drop, forward_sum,
                                       onset_step)
from liqcascade.predict.models import LogisticModel, fit_hgb, fit_logistic, load_model

# --- labels ----------------------------------------------------------------------------------


def test_forward_sum_and_endo_drop():
    assert forward_sum([1, 2, 3, 4], 2)[:2].tolist() == [5.0, 7.0]
    assert np.isnan(forward_sum([1, 2, 3, 4], 2)[2:]).all()
    spot = np.array([100.0, 99.0, 95.0, 97.0])
    ref = np.array([100.0, 100.0, 100.0, 100.0])
    e = forward_endo_drop(spot, ref, 2)
    assert e[0] == pytest.approx(0.05)  # venue 5 % under the reference two steps on
    assert e[1] == pytest.approx(1 - 0.95 / 0.99)
    # a fall of the reference itself is not endogenous
    assert forward_endo_drop(spot, spot, 2)[0] == pytest.approx(0.0)


def test_cascade_labels_need_both_conditions():
    spec = LabelSpec(horizon_s=120.0, liq_share=0.02, endo_drop=0.02)  # H = 2 steps of 60 s
    liq = np.array([0.0, 0.0, 30.0, 0.0, 0.0])
    cv = np.full(5, 1000.0)
    ref = np.full(5, 100.0)
    spot = np.array([100.0, 100.0, 97.0, 97.0, 97.0])
    lab, share, endo = cascade_labels(liq, cv, spot, ref, spec, 60.0)
    assert lab[:3].tolist() == [1.0, 1.0, 0.0]  # t = 0, 1 see 3 % liquidated and a 3 % dislocation ahead
    assert np.isnan(lab[3:]).all()
    lab2, _, _ = cascade_labels(liq, cv, np.full(5, 100.0), ref, spec, 60.0)  # no dislocation
    assert lab2[:3].tolist() == [0.0, 0.0, 0.0]
    assert onset_step(lab, liq, cv, spec, 60.0) == 2
    assert onset_step(lab2, liq, cv, spec, 60.0) == -1


def test_exceedance_labels():
    assert exceedance_labels([0, 1, 5, 0], 2, 4.0)[:2].tolist() == [1.0, 1.0]
    assert exceedance_labels([0, 1, 1, 0], 2, 4.0)[:2].tolist() == [0.0, 0.0]


# --- metrics ---------------------------------------------------------------------------------


def test_auc_brier_by_hand():
    y = [0, 0, 1, 1]
    assert E.auc(y, [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)  # 3 of 4 pairs ordered
    assert E.auc(y, [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)  # ties count half
    assert math.isnan(E.auc([1, 1], [0.2, 0.3]))
    assert E.brier([0, 1], [0.2, 0.6]) == pytest.approx((0.04 + 0.16) / 2)


def test_alarm_threshold_and_reliability():
    p_neg = np.array([0.01] * 90 + [0.2] * 5 + [0.5] * 5)
    assert E.alarm_threshold(p_neg, 0.05) == 0.5  # 0.2 would alarm on 10 %
    assert E.alarm_threshold(p_neg, 0.10) == 0.2
    rel = E.reliability([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], bins=2)
    assert rel[0]["freq"] == 0 and rel[1]["freq"] == 1 and rel[1]["mean_p"] == pytest.approx(0.8)


def test_lead_times():
    path = np.array([0, 0, 0, 0, 1, 1])
    step = np.array([10, 15, 20, 25, 10, 15])
    p = np.array([0.0, 0.9, 0.9, 0.0, 0.9, 0.0])
    r = E.lead_times(path, step, p, {0: 22, 1: -1}, 0.5, lookback_steps=30, dt_seconds=60.0)
    assert r["detected"] == 1 and r["lead_s"] == [7 * 60.0]  # first alarm at 15, onset at 22
    assert r["clean_paths"] == 1 and r["clean_paths_with_alarm"] == 1
    r2 = E.lead_times(path, step, p, {0: 12, 1: -1}, 0.5, lookback_steps=30, dt_seconds=60.0)
    assert r2["missed"] == 1  # no alarm before step 12


def test_bootstrap_resamples_clusters():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(float)
    p = np.clip(y * 0.4 + rng.random(400) * 0.6, 0, 1)
    a = E.bootstrap_ci(y, p, np.arange(400) // 10, n_boot=50, seed=1)
    b = E.bootstrap_ci(y, p, np.arange(400) // 10, n_boot=50, seed=1)
    assert a == b
    assert a["auc_ci"][0] < E.auc(y, p) < a["auc_ci"][1]


# --- models ----------------------------------------------------------------------------------


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.5 * x1 - 1.0)))).astype(float)
    X = np.column_stack([x1, x2, np.abs(x2) * 1e6])
    X[::17, 1] = np.nan
    return X, y, np.arange(n) // 20


FEATS = ["rv_short", "drawdown_short", "depth_bid_1"]


def test_logistic_fit_json_round_trip(tmp_path):
    X, y, g = _data()
    m = fit_logistic(X, y, FEATS, g, meta={"alarm_threshold": 0.4})
    assert m.coef[0] > 1.0 and abs(m.coef[1]) < 0.5  # learns the informative feature
    assert E.auc(y, m.raw(X)) > 0.8
    p = m.predict_proba(X)
    assert (np.diff(p[np.argsort(m.raw(X))]) >= -1e-12).all()  # calibration is monotone in the score
    f = m.save(tmp_path / "m.json")
    m2 = load_model(f)
    assert np.array_equal(m2.predict_proba(X), p)
    assert m2.meta["alarm_threshold"] == 0.4
    assert m.contributions(X[0])["rv_short"] == pytest.approx(m.coef[0] * m._z(X[:1])[0, 0])
    m3 = fit_logistic(X, y, FEATS, g)
    assert np.array_equal(m3.coef, m.coef)  # deterministic


def test_hgb_fit_skops_round_trip(tmp_path):
    X, y, g = _data()
    m = fit_hgb(X, y, FEATS, g)
    f = m.save(tmp_path / "m.skops")
    m2 = load_model(f)
    assert np.array_equal(m2.predict_proba(X), m.predict_proba(X))
    assert set(m.contributions(X[0])) == set(FEATS)


def test_model_files_refused(tmp_path):
    import pickle

    pk = tmp_path / "m.pkl"
    pk.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(InputError, match="pickle"):
        load_model(pk)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "logistic", "schema_version": 1, "features": ["nope"]}))
    with pytest.raises(InputError, match="unknown feature"):
        load_model(bad)
    X, y, g = _data(200)
    d = fit_logistic(X, y, FEATS, g).to_dict()
    d["scale"][0] = 0.0
    bad.write_text(json.dumps(d))
    with pytest.raises(InputError, match="scale"):
        load_model(bad)


def test_skops_with_untrusted_types_refused(tmp_path):
    import skops.io as sio
    import os

    from sklearn.preprocessing import FunctionTransformer

    f = tmp_path / "evil.skops"
    sio.dump({"kind": "hgb", "schema_version": 1, "estimator": FunctionTransformer(func=os.getcwd)}, str(f))
    assert sio.get_untrusted_types(file=str(f))  # the fixture really needs trust
    with pytest.raises(InputError, match="refusing"):
        load_model(f)


def test_from_dict_validates_shapes():
    with pytest.raises(InputError):
        LogisticModel.from_dict({"kind": "hgb"})
