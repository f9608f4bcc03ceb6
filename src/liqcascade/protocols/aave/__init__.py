"""Aave v3 (``kind = "aave_v3"``): the rules built into the static solver and the time loop."""
