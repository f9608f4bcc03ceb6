"""--param parsing, scenario paths, grid / random points, validation of points."""

from __future__ import annotations

import pytest

from liqcascade.errors import InputError
from liqcascade.montecarlo.params import (
    apply_point,
    grid_points,
    parse_param,
    parse_range,
    point_id,
    random_points,
    targets,
)
from liqcascade.montecarlo.runner import plan_run
from liqcascade.scenario.load import load_scenario

from mc_helpers import write_scenario


@pytest.fixture
def base(tmp_path):
    sc, _ = load_scenario(write_scenario(tmp_path))
    return sc.model_dump(mode="python")


def test_parse_range():
    assert parse_range("0:0.3:0.1", "x") == [0.0, 0.1, 0.2, 0.3]
    assert parse_range("1,2,5", "x") == [1.0, 2.0, 5.0]
    assert parse_range("0.5:0.9", "x") == [0.5, 0.9]
    assert parse_range("7", "x") == [7.0]
    for bad in ("a:b:c", "0:1:0", "1:0:0.1", "nan", ""):
        with pytest.raises(InputError):
            parse_range(bad, "x")


def test_paths_resolve(base):
    s = parse_param("simulation.steps=10:30:10", base)
    assert s.integer and s.values == (10, 20, 30)
    s = parse_param("protocols.aave.params.WETH.liquidation_threshold=0.8:0.84:0.02", base)
    assert not s.integer and s.values == (0.8, 0.82, 0.84)
    assert parse_param("price.sigma=0.5,1", base).values == (0.5, 1.0)
    assert parse_param("liquidators.gas_cost=0:10:5", base).values == (0.0, 5.0, 10.0)
    assert parse_param("venues.pool.reserve_asset=100,200", base).values == (100.0, 200.0)
    # shorthand: asset parameters of every protocol, or a protocol-level field
    assert len(targets(base, "protocol.liquidation_bonus")) == 1
    assert targets(base, "protocol.close_factor")[0][1] == "close_factor"
    d = apply_point(base, {"protocol.liquidation_bonus": 0.07, "simulation.steps": 5})
    assert d["protocols"][0]["params"]["WETH"]["liquidation_bonus"] == 0.07
    assert d["simulation"]["steps"] == 5
    assert base["simulation"]["steps"] == 100  # deep copy


@pytest.mark.parametrize("text, msg", [
    ("price.nope=1:2:1", "unknown field"),
    ("protocols.compound.params.WETH.liquidation_threshold=0.5", "no element named"),
    ("simulation.paths=1:5:1", "cannot be swept"),
    ("simulation.steps=1.5:2.5:1", "integer field"),
    ("protocol.name=1", "neither"),
    ("protocols.aave.positions=1", "not a numeric field"),
    ("price.sigma", "expected PATH="),
])
def test_bad_params(base, text, msg):
    with pytest.raises(InputError) as ei:
        parse_param(text, base)
    assert msg in ei.value.reason and ei.value.where == "--param"


def test_grid_and_random(base):
    a = parse_param("price.sigma=0.5:1.5:0.5", base)
    b = parse_param("simulation.steps=10,20", base)
    g = grid_points([a, b])
    assert len(g) == 6 and g[0] == {"price.sigma": 0.5, "simulation.steps": 10}
    r1 = random_points([a, b], 20, seed=4)
    assert r1 == random_points([a, b], 20, seed=4)
    assert r1 != random_points([a, b], 20, seed=5)
    assert all(0.5 <= p["price.sigma"] <= 1.5 and p["simulation.steps"] in range(10, 21) for p in r1)
    assert all(isinstance(p["simulation.steps"], int) for p in r1)
    assert point_id({"a": 1.0}) == point_id({"a": 1.0}) != point_id({"a": 2.0})


def test_invalid_points_reported_and_skipped(tmp_path):
    scen = write_scenario(tmp_path)
    # LT 0.96 · (1 + 0.05) > 1 is refused by the protocol model
    plan = plan_run(scen, ["protocol.liquidation_threshold=0.86:0.96:0.05"], paths=4, chunk_paths=2)
    st = [(p.params["protocol.liquidation_threshold"], p.status) for p in plan.points]
    assert st == [(0.86, "ok"), (0.91, "ok"), (0.96, "invalid")]
    assert "liquidation_threshold" in plan.points[2].reason
    assert plan.n_chunks == 4  # 2 valid points × 2 chunks
    with pytest.raises(InputError, match="no valid parameter point"):
        plan_run(scen, ["protocol.liquidation_threshold=0.96,0.97"], paths=4)


def test_run_id_is_deterministic(tmp_path):
    scen = write_scenario(tmp_path)
    a = plan_run(scen, ["price.sigma=0.5,1"], paths=10, chunk_paths=3)
    b = plan_run(scen, ["price.sigma=0.5,1"], paths=10, chunk_paths=3)
    assert a.run_id == b.run_id
    assert plan_run(scen, ["price.sigma=0.5,1"], paths=10, chunk_paths=4).run_id != a.run_id
    assert plan_run(scen, ["price.sigma=0.5,1"], paths=10, chunk_paths=3, seed=9).run_id != a.run_id
    # the position file's content is part of the identity
    (scen.parent / "book.csv").write_text((scen.parent / "book.csv").read_text().replace("p0,", "q0,"))
    assert plan_run(scen, ["price.sigma=0.5,1"], paths=10, chunk_paths=3).run_id != a.run_id


def test_code_version(monkeypatch):
    from liqcascade import __version__
    from liqcascade.montecarlo.chunk import code_version

    monkeypatch.delenv("LIQCASCADE_CODE_VERSION")
    v = code_version()
    assert v.startswith(__version__ + "+") and len(v) == len(__version__) + 11
    monkeypatch.setenv("LIQCASCADE_CODE_VERSION", "pinned")
    assert code_version() == "pinned"
