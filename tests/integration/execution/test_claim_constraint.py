"""The claim's last line of defence: when the checks inside its transaction miss an existing execution (two claims
past the profile lock), the UNIQUE constraint refuses the second insert, the whole claim rolls back, and the claim
answers ALREADY_CLAIMED with the first execution instead of failing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.execution.claim import Outcome, claim
from autoinvest.lifecycle import executions
from autoinvest.lifecycle.executions import Execution
from tests.support.proposals import make_proposal, set_policy
from tests.support.tenants import make_profile, make_user


async def test_an_insert_refused_by_the_unique_constraint_is_already_claimed(
        app_conn: AppConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    await set_policy(app_conn, user, profile, cooldown_minutes=0, anti_flip_minutes=0)
    proposal = await make_proposal(app_conn, user, profile, amount_eur=Decimal("20"))
    first = await claim(app_conn, user, proposal)
    assert first.outcome is Outcome.CLAIMED and first.execution is not None
    async with user_tx(app_conn, user):  # no longer live: the one-live-entry check lets the second claim through
        await app_conn.execute("UPDATE executions SET state = 'REJECTED' WHERE id = %s", (first.execution.id,))

    looked_up = executions.for_proposal
    calls: list[uuid.UUID] = []

    async def blind_the_first_time(conn: AppConnection, user_id: uuid.UUID, proposal_id: uuid.UUID) -> Execution | None:
        calls.append(proposal_id)
        return None if len(calls) == 1 else await looked_up(conn, user_id, proposal_id)

    monkeypatch.setattr(executions, "for_proposal", blind_the_first_time)
    second = await claim(app_conn, user, proposal)

    assert len(calls) == 2  # the claim's own check (blinded), then the fallback's lookup after the refusal
    assert second.outcome is Outcome.ALREADY_CLAIMED
    assert second.execution is not None and second.execution.id == first.execution.id
    async with user_tx(app_conn, user):
        cur = await app_conn.execute("SELECT count(*) AS n FROM executions WHERE proposal_id = %s", (proposal,))
        assert (await cur.fetchone()) == {"n": 1}
