"""The batch entry point gives, window by window, what a single run over that window gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liqcascade.engine.batch import run_batch, windows
from liqcascade.engine.compile import compile_scenario
from liqcascade.engine.dynamic import run_dynamic
from liqcascade.errors import InputError
from liqcascade.kernels import dynamic as K
from liqcascade.scenario.load import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _series(n, seed=3):
    rng = np.random.default_rng(seed)
    return 1234.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))


@pytest.mark.parametrize("example", ["llamma.toml", "minimal.toml"])
def test_batch_matches_one_run_per_window(example):
    sc, base = load_scenario(EXAMPLES / example)
    sc.simulation.steps = 60
    c = compile_scenario(sc, base)
    w = windows(_series(400), 60, stride=50)
    res = run_batch(c, w, block=3)
    assert res.runs == w.shape[0] and res.steps == 60
    a = c.assets.index(res.asset)
    for j in range(w.shape[0]):
        path = np.tile(c.p0, (61, 1))
        path[:, a] = w[j] / w[j, 0] * c.p0[a]
        one = run_dynamic(c, paths=path[None], record_paths=0, path_offset=j)
        np.testing.assert_array_equal(res.summary[j], one.summary[0])
        np.testing.assert_array_equal(res.min_spot[j], one.min_spot[0])
    assert res.column("nliq").sum() > 0


def test_windows_view_and_bad_input():
    s = np.arange(1.0, 11.0)
    w = windows(s, 3, stride=2)
    assert w.shape == (4, 4) and w[1, 0] == 3.0 and not w.flags.owndata  # a view of the series
    with pytest.raises(InputError):
        windows(s, 20)
    sc, base = load_scenario(EXAMPLES / "minimal.toml")
    c = compile_scenario(sc, base)
    bad = np.ones((2, 5))
    bad[1, 2] = -1.0
    with pytest.raises(InputError, match="finite and > 0"):
        run_batch(c, bad)
