"""`autoinvest execute PROPOSAL_ID`: one JSON object, and an exit code per outcome."""

from __future__ import annotations

import asyncio
import json

import typer

from autoinvest.cli._common import EXIT_ERROR, parse_id, report, settings
from autoinvest.errors import AutoInvestError
from autoinvest.execution.service import ExecutionOutcome

EXIT_CODES: dict[ExecutionOutcome, int] = {
    ExecutionOutcome.SUBMITTED: 0,
    ExecutionOutcome.REJECTED: 3,
    ExecutionOutcome.ALREADY_CLAIMED: 4,
    ExecutionOutcome.OUTCOME_UNKNOWN: 5,
    ExecutionOutcome.WAITING: 6,
}


def execute(proposal: str = typer.Argument(..., help="Id of an approved proposal.")) -> None:
    """Execute one approved proposal: prints one JSON object; exit 0 submitted/filled, 3 rejected,
    4 already claimed, 5 outcome unknown, 6 waiting for a live entry of the same market."""
    from autoinvest import runtime
    from autoinvest.db import tx, urls
    from autoinvest.execution import service

    s = settings()
    try:
        proposal_id = parse_id(proposal, field="proposal id")

        async def go() -> service.ExecutionResult:
            conn = await tx.connect(urls.role_url(s, "trader"))
            try:
                return await service.execute(conn, proposal_id, clients_for=runtime.executor_clients(s),
                                             settings=runtime.submit_settings(s))
            finally:
                await conn.close()

        result = asyncio.run(go())
    except AutoInvestError as exc:
        report(exc)
        raise typer.Exit(EXIT_ERROR) from None
    print(json.dumps(result.to_json()))
    raise typer.Exit(EXIT_CODES[result.outcome])
