"""Price model `jump`: paths.py and README.md."""
