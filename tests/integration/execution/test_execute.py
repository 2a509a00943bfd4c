"""Guarantee 1 end to end: real PostgreSQL, the simulator over HTTP, the production clients."""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from uuid import UUID

import pytest
from psycopg_pool import AsyncConnectionPool

from autoinvest import runtime
from autoinvest.accounts import kill_switch, proposals
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, make_pool, system_tx, user_tx
from autoinvest.errors import ExchangeUnavailable
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.readonly import market_data
from autoinvest.execution import failpoints
from autoinvest.execution.claim import Outcome, claim
from autoinvest.execution.client_order_id import client_order_id
from autoinvest.execution.service import ExecutionOutcome, ExecutionResult, execute, resolve
from autoinvest.execution.submit import submit
from autoinvest.ledger import repo as ledger_repo
from tests.support.database import DatabaseUnderTest
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant, orders_of, orders_of_account, settings_for


@pytest.fixture
def settings(simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return settings_for(simulator, tmp_path)


async def _execute(conn: AppConnection, proposal: object, settings: Settings) -> ExecutionResult:
    return await execute(conn, proposal, clients_for=runtime.executor_clients(settings),  # type: ignore[arg-type]
                         settings=runtime.submit_settings(settings))


async def _reserved(conn: AppConnection, t: TradingTenant) -> Decimal:
    async with user_tx(conn, t.user_id):
        return (await ledger_repo.account(conn, t.profile_id)).reserved_for_orders


async def test_execute_twice_places_one_order_and_books_the_fill(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, amount_eur=Decimal("20"))
    first = await _execute(app_conn, proposal, settings)
    assert first.outcome is ExecutionOutcome.SUBMITTED and first.state == "FILLED", first
    second = await _execute(app_conn, proposal, settings)
    assert second.outcome is ExecutionOutcome.ALREADY_CLAIMED and second.execution_id == first.execution_id
    orders = orders_of(simulator, client_order_id(t.user_id, proposal))
    assert len(orders) == 1 and orders[0]["status"] == "filled"
    spent = Decimal(orders[0]["filledAmountQuote"])
    assert Decimal("19.9") < spent <= Decimal("20")  # amountQuote rounded down to the market's quantity step
    async with user_tx(app_conn, t.user_id):
        account = await ledger_repo.account(app_conn, t.profile_id)
        assert await ledger_repo.check(app_conn, t.profile_id) is None
    assert account.reserved_for_orders == 0  # reservation rolled into the position, rest released
    assert account.reserved_for_positions == spent
    assert account.realized_pnl == -Decimal(orders[0]["feePaid"])
    async with user_tx(app_conn, t.user_id):  # the position and the ledger tell one story: the fee is realized
        cur = await app_conn.execute("SELECT quantity, cost_basis_eur, realized_pnl_eur FROM positions")
        position = await cur.fetchone()
    assert position is not None and position["quantity"] == Decimal(orders[0]["filledAmount"])
    assert position["cost_basis_eur"] == spent and position["realized_pnl_eur"] == account.realized_pnl


async def _bought_for_20_eur(conn: AppConnection, t: TradingTenant, settings: Settings) -> ExecutionResult:
    bought = await _execute(conn, await make_proposal(conn, t.user_id, t.profile_id, amount_eur=Decimal("20")),
                            settings)
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
    sold = await _execute(app_conn, sell.id, settings)
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
    refused = await _execute(app_conn, too_big, settings)  # €30 of BTC at the bid is more than the €20 held
    assert refused.state == "REJECTED" and "INSUFFICIENT_CAPITAL" in refused.reasons, refused
    assert orders_of(simulator, client_order_id(t.user_id, too_big)) == []

    proposal = await make_proposal(app_conn, t.user_id, t.profile_id, side="sell", amount_eur=Decimal("10"))
    simulator.admin.fault("GET /ticker/book", "maintenance", count=1)  # no bid for now: try again, never deny
    with pytest.raises(ExchangeUnavailable):
        await _execute(app_conn, proposal, settings)
    async with user_tx(app_conn, t.user_id):
        cur = await app_conn.execute("SELECT count(*) AS n FROM executions WHERE proposal_id = %s", (proposal,))
        assert await cur.fetchone() == {"n": 0}
    sold = await _execute(app_conn, proposal, settings)
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
            return await _execute(conn, proposal, settings)  # type: ignore[arg-type]

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
        result = await _execute(app_conn, proposal, settings)
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
    result = await _execute(app_conn, proposal, settings)
    assert result.outcome is ExecutionOutcome.REJECTED and "PROPOSAL_EXPIRED" in result.reasons
    assert orders_of(simulator, client_order_id(t.user_id, proposal)) == []


async def test_a_dropped_response_leaves_one_order_resolved_by_lookup(
        app_conn: AppConnection, simulator: RunningSimulator, settings: Settings) -> None:
    t = await make_trading_tenant(app_conn, simulator, settings)
    proposal = await make_proposal(app_conn, t.user_id, t.profile_id)
    simulator.admin.fault("POST /order", "drop_response_after_processing", count=1)
    try:
        result = await _execute(app_conn, proposal, settings)
    finally:
        simulator.admin.clear_faults()
    assert result.outcome is ExecutionOutcome.OUTCOME_UNKNOWN and result.state == "SUBMITTING"
    assert len(orders_of(simulator, client_order_id(t.user_id, proposal))) == 1  # the exchange has it
    again = await _execute(app_conn, proposal, settings)
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
        result = await _execute(conn, proposal, settings)
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
        result = await _execute(app_conn, proposal, settings)
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
