"""The trade client: ``Trading`` over ccxt's async bitvavo, for a Trade key.

Only the executor imports this module (scanner and proposers may not: an
import-linter contract). A place or cancel whose effect cannot be known raises
``OutcomeUnknown``: never resend, look the order up by clientOrderId once the
access window has passed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autoinvest.domain.states import CredentialPurpose
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange import _parse
from autoinvest.exchange._session import DEFAULT_ACCESS_WINDOW_MS, DEFAULT_TIMEOUT_MS, Session, order_ref
from autoinvest.exchange.base import CancelReport, OrderReport, OrderRequest, QuarantineSink, Signing, Trading
from autoinvest.exchange.budget import DEFAULT_BUDGETS, BudgetRegistry
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool, borrow


def _amount(value: Decimal) -> str:
    # Plain notation: Bitvavo rejects exponents such as "1E+2".
    return format(value, "f")


def order_body(request: OrderRequest) -> dict[str, Any]:
    """The ``POST /order`` body for ``request`` (money as strings, operatorId as a JSON number)."""
    body: dict[str, Any] = {
        "market": request.market,
        "side": request.side.value,
        "orderType": request.order_type,
        "clientOrderId": request.client_order_id,
        "operatorId": request.operator_id,
    }
    if request.amount is not None:
        body["amount"] = _amount(request.amount)
    if request.amount_quote is not None:
        body["amountQuote"] = _amount(request.amount_quote)
    if request.price is not None:
        body["price"] = _amount(request.price)
    return body


class TradeClient:
    """``Trading`` for one Trade key; build it with :func:`trading`."""

    def __init__(self, session: Session, *, quarantine: QuarantineSink | None, private: SessionPool | None) -> None:
        self._session = session
        self._quarantine = quarantine
        self._private = private

    async def place_order(self, request: OrderRequest, *, signing: Signing | None = None) -> OrderReport:
        raw = await self._session.call(ep.PLACE_ORDER, order_body(request), signing=signing)
        return await self._session.one(ep.PLACE_ORDER, raw, _parse.order, self._quarantine)

    async def cancel_order(
        self, market: str, *, operator_id: int, order_id: str | None = None, client_order_id: str | None = None
    ) -> CancelReport:
        params = {**order_ref(market, order_id, client_order_id), "operatorId": operator_id}
        return _parse.cancel(await self._session.call(ep.CANCEL_ORDER, params))

    async def get_order(
        self, market: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderReport:
        return await self._session.get_order(market, order_id=order_id, client_order_id=client_order_id,
                                             quarantine=self._quarantine)

    async def close(self) -> None:
        """Release the client: a session of a shared pool stays cached; a private one is closed."""
        if self._private is not None:
            await self._private.close()


def trading(
    credential: Credential,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    access_window_ms: int = DEFAULT_ACCESS_WINDOW_MS,
    budgets: BudgetRegistry = DEFAULT_BUDGETS,
    quarantine: QuarantineSink | None = None,
    pool: SessionPool | None = None,
    owner: str = "",
) -> Trading:
    """Build the trade client; a read-only credential raises KeySeparationError.

    ``access_window_ms`` applies to requests sent without an explicit :class:`Signing`. With ``pool`` the
    client borrows ``owner``'s cached session (see ``exchange.pool``)."""
    credential.require(CredentialPurpose.TRADE)
    session, private = borrow(credential, pool, owner=owner, timeout_ms=timeout_ms,
                              access_window_ms=access_window_ms, budgets=budgets)
    return TradeClient(session, quarantine=quarantine, private=private)
