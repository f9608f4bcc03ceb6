"""Price model `bootstrap`: paths.py and README.md."""
