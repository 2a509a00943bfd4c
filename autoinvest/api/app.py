"""FastAPI app: Prometheus /metrics and /internal/health (served on 127.0.0.1 by default)."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from autoinvest.db.tx import connect
from autoinvest.errors import DatabaseError
from autoinvest.observability import health, metrics
from autoinvest.observability.clock_skew import ClockFence


def create_app(*, app_url: str, exchange_url: str, loops: tuple[str, ...], stale_after_s: float,
               failing_after: int = health.FAILING_RUNS,
               clock: ClockFence | None = None) -> FastAPI:
    """Build the operator app for one process."""
    app = FastAPI(title="Auto Invest Oracle", docs_url=None, redoc_url=None)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/internal/health")
    async def internal_health() -> JSONResponse:
        try:
            conn = await connect(app_url)
        except Exception as exc:  # the database is down: say so, with 503
            return JSONResponse({"healthy": False, "database": {"ok": False, "error": _error_name(exc)}}, 503)
        try:
            result = await health.check(conn, exchange_url=exchange_url, expected_loops=loops,
                                        stale_after_s=stale_after_s, failing_after=failing_after,
                                        clock=clock)
        finally:
            await conn.close()
        return JSONResponse({"healthy": result.healthy, **result.report}, 200 if result.healthy else 503)

    return app


def _error_name(exc: Exception) -> str:
    """The class of a failed connection as the report has always named it: DatabaseError for any of our database
    errors (a refused connection is DatabaseUnavailable since db/errors.py), the class name for anything else."""
    return DatabaseError.__name__ if isinstance(exc, DatabaseError) else type(exc).__name__
