"""Resting limit orders placed through the execution path, frozen prices, and snapshots of a tenant's state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID

from autoinvest import runtime
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import ExecutionState, Side
from autoinvest.exchange.base import MarketData, OrderReport, OrderRequest
from autoinvest.execution.claim import Outcome, claim
from autoinvest.ledger import repo as ledger_repo
from autoinvest.lifecycle import executions
from autoinvest.lifecycle.apply import apply_order
from autoinvest.reconcile.service import PassReport, reconcile_users
from tests.support.proposals import make_proposal
from tests.support.simulator import RunningSimulator
from tests.support.trading import TradingTenant, make_trading_tenant

TICKS = {"BTC-EUR": Decimal("1"), "ETH-EUR": Decimal("0.01")}
BIG = {"eur": Decimal("5000"), "allocate": Decimal("3000"), "max_order_eur": Decimal("2000")}


@contextmanager
def frozen_prices(sim: RunningSimulator) -> Iterator[None]:
    """Prices move only by set_price while inside (resting orders fill exactly when a test says so); on the way
    out they are put back, so that tests which walk a price down do not add up in the shared simulator."""
    before = sim.admin.prices()
    sim.admin.set_speed(0)
    try:
        yield
    finally:
        for market, price in before.items():
            sim.admin.set_price(market, price)
        sim.admin.set_speed(1)


async def big_tenant(conn: AppConnection, sim: RunningSimulator, settings: Settings) -> TradingTenant:
    return await make_trading_tenant(conn, sim, settings, **BIG)  # type: ignore[arg-type]


def below(sim: RunningSimulator, market: str, fraction: str = "0.9") -> Decimal:
    """A limit price well below the market, on the tick."""
    tick = TICKS[market]
    return (sim.admin.prices()[market] * Decimal(fraction) / tick).to_integral_value(ROUND_DOWN) * tick


@dataclass(frozen=True)
class Resting:
    execution_id: UUID
    proposal_id: UUID
    report: OrderReport
    price: Decimal


async def place_resting(conn: AppConnection, settings: Settings, t: TradingTenant, *, market: str, amount: Decimal,
                        price: Decimal, side: Side = Side.BUY, ack: bool = True) -> Resting:
    """Claim (reserve), SUBMITTING, send a GTC limit order with the execution's clientOrderId, record the ack
    (with ``ack=False`` the execution stays SUBMITTING and the report is left for the caller to apply)."""
    eur = (amount * price).quantize(Decimal("0.01"))
    proposal = await make_proposal(conn, t.user_id, t.profile_id, market=market, side=side.value,
                                   amount_eur=eur if side is Side.BUY else None,
                                   amount_base=amount if side is Side.SELL else None)
    claimed = await claim(conn, t.user_id, proposal)
    assert claimed.outcome is Outcome.CLAIMED and claimed.execution is not None, claimed
    execution = claimed.execution
    async with user_tx(conn, t.user_id):
        assert await executions.transition(conn, execution.id, ExecutionState.CLAIMED, ExecutionState.SUBMITTING,
                                           set_submit_ts=True)
    clients = await runtime.executor_clients(settings)(conn, t.user_id)
    try:
        report = await clients.trader.place_order(OrderRequest.limit_order(
            market=market, side=side, client_order_id=str(execution.client_order_id),
            operator_id=settings.operator_id, amount=amount, price=price))
    finally:
        await clients.close()
    if ack:
        async with user_tx(conn, t.user_id):
            assert await executions.transition(conn, execution.id, ExecutionState.SUBMITTING,
                                               ExecutionState.SUBMITTED, exchange_order_id=report.order_id)
        await apply_order(conn, t.user_id, execution.id, report)
    return Resting(execution.id, proposal, report, price)


async def reader(conn: AppConnection, settings: Settings, user_id: UUID) -> MarketData:
    return await runtime.reader_for(conn, user_id, settings)


async def snapshot(conn: AppConnection, user_id: UUID, profile_id: UUID) -> dict[str, Any]:
    """Everything the lifecycle writes for a tenant, without generated ids and timestamps."""
    async with user_tx(conn, user_id):
        out: dict[str, Any] = {"account": await ledger_repo.account(conn, profile_id),
                               "check": await ledger_repo.check(conn, profile_id)}
        queries = {
            "executions": "SELECT id, state, exchange_order_id, reserved_eur FROM executions ORDER BY id",
            "orders": "SELECT exchange_order_id, status, filled_amount, fee_paid FROM exchange_orders"
                      " ORDER BY exchange_order_id",
            "fills": "SELECT exchange_fill_id, amount, price, fee FROM fills ORDER BY exchange_fill_id",
            "trades": "SELECT f.exchange_fill_id, t.amount_eur, t.realized_pnl_eur FROM trade_history t"
                      " JOIN fills f ON f.id = t.fill_id ORDER BY 1",
            "positions": "SELECT market, quantity, cost_basis_eur, realized_pnl_eur FROM positions ORDER BY market",
            "entries": "SELECT kind, reference, d_allocated, d_reserved_for_orders, d_reserved_for_positions,"
                       " d_realized_pnl FROM ledger_entries ORDER BY kind, reference",
            "outbox": "SELECT kind, payload FROM outbox_events ORDER BY kind, payload::text",
        }
        for name, sql in queries.items():
            cur = await conn.execute(sql)  # type: ignore[arg-type]
            out[name] = await cur.fetchall()
    return out


async def exchange_fill_ids(rd: MarketData, markets: tuple[str, ...]) -> set[str]:
    ids: set[str] = set()
    for market in markets:
        ids |= {t.fill_id for t in await rd.trades(market, limit=1000)}
    return ids


async def add_unlisted_profile(conn: AppConnection, t: TradingTenant, market: str = "DOGE-EUR") -> UUID:
    """A second profile of the tenant whose allowlist names a market the exchange does not list (written
    behind the creation-time check's back, as an older row or a delisting would leave it)."""
    from autoinvest.accounts import profiles

    spec = profiles.profile_spec("unlisted", Decimal("10"), ("BTC-EUR",))
    async with user_tx(conn, t.user_id):
        profile_id = await profiles.create_profile(conn, t.user_id, spec, actor="test")
        await conn.execute("UPDATE profile_policies SET allowlist = %s WHERE profile_id = %s", ([market], profile_id))
    return profile_id


async def reconcile(conn: AppConnection, settings: Settings, t: TradingTenant) -> PassReport:
    """One reconciliation pass over the tenant's account, with the runtime's read-only client."""
    async def reader_for(c: AppConnection, user_id: UUID) -> MarketData:
        return await runtime.reader_for(c, user_id, settings)

    return await reconcile_users(conn, reader_for, [t.user_id])
