"""Check every capital account against its entries; repair one from its entries (audited).

The check over many accounts is set-based: one query (the schema's ``ledger_difference_ids()``, migration 0010)
compares every account with the sum of its entries in one snapshot and flags the ones that differ or break the
invariant; only those are then checked one by one (for the drift to report, under the account's lock). With
10,000 accounts and a million entries that is one aggregate instead of 10,000 transactions reading every entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import InvariantViolation, NotFound
from autoinvest.ledger import repo as ledger_repo
from autoinvest.ledger.entries import Account
from autoinvest.observability import metrics
from autoinvest.reconcile import profiles

log = logging.getLogger(__name__)

_DIFFERENCE_IDS: LiteralString = (
    "SELECT profile_id, user_id, differs FROM ledger_difference_ids(%(active_only)s)")


@dataclass(frozen=True)
class AccountCheck:
    profile_id: UUID
    user_id: UUID
    materialised: Account | None
    drift: dict[str, str]
    invariant_error: str | None = None

    @property
    def clean(self) -> bool:
        return not self.drift and self.invariant_error is None

    def to_json(self) -> dict[str, Any]:
        return {"profile_id": str(self.profile_id), "user_id": str(self.user_id), "drift": self.drift,
                "invariant_error": self.invariant_error}


async def check_profile(conn: AppConnection, profile_id: UUID, user_id: UUID) -> AccountCheck:
    """Rebuild the account from its entries and compare; also checks the invariant on both sides."""
    async with user_tx(conn, user_id):
        try:
            materialised = await ledger_repo.account(conn, profile_id)
        except NotFound:
            return AccountCheck(profile_id, user_id, None, {}, "no capital account")
        difference = await ledger_repo.check(conn, profile_id)
    drift = {} if difference is None else {c: str(d) for c, d in difference.drift.items()}
    error = None
    try:
        materialised.check()
        if difference is not None:
            difference.rebuilt.check()
    except InvariantViolation as exc:
        error = str(exc)
    return AccountCheck(profile_id, user_id, materialised, drift, error)


@dataclass(frozen=True)
class LedgerCheck:
    accounts: int  #: how many accounts were compared
    differences: list[AccountCheck]  #: the unclean ones, by profile id


async def check_many(conn: AppConnection, *, active_only: bool) -> LedgerCheck:
    """Every profile's account (only the active profiles' with ``active_only``): one set-based query, then the
    per-account check of each one it flags."""
    async with system_tx(conn):
        cur = await conn.execute(_DIFFERENCE_IDS, {"active_only": active_only})
        rows = await cur.fetchall()
    flagged = [await check_profile(conn, r["profile_id"], r["user_id"]) for r in rows if r["differs"]]
    return LedgerCheck(len(rows), [r for r in flagged if not r.clean])


async def check_all(conn: AppConnection, profile_id: UUID | None = None) -> LedgerCheck:
    """Every profile's account (or one); the number of unclean ones is exported as a gauge."""
    if profile_id is not None:
        user_id = await profiles.owner(conn, profile_id)
        if user_id is None:
            raise NotFound(f"no profile with id {profile_id}", reason="PROFILE_NOT_FOUND")
        one = await check_profile(conn, profile_id, user_id)
        return LedgerCheck(1, [] if one.clean else [one])
    result = await check_many(conn, active_only=False)
    metrics.LEDGER_CHECK_DIFFERENCES.set(len(result.differences))
    metrics.LEDGER_CHECK_DIFFERENCES_FOUND.inc(len(result.differences))
    for r in result.differences:
        log.error("ledger check: account differs from its entries", extra=r.to_json())
    return result


async def rebuild_profile(conn: AppConnection, profile_id: UUID, *, actor: str) -> tuple[Account, Account]:
    """Overwrite the materialised account with the rebuild of its entries (audited); (before, after)."""
    user_id = await profiles.owner(conn, profile_id)
    if user_id is None:
        raise NotFound(f"no profile with id {profile_id}", reason="PROFILE_NOT_FOUND")
    async with user_tx(conn, user_id):
        before = await ledger_repo.account(conn, profile_id)
        after = await ledger_repo.rebuild(conn, profile_id, actor)
    return before, after
