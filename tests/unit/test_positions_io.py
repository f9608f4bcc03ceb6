"""Position file loaders and writers: round trips, CSR layout and every bad-input message."""

from __future__ import annotations

import os

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.positions import io as pio
from liqcascade.positions.io import PositionTable, load_positions, write_positions


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _err(path, *parts, assets=None):
    """Load ``path`` expecting an InputError whose message holds the file name and ``parts``."""
    with pytest.raises(InputError) as ei:
        load_positions(path, assets=assets)
    msg = str(ei.value)
    assert str(path) in msg, msg
    assert ei.value.file == str(path)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    return ei.value


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".pq"])
def test_wide_round_trip(tmp_path, ext):
    if ext != ".csv":
        pytest.importorskip("pyarrow")
    rng = np.random.default_rng(np.random.SeedSequence(7))
    coll = rng.lognormal(size=500) * 1e3
    debt = rng.lognormal(size=500) * 1e2
    coll[3] = 0.0
    debt[3] = 0.0  # an empty position: allowed, counted
    debt[4] = 0.0
    ids = [f"0x{i:040x}" for i in range(500)]
    t = PositionTable.from_wide(coll, debt, ids=ids, assets=("WETH", "USDC"))
    p = tmp_path / f"book{ext}"
    write_positions(p, t)
    r = load_positions(p, assets=["WETH", "USDC"])
    assert r.wide and r.n == 500 and r.assets == ("WETH", "USDC")
    assert r.ids.tolist() == ids
    np.testing.assert_array_equal(r.collateral, coll)  # exact: full precision on disk
    np.testing.assert_array_equal(r.debt, debt)
    assert r.collateral.dtype == np.float64 and r.n_empty == 1
    assert r.ptr is None and r.asset is None and r.source == str(p)
    assert not list(tmp_path.glob(".*.tmp"))


def test_wide_default_ids_and_assets(tmp_path):
    t = PositionTable.from_wide([1.0, 2.0], [0.5, 0.0])
    p = tmp_path / "b.csv"
    write_positions(p, t)
    assert p.read_text().splitlines()[0] == "id,collateral,debt"
    r = load_positions(p)
    assert r.ids.tolist() == ["0", "1"] and r.assets == ("collateral", "debt")


def test_wide_csv_hand_written(tmp_path):
    p = _write(tmp_path, "w.csv", " Debt , ID ,collateral\n5,a,10\n\n0, b ,0\n1e2,\"c,d\",3.5\n")
    r = load_positions(p)
    assert r.ids.tolist() == ["a", "b", "c,d"]
    np.testing.assert_array_equal(r.collateral, [10.0, 0.0, 3.5])
    np.testing.assert_array_equal(r.debt, [5.0, 0.0, 100.0])
    assert r.n_empty == 1


def test_header_only_is_an_empty_table(tmp_path):
    r = load_positions(_write(tmp_path, "h.csv", "id,collateral,debt\n"))
    assert r.n == 0 and r.collateral.shape == (0,)
    r = load_positions(_write(tmp_path, "l.csv", "id,asset,collateral,debt\n"))
    assert r.n == 0 and r.ptr.tolist() == [0] and r.assets == ()


def test_parquet_integer_ids(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "i.parquet"
    pq.write_table(pa.table({"id": [10, 11], "collateral": [1, 2], "debt": [0.5, 1.5]}), p)
    r = load_positions(p)
    assert r.ids.tolist() == ["10", "11"]
    np.testing.assert_array_equal(r.collateral, [1.0, 2.0])


# --- long format ---------------------------------------------------------------------------------

LONG = """id,asset,collateral,debt
alice,WETH,2,0
bob,USDC,1000,0
alice,USDC,0,1500
carol,WBTC,0,0
bob,WETH,0,0.2
alice,DAI,10,20
"""


def test_long_csr(tmp_path):
    r = load_positions(_write(tmp_path, "l.csv", LONG))
    assert not r.wide
    assert r.ids.tolist() == ["alice", "bob", "carol"]  # order of first appearance
    assert r.assets == ("WETH", "USDC", "WBTC", "DAI")  # order of first appearance
    assert r.ptr.tolist() == [0, 3, 5, 6]
    assert r.ptr.dtype == np.int64 and r.asset.dtype == np.int64
    # entries of each position in file order
    assert r.asset.tolist() == [0, 1, 3, 1, 0, 2]
    assert r.collateral.tolist() == [2.0, 0.0, 10.0, 1000.0, 0.0, 0.0]
    assert r.debt.tolist() == [0.0, 1500.0, 20.0, 0.0, 0.2, 0.0]
    assert r.n == 3 and r.nnz == 6 and r.n_empty == 1  # carol


def test_long_with_asset_list_sets_indices(tmp_path):
    r = load_positions(_write(tmp_path, "l.csv", LONG), assets=["DAI", "USDC", "WBTC", "WETH", "LINK"])
    assert r.assets == ("DAI", "USDC", "WBTC", "WETH", "LINK")
    names = np.array(r.assets)[r.asset]
    assert names.tolist() == ["WETH", "USDC", "DAI", "USDC", "WETH", "WBTC"]


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_long_round_trip(tmp_path, ext):
    if ext != ".csv":
        pytest.importorskip("pyarrow")
    a = load_positions(_write(tmp_path, "l.csv", LONG))
    p = tmp_path / f"out{ext}"
    write_positions(p, a)
    b = load_positions(p, assets=a.assets)  # the list fixes the asset indices
    assert b.ids.tolist() == a.ids.tolist() and b.assets == a.assets
    for f in ("ptr", "asset", "collateral", "debt"):
        np.testing.assert_array_equal(getattr(b, f), getattr(a, f))


def test_wide_to_long():
    t = PositionTable.from_wide([1.0, 2.0], [3.0, 4.0], ids=["x", "y"], assets=("WETH", "USDC"))
    lt = t.to_long()
    assert lt.ptr.tolist() == [0, 2, 4] and lt.asset.tolist() == [0, 1, 0, 1]
    assert lt.collateral.tolist() == [1.0, 0.0, 2.0, 0.0]
    assert lt.debt.tolist() == [0.0, 3.0, 0.0, 4.0]
    assert lt.to_long() is lt


# --- bad input: CSV ------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    _err(tmp_path / "nope.csv", "file not found")


def test_unsupported_extension(tmp_path):
    _err(_write(tmp_path, "x.txt", "id,collateral,debt\n"), "unsupported file type")


def test_directory(tmp_path):
    (tmp_path / "d.csv").mkdir()
    _err(tmp_path / "d.csv", "directory")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    _err(_write(tmp_path, "e.csv", text), "line 1", "empty", "id,collateral,debt")


def test_header_missing(tmp_path):
    _err(_write(tmp_path, "h.csv", "1,2,3\n4,5,6\n"), "line 1", "header missing",
         "expected columns id,collateral,debt")


@pytest.mark.parametrize(
    "header, parts",
    [
        ("id,collateral\n", ["missing debt", "found id,collateral"]),
        ("id,collateral,debt,protocol\n", ["unexpected protocol"]),
        ("id,asset,collateral\n", ["missing debt", "id,asset,collateral,debt (long)"]),
        ("id,collateral,debt,debt\n", ["repeated debt"]),
        ("account,collateral,debt\n", ["missing id", "unexpected account"]),
    ],
)
def test_wrong_columns(tmp_path, header, parts):
    _err(_write(tmp_path, "c.csv", header + "a,1,2\n"), "line 1", "wrong columns",
         "expected id,collateral,debt (wide) or id,asset,collateral,debt (long)", *parts)


def test_wrong_field_count(tmp_path):
    _err(_write(tmp_path, "f.csv", "id,collateral,debt\na,1,2\nb,1\n"), "line 3",
         "expected 3 fields", "found 2")


@pytest.mark.parametrize(
    "row, col, reason",
    [
        ("a,abc,1", "collateral", "not a number: 'abc'"),
        ("a,1,", "debt", "missing value"),
        ("a,nan,1", "collateral", "NaN"),
        ("a,1,inf", "debt", "infinite"),
        ("a,1,-Infinity", "debt", "infinite"),
        ("a,-0.5,1", "collateral", "negative"),
        ("a,1,-2", "debt", "negative"),
        (",1,2", "id", "missing id"),
    ],
)
def test_bad_amounts_name_line_and_column(tmp_path, row, col, reason):
    p = _write(tmp_path, "v.csv", f"id,collateral,debt\nok,1,1\n\n{row}\n")
    e = _err(p, "line 4", f"column '{col}'", reason)
    assert e.where == f"line 4, column '{col}'"


def test_line_numbers_count_physical_lines(tmp_path):
    # a quoted id spanning two lines: the next record starts on line 4
    p = _write(tmp_path, "q.csv", 'id,collateral,debt\n"x\ny",1,1\nz,1,bad\n')
    _err(p, "line 4", "column 'debt'", "not a number")


def test_duplicate_id_wide(tmp_path):
    p = _write(tmp_path, "d.csv", "id,collateral,debt\na,1,1\nb,1,1\na,2,2\n")
    _err(p, "line 4", "column 'id'", "duplicate id 'a'", "first at line 2")


def test_duplicate_id_asset_long(tmp_path):
    p = _write(tmp_path, "d.csv", "id,asset,collateral,debt\na,WETH,1,0\na,USDC,0,1\na,WETH,2,0\n")
    _err(p, "line 4", "column 'asset'", "duplicate (id, asset) = ('a', 'WETH')", "first at line 2")


def test_unknown_asset_long(tmp_path):
    p = _write(tmp_path, "u.csv", "id,asset,collateral,debt\na,WETH,1,0\na,DOGE,0,1\n")
    _err(p, "line 3", "column 'asset'", "unknown asset 'DOGE'", "WETH, USDC", assets=["WETH", "USDC"])
    assert load_positions(p).assets == ("WETH", "DOGE")  # any name without a list


def test_missing_asset_long(tmp_path):
    _err(_write(tmp_path, "m.csv", "id,asset,collateral,debt\na,,1,0\n"), "line 2",
         "column 'asset'", "missing asset name")


def test_not_utf8(tmp_path):
    p = tmp_path / "b.csv"
    p.write_bytes(b"id,collateral,debt\n\xff\xfe,1,1\n")
    _err(p, "not UTF-8")


def test_wide_needs_two_asset_names(tmp_path):
    with pytest.raises(ValueError):
        load_positions(_write(tmp_path, "w.csv", "id,collateral,debt\na,1,1\n"), assets=["WETH"])


# --- bad input: Parquet ----------------------------------------------------------------------------


@pytest.fixture
def pq():
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pqm

    def write(path, cols):
        pqm.write_table(pa.table(cols), path)
        return path

    return write


@pytest.mark.parametrize(
    "cols, where, reason",
    [
        ({"id": ["a", "b", "c"], "collateral": [1.0, float("nan"), 1.0], "debt": [1.0] * 3},
         "row 1, column 'collateral'", "NaN"),
        ({"id": ["a", "b", "c"], "collateral": [1.0] * 3, "debt": [1.0, 2.0, -3.0]},
         "row 2, column 'debt'", "negative"),
        ({"id": ["a", "b"], "collateral": [1.0, float("inf")], "debt": [1.0] * 2},
         "row 1, column 'collateral'", "infinite"),
        ({"id": ["a", "b"], "collateral": [1.0, None], "debt": [1.0] * 2},
         "row 1, column 'collateral'", "missing value"),
        ({"id": ["a", "b"], "collateral": ["1", "x"], "debt": [1.0] * 2},
         "row 1, column 'collateral'", "not a number: 'x'"),
        ({"id": ["a", "b", "a"], "collateral": [1.0] * 3, "debt": [1.0] * 3},
         "row 2, column 'id'", "duplicate id 'a' (first at row 0)"),
        ({"id": ["a", None], "collateral": [1.0] * 2, "debt": [1.0] * 2},
         "row 1, column 'id'", "missing id"),
        ({"id": ["a"], "asset": ["X"], "collateral": [1.0]},
         "schema", "missing debt"),
        ({"id": ["a"], "collateral": [True], "debt": [1.0]},
         "column 'collateral'", "expected numbers"),
    ],
)
def test_parquet_bad_input(tmp_path, pq, cols, where, reason):
    p = pq(tmp_path / "bad.parquet", cols)
    _err(p, where, reason)


def test_parquet_duplicate_and_unknown_asset(tmp_path, pq):
    p = pq(tmp_path / "l.parquet", {"id": ["a", "a", "b"], "asset": ["X", "Y", "Z"],
                                   "collateral": [1.0, 0.0, 1.0], "debt": [0.0, 1.0, 0.0]})
    _err(p, "row 2, column 'asset'", "unknown asset 'Z'", assets=["X", "Y"])
    p = pq(tmp_path / "d.parquet", {"id": ["a", "a"], "asset": ["X", "X"],
                                   "collateral": [1.0, 0.0], "debt": [0.0, 1.0]})
    _err(p, "row 1, column 'asset'", "duplicate (id, asset)", "first at row 0")


def test_parquet_empty_and_corrupt(tmp_path, pq):
    _err(_write(tmp_path, "e.parquet", ""), "empty")
    _err(_write(tmp_path, "c.parquet", "this is not parquet"), "not a readable Parquet file")


# --- atomic writes -------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_write_failure_leaves_nothing(tmp_path, monkeypatch, ext):
    if ext != ".csv":
        pytest.importorskip("pyarrow")
    t = PositionTable.from_wide([1.0, 2.0], [0.5, 0.5])

    def boom_csv(fh, table):
        fh.write("id,collateral,debt\n0,1.0,")
        raise RuntimeError("disk full")

    def boom_pq(tmp, table):
        with open(tmp, "wb") as fh:
            fh.write(b"PAR1 partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(pio, "_write_csv", boom_csv)
    monkeypatch.setattr(pio, "_write_parquet", boom_pq)
    p = tmp_path / f"b{ext}"
    with pytest.raises(RuntimeError, match="disk full"):
        write_positions(p, t)
    assert os.listdir(tmp_path) == []

    # an existing file survives a failed overwrite unchanged
    monkeypatch.undo()
    write_positions(p, t)
    before = p.read_bytes()
    monkeypatch.setattr(pio, "_write_csv", boom_csv)
    monkeypatch.setattr(pio, "_write_parquet", boom_pq)
    with pytest.raises(RuntimeError):
        write_positions(p, PositionTable.from_wide([9.0], [9.0]))
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == [p.name]


def test_from_wide_rejects_bad_arrays():
    with pytest.raises(ValueError):
        PositionTable.from_wide([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValueError):
        PositionTable.from_wide([1.0, np.nan], [1.0, 1.0])
    with pytest.raises(ValueError):
        PositionTable.from_wide([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        PositionTable.from_wide([1.0, 1.0], [1.0, 2.0], ids=["a", "a"])
