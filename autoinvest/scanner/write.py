"""The fenced write of a scan run: one user_tx that writes everything the run produced, or nothing.

1. lock the job row if the run's claim still holds (token, owner, unexpired lease): else nothing is written;
2. insert each draft, deduplicated per (profile, market, scan window), with the policy snapshot and the expiry
   (now() + proposal_ttl_seconds); at or above the auto-approve threshold it is APPROVED by 'auto' (the rule
   shared with the operator) and audited; each INSERT checks the fence again;
3. lock the profile (as the executor's claim does) and mark its overdue PENDING/APPROVED proposals without an
   execution EXPIRED;
4. complete the job: next_run_at = now() + interval, and a 'scan.completed' outbox event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import LiteralString

from autoinvest.accounts import audit
from autoinvest.accounts.profiles import Policy
from autoinvest.accounts.proposals import auto_approves, record_auto_approval
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ProposalStatus
from autoinvest.observability import metrics
from autoinvest.proposers.base import ProposalDraft, Source
from autoinvest.scheduler import jobs
from autoinvest.scheduler.jobs import Lease, Run

ACTOR = "scanner"

_INSERT: LiteralString = (
    "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, amount_base, confidence,"
    " rationale, source, status, policy_snapshot, scan_window, scan_fencing_token, expires_at, decided_at, decided_by)"
    " SELECT %(id)s, %(user_id)s, %(profile_id)s, %(market)s, %(side)s, %(amount_eur)s, %(amount_base)s,"
    " %(confidence)s, %(rationale)s, %(source)s, %(status)s, %(policy_snapshot)s::jsonb, %(scan_window)s, %(token)s,"
    " now() + make_interval(secs => %(ttl)s), CASE WHEN %(auto)s THEN now() END,"
    " CASE WHEN %(auto)s THEN 'auto' END"
    " WHERE EXISTS (" + jobs.FENCE + ")"
    " ON CONFLICT (profile_id, market, scan_window) DO NOTHING"
    " RETURNING id, status, expires_at"
)
_LOCK_PROFILE: LiteralString = "SELECT 1 FROM profiles WHERE id = %(profile_id)s FOR UPDATE"
_EXPIRE: LiteralString = (
    "UPDATE trade_proposals p SET status = 'EXPIRED'"
    " WHERE p.profile_id = %(profile_id)s AND p.status IN ('PENDING', 'APPROVED') AND p.expires_at <= now()"
    " AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.proposal_id = p.id AND e.user_id = p.user_id)"
    " AND EXISTS (" + jobs.FENCE + ")"
    " RETURNING p.id, p.status"
)


@dataclass(frozen=True)
class Written:
    proposals: tuple[uuid.UUID, ...]
    approved: int
    expired: int


async def finish(conn: AppConnection, lease: Lease, run: Run, *, policy: Policy | None, source: Source,
                 drafts: tuple[ProposalDraft, ...], error: str | None) -> Written | None:
    """Write the run's results and complete the job in one transaction; None when the fence refused."""
    async with user_tx(conn, lease.user_id):
        if not await jobs.lock(conn, lease):
            return None
        ids: list[uuid.UUID] = []
        approved = 0
        if policy is not None:
            for draft in drafts:
                proposal_id = await _insert(conn, lease, run, policy, source, draft)
                if proposal_id is None:
                    continue  # this window already has a proposal for this market
                ids.append(proposal_id)
                approved += auto_approves(policy.auto_approve_threshold, draft.confidence)
        await conn.execute(_LOCK_PROFILE, {"profile_id": lease.profile_id})
        cur = await conn.execute(_EXPIRE, {**lease.params(), "profile_id": lease.profile_id})
        expired = await cur.fetchall()
        for row in expired:
            await audit.record(conn, lease.user_id, ACTOR, "proposal.expired", "proposal", row["id"], {})
        outcome = "ok" if error is None else "failed"
        if not await jobs.complete(conn, lease, run, outcome=outcome, proposals=len(ids), error=error):
            raise AssertionError("the job row is locked by this transaction and the fence held")
    metrics.PROPOSALS_EXPIRED.inc(len(expired))
    return Written(tuple(ids), approved, len(expired))


async def _insert(conn: AppConnection, lease: Lease, run: Run, policy: Policy, source: Source,
                  draft: ProposalDraft) -> uuid.UUID | None:
    auto = auto_approves(policy.auto_approve_threshold, draft.confidence)
    status = ProposalStatus.APPROVED if auto else ProposalStatus.PENDING
    cur = await conn.execute(_INSERT, {
        **lease.params(), "id": uuid.uuid4(), "user_id": lease.user_id, "profile_id": lease.profile_id,
        "market": draft.market, "side": draft.side.value, "amount_eur": draft.amount_eur,
        "amount_base": draft.amount_base, "confidence": draft.confidence, "rationale": draft.rationale,
        "source": source, "status": status.value, "policy_snapshot": json.dumps(policy.snapshot()),
        "scan_window": run.scan_window, "ttl": policy.proposal_ttl_seconds, "auto": auto,
    })
    row = await cur.fetchone()
    if row is None:
        return None
    proposal_id: uuid.UUID = row["id"]
    await audit.record(conn, lease.user_id, ACTOR, "proposal.created", "proposal", proposal_id, {
        "profile_id": str(lease.profile_id), "market": draft.market, "side": draft.side.value,
        "amount_eur": None if draft.amount_eur is None else str(draft.amount_eur),
        "amount_base": None if draft.amount_base is None else str(draft.amount_base),
        "confidence": draft.confidence, "source": source, "scan_window": run.scan_window.isoformat(),
        "fencing_token": lease.token, "expires_at": row["expires_at"].isoformat(),
    })
    if auto:
        await record_auto_approval(conn, lease.user_id, proposal_id, confidence=draft.confidence,
                                   threshold=policy.auto_approve_threshold, requested_by=ACTOR)
    metrics.PROPOSALS_WRITTEN.labels(source, status.value).inc()
    return proposal_id
