"""What other packages need from the database driver, so that only autoinvest.db imports psycopg."""

from __future__ import annotations

from psycopg import AsyncConnection, OperationalError
from psycopg.errors import CheckViolation, ForeignKeyViolation, UniqueViolation
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

__all__ = ["CheckViolation", "ForeignKeyViolation", "Jsonb", "OperationalError", "UniqueViolation",
           "in_transaction"]


def in_transaction(conn: AsyncConnection[object]) -> bool:
    """True while the connection is inside a transaction block (the caller's user_tx)."""
    return conn.info.transaction_status == TransactionStatus.INTRANS
