"""Interest-rate model `aave_v3`: ``model`` (config), ``kernel`` (compiled math), ``twin`` (naive twin). See README.md."""
