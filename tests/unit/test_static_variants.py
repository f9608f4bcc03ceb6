"""The per-position static kernel's two compiled variants (lean: core venue kinds, no multi-asset
positions; full: everything) and its threads: same results, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from liqcascade.engine.static import _pp_key, run_rows, static_arrays, static_extras, static_group
from liqcascade.kernels import cascade as K


def _args(c, mode):
    b = c.book
    vs, vdk, vdq, mask = static_arrays(c)
    pd = c.p0[b.seg_debt_asset].astype(np.float64)
    return (b.coll, b.debt, _pp_key(c), b.seg_ptr, b.seg_asset, b.seg_proto, pd, c.lt_pa, c.bonus_pa, c.pfee_pa,
            c.rules, vs, vdk, vdq, c.p0.copy(), mask, mode, 25.0, 10_000, *b.multi_args())


@pytest.mark.parametrize("venue", ["cpmm", "book"])
@pytest.mark.parametrize("mode", [K.MODE_MECHANICAL, K.MODE_RATIONAL])
def test_lean_and_full_variants_and_thread_counts_agree_bit_for_bit(kit, venue, mode):
    lts = (0.8, 0.86)
    coll, debt, proto = kit.random_book(np.random.default_rng(7), 3000, lts)
    c = kit.build(kit.scenario(venue=venue, protocols=({"lt": 0.8, "bonus": 0.05, "rule": "v3.2"},
                                                       {"lt": 0.86, "bonus": 0.05})), coll, debt, proto)
    assert static_extras(c) is None
    shocks = np.linspace(0.0, 0.5, 41)
    args = _args(c, mode)
    ref = run_rows(shocks, args, None, threads=1)
    assert ref[2].sum() > 0 and np.all(ref[-1] == 0)  # rounds happened, every shock finished
    for extras, threads in ((True, 1), (None, 3), (True, 2)):
        out = run_rows(shocks, args, extras, threads=threads)
        for x, y in zip(ref, out):
            assert np.array_equal(x, y), (extras, threads)


def test_the_variant_follows_the_venue_kinds_and_multi_asset_positions(kit):
    c = kit.build(kit.scenario(venue="book"), [10.0], [700.0])
    assert static_extras(c) is None and static_group("per-position", static_extras(c)) == "static"
    assert static_group("aggregated", None) == "static_agg"
    vs = static_arrays(c)[0]
    from liqcascade.venues import KINDS
    from liqcascade.venues.kernel import KIND

    for kind, want in (("cpmm", None), ("book", None), ("stableswap", True), ("concentrated", True)):
        v = vs.copy()
        v[0, KIND] = KINDS.index(kind)
        assert static_extras(c, v) is want, kind
    assert static_group("per-position", True) == "static_full"
    # a multi-asset position needs the full variant (its round is not compiled into the lean one)
    b = c.book
    b.m_ptr, b.m_asset = np.array([0, 2]), np.array([0, 1])
    b.m_coll, b.m_debt, b.m_proto = np.array([1.0, 0.0]), np.array([0.0, 50.0]), np.array([0])
    assert static_extras(c) is True
