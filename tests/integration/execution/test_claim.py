"""The claim transaction: facts on database time, every rule recorded, at most one execution per proposal."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from autoinvest.db.tx import AppConnection, connect, user_tx
from autoinvest.execution.claim import ENTRY_IN_PROGRESS, Outcome, claim
from autoinvest.execution.reservations import required_eur
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal, set_policy
from tests.support.tenants import make_profile, make_user


async def _tenant(conn: AppConnection, **policy: object) -> tuple[uuid.UUID, uuid.UUID]:
    user = await make_user(conn)
    profile = await make_profile(conn, user, allowlist=("BTC-EUR", "ETH-EUR"))
    await set_policy(conn, user, profile, **({"cooldown_minutes": 0, "anti_flip_minutes": 0} | policy))
    return user, profile


async def test_claim_reserves_capital_and_a_second_claim_is_already_claimed(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn)
    proposal = await make_proposal(app_conn, user, profile, amount_eur=Decimal("20"))
    first = await claim(app_conn, user, proposal)
    assert first.outcome is Outcome.CLAIMED and first.execution is not None
    second = await claim(app_conn, user, proposal)
    assert second.outcome is Outcome.ALREADY_CLAIMED
    assert second.execution is not None and second.execution.id == first.execution.id
    async with user_tx(app_conn, user):
        cur = await app_conn.execute("SELECT reserved_for_orders FROM capital_accounts WHERE profile_id = %s",
                                     (profile,))
        assert (await cur.fetchone()) == {"reserved_for_orders": required_eur(Decimal("20"))}
        cur = await app_conn.execute("SELECT preflight->'decision'->>'allowed' AS allowed, jsonb_array_length("
                                     "preflight->'decision'->'checks') AS checks FROM executions WHERE id = %s",
                                     (first.execution.id,))
        row = await cur.fetchone()
    assert row is not None and row["allowed"] == "true" and row["checks"] >= 17  # every rule ran and is recorded


async def test_an_empty_allowlist_denies_by_default(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn, allowlist=[])
    result = await claim(app_conn, user, await make_proposal(app_conn, user, profile))
    assert result.outcome is Outcome.REJECTED
    assert "ALLOWLIST_EMPTY_DENY_BY_DEFAULT" in result.reasons
    assert result.execution is not None and result.execution.reserved_eur == 0


async def test_an_expired_proposal_is_rejected(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn)
    proposal = await make_proposal(app_conn, user, profile, ttl_seconds=1)
    await asyncio.sleep(1.1)
    result = await claim(app_conn, user, proposal)
    assert result.outcome is Outcome.REJECTED and "PROPOSAL_EXPIRED" in result.reasons


async def test_a_second_entry_on_the_same_market_waits_and_is_claimed_once_the_first_ended(
        app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn)
    first = await claim(app_conn, user, await make_proposal(app_conn, user, profile))
    assert first.outcome is Outcome.CLAIMED and first.execution is not None
    waiting_proposal = await make_proposal(app_conn, user, profile)
    waiting = await claim(app_conn, user, waiting_proposal)
    assert waiting.outcome is Outcome.WAITING and waiting.reasons == (ENTRY_IN_PROGRESS,)
    other_market = await claim(app_conn, user, await make_proposal(app_conn, user, profile, market="ETH-EUR"))
    assert other_market.outcome is Outcome.CLAIMED
    async with user_tx(app_conn, user):
        await app_conn.execute("UPDATE executions SET state = 'REJECTED' WHERE id = %s", (first.execution.id,))
    assert (await claim(app_conn, user, waiting_proposal)).outcome is Outcome.CLAIMED


async def test_a_cap_counts_live_executions_at_its_boundary(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn, max_trades_per_hour=2, max_trades_per_day=10)
    one = await claim(app_conn, user, await make_proposal(app_conn, user, profile, market="BTC-EUR"))
    two = await claim(app_conn, user, await make_proposal(app_conn, user, profile, market="ETH-EUR"))
    assert (one.outcome, two.outcome) == (Outcome.CLAIMED, Outcome.CLAIMED)  # 2 live executions, cap 2
    async with user_tx(app_conn, user):  # end the BTC entry without a fill: it no longer counts as a trade
        await app_conn.execute("UPDATE executions SET state = 'FILLED', submit_ts = now() WHERE id = %s",
                               (one.execution.id,))  # type: ignore[union-attr]
    three = await claim(app_conn, user, await make_proposal(app_conn, user, profile, market="BTC-EUR"))
    assert three.outcome is Outcome.REJECTED and "HOURLY_CAP_REACHED" in three.reasons


async def test_insufficient_capital_is_rejected(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn, max_order_eur=Decimal("5000"))
    result = await claim(app_conn, user, await make_proposal(app_conn, user, profile, amount_eur=Decimal("1000")))
    assert result.outcome is Outcome.REJECTED and "INSUFFICIENT_CAPITAL" in result.reasons  # 1000 + fee > 1000


async def test_a_storm_of_concurrent_claims_makes_one_execution(db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn)
    proposal = await make_proposal(app_conn, user, profile)
    conns = [await connect(db.app_url) for _ in range(20)]
    try:
        results = await asyncio.gather(*(claim(c, user, proposal) for c in conns))
    finally:
        for c in conns:
            await c.close()
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.CLAIMED) == 1
    assert outcomes.count(Outcome.ALREADY_CLAIMED) == 19
    async with user_tx(app_conn, user):
        cur = await app_conn.execute("SELECT count(*) AS n FROM executions WHERE proposal_id = %s", (proposal,))
        assert (await cur.fetchone()) == {"n": 1}


async def _trade_minutes_ago(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, minutes: float,
                             side: str = "buy") -> None:
    """An earlier FILLED execution on BTC-EUR, claimed ``minutes`` ago on database time."""
    proposal = await make_proposal(conn, user, profile, side=side)
    async with user_tx(conn, user):
        await conn.execute(
            "INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state, client_order_id,"
            " amount_eur, submit_ts, created_at) VALUES (%s, %s, %s, %s, 'BTC-EUR', %s, 'FILLED', %s, 10, now(),"
            " now() - make_interval(secs => %s))",
            (uuid.uuid4(), user, profile, proposal, side, uuid.uuid4(), minutes * 60))


async def test_cooldown_counts_on_database_time_up_to_its_boundary(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn, cooldown_minutes=30)
    await _trade_minutes_ago(app_conn, user, profile, 30 - 1 / 60)  # 29 min 59 s ago
    denied = await claim(app_conn, user, await make_proposal(app_conn, user, profile))
    assert denied.outcome is Outcome.REJECTED and denied.reasons == ("COOLDOWN_ACTIVE",)
    user, profile = await _tenant(app_conn, cooldown_minutes=30)
    await _trade_minutes_ago(app_conn, user, profile, 30)  # exactly 30 min before the claim's now() or earlier
    assert (await claim(app_conn, user, await make_proposal(app_conn, user, profile))).outcome is Outcome.CLAIMED


async def test_anti_flip_and_its_override(app_conn: AppConnection) -> None:
    user, profile = await _tenant(app_conn, anti_flip_minutes=60)
    await _trade_minutes_ago(app_conn, user, profile, 10, side="sell")
    denied = await claim(app_conn, user, await make_proposal(app_conn, user, profile, side="buy"))
    assert denied.outcome is Outcome.REJECTED and denied.reasons == ("ANTI_FLIP",)
    overridden = await make_proposal(app_conn, user, profile, side="buy", override_anti_flip=True)
    assert (await claim(app_conn, user, overridden)).outcome is Outcome.CLAIMED
