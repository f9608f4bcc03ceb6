"""Parity: the external-flow loop and the backstop pool (flow/kernel.py, flow/backstop/kernel.py)
against their naive twins (flow/twin.py, flow/backstop/twin.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liqcascade.engine.flow import backstop_vectors
from liqcascade.flow import kernel as FK
from liqcascade.flow.backstop import kernel as BK
from liqcascade.flow.backstop.model import Backstop
from liqcascade.flow.backstop.twin import BackstopPy
from liqcascade.flow.twin import run_twin
from liqcascade.venues.pack import make_venue_state

RTOL = 1e-9


def _twin_backstop(b: Backstop) -> BackstopPy:
    return BackstopPy(b.size, b.retail_share, b.discount, b.withdrawal_half_life_seconds, b.withdrawal,
                      b.drawdown_ref, b.refill_seconds)


@pytest.mark.parametrize("mode", ["drawdown", "constant"])
def test_backstop_kernel_matches_twin(mode):
    rng = np.random.default_rng(7)
    b = Backstop(size=2e6, retail_share=0.7, discount=0.04, withdrawal=mode, withdrawal_half_life_seconds=900,
                 drawdown_ref=0.08, refill_seconds=5000)
    p, s = backstop_vectors(b)
    tw = _twin_backstop(b)
    ref = 1000.0
    for _ in range(300):
        ref *= math.exp(rng.normal(-0.002, 0.01))
        dt = float(rng.uniform(30, 120))
        w, a = BK.backstop_tick(p, s, ref, dt)
        w2, a2 = tw.tick(ref, dt)
        assert w == pytest.approx(w2, rel=RTOL, abs=1e-6) and a == pytest.approx(a2, rel=RTOL, abs=1e-6)
        q = float(rng.exponential(300.0)) if rng.random() < 0.5 else 0.0
        got, paid = BK.backstop_absorb(p, s, q, ref)
        got2, paid2 = tw.absorb(q, ref)
        assert got == pytest.approx(got2, rel=RTOL, abs=1e-9) and paid == pytest.approx(paid2, rel=RTOL, abs=1e-6)
        assert s[BK.S_RETAIL] == pytest.approx(tw.retail, rel=RTOL, abs=1e-6)
        assert s[BK.S_INST] == pytest.approx(tw.inst, rel=RTOL, abs=1e-6)
    assert tw.withdrawn > 0 and tw.paid > 0 and tw.refilled > 0  # every rule was exercised


def _series(n=40, seed=3):
    rng = np.random.default_rng(seed)
    mid = 2000.0 * np.exp(np.cumsum(rng.normal(-0.004, 0.01, n)))
    dt = rng.uniform(40.0, 90.0, n)
    sells = np.where(rng.random(n) < 0.6, rng.exponential(80.0, n), 0.0)
    buys = np.where(rng.random(n) < 0.4, rng.exponential(40.0, n), 0.0)
    return mid, dt, sells, buys


def _venue(kind, mid0):
    if kind == "cpmm":
        return make_venue_state([{"kind": "cpmm", "reserve_asset": 3000.0, "reserve_quote": 3000.0 * mid0,
                                  "fee": 0.003}])
    return make_venue_state([{"kind": "book", "mid": mid0, "depth": [(0.01, 1e6), (0.05, 3e6), (0.2, 8e6)]}])


@pytest.mark.parametrize("kind", ["cpmm", "book"])
@pytest.mark.parametrize("slip", [1.0, 0.004])
@pytest.mark.parametrize("with_backstop", [False, True])
def test_flow_loop_matches_twin(kind, slip, with_backstop):
    mid, dt, sells, buys = _series()
    vs, vdk, vdq = _venue(kind, mid[0])
    liq0 = math.sqrt(vs[0, 1] * vs[0, 2]) if kind == "cpmm" else 0.0
    b = Backstop(size=3e5, retail_share=0.5, discount=0.05, withdrawal_half_life_seconds=600, refill_seconds=3600)
    p, s = backstop_vectors(b)
    rec = np.zeros((mid.size, FK.NREC))
    vs_t, vdk_t, vdq_t = vs.copy(), vdk.copy(), vdq.copy()
    FK.flow_run(vs, vdk, vdq, 0, mid, dt, sells, buys, 1.5, slip, 240.0, liq0, with_backstop, p, s, rec)
    rows = run_twin(vs_t, vdk_t, vdq_t, 0, mid, dt, sells, buys, 1.5, slip, 240.0, liq0,
                    _twin_backstop(b) if with_backstop else None)
    names = {"spot_low": FK.R_SPOT_LOW, "spot_end": FK.R_SPOT_END, "sell_in": FK.R_SELL_IN,
             "absorbed": FK.R_ABSORBED, "sold": FK.R_SOLD, "sell_unfilled": FK.R_SELL_UNFILLED,
             "buy_in": FK.R_BUY_IN, "bought": FK.R_BOUGHT, "buy_unfilled": FK.R_BUY_UNFILLED,
             "proceeds": FK.R_PROCEEDS, "spent": FK.R_SPENT, "paid": FK.R_PAID, "backstop": FK.R_BACKSTOP,
             "withdrawn": FK.R_WITHDRAWN, "refilled": FK.R_REFILLED, "spot_pre": FK.R_SPOT_PRE}
    for i, row in enumerate(rows):
        for key, col in names.items():
            assert rec[i, col] == pytest.approx(row[key], rel=1e-8, abs=1e-7 * max(1.0, abs(row[key]))), (i, key)
    # the scenario exercised what it should: forced orders reached the venue, and the cap bit
    assert rec[:, FK.R_SOLD].sum() > 0 and rec[:, FK.R_BOUGHT].sum() > 0
    if slip < 1:
        assert rec[:, FK.R_SELL_UNFILLED].sum() + rec[:, FK.R_BUY_UNFILLED].sum() > 0
    if with_backstop:
        assert rec[:, FK.R_ABSORBED].sum() > 0
