"""Depth-curve order book (`kind = "book"`): kernel, twin; rules in README.md."""
