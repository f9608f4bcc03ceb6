"""Pegged assets (stablecoins, liquid-staking tokens): the peg model.

A peg names an asset's *fundamental* value (1 for a stablecoin; the redemption or exchange rate
of an LST, drifting at a stated rate) beside the *market* price its venue sets, and optionally a
recorded market/fundamental ratio whose moves drive the asset's venue (the exogenous flow).
Oracles choose which one they read (``[[oracles]] reads``). ``model.py`` (configuration),
``series.py`` (the recorded ratio on the simulation grid), ``README.md`` (rules, sources).
"""
