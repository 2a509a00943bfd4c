"""`autoinvest ledger check | rebuild` as subprocesses: exit 0 clean, 1 on a difference (printed), 2 on bad input."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Iterator
from decimal import Decimal

import pytest

from autoinvest.db.tx import AppConnection, connect, user_tx
from tests.integration.ledger.helpers import funded_profile
from tests.support.database import DatabaseUnderTest
from tests.support.processes import CLI

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clean_db(db: DatabaseUnderTest) -> Iterator[DatabaseUnderTest]:
    """A freshly migrated database on the same server: `ledger check` over *every* account sees only ours."""
    yield dataclasses.replace(db.migrated_copy(), embedded=False)


def ledger(clean_db: DatabaseUnderTest, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ledger", *args], env=clean_db.env(), capture_output=True, text=True, timeout=120)


async def test_check_exit_codes_and_rebuild(clean_db: DatabaseUnderTest) -> None:
    conn: AppConnection = await connect(clean_db.app_url)
    try:
        t = await funded_profile(conn, Decimal(100))
        other = await funded_profile(conn, Decimal(50))
        done = ledger(clean_db, "check")
        assert done.returncode == 0, done.stderr
        assert "2 account(s), 0 with a difference" in done.stdout

        async with user_tx(conn, t.user_id):  # a write that bypasses the ledger
            await conn.execute("UPDATE capital_accounts SET reserved_for_orders = 7 WHERE profile_id = %s",
                               (t.profile_id,))
        done = ledger(clean_db, "check")
        assert done.returncode == 1
        assert f"DIFFERENCE profile {t.profile_id}" in done.stdout and "reserved_for_orders" in done.stdout
        assert str(other.profile_id) not in done.stdout
        done = ledger(clean_db, "check", "--json")
        assert done.returncode == 1
        payload = json.loads(done.stdout)
        assert payload["accounts"] == 2 and [d["drift"] for d in payload["differences"]] == [
            {"reserved_for_orders": "7"}]
        assert ledger(clean_db, "check", "--profile", str(other.profile_id)).returncode == 0

        done = ledger(clean_db, "rebuild", "--profile", str(t.profile_id))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["changed"] is True
        async with user_tx(conn, t.user_id):
            cur = await conn.execute("SELECT actor, action FROM audit_log WHERE action = 'ledger.rebuild'")
            [audit] = await cur.fetchall()
        assert audit["actor"].startswith("operator:")
        assert ledger(clean_db, "check").returncode == 0

        bad = ledger(clean_db, "check", "--profile", "not-a-uuid")
        assert bad.returncode == 2 and "ID_INVALID" in bad.stderr
        missing = ledger(clean_db, "rebuild", "--profile", "00000000-0000-0000-0000-000000000000")
        assert missing.returncode == 2 and "PROFILE_NOT_FOUND" in missing.stderr
    finally:
        await conn.close()
