"""`autoinvest kill-switch on|off [--user ID | --profile ID] [--wait SECONDS]`."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import typer

from autoinvest.cli._common import actor, err, fails_cleanly, owner, parse_id, print_json, run, settings
from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.accounts.kill_switch import KillSwitchState
    from autoinvest.db.tx import AppConnection


@fails_cleanly
def set_switch(
    state: str = typer.Argument(..., help="on (stop trading) | off (allow trading again)."),
    user: str | None = typer.Option(None, "--user", help="Only this user's profiles."),
    profile: str | None = typer.Option(None, "--profile", help="Only this profile."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded in the audit log)."),
    wait: float = typer.Option(10.0, "--wait", help="After `on`: seconds to wait for orders in flight to settle "
                               "(0: only report them)."),
) -> None:
    """Stop (on) or allow (off) trading: globally, for one user, or for one profile; prints JSON. After `on`,
    reports on stderr the orders already in flight for the scope and waits (bounded) until they have settled."""
    from autoinvest.accounts import kill_switch
    from autoinvest.db.tx import system_tx, user_tx

    if state.strip().lower() not in ("on", "off"):
        raise InputError(f"state {state!r} must be on or off", reason="STATE_INVALID")
    on = state.strip().lower() == "on"
    if user is not None and profile is not None:
        raise InputError("give --user or --profile, not both", reason="SCOPE_INVALID")
    if not 0 <= wait <= 600:
        raise InputError(f"--wait {wait} must be between 0 and 600 seconds", reason="WAIT_INVALID")
    user_id = None if user is None else parse_id(user, field="--user")
    profile_id = None if profile is None else parse_id(profile, field="--profile")
    s = settings()

    async def work(conn: AppConnection) -> KillSwitchState:
        if user_id is not None:
            user_owner = await owner(conn, "user", user_id)
            async with user_tx(conn, user_owner):
                return await kill_switch.set_user(conn, user_owner, on, actor=actor(), reason=reason)
        if profile_id is not None:
            profile_owner = await owner(conn, "profile", profile_id)
            async with user_tx(conn, profile_owner):
                return await kill_switch.set_profile(conn, profile_id, on, actor=actor(), reason=reason)
        async with system_tx(conn):
            return await kill_switch.set_global(conn, on, actor=actor(), reason=reason)

    async def settle(conn: AppConnection, switched: KillSwitchState) -> list[str]:
        deadline = time.monotonic() + wait
        while True:
            async with system_tx(conn):
                pending = await kill_switch.in_flight(conn, switched.scope, switched.id)
            if not pending or time.monotonic() >= deadline:
                return [str(p) for p in pending]
            err.print(f"{len(pending)} order(s) in flight for this scope; waiting…")
            await asyncio.sleep(0.5)

    async def work_and_settle(conn: AppConnection) -> KillSwitchState:
        switched = await work(conn)
        if on:
            pending = await settle(conn, switched)
            if pending:  # the operator sees them: each is resolved by lookup, never resent
                err.print(f"still in flight after {wait:g} s: {', '.join(pending)}")
            else:
                err.print("no order in flight for this scope")
        return switched

    print_json(run(s, work_and_settle).as_json())
