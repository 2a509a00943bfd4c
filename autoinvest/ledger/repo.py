"""The capital ledger in PostgreSQL: post entries, read accounts, check and rebuild.

Every function runs on a connection already inside the caller's ``user_tx``: a ledger move
commits or rolls back with the state change that caused it. The database, not this module,
enforces the invariant (the ``capital_invariant`` CHECK and the non-negative column CHECKs);
``UNIQUE(kind, reference)`` makes a replayed entry a no-op. The account is moved by the database: a trigger
applies each inserted entry, and no role may update ``capital_accounts`` (migration 0007).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from importlib.resources import files
from typing import LiteralString, cast
from uuid import UUID

from autoinvest import audit
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, savepoint
from autoinvest.errors import CheckRefused, DatabaseError, ForeignKeyMissing, LedgerConflict, NotFound
from autoinvest.ledger.entries import (
    COLUMNS,
    Account,
    Difference,
    Entry,
    InvariantViolation,
    Kind,
    Memo,
    difference,
)
from autoinvest.ledger.entries import rebuild as rebuild_from


def _load_queries() -> dict[str, LiteralString]:
    # procrastinate-style named queries; this small parser can move to db/queries.py once that exists.
    text = files(__package__).joinpath("queries.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- ([a-z_]+) --$", text, flags=re.MULTILINE)
    return {name: cast(LiteralString, body.strip()) for name, body in zip(parts[1::2], parts[2::2], strict=True)}


QUERIES = _load_queries()


@asynccontextmanager
async def refused_by_check(conn: AppConnection) -> AsyncIterator[None]:
    """A savepoint in which a CHECK refusal becomes InvariantViolation: nothing is left behind, and the caller's
    transaction stays usable (the claim can still record the rejection)."""
    try:
        async with savepoint(conn):
            yield
    except CheckRefused as e:
        # Chained to PostgreSQL's own error, whose diag names the refused constraint.
        raise InvariantViolation(f"the database refused the capital move ({e.constraint})") from e.__cause__


async def post(conn: AppConnection, profile_id: UUID, user_id: UUID, entry: Entry) -> bool:
    """Append the entry and move the account by it; False when (kind, reference) was already posted."""
    _require_transaction(conn)
    params = {"user_id": user_id, "profile_id": profile_id, "kind": entry.kind.value, "reference": entry.reference,
              "d_allocated": entry.d_allocated, "d_reserved_for_orders": entry.d_reserved_for_orders,
              "d_reserved_for_positions": entry.d_reserved_for_positions, "d_realized_pnl": entry.d_realized_pnl,
              "memo": driver.Jsonb(dict(entry.memo))}
    try:
        async with refused_by_check(conn):
            row = await _one(conn, "post_entry", params)
    except ForeignKeyMissing:
        raise NotFound(f"no capital account visible for profile {profile_id}") from None
    if row["inserted"]:
        return True
    owner = await _maybe_one(conn, "entry_owner", {"kind": entry.kind.value, "reference": entry.reference})
    # The UNIQUE index sees every tenant's rows, RLS does not: a duplicate must be this profile's own entry.
    if owner is None or owner["profile_id"] != profile_id:
        raise LedgerConflict(f"{entry.kind} {entry.reference} belongs to another profile")
    return False


async def open_account(conn: AppConnection, profile_id: UUID, user_id: UUID) -> bool:
    """Create the profile's zero account if missing; True when created."""
    _require_transaction(conn)
    cur = await conn.execute(QUERIES["open_account"], {"profile_id": profile_id, "user_id": user_id})
    return cur.rowcount == 1


async def account(conn: AppConnection, profile_id: UUID) -> Account:
    """The materialised account of a profile."""
    return _account(await _account_row(conn, "account", profile_id))


async def entries(conn: AppConnection, profile_id: UUID) -> list[Entry]:
    """Every entry of the profile, in posting order."""
    cur = await conn.execute(QUERIES["entries"], {"profile_id": profile_id})
    return [_entry(row) for row in await cur.fetchall()]


async def posted(conn: AppConnection, profile_id: UUID, entry: Entry) -> Entry | None:
    """The profile's entry with this entry's (kind, reference), if one was posted: a retry finds its original."""
    row = await _maybe_one(conn, "entry", {"profile_id": profile_id, "kind": entry.kind.value,
                                           "reference": entry.reference})
    return None if row is None else _entry(row)


async def reservation_remaining(conn: AppConnection, profile_id: UUID, execution_id: UUID) -> Decimal:
    """What is still reserved for an execution (for a fill's or fee's ``from_reservation`` and the release)."""
    row = await _one(conn, "reservation_remaining", {"profile_id": profile_id, "execution_id": str(execution_id)})
    return _decimal(row["remaining"])


async def check(conn: AppConnection, profile_id: UUID) -> Difference | None:
    """Compare the materialised account with the entries' sum; locks the account until the transaction ends."""
    _require_transaction(conn)
    # FOR SHARE holds off concurrent posts, so the account and the entries are read as of the same moment.
    materialised = _account(await _account_row(conn, "account_for_share", profile_id))
    return difference(materialised, rebuild_from(await entries(conn, profile_id)))


async def rebuild(conn: AppConnection, profile_id: UUID, actor: str) -> Account:
    """Repair the materialised account from the entries, auditing the change; the CHECK still guards it."""
    _require_transaction(conn)
    row = await _account_row(conn, "account_for_update", profile_id)
    before = _account(row)
    after = rebuild_from(await entries(conn, profile_id))
    if after == before:
        return before
    async with refused_by_check(conn):
        await conn.execute(QUERIES["restate_account"], {"profile_id": profile_id})
        await audit.record(conn, cast(UUID, row["user_id"]), actor, "ledger.rebuild", "capital_account", profile_id, {
            "before": _json(before), "after": _json(after),
            "drift": {c: str(d) for c, d in Difference(before, after).drift.items()}})
    return after


# ---------------------------------------------------------------- rows

def _require_transaction(conn: AppConnection) -> None:
    if not driver.in_transaction(conn):
        raise DatabaseError("ledger writes run inside the caller's user_tx transaction")


async def _maybe_one(conn: AppConnection, name: str, params: Mapping[str, object]) -> dict[str, object] | None:
    cur = await conn.execute(QUERIES[name], params)
    return await cur.fetchone()


async def _one(conn: AppConnection, name: str, params: Mapping[str, object]) -> dict[str, object]:
    row = await _maybe_one(conn, name, params)
    assert row is not None, name
    return row


async def _account_row(conn: AppConnection, name: str, profile_id: UUID) -> dict[str, object]:
    row = await _maybe_one(conn, name, {"profile_id": profile_id})
    if row is None:
        raise NotFound(f"no capital account for profile {profile_id}")
    return row


def _decimal(value: object) -> Decimal:
    assert isinstance(value, Decimal), value
    return value


def _account(row: Mapping[str, object]) -> Account:
    return Account(*(_decimal(row[c]) for c in COLUMNS))


def _entry(row: Mapping[str, object]) -> Entry:
    deltas = {f"d_{c}": _decimal(row[f"d_{c}"]) for c in COLUMNS}
    return Entry(Kind(cast(str, row["kind"])), cast(str, row["reference"]), memo=cast(Memo, row["memo"]), **deltas)


def _columns(account: Account) -> dict[str, Decimal]:
    return {c: getattr(account, c) for c in COLUMNS}


def _json(account: Account) -> dict[str, str]:
    # Decimals as strings: JSON numbers would come back as floats.
    return {c: str(v) for c, v in _columns(account).items()}
