"""The cross-protocol clearinghouse ``[mechanisms.clearinghouse]``: direction tests on seeded
paths (no numbers tuned to pass), conservation, netting, reproducibility and bad input.

* two Aave-rule protocols liquidating into one thin pool on a crash: with the clearinghouse the
  largest one-step fall of the pool is lower than without it, on every seeded path;
* a lending protocol's forced sales exactly opposite to a perp venue's forced buys (generated
  by hypothesis): netting never increases any protocol's bad debt;
* units into the clearinghouse = netted + sold + bought by the backstop + still held, per
  protocol, at every step (the kernel's check) and at the end;
* the same seed gives the same output; bad configuration is one ``error: FILE: FIELD: REASON``
  line with exit status 2.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liqcascade.cli import app

runner = CliRunner()

TWO_LENDERS = """
name = "two-lenders"
[simulation]
steps = 90
dt_seconds = 60
paths = 6
seed = 17
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[price]
kind = "gbm"
mu = [-200.0, 0.0]
sigma = [0.6, 0.0]
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 400
fee = 0.003
[[oracles]]
name = "spot"
asset = "WETH"
kind = "spot"
[[protocols]]
name = "a"
kind = "aave_v3"
positions = "a.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "fixed"
close_factor = 1.0
oracles = { WETH = "spot" }
[protocols.params.WETH]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
protocol_fee = 0.0
[[protocols]]
name = "b"
kind = "aave_v3"
positions = "b.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "fixed"
close_factor = 1.0
oracles = { WETH = "spot" }
[protocols.params.WETH]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
protocol_fee = 0.0
[liquidators]
mode = "mechanical"
[arbitrage]
enabled = false
to_reference = true
"""

CLEARING = """
[mechanisms.clearinghouse]
max_step_move = 0.01
max_window_move = 0.5
window_seconds = 600
"""


def _book(prefix: str, n: int, coll: float, hf_lo: float, hf_hi: float) -> str:
    rows = []
    for k in range(n):
        hf = hf_lo + (hf_hi - hf_lo) * k / max(n - 1, 1)
        rows.append(f"{prefix}{k},{coll},{coll * 2000.0 * 0.8 / hf:.6f}\n")
    return "id,collateral,debt\n" + "".join(rows)


def _write(d: Path, text: str) -> Path:
    (d / "a.csv").write_text(_book("a", 30, 4.0, 1.01, 1.12))
    (d / "b.csv").write_text(_book("b", 30, 5.0, 1.02, 1.15))
    p = d / "s.toml"
    p.write_text(text)
    return p


def _run(path: Path, record: int | None = None, **kw):
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.engine.dynamic import run_dynamic
    from liqcascade.scenario.load import load_scenario

    sc, base = load_scenario(path)
    return run_dynamic(compile_scenario(sc, base), record_paths=record, **kw)


@pytest.fixture(scope="module")
def lenders(tmp_path_factory):
    d = tmp_path_factory.mktemp("clearing")
    off = _run(_write(d, TWO_LENDERS), record=6)
    on_path = d / "on.toml"
    on_path.write_text(TWO_LENDERS + CLEARING)
    on = _run(on_path, record=6)
    return off, on


def test_coordination_lowers_the_largest_step_fall_on_every_path(lenders):
    from liqcascade.kernels import layouts as KL

    off, on = lenders
    # both protocols liquidate on these paths (the test is about their sales)
    assert np.all(off.summary[:, KL.SUM_NLIQ] > 0)
    assert np.all(on.summary[:, KL.SUM_CH_IN] > 0)
    worst_off = off.summary[:, KL.SUM_MAX_MOVE]
    worst_on = on.summary[:, KL.SUM_MAX_MOVE]
    assert np.all(worst_on <= worst_off), (worst_on, worst_off)
    assert worst_on.mean() < worst_off.mean()
    # the same from the recorded spots themselves
    spot = on.steps_asset[:, :, 0, KL.ST_SPOT]
    falls = (spot[:, :-1] - spot[:, 1:]) / spot[:, :-1]
    np.testing.assert_allclose(falls.max(axis=1), worst_on, rtol=1e-12)


def test_units_are_conserved_per_protocol_every_step_and_at_the_end(lenders):
    from liqcascade.kernels import layouts as KL

    _, on = lenders
    s = on.summary
    assert np.all(s[:, KL.SUM_CH_CONS] <= 1e-9 * np.maximum(1.0, s[:, KL.SUM_CH_IN]))
    lhs = s[:, KL.SUM_CH_IN]
    rhs = s[:, KL.SUM_CH_NET] + s[:, KL.SUM_CH_SOLD] + s[:, KL.SUM_CH_BS] + s[:, KL.SUM_CH_HELD]
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    ch = on.clearing
    assert ch["participants"] == ["a", "b"]
    for p in ("a", "b"):
        pp = {k: np.asarray(v[p]) for k, v in ch["per_path"].items()}
        np.testing.assert_allclose(pp["units_in"], pp["netted"] + pp["sold"] + pp["backstop"] + pp["held"],
                                   rtol=1e-12)
        assert np.all(pp["units_in"] > 0)
    # what the clearinghouse sold is what the ledger says it sold into the venue
    sales = on.sales
    m = sales["source"] == "clearing"
    assert m.any()
    np.testing.assert_allclose(sales["amount"][m].sum(), s[:, KL.SUM_CH_SOLD].sum(), rtol=1e-9)


def test_without_the_mechanism_nothing_changes_in_the_other_columns(lenders, tmp_path):
    """The clearinghouse columns stay 0 when it is off (the goldens check the rest)."""
    from liqcascade.kernels import layouts as KL

    off, _ = lenders
    cols = [getattr(KL, n) for n in dir(KL) if n.startswith("SUM_CH_")]
    assert np.all(off.summary[:, cols] == 0.0)
    assert off.clearing == {}


def test_same_seed_same_output(tmp_path):
    p = _write(tmp_path, TWO_LENDERS + CLEARING + "\n[mechanisms.clearinghouse.backstop]\ncapital = 2e5\n")
    a = _run(p, record=2)
    b = _run(p, record=2)
    assert np.array_equal(a.summary, b.summary)
    assert np.array_equal(a.sales, b.sales)
    assert a.clearing["totals"] == b.clearing["totals"]
    assert a.clearing["totals"]["backstop"] > 0  # the backstop bought what waited


def test_backstop_buys_at_its_discount_and_books_its_pnl(tmp_path):
    from liqcascade.kernels import layouts as KL

    p = _write(tmp_path, TWO_LENDERS + CLEARING + "\n[mechanisms.clearinghouse.backstop]\ncapital = 1e5\n"
                                                  "discount = 0.1\n")
    r = _run(p, record=1)
    s = r.summary
    assert np.all(s[:, KL.SUM_CH_BS] > 0)
    bs = r.sales[r.sales["source"] == "backstop"]
    assert bs.shape[0] > 0 and set(bs["venue"]) == {"(backstop)"}
    # it pays 10 % below the pool's spot, and never more than its capital
    np.testing.assert_allclose(bs["proceeds"] / bs["amount"], 0.9 * bs["price_pre"], rtol=1e-12)
    assert bs["proceeds"].sum() <= 1e5 * (1 + 1e-12)


def test_pro_rata_and_urgency_split_the_same_total(tmp_path):
    from liqcascade.kernels import layouts as KL

    p = _write(tmp_path, TWO_LENDERS + CLEARING)
    q = tmp_path / "pr.toml"
    q.write_text(TWO_LENDERS + CLEARING.replace("window_seconds = 600", "window_seconds = 600\nallocation = \"pro_rata\""))
    u = _run(p, record=1)
    r = _run(q, record=1)
    # the first step's budget is the same; the rules only decide who gets it
    assert u.clearing["participants"] == r.clearing["participants"]
    assert np.all(r.summary[:, KL.SUM_CH_IN] > 0)


# ---- netting -------------------------------------------------------------------------------------

NETTING = """
name = "opposite"
[simulation]
steps = 5
dt_seconds = 60
paths = 1
seed = 3
[[assets]]
name = "WETH"
price = 2000.0
[[assets]]
name = "USDC"
price = 1.0
stable = true
[price]
kind = "gbm"
sigma = [1e-9, 0.0]
[[venues]]
name = "pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = {reserve}
fee = 0.0
[[oracles]]
name = "spot"
asset = "WETH"
kind = "spot"
[[protocols]]
name = "lender"
kind = "aave_v3"
positions = "lender.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "fixed"
close_factor = 1.0
oracles = {{ WETH = "spot" }}
[protocols.params.WETH]
liquidation_threshold = 0.8
liquidation_bonus = 0.05
protocol_fee = 0.0
[[protocols]]
name = "perp"
kind = "perp"
preset = "hyperliquid"
positions = "perp.csv"
collateral = "WETH"
debt = "USDC"
oracles = {{ WETH = "spot" }}
[protocols.config]
backstop = false
insurance_fund = 0.0
mark_price = "index"
slicing = "full"
[liquidators]
mode = "mechanical"
[arbitrage]
enabled = false
to_reference = false
[mechanisms.clearinghouse]
max_step_move = 0.9
max_window_move = 0.95
netting = {netting}
"""


def _opposite(d: Path, debts, eq_frac, reserve, netting: bool) -> Path:
    """Lender positions liquidatable at the start (HF 0.92, enough collateral: no bad debt of their
    own) and perp shorts that must buy exactly the units the lender's liquidations seize, at
    the same step; the shorts' equity is ``eq_frac`` of their maintenance margin (MMR 1 %)."""
    p0 = 2000.0
    lend, perp = ["id,collateral,debt\n"], ["id,side,size,entry,margin,account\n"]
    for k, dbt in enumerate(debts):
        coll = 1.15 * dbt / p0  # HF 0.92, and more than the 1.05·debt a full liquidation seizes
        lend.append(f"l{k},{coll!r},{dbt!r}\n")
        size = dbt * 1.05 / p0  # what the lender's full liquidation seizes
        entry = 0.9 * p0
        mm = size * p0 * 0.01
        margin = eq_frac * mm + size * (p0 - entry)
        perp.append(f"s{k},short,{size!r},{entry!r},{margin!r},-1\n")
    (d / "lender.csv").write_text("".join(lend))
    (d / "perp.csv").write_text("".join(perp))
    p = d / f"opp_{netting}.toml"
    p.write_text(NETTING.format(reserve=reserve, netting="true" if netting else "false"))
    return p


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(debts=st.lists(st.floats(2e4, 3e5), min_size=1, max_size=4),
       eq_frac=st.floats(0.05, 0.9), reserve=st.floats(150.0, 3000.0))
def test_netting_never_increases_any_protocols_bad_debt(tmp_path_factory, debts, eq_frac, reserve):
    from liqcascade.kernels import layouts as KL
    from liqcascade.kernels import sales as KS

    d = tmp_path_factory.mktemp("net")
    on = _run(_opposite(d, debts, eq_frac, reserve, True), record=1)
    off = _run(_opposite(d, debts, eq_frac, reserve, False), record=1)
    bad_on = on.protocol_paths[0, :, KS.PA_BAD]
    bad_off = off.protocol_paths[0, :, KS.PA_BAD]
    assert np.all(bad_on <= bad_off + 1e-9 * (1.0 + np.abs(bad_off))), (bad_on, bad_off)
    # the flows were crossed: the perp's buys came from the lender's sales, off the pool
    assert on.summary[0, KL.SUM_CH_NET] > 0 and off.summary[0, KL.SUM_CH_NET] == 0
    net = on.sales[on.sales["source"] == "netted"]
    assert set(net["venue"]) == {"(clearinghouse)"}
    assert math.isclose(net["amount"].sum(), 0.0, abs_tol=1e-9 * np.abs(net["amount"]).sum())


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("table, field", [
    ("max_step_move = 0", "max_step_move"),
    ("max_step_move = 1.5", "max_step_move"),
    ("max_window_move = -0.1", "max_window_move"),
    ("window_seconds = 0", "window_seconds"),
    ('allocation = "fifo"', "allocation"),
    ('applies_to = ["nobody"]', "applies_to"),
    ("backstop_discount = 0.1", "clearinghouse"),
    ("surprise = 1", "surprise"),
])
def test_bad_configuration_is_one_error_line(tmp_path, table, field):
    p = _write(tmp_path, TWO_LENDERS + "\n[mechanisms.clearinghouse]\n" + table + "\n")
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2, res.output
    out = (res.output or "").strip().splitlines()
    err = [ln for ln in out if ln.startswith("error: ")]
    assert len(err) == 1 and "Traceback" not in res.output, res.output
    assert str(p.name) in err[0] and field in err[0], err[0]


def test_a_protocol_under_two_selling_mechanisms_is_refused(tmp_path):
    p = _write(tmp_path, TWO_LENDERS + CLEARING + "\n[mechanisms.twap_exit]\nslices = 4\n")
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2, res.output
    assert "clearinghouse" in res.output and "twap_exit" in res.output


# ---- conservation on generated scenarios ---------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.floats(0.002, 0.2), window=st.floats(0.01, 0.5), win_s=st.sampled_from([60.0, 300.0, 1800.0]),
       alloc=st.sampled_from(["urgency", "pro_rata"]), capital=st.sampled_from([0.0, 5e4, 1e6]),
       discount=st.floats(0.0, 0.3), reserve=st.floats(100.0, 2000.0), seed=st.integers(0, 10_000))
def test_units_are_conserved_on_generated_scenarios(tmp_path_factory, step, window, win_s, alloc, capital, discount,
                                                    reserve, seed):
    """Whatever the budget, window, allocation, backstop and pool: per protocol, units in =
    netted + sold + backstop + held at the end (and the kernel's every-step check holds, else the
    run raises); the ledger's clearing rows carry exactly what it sold, its backstop rows exactly
    what the backstop bought; the backstop never pays more than its capital."""
    from liqcascade.kernels import layouts as KL

    d = tmp_path_factory.mktemp("gen")
    table = (f"\n[mechanisms.clearinghouse]\nmax_step_move = {step!r}\nmax_window_move = {window!r}\n"
             f"window_seconds = {win_s!r}\nallocation = \"{alloc}\"\n")
    if capital > 0:
        table += f"backstop_capital = {capital!r}\nbackstop_discount = {discount!r}\n"
    text = TWO_LENDERS.replace("reserve_asset = 400", f"reserve_asset = {reserve!r}").replace(
        "seed = 17", f"seed = {seed}").replace("paths = 6", "paths = 2")
    r = _run(_write(d, text + table), record=2)
    s = r.summary
    np.testing.assert_allclose(s[:, KL.SUM_CH_IN],
                               s[:, KL.SUM_CH_NET] + s[:, KL.SUM_CH_SOLD] + s[:, KL.SUM_CH_BS] + s[:, KL.SUM_CH_HELD],
                               rtol=1e-12, atol=1e-9)
    assert np.all(s[:, KL.SUM_CH_CONS] <= 1e-9 * np.maximum(1.0, s[:, KL.SUM_CH_IN]))
    sales = r.sales
    for src, col in (("clearing", KL.SUM_CH_SOLD), ("backstop", KL.SUM_CH_BS)):
        m = sales["source"] == src
        assert abs(sales["amount"][m].sum() - s[:, col].sum()) <= 1e-9 * max(1.0, s[:, col].sum())
    bs = sales[sales["source"] == "backstop"]
    for p in (0, 1):
        assert bs["proceeds"][bs["path"] == p].sum() <= capital * (1 + 1e-12) + 1e-9
    if capital == 0:
        assert np.all(s[:, KL.SUM_CH_BS] == 0.0)
    per = r.clearing["per_path"]
    for p in ("a", "b"):
        inn, out = np.asarray(per["units_in"][p]), sum(np.asarray(per[k][p]) for k in ("netted", "sold", "backstop",
                                                                                       "held"))
        np.testing.assert_allclose(inn, out, rtol=1e-12, atol=1e-9)
