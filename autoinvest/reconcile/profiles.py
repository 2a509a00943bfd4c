"""Which profiles exist, across tenants, through the narrow SECURITY DEFINER id functions."""

from __future__ import annotations

from typing import LiteralString
from uuid import UUID

from autoinvest.db.tx import AppConnection, system_tx, user_tx

_HAS_PROFILE_IDS: LiteralString = "SELECT to_regprocedure('profile_ids()') IS NOT NULL AS present"
_PROFILE_IDS: LiteralString = "SELECT profile_id, user_id FROM profile_ids()"
_ACTIVE_PROFILE_IDS: LiteralString = "SELECT profile_id, user_id FROM active_profile_ids()"
_USER_PROFILES: LiteralString = "SELECT id FROM profiles ORDER BY id"
_OWNER: LiteralString = "SELECT owner_of('profile', %(id)s) AS user_id"


async def all_profiles(conn: AppConnection) -> list[tuple[UUID, UUID]]:
    """(profile, user) of every profile, paused and archived included, ordered by profile id.

    Without a ``profile_ids()`` function in the schema, the users are found through their active profiles
    and all their profiles are then read under row-level security: a user whose profiles are all paused
    stays invisible until that function exists (see docs/invariants.md).
    """
    async with system_tx(conn):
        cur = await conn.execute(_HAS_PROFILE_IDS)
        row = await cur.fetchone()
        present = bool(row and row["present"])
        cur = await conn.execute(_PROFILE_IDS if present else _ACTIVE_PROFILE_IDS)
        pairs: list[tuple[UUID, UUID]] = [(r["profile_id"], r["user_id"]) for r in await cur.fetchall()]
    if present:
        return pairs
    found: dict[UUID, UUID] = {}
    for user_id in sorted({u for _, u in pairs}):
        async with user_tx(conn, user_id):
            cur = await conn.execute(_USER_PROFILES)
            found.update({r["id"]: user_id for r in await cur.fetchall()})
    return sorted(found.items())


async def owner(conn: AppConnection, profile_id: UUID) -> UUID | None:
    """The user owning a profile, or None when there is no such profile."""
    async with system_tx(conn):
        cur = await conn.execute(_OWNER, {"id": profile_id})
        row = await cur.fetchone()
    return None if row is None else row["user_id"]


async def users(conn: AppConnection, profile_id: UUID | None = None) -> dict[UUID, list[UUID]]:
    """user → their profiles (all of them, or just the owner of ``profile_id``)."""
    if profile_id is not None:
        user_id = await owner(conn, profile_id)
        return {} if user_id is None else {user_id: [profile_id]}
    grouped: dict[UUID, list[UUID]] = {}
    for pid, uid in await all_profiles(conn):
        grouped.setdefault(uid, []).append(pid)
    return grouped
