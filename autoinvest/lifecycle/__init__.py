"""Exchange events → execution state, orders, fills, trades, positions and ledger: one transaction each."""
