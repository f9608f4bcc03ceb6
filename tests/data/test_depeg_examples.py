"""The two depeg examples on the real series in ../shared/data (skipped with a reason when it is
absent): the oracle switch decides whether the loops and the USDC-backed positions are
liquidated, and the liquidation sales push the pool below the recorded path. Without the data the
examples stop with one line naming the missing file (exit 2)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

import liqcascade as lc
from liqcascade.cli import app
from liqcascade.errors import InputError

from data_helpers import EXAMPLES, need


def _run(name: str, reads: str):
    r = lc.run(lc.load(EXAMPLES / f"{name}.toml").set("oracles.0.reads", reads))
    st = r.steps.to_polars()
    return r.per_protocol().to_polars(), st


@pytest.mark.parametrize("name, parts", [
    ("steth_depeg", ("hourly_prices_2021_2024", "coingecko", "stETH_usd.csv")),
    ("usdc_depeg", ("usdc_depeg_2023-03_binanceus", "BTCUSDC_1m_20230301_20230321.csv")),
])
def test_the_oracle_choice_decides_the_cascade(name, parts):
    need(*parts)
    pp_m, st_m = _run(name, "market")
    pp_f, st_f = _run(name, "fundamental")
    assert pp_m["positions_liquidated"].sum() > 0
    assert pp_f["positions_liquidated"].sum() == 0
    # the fundamental oracle's run leaves the pool on the recorded path; the market run's sales
    # push it below
    ref, ven_f, ven_m = (x.to_numpy() for x in (st_f["reference_price"], st_f["venue_price"], st_m["venue_price"]))
    np.testing.assert_allclose(ven_f, ref, rtol=1e-9)
    assert ven_m.min() < ref.min()


def test_examples_without_the_shared_data_stop_with_one_line(tmp_path):
    for f in ("steth_depeg.toml", "steth_depeg_positions.csv"):
        shutil.copy(EXAMPLES / f, tmp_path / f)
    with pytest.raises(InputError, match="file not found"):
        lc.run(lc.load(tmp_path / "steth_depeg.toml"))
    r = CliRunner().invoke(app, ["run", str(tmp_path / "steth_depeg.toml")])
    assert r.exit_code == 2
    out = r.output
    assert "error:" in out and "stETH_usd.csv" in out and "file not found" in out
    assert "Traceback" not in out
