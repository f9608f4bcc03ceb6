"""Oracle kind `osm`: kernel, twin; rules in README.md."""
