"""A local Bitvavo REST v2 compatible exchange for paper trading and tests.

Not production code: it is the exchange of the demo and of the integration tests. See docs/simulator.md.
"""
