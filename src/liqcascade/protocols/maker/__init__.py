"""MakerDAO, `kind = "maker"`: model, pack, kernel, twin; rules in README.md."""
