"""Check every capital account against its entries; repair one from its entries (audited)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.errors import InvariantViolation, NotFound
from autoinvest.ledger import repo as ledger_repo
from autoinvest.ledger.entries import Account
from autoinvest.observability import metrics
from autoinvest.reconcile import profiles

log = logging.getLogger(__name__)


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


async def check_all(conn: AppConnection, profile_id: UUID | None = None) -> list[AccountCheck]:
    """Every profile's account (or one); the number of unclean ones is exported as a gauge."""
    if profile_id is not None:
        user_id = await profiles.owner(conn, profile_id)
        if user_id is None:
            raise NotFound(f"no profile with id {profile_id}", reason="PROFILE_NOT_FOUND")
        pairs = [(profile_id, user_id)]
    else:
        pairs = await profiles.all_profiles(conn)
    results = [await check_profile(conn, p, u) for p, u in pairs]
    if profile_id is None:
        unclean = [r for r in results if not r.clean]
        metrics.LEDGER_CHECK_DIFFERENCES.set(len(unclean))
        metrics.LEDGER_CHECK_DIFFERENCES_FOUND.inc(len(unclean))
        for r in unclean:
            log.error("ledger check: account differs from its entries", extra=r.to_json())
    return results


async def rebuild_profile(conn: AppConnection, profile_id: UUID, *, actor: str) -> tuple[Account, Account]:
    """Overwrite the materialised account with the rebuild of its entries (audited); (before, after)."""
    user_id = await profiles.owner(conn, profile_id)
    if user_id is None:
        raise NotFound(f"no profile with id {profile_id}", reason="PROFILE_NOT_FOUND")
    async with user_tx(conn, user_id):
        before = await ledger_repo.account(conn, profile_id)
        after = await ledger_repo.rebuild(conn, profile_id, actor)
    return before, after
