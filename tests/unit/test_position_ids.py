"""Position ids held compactly (positions/ids.py) and the book's derived key (engine/compile.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.compile import Book, compile_scenario
from liqcascade.engine.static import final_state, solve_static
from liqcascade.positions.ids import IdsNotLoaded, PositionIds
from liqcascade.positions.io import PositionTable, write_positions
from liqcascade.scenario.models import Scenario

pa = pytest.importorskip("pyarrow")


def test_kinds_give_the_same_text():
    words = [f"id-{i}" for i in range(10)]
    for ids in (PositionIds.from_arrow(pa.array(words)), PositionIds.from_values(np.array(words, dtype=object)),
                PositionIds.synthetic("id-", 10)):
        assert len(ids) == 10 and ids.shape == (10,)
        assert ids.tolist() == words
        assert ids[3] == "id-3" and ids[-1] == "id-9"
        assert ids[2:5].tolist() == words[2:5]
        assert ids[::-3].tolist() == words[::-3]
        mask = np.arange(10) % 3 == 0
        assert ids[mask].tolist() == [w for w, m in zip(words, mask) if m]
        order = np.array([9, 0, 4, 4, -2])
        view = ids[order]
        assert view.tolist() == [words[i] for i in order]
        assert view[np.array([1, 0])].tolist() == [words[0], words[9]]  # views compose
        assert list(np.asarray(view)) == view.tolist()
        assert view.to_arrow().to_pylist() == view.tolist()
    assert PositionIds.arange(4, start=7).tolist() == [7, 8, 9, 10]
    assert PositionIds.arange(4).astype(np.int64).tolist() == [0, 1, 2, 3]
    with pytest.raises(IndexError):
        PositionIds.synthetic("x", 3)[np.array([3])]


def test_concat_is_lazy_and_keeps_each_part():
    a = PositionIds.from_arrow(pa.array(["a0", "a1", "a2"]))[np.array([2, 0])]
    b = PositionIds.synthetic("b", 3)
    c = np.array(["c0"], dtype=object)
    ids = PositionIds.concat([a, b, c])
    assert ids.tolist() == ["a2", "a0", "b0", "b1", "b2", "c0"]
    assert ids[np.array([5, 0, 3])].tolist() == ["c0", "a2", "b1"]


def test_absent_ids_index_without_allocating_and_refuse_text():
    ids = PositionIds.absent(5)
    view = ids[np.array([True, False, True, True, False])][np.array([2, 0])]
    assert len(view) == 2 and not view.loaded and view.nbytes() == 0
    with pytest.raises(IdsNotLoaded):
        view.tolist()
    with pytest.raises(IdsNotLoaded):
        ids[0]
    assert len(PositionIds.concat([ids, PositionIds.absent(2)])) == 7


# --- the book: derived key, ids only when asked for ---------------------------------------------


def _scenario(path: Path) -> Scenario:
    return Scenario.model_validate({
        "name": "k", "assets": [{"name": "A", "price": 2000.0}, {"name": "Q", "price": 1.0, "stable": True}],
        "price": {"kind": "crash", "shock": 0.2},
        "venues": [{"name": "pool", "asset": "A", "kind": "cpmm", "reserve_asset": 300.0}],
        "protocols": [{"name": "p", "positions": str(path), "collateral": "A", "debt": "Q",
                       "close_factor_rule": "v3.3",
                       "params": {"A": {"liquidation_threshold": 0.83, "liquidation_bonus": 0.05}}}],
    })


@pytest.fixture
def book_file(tmp_path):
    rng = np.random.default_rng(5)
    n = 5000
    coll = rng.lognormal(0.0, 1.5, n)
    debt = coll * 2000.0 * 0.83 / rng.uniform(1.0, 1.6, n)
    debt[::97] = 0.0  # idle positions
    ids = [f"acct-{i}" for i in range(n)]
    p = tmp_path / "book.csv"
    write_positions(p, PositionTable.from_wide(coll, debt, ids=ids))
    return p, coll, debt, ids


def test_derived_key_is_the_sorting_key_bit_for_bit(book_file):
    p, coll, debt, ids = book_file
    c = compile_scenario(_scenario(p), Path("."))
    b = c.book
    assert not b.has_key and b.key_lt.tolist() == [0.83]
    live = (coll > 0) & (debt > 0)
    key = debt[live] / (coll[live] * 0.83)
    order = np.argsort(-key, kind="stable")
    np.testing.assert_array_equal(b.coll, coll[live][order])
    assert b.derive_key(10, 20).tobytes() == key[order][10:20].tobytes()
    assert b.derive_key(0, 0, idx=np.array([7, 3])).tobytes() == key[order][[7, 3]].tobytes()
    assert b.key.tobytes() == key[order].tobytes()  # read: derived once, then held
    assert b.has_key
    assert b.ids.tolist() == list(np.array(ids, dtype=object)[live][order])


def test_curve_without_ids_or_key_is_the_same_curve(book_file):
    p, *_ = book_file
    shocks = np.linspace(0.0, 0.6, 25)
    lean = compile_scenario(_scenario(p), Path("."), ids=False)
    full = compile_scenario(_scenario(p), Path("."))
    full.book.key  # noqa: B018 - the per-position key held, as every book had before
    a, b = solve_static(lean, shocks), solve_static(full, shocks)
    assert [x.as_dict() for x in a.points] == [x.as_dict() for x in b.points]
    assert a.points[-1].liquidations > 0
    assert not lean.book.has_key and not lean.book.ids.loaded
    for engine in ("aggregated", "per-position"):
        oc1, od1, s1 = final_state(lean, 0.4, engine=engine)
        oc2, od2, s2 = final_state(full, 0.4, engine=engine)
        assert oc1.tobytes() == oc2.tobytes() and od1.tobytes() == od2.tobytes()


def test_book_without_key_needs_its_lt():
    with pytest.raises(ValueError, match="key_lt"):
        Book(coll=np.ones(2), debt=np.ones(2), key=None, seg_ptr=np.array([0, 2]), seg_asset=np.zeros(1, np.int64),
             seg_proto=np.zeros(1, np.int64), seg_debt_asset=np.ones(1, np.int64), ids=np.array(["a", "b"]))


@pytest.mark.parametrize("seed", range(4))
def test_stable_argsort_is_numpys_stable_argsort(seed):
    from liqcascade.engine.compile import stable_argsort

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300_000))
    x = -rng.lognormal(size=n)
    if n:
        # runs of ties, across chunk boundaries too, and infinities
        x[rng.integers(0, n, n // 500)] = x[0]
        x[(1 << 16) - 3:(1 << 16) + 4] = 7.0
        x[rng.integers(0, n, 5)] = -np.inf
    for chunk in (1 << 16, 7):
        assert np.array_equal(stable_argsort(x, chunk=chunk), np.argsort(x, kind="stable"))
    many = rng.integers(0, 50, n).astype(np.float64)  # mostly ties: the stable sort itself
    assert np.array_equal(stable_argsort(many), np.argsort(many, kind="stable"))
