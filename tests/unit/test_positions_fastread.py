"""The pyarrow fast path of the position loader: taken for ordinary files, and for every file
it gives exactly what the exact reader (Python's csv module) gives — the same table or the same
error."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqcascade.errors import InputError
from liqcascade.positions import fastread
from liqcascade.positions import io as pio
from liqcascade.positions.ids import IdsNotLoaded, PositionIds
from liqcascade.positions.io import PositionTable, load_positions, write_positions

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402


def _exact(path, assets=None):
    """The exact reader alone (no fast path)."""
    if str(path).endswith(".csv"):
        cols, rows = pio._read_csv(path, str(path))
    else:
        cols, rows = pio._read_parquet(path, str(path))
    return pio._build(str(path), cols, rows, assets)


def _outcome(fn):
    try:
        return fn()
    except InputError as e:
        return ("error", str(e))


def _same(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        assert a == b
        return
    assert a.wide == b.wide and a.assets == b.assets and a.n == b.n and a.n_empty == b.n_empty
    assert a.ids.tolist() == b.ids.tolist()
    np.testing.assert_array_equal(a.collateral, b.collateral)
    np.testing.assert_array_equal(a.debt, b.debt)
    assert a.collateral.dtype == b.collateral.dtype == np.float64
    if not a.wide:
        np.testing.assert_array_equal(a.ptr, b.ptr)
        np.testing.assert_array_equal(a.asset, b.asset)


@pytest.fixture
def no_exact(monkeypatch):
    """Fail if the exact reader is used."""
    def boom(*a, **k):
        raise AssertionError("the exact reader was used")

    monkeypatch.setattr(pio, "_read_csv", boom)
    monkeypatch.setattr(pio, "_read_parquet", boom)


# --- the fast path is the path ---------------------------------------------------------------


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_ordinary_files_take_the_fast_path(tmp_path, ext, no_exact):
    rng = np.random.default_rng(3)
    coll, debt = rng.lognormal(size=3000), rng.lognormal(size=3000)
    debt[5] = coll[5] = 0.0
    ids = [f"0x{i:040x}" for i in range(3000)]
    t = PositionTable.from_wide(coll, debt, ids=ids, assets=("WETH", "USDC"))
    p = tmp_path / f"b{ext}"
    write_positions(p, t)
    r = load_positions(p, assets=["WETH", "USDC"])
    assert r.ids.tolist() == ids and r.n_empty == 1 and r.assets == ("WETH", "USDC")
    np.testing.assert_array_equal(r.collateral, coll)
    np.testing.assert_array_equal(r.debt, debt)
    long = t.to_long()
    p2 = tmp_path / f"l{ext}"
    write_positions(p2, long)
    r2 = load_positions(p2, assets=["WETH", "USDC"])
    assert r2.ids.tolist() == ids
    for f in ("ptr", "asset", "collateral", "debt"):
        np.testing.assert_array_equal(getattr(r2, f), getattr(long, f))


def test_parquet_integer_ids_and_amounts_fast(tmp_path, no_exact):
    p = tmp_path / "i.parquet"
    pq.write_table(pa.table({"debt": pa.array([1, 2], pa.int32()), "ID": [10, -11],
                             "collateral": pa.array([1.5, 2.5], pa.float32())}), p)
    r = load_positions(p)
    assert r.ids.tolist() == ["10", "-11"]
    np.testing.assert_array_equal(r.collateral, [1.5, 2.5])
    np.testing.assert_array_equal(r.debt, [1.0, 2.0])


def test_keep_ids_false_checks_but_does_not_keep(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("id,collateral,debt\na,1,2\nb,3,4\n")
    r = load_positions(p, keep_ids=False)
    assert r.n == 2 and not r.ids.loaded
    with pytest.raises(IdsNotLoaded):
        r.ids.tolist()
    assert len(r.ids[np.array([1, 0])]) == 2  # indexing still works, lazily
    p.write_text("id,collateral,debt\na,1,2\na,3,4\n")
    with pytest.raises(InputError, match="duplicate id 'a'"):
        load_positions(p, keep_ids=False)


def test_hash_collision_is_not_a_duplicate(tmp_path, monkeypatch):
    """Two different ids with one hash: the exact reader decides, and accepts the file."""
    p = tmp_path / "b.csv"
    p.write_text("id,collateral,debt\na,1,2\nb,3,4\n")

    def same_hash(off, data, out, start):
        out[start:start + off.shape[0] - 1] = 7
        return 0

    monkeypatch.setattr(fastread.K_ids, "hash_ids", same_hash)
    assert fastread.read_positions(p, str(p), None, True) is None
    r = load_positions(p)
    assert r.ids.tolist() == ["a", "b"]
    p.write_text("id,asset,collateral,debt\na,X,1,0\nb,X,0,1\na,Y,0,2\n")
    assert fastread.read_positions(p, str(p), None, True) is None
    assert load_positions(p).ids.tolist() == ["a", "b"]


def test_duplicate_far_down_a_big_file_names_both_lines(tmp_path):
    n = 300_000
    ids = np.arange(n).astype(str).astype(object)
    ids[n - 1] = "123"
    p = tmp_path / "big.csv"
    write_positions(p, PositionTable(ids=PositionIds.from_values(ids), assets=("collateral", "debt"), wide=True,
                                     collateral=np.ones(n), debt=np.ones(n)))
    with pytest.raises(InputError) as e:
        load_positions(p)
    assert e.value.where == f"line {n + 1}, column 'id'"
    assert "duplicate id '123' (first at line 125)" in str(e.value)


# --- same answer as the exact reader, on generated files --------------------------------------

ID_TEXT = st.one_of(
    st.text(st.sampled_from("abcxyz0189_-"), min_size=1, max_size=6),
    st.sampled_from(["", " ", " a", "a ", "\ta", "a\u00a0", "é", "a,b", 'q"x', "x\ny", "1", "１"]),
)
NUM_TEXT = st.one_of(
    st.floats(0, 1e12, allow_nan=False).map(repr),
    st.integers(0, 10**6).map(str),
    st.sampled_from(["", " 1", "2 ", "1_0", "nan", "inf", "-1", "-0", "1e400", "abc", ".5", "5.", "+3", "0x10",
                     "1e-320", "Infinity", "1e18", "1.0000001e18", "1e-18", "9e-19"]),
)


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\n\r') or s.strip() != s else s


@st.composite
def csv_files(draw):
    long = draw(st.booleans())
    cols = ["id", "asset", "collateral", "debt"] if long else ["id", "collateral", "debt"]
    order = draw(st.permutations(cols))
    header = [draw(st.sampled_from([c, c.upper(), f" {c} "])) for c in order]
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        vals = {"id": draw(ID_TEXT), "collateral": draw(NUM_TEXT), "debt": draw(NUM_TEXT),
                "asset": draw(st.sampled_from(["X", "Y", "Z", "", " X"]))}
        if draw(st.integers(0, 9)) == 0:
            vals["debt"] = vals["debt"] + ",9"  # a row with too many fields
        rows.append(",".join(_quote(vals[c]) if c in ("id", "asset") else vals[c] for c in order))
        if draw(st.integers(0, 9)) == 0:
            rows.append(draw(st.sampled_from(["", "  ", ","])))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    lead = draw(st.sampled_from(["", eol, eol + eol]))  # blank lines before the header
    return bom + lead + ",".join(header) + eol + eol.join(rows) + draw(st.sampled_from(["", eol]))


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_files(), assets=st.sampled_from([None, ["X", "Y"], ["Y", "X", "Z"]]))
def test_csv_same_as_exact_reader(tmp_path, text, assets):
    p = tmp_path / "g.csv"
    p.write_bytes(text.encode("utf-8"))
    long = "asset" in text.split("\n", 1)[0].lower()
    if not long and assets is not None and len(assets) != 2:
        assets = None
    _same(_outcome(lambda: load_positions(p, assets=assets)), _outcome(lambda: _exact(p, assets)))


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.one_of(st.text(st.sampled_from("ab1 "), max_size=3), st.none()), min_size=0, max_size=6),
       amounts=st.lists(st.one_of(st.floats(-1, 1e9), st.sampled_from([1e18, 2e18, 1e-18, 5e-19]), st.none()),
                        min_size=12, max_size=12),
       int_ids=st.booleans())
def test_parquet_same_as_exact_reader(tmp_path, ids, amounts, int_ids):
    n = len(ids)
    p = tmp_path / "g.parquet"
    id_col = pa.array([None if x is None else len(x) for x in ids], pa.int64()) if int_ids else pa.array(ids, pa.string())
    pq.write_table(pa.table({"id": id_col, "collateral": pa.array(amounts[:n], pa.float64()),
                             "debt": pa.array(amounts[6:6 + n], pa.float64())}), p)
    _same(_outcome(lambda: load_positions(p)), _outcome(lambda: _exact(p)))


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
@pytest.mark.parametrize("amount", [2e18, 1e-19])
def test_amount_out_of_bounds_is_refused_as_the_exact_reader_words_it(tmp_path, ext, amount):
    p = tmp_path / f"b{ext}"
    n = 5
    coll = np.full(n, 1.0)
    coll[3] = amount
    write_positions(p, PositionTable(ids=np.array([f"p{i}" for i in range(n)], dtype=object),
                                     assets=("collateral", "debt"), wide=True, collateral=coll, debt=np.full(n, 1.0)))
    fast, exact = _outcome(lambda: load_positions(p)), _outcome(lambda: _exact(p))
    assert fast == exact and fast[0] == "error" and "collateral" in fast[1], fast


def test_parquet_other_string_types_same_as_exact_reader(tmp_path, no_exact):
    """large_string ids and a dictionary-encoded asset column (a pandas category) stay fast."""
    p = tmp_path / "l.parquet"
    ids = pa.array(["b", "a", "b", "c"], pa.large_string())
    asset = pa.array(["X", "Y", "Y", "X"]).dictionary_encode()
    pq.write_table(pa.table({"id": ids, "asset": asset, "collateral": [1.0, 0.0, 0.0, 3.0],
                             "debt": [0.0, 2.0, 5.0, 0.0]}), p)
    r = load_positions(p)
    assert r.ids.tolist() == ["b", "a", "c"] and r.assets == ("X", "Y")
    assert r.ptr.tolist() == [0, 2, 3, 4] and r.asset.tolist() == [0, 1, 1, 0]
    assert r.collateral.tolist() == [1.0, 0.0, 0.0, 3.0] and r.debt.tolist() == [0.0, 5.0, 2.0, 0.0]


# --- memory: what the loader and the book builder hold ---------------------------------------


def test_numpy_memory_per_position_from_file_to_book(tmp_path):
    """Peak NumPy allocations (tracemalloc sees them) from a CSV file to a sorted book, per
    position: the loaded amounts (16 B) and id hashes (8 B), then the sort's key, index and one
    gathered copy (36 B). A regression to a copy of the whole book, or to one Python object per
    id, fails this."""
    from pathlib import Path

    from liqcascade.engine.compile import compile_scenario
    from liqcascade.scenario.models import Scenario

    n = 200_000
    rng = np.random.default_rng(1)
    coll = rng.lognormal(size=n)
    debt = coll * 1000.0 * rng.uniform(0.3, 0.9, n)
    p = tmp_path / "book.csv"
    write_positions(p, PositionTable.from_wide(coll, debt, ids=[f"0x{i:040x}" for i in range(n)]))
    sc = Scenario.model_validate({
        "name": "m", "assets": [{"name": "A", "price": 2000.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "crash", "shock": 0.2},
        "venues": [{"name": "pool", "asset": "A", "kind": "cpmm", "reserve_asset": 1e5}],
        "protocols": [{"name": "p", "positions": str(p), "collateral": "A", "debt": "Q",
                       "params": {"A": {"liquidation_threshold": 0.8, "liquidation_bonus": 0.05}}}],
    })
    compile_scenario(sc, Path("."), ids=True)  # first use imports modules and loads kernels: not the book's
    for keep, bound in ((False, 40), (True, 40)):  # measured 37.3 B for both
        tracemalloc.start()
        c = compile_scenario(sc, Path("."), ids=keep)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert c.book.n == n
        assert peak / n <= bound, f"ids={keep}: {peak / n:.1f} B per position"
        assert c.book.ids.loaded == keep
        if keep:  # the riskiest position first, named by its id from the file
            assert c.book.ids[0] == f"0x{int(np.argmax(debt / coll)):040x}"
