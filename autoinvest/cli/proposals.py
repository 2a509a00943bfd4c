"""`autoinvest proposals create | approve | reject | list`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import typer

from autoinvest.cli._common import actor, fails_cleanly, out, owner, parse_id, print_json, run, settings

if TYPE_CHECKING:
    from autoinvest.accounts.proposals import Decision, ProposalRow
    from autoinvest.db.tx import AppConnection

proposals_app = typer.Typer(no_args_is_help=True, help="Trade proposals: create, approve, reject, list.")


@proposals_app.command("create")
@fails_cleanly
def create(
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
    from autoinvest import runtime
    from autoinvest.accounts import inputs, proposals
    from autoinvest.db.tx import user_tx

    profile_id = parse_id(profile, field="--profile")
    parsed_market = inputs.parse_market(market)
    parsed_side = inputs.parse_side(side)
    amount = None if amount_eur is None else inputs.parse_eur(amount_eur, field="--amount-eur")
    base = None if amount_base is None else inputs.parse_base_amount(amount_base, field="--amount-base")
    conf = inputs.parse_confidence(confidence)
    lifetime = None if ttl is None else inputs.parse_ttl(ttl)
    s = settings()

    async def work(conn: AppConnection) -> UUID:
        owner_id = await owner(conn, "profile", profile_id)
        inputs.require_listed((parsed_market,), await runtime.exchange_listing(conn, owner_id, s))
        async with user_tx(conn, owner_id):
            created = await proposals.create_proposal(
                conn, owner_id, profile_id, market=parsed_market, side=parsed_side, amount_eur=amount, amount_base=base,
                confidence=conf, actor=actor(), ttl=lifetime, override_cooldown=override_cooldown,
                override_anti_flip=override_anti_flip)
            return created.id

    print(run(s, work))


def _decide(proposal: str, approve: bool) -> None:
    from autoinvest.accounts import proposals
    from autoinvest.db.tx import user_tx

    proposal_id = parse_id(proposal, field="proposal id")
    s = settings()

    async def work(conn: AppConnection) -> Decision:
        owner_id = await owner(conn, "proposal", proposal_id)
        async with user_tx(conn, owner_id):
            decide = proposals.approve_proposal if approve else proposals.reject_proposal
            return await decide(conn, proposal_id, actor=actor())

    print_json(run(s, work).as_json())


@proposals_app.command("approve")
@fails_cleanly
def approve(proposal: str = typer.Argument(..., help="Proposal id.")) -> None:
    """Approve a PENDING, unexpired proposal; prints {"proposal_id", "status"}."""
    _decide(proposal, approve=True)


@proposals_app.command("reject")
@fails_cleanly
def reject(proposal: str = typer.Argument(..., help="Proposal id.")) -> None:
    """Reject a PENDING proposal; prints {"proposal_id", "status"}."""
    _decide(proposal, approve=False)


@proposals_app.command("list")
@fails_cleanly
def list_proposals(
    profile: str | None = typer.Option(None, "--profile", help="Only this profile (default: every user's)."),
    status: str | None = typer.Option(None, "--status", help="Only this status, e.g. PENDING."),
    limit: str = typer.Option("200", "--limit", help="At most this many per user."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List proposals, newest first: one profile's, or every user's with an active profile."""
    from autoinvest.accounts import inputs, proposals
    from autoinvest.accounts._db import fetch_all
    from autoinvest.db.tx import system_tx, user_tx

    profile_id = None if profile is None else parse_id(profile, field="--profile")
    wanted = None if status is None else status.strip().upper()
    most = inputs.parse_int(limit, field="--limit", minimum=1, maximum=10_000)
    s = settings()

    async def work(conn: AppConnection) -> list[ProposalRow]:
        if profile_id is not None:
            owners = [await owner(conn, "profile", profile_id)]
        else:
            # No cross-tenant read exists for the app role: visit each user found through their active profiles.
            async with system_tx(conn):
                rows = await fetch_all(conn, "SELECT DISTINCT user_id FROM active_profile_ids() ORDER BY 1", ())
            owners = [row["user_id"] for row in rows]
        found: list[ProposalRow] = []
        for user_id in owners:
            async with user_tx(conn, user_id):
                found += await proposals.list_proposals(conn, profile_id=profile_id, status=wanted, limit=most)
        return sorted(found, key=lambda p: p.created_at, reverse=True)

    rows = run(s, work)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    _print_table(rows, with_profile=profile_id is None)


def _print_table(rows: list[ProposalRow], *, with_profile: bool) -> None:
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

    Console(file=out.file, width=max(out.width, 140), highlight=False).print(table)
