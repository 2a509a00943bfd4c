"""Every failure the exchange can produce arrives as the right class of our error tree, over real HTTP.

Faults are injected in the session's shared simulator (fixture ``sim`` clears them afterwards) and are
limited to one request (``count=1``) so that nothing else is affected.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from autoinvest import errors
from autoinvest.domain.states import CredentialPurpose, Side
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange.base import OrderRequest, Signing
from autoinvest.exchange.budget import BudgetRegistry, WeightBudget
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.readonly import market_data
from autoinvest.exchange.trade import TradeClient, order_body, trading
from tests.integration.exchange.conftest import Clients, MakeAccount
from tests.support.simulator import RunningSimulator

OPERATOR = 4242
E = TypeVar("E", bound=errors.ExchangeError)


def buy(amount_quote: str = "10", client_order_id: str | None = None) -> OrderRequest:
    return OrderRequest.market_order(
        market="BTC-EUR",
        side=Side.BUY,
        client_order_id=client_order_id or str(uuid.uuid4()),
        operator_id=OPERATOR,
        amount_quote=Decimal(amount_quote),
    )


async def raises(expected: type[E], call: Awaitable[Any], *secrets: str) -> E:
    """Await ``call``, expecting exactly ``expected``, raised from the original failure, naming no secret."""
    with pytest.raises(errors.ExchangeError) as caught:
        await call
    error = caught.value
    assert type(error) is expected, f"{type(error).__name__}: {error}"
    assert error.__cause__ is not None
    for secret in secrets:
        assert secret not in str(error)
    return error


# ---- authentication and permissions -----------------------------------------------------------------------


async def test_wrong_secret_is_authentication_failed(make_account: MakeAccount) -> None:
    account = make_account()
    wrong = "0" * 128
    bad_read = Credential(
        api_key=account.readonly.api_key,
        api_secret=wrong,
        purpose=CredentialPurpose.READONLY,
        base_url=account.readonly.base_url,
    )
    bad_trade = Credential(
        api_key=account.trade.api_key,
        api_secret=wrong,
        purpose=CredentialPurpose.TRADE,
        base_url=account.trade.base_url,
    )
    reader = market_data(bad_read, budgets=BudgetRegistry())
    trader = trading(bad_trade, budgets=BudgetRegistry())
    try:
        error = await raises(errors.AuthenticationFailed, reader.balances(), wrong, account.readonly.api_secret)
        assert "309" in str(error)
        await raises(errors.AuthenticationFailed, trader.place_order(buy()), wrong, account.trade.api_secret)
    finally:
        await reader.close()
        await trader.close()


async def test_expired_access_window_is_authentication_failed(clients: Clients) -> None:
    request = buy()
    seventy_seconds_ago = time.time_ns() // 1_000_000 - 70_000
    error = await raises(
        errors.AuthenticationFailed,
        clients.trader.place_order(request, signing=Signing(timestamp_ms=seventy_seconds_ago, window_ms=60_000)),
    )
    assert "304" in str(error)
    with pytest.raises(errors.OrderNotFound):
        await clients.reader.get_order("BTC-EUR", client_order_id=request.client_order_id)


async def test_a_view_only_key_cannot_trade(clients: Clients) -> None:
    # A misconfigured deployment: the view-only key labelled as a trade key. The exchange still refuses.
    mislabelled = Credential(
        api_key=clients.account.readonly.api_key,
        api_secret=clients.account.readonly.api_secret,
        purpose=CredentialPurpose.TRADE,
        base_url=clients.account.readonly.base_url,
    )
    trader = trading(mislabelled, budgets=BudgetRegistry())
    try:
        error = await raises(errors.PermissionDenied, trader.place_order(buy()), mislabelled.api_secret)
        assert "310" in str(error)
        await raises(
            errors.PermissionDenied,
            trader.cancel_order("BTC-EUR", order_id=str(uuid.uuid4()), operator_id=OPERATOR),
        )
    finally:
        await trader.close()


# ---- definitive order rejections ----------------------------------------------------------------------------


async def test_missing_operator_id_is_invalid_order(clients: Clients) -> None:
    assert isinstance(clients.trader, TradeClient)
    body = order_body(buy())
    del body["operatorId"]
    # The raw endpoint through the production session (the public API always sends operatorId).
    error = await raises(errors.InvalidOrder, clients.trader._session.call(ep.PLACE_ORDER, body))
    assert "203" in str(error) and "operatorId" in str(error)


async def test_invalid_client_order_id_is_invalid_order(clients: Clients) -> None:
    error = await raises(errors.InvalidOrder, clients.trader.place_order(buy(client_order_id="not-a-uuid")))
    assert "205" in str(error)


async def test_insufficient_balance(clients: Clients) -> None:
    error = await raises(errors.InsufficientFunds, clients.trader.place_order(buy(amount_quote="5000")))
    assert error.definitive
    assert (await clients.reader.balances())["EUR"].available == Decimal("1000")


async def test_below_minimum(clients: Clients) -> None:
    error = await raises(errors.BelowMinimum, clients.trader.place_order(buy(amount_quote="1")))
    assert isinstance(error, errors.InvalidOrder)
    assert "217" in str(error)


async def test_a_duplicate_client_order_id_points_at_the_live_order(clients: Clients) -> None:
    client_order_id = str(uuid.uuid4())
    price = (await clients.reader.tickers(["BTC-EUR"]))["BTC-EUR"].price
    assert price is not None
    resting = OrderRequest.limit_order(
        market="BTC-EUR",
        side=Side.BUY,
        client_order_id=client_order_id,
        operator_id=OPERATOR,
        amount=Decimal("0.001"),
        price=(price / 2).quantize(Decimal("1")),
    )
    first = await clients.trader.place_order(resting)

    error = await raises(errors.OutcomeUnknown, clients.trader.place_order(buy(client_order_id=client_order_id)))
    assert "220" in str(error)
    found = await clients.trader.get_order("BTC-EUR", client_order_id=client_order_id)
    assert found.order_id == first.order_id
    await clients.trader.cancel_order("BTC-EUR", order_id=first.order_id, operator_id=OPERATOR)


async def test_unknown_order(clients: Clients) -> None:
    unknown = str(uuid.uuid4())
    await raises(errors.OrderNotFound, clients.reader.get_order("BTC-EUR", client_order_id=unknown))
    await raises(errors.OrderNotFound, clients.trader.get_order("BTC-EUR", order_id=unknown))
    await raises(
        errors.OrderNotFound, clients.trader.cancel_order("BTC-EUR", client_order_id=unknown, operator_id=OPERATOR)
    )


# ---- rate limits and the budget -----------------------------------------------------------------------------


async def test_rate_limit_is_rate_limited_and_the_ban_is_honoured(
    sim: RunningSimulator, make_account: MakeAccount
) -> None:
    account = make_account()
    reader = market_data(account.readonly, budgets=BudgetRegistry())
    try:
        sim.admin.fault("GET /balance", "rate_limit", count=1)
        error = await raises(errors.RateLimited, reader.balances())
        assert "105" in str(error)
        # The ban (60 s) exceeds the budget's maximum wait: refused at once, without asking the exchange.
        started = time.monotonic()
        with pytest.raises(errors.RateLimited) as caught:
            await reader.fees()
        assert caught.value.__cause__ is None  # refused by our budget, not by the exchange
        assert time.monotonic() - started < 1
    finally:
        await reader.close()


async def test_the_budget_stops_requests_before_the_exchange_would(make_account: MakeAccount) -> None:
    account = make_account()
    budgets = BudgetRegistry(lambda: WeightBudget(limit=12, max_wait_ms=0))
    reader = market_data(account.readonly, budgets=budgets)
    try:
        await reader.balances()  # weight 5
        await reader.balances()  # weight 5
        with pytest.raises(errors.RateLimited):
            await reader.balances()  # 15 > 12
        budget = budgets.for_key(account.readonly.api_key)
        assert budget.used() == 10
        assert budget._server_remaining is not None  # the exchange's headers were read
    finally:
        await reader.close()


# ---- unknown outcomes ---------------------------------------------------------------------------------------


async def test_response_dropped_after_processing_is_outcome_unknown_then_found(
    sim: RunningSimulator, clients: Clients
) -> None:
    request = buy()
    sim.admin.fault("POST /order", "drop_response_after_processing", count=1)

    error = await raises(errors.OutcomeUnknown, clients.trader.place_order(request))
    assert not error.definitive

    found = await clients.trader.get_order("BTC-EUR", client_order_id=request.client_order_id)
    assert found.status == "filled"
    assert found.client_order_id == request.client_order_id


async def test_http_500_is_outcome_unknown_on_place_and_unavailable_on_read(
    sim: RunningSimulator, clients: Clients
) -> None:
    request = buy()
    sim.admin.fault("POST /order", "http_500", count=1)
    await raises(errors.OutcomeUnknown, clients.trader.place_order(request))
    # This fault struck before processing: asking the exchange is how the resolver learns it.
    await raises(errors.OrderNotFound, clients.reader.get_order("BTC-EUR", client_order_id=request.client_order_id))

    sim.admin.fault("GET /balance", "http_500", count=1)
    await raises(errors.ExchangeUnavailable, clients.reader.balances())
    sim.admin.fault("DELETE /order", "http_500", count=1)
    await raises(
        errors.OutcomeUnknown,
        clients.trader.cancel_order("BTC-EUR", order_id=str(uuid.uuid4()), operator_id=OPERATOR),
    )


async def test_a_timeout_on_place_is_outcome_unknown(sim: RunningSimulator, make_account: MakeAccount) -> None:
    account = make_account()
    trader = trading(account.trade, timeout_ms=300, budgets=BudgetRegistry())
    request = buy()
    try:
        sim.admin.fault("POST /order", "latency", count=1, latency_ms=800)
        await raises(errors.OutcomeUnknown, trader.place_order(request))
        # The exchange went on to place it after our timeout: only a lookup can tell.
        await asyncio.sleep(1.0)
        found = await trader.get_order("BTC-EUR", client_order_id=request.client_order_id)
        assert found.status == "filled"
    finally:
        await trader.close()


async def test_maintenance_on_read_is_unavailable(sim: RunningSimulator, clients: Clients) -> None:
    sim.admin.fault("GET /markets", "maintenance", count=1)
    await raises(errors.ExchangeUnavailable, clients.reader.markets())


async def test_an_unreachable_exchange() -> None:
    closed_port = "http://127.0.0.1:9/v2"  # discard port: nothing listens
    reader = market_data(
        Credential(api_key="a" * 64, api_secret="b" * 64, purpose=CredentialPurpose.READONLY, base_url=closed_port),
        budgets=BudgetRegistry(),
    )
    trader = trading(
        Credential(api_key="c" * 64, api_secret="d" * 64, purpose=CredentialPurpose.TRADE, base_url=closed_port),
        budgets=BudgetRegistry(),
    )
    try:
        await raises(errors.ExchangeUnavailable, reader.markets())
        await raises(errors.OutcomeUnknown, trader.place_order(buy()))
    finally:
        await reader.close()
        await trader.close()


@pytest.mark.parametrize("kind", ["http_500", "error_before_processing", "drop_response_after_processing"])
async def test_a_signed_post_is_never_resent(sim: RunningSimulator, clients: Clients, kind: str) -> None:
    """ccxt's own retry (maxRetriesOnFailure) is pinned to 0: a failed first response is never followed by a second
    POST, which could place a second order (the executor resolves an unknown outcome by lookup instead)."""
    sim.admin.fault("POST /order", kind, count=1)
    await raises(errors.OutcomeUnknown, clients.trader.place_order(buy()))
    assert sim.admin.requests(clients.account.account_id).get("POST /order") == 1
