"""check() finds drift between the materialised account and its entries; rebuild() repairs it and audits."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.errors import InvariantViolation, NotFound
from autoinvest.ledger import entries as L
from autoinvest.ledger import repo
from autoinvest.ledger.entries import Account
from tests.integration.ledger.helpers import Tenant, funded_profile, snapshot

D = Decimal


async def post_all(conn: AppConnection, t: Tenant, *entries: L.Entry) -> None:
    async with user_tx(conn, t.user_id):
        for entry in entries:
            assert await repo.post(conn, t.profile_id, t.user_id, entry)


async def audit_rows(conn: AppConnection, t: Tenant) -> list[dict[str, object]]:
    async with user_tx(conn, t.user_id):
        cur = await conn.execute("SELECT actor, action, subject_type, subject_id, details FROM audit_log "
                                 "WHERE subject_id = %s ORDER BY id", (str(t.profile_id),))
        return await cur.fetchall()


async def test_check_is_clean_after_a_trading_sequence(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(1000))
    execution, buy, sell = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await post_all(app_conn, t, L.reserve(execution, D(101)), L.fill(execution, buy, D(60)),
                   L.fee(buy, D("0.15"), execution_id=execution, from_reservation=D("0.15")),
                   L.fill(execution, uuid.uuid4(), D(40)), L.release(execution, D("0.85")),
                   L.exit(sell, D(100), D(110)), L.fee(sell, D("0.25")),
                   L.deallocate(t.profile_id, "w1", D(500)))
    async with user_tx(app_conn, t.user_id):
        assert await repo.check(app_conn, t.profile_id) is None
        acct = await repo.account(app_conn, t.profile_id)
    assert acct == Account(D(500), D(0), D(0), D("9.60"))
    assert await audit_rows(app_conn, t) == []


async def test_drift_is_detected_and_rebuild_repairs_and_audits(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    await post_all(app_conn, t, L.reserve(uuid.uuid4(), D(30)))
    async with user_tx(app_conn, t.user_id):  # a raw write that bypasses the ledger, as the app role
        await app_conn.execute("UPDATE capital_accounts SET reserved_for_orders = reserved_for_orders + 5, "
                               "realized_pnl = 2 WHERE profile_id = %s", (t.profile_id,))
    async with user_tx(app_conn, t.user_id):
        diff = await repo.check(app_conn, t.profile_id)
    assert diff is not None
    assert diff.drift == {"reserved_for_orders": D(5), "realized_pnl": D(2)}
    assert diff.rebuilt == Account(allocated=D(100), reserved_for_orders=D(30))

    async with user_tx(app_conn, t.user_id):
        repaired = await repo.rebuild(app_conn, t.profile_id, actor="operator:test")
    assert repaired == Account(allocated=D(100), reserved_for_orders=D(30))
    async with user_tx(app_conn, t.user_id):
        assert await repo.check(app_conn, t.profile_id) is None
        assert await repo.account(app_conn, t.profile_id) == repaired
    [audit] = await audit_rows(app_conn, t)
    assert (audit["actor"], audit["action"], audit["subject_type"]) == ("operator:test", "ledger.rebuild",
                                                                        "capital_account")
    assert audit["details"] == {
        "before": {"allocated": "100", "reserved_for_orders": "35", "reserved_for_positions": "0",
                   "realized_pnl": "2"},
        "after": {"allocated": "100", "reserved_for_orders": "30", "reserved_for_positions": "0",
                  "realized_pnl": "0"},
        "drift": {"reserved_for_orders": "5", "realized_pnl": "2"},
    }

    async with user_tx(app_conn, t.user_id):  # nothing to repair: no second audit row
        assert await repo.rebuild(app_conn, t.profile_id, actor="operator:test") == repaired
    assert len(await audit_rows(app_conn, t)) == 1


async def test_rebuild_refuses_a_history_whose_sum_breaks_the_invariant(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn, D(100))
    async with user_tx(app_conn, t.user_id):  # drift: 50 EUR that no entry explains
        await app_conn.execute("UPDATE capital_accounts SET allocated = allocated + 50 WHERE profile_id = %s",
                               (t.profile_id,))
    await post_all(app_conn, t, L.reserve(uuid.uuid4(), D(120)))  # only possible thanks to the drift
    before = await snapshot(app_conn, t)
    async with user_tx(app_conn, t.user_id):
        diff = await repo.check(app_conn, t.profile_id)
        assert diff is not None and diff.drift == {"allocated": D(50)}
        with pytest.raises(InvariantViolation):
            diff.rebuilt.check()
        # The repair would break the CHECK: refused, nothing changed; an ADJUST entry must explain the 50.
        with pytest.raises(InvariantViolation):
            await repo.rebuild(app_conn, t.profile_id, actor="operator:test")
    assert await snapshot(app_conn, t) == before
    assert await audit_rows(app_conn, t) == []


async def test_a_missing_account_is_not_found(app_conn: AppConnection) -> None:
    t = await funded_profile(app_conn)
    other = await funded_profile(app_conn)
    async with user_tx(app_conn, t.user_id):  # another tenant's account is invisible under RLS
        with pytest.raises(NotFound):
            await repo.account(app_conn, other.profile_id)
        with pytest.raises(NotFound):
            await repo.check(app_conn, other.profile_id)
