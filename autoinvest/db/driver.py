"""What other packages need from the database driver, so that only autoinvest.db imports psycopg.

No driver exception is exported for catching: ``autoinvest.db.errors`` translates them into our tree and
callers catch those (``tx.savepoint``). UniqueViolation is the one transitional exception, below.
"""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

# Transitional: execution/claim.py still catches driver.UniqueViolation around its user_tx. Remove it from here
# (and its entry in tests/architecture/test_driver_errors.py) once claim.py catches autoinvest.errors.UniqueViolated.
__all__ = ["Jsonb", "UniqueViolation", "in_transaction"]


def in_transaction(conn: AsyncConnection[object]) -> bool:
    """True while the connection is inside a transaction block (the caller's user_tx)."""
    return conn.info.transaction_status == TransactionStatus.INTRANS
