"""Change a profile's budget: allocate more EUR, or take free EUR back. Each is one ledger entry, audited.

The caller's ``request_id`` is the idempotency key: the same request posted twice moves the account once, and
the same key with another amount is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import LiteralString
from uuid import UUID

from autoinvest import audit
from autoinvest.accounts._db import fetch_optional, require_transaction
from autoinvest.accounts.inputs import require_eur
from autoinvest.db.tx import AppConnection
from autoinvest.errors import InputError, NotFound
from autoinvest.ledger import entries as ledger_entries
from autoinvest.ledger import repo as ledger_repo
from autoinvest.ledger.entries import Account

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
# The claim locks the same row: a withdrawal and a reservation never decide on the same free capital.
_LOCK_PROFILE: LiteralString = "SELECT id FROM profiles WHERE id = %(id)s AND user_id = %(user)s FOR UPDATE"


@dataclass(frozen=True, kw_only=True)
class AllocationChange:
    profile_id: UUID
    kind: str  # ALLOCATE | DEALLOCATE
    amount_eur: Decimal
    request_id: str
    posted: bool  # False: this request was already posted (a retry); nothing moved
    account: Account

    def as_json(self) -> dict[str, object]:
        return {"profile_id": str(self.profile_id), "kind": self.kind, "amount_eur": str(self.amount_eur),
                "request_id": self.request_id, "posted": self.posted,
                "account": {"allocated": str(self.account.allocated), "free": str(self.account.free),
                            "reserved_for_orders": str(self.account.reserved_for_orders),
                            "reserved_for_positions": str(self.account.reserved_for_positions),
                            "realized_pnl": str(self.account.realized_pnl)}}


def require_request_id(text: str) -> str:
    if not _REQUEST_ID.match(text):
        raise InputError(f"request id {text!r} must be 1-100 letters, digits or . _ : -", reason="REQUEST_ID_INVALID")
    return text


async def change_allocation(conn: AppConnection, user_id: UUID, profile_id: UUID, amount_eur: Decimal, *,
                            withdraw: bool, request_id: str, actor: str) -> AllocationChange:
    """Post ALLOCATE (or DEALLOCATE of free capital) in the caller's user_tx; InputError changes nothing."""
    require_transaction(conn)
    amount = require_eur(amount_eur, field="amount_eur")
    request = require_request_id(request_id)
    if await fetch_optional(conn, _LOCK_PROFILE, {"id": profile_id, "user": user_id}) is None:
        raise NotFound(f"no profile with id {profile_id}")
    entry = (ledger_entries.deallocate if withdraw else ledger_entries.allocate)(profile_id, request, amount)
    earlier = await ledger_repo.posted(conn, profile_id, entry)
    if earlier is not None and earlier.d_allocated != entry.d_allocated:
        raise InputError(f"request id {request!r} was already used for {abs(earlier.d_allocated)} EUR",
                         reason="REQUEST_ID_REUSED")
    if earlier is None and withdraw:
        free = (await ledger_repo.account(conn, profile_id)).free
        if amount > free:  # the CHECK would refuse it too; this says why in the user's terms
            raise InputError(f"cannot take back {amount} EUR: only {free} EUR of this profile is free (the rest"
                             " is reserved for orders or held in positions)", reason="INSUFFICIENT_FREE_CAPITAL")
    posted = await ledger_repo.post(conn, profile_id, user_id, entry)
    if posted:
        await audit.record(conn, user_id, actor, f"ledger.{entry.kind.value.lower()}", "profile", profile_id,
                           {"amount_eur": str(amount), "request_id": request})
    return AllocationChange(profile_id=profile_id, kind=entry.kind.value, amount_eur=amount, request_id=request,
                            posted=posted, account=await ledger_repo.account(conn, profile_id))
