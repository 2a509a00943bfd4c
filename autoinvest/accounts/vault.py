"""Exchange secrets at rest: Fernet, one key per purpose, so a read-only process cannot decrypt a trade secret.

The secret never appears in a message, a log line or a repr: errors name the variable, never the value.
"""

from __future__ import annotations

import uuid
from typing import LiteralString, cast
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken

from autoinvest import audit
from autoinvest.accounts._db import fetch_all, fetch_one, fetch_optional, require_transaction
from autoinvest.config import ENV_PREFIX, Settings, check_exchange_url
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import ConfigError, CredentialRefused, InputError, NotFound
from autoinvest.exchange import verify as key_checks
from autoinvest.exchange.credentials import Credential

_UPSERT: LiteralString = (
    "INSERT INTO exchange_credentials (id, user_id, purpose, api_key, secret_encrypted, exchange_url)"
    " VALUES (%(id)s, %(user_id)s, %(purpose)s, %(api_key)s, %(secret_encrypted)s, %(exchange_url)s)"
    " ON CONFLICT (user_id, purpose) DO UPDATE SET api_key = EXCLUDED.api_key,"
    " secret_encrypted = EXCLUDED.secret_encrypted, exchange_url = EXCLUDED.exchange_url"
    " RETURNING id"
)
# A new key changes the pair: neither row's verification holds any more.
_CLEAR_VERIFICATION: LiteralString = (
    "UPDATE exchange_credentials SET verified_at = NULL, verification_checks = NULL, verification_reason = NULL"
    " WHERE user_id = %s"
)
_RECORD_VERIFICATION: LiteralString = (
    "UPDATE exchange_credentials SET verified_at = now(), verification_checks = %(checks)s,"
    " verification_reason = %(reason)s WHERE user_id = %(user_id)s"
)
_VERIFICATIONS: LiteralString = (
    "SELECT purpose, verified_at, verification_reason FROM exchange_credentials WHERE user_id = %s"
)
_SELECT: LiteralString = (
    "SELECT id, api_key, secret_encrypted, exchange_url FROM exchange_credentials"
    " WHERE user_id = %s AND purpose = %s"
)

_SELECT_URL: LiteralString = (
    "SELECT exchange_url FROM exchange_credentials WHERE user_id = %s AND purpose = 'readonly'"
)


def key_variable(purpose: CredentialPurpose | str) -> str:
    """The environment variable holding the Fernet key of ``purpose``."""
    return f"{ENV_PREFIX}VAULT_KEY_{CredentialPurpose(purpose).value.upper()}"


def _fernet(settings: Settings, purpose: CredentialPurpose | str) -> Fernet:
    purpose = CredentialPurpose(purpose)
    secret = settings.vault_key_trade if purpose is CredentialPurpose.TRADE else settings.vault_key_readonly
    if secret is None or not secret.get_secret_value():
        raise ConfigError(f"{key_variable(purpose)} is not set: it encrypts {purpose.value} exchange secrets "
                          "(make one with `python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())'`)", reason="VAULT_KEY_MISSING")
    other = settings.vault_key_readonly if purpose is CredentialPurpose.TRADE else settings.vault_key_trade
    # One key for both would let a read-only process decrypt trade secrets (guarantee 3).
    if other is not None and other.get_secret_value() == secret.get_secret_value():
        raise ConfigError(f"{key_variable('readonly')} and {key_variable('trade')} must be different keys",
                          reason="VAULT_KEYS_NOT_SEPARATE")
    try:
        return Fernet(secret.get_secret_value().encode())
    except (ValueError, TypeError):
        raise ConfigError(f"{key_variable(purpose)} is not a Fernet key (32 url-safe base64-encoded bytes)",
                          reason="VAULT_KEY_INVALID") from None


def encrypt(settings: Settings, purpose: CredentialPurpose | str, secret: str) -> str:
    """The Fernet token of ``secret`` under the key of ``purpose``."""
    if not secret:
        raise InputError("the API secret must not be empty", reason="SECRET_INVALID")
    return _fernet(settings, purpose).encrypt(secret.encode()).decode()


def decrypt(settings: Settings, purpose: CredentialPurpose | str, token: str) -> str:
    """The secret of a token, only with the key of ``purpose``; ConfigError if that key did not encrypt it."""
    try:
        return _fernet(settings, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(f"a stored {CredentialPurpose(purpose).value} secret does not decrypt with "
                          f"{key_variable(purpose)} (wrong or rotated key, or another purpose's secret)",
                          reason="VAULT_DECRYPT_FAILED") from None


async def set_credential(conn: AppConnection, user_id: UUID, purpose: CredentialPurpose | str, api_key: str,
                         api_secret: str, settings: Settings, *, exchange_url: str | None = None,
                         actor: str) -> UUID:
    """Store (or replace) the user's key for ``purpose`` with its secret encrypted; returns the credential id."""
    require_transaction(conn)
    purpose = CredentialPurpose(purpose)
    if not api_key.strip() or len(api_key) > 200:
        raise InputError("the API key must be 1 to 200 characters", reason="API_KEY_INVALID")
    if exchange_url is not None and not exchange_url.startswith(("http://", "https://")):
        raise InputError(f"exchange URL {exchange_url!r} must be an http(s) URL", reason="EXCHANGE_URL_INVALID")
    if exchange_url is not None:
        check_exchange_url(exchange_url, live=settings.live, what="--exchange-url", error=InputError)
    token = encrypt(settings, purpose, api_secret)  # before any write: a missing key changes nothing
    row = await fetch_one(conn, _UPSERT, {"id": uuid.uuid4(), "user_id": user_id, "purpose": purpose.value,
                                          "api_key": api_key.strip(), "secret_encrypted": token,
                                          "exchange_url": exchange_url})
    credential_id = cast(UUID, row["id"])
    await conn.execute(_CLEAR_VERIFICATION, (user_id,))
    await audit.record(conn, user_id, actor, "credential.set", "exchange_credential", credential_id,
                       {"purpose": purpose.value, "api_key": _masked(api_key.strip()), "exchange_url": exchange_url})
    return credential_id


async def load_credential(conn: AppConnection, user_id: UUID, purpose: CredentialPurpose | str,
                          settings: Settings) -> Credential:
    """The user's key for ``purpose``, decrypted with that purpose's key only (inside the caller's user_tx)."""
    require_transaction(conn)
    purpose = CredentialPurpose(purpose)
    row = await fetch_optional(conn, _SELECT, (user_id, purpose.value))
    if row is None:
        raise NotFound(f"user {user_id} has no {purpose.value} exchange key (`autoinvest credentials set`)",
                       reason="CREDENTIAL_NOT_FOUND")
    url = row["exchange_url"] or settings.exchange_url
    # stored in the other mode: never sign for a simulator's key live, nor for a real exchange's in paper mode
    check_exchange_url(url, live=settings.live, what=f"the stored {purpose.value} key's exchange URL")
    return Credential(api_key=row["api_key"], api_secret=decrypt(settings, purpose, row["secret_encrypted"]),
                      purpose=purpose, base_url=url)


async def exchange_url(conn: AppConnection, user_id: UUID, settings: Settings) -> str:
    """The exchange the user's read-only key talks to: its stored URL, else AUTOINVEST_EXCHANGE_URL (as
    ``load_credential`` resolves it). Market data and metadata are kept per this URL."""
    require_transaction(conn)
    row = await fetch_optional(conn, _SELECT_URL, (user_id,))
    stored = row["exchange_url"] if row is not None else None
    return cast(str, stored or settings.exchange_url)


async def store_verified(conn: AppConnection, user_id: UUID, purpose: CredentialPurpose | str, api_key: str,
                         api_secret: str, settings: Settings, *, exchange_url: str | None = None,
                         actor: str) -> UUID:
    """Verify the new key against the exchange (with the stored key of the other purpose, when there is one and
    this process holds its vault key), then store it and the pair's verification; a refusal stores nothing.

    No transaction is held while the exchange answers; ``conn`` must be outside one."""
    purpose = CredentialPurpose(purpose)
    encrypt(settings, purpose, api_secret)  # a missing vault key fails before any exchange call
    new = Credential(api_key=api_key.strip(), api_secret=api_secret, purpose=purpose,
                     base_url=exchange_url or settings.exchange_url)
    other = CredentialPurpose.TRADE if purpose is CredentialPurpose.READONLY else CredentialPurpose.READONLY
    partner: Credential | None = None
    try:
        async with user_tx(conn, user_id):
            partner = await load_credential(conn, user_id, other, settings)
    except (NotFound, ConfigError):
        partner = None  # not stored yet, or its vault key is not here: the pair is verified on first use
    pair = {purpose: new, **({other: partner} if partner is not None else {})}
    result = await key_checks.verify(pair.get(CredentialPurpose.READONLY), pair.get(CredentialPurpose.TRADE),
                                     operator_id=settings.operator_id)
    if not result.ok:
        raise CredentialRefused(f"the {purpose.value} key {_masked(new.api_key)} was not stored: {result.detail}",
                                reason=result.reason)
    async with user_tx(conn, user_id):
        credential_id = await set_credential(conn, user_id, purpose, api_key, api_secret, settings,
                                             exchange_url=exchange_url, actor=actor)
        if result.complete:
            await _record(conn, user_id, result, actor=actor)
    return credential_id


async def ensure_verified(conn: AppConnection, user_id: UUID, settings: Settings) -> None:
    """Raise CredentialRefused unless the user's key pair passed verification; a pair stored unverified (e.g. the
    paper bootstrap, or a key stored without the other's vault key) is verified now, once, and recorded.

    No transaction is held while the exchange answers; ``conn`` must be outside one."""
    async with user_tx(conn, user_id):
        rows = {row["purpose"]: row for row in await fetch_all(conn, _VERIFICATIONS, (user_id,))}
        if len(rows) == 2 and all(row["verified_at"] is not None for row in rows.values()):
            reason = next((row["verification_reason"] for row in rows.values() if row["verification_reason"]), None)
            if reason is None:
                return
            raise CredentialRefused(f"user {user_id}'s key pair failed verification against the exchange",
                                    reason=reason)
        readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
        trade = await load_credential(conn, user_id, CredentialPurpose.TRADE, settings)
    result = await key_checks.verify(readonly, trade, operator_id=settings.operator_id)
    if result.reason == key_checks.CREDENTIAL_CHECK_INCONCLUSIVE:
        # No clear answer (exchange unreachable): not recorded, the next use asks again.
        raise CredentialRefused(f"user {user_id}'s key pair could not be verified: {result.detail}",
                                reason=result.reason)
    async with user_tx(conn, user_id):
        await _record(conn, user_id, result, actor="executor")
    if not result.ok:
        raise CredentialRefused(f"user {user_id}'s key pair failed verification: {result.detail}",
                                reason=result.reason)


async def _record(conn: AppConnection, user_id: UUID, result: key_checks.Verification, *, actor: str) -> None:
    await conn.execute(_RECORD_VERIFICATION,
                       {"checks": driver.Jsonb(result.checks), "reason": result.reason, "user_id": user_id})
    await audit.record(conn, user_id, actor, "credential.verified", "exchange_credential", None,
                       {"checks": result.checks, "reason": result.reason})


def _masked(api_key: str) -> str:
    return f"{api_key[:4]}…" if len(api_key) > 8 else "…"
