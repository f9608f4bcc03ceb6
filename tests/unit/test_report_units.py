"""Reports of scenarios run by protocol units (Maker auctions here): the auctions are counted
apart from the liquidation actions, the keeper gain is explained, and the liquidation-price
panel shows the units' vaults instead of an empty Aave book."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.report import figures as F
from liqcascade.report import html as H
from liqcascade.scenario.load import load_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def maker():
    sc, base = load_scenario(REPO / "examples" / "maker.toml")
    c = compile_scenario(sc, base)
    return c, run_dynamic(c)


def _visible(html: str) -> str:
    return re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_auctions_are_rows_of_their_own(maker, tmp_path):
    c, r = maker
    ut = next(iter(r.unit_totals.values()))
    text = _visible(H.write_report(tmp_path / "m.html", run=r, compiled=c).read_text())
    assert "liquidation actions (each bark/bite, take and deal counts once)" in text
    m = re.search(r'data-key="[^"]*\.n_kick"><td>[^<]*auctions started[^<]*</td><td class="num">([\d,]+)<', text)
    assert m and int(m.group(1).replace(",", "")) == ut["n_kick"]
    assert r.totals()["liquidations"] == ut["n_kick"] + ut["n_take"] + ut["n_deal"]
    assert "keeper" in text and "negative when keepers paid above the oracle price" in text


def test_liquidation_price_panel_from_the_units(maker, tmp_path):
    c, r = maker
    assert c.book.n == 0  # no Aave book: the vaults are the book
    fig = F.heatmap_figure(c)
    assert [t.name for t in fig.data][:2] == ["WETH debt per bucket", "WETH cumulative debt"]
    pts = F.unit_liquidation_points(c, c.assets.index("WETH"))
    from liqcascade.protocols.maker import kernel as MK

    total = sum(u.pack[4].sum() * u.pack[1][0, MK.IK_RATE] for u in c.units)  # art · rate of every vault
    assert pts is not None and pts[1].sum() == pytest.approx(total, rel=1e-12)
    text = H.write_report(tmp_path / "m.html", run=r, compiled=c).read_text()
    assert 'id="fig-clusters"' in text and "vaults, troves and accounts of the protocol units" in text


def test_no_empty_panel_when_nothing_has_a_liquidation_price(tmp_path):
    sc, base = load_scenario(REPO / "examples" / "perp.toml")
    c = compile_scenario(sc, base)
    text = H.render_report(compiled=c)
    assert 'id="fig-clusters"' not in text
