"""Oracle kind `median`: kernel, twin; rules in README.md."""
