"""The SQL of a scan job's life. Claims are cross-tenant (a SECURITY DEFINER function returning ids); every
other step runs as the app role in the job's user_tx (scan_jobs is a tenant table), with database time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString
from uuid import UUID

from autoinvest import outbox
from autoinvest.db.tx import AppConnection, system_tx, user_tx

#: The run's claim still holds: same token, same owner, lease not expired. Every write of a run checks it.
FENCE: LiteralString = (
    "SELECT 1 FROM scan_jobs WHERE id = %(job)s AND fencing_token = %(token)s AND locked_by = %(worker)s"
    " AND locked_until > now()"
)
#: Written when a run starts and overwritten when it completes: still there at the next claim = abandoned run.
INCOMPLETE = "RUN_INCOMPLETE"

_CLAIM: LiteralString = (
    "SELECT job_id, profile_id, user_id, fencing_token FROM claim_scan_jobs(%(worker)s, %(batch)s, %(lease)s)"
)
_START: LiteralString = (
    "WITH held AS (" + FENCE + " FOR UPDATE),"
    " old AS (SELECT j.id, j.last_error FROM scan_jobs j JOIN held ON true WHERE j.id = %(job)s)"
    " UPDATE scan_jobs j SET last_error = %(marker)s FROM old, profiles p"
    " WHERE j.id = old.id AND p.id = j.profile_id"
    " RETURNING j.next_run_at AS due_at, old.last_error AS previous_error, p.scan_interval_seconds,"
    " to_timestamp(floor(extract(epoch FROM j.next_run_at) / p.scan_interval_seconds) * p.scan_interval_seconds)"
    " AS scan_window, extract(epoch FROM now() - j.next_run_at)::float8 AS lag_s"
)
_RENEW: LiteralString = (
    "UPDATE scan_jobs SET locked_until = now() + make_interval(secs => %(lease)s)"
    " WHERE id = %(job)s AND fencing_token = %(token)s AND locked_by = %(worker)s AND locked_until > now()"
    " RETURNING id"
)
_LOCK: LiteralString = FENCE + " FOR UPDATE"
_COMPLETE: LiteralString = (
    "UPDATE scan_jobs j SET next_run_at = now() + make_interval(secs => p.scan_interval_seconds),"
    " last_run_at = now(), locked_by = NULL, locked_until = NULL, last_error = %(error)s"
    " FROM profiles p WHERE p.id = j.profile_id AND j.id = %(job)s AND j.fencing_token = %(token)s"
    " AND j.locked_by = %(worker)s AND j.locked_until > now()"
    " RETURNING j.next_run_at"
)


@dataclass(frozen=True)
class Lease:
    """One claimed job: who holds it and with which fencing token."""

    job_id: UUID
    profile_id: UUID
    user_id: UUID
    token: int
    worker: str

    def params(self) -> dict[str, object]:
        return {"job": self.job_id, "token": self.token, "worker": self.worker}


@dataclass(frozen=True)
class Run:
    """A started run: its due time, its scan window, how late it started, and whether it took a job over."""

    due_at: datetime
    scan_window: datetime
    interval_seconds: int
    lag_s: float
    took_over: bool


async def claim(conn: AppConnection, worker: str, batch: int, lease_s: int) -> list[Lease]:
    """Claim up to ``batch`` due jobs whose lease is free or expired; each gets a new fencing token."""
    async with system_tx(conn):
        cur = await conn.execute(_CLAIM, {"worker": worker, "batch": batch, "lease": lease_s})
        rows = await cur.fetchall()
    return [Lease(r["job_id"], r["profile_id"], r["user_id"], int(r["fencing_token"]), worker) for r in rows]


async def due_unclaimed(conn: AppConnection) -> int:
    """How many due jobs nobody holds right now (a count across tenants, through a SECURITY DEFINER function)."""
    async with system_tx(conn):
        cur = await conn.execute("SELECT due_scan_job_count() AS n")
        row = await cur.fetchone()
    return 0 if row is None else int(row["n"])


async def start(conn: AppConnection, lease: Lease) -> Run | None:
    """Mark the run started (fenced); None when the claim no longer holds."""
    marker = f"{INCOMPLETE}: {lease.worker} (token {lease.token}) did not complete the run before its lease expired"
    async with user_tx(conn, lease.user_id):
        cur = await conn.execute(_START, {**lease.params(), "marker": marker})
        row = await cur.fetchone()
    if row is None:
        return None
    previous = row["previous_error"] or ""
    return Run(due_at=row["due_at"], scan_window=row["scan_window"], interval_seconds=row["scan_interval_seconds"],
               lag_s=max(0.0, float(row["lag_s"])), took_over=previous.startswith(INCOMPLETE))


async def renew(conn: AppConnection, lease: Lease, lease_s: int) -> bool:
    """Extend the lease; False when it was lost (expired, or taken over: stop the run)."""
    async with user_tx(conn, lease.user_id):
        cur = await conn.execute(_RENEW, {**lease.params(), "lease": lease_s})
        return await cur.fetchone() is not None


async def lock(conn: AppConnection, lease: Lease) -> bool:
    """Inside the caller's user_tx: lock the job row if the claim still holds (a takeover then waits for us)."""
    cur = await conn.execute(_LOCK, lease.params())
    return await cur.fetchone() is not None


async def complete(conn: AppConnection, lease: Lease, run: Run, *, outcome: str, proposals: int,
                   error: str | None) -> bool:
    """Inside the caller's user_tx, after :func:`lock`: schedule the next run and record this one."""
    cur = await conn.execute(_COMPLETE, {**lease.params(), "error": error})
    row = await cur.fetchone()
    if row is None:
        return False
    await outbox.publish(conn, lease.user_id, "scan.completed", {
        "job_id": str(lease.job_id), "profile_id": str(lease.profile_id), "due_at": run.due_at.isoformat(),
        "scan_window": run.scan_window.isoformat(), "fencing_token": lease.token, "worker": lease.worker,
        "outcome": outcome, "proposals": proposals, "error": error,
        "next_run_at": row["next_run_at"].isoformat(),
    })
    return True
