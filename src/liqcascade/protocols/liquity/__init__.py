"""Liquity v1, `kind = "liquity"`: model, pack, kernel, twin; rules in README.md."""
