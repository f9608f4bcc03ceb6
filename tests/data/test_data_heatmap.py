"""Liquidation prices of multi-asset accounts, the cluster figure and ``liqcascade heatmap``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from data_helpers import DATA, EXAMPLES, cli_app, invoke, need

pytest.importorskip("plotly")

from liqcascade.data import liqprice as LP  # noqa: E402
from liqcascade.data.aave import aave_health_factor  # noqa: E402
from liqcascade.report.heatmap import bucket_points, cluster_summary, clusters_figure, write_png  # noqa: E402
from liqcascade.engine.compile import compile_scenario  # noqa: E402
from liqcascade.report import figures as F  # noqa: E402
from liqcascade.scenario.load import load_scenario  # noqa: E402

MINIMAL = EXAMPLES / "minimal.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def compiled():
    sc, base = load_scenario(MINIMAL)
    return compile_scenario(sc, base)


@pytest.fixture(scope="module")
def app():
    return cli_app()


def test_simple_positions_match_the_engine_key(compiled):
    book = LP.book_from_compiled(compiled)
    pts = LP.liquidation_points(book)
    b = compiled.book
    a = compiled.assets.index("WETH")
    assert len(pts) == b.n and (pts.asset == a).all()
    # liquidation price = key · p_debt (engine.compile.Book) for one collateral and stable debt
    order = np.argsort(pts.account)
    assert np.allclose(pts.price[order], b.key * compiled.p0[b.seg_debt_asset[0]], rtol=1e-12)
    assert np.allclose(pts.debt_value[order], b.debt, rtol=1e-12)
    # the buckets are report.figures.liquidation_buckets' own
    mine = bucket_points(pts, a, 0.01, max_drop=None)
    ref = F.liquidation_buckets(compiled, a, 0.01)
    for x, y in zip(mine[:4], ref):
        assert np.allclose(x, y)
    assert mine[5][0] == pytest.approx(float(np.sum(b.coll * b.key)), rel=1e-9)  # collateral value at liquidation


def test_multi_asset_liquidation_price():
    # one account: 1 ETH (LT 0.8) + 0.1 BTC (LT 0.7) against 2,000 USDC + 0.5 ETH of debt
    assets = ("ETH", "BTC", "USDC")
    prices = np.array([2000.0, 30000.0, 1.0])
    book = LP.AccountBook(assets, prices, np.array([False, False, True]), np.array(["x"], dtype=object),
                          np.array([0, 3]), np.array([0, 1, 2]), np.array([1.0, 0.1, 0.0]),
                          np.array([0.5, 0.0, 2000.0]), np.array([0.8, 0.7, 0.0]))
    pts = LP.liquidation_points(book)
    lt = np.array([0.8, 0.7, 0.0])
    coll = np.array([1.0, 0.1, 0.0])
    debt = np.array([0.5, 0.0, 2000.0])
    assert aave_health_factor(coll, debt, prices, lt) == pytest.approx(book.health_factors()[0])
    for k in range(len(pts)):
        p = prices.copy()
        p[pts.asset[k]] = pts.price[k]
        assert aave_health_factor(coll, debt, p, lt) == pytest.approx(1.0)
        assert pts.debt_value[k] == pytest.approx(float(debt @ p))
    # ETH: s* = (D_other - W_other) / (W_ETH - D_ETH) = (2000 - 2100) / (1600 - 1000) < 0: the BTC
    # alone covers the debt, so no fall of ETH alone liquidates the account
    assert list(pts.asset) == [1]
    # BTC: s* = (3000 - 1600) / 2100
    assert pts.price[0] == pytest.approx(30000.0 * 1400.0 / 2100.0)


def test_compound_book_reproduces_the_snapshot():
    from liqcascade.data.compound import load_compound_v2

    d = need("compound_v2_borrowers_2023")
    snap = load_compound_v2(d / "compound_v2_accounts_with_borrows.csv", d / "compound_v2_account_ctoken_positions.csv")
    book = LP.book_from_compound(snap)
    hf = book.health_factors()
    ok = (snap.total_borrow_eth > 0) & np.isfinite(hf) & (hf > 0)
    assert ok.sum() > 8000
    assert np.allclose(hf[ok], snap.total_collateral_eth[ok] / snap.total_borrow_eth[ok], rtol=1e-9)
    pts = LP.liquidation_points(book)
    eth = book.assets.index("ETH")
    s = next(r for r in cluster_summary(pts) if r["asset"] == "ETH")
    assert s["price"] == pytest.approx(1841.6, abs=0.5) and s["accounts"] == int((pts.asset == eth).sum())
    assert s["debt_at"][0.5] > s["debt_at"][0.2] > s["debt_at"][0.05] >= s["debt_now"]


def test_figure_trace_names(compiled):
    pts = LP.liquidation_points(LP.book_from_compiled(compiled))
    fig = clusters_figure(pts)
    names = [t.name for t in fig.data]
    for n in ("WETH debt per bucket", "WETH cumulative debt", "WETH collateral per bucket",
              "WETH cumulative collateral"):
        assert n in names


def test_cli_position_file(app, tmp_path):
    out = tmp_path / "h.html"
    code, o, e = invoke(app, "heatmap", EXAMPLES / "minimal_positions.csv", "--scenario", MINIMAL, "--out", out)
    assert code == 0, e
    assert "WETH" in o and out.stat().st_size > 1_000_000  # plotly.js inline
    code, o, e = invoke(app, "heatmap", EXAMPLES / "minimal_positions.csv", "--price", 2000, "--lt", 0.86,
                        "--asset", "WETH", "--out", tmp_path / "h2.html", "--json")
    assert code == 0, e
    j = json.loads(o)
    assert j["accounts"] == 40 and j["assets"][0]["asset"] == "WETH" and j["png"] is None
    # the two routes agree: the scenario's LT is 0.86, its price 2,000
    code, o1, _ = invoke(app, "heatmap", EXAMPLES / "minimal_positions.csv", "--scenario", MINIMAL,
                         "--out", tmp_path / "h3.html", "--json")
    a1, a2 = json.loads(o1)["assets"][0]["debt_at"], j["assets"][0]["debt_at"]
    assert a1.keys() == a2.keys() and all(a1[k] == pytest.approx(a2[k], rel=1e-12) for k in a1)


def test_cli_real_snapshots(app, tmp_path):
    need("compound_v2_borrowers_2023")
    need("aave_v2_borrowers_2021")
    code, o, e = invoke(app, "heatmap", DATA / "compound_v2_borrowers_2023" / "compound_v2_account_ctoken_positions.csv",
                        "--out", tmp_path / "c.html", "--only", "ETH,WBTC", "--json")
    assert code == 0, e
    j = json.loads(o)
    assert j["accounts"] == 8851 and {"ETH", "WBTC"} <= {a["asset"] for a in j["assets"]}
    html = (tmp_path / "c.html").read_text()
    assert "ETH debt per bucket" in html and "collateral (CF-weighted)" in html and "BAT debt per bucket" not in html
    code, o, e = invoke(app, "heatmap", DATA / "aave_v2_borrowers_2021" / "aave_user_details_v2",
                        "--out", tmp_path / "a.html", "--json")
    assert code == 0, e
    j = json.loads(o)
    assert j["accounts"] == 10 and "WETH" in {a["asset"] for a in j["assets"]}


@pytest.mark.parametrize("args, where", [
    (("--out", "{t}/x.html"), "--price/--lt"),
    (("--price", "2000", "--lt", "1.5", "--out", "{t}/x.html"), "--price/--lt"),
    (("--scenario", str(MINIMAL), "--price", "1", "--lt", "0.5", "--out", "{t}/x.html"), "--scenario"),
    (("--price", "2000", "--lt", "0.8", "--bucket", "0", "--out", "{t}/x.html"), "--bucket"),
    (("--price", "2000", "--lt", "0.8", "--only", "BTC", "--out", "{t}/x.html"), "--only"),
    (("--price", "2000", "--lt", "0.8", "--out", "{t}/blocker/x.html"), "--out"),
    (("--price", "2000", "--lt", "0.8", "--out", "{t}/x.html", "--png", "{t}/x.jpg"), "--png"),
    (("--scenario", str(MINIMAL), "--protocol", "nope", "--out", "{t}/x.html"), "--protocol"),
])
def test_cli_bad_options(app, tmp_path, args, where):
    (tmp_path / "blocker").write_text("x")
    code, o, e = invoke(app, "heatmap", EXAMPLES / "minimal_positions.csv", *[a.format(t=tmp_path) for a in args])
    assert code == 2 and where in (e or o) and "error:" in (e or o)
    assert not (tmp_path / "x.html").exists()


def test_cli_wrong_file_kinds(app, tmp_path):
    bars = tmp_path / "bars.json"
    bars.write_text('[{"time_period_start": "2020-01-01T00:00:00Z", "price_open": 1, "price_high": 1, '
                    '"price_low": 1, "price_close": 1}]')
    code, o, e = invoke(app, "heatmap", bars, "--out", tmp_path / "x.html")
    assert code == 2 and "ohlcv_json" in (e or o)
    pos = tmp_path / "compound_v2_account_ctoken_positions.csv"
    pos.write_text("account,symbol,cTokenBalance,storedBorrowBalance\n0xa,cETH,1,0\n")
    code, o, e = invoke(app, "heatmap", pos, "--out", tmp_path / "x.html")
    assert code == 2 and "accounts file not found" in (e or o)
    code, o, e = invoke(app, "heatmap", tmp_path / "missing.csv", "--out", tmp_path / "x.html")
    assert code == 2 and "file not found" in (e or o)


def test_png_kaleido_then_chromium(compiled, tmp_path, monkeypatch):
    import shutil

    pts = LP.liquidation_points(LP.book_from_compiled(compiled))
    fig = clusters_figure(pts)
    try:
        method = write_png(fig, tmp_path / "k.png", width=700)
    except RuntimeError as e:
        pytest.skip(f"no PNG backend here: {e}")
    assert (tmp_path / "k.png").read_bytes()[:8] == PNG_MAGIC
    if shutil.which("chromium") is None:
        pytest.skip("chromium fallback needs a `chromium` executable (Debian: apt-get install chromium)")

    def boom(*a, **k):
        raise RuntimeError("kaleido disabled for this test")

    monkeypatch.setattr(type(fig), "write_image", boom)
    assert write_png(fig, tmp_path / "c.png", width=700) == "chromium"
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_MAGIC
    assert method in ("kaleido", "chromium")


def test_png_failure_is_a_warning(app, tmp_path, monkeypatch):
    import plotly.graph_objects as go

    import liqcascade.report.heatmap as H

    monkeypatch.setattr(go.Figure, "write_image", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no kaleido")))
    monkeypatch.setattr(H.shutil, "which", lambda name: None)
    code, o, e = invoke(app, "heatmap", EXAMPLES / "minimal_positions.csv", "--price", 2000, "--lt", 0.86,
                        "--out", tmp_path / "h.html", "--png", tmp_path / "h.png")
    assert code == 0
    assert "PNG not written" in (e or o) and "no kaleido" in (e or o)
    assert (tmp_path / "h.html").exists() and not (tmp_path / "h.png").exists()


def test_aave_book_block_option():
    from liqcascade.calibration.params import aave_v2_lt
    from liqcascade.data.aave import load_aave_details_dir

    hs = load_aave_details_dir(need("aave_v2_borrowers_2021", "aave_user_details_v2"))
    default = LP.book_from_aave(hs, aave_v2_lt)
    assert default.n_accounts == 10 and (default.health_factors() >= 0.99).all()  # before liquidation
    early = LP.book_from_aave(hs, aave_v2_lt, block=11_500_000)  # only users with a row by then
    have = sum(bool(((h.block <= 11_500_000) & (h.total_collateral_eth > 0) & (h.total_debt_eth > 0)).any()) for h in hs)
    left_out = sum("left out" in n for n in early.notes)  # per-asset columns miss part of the collateral
    assert early.n_accounts + left_out == have and 0 < early.n_accounts < 10


def test_cli_accepts_the_shared_data_folders(app, tmp_path):
    """The folders as ../shared/data lays them out: ``aave_v2_borrowers_2021/`` (details files one
    level down, in ``aave_user_details_v2/``) and ``compound_v2_borrowers_2023/`` (both snapshot
    files), the same books as the files themselves."""
    need("aave_v2_borrowers_2021", "aave_user_details_v2")
    need("compound_v2_borrowers_2023")
    for folder, direct in ((DATA / "aave_v2_borrowers_2021", DATA / "aave_v2_borrowers_2021" / "aave_user_details_v2"),
                           (DATA / "compound_v2_borrowers_2023",
                            DATA / "compound_v2_borrowers_2023" / "compound_v2_account_ctoken_positions.csv")):
        code, o, e = invoke(app, "heatmap", folder, "--out", tmp_path / "f.html", "--json")
        assert code == 0, e
        code2, o2, e2 = invoke(app, "heatmap", direct, "--out", tmp_path / "d.html", "--json")
        assert code2 == 0, e2
        a, b = json.loads(o), json.loads(o2)
        assert a["accounts"] == b["accounts"] and a["assets"] == b["assets"]


def test_cli_folder_says_which_files_it_expected(app, tmp_path):
    (tmp_path / "bars").mkdir()
    (tmp_path / "bars" / "BTCUSDT-1m.zip").write_bytes(b"")
    code, o, e = invoke(app, "heatmap", tmp_path / "bars", "--out", tmp_path / "x.html")
    msg = (e or o).strip()
    assert code == 2 and msg.startswith("error: ") and len(msg.splitlines()) == 1
    assert "*_details_v2.csv" in msg and "compound_v2_accounts_with_borrows.csv" in msg and "BTCUSDT-1m.zip" in msg
    assert not (tmp_path / "x.html").exists()
