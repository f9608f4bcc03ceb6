"""Calibration: functions that estimate model parameters from real data files, and the fitted
constants themselves (:mod:`liqcascade.calibration.params`, with the origin of every number).

- :mod:`.depth` — order-book ask-depth curve and its elasticity to realized volatility;
- :mod:`.cpmm` — constant-product pool depth from reserve snapshots;
- :mod:`.returns` — crash-day return distributions (max 1-hour drop, quantiles);
- :mod:`.oracle` — oracle lag and deviation against market prices;
- :mod:`.aave` — liquidation thresholds implied by Aave v2 user histories;
- :mod:`.positions` — position-book shape (cross-reference of ``positions.synth``).

``scripts/calibrate_market.py`` runs them on ``../shared/data`` and prints the numbers that
``params.py`` holds. Nothing here is imported by the engine; the data are not in the repository.
"""
