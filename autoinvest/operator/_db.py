"""Small helpers shared by the operator repositories: transaction guard, row fetches, owner lookup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, LiteralString, cast
from uuid import UUID

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, connect
from autoinvest.errors import DatabaseError, NotFound

OwnedKind = Literal["user", "profile", "proposal", "execution"]
Params = Mapping[str, object] | Sequence[object]
Row = dict[str, Any]

_OWNER_OF: LiteralString = "SELECT owner_of(%s, %s) AS owner"


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


async def owner_of(conn: AppConnection, kind: OwnedKind, object_id: UUID) -> UUID:
    """The user owning a user/profile/proposal/execution id (SECURITY DEFINER lookup); NotFound if unknown."""
    row = await fetch_one(conn, _OWNER_OF, (kind, object_id))
    if row["owner"] is None:
        raise NotFound(f"no {kind} with id {object_id}")
    return cast(UUID, row["owner"])


async def open_app_connection(app_url: str) -> AppConnection:
    """Connect as the application role; a refused connection becomes a DatabaseError with a hint."""
    try:
        return await connect(app_url)
    except driver.OperationalError as exc:
        # The message of libpq names host and user, never the password.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to the database: {first_line} (is it running? `autoinvest db start`)",
                            reason="DB_UNAVAILABLE") from None
