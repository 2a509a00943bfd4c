"""Reconcile every account (the loop and the CLI), and export what the pass found as metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from autoinvest.db.tx import AppConnection
from autoinvest.errors import AutoInvestError
from autoinvest.observability import metrics
from autoinvest.reconcile import profiles
from autoinvest.reconcile.diff import KINDS
from autoinvest.reconcile.run import DEFAULT_ACK_ABOVE_EUR, AccountRun, ReaderFor, reconcile_account

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    accounts: list[AccountRun] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        total = {k.value: 0 for k in KINDS}
        for account in self.accounts:
            for kind, n in account.counts().items():
                total[kind] += n
        return total

    def to_json(self) -> dict[str, Any]:
        return {"mismatches": self.counts(), "accounts": [a.to_json() for a in self.accounts]}


async def reconcile_all(conn: AppConnection, reader_for: ReaderFor, *, profile_id: UUID | None = None,
                        ack_above_eur: Decimal = DEFAULT_ACK_ABOVE_EUR) -> PassReport:
    """One run per exchange account (or for the account of ``profile_id`` only, restricted to that profile)."""
    return await reconcile_users(conn, reader_for, sorted(await profiles.users(conn, profile_id)),
                                 profile_id=profile_id, ack_above_eur=ack_above_eur)


async def reconcile_users(conn: AppConnection, reader_for: ReaderFor, user_ids: list[UUID], *,
                          profile_id: UUID | None = None,
                          ack_above_eur: Decimal = DEFAULT_ACK_ABOVE_EUR) -> PassReport:
    """One run per given user's account; the gauges then describe this pass."""
    report = PassReport()
    for user_id in user_ids:
        try:
            reader = await reader_for(conn, user_id)
        except AutoInvestError as exc:  # e.g. no read-only key: nothing to compare with
            report.accounts.append(AccountRun(user_id, skipped=exc.reason))
            continue
        try:
            account = await reconcile_account(conn, user_id, reader, only_profile=profile_id,
                                              ack_above_eur=ack_above_eur)
        finally:
            await reader.close()
        report.accounts.append(account)
        for run in account.profiles:
            metrics.RECONCILE_RUNS.labels(run.status).inc()
            if run.status != "ok":
                log.warning("reconciliation", extra={"user_id": str(user_id), "profile_id": str(run.profile_id),
                                                     "status": run.status, "mismatches": run.mismatches})
    # Gauges describe the latest pass: they return to 0 when it finds nothing.
    for kind, n in report.counts().items():
        metrics.RECONCILE_MISMATCHES.labels(kind).set(n)
    metrics.RECONCILE_LAST_RUN.set_to_current_time()
    return report


#: Seconds between two passes of the reconciler loop (each pass reads every account's orders, trades and balances).
RECONCILE_INTERVAL_S = 30.0
#: Seconds between two ledger checks of the reconciler loop (each rebuilds every capital account from its entries).
LEDGER_CHECK_INTERVAL_S = 300.0
