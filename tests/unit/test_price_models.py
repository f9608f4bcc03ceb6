"""Price kinds ``garch`` and ``bootstrap`` (liqcascade.prices.generate): shapes, determinism, chunk
independence, GARCH fitting and volatility clustering, bootstrap membership and correlation,
bad input, and one run on the reference data in ../shared/data (skipped when absent)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.prices.garch.paths import fit_garch, garch_step_returns
from liqcascade.prices.generate import generate_paths, price_notes
from liqcascade.prices.seeding import path_seed_sequences

HOUR = 3600.0
DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()

GARCH = {"kind": "garch", "omega": 2e-6, "alpha": 0.1, "beta": 0.85, "mu": 0.0}


def _write_prices(path: Path, prices, dt=HOUR, t0=1_600_000_000.0) -> Path:
    lines = ["time,price"] + [f"{t0 + k * dt:.0f},{float(p)!r}" for k, p in enumerate(prices)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _random_walk(rng, n, sigma=0.01, p0=100.0):
    return p0 * np.exp(np.concatenate([[0.0], np.cumsum(sigma * rng.standard_normal(n))]))


def _acf1(x):
    x = x - x.mean()
    return float((x[1:] * x[:-1]).sum() / (x * x).sum())


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """Two aligned hourly price files whose returns are strongly correlated (rho = 0.8)."""
    d = tmp_path_factory.mktemp("prices")
    rng = np.random.default_rng(11)
    z = rng.standard_normal((600, 2))
    z[:, 1] = 0.8 * z[:, 0] + 0.6 * z[:, 1]
    r = 0.01 * z
    pa = 2000.0 * np.exp(np.concatenate([[0.0], np.cumsum(r[:, 0])]))
    pb = 40000.0 * np.exp(np.concatenate([[0.0], np.cumsum(r[:, 1])]))
    return _write_prices(d / "a.csv", pa), _write_prices(d / "b.csv", pb), np.diff(np.log(pa)), np.diff(np.log(pb))


# ------------------------------------------------------------------------------ garch


def test_garch_shape_start_and_determinism():
    p = generate_paths(GARCH, [2000.0, 1.0], 50, HOUR, 6, 3, stable=np.array([False, True]))
    assert p.shape == (6, 51, 2) and p.dtype == np.float64
    assert np.all(p[:, 0, 0] == 2000.0) and np.all(p[:, :, 1] == 1.0)
    assert np.all(np.isfinite(p)) and np.all(p > 0)
    assert np.array_equal(p, generate_paths(GARCH, [2000.0, 1.0], 50, HOUR, 6, 3, stable=np.array([False, True])))
    assert not np.array_equal(p, generate_paths(GARCH, [2000.0, 1.0], 50, HOUR, 6, 4, stable=np.array([False, True])))
    assert len({p[j, -1, 0] for j in range(6)}) == 6  # paths differ from each other


@pytest.mark.parametrize("dt", [60.0, HOUR, 4 * HOUR])  # steps shorter, equal and longer than the interval
def test_garch_chunk_independence(dt):
    spec = {**GARCH, "interval_seconds": HOUR, "correlation": [[1.0, 0.5], [0.5, 1.0]]}
    whole = generate_paths(spec, [10.0, 20.0], 30, dt, 10, 42)
    parts = np.concatenate([generate_paths(spec, [10.0, 20.0], 30, dt, 5, 42),
                            generate_paths(spec, [10.0, 20.0], 30, dt, 5, 42, path_offset=5)])
    assert np.array_equal(whole, parts)


def test_garch_fit_recovers_parameters():
    r = garch_step_returns(path_seed_sequences(5, 0, 1), 8000, HOUR, HOUR, [0.0], [2e-6], [0.1], [0.85])[0, :, 0]
    f = fit_garch(r)
    assert f["n"] == 8000
    assert abs(f["alpha"] - 0.1) < 0.04
    assert abs(f["beta"] - 0.85) < 0.06
    assert f["omega"] == pytest.approx(2e-6, rel=0.6)
    # the unconditional variance is the best-determined quantity
    assert f["omega"] / (1 - f["alpha"] - f["beta"]) == pytest.approx(2e-6 / 0.05, rel=0.2)


def test_garch_volatility_clustering_beats_gbm():
    n = 20_000
    g = generate_paths(GARCH, [100.0], n, HOUR, 1, 9)[0, :, 0]
    var = GARCH["omega"] / (1 - GARCH["alpha"] - GARCH["beta"])
    sigma_ann = math.sqrt(var * 365 * 24)  # same unconditional variance per hour
    b = generate_paths({"kind": "gbm", "sigma": sigma_ann}, [100.0], n, HOUR, 1, 9)[0, :, 0]
    rg, rb = np.diff(np.log(g)), np.diff(np.log(b))
    assert rg.var() == pytest.approx(var, rel=0.25)
    assert rb.var() == pytest.approx(var, rel=0.1)
    assert _acf1(rg**2) > 0.1  # theory: about 0.17 for these parameters
    assert abs(_acf1(rb**2)) < 0.03
    assert _acf1(rg**2) > _acf1(rb**2) + 0.08


def test_garch_time_scaling_keeps_variance_per_hour():
    """Minute steps from hourly parameters: variance over an hour matches the hourly model."""
    p = generate_paths({**GARCH, "interval_seconds": HOUR}, [100.0], 60 * 400, 60.0, 4, 1)
    hourly = np.diff(np.log(p[:, ::60, 0]), axis=1).ravel()
    var = GARCH["omega"] / (1 - GARCH["alpha"] - GARCH["beta"])
    assert hourly.var() == pytest.approx(var, rel=0.25)


def test_garch_correlation_applied_to_innovations():
    spec = {**GARCH, "correlation": [[1.0, 0.7], [0.7, 1.0]]}
    p = generate_paths(spec, [1.0, 1.0], 4000, HOUR, 2, 5)
    r = np.diff(np.log(p), axis=1)
    z = r / r.std(axis=1, keepdims=True)
    rho = np.corrcoef(z[:, :, 0].ravel(), z[:, :, 1].ravel())[0, 1]
    assert rho == pytest.approx(0.7, abs=0.05)
    p0 = generate_paths(GARCH, [1.0, 1.0], 4000, HOUR, 2, 5)
    r0 = np.diff(np.log(p0), axis=1)
    assert abs(np.corrcoef(r0[:, :, 0].ravel(), r0[:, :, 1].ravel())[0, 1]) < 0.05


def test_garch_fitted_from_file(tmp_path):
    r = garch_step_returns(path_seed_sequences(8, 0, 1), 3000, HOUR, HOUR, [0.0], [2e-6], [0.1], [0.85])[0, :, 0]
    f = _write_prices(tmp_path / "g.csv", 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)])))
    spec = {"kind": "garch", "returns_file": "g.csv", "mu": 0.0}
    p = generate_paths(spec, [2000.0], 24, HOUR, 3, 1, base_dir=tmp_path)
    assert p.shape == (3, 25, 1) and np.all(np.isfinite(p))
    notes = price_notes(spec, [2000.0], HOUR, base_dir=tmp_path)
    assert any("fitted with arch" in n and "alpha=" in n and "g.csv" in n for n in notes)
    # the chunked call fits the same parameters (cached or not) and gives the same paths
    p2 = generate_paths(spec, [2000.0], 24, HOUR, 2, 1, base_dir=tmp_path, path_offset=1)
    assert np.array_equal(p[1:], p2)
    # n_paths == 0 checks the keys only (no file read): a sweep validates its points cheaply
    assert generate_paths({**spec, "returns_file": "missing.csv"}, [1.0], 3, HOUR, 0, 0).shape == (0, 4, 1)


def test_garch_bad_input(tmp_path):
    with pytest.raises(InputError, match=r"price\.beta.*< 1"):
        generate_paths({**GARCH, "alpha": 0.2, "beta": 0.8}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError, match=r"price\.omega"):
        generate_paths({**GARCH, "omega": 0.0}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError, match=r"price\.alpha.*required"):
        generate_paths({"kind": "garch", "omega": 1e-6, "beta": 0.9}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError, match=r"price\.omega.*not both"):
        generate_paths({**GARCH, "returns_file": "x.csv"}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError) as e:
        generate_paths({"kind": "garch", "returns_file": "nope.csv"}, [1.0], 5, HOUR, 1, 0, base_dir=tmp_path)
    assert "nope.csv" in str(e.value) and "not found" in str(e.value)
    _write_prices(tmp_path / "short.csv", [100.0, 101.0, 99.0, 100.5])
    with pytest.raises(InputError, match=r"short\.csv.*too few"):
        generate_paths({"kind": "garch", "returns_file": "short.csv"}, [1.0], 5, HOUR, 1, 0, base_dir=tmp_path)
    (tmp_path / "neg.csv").write_text("time,price\n0,100\n3600,-1\n")
    with pytest.raises(InputError, match=r"neg\.csv.*line 3.*> 0"):
        generate_paths({"kind": "garch", "returns_file": "neg.csv"}, [1.0], 5, HOUR, 1, 0, base_dir=tmp_path)


def test_garch_fit_rejects_nonstationary_result(monkeypatch):
    """The stationarity check on a fit's result (arch stubbed to return alpha + beta = 1)."""
    import arch

    class _Res:
        convergence_flag = 0
        params = {"omega": 0.01, "alpha[1]": 0.3, "beta[1]": 0.7}

    class _Model:
        def fit(self, **kw):
            return _Res()

    monkeypatch.setattr(arch, "arch_model", lambda *a, **k: _Model())
    r = np.random.default_rng(1).standard_normal(200)
    with pytest.raises(InputError, match="not stationary: alpha \\+ beta = 1.000000"):
        fit_garch(r, file="f.csv")


# -------------------------------------------------------------------------- bootstrap


def test_bootstrap_returns_are_file_returns(two_files):
    fa, fb, ra, rb = two_files
    spec = {"kind": "bootstrap", "returns_file": [str(fa), str(fb)], "block_seconds": 12 * HOUR}
    p = generate_paths(spec, [2000.0, 40000.0], 200, HOUR, 8, 5)
    assert p.shape == (8, 201, 2) and np.all(p[:, 0] == [2000.0, 40000.0])
    sim = np.diff(np.log(p), axis=1)
    # every simulated step return is one of the file's returns (up to exp/log round-off) ...
    for a, r in ((0, ra), (1, rb)):
        s = np.sort(r)
        x = sim[:, :, a].ravel()
        i = np.clip(np.searchsorted(s, x), 1, s.size - 1)
        near = np.minimum(np.abs(s[i] - x), np.abs(s[i - 1] - x))
        assert near.max() < 1e-9
    # ... and both assets take the return of the same hour (same block positions)
    idx_a = np.array([np.argmin(np.abs(ra - x)) for x in sim[0, :, 0]])
    idx_b = np.array([np.argmin(np.abs(rb - x)) for x in sim[0, :, 1]])
    assert np.array_equal(idx_a, idx_b)
    # blocks: within a block of 12 steps the file's returns follow one another
    assert np.all(np.diff(idx_a[:12]) == 1)


def test_bootstrap_correlation_preserved(two_files):
    fa, fb, ra, rb = two_files
    spec = {"kind": "bootstrap", "returns_file": [str(fa), str(fb)], "block_seconds": 6 * HOUR}
    p = generate_paths(spec, [1.0, 1.0], 1000, HOUR, 4, 2)
    sim = np.diff(np.log(p), axis=1)
    emp = np.corrcoef(ra, rb)[0, 1]
    got = np.corrcoef(sim[:, :, 0].ravel(), sim[:, :, 1].ravel())[0, 1]
    assert emp == pytest.approx(0.8, abs=0.05)
    assert got == pytest.approx(emp, abs=0.05)


def test_bootstrap_determinism_and_chunks(two_files):
    fa, fb, *_ = two_files
    spec = {"kind": "bootstrap", "returns_file": {0: str(fa), 1: str(fb)}, "block_seconds": 5 * HOUR}
    for dt in (60.0, HOUR, 3 * HOUR):
        whole = generate_paths(spec, [1.0, 2.0], 40, dt, 10, 99)
        parts = np.concatenate([generate_paths(spec, [1.0, 2.0], 40, dt, 5, 99),
                                generate_paths(spec, [1.0, 2.0], 40, dt, 5, 99, path_offset=5)])
        assert np.array_equal(whole, parts)
        assert np.array_equal(whole, generate_paths(spec, [1.0, 2.0], 40, dt, 10, 99))


def test_bootstrap_time_scaling(two_files):
    fa, _, ra, _ = two_files
    spec = {"kind": "bootstrap", "returns_file": str(fa), "block_seconds": 12 * HOUR}
    # 3-hour steps: each step is the sum of 3 consecutive file returns
    p = generate_paths(spec, [1.0], 30, 3 * HOUR, 2, 0)
    sums = np.log(np.exp(np.convolve(ra, np.ones(3), mode="valid")))
    x = np.diff(np.log(p[0, :, 0]))
    assert all(np.min(np.abs(sums - v)) < 1e-9 for v in x)
    # minute steps: each hour's return is spread over 60 steps (a straight line in log price)
    q = generate_paths(spec, [1.0], 240, 60.0, 1, 0)
    y = np.diff(np.log(q[0, :, 0])).reshape(4, 60)
    assert np.allclose(y, y[:, :1], rtol=0, atol=1e-12)
    assert all(np.min(np.abs(ra - v)) < 1e-9 for v in y[:, 0] * 60)
    notes = price_notes(spec, [1.0], 60.0)
    assert any("spread evenly over 60 steps" in n for n in notes)


def test_bootstrap_bad_input(tmp_path, two_files):
    fa, *_ = two_files
    with pytest.raises(InputError, match=r"price\.returns_file.*required"):
        generate_paths({"kind": "bootstrap"}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError, match=r"price\.correlation.*not used"):
        generate_paths({"kind": "bootstrap", "returns_file": str(fa), "correlation": [[1.0]]}, [1.0], 5, HOUR, 1, 0)
    with pytest.raises(InputError, match=r"price\.block_seconds.*600"):
        generate_paths({"kind": "bootstrap", "returns_file": str(fa), "block_seconds": 1000 * HOUR}, [1.0], 5, HOUR, 1, 0)
    _write_prices(tmp_path / "one.csv", [100.0, 101.0])
    with pytest.raises(InputError, match=r"one\.csv.*too few prices: 2"):
        generate_paths({"kind": "bootstrap", "returns_file": "one.csv"}, [1.0], 5, HOUR, 1, 0, base_dir=tmp_path)
    (tmp_path / "zero.csv").write_text("time,price\n0,100\n3600,0\n7200,5\n")
    with pytest.raises(InputError, match=r"zero\.csv.*line 3"):
        generate_paths({"kind": "bootstrap", "returns_file": "zero.csv"}, [1.0], 5, HOUR, 1, 0, base_dir=tmp_path)
    (tmp_path / "late.csv").write_text("time,price\n" + "\n".join(f"{10**6 + k * 3600},{100 + k}" for k in range(5)))
    with pytest.raises(InputError, match="overlap"):
        generate_paths({"kind": "bootstrap", "returns_file": [str(fa), "late.csv"]}, [1.0, 1.0], 5, HOUR, 1, 0,
                       base_dir=tmp_path)


def test_scenario_model_accepts_and_refuses():
    from liqcascade.scenario.models import PriceProcess

    pp = PriceProcess(kind="garch", omega=1e-6, alpha=0.05, beta=0.9)
    assert pp.block_seconds is None and pp.interval_seconds is None
    PriceProcess(kind="bootstrap", returns_file=["a.csv", "b.csv"], block_seconds=10 * HOUR)
    with pytest.raises(ValueError, match="needs returns_file"):
        PriceProcess(kind="bootstrap")
    with pytest.raises(ValueError, match="omega, alpha and beta"):
        PriceProcess(kind="garch", omega=1e-6)
    with pytest.raises(ValueError, match="stationary"):
        PriceProcess(kind="garch", omega=1e-6, alpha=0.5, beta=0.5)


def test_garch_example_runs():
    """examples/garch.toml (fixed parameters, no data) runs through the engine, bit-for-bit twice."""
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import make_paths
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(Path(__file__).resolve().parents[2] / "examples" / "garch.toml")
    c = compile_scenario(sc, base)
    p = make_paths(c, n_paths=3)
    assert p.shape == (3, sc.simulation.steps + 1, len(c.assets))
    assert np.array_equal(p, make_paths(c, n_paths=3))
    assert np.all(p[:, :, c.stable] == c.p0[c.stable])


# --------------------------------------------------------------------- reference data


@pytest.mark.shared_data
def test_reference_hourly_weth_wbtc(tmp_path):
    folder = DATA / "hourly_prices_2021_2024" / "coingecko"
    fa, fb = folder / "WETH_usd.csv", folder / "WBTC_usd.csv"
    if not (fa.exists() and fb.exists()):
        pytest.skip("needs ../shared/data/hourly_prices_2021_2024/coingecko/{WETH,WBTC}_usd.csv "
                    "(reference data beside the repository; absent here)")
    # the engine reads time,price CSVs; the data loaders convert the downloaded files
    from liqcascade.data.formats import price_series, write_price_csv

    with pytest.raises(InputError, match="liqcascade data series"):
        generate_paths({"kind": "bootstrap", "returns_file": [str(fa)]}, [2000.0], 24, HOUR, 1, 1)
    conv = []
    for f in (fa, fb):
        out = tmp_path / f.name
        write_price_csv(out, *price_series(f))
        conv.append(out)
    fa, fb = conv
    boot = {"kind": "bootstrap", "returns_file": [str(fa), str(fb)], "block_seconds": 24 * HOUR}
    p = generate_paths(boot, [2000.0, 40000.0], 24 * 30, HOUR, 40, 1)
    sim = np.diff(np.log(p), axis=1)
    got = np.corrcoef(sim[:, :, 0].ravel(), sim[:, :, 1].ravel())[0, 1]
    assert 0.5 < got < 0.95  # ETH and BTC move together (hourly correlation about 0.8 in 2021-2023)
    notes = price_notes(boot, [2000.0, 40000.0], HOUR)
    assert "snapped" in notes[0] and "WETH_usd.csv" in notes[0]
    garch = {"kind": "garch", "returns_file": [str(fa)], "mu": 0.0}
    g = generate_paths(garch, [2000.0], 48, HOUR, 5, 1)
    assert np.all(np.isfinite(g)) and np.all(g > 0)
    note = price_notes(garch, [2000.0], HOUR)[0]
    assert "fitted with arch" in note
    alpha = float(note.split("alpha=")[1].split(",")[0])
    beta = float(note.split("beta=")[1].split(" ")[0])
    assert 0 < alpha < 0.5 and 0.5 < beta < 1 and alpha + beta < 1


def test_mc_run_with_fitted_garch_reports_fit_and_ignores_chunking(tmp_path):
    """`mc` on a scenario whose GARCH is fitted on a file: fitted values in the run's notes, and
    the per-path results are the same with chunks of 2 and of 5."""
    from liqcascade.montecarlo.runner import execute, load_point, plan_run

    r = garch_step_returns(path_seed_sequences(8, 0, 1), 400, HOUR, HOUR, [0.0], [2e-5], [0.1], [0.85])[0, :, 0]
    _write_prices(tmp_path / "eth.csv", 2000.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)])))
    ex = Path(__file__).resolve().parents[2] / "examples"
    text = (ex / "garch.toml").read_text()
    text = text.replace("steps = 1440", "steps = 120").replace("paths = 64", "paths = 6")
    text = text.replace('positions = "minimal_positions.csv"', f'positions = "{ex / "minimal_positions.csv"}"')
    start, end = text.index("[price]"), text.index("[[venues]]")
    text = text[:start] + '[price]\nkind = "garch"\nreturns_file = { WETH = "eth.csv" }\n\n' + text[end:]
    scen = tmp_path / "s.toml"
    scen.write_text(text)
    cols = []
    for chunk in (2, 5):
        plan = plan_run(scen, paths=6, chunk_paths=chunk)
        rep = execute(plan, tmp_path / f"store{chunk}", workers=0)
        assert rep.status == "complete"
        assert any("fitted with arch" in n and "eth.csv" in n for n in rep.notes)
        cols.append(load_point(tmp_path / f"store{chunk}", rep.run_id, plan.valid_points[0].point_id))
    for k in ("final_price_WETH", "max_drawdown_WETH", "liquidations", "repaid"):
        assert np.array_equal(cols[0][k], cols[1][k])
    assert len(set(cols[0]["final_price_WETH"].tolist())) == 6


def test_grid_samples_a_finer_file_at_the_slot_times():
    # an hourly and a 10-minute series with the same drift of 0.01 per hour: on the common hourly
    # grid both must give 0.01 every hour (the finer file is read at the slot instants)
    from liqcascade.prices.loading import returns_on_grid

    t0 = 1_600_000_000.0
    th = t0 + HOUR * np.arange(25)
    tm = t0 + 600.0 * np.arange(145)
    series = [(th, 100.0 * np.exp(0.01 * (th - t0) / HOUR)), (tm, 50.0 * np.exp(0.01 * (tm - t0) / HOUR))]
    R, interval, _ = returns_on_grid(series, ["h.csv", "m.csv"], 2)
    assert interval == HOUR
    np.testing.assert_allclose(R, 0.01, rtol=1e-9)


def test_bootstrap_refuses_blocks_that_fit_at_too_few_positions(tmp_path):
    f = _write_prices(tmp_path / "day.csv", 100.0 * np.exp(np.cumsum(np.full(1441, 1e-4))), dt=60.0)
    spec = {"kind": "bootstrap", "returns_file": str(f)}  # default block: one day = the whole file
    with pytest.raises(InputError, match=r"price\.block_seconds.*fit at only 1 position"):
        generate_paths(spec, [100.0], 30, 60.0, 5, 0)
    p = generate_paths({**spec, "block_seconds": 3600.0}, [100.0], 30, 60.0, 5, 0)
    assert p.shape == (5, 31, 1)
