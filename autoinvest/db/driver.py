"""What other packages need from the database driver, so that only autoinvest.db imports psycopg.

No driver exception is exported for catching: ``autoinvest.db.errors`` translates them into our tree and
callers catch those (``tx.savepoint``, ``errors.translated``).
"""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

__all__ = ["Jsonb", "in_transaction", "is_idle"]


def in_transaction(conn: AsyncConnection[object]) -> bool:
    """True while the connection is inside a transaction block (the caller's user_tx)."""
    return conn.info.transaction_status == TransactionStatus.INTRANS


def is_idle(conn: AsyncConnection[object]) -> bool:
    """True when the connection is open and outside any transaction: safe to hand to the next piece of work."""
    return not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
