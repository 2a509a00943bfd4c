"""The one catalogue of reason codes: every stable code the product records, prints or returns, what it means
and where it can appear. Pure: no I/O.

A code is never renamed: codes are stored (``executions.reasons``, ``scan_jobs.last_error``, audit details, kill
switch reasons, ledger memos), printed by the CLI (``[CODE] message`` on stderr), logged as ``reason`` and
matched by operators' scripts. Add a new code here with its meaning; ``tests/unit/test_reason_catalogue.py`` walks
the source and fails on a code this catalogue does not list, and on an entry nothing uses any more.

The pre-flight subset is ``policy.reasons.ReasonCode`` (one code per rule); the error tree's codes are the
``reason`` attributes of ``autoinvest.errors``. The module-level codes below are defined here so that the modules
that record them can refer to one spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from autoinvest.policy.reasons import ReasonCode


class Where(StrEnum):
    """Where a code can appear."""

    #: A pre-flight rule's denial (``Decision.reasons``, ``policy.ReasonCode``).
    PREFLIGHT = "preflight"
    #: An execution's ``reasons`` (the executions table, the ``execute`` command's JSON).
    EXECUTION = "execution"
    #: An ``AutoInvestError``'s reason: the CLI's stderr line (exit 2), logs' ``reason``, a loop heartbeat's
    #: error, a scan job's ``last_error``, a reconcile report's ``skipped``/``error``.
    ERROR = "error"
    #: A proposer's ``Rejection`` (no proposal made): the scan log, the LLM call's outcome, a metric label.
    PROPOSER = "proposer"
    #: A scan job's ``last_error`` written by the scheduler itself.
    SCAN = "scan"
    #: The reason recorded with a kill switch (and its audit entry).
    KILL_SWITCH = "kill_switch"
    #: An audit_log entry's details.
    AUDIT = "audit"
    #: A ledger entry's memo (``reason`` of an ADJUST entry).
    LEDGER_MEMO = "ledger_memo"


@dataclass(frozen=True, slots=True)
class Code:
    """One catalogued code."""

    code: str
    meaning: str
    where: frozenset[Where]


# -- module-level codes (one spelling for the modules that record them) --

ENTRY_IN_PROGRESS: Final = "ENTRY_IN_PROGRESS"
NOT_FOUND_AFTER_WINDOW: Final = "NOT_FOUND_AFTER_WINDOW"
INSUFFICIENT_EXCHANGE_BALANCE: Final = "INSUFFICIENT_EXCHANGE_BALANCE"
LATE_ORDER_FOUND: Final = "LATE_ORDER_FOUND"
STALE_CLAIM_REDECIDED: Final = "STALE_CLAIM_REDECIDED"
ORDER_FOUND_BEFORE_SEND: Final = "ORDER_FOUND_BEFORE_SEND"
ADOPTED_BY_RECONCILIATION: Final = "ADOPTED_BY_RECONCILIATION"
EXCHANGE_MALFORMED_RESPONSE: Final = "EXCHANGE_MALFORMED_RESPONSE"
LEDGER_MISMATCH_AT_START: Final = "LEDGER_MISMATCH_AT_START"
RUN_INCOMPLETE: Final = "RUN_INCOMPLETE"
LLM_BUDGET_EXHAUSTED: Final = "LLM_BUDGET_EXHAUSTED"
EXCHANGE_NUMBER_INVALID: Final = "EXCHANGE_NUMBER_INVALID"
OVERSELL_REFUSED: Final = "OVERSELL_REFUSED"
RECONCILE_SHORTFALL: Final = "RECONCILE_SHORTFALL"

_P, _X, _E, _R = Where.PREFLIGHT, Where.EXECUTION, Where.ERROR, Where.PROPOSER


def _c(code: str, meaning: str, *where: Where) -> Code:
    return Code(str(code), meaning, frozenset(where))


_ENTRIES: tuple[Code, ...] = (
    # -- pre-flight: one per rule (policy/rules.py); recorded on a REJECTED execution --
    _c(ReasonCode.KILL_SWITCH_GLOBAL, "the operator's global kill switch is on", _P, _X),
    _c(ReasonCode.KILL_SWITCH_USER, "the user's kill switch is on", _P, _X),
    _c(ReasonCode.KILL_SWITCH_PROFILE, "trading is disabled on the profile (its kill switch)", _P, _X),
    _c(ReasonCode.PROPOSAL_NOT_APPROVED, "the proposal is not APPROVED", _P, _X),
    _c(ReasonCode.PROPOSAL_EXPIRED, "the proposal's expiry has passed (also: approving an expired proposal)",
       _P, _X, _E),
    _c(ReasonCode.ALLOWLIST_EMPTY_DENY_BY_DEFAULT, "the profile's allowlist is empty, which denies every market",
       _P, _X),
    _c(ReasonCode.MARKET_NOT_ALLOWED, "the market is not on the profile's allowlist (also an LLM rejection)",
       _P, _X, _R),
    _c(ReasonCode.ORDER_BELOW_POLICY_MIN, "the order is below the policy's min_order_eur (or not positive)", _P, _X),
    _c(ReasonCode.ORDER_ABOVE_POLICY_MAX, "the order is above the policy's max_order_eur", _P, _X),
    _c(ReasonCode.ORDER_BELOW_EXCHANGE_MIN, "the order is below the exchange's minimum for the market", _P, _X),
    _c(ReasonCode.CONFIDENCE_NOT_ALLOWED, "the confidence is not one of the profile's allowed buckets", _P, _X),
    _c(ReasonCode.CONFIDENCE_BELOW_MIN, "the confidence is below the profile's min_confidence", _P, _X),
    _c(ReasonCode.COOLDOWN_ACTIVE, "the last trade of the market is more recent than the cooldown", _P, _X),
    _c(ReasonCode.ANTI_FLIP, "the last trade was the opposite side, more recently than the anti-flip window", _P, _X),
    _c(ReasonCode.DAILY_CAP_REACHED, "the profile reached max_trades_per_day", _P, _X),
    _c(ReasonCode.HOURLY_CAP_REACHED, "the profile reached max_trades_per_hour", _P, _X),
    _c(ReasonCode.INSUFFICIENT_CAPITAL, "free capital (a buy, with fee headroom) or the position (a sell) does not "
       "cover the order", _P, _X),

    # -- execution: recorded by the claim/submit/resolve state machine and reconciliation --
    _c(ENTRY_IN_PROGRESS, "another entry of this profile and market is live: the claim waits (execute exits 6)",
       _X, Where.AUDIT),
    _c(NOT_FOUND_AFTER_WINDOW, "the exchange did not know the order after its signing window: NOT_PLACED", _X),
    _c(INSUFFICIENT_EXCHANGE_BALANCE, "the exchange balance re-checked before the send does not cover the order: "
       "NOT_PLACED, nothing sent", _X),
    _c(ADOPTED_BY_RECONCILIATION, "an order found on the exchange with no execution of ours, adopted by "
       "reconciliation", _X),
    _c(LATE_ORDER_FOUND, "an order called NOT_PLACED (not yet confirmed) was found on the exchange after all: "
       "back to SUBMITTED", _X),
    _c(STALE_CLAIM_REDECIDED, "a CLAIMED execution older than the stale-claim bound was decided again before "
       "its send", _X),
    _c(ORDER_FOUND_BEFORE_SEND, "a send that could repeat an earlier one found the clientOrderId on the "
       "exchange: the order is adopted, nothing sent", _X),

    # -- the error tree (autoinvest/errors.py) --
    _c("INTERNAL_ERROR", "base of every error of ours; never raised by itself", _E),
    _c("CONFIG_INVALID", "base of the configuration errors; never raised by itself", _E),
    _c("CONFIG_UNKNOWN_KEY", "an unknown AUTOINVEST_* variable is set", _E),
    _c("CONFIG_INVALID_VALUE", "a setting has a bad value", _E),
    _c("CONFIG_HOME_UNWRITABLE", "AUTOINVEST_HOME is not a writable directory", _E),
    _c("INPUT_INVALID", "base of the input errors; never raised by itself", _E),
    _c("NOT_FOUND", "an object does not exist or is not the caller's (where no kind-specific code is given)", _E),
    _c("DATABASE_ERROR", "a repository function was called outside the caller's transaction (a programming error)",
       _E),
    _c("DB_ROLE_UNSAFE", "the application's database role is a superuser, bypasses RLS or owns tables", _E),
    _c("DB_UNAVAILABLE", "the database cannot be reached, or the session ended: reconnect", _E),
    _c("DB_UNIQUE_VIOLATION", "PostgreSQL refused a row by a UNIQUE constraint (the error names it)", _E),
    _c("DB_CHECK_VIOLATION", "PostgreSQL refused a row by a CHECK constraint (the error names it)", _E),
    _c("DB_FOREIGN_KEY_VIOLATION", "PostgreSQL refused a row whose referenced row does not exist", _E),
    _c("DB_NOT_RUNNING", "the embedded database is not running and no DATABASE_URL is set", _E),
    _c("DB_EMBEDDED_START_FAILED", "the embedded PostgreSQL did not start", _E),
    _c("DB_EMBEDDED_STOP_FAILED", "the embedded PostgreSQL did not stop", _E),
    _c("EXCHANGE_ERROR", "base of the exchange errors; never raised by itself", _E, _X),
    _c("EXCHANGE_AUTH_FAILED", "the exchange refused the key, the signature or the signing window", _E, _X),
    _c("EXCHANGE_PERMISSION_DENIED", "the key lacks the permission (e.g. a view-only key placing an order)", _E, _X),
    _c("EXCHANGE_INSUFFICIENT_FUNDS", "the exchange refused the order for lack of funds: not placed", _E, _X),
    _c("EXCHANGE_INVALID_ORDER", "the exchange refused the order as invalid: not placed", _E, _X),
    _c("EXCHANGE_BELOW_MINIMUM", "the exchange refused the order as below its minimum: not placed", _E, _X),
    _c("EXCHANGE_ORDER_NOT_FOUND", "the exchange does not know the order", _E, _X),
    _c("EXCHANGE_RATE_LIMITED", "the exchange (or our request budget) rate-limited the call: nothing changed", _E, _X),
    _c("EXCHANGE_UNAVAILABLE", "the exchange could not be reached on a read: nothing changed", _E, _X),
    _c("EXCHANGE_OUTCOME_UNKNOWN", "a state-changing call's outcome is unknown: never resend, look it up", _E, _X),
    _c(EXCHANGE_MALFORMED_RESPONSE, "the exchange answered something we cannot parse", _E, _X),
    _c("KEY_SEPARATION_VIOLATION", "a trade key used for reading, or a read-only key for trading", _E, _X),
    _c("LEDGER_ERROR", "base of the ledger errors; never raised by itself", _E),
    _c("CAPITAL_INVARIANT_VIOLATED", "a capital move would break free >= 0 or a non-negative column", _E),
    _c("LEDGER_ENTRY_INVALID", "a ledger entry was built with a bad amount or reference (a programming error)", _E),
    _c("LEDGER_REFERENCE_CONFLICT", "a ledger entry's (kind, reference) belongs to another profile", _E),
    _c("LLM_ERROR", "the LLM call failed for another reason", _E),
    _c("LLM_TIMEOUT", "the LLM endpoint timed out", _E),
    _c("LLM_UNAVAILABLE", "the LLM endpoint cannot be reached", _E),
    _c("LLM_RATE_LIMITED", "the LLM endpoint rate-limited the call", _E),
    _c("LLM_AUTH_FAILED", "the LLM endpoint refused the API key", _E),
    _c("LLM_HTTP_ERROR", "the LLM endpoint answered an HTTP error", _E),

    # -- operator input (accounts/, cli/, runtime) --
    _c("ID_INVALID", "an id is not a UUID", _E),
    _c("AMOUNT_INVALID", "an amount is not a plain finite decimal within bounds and places (also an LLM rejection)",
       _E, _R),
    _c("AMOUNT_NOT_POSITIVE", "an amount is zero or negative", _E),
    _c("AMOUNT_REQUIRED", "a proposal needs exactly one size: amount_eur, or amount_base for a sell", _E),
    _c("AMOUNT_BASE_SELL_ONLY", "amount_base sizes sells only", _E),
    _c("INTEGER_INVALID", "a value is not a whole number within its bounds", _E),
    _c("CONFIDENCE_INVALID", "a confidence is not one of 0, 25, 50, 75, 100 (also an LLM rejection)", _E, _R),
    _c("MARKET_INVALID", "a market does not look like BTC-EUR, or the allowlist is empty (also an LLM rejection)",
       _E, _R),
    _c("SIDE_INVALID", "a side is not buy or sell (also an LLM rejection)", _E, _R),
    _c("PURPOSE_INVALID", "a key purpose is not readonly or trade", _E),
    _c("TTL_INVALID", "a proposal ttl is malformed or out of range", _E),
    _c("EMAIL_INVALID", "an e-mail address is malformed", _E),
    _c("EMAIL_TAKEN", "a user with this e-mail address exists", _E),
    _c("NAME_INVALID", "a profile name is empty or longer than 100 characters", _E),
    _c("PROFILE_NAME_TAKEN", "the user already has a profile with this name", _E),
    _c("PRESET_INVALID", "an unknown risk preset", _E),
    _c("STRATEGY_INVALID", "an unknown strategy", _E),
    _c("MIN_ABOVE_MAX", "a lower limit is above its upper one (min/max order EUR, or trades per hour/day)", _E),
    _c("AUTO_APPROVE_BELOW_MIN_CONFIDENCE", "the auto-approve threshold is below min_confidence", _E),
    _c("SOURCE_INVALID", "an unknown proposal source", _E),
    _c("STATUS_INVALID", "an unknown proposal status", _E),
    _c("PROPOSAL_NOT_PENDING", "only a PENDING proposal can be approved or rejected", _E),
    _c("REQUEST_ID_INVALID", "a request id is not 1-100 letters, digits or . _ : -", _E),
    _c("REQUEST_ID_REUSED", "a request id was used before for another amount", _E),
    _c("INSUFFICIENT_FREE_CAPITAL", "a deallocation asks for more than the profile's free EUR", _E),
    _c("SCOPE_INVALID", "both --user and --profile were given", _E),
    _c("STATE_INVALID", "a kill-switch state is not on or off", _E),
    _c("WAIT_INVALID", "kill-switch --wait is outside 0..600 seconds", _E),
    _c("ROLE_UNKNOWN", "an unknown worker role or database component", _E),
    _c("OPERATOR_NAME_INVALID", "`db add-operator`: the name is not 1 to 30 lower-case letters, digits or _", _E),
    _c("PASSWORD_TOO_SHORT", "`db add-operator`: no password, or one shorter than 12 characters", _E),
    _c("SECRET_INVALID", "an API secret is not in Bitvavo's format (128 hex characters)", _E),
    _c("API_KEY_INVALID", "an API key is not in Bitvavo's format (64 letters and digits)", _E),
    _c("EXCHANGE_URL_INVALID", "an exchange URL is not http(s)", _E),
    _c("USER_NOT_FOUND", "no such user (or not visible to the caller)", _E),
    _c("PROFILE_NOT_FOUND", "no such profile (or not the caller's)", _E),
    _c("PROPOSAL_NOT_FOUND", "no such proposal (or not the caller's)", _E),
    _c("EXECUTION_NOT_FOUND", "no such execution", _E),

    # -- the vault: before anything is sent, the executor refuses an execution with these --
    _c("VAULT_KEY_MISSING", "the vault key of a purpose is not set", _E, _X),
    _c("VAULT_KEYS_NOT_SEPARATE", "the read-only and trade vault keys are the same key", _E, _X),
    _c("VAULT_KEY_INVALID", "a vault key is not a Fernet key", _E, _X),
    _c("VAULT_DECRYPT_FAILED", "a stored secret does not decrypt with its vault key", _E, _X),
    _c("TOKEN_INVALID", "an API bearer token that is malformed, badly signed or of an algorithm not configured", _E),
    _c("TOKEN_EXPIRED", "an API bearer token past its exp (or without exp or iat)", _E),
    _c("TOKEN_AUDIENCE_REFUSED", "an API bearer token for another audience or from another issuer", _E),
    _c("TOKEN_ROLE_REFUSED", "an API bearer token whose role is not \"authenticated\" (anon, service_role)", _E),
    _c("TOKEN_SUBJECT_INVALID", "an API bearer token without a user's UUID as its sub", _E),
    _c("CREDENTIAL_NOT_FOUND", "the user has no exchange key of that purpose", _E, _X),
    _c("VAULT_BINDING_MISMATCH", "a stored secret decrypts but was encrypted for another user or purpose (copied "
       "between rows)", _E, _X),
    _c("VAULT_CIPHERTEXT_UNBOUND", "a stored secret is in the unbound format of before migration 0008: "
       "`credentials rotate-vault-key` re-encrypts it", _E, _X),

    # -- secrets off the command line (cli/credentials.py): nothing stored --
    _c("SECRET_EMPTY", "no API secret was given (the prompt, standard input or --secret-file was empty)", _E),
    _c("SECRET_FILE_TOO_OPEN", "--secret-file may be read by group or others", _E),
    _c("SECRET_FILE_UNREADABLE", "--secret-file cannot be read", _E),

    # -- proposers: why no proposal was made (proposers/llm.py) --
    _c(LLM_BUDGET_EXHAUSTED, "the profile's LLM call budget is spent: no call made", _R),
    _c("EMPTY_OUTPUT", "the LLM answered nothing", _R),
    _c("NOT_JSON", "the LLM's answer is not JSON", _R),
    _c("SCHEMA_INVALID", "the LLM's answer does not match the schema", _R),
    _c("EXTRA_FIELDS", "the LLM's answer has fields the schema does not allow", _R),
    _c("AMOUNT_ABOVE_MAX", "the LLM's amount is above the policy's max_order_eur", _R),
    _c("AMOUNT_BELOW_MIN", "the LLM's amount is below the policy's min_order_eur", _R),
    _c("PRICE_UNKNOWN", "no price to size the LLM's sell", _R),
    _c("SELL_ABOVE_POSITION", "the LLM's sell is larger than the sellable position", _R),

    # -- recorded by the scheduler, start-up recovery and reconciliation --
    _c(RUN_INCOMPLETE, "a scan run did not finish before its lease expired (prefix of scan_jobs.last_error)",
       Where.SCAN),
    _c(LEDGER_MISMATCH_AT_START, "start-up recovery found the ledger off and paused the profile (prefix of the "
       "kill switch reason)", Where.KILL_SWITCH, Where.AUDIT),
    _c("balance_drift", "an ADJUST entry correcting a position to the exchange's balance (lower case by history)",
       Where.LEDGER_MEMO),

    # -- issue 11: the exchange a tenant trades on --
    _c("LIVE_EXCHANGE_URL_NOT_BITVAVO", "live mode accepts only https://api.bitvavo.com as the exchange URL", _E),
    _c("MARKET_NOT_LISTED", "the user's exchange does not list this market (profile or proposal refused)", _E),
    _c("MARKET_NOT_TRADING", "the user's exchange lists this market but not as trading (refused at creation)", _E),
    # -- exchange truth, round 2: the exchange edge and the fill arithmetic --
    _c(EXCHANGE_NUMBER_INVALID, "an exchange number is absurd, of the wrong sign or too precise: quarantined, "
                                "never applied", _E, _X),
    _c(OVERSELL_REFUSED, "a sell fill is larger than the position it sells from: nothing applied, quarantined",
       _E, _X),
    _c(RECONCILE_SHORTFALL, "reconciliation found fewer coins or less EUR than the books and paused the profile "
       "(prefix)", Where.KILL_SWITCH, Where.AUDIT),
    # -- key verification against the exchange (exchange/verify.py, accounts/vault.py): nothing stored or sent --
    _c("CREDENTIAL_UNVERIFIED", "the user's key pair has not passed verification against the exchange", _E, _X),
    _c("CREDENTIAL_ACCOUNT_MISMATCH", "the read-only and trade keys reach different exchange accounts", _E, _X),
    _c("CREDENTIAL_READONLY_CAN_TRADE", "the exchange let the read-only key make a trade call", _E, _X),
    _c("CREDENTIAL_TRADE_CAN_WITHDRAW", "the exchange let the trade key make a withdrawal call", _E, _X),
    _c("CREDENTIAL_CHECK_INCONCLUSIVE", "a key check got no clear answer from the exchange (unreachable, rate "
       "limited, key refused): the key is not trusted", _E, _X),

    # -- the clock-skew fence (observability/clock_skew.py): the execution stays CLAIMED, not sent --
    _c("CLOCK_SKEW_EXCEEDED", "the exchange's clock differs from the database's by more than the bound", _E),
    _c("CLOCK_SKEW_UNMEASURED", "no measurement of the exchange's clock is fresh enough to send an order", _E),
    _c("CONFIG_RESOLVER_GRACE_TOO_SHORT", "the resolver grace is shorter than the access window plus the skew "
       "bound", _E),
    # -- issue 12: live is explicit (config.check_exchange_url; test hooks) --
    _c("EXCHANGE_URL_NOT_LOCAL", "without AUTOINVEST_LIVE=true only a local (loopback) exchange URL is accepted "
       "(settings, credential store and load)", _E),
    _c("LIVE_TEST_HOOKS_REFUSED", "a test hook (TEST_HOOKS, FAILPOINT, SCAN_HOLD_S) is set together with "
       "AUTOINVEST_LIVE=true", _E),
)


def _index(entries: tuple[Code, ...]) -> Mapping[str, Code]:
    index: dict[str, Code] = {}
    for entry in entries:
        if entry.code in index:
            raise ValueError(f"reason code {entry.code} is catalogued twice")
        index[entry.code] = entry
    return MappingProxyType(index)


#: Every code, by its text.
CATALOGUE: Mapping[str, Code] = _index(_ENTRIES)


def codes(where: Where) -> frozenset[str]:
    """The codes that can appear at ``where``."""
    return frozenset(code for code, entry in CATALOGUE.items() if where in entry.where)


def meaning(code: str) -> str:
    """The one-line meaning of a code; KeyError for a code that is not catalogued."""
    return CATALOGUE[code].meaning
