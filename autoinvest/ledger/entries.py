"""The capital ledger's arithmetic: accounts, entries, the invariant. Pure: no I/O, no clock.

An account has four columns (EUR)::

    free = allocated - reserved_for_orders - reserved_for_positions + realized_pnl >= 0

and ``allocated``, ``reserved_for_orders``, ``reserved_for_positions`` are never negative.
Capital moves only by entries. Each entry is identified by ``(kind, reference)``; posting the
same pair twice changes nothing, so every exchange event can be replayed safely.

Two-phase reservation (after TigerBeetle's pending/post/void):

* ``reserve``  opens the pending amount of an execution: ``reserved_for_orders += amount``.
* ``fill``     posts part of it: the fill's quote moves from ``reserved_for_orders`` into
  ``reserved_for_positions``. ``from_reservation`` (default: the whole quote) says how much of it
  the execution's remaining reservation covers; a fill costlier than what is left (slippage) takes
  the rest from free capital and may be refused, never borrowed from another execution's reservation.
* ``fee``      is an expense (``realized_pnl -= fee``); on a buy, pass ``from_reservation`` so the
  fee headroom reserved up front pays it instead of free capital.
* ``release``  voids what is left of the reservation (cancel, reject, not placed, filled below
  the reserved amount). It is posted once per execution: a second release is a duplicate.
* ``exit``     (a sell fill) releases cost basis from ``reserved_for_positions`` and books
  ``proceeds - cost_basis`` as realized profit; free capital grows by the proceeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias
from uuid import UUID

from autoinvest.errors import InvalidEntry, InvariantViolation

JsonValue: TypeAlias = "str | int | bool | list[JsonValue] | dict[str, JsonValue] | None"
Memo: TypeAlias = Mapping[str, JsonValue]

ZERO = Decimal(0)
COLUMNS = ("allocated", "reserved_for_orders", "reserved_for_positions", "realized_pnl")


class Kind(StrEnum):
    """Entry kinds; the same names as the ``ledger_entries.kind`` CHECK."""

    ALLOCATE = "ALLOCATE"
    DEALLOCATE = "DEALLOCATE"
    RESERVE = "RESERVE"
    RELEASE = "RELEASE"
    FILL = "FILL"
    FEE = "FEE"
    EXIT = "EXIT"
    ADJUST = "ADJUST"


@dataclass(frozen=True)
class Account:
    """The materialised capital of one profile."""

    allocated: Decimal = ZERO
    reserved_for_orders: Decimal = ZERO
    reserved_for_positions: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        """Capital available for new reservations."""
        return self.allocated - self.reserved_for_orders - self.reserved_for_positions + self.realized_pnl

    def check(self) -> None:
        """Raise InvariantViolation unless the account satisfies the invariant."""
        negative = [c for c in COLUMNS[:3] if getattr(self, c) < 0]
        if negative:
            raise InvariantViolation(f"negative {', '.join(negative)}: {self}")
        if self.free < 0:
            raise InvariantViolation(f"free capital would be {self.free}: {self}")


@dataclass(frozen=True)
class Entry:
    """One append-only ledger entry: the deltas it moves the account by."""

    kind: Kind
    reference: str
    d_allocated: Decimal = ZERO
    d_reserved_for_orders: Decimal = ZERO
    d_reserved_for_positions: Decimal = ZERO
    d_realized_pnl: Decimal = ZERO
    memo: Memo = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.reference:
            raise InvalidEntry("an entry needs a non-empty reference")
        for name in ("d_allocated", "d_reserved_for_orders", "d_reserved_for_positions", "d_realized_pnl"):
            _decimal(getattr(self, name), name)


@dataclass(frozen=True)
class Difference:
    """The materialised account differs from the one rebuilt from the entries."""

    materialised: Account
    rebuilt: Account

    @property
    def drift(self) -> dict[str, Decimal]:
        """Per differing column: materialised minus rebuilt."""
        return {c: getattr(self.materialised, c) - getattr(self.rebuilt, c) for c in COLUMNS
                if getattr(self.materialised, c) != getattr(self.rebuilt, c)}


# ---------------------------------------------------------------- arithmetic

def apply(account: Account, entry: Entry) -> Account:
    """The account moved by the entry; raises InvariantViolation if the result breaks the invariant."""
    moved = _moved(account, entry)
    moved.check()
    return moved


def rebuild(entries: Iterable[Entry]) -> Account:
    """Fold the entries from a zero account (sums only: the result is checked by the caller)."""
    # Unchecked on purpose: check() must be able to report a history whose sum breaks the invariant.
    account = Account()
    for entry in entries:
        account = _moved(account, entry)
    return account


def difference(materialised: Account, rebuilt: Account) -> Difference | None:
    """None when both accounts agree column by column."""
    return None if materialised == rebuilt else Difference(materialised, rebuilt)


def reservation_remaining(entries: Iterable[Entry], execution_id: UUID) -> Decimal:
    """What is still reserved for one execution: its RESERVE minus what its fills, fees and release used."""
    key = str(execution_id)
    return sum((e.d_reserved_for_orders for e in entries if e.memo.get("execution_id") == key), ZERO)


def _moved(account: Account, entry: Entry) -> Account:
    return replace(
        account,
        allocated=account.allocated + entry.d_allocated,
        reserved_for_orders=account.reserved_for_orders + entry.d_reserved_for_orders,
        reserved_for_positions=account.reserved_for_positions + entry.d_reserved_for_positions,
        realized_pnl=account.realized_pnl + entry.d_realized_pnl,
    )


# ---------------------------------------------------------------- constructors, one per kind

def allocate(profile_id: UUID, request_id: str, amount: Decimal) -> Entry:
    """Add capital to a profile; ``request_id`` is the caller's idempotency key."""
    return Entry(Kind.ALLOCATE, _scoped("alloc", profile_id, request_id),
                 d_allocated=_positive(amount, "amount"), memo={"request_id": request_id})


def deallocate(profile_id: UUID, request_id: str, amount: Decimal) -> Entry:
    """Withdraw capital from a profile (refused if it is not free)."""
    return Entry(Kind.DEALLOCATE, _scoped("dealloc", profile_id, request_id),
                 d_allocated=-_positive(amount, "amount"), memo={"request_id": request_id})


def reserve(execution_id: UUID, amount_eur: Decimal) -> Entry:
    """Open the pending reservation of an execution (include the fee headroom in the amount)."""
    return Entry(Kind.RESERVE, f"exec:{execution_id}", d_reserved_for_orders=_positive(amount_eur, "amount_eur"),
                 memo={"execution_id": str(execution_id)})


def fill(execution_id: UUID, fill_id: UUID | str, quote_amount: Decimal, *,
         from_reservation: Decimal | None = None) -> Entry:
    """Post a BUY fill: its quote moves from the execution's reservation into positions."""
    quote = _positive(quote_amount, "quote_amount")
    covered = quote if from_reservation is None else _non_negative(from_reservation, "from_reservation")
    if covered > quote:
        raise InvalidEntry(f"from_reservation {covered} exceeds the fill's quote {quote}")
    return Entry(Kind.FILL, f"fill:{_id(fill_id)}", d_reserved_for_orders=-covered, d_reserved_for_positions=quote,
                 memo={"execution_id": str(execution_id), "fill_id": str(fill_id)})


def fee(fill_id: UUID | str, fee_eur: Decimal, *, execution_id: UUID | None = None,
        from_reservation: Decimal = ZERO) -> Entry:
    """Book a fill's fee as an expense, paid from the execution's reservation up to ``from_reservation``."""
    amount = _non_negative(fee_eur, "fee_eur")
    covered = _non_negative(from_reservation, "from_reservation")
    if covered > amount:
        raise InvalidEntry(f"from_reservation {covered} exceeds the fee {amount}")
    if covered and execution_id is None:
        raise InvalidEntry("a fee paid from a reservation needs the execution_id")
    memo: dict[str, JsonValue] = {"fill_id": str(fill_id)}
    if execution_id is not None:
        memo["execution_id"] = str(execution_id)
    # Paying from the reservation releases that headroom first, so the expense does not touch free capital.
    return Entry(Kind.FEE, f"fee:{_id(fill_id)}", d_reserved_for_orders=-covered, d_realized_pnl=-amount, memo=memo)


def release(execution_id: UUID, remaining_amount: Decimal) -> Entry:
    """Void what is left of an execution's reservation (zero closes it without moving capital)."""
    return Entry(Kind.RELEASE, f"exec:{execution_id}",
                 d_reserved_for_orders=-_non_negative(remaining_amount, "remaining_amount"),
                 memo={"execution_id": str(execution_id)})


def exit(fill_id: UUID | str, cost_basis_released: Decimal, proceeds: Decimal) -> Entry:
    """Post a SELL fill: release the sold cost basis and realize ``proceeds - cost_basis``."""
    basis = _non_negative(cost_basis_released, "cost_basis_released")
    gained = _non_negative(proceeds, "proceeds")
    return Entry(Kind.EXIT, f"fill:{_id(fill_id)}", d_reserved_for_positions=-basis, d_realized_pnl=gained - basis,
                 memo={"fill_id": str(fill_id)})


def adjust(profile_id: UUID, request_id: str, *, reason: str, d_allocated: Decimal = ZERO,
           d_reserved_for_orders: Decimal = ZERO, d_reserved_for_positions: Decimal = ZERO,
           d_realized_pnl: Decimal = ZERO, memo: Memo | None = None) -> Entry:
    """A reconciliation correction: explicit deltas with a reason, never an in-place edit."""
    deltas = (d_allocated, d_reserved_for_orders, d_reserved_for_positions, d_realized_pnl)
    if not any(_decimal(d, "delta") for d in deltas):
        raise InvalidEntry("an adjustment must move at least one column")
    if not reason:
        raise InvalidEntry("an adjustment needs a reason")
    return Entry(Kind.ADJUST, _scoped("adjust", profile_id, request_id), *deltas,
                 memo={**(memo or {}), "reason": reason, "request_id": request_id})


# ---------------------------------------------------------------- validation

def _scoped(prefix: str, profile_id: UUID, request_id: str) -> str:
    # UNIQUE(kind, reference) is global: the profile id keeps two profiles' keys apart.
    return f"{prefix}:{profile_id}:{_id(request_id)}"


def _id(value: UUID | str) -> str:
    text = str(value)
    if not text.strip():
        raise InvalidEntry("an id in a reference must not be empty")
    return text


def _decimal(value: object, name: str) -> Decimal:
    # Runtime guard as well as a type hint: a float here would already have lost precision.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidEntry(f"{name} must be a finite Decimal, got {value!r}")
    return value


def _non_negative(value: Decimal, name: str) -> Decimal:
    if _decimal(value, name) < 0:
        raise InvalidEntry(f"{name} must not be negative, got {value}")
    return value


def _positive(value: Decimal, name: str) -> Decimal:
    if _decimal(value, name) <= 0:
        raise InvalidEntry(f"{name} must be positive, got {value}")
    return value


__all__ = [
    "COLUMNS", "ZERO", "Account", "Difference", "Entry", "InvalidEntry", "InvariantViolation", "JsonValue",
    "Kind", "Memo", "adjust", "allocate", "apply", "deallocate", "difference", "exit", "fee", "fill", "rebuild",
    "release", "reservation_remaining", "reserve",
]
