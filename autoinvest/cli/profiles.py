"""`autoinvest profiles create | allocate | deallocate`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest.cli._common import actor, fails_cleanly, owner, parse_id, print_json, run, settings

if TYPE_CHECKING:
    from autoinvest.accounts.allocation import AllocationChange
    from autoinvest.db.tx import AppConnection

profiles_app = typer.Typer(no_args_is_help=True, help="Investment profiles: policy, capital, scan job.")


@profiles_app.command("create")
@fails_cleanly
def create(
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
    from autoinvest import runtime
    from autoinvest.accounts import inputs, profiles
    from autoinvest.db.tx import user_tx

    # Parse everything before connecting: bad input never reaches the database.
    user_id = parse_id(user, field="--user")
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
    s = settings()

    async def work(conn: AppConnection) -> UUID:
        owner_id = await owner(conn, "user", user_id)
        inputs.require_listed(spec.allowlist, await runtime.exchange_listing(conn, owner_id, s))
        async with user_tx(conn, owner_id):
            return await profiles.create_profile(conn, owner_id, spec, actor=actor())

    print(run(s, work))


def _change_allocation(profile: str, amount_eur: str, request_id: str | None, *, withdraw: bool) -> None:
    import uuid

    from autoinvest.accounts import allocation, inputs
    from autoinvest.db.tx import user_tx

    profile_id = parse_id(profile, field="--profile")
    amount = inputs.parse_eur(amount_eur, field="--eur")
    request = allocation.require_request_id(request_id if request_id is not None else str(uuid.uuid4()))
    s = settings()

    async def work(conn: AppConnection) -> AllocationChange:
        owner_id = await owner(conn, "profile", profile_id)
        async with user_tx(conn, owner_id):
            return await allocation.change_allocation(conn, owner_id, profile_id, amount, withdraw=withdraw,
                                                      request_id=request, actor=actor())

    print_json(run(s, work).as_json())


_REQUEST_HELP = "Idempotency key: the same key posts once, so a retried command never moves money twice."


@profiles_app.command("allocate")
@fails_cleanly
def allocate(
    profile: str = typer.Option(..., "--profile", help="Profile id."),
    eur: str = typer.Option(..., "--eur", help="EUR to add to the profile's budget, e.g. 250.00."),
    request_id: str | None = typer.Option(None, "--request-id", help=_REQUEST_HELP),
) -> None:
    """Add EUR to a profile's budget (an ALLOCATE entry, audited); prints the account as JSON."""
    _change_allocation(profile, eur, request_id, withdraw=False)


@profiles_app.command("deallocate")
@fails_cleanly
def deallocate(
    profile: str = typer.Option(..., "--profile", help="Profile id."),
    eur: str = typer.Option(..., "--eur", help="Free EUR to take back from the profile's budget."),
    request_id: str | None = typer.Option(None, "--request-id", help=_REQUEST_HELP),
) -> None:
    """Take free EUR back from a profile (a DEALLOCATE entry, audited; refused beyond its free capital)."""
    _change_allocation(profile, eur, request_id, withdraw=True)
