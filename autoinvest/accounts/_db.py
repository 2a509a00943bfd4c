"""Small helpers shared by the operator repositories: transaction guard, row fetches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.errors import DatabaseError

Params = Mapping[str, object] | Sequence[object]
Row = dict[str, Any]


def require_transaction(conn: AppConnection) -> None:
    """Refuse to run outside the caller's transaction (writes must commit with the change that caused them)."""
    if not driver.in_transaction(conn):
        raise DatabaseError("operator repository functions run inside the caller's user_tx or system_tx")


async def fetch_optional(conn: AppConnection, query: LiteralString, params: Params) -> Row | None:
    """The first row of a query, or None."""
    cur = await conn.execute(query, params)
    row: Row | None = await cur.fetchone()
    return row


async def fetch_one(conn: AppConnection, query: LiteralString, params: Params) -> Row:
    """The first row of a query that always returns one."""
    row = await fetch_optional(conn, query, params)
    assert row is not None, query
    return row


async def fetch_all(conn: AppConnection, query: LiteralString, params: Params) -> list[Row]:
    """Every row of a query."""
    cur = await conn.execute(query, params)
    rows: list[Row] = await cur.fetchall()
    return rows
