"""Executors share the work: N executor processes take different proposals, a wake-up names the proposal, what
was approved while no executor ran is taken at start, and a changed key is used without a restart."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from autoinvest.accounts import vault
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.execution.client_order_id import client_order_id
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, orders_of, settings_for

pytestmark = pytest.mark.slow
K = 24
EXECUTORS = 4


def _executor(db: DatabaseUnderTest, sim: RunningSimulator, poll_s: str = "0.3") -> subprocess.Popen[str]:
    return processes.start(["worker", "--roles", "executor", "--poll-s", poll_s], processes.env_for(db, sim))


def _stop(worker: subprocess.Popen[str]) -> list[dict[str, object]]:
    """SIGTERM, and the worker's JSON log records."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def _wait_for_log(worker: subprocess.Popen[str], event: str, timeout_s: float = 60) -> list[str]:
    """Read the worker's stderr up to the line with ``event``; the lines read (they are not read again)."""
    assert worker.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = worker.stderr.readline()
        assert line, f"the worker exited before {event!r}: {''.join(lines)}"
        lines.append(line)
        if line.startswith("{") and json.loads(line).get("event") == event:
            return lines
    raise AssertionError(f"no {event!r} within {timeout_s}s")


async def _states(conn: AppConnection, owners: dict[UUID, UUID]) -> dict[UUID, str]:
    states = {}
    for proposal, user in owners.items():
        async with user_tx(conn, user):
            cur = await conn.execute("SELECT state FROM executions WHERE proposal_id = %s", (proposal,))
            states[proposal] = [row["state"] for row in await cur.fetchall()]
    return {p: ",".join(s) or "none" for p, s in states.items()}


async def _wait_filled(conn: AppConnection, owners: dict[UUID, UUID], timeout_s: float = 90) -> dict[UUID, str]:
    deadline = time.monotonic() + timeout_s
    while True:
        states = await _states(conn, owners)
        if all(s == "FILLED" for s in states.values()) or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.2)


async def test_k_proposals_and_n_executors_make_k_claims_and_k_orders(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    owners: dict[UUID, UUID] = {}
    for _ in range(K):  # one proposal per profile: the profile lock serialises nothing between them
        t = await make_trading_tenant(app_conn, simulator, settings)
        owners[await make_proposal(app_conn, t.user_id, t.profile_id, status="PENDING")] = t.user_id
    workers = [_executor(db, simulator) for _ in range(EXECUTORS)]
    records: list[dict[str, object]] = []
    try:
        for worker in workers:  # every executor listens before the approvals: all of them are woken at once
            _wait_for_log(worker, "recovery done")
        with psycopg.connect(db.admin_url, autocommit=True) as admin:  # one commit approves all K
            admin.execute("UPDATE trade_proposals SET status = 'APPROVED', decided_at = now(), decided_by = 'user'"
                          " WHERE id = ANY(%s)", (list(owners),))
        states = await _wait_filled(app_conn, owners)
    finally:
        for worker in workers:
            records += _stop(worker)
    assert set(states.values()) == {"FILLED"}, (states, [r for r in records if r.get("level") != "info"][:5])
    for proposal, user in owners.items():
        assert len(orders_of(simulator, client_order_id(user, proposal))) == 1
    attempts = [r for r in records if r.get("event") in ("executed", "execute failed")]
    wasted = [r for r in attempts if r.get("outcome") in ("already_claimed", "waiting") or r["event"] != "executed"]
    # Without leases every executor walks the same list: about EXECUTORS claims per proposal.
    assert len(attempts) == K and not wasted, (len(attempts), wasted)


async def test_a_proposal_approved_while_no_executor_runs_is_executed_at_its_start(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await make_trading_tenant(app_conn, simulator, settings)
    await vault.verified_pair(app_conn, t.user_id, settings)  # a pair verified before, as a running system has
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)  # approved; nobody listens
    worker = _executor(db, simulator, poll_s="60")  # a poll would come a minute late
    try:
        states = await _wait_filled(app_conn, {proposal: t.user_id}, timeout_s=60)
    finally:
        records = _stop(worker)
    assert states == {proposal: "FILLED"}
    ready = next(r for r in records if r.get("event") == "recovery done")
    executed = next(r for r in records if r.get("event") == "executed" and r.get("proposal_id") == str(proposal))
    took = (datetime.fromisoformat(str(executed["timestamp"])) - datetime.fromisoformat(str(ready["timestamp"])))
    assert took.total_seconds() < 1.0, took


async def test_a_changed_trade_key_is_used_without_a_restart(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await make_trading_tenant(app_conn, simulator, settings)
    worker = _executor(db, simulator)
    try:
        first = await make_proposal(app_conn, t.user_id, t.profile_id)
        assert await _wait_filled(app_conn, {first: t.user_id}) == {first: "FILLED"}  # its session is cached
        # The user rotates the trade key: a new key on the same account, then the old one deleted at the exchange.
        rotated = simulator.admin.second_key(t.trade_key.account_id, ["view", "trade"])
        async with user_tx(app_conn, t.user_id):
            await vault.set_credential(app_conn, t.user_id, "trade", rotated.api_key, rotated.api_secret, settings,
                                       exchange_url=simulator.url, actor="test")
        simulator.admin.delete_key(t.trade_key.api_key)
        second = await make_proposal(app_conn, t.user_id, t.profile_id, market="ETH-EUR")
        # A session kept from the old key would be refused (errorCode 305) and the execution rejected.
        assert await _wait_filled(app_conn, {second: t.user_id}) == {second: "FILLED"}
    finally:
        _stop(worker)
    assert len(orders_of(simulator, client_order_id(t.user_id, second))) == 1
