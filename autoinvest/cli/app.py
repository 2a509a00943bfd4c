"""The `autoinvest` command: every command group, registered in one place."""

from __future__ import annotations

import typer

from autoinvest.cli import run
from autoinvest.cli.credentials import credentials_app
from autoinvest.cli.db import db_app
from autoinvest.cli.execute import execute
from autoinvest.cli.kill_switch import set_switch
from autoinvest.cli.ledger import ledger_app
from autoinvest.cli.profiles import profiles_app
from autoinvest.cli.proposals import proposals_app
from autoinvest.cli.quarantine import quarantine_app
from autoinvest.cli.reconcile import reconcile_app
from autoinvest.cli.users import users_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Auto Invest Oracle: safe automated investing.")
app.add_typer(db_app, name="db")
app.command("up")(run.up)
app.command("worker")(run.worker)
app.command("execute")(execute)
app.command("exchange-sim")(run.exchange_sim)
app.add_typer(users_app, name="users")
app.add_typer(profiles_app, name="profiles")
app.add_typer(credentials_app, name="credentials")
app.add_typer(proposals_app, name="proposals")
app.command("kill-switch")(set_switch)
app.add_typer(ledger_app, name="ledger")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(quarantine_app, name="quarantine")
