"""The operator commands end to end: real subprocesses once each, then the many bad inputs in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.integration.accounts.conftest import CliResult, row_counts
from tests.support.simulator import RunningSimulator
from tests.support.trading import bitvavo_format_key

Cli = Callable[..., CliResult]
Admin = psycopg.Connection[dict[str, Any]]


def _id(result: CliResult) -> uuid.UUID:
    assert result.code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # one plain line: scripts capture it with $(...)
    return uuid.UUID(lines[0])


def _one(admin: Admin, query: str, *params: object) -> dict[str, Any]:
    row = admin.execute(query, params).fetchone()
    assert row is not None, query
    return row


def test_every_command_as_a_subprocess(run_cli: Cli, invoke: Cli, admin: Admin, simulator: RunningSimulator) -> None:
    email = f"op-{uuid.uuid4().hex[:8]}@example.org"
    user_id = _id(run_cli("users", "create", email))
    assert _one(admin, "SELECT email, kill_switch FROM users WHERE id = %s", user_id) == {
        "email": email, "kill_switch": False}

    profile_id = _id(run_cli("profiles", "create", "--user", str(user_id), "--name", "main", "--allocate", "500.00",
                             "--allow", "BTC-EUR,ETH-EUR", "--preset", "semiauto", "--min-order-eur", "10"))
    policy = _one(admin, "SELECT * FROM profile_policies WHERE profile_id = %s", profile_id)
    assert policy["user_id"] == user_id and policy["allowlist"] == ["BTC-EUR", "ETH-EUR"]
    assert (policy["min_order_eur"], policy["max_order_eur"]) == (Decimal("10"), Decimal("25"))
    assert (policy["max_trades_per_day"], policy["max_trades_per_hour"]) == (3, 1)
    profile = _one(admin, "SELECT risk_preset, auto_approve_threshold FROM profiles WHERE id = %s", profile_id)
    assert profile == {"risk_preset": "semiauto", "auto_approve_threshold": 50}
    account = _one(admin, "SELECT allocated FROM capital_accounts WHERE profile_id = %s", profile_id)
    entry = _one(admin, "SELECT kind, reference, d_allocated FROM ledger_entries WHERE profile_id = %s", profile_id)
    assert account["allocated"] == entry["d_allocated"] == Decimal("500.00")
    assert entry["kind"] == "ALLOCATE" and entry["reference"] == f"alloc:{profile_id}:initial"
    assert _one(admin, "SELECT count(*) AS n FROM scan_jobs WHERE profile_id = %s AND user_id = %s",
                profile_id, user_id)["n"] == 1

    view_key = simulator.admin.create_account({"EUR": "10"}, ["view"])  # the exchange checks the key before storing
    secret = view_key.api_secret
    result = run_cli("credentials", "set", "--user", str(user_id), "--purpose", "readonly", "--key", view_key.api_key,
                     "--exchange-url", simulator.url, stdin=secret + "\n")
    credential_id = _id(result)
    assert secret not in result.stdout + result.stderr
    stored = _one(admin, "SELECT e::text AS row FROM exchange_credentials e WHERE id = %s", credential_id)
    assert secret not in stored["row"]

    # Below the semiauto threshold (50): PENDING, then approved by hand.
    pending = _id(run_cli("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--side", "buy",
                          "--amount-eur", "20", "--confidence", "25", "--ttl", "10m", "--override-cooldown"))
    row = _one(admin, "SELECT status, source, amount_eur, override_cooldown, override_anti_flip,"
                      " expires_at - created_at AS ttl, policy_snapshot FROM trade_proposals WHERE id = %s", pending)
    assert (row["status"], row["source"], row["amount_eur"]) == ("PENDING", "manual", Decimal("20"))
    assert (row["override_cooldown"], row["override_anti_flip"]) == (True, False)
    assert row["ttl"].total_seconds() == 600
    assert row["policy_snapshot"]["max_order_eur"] == "25" and row["policy_snapshot"]["auto_approve_threshold"] == 50
    override = _one(admin, "SELECT actor, details, created_at FROM audit_log WHERE action = 'proposal.override'"
                           " AND subject_id = %s", str(pending))
    assert override["actor"] and override["details"] == {"override_cooldown": True, "override_anti_flip": False}

    approved = run_cli("proposals", "approve", str(pending))
    assert approved.code == 0, approved.stderr
    assert json.loads(approved.stdout) == {"proposal_id": str(pending), "status": "APPROVED"}

    other = _id(invoke("proposals", "create", "--profile", str(profile_id), "--market", "ETH-EUR", "--side", "sell",
                        "--amount-eur", "15.50", "--confidence", "0"))
    rejected = run_cli("proposals", "reject", str(other))
    assert json.loads(rejected.stdout) == {"proposal_id": str(other), "status": "REJECTED"}

    listed = run_cli("proposals", "list", "--profile", str(profile_id), "--json")
    assert listed.code == 0, listed.stderr
    assert {(p["id"], p["status"]) for p in json.loads(listed.stdout)} == {
        (str(pending), "APPROVED"), (str(other), "REJECTED")}

    switched = run_cli("kill-switch", "on", "--profile", str(profile_id), "--reason", "maintenance")
    assert json.loads(switched.stdout) == {"scope": "profile", "id": str(profile_id), "kill_switch": True}
    assert _one(admin, "SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                profile_id)["trading_enabled"] is False


def test_bad_input_in_a_subprocess_exits_2_with_a_reason_and_changes_nothing(run_cli: Cli, admin: Admin) -> None:
    before = row_counts(admin)
    result = run_cli("profiles", "create", "--user", str(uuid.uuid4()), "--name", "x", "--allocate", "100",
                     "--allow", "btc-usd")
    assert result.code == 2
    assert "MARKET_INVALID" in result.stderr and "Traceback" not in result.stderr
    assert row_counts(admin) == before


@pytest.fixture(scope="module")
def tenant(invoke: Cli) -> tuple[uuid.UUID, uuid.UUID]:
    """A user and an observer profile, made through the in-process CLI."""
    user_id = _id(invoke("users", "create", f"t-{uuid.uuid4().hex[:8]}@example.org"))
    profile_id = _id(invoke("profiles", "create", "--user", str(user_id), "--name", "p", "--allocate", "100",
                            "--allow", "BTC-EUR", "--preset", "observer"))
    return user_id, profile_id


PROFILE_CASES = [
    (["--allow", "BTC-USD"], "MARKET_INVALID"),
    (["--allow", "btc-eur"], "MARKET_INVALID"),
    (["--allow", ""], "MARKET_INVALID"),
    (["--allocate", "-5"], "AMOUNT_NOT_POSITIVE"),
    (["--allocate", "0"], "AMOUNT_NOT_POSITIVE"),
    (["--allocate", "1e3"], "AMOUNT_INVALID"),
    (["--allocate", "12.5.3"], "AMOUNT_INVALID"),
    (["--allocate", "nan"], "AMOUNT_INVALID"),
    (["--allocate", "10.001"], "AMOUNT_INVALID"),
    (["--min-order-eur", "50", "--max-order-eur", "20"], "MIN_ABOVE_MAX"),
    (["--min-confidence", "30"], "CONFIDENCE_INVALID"),
    (["--auto-approve", "30"], "CONFIDENCE_INVALID"),
    (["--min-confidence", "75", "--auto-approve", "50"], "AUTO_APPROVE_BELOW_MIN_CONFIDENCE"),
    (["--cooldown-min", "-1"], "INTEGER_INVALID"),
    (["--max-trades-day", "2.5"], "INTEGER_INVALID"),
    (["--preset", "yolo"], "PRESET_INVALID"),
    (["--strategy", "martingale"], "STRATEGY_INVALID"),
    (["--scan-interval-s", "1"], "INTEGER_INVALID"),
    (["--user", "not-a-uuid"], "ID_INVALID"),
    (["--user", "00000000-0000-0000-0000-000000000000"], "NOT_FOUND"),
    (["--allow", "DOGE-EUR"], "MARKET_NOT_LISTED"),  # a well-formed market the exchange does not list
    (["--allow", "BTC-EUR,DOGE-EUR"], "MARKET_NOT_LISTED"),
]


@pytest.mark.parametrize(("extra", "reason"), PROFILE_CASES)
def test_profiles_create_refuses_bad_input(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID],
                                           extra: list[str], reason: str) -> None:
    user_id, _ = tenant
    base = {"--user": str(user_id), "--name": f"n-{uuid.uuid4().hex[:6]}", "--allocate": "100", "--allow": "BTC-EUR"}
    args: list[str] = []
    for flag, value in base.items():
        if flag not in extra:
            args += [flag, value]
    before = row_counts(admin)
    result = invoke("profiles", "create", *args, *extra)
    assert result.code == 2, result.stdout
    assert reason in result.stderr
    assert row_counts(admin) == before


PROPOSAL_CASES = [
    (["--market", "BTC-USD"], "MARKET_INVALID"),
    (["--amount-eur", "-10"], "AMOUNT_NOT_POSITIVE"),
    (["--amount-eur", "1e2"], "AMOUNT_INVALID"),
    (["--amount-eur", "inf"], "AMOUNT_INVALID"),
    (["--confidence", "30"], "CONFIDENCE_INVALID"),
    (["--confidence", "75.0"], "CONFIDENCE_INVALID"),
    (["--side", "hold"], "SIDE_INVALID"),
    (["--ttl", "0m"], "TTL_INVALID"),
    (["--ttl", "2d"], "TTL_INVALID"),
    (["--ttl", "soon"], "TTL_INVALID"),
    (["--profile", str(uuid.UUID(int=1))], "NOT_FOUND"),
    (["--market", "DOGE-EUR"], "MARKET_NOT_LISTED"),
]


@pytest.mark.parametrize(("extra", "reason"), PROPOSAL_CASES)
def test_proposals_create_refuses_bad_input(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID],
                                            extra: list[str], reason: str) -> None:
    _, profile_id = tenant
    base = {"--profile": str(profile_id), "--market": "BTC-EUR", "--side": "buy", "--amount-eur": "10",
            "--confidence": "75"}
    args = [x for flag, value in base.items() if flag not in extra for x in (flag, value)]
    before = row_counts(admin)
    result = invoke("proposals", "create", *args, *extra)
    assert result.code == 2, result.stdout
    assert reason in result.stderr
    assert row_counts(admin) == before


@pytest.mark.parametrize(("sizes", "reason"), [
    (["--side", "sell"], "AMOUNT_REQUIRED"),
    (["--side", "sell", "--amount-eur", "10", "--amount-base", "0.001"], "AMOUNT_REQUIRED"),
    (["--side", "buy", "--amount-base", "0.001"], "AMOUNT_BASE_SELL_ONLY"),
    (["--side", "sell", "--amount-base", "-0.001"], "AMOUNT_NOT_POSITIVE"),
    (["--side", "sell", "--amount-base", "1e-3"], "AMOUNT_INVALID"),
    (["--side", "sell", "--amount-base", "0.0000000000001"], "AMOUNT_INVALID"),
])
def test_proposals_create_takes_exactly_one_size(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID],
                                                 sizes: list[str], reason: str) -> None:
    _, profile_id = tenant
    before = row_counts(admin)
    result = invoke("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--confidence", "75",
                    *sizes)
    assert result.code == 2 and reason in result.stderr, result.stderr
    assert row_counts(admin) == before


def test_a_sell_is_sized_in_base(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    _, profile_id = tenant
    proposal = _id(invoke("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--side", "sell",
                          "--amount-base", "0.0015", "--confidence", "75"))
    row = _one(admin, "SELECT side, amount_eur, amount_base FROM trade_proposals WHERE id = %s", proposal)
    assert row == {"side": "sell", "amount_eur": None, "amount_base": Decimal("0.0015")}
    by_eur = invoke("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--side", "sell",
                    "--amount-eur", "10", "--confidence", "75")
    assert by_eur.code == 0, by_eur.stderr  # converted to base at the best bid when it is executed
    assert _one(admin, "SELECT amount_eur, amount_base FROM trade_proposals WHERE id = %s", _id(by_eur)) == {
        "amount_eur": Decimal("10"), "amount_base": None}


def test_decisions_follow_the_state_rules(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    _, profile_id = tenant
    proposal = _id(invoke("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--side", "buy",
                          "--amount-eur", "10", "--confidence", "100"))
    assert _one(admin, "SELECT status FROM trade_proposals WHERE id = %s", proposal)["status"] == "PENDING"  # observer
    assert json.loads(invoke("proposals", "reject", str(proposal)).stdout)["status"] == "REJECTED"
    before = row_counts(admin)
    for verb in ("approve", "reject"):
        again = invoke("proposals", verb, str(proposal))
        assert again.code == 2 and "PROPOSAL_NOT_PENDING" in again.stderr
    unknown = invoke("proposals", "approve", str(uuid.uuid4()))
    assert unknown.code == 2 and "NOT_FOUND" in unknown.stderr
    assert row_counts(admin) == before


def test_list_without_a_profile_covers_every_user(invoke: Cli, tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    _, profile_id = tenant
    proposal = _id(invoke("proposals", "create", "--profile", str(profile_id), "--market", "BTC-EUR", "--side", "buy",
                          "--amount-eur", "10", "--confidence", "50"))
    listed = invoke("proposals", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert str(proposal) in {p["id"] for p in json.loads(listed.stdout)}
    table = invoke("proposals", "list", "--profile", str(profile_id))
    assert table.code == 0 and "BTC-EUR" in table.stdout


def test_kill_switch_scopes(invoke: Cli, admin: Admin, tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    user_id, profile_id = tenant
    on = invoke("kill-switch", "on", "--user", str(user_id), "--reason", "suspicious login")
    assert json.loads(on.stdout) == {"scope": "user", "id": str(user_id), "kill_switch": True}
    assert _one(admin, "SELECT kill_switch FROM users WHERE id = %s", user_id)["kill_switch"] is True
    off = invoke("kill-switch", "off", "--profile", str(profile_id))
    assert json.loads(off.stdout) == {"scope": "profile", "id": str(profile_id), "kill_switch": False}
    try:
        glob = invoke("kill-switch", "on", "--reason", "exchange incident")
        assert json.loads(glob.stdout) == {"scope": "global", "id": None, "kill_switch": True}
        assert _one(admin, "SELECT kill_switch, kill_switch_reason FROM global_settings") == {
            "kill_switch": True, "kill_switch_reason": "exchange incident"}
    finally:
        assert json.loads(invoke("kill-switch", "off").stdout)["kill_switch"] is False
    both = invoke("kill-switch", "on", "--user", str(user_id), "--profile", str(profile_id))
    assert both.code == 2 and "SCOPE_INVALID" in both.stderr
    bad = invoke("kill-switch", "maybe")
    assert bad.code == 2 and "STATE_INVALID" in bad.stderr


def test_credentials_without_the_vault_key_name_the_variable(invoke: Cli, admin: Admin,
                                                             tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    user_id, _ = tenant
    before = row_counts(admin)
    key, secret = bitvavo_format_key()
    result = invoke("credentials", "set", "--user", str(user_id), "--purpose", "trade", "--key", key,
                    stdin=secret, AUTOINVEST_VAULT_KEY_TRADE=None)
    assert result.code == 2
    assert "AUTOINVEST_VAULT_KEY_TRADE" in result.stderr and "VAULT_KEY_MISSING" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert row_counts(admin) == before


def test_allocation_moves_through_the_ledger_once_per_request(invoke: Cli, admin: Admin,
                                                              tenant: tuple[uuid.UUID, uuid.UUID]) -> None:
    _, profile_id = tenant  # 100 EUR allocated

    def allocated() -> Decimal:
        return Decimal(_one(admin, "SELECT allocated FROM capital_accounts WHERE profile_id = %s",
                            profile_id)["allocated"])

    def change(verb: str, eur: str, *request: str) -> CliResult:
        return invoke("profiles", verb, "--profile", str(profile_id), "--eur", eur, *request)

    first = change("allocate", "250.00", "--request-id", "top-up-1")
    assert first.code == 0, first.stderr
    assert json.loads(first.stdout)["posted"] is True and allocated() == Decimal("350.00")
    retry = json.loads(change("allocate", "250.00", "--request-id", "top-up-1").stdout)
    assert retry["posted"] is False and retry["account"]["allocated"] == "350.00" and allocated() == Decimal("350")
    before = row_counts(admin)
    for verb, eur, request, reason in [
            ("allocate", "300", ["--request-id", "top-up-1"], "REQUEST_ID_REUSED"),
            ("deallocate", "350.01", [], "INSUFFICIENT_FREE_CAPITAL"),
            ("deallocate", "-5", [], "AMOUNT_NOT_POSITIVE"),
            ("allocate", "5", ["--request-id", "not ok!"], "REQUEST_ID_INVALID")]:
        refused = change(verb, eur, *request)
        assert refused.code == 2 and reason in refused.stderr, refused.stderr
    unknown = invoke("profiles", "allocate", "--profile", str(uuid.uuid4()), "--eur", "5")
    assert unknown.code == 2 and "NOT_FOUND" in unknown.stderr
    assert row_counts(admin) == before and allocated() == Decimal("350")
    taken = json.loads(change("deallocate", "350").stdout)
    assert taken["kind"] == "DEALLOCATE" and taken["account"]["free"] == "0.00" and allocated() == 0
    audits = admin.execute("SELECT action, details->>'amount_eur' AS eur FROM audit_log WHERE subject_id = %s"
                           " AND action LIKE 'ledger.%%' ORDER BY created_at", (str(profile_id),)).fetchall()
    assert audits == [{"action": "ledger.allocate", "eur": "250.00"}, {"action": "ledger.deallocate", "eur": "350"}]
