"""The outbox: events a user cares about, written in the same transaction as the change they describe.

The only module that writes ``outbox_events``; readers (the live stream and notifications of later work) are
woken by NOTIFY and read in id order. Like the audit log, it sits below every writer of the changes it records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import LiteralString
from uuid import UUID

from autoinvest.audit import JsonValue
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.errors import DatabaseError

_INSERT: LiteralString = (
    "INSERT INTO outbox_events (user_id, kind, payload) VALUES (%(user_id)s, %(kind)s, %(payload)s)"
)


async def publish(conn: AppConnection, user_id: UUID, kind: str, payload: Mapping[str, JsonValue]) -> None:
    """Append one event for ``user_id`` inside the caller's transaction (it commits, or vanishes, with it)."""
    if not driver.in_transaction(conn):
        raise DatabaseError("outbox events are written inside the caller's user_tx or system_tx")
    await conn.execute(_INSERT, {"user_id": user_id, "kind": kind, "payload": driver.Jsonb(dict(payload))})
