"""crvUSD LLAMMA, `kind = "llamma"`: model, pack, kernel, twin; rules in README.md."""
