"""`autoinvest ledger check | rebuild`: compare capital accounts with their entries, repair one from its entries."""

from __future__ import annotations

import json

import typer

from autoinvest.cli._common import actor, fails_cleanly, parse_id, run, settings

ledger_app = typer.Typer(no_args_is_help=True, help="The capital ledger: check accounts against entries, rebuild.")


@fails_cleanly
def _check(profile: str | None) -> tuple[int, list[dict[str, object]]]:
    from autoinvest.reconcile.ledger_audit import check_all

    profile_id = None if profile is None else parse_id(profile, field="--profile")
    result = run(settings(), lambda conn: check_all(conn, profile_id))
    return result.accounts, [r.to_json() for r in result.differences]


@ledger_app.command("check")
def check(profile: str | None = typer.Option(None, "--profile", help="Check only this profile's account."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of lines.")) -> None:
    """Rebuild every capital account from its entries and compare: exit 0 when all agree, 1 on any difference
    (each printed), 2 on an error."""
    accounts, bad = _check(profile)
    if as_json:
        print(json.dumps({"accounts": accounts, "differences": bad}, sort_keys=True))
    else:
        for r in bad:
            print(f"DIFFERENCE profile {r['profile_id']} (user {r['user_id']}): drift {r['drift']}"
                  + (f"; invariant: {r['invariant_error']}" if r["invariant_error"] else ""))
        print(f"ledger check: {accounts} account(s), {len(bad)} with a difference")
    raise typer.Exit(1 if bad else 0)


@ledger_app.command("rebuild")
@fails_cleanly
def rebuild(profile: str = typer.Option(..., "--profile", help="The profile whose account to repair.")) -> None:
    """Overwrite a profile's materialised account with the sum of its entries (audited as ledger.rebuild);
    refused, changing nothing, if the result would break the capital invariant."""
    from autoinvest.reconcile.ledger_audit import rebuild_profile

    profile_id = parse_id(profile, field="--profile")
    who = actor()
    before, after = run(settings(), lambda conn: rebuild_profile(conn, profile_id, actor=who))
    print(json.dumps({"profile_id": str(profile_id), "changed": before != after,
                      "before": {k: str(v) for k, v in vars(before).items()},
                      "after": {k: str(v) for k, v in vars(after).items()}}, sort_keys=True))
