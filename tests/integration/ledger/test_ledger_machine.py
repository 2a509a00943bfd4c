"""Stateful property against the real PostgreSQL: the database accepts exactly what the pure model accepts.

After every step the materialised account equals the model, equals the rebuild of the stored entries,
and satisfies the invariant; every refusal comes from the database's CHECK.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis.stateful import invariant, run_state_machine_as_test
from psycopg import errors

from autoinvest.db.tx import connect, user_tx
from autoinvest.errors import InvariantViolation
from autoinvest.ledger import entries as L
from autoinvest.ledger import repo
from autoinvest.ledger.entries import Entry
from tests.integration.ledger.helpers import Tenant, snapshot
from tests.support.database import DatabaseUnderTest
from tests.support.tenants import make_profile, make_user
from tests.unit.ledger.model import LedgerModel

T = TypeVar("T")


class DatabaseLedgerMachine(LedgerModel):
    """The reference model, mirrored step by step into a fresh profile in PostgreSQL."""

    def __init__(self, app_url: str) -> None:
        super().__init__()
        # Hypothesis drives this synchronously; the async driver gets its own loop and connection.
        self.loop = asyncio.new_event_loop()
        self.conn = self.run(connect(app_url))
        user_id = self.run(make_user(self.conn))
        self.tenant = Tenant(user_id, self.run(make_profile(self.conn, user_id, allocated=Decimal(0))))
        self.profile_id = self.tenant.profile_id

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def new_id(self) -> uuid.UUID:
        # References are globally unique: ids must not repeat across examples.
        return uuid.uuid4()

    async def _post(self, entry: Entry) -> bool:
        async with user_tx(self.conn, self.tenant.user_id):
            return await repo.post(self.conn, self.tenant.profile_id, self.tenant.user_id, entry)

    def step(self, entry: Entry) -> bool:
        accepted = super().step(entry)
        try:
            assert self.run(self._post(entry))
        except InvariantViolation as refused:
            assert isinstance(refused.__cause__, errors.CheckViolation)
            assert not accepted, f"the database refused what the model accepts: {entry}"
        else:
            assert accepted, f"the database accepted what the model refuses: {entry}"
        return accepted

    @invariant()
    def database_matches_model_and_rebuild(self) -> None:
        materialised, stored = self.run(snapshot(self.conn, self.tenant))
        materialised.check()
        assert materialised == self.account == L.rebuild(stored)
        assert stored == self.accepted

    @invariant()
    def check_finds_no_drift(self) -> None:
        async def check() -> L.Difference | None:
            async with user_tx(self.conn, self.tenant.user_id):
                return await repo.check(self.conn, self.tenant.profile_id)
        assert self.run(check()) is None

    def teardown(self) -> None:
        self.run(self.conn.close())
        self.loop.close()


def test_database_ledger_follows_the_model(db: DatabaseUnderTest) -> None:
    # A plain sync test: the session's event loop is idle here, so the machine can run its own.
    class OnThisDatabase(DatabaseLedgerMachine):
        def __init__(self) -> None:
            super().__init__(db.app_url)

    run_state_machine_as_test(OnThisDatabase, settings=settings(max_examples=15, stateful_step_count=20,
                                                                deadline=None))
