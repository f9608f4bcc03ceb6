"""Morpho Blue and Euler v2 liquidation incentives, the ``incentive`` option of Aave-style protocols."""
