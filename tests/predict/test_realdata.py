"""Real-data evidence on ``../shared/data`` (skipped when the folder is absent): time splits,
training-only thresholds, and the crash-day panels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data").resolve()

pytestmark = pytest.mark.shared_data


def need(group: str):
    from liqcascade.predict.realdata import missing

    if not DATA.is_dir() or missing(DATA, group):
        pytest.skip(f"needs ../shared/data ({group} files; reference data beside the repository, absent here)")


@pytest.fixture(scope="module")
def riskdao():
    need("riskdao")
    from liqcascade.predict.realdata import riskdao_evidence

    return riskdao_evidence(DATA, n_boot=0)


def test_riskdao_split_by_time_and_threshold_from_training(riskdao):
    from liqcascade.predict.labels import forward_sum

    res, ctx = riskdao
    assert res["train"]["to"] < res["test"]["from"]
    d = ctx["data"]
    t = d["time_s"]
    split = t[0] + 0.7 * (t[-1] - t[0])
    fwd = forward_sum(d["liq"], 30)
    end_ok = np.concatenate([t[30:], np.full(30, np.inf)]) < split
    thr = float(np.percentile(fwd[(t < split) & end_ok & np.isfinite(fwd)], 99))
    assert f"({thr:,.1f})" in res["label"]
    assert res["test"]["positives"] >= 1 and res["train"]["positives"] >= 10
    for m in ("logistic", "gradient boosting", "volatility only", "recent liquidations only"):
        r = res["models"][m]
        assert 0 <= r["auc"] <= 1 and r["brier"] >= 0
    assert "vpin" in res["not_available"]


def test_perp_daily_panel():
    need("perp")
    from liqcascade.predict.realdata import perp_daily_evidence

    res, ctx = perp_daily_evidence(DATA, n_boot=0)
    assert res["train"]["to"] < "2026-01-01" <= res["test"]["from"]
    assert res["train"]["n"] > 50 and res["test"]["n"] > 50
    assert set(res["models"]) == {"logistic", "gradient boosting", "volatility only", "yesterday's liquidations only"}
    assert all(0 <= r["auc"] <= 1 for r in res["models"].values() if r["auc"] is not None and not math.isnan(r["auc"]))


def test_crash_day_panels(riskdao):
    need("crash")
    from liqcascade.predict.realdata import crash_panels

    res, ctx = riskdao
    m = ctx["fitted"]["volatility only"]
    panels = crash_panels(DATA, sim_market=(m.model, m.threshold), riskdao_ctx=ctx)
    names = [p["name"] for p in panels]
    assert any(n.startswith("2021-05-19") for n in names) and any(n.startswith("2025-10-10, BTC index") for n in names)
    jan = next(p for p in panels if p["name"].startswith("2021-01-21"))
    assert jan["liquidations"] is not None and sum(jan["liquidations"]) > 0  # real Binance liquidations
    assert len(jan["score"]) == len(jan["time_s"]) == 144
