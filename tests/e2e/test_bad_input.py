"""Bad input through the command line: exit status 2, a message naming the file and the place and
saying why, no Python traceback, and nothing written.

Most cases run in-process with :class:`typer.testing.CliRunner` (fast); a handful go through a
real subprocess of the installed ``liqcascade`` script, which is what a user sees.

Every fixture is written into ``tmp_path`` from :data:`BASE_TOML` / :data:`BASE_CSV` (a copy of
``examples/minimal.toml`` trimmed to what the cases need), so edits to ``examples/`` cannot make
these tests pass or fail by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liqcascade.cli import app

BASE_TOML = """\
name = "bad-input-base"
description = "one risky asset, one pool, one protocol"

[simulation]
steps = 20
dt_seconds = 60
seed = 7

[[assets]]
name = "WETH"
price = 2000.0

[[assets]]
name = "USDC"
price = 1.0
stable = true

[price]
kind = "crash"
shock = 0.25
start_seconds = 120
over_seconds = 300

[[venues]]
name = "weth-usdc-pool"
asset = "WETH"
kind = "cpmm"
reserve_asset = 2500
fee = 0.003

[[oracles]]
name = "weth-usd"
asset = "WETH"
kind = "heartbeat"
deviation = 0.005
heartbeat_seconds = 3600

[[protocols]]
name = "aave"
kind = "aave_v3"
positions = "positions.csv"
collateral = "WETH"
debt = "USDC"
close_factor_rule = "v3.3"

[protocols.params.WETH]
ltv = 0.825
liquidation_threshold = 0.86
liquidation_bonus = 0.05
protocol_fee = 0.10

[liquidators]
mode = "mechanical"

[arbitrage]
enabled = true
threshold = 0.003
to_reference = false
"""

BASE_CSV = """\
id,collateral,debt
pos000,372.961941,461860.86
pos001,3.326065,4658.43
pos002,70.271788,91144.25
pos003,35.183991,34007.29
"""

_runner = CliRunner()


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _edit(text: str, old: str, new: str) -> str:
    """Replace ``old`` (which must occur exactly once) by ``new``."""
    assert text.count(old) == 1, f"fixture anchor {old!r} not found exactly once"
    return text.replace(old, new)


def _scenario(tmp_path: Path, toml: str = BASE_TOML, csv: str | None = BASE_CSV, name="scenario.toml") -> Path:
    if csv is not None:
        (tmp_path / "positions.csv").write_text(csv)
    p = tmp_path / name
    p.write_text(toml)
    return p


def _stderr(result) -> str:
    try:
        return result.stderr
    except (ValueError, AttributeError):  # older Click without separate stderr capture
        return result.output


def _stdout(result) -> str:
    try:
        result.stderr  # noqa: B018 - probes whether streams are separated
    except (ValueError, AttributeError):
        return ""
    return result.stdout


def invoke(args) -> tuple[int, str, str, BaseException | None]:
    r = _runner.invoke(app, [str(a) for a in args])
    return r.exit_code, _stdout(r), _stderr(r), r.exception


def assert_refused(args, *must_contain: str, one_line: bool = True) -> str:
    """Run in-process; expect exit 2, no uncaught exception, ``must_contain`` in stderr."""
    code, out, err, exc = invoke(args)
    assert exc is None or isinstance(exc, SystemExit), (
        f"uncaught {type(exc).__name__}: {exc!r} (a user would see a traceback)\nstderr: {err}"
    )
    assert code == 2, f"exit status {code}, expected 2\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err
    assert out.strip() == "", f"nothing should go to stdout on bad input, got: {out!r}"
    for part in must_contain:
        assert part in err, f"{part!r} not in stderr: {err!r}"
    if one_line:
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"expected a one-line message, got: {err!r}"
        assert lines[0].startswith("error: "), err
    return err


def _cli_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("liqcascade")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("liqcascade")
    return [found] if found else [sys.executable, "-m", "liqcascade.cli"]


def run_subprocess(args, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("LIQCASCADE_UPDATE_GOLDEN", None)
    env["COLUMNS"] = "200"
    return subprocess.run(
        _cli_cmd() + [str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
    )


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---------------------------------------------------------------------------------------------
# scenario (TOML) problems — each refused by validate, curve and run --out alike
# ---------------------------------------------------------------------------------------------

# id -> (toml text, substrings the message must contain besides the file name)
TOML_CASES = {
    "malformed": (_edit(BASE_TOML, "[simulation]", "[simulation"), ["malformed TOML", "line 4"]),
    "malformed_duplicate_key": ('name = "again"\n' + BASE_TOML, ["malformed TOML", "line 2"]),
    "unknown_key_appended_lands_in_last_table": (BASE_TOML + 'name = "again"\n', ["arbitrage.name", "unknown key"]),
    "empty": ("", ["empty file"]),
    "whitespace_only": ("  \n\n\t\n", ["empty file"]),
    "comment_only": ("# nothing here\n", ["assets", "required field is missing"]),
    "unknown_top_level_key": (_edit(BASE_TOML, 'name = "bad-input-base"', 'name = "x"\nfoo = 1'),
                              ["foo", "unknown key"]),
    "unknown_nested_key": (_edit(BASE_TOML, "seed = 7", "seed = 7\nbar = 2"),
                           ["simulation.bar", "unknown key"]),
    "unknown_key_in_array_table": (_edit(BASE_TOML, "stable = true", "stable = true\nfoo = 3"),
                                   ["assets[1].foo", "unknown key"]),
    "unknown_deep_key": (_edit(BASE_TOML, "protocol_fee = 0.10", "protocol_fee = 0.10\nzzz = 1"),
                         ["protocols[0].params.WETH.zzz", "unknown key"]),
    "missing_debt": (_edit(BASE_TOML, 'debt = "USDC"\n', ""), ["protocols[0].debt", "required field is missing"]),
    "missing_positions_field": (_edit(BASE_TOML, 'positions = "positions.csv"\n', ""),
                                ["protocols[0].positions", "required field is missing"]),
    "missing_asset_price": (_edit(BASE_TOML, "price = 2000.0\n", ""), ["assets[0].price", "required field is missing"]),
    "missing_liquidation_threshold": (_edit(BASE_TOML, "liquidation_threshold = 0.86\n", ""),
                                      ["protocols[0].params.WETH.liquidation_threshold", "required field is missing"]),
    "wrong_type": (_edit(BASE_TOML, "steps = 20", 'steps = "abc"'), ["simulation.steps", "valid integer"]),
    "negative_reserve": (_edit(BASE_TOML, "reserve_asset = 2500", "reserve_asset = -2500"),
                         ["venues[0].reserve_asset", "greater than 0"]),
    "nan_reserve": (_edit(BASE_TOML, "reserve_asset = 2500", "reserve_asset = nan"),
                    ["venues[0].reserve_asset", "finite"]),
    "inf_reserve": (_edit(BASE_TOML, "reserve_asset = 2500", "reserve_asset = inf"),
                    ["venues[0].reserve_asset", "finite"]),
    "negative_price": (_edit(BASE_TOML, "price = 2000.0", "price = -2000.0"), ["assets[0].price", "greater than 0"]),
    "nan_price": (_edit(BASE_TOML, "price = 2000.0", "price = nan"), ["assets[0].price", "finite"]),
    "nan_bonus": (_edit(BASE_TOML, "liquidation_bonus = 0.05", "liquidation_bonus = nan"),
                  ["protocols[0].params.WETH.liquidation_bonus", "finite"]),
    "negative_gas": (_edit(BASE_TOML, 'mode = "mechanical"', 'mode = "mechanical"\ngas_cost = -1.0'),
                     ["liquidators.gas_cost", "greater than or equal to 0"]),
    "nan_shock": (_edit(BASE_TOML, "shock = 0.25", "shock = nan"), ["price.shock", "finite"]),
    "lt_equal_one": (_edit(_edit(BASE_TOML, "liquidation_threshold = 0.86", "liquidation_threshold = 1.0"),
                           "ltv = 0.825", "ltv = 0.5"),
                     ["protocols[0].params.WETH.liquidation_threshold", "less than 1"]),
    "lt_above_one": (_edit(_edit(BASE_TOML, "liquidation_threshold = 0.86", "liquidation_threshold = 1.2"),
                           "ltv = 0.825", "ltv = 0.5"),
                     ["protocols[0].params.WETH.liquidation_threshold", "less than 1"]),
    "ltv_above_lt": (_edit(BASE_TOML, "ltv = 0.825", "ltv = 0.9"), ["protocols[0].params.WETH", "ltv 0.9 exceeds"]),
    "unsafe_bonus": (_edit(BASE_TOML, "liquidation_bonus = 0.05", "liquidation_bonus = 0.2"),
                     ["protocols[0]", "params.WETH", "liquidation_threshold·(1+liquidation_bonus)", "> 1",
                      "allow_unsafe_bonus"]),
    "unknown_venue_asset": (_edit(BASE_TOML, 'asset = "WETH"\nkind = "cpmm"', 'asset = "WBTC"\nkind = "cpmm"'),
                            ["venues[0].asset", "unknown asset 'WBTC'"]),
    "unknown_debt_asset": (_edit(BASE_TOML, 'debt = "USDC"', 'debt = "DAI"'), ["protocols[0].debt", "unknown asset 'DAI'"]),
    "unknown_collateral_asset": (_edit(BASE_TOML, 'collateral = "WETH"', 'collateral = "WBTC"'),
                                 ["protocols[0].collateral", "unknown asset 'WBTC'"]),
    "unknown_params_asset": (_edit(BASE_TOML, "[protocols.params.WETH]",
                                   "[protocols.params.WBTC]\nliquidation_threshold = 0.5\nliquidation_bonus = 0.05\n"
                                   "[protocols.params.WETH]"),
                             ["protocols[0].params", "unknown asset 'WBTC'"]),
    "unknown_oracle_kind": (_edit(BASE_TOML, 'kind = "heartbeat"', 'kind = "bogus"'), ["oracles[0].kind", "heartbeat"]),
    "unknown_protocol_oracle": (_edit(BASE_TOML, 'close_factor_rule = "v3.3"',
                                      'close_factor_rule = "v3.3"\noracles = { WETH = "nope" }'),
                                ["protocols[0].oracles", "unknown oracle 'nope'"]),
}


@pytest.mark.parametrize("command", ["validate", "curve", "run"])
@pytest.mark.parametrize("case", list(TOML_CASES))
def test_bad_scenario_refused(tmp_path, case, command):
    toml, parts = TOML_CASES[case]
    sc = _scenario(tmp_path, toml)
    out = tmp_path / "out"
    args = {
        "validate": ["validate", sc],
        "curve": ["curve", sc, "--shocks", "0:0.2:0.1", "--json"],
        "run": ["run", sc, "--out", out, "--json"],
    }[command]
    before = _listing(tmp_path)
    assert_refused(args, str(sc), *parts)
    assert not out.exists(), "run --out created its folder for a refused scenario"
    assert _listing(tmp_path) == before, "a refused command wrote files"


def test_unsafe_bonus_accepted_when_allowed(tmp_path):
    toml = _edit(BASE_TOML, "liquidation_bonus = 0.05", "liquidation_bonus = 0.2")
    toml = _edit(toml, 'close_factor_rule = "v3.3"', 'close_factor_rule = "v3.3"\nallow_unsafe_bonus = true')
    sc = _scenario(tmp_path, toml)
    code, out, err, exc = invoke(["validate", sc])
    assert code == 0, err
    assert out.startswith("ok: ")


def test_base_fixture_is_valid(tmp_path):
    """The unmodified base scenario passes — so each refusal above is due to its one edit."""
    sc = _scenario(tmp_path)
    code, out, err, exc = invoke(["validate", sc])
    assert code == 0, err
    assert "4 positions" in out


def test_missing_scenario_file(tmp_path):
    sc = tmp_path / "nope.toml"
    assert_refused(["validate", sc], str(sc), "file not found")
    assert_refused(["run", sc, "--out", tmp_path / "out"], str(sc), "file not found")
    assert not (tmp_path / "out").exists()


def test_scenario_is_a_directory(tmp_path):
    d = tmp_path / "dir.toml"
    d.mkdir()
    assert_refused(["validate", d], str(d), "is a directory")


def test_scenario_not_utf8(tmp_path):
    sc = tmp_path / "binary.toml"
    sc.write_bytes(b"\xff\xfe\x00name = 1")
    assert_refused(["validate", sc], str(sc), "cannot read")


# ---------------------------------------------------------------------------------------------
# position file problems (the scenario is fine; its positions file is not)
# ---------------------------------------------------------------------------------------------

CSV_CASES = {
    "negative_collateral": ("id,collateral,debt\na,1,100\nb,-1,100\n", ["line 3", "column 'collateral'", "negative"]),
    "negative_debt": ("id,collateral,debt\na,1,-100\n", ["line 2", "column 'debt'", "negative"]),
    "nan_debt": ("id,collateral,debt\na,1,nan\n", ["line 2", "column 'debt'", "NaN"]),
    "nan_collateral": ("id,collateral,debt\na,1,100\nb,NaN,100\n", ["line 3", "column 'collateral'", "NaN"]),
    "inf_collateral": ("id,collateral,debt\na,inf,100\n", ["line 2", "column 'collateral'", "infinite"]),
    "not_a_number": ("id,collateral,debt\na,abc,100\n", ["line 2", "column 'collateral'", "not a number"]),
    "missing_value": ("id,collateral,debt\na,1,\n", ["line 2", "column 'debt'", "missing value"]),
    "wrong_column_name": ("id,coll,debt\na,1,100\n", ["line 1", "wrong columns", "missing collateral", "unexpected coll"]),
    "extra_column": ("id,collateral,debt,extra\na,1,100,3\n", ["line 1", "wrong columns", "unexpected extra"]),
    "missing_column": ("id,collateral\na,1\n", ["line 1", "wrong columns", "missing debt"]),
    "no_header": ("1,1,100\n2,2,200\n", ["line 1", "header missing"]),
    "header_is_data_like_text": ("a,1,100\nb,2,200\n", ["line 1", "wrong columns", "missing id,collateral,debt"]),
    "empty_file": ("", ["line 1", "file is empty"]),
    "blank_lines_only": ("\n\n\n", ["line 1", "file is empty"]),
    "ragged_row": ("id,collateral,debt\na,1,100\nb,2\n", ["line 3", "expected 3 fields"]),
    "duplicate_id": ("id,collateral,debt\na,1,100\na,2,200\n", ["line 3", "duplicate id 'a'"]),
    "missing_id": ("id,collateral,debt\n,1,100\n", ["line 2", "column 'id'", "missing id"]),
    "nul_byte": ("id,collateral,debt\na,1\x00,100\n", ["line 2", "column 'collateral'", "not a number"]),
    "long_duplicate_pair": ("id,asset,collateral,debt\na,WETH,1,0\na,WETH,0,100\n",
                            ["line 3", "column 'asset'", "duplicate (id, asset)"]),
    "long_collateral_without_params": ("id,asset,collateral,debt\na,USDC,1,100\n",
                                       ["USDC", "no parameters for collateral"]),
    "long_unknown_asset": ("id,asset,collateral,debt\na,WBTC,1,0\na,USDC,0,100\n", ["unknown asset 'WBTC'"]),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_bad_positions_csv_refused(tmp_path, case):
    text, parts = CSV_CASES[case]
    sc = _scenario(tmp_path, csv=text)
    csv = tmp_path / "positions.csv"
    out = tmp_path / "out"
    before = _listing(tmp_path)
    assert_refused(["validate", sc], str(csv), *parts)
    assert_refused(["run", sc, "--out", out, "--json"], str(csv), *parts)
    assert_refused(["curve", sc, "--shocks", "0.1", "--json"], str(csv), *parts)
    assert not out.exists()
    assert _listing(tmp_path) == before


def test_missing_positions_file(tmp_path):
    sc = _scenario(tmp_path, _edit(BASE_TOML, '"positions.csv"', '"nope.csv"'), csv=None)
    out = tmp_path / "out" / "nested"
    assert_refused(["run", sc, "--out", out], "nope.csv", "file not found")
    assert not (tmp_path / "out").exists()


def test_positions_file_not_utf8(tmp_path):
    sc = _scenario(tmp_path, csv=None)
    (tmp_path / "positions.csv").write_bytes(b"id,collateral,debt\n\xff,1,100\n")
    assert_refused(["validate", sc], str(tmp_path / "positions.csv"), "not UTF-8")


def test_positions_path_is_a_directory(tmp_path):
    sc = _scenario(tmp_path, csv=None)
    (tmp_path / "positions.csv").mkdir()
    assert_refused(["run", sc, "--out", tmp_path / "out"], str(tmp_path / "positions.csv"), "is a directory")
    assert not (tmp_path / "out").exists()


def test_wide_positions_need_collateral_field(tmp_path):
    sc = _scenario(tmp_path, _edit(BASE_TOML, 'collateral = "WETH"\n', ""))
    assert_refused(["validate", sc], str(tmp_path / "positions.csv"), "collateral", "needs `collateral`")


def test_positions_file_wrong_extension(tmp_path):
    (tmp_path / "positions.txt").write_text(BASE_CSV)
    sc = _scenario(tmp_path, _edit(BASE_TOML, '"positions.csv"', '"positions.txt"'), csv=None)
    assert_refused(["validate", sc], "positions.txt", "unsupported file type")


def _parquet(path: Path, cols: dict) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table(cols), path)


@pytest.mark.parametrize(
    "case,cols,parts",
    [
        ("negative", {"id": ["a", "b"], "collateral": [1.0, -2.0], "debt": [1.0, 2.0]},
         ["row 1", "column 'collateral'", "negative"]),
        ("nan", {"id": ["a", "b"], "collateral": [1.0, 2.0], "debt": [float("nan"), 2.0]},
         ["row 0", "column 'debt'", "NaN"]),
        ("wrong_columns", {"id": ["a"], "coll": [1.0], "debt": [1.0]}, ["schema", "wrong columns"]),
        ("no_rows_wrong_columns", {"x": []}, ["schema", "wrong columns"]),
    ],
)
def test_bad_positions_parquet_refused(tmp_path, case, cols, parts):
    _parquet(tmp_path / "positions.parquet", cols)
    sc = _scenario(tmp_path, _edit(BASE_TOML, '"positions.csv"', '"positions.parquet"'), csv=None)
    out = tmp_path / "out"
    assert_refused(["run", sc, "--out", out], str(tmp_path / "positions.parquet"), *parts)
    assert not out.exists()


def test_garbage_parquet_refused(tmp_path):
    (tmp_path / "positions.parquet").write_bytes(b"this is not parquet")
    sc = _scenario(tmp_path, _edit(BASE_TOML, '"positions.csv"', '"positions.parquet"'), csv=None)
    assert_refused(["validate", sc], "positions.parquet", "not a readable Parquet file")


# ---------------------------------------------------------------------------------------------
# command-line options
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,why",
    [
        ("abc", "cannot parse"),
        ("0:0.5", "cannot parse"),
        ("0:0.1:0.01:3", "cannot parse"),
        ("0.5:0:0.1", "step > 0 and stop >= start"),
        ("0:0.5:0", "step > 0 and stop >= start"),
        ("0:0.5:-0.1", "step > 0 and stop >= start"),
        ("0:1.5:0.1", "[0, 1)"),
        ("-0.1,0.2", "[0, 1)"),
        ("1.0", "[0, 1)"),
        ("nan", "[0, 1)"),
        ("0.1,inf", "[0, 1)"),
        ("", "[0, 1)"),
        (",,", "[0, 1)"),
        ("0:0.5:0.0000001", "too many"),
    ],
)
def test_bad_shocks_spec(tmp_path, spec, why):
    sc = _scenario(tmp_path)
    assert_refused(["curve", sc, "--shocks", spec, "--json"], "--shocks", why)


def test_bad_curve_mode_and_asset(tmp_path):
    sc = _scenario(tmp_path)
    assert_refused(["curve", sc, "--mode", "optimistic"], "--mode", "mechanical or rational")
    assert_refused(["curve", sc, "--asset", "FOO"], "--asset", "unknown asset 'FOO'")


def test_run_out_is_an_existing_file(tmp_path):
    sc = _scenario(tmp_path)
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert_refused(["run", sc, "--out", target, "--json"], str(target), "--out", "not a directory")
    assert target.read_text() == "keep me"


def test_run_out_below_an_existing_file(tmp_path):
    sc = _scenario(tmp_path)
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert_refused(["run", sc, "--out", target / "sub", "--json"], str(target))
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("opt", [["--paths", "0"], ["--paths", "-3"], ["--seed", "-1"], ["--paths", "two"]])
def test_run_bad_options(tmp_path, opt):
    sc = _scenario(tmp_path)
    out = tmp_path / "out"
    assert_refused(["run", sc, "--out", out, *opt], opt[0], one_line=False)
    assert not out.exists()


@pytest.mark.parametrize(
    "args,parts",
    [
        (["--n", "0", "--out", "book.csv"], ["--n"]),
        (["--n", "-5", "--out", "book.csv"], ["--n"]),
        (["--n", "ten", "--out", "book.csv"], ["--n"]),
        (["--n", "10", "--out", "book.csv", "--seed", "-1"], ["--seed"]),
        (["--n", "10", "--out", "book.txt"], ["book.txt", "--out", "extension"]),
        (["--n", "10", "--out", "book"], ["--out", "extension"]),
        (["--n", "10", "--out", "book.csv", "--lt", "1.5"], ["--lt", "0 < lt < 1"]),
        (["--n", "10", "--out", "book.csv", "--lt", "0"], ["--lt", "0 < lt < 1"]),
        (["--n", "10", "--out", "book.csv", "--price", "-1"], ["--price", "positive price"]),
        (["--n", "10", "--out", "book.parquet", "--price", "nan"], ["--price", "positive price"]),
        (["--n", "10", "--out", "book.csv", "--price", "inf"], ["--price", "positive price"]),
        (["--n", "10"], ["--out"]),
    ],
)
def test_synth_bad_args_write_nothing(tmp_path, args, parts):
    args = [str(tmp_path / a) if a.startswith("book") else a for a in args]
    assert_refused(["positions", "synth", *args], *parts, one_line=False)
    assert _listing(tmp_path) == set(), "positions synth wrote something although refused"


def test_synth_out_in_missing_folder(tmp_path):
    """Either refuse cleanly (exit 2, nothing written) or create the folder like run --out does."""
    target = tmp_path / "nodir" / "book.csv"
    code, out, err, exc = invoke(["positions", "synth", "--n", "10", "--out", target])
    assert exc is None or isinstance(exc, SystemExit), f"uncaught {exc!r} (a user would see a traceback)"
    assert "Traceback" not in out + err
    if code == 0:
        assert target.exists()
    else:
        assert code == 2 and str(target.parent) in err, err
        assert not (tmp_path / "nodir").exists()


def test_synth_out_below_an_existing_file(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("keep me")
    assert_refused(["positions", "synth", "--n", "10", "--out", blocker / "book.csv"], str(blocker), "--out",
                   "not a directory")
    assert blocker.read_text() == "keep me"
    assert _listing(tmp_path) == {"taken"}


def test_synth_out_is_an_existing_directory(tmp_path):
    target = tmp_path / "book.csv"
    target.mkdir()
    assert_refused(["positions", "synth", "--n", "10", "--out", target], str(target), "--out")
    assert _listing(tmp_path) == {"book.csv"}


# ---------------------------------------------------------------------------------------------
# the same through a real process: what the user sees
# ---------------------------------------------------------------------------------------------


def _subprocess_cases(tmp_path: Path):
    good = _scenario(tmp_path, name="good.toml")
    malformed = tmp_path / "malformed.toml"
    malformed.write_text(_edit(BASE_TOML, "[simulation]", "[simulation"))
    bonus = tmp_path / "bonus.toml"
    bonus.write_text(_edit(BASE_TOML, "liquidation_bonus = 0.05", "liquidation_bonus = 0.2"))
    (tmp_path / "neg").mkdir()
    negcsv = _scenario(tmp_path / "neg", csv="id,collateral,debt\na,1,100\nb,-1,100\n")
    out = tmp_path / "out"
    return [
        (["run", malformed, "--out", out, "--json"], [str(malformed), "malformed TOML", "line 4"]),
        (["run", bonus, "--out", out], [str(bonus), "params.WETH", "allow_unsafe_bonus"]),
        (["run", negcsv, "--out", out, "--json"],
         [str(tmp_path / "neg" / "positions.csv"), "line 3", "column 'collateral'", "negative"]),
        (["curve", good, "--shocks", "0:2:0.1", "--json"], ["--shocks", "[0, 1)"]),
        (["positions", "synth", "--n", "10", "--out", tmp_path / "book.txt"], ["book.txt", "extension"]),
        (["validate", tmp_path / "absent.toml"], [str(tmp_path / "absent.toml"), "file not found"]),
    ]


def test_bad_input_in_a_real_process(tmp_path):
    for args, parts in _subprocess_cases(tmp_path):
        before = _listing(tmp_path)
        cp = run_subprocess(args, cwd=tmp_path)
        shown = " ".join(str(a) for a in args)
        assert cp.returncode == 2, f"{shown}: exit {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        assert "Traceback" not in cp.stdout + cp.stderr, f"{shown}:\n{cp.stderr}"
        assert cp.stdout == "", f"{shown}: stdout should be empty, got {cp.stdout!r}"
        for part in parts:
            assert part in cp.stderr, f"{shown}: {part!r} not in {cp.stderr!r}"
        assert len(cp.stderr.strip().splitlines()) == 1, cp.stderr
        assert _listing(tmp_path) == before, f"{shown} wrote files"
        assert not (tmp_path / "out").exists()


def test_usage_error_in_a_real_process(tmp_path):
    cp = run_subprocess(["run", _scenario(tmp_path), "--paths", "0", "--out", tmp_path / "out"], cwd=tmp_path)
    assert cp.returncode == 2
    assert "Traceback" not in cp.stdout + cp.stderr
    assert "--paths" in cp.stderr
    assert not (tmp_path / "out").exists()
