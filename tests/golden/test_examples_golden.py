"""Golden outputs of the shipped examples: ``curve --json --shocks 0:0.5:0.05`` and ``run --json``.

Each ``examples/*.toml`` has two golden files next to this test:
``<stem>.curve.json`` and ``<stem>.run.json``. They hold only stable fields (numbers, counts,
names; no free-text notes), floats rounded to 6 significant digits. A run compares within a
relative tolerance of 1e-5, so last-digit noise (JIT on/off, BLAS, platform) does not matter
but any real change in results does.

After an intended change of results, regenerate and review the diff::

    LIQCASCADE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/golden/test_examples_golden.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GOLDEN = Path(__file__).resolve().parent
UPDATE = os.environ.get("LIQCASCADE_UPDATE_GOLDEN", "") not in ("", "0")
REGEN = "LIQCASCADE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/golden/test_examples_golden.py"

CURVE_SHOCKS = "0:0.5:0.05"
COMMANDS = {
    "curve": lambda sc: ["curve", str(sc), "--json", "--shocks", CURVE_SHOCKS],
    "run": lambda sc: ["run", str(sc), "--json"],
}
CURVE_TOP = ("asset", "initial_price", "mode", "critical_shock", "critical_jump")
CURVE_POINT = ("shock", "final_price", "rounds", "liquidations", "liquidated_collateral", "repaid_debt",
               "bad_debt", "amplification", "shocked_price", "protocol_fees", "liquidator_bonus", "converged")
RUN_TOP = ("scenario", "paths", "steps", "dt_seconds", "positions", "protocols", "assets")
RUN_TOTALS = ("liquidations", "liquidated_collateral", "repaid_debt", "bad_debt", "protocol_fees",
              "liquidator_bonus", "sale_proceeds", "gas_spent", "liquidator_profit", "events_not_recorded",
              "bad_debt_p95", "probability_bad_debt")
RUN_TOTALS_BY_ASSET = ("max_drawdown", "final_price")
FLOW_SUMMARY = ("steps", "start", "end", "max_drop", "max_drop_time", "max_drop_step", "mean_drop", "sell_in",
                "absorbed", "sold", "sell_unfilled", "buy_in", "bought", "buy_unfilled", "proceeds", "spent")

REL_TOL = 1e-5
ABS_TOL = 1e-6

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))


def sig6(x):
    """Round floats to 6 significant digits; other JSON values unchanged."""
    if isinstance(x, float) and math.isfinite(x) and x != 0.0:
        return float(f"{x:.6g}")
    return x


def stable_fields(kind: str, d: dict) -> dict:
    """The fields a golden file keeps, flattened to ``{"a.b[3].c": value}``."""
    out: dict = {}
    if kind == "curve":
        for k in CURVE_TOP:
            out[k] = d[k]
        for i, p in enumerate(d["points"]):
            for k in CURVE_POINT:
                out[f"points[{i}].{k}"] = p[k]
        out["n_points"] = len(d["points"])
    elif d.get("kind") == "flow":  # an external-flow run (examples with a [flow] table)
        out["scenario"] = d["scenario"]
        for k in FLOW_SUMMARY:
            out[f"summary.{k}"] = d["summary"][k]
        for k, v in (d["summary"].get("backstop") or {}).items():
            out[f"summary.backstop.{k}"] = v
    else:
        for k in RUN_TOP:
            out[k] = d[k]
        t = d["totals"]
        for k in RUN_TOTALS:
            if k in t:  # the percentile fields exist only with several paths
                out[f"totals.{k}"] = t[k]
        for k in RUN_TOTALS_BY_ASSET:
            for asset, v in t[k].items():
                out[f"totals.{k}.{asset}"] = v
    return {k: sig6(v) for k, v in out.items()}


def cli_json(args) -> dict:
    r = CliRunner().invoke(app, args)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code == 0, f"liqcascade {' '.join(args)}: exit {r.exit_code}\n{r.output}"
    try:
        return json.loads(r.stdout)
    except ValueError:  # older Click: stdout and stderr mixed
        return json.loads(r.output)


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def _has_aave_protocol(scenario: Path) -> bool:
    import tomllib

    data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    return any(p.get("kind", "aave_v3") == "aave_v3" for p in data.get("protocols", []))


def _missing_data(scenario: Path) -> list[str]:
    """Files a depeg example reads from the shared data folder that are absent here."""
    import tomllib

    data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    files = [f for g in data.get("pegs", []) for f in (g.get("series") or {}).values()
             if isinstance(f, str) and f.endswith(".csv")]
    return [f for f in files if not (scenario.parent / f).exists()]


def _invoke(args):
    return CliRunner().invoke(app, args)


def _flow_file(scenario: Path) -> Path | None:
    """The series file of a ``[flow]`` example (resolved against its folder), None for others."""
    import tomllib

    flow = tomllib.loads(scenario.read_text(encoding="utf-8")).get("flow")
    return None if flow is None else (scenario.parent / flow["file"])


def golden_path(scenario: Path, kind: str) -> Path:
    return GOLDEN / f"{scenario.stem}.{kind}.json"


@pytest.mark.parametrize("kind", list(COMMANDS))
@pytest.mark.parametrize("scenario", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_example_matches_golden(scenario, kind):
    flow_file = _flow_file(scenario)
    if flow_file is not None and kind == "curve":
        # a flow study has no position book: the static curve refuses it (exit 2)
        assert not golden_path(scenario, kind).exists(), "remove the stale curve golden of a flow example"
        r = _invoke(COMMANDS[kind](scenario))
        assert r.exit_code == 2 and "a flow study ([flow]) has no position book" in r.output
        return
    if flow_file is not None and not flow_file.exists():
        pytest.skip(f"needs {flow_file.name} (the shared data beside the repository; absent here)")
    missing = _missing_data(scenario)
    if missing:
        pytest.skip(f"examples/{scenario.name} reads {missing[0]} (the shared data beside the repository; absent here)")
    if kind == "curve" and not _has_aave_protocol(scenario):
        # the static curve covers Aave-rule protocols; units-only scenarios are refused (exit 2)
        assert not golden_path(scenario, kind).exists(), "remove the stale curve golden of a units-only example"
        from typer.testing import CliRunner

        from liqcascade.cli import app

        r = CliRunner().invoke(app, COMMANDS[kind](scenario))
        assert r.exit_code == 2 and "protocol units" in r.output
        return
    args = COMMANDS[kind](scenario)
    got = stable_fields(kind, cli_json(args))
    path = golden_path(scenario, kind)
    shown = " ".join(["liqcascade", args[0], f"examples/{scenario.name}", *args[2:]])
    if UPDATE:
        doc = {"command": shown, "values": got}
        path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        return
    if not path.exists():
        pytest.fail(f"golden file {path.relative_to(REPO)} is missing for examples/{scenario.name} ({kind}); "
                    f"create it with:\n    {REGEN}\nand commit it after checking the values.", pytrace=False)
    want = json.loads(path.read_text())["values"]
    problems = []
    for k in sorted(set(want) | set(got)):
        if k not in got:
            problems.append(f"  {k}: missing from output (golden {want[k]!r})")
        elif k not in want:
            problems.append(f"  {k}: not in golden file (output {got[k]!r})")
        elif not _same(got[k], want[k]):
            problems.append(f"  {k}: golden {want[k]!r}, now {got[k]!r}")
    if problems:
        shown_problems = problems[:40] + ([f"  ... and {len(problems) - 40} more"] if len(problems) > 40 else [])
        pytest.fail(f"{shown} differs from {path.relative_to(REPO)} in {len(problems)} field(s):\n"
                    + "\n".join(shown_problems)
                    + f"\nIf the change is intended, regenerate with:\n    {REGEN}", pytrace=False)


def test_no_orphan_golden_files():
    """Every golden file belongs to an example that still exists."""
    stems = {p.stem for p in EXAMPLE_FILES}
    orphans = [p.name for p in GOLDEN.glob("*.json") if p.name.split(".")[0] not in stems]
    assert not orphans, f"golden files without an example: {orphans}; delete them (examples were renamed/removed?)"


def test_examples_exist():
    assert (EXAMPLES / "minimal.toml") in EXAMPLE_FILES


def test_sig6_and_compare():
    assert sig6(1234567.891) == 1234570.0
    assert sig6(0.000123456789) == 0.000123457
    assert sig6(0.0) == 0.0 and sig6(None) is None and sig6(True) is True and sig6(3) == 3
    assert _same(1234567.891, sig6(1234567.891))
    assert not _same(1.0, 1.001)
    assert _same(None, None) and not _same(None, 0.0) and not _same(True, 1)
    assert not _same(3, 4) and _same(3, 3)
