"""Reconciliation as a pure function: what the database believes and what the exchange reports → actions.

No I/O and no clock. The caller reads both sides (``reconcile.state`` and ``reconcile.fetch``), calls
:func:`plan_orders`, applies the actions through the lifecycle handlers, re-reads the positions and calls
:func:`balance_drift`. Splitting the two keeps the balance comparison honest: it runs only after every
missed fill has been applied, so a fill is never counted twice (once as a fill, once as drift).

The unit is one exchange account (one user, all of its profiles): orders, trades and balances are per account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from autoinvest.exchange.base import Balance, FillReport, OrderReport

QUOTE = "EUR"
#: Base-asset drift smaller than this is dust, not a mismatch (the exchange's smallest quantity step).
DEFAULT_TOLERANCE = Decimal("0.00000001")
#: An EUR shortfall smaller than a cent is rounding, not a mismatch.
EUR_TOLERANCE = Decimal("0.01")
SHARE_QUANTUM = Decimal("0.00000001")


class Mismatch(StrEnum):
    """Kinds of difference; each is a Prometheus gauge label and a key of ``reconciliation_runs.mismatches``."""

    MISSED_FILL = "missed_fill"  # a fill on the exchange that the database lacks
    MISSED_CLOSE = "missed_close"  # the exchange closed (canceled, expired, filled) an order live here
    UNKNOWN_ORDER = "unknown_order"  # an order with one of our clientOrderIds and no row here
    MISSING_ON_EXCHANGE = "missing_on_exchange"  # SUBMITTED here, unknown to the exchange (alert only)
    BALANCE_DRIFT = "balance_drift"  # the account holds fewer coins than the user's positions (a shortfall)
    EUR_SHORTFALL = "eur_shortfall"  # the account holds less EUR than the user's ledgers say is cash (alert only)


KINDS: tuple[Mismatch, ...] = tuple(Mismatch)


@dataclass(frozen=True)
class DbOrder:
    """An execution that has (or may have) an exchange order."""

    execution_id: UUID
    profile_id: UUID
    client_order_id: str
    exchange_order_id: str | None
    market: str
    state: str
    fill_ids: frozenset[str] = frozenset()

    @property
    def live(self) -> bool:
        return self.state in ("SUBMITTING", "SUBMITTED")


@dataclass(frozen=True)
class DbView:
    """The database side: the account's relevant executions and the proposals an orphan could belong to."""

    orders: tuple[DbOrder, ...]
    #: clientOrderId → (proposal id, profile id), for proposals of the reconciled profiles without an execution.
    proposals: Mapping[str, tuple[UUID, UUID]] = field(default_factory=dict)
    #: exchange fill ids already recorded (of those the exchange reported).
    known_fill_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExchangeView:
    """The exchange side, as read in this run."""

    open_orders: tuple[OrderReport, ...]
    trades: tuple[FillReport, ...]
    #: order id → report, for every order looked up by id (see :func:`lookups_needed`); None when not found.
    lookups: Mapping[str, OrderReport | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ApplyOrder:
    """Route the exchange's report of a known order through ``lifecycle.apply_order``."""

    execution_id: UUID
    profile_id: UUID
    report: OrderReport
    kinds: tuple[Mismatch, ...]
    new_fill_ids: tuple[str, ...]


@dataclass(frozen=True)
class AdoptOrder:
    """Record an order we placed (our clientOrderId) but never recorded, then apply its report."""

    proposal_id: UUID
    profile_id: UUID
    report: OrderReport


@dataclass(frozen=True)
class Notice:
    """A difference that is reported, not repaired here (the resolver or an operator owns it)."""

    kind: Mismatch | None  # None: informational (e.g. a foreign order placed by the user by hand)
    profile_id: UUID | None
    detail: Mapping[str, str]


@dataclass(frozen=True)
class Plan:
    applies: tuple[ApplyOrder, ...] = ()
    adoptions: tuple[AdoptOrder, ...] = ()
    notices: tuple[Notice, ...] = ()

    def counts(self) -> dict[Mismatch, int]:
        """Mismatches per kind (every kind present, zeros included)."""
        counts = dict.fromkeys(KINDS, 0)
        for a in self.applies:
            for kind in a.kinds:
                counts[kind] += len(a.new_fill_ids) if kind is Mismatch.MISSED_FILL else 1
        counts[Mismatch.UNKNOWN_ORDER] += len(self.adoptions)
        for n in self.notices:
            if n.kind is not None:
                counts[n.kind] += 1
        return counts


@dataclass(frozen=True)
class Lookup:
    market: str
    order_id: str


def canonical_uuid(value: str | None) -> str | None:
    """A clientOrderId in canonical UUID form, or None when it is not a UUID (not one of ours)."""
    # Our clientOrderIds are UUIDs; compare them in canonical form (the exchange echoes what we sent).
    if value is None:
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None


def lookups_needed(db: DbView, open_orders: Iterable[OrderReport], trades: Iterable[FillReport]) -> list[Lookup]:
    """Orders to look up by id before :func:`plan_orders`: closed live orders, orders with unrecorded fills,
    and closed orders of ours that the database has never seen."""
    open_ids = {o.order_id for o in open_orders}
    by_order_id = {o.exchange_order_id: o for o in db.orders if o.exchange_order_id}
    by_coid = {o.client_order_id: o for o in db.orders}
    needed: dict[str, Lookup] = {}
    for order in db.orders:
        if order.state == "SUBMITTED" and order.exchange_order_id and order.exchange_order_id not in open_ids:
            needed[order.exchange_order_id] = Lookup(order.market, order.exchange_order_id)
    for trade in trades:
        if trade.order_id is None or trade.order_id in open_ids or trade.fill_id in db.known_fill_ids:
            continue
        coid = canonical_uuid(trade.client_order_id)
        if trade.order_id in by_order_id or (coid is not None and (coid in by_coid or coid in db.proposals)):
            needed[trade.order_id] = Lookup(trade.market, trade.order_id)
    return list(needed.values())


def plan_orders(db: DbView, ex: ExchangeView) -> Plan:
    """Every order-level difference between the two views, as lifecycle actions and notices."""
    by_order_id = {o.exchange_order_id: o for o in db.orders if o.exchange_order_id}
    by_coid = {o.client_order_id: o for o in db.orders}
    reports: dict[str, OrderReport] = {r.order_id: r for r in ex.lookups.values() if r is not None}
    reports.update({r.order_id: r for r in ex.open_orders})  # an open order's own report is the freshest
    applies: list[ApplyOrder] = []
    adoptions: list[AdoptOrder] = []
    notices: list[Notice] = []
    matched: set[str] = set()

    for report in sorted(reports.values(), key=lambda r: (r.created, r.order_id)):
        coid = canonical_uuid(report.client_order_id)
        known = by_order_id.get(report.order_id) or (by_coid.get(coid) if coid else None)
        if known is not None:
            matched.add(str(known.execution_id))
            action = _apply_for(known, report, db.known_fill_ids)
            if action is not None:
                applies.append(action)
        elif coid is not None and coid in db.proposals:
            proposal_id, profile_id = db.proposals[coid]
            adoptions.append(AdoptOrder(proposal_id, profile_id, report))
        elif report.is_open:
            notices.append(Notice(None, None, {"foreign_order": report.order_id, "market": report.market,
                                               "client_order_id": report.client_order_id or ""}))

    for order in db.orders:
        if order.state != "SUBMITTED" or str(order.execution_id) in matched or not order.exchange_order_id:
            continue
        if order.exchange_order_id in ex.lookups and ex.lookups[order.exchange_order_id] is None:
            notices.append(Notice(Mismatch.MISSING_ON_EXCHANGE, order.profile_id, {
                "execution_id": str(order.execution_id), "exchange_order_id": order.exchange_order_id}))
    return Plan(tuple(applies), tuple(adoptions), tuple(notices))


def _apply_for(order: DbOrder, report: OrderReport, known_fill_ids: frozenset[str]) -> ApplyOrder | None:
    new_fills = tuple(f.fill_id for f in report.fills if f.fill_id not in order.fill_ids
                      and f.fill_id not in known_fill_ids)
    kinds: list[Mismatch] = []
    if new_fills:
        kinds.append(Mismatch.MISSED_FILL)
    if order.live and not report.is_open:
        kinds.append(Mismatch.MISSED_CLOSE)
    acked = order.state == "SUBMITTING" and report.is_open  # placed after all: the lifecycle records the ack
    if not kinds and not acked:
        return None
    return ApplyOrder(order.execution_id, order.profile_id, report, tuple(kinds), new_fills)


# ---------------------------------------------------------------- balances

@dataclass(frozen=True)
class Holding:
    """One profile's position in one market, as the database has it."""

    profile_id: UUID
    market: str
    quantity: Decimal


@dataclass(frozen=True)
class Drift:
    """The account holds ``database - exchange`` less of ``asset``; ``shares`` (negative) says who loses it."""

    asset: str
    market: str
    database: Decimal
    exchange: Decimal
    shares: Mapping[UUID, Decimal]

    @property
    def amount(self) -> Decimal:
        return self.exchange - self.database


def balance_drift(holdings: Iterable[Holding], balances: Mapping[str, Balance], *,
                  tolerance: Decimal = DEFAULT_TOLERANCE,
                  skip: frozenset[str] = frozenset()) -> tuple[list[Drift], dict[str, Decimal]]:
    """Compare the sum of the user's positions per base asset with the account balance (available + inOrder).

    Positions move only by our own fills, so coins beyond them are the user's: they are returned as *unmanaged*
    (asset → amount; 0 when there is none) and never assigned to a profile. A shortfall (fewer coins than the
    positions) is a drift shared among the profiles holding the asset in proportion to their quantity (the last
    one takes the rounding remainder, so the shares add up exactly). Assets in ``skip`` (their trades could not
    be read) are not compared. EUR is compared separately (:func:`eur_shortfall`).
    """
    by_asset: dict[str, list[Holding]] = {}
    for h in holdings:
        by_asset.setdefault(h.market.split("-")[0], []).append(h)
    assets = sorted((set(by_asset) | set(balances)) - {QUOTE} - skip)
    drifts: list[Drift] = []
    unmanaged: dict[str, Decimal] = {}
    for asset in assets:
        held = sorted(by_asset.get(asset, []), key=lambda h: str(h.profile_id))
        database = sum((h.quantity for h in held), Decimal(0))
        balance = balances.get(asset)
        exchange = balance.available + balance.in_order if balance else Decimal(0)
        amount = exchange - database
        unmanaged[asset] = amount if amount > tolerance else Decimal(0)
        if amount >= -tolerance:
            continue
        holders = [h for h in held if h.quantity > 0]  # not empty: the positions exceed a balance >= 0
        shares: dict[UUID, Decimal] = {}
        left = amount
        for h in holders[:-1]:
            share = (amount * h.quantity / database).quantize(SHARE_QUANTUM)
            shares[h.profile_id] = share
            left -= share
        shares[holders[-1].profile_id] = left
        drifts.append(Drift(asset, held[0].market, database, exchange, shares))
    return drifts, unmanaged


def eur_shortfall(ledger_cash: Decimal, balances: Mapping[str, Balance], *,
                 tolerance: Decimal = EUR_TOLERANCE) -> Notice | None:
    """Compare the EUR the user's capital accounts hold as cash (allocated - reserved_for_positions + realized_pnl,
    summed) with the account's EUR (available + inOrder).

    More EUR on the exchange is normal (money not allocated to any profile); less means the ledgers count cash
    that is not there (a withdrawal, a fee or fill we never saw). It is reported, not booked: which profile lost
    it is unknowable, and the balance re-check before every order already refuses to spend what is not there.
    """
    balance = balances.get(QUOTE)
    exchange = balance.available + balance.in_order if balance else Decimal(0)
    if ledger_cash - exchange <= tolerance:
        return None
    return Notice(Mismatch.EUR_SHORTFALL, None, {
        "asset": QUOTE, "ledger_cash": str(ledger_cash), "exchange": str(exchange),
        "shortfall": str(ledger_cash - exchange)})


__all__ = [
    "DEFAULT_TOLERANCE", "EUR_TOLERANCE", "KINDS", "AdoptOrder", "ApplyOrder", "DbOrder", "DbView", "Drift",
    "ExchangeView", "Holding", "Lookup", "Mismatch", "Notice", "Plan", "balance_drift", "eur_shortfall",
    "lookups_needed", "plan_orders",
]
