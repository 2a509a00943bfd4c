"""The operator repositories called directly, as the application role under row-level security."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from autoinvest.accounts import kill_switch, presets, profiles, proposals, users, vault
from autoinvest.db.ids import owner_of
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.domain.states import CredentialPurpose, ProposalStatus, Side
from autoinvest.errors import ConfigError, InputError, NotFound
from autoinvest.ledger import repo as ledger_repo
from tests.integration.accounts.conftest import VaultKeys, row_counts
from tests.support.trading import bitvavo_format_key

Admin = psycopg.Connection[dict[str, Any]]
ACTOR = "test-operator"


async def _user(conn: AppConnection) -> uuid.UUID:
    user_id = users.new_user_id()
    async with user_tx(conn, user_id):
        await users.create_user(conn, user_id, f"{user_id.hex[:10]}@example.org", actor=ACTOR)
    return user_id


async def _profile(conn: AppConnection, user_id: uuid.UUID, *, preset: str | None = None,
                   allocate: str = "250.00", **overrides: object) -> uuid.UUID:
    spec = profiles.profile_spec(f"p-{uuid.uuid4().hex[:8]}", Decimal(allocate), ("BTC-EUR", "ETH-EUR"),
                                 preset=preset, overrides=overrides)
    async with user_tx(conn, user_id):
        return await profiles.create_profile(conn, user_id, spec, actor=ACTOR)


async def _propose(conn: AppConnection, user_id: uuid.UUID, profile_id: uuid.UUID, confidence: int,
                   **kwargs: Any) -> proposals.Proposal:
    async with user_tx(conn, user_id):
        return await proposals.create_proposal(conn, user_id, profile_id, market="BTC-EUR", side=Side.BUY,
                                               amount_eur=Decimal("12.34"), confidence=confidence, actor=ACTOR,
                                               **kwargs)


def _one(admin: Admin, query: str, *params: object) -> dict[str, Any]:
    row = admin.execute(query, params).fetchone()
    assert row is not None, query
    return row


# ---------------------------------------------------------------- presets (pure)

def test_presets() -> None:
    assert presets.resolve(None) == ("custom", presets.DEFAULTS)
    assert presets.DEFAULTS.auto_approve_threshold is None
    assert presets.resolve("observer")[1].auto_approve_threshold is None
    assert presets.resolve("hunter")[1].auto_approve_threshold == 75
    name, semi = presets.resolve("semiauto")
    assert (name, semi.auto_approve_threshold, semi.max_order_eur) == ("semiauto", 50, Decimal("25"))
    assert (semi.max_trades_per_day, semi.max_trades_per_hour) == (3, 1)
    # Explicit values win, including "never auto-approve" on an auto-approving preset.
    _, tuned = presets.resolve("hunter", {"auto_approve_threshold": None, "max_order_eur": Decimal("40")})
    assert (tuned.auto_approve_threshold, tuned.max_order_eur) == (None, Decimal("40"))
    assert presets.resolve("semiauto", {"min_confidence": 25})[1].allowed_confidences == (25, 50, 75, 100)


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"min_order_eur": Decimal("30"), "max_order_eur": Decimal("20")}, "MIN_ABOVE_MAX"),
    ({"min_order_eur": Decimal("-1")}, "AMOUNT_NOT_POSITIVE"),
    ({"max_order_eur": 10.5}, "AMOUNT_INVALID"),  # a float is refused even from code
    ({"min_confidence": 30}, "CONFIDENCE_INVALID"),
    ({"max_trades_per_hour": 11}, "MIN_ABOVE_MAX"),
])
def test_preset_overrides_are_validated(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(InputError) as caught:
        presets.resolve(None, overrides)
    assert caught.value.reason == reason


# ---------------------------------------------------------------- profiles

async def test_profile_rows_and_capital_come_from_one_allocate_entry(app_conn: AppConnection) -> None:
    user_id = await _user(app_conn)
    profile_id = await _profile(app_conn, user_id, preset="hunter", allocate="1234.56", cooldown_minutes=5,
                                strategy="dca")
    async with user_tx(app_conn, user_id):
        policy = await profiles.get_policy(app_conn, profile_id)
        account = await ledger_repo.account(app_conn, profile_id)
        entries = await ledger_repo.entries(app_conn, profile_id)
        cur = await app_conn.execute("SELECT user_id, next_run_at <= now() AS due FROM scan_jobs"
                                     " WHERE profile_id = %s", (profile_id,))
        jobs = await cur.fetchall()
    assert (policy.risk_preset, policy.auto_approve_threshold, policy.strategy) == ("hunter", 75, "dca")
    assert (policy.cooldown_minutes, policy.max_order_eur, policy.trading_enabled) == (5, Decimal("250"), True)
    assert policy.allowlist == ("BTC-EUR", "ETH-EUR")
    assert [(e.kind, e.reference, e.d_allocated) for e in entries] == [
        ("ALLOCATE", f"alloc:{profile_id}:initial", Decimal("1234.56"))]
    assert account.allocated == Decimal("1234.56") and account.free == Decimal("1234.56")
    assert jobs == [{"user_id": user_id, "due": True}]
    async with system_tx(app_conn):
        assert await owner_of(app_conn, "profile", profile_id) == user_id


async def test_a_refused_profile_leaves_nothing(app_conn: AppConnection, admin: Admin) -> None:
    user_id = await _user(app_conn)
    spec = profiles.profile_spec("same", Decimal("10"), ("BTC-EUR",))
    async with user_tx(app_conn, user_id):
        await profiles.create_profile(app_conn, user_id, spec, actor=ACTOR)
    before = row_counts(admin)
    with pytest.raises(InputError) as caught:
        async with user_tx(app_conn, user_id):
            await profiles.create_profile(app_conn, user_id, spec, actor=ACTOR)
    assert caught.value.reason == "PROFILE_NAME_TAKEN"
    assert row_counts(admin) == before


async def test_duplicate_email_is_refused(app_conn: AppConnection) -> None:
    user_id = await _user(app_conn)
    other = users.new_user_id()
    with pytest.raises(InputError) as caught:
        async with user_tx(app_conn, other):
            await users.create_user(app_conn, other, f"{user_id.hex[:10]}@example.org", actor=ACTOR)
    assert caught.value.reason == "EMAIL_TAKEN"


# ---------------------------------------------------------------- vault

def test_each_purpose_has_its_own_key(vault_keys: VaultKeys) -> None:
    settings = vault_keys.settings()
    user_id = uuid.uuid4()
    token = vault.encrypt(settings, "readonly", "the-secret", user_id=user_id)
    assert "the-secret" not in token
    assert vault.decrypt(settings, "readonly", token, user_id=user_id) == "the-secret"
    with pytest.raises(ConfigError) as caught:
        vault.decrypt(settings, "trade", token, user_id=user_id)
    assert caught.value.reason == "VAULT_DECRYPT_FAILED" and "the-secret" not in str(caught.value)


def test_missing_or_shared_keys_are_config_errors(vault_keys: VaultKeys) -> None:
    with pytest.raises(ConfigError) as missing:
        vault.check_key(vault_keys.settings(vault_key_trade=None), "trade")
    assert missing.value.reason == "VAULT_KEY_MISSING" and "AUTOINVEST_VAULT_KEY_TRADE" in str(missing.value)
    # A scanner-only process may hold the read-only key alone.
    assert vault.check_key(vault_keys.settings(vault_key_trade=None), "readonly")
    for shared_settings in (vault_keys.settings(vault_key_trade=vault_keys.readonly),
                            vault_keys.settings(vault_key_readonly_previous=vault_keys.trade)):
        with pytest.raises(ConfigError) as shared:
            vault.check_key(shared_settings, "readonly")
        assert shared.value.reason == "VAULT_KEYS_NOT_SEPARATE"
    for bad_settings, variable in ((vault_keys.settings(vault_key_readonly="not-a-key"), "READONLY"),
                                   (vault_keys.settings(vault_key_readonly_previous="not-a-key"), "READONLY_PREVIOUS")):
        with pytest.raises(ConfigError) as bad:
            vault.check_key(bad_settings, "readonly")
        assert bad.value.reason == "VAULT_KEY_INVALID" and f"AUTOINVEST_VAULT_KEY_{variable} " in str(bad.value)


async def test_credentials_are_stored_encrypted_and_load_with_their_purpose_key(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys) -> None:
    settings = vault_keys.settings()
    user_id = await _user(app_conn)
    (ro_key, ro_secret), (tr_key, tr_secret), (new_key, new_secret) = (bitvavo_format_key() for _ in range(3))
    async with user_tx(app_conn, user_id):
        ro = await vault.set_credential(app_conn, user_id, "readonly", ro_key, ro_secret, settings, actor=ACTOR)
        trade = await vault.set_credential(app_conn, user_id, CredentialPurpose.TRADE, tr_key, tr_secret, settings,
                                           exchange_url="http://127.0.0.1:9/v2", actor=ACTOR)
        # Setting again replaces the key in place: one row per (user, purpose).
        again = await vault.set_credential(app_conn, user_id, "readonly", new_key, new_secret, settings, actor=ACTOR)
    assert again == ro and trade != ro
    dump = _one(admin, "SELECT string_agg(e::text, ' ') AS rows FROM exchange_credentials e WHERE user_id = %s",
                user_id)["rows"]
    assert ro_secret not in dump and tr_secret not in dump and new_secret not in dump
    audit = _one(admin, "SELECT string_agg(a::text, ' ') AS rows FROM audit_log a WHERE user_id = %s", user_id)["rows"]
    assert not any(s in audit for s in (ro_secret, tr_secret, new_secret)) and "credential.set" in audit

    async with user_tx(app_conn, user_id):
        loaded = await vault.load_credential(app_conn, user_id, "readonly", settings)
        traded = await vault.load_credential(app_conn, user_id, "trade", settings)
    assert (loaded.api_key, loaded.api_secret, loaded.purpose) == (new_key, new_secret, "readonly")
    assert loaded.base_url == settings.exchange_url and traded.base_url == "http://127.0.0.1:9/v2"
    assert traded.api_secret == tr_secret and tr_secret not in repr(traded)

    # A process holding the wrong key for a purpose cannot read that purpose's secret.
    swapped = vault_keys.settings(vault_key_trade=vault_keys.readonly, vault_key_readonly=vault_keys.trade)
    with pytest.raises(ConfigError) as caught:
        async with user_tx(app_conn, user_id):
            await vault.load_credential(app_conn, user_id, "trade", swapped)
    assert caught.value.reason == "VAULT_DECRYPT_FAILED"


async def test_loading_a_missing_credential_or_another_tenants(app_conn: AppConnection, vault_keys: VaultKeys) -> None:
    settings = vault_keys.settings()
    owner, stranger = await _user(app_conn), await _user(app_conn)
    async with user_tx(app_conn, owner):
        await vault.set_credential(app_conn, owner, "trade", *bitvavo_format_key(), settings, actor=ACTOR)
    for tx_user, purpose in ((owner, "readonly"), (stranger, "trade")):
        with pytest.raises(NotFound) as caught:
            async with user_tx(app_conn, tx_user):
                await vault.load_credential(app_conn, owner, purpose, settings)
        assert caught.value.reason == "CREDENTIAL_NOT_FOUND"


# ---------------------------------------------------------------- proposals

async def test_auto_approval_at_the_threshold_boundary(app_conn: AppConnection, admin: Admin) -> None:
    user_id = await _user(app_conn)
    hunter = await _profile(app_conn, user_id, preset="hunter")
    observer = await _profile(app_conn, user_id, preset="observer")
    outcomes = {c: await _propose(app_conn, user_id, hunter, c) for c in (50, 75, 100)}
    assert {c: (p.status, p.decided_by) for c, p in outcomes.items()} == {
        50: (ProposalStatus.PENDING, None), 75: (ProposalStatus.APPROVED, "auto"),
        100: (ProposalStatus.APPROVED, "auto")}
    assert (await _propose(app_conn, user_id, observer, 100)).status is ProposalStatus.PENDING
    auto = _one(admin, "SELECT actor, details FROM audit_log WHERE action = 'proposal.auto_approved'"
                       " AND subject_id = %s", str(outcomes[75].id))
    assert auto["actor"] == "auto" and auto["details"]["auto_approve_threshold"] == 75
    decided = _one(admin, "SELECT decided_at IS NOT NULL AS decided FROM trade_proposals WHERE id = %s",
                   outcomes[75].id)
    assert decided["decided"] is True


async def test_a_proposal_snapshots_the_policy_and_expires_on_database_time(app_conn: AppConnection,
                                                                             admin: Admin) -> None:
    user_id = await _user(app_conn)
    profile_id = await _profile(app_conn, user_id, max_order_eur=Decimal("99.99"))
    default_ttl = await _propose(app_conn, user_id, profile_id, 50)
    short = await _propose(app_conn, user_id, profile_id, 50, ttl=timedelta(minutes=3), override_anti_flip=True)
    assert default_ttl.expires_at - default_ttl.created_at == timedelta(seconds=900)  # the policy's TTL
    assert short.expires_at - short.created_at == timedelta(minutes=3)
    row = _one(admin, "SELECT policy_snapshot, amount_eur, override_anti_flip, override_cooldown, decided_by"
                      " FROM trade_proposals WHERE id = %s", short.id)
    async with user_tx(app_conn, user_id):
        policy = await profiles.get_policy(app_conn, profile_id)
    assert row["policy_snapshot"] == policy.snapshot() and row["policy_snapshot"]["max_order_eur"] == "99.99"
    assert (row["amount_eur"], row["override_anti_flip"], row["override_cooldown"]) == (Decimal("12.34"), True, False)
    audit = _one(admin, "SELECT actor, details, created_at FROM audit_log WHERE action = 'proposal.override'"
                        " AND subject_id = %s", str(short.id))
    assert audit["actor"] == ACTOR and audit["details"] == {"override_cooldown": False, "override_anti_flip": True}


async def test_approve_and_reject_only_change_pending_proposals(app_conn: AppConnection, admin: Admin) -> None:
    user_id = await _user(app_conn)
    profile_id = await _profile(app_conn, user_id)
    first = await _propose(app_conn, user_id, profile_id, 50)
    second = await _propose(app_conn, user_id, profile_id, 50)
    async with user_tx(app_conn, user_id):
        approved = await proposals.approve_proposal(app_conn, first.id, actor=ACTOR)
        rejected = await proposals.reject_proposal(app_conn, second.id, actor=ACTOR)
    assert approved.as_json() == {"proposal_id": str(first.id), "status": "APPROVED"}
    assert rejected.status is ProposalStatus.REJECTED
    for proposal_id in (first.id, second.id):
        for decide in (proposals.approve_proposal, proposals.reject_proposal):
            with pytest.raises(InputError) as caught:
                async with user_tx(app_conn, user_id):
                    await decide(app_conn, proposal_id, actor=ACTOR)
            assert caught.value.reason == "PROPOSAL_NOT_PENDING"
    rows = admin.execute("SELECT action, actor FROM audit_log WHERE subject_id = ANY(%s)"
                         " AND action IN ('proposal.approved', 'proposal.rejected') ORDER BY id",
                         ([str(first.id), str(second.id)],)).fetchall()
    assert rows == [{"action": "proposal.approved", "actor": ACTOR}, {"action": "proposal.rejected", "actor": ACTOR}]
    decided = _one(admin, "SELECT decided_by FROM trade_proposals WHERE id = %s", first.id)
    assert decided["decided_by"] == "user"


async def test_an_expired_proposal_cannot_be_approved_but_can_be_rejected(app_conn: AppConnection) -> None:
    user_id = await _user(app_conn)
    profile_id = await _profile(app_conn, user_id)
    proposal = await _propose(app_conn, user_id, profile_id, 50)
    async with user_tx(app_conn, user_id):
        # Move it into the past on the database's clock (the CHECK keeps expires_at after created_at).
        await app_conn.execute("UPDATE trade_proposals SET created_at = now() - interval '2 hours',"
                               " expires_at = now() - interval '1 second' WHERE id = %s", (proposal.id,))
    with pytest.raises(InputError) as caught:
        async with user_tx(app_conn, user_id):
            await proposals.approve_proposal(app_conn, proposal.id, actor=ACTOR)
    assert caught.value.reason == "PROPOSAL_EXPIRED"
    async with user_tx(app_conn, user_id):
        listed = await proposals.list_proposals(app_conn, profile_id=profile_id)
        assert [(p.status, p.expired) for p in listed] == [("PENDING", True)]
        assert (await proposals.reject_proposal(app_conn, proposal.id, actor=ACTOR)).status is ProposalStatus.REJECTED


async def test_another_tenants_profile_and_proposal_are_not_found(app_conn: AppConnection) -> None:
    owner, stranger = await _user(app_conn), await _user(app_conn)
    profile_id = await _profile(app_conn, owner)
    proposal = await _propose(app_conn, owner, profile_id, 50)
    with pytest.raises(NotFound):
        await _propose(app_conn, stranger, profile_id, 50)
    with pytest.raises(NotFound):
        async with user_tx(app_conn, stranger):
            await proposals.approve_proposal(app_conn, proposal.id, actor=ACTOR)
    async with system_tx(app_conn):
        with pytest.raises(NotFound):
            await owner_of(app_conn, "proposal", uuid.uuid4())


# ---------------------------------------------------------------- kill switches

async def test_kill_switch_at_each_level_sets_and_audits(app_conn: AppConnection, admin: Admin) -> None:
    user_id = await _user(app_conn)
    profile_id = await _profile(app_conn, user_id)
    async with user_tx(app_conn, user_id):
        state = await kill_switch.set_user(app_conn, user_id, True, actor=ACTOR, reason="r1")
        assert state.as_json() == {"scope": "user", "id": str(user_id), "kill_switch": True}
        assert (await kill_switch.set_profile(app_conn, profile_id, True, actor=ACTOR)).kill_switch is True
    assert _one(admin, "SELECT kill_switch, kill_switch_reason FROM users WHERE id = %s", user_id) == {
        "kill_switch": True, "kill_switch_reason": "r1"}
    assert _one(admin, "SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                profile_id)["trading_enabled"] is False
    async with user_tx(app_conn, user_id):
        await kill_switch.set_user(app_conn, user_id, False, actor=ACTOR)
        await kill_switch.set_profile(app_conn, profile_id, False, actor=ACTOR, reason="back")
    assert _one(admin, "SELECT trading_enabled FROM profile_policies WHERE profile_id = %s",
                profile_id)["trading_enabled"] is True
    rows = admin.execute("SELECT action, subject_type, subject_id, actor FROM audit_log WHERE user_id = %s"
                         " AND action LIKE 'kill_switch.%%' ORDER BY id", (user_id,)).fetchall()
    assert [(r["action"], r["subject_type"], r["actor"]) for r in rows] == [
        ("kill_switch.on", "user", ACTOR), ("kill_switch.on", "profile", ACTOR),
        ("kill_switch.off", "user", ACTOR), ("kill_switch.off", "profile", ACTOR)]

    try:
        async with system_tx(app_conn):
            assert (await kill_switch.set_global(app_conn, True, actor=ACTOR, reason="incident")).kill_switch is True
        assert _one(admin, "SELECT kill_switch FROM global_settings")["kill_switch"] is True
        audit = _one(admin, "SELECT actor, user_id, details FROM audit_log WHERE action = 'kill_switch.on'"
                            " AND subject_type = 'global' ORDER BY id DESC LIMIT 1")
        assert audit == {"actor": ACTOR, "user_id": None, "details": {"reason": "incident"}}
    finally:
        async with system_tx(app_conn):
            assert (await kill_switch.set_global(app_conn, False, actor=ACTOR)).kill_switch is False
    with pytest.raises(NotFound):
        async with user_tx(app_conn, user_id):
            await kill_switch.set_profile(app_conn, uuid.uuid4(), True, actor=ACTOR)


async def test_in_live_mode_a_key_for_another_exchange_than_bitvavo_is_refused(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys) -> None:
    live = vault_keys.settings(live=True, exchange_url="https://api.bitvavo.com/v2")
    user_id = await _user(app_conn)
    before = _one(admin, "SELECT count(*) AS n FROM exchange_credentials WHERE user_id = %s", user_id)
    for url in ("http://127.0.0.1:8899/v2", "https://api.bitvavo.com.evil.example/v2", "http://api.bitvavo.com/v2"):
        with pytest.raises(InputError) as caught:
            async with user_tx(app_conn, user_id):
                await vault.set_credential(app_conn, user_id, "trade", *bitvavo_format_key(), live, exchange_url=url,
                                           actor=ACTOR)
        assert caught.value.reason == "LIVE_EXCHANGE_URL_NOT_BITVAVO"
    assert _one(admin, "SELECT count(*) AS n FROM exchange_credentials WHERE user_id = %s", user_id) == before
    async with user_tx(app_conn, user_id):
        await vault.set_credential(app_conn, user_id, "trade", *bitvavo_format_key(), live,
                                   exchange_url="https://api.bitvavo.com/v2", actor=ACTOR)
        # a key stored for a simulator in paper mode is not used once the process runs live
        await vault.set_credential(app_conn, user_id, "readonly", *bitvavo_format_key(), vault_keys.settings(),
                                   exchange_url="http://127.0.0.1:8899/v2", actor=ACTOR)
    with pytest.raises(ConfigError) as loading:
        async with user_tx(app_conn, user_id):
            await vault.load_credential(app_conn, user_id, "readonly", live)
    assert loading.value.reason == "LIVE_EXCHANGE_URL_NOT_BITVAVO"


async def test_in_paper_mode_a_key_for_a_remote_exchange_is_refused(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys) -> None:
    paper = vault_keys.settings()
    user_id = await _user(app_conn)
    before = _one(admin, "SELECT count(*) AS n FROM exchange_credentials WHERE user_id = %s", user_id)
    key, secret = bitvavo_format_key()
    for url in ("https://api.bitvavo.com/v2", "http://192.0.2.2:8899/v2", "http://sim:8899/v2"):
        with pytest.raises(InputError) as caught:
            async with user_tx(app_conn, user_id):
                await vault.set_credential(app_conn, user_id, "trade", key, secret, paper, exchange_url=url,
                                           actor=ACTOR)
        assert caught.value.reason == "EXCHANGE_URL_NOT_LOCAL"
    assert _one(admin, "SELECT count(*) AS n FROM exchange_credentials WHERE user_id = %s", user_id) == before
    # a real Bitvavo key stored in live mode is never signed for by a paper process: that would trade real money
    live = vault_keys.settings(live=True, exchange_url="https://api.bitvavo.com/v2")
    async with user_tx(app_conn, user_id):
        await vault.set_credential(app_conn, user_id, "trade", key, secret, live,
                                   exchange_url="https://api.bitvavo.com/v2", actor=ACTOR)
    with pytest.raises(ConfigError) as loading:
        async with user_tx(app_conn, user_id):
            await vault.load_credential(app_conn, user_id, "trade", paper)
    assert loading.value.reason == "EXCHANGE_URL_NOT_LOCAL"
    assert "AUTOINVEST_LIVE=true" in str(loading.value)
