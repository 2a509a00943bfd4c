"""Guarantee 16, the clock-skew fence: no order is sent while the exchange's clock and the database's disagree
beyond AUTOINVEST_CLOCK_SKEW_BOUND_MS (either way), or while no measurement is fresh enough to say. The execution stays
CLAIMED (nothing is dropped) and goes out once the clocks agree. The simulator's clock offset stays inside the
signing window, so without the fence the exchange would accept the order."""

from __future__ import annotations

import pytest

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import ClockSkewExceeded
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.service import execute, submit_claimed
from autoinvest.observability import clock_skew
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import make_trading_tenant, orders_of

OFFSET_MS = 1_500  # beyond the 1 s fence bound (half the 2 s signing window of settings_for), inside the window


@pytest.fixture(autouse=True)
async def measured_again_after(app_conn: AppConnection, settings: Settings) -> object:
    yield None
    await clock_skew.measure(app_conn, settings.exchange_url)  # the next test starts from agreeing clocks


async def _state(conn: AppConnection, user_id: object, proposal: object) -> str:
    async with user_tx(conn, user_id):  # type: ignore[arg-type]
        cur = await conn.execute("SELECT state FROM executions WHERE proposal_id = %s", (proposal,))
        row = await cur.fetchone()
    assert row is not None
    return str(row["state"])


async def _execution_id(conn: AppConnection, user_id: object, proposal: object) -> object:
    async with user_tx(conn, user_id):  # type: ignore[arg-type]
        cur = await conn.execute("SELECT id FROM executions WHERE proposal_id = %s", (proposal,))
        row = await cur.fetchone()
    assert row is not None
    return row["id"]


@pytest.mark.parametrize("offset_ms", [OFFSET_MS, -OFFSET_MS], ids=["exchange-ahead", "exchange-behind"])
async def test_no_order_is_sent_while_the_clocks_disagree_and_it_goes_once_they_agree(
        app_conn: AppConnection, sim: RunningSimulator, settings: Settings, offset_ms: int) -> None:
    t = await make_trading_tenant(app_conn, sim, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    sim.admin.set_clock_offset(offset_ms)
    await clock_skew.measure(app_conn, settings.exchange_url)
    clients_for, submit = runtime.executor_clients(settings), runtime.submit_settings(settings)
    with pytest.raises(ClockSkewExceeded) as refused:
        result = await execute(app_conn, proposal, clients_for=clients_for, settings=submit)
        pytest.fail(f"the order was sent with the exchange's clock {offset_ms:+} ms off: {result}")
    assert refused.value.reason == "CLOCK_SKEW_EXCEEDED"
    assert orders_of(sim, client_order_id(t.user_id, proposal)) == []
    assert await _state(app_conn, t.user_id, proposal) == "CLAIMED"  # kept, to be sent later

    sim.admin.set_clock_offset(0)
    await clock_skew.measure(app_conn, settings.exchange_url)
    sent = await submit_claimed(app_conn, t.user_id, await _execution_id(app_conn, t.user_id, proposal),  # type: ignore[arg-type]
                                clients_for=clients_for, settings=submit)
    assert sent.state.value == "FILLED", sent
    assert len(orders_of(sim, client_order_id(t.user_id, proposal))) == 1


async def test_a_stale_measurement_does_not_clear_an_order_when_the_exchange_clock_cannot_be_read(
        app_conn: AppConnection, sim: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, sim, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    await clock_skew.measure(app_conn, settings.exchange_url)  # clocks agree ...
    async with system_tx(app_conn):  # ... but that was long ago
        await app_conn.execute("UPDATE exchange_clock_skew SET measured_at = now() - interval '1 hour'"
                               " WHERE exchange_url = %s", (settings.exchange_url,))
    sim.admin.fault("GET /time", "maintenance")  # and the exchange's clock cannot be read now
    with pytest.raises(ClockSkewExceeded) as refused:
        result = await execute(app_conn, proposal, clients_for=runtime.executor_clients(settings),
                               settings=runtime.submit_settings(settings))
        pytest.fail(f"the order was sent on an hour-old measurement: {result}")
    assert refused.value.reason == "CLOCK_SKEW_UNMEASURED"
    assert orders_of(sim, client_order_id(t.user_id, proposal)) == []
    assert await _state(app_conn, t.user_id, proposal) == "CLAIMED"
