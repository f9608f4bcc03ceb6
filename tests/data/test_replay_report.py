"""The 2020-03-12 replay's report: the auctions it started are the headline's auction count
(the liquidation-action total also counts the deals), the keeper gain is explained, and the
liquidation-price panel shows the replay's vaults."""

from __future__ import annotations

import re

import pytest

from data_helpers import DATA, need


def test_black_thursday_report_counts_auctions_and_shows_vaults(tmp_path, monkeypatch):
    need("stablesims")
    monkeypatch.setenv("LIQCASCADE_DATA", str(DATA))
    import liqcascade as lc
    from liqcascade.report.html import write_report

    r = lc.replay("2020-03-12", quick=True)
    raw = r.raw
    text = write_report(tmp_path / "bt.html", run=raw.run, compiled=raw.compiled).read_text()
    visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    m = re.search(r'auctions started \(barks / bites\)</td><td class="num">([\d,]+)<', visible)
    assert m and int(m.group(1).replace(",", "")) == int(raw.headline["auctions"])
    assert "negative when keepers paid above the oracle price" in visible
    assert 'id="fig-clusters"' in text and "vaults, troves and accounts of the protocol units" in visible
