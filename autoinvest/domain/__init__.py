"""Value types only: money, markets, sides, states. No I/O."""
