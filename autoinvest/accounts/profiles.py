"""Profiles: create one with its policy, capital account, initial allocation and scan job, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, LiteralString
from uuid import UUID

from autoinvest import audit
from autoinvest.accounts import presets
from autoinvest.accounts._db import fetch_optional, require_transaction
from autoinvest.accounts.inputs import require_eur, require_markets, require_name
from autoinvest.audit import JsonValue
from autoinvest.db.tx import AppConnection, savepoint
from autoinvest.errors import ForeignKeyMissing, InputError, NotFound, UniqueViolated
from autoinvest.ledger import entries as ledger_entries
from autoinvest.ledger import repo as ledger_repo

_INSERT_PROFILE: LiteralString = (
    "INSERT INTO profiles (id, user_id, name, scan_interval_seconds, strategy, risk_preset, auto_approve_threshold)"
    " VALUES (%(id)s, %(user_id)s, %(name)s, %(scan_interval_seconds)s, %(strategy)s, %(risk_preset)s,"
    " %(auto_approve_threshold)s)"
)
_INSERT_POLICY: LiteralString = (
    "INSERT INTO profile_policies (profile_id, user_id, allowlist, min_order_eur, max_order_eur, allowed_confidences,"
    " min_confidence, cooldown_minutes, anti_flip_minutes, max_trades_per_day, max_trades_per_hour)"
    " VALUES (%(id)s, %(user_id)s, %(allowlist)s, %(min_order_eur)s, %(max_order_eur)s,"
    " %(allowed_confidences)s::smallint[], %(min_confidence)s, %(cooldown_minutes)s, %(anti_flip_minutes)s,"
    " %(max_trades_per_day)s, %(max_trades_per_hour)s)"
)
_INSERT_SCAN_JOB: LiteralString = (
    "INSERT INTO scan_jobs (id, user_id, profile_id, next_run_at) VALUES (%s, %s, %s, now())"
)
# trading_enabled is the profile switch with the opposite sense: switch on = trading off.
_SET_TRADING_ENABLED: LiteralString = (
    "UPDATE profile_policies SET trading_enabled = %(enabled)s, updated_at = now() WHERE profile_id = %(id)s"
    " RETURNING user_id"
)
# Stopping is for reconciliation and recovery too (a shortfall, a ledger mismatch); starting is an operator's.
_PAUSE: LiteralString = "SELECT user_id FROM pause_profile(%(id)s) AS user_id WHERE user_id IS NOT NULL"
_POLICY: LiteralString = (
    "SELECT p.id AS profile_id, p.user_id, p.name, p.status, p.strategy, p.risk_preset, p.auto_approve_threshold,"
    " p.scan_interval_seconds, pp.trading_enabled, pp.allowlist, pp.min_order_eur, pp.max_order_eur,"
    " pp.allowed_confidences, pp.min_confidence, pp.cooldown_minutes, pp.anti_flip_minutes,"
    " pp.max_trades_per_day, pp.max_trades_per_hour, pp.llm_calls_per_day, pp.llm_calls_per_hour,"
    " pp.proposal_ttl_seconds"
    " FROM profiles p JOIN profile_policies pp ON pp.profile_id = p.id WHERE p.id = %s"
)


@dataclass(frozen=True, kw_only=True)
class ProfileSpec:
    """A validated request for a new profile."""

    name: str
    allocate_eur: Decimal
    allowlist: tuple[str, ...]
    risk_preset: str
    policy: presets.PolicySettings


def profile_spec(name: str, allocate_eur: Decimal, allowlist: tuple[str, ...], *, preset: str | None = None,
                 overrides: Mapping[str, object] | None = None) -> ProfileSpec:
    """Validate and combine the inputs of a new profile (pure; raises InputError with a reason code)."""
    risk_preset, policy = presets.resolve(preset, overrides)
    return ProfileSpec(name=require_name(name), allocate_eur=require_eur(allocate_eur, field="allocate"),
                       allowlist=require_markets(tuple(allowlist)), risk_preset=risk_preset, policy=policy)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """A profile's settings and policy as stored (what a proposal snapshots)."""

    profile_id: UUID
    user_id: UUID
    name: str
    status: str
    strategy: str
    risk_preset: str
    auto_approve_threshold: int | None
    scan_interval_seconds: int
    trading_enabled: bool
    allowlist: tuple[str, ...]
    min_order_eur: Decimal
    max_order_eur: Decimal
    allowed_confidences: tuple[int, ...]
    min_confidence: int
    cooldown_minutes: int
    anti_flip_minutes: int
    max_trades_per_day: int
    max_trades_per_hour: int
    llm_calls_per_day: int
    llm_calls_per_hour: int
    proposal_ttl_seconds: int

    def snapshot(self) -> dict[str, JsonValue]:
        """JSON-ready copy; Decimals as strings (JSON numbers would come back as floats)."""
        return {
            "profile_id": str(self.profile_id), "strategy": self.strategy, "risk_preset": self.risk_preset,
            "auto_approve_threshold": self.auto_approve_threshold, "trading_enabled": self.trading_enabled,
            "allowlist": list(self.allowlist), "min_order_eur": str(self.min_order_eur),
            "max_order_eur": str(self.max_order_eur), "allowed_confidences": list(self.allowed_confidences),
            "min_confidence": self.min_confidence, "cooldown_minutes": self.cooldown_minutes,
            "anti_flip_minutes": self.anti_flip_minutes, "max_trades_per_day": self.max_trades_per_day,
            "max_trades_per_hour": self.max_trades_per_hour, "proposal_ttl_seconds": self.proposal_ttl_seconds,
        }


async def create_profile(conn: AppConnection, user_id: UUID, spec: ProfileSpec, *, actor: str) -> UUID:
    """Create profile, policy, capital account, the ALLOCATE entry and the scan job in the caller's user_tx."""
    require_transaction(conn)
    profile_id = uuid.uuid4()
    p = spec.policy
    params: dict[str, Any] = {
        "id": profile_id, "user_id": user_id, "name": spec.name, "scan_interval_seconds": p.scan_interval_seconds,
        "strategy": p.strategy, "risk_preset": spec.risk_preset, "auto_approve_threshold": p.auto_approve_threshold,
        "allowlist": list(spec.allowlist), "min_order_eur": p.min_order_eur, "max_order_eur": p.max_order_eur,
        "allowed_confidences": list(p.allowed_confidences), "min_confidence": p.min_confidence,
        "cooldown_minutes": p.cooldown_minutes, "anti_flip_minutes": p.anti_flip_minutes,
        "max_trades_per_day": p.max_trades_per_day, "max_trades_per_hour": p.max_trades_per_hour,
    }
    try:
        async with savepoint(conn):  # a refusal leaves the caller's transaction usable
            await conn.execute(_INSERT_PROFILE, params)
    except UniqueViolated as exc:
        if exc.constraint != "profiles_user_id_name_key":
            raise
        raise InputError(f"this user already has a profile named {spec.name!r}", reason="PROFILE_NAME_TAKEN") from None
    except ForeignKeyMissing:
        raise NotFound(f"no user with id {user_id}") from None
    await conn.execute(_INSERT_POLICY, params)
    await ledger_repo.open_account(conn, profile_id, user_id)
    # Capital only ever moves through the ledger: the account is opened at zero and funded by an entry.
    await ledger_repo.post(conn, profile_id, user_id, ledger_entries.allocate(profile_id, "initial", spec.allocate_eur))
    await conn.execute(_INSERT_SCAN_JOB, (uuid.uuid4(), user_id, profile_id))
    await audit.record(conn, user_id, actor, "profile.created", "profile", profile_id, {
        "name": spec.name, "risk_preset": spec.risk_preset, "allocate_eur": str(spec.allocate_eur),
        "allowlist": list(spec.allowlist), "auto_approve_threshold": p.auto_approve_threshold,
    })
    return profile_id


async def get_policy(conn: AppConnection, profile_id: UUID) -> Policy:
    """The profile's settings and policy, as visible to the current user_tx; NotFound otherwise."""
    row = await fetch_optional(conn, _POLICY, (profile_id,))
    if row is None:
        raise NotFound(f"no profile with id {profile_id}")
    return Policy(**{**row, "allowlist": tuple(row["allowlist"]),
                     "allowed_confidences": tuple(row["allowed_confidences"])})


async def set_trading_enabled(conn: AppConnection, profile_id: UUID, enabled: bool) -> UUID | None:
    """Switch trading on the profile on or off in the caller's transaction; the owner's id, or None when there is
    no such profile (``accounts.kill_switch`` audits the change)."""
    require_transaction(conn)
    if enabled:
        row = await fetch_optional(conn, _SET_TRADING_ENABLED, {"enabled": True, "id": profile_id})
    else:
        row = await fetch_optional(conn, _PAUSE, {"id": profile_id})
    owner: UUID | None = None if row is None else row["user_id"]
    return owner
