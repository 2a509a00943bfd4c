"""One bad item from the exchange never stops other tenants: it is quarantined, counted, and the loop goes on."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from autoinvest import runtime
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import Side
from autoinvest.errors import ExchangeError
from autoinvest.exchange.base import BadItem, MarketData
from autoinvest.execution.loops import monitor_pass
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import quarantine
from autoinvest.observability import metrics
from tests.integration.reconcile.helpers import below, big_tenant, frozen_prices, place_resting
from tests.support.database import DatabaseUnderTest
from tests.support.processes import CLI
from tests.support.simulator import RunningSimulator
from tests.support.tenants import make_user
from tests.support.trading import settings_for

D = Decimal


@pytest.fixture(autouse=True)
def restore_the_price(simulator: RunningSimulator) -> Iterator[None]:
    """These tests fill orders by moving BTC-EUR 10 % down: put it back, so that the shared simulator's later
    tests (resting limit orders at fixed prices) do not find the market below their limits."""
    before = simulator.admin.prices()["BTC-EUR"]
    yield
    simulator.admin.set_price("BTC-EUR", before)


async def _state(conn: AppConnection, user_id: UUID) -> tuple[str, int]:
    async with user_tx(conn, user_id):
        cur = await conn.execute("SELECT state, (SELECT count(*) FROM fills) AS n FROM executions")
        row = await cur.fetchone()
    assert row is not None
    return row["state"], row["n"]


@pytest.mark.parametrize(("poison", "reason"), [
    ("1E+999999", "EXCHANGE_NUMBER_INVALID"), ("-1", "EXCHANGE_NUMBER_INVALID"), ("0", "EXCHANGE_NUMBER_INVALID"),
    ("1e-40", "EXCHANGE_NUMBER_INVALID"),
    ("1\x00", "EXCHANGE_MALFORMED_RESPONSE"),  # a NUL, which jsonb refuses: it must not poison the quarantine
])
async def test_a_poison_fill_of_one_tenant_is_quarantined_and_the_other_tenant_is_filled(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path, poison: str, reason: str) -> None:
    settings = settings_for(simulator, tmp_path)
    bad = await big_tenant(app_conn, simulator, settings)
    good = await big_tenant(app_conn, simulator, settings)

    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    counted = metrics.EXCHANGE_ITEMS_QUARANTINED.labels("GET /order", reason)
    before = counted._value.get()
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, bad, market="BTC-EUR", amount=D("0.015"), price=price)
        await place_resting(app_conn, settings, good, market="BTC-EUR", amount=D("0.015"), price=price)
        simulator.admin.poison("GET /order", bad.trade_key.account_id, "fills.0.amount", poison)
        try:
            simulator.admin.set_price("BTC-EUR", price - 100)  # both orders fill at once
            await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)  # must not raise
            await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)  # seen again: counted, not duplicated
        finally:
            simulator.admin.clear_faults()

    assert await _state(app_conn, good.user_id) == ("FILLED", 1)
    assert await _state(app_conn, bad.user_id) == ("SUBMITTED", 0)  # nothing of the bad report was applied
    rows = []
    for user_id in (bad.user_id, good.user_id):
        async with user_tx(app_conn, user_id):
            cur = await app_conn.execute(
                "SELECT user_id, exchange_url, endpoint, reason, seen_count, item FROM quarantined_items")
            rows += await cur.fetchall()
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["user_id"], row["exchange_url"], row["endpoint"], row["reason"], row["seen_count"]) == (
        bad.user_id, simulator.url, "GET /order", reason, 2)
    assert row["item"]["fills"][0]["amount"] == poison.replace("\x00", "\ufffd")
    assert counted._value.get() == before + 2


async def test_a_poison_trade_is_dropped_from_the_list_and_quarantined(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price)
        simulator.admin.set_price("BTC-EUR", price)  # a touch: one fill of one level
        simulator.admin.set_price("BTC-EUR", price - 100)  # crossed: the rest
        simulator.admin.poison("GET /trades", t.trade_key.account_id, "0.price", "-5")
        reader = await runtime.reader_for(app_conn, t.user_id, settings)
        try:
            trades = await reader.trades("BTC-EUR")
        finally:
            await reader.close()
            simulator.admin.clear_faults()
    assert len(trades) == 1 and trades[0].price == price  # the good one stays, the poisoned one is dropped
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT endpoint, reason, item->>'price' AS price FROM quarantined_items")
        assert await cur.fetchall() == [{"endpoint": "GET /trades", "reason": "EXCHANGE_NUMBER_INVALID",
                                         "price": "-5"}]


async def test_an_over_sell_is_refused_nothing_applied_and_the_report_quarantined(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)

    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    async def position() -> tuple[Decimal, Decimal, Decimal]:
        async with user_tx(app_conn, t.user_id):
            cur = await app_conn.execute("SELECT quantity, cost_basis_eur, realized_pnl_eur FROM positions")
            row = await cur.fetchone()
        assert row is not None
        return row["quantity"], row["cost_basis_eur"], row["realized_pnl_eur"]

    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price)
        simulator.admin.set_price("BTC-EUR", price - 100)
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
        held = await position()
        assert held[0] == D("0.015")
        ask = price + 1000
        sell = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=ask,
                                   side=Side.SELL)
        # The exchange reports a fill of more than the profile holds (a bug, another client on the account...).
        simulator.admin.poison("GET /order", t.trade_key.account_id, "fills.0.amount", "0.5")
        try:
            simulator.admin.set_price("BTC-EUR", ask + 100)
            await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)  # must not raise
        finally:
            simulator.admin.clear_faults()
    assert await position() == held  # no phantom profit, no position below zero: nothing applied
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT state FROM executions WHERE id = %s", (sell.execution_id,))
        assert await cur.fetchone() == {"state": "SUBMITTED"}
        cur = await app_conn.execute("SELECT endpoint, reason, exchange_url FROM quarantined_items")
        assert await cur.fetchall() == [{"endpoint": "apply_order", "reason": "OVERSELL_REFUSED",
                                         "exchange_url": simulator.url}]


async def test_the_operator_lists_quarantined_items_across_tenants(
        app_conn: AppConnection, db: DatabaseUnderTest) -> None:
    bad = await make_user(app_conn)
    await quarantine.record(app_conn, bad, BadItem(exchange_url="http://sim/v2", endpoint="GET /trades",
                                                   item={"amount": "-1"}, reason="EXCHANGE_NUMBER_INVALID",
                                                   detail="amount"))
    done = subprocess.run([*CLI, "quarantine", "list"], env=db.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [r for r in rows if r["user_id"] == str(bad)]
    assert [(r["endpoint"], r["reason"], r["seen_count"]) for r in mine] == [
        ("GET /trades", "EXCHANGE_NUMBER_INVALID", 1)]
    assert "amount" not in done.stdout  # ids and codes only: the item stays behind row-level security


async def test_an_order_status_we_do_not_know_keeps_the_order_open_and_is_counted(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)

    async def reader_for(conn: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(conn, user_id, settings)

    before = metrics.ORDER_STATUS_UNKNOWN._value.get()
    with frozen_prices(simulator):
        price = below(simulator, "BTC-EUR")
        resting = await place_resting(app_conn, settings, t, market="BTC-EUR", amount=D("0.015"), price=price)
        async with user_tx(app_conn, t.user_id):
            reserved = (await ledger_repo.account(app_conn, t.profile_id)).reserved_for_orders
        assert reserved > 0
        simulator.admin.poison("GET /order", t.trade_key.account_id, "status", "pendingSettlement")
        try:
            await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
        finally:
            simulator.admin.clear_faults()
        async with user_tx(app_conn, t.user_id):  # followed as open: not closed, its reservation kept
            cur = await app_conn.execute("SELECT state FROM executions WHERE id = %s", (resting.execution_id,))
            assert await cur.fetchone() == {"state": "SUBMITTED"}
            assert (await ledger_repo.account(app_conn, t.profile_id)).reserved_for_orders == reserved
        assert metrics.ORDER_STATUS_UNKNOWN._value.get() == before + 1
        simulator.admin.set_price("BTC-EUR", price - 100)  # the status is known again and filled: it closes
        await monitor_pass(app_conn, reader_for=reader_for, grace_s=0)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT state FROM executions WHERE id = %s", (resting.execution_id,))
        assert await cur.fetchone() == {"state": "FILLED"}


async def test_a_poison_balance_refuses_the_whole_balance_and_is_quarantined(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path)
    t = await big_tenant(app_conn, simulator, settings)
    simulator.admin.poison("GET /balance", t.trade_key.account_id, "0.available", "-3")
    reader = await runtime.reader_for(app_conn, t.user_id, settings)
    try:
        with pytest.raises(ExchangeError) as caught:  # never a balance list with EUR left out (read as zero)
            await reader.balances()
    finally:
        await reader.close()
        simulator.admin.clear_faults()
    assert caught.value.reason == "EXCHANGE_NUMBER_INVALID"
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT endpoint, reason FROM quarantined_items")
        assert await cur.fetchall() == [{"endpoint": "GET /balance", "reason": "EXCHANGE_NUMBER_INVALID"}]
