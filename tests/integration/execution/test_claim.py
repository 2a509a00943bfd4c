"""The claim transaction: facts on database time, every rule recorded, at most one execution per proposal."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal

import pytest

from autoinvest.accounts import kill_switch
from autoinvest.db.tx import AppConnection, connect, system_tx, user_tx
from autoinvest.execution.claim import ENTRY_IN_PROGRESS, ClaimResult, Outcome, claim
from autoinvest.lifecycle.reservations import required_eur
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
    result = await claim(app_conn, user, await make_proposal(app_conn, user, profile, amount_eur=Decimal("1000.01")))
    assert result.outcome is Outcome.REJECTED and "INSUFFICIENT_CAPITAL" in result.reasons  # 1000.01 > 1000 free
    # All of it is allowed: the fee is inside the amountQuote, so no headroom is reserved on top.
    allowed = await claim(app_conn, user, await make_proposal(app_conn, user, profile, amount_eur=Decimal("1000")))
    assert allowed.outcome is Outcome.CLAIMED and allowed.execution is not None
    assert allowed.execution.reserved_eur == Decimal("1000")


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


async def _switch(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, level: str, *, on: bool) -> None:
    if level == "global":
        async with system_tx(conn):
            await kill_switch.set_global(conn, on, actor="test")
        return
    async with user_tx(conn, user):
        if level == "user":
            await kill_switch.set_user(conn, user, on, actor="test")
        else:
            await kill_switch.set_profile(conn, profile, on, actor="test")


async def _reservations(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID) -> tuple[Decimal, int]:
    """The account's reserved_for_orders and the number of RESERVE entries of the profile."""
    async with user_tx(conn, user):
        cur = await conn.execute(
            "SELECT c.reserved_for_orders AS reserved, (SELECT count(*) FROM ledger_entries l"
            " WHERE l.profile_id = c.profile_id AND l.kind = 'RESERVE') AS entries"
            " FROM capital_accounts c WHERE c.profile_id = %s", (profile,))
        row = await cur.fetchone()
    assert row is not None
    return row["reserved"], row["entries"]


@pytest.mark.parametrize("level", ["global", "user", "profile"])
async def test_a_kill_switch_rejects_at_claim_and_reserves_nothing(app_conn: AppConnection, level: str) -> None:
    # The claim alone: the submit re-check would reject with the same reason, but only after capital was reserved.
    user, profile = await _tenant(app_conn)
    proposal = await make_proposal(app_conn, user, profile)
    assert await _reservations(app_conn, user, profile) == (Decimal(0), 0)
    await _switch(app_conn, user, profile, level, on=True)
    try:
        result = await claim(app_conn, user, proposal)
    finally:
        await _switch(app_conn, user, profile, level, on=False)
    assert result.outcome is Outcome.REJECTED and result.reasons == (f"KILL_SWITCH_{level.upper()}",)
    assert result.execution is not None and result.execution.reserved_eur == 0
    assert await _reservations(app_conn, user, profile) == (Decimal(0), 0)


SIX_MARKETS = ("BTC-EUR", "ETH-EUR", "SOL-EUR", "ADA-EUR", "XRP-EUR", "DOT-EUR")


async def _until_waiting_on_a_lock(conn: AppConnection, pids: set[int], timeout_s: float = 30.0) -> None:
    """Poll until every session in ``pids`` waits on a row lock."""
    deadline = time.monotonic() + timeout_s
    while True:
        cur = await conn.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
                                 (list(pids),))
        waiting = {row["pid"] for row in await cur.fetchall()}
        await conn.commit()
        if waiting == pids:
            return
        assert time.monotonic() < deadline, f"only {len(waiting)} of {len(pids)} claims reached a lock"
        await asyncio.sleep(0.02)


async def test_concurrent_claims_on_six_markets_of_one_profile_respect_an_hourly_cap_of_one(
        db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    # Claims only, no exchange: six markets need not exist on the simulator.
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user, allowlist=SIX_MARKETS)
    await set_policy(app_conn, user, profile, cooldown_minutes=0, anti_flip_minutes=0, max_trades_per_hour=1,
                     max_trades_per_day=100)
    proposals = [await make_proposal(app_conn, user, profile, market=m) for m in SIX_MARKETS]
    holder = await connect(db.app_url)
    conns = [await connect(db.app_url) for _ in SIX_MARKETS]
    claims: list[asyncio.Future[ClaimResult]] = []
    try:
        # The held capital account row stops every claim at its reservation, before it commits: all six are in
        # flight together, so only the profile row lock can keep the later ones from counting zero trades.
        async with user_tx(holder, user):  # leaving it, even by an error, lets them go
            await holder.execute("SELECT 1 FROM capital_accounts WHERE profile_id = %s FOR UPDATE", (profile,))
            claims = [asyncio.ensure_future(claim(c, user, p)) for c, p in zip(conns, proposals, strict=True)]
            await _until_waiting_on_a_lock(app_conn, {c.info.backend_pid for c in conns})
        results = await asyncio.gather(*claims)
    finally:
        await asyncio.gather(*claims, return_exceptions=True)
        for c in [holder, *conns]:
            await c.close()
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["CLAIMED", *["REJECTED"] * 5], outcomes
    assert all(r.reasons == ("HOURLY_CAP_REACHED",) for r in results if r.outcome is Outcome.REJECTED)
    reserved, entries = await _reservations(app_conn, user, profile)
    assert (reserved, entries) == (required_eur(Decimal("10")), 1)
