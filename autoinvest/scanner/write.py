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

import uuid
from dataclasses import dataclass

from autoinvest import audit
from autoinvest.accounts import proposals
from autoinvest.accounts.profiles import Policy
from autoinvest.accounts.proposals import AUTO, Fence, record_auto_approval
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.observability import metrics
from autoinvest.proposers.base import ProposalDraft, Source
from autoinvest.scheduler import jobs
from autoinvest.scheduler.jobs import Lease, Run

ACTOR = "scanner"


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
                proposal = await insert_draft(conn, lease, run, policy, source, draft)
                if proposal is None:
                    continue  # this window already has a proposal for this market
                ids.append(proposal.id)
                approved += proposal.decided_by == AUTO
        expired = await expire_overdue(conn, lease)
        outcome = "ok" if error is None else "failed"
        if not await jobs.complete(conn, lease, run, outcome=outcome, proposals=len(ids), error=error):
            raise AssertionError("the job row is locked by this transaction and the fence held")
    metrics.PROPOSALS_EXPIRED.inc(len(expired))
    return Written(tuple(ids), approved, len(expired))


def fence(lease: Lease) -> Fence:
    """The scan fence of this lease, as every write of its run checks it."""
    return Fence(job=lease.job_id, token=lease.token, worker=lease.worker)


async def insert_draft(conn: AppConnection, lease: Lease, run: Run, policy: Policy, source: Source,
                       draft: ProposalDraft) -> proposals.Proposal | None:
    """Insert one draft of the run (fenced, deduplicated per scan window; the database decides its status) and
    audit it; None when refused."""
    proposal = await proposals.insert_proposal(
        conn, profile_id=lease.profile_id, market=draft.market, side=draft.side,
        amount_eur=draft.amount_eur, amount_base=draft.amount_base, confidence=draft.confidence,
        rationale=draft.rationale, source=source, policy_snapshot=policy.snapshot(),
        ttl_seconds=policy.proposal_ttl_seconds, scan_window=run.scan_window, fence=fence(lease))
    if proposal is None:
        return None
    await audit.record(conn, lease.user_id, ACTOR, "proposal.created", "proposal", proposal.id, {
        "profile_id": str(lease.profile_id), "market": draft.market, "side": draft.side.value,
        "amount_eur": None if draft.amount_eur is None else str(draft.amount_eur),
        "amount_base": None if draft.amount_base is None else str(draft.amount_base),
        "confidence": draft.confidence, "source": source, "scan_window": run.scan_window.isoformat(),
        "fencing_token": lease.token, "expires_at": proposal.expires_at.isoformat(),
    })
    if proposal.decided_by == AUTO:
        await record_auto_approval(conn, lease.user_id, proposal.id, confidence=draft.confidence,
                                   threshold=policy.auto_approve_threshold, requested_by=ACTOR)
    metrics.PROPOSALS_WRITTEN.labels(source, proposal.status.value).inc()
    return proposal


async def expire_overdue(conn: AppConnection, lease: Lease) -> list[uuid.UUID]:
    """Expire the profile's overdue proposals (fenced) and audit each; their ids."""
    expired = await proposals.expire_overdue(conn, lease.profile_id, fence=fence(lease))
    for proposal_id in expired:
        await audit.record(conn, lease.user_id, ACTOR, "proposal.expired", "proposal", proposal_id, {})
    return expired
