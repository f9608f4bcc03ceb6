"""End-to-end runs of the protocol-unit examples (``examples/{comet,maker,liquity,llamma,perp}.toml``).

For each example: the Python API (``load_scenario`` → ``compile_scenario`` → ``run_dynamic``)
and the command line (``validate``, ``run`` as a table, ``--json`` and ``--out DIR``, ``curve``)
in-process with :class:`typer.testing.CliRunner`. Checks: liquidations happen; the unit's
conservation identities (each family's ``totals()`` docstring) hold to 1e-6 relative in
``RunResult.unit_totals``; the same seed gives the same JSON; ``events.parquet`` holds the
unit's events with non-empty position ids. Also ``liqcascade protocols`` (its module is
registered here on a fresh Typer app, so the test does not depend on ``commands.MODULES``).

One compiled scenario and one API run per example (module-scoped fixture): numba compiles
``simulate_path`` once per unit family, which dominates the time.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from liqcascade.cli import app
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.scenario.load import load_scenario

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
KINDS = ("comet", "maker", "liquity", "llamma", "perp")
REL = 1e-6

_runner = CliRunner()


def invoke(cli_app, *args, code: int = 0) -> tuple[str, str]:
    r = _runner.invoke(cli_app, [str(a) for a in args])
    try:
        out, err = r.stdout, r.stderr
    except ValueError:  # older Click: stdout and stderr mixed
        out, err = r.output, ""
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"liqcascade {' '.join(map(str, args))} raised {r.exception!r}\n{err}") from r.exception
    assert r.exit_code == code, f"liqcascade {' '.join(map(str, args))}: exit {r.exit_code}\n{out}\n{err}"
    return out, err


def close(a, b, scale=None) -> bool:
    """``a == b`` to 1e-6 of ``scale`` (default: the larger magnitude)."""
    a, b = float(a), float(b)
    s = max(abs(a), abs(b)) if scale is None else abs(float(scale))
    return abs(a - b) <= REL * max(s, 1e-12)


def assert_close(a, b, what, scale=None):
    assert close(a, b, scale), f"{what}: {a!r} != {b!r} (rel 1e-6 of {scale if scale is not None else 'max'})"


def file_positions(kind: str) -> dict:
    """Ids and column sums of an example's position file."""
    with open(EXAMPLES / f"{kind}_positions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {"ids": [r["id"] for r in rows]}
    if kind == "perp":
        out["n"] = len(rows)
    else:
        out["collateral"] = math.fsum(float(r["collateral"]) for r in rows)
        out["debt"] = math.fsum(float(r["debt"]) for r in rows)
    return out


class Ran:
    def __init__(self, kind, path, compiled, result):
        self.kind = kind
        self.path = path
        self.c = compiled
        self.res = result
        self.name = compiled.protocols[0]
        self.unit = result.unit_totals[self.name]


@pytest.fixture(scope="module", params=KINDS)
def ran(request) -> Ran:
    kind = request.param
    path = EXAMPLES / f"{kind}.toml"
    sc, base = load_scenario(path)
    c = compile_scenario(sc, base)
    return Ran(kind, path, c, run_dynamic(c))


# ------------------------------------------------------------------------------------------
# Python API


def test_api_run_liquidates(ran):
    tot = ran.res.totals()
    assert ran.c.units and ran.c.units[0].kind == ran.kind
    assert tot["liquidations"] > 0, f"{ran.kind}: no liquidation on the crash path"
    assert tot["events_not_recorded"] == 0
    assert set(ran.res.unit_totals) == {ran.name}
    assert ran.res.n_positions == len(file_positions(ran.kind)["ids"])
    assert len(ran.res.events) > 0


def test_conservation(ran):
    u, tot, fp = ran.unit, ran.res.totals(), file_positions(ran.kind)
    check = CONSERVATION[ran.kind]
    check(u, tot, fp)


def _comet(u, tot, fp):
    coll0, debt0 = fp["collateral"], fp["debt"]
    held = np.asarray(u["collateral_held"])
    seized = np.asarray(u["collateral_seized"])
    for k in range(held.shape[0]):  # slot 0 is WETH, the others hold nothing
        want = coll0 if k == 0 else 0.0
        assert_close(held[k] + seized[k], want, f"comet slot {k}: collateral_held + collateral_seized", scale=coll0)
    assert np.allclose(u["collateral_reserves"], seized - np.asarray(u["collateral_bought"]), rtol=0, atol=REL * coll0)
    assert_close(u["debt"] + u["debt_absorbed"], debt0, "comet: debt + debt_absorbed")
    assert_close(u["supply"] - u["supply_credited"], 0.0, "comet: supply - supply_credited", scale=debt0)
    assert_close(u["reserves"], -u["debt_absorbed"] - u["supply_credited"] + u["base_from_buyers"],
                 "comet: reserves = initial - absorbed - credited + from buyers", scale=debt0)
    assert_close(u["debt_absorbed"], u["repaid_by_credit"] + u["shortfall"], "comet: absorbed = credit + shortfall")
    assert_close(u["base_cash"], u["reserves"] + u["supply"] - u["debt"], "comet: base_cash", scale=debt0)
    # the engine's summary agrees with the unit (USDC is fixed at 1)
    assert u["num_absorbed"] == tot["liquidations"]
    assert_close(tot["fund_draw"], u["debt_absorbed"] + u["supply_credited"], "comet: fund_draw")
    assert_close(tot["bad_debt"], u["shortfall"], "comet: bad debt", scale=debt0)
    assert u["num_buys"] > 0 and seized[0] > 0


def _maker(u, tot, fp):
    debt0 = fp["debt"]
    assert_close(u["debt0"], debt0, "maker: debt0 = file debt (rate 1)")
    assert_close(u["debt"] + u["due"] + u["repaid"] + u["bad_debt"], u["debt0"], "maker: debt + due + repaid + bad")
    assert_close(u["sin"], (u["debt0"] - u["debt"]) + u["rewards"], "maker: sin", scale=debt0)
    assert_close(u["joy"], u["surplus0"] + u["repaid"] + u["penalty"], "maker: joy", scale=debt0)
    assert_close(np.sum(u["collateral"]), fp["collateral"], "maker: ink + lot + bought + returned")
    assert_close(tot["bad_debt"], u["bad_debt"], "maker: bad debt", scale=debt0)
    assert u["n_kick"] > 0 and u["n_take"] > 0


def _liquity(u, tot, fp):
    assert_close(u["coll_initial"], fp["collateral"], "liquity: coll_initial")
    assert_close(u["debt_initial"], fp["debt"], "liquity: debt_initial")
    assert_close(u["coll_total"], u["coll_initial"], "liquity: collateral conservation")
    assert_close(u["debt_total"], u["debt_initial"], "liquity: debt conservation")
    assert_close(u["gas_pool"] + u["gas_comp_lusd"], u["gas_reserve_initial"], "liquity: gas reserve")
    assert_close(u["debt_offset"], u["sp_initial"] - u["sp_lusd"], "liquity: offset = SP loss", scale=u["debt_initial"])
    assert_close(u["sp_loss"], u["debt_offset"], "liquity: depositors' loss", scale=u["debt_initial"])
    assert_close(u["coll_troves_entire"], u["coll_troves"] + u["coll_default_pool"], "liquity: entire coll")
    assert u["n_liquidated"] == tot["liquidations"]
    assert_close(tot["fund_draw"], u["debt_offset"], "liquity: fund_draw", scale=u["debt_initial"])


def _llamma(u, tot, fp):
    assert_close(u["coll_initial"], fp["collateral"], "llamma: coll_initial")
    assert_close(u["debt_initial"], fp["debt"], "llamma: debt_initial")
    assert_close(u["coll_residual"], 0.0, "llamma: collateral residual", scale=u["coll_initial"])
    assert_close(u["x_residual"], 0.0, "llamma: stablecoin residual", scale=u["debt_initial"])
    assert_close(u["debt_residual"], 0.0, "llamma: debt residual", scale=u["debt_initial"])
    assert u["n_hard"] == tot["liquidations"]
    assert u["n_arb"] > 0  # soft liquidation happened


def _perp(u, tot, fp):
    oi = float(np.max(u["oi_long"]))
    assert np.allclose(u["net_position"], 0.0, rtol=0, atol=REL * oi), "perp: Σ positions of all holders != 0"
    assert np.allclose(u["oi_long"], u["oi_short"], rtol=REL), "perp: open interest long != short"
    assert_close(u["cash_total"] - u["socialized"], u["cash_initial"], "perp: cash conservation")
    assert_close(u["value_total"], u["cash_total"], "perp: value at mark = cash (net position 0)")
    assert u["positions_open"] < fp["n"]


CONSERVATION = {"comet": _comet, "maker": _maker, "liquity": _liquity, "llamma": _llamma, "perp": _perp}


def test_api_same_seed_same_result(ran):
    again = run_dynamic(ran.c)
    a = json.dumps(ran.res.as_dict(), sort_keys=True)
    b = json.dumps(again.as_dict(), sort_keys=True)
    assert a == b


# ------------------------------------------------------------------------------------------
# command line


def test_cli_validate(ran):
    out, _ = invoke(app, "validate", ran.path)
    assert out.startswith("ok:")


def test_cli_run_table(ran):
    out, _ = invoke(app, "run", ran.path)
    assert "liquidations" in out
    assert f"{ran.res.totals()['liquidations']:,.0f}" in out


def test_cli_run_json_same_seed(ran):
    out1, _ = invoke(app, "run", ran.path, "--json")
    out2, _ = invoke(app, "run", ran.path, "--json")
    assert out1 == out2, "same scenario and seed gave different JSON"
    d = json.loads(out1)
    assert d["totals"]["liquidations"] == ran.res.totals()["liquidations"] > 0
    assert set(d["protocol_units"]) == {ran.name}
    # the API run and the CLI give the same document
    assert json.loads(json.dumps(ran.res.as_dict(), default=float)) == d


def test_cli_run_out(ran, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "run"
    invoke(app, "run", ran.path, "--out", out)
    for f in ("events.parquet", "steps.parquet", "summary.json"):
        assert (out / f).is_file(), f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["liquidations"] == ran.res.totals()["liquidations"]
    ev = pq.read_table(out / "events.parquet").to_pydict()
    mine = [i for i, p in enumerate(ev["protocol"]) if p == ran.name]
    assert mine and len(mine) == len(ev["protocol"]) == len(ran.res.events)
    ids = [ev["position"][i] for i in mine]
    assert all(isinstance(x, str) and x.strip() for x in ids), "empty position id in events.parquet"
    known = set(file_positions(ran.kind)["ids"])
    from_file = [x for x in ids if x != "(protocol)"]  # Comet's buyCollateral events are the protocol's
    assert from_file and set(from_file) <= known
    assert all(a == ran.name for a in ev["protocol"])


def test_cli_curve_units_only(ran):
    """The static curve covers Aave-rule protocols only: a units-only scenario is refused with a
    one-line reason (exit 2) that points to `run`."""
    out, err = invoke(app, "curve", ran.path, "--json", "--shocks", "0:0.4:0.2", code=2)
    assert out.strip() == "" or "protocol units" in out
    assert "protocol units" in (err or out) and "liqcascade run" in (err or out)


# ------------------------------------------------------------------------------------------
# liqcascade protocols


@pytest.fixture(scope="module")
def proto_app():
    from liqcascade.commands import protocols as P

    a = typer.Typer()

    @a.callback()
    def _root():  # keep `protocols` a subcommand
        pass

    P.register(a)
    return a


def test_protocols_listing(proto_app):
    d = json.loads(invoke(proto_app, "protocols", "--json")[0])
    kinds = [e["kind"] for e in d["protocols"]]
    assert kinds[0] == "aave_v3" and set(KINDS) <= set(kinds)
    for e in d["protocols"]:
        assert e["presets"] and e["params"], e["kind"]
        for p in e["params"]:
            assert set(p) == {"name", "default", "description"}
        if e["kind"] != "aave_v3":
            assert (REPO / e["docs"]).is_file() and (REPO / e["example"]).is_file()
    maker = next(e for e in d["protocols"] if e["kind"] == "maker")
    assert {"ETH-A", "ETH-B", "YFI-A"} <= set(maker["presets"])
    assert any(p["name"] == "flip.beg" for p in maker["params"])
    table, _ = invoke(proto_app, "protocols")
    for k in KINDS:
        assert k in table
    assert "cUSDCv3-launch" in table and "crvusd_launch" in table


def test_protocols_kind(proto_app):
    d = json.loads(invoke(proto_app, "protocols", "maker", "--json")[0])
    eth_b = d["preset_values"]["ETH-B"]
    assert eth_b["mat"] == 1.3 and eth_b["step"] == 60.0 and eth_b["line"] == "inf"
    d = json.loads(invoke(proto_app, "protocols", "comet", "--json")[0])
    weth = d["preset_values"]["cUSDCv3-launch"]["assets"]["WETH"]
    assert weth["liquidate_collateral_factor"] == 0.895
    d = json.loads(invoke(proto_app, "protocols", "perp", "--json")[0])
    assert len(d["preset_values"]["binance_btcusdt_2021"]["tiers"]) == 10
    table, _ = invoke(proto_app, "protocols", "liquity")
    assert "v1-mainnet" in table and "v1-2025" in table and "mcr" in table
    _, err = invoke(proto_app, "protocols", "nosuch", code=2)
    assert "unknown protocol kind" in err
