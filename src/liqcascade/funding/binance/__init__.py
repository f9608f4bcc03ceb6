"""Binance USDⓈ-M funding: ``model``, ``kernel``, ``twin``. See README.md."""
