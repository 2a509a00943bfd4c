"""One error tree for the whole product.

Every error carries a stable ``reason`` code (an upper-case string) that the
CLI prints, the API returns and logs record. Foreign libraries (psycopg, ccxt,
openai) are translated into this tree at exactly one place each.

    AutoInvestError
    ├── ConfigError                     bad settings; the program stops at start
    ├── InputError                      bad user input (CLI, API); nothing changed
    │   └── NotFound
    ├── DatabaseError                   db/errors.py is the psycopg translation point
    │   ├── UnsafeDatabaseRole          app role owns tables or bypasses RLS
    │   ├── DatabaseUnavailable         cannot connect, or the connection was lost
    │   └── ConstraintViolation         PostgreSQL refused a row; carries the constraint's name
    │       ├── UniqueViolated          a UNIQUE constraint or index
    │       ├── CheckRefused            a CHECK constraint
    │       └── ForeignKeyMissing       a FOREIGN KEY (the referenced row does not exist)
    ├── ExchangeError                   exchange/ (ccxt, HTTP) translation point
    │   ├── AuthenticationFailed        bad key, bad signature, window expired
    │   ├── PermissionDenied            key lacks the permission (view-only trading)
    │   ├── InsufficientFunds           definitive: the order was not placed
    │   ├── InvalidOrder                definitive: the order was not placed
    │   │   └── BelowMinimum
    │   ├── OrderNotFound
    │   ├── RateLimited                 nothing changed; retry later
    │   ├── ExchangeUnavailable         nothing changed (read calls, maintenance)
    │   └── OutcomeUnknown              a state-changing call whose result is unknown:
    │                                   never resend, ask the exchange by clientOrderId
    ├── KeySeparationError              a trade key used for reading, or the reverse
    ├── CredentialRefused               the exchange showed a key pair can do more (or other) than its purpose
    ├── ClockSkewExceeded               the exchange's clock and ours disagree (or were not measured): not sent
    ├── Unauthenticated                 an API caller's token is refused (api/tokens.py is PyJWT's translation point)
    ├── LedgerError
    │   ├── InvariantViolation          a capital move would break free >= 0 (the CHECK refuses it too)
    │   ├── InvalidEntry                a ledger entry built with a bad amount or reference
    │   ├── LedgerConflict              an entry's (kind, reference) is taken by another profile
    │   └── OverSell                    a sell fill larger than the position: refused, nothing applied
    └── LLMError                        proposers/llm translation point
"""

from __future__ import annotations


class AutoInvestError(Exception):
    """Base of every error this product raises on purpose."""

    reason: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return f"[{self.reason}] {super().__str__()}"


class ConfigError(AutoInvestError):
    reason = "CONFIG_INVALID"


class InputError(AutoInvestError):
    reason = "INPUT_INVALID"


class NotFound(InputError):
    reason = "NOT_FOUND"


class DatabaseError(AutoInvestError):
    reason = "DATABASE_ERROR"


class UnsafeDatabaseRole(DatabaseError):
    reason = "DB_ROLE_UNSAFE"


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached, or the session ended (restart, terminated, timed out): reconnect."""

    reason = "DB_UNAVAILABLE"


class ConstraintViolation(DatabaseError):
    """PostgreSQL refused a statement by a constraint; ``constraint`` is its name when PostgreSQL gives one."""

    def __init__(self, message: str, *, constraint: str | None = None, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.constraint = constraint


class UniqueViolated(ConstraintViolation):
    reason = "DB_UNIQUE_VIOLATION"


class CheckRefused(ConstraintViolation):
    reason = "DB_CHECK_VIOLATION"


class ForeignKeyMissing(ConstraintViolation):
    reason = "DB_FOREIGN_KEY_VIOLATION"


class ExchangeError(AutoInvestError):
    reason = "EXCHANGE_ERROR"
    #: True when the exchange certainly did not apply the request.
    definitive: bool = False


class AuthenticationFailed(ExchangeError):
    reason = "EXCHANGE_AUTH_FAILED"
    definitive = True


class PermissionDenied(ExchangeError):
    reason = "EXCHANGE_PERMISSION_DENIED"
    definitive = True


class InsufficientFunds(ExchangeError):
    reason = "EXCHANGE_INSUFFICIENT_FUNDS"
    definitive = True


class InvalidOrder(ExchangeError):
    reason = "EXCHANGE_INVALID_ORDER"
    definitive = True


class BelowMinimum(InvalidOrder):
    reason = "EXCHANGE_BELOW_MINIMUM"


class OrderNotFound(ExchangeError):
    reason = "EXCHANGE_ORDER_NOT_FOUND"
    definitive = True


class RateLimited(ExchangeError):
    reason = "EXCHANGE_RATE_LIMITED"
    definitive = True


class ExchangeUnavailable(ExchangeError):
    reason = "EXCHANGE_UNAVAILABLE"


class OutcomeUnknown(ExchangeError):
    reason = "EXCHANGE_OUTCOME_UNKNOWN"


class KeySeparationError(AutoInvestError):
    reason = "KEY_SEPARATION_VIOLATION"


class CredentialRefused(AutoInvestError):
    """A key pair failed (or could not pass) verification against the exchange; ``reason`` names the check."""

    reason = "CREDENTIAL_UNVERIFIED"


class Unauthenticated(AutoInvestError):
    """An API caller's bearer token is refused; ``reason`` says why (the API answers 401)."""

    reason = "TOKEN_INVALID"


class ClockSkewExceeded(AutoInvestError):
    """No order is sent: the last measured skew is beyond the bound, or no fresh measurement exists."""

    reason = "CLOCK_SKEW_EXCEEDED"


class LedgerError(AutoInvestError):
    reason = "LEDGER_ERROR"


class InvariantViolation(LedgerError):
    """An account would break ``free >= 0`` or a column that must not be negative."""

    reason = "CAPITAL_INVARIANT_VIOLATED"


class InvalidEntry(LedgerError):
    """An entry constructor got a bad amount or reference (a programming error)."""

    reason = "LEDGER_ENTRY_INVALID"


class LedgerConflict(LedgerError):
    """An entry's (kind, reference) is already taken by another profile or tenant."""

    reason = "LEDGER_REFERENCE_CONFLICT"


class OverSell(LedgerError):
    """A sell fill is larger than the position it sells from: booking it would invent profit."""

    reason = "OVERSELL_REFUSED"


class LLMError(AutoInvestError):
    reason = "LLM_ERROR"
