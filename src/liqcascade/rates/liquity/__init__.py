"""Interest-rate model `liquity`: ``model`` (config), ``kernel`` (compiled math), ``twin`` (naive twin). See README.md."""
