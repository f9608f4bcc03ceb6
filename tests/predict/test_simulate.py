"""Training data from the engine: book reconstruction, determinism, splits, and the evaluation run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqcascade.errors import InputError
from liqcascade.predict.family import Family, FamilyFile, draw_scenario, load_family_file


def tiny_file(seed: int = 3) -> FamilyFile:
    """Two small families (one per venue kind and book shape), two crash scenarios each."""
    common = dict(scenarios=2, paths=1, steps=600, positions=(40, 60), prices=["crash"],
                  debt_to_depth=(30.0, 60.0), crash_shock=(0.3, 0.4), crash_over_s=(600.0, 1200.0))
    return FamilyFile(seed=seed, families=[Family(name="pool", venue="cpmm", book_shape="clustered", **common),
                                           Family(name="book", venue="book", book_shape="uniform", **common)])


@pytest.fixture(scope="module")
def tiny_dataset():
    from liqcascade.predict.simulate import simulate_family_file

    return simulate_family_file(tiny_file())


def test_draws_are_seeded_and_order_free():
    ff = tiny_file()
    lab = ff.label.spec()
    a = draw_scenario(ff.families[0], 1, 3, lab, 21600.0)
    b = draw_scenario(ff.families[0], 1, 3, lab, 21600.0)
    assert a.scenario == b.scenario and np.array_equal(a.coll, b.coll)
    c = draw_scenario(ff.families[0], 0, 3, lab, 21600.0)
    assert not np.array_equal(a.coll, c.coll)
    assert a.debt.sum() == pytest.approx(a.meta["total_debt"])


def test_book_reconstruction_matches_the_engine(tmp_path):
    """The positions the features see at the last step equal the engine's final book of path 0."""
    from liqcascade.predict import simulate as S

    ff = tiny_file()
    fam = ff.families[0]
    d = draw_scenario(fam, 0, ff.seed, ff.label.spec(), 21600.0)
    res = S.run_draw(d, tmp_path)
    ev = res.events[res.events["path"] == 0]
    assert ev.size > 0, "the fixture should liquidate something"
    coll, debt = d.coll.copy(), d.debt.copy()
    pos = np.array([int(x) for x in ev["position"]])
    np.subtract.at(coll, pos, ev["collateral_seized"])
    np.subtract.at(debt, pos, ev["debt_repaid"] + ev["bad_debt"])
    ids = np.array([int(x) for x in res_ids(res, tmp_path, d)])
    assert np.allclose(coll[ids], res.final_coll, rtol=1e-9, atol=1e-9)
    assert np.allclose(debt[ids], res.final_debt, rtol=1e-9, atol=1e-6)


def res_ids(res, folder, d):
    from liqcascade.engine.compile import compile_scenario
    from liqcascade.scenario.load import validate_dict

    sc = validate_dict({**d.scenario, "protocols": [{**d.scenario["protocols"][0],
                                                     "positions": str(folder / "positions.csv")}]})
    return compile_scenario(sc, folder).book.ids


def test_dataset_shape_determinism_and_splits(tiny_dataset):
    from liqcascade.predict.evaluate import sim_splits
    from liqcascade.predict.simulate import SIM_FEATURES, simulate_family_file

    ds = tiny_dataset
    assert ds.X.shape == (len(ds), len(SIM_FEATURES))
    assert set(np.unique(ds.y)) <= {0.0, 1.0}
    assert (ds.y == 1).any(), "the tiny families should contain a cascade"
    assert np.isfinite(ds.columns(["rv_short", "drawdown_short", "depth_bid_1"])).all()
    again = simulate_family_file(tiny_file())
    assert np.array_equal(np.nan_to_num(again.X, nan=-1), np.nan_to_num(ds.X, nan=-1))
    assert again.onset == ds.onset
    for name, (tr, te) in sim_splits(ds, seed=0).items():
        assert not (tr & te).any()
        assert not set(ds.scenario[tr]) & set(ds.scenario[te]), name
        assert not set(ds.path[tr]) & set(ds.path[te]), name
    sp = sim_splits(ds, seed=0)
    assert set(ds.venue[sp["venue"][0]]) == {"cpmm"} and set(ds.venue[sp["venue"][1]]) == {"book"}


def test_evaluation_run_writes_tables(tmp_path, tiny_dataset, monkeypatch):
    from liqcascade.predict import report as R
    from liqcascade.predict import simulate as S

    monkeypatch.setattr(S, "simulate_family_file", lambda ff, progress=None, features=None: tiny_dataset)
    ev = R.run_evaluation(tmp_path, families=tiny_file(), n_boot=5, real=False, command="test")
    for f in ("evaluation.json", "tables.md", "report.html", "sim_logistic.json", "sim_market_logistic.json",
              "sim_hgb.skops"):
        assert (tmp_path / f).is_file(), f
    md = (tmp_path / "tables.md").read_text()
    assert "| volatility only |" in md and "| cluster distance only |" in md and "Split `venue`" in md
    js = json.loads((tmp_path / "evaluation.json").read_text())
    assert js["simulation"]["samples"] == len(tiny_dataset)
    assert ev["meta"]["seed"] == 3 or ev["meta"]["seed"] == 0


def test_family_file_errors(tmp_path):
    f = tmp_path / "f.toml"
    f.write_text('[[families]]\nname = "a"\nvenue = "amm"\n')
    with pytest.raises(InputError, match="venue"):
        load_family_file(f)
    f.write_text('[[families]]\nname = "a"\nlt = [0.9, 0.95]\nbonus = [0.1, 0.2]\n')
    with pytest.raises(InputError, match="lt"):
        load_family_file(f)
    f.write_text('[[families]]\nname = "a"\nbogus = 1\n')
    with pytest.raises(InputError, match="unknown key"):
        load_family_file(f)
