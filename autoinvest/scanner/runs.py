"""The scanner role's pass: claim a batch of due jobs, run them concurrently, keep their leases alive.

Each job runs on its own connection; the pass's connection is the keeper's, renewing every lease a third of
the lease time. A lease that cannot be renewed (expired while the process was paused, or taken over) cancels
its run; if the run reaches its writes first, the fence in those writes refuses them anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from autoinvest.db.tx import AppConnection, connect
from autoinvest.observability import metrics
from autoinvest.scheduler import jobs
from autoinvest.scheduler.jobs import Lease

log = logging.getLogger(__name__)


@dataclass
class Running:
    """A run in progress; ``finishing`` is set just before its fenced write (the keeper then leaves it alone)."""

    lease: Lease
    task: asyncio.Task[str] | None = None
    finishing: bool = False
    lost: bool = False


RunJob = Callable[[AppConnection, Running], Awaitable[str]]


@dataclass(frozen=True)
class PassSettings:
    worker: str
    app_url: str
    batch: int
    lease_s: int
    outcomes: dict[str, int] = field(default_factory=dict)


async def scan_pass(conn: AppConnection, settings: PassSettings, run_job: RunJob) -> int:
    """Claim and run one batch; returns the number of jobs claimed."""
    leases = await jobs.claim(conn, settings.worker, settings.batch, settings.lease_s)
    metrics.SCAN_CLAIMED.inc(len(leases))
    if len(leases) < settings.batch:
        metrics.SCAN_CLAIM_SHORT.inc()
        if await jobs.due_unclaimed(conn) > 0:
            metrics.SCAN_CONTENTION.inc()
    if not leases:
        return 0
    runs = [Running(lease) for lease in leases]
    for run in runs:
        run.task = asyncio.create_task(_run_one(settings.app_url, run, run_job))
    done = asyncio.Event()
    keeper = asyncio.create_task(_keep_leases(conn, runs, settings.lease_s, done))
    try:
        results = await asyncio.gather(*(r.task for r in runs if r.task is not None), return_exceptions=True)
    finally:
        done.set()
        await keeper
    for run, result in zip(runs, results, strict=True):
        outcome = result if isinstance(result, str) else ("lease-lost" if run.lost else "crashed")
        settings.outcomes[outcome] = settings.outcomes.get(outcome, 0) + 1
        if isinstance(result, BaseException) and not run.lost:
            log.error("scan job crashed", exc_info=result, extra={"job_id": str(run.lease.job_id)})
    return len(leases)


async def _run_one(app_url: str, run: Running, run_job: RunJob) -> str:
    conn = await connect(app_url)
    try:
        return await run_job(conn, run)
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def _keep_leases(conn: AppConnection, runs: list[Running], lease_s: int, done: asyncio.Event) -> None:
    period = lease_s / 3
    while not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), period)
        if done.is_set():
            return
        for run in runs:
            if run.task is None or run.task.done() or run.finishing or run.lost:
                continue
            try:
                renewed = await jobs.renew(conn, run.lease, lease_s)
            except Exception:  # the database is unreachable: the lease runs out, the fence still holds
                log.exception("lease renewal failed", extra={"job_id": str(run.lease.job_id)})
                continue
            if not renewed and not run.finishing:
                run.lost = True
                metrics.SCAN_LEASE_LOST.labels("renewal").inc()
                log.warning("scan job lease lost; run cancelled", extra={
                    "job_id": str(run.lease.job_id), "fencing_token": run.lease.token})
                run.task.cancel()
