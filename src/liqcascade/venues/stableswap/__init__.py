"""StableSwap (Curve) venue: ``model`` (config), ``kernel`` (compiled math), ``twin`` (naive
plain-Python twin). See README.md for the rules, the sources and what is simplified."""
