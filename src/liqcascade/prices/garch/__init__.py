"""Price model `garch`: paths.py and README.md."""
