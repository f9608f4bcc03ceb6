"""Price model `historical`: paths.py and README.md."""
