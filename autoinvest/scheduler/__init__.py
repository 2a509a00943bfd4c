"""Scan jobs: claim (FOR UPDATE SKIP LOCKED), lease, fencing token, completion.

``jobs``  the SQL of a job's life: claim a batch, start (fenced), renew the lease, the fence of every write,
          complete (fenced: next_run_at on database time, and a 'scan.completed' outbox event per run).
``loop``  one pass of the scanner role: claim a batch, run the jobs concurrently while a keeper renews
          their leases, cancel a job whose lease is lost.

Guarantee 2 (ARCHITECTURE.md): a job runs on at most one instance at a time — every write of a run checks
the run's fencing token, owner and unexpired lease under a row lock on the job, so a worker that paused past
its lease writes nothing — and a crashed instance's job is claimed again once its lease has expired.
"""
