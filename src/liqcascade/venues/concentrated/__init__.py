"""Concentrated-liquidity (Uniswap v3) venue: ``model`` (config), ``snapshot`` (tick CSV loader,
synthetic ranges, kernel arrays), ``kernel`` (compiled swap math), ``twin`` (naive twin). See
README.md for the rules, the sources and what is simplified."""
