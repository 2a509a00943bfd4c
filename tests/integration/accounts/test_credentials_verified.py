"""Guarantee 3, at store time: `credentials set` proves against the exchange what a key may do before storing it.
The read-only key must be refused a trade call, the trade key a withdrawal, and both must reach one account; a
refused key changes nothing (and the probes never trade)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.integration.accounts.conftest import CliResult, row_counts
from tests.support.remote import remote_listener
from tests.support.simulator import RunningSimulator, SimKey
from tests.support.trading import orders_of_account

Cli = Callable[..., CliResult]
Admin = psycopg.Connection[dict[str, Any]]
ALL_PASSED = {"same_account": "passed", "readonly_cannot_trade": "passed", "trade_cannot_withdraw": "passed"}


@pytest.fixture
def user(invoke: Cli) -> uuid.UUID:
    result = invoke("users", "create", f"keys-{uuid.uuid4().hex[:8]}@example.org")
    assert result.code == 0, result.stderr
    return uuid.UUID(result.stdout.strip())


def _set(invoke: Cli, sim: RunningSimulator, user: uuid.UUID, purpose: str, key: SimKey) -> CliResult:
    return invoke("credentials", "set", "--user", str(user), "--purpose", purpose, "--key", key.api_key,
                  "--exchange-url", sim.url, stdin=key.api_secret)


def _account(sim: RunningSimulator, readonly: Sequence[str], trade: Sequence[str]) -> tuple[SimKey, SimKey]:
    view_key = sim.admin.create_account({"EUR": "100", "BTC": "0.01"}, readonly)
    return view_key, sim.admin.second_key(view_key.account_id, trade)


def _refused(result: CliResult, reason: str) -> None:
    assert result.code == 2, f"the key was accepted (exit {result.code}): {result.stdout}"
    assert reason in result.stderr, result.stderr


def _verification(admin: Admin, user: uuid.UUID) -> dict[str, Any]:
    rows = admin.execute("SELECT purpose, verified_at IS NOT NULL AS verified, verification_checks AS checks,"
                         " verification_reason AS reason FROM exchange_credentials WHERE user_id = %s",
                         (user,)).fetchall()
    return {row["purpose"]: {k: row[k] for k in ("verified", "checks", "reason")} for row in rows}


def test_a_read_only_key_that_can_trade_is_refused_at_store_time(
        invoke: Cli, admin: Admin, simulator: RunningSimulator, user: uuid.UUID) -> None:
    view_key, _ = _account(simulator, ["view", "trade"], ["view", "trade"])
    before = row_counts(admin)
    _refused(_set(invoke, simulator, user, "readonly", view_key), "CREDENTIAL_READONLY_CAN_TRADE")
    assert row_counts(admin) == before
    assert orders_of_account(simulator, view_key.account_id) == []  # the probe traded nothing


def test_a_trade_key_that_can_withdraw_is_refused_at_store_time(
        invoke: Cli, admin: Admin, simulator: RunningSimulator, user: uuid.UUID) -> None:
    view_key, trade_key = _account(simulator, ["view"], ["view", "trade", "withdraw"])
    assert _set(invoke, simulator, user, "readonly", view_key).code == 0
    before = row_counts(admin)
    _refused(_set(invoke, simulator, user, "trade", trade_key), "CREDENTIAL_TRADE_CAN_WITHDRAW")
    assert row_counts(admin) == before
    assert simulator.admin.balances(view_key.account_id)["BTC"]["available"] == Decimal("0.01")  # nothing withdrawn


def test_keys_of_two_accounts_are_refused(invoke: Cli, admin: Admin, simulator: RunningSimulator,
                                          user: uuid.UUID) -> None:
    view_key, _ = _account(simulator, ["view"], ["view", "trade"])
    _, other_trade_key = _account(simulator, ["view"], ["view", "trade"])
    assert _set(invoke, simulator, user, "readonly", view_key).code == 0
    before = row_counts(admin)
    _refused(_set(invoke, simulator, user, "trade", other_trade_key), "CREDENTIAL_ACCOUNT_MISMATCH")
    assert row_counts(admin) == before


def test_a_good_pair_is_accepted_and_recorded_as_verified(invoke: Cli, admin: Admin, simulator: RunningSimulator,
                                                          user: uuid.UUID) -> None:
    view_key, trade_key = _account(simulator, ["view"], ["view", "trade"])
    first = _set(invoke, simulator, user, "trade", trade_key)
    assert first.code == 0, first.stderr
    assert _verification(admin, user) == {"trade": {"verified": False, "checks": None, "reason": None}}
    second = _set(invoke, simulator, user, "readonly", view_key)
    assert second.code == 0, second.stderr
    verified = {"verified": True, "checks": ALL_PASSED, "reason": None}
    assert _verification(admin, user) == {"readonly": verified, "trade": verified}
    assert orders_of_account(simulator, view_key.account_id) == []


def test_a_remote_exchange_url_is_refused_without_live_before_any_probe(
        invoke: Cli, admin: Admin, simulator: RunningSimulator, user: uuid.UUID) -> None:
    view_key, _ = _account(simulator, ["view"], ["view", "trade"])
    before = row_counts(admin)
    with remote_listener() as remote:
        result = invoke("credentials", "set", "--user", str(user), "--purpose", "readonly", "--key",
                        view_key.api_key, "--exchange-url", remote.url, stdin=view_key.api_secret + "\n")
        sent = remote.connections()
    assert sent == 0, f"the key was sent to {remote.url} ({sent} connections) without live mode"
    _refused(result, "EXCHANGE_URL_NOT_LOCAL")
    assert "AUTOINVEST_LIVE=true" in result.stderr
    assert row_counts(admin) == before
