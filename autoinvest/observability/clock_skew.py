"""The clock-skew fence (guarantee 16): measure the exchange's ``/time`` against the database's ``now()``, keep
the last measurement per exchange URL (the one writer of ``exchange_clock_skew``), and refuse to send while the
rule in ``policy.clock_skew`` says the clocks disagree or were not measured recently."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import LiteralString
from urllib.parse import urlsplit

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.errors import ClockSkewExceeded, ExchangeError
from autoinvest.exchange.server_time import server_time_ms
from autoinvest.observability import metrics
from autoinvest.policy.clock_skew import SkewMeasurement, skew_refusal

log = logging.getLogger(__name__)
SAMPLES = 3

_DB_NOW_MS: LiteralString = "SELECT (extract(epoch FROM now()) * 1000)::bigint AS now_ms"
_UPSERT: LiteralString = (
    "INSERT INTO exchange_clock_skew (exchange_url, skew_ms, round_trip_ms, measured_at)"
    " VALUES (%s, %s, %s, now()) ON CONFLICT (exchange_url) DO UPDATE SET skew_ms = EXCLUDED.skew_ms,"
    " round_trip_ms = EXCLUDED.round_trip_ms, measured_at = EXCLUDED.measured_at"
)
_LAST: LiteralString = (
    "SELECT skew_ms, round_trip_ms, extract(epoch FROM now() - measured_at)::float8 AS age_s"
    " FROM exchange_clock_skew WHERE exchange_url = %s"
)


@dataclass(frozen=True)
class ClockFence:
    exchange_url: str
    bound_ms: int  # AUTOINVEST_CLOCK_SKEW_BOUND_MS (Settings.skew_bound_ms)
    max_age_s: float  # AUTOINVEST_CLOCK_SKEW_MAX_AGE_S: an older measurement says nothing

    @property
    def refresh_s(self) -> float:
        """Measure again after this long, so a working exchange never lets the measurement go stale."""
        return self.max_age_s / 4


def exchange_label(exchange_url: str) -> str:
    """The metric label: the exchange's host (a handful per deployment, never a tenant value)."""
    return urlsplit(exchange_url).netloc or exchange_url


async def _sample(conn: AppConnection, exchange_url: str) -> SkewMeasurement:
    started = time.monotonic()
    async with system_tx(conn):
        cur = await conn.execute(_DB_NOW_MS)
        row = await cur.fetchone()
    assert row is not None
    asked = time.monotonic()
    exchange_ms = await server_time_ms(exchange_url)
    answered = time.monotonic()
    # Each clock was read somewhere inside its own round trip: compare the middles; the round trips bound the error.
    between_ms = ((asked + answered) - (started + asked)) * 500
    skew_ms = round(exchange_ms - (int(row["now_ms"]) + between_ms))
    round_trip_ms = round((answered - started) * 1000)
    return SkewMeasurement(skew_ms, round_trip_ms, 0.0)


async def measure(conn: AppConnection, exchange_url: str) -> SkewMeasurement:
    """The tightest of a few samples (a busy machine stretches some round trips), stored. ``conn`` must be outside
    a transaction: no transaction waits on the exchange."""
    best = min([await _sample(conn, exchange_url) for _ in range(SAMPLES)], key=lambda m: m.round_trip_ms)
    async with system_tx(conn):
        await conn.execute(_UPSERT, (exchange_url, best.skew_ms, best.round_trip_ms))
    metrics.CLOCK_SKEW.labels(exchange_label(exchange_url)).set(best.skew_ms / 1000)
    return best


async def last(conn: AppConnection, exchange_url: str) -> SkewMeasurement | None:
    async with system_tx(conn):
        cur = await conn.execute(_LAST, (exchange_url,))
        row = await cur.fetchone()
    if row is None:
        return None
    return SkewMeasurement(int(row["skew_ms"]), int(row["round_trip_ms"]), float(row["age_s"]))


async def refresh(conn: AppConnection, fence: ClockFence) -> SkewMeasurement | None:
    """The last measurement, measured anew when it is older than the refresh interval; a failed measurement
    keeps the old one (whose age then decides)."""
    current = await last(conn, fence.exchange_url)
    if current is not None and current.age_s <= fence.refresh_s:
        return current
    try:
        return await measure(conn, fence.exchange_url)
    except ExchangeError as exc:
        log.warning("clock skew measurement failed", extra={"exchange": exchange_label(fence.exchange_url),
                                                             "reason": exc.reason})
        return current


async def check(conn: AppConnection, fence: ClockFence) -> None:
    """Raise ClockSkewExceeded unless an order may be sent now (``conn`` outside a transaction)."""
    measured = await refresh(conn, fence)
    reason = skew_refusal(measured, bound_ms=fence.bound_ms, max_age_s=fence.max_age_s)
    if reason is not None:
        skew = "never measured" if measured is None else (
            f"skew {measured.skew_ms} ms ± {measured.round_trip_ms // 2} ms, measured {measured.age_s:.0f} s ago")
        raise ClockSkewExceeded(f"no order is sent to {exchange_label(fence.exchange_url)}: {skew}; bound "
                                f"{fence.bound_ms} ms, fresh for {fence.max_age_s:.0f} s", reason=reason)
