"""The audit log: who did what to which object, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import LiteralString, TypeAlias
from uuid import UUID

from autoinvest.accounts._db import require_transaction
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection

JsonValue: TypeAlias = "str | int | bool | list[JsonValue] | dict[str, JsonValue] | None"

_INSERT: LiteralString = (
    "INSERT INTO audit_log (user_id, actor, action, subject_type, subject_id, details)"
    " VALUES (%(user_id)s, %(actor)s, %(action)s, %(subject_type)s, %(subject_id)s, %(details)s)"
)


async def record(conn: AppConnection, user_id: UUID, actor: str, action: str, subject_type: str,
                 subject_id: UUID | str | None, details: Mapping[str, JsonValue] | None = None) -> None:
    """Append one audit row for ``user_id`` inside the caller's transaction (never a secret in ``details``)."""
    require_transaction(conn)
    await conn.execute(_INSERT, {
        "user_id": user_id, "actor": actor or "operator", "action": action, "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id), "details": driver.Jsonb(dict(details or {})),
    })
