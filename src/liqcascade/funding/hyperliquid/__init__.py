"""Hyperliquid funding: ``model``, ``kernel``, ``twin``. See README.md."""
