"""Names shared by the database CHECK constraints and the code."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class ExecutionState(StrEnum):
    CLAIMED = "CLAIMED"
    SUBMITTING = "SUBMITTING"
    SUBMITTED = "SUBMITTED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    NOT_PLACED = "NOT_PLACED"

    @property
    def live(self) -> bool:
        """A live execution may still produce an exchange order or fills (so may a NOT_PLACED whose
        ``confirmed_at`` is still NULL: see ``execution.preflight.LIVE_SQL``)."""
        return self in (ExecutionState.CLAIMED, ExecutionState.SUBMITTING, ExecutionState.SUBMITTED)


class ProposalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXECUTED = "EXECUTED"


class CredentialPurpose(StrEnum):
    READONLY = "readonly"
    TRADE = "trade"


CONFIDENCE_BUCKETS: frozenset[int] = frozenset({0, 25, 50, 75, 100})
