"""Regression tests for the extremes: a venue that runs out of bids (its price would reach zero),
errors inside the compiled parallel loops, numbers beyond float64, NumPy warnings on the
terminal. Each reproducer of the robustness report is here as it was filed.

In-process (:class:`typer.testing.CliRunner`); one subprocess checks what a user sees on a
terminal (exit status, stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

ZERO_TOML = """\
name = "zero-price"
[simulation]
steps = 5
{extra}
[[assets]]
name = "A"
price = 100.0
[[assets]]
name = "Q"
price = 1.0
stable = true
[[venues]]
name = "book"
asset = "A"
kind = "book"
depth = [[0.2, 1000.0]]
[[protocols]]
name = "aave"
positions = "positions.csv"
collateral = "A"
debt = "Q"
[protocols.params.A]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
"""
ZERO_CSV = "id,collateral,debt\nbig,1000000.0,90000000.0\nsmall,1.0,50.0\n"
FLOOR = 100.0 * 1e-9  # the default floor: 1e-9 x the initial price

_runner = CliRunner()


def invoke(*args):
    r = _runner.invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}") from r.exception
    try:
        return r.exit_code, r.stdout, r.stderr
    except ValueError:  # older Click without separate stderr capture
        return r.exit_code, r.output, ""


def strict_json(text: str):
    """Parse refusing NaN and Infinity (what a browser's JSON.parse does)."""
    def bad(tok):
        raise AssertionError(f"non-standard JSON token {tok!r}")

    return json.loads(text, parse_constant=bad)


@pytest.fixture
def zero(tmp_path):
    def make(extra: str = "", csv: str = ZERO_CSV) -> Path:
        (tmp_path / "positions.csv").write_text(csv)
        p = tmp_path / "zero.toml"
        p.write_text(ZERO_TOML.format(extra=extra))
        return p

    return make


def test_zero_price_run_ends_at_the_floor_with_bad_debt(zero):
    """Was: a traceback (ZeroDivisionError in the Aave sizing), exit 1."""
    code, out, err = invoke("run", zero(), "--json")
    assert code == 0, err
    d = strict_json(out)
    t = d["totals"]
    assert t["liquidations"] == 2
    assert t["bad_debt"] > 2e7  # the big position's collateral ran out
    assert t["final_price"]["A"] == pytest.approx(FLOOR, rel=1e-12)
    assert any("ran out of bids" in n for n in d["notes"])


def test_zero_price_curve_is_finite_and_at_the_floor(zero):
    """Was: exit 0 with uninitialised memory (final price 7.7e170, rounds 7e18) from an
    exception raised inside the parallel loop."""
    code, out, err = invoke("curve", zero(), "--shocks", "0:0.2:0.1", "--json")
    assert code == 0, err
    d = strict_json(out)
    for p in d["points"]:
        assert p["final_price"] == pytest.approx(FLOOR, rel=1e-12)
        assert 1 <= p["rounds"] <= 5 and p["liquidations"] == 2
        for k in ("liquidated_collateral", "repaid_debt", "bad_debt", "protocol_fees", "liquidator_bonus"):
            assert np.isfinite(p[k]) and p[k] >= 0.0
        assert p["bad_debt"] > 0.0
    assert any("ran out of bids" in n for n in d["notes"])


@pytest.mark.parametrize("record", [0, 1, 3])
def test_zero_price_identical_paths_agree(zero, record):
    """Was: with no recorded paths, one of three identical paths reported 0 liquidations."""
    code, out, err = invoke("run", zero(f"record_paths = {record}"), "--paths", "3", "--json")
    assert code == 0, err
    per = strict_json(out)["per_path"]
    assert per["liquidations"] == [2.0, 2.0, 2.0]
    assert len(set(per["bad_debt"])) == 1 and per["bad_debt"][0] > 0


def test_zero_price_on_a_pool_and_a_user_floor(zero, tmp_path):
    """A pool drained by a sale many times its depth stops at the floor the scenario sets (no
    arbitrage brings it back toward the reference price)."""
    p = zero("[arbitrage]\nenabled = false\nto_reference = false")
    text = p.read_text().replace('kind = "book"\ndepth = [[0.2, 1000.0]]', 'kind = "cpmm"\nreserve_asset = 10.0\nmin_price = 0.5')
    p.write_text(text)
    code, out, err = invoke("run", p, "--json")
    assert code == 0, err
    assert strict_json(out)["totals"]["final_price"]["A"] == pytest.approx(0.5, rel=1e-9)
    code, out, err = invoke("curve", p, "--shocks", "0,0.5", "--json")
    assert code == 0, err
    assert [q["final_price"] for q in strict_json(out)["points"]] == pytest.approx([0.5, 0.5], rel=1e-9)


@pytest.mark.parametrize("floor, why", [("0.0", "greater than 0"), ("100.0", "below the asset's price"),
                                        ("1e-11", "at least 1e-12")])
def test_bad_floor_is_refused(zero, floor, why):
    p = zero()
    p.write_text(p.read_text().replace('depth = [[0.2, 1000.0]]', f'depth = [[0.2, 1000.0]]\nmin_price = {floor}'))
    code, out, err = invoke("validate", p)
    assert code == 2 and err.startswith("error: ") and "min_price" in err and why in err, err


# ---------------------------------------------------------------------------------------------
# errors inside the compiled parallel loops


@pytest.fixture
def no_floor(monkeypatch):
    """Venues built without a floor (as hand-built kernel states are): the book's price then
    underflows to 0 and the Aave sizing divides by it inside the kernels."""
    import liqcascade.engine.compile as C
    from liqcascade.venues.kernel import FLOOR as COL

    real = C.make_venue_state

    def unfloored(specs):
        vs, vdk, vdq = real(specs)
        vs[:, COL] = 0.0
        return vs, vdk, vdq

    monkeypatch.setattr(C, "make_venue_state", unfloored)


@pytest.mark.parametrize("args, per_position", [(("curve", "--shocks", "0:0.2:0.1"), False),
                                                (("curve", "--shocks", "0:0.2:0.1"), True),
                                                (("run", "--paths", "3"), False), (("run",), False)])
def test_error_inside_a_kernel_is_an_error(zero, no_floor, args, per_position):
    """Every prange loop (curve: the aggregated and the per-position static kernel — Euler's
    incentive needs the latter; run: simulate_many) and the serial loop report an error inside a
    kernel as one line and exit status 1, never as a result."""
    extra = "record_paths = 0" if "--paths" in args else ""
    p = zero(extra)
    if per_position:
        p.write_text(p.read_text().replace('debt = "Q"\n', 'debt = "Q"\nincentive = "euler"\n'))
    code, out, err = invoke(args[0], p, *args[1:], "--json")
    assert code == 1, (out, err)
    assert out == ""
    # the reproducer's big position is liquidatable at t = 0, which the engine warns about first
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "ZeroDivisionError" in lines[0], err
    assert "zero.toml" in lines[0]


def test_status_codes_flag_unfinished_and_nonfinite():
    from liqcascade.engine.extremes import ST_NONFINITE, ST_UNFINISHED, check_status
    from liqcascade.errors import KernelError

    check_status(np.zeros(3, np.int64), "x", str)
    with pytest.raises(KernelError, match=r"shock 2 \(and 1 more\) stopped with an error.*: ZeroDivisionError: boom"):
        def rerun(i):
            raise ZeroDivisionError("boom")
        check_status(np.array([0, 0, ST_UNFINISHED, ST_NONFINITE]), "static", lambda i: f"shock {i}", rerun)
    with pytest.raises(KernelError, match="path 1 produced a NaN"):
        check_status(np.array([0, ST_NONFINITE]), "dynamic", lambda i: f"path {i}")


# ---------------------------------------------------------------------------------------------
# overflow and validation bounds


@pytest.mark.parametrize("cmd", [("validate",), ("run", "--json"), ("curve", "--json")])
def test_debt_beyond_float64_range_is_refused(zero, cmd):
    """Was: accepted; run --json printed "bad_debt": Infinity, curve --json NaN amounts, and
    NumPy overflow warnings went to stderr, even on validate and before error: lines."""
    p = zero(csv="id,collateral,debt\nbig,1000000.0,1.7e308\n")
    code, out, err = invoke(cmd[0], p, *cmd[1:])
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: {p.parent / 'positions.csv'}: line 2, column 'debt': 1.7e+308 is above 1e+18, "
        "the largest amount the engine's float64 arithmetic carries"]


@pytest.mark.parametrize("field, value", [
    ("[price]\nkind = \"gbm\"\nsigma = 1e300", "price.sigma"),
    ("[price]\nkind = \"gbm\"\nsigma = 1.0\nmu = -1e9", "price.mu"),
    ("[liquidators]\ncapital = 1e300", "liquidators.capital"),
    ("[liquidators]\ngas_cost = 1e200", "liquidators.gas_cost"),
])
def test_scenario_numbers_beyond_float64_range_are_refused(zero, field, value):
    """Was: sigma = 1e300 passed validation and crashed the run like a zero price."""
    code, out, err = invoke("validate", zero(field))
    assert code == 2 and err.startswith(f"error: ") and value in err, err


@pytest.mark.parametrize("price, ok", [("1e12", True), ("1.0000000000000002e12", False), ("1e-12", True),
                                       ("9.9e-13", False)])
def test_price_bounds_on_both_sides(zero, price, ok):
    p = zero()
    p.write_text(p.read_text().replace("price = 100.0", f"price = {price}"))
    code, out, err = invoke("validate", p)
    assert (code == 0) == ok, err
    if not ok:
        assert code == 2 and "assets[0].price" in err, err


@pytest.mark.parametrize("amount, ok", [("1e18", True), ("1.0000000000000002e18", False), ("1e-18", True),
                                         ("9e-19", False), ("0", True)])
def test_amount_bounds_on_both_sides(zero, amount, ok):
    code, out, err = invoke("validate", zero(csv=f"id,collateral,debt\na,{amount},1.0\nb,1.0,{amount}\n"))
    assert (code == 0) == ok, err


def test_no_numpy_warning_reaches_the_terminal(zero):
    """A real process (what a user sees): stderr holds the one error line and nothing else."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        pytest.skip("mutmut's mutants exist only in its own test process")
    p = zero(csv="id,collateral,debt\nbig,1e300,1.7e308\n")
    r = subprocess.run([sys.executable, "-m", "liqcascade.cli", "run", str(p), "--json"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error: "), r.stderr
