"""The ledger check is set-based: one query compares every account with the sum of its entries, and only the
accounts it flags are looked at one by one (start-up recovery with 10,000 accounts must not run 10,000 checks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autoinvest.db.tx import AppConnection, user_tx
from autoinvest.reconcile.ledger_audit import check_all
from tests.support.tenants import make_profile, make_user


class CountingConnection:
    """The driver's connection, counting the statements sent through it (a spy at the database edge)."""

    def __init__(self, conn: AppConnection) -> None:
        self._conn = conn
        self.statements = 0

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return await self._conn.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def test_the_ledger_check_of_30_accounts_issues_a_constant_number_of_queries(scan_conn: AppConnection) -> None:
    profiles = []
    for _ in range(10):
        user_id = await make_user(scan_conn)
        profiles += [(await make_profile(scan_conn, user_id, allocated=Decimal("100")), user_id) for _ in range(3)]
    bad_profile, bad_user = profiles[17]
    async with user_tx(scan_conn, bad_user):  # capital that no entry explains
        await scan_conn.execute("UPDATE capital_accounts SET allocated = allocated + 7 WHERE profile_id = %s",
                                (bad_profile,))
    counting = CountingConnection(scan_conn)

    result = await check_all(counting)  # type: ignore[arg-type]

    # one set-based query, then the flagged account's own check (a handful of statements); not one per account
    assert counting.statements <= 10, f"{counting.statements} statements for 30 accounts"
    assert result.accounts == 30
    assert [(d.profile_id, d.drift) for d in result.differences] == [(bad_profile, {"allocated": "7"})]
