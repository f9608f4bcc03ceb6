"""Oracle kind `ema`: kernel, twin; rules in README.md."""
