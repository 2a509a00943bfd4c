"""The audit log: who did what to which object, written in the same transaction as the change.

The only module that writes ``audit_log``, through the ``audit_record`` SECURITY DEFINER function (no role may
insert or change a row; the function stamps the database login); the global kill switch's row, which has no
tenant, is written by the ``set_global_kill_switch`` function. It sits below every repository —
it imports nothing of the application but the database layer — so that the ledger, the accounts, the
execution path and reconciliation all audit through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import LiteralString, TypeAlias
from uuid import UUID

from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.errors import DatabaseError

#: Mapping and Sequence (not dict and list): a dict[str, str] is details too.
JsonValue: TypeAlias = "str | int | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"

# No role may insert into audit_log: audit_record() (migration 0007) writes the row for the transaction's own user
# and stamps the database login that wrote it.
_INSERT: LiteralString = (
    "SELECT audit_record(%(user_id)s, %(actor)s, %(action)s, %(subject_type)s, %(subject_id)s, %(details)s)"
)
_INSERT_ONCE: LiteralString = (
    "SELECT audit_record(%(user_id)s, %(actor)s, %(action)s, %(subject_type)s, %(subject_id)s, %(details)s, true)"
)


async def record(conn: AppConnection, user_id: UUID, actor: str, action: str, subject_type: str,
                 subject_id: UUID | str | None, details: Mapping[str, JsonValue] | None = None) -> None:
    """Append one audit row for ``user_id`` inside the caller's transaction (never a secret in ``details``)."""
    await conn.execute(_INSERT, _params(conn, user_id, actor, action, subject_type, subject_id, details))


async def record_once(conn: AppConnection, user_id: UUID, actor: str, action: str, subject_type: str,
                      subject_id: UUID | str, details: Mapping[str, JsonValue] | None = None) -> None:
    """Like :func:`record`, unless this user's ``action`` on this subject is already on record (e.g. a claim
    that waits for a live entry is audited once per proposal, however often a polling worker retries it)."""
    await conn.execute(_INSERT_ONCE, _params(conn, user_id, actor, action, subject_type, subject_id, details))


def _params(conn: AppConnection, user_id: UUID, actor: str, action: str, subject_type: str,
            subject_id: UUID | str | None, details: Mapping[str, JsonValue] | None) -> dict[str, object]:
    if not driver.in_transaction(conn):
        raise DatabaseError("audit rows are written inside the caller's user_tx or system_tx")
    return {"user_id": user_id, "actor": actor or "operator", "action": action, "subject_type": subject_type,
            "subject_id": None if subject_id is None else str(subject_id), "details": driver.Jsonb(dict(details or {}))}
