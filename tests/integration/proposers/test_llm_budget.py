"""The LLM budget under concurrency and crashes, and the LLM proposer through a real scan.

The only fake is the LLM endpoint (tests/support/llm_server.py, a local HTTP server: the network edge).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from autoinvest.db.tx import AppConnection, connect, user_tx
from autoinvest.errors import LLMError
from autoinvest.proposers import llm
from autoinvest.proposers.budget import DbBudget
from tests.integration.scanner.helpers import events, proposals, run_pass, scanner_for
from tests.integration.scheduler.isolated import admin_execute
from tests.support.database import DatabaseUnderTest
from tests.support.llm_server import LlmServer, llm_server
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, settings_for
from tests.unit.proposers.factory import closes, snapshot, view

SNAP = snapshot(view("BTC-EUR", closes(100, 101)), allowlist=("BTC-EUR",))
GOOD = json.dumps({"proposals": [{"market": "BTC-EUR", "side": "buy", "amount_eur": "20.00", "confidence": 75,
                                  "rationale": "steady uptrend"}]})


@pytest.fixture
def server() -> Iterator[LlmServer]:
    with llm_server() as running:
        yield running


async def _usage(conn: AppConnection, user_id: UUID) -> list[dict[str, object]]:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT status, outcome, prompt_tokens, completion_tokens, latency_ms"
                                 " FROM llm_usage ORDER BY reserved_at")
        return await cur.fetchall()


async def test_twenty_concurrent_scans_make_exactly_the_hourly_budget_of_calls(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        server: LlmServer) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="llm")
    admin_execute(scan_db, "UPDATE profile_policies SET llm_calls_per_hour = 5, llm_calls_per_day = 48"
                  " WHERE profile_id = %s", (t.profile_id,))
    server.content, server.delay_s = GOOD, 0.2  # calls overlap with reservations still being made
    client = llm.make_client(server.base_url, "test-key")
    conns = [await connect(scan_db.app_url) for _ in range(20)]
    try:
        proposers = [llm.LlmProposer(client, "test-model", DbBudget(c, t.user_id, t.profile_id)) for c in conns]
        results = await asyncio.gather(*(p.propose(SNAP) for p in proposers))
    finally:
        for c in conns:
            await c.close()
        await client.close()

    assert server.count == 5
    made = [r for r in results if r.drafts]
    denied = [r for r in results if r.rejections]
    assert len(made) == 5 and len(denied) == 15
    assert {r.rejections[0].reason for r in denied} == {"LLM_BUDGET_EXHAUSTED"}
    usage = await _usage(scan_conn, t.user_id)
    assert len(usage) == 5
    assert all(u["status"] == "completed" and u["outcome"] == "ok" and u["prompt_tokens"] == 120 for u in usage)
    body = server.requests[0]
    assert body["model"] == "test-model" and body["response_format"]["json_schema"]["strict"] is True


async def test_a_reservation_abandoned_by_a_crash_still_counts(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="llm")
    admin_execute(scan_db, "UPDATE profile_policies SET llm_calls_per_hour = 2 WHERE profile_id = %s",
                  (t.profile_id,))
    crashed = await connect(scan_db.app_url)
    assert await DbBudget(crashed, t.user_id, t.profile_id).reserve() is not None
    await crashed.close()  # the process dies between reserve and complete: the reservation is committed
    budget = DbBudget(scan_conn, t.user_id, t.profile_id)
    assert await budget.reserve() is not None
    assert await budget.reserve() is None
    assert [u["status"] for u in await _usage(scan_conn, t.user_id)] == ["reserved", "reserved"]


async def test_the_daily_budget_counts_too(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="llm")
    admin_execute(scan_db, "UPDATE profile_policies SET llm_calls_per_day = 1 WHERE profile_id = %s",
                  (t.profile_id,))
    # a call 2 hours ago (out of the hourly window) still counts today, unless today began less than 2 hours ago
    admin_execute(scan_db, "INSERT INTO llm_usage (id, user_id, profile_id, status, reserved_at) VALUES"
                  " (gen_random_uuid(), %s, %s, 'completed', greatest(now() - interval '2 hours',"
                  " date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'))", (t.user_id, t.profile_id))
    assert await DbBudget(scan_conn, t.user_id, t.profile_id).reserve() is None


async def test_llm_errors_mark_the_call_failed(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        server: LlmServer) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="llm")
    server.status = 500
    client = llm.make_client(server.base_url, "k")
    with pytest.raises(LLMError) as raised:
        await llm.LlmProposer(client, "m", DbBudget(scan_conn, t.user_id, t.profile_id)).propose(SNAP)
    await client.close()
    assert raised.value.reason == "LLM_HTTP_ERROR" and server.count == 1  # no SDK retries: one budgeted request
    assert [(u["status"], u["outcome"]) for u in await _usage(scan_conn, t.user_id)] == [("failed", "LLM_HTTP_ERROR")]
    unreachable = llm.make_client("http://127.0.0.1:9/v1", "k", timeout_s=2)
    with pytest.raises(LLMError) as raised:
        await llm.LlmProposer(unreachable, "m", DbBudget(scan_conn, t.user_id, t.profile_id)).propose(SNAP)
    assert raised.value.reason == "LLM_UNAVAILABLE"


@pytest.mark.parametrize(("content", "reason"), [
    (GOOD, None),
    ("not json at all", "NOT_JSON"),
    (GOOD.replace('"confidence": 75', '"confidence": 70'), "CONFIDENCE_INVALID"),
    (GOOD.replace("BTC-EUR", "DOGE-EUR"), "MARKET_NOT_ALLOWED"),
    (GOOD.replace('"20.00"', '"-20.00"'), "AMOUNT_INVALID"),
    (GOOD.replace('"rationale"', '"leverage": 5, "rationale"'), "EXTRA_FIELDS"),
])
async def test_an_llm_scan_writes_only_valid_proposals(
        scan_db: DatabaseUnderTest, scan_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path,
        server: LlmServer, content: str, reason: str | None) -> None:
    t = await make_trading_tenant(scan_conn, simulator, settings_for(simulator, tmp_path), strategy="llm",
                                  allowlist=("BTC-EUR",))
    server.content = content
    scanner = scanner_for(simulator, tmp_path, llm_base_url=server.base_url, llm_model="m")
    await run_pass(scan_conn, scan_db, scanner)

    written = await proposals(scan_conn, t.user_id)
    (usage,) = await _usage(scan_conn, t.user_id)
    (event,) = await events(scan_conn, t.user_id)
    assert event["outcome"] == "ok"  # a refused answer is a completed scan that proposes nothing
    if reason is None:
        assert [(r["market"], r["amount_eur"], r["source"]) for r in written] == [("BTC-EUR", 20, "llm")]
        assert usage["outcome"] == "ok"
    else:
        assert written == []
        assert usage["status"] == "completed" and usage["outcome"] == f"rejected:{reason}"

