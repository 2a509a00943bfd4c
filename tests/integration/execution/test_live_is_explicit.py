"""Guarantee 19: real money only when asked. A process that can trade refuses a non-local exchange unless
AUTOINVEST_LIVE=true, before it calls any exchange; a failpoint acts only with AUTOINVEST_TEST_HOOKS=true."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from autoinvest.db.tx import AppConnection
from autoinvest.execution.client_order_id import client_order_id
from tests.support import processes
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.remote import remote_listener
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, orders_of, settings_for

pytestmark = pytest.mark.slow

#: A worker that does not refuse runs until stopped; one that refuses exits in about a second.
REFUSED_WITHIN_S = 20


def _worker_exit(db: DatabaseUnderTest, sim: RunningSimulator, url: str) -> tuple[int | None, str, float]:
    """Start `worker --roles executor` with ``url`` and no AUTOINVEST_LIVE; its exit code (None: still running,
    then stopped), stderr and how long it took."""
    env = processes.env_for(db, sim, AUTOINVEST_EXCHANGE_URL=url)
    started = time.monotonic()
    worker = processes.start(["worker", "--roles", "executor", "--poll-s", "0.3"], env)
    try:
        _, err = worker.communicate(timeout=REFUSED_WITHIN_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        _, err = worker.communicate(timeout=30)
        return None, err, time.monotonic() - started
    return worker.returncode, err, time.monotonic() - started


def _refused_at_once(code: int | None, err: str, url: str) -> None:
    assert code == 2, f"the worker ran with {url} without AUTOINVEST_LIVE (exit {code}): {err[-2000:]}"
    assert "[EXCHANGE_URL_NOT_LOCAL]" in err and "AUTOINVEST_EXCHANGE_URL" in err, err
    assert "AUTOINVEST_LIVE=true" in err, err  # says what to do
    assert "Traceback" not in err, err


def test_a_worker_without_live_refuses_the_bitvavo_url(db: DatabaseUnderTest, simulator: RunningSimulator) -> None:
    url = "https://api.bitvavo.com/v2"
    code, err, took = _worker_exit(db, simulator, url)
    _refused_at_once(code, err, url)
    assert took < REFUSED_WITHIN_S


def test_a_worker_without_live_refuses_a_remote_exchange_and_sends_it_nothing(
        db: DatabaseUnderTest, simulator: RunningSimulator) -> None:
    with remote_listener() as remote:
        code, err, _ = _worker_exit(db, simulator, remote.url)
        sent = remote.connections()
    assert sent == 0, f"the worker connected to the remote exchange {remote.url} {sent} time(s) without live mode"
    _refused_at_once(code, err, remote.url)


async def test_a_failpoint_without_the_test_hooks_setting_does_not_kill_the_process(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings_for(simulator, tmp_path))
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    env = processes.env_for(db, simulator, AUTOINVEST_FAILPOINT="before-send")  # no AUTOINVEST_TEST_HOOKS
    code, payload, err = processes.execute_result(processes.start(["execute", str(proposal)], env))
    assert code == 0, f"exit {code}: {err[-2000:]}"
    assert payload is not None and payload["state"] == "FILLED"
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1
