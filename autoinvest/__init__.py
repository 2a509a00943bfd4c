"""Auto Invest Oracle: safe automated investing on Bitvavo for many users."""

__version__ = "0.1.0"
