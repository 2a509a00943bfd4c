"""Start-up recovery of a worker: nothing lost, nothing doubled, no trading on a ledger that does not add up.

Before its loops start, a worker

1. checks every active profile's capital account against its entries (one set-based query,
   ``reconcile.ledger_audit.check_many``); a profile whose materialised account differs (or whose rebuild breaks
   the invariant) gets its kill switch set (audited, actor ``recovery``) and is reported: it is never traded on
   until an operator has repaired it (``autoinvest ledger rebuild``) and switched it back on;
2. reconciles the accounts the executor could send an order for (an approved proposal without an execution,
   the schema's ``sendable_account_ids()``): open orders, fills and balances from the exchange, applied through
   the lifecycle handlers; an order no execution row knows (a restored database lost it) is adopted before the
   executor could send it again;
3. resolves SUBMITTING executions by asking the exchange with the trade key (the resolver, once; only in a
   process that holds the trade vault key).

"Ready" (the log event ``recovery done``, then the loops) waits for these and nothing else. Every other account
is left to the loops (``deferred`` in the report): its live executions cannot be sent again (an execution
exists; SUBMITTING is never resent), the monitor follows SUBMITTED orders, the resolver the SUBMITTING ones step
3 did not finish, and the reconciler loop's first pass reconciles every account. With 10,000 accounts start-up
therefore costs one aggregate query plus the exchange work of the few accounts that matter first.

Steps 2 and 3 talk to the exchange and are bounded by ``exchange_budget_s``: when the exchange is down the
worker continues to its loops; unresolved executions stay SUBMITTING (never resent) and are picked up by the
resolver and reconciler loops later.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.accounts import kill_switch
from autoinvest.db import tx
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import AutoInvestError
from autoinvest.execution import loops
from autoinvest.execution.loops import LoopSettings
from autoinvest.observability import metrics
from autoinvest.reconcile.ledger_audit import check_many
from autoinvest.reconcile.run import DEFAULT_ACK_ABOVE_EUR, ReaderFor, reconcile_account

log = logging.getLogger(__name__)
ACTOR = "recovery"
PAUSE_REASON = "LEDGER_MISMATCH_AT_START"
DEFAULT_EXCHANGE_BUDGET_S = 20.0

# The accounts with an approved proposal not yet executed (not only those with live executions): after a database
# restore the exchange may hold an order of which no execution row survived, and reconciliation adopts it before
# the executor could resend. The others are the loops' (see the module docstring).
_SENDABLE: LiteralString = "SELECT user_id FROM sendable_account_ids()"
_ACCOUNTS: LiteralString = "SELECT count(DISTINCT user_id) AS n FROM active_profile_ids()"
_TRADING_ENABLED: LiteralString = "SELECT trading_enabled FROM profile_policies WHERE profile_id = %(id)s"


@dataclass
class RecoveryReport:
    profiles: int = 0
    paused: list[dict[str, Any]] = field(default_factory=list)
    resolved: int = 0
    reconciled: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    deferred: int = 0  #: accounts left to the reconciler loop (no order can be sent for them before it runs)
    timed_out: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"profiles": self.profiles, "paused": self.paused, "resolved": self.resolved,
                "reconciled": self.reconciled, "unreachable": self.unreachable, "deferred": self.deferred,
                "timed_out": self.timed_out}


async def recover(app_url: str, *, reader_for: ReaderFor, loop_settings: LoopSettings,
                  exchange_budget_s: float = DEFAULT_EXCHANGE_BUDGET_S,
                  lookup_for: loops.LookupForFn | None = None,
                  ack_above_eur: Decimal = DEFAULT_ACK_ABOVE_EUR) -> RecoveryReport:
    """Run the start-up recovery; returns what it found. Never raises for exchange trouble. ``lookup_for``: the
    trade clients the resolver decides with (the key that placed the order); without (a process holding no
    trade vault key), step 2 is left to the resolver loop of a process that has one."""
    report = RecoveryReport()
    conn = await tx.connect(app_url)
    try:
        await _check_ledgers(conn, report)
    finally:
        await conn.close()
    # Its own connection: a timeout may cancel it mid-call, after which it is closed rather than reused.
    exchange_conn = await tx.connect(app_url)
    try:
        await asyncio.wait_for(_exchange_phase(exchange_conn, reader_for, lookup_for, loop_settings, report,
                                               ack_above_eur),
                               exchange_budget_s)
    except TimeoutError:
        report.timed_out = True
        log.warning("recovery: exchange phase timed out; continuing", extra={"budget_s": exchange_budget_s})
    finally:
        await exchange_conn.close()
    log.info("recovery done", extra=report.to_json())
    return report


async def _check_ledgers(conn: AppConnection, report: RecoveryReport) -> None:
    checked = await check_many(conn, active_only=True)  # one set-based query, then each flagged account
    report.profiles = checked.accounts
    for result in checked.differences:
        if result.materialised is None:
            continue  # no account: nothing can be reserved, so nothing can trade
        paused = await _pause(conn, result.profile_id, result.user_id, result.to_json())
        report.paused.append(result.to_json() | {"newly_paused": paused})
        log.error("recovery: ledger mismatch, profile paused", extra=result.to_json())


async def _pause(conn: AppConnection, profile_id: UUID, user_id: UUID, details: dict[str, Any]) -> bool:
    """Set the profile's kill switch (audited) unless it is already set; True when this call set it."""
    async with user_tx(conn, user_id):
        cur = await conn.execute(_TRADING_ENABLED, {"id": profile_id})
        row = await cur.fetchone()
        if row is None or not row["trading_enabled"]:
            return False
        drift = details.get("drift") or {}
        reason = f"{PAUSE_REASON}: drift {drift}" if drift else f"{PAUSE_REASON}: {details.get('invariant_error')}"
        await kill_switch.set_profile(conn, profile_id, True, actor=ACTOR, reason=reason)
    metrics.RECOVERY_PAUSED_PROFILES.inc()
    return True


async def _exchange_phase(conn: AppConnection, reader_for: ReaderFor, lookup_for: loops.LookupForFn | None,
                          loop_settings: LoopSettings, report: RecoveryReport, ack_above_eur: Decimal) -> None:
    async with system_tx(conn):
        cur = await conn.execute(_SENDABLE)
        users = [r["user_id"] for r in await cur.fetchall()]
        cur = await conn.execute(_ACCOUNTS)
        accounts = int((await cur.fetchone() or {"n": 0})["n"])
    report.deferred = max(0, accounts - len(users))
    for user_id in users:
        try:
            reader = await reader_for(conn, user_id)
        except AutoInvestError:
            report.unreachable.append(str(user_id))
            continue
        try:
            account = await reconcile_account(conn, user_id, reader, ack_above_eur=ack_above_eur)
        finally:
            await reader.close()
        failed = any(run.errors for run in account.profiles)
        (report.unreachable if failed or account.skipped else report.reconciled).append(str(user_id))
    if lookup_for is not None:
        report.resolved = await loops.resolver_pass(conn, lookup_for=lookup_for, settings=loop_settings)
