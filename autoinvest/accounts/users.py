"""Users: create one (inside a user_tx opened for the new id, so row-level security admits the insert)."""

from __future__ import annotations

import uuid
from typing import LiteralString
from uuid import UUID

from autoinvest import audit
from autoinvest.accounts._db import require_transaction
from autoinvest.accounts.inputs import parse_email
from autoinvest.db.tx import AppConnection, savepoint
from autoinvest.errors import InputError, UniqueViolated

_INSERT: LiteralString = "INSERT INTO users (id, email) VALUES (%s, %s)"
_SET_KILL_SWITCH: LiteralString = (
    "UPDATE users SET kill_switch = %(on)s, kill_switch_reason = %(reason)s WHERE id = %(id)s RETURNING kill_switch"
)


def new_user_id() -> UUID:
    """A fresh user id: open ``user_tx(conn, new_user_id())`` and call create_user with it."""
    return uuid.uuid4()


async def create_user(conn: AppConnection, user_id: UUID, email: str, *, actor: str) -> UUID:
    """Insert the user ``user_id`` (the caller's user_tx must be for that id) and audit it; returns the id."""
    require_transaction(conn)
    address = parse_email(email)
    try:
        async with savepoint(conn):  # a duplicate leaves the caller's transaction usable
            await conn.execute(_INSERT, (user_id, address))
    except UniqueViolated as exc:
        if exc.constraint != "users_email_key":
            raise
        raise InputError(f"a user with email {address} already exists", reason="EMAIL_TAKEN") from None
    await audit.record(conn, user_id, actor, "user.created", "user", user_id, {"email": address})
    return user_id


async def set_kill_switch(conn: AppConnection, user_id: UUID, on: bool, reason: str | None) -> bool | None:
    """Set the user's kill switch in the caller's transaction; its new value, or None when there is no such user
    (``accounts.kill_switch`` audits the change)."""
    require_transaction(conn)
    cur = await conn.execute(_SET_KILL_SWITCH, {"on": on, "reason": reason, "id": user_id})
    row = await cur.fetchone()
    return None if row is None else bool(row["kill_switch"])
