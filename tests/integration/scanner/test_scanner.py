"""The scanner end to end against the simulator: proposals with policy snapshot and expiry, deduplicated per
scan window, overdue proposals EXPIRED, auto-approval at the threshold, market metadata refreshed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from autoinvest.accounts.profiles import get_policy
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.scheduler.housekeeping import housekeeping_pass
from tests.integration.scanner.helpers import events, job, proposals, run_pass, scanner_for
from tests.integration.scheduler.isolated import admin_execute
from tests.support.database import DatabaseUnderTest
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for


async def test_a_dca_scan_writes_proposals_once_per_window(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="dca",
                                  scan_interval_seconds=60, min_order_eur=Decimal("7"))
    scanner = scanner_for(simulator, tmp_path)
    first_job = await job(scan_conn, t.user_id)

    await run_pass(scan_conn, scan_db, scanner)

    rows = await proposals(scan_conn, t.user_id)
    assert [(r["market"], r["side"], r["amount_eur"], r["amount_base"], r["confidence"], r["source"], r["status"])
            for r in rows] == [("BTC-EUR", "buy", Decimal("7.00"), None, 75, "rules", "PENDING"),
                               ("ETH-EUR", "buy", Decimal("7.00"), None, 75, "rules", "PENDING")]
    async with user_tx(scan_conn, t.user_id):
        policy = await get_policy(scan_conn, t.profile_id)
    due: datetime = first_job["next_run_at"]
    window = datetime.fromtimestamp(int(due.timestamp()) // 60 * 60, tz=UTC)
    for r in rows:
        assert r["policy_snapshot"] == policy.snapshot()
        assert r["ttl_s"] == policy.proposal_ttl_seconds == 900
        assert r["scan_window"] == window and r["scan_fencing_token"] == 1 and r["decided_by"] is None
    after = await job(scan_conn, t.user_id)
    assert after["scheduled"] and after["locked_by"] is None and after["last_error"] is None
    (event,) = await events(scan_conn, t.user_id)
    assert event["proposals"] == 2 and event["outcome"] == "ok" and event["fencing_token"] == 1
    assert datetime.fromisoformat(event["due_at"]) == due
    # the executor's pre-flight reads the exchange minimum from market_metadata: the scan refreshed it
    async with system_tx(scan_conn):
        cur = await scan_conn.execute("SELECT min_order_quote, quantity_decimals FROM market_metadata"
                                      " WHERE market = 'BTC-EUR' AND exchange_url = %s", (simulator.base,))
        assert await cur.fetchone() == {"min_order_quote": Decimal("5"), "quantity_decimals": 8}

    # the same due time again (a re-run in the same window): nothing new
    admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = %s WHERE profile_id = %s", (due, t.profile_id))
    await run_pass(scan_conn, scan_db, scanner)
    assert len(await proposals(scan_conn, t.user_id)) == 2
    assert [e["proposals"] for e in await events(scan_conn, t.user_id)] == [2, 0]
    assert (await job(scan_conn, t.user_id))["fencing_token"] == 2


async def test_overdue_proposals_are_expired_unless_executed(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="dca",
                                  scan_interval_seconds=60)
    scanner = scanner_for(simulator, tmp_path)
    due = (await job(scan_conn, t.user_id))["next_run_at"]
    await run_pass(scan_conn, scan_db, scanner)
    btc, eth = await proposals(scan_conn, t.user_id)
    admin_execute(scan_db, "UPDATE trade_proposals SET created_at = now() - interval '2 hours',"
                  " expires_at = now() - interval '1 hour' WHERE id = %s", (btc["id"],))
    # due again at the same time: the same scan window, so no fresh proposals
    admin_execute(scan_db, "UPDATE scan_jobs SET next_run_at = %s WHERE profile_id = %s", (due, t.profile_id))

    await run_pass(scan_conn, scan_db, scanner)

    statuses = {r["id"]: r["status"] for r in await proposals(scan_conn, t.user_id)}
    assert statuses[btc["id"]] == "EXPIRED" and statuses[eth["id"]] == "PENDING"
    async with user_tx(scan_conn, t.user_id):
        cur = await scan_conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'proposal.expired'")
        assert (await cur.fetchone()) == {"n": 1}
    # the scheduler role's sweep expires too (here: the other one, once overdue)
    admin_execute(scan_db, "UPDATE trade_proposals SET created_at = now() - interval '2 hours',"
                  " expires_at = now() - interval '1 hour' WHERE id = %s", (eth["id"],))
    sweep = housekeeping_pass(scanner.reader_for, scanner.settings)
    assert await sweep(scan_conn) == 1
    assert {r["status"] for r in await proposals(scan_conn, t.user_id)} == {"EXPIRED"}


async def test_auto_approval_at_the_threshold(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    at = await make_trading_tenant(scan_conn, simulator, settings, strategy="dca", auto_approve_threshold=75)
    above = await make_trading_tenant(scan_conn, simulator, settings, strategy="dca", auto_approve_threshold=100)
    await run_pass(scan_conn, scan_db, scanner_for(simulator, tmp_path))

    approved = await proposals(scan_conn, at.user_id)
    assert len(approved) == 2
    assert all(r["status"] == "APPROVED" and r["decided_by"] == "auto" and r["decided_at"] for r in approved)
    async with user_tx(scan_conn, at.user_id):
        cur = await scan_conn.execute("SELECT actor, subject_id, details FROM audit_log"
                                      " WHERE action = 'proposal.auto_approved' ORDER BY subject_id")
        audits = await cur.fetchall()
    assert [a["subject_id"] for a in audits] == sorted(str(r["id"]) for r in approved)
    assert all(a["actor"] == "auto" and a["details"]["auto_approve_threshold"] == 75 for a in audits)
    waiting = await proposals(scan_conn, above.user_id)
    assert len(waiting) == 2 and all(r["status"] == "PENDING" and r["decided_by"] is None for r in waiting)


async def test_a_failing_scan_completes_the_job_with_its_reason(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="dca")
    async with user_tx(scan_conn, t.user_id):
        await scan_conn.execute("DELETE FROM exchange_credentials WHERE purpose = 'readonly'")
    await run_pass(scan_conn, scan_db, scanner_for(simulator, tmp_path))
    assert await proposals(scan_conn, t.user_id) == []
    (event,) = await events(scan_conn, t.user_id)
    assert event["outcome"] == "failed" and event["error"]
    after = await job(scan_conn, t.user_id)
    assert after["scheduled"] and after["last_error"] == event["error"] and after["locked_by"] is None
