"""One ccxt exchange object for one key, and the single path every call takes.

A session borrows its HTTP connection pool from ``exchange.pool``, which owns it and caches sessions.
``Session.call`` spends the endpoint's weight from the key's budget, calls
ccxt's implicit raw endpoint (raw JSON, strings for money, no ``load_markets``
round trip), and translates any failure through ``exchange.errors``.

A session built from a read-only key refuses every state-changing endpoint before
anything is sent: code that reaches past the public clients (``readonly``/``trade``)
still cannot place or cancel an order with a View key.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp

from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import ExchangeError, KeySeparationError, RateLimited
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange import _parse
from autoinvest.exchange._bitvavo import SIGNING_PARAM, SignedBitvavo
from autoinvest.exchange.base import (
    MAX_ACCESS_WINDOW_MS,
    MIN_ACCESS_WINDOW_MS,
    BadItem,
    OrderReport,
    QuarantineSink,
    Signing,
)
from autoinvest.exchange.budget import WeightBudget
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.errors import ban_expiry_ms, translate

DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_ACCESS_WINDOW_MS = 10_000

T = TypeVar("T")


class Session:
    def __init__(self, credential: Credential, *, budget: WeightBudget, timeout_ms: int, access_window_ms: int,
                 http: aiohttp.ClientSession, ssl_context: ssl.SSLContext | None) -> None:
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")
        if not MIN_ACCESS_WINDOW_MS <= access_window_ms <= MAX_ACCESS_WINDOW_MS:
            raise ValueError(f"access_window_ms must be between {MIN_ACCESS_WINDOW_MS} and {MAX_ACCESS_WINDOW_MS}")
        self._budget = budget
        self._may_change_state = credential.purpose is CredentialPurpose.TRADE
        self._masked_key = credential.masked_key
        self._exchange_url = credential.base_url
        host = credential.host_url
        self._exchange = SignedBitvavo(
            {
                "apiKey": credential.api_key,
                "secret": credential.api_secret,
                "urls": {"api": {"public": host, "private": host}},
                "timeout": timeout_ms,
                # Our WeightBudget replaces ccxt's throttle (which would also sleep 60 ms per weight point).
                "enableRateLimit": False,
                # Pinned, whatever ccxt's default becomes: a resent signed POST could place a second order. An
                # unknown outcome is resolved by lookup (OutcomeUnknown), never by sending again.
                "options": {"maxRetriesOnFailure": 0, "maxRetriesOnFailureDelay": 0},
                # The pool's HTTP session and SSL context (False: plain http, none needed): ccxt would build a
                # context and a connection pool per object, and sleep 250 ms when closing one.
                "session": http,
                "ssl_context": ssl_context or False,
                "timeout_on_exit": 0,
            },
            default_window_ms=access_window_ms,
            on_headers=budget.observe_headers,
        )

    async def call(self, endpoint: ep.Endpoint, params: dict[str, Any], *, signing: Signing | None = None) -> Any:
        """Send one request to ``endpoint``; ``None`` params are dropped."""
        if endpoint.changes_state and not self._may_change_state:
            raise KeySeparationError(f"{endpoint.name} needs a trade key (key {self._masked_key})")
        request = {key: value for key, value in params.items() if value is not None}
        await self._budget.acquire(endpoint.weight_for(request))
        if signing is not None:
            request[SIGNING_PARAM] = signing
        try:
            return await getattr(self._exchange, endpoint.ccxt_method)(request)
        except Exception as e:
            error = translate(e, operation=endpoint.name, changes_state=endpoint.changes_state)
            if isinstance(error, RateLimited) and (expiry := ban_expiry_ms(e)) is not None:
                self._budget.block_until(expiry)
            raise error from e

    async def one(self, endpoint: ep.Endpoint, raw: Any, parse: Callable[[Any], T],
                  quarantine: QuarantineSink | None) -> T:
        """``parse(raw)``; an item that fails validation is quarantined, and its error raised (a specific
        AutoInvestError: the caller's loop goes on with the next item)."""
        try:
            return parse(raw)
        except ExchangeError as e:
            await self._refuse(endpoint, raw, e, quarantine)
            raise

    async def many(self, endpoint: ep.Endpoint, raw: Any, parse: Callable[[Any], T],
                   quarantine: QuarantineSink | None) -> list[T]:
        """Every item of a list response parsed; a bad item is quarantined and left out of the result."""
        parsed: list[T] = []
        for item in _parse.as_list(raw):
            try:
                parsed.append(parse(item))
            except ExchangeError as e:
                await self._refuse(endpoint, item, e, quarantine)
        return parsed

    async def _refuse(self, endpoint: ep.Endpoint, item: Any, error: ExchangeError,
                      quarantine: QuarantineSink | None) -> None:
        if quarantine is not None:
            await quarantine(BadItem(exchange_url=self._exchange_url, endpoint=endpoint.name, item=item,
                                           reason=error.reason, detail=str(error.args[0] if error.args else "")))

    async def get_order(self, market: str, *, order_id: str | None, client_order_id: str | None,
                        quarantine: QuarantineSink | None) -> OrderReport:
        """``GET /order`` by exactly one of orderId or clientOrderId."""
        raw = await self.call(ep.GET_ORDER, order_ref(market, order_id, client_order_id))
        return await self.one(ep.GET_ORDER, raw, _parse.order, quarantine)

    def discard(self) -> None:
        """Stop using this session (its pool evicted or replaced it): the HTTP session stays with the pool, and
        a call still made on this one fails before anything is sent."""
        self._exchange.session = None
        self._exchange.closed_by_user = True


def order_ref(market: str, order_id: str | None, client_order_id: str | None) -> dict[str, Any]:
    # Bitvavo silently prefers clientOrderId when both are given; refusing both avoids surprises.
    if (order_id is None) == (client_order_id is None):
        raise ValueError("give exactly one of order_id or client_order_id")
    if order_id is not None:
        return {"market": market, "orderId": order_id}
    return {"market": market, "clientOrderId": client_order_id}
