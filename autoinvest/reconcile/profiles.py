"""Which profiles exist, across tenants, through the narrow SECURITY DEFINER id functions."""

from __future__ import annotations

from typing import LiteralString
from uuid import UUID

from autoinvest.db.ids import find_owner
from autoinvest.db.tx import AppConnection, system_tx

_PROFILE_IDS: LiteralString = "SELECT profile_id, user_id FROM profile_ids()"


async def all_profiles(conn: AppConnection) -> list[tuple[UUID, UUID]]:
    """(profile, user) of every profile, paused and archived included, ordered by profile id."""
    async with system_tx(conn):
        cur = await conn.execute(_PROFILE_IDS)
        return [(r["profile_id"], r["user_id"]) for r in await cur.fetchall()]


async def owner(conn: AppConnection, profile_id: UUID) -> UUID | None:
    """The user owning a profile, or None when there is no such profile."""
    return await find_owner(conn, "profile", profile_id)


async def users(conn: AppConnection, profile_id: UUID | None = None) -> dict[UUID, list[UUID]]:
    """user → their profiles (all of them, or just the owner of ``profile_id``)."""
    if profile_id is not None:
        user_id = await owner(conn, profile_id)
        return {} if user_id is None else {user_id: [profile_id]}
    grouped: dict[UUID, list[UUID]] = {}
    for pid, uid in await all_profiles(conn):
        grouped.setdefault(uid, []).append(pid)
    return grouped
