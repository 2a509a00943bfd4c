"""Prove against the exchange what a key pair may do, before it is trusted (guarantee 3).

Three checks, each asked of the EXCHANGE (a read-only session refuses state-changing endpoints locally, which
proves nothing about the key):

* ``same_account``: both keys read the account's BTC deposit data (``GET /deposit``), which is per account, and
  it must be equal. Limits: it needs View on both keys (a Trade key without View fails closed), and an exchange
  that rotated the address between the two reads would fail closed too (a retry passes).
* ``readonly_cannot_trade``: the read-only key cancels a random order id. Even if accepted it changes nothing
  (no order has that id); the check passes only on the permission error 310.
* ``trade_cannot_withdraw``: the trade key asks for a withdrawal of one satoshi to an address that cannot exist.
  Even if accepted it could not move money (below every minimum, invalid address); it passes only on 312.

Any other answer fails the check (the key can do it) or leaves it inconclusive (unreachable, rate limited,
refused authentication): both refuse the key.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from autoinvest.errors import AuthenticationFailed, ExchangeError, ExchangeUnavailable, PermissionDenied, RateLimited
from autoinvest.exchange import _endpoints as ep
from autoinvest.exchange._bitvavo import BitvavoErrorResponse
from autoinvest.exchange._session import DEFAULT_ACCESS_WINDOW_MS, DEFAULT_TIMEOUT_MS, Session
from autoinvest.exchange.budget import DEFAULT_BUDGETS, BudgetRegistry
from autoinvest.exchange.credentials import Credential
from autoinvest.exchange.pool import SessionPool

SAME_ACCOUNT = "same_account"
READONLY_CANNOT_TRADE = "readonly_cannot_trade"
TRADE_CANNOT_WITHDRAW = "trade_cannot_withdraw"

PASSED = "passed"
FAILED = "failed"
INCONCLUSIVE = "inconclusive"
#: Refusals that say nothing about the permission probed (another permission, the key, the IP, the rate).
_NO_ANSWER = (RateLimited, AuthenticationFailed, PermissionDenied)

NO_TRADING_CODE = 310  # "This key does not allow trading actions."
NO_WITHDRAWAL_CODE = 312  # "This key does not allow withdrawal of funds."
PROBE_MARKET = "BTC-EUR"
PROBE_SYMBOL = "BTC"
PROBE_WITHDRAWAL_AMOUNT = "0.00000001"
PROBE_ADDRESS = "autoinvest-permission-probe-not-an-address"

CREDENTIAL_ACCOUNT_MISMATCH = "CREDENTIAL_ACCOUNT_MISMATCH"
CREDENTIAL_READONLY_CAN_TRADE = "CREDENTIAL_READONLY_CAN_TRADE"
CREDENTIAL_TRADE_CAN_WITHDRAW = "CREDENTIAL_TRADE_CAN_WITHDRAW"
CREDENTIAL_CHECK_INCONCLUSIVE = "CREDENTIAL_CHECK_INCONCLUSIVE"
_FAILED_REASONS = {SAME_ACCOUNT: CREDENTIAL_ACCOUNT_MISMATCH, READONLY_CANNOT_TRADE: CREDENTIAL_READONLY_CAN_TRADE,
                   TRADE_CANNOT_WITHDRAW: CREDENTIAL_TRADE_CAN_WITHDRAW}


@dataclass(frozen=True)
class Verification:
    """The outcome per check that could run; ``reason`` is the first refusal's code (None: all passed)."""

    checks: dict[str, str]
    reason: str | None = None
    detail: str = ""
    complete: bool = False  # both keys were given, so all three checks ran

    @property
    def ok(self) -> bool:
        return self.reason is None


async def _refused(call: Callable[[], Awaitable[Any]], permission_code: int) -> tuple[str, str]:
    """PASSED only when the exchange refuses the call with ``permission_code``; FAILED when it judged the request
    itself (accepted it, or refused it for its content: so the permission was there); else INCONCLUSIVE."""
    try:
        await call()
    except ExchangeError as exc:
        cause = exc.__cause__
        if isinstance(cause, BitvavoErrorResponse) and cause.error_code == permission_code:
            return PASSED, ""
        if not isinstance(cause, BitvavoErrorResponse) or isinstance(exc, _NO_ANSWER) or cause.http_status >= 500:
            return INCONCLUSIVE, str(exc)
        return FAILED, f"the exchange judged the request instead of refusing the permission ({exc})"
    return FAILED, "the exchange accepted it"


async def _deposit_id(session: Session) -> tuple[str, str]:
    data = await session.call(ep.DEPOSIT, {"symbol": PROBE_SYMBOL})
    if not isinstance(data, dict) or not data.get("address"):
        raise ExchangeUnavailable("GET /deposit: no deposit address in the answer")
    return str(data["address"]), str(data.get("paymentId") or "")


async def _same_account(readonly: Session, trade: Session) -> tuple[str, str]:
    try:
        first = await _deposit_id(readonly)
        second = await _deposit_id(trade)
    except ExchangeError as exc:
        return INCONCLUSIVE, f"deposit data unreadable ({exc})"
    if first != second:
        return FAILED, "the two keys see different deposit addresses: they belong to different accounts"
    return PASSED, ""


def _session(pool: SessionPool, credential: Credential) -> Session:
    return pool.session(credential, owner="verify", timeout_ms=DEFAULT_TIMEOUT_MS,
                        access_window_ms=DEFAULT_ACCESS_WINDOW_MS)


async def verify(readonly: Credential | None, trade: Credential | None, *, operator_id: int = 1,
                 budgets: BudgetRegistry = DEFAULT_BUDGETS) -> Verification:
    """Run every check the given keys allow (the pair check needs both)."""
    sessions: dict[str, Session] = {}
    results: dict[str, tuple[str, str]] = {}
    pool = SessionPool(budgets=budgets)
    try:
        if readonly is not None:
            ro = sessions["readonly"] = _session(pool, readonly)
            cancel = {"market": PROBE_MARKET, "orderId": str(uuid.uuid4()), "operatorId": operator_id}
            results[READONLY_CANNOT_TRADE] = await _refused(lambda: ro.call(ep.PROBE_CANCEL, cancel),
                                                            NO_TRADING_CODE)
        if trade is not None:
            tr = sessions["trade"] = _session(pool, trade)
            withdrawal = {"symbol": PROBE_SYMBOL, "amount": PROBE_WITHDRAWAL_AMOUNT, "address": PROBE_ADDRESS,
                          "internal": False, "addWithdrawalFee": False}
            results[TRADE_CANNOT_WITHDRAW] = await _refused(lambda: tr.call(ep.PROBE_WITHDRAWAL, withdrawal),
                                                            NO_WITHDRAWAL_CODE)
        if readonly is not None and trade is not None:
            results[SAME_ACCOUNT] = await _same_account(sessions["readonly"], sessions["trade"])
    finally:
        await pool.close()
    checks = {name: outcome for name, (outcome, _) in results.items()}
    for name, (outcome, detail) in results.items():
        if outcome != PASSED:
            reason = _FAILED_REASONS[name] if outcome == FAILED else CREDENTIAL_CHECK_INCONCLUSIVE
            return Verification(checks, reason, f"{name}: {detail}", complete=len(results) == 3)
    return Verification(checks, None, "", complete=len(results) == 3)
