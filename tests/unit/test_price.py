"""Unit tests for liqcascade.prices.generate (exogenous price processes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.prices.common import YEAR_SECONDS, correlation_cholesky
from liqcascade.prices.crash.paths import crash_path
from liqcascade.prices.gbm.paths import gbm_increments, gbm_paths
from liqcascade.prices.generate import generate_paths
from liqcascade.prices.historical.paths import historical_paths
from liqcascade.prices.jump.paths import jump_compensator, jump_diffusion_paths
from liqcascade.prices.loading import load_price_csv

HOUR = 3600.0


# ------------------------------------------------------------------------------------ crash


def test_crash_path_shape_and_exact_endpoints():
    path = crash_path(100.0, 0.4, steps=20, start=3, over_steps=4)
    assert path.shape == (21,)
    assert path.dtype == np.float64
    assert np.all(path[:3] == 100.0)
    bottom = 3 + 4 - 1
    assert path[bottom] == 100.0 * (1 - 0.4)
    assert np.all(path[bottom:] == 60.0)
    # log-linear fall: equal log steps
    steps_log = np.diff(np.log(path[2 : bottom + 1]))
    np.testing.assert_allclose(steps_log, math.log(0.6) / 4, rtol=1e-12)


def test_crash_path_default_is_one_step_drop():
    path = crash_path(10.0, 0.5, steps=3)
    np.testing.assert_array_equal(path, [10.0, 5.0, 5.0, 5.0])


def test_crash_path_recovery():
    path = crash_path(100.0, 0.5, steps=30, start=2, over_steps=2, recovery=0.4, recovery_steps=5)
    bottom = 3
    assert path[0] == path[1] == 100.0
    assert path[bottom] == 50.0
    target = 50.0 + 0.4 * 50.0
    assert path[bottom + 5] == target
    assert np.all(path[bottom + 5 :] == target)
    assert np.all(np.diff(path[bottom : bottom + 6]) > 0)
    np.testing.assert_allclose(
        np.diff(np.log(path[bottom : bottom + 6])), math.log(target / 50.0) / 5, rtol=1e-12
    )


def test_crash_path_truncated_by_steps():
    path = crash_path(100.0, 0.3, steps=2, start=1, over_steps=10)
    assert path.shape == (3,)
    assert path[0] == 100.0
    assert 70.0 < path[2] < path[1] < 100.0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(shock=1.0), "price.shock"),
        (dict(shock=-0.1), "price.shock"),
        (dict(shock=0.1, start=0), "price.start"),
        (dict(shock=0.1, over_steps=0), "price.over_steps"),
        (dict(shock=0.1, recovery=0.5, recovery_steps=0), "price.recovery_steps"),
        (dict(shock=0.1, recovery=1.5, recovery_steps=2), "price.recovery"),
    ],
)
def test_crash_path_bad_params(kwargs, field):
    with pytest.raises(InputError) as ei:
        crash_path(100.0, steps=10, **kwargs)
    assert ei.value.where == field


def test_generate_crash_per_asset_shock_and_stable():
    p0 = np.array([100.0, 1.0, 2000.0])
    spec = {"kind": "crash", "shock": [0.3, 0.0, 0.5], "start_seconds": 120.0, "over_seconds": 180.0}
    out = generate_paths(spec, p0, 10, 60.0, 4, seed=1, stable=np.array([False, True, False]))
    assert out.shape == (4, 11, 3)
    np.testing.assert_array_equal(out[:, 0, :], np.broadcast_to(p0, (4, 3)))
    assert np.all(out[:, :, 1] == 1.0)
    assert out[0, 4, 0] == 70.0
    assert out[0, 4, 2] == 1000.0
    assert np.all(out == out[0])


# ------------------------------------------------------------------------------------ GBM


def test_gbm_log_return_moments_match_theory():
    rng = np.random.default_rng(12345)
    mu = np.array([0.1, -0.3])
    sigma = np.array([0.8, 0.4])
    dt_years = HOUR / YEAR_SECONDS
    steps, n = 48, 40_000
    paths = gbm_paths(rng, [100.0, 5.0], n, steps, mu, sigma, dt_years)
    assert paths.shape == (n, steps + 1, 2)
    assert np.all(paths[:, 0, :] == np.array([100.0, 5.0]))
    T = steps * dt_years
    lr = np.log(paths[:, -1, :] / paths[:, 0, :])
    mean_th = (mu - 0.5 * sigma**2) * T
    var_th = sigma**2 * T
    se_mean = np.sqrt(var_th / n)
    se_var = var_th * math.sqrt(2.0 / (n - 1))
    assert np.all(np.abs(lr.mean(axis=0) - mean_th) < 5 * se_mean)
    assert np.all(np.abs(lr.var(axis=0, ddof=1) - var_th) < 5 * se_var)


def test_gbm_via_generate_paths_moments():
    spec = {"kind": "gbm", "mu": 0.5, "sigma": 1.2}
    n, steps, dt = 4000, 24, HOUR
    out = generate_paths(spec, np.array([50.0]), steps, dt, n, seed=7)
    T = steps * dt / YEAR_SECONDS
    lr = np.log(out[:, -1, 0] / 50.0)
    var_th = 1.2**2 * T
    assert abs(lr.mean() - (0.5 - 0.5 * 1.2**2) * T) < 5 * math.sqrt(var_th / n)
    assert abs(lr.var(ddof=1) - var_th) < 5 * var_th * math.sqrt(2.0 / (n - 1))


def test_gbm_empirical_correlation_matches_target():
    corr = np.array([[1.0, 0.7, -0.3], [0.7, 1.0, 0.0], [-0.3, 0.0, 1.0]])
    chol = correlation_cholesky(corr, 3)
    rng = np.random.default_rng(99)
    inc = gbm_increments(rng, 2000, 50, 3, 0.0, [0.5, 1.0, 2.0], HOUR / YEAR_SECONDS, chol)
    assert inc.shape == (2000, 50, 3)
    emp = np.corrcoef(inc.reshape(-1, 3), rowvar=False)
    np.testing.assert_allclose(emp, corr, atol=0.02)


def test_generate_paths_correlation_through_spec():
    corr = [[1.0, 0.8], [0.8, 1.0]]
    spec = {"kind": "gbm", "sigma": [0.6, 0.9], "correlation": corr}
    out = generate_paths(spec, np.array([1.0, 2.0]), 100, HOUR, 300, seed=3)
    inc = np.diff(np.log(out), axis=1).reshape(-1, 2)
    assert abs(np.corrcoef(inc, rowvar=False)[0, 1] - 0.8) < 0.02


def test_zero_sigma_gbm_is_deterministic_drift():
    out = generate_paths({"kind": "gbm", "mu": 0.2, "sigma": 0.0}, np.array([10.0]), 5, 86400.0, 2, seed=0)
    expected = 10.0 * np.exp(0.2 * np.arange(6) / 365.0)
    np.testing.assert_allclose(out[0, :, 0], expected, rtol=1e-12)
    np.testing.assert_array_equal(out[0], out[1])


# ------------------------------------------------------------------------------------ jump diffusion


def test_jump_diffusion_mean_matches_compensated_drift():
    rng = np.random.default_rng(2024)
    mu, sigma, lam, jm, js = 0.3, 0.5, 20.0, -0.05, 0.1
    dt_years = 6 * HOUR / YEAR_SECONDS
    steps, n = 365, 40_000  # ~ 0.25 years
    paths = jump_diffusion_paths(rng, [100.0], n, steps, mu, sigma, lam, jm, js, dt_years)
    assert np.all(paths[:, 0, 0] == 100.0)
    T = steps * dt_years
    st = paths[:, -1, 0]
    se = st.std(ddof=1) / math.sqrt(n)
    expected = 100.0 * math.exp(mu * T)
    assert abs(st.mean() - expected) < 5 * se
    # the compensation matters at this tolerance: without it the mean would be far off
    k = float(jump_compensator(jm, js))
    assert abs(expected * math.exp(lam * k * T) - expected) > 20 * se
    # log-return variance: sigma^2 T + lam T (jm^2 + js^2)
    lr = np.log(st / 100.0)
    var_th = sigma**2 * T + lam * T * (jm**2 + js**2)
    assert abs(lr.var(ddof=1) - var_th) / var_th < 0.05


def test_jump_with_zero_intensity_equals_gbm_distribution():
    spec = {"kind": "jump", "mu": 0.0, "sigma": 0.7, "lam": 0.0, "jump_mean": -0.2, "jump_std": 0.1}
    out = generate_paths(spec, np.array([1.0]), 24, HOUR, 3000, seed=11)
    T = 24 * HOUR / YEAR_SECONDS
    lr = np.log(out[:, -1, 0])
    assert abs(lr.mean() + 0.5 * 0.49 * T) < 5 * math.sqrt(0.49 * T / 3000)


def test_generate_jump_paths_stable_asset_constant():
    spec = {"kind": "jump", "sigma": 0.8, "lam": 50.0, "jump_mean": -0.1, "jump_std": 0.05}
    p0 = np.array([30_000.0, 1.0])
    out = generate_paths(spec, p0, 50, HOUR, 20, seed=5, stable=np.array([False, True]))
    assert np.all(out[:, :, 1] == 1.0)
    assert np.all(out[:, 0, 0] == 30_000.0)
    assert np.unique(out[:, -1, 0]).size == 20


# ------------------------------------------------------------------------------------ seeds


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "gbm", "mu": 0.1, "sigma": [0.5, 0.9], "correlation": [[1, 0.5], [0.5, 1]]},
        {"kind": "jump", "sigma": 0.6, "lam": 30.0, "jump_mean": -0.05, "jump_std": 0.1},
    ],
)
def test_same_seed_identical_different_seed_different(spec):
    p0 = np.array([100.0, 3.0])
    a = generate_paths(spec, p0, 30, 60.0, 5, seed=42)
    b = generate_paths(spec, p0, 30, 60.0, 5, seed=42)
    c = generate_paths(spec, p0, 30, 60.0, 5, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # different paths within one run differ
    assert not np.array_equal(a[0], a[1])
    # a SeedSequence with the same entropy gives the same result, also when reused
    ss = np.random.SeedSequence(42)
    np.testing.assert_array_equal(generate_paths(spec, p0, 30, 60.0, 5, seed=ss), a)
    ss.spawn(3)
    np.testing.assert_array_equal(generate_paths(spec, p0, 30, 60.0, 5, seed=ss), a)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "gbm", "mu": 0.1, "sigma": [0.5, 0.9], "correlation": [[1, -0.4], [-0.4, 1]]},
        {"kind": "jump", "sigma": 0.6, "lam": 30.0, "jump_mean": -0.05, "jump_std": 0.1},
        {"kind": "crash", "shock": 0.2},
    ],
)
def test_chunking_invariance(spec):
    p0 = np.array([100.0, 3.0])
    whole = generate_paths(spec, p0, 40, 60.0, 10, seed=2025)
    first = generate_paths(spec, p0, 40, 60.0, 4, seed=2025, path_offset=0)
    second = generate_paths(spec, p0, 40, 60.0, 6, seed=2025, path_offset=4)
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)
    single = generate_paths(spec, p0, 40, 60.0, 1, seed=2025, path_offset=7)
    np.testing.assert_array_equal(single[0], whole[7])


def test_path_p_uses_spawned_seed_sequence():
    spec = {"kind": "gbm", "mu": 0.0, "sigma": 0.5}
    out = generate_paths(spec, np.array([1.0]), 10, 60.0, 3, seed=8)
    child = np.random.SeedSequence(8).spawn(3)[2]
    ref = gbm_paths(np.random.default_rng(child), [1.0], 1, 10, 0.0, 0.5, 60.0 / YEAR_SECONDS)
    np.testing.assert_array_equal(out[2], ref[0])


@pytest.mark.parametrize("seed", [-1, 1.5, "x", None])
def test_bad_seed_refused(seed):
    with pytest.raises(InputError) as ei:
        generate_paths({"kind": "gbm", "sigma": 0.5}, np.array([1.0]), 3, 60.0, 2, seed=seed)
    assert ei.value.where == "seed"


# ------------------------------------------------------------------------------------ correlation


@pytest.mark.parametrize(
    "corr, reason_part",
    [
        ([[1.0, 0.5], [0.4, 1.0]], "symmetric"),
        ([[1.0, 0.5], [0.5, 0.9]], "diagonal"),
        ([[1.0, 1.2], [1.2, 1.0]], "positive definite"),
        ([[1.0, 1.0], [1.0, 1.0]], "positive definite"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "2x2"),
        ([[1.0, float("nan")], [float("nan"), 1.0]], "finite"),
    ],
)
def test_invalid_correlation_refused(corr, reason_part):
    with pytest.raises(InputError) as ei:
        correlation_cholesky(corr, 2)
    assert ei.value.where == "price.correlation"
    assert reason_part in ei.value.reason
    spec = {"kind": "gbm", "sigma": 0.5, "correlation": corr}
    with pytest.raises(InputError) as ei:
        generate_paths(spec, np.array([1.0, 2.0]), 5, 60.0, 2, seed=0)
    assert "price.correlation" in str(ei.value)


def test_valid_correlation_cholesky():
    corr = np.array([[1.0, 0.3], [0.3, 1.0]])
    chol = correlation_cholesky(corr, 2)
    np.testing.assert_allclose(chol @ chol.T, corr)
    np.testing.assert_array_equal(correlation_cholesky(None, 3), np.eye(3))


# ------------------------------------------------------------------------------------ spec errors


@pytest.mark.parametrize(
    "spec, where",
    [
        ({"kind": "brownian"}, "price.kind"),
        ({"kind": "gbm"}, "price.sigma"),
        ({"kind": "gbm", "sigma": -0.1}, "price.sigma"),
        ({"kind": "gbm", "sigma": [0.1, 0.2, 0.3]}, "price.sigma"),
        ({"kind": "gbm", "sigma": 0.1, "sigmaa": 1}, "price"),
        ({"kind": "jump", "sigma": 0.1, "lam": 1.0, "jump_mean": 0.0}, "price.jump_std"),
        ({"kind": "jump", "sigma": 0.1, "lam": -1.0, "jump_mean": 0.0, "jump_std": 0.1}, "price.lam"),
        ({"kind": "crash"}, "price.shock"),
        ({"kind": "crash", "shock": [0.1, 1.0]}, "price.shock[1]"),
        ({"kind": "historical", "file": {"5": "x.csv"}}, "price.file"),
    ],
)
def test_bad_spec_refused(spec, where):
    with pytest.raises(InputError) as ei:
        generate_paths(spec, np.array([1.0, 2.0]), 5, 60.0, 2, seed=0)
    assert ei.value.where == where


def test_bad_stable_and_p0_refused():
    with pytest.raises(InputError):
        generate_paths({"kind": "crash", "shock": 0.1}, np.array([1.0, -2.0]), 5, 60.0, 2, seed=0)
    with pytest.raises(InputError) as ei:
        generate_paths(
            {"kind": "crash", "shock": 0.1}, np.array([1.0, 2.0]), 5, 60.0, 2, seed=0, stable=[1, 0]
        )
    assert ei.value.where == "stable"


def test_zero_steps_and_zero_paths():
    out = generate_paths({"kind": "gbm", "sigma": 0.5}, np.array([1.0, 2.0]), 0, 60.0, 3, seed=0)
    assert out.shape == (3, 1, 2)
    np.testing.assert_array_equal(out[:, 0], [[1.0, 2.0]] * 3)
    assert generate_paths({"kind": "gbm", "sigma": 0.5}, np.array([1.0]), 5, 60.0, 0, seed=0).shape == (0, 6, 1)


# ------------------------------------------------------------------------------------ CSV


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_load_price_csv_numeric_times(tmp_path):
    p = _write(tmp_path, "a.csv", "time,price\n0,100\n60,101.5\n\n120,99\n")
    t, pr = load_price_csv(p)
    assert t.dtype == np.float64 and pr.dtype == np.float64
    np.testing.assert_array_equal(t, [0.0, 60.0, 120.0])
    np.testing.assert_array_equal(pr, [100.0, 101.5, 99.0])


def test_load_price_csv_iso_times(tmp_path):
    p = _write(
        tmp_path,
        "b.csv",
        " Time , Price \n2024-03-01T00:00:00Z,100\n2024-03-01T00:01:00+00:00,101\n2024-03-01 00:03:00,102\n",
    )
    t, pr = load_price_csv(p)
    np.testing.assert_array_equal(np.diff(t), [60.0, 120.0])
    assert t[0] == 1709251200.0
    np.testing.assert_array_equal(pr, [100.0, 101.0, 102.0])


def test_load_price_csv_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    with pytest.raises(InputError) as ei:
        load_price_csv(p)
    assert ei.value.file == str(p)
    assert str(p) in str(ei.value) and "not found" in str(ei.value)


@pytest.mark.parametrize(
    "text, line, reason_part",
    [
        ("", 1, "empty"),
        ("\n  \n", 1, "empty"),
        ("timestamp,price\n0,1\n", 1, "header"),
        ("time,price,volume\n0,1,2\n", 1, "header"),
        ("time,price\n", 2, "no data"),
        ("time,price\n0,1\n60,abc\n", 3, "not a number"),
        ("time,price\n0,1\n60,nan\n", 3, "finite"),
        ("time,price\n0,1\n60,0\n", 3, "> 0"),
        ("time,price\n0,1\n60,-5\n", 3, "> 0"),
        ("time,price\n0,1\n60,2\n60,3\n", 4, "not after"),
        ("time,price\n0,1\n60,2\n30,3\n", 4, "not after"),
        ("time,price\n0,1\nyesterday,2\n", 3, "ISO-8601"),
        ("time,price\n0,1\n60\n", 3, "2 columns"),
        ("time,price\n0,1\n2024-01-01T00:00:00Z,2\n", 3, "mixes"),
    ],
)
def test_load_price_csv_bad_input(tmp_path, text, line, reason_part):
    p = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as ei:
        load_price_csv(p)
    err = ei.value
    assert err.file == str(p)
    assert err.where == f"line {line}"
    assert reason_part in err.reason
    msg = str(err)
    assert msg.startswith(f"{p}: line {line}: ")


# ------------------------------------------------------------------------------------ historical


def test_historical_rescale_linear():
    times = np.array([0.0, 100.0, 200.0])
    prices = np.array([2000.0, 1800.0, 2200.0])
    path = historical_paths(times, prices, 50.0, steps=4, dt_seconds=50.0)
    np.testing.assert_allclose(path, 50.0 * np.array([1.0, 0.95, 0.9, 1.0, 1.1]), rtol=1e-14)
    assert path[0] == 50.0


def test_historical_hold_and_extend():
    times = np.array([10.0, 70.0, 130.0])
    prices = np.array([4.0, 2.0, 5.0])
    path = historical_paths(times, prices, 1.0, steps=6, dt_seconds=40.0, method="hold")
    # grid 10, 50, 90, 130, 170, 210, 250 -> rows 0, 0, 1, 2, 2, 2, 2
    np.testing.assert_array_equal(path, [1.0, 1.0, 0.5, 1.25, 1.25, 1.25, 1.25])
    lin = historical_paths(times, prices, 1.0, steps=6, dt_seconds=40.0)
    assert np.all(lin[3:] == 1.25)  # file shorter than simulation: last price held


def test_generate_historical_from_files(tmp_path):
    f0 = _write(tmp_path, "eth.csv", "time,price\n0,100\n60,90\n120,80\n")
    _write(tmp_path, "btc.csv", "time,price\n2024-01-01T00:00:00Z,10\n2024-01-01T00:01:00Z,20\n")
    p0 = np.array([3000.0, 1.0, 60_000.0])
    # list form, absolute path and a None gap; btc relative to base_dir
    spec = {"kind": "historical", "file": [str(f0), None, "btc.csv"], "method": "linear"}
    out = generate_paths(spec, p0, 4, 30.0, 3, seed=0, base_dir=tmp_path)
    assert out.shape == (3, 5, 3)
    np.testing.assert_allclose(out[0, :, 0], 3000.0 * np.array([1.0, 0.95, 0.9, 0.85, 0.8]))
    assert np.all(out[:, :, 1] == 1.0)
    np.testing.assert_allclose(out[0, :, 2], 60_000.0 * np.array([1.0, 1.5, 2.0, 2.0, 2.0]))
    assert np.all(out == out[0])
    # dict form with string keys (as in TOML) gives the same for asset 0
    spec2 = {"kind": "historical", "file": {"0": str(f0)}}
    out2 = generate_paths(spec2, p0, 4, 30.0, 1, seed=0)
    np.testing.assert_array_equal(out2[0, :, 0], out[0, :, 0])
    assert np.all(out2[0, :, 1:] == p0[1:])


def test_generate_historical_bad_file_propagates(tmp_path):
    bad = _write(tmp_path, "bad.csv", "time,price\n0,1\n0,2\n")
    with pytest.raises(InputError) as ei:
        generate_paths({"kind": "historical", "file": [str(bad)]}, np.array([1.0]), 3, 1.0, 1, seed=0)
    assert ei.value.file == str(bad) and ei.value.where == "line 3"
