"""Operator commands: parse the arguments, call one repository function as the owning user, print.

Connections use the application URL (row-level security applies); the user is found from the id
with ``owner_of`` and every change runs inside that user's ``user_tx``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from functools import wraps
from types import ModuleType
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from uuid import UUID

import typer

from autoinvest.errors import InputError

if TYPE_CHECKING:
    from autoinvest.config import Settings
    from autoinvest.db.tx import AppConnection
    from autoinvest.operator import proposals as proposals_module

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

users_app = typer.Typer(no_args_is_help=True, help="Users (tenants).")
profiles_app = typer.Typer(no_args_is_help=True, help="Investment profiles: policy, capital, scan job.")
credentials_app = typer.Typer(no_args_is_help=True, help="Exchange API keys, secrets encrypted per purpose.")
proposals_app = typer.Typer(no_args_is_help=True, help="Trade proposals: create, approve, reject, list.")


def _root() -> ModuleType:
    # Imported when a command runs: autoinvest.cli imports this module to register the sub-apps, and under
    # `python -m autoinvest.cli` a module-level import back would be circular.
    import autoinvest.cli as root

    return root


def _command(fn: Callable[P, R]) -> Callable[P, R]:
    """The root CLI's fails_cleanly: our errors become one stderr line and exit code 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        guarded: Callable[P, R] = _root().fails_cleanly(fn)
        return guarded(*args, **kwargs)

    return wrapper


def _settings() -> Settings:
    settings: Settings = _root().settings()
    return settings


def _actor() -> str:
    """Who is at the keyboard, for the audit log."""
    return os.environ.get("USER") or "operator"


def _run(settings: Settings, work: Callable[[AppConnection], Awaitable[T]]) -> T:
    from autoinvest.db import urls
    from autoinvest.db.tx import run_with_connection

    return run_with_connection(urls.app_url(settings), work)


async def _owner(conn: AppConnection, kind: str, object_id: UUID) -> UUID:
    from autoinvest.db.ids import owner_of

    return await owner_of(conn, kind, object_id)  # type: ignore[arg-type]


def _print_json(value: object) -> None:
    print(json.dumps(value, sort_keys=True))


# ---------------------------------------------------------------- users

@users_app.command("create")
@_command
def users_create(email: str = typer.Argument(..., help="The user's e-mail address.")) -> None:
    """Create a user; prints the new user id."""
    from autoinvest.db.tx import user_tx
    from autoinvest.operator import inputs, users

    address = inputs.parse_email(email)
    settings = _settings()

    async def work(conn: AppConnection) -> UUID:
        user_id = users.new_user_id()
        async with user_tx(conn, user_id):
            return await users.create_user(conn, user_id, address, actor=_actor())

    print(_run(settings, work))


# ---------------------------------------------------------------- profiles

@profiles_app.command("create")
@_command
def profiles_create(
    user: str = typer.Option(..., "--user", help="Owner's user id."),
    name: str = typer.Option(..., "--name", help="Profile name (unique per user)."),
    allocate: str = typer.Option(..., "--allocate", help="EUR capital allocated through the ledger, e.g. 500.00."),
    allow: str = typer.Option(..., "--allow", help="Allowed markets, comma-separated, e.g. BTC-EUR,ETH-EUR."),
    preset: str | None = typer.Option(None, "--preset", help="observer | hunter | semiauto (default: custom)."),
    min_order_eur: str | None = typer.Option(None, "--min-order-eur", help="Smallest order, EUR."),
    max_order_eur: str | None = typer.Option(None, "--max-order-eur", help="Largest order, EUR."),
    min_confidence: str | None = typer.Option(None, "--min-confidence", help="0, 25, 50, 75 or 100."),
    cooldown_min: str | None = typer.Option(None, "--cooldown-min", help="Minutes between trades on a market."),
    antiflip_min: str | None = typer.Option(None, "--antiflip-min", help="Minutes before trading the other side."),
    max_trades_day: str | None = typer.Option(None, "--max-trades-day", help="Trades per day."),
    max_trades_hour: str | None = typer.Option(None, "--max-trades-hour", help="Trades per hour."),
    auto_approve: str | None = typer.Option(None, "--auto-approve",
                                            help="Auto-approve at this confidence or above; 'off' never."),
    scan_interval_s: str | None = typer.Option(None, "--scan-interval-s", help="Seconds between scans (5-86400)."),
    strategy: str | None = typer.Option(None, "--strategy", help="dca | momentum | mean_reversion | llm."),
) -> None:
    """Create a profile with its policy, capital account, ALLOCATE entry and scan job; prints the profile id."""
    from autoinvest.db.tx import user_tx
    from autoinvest.operator import inputs, profiles

    # Parse everything before connecting: bad input never reaches the database.
    user_id = inputs.parse_uuid(user, field="--user")
    overrides: dict[str, object] = {}
    if min_order_eur is not None:
        overrides["min_order_eur"] = inputs.parse_eur(min_order_eur, field="--min-order-eur")
    if max_order_eur is not None:
        overrides["max_order_eur"] = inputs.parse_eur(max_order_eur, field="--max-order-eur")
    if min_confidence is not None:
        overrides["min_confidence"] = inputs.parse_confidence(min_confidence, field="--min-confidence")
    for key, text, flag in (("cooldown_minutes", cooldown_min, "--cooldown-min"),
                            ("anti_flip_minutes", antiflip_min, "--antiflip-min"),
                            ("max_trades_per_day", max_trades_day, "--max-trades-day"),
                            ("max_trades_per_hour", max_trades_hour, "--max-trades-hour")):
        if text is not None:
            overrides[key] = inputs.parse_int(text, field=flag)
    if scan_interval_s is not None:
        overrides["scan_interval_seconds"] = inputs.parse_int(scan_interval_s, field="--scan-interval-s",
                                                              minimum=5, maximum=86_400)
    if auto_approve is not None:
        off = auto_approve.strip().lower() in ("off", "none", "never")
        overrides["auto_approve_threshold"] = None if off else inputs.parse_confidence(auto_approve,
                                                                                       field="--auto-approve")
    if strategy is not None:
        overrides["strategy"] = strategy.strip().lower()
    spec = profiles.profile_spec(name, inputs.parse_eur(allocate, field="--allocate"), inputs.parse_markets(allow),
                                 preset=None if preset is None else preset.strip().lower(), overrides=overrides)
    settings = _settings()

    async def work(conn: AppConnection) -> UUID:
        owner = await _owner(conn, "user", user_id)
        async with user_tx(conn, owner):
            return await profiles.create_profile(conn, owner, spec, actor=_actor())

    print(_run(settings, work))


def _change_allocation(profile: str, amount_eur: str, request_id: str | None, *, withdraw: bool) -> None:
    import uuid

    from autoinvest.db.tx import user_tx
    from autoinvest.operator import allocation, inputs

    profile_id = inputs.parse_uuid(profile, field="--profile")
    amount = inputs.parse_eur(amount_eur, field="--eur")
    request = allocation.require_request_id(request_id if request_id is not None else str(uuid.uuid4()))
    settings = _settings()

    async def work(conn: AppConnection) -> allocation.AllocationChange:
        owner = await _owner(conn, "profile", profile_id)
        async with user_tx(conn, owner):
            return await allocation.change_allocation(conn, owner, profile_id, amount, withdraw=withdraw,
                                                      request_id=request, actor=_actor())

    _print_json(_run(settings, work).as_json())


_REQUEST_HELP = "Idempotency key: the same key posts once, so a retried command never moves money twice."


@profiles_app.command("allocate")
@_command
def profiles_allocate(
    profile: str = typer.Option(..., "--profile", help="Profile id."),
    eur: str = typer.Option(..., "--eur", help="EUR to add to the profile's budget, e.g. 250.00."),
    request_id: str | None = typer.Option(None, "--request-id", help=_REQUEST_HELP),
) -> None:
    """Add EUR to a profile's budget (an ALLOCATE entry, audited); prints the account as JSON."""
    _change_allocation(profile, eur, request_id, withdraw=False)


@profiles_app.command("deallocate")
@_command
def profiles_deallocate(
    profile: str = typer.Option(..., "--profile", help="Profile id."),
    eur: str = typer.Option(..., "--eur", help="Free EUR to take back from the profile's budget."),
    request_id: str | None = typer.Option(None, "--request-id", help=_REQUEST_HELP),
) -> None:
    """Take free EUR back from a profile (a DEALLOCATE entry, audited; refused beyond its free capital)."""
    _change_allocation(profile, eur, request_id, withdraw=True)


# ---------------------------------------------------------------- credentials

@credentials_app.command("set")
@_command
def credentials_set(
    user: str = typer.Option(..., "--user", help="Owner's user id."),
    purpose: str = typer.Option(..., "--purpose", help="readonly | trade."),
    key: str = typer.Option(..., "--key", help="The exchange API key."),
    secret: str = typer.Option(..., "--secret", prompt="API secret", hide_input=True,
                               help="The exchange API secret (prompted, hidden, when omitted)."),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help="Exchange base URL for this key."),
) -> None:
    """Store a user's exchange key for a purpose (replacing any previous one); prints the credential id."""
    from autoinvest.db.tx import user_tx
    from autoinvest.operator import inputs, vault

    user_id = inputs.parse_uuid(user, field="--user")
    key_purpose = inputs.parse_purpose(purpose)
    settings = _settings()
    vault.encrypt(settings, key_purpose, "probe")  # a missing or bad vault key fails before connecting

    async def work(conn: AppConnection) -> UUID:
        owner = await _owner(conn, "user", user_id)
        async with user_tx(conn, owner):
            return await vault.set_credential(conn, owner, key_purpose, key, secret, settings,
                                              exchange_url=exchange_url, actor=_actor())

    print(_run(settings, work))


# ---------------------------------------------------------------- proposals

@proposals_app.command("create")
@_command
def proposals_create(
    profile: str = typer.Option(..., "--profile", help="Profile id."),
    market: str = typer.Option(..., "--market", help="Market, e.g. BTC-EUR."),
    side: str = typer.Option(..., "--side", help="buy | sell."),
    amount_eur: str | None = typer.Option(
        None, "--amount-eur", help="Order size in EUR, e.g. 25.00 (a sell: converted at the best bid when executed)."),
    amount_base: str | None = typer.Option(
        None, "--amount-base", help="Sell size in the base asset, e.g. 0.0015 (instead of --amount-eur)."),
    confidence: str = typer.Option(..., "--confidence", help="0, 25, 50, 75 or 100."),
    ttl: str | None = typer.Option(None, "--ttl", help="Time to live, e.g. 10m (default: the policy's)."),
    override_cooldown: bool = typer.Option(False, "--override-cooldown", help="Skip the cooldown rule (audited)."),
    override_anti_flip: bool = typer.Option(False, "--override-anti-flip", help="Skip the anti-flip rule (audited)."),
) -> None:
    """Create a manual proposal (auto-approved at or above the profile's threshold); prints the proposal id."""
    from autoinvest.db.tx import user_tx
    from autoinvest.operator import inputs, proposals

    profile_id = inputs.parse_uuid(profile, field="--profile")
    parsed_market = inputs.parse_market(market)
    parsed_side = inputs.parse_side(side)
    amount = None if amount_eur is None else inputs.parse_eur(amount_eur, field="--amount-eur")
    base = None if amount_base is None else inputs.parse_base_amount(amount_base, field="--amount-base")
    conf = inputs.parse_confidence(confidence)
    lifetime = None if ttl is None else inputs.parse_ttl(ttl)
    settings = _settings()

    async def work(conn: AppConnection) -> UUID:
        owner = await _owner(conn, "profile", profile_id)
        async with user_tx(conn, owner):
            created = await proposals.create_proposal(
                conn, owner, profile_id, market=parsed_market, side=parsed_side, amount_eur=amount, amount_base=base,
                confidence=conf, actor=_actor(), ttl=lifetime, override_cooldown=override_cooldown,
                override_anti_flip=override_anti_flip)
            return created.id

    print(_run(settings, work))


def _decide(proposal: str, approve: bool) -> None:
    from autoinvest.db.tx import user_tx
    from autoinvest.operator import inputs, proposals

    proposal_id = inputs.parse_uuid(proposal, field="proposal id")
    settings = _settings()

    async def work(conn: AppConnection) -> proposals.Decision:
        owner = await _owner(conn, "proposal", proposal_id)
        async with user_tx(conn, owner):
            decide = proposals.approve_proposal if approve else proposals.reject_proposal
            return await decide(conn, proposal_id, actor=_actor())

    _print_json(_run(settings, work).as_json())


@proposals_app.command("approve")
@_command
def proposals_approve(proposal: str = typer.Argument(..., help="Proposal id.")) -> None:
    """Approve a PENDING, unexpired proposal; prints {"proposal_id", "status"}."""
    _decide(proposal, approve=True)


@proposals_app.command("reject")
@_command
def proposals_reject(proposal: str = typer.Argument(..., help="Proposal id.")) -> None:
    """Reject a PENDING proposal; prints {"proposal_id", "status"}."""
    _decide(proposal, approve=False)


@proposals_app.command("list")
@_command
def proposals_list(
    profile: str | None = typer.Option(None, "--profile", help="Only this profile (default: every user's)."),
    status: str | None = typer.Option(None, "--status", help="Only this status, e.g. PENDING."),
    limit: str = typer.Option("200", "--limit", help="At most this many per user."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List proposals, newest first: one profile's, or every user's with an active profile."""
    from autoinvest.db.tx import system_tx, user_tx
    from autoinvest.operator import inputs, proposals
    from autoinvest.operator._db import fetch_all

    profile_id = None if profile is None else inputs.parse_uuid(profile, field="--profile")
    wanted = None if status is None else status.strip().upper()
    most = inputs.parse_int(limit, field="--limit", minimum=1, maximum=10_000)
    settings = _settings()

    async def work(conn: AppConnection) -> list[proposals.ProposalRow]:
        if profile_id is not None:
            owners = [await _owner(conn, "profile", profile_id)]
        else:
            # No cross-tenant read exists for the app role: visit each user found through their active profiles.
            async with system_tx(conn):
                rows = await fetch_all(conn, "SELECT DISTINCT user_id FROM active_profile_ids() ORDER BY 1", ())
            owners = [row["user_id"] for row in rows]
        found: list[proposals.ProposalRow] = []
        for owner in owners:
            async with user_tx(conn, owner):
                found += await proposals.list_proposals(conn, profile_id=profile_id, status=wanted, limit=most)
        return sorted(found, key=lambda p: p.created_at, reverse=True)

    rows = _run(settings, work)
    if as_json:
        _print_json([row.as_json() for row in rows])
        return
    _print_table(rows, with_profile=profile_id is None)


def _print_table(rows: list[proposals_module.ProposalRow], *, with_profile: bool) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title=f"{len(rows)} proposal(s)", box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ["id", *(["profile"] if with_profile else []), "market", "side", "EUR", "conf", "status", "by",
               "override", "expires (UTC)"]
    for column in columns:
        table.add_column(column, no_wrap=True)
    for r in rows:
        overrides = "+".join(n for n, on in (("cooldown", r.override_cooldown), ("antiflip", r.override_anti_flip))
                             if on)
        table.add_row(str(r.id), *([str(r.profile_id)[:8]] if with_profile else []), r.market, r.side,
                      "" if r.amount_eur is None else str(r.amount_eur), str(r.confidence),
                      "EXPIRED" if r.expired else r.status, r.decided_by or "", overrides,
                      r.expires_at.strftime("%Y-%m-%d %H:%M"))
    # Never truncate: the full id is what `proposals approve` takes, so a narrow terminal wraps instead.
    from rich.console import Console

    out: Console = _root().out
    Console(file=out.file, width=max(out.width, 140), highlight=False).print(table)


# ---------------------------------------------------------------- kill switch

@_command
def kill_switch(
    state: str = typer.Argument(..., help="on (stop trading) | off (allow trading again)."),
    user: str | None = typer.Option(None, "--user", help="Only this user's profiles."),
    profile: str | None = typer.Option(None, "--profile", help="Only this profile."),
    reason: str | None = typer.Option(None, "--reason", help="Why (recorded in the audit log)."),
) -> None:
    """Stop (on) or allow (off) trading: globally, for one user, or for one profile; prints JSON."""
    from autoinvest.db.tx import system_tx, user_tx
    from autoinvest.operator import inputs
    from autoinvest.operator import kill_switch as switches

    if state.strip().lower() not in ("on", "off"):
        raise InputError(f"state {state!r} must be on or off", reason="STATE_INVALID")
    on = state.strip().lower() == "on"
    if user is not None and profile is not None:
        raise InputError("give --user or --profile, not both", reason="SCOPE_INVALID")
    user_id = None if user is None else inputs.parse_uuid(user, field="--user")
    profile_id = None if profile is None else inputs.parse_uuid(profile, field="--profile")
    settings = _settings()

    async def work(conn: AppConnection) -> switches.KillSwitchState:
        if user_id is not None:
            owner = await _owner(conn, "user", user_id)
            async with user_tx(conn, owner):
                return await switches.set_user(conn, owner, on, actor=_actor(), reason=reason)
        if profile_id is not None:
            owner = await _owner(conn, "profile", profile_id)
            async with user_tx(conn, owner):
                return await switches.set_profile(conn, profile_id, on, actor=_actor(), reason=reason)
        async with system_tx(conn):
            return await switches.set_global(conn, on, actor=_actor(), reason=reason)

    _print_json(_run(settings, work).as_json())
