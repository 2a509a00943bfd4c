"""Guarantee 2, the write side of the fence, in-process: once a run's lease has been taken over, nothing it writes
lands. The old lease's finishing write (`scanner.write.finish`) is refused as a whole, and each fenced statement
refuses it on its own (the job lock, the proposal INSERT, the EXPIRE step, the completion), so that a write path
that skipped the lock would still be refused.

Each case keeps a different part of the fence as the only one that fails: re-claimed by another worker (token
and owner differ), re-claimed by the same worker id (only the fencing token differs), and expired without a new
claim (only the lease has run out). After every refusal the new holder's finish writes normally: the refusals
come from the fence, not from the setup.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from autoinvest.accounts import profiles, users
from autoinvest.accounts.profiles import Policy, get_policy
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import Side
from autoinvest.proposers.base import ProposalDraft
from autoinvest.scanner import write
from autoinvest.scheduler import jobs
from autoinvest.scheduler.jobs import Lease, Run
from tests.integration.scanner.helpers import events, job, proposals
from tests.integration.scheduler.isolated import admin_execute
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal

OLD_WORKER = "worker-a"
DRAFTS = (
    ProposalDraft(market="BTC-EUR", side=Side.BUY, confidence=75, rationale="test", amount_eur=Decimal("7")),
    ProposalDraft(market="ETH-EUR", side=Side.BUY, confidence=75, rationale="test", amount_eur=Decimal("7")),
)
#: Who holds the job when the old run tries to write: another worker, the same worker id, or nobody.
TAKERS = pytest.mark.parametrize("taker", ["worker-b", OLD_WORKER, None],
                                 ids=["another-worker", "same-worker", "lease-expired"])


@dataclass(frozen=True)
class TakenOver:
    user_id: uuid.UUID
    profile_id: uuid.UUID
    policy: Policy
    old: Lease
    old_run: Run
    overdue: uuid.UUID  #: a proposal past its expiry, for the EXPIRE step to find
    before: dict[str, Any]  #: the job row once the old lease had lost it


async def _tenant(conn: AppConnection) -> tuple[uuid.UUID, uuid.UUID, Policy]:
    user_id = users.new_user_id()
    spec = profiles.profile_spec("fence", Decimal("500"), ("BTC-EUR", "ETH-EUR"))
    async with user_tx(conn, user_id):
        await users.create_user(conn, user_id, f"{user_id.hex[:12]}@example.org", actor="test")
        profile_id = await profiles.create_profile(conn, user_id, spec, actor="test")  # its job is due now
        policy = await get_policy(conn, profile_id)
    return user_id, profile_id, policy


async def _taken_over(scan_db: DatabaseUnderTest, conn: AppConnection, taker: str | None) -> TakenOver:
    user_id, profile_id, policy = await _tenant(conn)
    overdue = await make_proposal(conn, user_id, profile_id, status="PENDING")
    admin_execute(scan_db, "UPDATE trade_proposals SET created_at = now() - interval '2 hours',"
                  " expires_at = now() - interval '1 hour' WHERE id = %s", (overdue,))
    (old,) = await jobs.claim(conn, OLD_WORKER, 1, 60)
    old_run = await jobs.start(conn, old)
    assert old_run is not None
    # The old run's lease runs out (its worker paused past it); then, unless `taker` is None, it is claimed again.
    admin_execute(scan_db, "UPDATE scan_jobs SET locked_until = now() - interval '1 second' WHERE id = %s",
                  (old.job_id,))
    if taker is not None:
        (new,) = await jobs.claim(conn, taker, 1, 60)
        assert (new.job_id, new.token) == (old.job_id, old.token + 1)
    return TakenOver(user_id, profile_id, policy, old, old_run, overdue, await job(conn, user_id))


async def _assert_nothing_written(conn: AppConnection, t: TakenOver) -> None:
    assert await job(conn, t.user_id) == t.before  # not completed, not released, not rescheduled
    assert await events(conn, t.user_id) == []  # no 'scan.completed'
    assert [(p["id"], p["status"]) for p in await proposals(conn, t.user_id)] == [(t.overdue, "PENDING")]
    async with user_tx(conn, t.user_id):
        cur = await conn.execute("SELECT action FROM audit_log WHERE action LIKE 'proposal.%'")
        assert await cur.fetchall() == []


async def _assert_the_holder_can_write(conn: AppConnection, t: TakenOver, taker: str | None) -> None:
    if taker is None:  # nobody holds the job yet (still due, lease expired): claim it now
        (holder,) = await jobs.claim(conn, "worker-c", 1, 60)
    else:
        holder = Lease(t.old.job_id, t.profile_id, t.user_id, t.before["fencing_token"], taker)
    run = await jobs.start(conn, holder)
    assert run is not None
    written = await write.finish(conn, holder, run, policy=t.policy, source="rules", drafts=DRAFTS, error=None)
    assert written is not None and len(written.proposals) == 2 and written.expired == 1
    (event,) = await events(conn, t.user_id)
    assert (event["fencing_token"], event["worker"]) == (holder.token, holder.worker)


@TAKERS
async def test_a_finish_with_a_lease_taken_over_writes_nothing(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, taker: str | None) -> None:
    t = await _taken_over(scan_db, scan_conn, taker)

    written = await write.finish(scan_conn, t.old, t.old_run, policy=t.policy, source="rules", drafts=DRAFTS,
                                 error=None)

    assert written is None
    await _assert_nothing_written(scan_conn, t)
    await _assert_the_holder_can_write(scan_conn, t, taker)


@TAKERS
async def test_each_fenced_statement_refuses_a_lease_taken_over(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, taker: str | None) -> None:
    # finish() stops at the lock; here every later statement runs as if the lock had been skipped, so the
    # fence each one carries is proven on its own.
    t = await _taken_over(scan_db, scan_conn, taker)
    conn, old = scan_conn, t.old
    async with user_tx(conn, t.user_id):
        assert not await jobs.lock(conn, old)
        for draft in DRAFTS:
            assert await write.insert_draft(conn, old, t.old_run, t.policy, "rules", draft) is None
        assert await write.expire_overdue(conn, old) == []
        assert not await jobs.complete(conn, old, t.old_run, outcome="ok", proposals=0, error=None)
    await _assert_nothing_written(conn, t)
    await _assert_the_holder_can_write(scan_conn, t, taker)


@pytest.mark.parametrize("claimer", ["worker-b", OLD_WORKER], ids=["another-worker", "same-worker"])
async def test_a_job_whose_lease_is_held_is_not_claimed_again_until_it_runs_out(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, claimer: str) -> None:
    # The read side of "one instance at a time": while a run holds its lease, nobody (its own worker id
    # included) starts a second run of the job, even though the job is still due until the run completes.
    user_id, _, _ = await _tenant(scan_conn)
    (held,) = await jobs.claim(scan_conn, OLD_WORKER, 1, 60)
    assert await jobs.start(scan_conn, held) is not None

    assert [lease for lease in await jobs.claim(scan_conn, claimer, 10, 60) if lease.job_id == held.job_id] == []
    row = await job(scan_conn, user_id)
    assert (row["fencing_token"], row["locked_by"]) == (held.token, OLD_WORKER)

    admin_execute(scan_db, "UPDATE scan_jobs SET locked_until = now() - interval '1 second' WHERE id = %s",
                  (held.job_id,))
    (again,) = [lease for lease in await jobs.claim(scan_conn, claimer, 10, 60) if lease.job_id == held.job_id]
    assert again.token == held.token + 1
