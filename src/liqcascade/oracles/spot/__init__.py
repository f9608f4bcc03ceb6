"""Oracle kind `spot`: kernel, twin; rules in README.md."""
