"""Run one claimed scan job; the scanner role's pass.

Roles (``autoinvest worker --roles …``):

The scanner role claims due scan jobs (``scanner.runs``; the jobs' SQL is ``autoinvest.scheduler.jobs``: SKIP
LOCKED, lease, fencing token) and runs each here: start (fenced) → market snapshot via the read-only client →
the profile's proposer → fenced write. The process that holds a job's lease is the one that runs it, so claiming
and scanning are one role. It never loads a trade key: it gets a read-only client per user through
``reader_for``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

import openai

from autoinvest.accounts import vault
from autoinvest.accounts.profiles import Policy
from autoinvest.config import Settings
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.errors import AutoInvestError
from autoinvest.exchange.base import MarketData
from autoinvest.observability import metrics
from autoinvest.proposers import llm
from autoinvest.proposers.base import ProposalDraft, Proposer, Source
from autoinvest.proposers.budget import DbBudget
from autoinvest.proposers.rules import rule_proposer
from autoinvest.scanner import snapshot, write
from autoinvest.scanner.market_cache import MarketCache
from autoinvest.scanner.runs import PassSettings, Running, scan_pass
from autoinvest.scheduler import jobs
from autoinvest.scheduler.metadata import MetadataRefresher

log = logging.getLogger(__name__)

ReaderFor = Callable[[AppConnection, UUID], Awaitable[MarketData]]
Pass = Callable[[AppConnection], Awaitable[int]]


@dataclass
class Scanner:
    """The per-process state of the scanner role: shared market data, metadata freshness, the LLM client."""

    worker: str
    reader_for: ReaderFor
    settings: Settings
    cache: MarketCache = field(default_factory=MarketCache)
    metadata: MetadataRefresher = field(default_factory=MetadataRefresher)
    _llm_client: openai.AsyncOpenAI | None = None

    def proposer_for(self, conn: AppConnection, user_id: UUID, policy: Policy) -> Proposer:
        if policy.strategy != "llm":
            return rule_proposer(policy.strategy)
        if self._llm_client is None:
            key = self.settings.llm_api_key
            self._llm_client = llm.make_client(self.settings.llm_base_url,
                                               key.get_secret_value() if key is not None else None)
        return llm.LlmProposer(self._llm_client, self.settings.llm_model, DbBudget(conn, user_id, policy.profile_id))

    async def run_job(self, conn: AppConnection, running: Running) -> str:
        """One run of a claimed job; returns its outcome (ok, failed, fenced)."""
        lease = running.lease
        run = await jobs.start(conn, lease)
        if run is None:
            return _fenced("start", lease)
        metrics.SCAN_LAG.observe(run.lag_s)
        if run.took_over:
            metrics.SCAN_TAKEOVERS.inc()
            log.warning("scan job taken over after an expired lease", extra={
                "job_id": str(lease.job_id), "fencing_token": lease.token})
        policy: Policy | None = None
        source: Source = "rules"
        drafts: tuple[ProposalDraft, ...] = ()
        error: str | None = None
        try:
            async with user_tx(conn, lease.user_id):
                exchange_url = await vault.exchange_url(conn, lease.user_id, self.settings)
            reader = await self.reader_for(conn, lease.user_id)
            try:
                await self.metadata.refresh_if_stale(conn, reader, exchange_url)
                facts = await snapshot.load_facts(conn, lease.user_id, lease.profile_id, exchange_url)
                policy = facts.policy
                proposer = self.proposer_for(conn, lease.user_id, policy)
                source = proposer.source
                market_view = await snapshot.build(reader, self.cache, facts, run)
            finally:
                await reader.close()
            result = await proposer.propose(market_view)
            drafts = result.drafts
        except AutoInvestError as exc:
            error = exc.reason
            log.warning("scan failed", extra={"job_id": str(lease.job_id), "profile_id": str(lease.profile_id),
                                              "reason": exc.reason})
        if self.settings.test_hooks_active and self.settings.scan_hold_s > 0:  # a window to pause or kill a worker
            await asyncio.sleep(self.settings.scan_hold_s)
        running.finishing = True
        written = await write.finish(conn, lease, run, policy=policy, source=source, drafts=drafts, error=error)
        if written is None:
            return _fenced("write", lease)
        outcome = "ok" if error is None else "failed"
        metrics.SCAN_RUNS.labels(outcome).inc()
        log.info("scan completed", extra={"job_id": str(lease.job_id), "profile_id": str(lease.profile_id),
                                          "proposals": len(written.proposals), "expired": written.expired,
                                          "fencing_token": lease.token, "outcome": outcome})
        return outcome


def _fenced(where: str, lease: jobs.Lease) -> str:
    metrics.SCAN_LEASE_LOST.labels(where).inc()
    metrics.SCAN_RUNS.labels("fenced").inc()
    log.warning("scan write refused by the fencing token", extra={
        "job_id": str(lease.job_id), "fencing_token": lease.token, "where": where})
    return "fenced"


def scanner_pass(settings: Settings, *, worker: str, app_url: str, reader_for: ReaderFor) -> Pass:
    """The scanner role's pass: claim a batch of due jobs and run them."""
    scanner = Scanner(worker=worker, reader_for=reader_for, settings=settings)
    pass_settings = PassSettings(worker=worker, app_url=app_url, batch=settings.scan_batch,
                                 lease_s=settings.scan_lease_s)

    async def one_pass(conn: AppConnection) -> int:
        return await scan_pass(conn, pass_settings, scanner.run_job)

    return one_pass
