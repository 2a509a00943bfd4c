"""Guarantee 18, the vault: a stored secret is bound to its user, purpose and key id (a ciphertext copied into
another row does not decrypt); keys are checked in Bitvavo's format before anything is stored; a vault key is
rotated by re-encrypting every row of its purpose, audited, idempotently, and a crash mid-way loses no row."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from autoinvest.accounts import users, vault
from autoinvest.config import Settings
from autoinvest.db import migrate
from autoinvest.db.tx import AppConnection, connect, user_tx
from autoinvest.errors import ConfigError, InputError
from tests.integration.accounts.conftest import VaultKeys, row_counts
from tests.support.database import DatabaseUnderTest
from tests.support.trading import bitvavo_format_key

Admin = psycopg.Connection[dict[str, Any]]
ACTOR = "test-operator"


async def _tenant(conn: AppConnection, settings: Settings) -> tuple[uuid.UUID, dict[str, str]]:
    """A user with both keys stored; returns the user and the secret of each purpose."""
    user_id = users.new_user_id()
    secrets: dict[str, str] = {}
    async with user_tx(conn, user_id):
        await users.create_user(conn, user_id, f"{user_id.hex[:12]}@example.org", actor=ACTOR)
        for purpose in ("readonly", "trade"):
            key, secrets[purpose] = bitvavo_format_key()
            await vault.set_credential(conn, user_id, purpose, key, secrets[purpose], settings, actor=ACTOR)
    return user_id, secrets


def _stored(admin: Admin, user_id: uuid.UUID) -> dict[str, str]:
    rows = admin.execute("SELECT purpose, secret_encrypted FROM exchange_credentials WHERE user_id = %s",
                         (user_id,)).fetchall()
    return {row["purpose"]: row["secret_encrypted"] for row in rows}


def _plant(admin: Admin, user_id: uuid.UUID, purpose: str, text: str) -> None:
    admin.execute("UPDATE exchange_credentials SET secret_encrypted = %s WHERE user_id = %s AND purpose = %s",
                  (text, user_id, purpose))


async def _load(conn: AppConnection, user_id: uuid.UUID, purpose: str, settings: Settings) -> str:
    async with user_tx(conn, user_id):
        return (await vault.load_credential(conn, user_id, purpose, settings)).api_secret


async def test_a_ciphertext_copied_into_another_row_does_not_decrypt(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys) -> None:
    settings = vault_keys.settings()
    alice, alice_secrets = await _tenant(app_conn, settings)
    bob, bob_secrets = await _tenant(app_conn, settings)
    alices = _stored(admin, alice)

    # Another tenant's row: the same vault key opens it, the binding refuses it.
    _plant(admin, bob, "readonly", alices["readonly"])
    with pytest.raises(ConfigError) as tenant_swap:
        await _load(app_conn, bob, "readonly", settings)
    assert tenant_swap.value.reason == "VAULT_BINDING_MISMATCH", tenant_swap.value
    assert alice_secrets["readonly"] not in str(tenant_swap.value)
    # The other purpose's row of the same tenant: that purpose's key cannot open it.
    _plant(admin, alice, "readonly", alices["trade"])
    with pytest.raises(ConfigError) as purpose_swap:
        await _load(app_conn, alice, "readonly", settings)
    assert purpose_swap.value.reason == "VAULT_DECRYPT_FAILED"

    # Untouched rows still load; the key id that encrypted each row is visible in it, the secret is not.
    assert await _load(app_conn, bob, "trade", settings) == bob_secrets["trade"]
    assert alices["readonly"].startswith(f"v2:{vault.key_id(vault_keys.readonly)}:")
    assert alices["trade"].startswith(f"v2:{vault.key_id(vault_keys.trade)}:")
    assert alice_secrets["trade"] not in alices["trade"]


async def test_a_row_in_the_unbound_format_of_before_is_refused_until_rotated(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys) -> None:
    settings = vault_keys.settings()
    user_id, secrets = await _tenant(app_conn, settings)
    _plant(admin, user_id, "readonly", Fernet(vault_keys.readonly.encode()).encrypt(secrets["readonly"].encode())
           .decode())
    with pytest.raises(ConfigError) as caught:
        await _load(app_conn, user_id, "readonly", settings)
    assert caught.value.reason == "VAULT_CIPHERTEXT_UNBOUND" and "rotate-vault-key" in str(caught.value)


HEX64, HEX128 = "ab" * 32, "cd" * 64


@pytest.mark.parametrize(("key", "secret", "reason"), [
    ("ro-key-123456", HEX128, "API_KEY_INVALID"),
    (HEX64 + "a", HEX128, "API_KEY_INVALID"),
    (HEX64[:-1] + "-", HEX128, "API_KEY_INVALID"),
    (HEX128, HEX64, "API_KEY_INVALID"),  # key and secret swapped
    (HEX64, "s3cr3t", "SECRET_INVALID"),
    (HEX64, HEX128[:-1] + "g", "SECRET_INVALID"),
    (HEX64, HEX128 + "0", "SECRET_INVALID"),
    (HEX64, "", "SECRET_EMPTY"),
], ids=["short-key", "65-char-key", "key-with-a-dash", "swapped", "short-secret", "non-hex-secret",
        "129-char-secret", "empty-secret"])
async def test_a_key_not_in_bitvavos_format_is_refused_and_nothing_is_stored(
        app_conn: AppConnection, admin: Admin, vault_keys: VaultKeys, key: str, secret: str, reason: str) -> None:
    user_id = users.new_user_id()
    async with user_tx(app_conn, user_id):
        await users.create_user(app_conn, user_id, f"{user_id.hex[:12]}@example.org", actor=ACTOR)
    before = row_counts(admin)
    with pytest.raises(InputError) as caught:
        async with user_tx(app_conn, user_id):
            await vault.set_credential(app_conn, user_id, "readonly", key, secret, vault_keys.settings(), actor=ACTOR)
    assert caught.value.reason == reason, caught.value
    assert (secret or "-") not in str(caught.value)
    assert row_counts(admin) == before


# ---------------------------------------------------------------- rotation, in a database of its own

@dataclass(frozen=True)
class Keys:
    old_readonly: str
    new_readonly: str
    trade: str

    def settings(self, *, previous: bool) -> Settings:
        return Settings(vault_key_readonly=self.new_readonly, vault_key_trade=self.trade,
                        vault_key_readonly_previous=self.old_readonly if previous else None)


@pytest.fixture
def scratch(db: DatabaseUnderTest) -> Iterator[DatabaseUnderTest]:
    """A migrated database of its own: rotation walks every tenant, and the shared one's rows use other keys."""
    url = db.fresh_database()
    migrate.upgrade(url)
    params = conninfo_to_dict(db.app_url)
    params["dbname"] = conninfo_to_dict(url)["dbname"]
    yield DatabaseUnderTest(admin_url=url, app_url=make_conninfo(**params), home=db.home,  # type: ignore[arg-type]
                            embedded=False)


@pytest.fixture
async def scratch_conn(scratch: DatabaseUnderTest) -> AsyncIterator[AppConnection]:
    conn = await connect(scratch.app_url)
    yield conn
    await conn.close()


@pytest.fixture
def scratch_admin(scratch: DatabaseUnderTest) -> Iterator[Admin]:
    with psycopg.connect(scratch.admin_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def _rotate(scratch: DatabaseUnderTest, keys: Keys, *, previous: bool = True) -> subprocess.Popen[str]:
    env = scratch.env(AUTOINVEST_VAULT_KEY_READONLY=keys.new_readonly, AUTOINVEST_VAULT_KEY_TRADE=keys.trade,
                      **({"AUTOINVEST_VAULT_KEY_READONLY_PREVIOUS": keys.old_readonly} if previous else {}))
    return subprocess.Popen([sys.executable, "-m", "autoinvest.cli", "credentials", "rotate-vault-key",
                             "--purpose", "readonly"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finished(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=60)
    assert out.strip(), err
    return proc.returncode, json.loads(out)


def _rotations(admin: Admin) -> list[dict[str, Any]]:
    return admin.execute("SELECT user_id, subject_id, details, actor FROM audit_log"
                         " WHERE action = 'credential.vault_key_rotated' ORDER BY user_id").fetchall()


async def test_rotating_the_vault_key_re_encrypts_every_row_audited_and_idempotently(
        scratch: DatabaseUnderTest, scratch_conn: AppConnection, scratch_admin: Admin) -> None:
    keys = Keys(Fernet.generate_key().decode(), Fernet.generate_key().decode(), Fernet.generate_key().decode())
    old = Settings(vault_key_readonly=keys.old_readonly, vault_key_trade=keys.trade)
    tenants = dict([await _tenant(scratch_conn, old) for _ in range(3)])
    first, second, unbound = sorted(tenants)  # rotation walks users in id order
    # One row still in the unbound format of before 0008: rotation binds it to the row it is in.
    _plant(scratch_admin, unbound, "readonly",
           Fernet(keys.old_readonly.encode()).encrypt(tenants[unbound]["readonly"].encode()).decode())
    trade_before = {u: _stored(scratch_admin, u)["trade"] for u in tenants}

    # A crash mid-way: the second user's row is locked, the first is rotated and committed, then kill -9.
    with psycopg.connect(scratch.admin_url) as locker:
        locker.execute("SELECT 1 FROM exchange_credentials WHERE user_id = %s AND purpose = 'readonly' FOR UPDATE",
                       (second,))
        crashed = _rotate(scratch, keys)
        deadline = time.monotonic() + 30
        while not _rotations(scratch_admin) and time.monotonic() < deadline and crashed.poll() is None:
            time.sleep(0.05)
        crashed.send_signal(signal.SIGKILL)
        crashed.communicate(timeout=30)
        locker.rollback()
    assert [r["user_id"] for r in _rotations(scratch_admin)] == [first]
    for user_id, secrets in tenants.items():  # every row decrypts with the two keys the runbook says to keep
        if user_id != unbound:
            assert await _load(scratch_conn, user_id, "readonly", keys.settings(previous=True)) == secrets["readonly"]

    code, report = _finished(_rotate(scratch, keys))
    new_kid = vault.key_id(keys.new_readonly)
    assert (code, report) == (0, {"purpose": "readonly", "key_id": new_kid, "rotated": 2, "already_current": 1,
                                  "failed": {}})
    audited = _rotations(scratch_admin)
    assert [r["user_id"] for r in audited] == [first, second, unbound]  # once each, the crashed run's too
    old_kid = vault.key_id(keys.old_readonly)
    assert [r["details"] for r in audited] == [
        {"purpose": "readonly", "from_key_id": old_kid, "to_key_id": new_kid},
        {"purpose": "readonly", "from_key_id": old_kid, "to_key_id": new_kid},
        {"purpose": "readonly", "from_key_id": "unbound", "to_key_id": new_kid}]
    assert all(r["actor"].startswith("operator:") for r in audited)
    assert not any(s in json.dumps(audited, default=str) for t in tenants.values() for s in t.values())

    again = _finished(_rotate(scratch, keys))
    assert again == (0, {"purpose": "readonly", "key_id": new_kid, "rotated": 0, "already_current": 3,
                         "failed": {}})
    assert len(_rotations(scratch_admin)) == 3
    # The previous key can go: every row reads with the new key alone; the trade rows were not touched.
    for user_id, secrets in tenants.items():
        assert _stored(scratch_admin, user_id)["readonly"].startswith(f"v2:{new_kid}:")
        assert await _load(scratch_conn, user_id, "readonly", keys.settings(previous=False)) == secrets["readonly"]
        assert await _load(scratch_conn, user_id, "trade", keys.settings(previous=False)) == secrets["trade"]
        assert _stored(scratch_admin, user_id)["trade"] == trade_before[user_id]


async def test_a_row_rotation_cannot_read_is_reported_and_left_as_it_is(
        scratch: DatabaseUnderTest, scratch_conn: AppConnection, scratch_admin: Admin) -> None:
    keys = Keys(Fernet.generate_key().decode(), Fernet.generate_key().decode(), Fernet.generate_key().decode())
    old = Settings(vault_key_readonly=keys.old_readonly, vault_key_trade=keys.trade)
    good, _ = await _tenant(scratch_conn, old)
    swapped, _ = await _tenant(scratch_conn, old)
    _plant(scratch_admin, swapped, "readonly", _stored(scratch_admin, good)["readonly"])  # copied between tenants
    planted = _stored(scratch_admin, swapped)["readonly"]
    code, report = _finished(_rotate(scratch, keys))
    assert code == 1 and report["rotated"] == 1
    assert report["failed"] == {str(swapped): "VAULT_BINDING_MISMATCH"}
    assert _stored(scratch_admin, swapped)["readonly"] == planted
    assert [r["user_id"] for r in _rotations(scratch_admin)] == [good]
    # Without the previous key, a row still under it is a clear refusal, not a silent skip.
    stale, _ = await _tenant(scratch_conn, old)
    code, report = _finished(_rotate(scratch, keys, previous=False))
    assert code == 1 and report["failed"][str(stale)] == "VAULT_DECRYPT_FAILED"
