"""/internal/health: per-loop heartbeat age, database, exchange, counts, profiles whose reconciliation keeps
failing. Unhealthy → HTTP 503."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from autoinvest.db.tx import AppConnection, system_tx

#: Consecutive failed reconciliation runs of one profile that make the process unhealthy (the default of the
#: setting ``AUTOINVEST_RECONCILE_FAILING_RUNS``): one failure may be a blip, three in a row (90 s) is not.
FAILING_RUNS = 3


@dataclass(frozen=True)
class Health:
    healthy: bool
    report: dict[str, Any] = field(default_factory=dict)


async def check(conn: AppConnection, *, exchange_url: str, expected_loops: tuple[str, ...],
                stale_after_s: float, failing_after: int = FAILING_RUNS) -> Health:
    """Collect the health report; unhealthy when the database or exchange fails, a loop is stale or a profile's
    last ``failing_after`` reconciliation runs all ended with an error."""
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
    return Health(healthy, report)


async def _exchange(exchange_url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(exchange_url.rstrip("/") + "/time")
        return {"ok": response.status_code == 200, "status": response.status_code}
    except httpx.HTTPError as exc:
        return {"ok": False, "error": type(exc).__name__}
