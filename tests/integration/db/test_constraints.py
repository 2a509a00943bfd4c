"""The schema itself refuses unsafe states (guarantees 1 and 8 at the database level)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from autoinvest.db.tx import AppConnection, user_tx
from tests.support.tenants import make_profile, make_user


async def _proposal(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, market: str = "BTC-EUR") -> uuid.UUID:
    pid = uuid.uuid4()
    async with user_tx(conn, user):
        await conn.execute(
            "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, confidence, source,"
            " expires_at) VALUES (%s, %s, %s, %s, 'buy', 10, 75, 'manual', now() + interval '10 minutes')",
            (pid, user, profile, market))
    return pid


async def _execution(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, proposal: uuid.UUID,
                     state: str = "CLAIMED", market: str = "BTC-EUR", confirmed: bool = True) -> None:
    # A NOT_PLACED is terminal once confirmed; unconfirmed, it waits for its look at confirm_after.
    confirm = "NULL, now()" if confirmed else "now(), NULL"
    async with user_tx(conn, user):
        await conn.execute(
            "INSERT INTO executions (id, user_id, profile_id, proposal_id, market, side, state, client_order_id,"
            " amount_eur, submit_ts, confirm_after, confirmed_at)"
            f" VALUES (%s, %s, %s, %s, %s, 'buy', %s, %s, 10, now(), {confirm})",
            (uuid.uuid4(), user, profile, proposal, market, state, uuid.uuid4()))


async def test_a_second_execution_of_one_proposal_is_refused(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    proposal = await _proposal(app_conn, user, profile)
    await _execution(app_conn, user, profile, proposal, state="REJECTED")
    with pytest.raises(psycopg.errors.UniqueViolation, match="executions_user_id_proposal_id_key"):
        await _execution(app_conn, user, profile, proposal, state="REJECTED")


async def test_a_second_live_entry_for_one_profile_and_market_is_refused(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    p1 = await _proposal(app_conn, user, profile)
    p2 = await _proposal(app_conn, user, profile)
    p3 = await _proposal(app_conn, user, profile, market="ETH-EUR")
    await _execution(app_conn, user, profile, p1, state="SUBMITTING")
    with pytest.raises(psycopg.errors.UniqueViolation, match="executions_one_live_per_market"):
        await _execution(app_conn, user, profile, p2, state="CLAIMED")
    await _execution(app_conn, user, profile, p3, state="CLAIMED", market="ETH-EUR")  # another market is fine


async def test_terminal_entries_do_not_block_a_new_live_one(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    for state in ("FILLED", "CANCELED", "REJECTED", "NOT_PLACED"):
        await _execution(app_conn, user, profile, await _proposal(app_conn, user, profile), state=state)
    await _execution(app_conn, user, profile, await _proposal(app_conn, user, profile), state="SUBMITTED")


async def test_an_unconfirmed_not_placed_blocks_a_new_live_one(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    await _execution(app_conn, user, profile, await _proposal(app_conn, user, profile), state="NOT_PLACED",
                     confirmed=False)
    with pytest.raises(psycopg.errors.UniqueViolation, match="executions_one_live_per_market"):
        await _execution(app_conn, user, profile, await _proposal(app_conn, user, profile), state="CLAIMED")


async def test_a_capital_change_that_breaks_the_invariant_is_refused(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)  # allocated 1000
    async with user_tx(app_conn, user):
        await app_conn.execute("UPDATE capital_accounts SET reserved_for_orders = 600, reserved_for_positions = 400"
                               " WHERE profile_id = %s", (profile,))  # exactly 0 free: allowed
    with pytest.raises(psycopg.errors.CheckViolation, match="capital_invariant"):
        async with user_tx(app_conn, user):
            await app_conn.execute("UPDATE capital_accounts SET realized_pnl = -0.01 WHERE profile_id = %s",
                                   (profile,))


@pytest.mark.parametrize("confidence", [30, -25, 101, 1])
async def test_a_confidence_outside_the_five_buckets_is_refused(app_conn: AppConnection, confidence: int) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    with pytest.raises(psycopg.errors.CheckViolation, match="confidence"):
        async with user_tx(app_conn, user):
            await app_conn.execute(
                "INSERT INTO trade_proposals (id, user_id, profile_id, market, side, amount_eur, confidence, source,"
                " expires_at) VALUES (%s, %s, %s, 'BTC-EUR', 'buy', 10, %s, 'manual', now() + interval '1 minute')",
                (uuid.uuid4(), user, profile, confidence))


async def test_ledger_entries_are_append_only(app_conn: AppConnection) -> None:
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    async with user_tx(app_conn, user):
        await app_conn.execute("INSERT INTO ledger_entries (user_id, profile_id, kind, reference)"
                               " VALUES (%s, %s, 'ADJUST', %s)", (user, profile, f"t:{profile}"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_tx(app_conn, user):
            await app_conn.execute("UPDATE ledger_entries SET d_allocated = 5 WHERE profile_id = %s", (profile,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        async with user_tx(app_conn, user):
            await app_conn.execute("INSERT INTO ledger_entries (user_id, profile_id, kind, reference)"
                                   " VALUES (%s, %s, 'ADJUST', %s)", (user, profile, f"t:{profile}"))


async def _fill(conn: AppConnection, user: uuid.UUID, profile: uuid.UUID, exchange_fill_id: str) -> None:
    async with user_tx(conn, user):
        await conn.execute(
            "INSERT INTO fills (id, user_id, profile_id, exchange_order_id, exchange_fill_id, market, side, amount,"
            " price, filled_at) VALUES (%s, %s, %s, %s, %s, 'BTC-EUR', 'buy', 0.001, 60000, now())",
            (uuid.uuid4(), user, profile, f"order-{uuid.uuid4()}", exchange_fill_id))


async def test_a_second_fill_with_one_exchange_fill_id_is_refused(app_conn: AppConnection) -> None:
    # The lifecycle books a fill once because the database refuses its replay (guarantee 9).
    user = await make_user(app_conn)
    profile = await make_profile(app_conn, user)
    fill_id = f"fill-{uuid.uuid4()}"
    await _fill(app_conn, user, profile, fill_id)
    with pytest.raises(psycopg.errors.UniqueViolation, match="fills_exchange_fill_id_key"):
        await _fill(app_conn, user, profile, fill_id)
    await _fill(app_conn, user, profile, f"fill-{uuid.uuid4()}")  # another fill id is fine
