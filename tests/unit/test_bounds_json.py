"""The numeric bounds validation enforces (liqcascade.bounds), strict JSON (liqcascade.jsonout)
and the engines' notes and checks at the extremes (liqcascade.engine.extremes)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from liqcascade import bounds as B
from liqcascade import jsonout
from liqcascade.engine import extremes as X
from liqcascade.errors import InputError, KernelError


@pytest.mark.parametrize("x, ok", [(0.0, True), (1e-18, True), (1e18, True), (1.0, True),
                                   (math.nextafter(1e-18, 0), False), (math.nextafter(1e18, 2e18), False),
                                   (-1e-300, False), (math.inf, False), (math.nan, False), (-1.0, False)])
def test_amount_bounds(x, ok):
    assert (B.amount_problem(x) is None) == ok
    bad = B.first_bad_amount(np.array([1.0, x, 2.0]))
    assert (bad is None) == ok
    if not ok:
        assert bad[0] == 1 and bad[1] == B.amount_problem(x)


def test_amount_reasons_name_the_bound():
    assert "above 1e+18" in B.amount_problem(2e18)
    assert "below 1e-18" in B.amount_problem(1e-19) and "write 0" in B.amount_problem(1e-19)
    assert "finite number >= 0" in B.amount_problem(-1.0)
    assert B.first_bad_amount(np.zeros(0)) is None
    assert B.first_bad_amount([3.0, math.nan, -1.0]) == (1, B.amount_problem(math.nan))


@pytest.mark.parametrize("x, ok", [(1e-12, True), (1e12, True), (1.0, True), (math.nextafter(1e-12, 0), False),
                                   (math.nextafter(1e12, 2e12), False), (0.0, False), (-1.0, False),
                                   (math.inf, False), (math.nan, False)])
def test_price_bounds(x, ok):
    assert (B.price_problem(x) is None) == ok


def test_price_reasons():
    assert "> 0" in B.price_problem(0.0)
    assert "outside [1e-12, 1e+12]" in B.price_problem(1e13)


@pytest.mark.parametrize("v, bad", [
    (1e30, False), (-1e30, False), (math.nextafter(1e30, 2e30), True), (-2e30, True), (math.inf, False),
    (math.nan, False), (10**40, False), (True, False), (None, False), ("1e40", False),
    ([1.0, [2.0, 3e30]], True), ((1.0, 2e31), True), ({"a": 1.0, "b": {"c": -5e31}}, True), ([1.0, 2.0], False),
])
def test_magnitude(v, bad):
    assert (B.magnitude_problem(v) is not None) == bad
    if bad:
        with pytest.raises(ValueError, match="float64 arithmetic carries"):
            B.check_magnitude(v)
    else:
        assert B.check_magnitude(v) is v


def test_the_bounds_leave_headroom():
    """The reasoning in liqcascade.bounds: sums and squared invariants stay far below overflow, a
    value over the lowest floor too."""
    assert B.AMOUNT_MAX * B.PRICE_MAX * 1e9 < 1e300
    assert (B.AMOUNT_MAX * B.PRICE_MAX) ** 2 * 1e4 < 1e300
    assert B.AMOUNT_MAX * B.PRICE_MAX / (B.FLOOR_REL_MIN * B.PRICE_MIN) < 1e300
    assert B.AMOUNT_MIN * B.PRICE_MIN * B.FLOOR_REL_MIN > 1e-300
    assert B.FLOOR_REL_MIN < B.FLOOR_REL_DEFAULT == B.PATH_REL_MIN < 1.0 < B.PATH_REL_MAX
    assert B.first_bad_amount(np.array([2e18])) == (0, B.amount_problem(2e18))
    assert B.first_bad_amount([1, 2]) is None and B.first_bad_amount([]) is None


# --- jsonout ---------------------------------------------------------------------------------


def test_plain_json_without_nan_or_infinity():
    obj = {
        "a": math.nan, "b": math.inf, "c": -math.inf, "d": 1.5, "e": np.float64("nan"), "f": np.float32(2.0),
        "g": np.array([1.0, np.inf, 3.0]), "h": (1, np.int64(7)), "i": Path("x/y"), "j": dt.date(2024, 1, 2),
        "k": dt.datetime(2024, 1, 2, 3, 4, 5), "l": True, "m": None, 3: "int key", "n": {2.0, 1.0},
        "o": [np.bool_(True)], "p": np.array([[1, 2], [3, 4]]),
    }
    text = jsonout.dumps(obj, sort_keys=False)
    back = json.loads(text, parse_constant=lambda tok: pytest.fail(f"{tok} in output"))
    assert back == {
        "a": None, "b": None, "c": None, "d": 1.5, "e": None, "f": 2.0, "g": [1.0, None, 3.0], "h": [1, 7],
        "i": "x/y", "j": "2024-01-02", "k": "2024-01-02T03:04:05", "l": True, "m": None, "3": "int key",
        "n": [1.0, 2.0], "o": [True], "p": [[1, 2], [3, 4]],
    }
    assert "NaN" not in text and "Infinity" not in text
    assert jsonout.dumps([1.0], indent=2) == "[\n  1.0\n]"
    assert jsonout.dumps({1, "a"}) == '[1, "a"]'  # a set of mixed types, ordered by its text
    with pytest.raises(TypeError):
        jsonout.dumps([1.0], allow_nan=True)  # strict JSON cannot be switched off


def test_unknown_objects_are_refused():
    with pytest.raises(TypeError, match="object"):
        jsonout.dumps({"x": object()})
    with pytest.raises(TypeError):
        jsonout.plain(np.dtype("f8"))


# --- engine.extremes ----------------------------------------------------------------------------


class _C:
    """The few fields of a Compiled the notes read."""

    def __init__(self, floors, venue_asset, assets, stable):
        self.vs0 = np.zeros((len(floors), 10))
        self.vs0[:, 9] = floors
        self.venue_asset = np.array(venue_asset)
        self.assets = assets
        self.stable = np.array(stable)
        self.n_assets = len(assets)


def test_floor_notes_count_paths_at_the_floor():
    # a stable asset first and an asset without a venue floor: both skipped, the others noted
    c = _C([0.0, 1.0, 2.0, 0.5], [1, 2, 2, 3], ["Q", "Z", "A", "B"], [True, False, False, False])
    min_spot = np.array([[1.0, 0.0, 2.0, 0.6], [1.0, 0.0, 2.5, 0.5]])  # two paths, four assets
    notes = X.floor_notes(c, min_spot)
    assert len(notes) == 2
    assert notes[0] == ("A: the venues ran out of bids (price down to the floor 2, venue min_price) on 1 of 2 "
                        "path(s); what they could not take filled at the floor price, and positions were liquidated at it")
    assert notes[1].startswith("B:") and "floor 0.5," in notes[1] and "on 1 of 2" in notes[1]
    assert X.floor_notes(c, np.array([[1.0, 0.0, 3.0, 0.6]])) == []
    assert X.floor_notes(c, np.zeros((0, 4))) == []
    # the floor counts within 1e-9 relative, bound included; a price above it does not
    assert X.floor_notes(c, np.array([[1.0, 0.0, 2.0 * (1.0 + 1e-9), 0.6]]))
    assert not X.floor_notes(c, np.array([[1.0, 0.0, math.nextafter(2.0 * (1.0 + 1e-9), 3.0), 0.6]]))
    # no floor set (hand-built states): no note
    assert X.floor_notes(_C([0.0], [0], ["A"], [False]), np.array([[0.0]])) == []


def test_curve_floor_notes_name_the_first_shock():
    notes = X.curve_floor_notes(["A", "Q"], np.array([False, True]), np.array([2.0, 0.0]), np.array([0.1, 0.2, 0.3]),
                                np.array([[5.0, 1.0], [2.0, 1.0], [2.0, 1.0]]))
    assert notes == ["A: the venue ran out of bids (price down to its floor 2, venue min_price) from shock 0.2; "
                     "what it could not take filled at the floor price"]
    assert X.curve_floor_notes(["A"], np.array([False]), np.array([2.0]), np.array([0.1]), np.array([[2.1]])) == []
    assert X.curve_floor_notes(["A"], np.array([True]), np.array([2.0]), np.array([0.1]), np.array([[1.0]])) == []
    assert X.curve_floor_notes(["A"], np.array([False]), np.array([0.0]), np.array([0.1]), np.array([[0.0]])) == []
    assert X.curve_floor_notes(["A"], np.array([False]), np.array([0.5]), np.array([0.1]), np.array([[0.5]]))
    # a stable asset first is skipped, not the end of the list; the 1e-9 band includes its bound
    edge = 2.0 * (1.0 + 1e-9)
    notes = X.curve_floor_notes(["Q", "A"], np.array([True, False]), np.array([0.0, 2.0]), np.array([0.1, 0.2]),
                                np.array([[1.0, 3.0], [1.0, edge]]))
    assert len(notes) == 1 and notes[0].startswith("A:") and "from shock 0.2" in notes[0]
    assert not X.curve_floor_notes(["A"], np.array([False]), np.array([2.0]), np.array([0.1]),
                                   np.array([[math.nextafter(edge, 3.0)]]))


def test_check_status_and_parallel_call():
    X.check_status(np.array([X.ST_OK, X.ST_OK]), "x", str)
    with pytest.raises(KernelError) as e:
        X.check_status(np.array([0, X.ST_NONFINITE]), "dynamic run", lambda i: f"path {i}", lambda i: 1 / 0)
    assert e.value.message() == "dynamic run: path 1 produced a NaN or infinite result"  # no re-run for NaN
    for status, head in (([2, 2], "x: path 0 (and 1 more) "), ([0, 1, 2, 2], "x: path 1 (and 2 more) "),
                         ([0, 0, 2], "x: path 2 produced")):
        with pytest.raises(KernelError) as e:
            X.check_status(np.array(status), "x", lambda i: f"path {i}")
        assert e.value.message().startswith(head), e.value.message()
    with pytest.raises(KernelError) as e:
        X.check_status(np.array([7]), "x", lambda i: "it")
    assert e.value.message() == "x: it returned status 7"
    with pytest.raises(KernelError) as e:
        X.check_status(np.array([X.ST_UNFINISHED]), "x", lambda i: "it", lambda i: None)
    assert e.value.message() == "x: it stopped with an error inside the compiled loop"

    def only_two(i):  # the re-run is of the iteration that failed
        if i == 2:
            raise ValueError("math domain error")

    with pytest.raises(KernelError) as e:
        X.check_status(np.array([0, 0, X.ST_UNFINISHED]), "x", lambda i: f"shock {i}", only_two)
    assert e.value.message() == "x: shock 2 stopped with an error inside the compiled loop: ValueError: math domain error"
    assert X.parallel_call(lambda: 5, "x", 3, str, lambda i: None) == 5

    def boom():
        raise SystemError("returned a result with an exception set")

    def rerun(i):
        if i == 2:
            raise ZeroDivisionError("division by zero")

    with pytest.raises(KernelError) as e:
        X.parallel_call(boom, "static solver", 4, lambda i: f"shock {i}", rerun)
    assert e.value.message() == ("static solver: shock 2 stopped with an error inside the compiled loop: "
                                 "ZeroDivisionError: division by zero")
    with pytest.raises(KernelError) as e:
        X.parallel_call(boom, "static solver", 2, lambda i: f"shock {i}", lambda i: None)
    assert e.value.message() == ("static solver: stopped with an error inside the compiled loop: "
                                 "SystemError: returned a result with an exception set")
    def wrapped(i):  # a serial re-run that itself reports a KernelError: its cause is quoted
        try:
            1 / 0
        except ZeroDivisionError as exc:
            raise KernelError("dynamic run", "ZeroDivisionError: division by zero") from exc

    with pytest.raises(KernelError) as e:
        X.parallel_call(boom, "dynamic run", 1, lambda i: f"path {i}", wrapped)
    assert e.value.message() == ("dynamic run: path 0 stopped with an error inside the compiled loop: "
                                 "ZeroDivisionError: division by zero")
    with pytest.raises(RuntimeError):  # not a kernel error: passed on unchanged
        X.parallel_call(lambda: (_ for _ in ()).throw(RuntimeError("x")), "x", 1, str, rerun)


def test_kernel_errors_context():
    with pytest.raises(KernelError) as e:
        with X.kernel_errors("dynamic run"):
            raise ZeroDivisionError("division by zero")
    assert e.value.message() == "dynamic run: ZeroDivisionError: division by zero"
    with pytest.raises(InputError):
        with X.kernel_errors("x"):
            raise InputError("f", "w", "r")
    with pytest.raises(KeyError):
        with X.kernel_errors("x"):
            raise KeyError("k")
    with X.kernel_errors("x"):
        pass
    err = KernelError("w", "r", file="f.toml")
    assert err.message() == "f.toml: w: r" and KernelError("", "r").message() == "r"
