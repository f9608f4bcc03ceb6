"""Perp funding inside the perp unit (``funding/kernel.py``): the premium from the perp's
book against the index, the venues' formulas, payments that move margin and conserve cash, and
funding that liquidates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.funding.binance import kernel as BK
from liqcascade.funding.binance.model import BinanceFunding
from liqcascade.funding.hyperliquid import kernel as HK
from liqcascade.funding.hyperliquid.model import HyperliquidFunding
from liqcascade.protocols.perp import kernel as K
from liqcascade.protocols.perp.model import PRESETS
from liqcascade.protocols.perp.pack import build_pack, pack_dict, run_unit, totals
from liqcascade.scenario.load import load_scenario
from liqcascade.venues.kernel import NCOL

ROOT = Path(__file__).resolve().parents[2]


def book_venue(mid, depth=((0.01, 2e6), (0.05, 6e6))):
    """One depth-curve book venue at ``mid`` (the layout ``venues/pack.py`` builds)."""
    from liqcascade.venues.kernel import HALF, KIND, MID, NK, REF, VENUE_BOOK

    vs = np.zeros((1, NCOL))
    vs[0, KIND] = VENUE_BOOK
    vs[0, MID] = mid
    vs[0, REF] = mid
    vs[0, HALF] = 0.0
    vs[0, NK] = len(depth)
    vdk = np.array([[k for k, _ in depth]])
    vdq = np.array([[q for _, q in depth]])
    return vs, vdk, vdq


def two_positions(funding, mark=40_000.0):
    cfg = PRESETS["hyperliquid"].model_copy(update={"funding": funding, "mark_price": "index"})
    return build_pack(cfg, ["long", "short"], [2.0, 1.0], [mark, mark], [20_000.0, 20_000.0], marks=[mark])


@pytest.mark.parametrize("rule", ["hyperliquid", "binance"])
@pytest.mark.parametrize("offset", [0.02, -0.02, 0.0])
def test_one_interval_pays_the_formula_on_the_books_premium(rule, offset):
    """The perp book sits ``offset`` away from the index for one whole interval: the rate is the
    venue's formula of the impact-price premium, every holder pays ``P · price · rate`` (longs a
    positive rate), and the total cash does not move."""
    index = 40_000.0
    if rule == "hyperliquid":
        f = HyperliquidFunding()
        interval = f.interval_seconds
    else:
        f = BinanceFunding(interval_hours=1)
        interval = 3600.0
    pack = two_positions(f, index)
    vs, vdk, vdq = book_venue(index * (1 + offset))
    bid, ask = BK.impact_prices_book(vs[0, 4], vdk[0], vdq[0], 2, f.impact_notional)
    if rule == "hyperliquid":
        prem = HK.premium(bid, ask, index, 0.0)
        rate = HK.hourly_rate(prem, f.pack())
        px = index
    else:
        prem = BK.premium_index(bid, ask, index)
        rate = BK.funding_rate(prem, f.pack())
        px = index  # mark = index (mark_price = "index")
    d0 = {k: v.copy() for k, v in pack_dict(pack).items() if isinstance(v, np.ndarray)}
    cash0 = totals(pack)["cash_initial"]
    run_unit(pack, np.full(2, index), vs, vdk, vdq, 0, dt_seconds=interval, follow_index=False)
    d = pack_dict(pack)
    np.testing.assert_allclose(d["margin"] - d0["margin"], [-2.0 * px * rate, 1.0 * px * rate], rtol=1e-12)
    book_pos = d0["mkt"][0, K.M_BOOK_POS]
    assert d["mkt"][0, K.M_BOOK_CASH] - d0["mkt"][0, K.M_BOOK_CASH] == pytest.approx(-book_pos * px * rate)
    assert totals(pack)["cash_total"] == pytest.approx(cash0, rel=1e-14)
    assert d["mkt"][0, K.M_FD_PAID] == pytest.approx(2.0 * px * rate)
    if offset > 0:
        assert prem > 0 and rate > f.interest_8h / 8 * 0.999  # a premium above the band: longs pay more
    elif offset < 0:
        assert prem < 0 and rate < 0  # shorts pay longs
    else:
        assert prem == 0.0 and rate == pytest.approx(f.interest_8h * (1 / 8 if rule == "hyperliquid" else 1 / 8))


def test_no_funding_table_no_payments():
    pack = two_positions(None)
    vs, vdk, vdq = book_venue(40_800.0)
    m0 = pack_dict(pack)["margin"].copy()
    run_unit(pack, np.full(5, 40_000.0), vs, vdk, vdq, 0, dt_seconds=3600.0, follow_index=False)
    assert np.array_equal(pack_dict(pack)["margin"], m0)


def _example(funding=True, steps=None):
    sc, base = load_scenario(ROOT / "examples" / "funding.toml")
    if not funding:
        sc.protocols[0].config["funding"] = None
    if steps is not None:
        sc.simulation.steps = steps
    c = compile_scenario(sc, base)
    return sc, c, run_dynamic(c, paths=make_paths(c))


def test_funding_liquidates_on_a_flat_index_and_conserves_cash():
    """``examples/funding.toml`` up to the crash (day 6): the index is flat; with funding the
    longs pay the interest component every hour and the closest ones are liquidated; without
    it nobody is. Cash is conserved to float rounding (funding moves it between holders)."""
    sc, c, r = _example(True, steps=863)
    _, _, r0 = _example(False, steps=863)
    u = r.unit_totals["hyperliquid-btc"]
    assert r.summary[0, 0] > 0 and r0.summary[0, 0] == 0
    assert u["funding_paid_by_longs"][0] > 0
    assert u["cash_total"] == pytest.approx(u["cash_initial"], rel=1e-12)
    assert np.all(np.abs(u["net_position"]) < 1e-9)


def test_higher_interest_never_liquidates_fewer_longs_on_a_flat_index():
    """Same book, flat index for six days: a larger interest component never liquidates fewer
    positions (and liquidates more here)."""
    counts = []
    for interest in (0.0, 0.0001, 0.0003):
        sc, base = load_scenario(ROOT / "examples" / "funding.toml")
        sc.simulation.steps = 863
        sc.protocols[0].config["funding"]["interest_8h"] = interest
        r = run_dynamic(compile_scenario(sc, base))
        counts.append(r.summary[0, 0])
    assert counts[0] <= counts[1] <= counts[2] and counts[2] > counts[0]


def test_bad_funding_kind_is_one_line(tmp_path):
    import subprocess
    import sys

    src = (ROOT / "examples" / "funding.toml").read_text().replace('kind = "hyperliquid"\ninterest_8h',
                                                                 'kind = "bitmex"\ninterest_8h')
    src = src.replace('positions = "funding_positions.csv"', f'positions = "{(ROOT / "examples" / "funding_positions.csv").as_posix()}"')
    f = tmp_path / "f.toml"
    f.write_text(src)
    r = subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(f)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "funding" in lines[0], r.stderr


@pytest.mark.parametrize("rule, premium", [("hyperliquid", "book"), ("binance", "book"),
                                           ("hyperliquid", "hyperliquid_btc"), ("binance", "binance_btc")])
def test_perp_unit_with_funding_matches_its_twin(rule, premium):
    """The compiled perp step with funding against the plain-Python twin (samples one by one,
    explicit averages and payments) on a moving index with a thin book: margins, holders' cash,
    what longs paid and the events agree."""
    from liqcascade.protocols.perp.pack import build_pack

    f = HyperliquidFunding() if rule == "hyperliquid" else BinanceFunding(interval_hours=1)
    rng = np.random.default_rng(3)
    n = 40
    sides = np.where(rng.random(n) < 0.7, 1.0, -1.0)
    sizes = rng.uniform(0.5, 20.0, n)
    entries = 40_000.0 * np.exp(rng.uniform(-0.03, 0.03, n))
    margins = sizes * entries * rng.uniform(0.012, 0.08, n)
    cfg = PRESETS["hyperliquid"].model_copy(update={"funding": f, "funding_premium": premium})
    index = 40_000.0 * np.exp(np.cumsum(np.r_[0.0, rng.normal(0.0, 0.004, 72)]))
    out = []
    for twin in (False, True):
        pack = build_pack(cfg, sides, sizes, entries, margins)
        vs, vdk, vdq = book_venue(40_000.0, depth=((0.005, 3e5), (0.02, 1e6), (0.05, 2e6)))
        r = run_unit(pack, index, vs, vdk, vdq, 0, dt_seconds=600.0, twin=twin)
        out.append((pack_dict(pack), r, totals(pack)))
    (dk, rk, tk), (dt_, rt, tt) = out
    assert tk["funding_paid_by_longs"][0] != 0.0
    np.testing.assert_allclose(dk["margin"], dt_["margin"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(dk["size"], dt_["size"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tk["funding_paid_by_longs"], tt["funding_paid_by_longs"], rtol=1e-9)
    assert tk["cash_total"] == pytest.approx(tt["cash_total"], rel=1e-12)
    assert np.array_equal(rk["events"]["step"], rt["events"]["step"])


def test_fitted_premium_follows_the_market():
    """With a fitted premium (Hyperliquid BTC, hourly: P = a + 0.905 P_prev + 0.004 r) a falling
    index lowers the rate: longs pay less over a day of decline than over a flat day (the book's
    premium plays no part)."""
    paid = []
    for drift in (0.0, -0.01):
        cfg = PRESETS["hyperliquid"].model_copy(update={"funding": HyperliquidFunding(),
                                                        "funding_premium": "hyperliquid_btc"})
        pack = build_pack(cfg, ["long", "short"], [2.0, 1.0], [40_000.0, 40_000.0], [40_000.0, 40_000.0])
        vs, vdk, vdq = book_venue(40_000.0)
        index = 40_000.0 * np.exp(drift * np.arange(25))
        run_unit(pack, index, vs, vdk, vdq, 0, dt_seconds=3600.0)
        paid.append(totals(pack)["funding_paid_by_longs"][0])
    assert paid[1] < paid[0]


def test_unknown_premium_fit_is_refused():
    from liqcascade.protocols.perp.model import PerpConfig

    with pytest.raises(ValueError, match="funding_premium"):
        PerpConfig(tiers=PRESETS["hyperliquid"].tiers, funding_premium="okx_btc")
