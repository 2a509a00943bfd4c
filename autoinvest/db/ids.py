"""Who owns an object: the schema's SECURITY DEFINER `owner_of`, which returns an id and nothing else."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.errors import NotFound

OwnedKind = Literal["user", "profile", "proposal", "execution"]


async def find_owner(conn: AppConnection, kind: OwnedKind, object_id: UUID) -> UUID | None:
    """The user owning a user/profile/proposal/execution id, or None when there is no such object."""
    async with system_tx(conn):  # a savepoint when the caller is already in a transaction
        cur = await conn.execute("SELECT owner_of(%s, %s) AS owner", (kind, object_id))
        row = await cur.fetchone()
    owner: UUID | None = None if row is None else row["owner"]
    return owner


async def owner_of(conn: AppConnection, kind: OwnedKind, object_id: UUID) -> UUID:
    """The owning user; NotFound (reason <KIND>_NOT_FOUND) when there is no such object."""
    owner = await find_owner(conn, kind, object_id)
    if owner is None:
        raise NotFound(f"no {kind} with id {object_id}", reason=f"{kind.upper()}_NOT_FOUND")
    return owner
