"""Interest-rate model `comet`: ``model`` (config), ``kernel`` (compiled math), ``twin`` (naive twin). See README.md."""
