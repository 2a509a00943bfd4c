"""Trade proposals from the operator: create (maybe auto-approved), approve, reject, list. Times are database time."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import LiteralString, cast
from uuid import UUID

from autoinvest import audit
from autoinvest.accounts._db import fetch_all, fetch_one, fetch_optional, require_transaction
from autoinvest.accounts.inputs import (
    parse_market,
    require_base_amount,
    require_confidence,
    require_eur,
    require_ttl,
)
from autoinvest.accounts.profiles import get_policy
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection
from autoinvest.domain.states import ProposalStatus, Side
from autoinvest.errors import InputError, NotFound

SOURCES = ("rules", "llm", "manual")
#: ``decided_by`` of a proposal the profile's threshold approved when it was written.
AUTO = "auto"

# The database writes the proposal (migration 0007's propose()): it applies the profile's auto-approve threshold
# itself, allows overrides to an operator only, checks the scan fence, and writes one per scan window.
_INSERT: LiteralString = (
    "SELECT id, status, created_at, expires_at, decided_by FROM propose(%(id)s, %(profile_id)s, %(market)s,"
    " %(side)s, %(amount_eur)s, %(amount_base)s, %(confidence)s, %(rationale)s, %(source)s, %(policy_snapshot)s,"
    " %(ttl_seconds)s, %(scan_window)s, %(job)s, %(token)s, %(worker)s, %(override_cooldown)s,"
    " %(override_anti_flip)s)"
)
_EXPIRE: LiteralString = (
    "SELECT p AS id FROM expire_overdue_proposals(%(profile_id)s, %(job)s, %(token)s, %(worker)s) p"
)
_FOR_DECISION: LiteralString = (
    "SELECT id, user_id, profile_id, status, expires_at, expires_at <= now() AS expired"
    " FROM trade_proposals WHERE id = %s FOR UPDATE"
)
_DECIDE: LiteralString = (
    "UPDATE trade_proposals SET status = %(status)s, decided_at = now(), decided_by = 'user'"
    " WHERE id = %(id)s AND status = 'PENDING' RETURNING status"
)
_LIST: LiteralString = (
    "SELECT id, user_id, profile_id, market, side, amount_eur, amount_base, confidence, source, status,"
    " created_at, expires_at, decided_by, override_cooldown, override_anti_flip,"
    " (status = 'PENDING' AND expires_at <= now()) AS expired"
    " FROM trade_proposals"
    " WHERE (%(profile_id)s::uuid IS NULL OR profile_id = %(profile_id)s::uuid)"
    " AND (%(status)s::text IS NULL OR status = %(status)s::text)"
    " ORDER BY created_at DESC, id LIMIT %(limit)s"
)


@dataclass(frozen=True)
class Fence:
    """A scan job's lease, which a write checks in its own statement, so that a scanner whose claim was lost
    writes nothing: the job, its fencing token and the worker holding it (``scheduler.jobs.Lease``)."""

    job: UUID
    token: int
    worker: str


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A proposal as created."""

    id: UUID
    status: ProposalStatus
    created_at: datetime
    expires_at: datetime
    decided_by: str | None


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The outcome of approve/reject."""

    proposal_id: UUID
    status: ProposalStatus

    def as_json(self) -> dict[str, str]:
        """{"proposal_id", "status"} for the CLI and the API."""
        return {"proposal_id": str(self.proposal_id), "status": self.status.value}


@dataclass(frozen=True, kw_only=True)
class ProposalRow:
    """One line of a proposal listing."""

    id: UUID
    user_id: UUID
    profile_id: UUID
    market: str
    side: str
    amount_eur: Decimal | None
    amount_base: Decimal | None
    confidence: int
    source: str
    status: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    override_cooldown: bool
    override_anti_flip: bool
    expired: bool  #: PENDING but past expires_at (database time): it can no longer be approved

    def as_json(self) -> dict[str, str | int | bool | None]:
        """JSON-ready; Decimals and times as strings."""
        return {
            "id": str(self.id), "user_id": str(self.user_id), "profile_id": str(self.profile_id),
            "market": self.market, "side": self.side,
            "amount_eur": None if self.amount_eur is None else str(self.amount_eur),
            "amount_base": None if self.amount_base is None else str(self.amount_base),
            "confidence": self.confidence, "source": self.source, "status": self.status,
            "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
            "decided_by": self.decided_by, "override_cooldown": self.override_cooldown,
            "override_anti_flip": self.override_anti_flip, "expired": self.expired,
        }


async def create_proposal(conn: AppConnection, user_id: UUID, profile_id: UUID, *, market: str, side: Side | str,
                          amount_eur: Decimal | None = None, amount_base: Decimal | None = None,
                          confidence: int, actor: str, ttl: timedelta | None = None,
                          override_cooldown: bool = False, override_anti_flip: bool = False,
                          rationale: str = "", source: str = "manual") -> Proposal:
    """Create a proposal in the caller's user_tx: PENDING, or APPROVED by 'auto' at/above the profile's threshold.

    Exactly one size: ``amount_eur`` (a sell sized in EUR is converted to base at the best bid when executed)
    or ``amount_base`` (sells only). ``ttl`` None uses the policy's
    proposal_ttl_seconds; expiry is counted from database time. Only the proposal's shape is checked here:
    whether it may trade is the pre-flight's decision at execution.
    """
    require_transaction(conn)
    market = parse_market(market)
    side = Side(side)
    if (amount_eur is None) == (amount_base is None):
        raise InputError("give exactly one size: amount_eur, or amount_base for a sell", reason="AMOUNT_REQUIRED")
    if amount_eur is not None:
        require_eur(amount_eur, field="amount_eur")
    if amount_base is not None:
        if side is not Side.SELL:
            raise InputError("amount_base sizes sells only; size a buy in EUR (amount_eur)",
                             reason="AMOUNT_BASE_SELL_ONLY")
        require_base_amount(amount_base, field="amount_base")
    require_confidence(confidence)
    if source not in SOURCES:
        raise InputError(f"source {source!r} must be one of {', '.join(SOURCES)}", reason="SOURCE_INVALID")
    policy = await get_policy(conn, profile_id)
    if policy.user_id != user_id:  # RLS already hides other tenants' profiles; this catches a wrong user_id
        raise NotFound(f"no profile with id {profile_id}")
    ttl = require_ttl(ttl if ttl is not None else timedelta(seconds=policy.proposal_ttl_seconds))
    proposal = await insert_proposal(
        conn, profile_id=profile_id, market=market, side=side, amount_eur=amount_eur,
        amount_base=amount_base, confidence=confidence, rationale=rationale, source=source,
        policy_snapshot=policy.snapshot(), ttl_seconds=int(ttl.total_seconds()), override_cooldown=override_cooldown,
        override_anti_flip=override_anti_flip)
    assert proposal is not None  # neither fenced nor in a scan window: nothing refuses it
    await audit.record(conn, user_id, actor, "proposal.created", "proposal", proposal.id, {
        "profile_id": str(profile_id), "market": market, "side": side.value,
        "amount_eur": None if amount_eur is None else str(amount_eur),
        "amount_base": None if amount_base is None else str(amount_base),
        "confidence": confidence, "source": source, "expires_at": proposal.expires_at.isoformat(),
    })
    if override_cooldown or override_anti_flip:
        # The overrides bypass a safety rule: who asked, and when (the row's created_at), must be on record.
        await audit.record(conn, user_id, actor, "proposal.override", "proposal", proposal.id, {
            "override_cooldown": override_cooldown, "override_anti_flip": override_anti_flip,
        })
    if proposal.decided_by == AUTO:
        await record_auto_approval(conn, user_id, proposal.id, confidence=confidence,
                                   threshold=policy.auto_approve_threshold, requested_by=actor)
    return proposal


async def insert_proposal(conn: AppConnection, *, profile_id: UUID, market: str, side: Side,
                          amount_eur: Decimal | None, amount_base: Decimal | None, confidence: int, rationale: str,
                          source: str, policy_snapshot: Mapping[str, object], ttl_seconds: int,
                          override_cooldown: bool = False, override_anti_flip: bool = False,
                          scan_window: datetime | None = None, fence: Fence | None = None) -> Proposal | None:
    """The one write of a proposal, in the caller's user_tx (the database takes the user from it): it makes it
    PENDING, or APPROVED by 'auto' at/above the profile's threshold; it expires ``ttl_seconds`` after database time
    now. Callers check its shape and audit it.

    A scanner's proposal carries its ``scan_window`` (one per profile, market and window) and is written only
    while ``fence`` holds; None when the fence refused it or the window already has a proposal for this market."""
    require_transaction(conn)
    params: dict[str, object] = {
        "id": uuid.uuid4(), "profile_id": profile_id, "market": market, "side": side.value,
        "amount_eur": amount_eur, "amount_base": amount_base, "confidence": confidence, "rationale": rationale,
        "source": source, "policy_snapshot": driver.Jsonb(dict(policy_snapshot)), "scan_window": scan_window,
        "ttl_seconds": ttl_seconds, "override_cooldown": override_cooldown,
        "override_anti_flip": override_anti_flip, **_fence_params(fence),
    }
    row = await fetch_optional(conn, _INSERT, params)
    if row is None:
        return None
    return Proposal(id=row["id"], status=ProposalStatus(row["status"]), created_at=row["created_at"],
                    expires_at=row["expires_at"], decided_by=row["decided_by"])


async def expire_overdue(conn: AppConnection, profile_id: UUID, *, fence: Fence | None = None) -> list[UUID]:
    """The one expiry, in the caller's transaction: the database locks the profile (as the executor's claim does),
    then marks its PENDING/APPROVED proposals past ``expires_at`` (database time) that have no execution EXPIRED;
    their ids. With ``fence``, it expires nothing unless the fence holds."""
    require_transaction(conn)
    rows = await fetch_all(conn, _EXPIRE, {"profile_id": profile_id, **_fence_params(fence)})
    return [row["id"] for row in rows]


def _fence_params(fence: Fence | None) -> dict[str, object]:
    if fence is None:
        return {"job": None, "token": None, "worker": None}
    return {"job": fence.job, "token": fence.token, "worker": fence.worker}


async def record_auto_approval(conn: AppConnection, user_id: UUID, proposal_id: UUID, *, confidence: int,
                               threshold: int | None, requested_by: str) -> None:
    """Audit an automatic approval (decided_by 'auto') in the caller's transaction."""
    await audit.record(conn, user_id, "auto", "proposal.auto_approved", "proposal", proposal_id, {
        "confidence": confidence, "auto_approve_threshold": threshold, "requested_by": requested_by,
    })


async def approve_proposal(conn: AppConnection, proposal_id: UUID, *, actor: str) -> Decision:
    """PENDING and unexpired (database time) → APPROVED by 'user'; audited. Else InputError, nothing changed."""
    return await _decide(conn, proposal_id, ProposalStatus.APPROVED, actor)


async def reject_proposal(conn: AppConnection, proposal_id: UUID, *, actor: str) -> Decision:
    """PENDING → REJECTED by 'user' (an expired one too: refusing is always safe); audited."""
    return await _decide(conn, proposal_id, ProposalStatus.REJECTED, actor)


async def _decide(conn: AppConnection, proposal_id: UUID, status: ProposalStatus, actor: str) -> Decision:
    require_transaction(conn)
    # FOR UPDATE: a concurrent approve/reject/expiry waits, then sees the decided status and is refused.
    row = await fetch_optional(conn, _FOR_DECISION, (proposal_id,))
    if row is None:
        raise NotFound(f"no proposal with id {proposal_id}")
    if row["status"] != ProposalStatus.PENDING:
        raise InputError(f"proposal {proposal_id} is {row['status']}, only PENDING proposals can be decided",
                         reason="PROPOSAL_NOT_PENDING")
    if status is ProposalStatus.APPROVED and row["expired"]:
        raise InputError(f"proposal {proposal_id} expired at {row['expires_at'].isoformat()}",
                         reason="PROPOSAL_EXPIRED")
    updated = await fetch_one(conn, _DECIDE, {"id": proposal_id, "status": status.value})
    action = "proposal.approved" if status is ProposalStatus.APPROVED else "proposal.rejected"
    await audit.record(conn, cast(UUID, row["user_id"]), actor, action, "proposal", proposal_id,
                       {"profile_id": str(row["profile_id"]), "expired": bool(row["expired"])})
    return Decision(proposal_id=proposal_id, status=ProposalStatus(updated["status"]))


async def list_proposals(conn: AppConnection, *, profile_id: UUID | None = None, status: str | None = None,
                         limit: int = 200) -> list[ProposalRow]:
    """The current user_tx's proposals, newest first, optionally for one profile and/or status."""
    if status is not None and status not in set(ProposalStatus):
        raise InputError(f"status {status!r} must be one of {', '.join(ProposalStatus)}", reason="STATUS_INVALID")
    rows = await fetch_all(conn, _LIST, {"profile_id": profile_id, "status": status, "limit": limit})
    return [ProposalRow(**row) for row in rows]
