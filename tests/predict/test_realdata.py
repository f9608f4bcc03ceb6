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


def test_warn_and_price_risk_on_the_reference_data(tmp_path):
    """The docs' recipes: a kline file converted by `data series` as warn's market file, and a
    scenario whose paths bootstrap the real hourly WETH returns for price-risk."""
    import json

    from typer.testing import CliRunner

    from liqcascade.cli import app

    klines = DATA / "binance_2025-10-10" / "BTCUSD_PERP-1m-2025-10-10.zip"
    weth = DATA / "hourly_prices_2021_2024" / "coingecko" / "WETH_usd.csv"
    if not (klines.exists() and weth.exists()):
        pytest.skip("needs ../shared/data binance_2025-10-10 and hourly_prices_2021_2024 (absent here)")
    r = CliRunner()
    btc = tmp_path / "btc.csv"
    assert r.invoke(app, ["data", "series", str(klines), "--out", str(btc)]).exit_code == 0
    res = r.invoke(app, ["warn", str(REPO / "examples" / "perp_positions.csv"), str(btc), "--lt", "0.9", "--json"])
    if res.exit_code != 0:  # the perp file is id,side,size,… — use a wide lending book instead
        res = r.invoke(app, ["warn", str(REPO / "examples" / "minimal_positions.csv"), str(btc), "--lt", "0.86", "--json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["bars"] == 1440 and s["time"].startswith("2025-10-10T23:59")
    w = tmp_path / "weth.csv"
    assert r.invoke(app, ["data", "series", str(weth), "--out", str(w)]).exit_code == 0
    sc = (REPO / "examples" / "multi_venue_book.toml").read_text()
    sc = sc.replace('kind = "jump"', 'kind = "bootstrap"\nreturns_file = "weth.csv"')
    for k in ("mu = 0.0", "sigma = 0.9", "lam = 1500.0", "jump_mean = -0.15", "jump_std = 0.05"):
        sc = "\n".join(line for line in sc.splitlines() if not line.strip().startswith(k))
    sc = sc.replace('positions = "multi_venue_positions.csv"',
                    f'positions = "{REPO / "examples" / "multi_venue_positions.csv"}"')
    (tmp_path / "s.toml").write_text(sc)
    res = r.invoke(app, ["price-risk", str(tmp_path / "s.toml"), "--paths", "20", "--no-frontier", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["paths"] == 20 and out["es_allocated"] == pytest.approx(out["es"])
