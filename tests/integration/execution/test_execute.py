"""Guarantee 1 end to end: real PostgreSQL, the simulator over HTTP, the production clients."""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from autoinvest import recovery, runtime
from autoinvest.accounts import kill_switch, proposals, vault
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, connect, make_pool, system_tx, user_tx
from autoinvest.errors import ExchangeUnavailable
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import trading
from autoinvest.execution import failpoints
from autoinvest.execution.claim import Outcome, claim
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.service import ExecutionOutcome, ExecutionResult, resolve
from autoinvest.execution.submit import order_request, submit
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions
from autoinvest.lifecycle.apply import apply_order
from autoinvest.observability import metrics
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import (
    TradingTenant,
    execute_with_vault,
    make_trading_tenant,
    orders_of,
    orders_of_account,
    settings_for,
)


async def _reserved(conn: AppConnection, t: TradingTenant) -> Decimal:
    async with user_tx(conn, t.user_id):
        return (await ledger_repo.account(conn, t.profile_id)).reserved_for_orders


async def test_execute_twice_places_one_order_and_books_the_fill(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, amount_eur=Decimal("20"))
    first = await execute_with_vault(app_conn, proposal, settings)
    assert first.outcome is ExecutionOutcome.SUBMITTED and first.state == "FILLED", first
    second = await execute_with_vault(app_conn, proposal, settings)
    assert second.outcome is ExecutionOutcome.ALREADY_CLAIMED and second.execution_id == first.execution_id
    orders = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert len(orders) == 1 and orders[0]["status"] == "filled"
    bought, fee = Decimal(orders[0]["filledAmountQuote"]), Decimal(orders[0]["feePaid"])
    assert bought + fee == Decimal("20")  # Bitvavo takes the fee out of amountQuote: EUR 20 spent, no more
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
        assert await ledger_repo.check(app_conn, t.profile_id) is None
    assert account.reserved_for_orders == 0  # the reservation (exactly the amount) rolled into the position
    assert account.reserved_for_positions == Decimal("20")  # cash went down by exactly EUR 20
    assert account.realized_pnl == 0
    async with user_tx(app_conn, t.user_id):  # the position and the ledger tell one story: the fee is in the cost
        cur = await app_conn.execute("SELECT quantity, cost_basis_eur, realized_pnl_eur FROM positions")
        position = await cur.fetchone()
    assert position is not None and position["quantity"] == Decimal(orders[0]["filledAmount"])
    assert position["cost_basis_eur"] == Decimal("20") and position["realized_pnl_eur"] == 0


async def test_a_buy_of_all_free_capital_is_allowed_and_spends_exactly_it(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings, allocate=Decimal("20"))
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, amount_eur=Decimal("20"))
    result = await execute_with_vault(app_conn, proposal, settings)
    assert result.state == "FILLED", result  # no fee headroom on top: the fee is inside amountQuote
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
    assert account.free == 0 and account.reserved_for_positions == Decimal("20")


async def _bought_for_20_eur(conn: AppConnection, t: TradingTenant, settings: Settings) -> ExecutionResult:
    proposal = await make_proposal(conn, t.user_id, t.profile_id, amount_eur=Decimal("20"))
    bought = await execute_with_vault(conn, proposal, settings)
    assert bought.state == "FILLED", bought
    return bought


async def test_a_position_bought_then_sold_in_base_closes_with_fees_realized(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    await _bought_for_20_eur(app_conn, t, settings)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT quantity FROM positions WHERE profile_id = %s", (t.profile_id,))
        held = (await cur.fetchone() or {})["quantity"]
        sell = await proposals.create_proposal(app_conn, t.user_id, t.profile_id, market="BTC-EUR", side="sell",
                                               amount_base=held, confidence=75, actor="test")
        await app_conn.execute("UPDATE trade_proposals SET status = 'APPROVED' WHERE id = %s", (sell.id,))
    sold = await execute_with_vault(app_conn, sell.id, settings)
    assert sold.state == "FILLED", sold
    fees = sum(Decimal(o["feePaid"]) for o in orders_of_account(simulator, t.trade_key.account_id))
    gross = sum((Decimal(o["filledAmountQuote"]) * (1 if o["side"] == "sell" else -1)
                 for o in orders_of_account(simulator, t.trade_key.account_id)), Decimal(0))
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
        cur = await app_conn.execute("SELECT quantity, cost_basis_eur, realized_pnl_eur FROM positions")
        position = await cur.fetchone()
    assert position == {"quantity": 0, "cost_basis_eur": 0, "realized_pnl_eur": gross - fees}
    assert account.realized_pnl == gross - fees and account.reserved_for_positions == 0


async def test_a_sell_sized_in_eur_is_converted_at_the_bid_and_never_sells_more_than_held(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    bought = await _bought_for_20_eur(app_conn, t, settings)
    too_big = await make_proposal(app_conn, t.user_id, t.profile_id, side="sell", amount_eur=Decimal("30"))
    refused = await execute_with_vault(app_conn, too_big, settings)  # €30 of BTC at the bid is more than the €20 held
    assert refused.state == "REJECTED" and "INSUFFICIENT_CAPITAL" in refused.reasons, refused
    assert orders_of(simulator, client_order_id(t.user_id, too_big)) == []

    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, side="sell", amount_eur=Decimal("10"))
    simulator.admin.fault("GET /ticker/book", "maintenance", count=1)  # no bid for now: try again, never deny
    with pytest.raises(ExchangeUnavailable):
        await execute_with_vault(app_conn, proposal, settings)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT count(*) AS n FROM executions WHERE proposal_id = %s", (proposal,))
        assert await cur.fetchone() == {"n": 0}
    sold = await execute_with_vault(app_conn, proposal, settings)
    assert sold.state == "FILLED", sold
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT amount_eur, amount_base, preflight FROM executions WHERE proposal_id = %s",
                                     (proposal,))
        execution = await cur.fetchone()
        cur = await app_conn.execute("SELECT quantity FROM positions WHERE profile_id = %s", (t.profile_id,))
        position = await cur.fetchone()
    assert execution is not None and position is not None
    bid = Decimal(execution["preflight"]["converted"]["at_bid"])
    assert abs(bid / simulator.admin.prices()["BTC-EUR"] - 1) < Decimal("0.01")  # the market's bid, then
    assert execution["amount_eur"] == Decimal("10")
    assert execution["amount_base"] == (Decimal("10") / bid).quantize(Decimal("1E-8"), rounding=ROUND_DOWN)
    [order] = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert Decimal(order["amount"]) == execution["amount_base"] and order["side"] == "sell"  # sold in base
    held = Decimal(orders_of(simulator, client_order_id(t.user_id, bought.proposal_id))[0]["filledAmount"])
    assert position["quantity"] == held - execution["amount_base"]


@pytest.mark.parametrize("callers", [10, 100])
async def test_a_retry_storm_places_exactly_one_order(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings,
        callers: int) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    pool: AsyncConnectionPool = make_pool(db.app_url, min_size=10, max_size=30)  # type: ignore[type-arg]
    await pool.open()

    async def one() -> ExecutionResult:
        async with pool.connection() as conn:
            return await execute_with_vault(conn, proposal, settings)  # type: ignore[arg-type]

    try:
        results = await asyncio.gather(*(one() for _ in range(callers)))
    finally:
        await pool.close()
    codes = [r.outcome for r in results]
    assert codes.count(ExecutionOutcome.SUBMITTED) == 1
    assert codes.count(ExecutionOutcome.ALREADY_CLAIMED) == callers - 1
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1


@pytest.mark.parametrize("level", ["global", "user", "profile"])
async def test_a_kill_switch_at_each_level_stops_the_order(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings, level: str) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    await _switch(app_conn, t, level, on=True)
    try:
        result = await execute_with_vault(app_conn, proposal, settings)
    finally:
        await _switch(app_conn, t, level, on=False)
    assert result.outcome is ExecutionOutcome.REJECTED
    assert f"KILL_SWITCH_{level.upper()}" in result.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []


@pytest.mark.parametrize("level", ["global", "user", "profile"])
async def test_a_kill_switch_thrown_between_claim_and_send_stops_the_order(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings, level: str) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.outcome is Outcome.CLAIMED and claimed.execution is not None
    await _switch(app_conn, t, level, on=True)
    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    try:
        execution, report = await submit(app_conn, t.user_id, claimed.execution.id, reader=clients.reader,
                                         trader=clients.trader, settings=runtime.submit_settings(settings))
    finally:
        await clients.close()
        await _switch(app_conn, t, level, on=False)
    assert report is None and execution.state == "REJECTED"
    assert f"KILL_SWITCH_{level.upper()}" in execution.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
    assert await _reserved(app_conn, t) == 0


async def test_a_balance_drained_between_claim_and_send_is_not_placed(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.execution is not None and await _reserved(app_conn, t) > 0
    simulator.admin.set_balances(t.trade_key.account_id, {"EUR": "3"})
    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    try:
        execution, report = await submit(app_conn, t.user_id, claimed.execution.id, reader=clients.reader,
                                         trader=clients.trader, settings=runtime.submit_settings(settings))
    finally:
        await clients.close()
    assert report is None and execution.state == "REJECTED"  # refused before the SUBMITTING commit: never sent
    assert "INSUFFICIENT_EXCHANGE_BALANCE" in execution.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
    assert await _reserved(app_conn, t) == 0


async def test_an_expired_proposal_places_no_order(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, ttl_seconds=1)
    await asyncio.sleep(1.1)
    result = await execute_with_vault(app_conn, proposal, settings)
    assert result.outcome is ExecutionOutcome.REJECTED and "PROPOSAL_EXPIRED" in result.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []


async def test_a_dropped_response_leaves_one_order_resolved_by_lookup(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    simulator.admin.fault("POST /order", "drop_response_after_processing", count=1)
    try:
        result = await execute_with_vault(app_conn, proposal, settings)
    finally:
        simulator.admin.clear_faults()
    assert result.outcome is ExecutionOutcome.OUTCOME_UNKNOWN and result.state == "SUBMITTING"
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1  # the exchange has it
    again = await execute_with_vault(app_conn, proposal, settings)
    assert again.outcome is ExecutionOutcome.ALREADY_CLAIMED  # never resent
    reader = market_data(_view(t, simulator))
    try:
        resolved = await resolve(app_conn, result.execution_id, lookup=reader,  # type: ignore[arg-type]
                                 settings=runtime.resolve_settings(settings))
    finally:
        await reader.close()
    assert resolved.state == "FILLED" and resolved.exchange_order_id is not None
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1
    assert await _reserved(app_conn, t) == 0


async def _sent_but_never_received(conn: AppConnection, simulator: RunningSimulator,
                                   settings: Settings) -> tuple[TradingTenant, UUID, ExecutionResult]:
    """An execution left SUBMITTING by an order the exchange answered 500 before processing: unknown to us."""
    t = await make_trading_tenant(conn, simulator, settings)
    proposal = await make_proposal(conn, t.user_id, t.profile_id)
    simulator.admin.fault("POST /order", "http_500", count=1)
    try:
        result = await execute_with_vault(conn, proposal, settings)
    finally:
        simulator.admin.clear_faults()
    assert result.outcome is ExecutionOutcome.OUTCOME_UNKNOWN
    return t, proposal, result


async def test_an_order_the_exchange_never_got_is_not_placed_after_the_window(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t, proposal, result = await _sent_but_never_received(app_conn, simulator, settings)
    reader = market_data(_view(t, simulator))
    rs = runtime.resolve_settings(settings)
    try:
        early = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert early.state == "SUBMITTING" and early.not_found_count == 0  # inside the window proves nothing
        await asyncio.sleep((settings.access_window_ms + settings.clock_skew_ms) / 1000 + 0.2)
        once = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert once.state == "SUBMITTING" and once.not_found_count == 1
        again = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert again.state == "SUBMITTING" and again.not_found_count == 1  # back to back: spaced, not counted
        await _last_not_found_ms_ago(app_conn, t, result.execution_id, settings.access_window_ms)
        twice = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert twice.state == "NOT_PLACED" and "NOT_FOUND_AFTER_WINDOW" in twice.reasons
        assert twice.confirmed_at is None and await _reserved(app_conn, t) > 0  # provisional: still reserved
        early_confirm = await resolve(app_conn, result.execution_id, lookup=reader,  # type: ignore[arg-type]
                                      settings=rs)
        assert early_confirm.confirmed_at is None  # a look before confirm_after proves nothing
        await _confirm_due(app_conn, t, result.execution_id)
        confirmed = await resolve(app_conn, result.execution_id, lookup=reader,  # type: ignore[arg-type]
                                  settings=rs)
    finally:
        await reader.close()
    assert confirmed.state == "NOT_PLACED" and confirmed.confirmed_at is not None
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
    assert await _reserved(app_conn, t) == 0


def _view(t: TradingTenant, sim: RunningSimulator) -> Credential:
    return Credential(api_key=t.view_key.api_key, api_secret=t.view_key.api_secret, purpose="readonly",  # type: ignore[arg-type]
                      base_url=sim.url)


async def _switch(conn: AppConnection, t: TradingTenant, level: str, *, on: bool) -> None:
    if level == "global":
        async with system_tx(conn):
            await kill_switch.set_global(conn, on, actor="test")
        return
    async with user_tx(conn, t.user_id):
        if level == "user":
            await kill_switch.set_user(conn, t.user_id, on, actor="test")
        else:
            await kill_switch.set_profile(conn, t.profile_id, on, actor="test")


async def test_an_order_is_signed_at_its_committed_submit_ts_so_a_late_send_is_refused(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    # A short window, and a stall between the SUBMITTING commit and the send longer than window + skew:
    # signed at submit_ts the exchange refuses the order; signed at send time it would place it.
    settings = settings_for(simulator, tmp_path, access_window_ms=500, clock_skew_ms=250)
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    delay_s = 2 * (settings.access_window_ms + settings.clock_skew_ms) / 1000
    with failpoints.delayed("before-send", delay_s):
        result = await execute_with_vault(app_conn, proposal, settings)
    assert result.outcome is ExecutionOutcome.REJECTED and result.state == "REJECTED", result
    assert result.reasons == ("EXCHANGE_AUTH_FAILED",)  # Bitvavo 304: outside the access window; definitive
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []
    assert await _reserved(app_conn, t) == 0


async def _submitted_ms_ago(conn: AppConnection, t: TradingTenant, execution_id: object, ms: int) -> None:
    async with user_tx(conn, t.user_id):
        await conn.execute("UPDATE executions SET submit_ts = now() - make_interval(secs => %s / 1000.0)"
                           " WHERE id = %s", (ms, execution_id))


async def test_a_lookup_inside_the_skew_margin_after_the_window_does_not_count(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    # A skew much wider than the window: 5 s either side of the points probed leaves room for a busy machine.
    settings = settings_for(simulator, tmp_path, access_window_ms=1000, clock_skew_ms=10_000)
    window, skew = settings.access_window_ms, settings.clock_skew_ms
    t, proposal, result = await _sent_but_never_received(app_conn, simulator, settings)
    reader = market_data(_view(t, simulator))
    rs = runtime.resolve_settings(settings)
    try:
        await _submitted_ms_ago(app_conn, t, result.execution_id, window + skew // 2)
        inside = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert inside.state == "SUBMITTING" and inside.not_found_count == 0  # past the window, not past the skew
        await _submitted_ms_ago(app_conn, t, result.execution_id, window + skew + skew // 2)
        past = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
        assert past.state == "SUBMITTING" and past.not_found_count == 1
        await _last_not_found_ms_ago(app_conn, t, result.execution_id, window)
        ended = await resolve(app_conn, result.execution_id, lookup=reader, settings=rs)  # type: ignore[arg-type]
    finally:
        await reader.close()
    assert ended.state == "NOT_PLACED" and "NOT_FOUND_AFTER_WINDOW" in ended.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []


async def _last_not_found_ms_ago(conn: AppConnection, t: TradingTenant, execution_id: object, ms: int) -> None:
    async with user_tx(conn, t.user_id):
        await conn.execute("UPDATE executions SET last_not_found_at = now() - make_interval(secs => %s / 1000.0)"
                           " WHERE id = %s", (ms, execution_id))


async def _confirm_due(conn: AppConnection, t: TradingTenant, execution_id: object) -> None:
    async with user_tx(conn, t.user_id):
        await conn.execute("UPDATE executions SET confirm_after = now() WHERE id = %s", (execution_id,))


# ---------------------------------------------------------------- issue 11: exchange truth, round 2

def _trade(t: TradingTenant, sim: RunningSimulator) -> Credential:
    return Credential(api_key=t.trade_key.api_key, api_secret=t.trade_key.api_secret, purpose="trade",  # type: ignore[arg-type]
                      base_url=sim.url)


async def test_an_order_that_lands_after_not_placed_kept_its_reservation_and_goes_back_to_submitted(
        app_conn: AppConnection, simulator: RunningSimulator, tmp_path: Path) -> None:
    settings = settings_for(simulator, tmp_path, access_window_ms=1000, clock_skew_ms=250)
    fence_s = (settings.access_window_ms + settings.clock_skew_ms) / 1000
    t, proposal, result = await _sent_but_never_received(app_conn, simulator, settings)
    placer = trading(_trade(t, simulator))
    rs = runtime.resolve_settings(settings)
    try:
        await asyncio.sleep(fence_s + 0.1)
        await resolve(app_conn, result.execution_id, lookup=placer, settings=rs)  # type: ignore[arg-type]
        await asyncio.sleep(settings.access_window_ms / 1000 + 0.1)  # the second look, spaced
        provisional = await resolve(app_conn, result.execution_id, lookup=placer, settings=rs)  # type: ignore[arg-type]
        assert provisional.state == "NOT_PLACED", provisional
        assert await _reserved(app_conn, t) > 0, "NOT_PLACED released its reservation before a later look"
        second = await execute_with_vault(app_conn, await make_proposal(app_conn, t.user_id, t.profile_id), settings)
        assert second.outcome is ExecutionOutcome.WAITING, "an unconfirmed NOT_PLACED did not count as live"
        # The exchange processes the order after all (Bitvavo 107/108/109: it may still have succeeded).
        await placer.place_order(order_request(provisional, settings.operator_id))
        before = metrics.LATE_ORDERS_FOUND._value.get()
        await asyncio.sleep(fence_s + 0.1)  # the confirming look comes a window + skew after the decision
        found = await resolve(app_conn, result.execution_id, lookup=placer, settings=rs)  # type: ignore[arg-type]
    finally:
        await placer.close()
    assert found.state == "FILLED" and "LATE_ORDER_FOUND" in found.reasons, found
    assert metrics.LATE_ORDERS_FOUND._value.get() == before + 1
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1
    assert await _reserved(app_conn, t) == 0  # the reservation became the position


async def test_not_found_is_decided_with_the_key_that_placed_the_order(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    # The read-only key in the vault reaches another account: it would call the order "not found".
    t = await make_trading_tenant(app_conn, simulator, settings)
    stranger = simulator.admin.create_account({"EUR": "1000"}, ["view"])
    async with user_tx(app_conn, t.user_id):
        await vault.set_credential(app_conn, t.user_id, "readonly", stranger.api_key, stranger.api_secret, settings,
                                   exchange_url=simulator.url, actor="test")
        # Verified before the exchange moved the key (verification would refuse this pair today): the resolver
        # must not rely on the pair check alone.
        await app_conn.execute("UPDATE exchange_credentials SET verified_at = now(), verification_checks = '{}'"
                               " WHERE user_id = %s", (t.user_id,))
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    simulator.admin.fault("POST /order", "drop_response_after_processing", count=1)
    try:
        result = await execute_with_vault(app_conn, proposal, settings)
    finally:
        simulator.admin.clear_faults()
    assert result.state == "SUBMITTING"
    await _submitted_ms_ago(app_conn, t, result.execution_id, 60_000)
    [(_, resolver_pass, _, _)] = runtime.role_passes(settings, ("resolver",))
    for _ in range(2):
        await resolver_pass(app_conn)
        async with user_tx(app_conn, t.user_id):
            await app_conn.execute("UPDATE executions SET updated_at = now() - interval '1 hour' WHERE id = %s",
                                   (result.execution_id,))
        await asyncio.sleep(settings.access_window_ms / 1000 + 0.1)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT state, exchange_order_id FROM executions WHERE id = %s",
                                     (result.execution_id,))
        row = await cur.fetchone()
    [order] = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert row is not None and row["state"] in ("SUBMITTED", "FILLED"), (
        f"decided with the read-only key of another account: {row}")
    assert row["exchange_order_id"] == order["orderId"]


async def test_a_kill_switch_thrown_during_the_balance_check_stops_the_order(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.execution is not None
    simulator.admin.fault("GET /balance", "latency", count=1, latency_ms=1500)  # inside the 2 s access window
    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    operator = await connect(db.app_url)
    try:
        sending = asyncio.create_task(submit(app_conn, t.user_id, claimed.execution.id, reader=clients.reader,
                                             trader=clients.trader, settings=runtime.submit_settings(settings)))
        await asyncio.sleep(0.5)  # the balance request is in flight
        await _switch(operator, t, "user", on=True)
        execution, report = await sending
    finally:
        simulator.admin.clear_faults()
        await clients.close()
        await _switch(operator, t, "user", on=False)
        await operator.close()
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == [], (
        "the order was sent although the kill switch was thrown during the balance check")
    assert report is None and execution.state == "REJECTED" and "KILL_SWITCH_USER" in execution.reasons
    assert await _reserved(app_conn, t) == 0


def _as_admin(db: DatabaseUnderTest, sql: str, *params: object) -> None:
    with psycopg.connect(db.admin_url, autocommit=True) as admin:
        admin.execute("SET session_replication_role = replica")  # a restore: no triggers, no FK checks
        admin.execute(sql, params)


async def test_a_stale_claim_is_decided_again_before_its_send(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings, max_trades_per_hour=1)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.execution is not None
    # A crash and an outage later: the claim is hours old and the proposal expired meanwhile.
    _as_admin(db, "UPDATE executions SET created_at = now() - interval '3 hours' WHERE id = %s", claimed.execution.id)
    _as_admin(db, "UPDATE trade_proposals SET created_at = now() - interval '4 hours',"
                  " expires_at = now() - interval '1 hour' WHERE id = %s", proposal)
    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    try:
        execution, _ = await submit(app_conn, t.user_id, claimed.execution.id, reader=clients.reader,
                                         trader=clients.trader, settings=runtime.submit_settings(settings))
    finally:
        await clients.close()
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == [], "a stale claim was sent undecided"
    assert execution.state == "REJECTED" and "PROPOSAL_EXPIRED" in execution.reasons, execution
    assert "STALE_CLAIM_REDECIDED" in execution.reasons
    assert await _reserved(app_conn, t) == 0


async def test_a_stale_claim_still_allowed_is_sent_and_does_not_count_against_itself(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings, max_trades_per_hour=1, cooldown_minutes=60)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.execution is not None
    _as_admin(db, "UPDATE executions SET created_at = now() - interval '2 minutes' WHERE id = %s",
              claimed.execution.id)
    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    try:
        execution, _ = await submit(app_conn, t.user_id, claimed.execution.id, reader=clients.reader,
                                    trader=clients.trader, settings=runtime.submit_settings(settings))
    finally:
        await clients.close()
    assert execution.state == "SUBMITTED", execution  # its own claim is no earlier trade (cap 1, cooldown)
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1


async def _restore_before_the_execution(db: DatabaseUnderTest, t: TradingTenant, proposal: UUID,
                                        last_entry: int, account: dict[str, Any]) -> None:
    """What a restore of a backup taken before the execution leaves: the proposal APPROVED (a while ago) and
    no trace of the execution, its order, fills, position or ledger entries."""
    for table in ("trade_history", "fills", "exchange_orders", "positions"):
        _as_admin(db, f"DELETE FROM {table} WHERE profile_id = %s", t.profile_id)
    _as_admin(db, "DELETE FROM ledger_entries WHERE profile_id = %s AND id > %s", t.profile_id, last_entry)
    _as_admin(db, "DELETE FROM executions WHERE proposal_id = %s", proposal)
    _as_admin(db, "UPDATE capital_accounts SET allocated = %s, reserved_for_orders = %s, reserved_for_positions = %s,"
                  " realized_pnl = %s WHERE profile_id = %s", account["allocated"], account["reserved_for_orders"],
              account["reserved_for_positions"], account["realized_pnl"], t.profile_id)
    _as_admin(db, "UPDATE trade_proposals SET created_at = created_at - interval '10 minutes',"
                  " decided_at = decided_at - interval '10 minutes' WHERE id = %s", proposal)


async def _backup(app_conn: AppConnection, t: TradingTenant) -> tuple[int, dict[str, Any]]:
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT coalesce(max(id), 0) AS last FROM ledger_entries WHERE profile_id = %s",
                                     (t.profile_id,))
        last = (await cur.fetchone() or {})["last"]
        cur = await app_conn.execute("SELECT * FROM capital_accounts WHERE profile_id = %s", (t.profile_id,))
        account = await cur.fetchone()
    assert account is not None
    return int(last), dict(account)


async def _filled_then_restored(db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator,
                                settings: Settings) -> tuple[TradingTenant, UUID, ExecutionResult]:
    """A €20 buy filled, then the database restored from a backup taken before it: the exchange has the order,
    the database does not."""
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, amount_eur=Decimal("20"))
    last_entry, account = await _backup(app_conn, t)
    first = await execute_with_vault(app_conn, proposal, settings)
    assert first.state == "FILLED", first
    await _restore_before_the_execution(db, t, proposal, last_entry, account)
    return t, proposal, first


async def test_a_restored_database_does_not_send_a_second_order(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t, proposal, first = await _filled_then_restored(db, app_conn, simulator, settings)
    again = await execute_with_vault(app_conn, proposal, settings)
    orders = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert len(orders) == 1, f"a restored database sent a second order with the same clientOrderId: {orders}"
    assert again.state == "FILLED" and again.exchange_order_id == first.exchange_order_id, again
    assert "ORDER_FOUND_BEFORE_SEND" in again.reasons
    assert await _reserved(app_conn, t) == 0


async def test_start_up_recovery_reconciles_every_account_and_adopts_what_a_restore_lost(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t, proposal, first = await _filled_then_restored(db, app_conn, simulator, settings)

    async def reader_for(conn: AppConnection, user_id: UUID) -> Any:
        return await runtime.reader_for(conn, user_id, settings)

    report = await recovery.recover(db.app_url, reader_for=reader_for, loop_settings=runtime.loop_settings(settings))
    assert str(t.user_id) in report.reconciled, f"start-up recovery did not reconcile the account: {report}"
    async with user_tx(app_conn, t.user_id):
        execution = await executions.for_proposal(app_conn, t.user_id, proposal)
    assert execution is not None and execution.exchange_order_id == first.exchange_order_id, execution
    again = await execute_with_vault(app_conn, proposal, settings)
    assert again.outcome is ExecutionOutcome.ALREADY_CLAIMED
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1


class _RequestHeldOnTheWire:
    """The network edge: the order request reaches the exchange only after ``meanwhile`` has run (a slow link),
    so the resolver's lookups come before the exchange has the order."""

    def __init__(self, trader: Any, meanwhile: Any) -> None:
        self.trader, self.meanwhile = trader, meanwhile

    async def place_order(self, request: Any, *, signing: Any = None) -> Any:
        await self.meanwhile()
        return await self.trader.place_order(request, signing=signing)


async def test_a_late_ack_after_not_placed_moves_the_execution_back_to_submitted(
        db: DatabaseUnderTest, app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    claimed = await claim(app_conn, t.user_id, proposal)
    assert claimed.execution is not None
    execution_id = claimed.execution.id
    resolver_conn = await connect(db.app_url)
    placer = trading(_trade(t, simulator))
    rs = runtime.resolve_settings(settings)

    async def resolver_calls_it_not_placed() -> None:
        _as_admin(db, "UPDATE executions SET submit_ts = now() - interval '1 hour' WHERE id = %s", execution_id)
        await resolve(resolver_conn, execution_id, lookup=placer, settings=rs)  # type: ignore[arg-type]
        _as_admin(db, "UPDATE executions SET last_not_found_at = now() - interval '1 hour' WHERE id = %s",
                  execution_id)
        decided = await resolve(resolver_conn, execution_id, lookup=placer, settings=rs)  # type: ignore[arg-type]
        assert decided.state == "NOT_PLACED", decided

    clients = await runtime.executor_clients(settings)(app_conn, t.user_id)
    before = metrics.LATE_ORDERS_FOUND._value.get()
    try:
        execution, report = await submit(app_conn, t.user_id, execution_id, reader=clients.reader,
                                         trader=_RequestHeldOnTheWire(clients.trader, resolver_calls_it_not_placed),  # type: ignore[arg-type]
                                         settings=runtime.submit_settings(settings))
    finally:
        await clients.close()
        await placer.close()
        await resolver_conn.close()
    [order] = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert execution.state == "SUBMITTED", f"a late ack was dropped and the order left NOT_PLACED: {execution}"
    assert execution.exchange_order_id == order["orderId"] and "LATE_ORDER_FOUND" in execution.reasons
    assert report is not None and metrics.LATE_ORDERS_FOUND._value.get() == before + 1
    applied = await apply_order(app_conn, t.user_id, execution_id, report)
    assert applied.execution.state == "FILLED" and await _reserved(app_conn, t) == 0
