"""The exchange's clock: ``GET /time`` (public, unsigned), timed by the caller to measure the skew."""

from __future__ import annotations

import httpx

from autoinvest.errors import ExchangeUnavailable

TIME_TIMEOUT_S = 5.0


def time_url(base_url: str) -> str:
    """``…/v2/time`` for a base URL given with or without ``/v2``."""
    return base_url.rstrip("/").removesuffix("/v2") + "/v2/time"


async def server_time_ms(base_url: str, *, timeout_s: float = TIME_TIMEOUT_S) -> int:
    """The exchange's ``time`` in epoch ms; ExchangeUnavailable when it cannot be read."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(time_url(base_url))
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise ExchangeUnavailable(f"GET /time: {type(exc).__name__}") from exc
    value = body.get("time") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ExchangeUnavailable(f"GET /time: no time in the answer (HTTP {response.status_code})")
    return value
