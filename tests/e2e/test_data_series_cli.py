"""``liqcascade data series``: downloaded price files become the ``time,price`` CSV the price
kinds read (the engine itself reads only that format)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from liqcascade.cli import app
from liqcascade.errors import InputError
from liqcascade.prices.generate import generate_paths
from liqcascade.prices.loading import load_price_csv

HOUR = 3600.0


def _coingecko_like(path, prices):
    rows = ["symbol,timestamp,USD_price"]
    rows += [f"WETH,{1609459200000 + 3600_000 * k},{p}" for k, p in enumerate(prices)]
    path.write_text("\n".join(rows) + "\n")


def test_series_converts_and_the_engine_reads_it(tmp_path):
    prices = 2000.0 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 50)))
    src = tmp_path / "WETH_usd.csv"
    _coingecko_like(src, prices)
    # the engine refuses the downloaded format and says how to convert it
    with pytest.raises(InputError, match="liqcascade data series"):
        generate_paths({"kind": "bootstrap", "returns_file": str(src), "block_seconds": 4 * HOUR}, [2000.0], 10, HOUR, 1, 0)
    out = tmp_path / "weth.csv"
    r = CliRunner().invoke(app, ["data", "series", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    t, v = load_price_csv(out)
    np.testing.assert_array_equal(v, prices)  # full precision
    np.testing.assert_allclose(np.diff(t), HOUR)
    p = generate_paths({"kind": "bootstrap", "returns_file": str(out), "block_seconds": 4 * HOUR}, [2000.0], 10, HOUR, 2, 0)
    assert p.shape == (2, 11, 1) and np.all(p > 0)


def test_series_bad_input_is_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = tmp_path / "o.csv"
    r = CliRunner().invoke(app, ["data", "series", str(bad), "--out", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output and str(bad) in r.output
    assert not out.exists()
    src = tmp_path / "ok.csv"
    _coingecko_like(src, [1.0, 2.0, 3.0])
    r = CliRunner().invoke(app, ["data", "series", str(src), "--out", str(tmp_path / "nope" / "o.csv")])
    assert r.exit_code == 2 and "folder does not exist" in r.output
