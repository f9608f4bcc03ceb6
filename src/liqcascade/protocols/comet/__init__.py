"""Compound v3 (Comet), `kind = "comet"`: model, pack, kernel, twin; rules in README.md."""
