"""The scanner role's pass: claim a batch of due jobs, run them concurrently, keep their leases alive; claim
the next batch while a full one was due (up to ``max_jobs`` a pass, so the loop still heartbeats between passes).

Each running job has a connection of its own, reused by the pass's later jobs (connecting costs more than a
small scan); the pass's connection is the keeper's, renewing every lease a third of the lease time. A lease
that cannot be renewed (expired while the process was paused, or taken over) cancels its run; if the run
reaches its writes first, the fence in those writes refuses them anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from autoinvest.db import driver
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
    #: Jobs one pass claims at most (in batches of ``batch``); 0: ``MAX_BATCHES_PER_PASS`` batches.
    max_jobs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


#: Batches one pass claims at most while jobs are due: a backlog is worked off without the loop's poll wait
#: between batches, and the pass still ends (heartbeat, stop signal) after a bounded amount of work.
MAX_BATCHES_PER_PASS = 16


async def scan_pass(conn: AppConnection, settings: PassSettings, run_job: RunJob) -> int:
    """Claim and run batches while full ones are due; returns the number of jobs claimed."""
    limit = settings.max_jobs or settings.batch * MAX_BATCHES_PER_PASS
    idle: list[AppConnection] = []  # the pass's job connections between jobs
    claimed = 0
    try:
        while claimed < limit:
            leases = await jobs.claim(conn, settings.worker, min(settings.batch, limit - claimed), settings.lease_s)
            claimed += len(leases)
            metrics.SCAN_CLAIMED.inc(len(leases))
            if len(leases) < settings.batch:
                metrics.SCAN_CLAIM_SHORT.inc()
                if await jobs.due_unclaimed(conn) > 0:
                    metrics.SCAN_CONTENTION.inc()
            if leases:
                await _run_batch(conn, settings, run_job, leases, idle)
            if len(leases) < settings.batch:
                break  # nothing more is due for us (or others hold it): the loop waits for the next poll
    finally:
        for c in idle:
            with contextlib.suppress(Exception):
                await c.close()
    return claimed


async def _run_batch(conn: AppConnection, settings: PassSettings, run_job: RunJob, leases: list[Lease],
                     idle: list[AppConnection]) -> None:
    runs = [Running(lease) for lease in leases]
    for run in runs:
        run.task = asyncio.create_task(_run_one(settings.app_url, run, run_job, idle))
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


async def _run_one(app_url: str, run: Running, run_job: RunJob, idle: list[AppConnection]) -> str:
    conn = idle.pop() if idle else await connect(app_url)
    reusable = False
    try:
        outcome = await run_job(conn, run)
        reusable = driver.is_idle(conn)  # a run that failed or was cancelled mid-transaction leaves it unusable
        return outcome
    finally:
        if reusable:
            idle.append(conn)
        else:
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
