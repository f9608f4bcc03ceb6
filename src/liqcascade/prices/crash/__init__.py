"""Price model `crash`: paths.py and README.md."""
