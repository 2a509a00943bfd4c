"""One reconciliation run of an exchange account: lock its profiles, read both sides, repair, record, report.

Lock: a session-level ``pg_try_advisory_lock`` per profile, taken on the run's own connection. It is free
when a run ends and when its process dies (the connection closes), so there is no lease to tune and no stale
owner to rescue. It only keeps two instances from doing (and reporting) the same work: correctness does not
rest on it, because every repair goes through the idempotent lifecycle handlers (UNIQUE fill ids, row lock
and compare-and-set on the execution) and ledger entries keyed by (kind, reference).

The unit is the user's exchange account because orders, trades and balances are per account; several
profiles share it. A run restricted to one profile repairs that profile's orders and skips the balance
comparison (positions can only be compared with the balance summed over all of the account's profiles).

Trades and lookups are read per market; an exchange error of one market fails only the runs of the profiles
trading it, so one bad profile (a market the exchange does not list) cannot block the account's others.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest.accounts import kill_switch
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.errors import AutoInvestError
from autoinvest.exchange.base import MarketData
from autoinvest.lifecycle.apply import apply_order
from autoinvest.observability import metrics
from autoinvest.reasons import RECONCILE_SHORTFALL as SHORTFALL_PAUSE
from autoinvest.reconcile import fetch, repair, state, unmanaged
from autoinvest.reconcile.diff import (
    KINDS,
    DbView,
    ExchangeView,
    Mismatch,
    Notice,
    Plan,
    balance_drift,
    eur_shortfall,
    lookups_needed,
    plan_orders,
)

LOCK_NAMESPACE = 0x5245  # "RE": the first key of reconciliation's advisory locks

_LOCK: LiteralString = "SELECT pg_try_advisory_lock(%(ns)s, hashtext(%(key)s)) AS locked"
_UNLOCK: LiteralString = "SELECT pg_advisory_unlock(%(ns)s, hashtext(%(key)s))"
_RUN_START: LiteralString = ("INSERT INTO reconciliation_runs (id, user_id, profile_id) VALUES (%(id)s, %(user)s,"
                             " %(profile)s)")
_RUN_END: LiteralString = """
UPDATE reconciliation_runs SET finished_at = now(), status = %(status)s, mismatches = %(mismatches)s::jsonb,
       report = %(report)s::jsonb
 WHERE id = %(id)s
"""

#: A coin shortfall worth more than this (EUR, at cost) waits for ``autoinvest reconcile ack`` (setting
#: ``AUTOINVEST_RECONCILE_ACK_ABOVE_EUR``).
DEFAULT_ACK_ABOVE_EUR = Decimal("5")

ReaderFor = Callable[[AppConnection, UUID], Awaitable[MarketData]]


@dataclass
class ProfileRun:
    """What one profile's run found and did; becomes its reconciliation_runs row."""

    profile_id: UUID
    run_id: UUID
    mismatches: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in KINDS})
    repaired: list[dict[str, Any]] = field(default_factory=list)
    reported: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.errors:
            return "failed"
        unrepaired = sum(self.mismatches.values()) > 0 and not self.repaired
        return "repaired" if self.repaired else ("failed" if unrepaired else "ok")

    def to_json(self) -> dict[str, Any]:
        return {"profile_id": str(self.profile_id), "run_id": str(self.run_id), "status": self.status,
                "mismatches": self.mismatches, "repaired": self.repaired, "reported": self.reported,
                "errors": self.errors}


@dataclass
class AccountRun:
    user_id: UUID
    profiles: list[ProfileRun] = field(default_factory=list)
    skipped: str | None = None
    balances: str = "skipped"
    unmanaged: dict[str, str] = field(default_factory=dict)  # asset → coins of the user beyond our positions

    def counts(self) -> dict[str, int]:
        total = {k.value: 0 for k in KINDS}
        for p in self.profiles:
            for kind, n in p.mismatches.items():
                total[kind] += n
        return total

    def to_json(self) -> dict[str, Any]:
        return {"user_id": str(self.user_id), "skipped": self.skipped, "balances": self.balances,
                "unmanaged": self.unmanaged, "profiles": [p.to_json() for p in self.profiles]}


async def reconcile_account(conn: AppConnection, user_id: UUID, reader: MarketData, *,
                            only_profile: UUID | None = None,
                            ack_above_eur: Decimal = DEFAULT_ACK_ABOVE_EUR) -> AccountRun:
    """Reconcile the user's exchange account (or one of its profiles) once; never raises for exchange trouble."""
    result = AccountRun(user_id)
    async with user_tx(conn, user_id):
        rows = await state.profiles(conn)
    all_ids = [r.profile_id for r in rows]
    targets = [p for p in all_ids if only_profile is None or p == only_profile]
    if not targets:
        result.skipped = "no such profile"
        return result
    if not await _lock_all(conn, targets):
        result.skipped = "another instance is reconciling these profiles"
        return result
    try:
        runs = {p: ProfileRun(p, uuid.uuid4()) for p in targets}
        result.profiles = list(runs.values())
        async with user_tx(conn, user_id):
            for run in runs.values():
                await conn.execute(_RUN_START, {"id": run.run_id, "user": user_id, "profile": run.profile_id})
        try:
            await _reconcile(conn, user_id, reader, rows, runs, result, full=only_profile is None,
                             ack_above_eur=ack_above_eur)
        except AutoInvestError as exc:
            for run in runs.values():
                run.errors.append(str(exc))
        async with user_tx(conn, user_id):
            for run in runs.values():
                await conn.execute(_RUN_END, {"id": run.run_id, "status": run.status,
                                              "mismatches": json.dumps(run.mismatches),
                                              "report": json.dumps(run.to_json())})
        for run in runs.values():  # counters, unlike the gauges, keep what every pass found
            for kind, n in run.mismatches.items():
                if n:
                    metrics.RECONCILE_MISMATCHES_FOUND.labels(kind).inc(n)
            if run.errors:
                metrics.RECONCILE_FAILURES.inc()
    finally:
        await _unlock_all(conn, targets)
    return result


async def _reconcile(conn: AppConnection, user_id: UUID, reader: MarketData, rows: list[state.ProfileRow],
                     runs: dict[UUID, ProfileRun], result: AccountRun, *, full: bool,
                     ack_above_eur: Decimal) -> None:
    first = min(runs)
    before = await fetch.balances(reader) if full else None
    async with user_tx(conn, user_id):
        holdings = await state.holdings(conn)
        live = await state.db_view(conn, user_id, [r.profile_id for r in rows])
    traders: dict[str, set[UUID]] = {}  # market → the profiles an error of that market fails
    for r in rows:
        for market in r.allowlist:
            traders.setdefault(market, set()).add(r.profile_id)
    for h in holdings:
        traders.setdefault(h.market, set()).add(h.profile_id)
    for o in live.orders:
        traders.setdefault(o.market, set()).add(o.profile_id)
    # Only the markets the account's profiles trade, hold or have live orders in (per market is cheaper); the
    # database view the plan compares with is read below, after this, so an order sent meanwhile is known there.
    open_orders, failed = await fetch.open_orders(reader, traders)
    markets = set(traders) | {o.market for o in open_orders}
    trades, failed_trades = await fetch.trades(reader, markets)
    failed = failed_trades | failed
    async with user_tx(conn, user_id):
        db = await state.db_view(
            conn, user_id, [r.profile_id for r in rows],
            order_ids=[o.order_id for o in open_orders] + [t.order_id for t in trades if t.order_id],
            client_order_ids=[o.client_order_id for o in open_orders if o.client_order_id]
            + [t.client_order_id for t in trades if t.client_order_id],
            fill_ids=[t.fill_id for t in trades])
    lookups = await fetch.lookups(reader, lookups_needed(db, open_orders, trades), failed)
    for market, error in sorted(failed.items()):
        # Only the profiles of that market fail; the account's other profiles are reconciled as usual.
        for profile_id in sorted(traders.get(market, set()) & set(runs)) or [first]:
            runs[profile_id].errors.append(error)
    plan = _only(plan_orders(db, ExchangeView(tuple(open_orders), tuple(trades), lookups)), runs)
    await _repair_orders(conn, user_id, plan, runs, first)
    if not full:
        return
    after = await fetch.balances(reader)
    if after != before:
        # A fill landed while we read: the trades may not explain the balance we compare with. Next run.
        result.balances = "moving: compared next run"
        return
    async with user_tx(conn, user_id):
        holdings = await state.holdings(conn)
        cash = await state.ledger_cash(conn)
    # An asset whose trades could not be read may hide a missed fill: not compared this run.
    drifts, extra = balance_drift(holdings, after, skip=frozenset(m.split("-")[0] for m in failed))
    async with user_tx(conn, user_id):
        await unmanaged.record(conn, user_id, extra)
    result.balances = "compared"
    result.unmanaged = {asset: str(amount) for asset, amount in extra.items() if amount > 0}
    shortfall = eur_shortfall(cash, after)
    _notify(runs, first, [shortfall] if shortfall else [])
    short: dict[UUID, str] = {}
    if shortfall is not None:
        # Which profile's cash is gone is unknowable: every profile of the account stops spending it.
        short |= {r.profile_id: f"EUR short by {shortfall.detail['shortfall']}" for r in rows if r.profile_id in runs}
    shorted = {(p, d.market) for d in drifts for p in d.shares}
    for h in holdings:  # coins back (or booked) since a pending item was held: the item is void
        if h.profile_id in runs and (h.profile_id, h.market) not in shorted and h.market.split("-")[0] in extra:
            await repair.clear_pending(conn, user_id, h.profile_id, h.market)
    for drift in drifts:
        for profile_id, share in drift.shares.items():
            run = runs[profile_id]
            run.mismatches[Mismatch.BALANCE_DRIFT.value] += 1
            short[profile_id] = f"{drift.asset} short by {-share}"
            try:
                done = await repair.book_drift(conn, user_id, profile_id, drift.market, share,
                                               request_id=f"{run.run_id}:{drift.asset}", ack_above_eur=ack_above_eur)
            except AutoInvestError as exc:
                run.errors.append(f"balance drift {drift.asset}: {exc}")
                continue
            item = {"kind": Mismatch.BALANCE_DRIFT.value, "asset": drift.asset, "database": str(drift.database),
                    "exchange": str(drift.exchange), "d_quantity": str(done.d_quantity),
                    "adjust_eur": str(done.d_cost_basis_eur)}
            if done.pending is None:
                run.repaired.append(item)
            else:
                run.reported.append(item | {"pending_ack": str(done.pending)})
    trading = {r.profile_id for r in rows if r.trading_enabled}
    for profile_id, why in sorted(short.items()):
        if profile_id in trading:
            await _pause(conn, user_id, profile_id, why)
            runs[profile_id].reported.append({"kind": "paused", "reason": f"{SHORTFALL_PAUSE}: {why}"})


async def _pause(conn: AppConnection, user_id: UUID, profile_id: UUID, why: str) -> None:
    """Switch the profile off (audited): the account lacks what its books say it has, so trading on them
    could spend money or coins that are not there. An operator switches it back on after looking."""
    async with user_tx(conn, user_id):
        await kill_switch.set_profile(conn, profile_id, True, actor=repair.ACTOR, reason=f"{SHORTFALL_PAUSE}: {why}")
    metrics.RECONCILE_SHORTFALL_PAUSES.inc()


def _only(plan: Plan, runs: dict[UUID, ProfileRun]) -> Plan:
    """Keep the actions of the profiles this run locked (a one-profile run sees the whole account)."""
    return Plan(tuple(a for a in plan.applies if a.profile_id in runs),
                tuple(a for a in plan.adoptions if a.profile_id in runs),
                tuple(n for n in plan.notices if n.profile_id is None or n.profile_id in runs))


async def _repair_orders(conn: AppConnection, user_id: UUID, plan: Plan, runs: dict[UUID, ProfileRun],
                         first: UUID) -> None:
    for action in plan.applies:
        run = runs[action.profile_id]
        for kind in action.kinds:
            run.mismatches[kind.value] += len(action.new_fill_ids) if kind is Mismatch.MISSED_FILL else 1
        try:
            applied = await apply_order(conn, user_id, action.execution_id, action.report)
        except AutoInvestError as exc:
            run.errors.append(f"apply {action.report.order_id}: {exc}")
            continue
        run.repaired.append({"kind": "+".join(k.value for k in action.kinds) or "ack",
                             "execution_id": str(action.execution_id), "exchange_order_id": action.report.order_id,
                             "exchange_status": action.report.status, "new_fills": list(action.new_fill_ids),
                             "state": applied.execution.state.value})
    for adoption in plan.adoptions:
        run = runs[adoption.profile_id]
        run.mismatches[Mismatch.UNKNOWN_ORDER.value] += 1
        adopted = await repair.adopt(conn, user_id, adoption)
        item = {"kind": Mismatch.UNKNOWN_ORDER.value, "exchange_order_id": adoption.report.order_id,
                "client_order_id": adoption.report.client_order_id, "proposal_id": str(adoption.proposal_id)}
        if adopted.error is not None:
            run.errors.append(f"adopt {adoption.report.order_id}: {adopted.error}")
            run.reported.append(item | {"error": adopted.error})
        else:
            run.repaired.append(item | {"execution_id": str(adopted.execution_id), "state": adopted.state,
                                        "reserved_eur": str(adopted.reserved)})
    _notify(runs, first, plan.notices)


def _notify(runs: dict[UUID, ProfileRun], first: UUID, notices: tuple[Notice, ...] | list[Notice]) -> None:
    for notice in notices:
        run = runs[notice.profile_id] if notice.profile_id in runs else runs[first]
        if notice.kind is not None:
            run.mismatches[notice.kind.value] += 1
        run.reported.append({"kind": notice.kind.value if notice.kind else "info", **notice.detail})


async def _lock_all(conn: AppConnection, profile_ids: list[UUID]) -> bool:
    taken: list[UUID] = []
    async with system_tx(conn):
        for profile_id in sorted(profile_ids):
            cur = await conn.execute(_LOCK, {"ns": LOCK_NAMESPACE, "key": str(profile_id)})
            row = await cur.fetchone()
            if not (row and row["locked"]):
                break
            taken.append(profile_id)
    if len(taken) == len(profile_ids):
        return True
    await _unlock_all(conn, taken)
    return False


async def _unlock_all(conn: AppConnection, profile_ids: list[UUID]) -> None:
    async with system_tx(conn):
        for profile_id in profile_ids:
            await conn.execute(_UNLOCK, {"ns": LOCK_NAMESPACE, "key": str(profile_id)})


__all__ = ["AccountRun", "DbView", "ProfileRun", "ReaderFor", "reconcile_account"]
