"""Constant-product pool (`kind = "cpmm"`): kernel, twin; rules in README.md."""
