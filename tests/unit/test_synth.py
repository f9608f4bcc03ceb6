"""Synthetic books: determinism, fitted distributions, and the fit against the real data."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from liqcascade.positions import synth
from liqcascade.positions.synth import (
    BLOCK,
    ETH_USD,
    debt_quantile_usd,
    iter_synth_book,
    ratio_quantile,
    synth_book,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "data"
ACCOUNTS = SHARED / "compound_v2_borrowers_2023" / "compound_v2_accounts_with_borrows.csv"
Q = np.array([0.1, 0.5, 0.9])


def test_deterministic_by_seed():
    a = synth_book(5000, 42, 2000.0, 0.825)
    b = synth_book(5000, 42, 2000.0, 0.825)
    c = synth_book(5000, 43, 2000.0, 0.825)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.float64 and a[0].shape == (5000,) and a[1].shape == (5000,)
    d = synth_book(5000, np.random.SeedSequence(42), 2000.0, 0.825)
    np.testing.assert_array_equal(a[0], d[0])


def test_prefix_stable_and_chunking_invariant():
    n = 2 * BLOCK + 123
    coll, debt = synth_book(n, 7, 1500.0, 0.8)
    small = synth_book(1000, 7, 1500.0, 0.8)
    np.testing.assert_array_equal(small[0], coll[:1000])
    np.testing.assert_array_equal(small[1], debt[:1000])
    for chunk in (1, 999, BLOCK, BLOCK + 1, n + 5):
        if chunk == 1:
            parts = list(iter_synth_book(50, 7, 1500.0, 0.8, chunk=1))
            assert len(parts) == 50
            np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), coll[:50])
            continue
        parts = list(iter_synth_book(n, 7, 1500.0, 0.8, chunk=chunk))
        assert all(p[0].size == chunk for p in parts[:-1])
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), coll)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), debt)


def test_empty_book():
    c, d = synth_book(0, 1, 2000.0, 0.8)
    assert c.shape == (0,) and d.shape == (0,)
    assert list(iter_synth_book(0, 1, 2000.0, 0.8)) == []


def test_units_follow_prices():
    c1, d1 = synth_book(1000, 3, 2000.0, 0.8, debt_price=1.0)
    c2, d2 = synth_book(1000, 3, 4000.0, 0.8, debt_price=2.0)
    np.testing.assert_allclose(c2, c1 / 2, rtol=1e-15)
    np.testing.assert_allclose(d2, d1 / 2, rtol=1e-15)


@pytest.mark.parametrize("lt, min_hf", [(0.825, 1.0), (0.5, 1.0), (0.9, 1.2), (1.0, 0.0)])
def test_health_factor_quantiles_match_fit(lt, min_hf):
    price, debt_price = 1800.0, 1.0
    coll, debt = synth_book(200_000, 11, price, lt, debt_price, min_hf=min_hf)
    hf = coll * price * lt / (debt * debt_price)
    assert hf.min() >= min_hf * (1 - 1e-12)
    floor = max(1.0, min_hf)
    c = hf  # the fitted ratio is the health factor (CF-weighted collateral)
    assert c.min() > floor * (1 - 1e-12)
    want = ratio_quantile(Q, floor=floor)
    got = np.quantile(c, Q)
    np.testing.assert_allclose(got, want, rtol=0.02)


def test_debt_size_quantiles_match_fit():
    _, debt = synth_book(200_000, 5, 2000.0, 0.825, debt_price=1.0)
    assert debt.min() >= synth.DEBT_MIN_ETH * ETH_USD * (1 - 1e-12)
    assert debt.max() <= synth.DEBT_MAX_ETH * ETH_USD * (1 + 1e-12)
    np.testing.assert_allclose(np.quantile(debt, Q), debt_quantile_usd(Q), rtol=0.05)


def test_quantile_helpers_are_consistent():
    qs = ratio_quantile([0.25, 0.75])
    np.testing.assert_allclose(synth.ratio_cdf(qs), [0.25, 0.75], atol=1e-9)
    qs = ratio_quantile([0.25, 0.75], floor=1.5)
    assert qs.min() > 1.5
    np.testing.assert_allclose(synth.ratio_cdf(qs, floor=1.5), [0.25, 0.75], atol=1e-9)
    assert abs(sum(synth.RATIO_W) - 1.0) < 1e-3


def test_bad_arguments():
    for kw in (dict(n=-1), dict(n=1.5), dict(price=0.0), dict(price=np.nan), dict(lt=0.0),
               dict(lt=1.5), dict(debt_price=-1.0), dict(min_hf=-1.0)):
        args = dict(n=10, seed=1, price=2000.0, lt=0.8) | kw
        with pytest.raises(ValueError):
            synth_book(**args)
    with pytest.raises(ValueError):
        synth_book(10, 1, 2000.0, 0.5, min_hf=1e6)  # no mass left above the floor
    with pytest.raises(ValueError):
        next(iter_synth_book(10, 1, 2000.0, 0.8, chunk=0))


def test_one_million_is_fast():
    synth_book(BLOCK, 0, 2000.0, 0.8)  # warm-up
    t = time.perf_counter()
    coll, debt = synth_book(1_000_000, 0, 2000.0, 0.8)
    elapsed = time.perf_counter() - t
    assert coll.shape == (1_000_000,) and np.all(np.isfinite(coll)) and np.all(debt > 0)
    assert elapsed < 3.0, f"1M positions took {elapsed:.2f}s"  # ~0.2 s on a laptop core


# --- against the real data --------------------------------------------------------------------------


def _calibration_module():
    spec = importlib.util.spec_from_file_location("calibrate_synth", REPO / "scripts" / "calibrate_synth.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.shared_data
def test_constants_reproduce_the_real_borrowers():
    if not ACCOUNTS.is_file():
        pytest.skip(f"shared data not found: {ACCOUNTS} (../shared/data is absent)")
    cal = _calibration_module()
    debt_all, coll_all, _ = cal.load_accounts(ACCOUNTS)
    d, c = cal.select(debt_all, coll_all, cal.DEBT_MIN_ETH, cal.C_FLOOR)
    assert d.size > 1000
    assert cal.DEBT_MIN_ETH == synth.DEBT_MIN_ETH and cal.C_FLOOR == synth.C_FLOOR

    # the shipped constants reproduce the data's ratio median and 10th/90th percentiles ...
    data_q = np.quantile(c, Q)
    np.testing.assert_allclose(ratio_quantile(Q), data_q, rtol=0.08)
    coll, debt = synth_book(200_000, 1, 1.0, 1.0, 1.0, min_hf=0.0)
    np.testing.assert_allclose(np.quantile(coll / debt, Q), data_q, rtol=0.08)
    # ... and the debt sizes (in ETH)
    np.testing.assert_allclose(debt_quantile_usd(Q) / ETH_USD, np.quantile(d, Q), rtol=0.15)
    assert synth.DEBT_MAX_ETH == pytest.approx(d.max(), abs=0.01)

    # re-fitting gives the shipped constants (the fits are deterministic)
    mu, s = cal.fit_truncated_lognormal(d, cal.DEBT_MIN_ETH, d.max())
    assert mu == pytest.approx(synth.DEBT_LOG_MU_ETH, abs=2e-3)
    assert s == pytest.approx(synth.DEBT_LOG_SIGMA, abs=2e-3)
    w, m, sd, _ = cal.fit_gmm(np.log(c - 1.0), len(synth.RATIO_W))
    np.testing.assert_allclose(w, synth.RATIO_W, atol=2e-3)
    np.testing.assert_allclose(m, synth.RATIO_MU, atol=2e-3)
    np.testing.assert_allclose(sd, synth.RATIO_SD, atol=2e-3)
