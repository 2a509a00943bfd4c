"""Kill switches at three levels: global (all users), user (all their profiles), profile (trading_enabled)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, LiteralString
from uuid import UUID

from autoinvest import audit
from autoinvest.accounts import profiles, users
from autoinvest.accounts._db import fetch_one, require_transaction
from autoinvest.db.tx import AppConnection
from autoinvest.errors import NotFound

Scope = Literal["global", "user", "profile"]

_SET_GLOBAL: LiteralString = "SELECT set_global_kill_switch(%s, %s, %s)"
_READ_GLOBAL: LiteralString = "SELECT kill_switch FROM global_settings WHERE id = 1"
_IN_FLIGHT: LiteralString = "SELECT execution_id, user_id, profile_id FROM in_flight_execution_ids(%s)"
# A CLAIMED or SUBMITTING execution that moved this recently may be sending right now.
IN_FLIGHT_WITHIN_S = 60


@dataclass(frozen=True, kw_only=True)
class KillSwitchState:
    """A switch after a change."""

    scope: Scope
    id: UUID | None
    kill_switch: bool

    def as_json(self) -> dict[str, str | bool | None]:
        """{"scope", "id", "kill_switch"}."""
        return {"scope": self.scope, "id": None if self.id is None else str(self.id), "kill_switch": self.kill_switch}


async def set_global(conn: AppConnection, on: bool, *, actor: str, reason: str | None = None) -> KillSwitchState:
    """Switch all trading off (on=True) or back on, in the caller's system_tx; the database function audits it."""
    require_transaction(conn)
    await conn.execute(_SET_GLOBAL, (on, actor, reason))
    row = await fetch_one(conn, _READ_GLOBAL, ())
    return KillSwitchState(scope="global", id=None, kill_switch=bool(row["kill_switch"]))


async def set_user(conn: AppConnection, user_id: UUID, on: bool, *, actor: str,
                   reason: str | None = None) -> KillSwitchState:
    """Set the user's kill switch in the caller's user_tx (for that user) and audit it."""
    require_transaction(conn)
    state = await users.set_kill_switch(conn, user_id, on, reason)
    if state is None:
        raise NotFound(f"no user with id {user_id}")
    await audit.record(conn, user_id, actor, _action(on), "user", user_id, {"reason": reason})
    return KillSwitchState(scope="user", id=user_id, kill_switch=state)


async def set_profile(conn: AppConnection, profile_id: UUID, on: bool, *, actor: str,
                      reason: str | None = None) -> KillSwitchState:
    """Set the profile's switch (trading_enabled = not on) in the caller's user_tx and audit it."""
    require_transaction(conn)
    owner = await profiles.set_trading_enabled(conn, profile_id, not on)
    if owner is None:
        raise NotFound(f"no profile with id {profile_id}")
    await audit.record(conn, owner, actor, _action(on), "profile", profile_id,
                       {"reason": reason, "trading_enabled": not on})
    return KillSwitchState(scope="profile", id=profile_id, kill_switch=on)


def _action(on: bool) -> str:
    return "kill_switch.on" if on else "kill_switch.off"


async def in_flight(conn: AppConnection, scope: Scope, scope_id: UUID | None) -> list[UUID]:
    """Executions of the scope that may be sending an order right now, in the caller's system_tx: a switch
    thrown now stops every later send, but not one already past its SUBMITTING commit."""
    require_transaction(conn)
    cur = await conn.execute(_IN_FLIGHT, (IN_FLIGHT_WITHIN_S,))
    rows = await cur.fetchall()
    key = {"global": None, "user": "user_id", "profile": "profile_id"}[scope]
    return [r["execution_id"] for r in rows if key is None or r[key] == scope_id]
