"""Exchange access: the read-only ``MarketData`` and the ``Trading`` clients over ccxt.

Import the side you need: ``autoinvest.exchange.readonly.market_data`` or
``autoinvest.exchange.trade.trading``. This package file deliberately imports
neither, so reading code never loads the trade side.
"""
