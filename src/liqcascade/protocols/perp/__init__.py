"""Perpetual-futures venues, `kind = "perp"`: model, pack, kernel, twin; rules in README.md."""
