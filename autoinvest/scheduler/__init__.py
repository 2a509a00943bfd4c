"""Scan jobs (claim with FOR UPDATE SKIP LOCKED, lease, fencing token, completion) and the housekeeping role.

``jobs``  the SQL of a job's life: claim a batch, start (fenced), renew the lease, the fence of every write,
          complete (fenced: next_run_at on database time, and a 'scan.completed' outbox event per run).
``housekeeping``  the scheduler role's pass: expire overdue proposals, refresh stale market metadata.
``metadata``      refresh ``market_metadata`` (exchange minimums) from MarketData.markets().

The scanner role claims and runs jobs (``autoinvest.scanner.runs``) with the SQL of ``jobs``.

Guarantee 2 (ARCHITECTURE.md): a job runs on at most one instance at a time — every write of a run checks
the run's fencing token, owner and unexpired lease under a row lock on the job, so a worker that paused past
its lease writes nothing — and a crashed instance's job is claimed again once its lease has expired.
"""
