"""Oracle kind `heartbeat`: kernel, twin; rules in README.md."""
