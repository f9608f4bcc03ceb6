"""Interest-rate model `fixed`: ``model`` (config), ``kernel`` (compiled math), ``twin`` (naive twin). See README.md."""
