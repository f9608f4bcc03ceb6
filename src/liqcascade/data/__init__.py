"""Loaders for real market and protocol data, and the readers built on them.

Each loader reads a file of a public format (the kind a user downloads), validates it and
returns NumPy arrays in a small dataclass; every problem raises
:class:`liqcascade.errors.InputError` naming the file, the line or record and the field.
No pandas. Formats and known defects of the reference files: ``docs/data.md``.

==================================  =====================================================
``bars.load_ohlcv_json``            CoinAPI OHLCV JSON bars → :class:`bars.Bars`
``binance.load_binance_klines``     Binance kline ``.zip``/``.csv`` → :class:`bars.Bars`
``binance.load_book_depth``         Binance futures ``bookDepth`` CSV → :class:`binance.BookDepth`
``gas.load_gas_json``               gas-price percentiles JSON → :class:`gas.GasPercentiles`
``uniswap.load_uniswap_reserves``   pool reserve snapshots JSON → :class:`uniswap.Reserves`
``compound.load_compound_v2``       Compound v2 accounts + per-cToken positions
``aave.load_aave_details``          Aave v2 per-user history CSV (+ ``aave_health_factor``)
``quotes.load_quotes_csv``          minute bid/ask with liquidation volumes
``prices.load_price_csv``           CoinGecko / on-chain oracle price series CSV
``formats.sniff`` / ``describe``    recognise a file's format / summarise it
``liqprice``                        liquidation prices of multi-asset accounts (heatmaps)
==================================  =====================================================

Submodules are imported on use (``from liqcascade.data.binance import load_book_depth``);
this package imports nothing heavy, and nothing of the engine or the reports (the cluster
figures are :mod:`liqcascade.report.heatmap`, run folders are read by
:mod:`liqcascade.results.run_dir`).
"""
