"""Posting against the real PostgreSQL: idempotent, race-free, refused by the database when it breaks the invariant."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors

from autoinvest.db.tx import AppConnection, connect, user_tx
from autoinvest.errors import DatabaseError, InvariantViolation, LedgerConflict
from autoinvest.ledger import entries as L
from autoinvest.ledger import repo
from autoinvest.ledger.entries import Account
from tests.integration.ledger.helpers import funded_profile, snapshot
from tests.support.database import DatabaseUnderTest

D = Decimal


async def test_allocation_comes_from_an_entry(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    acct, history = await snapshot(app_conn, t)
    assert acct == Account(allocated=D(100))
    assert [(e.kind, e.reference) for e in history] == [(L.Kind.ALLOCATE, f"alloc:{t.profile_id}:initial")]


async def test_posting_the_same_reference_twice_changes_nothing(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    execution = uuid.uuid4()
    async with user_tx(app_conn, t.user_id):
        assert await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(execution, D(30)))
    before = await snapshot(app_conn, t)
    async with user_tx(app_conn, t.user_id):
        assert not await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(execution, D(30)))
        # A replay computed differently is still the same (kind, reference): resolved once.
        assert not await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(execution, D(50)))
    assert await snapshot(app_conn, t) == before
    assert before[0] == Account(allocated=D(100), reserved_for_orders=D(30))


async def test_concurrent_posts_of_one_reference_leave_one_entry(db: DatabaseUnderTest,
                                                                 app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    entry = L.reserve(uuid.uuid4(), D(40))

    async def attempt(conn: AppConnection) -> bool:
        async with user_tx(conn, t.user_id):
            posted = await repo.post(conn, t.profile_id, t.user_id, entry)
            await asyncio.sleep(0.05)  # hold the transaction open so the two attempts overlap
        return posted

    first, second = await connect(db.app_url), await connect(db.app_url)
    try:
        results = await asyncio.gather(attempt(first), attempt(second))
    finally:
        await first.close()
        await second.close()
    assert sorted(results) == [False, True]
    acct, history = await snapshot(app_conn, t)
    assert acct.reserved_for_orders == D(40)
    assert [e.kind for e in history].count(L.Kind.RESERVE) == 1


async def test_concurrent_reservations_cannot_overspend(db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))

    async def attempt(conn: AppConnection) -> bool:
        async with user_tx(conn, t.user_id):
            posted = await repo.post(conn, t.profile_id, t.user_id, L.reserve(uuid.uuid4(), D(60)))
            await asyncio.sleep(0.05)
        return posted

    first, second = await connect(db.app_url), await connect(db.app_url)
    try:
        results = await asyncio.gather(attempt(first), attempt(second), return_exceptions=True)
    finally:
        await first.close()
        await second.close()
    assert sorted(map(type, results), key=str) == sorted([bool, InvariantViolation], key=str)
    acct, _ = await snapshot(app_conn, t)
    assert acct == Account(allocated=D(100), reserved_for_orders=D(60))


async def test_a_breaking_entry_is_refused_by_the_database(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    before = await snapshot(app_conn, t)
    async with user_tx(app_conn, t.user_id):
        with pytest.raises(InvariantViolation) as refused:
            await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(uuid.uuid4(), D("100.01")))
        # post() has no Python pre-check: the refusal is PostgreSQL's CHECK.
        assert isinstance(refused.value.__cause__, errors.CheckViolation)
        assert refused.value.__cause__.diag.constraint_name == "capital_invariant"
        # The savepoint kept the caller's transaction usable.
        assert await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(uuid.uuid4(), D(100)))
    acct, history = await snapshot(app_conn, t)
    assert acct == Account(allocated=D(100), reserved_for_orders=D(100))
    assert len(history) == len(before[1]) + 1


async def test_the_check_refuses_a_raw_update_too(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    before = await snapshot(app_conn, t)
    with pytest.raises(errors.CheckViolation):
        async with user_tx(app_conn, t.user_id):
            await app_conn.execute("UPDATE capital_accounts SET reserved_for_orders = allocated + 1 "
                                   "WHERE profile_id = %s", (t.profile_id,))
    with pytest.raises(errors.CheckViolation):
        async with user_tx(app_conn, t.user_id):
            await app_conn.execute("UPDATE capital_accounts SET reserved_for_positions = -1 WHERE profile_id = %s",
                                   (t.profile_id,))
    assert await snapshot(app_conn, t) == before


async def test_releasing_what_was_never_reserved_is_refused(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    async with user_tx(app_conn, t.user_id):
        with pytest.raises(InvariantViolation):
            await repo.post(app_conn, t.profile_id, t.user_id, L.release(uuid.uuid4(), D(1)))
    assert (await snapshot(app_conn, t))[0] == Account(allocated=D(100))


async def test_ledger_entries_cannot_be_updated_or_deleted(db: DatabaseUnderTest, app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    for sql in ("UPDATE ledger_entries SET d_allocated = 1000 WHERE profile_id = %s",
                "DELETE FROM ledger_entries WHERE profile_id = %s"):
        with pytest.raises(errors.InsufficientPrivilege):  # the app role has no UPDATE/DELETE grant
            async with user_tx(app_conn, t.user_id):
                await app_conn.execute(sql, (t.profile_id,))
        # Even the owner is stopped by the append-only trigger.
        async with await psycopg.AsyncConnection.connect(db.admin_url) as admin:
            with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
                await admin.execute(sql, (t.profile_id,))
    assert len((await snapshot(app_conn, t))[1]) == 1


async def test_a_reference_taken_by_another_tenant_is_a_conflict_not_a_duplicate(app_conn: AppConnection) -> None:
    a, b = await funded_profile(app_conn), await funded_profile(app_conn)
    entry = L.reserve(uuid.uuid4(), D(10))
    async with user_tx(app_conn, a.user_id):
        assert await repo.post(app_conn, a.profile_id, a.user_id, entry)
    before = await snapshot(app_conn, b)
    with pytest.raises(LedgerConflict):
        async with user_tx(app_conn, b.user_id):
            await repo.post(app_conn, b.profile_id, b.user_id, entry)
    assert await snapshot(app_conn, b) == before


async def test_post_outside_a_transaction_is_refused(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    with pytest.raises(DatabaseError):
        await repo.post(app_conn, t.profile_id, t.user_id, L.reserve(uuid.uuid4(), D(1)))


async def test_open_account_is_idempotent(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    async with user_tx(app_conn, t.user_id):
        assert not await repo.open_account(app_conn, t.profile_id, t.user_id)
        assert await repo.account(app_conn, t.profile_id) == Account(allocated=D(100))


async def test_reservation_remaining_follows_fills_fees_and_release(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    execution, fill_id = uuid.uuid4(), uuid.uuid4()
    async with user_tx(app_conn, t.user_id):
        for entry in (L.reserve(execution, D(50)), L.fill(execution, fill_id, D(30)),
                      L.fee(fill_id, D("0.5"), execution_id=execution, from_reservation=D("0.5"))):
            await repo.post(app_conn, t.profile_id, t.user_id, entry)
        remaining = await repo.reservation_remaining(app_conn, t.profile_id, execution)
        assert remaining == D("19.5")
        await repo.post(app_conn, t.profile_id, t.user_id, L.release(execution, remaining))
        assert await repo.reservation_remaining(app_conn, t.profile_id, execution) == 0
        assert await repo.account(app_conn, t.profile_id) == Account(D(100), D(0), D(30), D("-0.5"))
