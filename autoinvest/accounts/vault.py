"""Exchange secrets at rest: Fernet, one key per purpose, so a read-only process cannot decrypt a trade secret.

A stored secret is ``v2:<key id>:<Fernet token>``; the token encrypts ``{"user", "purpose", "kid", "secret"}``
and the binding is checked after every decryption, so a ciphertext copied into another tenant's row (or the
other purpose's) does not decrypt. The key id names the vault key that encrypted the row: rotation
(``rotate_key``) re-encrypts the rows of a purpose from ``VAULT_KEY_<PURPOSE>_PREVIOUS`` to the current key.

The secret never appears in a message, a log line or a repr: errors name the variable, never the value.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import LiteralString, cast
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from autoinvest import audit
from autoinvest.accounts._db import fetch_all, fetch_one, fetch_optional, require_transaction
from autoinvest.config import ENV_PREFIX, Settings, check_exchange_url
from autoinvest.db import driver
from autoinvest.db.tx import AppConnection, system_tx, user_tx
from autoinvest.domain.states import CredentialPurpose
from autoinvest.errors import AutoInvestError, ConfigError, CredentialRefused, InputError, NotFound
from autoinvest.exchange import verify as key_checks
from autoinvest.exchange.credentials import Credential

#: Bitvavo's formats: the API key is 64 characters (error 301 otherwise), the secret 128 hex characters.
API_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{64}")
API_SECRET_FORMAT = re.compile(r"[0-9a-fA-F]{128}")
#: The stored text's version: bound to user, purpose and key id.
BOUND = "v2"

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

_USERS_WITH: LiteralString = "SELECT user_id FROM credential_user_ids(%s)"
_SELECT_FOR_ROTATION: LiteralString = (
    "SELECT id, secret_encrypted FROM exchange_credentials WHERE user_id = %s AND purpose = %s FOR UPDATE"
)
_REENCRYPT: LiteralString = "UPDATE exchange_credentials SET secret_encrypted = %s WHERE id = %s"

_SELECT_URL: LiteralString = (
    "SELECT exchange_url FROM exchange_credentials WHERE user_id = %s AND purpose = 'readonly'"
)


def key_variable(purpose: CredentialPurpose | str, *, previous: bool = False) -> str:
    """The environment variable holding the Fernet key of ``purpose`` (or the one being rotated out)."""
    return f"{ENV_PREFIX}VAULT_KEY_{CredentialPurpose(purpose).value.upper()}{'_PREVIOUS' if previous else ''}"


def key_id(fernet_key: str) -> str:
    """The short public name of a vault key (a hash: it tells which key encrypted a row, never the key)."""
    return hashlib.sha256(b"autoinvest vault key id\0" + fernet_key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class _Key:
    kid: str
    variable: str
    fernet: Fernet = field(repr=False)


def _configured(settings: Settings, purpose: CredentialPurpose) -> tuple[SecretStr | None, SecretStr | None]:
    if purpose is CredentialPurpose.TRADE:
        return settings.vault_key_trade, settings.vault_key_trade_previous
    return settings.vault_key_readonly, settings.vault_key_readonly_previous


def _keys(settings: Settings, purpose: CredentialPurpose | str) -> tuple[_Key, ...]:
    """The purpose's current key, then its previous one when set (rotation in progress)."""
    purpose = CredentialPurpose(purpose)
    current, previous = _configured(settings, purpose)
    if current is None or not current.get_secret_value():
        raise ConfigError(f"{key_variable(purpose)} is not set: it encrypts {purpose.value} exchange secrets "
                          "(make one with `python -c 'from cryptography.fernet import Fernet; "
                          "print(Fernet.generate_key().decode())'`)", reason="VAULT_KEY_MISSING")
    other = CredentialPurpose.TRADE if purpose is CredentialPurpose.READONLY else CredentialPurpose.READONLY
    others = {k.get_secret_value() for k in _configured(settings, other) if k is not None}
    mine = [(current, False), *([(previous, True)] if previous is not None and previous.get_secret_value() else [])]
    keys: list[_Key] = []
    for secret, is_previous in mine:
        variable = key_variable(purpose, previous=is_previous)
        # One key for both would let a read-only process decrypt trade secrets (guarantee 3).
        if secret.get_secret_value() in others:
            raise ConfigError(f"{variable} is also a {other.value} vault key: the purposes must use different keys",
                              reason="VAULT_KEYS_NOT_SEPARATE")
        try:
            fernet = Fernet(secret.get_secret_value().encode())
        except (ValueError, TypeError):
            raise ConfigError(f"{variable} is not a Fernet key (32 url-safe base64-encoded bytes)",
                              reason="VAULT_KEY_INVALID") from None
        keys.append(_Key(key_id(secret.get_secret_value()), variable, fernet))
    return tuple(keys)


def check_key(settings: Settings, purpose: CredentialPurpose | str) -> str:
    """The id of the purpose's current vault key; ConfigError when it is missing, bad or shared."""
    return _keys(settings, purpose)[0].kid


def stored_key_id(stored: str) -> str | None:
    """The key id a stored secret names; None for the unbound format of before (a bare Fernet token)."""
    version, _, rest = stored.partition(":")
    return rest.partition(":")[0] if version == BOUND else None


def encrypt(settings: Settings, purpose: CredentialPurpose | str, secret: str, *, user_id: UUID) -> str:
    """``secret`` encrypted under the current key of ``purpose``, bound to ``user_id``, ``purpose`` and the key."""
    purpose = CredentialPurpose(purpose)
    key = _keys(settings, purpose)[0]
    payload = json.dumps({"user": str(user_id), "purpose": purpose.value, "kid": key.kid, "secret": secret})
    return f"{BOUND}:{key.kid}:{key.fernet.encrypt(payload.encode()).decode()}"


def decrypt(settings: Settings, purpose: CredentialPurpose | str, stored: str, *, user_id: UUID) -> str:
    """The secret of a stored text, only with a key of ``purpose`` and only in the row of ``user_id`` and
    ``purpose`` it was encrypted for (ConfigError otherwise)."""
    return _open(_keys(settings, purpose), CredentialPurpose(purpose), stored, user_id, unbound_ok=False)


def _open(keys: tuple[_Key, ...], purpose: CredentialPurpose, stored: str, user_id: UUID, *,
          unbound_ok: bool) -> str:
    kid = stored_key_id(stored)
    if kid is None:
        if not unbound_ok:
            raise ConfigError(f"a stored {purpose.value} secret of user {user_id} is in the unbound format of before "
                              f"0008: run `autoinvest credentials rotate-vault-key --purpose {purpose.value}`",
                              reason="VAULT_CIPHERTEXT_UNBOUND")
        for key in keys:  # rotation only: re-encrypting binds it to the row it is in now
            try:
                return key.fernet.decrypt(stored.encode()).decode()
            except InvalidToken:
                continue
        raise _undecryptable(keys, purpose, user_id)
    named = next((k for k in keys if k.kid == kid), None)
    if named is None:
        raise _undecryptable(keys, purpose, user_id, f"it names key id {kid}")
    try:
        payload = json.loads(named.fernet.decrypt(stored.split(":", 2)[2].encode()))
    except (InvalidToken, IndexError, ValueError):
        raise _undecryptable(keys, purpose, user_id) from None
    if (payload.get("user"), payload.get("purpose"), payload.get("kid")) != (str(user_id), purpose.value, kid):
        raise ConfigError(f"the stored {purpose.value} secret of user {user_id} was encrypted for another user or "
                          "purpose (copied between rows): refused", reason="VAULT_BINDING_MISMATCH")
    return cast(str, payload["secret"])


def _undecryptable(keys: tuple[_Key, ...], purpose: CredentialPurpose, user_id: UUID, why: str = "") -> ConfigError:
    names = " or ".join(f"{k.variable} (key id {k.kid})" for k in keys)
    return ConfigError(f"the stored {purpose.value} secret of user {user_id} does not decrypt with {names}"
                       f"{f': {why}' if why else ''} (wrong or rotated key, or another purpose's secret)",
                       reason="VAULT_DECRYPT_FAILED")


def check_format(api_key: str, api_secret: str) -> None:
    """InputError unless the key and the secret are in Bitvavo's format (never naming the secret)."""
    if not API_KEY_FORMAT.fullmatch(api_key):
        # Not even a prefix of it in the message: a key and secret given the wrong way round put the secret here.
        raise InputError(f"the API key is not a Bitvavo API key (64 letters and digits; {len(api_key)} characters "
                         "given)", reason="API_KEY_INVALID")
    if not api_secret:
        raise InputError("the API secret must not be empty", reason="SECRET_EMPTY")
    if not API_SECRET_FORMAT.fullmatch(api_secret):
        raise InputError(f"the API secret is not a Bitvavo API secret (128 hex characters; {len(api_secret)} "
                         "characters given)", reason="SECRET_INVALID")


async def set_credential(conn: AppConnection, user_id: UUID, purpose: CredentialPurpose | str, api_key: str,
                         api_secret: str, settings: Settings, *, exchange_url: str | None = None,
                         actor: str) -> UUID:
    """Store (or replace) the user's key for ``purpose`` with its secret encrypted; returns the credential id."""
    require_transaction(conn)
    purpose = CredentialPurpose(purpose)
    api_key = api_key.strip()
    check_format(api_key, api_secret)
    if exchange_url is not None and not exchange_url.startswith(("http://", "https://")):
        raise InputError(f"exchange URL {exchange_url!r} must be an http(s) URL", reason="EXCHANGE_URL_INVALID")
    if exchange_url is not None:
        check_exchange_url(exchange_url, live=settings.live, what="--exchange-url", error=InputError)
    token = encrypt(settings, purpose, api_secret, user_id=user_id)  # before any write: a missing key changes nothing
    row = await fetch_one(conn, _UPSERT, {"id": uuid.uuid4(), "user_id": user_id, "purpose": purpose.value,
                                          "api_key": api_key, "secret_encrypted": token,
                                          "exchange_url": exchange_url})
    credential_id = cast(UUID, row["id"])
    await conn.execute(_CLEAR_VERIFICATION, (user_id,))
    await audit.record(conn, user_id, actor, "credential.set", "exchange_credential", credential_id,
                       {"purpose": purpose.value, "api_key": _masked(api_key), "exchange_url": exchange_url})
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
    secret = decrypt(settings, purpose, row["secret_encrypted"], user_id=user_id)
    return Credential(api_key=row["api_key"], api_secret=secret, purpose=purpose, base_url=url)


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
    check_format(api_key.strip(), api_secret)  # bad input and a missing vault key fail before any exchange call
    check_key(settings, purpose)
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


async def verified_pair(conn: AppConnection, user_id: UUID, settings: Settings) -> tuple[Credential, Credential]:
    """The user's read-only and trade keys, once the pair passed verification: CredentialRefused otherwise. A pair
    stored unverified (e.g. the paper bootstrap, or a key stored without the other's vault key) is verified now,
    once, and recorded. Loaded on every call (one transaction when verified already): a changed key is used at
    once.

    No transaction is held while the exchange answers; ``conn`` must be outside one."""
    async with user_tx(conn, user_id):
        rows = {row["purpose"]: row for row in await fetch_all(conn, _VERIFICATIONS, (user_id,))}
        verified = len(rows) == 2 and all(row["verified_at"] is not None for row in rows.values())
        reason = next((row["verification_reason"] for row in rows.values() if row["verification_reason"]), None)
        if verified and reason is not None:
            raise CredentialRefused(f"user {user_id}'s key pair failed verification against the exchange",
                                    reason=reason)
        readonly = await load_credential(conn, user_id, CredentialPurpose.READONLY, settings)
        trade = await load_credential(conn, user_id, CredentialPurpose.TRADE, settings)
    if verified:
        return readonly, trade
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
    return readonly, trade


@dataclass(frozen=True)
class Rotation:
    """What ``rotate_key`` did: rows re-encrypted, rows already under the current key, rows it could not read."""

    purpose: CredentialPurpose
    key_id: str
    rotated: tuple[UUID, ...]  # user ids
    current: int
    failed: dict[UUID, str]  # user id → reason code

    def to_json(self) -> dict[str, object]:
        return {"purpose": self.purpose.value, "key_id": self.key_id, "rotated": len(self.rotated),
                "already_current": self.current, "failed": {str(u): r for u, r in self.failed.items()}}


async def rotate_key(conn: AppConnection, settings: Settings, purpose: CredentialPurpose | str, *,
                     actor: str) -> Rotation:
    """Re-encrypt every ``purpose`` row not yet under the current vault key (read with the previous key, or in
    the unbound format of before): one user_tx per user, each row audited. A row is rewritten only in its own
    committed transaction, so a crash leaves every row under one of the two keys; running it again rotates the
    rest. ``conn`` must be outside a transaction."""
    purpose = CredentialPurpose(purpose)
    keys = _keys(settings, purpose)
    current = keys[0]
    rotated: list[UUID] = []
    already = 0
    failed: dict[UUID, str] = {}
    async with system_tx(conn):
        listed = [cast(UUID, row["user_id"]) for row in await fetch_all(conn, _USERS_WITH, (purpose.value,))]
    for user_id in listed:
        try:
            async with user_tx(conn, user_id):
                credential = await fetch_optional(conn, _SELECT_FOR_ROTATION, (user_id, purpose.value))
                if credential is None:  # deleted since the listing
                    continue
                stored = cast(str, credential["secret_encrypted"])
                secret = _open(keys, purpose, stored, user_id, unbound_ok=True)  # also proves the binding
                if stored_key_id(stored) == current.kid:
                    already += 1
                    continue
                await conn.execute(_REENCRYPT, (encrypt(settings, purpose, secret, user_id=user_id), credential["id"]))
                await audit.record(conn, user_id, actor, "credential.vault_key_rotated", "exchange_credential",
                                   credential["id"], {"purpose": purpose.value,
                                                      "from_key_id": stored_key_id(stored) or "unbound",
                                                      "to_key_id": current.kid})
            rotated.append(user_id)
        except AutoInvestError as exc:  # one unreadable row must not stop the others; nothing of it changed
            failed[user_id] = exc.reason
    return Rotation(purpose, current.kid, tuple(rotated), already, failed)


async def _record(conn: AppConnection, user_id: UUID, result: key_checks.Verification, *, actor: str) -> None:
    await conn.execute(_RECORD_VERIFICATION,
                       {"checks": driver.Jsonb(result.checks), "reason": result.reason, "user_id": user_id})
    await audit.record(conn, user_id, actor, "credential.verified", "exchange_credential", None,
                       {"checks": result.checks, "reason": result.reason})


def _masked(api_key: str) -> str:
    return f"{api_key[:4]}…" if len(api_key) > 8 else "…"
