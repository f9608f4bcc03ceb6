"""The peg model: price files in three formats, the ratio on the grid, the fundamental oracle
(kernel against twin), scenario checks, and the direction test on a synthetic discount: a
market-price oracle liquidates loops that an exchange-rate oracle leaves alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import make_paths, run_dynamic
from liqcascade.errors import InputError
from liqcascade.kernels import dynamic as KD
from liqcascade.oracles.dispatch import oracle_step
from liqcascade.oracles.kernel import NSTATE, S_PRICE
from liqcascade.oracles.pack import ORACLE_KINDS, oracle_params
from liqcascade.oracles.twin import run_oracle_py
from liqcascade.pegs.model import Peg
from liqcascade.pegs.series import ratio_on_grid, read_prices
from liqcascade.scenario.models import Scenario

T0 = 1654041600.0  # 2022-06-01T00:00:00Z


def test_three_price_formats(tmp_path):
    (tmp_path / "a.csv").write_text("time,price\n2022-06-01T00:00:00Z,2\n2022-06-01T01:00:00Z,3\n")
    (tmp_path / "b.csv").write_text("symbol,timestamp,USD_price\nX,1654041600000,2\nX,1654045200000,3\n")
    (tmp_path / "c.csv").write_text("open_time,open,high,low,close,volume\n"
                                    "2022-06-01 00:00:00+00:00,9,9,9,2,1\n2022-06-01 01:00:00+00:00,9,9,9,3,1\n")
    for f in ("a.csv", "b.csv", "c.csv"):
        t, p = read_prices(tmp_path / f)
        assert list(t) == [T0, T0 + 3600] and list(p) == [2.0, 3.0]
    (tmp_path / "d.csv").write_text("when,what\n1,2\n")
    with pytest.raises(InputError, match="expected a header"):
        read_prices(tmp_path / "d.csv")
    with pytest.raises(InputError, match="file not found"):
        read_prices(tmp_path / "missing.csv")


def _series(tmp_path, ratio):
    num = "time,price\n" + "".join(f"{T0 + 3600 * k:.0f},{2000 * r}\n" for k, r in enumerate(ratio))
    den = "time,price\n" + "".join(f"{T0 + 3600 * k:.0f},2000\n" for k in range(len(ratio)))
    (tmp_path / "num.csv").write_text(num)
    (tmp_path / "den.csv").write_text(den)
    return {"numerator": "num.csv", "denominator": "den.csv", "start": "2022-06-01T00:00:00Z"}


def test_ratio_on_grid_and_its_bounds(tmp_path):
    peg = Peg(asset="X", series=_series(tmp_path, [1.0, 0.98, 0.95, 0.97]))
    r = ratio_on_grid(peg, tmp_path, 6, 1800.0, "pegs[0]")
    np.testing.assert_allclose(r, [1.0, 0.99, 0.98, 0.965, 0.95, 0.96, 0.97])
    with pytest.raises(InputError, match="not inside the series"):
        ratio_on_grid(peg, tmp_path, 7, 1800.0, "pegs[0]")


def test_fundamental_oracle_kernel_matches_twin():
    T = 50
    params = oracle_params("fundamental", dt_seconds=3600.0, lag_s=7200.0, fundamental=1.06,
                           fundamental_growth_per_s=0.04 / 31_536_000)
    kind = ORACLE_KINDS["fundamental"]
    hist = np.ones((1, T + 1))
    st = np.zeros(NSTATE)
    st[S_PRICE] = 1.0
    got = []
    for t in range(T + 1):
        oracle_step(kind, params, np.array([0]), hist, t, st)
        got.append(st[S_PRICE])
    want = run_oracle_py(kind, params, hist, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert got[-1] == pytest.approx(1.06 * np.exp(0.04 * (T - 2) * 3600 / 31_536_000), rel=1e-13)


def _scenario(tmp_path, reads: str, ratio) -> Scenario:
    return Scenario.model_validate({
        "name": "peg", "simulation": {"steps": len(ratio) - 1, "dt_seconds": 3600, "paths": 1},
        "assets": [{"name": "LST", "price": 1.06}, {"name": "ETH", "price": 1.0, "stable": True}],
        "pegs": [{"asset": "LST", "fundamental": 1.06, "series": _series(tmp_path, ratio)}],
        "venues": [{"name": "pool", "asset": "LST", "kind": "stableswap", "reserve_asset": 1e5, "rate": 1.06,
                    "amp": 50, "fee": 0.0004}],
        "oracles": [{"name": "o", "asset": "LST", "reads": reads}],
        "protocols": [{"name": "p", "positions": "-", "collateral": "LST", "debt": "ETH",
                       "params": {"LST": {"liquidation_threshold": 0.95, "liquidation_bonus": 0.01,
                                          "protocol_fee": 0.1}}}],
        "liquidators": {"mode": "mechanical"},
        "arbitrage": {"enabled": False, "to_reference": False},
    })


def test_market_oracle_liquidates_what_the_exchange_rate_oracle_does_not(tmp_path, kit):
    rng = np.random.default_rng(11)
    ratio = np.concatenate([np.linspace(1.0, 0.93, 12), np.full(8, 0.93)])
    n = 50
    coll = 10 ** rng.uniform(1, 3, n)
    debt = coll * 1.06 * 0.95 / rng.uniform(1.01, 1.2, n)
    out = {}
    for reads in ("market", "fundamental"):
        c = compile_scenario(_scenario(tmp_path, reads, ratio), tmp_path,
                             book=kit.join_books(coll, debt, np.zeros(n, np.int64), [0.95]))
        paths = make_paths(c)
        np.testing.assert_allclose(paths[0, :, 0], 1.06 * np.interp(np.arange(20), np.arange(20), ratio))
        res = run_dynamic(c, paths=paths, record_paths=1)
        out[reads] = res.summary[0, KD.SUM_NLIQ]
    assert out["market"] > 0
    assert out["fundamental"] == 0


def test_scenario_checks(tmp_path):
    sc = _scenario(tmp_path, "market", [1.0, 0.99]).model_dump()
    sc["pegs"] = []
    sc["oracles"][0]["reads"] = "fundamental"
    with pytest.raises(ValueError, match="no \\[\\[pegs\\]\\] entry"):
        Scenario.model_validate(sc)
    sc = _scenario(tmp_path, "market", [1.0, 0.99]).model_dump()
    sc["pegs"][0]["asset"] = "ETH"
    with pytest.raises(ValueError, match="stable"):
        Scenario.model_validate(sc)
