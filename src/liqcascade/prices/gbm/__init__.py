"""Price model `gbm`: paths.py and README.md."""
