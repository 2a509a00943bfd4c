"""The ASGI application: /v2 (Bitvavo REST) and /_sim (admin) request pipelines, with no framework in the way.

A raw ASGI app keeps exact control over what the signature is checked against (the raw path and query) and lets
the drop-response fault abort the connection after processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from autoinvest.simulator import admin, funds, private, public
from autoinvest.simulator.clock import wall_ms
from autoinvest.simulator.errors import ApiError, rate_limited
from autoinvest.simulator.exchange import Exchange
from autoinvest.simulator.faults import FaultRule
from autoinvest.simulator.ratelimit import RateLimitError
from autoinvest.simulator.routing import Ctx, Route
from autoinvest.simulator.signing import authenticate
from autoinvest.simulator.state import save

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("autoinvest.simulator")

# Set by the server's HTTP protocol for each request, so that a fault can abort the TCP connection itself.
CURRENT_TRANSPORT: ContextVar[asyncio.Transport | None] = ContextVar("simulator_transport", default=None)

V2_ROUTES: list[Route] = [*public.ROUTES, *private.ROUTES, *funds.ROUTES]
TICK_SECONDS = 1.0
SAVE_EVERY_SECONDS = 5.0


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class SimulatorApp:
    def __init__(self, exchange: Exchange, admin_enabled: bool = False, state_path: Path | None = None) -> None:
        self.ex = exchange
        self.admin_enabled = admin_enabled
        self.state_path = state_path
        self._saved_changes = -1
        self._background: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/v2/"):
            await self._v2(scope, receive, send)
        elif path.startswith("/_sim/") and self.admin_enabled:
            await self._admin(scope, receive, send)
        else:
            await _respond(send, 404, ApiError(110).body())

    # ---- lifecycle: clock ticks and periodic persistence ---------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._background = asyncio.create_task(self._tick_forever())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._background is not None:
                    self._background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._background
                self.ex.sync()
                self.save_now()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _tick_forever(self) -> None:
        last_save = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                self.ex.sync()  # resting orders fill as simulated time passes, even with no client polling
                if loop.time() - last_save >= SAVE_EVERY_SECONDS:
                    self.save_now()
                    last_save = loop.time()
            except Exception:
                log.exception("simulator background tick failed")

    def save_now(self) -> None:
        if self.state_path is None or self._saved_changes == self.ex.changes:
            return
        save(self.ex, self.state_path)
        self._saved_changes = self.ex.changes

    # ---- /v2 -----------------------------------------------------------------------------------------------

    async def _v2(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path = scope["path"][len("/v2"):]
        raw_query: bytes = scope.get("query_string", b"")
        raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode()
        target = raw_path.decode("latin-1") + (("?" + raw_query.decode("latin-1")) if raw_query else "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_body = await _read_body(receive)
        found = _lookup(V2_ROUTES, method, path)
        if found is None:
            await _respond(send, 404, ApiError(110).body())
            return
        route, path_params = found
        query = dict(parse_qsl(raw_query.decode("utf-8", errors="replace"), keep_blank_values=True))
        limit_headers: dict[str, str] = {}
        fault: FaultRule | None = None
        try:
            body = _parse_body(raw_body) if method in ("POST", "PUT") else {}
            self.ex.sync()
            key = authenticate(headers, method, target, raw_body, self.ex.accounts, self.ex.clock.exchange_ms(),
                               route.private)
            client = scope.get("client") or ("unknown", 0)
            who = f"key:{key.key}" if key else f"ip:{client[0]}"
            if key is not None:
                self.ex.requests[(key.account_id, f"{method} {path}")] += 1
            else:
                self.ex.public_requests[f"{method} {path}"] += 1
            weight = route.weight(query)
            limit_headers = self.ex.limiter.charge(who, weight, wall_ms()).headers()
            if key is not None:
                self.ex.weights[key.account_id] += weight
            fault = self.ex.faults.pick(method, path)
            before = fault is not None and fault.kind != "drop_response_after_processing"
            if before and fault is not None and await self._fault_before(fault, send, limit_headers):
                return
            route.check_permission(key)
            ctx = Ctx(self.ex, method, path, query, body, key, path_params)
            result = route.handler(ctx)
            self.ex.faults.poison(method, path, key.account_id if key else None, result)
            if method != "GET":
                self.ex.changes += 1
        except RateLimitError as err:
            await _respond(send, err.status, err.body(), err.allowance.headers())
            return
        except ApiError as err:
            await _respond(send, err.status, err.body(), limit_headers)
            return
        except Exception:
            log.exception("simulator error on %s %s", method, path)
            await _respond(send, 500, ApiError(400, "Unknown server error.").body(), limit_headers)
            return
        if fault is not None and fault.kind == "drop_response_after_processing":
            await _drop(send, fault.latency_ms)
            return
        await _respond(send, 200, result, limit_headers)

    async def _fault_before(self, fault: FaultRule, send: Send, headers: dict[str, str]) -> bool:
        """Apply a fault that acts before processing; True if it answered the request."""
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.kind == "latency":
            return False
        if fault.kind == "error_before_processing":
            await _respond(send, 503, ApiError(107).body(), headers)
        elif fault.kind == "http_500":
            await _respond_raw(send, 500, b"Internal Server Error", "text/plain", headers)
        elif fault.kind == "rate_limit":
            await _respond(send, 429, rate_limited(wall_ms() + 60_000).body(), headers)
        elif fault.kind == "maintenance":
            await _respond(send, 503, ApiError(404).body(), headers)
        return True

    # ---- /_sim ---------------------------------------------------------------------------------------------

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path = scope["path"][len("/_sim"):]
        raw_body = await _read_body(receive)
        found = _lookup(admin.ROUTES, method, path)
        if found is None:
            await _respond(send, 404, {"error": f"no admin endpoint {method} {path}"})
            return
        route, path_params = found
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        try:
            body = _parse_body(raw_body) if method in ("POST", "PUT") else {}
            self.ex.sync()
            result = route.handler(Ctx(self.ex, method, path, query, body, None, path_params))
            if method != "GET":
                self.ex.changes += 1
        except admin.AdminError as err:
            await _respond(send, err.status, {"error": str(err)})
            return
        except ApiError as err:
            await _respond(send, 400, {"error": err.message})
            return
        await _respond(send, 200, result)


def _lookup(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


def _parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(102) from None
    if not isinstance(body, dict):
        raise ApiError(102)
    return body


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
    await _respond_raw(send, status, _json_bytes(value), "application/json", headers)


async def _respond_raw(
    send: Send, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send, hold_ms: int) -> None:
    """The request was processed; the client never gets the answer (optionally after holding the connection)."""
    if hold_ms:
        await asyncio.sleep(hold_ms / 1000)
    transport = CURRENT_TRANSPORT.get()
    if transport is not None:
        transport.abort()  # a reset before any response byte: clients see a network error
        # Let connection_lost run, so that the server does not try to answer on the dead connection.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return
    # Without the server's protocol hook: promise a body and never deliver it.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
    raise ConnectionAbortedError("simulated dropped response")
