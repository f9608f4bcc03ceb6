"""Oracle kind `twap`: kernel, twin; rules in README.md."""
