"""``[mechanisms.oracle_guard]`` at compile time: the protocols it applies to read a new oracle
per risky asset (TWAP, EMA or median over every venue of the asset, with ``max_jump``) instead
of their own. It has no slots in the mechanism pack and no kernel of its own: the new oracles
are ordinary oracle kinds (``oracles/twap``, ``oracles/ema``, ``oracles/median``), stepped by the
time loop like every oracle."""

from __future__ import annotations

from ...oracles.pack import ORACLE_KINDS, oracle_params

#: no row of the applicability mask: it rewrites the oracles (units included)
MASK_ROW = None

#: its line in the run's notes
NOTE = (
    'oracle guard: the protocols it applies to read a TWAP/EMA/median of all venues of each asset'
    ' instead of their own oracles'
)


def apply_oracle_guard(sc, assets, stable, venue_asset, oracle_of, o_kind, o_params, srcs, o_asset):
    """``[mechanisms.oracle_guard]``: the protocols it applies to (default every protocol, units
    included) read, for each risky asset, a new oracle of the guard's kind (TWAP, EMA or median)
    over every venue of the asset, with the guard's ``max_jump``, instead of their own oracles.
    Appends the new oracles to the oracle lists (in place) and rewrites ``oracle_of``; returns
    their names (``guard:<asset>``)."""
    g = sc.mechanisms.oracle_guard
    dt = sc.simulation.dt_seconds
    names = []
    new_of = {}
    for a, name in enumerate(assets):
        vs = [j for j in range(len(venue_asset)) if int(venue_asset[j]) == a]
        if stable[a] or not vs:
            continue
        new_of[a] = len(o_kind)
        o_kind.append(ORACLE_KINDS[g.kind])
        o_params.append(oracle_params(g.kind, dt_seconds=dt, window_s=g.window_seconds,
                                      halflife_s=g.half_life_seconds, max_jump=g.max_jump))
        srcs.append(vs)
        o_asset.append(a)
        names.append(f"guard:{name}")
    for k, pr in enumerate(sc.protocols):
        if g.applies_to is not None and pr.name not in g.applies_to:
            continue
        for a, o in new_of.items():
            oracle_of[k, a] = o
    return names
