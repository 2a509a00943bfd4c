"""/internal/health: per-loop heartbeat age, database, exchange, counts, profiles whose reconciliation keeps
failing. Unhealthy → HTTP 503."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from autoinvest.db.tx import AppConnection, system_tx
from autoinvest.observability import clock_skew
from autoinvest.policy.clock_skew import skew_refusal

#: Consecutive failed reconciliation runs of one profile that make the process unhealthy (the default of the
#: setting ``AUTOINVEST_RECONCILE_FAILING_RUNS``): one failure may be a blip, three in a row (90 s) is not.
FAILING_RUNS = 3


@dataclass(frozen=True)
class Health:
    healthy: bool
    report: dict[str, Any] = field(default_factory=dict)


async def check(conn: AppConnection, *, exchange_url: str, expected_loops: tuple[str, ...],
                stale_after_s: float, failing_after: int = FAILING_RUNS,
                clock: clock_skew.ClockFence | None = None) -> Health:
    """Collect the health report; unhealthy when the database or exchange fails, a loop is stale, a profile's
    last ``failing_after`` reconciliation runs all ended with an error, or the exchange's clock is off."""
    report: dict[str, Any] = {}
    healthy = True
    try:
        async with system_tx(conn):
            cur = await conn.execute(
                "SELECT loop_name, max(last_success_at) AS last_success,"
                " extract(epoch FROM now() - max(last_success_at))::float8 AS age_s"
                " FROM loop_heartbeats GROUP BY loop_name")
            beats = {row["loop_name"]: row for row in await cur.fetchall()}
            cur = await conn.execute("SELECT state, n FROM execution_state_counts()")
            report["executions"] = {row["state"]: int(row["n"]) for row in await cur.fetchall()}
            cur = await conn.execute("SELECT kill_switch FROM global_settings")
            row = await cur.fetchone()
            report["global_kill_switch"] = bool(row and row["kill_switch"])
            cur = await conn.execute("SELECT profile_id, failed FROM failing_reconciliations(%s)", (failing_after,))
            failing = [{"profile_id": str(r["profile_id"]), "failed_runs": int(r["failed"])}
                       for r in await cur.fetchall()]
        report["database"] = {"ok": True}
    except Exception as exc:  # health must answer whatever broke
        return Health(False, {"database": {"ok": False, "error": type(exc).__name__}})
    loops: dict[str, Any] = {}
    for name in expected_loops:
        beat = beats.get(name)
        age = None if beat is None else round(float(beat["age_s"]), 3)
        stale = age is None or age > stale_after_s
        healthy &= not stale
        loops[name] = {"last_success": None if beat is None else beat["last_success"].isoformat(),
                       "age_s": age, "stale": stale}
    report["loops"] = loops
    report["reconciliation"] = {"failing_profiles": failing, "failing_after_runs": failing_after}
    healthy &= not failing
    report["exchange"] = await _exchange(exchange_url)
    healthy &= bool(report["exchange"]["ok"])
    if clock is not None:  # a process that sends orders: unhealthy while the clock-skew fence holds them
        report["clock_skew"] = await _clock_skew(conn, clock)
        healthy &= bool(report["clock_skew"]["ok"])
    return Health(healthy, report)


async def _clock_skew(conn: AppConnection, clock: clock_skew.ClockFence) -> dict[str, Any]:
    measured = await clock_skew.last(conn, clock.exchange_url)
    reason = skew_refusal(measured, bound_ms=clock.bound_ms, max_age_s=clock.max_age_s)
    return {"ok": reason is None, "reason": reason, "bound_ms": clock.bound_ms,
            "skew_ms": None if measured is None else measured.skew_ms,
            "round_trip_ms": None if measured is None else measured.round_trip_ms,
            "age_s": None if measured is None else round(measured.age_s, 3)}


async def _exchange(exchange_url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(exchange_url.rstrip("/") + "/time")
        return {"ok": response.status_code == 200, "status": response.status_code}
    except httpx.HTTPError as exc:
        return {"ok": False, "error": type(exc).__name__}
